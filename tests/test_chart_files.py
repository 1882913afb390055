"""The web pages' charts as files (citydiplomacy.reports.charts): each chart the pages draw
served as SVG and PNG by the API (with its title and text alternative inside, its data the
page's), linked from its page; the colour-blind-safe palette shared by the pages and the
figures; the catalogues in a package of their own (the reports do not import the web).

Over a private copy of the built store with the web tests' engagement register and an
index build (20 replications)."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
from fastapi.testclient import TestClient  # noqa: E402

import citydiplomacy  # noqa: E402
from citydiplomacy.reports import charts as rcharts  # noqa: E402
from citydiplomacy.reports import figures  # noqa: E402
from conftest import app_args, store_args  # noqa: E402
from homes import copy_home  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "citydiplomacy"
SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ACTOR = "lyon-fr"           # scored, tied, with engagements (with Barcelona among them)


@pytest.fixture(scope="module")
def home(seeded_engage_home, tmp_path_factory):
    home = copy_home(seeded_engage_home[0], tmp_path_factory.mktemp("chart-files"))
    obs = citydiplomacy.open(**store_args(home), build=False)
    obs.build_index(replications=20)
    obs.close()
    return home


@pytest.fixture(scope="module")
def client(home):
    from citydiplomacy.web import create_app

    mp = pytest.MonkeyPatch()
    mp.setenv("CITYDIP_WEB_WARM_ALIGN", "0")
    app = create_app(**app_args(home), secret="test-secret-for-the-chart-files", read_only=True)
    with TestClient(app) as c:
        yield c
    app.state.obs.close()
    mp.undo()


@pytest.fixture(scope="module")
def hobs(home):
    obs = citydiplomacy.open(**store_args(home), build=False)
    yield obs
    obs.close()


def _svg(body: bytes) -> tuple[str, str, ET.Element]:
    """The title and text alternative of an SVG figure (the XML must parse)."""
    root = ET.fromstring(body)
    assert root.tag == f"{SVG_NS}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert title is not None and desc is not None, "an SVG figure carries its <title> and <desc>"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return title.text or "", desc.text or "", root


def _png_text(body: bytes) -> dict[str, str]:
    """The text chunks of a PNG (matplotlib writes Title, Description, Software: tEXt in
    Latin-1, iTXt in UTF-8 when the text needs it)."""
    import struct

    assert body.startswith(PNG_SIGNATURE)
    out, i = {}, 8
    while i < len(body):
        n, kind = struct.unpack(">I4s", body[i:i + 8])
        chunk = body[i + 8:i + 8 + n]
        if kind == b"tEXt":
            key, _, value = chunk.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = chunk.partition(b"\0")
            assert rest[0] == 0, "uncompressed"
            _lang, _, rest = rest[2:].partition(b"\0")
            _translated, _, value = rest.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("utf-8")
        i += 12 + n
    return out


# -- the API: every chart in both formats --------------------------------------------------

ROUTES = [(f"/api/v1/actors/{ACTOR}/charts/{n}", n) for n in rcharts.ACTOR_CHARTS] + \
         [(f"/api/v1/charts/{n}", n) for n in rcharts.SITE_CHARTS]


@pytest.mark.parametrize("path, name", ROUTES, ids=[n for _, n in ROUTES])
def test_each_chart_is_an_svg_with_its_text_alternative_and_a_png(client, path, name):
    svg = client.get(f"{path}.svg")
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-disposition"] == f'inline; filename="{name}.svg"'
    title, desc, root = _svg(svg.content)
    assert title and len(desc) > 20
    assert root.findall(f".//{SVG_NS}path"), "the figure is drawn"
    png = client.get(f"{path}.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    meta = _png_text(png.content)
    assert meta["Title"] == title and meta["Description"] == desc
    # the second read is the cached file, with its ETag
    again = client.get(f"{path}.svg", headers={"If-None-Match": svg.headers["etag"]})
    assert again.status_code == 304


def test_the_chart_speaks_the_language_asked(client):
    fr = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/axis-scores.svg?lang=fr").content)
    de = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/axis-scores.svg?lang=de").content)
    en = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/axis-scores.svg").content)
    assert (en[0], fr[0], de[0]) == ("Axis scores", "Scores par axe", "Werte je Achse")
    assert "durabilité" in fr[1] and "numérique" in fr[1]
    es = _svg(client.get("/api/v1/charts/ties-by-type.svg?lang=es").content)
    assert es[0] == "Vínculos por tipo"


def test_the_charts_draw_the_data_the_pages_show(client, hobs):
    from citydiplomacy.engage.views import timeline
    from citydiplomacy.indices.stored import brief

    ix = brief(hobs.store, ACTOR, None)
    _, desc, _ = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/axis-scores.svg").content)
    for axis in ("sustainability", "digital", "engagement"):
        assert f"{axis} {ix['axes'][axis]['score']:.0f}" in desc
    _, desc, _ = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/axis-ranks.svg").content)
    a = ix["axes"]["overall"]
    assert f"overall {a['rank']} ({a['rank_lo']}–{a['rank_hi']}) / {a['of']}" in desc
    # the timeline's years, for the actor and for a pair and a kind
    for query, partner, kind in (("", None, None), ("?partner=barcelona-es&kind=agreement", "barcelona-es",
                                                    "agreement")):
        items = timeline(hobs.store, ACTOR, partner, kind=kind)["items"]
        _, desc, _ = _svg(client.get(f"/api/v1/actors/{ACTOR}/charts/activity-by-year.svg{query}").content)
        counted = sum(int(n) for n in re.findall(r"\b\d{4} (\d+)", desc))
        assert counted == sum(1 for e in items if e["date"]) > 0
    by_type = hobs.status()["ties"]["by_type"]
    _, desc, _ = _svg(client.get("/api/v1/charts/ties-by-type.svg").content)
    for t, n in by_type.items():
        assert f"{t.replace('_', ' ')} {n:,}" in desc
    _, desc, _ = _svg(client.get("/api/v1/charts/index-ranks.svg?axis=digital&top=5").content)
    rows = hobs.index_rank(axis="digital", top=5)["rows"]
    assert all(f"{r['name']} {r['rank']} (" in desc for r in rows)
    _, desc, _ = _svg(client.get("/api/v1/charts/world-map.svg?top=100").content)
    assert "the 100 most connected actors" in desc


@pytest.mark.parametrize("path, status, words", [
    (f"/api/v1/actors/{ACTOR}/charts/pie.svg", 404, "no chart 'pie' of this actor; it has axis-scores"),
    ("/api/v1/actors/nowhere-at-all-xx/charts/axis-scores.svg", 404, "no actor matches 'nowhere-at-all-xx'"),
    ("/api/v1/actors/nowhere-at-all-xx/charts/pie.png", 404, "no actor matches"),
    (f"/api/v1/actors/{ACTOR}/charts/axis-scores.gif", 400, "unknown chart format 'gif'; use svg or png"),
    ("/api/v1/charts/pie.svg", 404, "no chart 'pie' of the site; the charts are: world-map, ties-by-type, "
                                    "index-ranks"),
    ("/api/v1/charts/world-map.jpeg", 400, "unknown chart format 'jpeg'; use svg or png"),
    ("/api/v1/actors/herne-de/charts/activity-by-year.svg", 404, "no dated engagement of Herne"),
    ("/api/v1/charts/index-ranks.svg?build=no-such-build", 404, "no-such-build"),
])
def test_wrong_charts_formats_and_actors_are_clear_problems(client, path, status, words):
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"], r.json()["detail"]


def test_the_profile_reports_figures_are_still_served(client):
    r = client.get(f"/api/v1/actors/{ACTOR}/charts/sdg-coverage.png")
    assert r.status_code == 200 and r.content.startswith(PNG_SIGNATURE)


# -- the pages link their charts ---------------------------------------------------------------

PAGES = [
    ("/", {"world-map", "ties-by-type"}),
    (f"/actors/{ACTOR}", {"axis-scores", "axis-ranks", "tie-map", "ego-network", "activity-by-year"}),
    (f"/actors/{ACTOR}/engagements?partner=barcelona-es&kind=agreement&lang=fr", {"activity-by-year"}),
    ("/indices?axis=digital&top=10&region=Europe", {"index-ranks"}),
]


@pytest.mark.parametrize("page, names", PAGES, ids=[p for p, _ in PAGES])
def test_each_page_links_its_charts_as_svg_and_png_and_the_links_resolve(client, page, names):
    r = client.get(page)
    assert r.status_code == 200
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*/charts/[^"]*)"', r.text)]
    found = {re.search(r"/charts/([a-z-]+)\.", h).group(1) for h in links}
    assert found == names
    for link in links:
        fmt = "svg" if ".svg?" in link else "png"
        got = client.get(link)
        assert got.status_code == 200, (link, got.text)
        assert got.headers["content-type"] == figures_media(fmt)
    # each link says what it is to a screen reader, and the page's filters ride along
    assert all('aria-label="' in a for a in re.findall(r'<a [^>]*/charts/[^>]*>', r.text))
    if "partner=" in page:
        assert any("partner=barcelona-es" in h and "kind=agreement" in h and "lang=fr" in h for h in links)
        assert "Télécharger ce graphique" in r.text
    if page.startswith("/indices"):
        assert any("axis=digital" in h and "region=Europe" in h and "top=10" in h for h in links)


def figures_media(fmt: str) -> str:
    return {"svg": "image/svg+xml", "png": "image/png"}[fmt]


def test_an_actor_with_no_index_nor_engagement_links_only_what_it_shows(client):
    r = client.get("/actors/herne-de")
    assert r.status_code == 200
    found = set(re.findall(r'/charts/([a-z-]+)\.svg', r.text))
    assert {"tie-map", "ego-network"} <= found and "activity-by-year" not in found


# -- one palette, colour-blind safe ---------------------------------------------------------


def test_pages_and_figures_share_the_okabe_ito_palette(client):
    assert figures.OKABE_ITO[:7] == ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
    css = (SRC / "web" / "static" / "app.css").read_text(encoding="utf-8")
    for colour in figures.OKABE_ITO[:7]:
        assert colour in css
    for script, var in (("map.js", "LAYER_COLORS"), ("graph.js", "COLORS")):
        js = (SRC / "web" / "static" / script).read_text(encoding="utf-8")
        found = dict(re.findall(r'(\w+): "(#[0-9A-Fa-f]{6})"', re.search(rf"var {var} = \{{([^}}]*)\}}", js).group(1)))
        assert found == {k: v for k, v in figures.LAYER_COLOURS.items() if k in found}, script
    assert set(figures.LAYER_COLOURS.values()) <= set(figures.OKABE_ITO)
    # the figures are drawn in them (matplotlib writes colours in lower case)
    svg = client.get(f"/api/v1/actors/{ACTOR}/charts/axis-scores.svg").text
    assert figures.OKABE_ITO[4].lower() in svg


# -- the catalogues: a package of their own --------------------------------------------------


def test_the_reports_do_not_import_the_web():
    code = ("import sys, citydiplomacy.reports.profile, citydiplomacy.reports.alignment, "
            "citydiplomacy.reports.charts, citydiplomacy.reports.render, citydiplomacy.i18n; "
            "web = sorted(m for m in sys.modules if m.startswith('citydiplomacy.web')); "
            "assert not web, web")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    from citydiplomacy import i18n
    from citydiplomacy.web import i18n as web_i18n

    assert web_i18n.catalogue is i18n.catalogue and web_i18n.LANGUAGES == i18n.LANGUAGES


@pytest.mark.parametrize("lang", ["fr", "es", "de"])
def test_every_chart_message_is_translated(lang):
    import ast

    from citydiplomacy.i18n import catalogue
    from citydiplomacy.web.pages import templates

    messages = set()
    tree = ast.parse((SRC / "reports" / "charts.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args and \
                isinstance(node.args[0], ast.Constant):
            messages.add(node.args[0].value)
    for name in ("_charts.html", "_index.html", "_engage.html", "home.html", "actor.html", "indices.html"):
        source = (SRC / "web" / "templates" / name).read_text(encoding="utf-8")
        for _, _, message in templates.env.extract_translations(source):
            messages.update(m for m in (message if isinstance(message, tuple) else (message,)) if isinstance(m, str))
    assert {"Download this chart:", "Axis scores", "Ties on the map"} <= messages
    cat = catalogue(lang)
    assert sorted(messages - set(cat)) == []
    for m in messages:
        assert re.findall(r"%\(\w+\)s", m) == re.findall(r"%\(\w+\)s", cat[m]), (lang, m)
