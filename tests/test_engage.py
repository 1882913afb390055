"""The engagement register (citydiplomacy.engage): the model's rules, atomic and
idempotent writes by key, the ties an agreement establishes (linked both ways), the
round trip of a city's log of 500 engagements (Excel → CSV and .ics → the same
register), bad rows (nothing written), filters, what is due, an actor's activity."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from citydiplomacy import engage
from citydiplomacy.engage import io as eio
from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.store import Store, schema

from homes import copy_home
from conftest import copy_store, open_store

DATA = Path(__file__).parent / "data"
LOG = DATA / "engagements_500.xlsx"
MAP = {"key": "Reference", "kind": "Type", "title": "Title", "text": "Description", "partner": "Partner",
       "partner_country": "Partner country", "signed_on": "Signed", "start_on": "Start", "end_on": "End",
       "review_on": "Review", "place": "Place", "status": "Status", "documents": "Documents",
       "followups": "Follow-ups", "tie": "Tie"}
TODAY = "2026-12-06"


def _copy(built_home: Path, dest: Path) -> Store:
    """A copy of the built store with an empty register: a city office's own log, without
    the shipped declarations and events (tests/test_engage_data.py covers those)."""
    copy_store(built_home, dest)
    store = open_store(dest)
    with store.transaction() as conn:
        for t in (schema.engagement_ties, schema.engagement_alignments, schema.engagement_followups,
                  schema.engagement_documents, schema.engagement_parties, schema.engagements):
            conn.execute(t.delete())
    return store


def counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (schema.engagements, schema.engagement_parties, schema.engagement_documents,
                          schema.engagement_followups, schema.engagement_alignments, schema.engagement_ties,
                          schema.ties, schema.import_runs)}


@pytest.fixture(scope="module")
def logged(barcelona_log_home, tmp_path_factory):
    """A copy of the built store holding Barcelona's log of 500 engagements (light alignment),
    imported by ``_copy`` and ``eio.import_engagements`` once per run (conftest.py)."""
    home, report = barcelona_log_home
    store = open_store(copy_home(home, tmp_path_factory.mktemp("engage-log")))
    yield store, report
    store.close()


@pytest.fixture
def store(built_home, tmp_path):
    s = _copy(built_home, tmp_path / "s")
    yield s
    s.close()


# -- the model -----------------------------------------------------------------------------------

@pytest.mark.parametrize("data, field, words", [
    ({"kind": "agreement", "title": "x", "start_on": "2020-05", "end_on": "2019"}, "end_on", "before it starts"),
    ({"kind": "agreement", "title": "x", "signed_on": "2021-02-30"}, "signed_on", "February 2021 has 28 days"),
    ({"kind": "Big Meeting", "title": "x"}, "kind", "lower-case word"),
    ({"kind": "visit", "title": "x", "status": "finished"}, "status", "planned, active, completed"),
    ({"kind": "visit", "title": "x", "parties": [{"actor": "a", "role": "boss"}]}, "parties.0.role", "signatory"),
    ({"kind": "agreement", "title": "x", "tie": "creates twinned_with"}, "tie", "establishes"),
    ({"kind": "agreement", "title": "x", "tie": "establishes twinned_with",
      "parties": [{"actor": "a"}]}, None, "exactly two parties"),
    ({"kind": "visit", "title": "", }, "title", "at least 1"),
    ({"kind": "visit", "title": "x", "key": "due"}, "key", "names a page of the register"),
    ({"kind": "visit", "title": "x", "key": "mou-lyon/edit"}, "key", "names a page of the register"),
])
def test_model_rejects_with_the_field(data, field, words):
    with pytest.raises(ValidationError) as exc:
        engage.Engagement.parse(data)
    assert words in str(exc.value)
    if field:
        assert exc.value.field == field


def test_model_accepts_a_users_own_kind_and_derives_a_stable_key():
    a = engage.Engagement.parse({"kind": "grant", "title": "Urban Innovation Grant", "start_on": 2021,
                                 "parties": [{"actor": "lyon-fr"}, {"actor": "barcelona-es"}]})
    b = engage.Engagement.parse({"kind": "grant", "title": "Urban Innovation Grant", "start_on": "2021",
                                 "parties": [{"actor": "barcelona-es"}, {"actor": "lyon-fr"}]})
    assert a.kind == "grant" and a.key == b.key and a.key.startswith("grant-2021-urban-innovation-grant-")
    c = engage.Engagement.parse({"kind": "grant", "title": "Urban Innovation Grant", "start_on": "2022",
                                 "parties": [{"actor": "barcelona-es"}, {"actor": "lyon-fr"}]})
    assert c.key != a.key


# -- one at a time, ties both ways -----------------------------------------------------------------

def test_add_is_idempotent_aligns_and_links_the_tie_both_ways(store):
    data = {"kind": "agreement", "title": "Memorandum on urban mobility and clean air",
            "text": "Cooperation on public transport, cycling lanes and air quality.", "signed_on": "2019-05-08",
            "parties": ["Barcelona", "Lyon"], "review_on": "2027-01", "tie": "establishes partner_of"}
    rep = engage.add_engagement(store, data, source="Council decision 2019/114", mode="light")
    assert rep.created["engagements"] == 1 and rep.created["alignments"] > 0
    key = rep.actor
    again = engage.add_engagement(store, data, source="Council decision 2019/114", mode="light")
    assert again.unchanged == {"engagements": 1} and not again.changed
    e = engage.get_engagement(store, key)
    assert {p["id"] for p in e["parties"]} == {"barcelona-es", "lyon-fr"}
    assert all(p["role"] == "signatory" for p in e["parties"])
    assert 11 in e["sdgs"] and "sustainability" in e["axes"]           # aligned, axes filled from it
    assert e["ties"] and e["ties"][0]["effect"] == "establishes"
    tie_id = e["ties"][0]["id"]
    with store.connect() as conn:
        tie = conn.execute(select(schema.ties).where(schema.ties.c.id == tie_id)).one()
    assert (tie.source, tie.target, tie.type, tie.since, tie.status) == \
        ("barcelona-es", "lyon-fr", "partner_of", "2019-05-08", "active")
    assert tie.attrs["engagements"] == [key]
    # a second agreement ends it: the same tie, ended, naming both
    end = engage.add_engagement(store, {"kind": "agreement", "title": "End of the mobility memorandum",
                                        "signed_on": "2024-03-01", "parties": ["barcelona-es", "lyon-fr"],
                                        "tie": "ends partner_of", "status": "ended"}, source="Decision 2024/7",
                                mode="light")
    with store.connect() as conn:
        tie = conn.execute(select(schema.ties).where(schema.ties.c.id == tie_id)).one()
    assert tie.status == "ended" and tie.until == "2024-03-01"
    assert sorted(tie.attrs["engagements"]) == sorted([key, end.actor])
    # deleting an engagement keeps the tie, without its key
    engage.delete_engagement(store, end.actor)
    with store.connect() as conn:
        tie = conn.execute(select(schema.ties).where(schema.ties.c.id == tie_id)).one()
    assert tie.attrs["engagements"] == [key]
    with pytest.raises(NotFoundError):
        engage.get_engagement(store, end.actor)


def test_add_names_an_unknown_party_with_suggestions(store):
    with pytest.raises(NotFoundError) as exc:
        engage.add_engagement(store, {"kind": "visit", "title": "x", "parties": ["Barcelonna"]}, source="s")
    assert "Barcelonna" in str(exc.value) and any("Barcelona" in s for s in exc.value.suggestions)


# -- the round trip of a city's log ----------------------------------------------------------------

def _register(store: Store) -> list[dict]:
    """The register as data, without what a write adds (provenance, time)."""
    out = []
    for e in engage.list_engagements(store, limit=None, sort="title")["items"]:
        full = engage.get_engagement(store, e["key"])
        for k in ("provenance", "updated_at"):
            full.pop(k)
        full["ties"] = [{k: v for k, v in t.items() if k != "id"} for t in full["ties"]]
        out.append(full)
    return out


def test_round_trip_excel_csv_ics(logged, built_home, tmp_path):
    store, report = logged
    assert report.rows_read == 500 and report.created["engagements"] == 500 and not report.problems
    assert report.created["alignments"] > 500
    n = counts(store)
    assert n["engagements"] == 500 and n["engagement_parties"] == 1000 and n["engagement_ties"] > 0
    # the same file again: nothing changes
    again = eio.import_engagements(store, LOG, mapping=MAP, actor="Barcelona", mode="light")
    assert again.unchanged == {"engagements": 500} and not again.changed
    assert counts(store) == {**n, "import_runs": n["import_runs"]}
    csv_path, ics_path = tmp_path / "log.csv", tmp_path / "log.ics"
    text = eio.export_csv(store, csv_path)
    eio.export_ics(store, ics_path)
    # into the same store: unchanged; into an empty copy: the same register
    assert eio.import_engagements(store, csv_path, mode="light").unchanged == {"engagements": 500}
    assert eio.import_engagements(store, ics_path, mode="light").unchanged == {"engagements": 500}
    want = _register(store)
    for path in (csv_path, ics_path):
        other = _copy(built_home, tmp_path / path.suffix[1:])
        rep = eio.import_engagements(other, path, mode="light")
        assert rep.created["engagements"] == 500
        assert _register(other) == want
        assert eio.export_csv(other) == text
        other.close()


def test_ics_export_has_review_and_followup_events_with_stable_uids(logged):
    store, _ = logged
    first, second = eio.export_ics(store), eio.export_ics(store)
    assert first == second
    assert "UID:BCN-0001@citydiplomacy" in first and "UID:BCN-0001/review@citydiplomacy" in first
    assert "/followup-" in first and "CATEGORIES:review" in first
    assert first.count("BEGIN:VEVENT") > 500


def test_ics_from_a_calendar_application(store, tmp_path):
    ics = tmp_path / "cal.ics"
    ics.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\n"
                   "BEGIN:VEVENT\r\nUID:abc-123@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
                   "SUMMARY:World Urban Forum\r\nDESCRIPTION:Sessions on housing\\, and climate.\r\n"
                   "DTSTART;VALUE=DATE:20240704\r\nDTEND;VALUE=DATE:20240709\r\nLOCATION:Cairo\r\n"
                   "END:VEVENT\r\n"
                   "BEGIN:VEVENT\r\nUID:def-456@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
                   "SUMMARY:Signing with Lyon\r\nCATEGORIES:Agreement,Mobility\r\n"
                   "DTSTART:20250110T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    rep = eio.import_engagements(store, ics, actor="Barcelona", mode="light")
    assert rep.created["engagements"] == 2
    wuf = engage.get_engagement(store, "abc-123@example.org")
    assert (wuf["kind"], wuf["start_on"], wuf["end_on"], wuf["place"], wuf["status"]) == \
        ("event", "2024-07-04", "2024-07-08", "Cairo", "completed")
    assert wuf["text"] == "Sessions on housing, and climate." and wuf["parties"][0]["id"] == "barcelona-es"
    assert engage.get_engagement(store, "def-456@example.org")["kind"] == "agreement"


# -- bad rows: every problem, nothing written --------------------------------------------------------

def test_bad_rows_are_all_reported_and_nothing_is_written(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,kind,title,start_on,end_on,parties\n"
                   "a1,visit,Good visit,2020-01-01,,barcelona-es; lyon-fr\n"
                   "a2,visit,Malformed,2020-13-01,,barcelona-es\n"
                   "a3,agreement,Unknown partner,2020,,barcelona-es; Atlantisville\n"
                   "a4,project,Backwards,2021-05,2020,barcelona-es\n", encoding="utf-8")
    before = counts(store)
    with pytest.raises(engage.ImportRejected) as exc:
        eio.import_engagements(store, bad, mode="light")
    probs = {p.row: p for p in exc.value.report.problems}
    assert set(probs) == {3, 4, 5}
    assert probs[3].field == "start_on" and "month 13" in probs[3].reason
    assert probs[4].field == "parties" and probs[4].value == "Atlantisville"
    assert probs[5].field == "end_on" and "before it starts" in probs[5].reason
    assert "3 rows could not be read, nothing was written" in str(exc.value) and "bad.csv" in str(exc.value)
    assert counts(store) == before


def test_a_missing_mapped_column_names_the_file(store, tmp_path):
    f = tmp_path / "log.csv"
    f.write_text("Subject,Type\nx,visit\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        eio.import_engagements(store, f, mapping={"title": "Subject", "kind": "Type", "partner": "City"})
    assert "missing column 'City'" in str(exc.value) and "log.csv" in str(exc.value)
    with pytest.raises(ValidationError, match="unknown field colour"):
        eio.import_engagements(store, f, mapping={"colour": "Type"})


# -- reading the register ----------------------------------------------------------------------------

def test_list_filters_sort_and_total(logged):
    store, _ = logged
    everything = engage.list_engagements(store, limit=10)
    assert everything["total"] == 500 and len(everything["items"]) == 10
    agreements = engage.list_engagements(store, kind="agreement", limit=None)
    assert agreements["total"] == len(agreements["items"]) > 0
    assert all(e["kind"] == "agreement" for e in agreements["items"])
    french = engage.list_engagements(store, actor="barcelona-es", country="FRA", limit=None)
    assert french["total"] > 0
    assert all(any(p["country"] == "FRA" for p in e["parties"]) for e in french["items"])
    pair = engage.list_engagements(store, actor="barcelona-es", partner="lyon-fr", limit=None)
    assert pair["total"] > 0 and all({"barcelona-es", "lyon-fr"} <= {p["id"] for p in e["parties"]}
                                     for e in pair["items"])
    dated = engage.list_engagements(store, date_from="2020", date_to="2020", sort="date", limit=None)
    assert all((e["start_on"] or e["signed_on"])[:4] <= "2020" for e in dated["items"])
    assert all(max(filter(None, (e["end_on"], e["start_on"], e["signed_on"])))[:4] >= "2020"
               for e in dated["items"])
    dates = [e["start_on"] or e["signed_on"] for e in engage.list_engagements(store, sort="-date", limit=50)["items"]]
    assert dates == sorted(dates, reverse=True)
    assert engage.list_engagements(store, axis="digital", limit=None)["total"] > 0
    assert engage.list_engagements(store, layer="micro", status="planned", limit=None)["total"] > 0
    assert engage.list_engagements(store, q="Delegation to Cairo", limit=None)["total"] > 0
    page2 = engage.list_engagements(store, sort="title", limit=10, offset=10)
    assert [e["key"] for e in page2["items"]] == \
        [e["key"] for e in engage.list_engagements(store, sort="title", limit=20)["items"]][10:]
    with pytest.raises(ValidationError, match="unknown sort"):
        engage.list_engagements(store, sort="colour")


@pytest.mark.sqlite_only     # SQLite's EXPLAIN QUERY PLAN
def test_listing_uses_the_indexes(logged):
    """The party filter is a lookup in the parties' index, not a scan of the parties."""
    store, _ = logged
    from citydiplomacy.engage.register import E, filter_statement

    stmt = filter_statement(select(E.c.id), actor="barcelona-es", kind="agreement")
    with store.connect() as conn:
        sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = " ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_engagement_parties_actor" in plan or "sqlite_autoindex_engagement_parties" in plan
    assert "SCAN engagement_parties" not in plan


