"""The engagement register's default data (``data/engagements``): the files' format and
checks, the build step on a real excerpt, and the figures of the default store (issue 18:
at least 20 declarations or pledges and 10 events, at least 3,000 city–engagement links,
every party sourced under a licence that is not non-commercial)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from citydiplomacy.dataset import engagements, states
from citydiplomacy.dataset.context import BuildContext, data_path
from citydiplomacy.dataset.engagements import party_counts
from citydiplomacy.errors import ValidationError
from citydiplomacy.model import Actor
from citydiplomacy.store import schema

SHIPPED = Path(str(data_path("engagements")))
DOCS = Path(__file__).resolve().parents[1] / "docs" / "engage-data.md"


def shipped(key: str, cities: set[str] | None = None) -> tuple[dict, list[dict[str, str]]]:
    """A shipped engagement's YAML and some of its rows, as they are in the files."""
    meta = yaml.safe_load((SHIPPED / f"{key}.yaml").read_text(encoding="utf-8"))
    with open(SHIPPED / f"{key}.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if cities is None or r["city"] in cities]
    return meta, rows


def write(folder: Path, key: str, meta: dict, rows: list[dict[str, str]] | None,
          header: list[str] = engagements.HEADER) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{key}.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    if rows is not None:
        with open(folder / f"{key}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, header, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)


@pytest.fixture
def excerpt(tmp_path) -> Path:
    """Two real engagements, cut short: a declaration and an event."""
    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris", "Seattle", "Quito"})
    write(tmp_path, "c40-fossil-fuel-free-streets", meta, rows)
    meta, rows = shipped("north-american-climate-summit-2017", {"Chicago", "Phoenix", "Montreal"})
    write(tmp_path, "north-american-climate-summit-2017", meta, rows)
    return tmp_path


# -- the files ----------------------------------------------------------------------------

def test_the_loader_reads_a_declaration_and_an_event(excerpt):
    files = {ef.key: ef for ef in engagements.read_engagements(excerpt)}
    assert set(files) == {"c40-fossil-fuel-free-streets", "north-american-climate-summit-2017"}
    decl = files["c40-fossil-fuel-free-streets"]
    assert decl.meta["kind"] == "declaration" and decl.meta["signed_on"] == "2017-10-23"
    assert [(r["city"], r["country"], r["role"], r["signed_on"]) for r in decl.rows] == [
        ("Paris", "FR", "signatory", "2017-10-23"), ("Seattle", "US", "signatory", "2017-10-23"),
        ("Quito", "EC", "signatory", "2017-10-23")]
    event = files["north-american-climate-summit-2017"]
    assert (event.meta["start_on"], event.meta["end_on"]) == ("2017-12-04", "2017-12-06")
    assert {r["city"]: r["role"] for r in event.rows} == {"Chicago": "host", "Montreal": "participant",
                                                          "Phoenix": "participant"}
    assert all(r["source_url"].startswith("https://") and r["line"] >= 2 for r in event.rows)


def test_every_shipped_file_reads_and_names_its_sources():
    files = engagements.read_engagements()
    assert len(files) >= 30
    for ef in files:
        assert ef.meta["text"].strip() and ef.meta["source"]["url"].startswith(("http://", "https://"))
        for r in ef.rows:
            assert r["source_url"].startswith(("http://", "https://")), (ef.csv_name, r["line"])
            assert r["licence"] and r["as_of"] and r["source_name"]


@pytest.mark.parametrize("field, value, message", [
    ("signed_on", "2019-13-01", r"row 3, field 'signed_on': .*months run from 01 to 12"),
    ("licence", "CC BY-NC 4.0", r"row 3, field 'licence': .*non-commercial"),
    ("role", "sponsor", r"row 3, field 'role': 'sponsor' is not one of"),
    ("country", "XX", r"row 3, field 'country': 'XX' is not an ISO 3166-1"),
    ("source_url", "", r"row 3, field 'source_url': every row names its own source"),
])
def test_a_bad_cell_names_file_row_and_field(excerpt, field, value, message):
    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris", "Seattle"})
    rows[1][field] = value
    write(excerpt, "c40-fossil-fuel-free-streets", meta, rows)
    with pytest.raises(ValidationError, match=r"file c40-fossil-fuel-free-streets\.csv, " + message):
        engagements.read_engagements(excerpt)


def test_a_missing_column_is_refused(excerpt):
    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris"})
    write(excerpt, "c40-fossil-fuel-free-streets", meta, rows,
          header=[h for h in engagements.HEADER if h != "role"])
    with pytest.raises(ValidationError, match=r"c40-fossil-fuel-free-streets\.csv, row 1: the header must be exactly"):
        engagements.read_engagements(excerpt)


@pytest.mark.parametrize("change, message", [
    ({"source": {"name": "x", "url": "https://x.org", "licence": "CC BY-NC-SA 4.0", "as_of": "2020"}},
     r"field 'source\.licence': .*non-commercial"),
    ({"signed_on": "2017-02-30"}, r"field 'signed_on': .*February 2017 has 28 days"),
    ({"kind": "rumour"}, r"field 'kind': 'rumour' is not one of declaration, pledge, event"),
    ({"text": ""}, r"field 'text': missing"),
    ({"published_parties": 12, "count_source": None}, r"field 'count_source': give the source"),
])
def test_a_bad_yaml_field_is_refused(excerpt, change, message):
    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris"})
    write(excerpt, "c40-fossil-fuel-free-streets", {**meta, **change}, rows)
    with pytest.raises(ValidationError, match=r"file c40-fossil-fuel-free-streets\.yaml, " + message):
        engagements.read_engagements(excerpt)


def test_an_event_that_ends_before_it_starts_is_refused(excerpt):
    meta, rows = shipped("north-american-climate-summit-2017", {"Chicago"})
    write(excerpt, "north-american-climate-summit-2017", {**meta, "end_on": "2017-12-01"}, rows)
    with pytest.raises(ValidationError, match=r"field 'end_on': ends \(2017-12-01\) before it starts \(2017-12-04\)"):
        engagements.read_engagements(excerpt)


def test_a_party_list_without_its_yaml_is_refused(excerpt):
    (excerpt / "stray.csv").write_text(",".join(engagements.HEADER) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"file stray\.csv: party list without its YAML file"):
        engagements.read_engagements(excerpt)


# -- the build step on a real excerpt ------------------------------------------------------

def test_the_step_resolves_rows_and_writes_parties_with_their_sources(excerpt, tmp_path):
    from citydiplomacy.store import Store

    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris", "Seattle", "Quito"})
    # a name no gazetteer holds (made up for the test): reported, not written
    rows.append({**rows[0], "city": "Qxwzt Springs"})
    write(excerpt, "c40-fossil-fuel-free-streets", meta, rows)
    store = Store(tmp_path / "store" / "citydip.sqlite")
    try:
        with store.transaction() as conn:
            run = store.start_run(conn, "test", "engagements")
            ctx = BuildContext(store=store, conn=conn, run_id=run)
            states.build(ctx)
            for aid, name in (("c40", "C40 Cities"), ("gcom", "Global Covenant of Mayors")):
                ctx.add_actors([ctx.actor_row(Actor.parse({"id": aid, "name": name, "kind": "city_network"}),
                                              ctx.provenance(engagements.provenance_from(
                                                  {"name": name, "url": "https://example.org/", "as_of": "2024"})))])
            engagements.build(ctx, excerpt)
            report = ctx.report["engagements"]
        e, p, a, pr = schema.engagements, schema.engagement_parties, schema.actors, schema.provenance
        with store.connect() as c:
            parties = c.execute(select(e.c.key, a.c.name, a.c.country, p.c.role, p.c.signed_on, p.c.attrs, pr.c.url,
                                       pr.c.licence)
                                .join(p, p.c.engagement_id == e.c.id).join(a, a.c.id == p.c.actor_id)
                                .join(pr, pr.c.id == p.c.provenance_id)).all()
            event = c.execute(select(e.c.kind, e.c.start_on, e.c.end_on, e.c.place, e.c.place_id)
                              .where(e.c.key == "north-american-climate-summit-2017")).one()
    finally:
        store.close()
    ffs = report["c40-fossil-fuel-free-streets"]
    assert (ffs["rows"], ffs["resolved"], ffs["unresolved"], ffs["parties_written"]) == (4, 3, 1, 3)
    assert ffs["unresolved_rows"][0].startswith("Qxwzt Springs (FR), line 5")
    signed = {(r.name, r.country): (r.role, r.signed_on) for r in parties if r.key == "c40-fossil-fuel-free-streets"}
    assert signed[("Paris", "FRA")] == ("signatory", "2017-10-23")
    assert signed[("Seattle", "USA")] == ("signatory", "2017-10-23")
    assert signed[("C40 Cities", None)] == ("organiser", None)
    # the name as the source writes it ("Montreal") is kept with the party
    summit = {(r.attrs or {}).get("name", r.name): r.role for r in parties
              if r.key == "north-american-climate-summit-2017"}
    assert summit["Chicago"] == "host" and summit["Phoenix"] == "participant" and summit["Montreal"] == "participant"
    assert summit["Global Covenant of Mayors"] == "organiser"
    assert all(r.url.startswith("https://") and r.licence == "facts; see url" for r in parties)
    assert event.kind == "event" and (event.start_on, event.end_on) == ("2017-12-04", "2017-12-06")
    assert event.place == "Chicago, US" and event.place_id


def test_an_unknown_organiser_stops_the_step(excerpt, tmp_path):
    from citydiplomacy.store import Store

    meta, rows = shipped("c40-fossil-fuel-free-streets", {"Paris"})
    write(excerpt, "c40-fossil-fuel-free-streets", {**meta, "organisers": ["no-such-network"]}, rows)
    store = Store(tmp_path / "s" / "citydip.sqlite")
    try:
        with pytest.raises(ValidationError, match=r"fossil-fuel-free-streets\.yaml, field 'organisers': no actor"):
            with store.transaction() as conn:
                ctx = BuildContext(store=store, conn=conn, run_id=store.start_run(conn, "test", "x"))
                engagements.build(ctx, excerpt)
        with store.connect() as c:
            assert c.execute(select(func.count()).select_from(schema.engagements)).scalar() == 0
    finally:
        store.close()


# -- the default store ---------------------------------------------------------------------

def test_the_default_store_holds_the_issues_figures(obs):
    with obs.store.connect() as conn:
        counts = party_counts(conn)
    assert counts.get("kind.declaration", 0) + counts.get("kind.pledge", 0) >= 20
    assert counts.get("kind.event", 0) >= 10
    assert counts["city_links"] >= 3000


def test_the_covenant_is_not_the_only_substantial_source(obs):
    e, p, a = schema.engagements, schema.engagement_parties, schema.actors
    with obs.store.connect() as conn:
        rows = conn.execute(select(e.c.key, e.c.kind, func.count()).select_from(
            e.join(p, p.c.engagement_id == e.c.id).join(a, a.c.id == p.c.actor_id))
            .where(a.c.kind == "city").group_by(e.c.key, e.c.kind)).all()
    other = {k: n for k, kind, n in rows if not k.startswith("covenant-")}
    assert sum(1 for k, kind, _ in rows if kind in ("declaration", "pledge") and not k.startswith("covenant-")) >= 16
    assert sum(1 for _, kind, _ in rows if kind == "event") >= 10
    assert sum(other.values()) >= 500
    # UK councils: cities and boroughs are cities, counties and districts are regions
    assert other["uk-climate-emergency-declarations"] >= 140


def test_every_party_has_a_source_with_a_licence_that_is_not_non_commercial(obs):
    p, pr = schema.engagement_parties, schema.provenance
    with obs.store.connect() as conn:
        licences = dict(conn.execute(select(pr.c.licence, func.count()).select_from(
            p.outerjoin(pr, pr.c.id == p.c.provenance_id)).group_by(pr.c.licence)).all())
    assert None not in licences
    assert not [lic for lic in licences if re.search(r"\bNC\b|non[- ]?commercial", lic, re.I)]
    assert set(licences) <= {"facts; see url", "CC BY 4.0"}


def test_the_build_reports_every_engagement(obs):
    from citydiplomacy.dataset.figures import _summary

    report = _summary(obs)["report"]["engagements"]
    assert set(report) == {ef.key for ef in engagements.read_engagements()}
    for key, rep in report.items():
        assert rep["resolved"] + rep["ambiguous"] + rep["unresolved"] == rep["rows"], key
    # the shipped lists resolve almost whole: a row left out is reported with its reason
    rows = sum(r["rows"] for k, r in report.items() if not k.startswith("covenant-"))
    resolved = sum(r["resolved"] for k, r in report.items() if not k.startswith("covenant-"))
    assert resolved >= 0.9 * rows


def test_covenant_commitments_carry_their_own_dates(obs):
    e, p = schema.engagements, schema.engagement_parties
    with obs.store.connect() as conn:
        dated = dict(conn.execute(select(e.c.key, func.count(p.c.signed_on)).join(p, p.c.engagement_id == e.c.id)
                                  .where(e.c.key.like("covenant-%")).group_by(e.c.key)).all())
        early = conn.execute(select(func.count()).select_from(p.join(e, e.c.id == p.c.engagement_id))
                             .where(e.c.key == "covenant-com-2030", p.c.signed_on < "2015")).scalar()
    assert dated["covenant-com-2020"] > 5000
    # no party holds a 2030 commitment dated before the 2030 commitment existed
    assert early == 0


def test_the_docs_table_is_the_builds(obs):
    from citydiplomacy.dataset.figures import engagements_table, find_blocks

    assert find_blocks(DOCS.read_text(encoding="utf-8"))["engagements-table"] == engagements_table(obs)
