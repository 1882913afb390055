"""The engagement register in a real browser (Playwright driving Debian's chromium, against a
real uvicorn server over a copy of the built store with the fixture register of
tests/engagedata.py): filter the register, follow a timeline to a pair's, sign in and add an
engagement then find it in the register, a form's errors next to its fields, and every page
at a phone's width without sideways scrolling — all under the site's Content-Security-Policy.

Set ``CITYDIP_WEB_SCREENSHOTS=docs/img`` to save the register's and the timeline's pictures
for docs/web.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from homes import copy_home  # noqa: E402
from webserver import CHROMIUM, chromium, serving, watched_page  # noqa: E402

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from engagedata import DECLARATION, MOBILITY, VISIT  # noqa: E402
from conftest import app_args, store_args  # noqa: E402

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")

EDITOR = ("eddie", "editor-password-1")


@pytest.fixture(scope="module")
def server(seeded_engage_home, tmp_path_factory):
    import citydiplomacy
    from citydiplomacy import accounts
    from citydiplomacy.web import create_app

    # a copy of the built store with the fixture register (seeded once per run: conftest.py)
    home = copy_home(seeded_engage_home[0], tmp_path_factory.mktemp("web-engage-ui-home"))
    obs = citydiplomacy.open(**store_args(home), build=False)
    accounts.add_user(obs.store, EDITOR[0], EDITOR[1], role="editor")
    obs.close()
    app = create_app(**app_args(home), secret="test-secret-for-the-engagement-browser-tests")
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server) as pg:
        yield pg


def shoot(pg, name: str) -> None:
    out = os.environ.get("CITYDIP_WEB_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(Path(out) / f"{name}.png"), full_page=False)


def sign_in(pg) -> None:
    pg.goto("/login")
    pg.get_by_label("User name").fill(EDITOR[0])
    pg.get_by_label("Password").fill(EDITOR[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_load_state()
    assert pg.locator(".who").get_by_text(EDITOR[0]).is_visible()


def listed(pg) -> list[str]:
    return [a.get_attribute("href").split("/engagements/")[1]
            for a in pg.locator("table.engagements tbody tr td:nth-child(2) > a").all()]


def test_filter_the_register(page):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Engagements").click()
    page.wait_for_url(re.compile(r"/engagements$"))
    total = int(page.locator("#h-found").get_attribute("data-total"))
    assert total >= 65 and len(listed(page)) == 50
    page.get_by_label("Kind", exact=True).select_option("visit")
    page.get_by_label("Partner country").fill("Kenya")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"kind=visit"))
    assert listed(page) == [VISIT]
    assert page.locator("#h-found").inner_text().startswith("1 engagement")
    assert page.get_by_label("Kind", exact=True).input_value() == "visit"      # the form keeps the filters
    page.get_by_role("link", name="Delegation from Nairobi on waste management").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Delegation from Nairobi")
    assert page.locator('[data-role="visitor"]').is_visible()
    # a date that does not exist is named next to its field
    page.goto("/engagements?from=2021-02-30")
    assert "2021-02-30" in page.locator("#err-from").inner_text()
    page.goto("/engagements?kind=declaration")
    shoot(page, "engagements")


def test_a_timeline_then_a_pairs(page):
    page.goto("/actors/lyon-fr")
    card = page.locator("#activity")
    assert card.get_by_role("heading", name="Activity").is_visible()
    card.get_by_role("link", name="Timeline").click()
    page.wait_for_url(re.compile(r"/actors/lyon-fr/engagements$"))
    years = page.locator("ol.timeline > li.year").evaluate_all("els => els.map(e => e.id)")
    assert years == sorted(years) and "y-2021" in years
    # a year leads to its part of the list
    page.locator(".year-links a[href='#y-2021']").click()
    assert page.locator(f"#y-2021 li[data-key='{VISIT}']").is_visible()
    page.get_by_label("With a partner").fill("Barcelona")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"partner=Barcelona"))
    assert "Engagements of Lyon with Barcelona" in page.get_by_role("heading", level=1).inner_text()
    keys = page.locator("li[data-key]").evaluate_all("els => els.map(e => e.dataset.key)")
    assert MOBILITY in keys and DECLARATION in keys and VISIT not in keys
    shoot(page, "engagement-timeline")


def test_add_an_engagement_then_see_it_listed(page):
    sign_in(page)
    page.goto("/engagements")
    page.get_by_role("link", name="Add an engagement").click()
    page.wait_for_url("**/engagements/new")
    page.get_by_label("Kind", exact=True).fill("visit")
    page.get_by_label("Title").fill("Study visit of Lyon's mayor to Bamako")
    page.get_by_label("Description").fill("Talks on drinking water supply and sanitation in Bamako.")
    page.get_by_label("Starts").fill("2024-02-31")                       # does not exist
    page.get_by_label("Parties", exact=True).fill("lyon-fr | visitor\nBamako | host")
    page.get_by_label("Source").fill("City of Lyon, press release")
    page.get_by_role("button", name="Add the engagement").click()
    errors = page.locator("#form-errors")
    assert errors.is_visible() and errors.evaluate("el => el === document.activeElement")
    assert "2024-02-31" in page.locator("#err-start_on").inner_text()
    assert page.get_by_label("Title").input_value() == "Study visit of Lyon's mayor to Bamako"   # kept
    page.get_by_label("Starts").fill("2024-02-20")
    page.get_by_role("button", name="Add the engagement").click()
    page.wait_for_url(re.compile(r"/engagements/visit-2024-02-20-.*done=engagement"))
    assert page.get_by_role("status").inner_text().startswith("The engagement was saved")
    assert page.locator('[data-role="host"] + ul').get_by_role("link", name="Bamako").is_visible()
    page.goto("/engagements?q=mayor+to+Bamako")
    assert len(listed(page)) == 1
    page.goto("/actors/bamako-ml/engagements")
    assert page.get_by_text("Study visit of Lyon's mayor to Bamako").is_visible()


def test_what_is_due_from_the_register(page):
    page.goto("/engagements")
    page.get_by_role("link", name=re.compile(r"^What is due")).click()
    page.wait_for_url(re.compile(r"/engagements/due$"))
    assert page.get_by_role("heading", level=1).inner_text() == "What is due"
    # counted from a given day (kept by the form): the memorandum's follow-up of 2025-03 is late
    page.goto("/engagements/due?today=2025-06-01")
    page.get_by_label("Days ahead", exact=True).fill("30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"days=30"))
    assert "today=2025-06-01" in page.url
    assert page.locator("#h-due").get_attribute("data-count") == "0"
    page.get_by_label("Also open follow-ups already late").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"overdue=1"))
    row = page.locator(f"tr[data-key='{MOBILITY}'][data-what='follow-up']")
    assert row.is_visible() and "overdue" in row.get_attribute("class")
    assert "Report to the council" in row.inner_text()
    row.get_by_role("link", name="Memorandum of understanding on urban mobility").click()
    page.wait_for_url(re.compile(MOBILITY))


PHONE = ["/engagements", "/engagements/due?today=2025-06-01&overdue=1", f"/engagements/{MOBILITY}", f"/engagements/{DECLARATION}",
         "/actors/lyon-fr/engagements", "/actors/lyon-fr/engagements?partner=barcelona-es", "/actors/lyon-fr",
         "/engagements?lang=de&from=nonsense"]


@pytest.mark.parametrize("path", PHONE)
def test_pages_fit_a_phone_width(browser, server, path):
    ctx = browser.new_context(base_url=server, viewport={"width": 375, "height": 740})
    pg = ctx.new_page()
    pg.goto(path)
    pg.wait_for_load_state("networkidle")
    width = pg.evaluate("document.documentElement.scrollWidth")
    ctx.close()
    assert width <= 375, f"{path} scrolls sideways at 375 px ({width} px wide)"


def test_the_form_fits_a_phone_width(browser, server):
    ctx = browser.new_context(base_url=server, viewport={"width": 375, "height": 740})
    pg = ctx.new_page()
    sign_in(pg)
    for path in ("/engagements/new", f"/engagements/{MOBILITY}/edit", f"/engagements/{MOBILITY}/delete"):
        pg.goto(path)
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} scrolls sideways at 375 px ({width} px wide)"
    ctx.close()


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("path", ["/engagements", "/engagements/due", f"/engagements/{MOBILITY}",
                                  "/actors/lyon-fr/engagements"])
def test_every_control_has_a_label_and_one_h1(page, path):
    page.goto(path)
    assert page.evaluate(UNLABELLED) == []
    assert page.locator("h1").count() == 1
