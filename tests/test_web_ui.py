"""The browser UI, driven by a real browser (Playwright with Debian's chromium) against a
real uvicorn server on a free loopback port, over a private copy of the built store.

Walks through what a person does: search → actor page → map and graph; sign in → add a
tie → it is on the actor page; an import with bad rows → the report names the rows;
the alignment page; and checks that forms say what is wrong next to the field, that data
is escaped, and that the pages work with a keyboard and at a phone's width.

Set ``CITYDIP_WEB_SCREENSHOTS=docs/img`` to also write the screenshots of the main pages
used in docs/web.md.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from webserver import CHROMIUM, chromium, serving, watched_page  # noqa: E402
from conftest import app_args, copy_store, open_store  # noqa: E402

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")

EDITOR = ("editor1", "editor-password-1")
VIEWER = ("viewer1", "viewer-password-1")
ADMIN = ("admin1", "admin-password-1")


@pytest.fixture(scope="module")
def server(built_home, tmp_path_factory):
    """A uvicorn server on a private copy of the built store, with an editor and a viewer."""
    import citydiplomacy
    from citydiplomacy import accounts
    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("web-home")
    obs = citydiplomacy.open(**copy_store(built_home, home), build=False)
    accounts.add_user(obs.store, EDITOR[0], EDITOR[1], role="editor")
    accounts.add_user(obs.store, VIEWER[0], VIEWER[1], role="viewer")
    accounts.add_user(obs.store, ADMIN[0], ADMIN[1], role="admin")
    obs.build_index(replications=100)
    obs.close()
    app = create_app(**app_args(home), secret="test-secret-for-the-browser-tests")
    with serving(app) as url:
        yield {"url": url, "app": app, "home": home}


@pytest.fixture(scope="module")
def browser():
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser, server):
    with watched_page(browser, server["url"], timeout_ms=20_000) as pg:
        yield pg


def watch_csp(pg) -> list[str]:
    """The Content-Security-Policy violations the browser reports on ``pg`` (console errors)."""
    found: list[str] = []
    pg.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def sign_in(pg, who=EDITOR):
    pg.goto("/login")
    pg.get_by_label("User name").fill(who[0])
    pg.get_by_label("Password").fill(who[1])
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_load_state()
    assert pg.locator(".who").get_by_text(who[0]).is_visible()


def shoot(pg, name: str, *, height: int | None = None) -> None:
    """Save a screenshot of the visible page (or its top ``height`` pixels) when
    CITYDIP_WEB_SCREENSHOTS names a folder."""
    out = os.environ.get("CITYDIP_WEB_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        kw = {"full_page": True, "clip": {"x": 0, "y": 0, "width": pg.viewport_size["width"], "height": height}} \
            if height else {}
        pg.screenshot(path=str(Path(out) / f"{name}.png"), **kw)


# ---------------------------------------------------------------------------------------


def test_home_shows_the_store_by_layer_and_axis_and_a_world_map(page):
    page.goto("/")
    assert page.get_by_role("heading", name="What the observatory holds, by layer").is_visible()
    for layer in ("macro", "meso", "micro"):
        assert page.locator("table .badge", has_text=layer).count() == 1
    assert page.get_by_role("heading", name="Sustainability").is_visible()
    m = page.locator("#overview-map")
    page.wait_for_selector("#overview-map[data-ready=true]")
    assert int(m.get_attribute("data-points")) > 100
    assert int(m.get_attribute("data-lines")) > 100
    # country outlines are drawn (no tile server): many paths in the map's canvas or svg
    assert page.locator("#overview-map canvas, #overview-map svg path").count() > 0
    shoot(page, "home", height=1300)


def test_search_then_actor_page_with_map_and_graph(page):
    page.goto("/search")
    page.get_by_label("Name, alias or identifier").press_sequentially("Barcel", delay=30)
    # instant results: no submit
    page.locator("#result-count", has_text="“Barcel”").wait_for()
    link = page.locator("#results a.title", has_text="Barcelona").first
    assert "q=Barcel" in page.url
    shoot(page, "search")
    link.click()
    page.wait_for_url("**/actors/barcelona-es")
    assert page.get_by_role("heading", name="Barcelona", level=1).is_visible()
    assert page.get_by_role("heading", name="Networks by axis").is_visible()
    assert page.locator("#h-networks + .grid a", has_text="C40").count() >= 1
    # the twinning map: the city and its partners, ties as lines, on country outlines
    page.wait_for_selector("#actor-map[data-ready=true]")
    assert int(page.locator("#actor-map").get_attribute("data-lines")) >= 5
    # the ego network graph
    page.wait_for_selector("#ego-graph[data-ready=true]")
    assert int(page.locator("#ego-graph").get_attribute("data-nodes")) > 10
    assert page.locator("#ego-graph svg text").count() > 10
    assert "drawn one by one" in page.locator("#ego-summary").inner_text()
    # its standing in the whole network (computed on the store's graph)
    page.wait_for_selector("#standing[data-ready=true]", timeout=120_000)
    assert "Vertical integration" in page.locator("#standing").inner_text()
    # provenance of each fact: every tie group names its source
    ties = page.locator("#ties")
    assert ties.get_by_text("Wikipedia").count() >= 1
    page.evaluate("document.getElementById('h-map').scrollIntoView()")
    shoot(page, "actor")


def test_ego_graph_depth_and_tie_type_reload(page):
    page.goto("/actors/c40")
    page.wait_for_selector("#ego-graph[data-ready=true]")
    one = int(page.locator("#ego-graph").get_attribute("data-nodes"))
    page.get_by_label("Tie type").select_option("member_of")
    # predicates as functions, not strings: the page's CSP forbids evaluating strings
    page.wait_for_function("() => document.querySelector('#ego-graph').dataset.ready === 'true'")
    assert int(page.locator("#ego-graph").get_attribute("data-nodes")) >= 2
    page.get_by_label("Depth").select_option("2")
    page.wait_for_function("() => document.querySelector('#ego-graph').dataset.ready === 'true' && "
                           f"+document.querySelector('#ego-graph').dataset.nodes > {min(one, 50)}")


def test_unknown_actor_is_a_page_with_suggestions(page):
    resp = page.goto("/actors/Barcelonna")
    assert resp.status == 404
    assert page.get_by_text("no actor matches 'Barcelonna'").is_visible()
    assert page.locator("main a", has_text="Barcelona").count() >= 1


def test_sign_in_add_a_tie_and_it_appears_on_the_actor_page(page, server):
    # a write page asks anonymous visitors to sign in first, and comes back
    page.goto("/ties/new?actor=barcelona-es")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(EDITOR[0])
    page.get_by_label("Password").fill("wrong password!")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").get_by_text("wrong name or password").is_visible()
    page.get_by_label("Password").fill(EDITOR[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/ties/new\?actor=barcelona-es"))

    # every mistake comes back at once, next to its field
    page.get_by_label("To", exact=True).fill("Nowhereville Qqq")
    page.get_by_label("Since").fill("2024-13")
    page.get_by_role("button", name="Add the tie").click()
    assert page.locator("#form-errors").get_by_text("3 problems to fix").is_visible()
    assert "documented" in page.locator("#err-source").inner_text()    # no provenance given
    assert "Nowhereville" in page.locator("#err-target").inner_text()  # no such actor
    assert page.locator("#err-since").is_visible()                     # month 13
    assert page.locator("#f-source").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-source").get_attribute("aria-describedby").endswith("err-source")
    assert page.locator("#f-actor").input_value() == "barcelona-es"    # what was typed is kept
    assert page.locator("#f-since").input_value() == "2024-13"
    page.locator("#form-errors").scroll_into_view_if_needed()
    shoot(page, "add-tie")

    page.get_by_label("Source", exact=True).fill("Barcelona City Council — agreement register")
    page.get_by_label("To", exact=True).fill("reykjavik-is")
    page.get_by_label("Since").fill("2024-05")
    page.get_by_label("Type of tie").select_option("partner_of")
    page.get_by_label("digital").check()
    page.get_by_role("button", name="Add the tie").click()
    page.wait_for_url(re.compile(r"/actors/barcelona-es\?done=tie"))
    assert page.get_by_role("status").get_by_text("The tie was added").is_visible()
    row = page.locator("#ties tr", has_text="Reykjavík").or_(page.locator("#ties tr", has_text="Reykjavik"))
    assert row.count() == 1
    assert "2024-05" in row.inner_text() and "digital" in row.inner_text()
    assert "agreement register" in page.locator("#ties").inner_text()

    # the write is in the audit log, with who did it
    from citydiplomacy import accounts
    log = accounts.audit_log(server["app"].state.obs.store, limit=20)
    assert any(e["action"] == "tie.add" and e["user_name"] == EDITOR[0] for e in log)


def test_viewer_cannot_open_the_data_pages(page):
    sign_in(page, VIEWER)
    resp = page.goto("/ties/new")
    assert resp.status == 403
    assert page.get_by_text("needs the editor role").is_visible()
    assert page.locator("nav a", has_text="Data").count() == 0


def test_a_form_without_its_csrf_token_is_refused(page, server):
    sign_in(page)
    resp = page.request.post(server["url"] + "/ties/new", form={
        "actor": "barcelona-es", "target": "reykjavik-is", "type": "partner_of", "source": "x"})
    assert resp.status == 403
    assert "expired" in resp.text()


def reached_report(page, heading: str) -> None:
    """An import runs as a job: its page shows progress, refreshing itself, until the
    report is there (a loaded machine may take a while)."""
    page.get_by_role("heading", name=heading).wait_for(state="visible", timeout=180_000)


def test_import_with_bad_rows_names_the_rows_then_applies(page, tmp_path):
    f = tmp_path / "twins-2026.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["city1", "country1", "city2", "country2"])
        w.writerow(["Munich", "Germany", "Kraków", "Poland"])                  # row 2: fine
        w.writerow(["Barcelona", "Spain", "Atlantis", "Narnia"])               # row 3: unresolved
        w.writerow(["Neustadt", "Germany", "Springfield", "United States"])    # row 4: ambiguous
        w.writerow(["Lyon", "France", "", ""])                                 # row 5: empty name
    sign_in(page)
    page.goto("/imports")
    page.get_by_label("What the file holds").select_option("twinning")
    page.get_by_label("File", exact=True).set_input_files(str(f))
    page.get_by_label("Licence").fill("CC0 1.0")
    page.get_by_role("button", name="Upload and check (dry run)").click()
    page.wait_for_url("**/imports/*")
    reached_report(page, "Dry run: twins-2026.csv")
    problems = page.locator("#problems")
    assert problems.locator("tr", has_text="row 3").filter(has_text="Atlantis").count() >= 1
    assert problems.locator("tr", has_text="row 5").count() >= 1
    assert problems.locator("tr", has_text="row 4").filter(has_text="ambiguous").count() >= 1
    resolved = page.locator(".card", has_text="rows with every name resolved").locator(".stat")
    assert resolved.inner_text() == "1"                         # row 2; rows 3 to 5 have problems
    # the unsure names can be resolved here
    assert page.get_by_role("heading", name="Resolve the unsure names").is_visible()
    shoot(page, "import-report")
    page.get_by_role("button", name="Apply this import").click()
    page.wait_for_load_state()
    reached_report(page, "Imported: twins-2026.csv")
    page.goto("/actors/munich-de?type=twinned_with")
    assert page.locator("#ties a", has_text="Kraków").count() == 1


@pytest.mark.slow
def test_import_review_choice_becomes_a_review_import(page, tmp_path):
    f = tmp_path / "springfield.csv"
    f.write_text("city1,country1,city2,country2\nSeville,Spain,Springfield,United States\n", encoding="utf-8")
    sign_in(page)
    page.goto("/imports")
    page.get_by_label("File", exact=True).set_input_files(str(f))
    page.get_by_role("button", name="Upload and check (dry run)").click()
    page.wait_for_url("**/imports/*")
    reached_report(page, "Dry run: springfield.csv")
    select = page.locator("select[id^=choice-]").first
    options = [o for o in select.locator("option").all_inner_texts()]
    springfield = next(o for o in options if "springfield" in o.lower())
    select.select_option(label=springfield)
    page.get_by_role("button", name="Check the chosen rows (dry run)").click()
    page.wait_for_url("**/imports/*")
    reached_report(page, "Dry run: review of springfield.csv")
    assert "1" in page.locator(".stat").nth(1).inner_text()             # one tie would be created
    page.get_by_role("button", name="Apply this import").click()
    reached_report(page, "Imported: review of springfield.csv")


def test_import_form_errors_are_next_to_the_fields(page, tmp_path):
    sign_in(page)
    page.goto("/imports")
    page.get_by_role("button", name="Upload and check (dry run)").click()
    assert page.locator("#err-file").is_visible()
    f = tmp_path / "members.csv"
    f.write_text("City,Country\nLyon,France\n", encoding="utf-8")
    page.get_by_label("What the file holds").select_option("table")
    page.get_by_label("File", exact=True).set_input_files(str(f))
    page.get_by_label("Column mapping").fill("source City")
    page.get_by_role("button", name="Upload and check (dry run)").click()
    assert "field=Column" in page.locator("#err-mapping").inner_text()


def test_alignment_page_highlights_the_evidence(page):
    page.goto("/align")
    page.get_by_label("Text").fill(
        "The city will retrofit 4,000 social housing units to cut heating emissions, extend the "
        "tram network and plant 20,000 trees to adapt to heatwaves and flooding.")
    page.get_by_label("Method").select_option("light")
    page.get_by_role("button", name="Align").click()
    results = page.locator("#results")
    results.wait_for()
    assert results.get_by_role("heading", name="Sustainable Development Goals").is_visible()
    assert results.locator("a[href^='/frameworks/sdg/']").count() >= 1
    marks = results.locator(".aligned-text mark")                       # highlighted evidence
    assert marks.count() >= 2
    assert "SDG" in marks.first.get_attribute("title")                  # says what it matched
    assert results.get_by_text("words:").count() >= 1
    shoot(page, "align")


def test_alignment_of_an_empty_form_says_what_to_do(page):
    page.goto("/align")
    page.get_by_role("button", name="Align").click()
    assert page.locator("#err-text").is_visible()
    assert "paste some text" in page.locator("#err-text").inner_text()


def test_alignment_of_an_uploaded_document(page, tmp_path):
    doc = tmp_path / "plan.md"
    doc.write_text("# Mobility\n\nNew bus lanes and protected cycle lanes cut commuting emissions and "
                   "air pollution.\n\n# Water\n\nThe utility will reduce leaks and treat all wastewater "
                   "before it reaches the river.\n", encoding="utf-8")
    page.goto("/align")
    page.get_by_label("…or a document").set_input_files(str(doc))
    page.get_by_label("Method").select_option("light")
    page.get_by_role("button", name="Align").click()
    page.locator("#results").wait_for()
    assert page.get_by_text("paragraphs read").is_visible()
    assert page.locator("#results article").count() >= 1


def test_framework_browser_in_several_languages(page):
    page.goto("/frameworks")
    page.get_by_role("link", name="Sustainable Development Goals").first.click()
    page.locator("a[href^='/frameworks/sdg/11']").first.click()
    assert page.locator("h1").inner_text().startswith("11")
    page.get_by_role("link", name="Français").click()
    assert "lang=fr" in page.url
    assert page.locator("[lang=fr] h1").count() == 1
    page.locator("a[href^='/frameworks/sdg/11.6']").click()
    assert page.locator(".breadcrumb").get_by_text("11", exact=True).count() == 1
    # the page's frame follows the text's language: French headings, navigation and buttons
    assert page.get_by_role("heading", name="Indicateurs").is_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("navigation", name="Principale").get_by_role("link", name="Vue d’ensemble").is_visible()
    assert page.get_by_role("button", name="Rechercher").is_visible()
    shoot(page, "framework")
    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link", name="Cadres").click()
    assert "lang=fr" in page.url and page.get_by_role("heading", name="Cadres mondiaux").is_visible()


def test_indices_ranking_filters_and_the_city_radar(page):
    page.goto("/indices")
    rows = page.locator("table.index-table tbody tr")
    assert rows.count() == 50
    # every row: a score, a rank with its interval, and the interval drawn
    assert page.locator("table.index-table svg.interval").count() == 50
    page.get_by_label("Axis").select_option("digital")
    page.get_by_label("Bloc").fill("eu")
    page.get_by_label("How many").fill("5")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/indices?*axis=digital*")
    assert rows.count() == 5
    assert "eu" in page.get_by_role("heading", level=2).first.inner_text()
    shoot(page, "indices")
    # a wrong filter is named next to its field
    page.get_by_label("Bloc").fill("atlantis-pact")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#field-bloc .field-error").is_visible()
    page.goto("/indices?axis=overall&top=5")
    rows.first.locator("a").click()
    page.wait_for_url("**/actors/*")
    card = page.locator("#index")
    assert card.get_by_role("heading", name="Axis indices").is_visible()
    radar = card.locator("svg.radar")
    assert radar.is_visible()
    title = radar.locator("title").text_content()
    assert "sustainability" in title and "digital" in title and "engagement" in title
    # four rows (three axes and overall), each with its interval plot
    assert card.locator("tbody tr").count() == 4 and card.locator("svg.interval").count() == 4
    card.scroll_into_view_if_needed()
    if os.environ.get("CITYDIP_WEB_SCREENSHOTS"):
        card.screenshot(path=str(Path(os.environ["CITYDIP_WEB_SCREENSHOTS"]) / "actor-index.png"))


def test_html_in_data_is_escaped(page, server):
    obs = server["app"].state.obs
    obs.add_actor('<img src=x onerror="window.pwned=1">Evil Net', "city_network",
                  id="evil-net", source="test <b>source</b>")
    page.goto("/actors/evil-net")
    assert page.locator("h1").inner_text().startswith('<img src=x onerror="window.pwned=1">Evil Net')
    assert page.evaluate("window.pwned") is None
    assert page.get_by_text("test <b>source</b>").count() >= 1
    page.goto("/search?q=Evil")
    assert page.evaluate("window.pwned") is None


def test_account_page_creates_and_revokes_a_token(page):
    sign_in(page)
    page.goto("/account")
    page.get_by_label("Label").fill("nightly import script")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").inner_text()
    assert secret.startswith("cdp_")
    page.get_by_role("button", name="Revoke token nightly import script").click()
    assert page.get_by_role("status").get_by_text("revoked").is_visible()
    assert page.locator("td", has_text="nightly import script").count() == 1


def test_sign_out(page):
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/\?done=logout"))
    assert page.locator(".who a", has_text="Sign in").is_visible()


# -- accessibility ------------------------------------------------------------------------

PAGES = ["/", "/search?q=Nairobi", "/actors/nairobi-ke", "/frameworks", "/frameworks/sdg/13?lang=es",
         "/frameworks/sdg/11?lang=de",
         "/align", "/login", "/indices"]

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.innerText.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("path", PAGES)
def test_every_control_has_a_label_and_one_h1(page, path):
    page.goto(path)
    assert page.evaluate(UNLABELLED) == []
    assert page.locator("h1").count() == 1
    # the framework browser's frame is in the language of its text (?lang=es), the rest in English
    assert page.locator("html").get_attribute("lang") == (path.split("lang=")[1] if "lang=" in path else "en")


@pytest.mark.parametrize("path", PAGES)
def test_pages_fit_a_phone_width(browser, server, path):
    ctx = browser.new_context(base_url=server["url"], viewport={"width": 375, "height": 740})
    pg = ctx.new_page()
    pg.goto(path)
    pg.wait_for_load_state("networkidle")
    width = pg.evaluate("document.documentElement.scrollWidth")
    if path.startswith("/actors/"):
        shoot(pg, "actor-phone")
    ctx.close()
    assert width <= 375, f"{path} scrolls sideways at 375 px ({width} px wide)"


def test_no_page_breaks_the_content_security_policy(page):
    """Every page, signed in, under the strict policy (no inline script or style): the
    ``page`` fixture fails on any violation the browser reports; the API docs page still
    draws Swagger UI."""
    sign_in(page)
    for path in PAGES + ["/actors/new", "/ties/new", "/initiatives/new", "/imports", "/account",
                         "/actors/Barcelonna", "/api/v1/docs"]:
        resp = page.goto(path)
        assert "script-src 'self'" in resp.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle")
    page.wait_for_selector(".swagger-ui .info .title")
    page.get_by_text("GET", exact=True).first.wait_for()


def test_keyboard_skip_link_and_focus(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # the focus ring is visible (an outline, not removed)
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_contrast_of_text_and_links(page):
    """WCAG AA: 4.5:1 for body text, muted text and links on their backgrounds."""
    page.goto("/actors/barcelona-es")
    ratios = page.evaluate("""() => {
      const lum = c => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => {
        v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
      const bg = el => { while (el) { const c = getComputedStyle(el).backgroundColor;
        if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; el = el.parentElement; } return 'rgb(255, 255, 255)'; };
      const out = {};
      for (const sel of ['main p', '.muted', 'main a', '.badge.layer-micro', '.badge.layer-meso', '.badge.layer-macro', '.site-nav a']) {
        const el = document.querySelector(sel); if (!el) continue;
        out[sel] = ratio(getComputedStyle(el).color, bg(el));
      }
      return out; }""")
    assert ratios, "no element measured"
    low = {k: round(v, 2) for k, v in ratios.items() if v < 4.5}
    assert not low, f"contrast below 4.5:1: {low}"


def test_read_only_mode_has_no_write_path(browser, built_home, tmp_path):
    """``citydip serve --read-only``: no sign-in link, no form that writes, and the
    write pages are not there (404; a post is refused with 405)."""
    from citydiplomacy.web import create_app

    home = tmp_path / "ro"
    copy_store(built_home, home)
    app = create_app(**app_args(home), read_only=True, secret="read-only-secret")
    with serving(app) as url:
        ctx = browser.new_context(base_url=url)
        pg = ctx.new_page()
        pg.goto("/")
        assert pg.locator(".who a", has_text="Sign in").count() == 0
        assert pg.locator("form[method=post]:not([action^='/align'])").count() == 0
        for path in ("/ties/new", "/imports", "/login", "/account"):
            assert pg.goto(path).status == 404, path
        resp = pg.request.post(f"{url}/ties/new", form={"actor": "x"})
        assert resp.status == 405
        # reading and aligning still work
        assert pg.goto("/actors/barcelona-es").status == 200
        ctx.close()


@pytest.mark.slow
def test_an_admin_builds_an_index_follows_it_and_publishes_it(page, server):
    """The published build is what /indices and the actor page show; an admin starts a build
    from the page (a job in a process of its own, with its progress), lands on the new
    build's ranking, publishes it with its button (audited), and publishes the first one back."""
    from citydiplomacy import accounts

    page.goto("/indices")
    first = page.locator("#shown-build strong").inner_text()
    assert "the published build" in page.locator("#shown-build").inner_text()
    assert page.locator("form[action='/indices/builds']").count() == 0          # not signed in
    sign_in(page, EDITOR)
    page.goto("/indices")
    assert page.locator("form[action='/indices/builds']").count() == 0          # an editor is no admin
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/\?done=logout"))
    sign_in(page, ADMIN)
    page.goto("/indices")
    form = page.locator("#new-build")
    form.get_by_label("Replications").fill("0")
    form.get_by_label("Name").fill("browser-trial")
    form.get_by_role("button", name="Build").click()
    page.wait_for_url("**/indices/jobs/*")
    assert page.get_by_role("heading", name="Building the indices: browser-trial").is_visible()
    page.wait_for_url("**/indices?build=browser-trial*", timeout=600_000)
    assert "browser-trial" in page.locator("#shown-build").inner_text()
    assert "not published" in page.locator("#shown-build").inner_text()
    shoot(page, "indices-builds")
    row = page.locator("#builds tbody tr", has_text="browser-trial")
    row.get_by_role("button", name="Publish browser-trial").click()
    page.wait_for_url("**done=published*")
    page.goto("/indices")
    assert "browser-trial" in page.locator("#shown-build").inner_text()
    page.goto("/actors/barcelona-es")
    assert page.locator("#index .build-name").inner_text() == "browser-trial"
    # back to the first build, as the other tests expect
    page.goto("/indices")
    page.locator("#builds tbody tr", has_text=first).get_by_role("button").click()
    page.wait_for_url("**done=published*")
    with open_store(server["home"]) as st:
        log = [e for e in accounts.audit_log(st, limit=20) if e["action"].startswith("index.")]
    assert [(e["action"], e["user_name"], e["channel"]) for e in log[:3]] == [
        ("index.publish", ADMIN[0], "web"), ("index.publish", ADMIN[0], "web"), ("index.build", ADMIN[0], "web")]