def test_due_in_90_days(logged):
    store, _ = logged
    res = engage.due(store, 90, today=TODAY)
    assert res["until"] == "2027-03-06" and res["count"] > 0
    kinds = {i["what"] for i in res["items"]}
    assert kinds == {"review", "follow-up"}
    for i in res["items"]:
        assert TODAY <= eio._first(i["due_on"]).isoformat() <= "2027-03-06"
    # the reviews are exactly the dated reviews in the window of engagements still running
    rows = eio.export_rows(store)
    want = {r["key"] for r in rows if r["review_on"] and r["status"] not in ("ended", "completed")
            and TODAY <= eio._first(r["review_on"]).isoformat() <= "2027-03-06"}
    assert {i["key"] for i in res["items"] if i["what"] == "review"} == want
    assert engage.due(store, 0, today="2030-01-01")["count"] == 0
    late = engage.due(store, 90, today=TODAY, overdue=True)
    assert late["count"] > res["count"] and any(i["overdue"] for i in late["items"])


def test_timeline_and_activity_of_a_real_city(logged):
    store, _ = logged
    tl = engage.timeline(store, "Barcelona", "Lyon")
    assert tl["actor"]["id"] == "barcelona-es" and tl["partner"]["id"] == "lyon-fr" and tl["count"] > 0
    dates = [e["date"] for e in tl["items"] if e["date"]]
    assert dates == sorted(dates)
    act = engage.activity(store, "Barcelona", dormant_years=5, today=TODAY)
    assert act["count"] == 500 and sum(act["by_kind"].values()) == 500
    assert set(act["by_year"]) >= {"2008", "2027"}
    assert act["partners"][0]["count"] >= act["partners"][-1]["count"]
    # Barcelona's twinnings with no engagement between the pair in 5 years are dormant
    assert act["dormant"] and act["ties"] >= len(act["dormant"])
    for d in act["dormant"][:20]:
        pair = engage.timeline(store, "barcelona-es", d["partner"])
        assert all(e["date"] < "2021-12-06"[:len(e["date"])] for e in pair["items"] if e["date"])
    lively = [p for p in act["partners"] if p["last"] and p["last"] >= "2022"]
    assert not {p["id"] for p in lively} & {d["partner"] for d in act["dormant"]}
