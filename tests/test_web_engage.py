"""The engagement register's pages through a real app (FastAPI's TestClient): the register
and its filters and pages, an engagement's page, an actor's timeline alone and with a
partner, the actor page's "Activity" card, and the editors' forms — sign-in, CSRF, per-field
errors with the store unchanged, the audit log — and the frame in French, Spanish, German.

The register is written with the library into a copy of the built store (tests/engagedata.py);
the browser tests are in test_web_engage_ui.py."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

import citydiplomacy  # noqa: E402
from citydiplomacy import accounts  # noqa: E402
from citydiplomacy.engage import get_engagement, list_engagements  # noqa: E402
from citydiplomacy.web import create_app, engage_pages, i18n  # noqa: E402
from citydiplomacy.web.pages import templates  # noqa: E402

import engagedata  # noqa: E402
from homes import copy_home  # noqa: E402
from engagedata import DECLARATION, EVENT, MOBILITY, PROJECT, VISIT  # noqa: E402
from conftest import app_args, store_args  # noqa: E402

EDITOR = ("eddie", "editor-password-1")
VIEWER = ("vera", "viewer-password-1")
TEMPLATES = Path(i18n.__file__).parent / "templates"
PAGES = ("engagements.html", "engagements_due.html", "engagement.html", "engagement_timeline.html", "engagement_form.html",
         "engagement_delete.html", "_engage.html", "_engage_activity.html")


@pytest.fixture(scope="module")
def home(seeded_engage_home, tmp_path_factory):
    """A copy of the built store with the fixture register (seeded once per run: conftest.py),
    an editor and a viewer."""
    home = copy_home(seeded_engage_home[0], tmp_path_factory.mktemp("web-engage-home"))
    counts = seeded_engage_home[1]
    obs = citydiplomacy.open(**store_args(home), build=False)
    accounts.add_user(obs.store, EDITOR[0], EDITOR[1], role="editor")
    accounts.add_user(obs.store, VIEWER[0], VIEWER[1], role="viewer")
    obs.close()
    return home, counts


@pytest.fixture(scope="module")
def app(home):
    mp = pytest.MonkeyPatch()
    mp.setenv("CITYDIP_WEB_WARM_ALIGN", "0")
    a = create_app(**app_args(home[0]), secret="test-secret-for-the-engagement-pages")
    yield a
    a.state.obs.close()
    mp.undo()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def counts(home):
    return home[1]


def signed_in(app, who=EDITOR) -> TestClient:
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": who[0], "password": who[1], "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return c


@pytest.fixture(scope="module")
def editor(app):
    return signed_in(app)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def listed_keys(html: str) -> list[str]:
    """The keys of the engagements a register page lists, in order."""
    table = html.split('<table class="engagements">')[1].split("</table>")[0] if 'class="engagements"' in html else ""
    return [unescape(k) for k in re.findall(r'<a href="/engagements/([^"?]+)">', table)]


def field_error(html: str, name: str) -> str:
    m = re.search(rf'<p class="field-error" id="err-{name}">(.*?)</p>', html, re.S)
    return unescape(m.group(1)) if m else ""


# -- the register ------------------------------------------------------------------------


def test_the_register_lists_a_page_and_says_how_many(client, counts):
    r = client.get("/engagements")
    assert r.status_code == 200
    html = r.text
    assert f'data-total="{counts["total"]}"' in html
    assert f"{counts['total']} engagements" in text(html)
    keys = listed_keys(html)
    assert len(keys) == engage_pages.PAGE_SIZE
    assert keys[0] == PROJECT                         # newest first (2023)
    assert keys[:4] == [PROJECT, DECLARATION, VISIT, MOBILITY]
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert 'aria-current="page">Engagements</a>' in html
    page2 = client.get("/engagements?page=2").text
    rest = listed_keys(page2)
    assert len(rest) == counts["total"] - engage_pages.PAGE_SIZE and not set(rest) & set(keys)
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2 and "Page 2 of 2" in text(page2)


def test_the_next_page_is_read_after_the_last_row(client, counts):
    """The register's "Next" link carries the cursor of the page's last row: the page it
    opens is the one ``?page=2`` gives."""
    html = client.get("/engagements").text
    nxt = unescape(re.search(r'<a href="([^"]+)" rel="next"', html).group(1))
    assert "cursor=" in nxt and "page=2" in nxt
    page2 = client.get(nxt).text
    assert listed_keys(page2) == listed_keys(client.get("/engagements?page=2").text)
    assert f"Showing {engage_pages.PAGE_SIZE + 1}–" in text(page2) and "Page 2 of 2" in text(page2)
    bad = client.get("/engagements?cursor=garbage")
    assert "not a cursor of this register" in text(bad.text)


@pytest.mark.parametrize("query, expected", [
    ("kind=declaration", {DECLARATION}),
    ("kind=agreement", {MOBILITY}),
    ("status=planned", {PROJECT}),
    ("axis=digital", {EVENT, PROJECT}),
    ("country=Kenya", {VISIT, DECLARATION}),
    ("country=KE", {VISIT, DECLARATION}),
    ("country=MLI&kind=project", {PROJECT}),
    ("layer=micro&from=2021&to=2022", {MOBILITY, VISIT, DECLARATION}),      # the memorandum runs 2019-2024
    ("from=2019-06&to=2021", {MOBILITY, VISIT}),        # the memorandum runs to 2024: it counts
    ("q=clean+air", {DECLARATION}),
    ("q=" + MOBILITY, {MOBILITY}),
    ("actor=nairobi-ke", {VISIT, DECLARATION}),
    ("actor=Bamako&partner=lyon-fr", {EVENT, PROJECT}),
])
def test_the_register_filters(client, query, expected):
    r = client.get(f"/engagements?{query}")
    assert r.status_code == 200, text(r.text)[:400]
    assert set(listed_keys(r.text)) == expected
    assert f'data-total="{len(expected)}"' in r.text


def test_filters_keep_themselves_in_the_page_links(client, counts):
    html = client.get("/engagements?kind=visit&sort=date").text
    assert f'data-total="{engagedata.VISITS + 1}"' in html        # the exchange visits and Nairobi's
    assert listed_keys(html)[0] == "exchange-1960"               # oldest first
    nxt = unescape(re.search(r'<a href="([^"]+)" rel="next"', html).group(1))
    assert "kind=visit" in nxt and "sort=date" in nxt and "page=2" in nxt
    assert '<option value="visit" selected>' in html


@pytest.mark.parametrize("query, field, words", [
    ("from=2019-13", "from", "2019-13"),
    ("to=soon", "to", "soon"),
    ("country=Atlantis", "country", "not a country"),
    ("actor=Lyonnnnnnn", "actor", "Lyonnnnnnn"),
    ("partner=barcelona-es", "partner", "needs an actor"),
])
def test_a_wrong_filter_is_named_next_to_its_field(client, query, field, words):
    r = client.get(f"/engagements?{query}")
    assert r.status_code == 200
    assert words in field_error(r.text, field), field_error(r.text, field) or text(r.text)[:500]
    assert 'aria-invalid="true"' in r.text and listed_keys(r.text) == []


def test_the_register_in_french_spanish_and_german(client):
    for lang, heading, kind in (("fr", "Registre des engagements", "déclaration"),
                                ("es", "Registro de compromisos", "declaración"),
                                ("de", "Engagement-Register", "Erklärung")):
        html = client.get(f"/engagements?kind=declaration&lang={lang}").text
        assert f'<html lang="{lang}">' in html
        assert f"<h1>{heading}</h1>" in html and f">{kind}</td>" in html
        assert f'name="lang" value="{lang}"' in html       # the filter form keeps the language


@pytest.mark.parametrize("lang", ["fr", "es", "de"])
def test_every_message_of_the_register_pages_has_its_translation(lang):
    messages = set(engage_pages.vocabulary())
    for name in PAGES:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        for _, _, message in templates.env.extract_translations(source):
            found = message if isinstance(message, tuple) else (message,)
            messages.update(m for m in found if isinstance(m, str))
    assert {"Engagement register", "Activity", "Dormant ties", "signatory", "Signatories"} <= messages
    cat = i18n.catalogue(lang)
    assert sorted(messages - set(cat)) == []
    for m in messages:
        assert re.findall(r"%\(\w+\)s", m) == re.findall(r"%\(\w+\)s", cat[m]), (lang, m)


# -- an engagement's page ------------------------------------------------------------------


def test_an_engagements_page_shows_everything_it_holds(client):
    r = client.get(f"/engagements/{MOBILITY}")
    assert r.status_code == 200
    html, words = r.text, text(r.text)
    assert "<h1>Memorandum of understanding on urban mobility</h1>" in html
    signatories = html.split('data-role="signatory"')[1].split("</ul>")[0]
    assert '/actors/lyon-fr"' in signatories and '/actors/barcelona-es"' in signatories
    for fact in ("Signed 2019-05-08", "End 2024-05-08", "Review or renewal 2024-01", "Place Lyon",
                 "Joint study of low-emission zones.", "Exchange of traffic data", "Report to the council",
                 "web test fixture"):
        assert fact in words, fact
    assert '<a href="https://example.org/mou.pdf" rel="noopener noreferrer">Text of the memorandum</a>' in html
    # the alignment, with scores, as initiatives show theirs
    e = get_engagement(client.app.state.obs.store, MOBILITY)
    assert e["alignments"], "the memorandum's text should align with an SDG"
    table = html.split('<table class="alignment">')[1].split("</table>")[0]
    for a in e["alignments"]:
        assert f">{a['item']}</a>" in table and f"{a['score']:.2f}" in table
    assert "/frameworks/sdg/11" in html or "/frameworks/sdg/13" in html
    # a pair: the link to its timeline
    assert "/actors/barcelona-es/engagements?partner=lyon-fr" in html


def test_parties_are_grouped_by_role(client):
    html = client.get(f"/engagements/{DECLARATION}").text
    assert re.findall(r'<h3 class="role" data-role="(\w+)">', html) == ["signatory", "organiser"]
    assert "Signatories (3)" in text(html) and "Organisers (1)" in text(html)
    assert "signed 2022-11" in text(html)                  # Nairobi signed at its own date


def test_an_unknown_engagement_is_a_404_with_the_closest_keys(client):
    r = client.get("/engagements/lyon-barcelona-mobil")
    assert r.status_code == 404
    assert "no engagement with key" in text(r.text) and MOBILITY in r.text


# -- timelines ------------------------------------------------------------------------------


def test_an_actors_timeline_by_year_oldest_first(client, counts):
    r = client.get("/actors/lyon-fr/engagements")
    assert r.status_code == 200
    html = r.text
    years = re.findall(r'<li class="year" id="y-(\w+)">', html)
    assert years == sorted(years) and years[0] == "1960" and "2023" in years
    assert len(re.findall(r'<li data-key="', html)) == counts["lyon"]
    y2021 = html.split('id="y-2021"')[1].split('<li class="year"')[0]
    assert VISIT in y2021 and "nairobi-ke" in y2021 and "lyon-fr" not in y2021     # "with" the others
    assert 'href="/actors/lyon-fr/engagements?partner=barcelona-es"' in html       # most active partners
    assert '<a href="#y-2019">2019</a>' in html                                   # the years as links
    assert '<title>2019: 2</title>' in html                                       # and as columns


def test_a_pairs_timeline(client, counts):
    r = client.get("/actors/lyon-fr/engagements?partner=Barcelona")
    assert r.status_code == 200
    keys = re.findall(r'<li data-key="([^"]+)"', r.text)
    assert len(keys) == counts["pair"] and set(keys) >= {MOBILITY, DECLARATION} and VISIT not in keys
    assert "Engagements of Lyon with Barcelona" in text(r.text)
    only = client.get("/actors/lyon-fr/engagements?partner=bamako-ml&kind=project").text
    assert re.findall(r'<li data-key="([^"]+)"', only) == [PROJECT]


def test_timeline_errors(client):
    r = client.get("/actors/lyon-fr/engagements?partner=Nowhereville")
    assert r.status_code == 422 and "Nowhereville" in field_error(r.text, "partner")
    r = client.get("/actors/lyon-fr/engagements?partner=lyon-fr")
    assert r.status_code == 422 and "another actor" in field_error(r.text, "partner")
    assert client.get("/actors/nowhere-xx-zz/engagements").status_code == 404
    empty = client.get("/actors/tokyo-jp/engagements")
    assert empty.status_code == 200 and "holds no engagement of this actor" in text(empty.text)


def test_the_timeline_in_german(client):
    html = client.get("/actors/lyon-fr/engagements?partner=nairobi-ke&lang=de").text
    assert '<html lang="de">' in html and "Engagements von Lyon mit Nairobi" in text(html)


# -- the actor page's activity card -----------------------------------------------------------


# -- what is due ----------------------------------------------------------------------------


def due_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-key="([^"]+)" data-what="([^"]+)"', html)


def test_what_is_due_lists_reviews_and_follow_ups_soonest_first(app, client):
    from citydiplomacy.engage import due

    r = client.get("/engagements/due?today=2023-12-15&days=60")
    assert r.status_code == 200
    assert due_rows(r.text) == [(MOBILITY, "review")]               # reviewed from 2024-01
    assert 'data-count="1"' in r.text and "From 2023-12-15 to 2024-02-13." in text(r.text)
    assert "<h3 id=\"m-2024-01\">" in r.text
    # the follow-up "Report to the council" falls due in 2025-03
    html = client.get("/engagements/due?today=2025-02-20&days=30").text
    assert due_rows(html) == [(MOBILITY, "follow-up")] and "Report to the council" in text(html)
    # later, it is overdue only when asked
    assert due_rows(client.get("/engagements/due?today=2025-06-01&days=30").text) == []
    late = client.get("/engagements/due?today=2025-06-01&days=30&overdue=1").text
    assert due_rows(late) == [(MOBILITY, "follow-up")] and 'class="overdue"' in late
    assert '<h3 id="m-overdue">' in late
    # the page lists what the library says, for one actor too
    lib = due(app.state.obs.store, 3650, today="2015-01-01", actor="lyon-fr")
    page = client.get("/engagements/due?today=2015-01-01&days=3650&actor=Lyon").text
    assert [k for k, _ in due_rows(page)] == [i["key"] for i in lib["items"]] and lib["count"] > 0
    assert f'data-count="{lib["count"]}"' in page


def test_what_is_due_names_a_wrong_field_and_is_linked_from_the_register(client):
    r = client.get("/engagements/due?days=soon")
    assert r.status_code == 422 and "soon" in field_error(r.text, "days") and due_rows(r.text) == []
    r = client.get("/engagements/due?actor=Lyonnnnnnn")
    assert r.status_code == 422 and "Lyonnnnnnn" in field_error(r.text, "actor")
    assert 'href="/engagements/due"' in client.get("/engagements").text
    assert 'href="/engagements/due?actor=lyon-fr"' in client.get("/actors/lyon-fr/engagements").text
    fr = client.get("/engagements/due?lang=fr&today=2023-12-15&days=60").text
    assert "<h1>Échéances</h1>" in fr and ">révision<" in fr


def test_the_actor_page_has_an_activity_card_when_there_are_engagements(client, counts):
    html = client.get("/actors/lyon-fr").text
    assert 'id="activity"' in html
    card = html.split('id="activity"')[1].split("</section>")[0]
    words = text(card)
    assert f"{counts['lyon']} engagements in the register" in words
    assert re.search(r'<a href="/actors/lyon-fr/engagements#y-2022">2022</a>', card)
    assert 'href="/engagements?actor=lyon-fr&amp;kind=visit"' in card
    partners = card.split('class="small partners"')[1].split("</ol>")[0]
    assert re.findall(r"partner=([\w-]+)", partners)[0] == "barcelona-es"       # the most active first
    assert "Dormant ties" in words
    dormant = card.split('id="h-dormant"')[1]
    # Lyon's twinnings in the shipped data have no engagement in the fixture register
    assert "no engagement recorded" in text(dormant) and "barcelona" not in dormant


def test_no_activity_card_without_engagements(client):
    html = client.get("/actors/tokyo-jp").text
    assert 'id="activity"' not in html and "Dormant ties" not in html


# -- the editors' forms -------------------------------------------------------------------------


def store_state(app) -> tuple[int, int]:
    """(engagements, write runs): both unchanged when a form is refused."""
    from sqlalchemy import func, select

    from citydiplomacy.store import schema

    with app.state.obs.store.connect() as conn:
        return (conn.execute(select(func.count()).select_from(schema.engagements)).scalar(),
                conn.execute(select(func.count()).select_from(schema.import_runs)).scalar())


def test_the_forms_need_an_editor(app, client):
    r = client.get("/engagements/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = client.post("/engagements/new", data={"title": "x"}, follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    viewer = signed_in(app, VIEWER)
    r = viewer.get("/engagements/new")
    assert r.status_code == 403 and "needs the editor role" in text(r.text)
    r = viewer.get(f"/engagements/{MOBILITY}/edit")
    assert r.status_code == 403
    assert "Edit this engagement" not in viewer.get(f"/engagements/{MOBILITY}").text


GOOD = {"kind": "agreement", "title": "Cooperation agreement on urban heat", "status": "active",
        "text": "Lyon and Nairobi share their plans to adapt to heat waves and plant urban forests.",
        "signed_on": "2024-09-17", "start_on": "2024-09-17", "end_on": "2027-09", "review_on": "2026-09",
        "place": "Nairobi", "parties": "lyon-fr | signatory\nNairobi | signatory",
        "documents": "Agreement text | https://example.org/heat.pdf",
        "followups": "2025-03 | First exchange of heat maps | open", "tie": "",
        "outcomes": "", "source": "Council decision 2024/212", "url": "", "licence": "", "as_of": "2024-09"}


def post_new(c: TestClient, **changes):
    token = csrf_of(c.get("/engagements/new").text)
    return c.post("/engagements/new", data={**GOOD, **changes, "csrf_token": token}, follow_redirects=False)


def test_an_editor_adds_an_engagement_then_sees_it_listed(app, editor):
    before = store_state(app)[0]
    r = post_new(editor)
    assert r.status_code == 303, field_error(r.text, "_form") or text(r.text)[:800]
    where = r.headers["location"]
    assert where.startswith("/engagements/agreement-2024-09-17-cooperation-agreement-on-urban-heat-")
    assert where.endswith("?done=engagement")
    key = where.split("/engagements/")[1].split("?")[0]
    page = editor.get(where).text
    assert "The engagement was saved and aligned" in page and "First exchange of heat maps" in page
    assert store_state(app)[0] == before + 1
    listed = editor.get("/engagements?q=urban+heat").text
    assert listed_keys(listed) == [key]
    e = get_engagement(app.state.obs.store, key)
    assert {(p["id"], p["role"]) for p in e["parties"]} == {("lyon-fr", "signatory"), ("nairobi-ke", "signatory")}
    assert e["provenance"]["source"] == "Council decision 2024/212" and e["alignments"]
    log = accounts.audit_log(app.state.obs.store, limit=5, user=EDITOR[0])
    row = next(x for x in log if x["action"] == "engagement.add")
    assert row["channel"] == "web" and row["target"] == key and row["detail"]["created"]["engagements"] == 1


@pytest.mark.parametrize("changes, field, words", [
    ({"title": ""}, "title", "give the engagement a title"),
    ({"kind": "two words"}, "kind", "one lower-case word"),
    ({"parties": "lyon-fr\nNowhereville-on-Sea"}, "parties", "line 2"),
    ({"parties": "lyon-fr | boss"}, "parties", "unknown role 'boss'"),
    ({"end_on": "2020"}, "end_on", "before"),                   # the library's words: "ends (2020) before ..."
    ({"start_on": "2024-02-31"}, "start_on", "2024-02-31"),
    ({"source": ""}, "source", "say where this is documented"),
    ({"documents": "Text | ftp://x"}, "documents", "not a web address"),
    ({"followups": "2025-13 | Later"}, "followups", "line 1"),
    ({"tie": "establishes twinned_with", "parties": "lyon-fr\nnairobi-ke\nbamako-ml"}, "tie", "exactly two parties"),
])
def test_a_wrong_field_is_named_and_the_store_is_unchanged(app, editor, changes, field, words):
    before = store_state(app)
    r = post_new(editor, **changes)
    assert r.status_code == 422, r.headers.get("location")
    assert words in field_error(r.text, field), (field_error(r.text, field), text(r.text)[:600])
    assert 'id="form-errors"' in r.text
    assert store_state(app) == before
    # what was typed comes back
    assert GOOD["text"] in unescape(r.text)


def test_several_wrong_fields_are_named_at_once(editor):
    r = post_new(editor, title="", source="", parties="Nowhereville-on-Sea", review_on="next year")
    assert r.status_code == 422
    for name in ("title", "source", "parties", "review_on"):
        assert field_error(r.text, name), name


def test_a_form_without_its_csrf_token_is_refused(app, editor):
    before = store_state(app)
    r = editor.post("/engagements/new", data=GOOD, follow_redirects=False)
    assert r.status_code == 403 and "expired or did not come from this site" in text(r.text)
    assert store_state(app) == before


def test_an_editor_edits_then_deletes_an_engagement(app, editor):
    store = app.state.obs.store
    r = post_new(editor, title="Memorandum on school exchanges", text="Pupils of both cities exchange.",
                 signed_on="2023-04", start_on="", end_on="", review_on="", followups="", documents="")
    assert r.status_code == 303
    key = r.headers["location"].split("/engagements/")[1].split("?")[0]
    form = editor.get(f"/engagements/{key}/edit").text
    assert 'value="Memorandum on school exchanges"' in form and "lyon-fr | signatory" in form
    assert 'value="Council decision 2024/212"' in form
    values = {"kind": "agreement", "title": "Memorandum on school and university exchanges",
              "text": "Pupils and students of both cities exchange.", "signed_on": "2023-04", "status": "completed",
              "parties": "lyon-fr | signatory\nnairobi-ke | signatory", "source": "Council decision 2024/212",
              "csrf_token": csrf_of(form)}
    r = editor.post(f"/engagements/{key}/edit", data={**values, "end_on": "2022"}, follow_redirects=False)
    assert r.status_code == 422
    assert "2022" in field_error(r.text, "end_on") and "before" in field_error(r.text, "end_on")
    assert get_engagement(store, key)["title"] == "Memorandum on school exchanges"
    r = editor.post(f"/engagements/{key}/edit", data=values, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/engagements/{key}?")   # same key
    e = get_engagement(store, key)
    assert e["title"] == "Memorandum on school and university exchanges" and e["status"] == "completed"
    # delete: a confirmation page, then the post
    confirm = editor.get(f"/engagements/{key}/delete").text
    assert "Delete “Memorandum on school and university exchanges”?" in unescape(confirm)
    assert editor.post(f"/engagements/{key}/delete", data={}, follow_redirects=False).status_code == 403
    r = editor.post(f"/engagements/{key}/delete", data={"csrf_token": csrf_of(confirm)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/engagements?done=deleted"
    assert list_engagements(store, q=key)["total"] == 0
    assert editor.get(f"/engagements/{key}").status_code == 404
    actions = [(x["action"], x["channel"]) for x in accounts.audit_log(store, limit=4, user=EDITOR[0])]
    assert actions[:2] == [("engagement.delete", "web"), ("engagement.edit", "web")]


def test_an_agreement_that_establishes_a_twinning_links_the_tie(app, editor):
    r = post_new(editor, title="Twinning charter of Lyon and Bamako", parties="lyon-fr\nbamako-ml",
                 tie="establishes twinned_with", signed_on="2024-11-02", start_on="", end_on="", review_on="")
    assert r.status_code == 303, text(r.text)[:600]
    html = editor.get(r.headers["location"]).text
    ties = html.split('id="h-ties"')[1].split("</section>")[0]
    assert "establishes · twinning" in text(ties) and "/actors/bamako-ml" in ties


def test_read_only_has_no_forms(home):
    a = create_app(**app_args(home[0]), secret="test-secret-read-only", read_only=True)
    try:
        with TestClient(a) as c:
            assert c.get("/engagements/new").status_code == 404
            assert c.post(f"/engagements/{MOBILITY}/delete").status_code in (404, 405)
            html = c.get(f"/engagements/{MOBILITY}").text
            assert "Edit this engagement" not in html
            assert c.get("/engagements").status_code == 200
    finally:
        a.state.obs.close()


def test_columns_by_year_span_the_empty_years():
    from citydiplomacy.web.charts import columns

    ch = columns({"2001": 2, "2004": 4, "undated": 7}, width=100, height=50, pad=10)
    assert [b["year"] for b in ch["bars"]] == [2001, 2004] and ch["top"] == 4
    assert ch["bars"][1]["h"] == 30 and ch["bars"][0]["h"] == 15 and ch["bars"][1]["y"] == 10
    assert ch["bars"][1]["x"] > ch["bars"][0]["x"] + 2 * ch["bars"][0]["w"]      # 2002 and 2003 left empty
    assert [t["year"] for t in ch["ticks"]] == [2001, 2002, 2003, 2004]
    assert len(columns({str(y): 1 for y in range(1900, 2025)})["ticks"]) <= 8
    assert columns({"undated": 3}) is None and columns({}) is None


def test_the_docs_say_what_the_pages_do():
    import inspect

    from citydiplomacy.engage.summary import activity_if_any

    docs = " ".join((Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8").split())
    section = docs.split("### The engagement register")[1].split("### ")[0]
    assert f"{engage_pages.PAGE_SIZE} at a time" in section
    years = inspect.signature(activity_if_any).parameters["dormant_years"].default
    assert f"in the last {['zero', 'one', 'two', 'three', 'four', 'five', 'six'][years]} years" in section
    for words in ("`engagement.add`", "channel `web`", "`/engagements?lang=fr`", "?partner=barcelona-es",
                  "`/engagements/due`", "*Also open follow-ups already late*"):
        assert words in docs, words
