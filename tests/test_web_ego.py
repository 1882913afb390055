"""The pages of hubs in a real browser (Playwright driving Debian's chromium, against a real
uvicorn server): C40's, the EU's and Barcelona's ego networks are drawn with no two labels'
boxes overlapping (the boxes the browser itself measures, SVG getBBox), a group node opens
when selected, and the maps' captions say what the maps show.

A screenshot of each ego network is saved in the test's temporary folder, and in
``CITYDIP_WEB_SCREENSHOTS`` when it names one (docs/img for docs/web.md).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from webserver import CHROMIUM, chromium, serving, watched_page  # noqa: E402
from conftest import app_args, copy_store  # noqa: E402

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")

#: every pair of label boxes that overlap, as the browser measures them (SVG user units)
OVERLAPS = """() => {
  const texts = [...document.querySelectorAll('#ego-graph svg text')];
  const b = texts.map(t => { const r = t.getBBox(); return [r.x, r.y, r.x + r.width, r.y + r.height, t.textContent]; });
  const out = [];
  for (let i = 0; i < b.length; i++) for (let j = i + 1; j < b.length; j++) {
    const p = b[i], q = b[j];
    if (p[0] < q[2] && q[0] < p[2] && p[1] < q[3] && q[1] < p[3]) out.push(p[4] + ' / ' + q[4]);
  }
  return {labels: b.length, overlaps: out, empty: b.filter(x => x[2] - x[0] <= 0).length};
}"""


@pytest.fixture(scope="module")
def server(built_home, tmp_path_factory):
    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("web-ego-home")
    copy_store(built_home, home)
    app = create_app(**app_args(home), secret="test-secret-for-the-ego-pages")
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server, timeout_ms=60_000) as pg:
        yield pg


def ready(page) -> None:
    page.wait_for_function("() => document.querySelector('#ego-graph').dataset.ready === 'true'")


def shoot(page, name: str, tmp_path: Path) -> Path:
    graph = page.locator("#ego-graph")
    graph.scroll_into_view_if_needed()
    path = tmp_path / f"{name}.png"
    graph.screenshot(path=str(path))
    out = os.environ.get("CITYDIP_WEB_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / path.name)
    return path


@pytest.mark.parametrize("ref, most_nodes, grouped", [("c40", 41, True), ("eu", 41, True),
                                                      ("lyon-fr", 41, False)])
def test_ego_network_labels_do_not_overlap(page, tmp_path, ref, most_nodes, grouped):
    page.goto(f"/actors/{ref}")
    ready(page)
    graph = page.locator("#ego-graph")
    nodes = int(graph.get_attribute("data-nodes"))
    assert 10 < nodes <= most_nodes
    assert (page.locator("#ego-graph .ego-node.group").count() > 0) is grouped
    found = page.evaluate(OVERLAPS)
    assert found["overlaps"] == [], found["overlaps"]
    # every drawn node has its label (none was left out to avoid a collision)
    assert found["labels"] == nodes and found["empty"] == 0
    assert graph.get_attribute("data-hidden-labels") == "0"
    shot = shoot(page, f"ego-{ref}", tmp_path)
    assert shot.stat().st_size > 10_000
    assert "drawn one by one" in page.locator("#ego-summary").inner_text()


def test_a_group_node_opens_and_labels_still_do_not_overlap(page, tmp_path):
    page.goto("/actors/c40")
    ready(page)
    before = int(page.locator("#ego-graph").get_attribute("data-nodes"))
    assert not page.locator("#ego-collapse").is_visible()          # nothing opened yet
    group = page.locator("#ego-graph .ego-node.group").first
    name = group.get_attribute("aria-label")
    assert name.startswith("+") and "more" in name
    group.click()
    ready(page)
    assert int(page.locator("#ego-graph").get_attribute("data-nodes")) > before
    assert page.evaluate(OVERLAPS)["overlaps"] == []
    assert page.locator("#ego-collapse").is_visible()
    shoot(page, "ego-c40-opened", tmp_path)
    page.locator("#ego-collapse").click()
    ready(page)
    assert int(page.locator("#ego-graph").get_attribute("data-nodes")) == before


def test_two_steps_and_grouping_by_country(page):
    page.goto("/actors/barcelona-es")
    ready(page)
    page.get_by_label("Depth").select_option("2")
    ready(page)
    assert page.evaluate(OVERLAPS)["overlaps"] == []
    assert page.locator("#ego-graph .ego-node.group").count() > 0
    page.get_by_label("Group the others by").select_option("country")
    ready(page)
    assert page.evaluate(OVERLAPS)["overlaps"] == []
    assert page.locator("#ego-graph .ego-node.group[aria-label*='·']").count() > 0


def test_the_ego_list_offers_the_groups_to_keyboard_users(page):
    page.goto("/actors/eu")
    ready(page)
    page.locator("#ego-list-wrap summary").click()
    button = page.locator("#ego-list button").first
    assert button.inner_text().startswith("Show ")
    before = int(page.locator("#ego-graph").get_attribute("data-nodes"))
    button.focus()
    page.keyboard.press("Enter")
    ready(page)
    assert int(page.locator("#ego-graph").get_attribute("data-nodes")) > before


@pytest.mark.parametrize("ref, says, shaded", [
    ("c40", ["drawn as dots", "has no location of its own", "countries of its members"], 30),
    ("eu", ["has no location of its own", "member states"], 25),
    ("barcelona-es", ["ties drawn", "twinning partners"], 5),
])
def test_map_captions_say_what_the_map_shows(page, ref, says, shaded):
    page.goto(f"/actors/{ref}")
    page.wait_for_selector("#actor-map[data-ready=true]")
    m = page.locator("#actor-map")
    caption = page.locator("#actor-map + .map-status").inner_text()
    points, lines = int(m.get_attribute("data-points")), int(m.get_attribute("data-lines"))
    assert int(m.get_attribute("data-shaded")) >= shaded
    for s in says:
        assert s in caption, caption
    assert "None of the places" not in caption or points == 0
    if lines:
        assert f"{lines:,} ties drawn" in caption or f"{lines} ties drawn" in caption
    else:
        assert f"{points:,} place" in caption
    # the dots are drawn on the map's canvas (no tile server)
    assert page.locator("#actor-map canvas, #actor-map svg path").count() > 0
    docs = " ".join((Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8").split())
    if ref == "c40":                     # the caption docs/web.md quotes
        assert " ".join(caption.split()) in docs
    elif ref == "eu":
        assert f"the EU's map shades {m.get_attribute('data-shaded')} of its 27 member states" in docs
