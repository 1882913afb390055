"""Importers: results, atomicity, idempotence, history, review round-trip, bad input."""

import csv
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from citydiplomacy.errors import CitydipError, ValidationError
from citydiplomacy.ingest import importers
from citydiplomacy.store import schema

DATA = Path(__file__).parent / "data"


def snapshot(obs):
    """Every row of the data tables (run and provenance bookkeeping aside)."""
    out = {}
    with obs.store.connect() as conn:
        for t in (schema.actors, schema.aliases, schema.ties, schema.observations):
            cols = [c for c in t.c if c.name not in ("id", "provenance_id")]
            out[t.name] = sorted(tuple(map(str, r)) for r in conn.execute(select(*cols)))
    return out


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


TWINS = [["Munich", "Germany", "Kraków", "Poland"],           # new tie
         ["Muenchen", "Deutschland", "Edinburgh", "Scotland"],  # already there
         ["Neustadt", "Germany", "Springfield", "United States"],   # both ambiguous
         ["Barcelona", "Spain", "Atlantis", "Narnia"]]          # unknown country


def test_importers_are_registered():
    assert {"twinning", "table", "wikidata", "datapackage", "review"} <= set(importers())


def test_twinning_import_report_dry_run_apply_and_idempotence(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], TWINS)
    before = snapshot(work)
    dry = work.import_("twinning", f, dry_run=True, licence="CC0 1.0")
    assert snapshot(work) == before                       # a dry run writes nothing
    assert dry.rows_read == 4 and dry.created.get("ties") == 1 and dry.unchanged.get("ties") == 1
    kinds = {(p.row, p.field): p.kind for p in dry.problems}
    assert kinds[(4, "city2")] == "ambiguous"                 # Springfield, US: 21 places
    assert kinds[(5, "city2")] == "unresolved"
    amb = next(p for p in dry.problems if p.value == "Springfield")
    assert amb.candidates and amb.file == str(f)
    # rows 2 and 3 resolve on both sides; row 4 has two ambiguous names, row 5 an unresolved one
    assert dry.rows_resolved == 2 and dry.as_dict()["rows_resolved"] == 2

    real = work.import_("twinning", f, licence="CC0 1.0")
    assert real.created == dry.created and real.changed
    ties = {t["other"] for t in work.ties("munich-de", type="twinned_with")}
    assert "krakow-pl" in ties
    after = snapshot(work)
    again = work.import_("twinning", f, licence="CC0 1.0")
    assert snapshot(work) == after and not again.changed    # idempotent
    assert again.unchanged.get("ties") == 2


def test_new_version_of_a_source_ends_dropped_ties_and_keeps_history(work, tmp_path):
    v1 = write_csv(tmp_path / "v1.csv", ["city1", "country1", "city2", "country2"],
                   [["Munich", "Germany", "Kraków", "Poland"], ["Lyon", "France", "Turin", "Italy"]])
    v2 = write_csv(tmp_path / "v2.csv", ["city1", "country1", "city2", "country2"],
                   [["Lyon", "France", "Turin", "Italy"]])
    work.import_("twinning", v1, source_name="Lyon twinning register", as_of="2020")
    rep = work.import_("twinning", v2, source_name="Lyon twinning register", as_of="2024")
    assert rep.ended == 1
    t = next(t for t in work.ties("munich-de", type="twinned_with") if t["other"] == "krakow-pl")
    assert (t["status"], t["until"]) == ("ended", "2024")
    assert next(t for t in work.ties("lyon-fr", type="twinned_with") if t["other"] == "turin-it")["status"] == "active"


def test_review_round_trip(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Lyon", "France", "Springfield", "United States"]])
    review = tmp_path / "review.csv"
    rep = work.import_("twinning", f, review=str(review))
    assert rep.review_file == str(review) and not rep.created
    rows = list(csv.DictReader(review.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["field"] == "city2" and "springfield-us-4250542" in rows[0]["candidates"]
    rows[0]["choice"] = "springfield-us-4250542"          # Springfield, Illinois
    with review.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    done = work.import_("review", review)
    assert done.created.get("ties") == 1
    assert "springfield-us-4250542" in {t["other"] for t in work.ties("lyon-fr", type="twinned_with")}
    assert work.import_("review", review).created == {}   # feeding it twice changes nothing


def _fill(review, choices):
    """Write ``choices`` ({(row, field): choice}) into the review file's 'choice' column."""
    rows = list(csv.DictReader(review.open(encoding="utf-8")))
    for r in rows:
        r["choice"] = choices.get((r["row"], r["field"]), r["choice"])
    with review.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


REVIEWED = [["Munich", "Germany", "Kraków", "Poland"],               # clean: a new tie
            ["Lyon", "France", "Milan", "Italy"],                     # clean: already there
            ["Lyon", "France", "Springfield", "United States"],      # unsure: to review
            ["Seville", "Spain", "Springfield", "United States"]]    # unsure: left without a choice


def test_review_of_a_dry_run_writes_the_clean_rows_with_the_reviewed_ones(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], REVIEWED)
    review = tmp_path / "review.csv"
    before = snapshot(work)
    dry = work.import_("twinning", f, dry_run=True, review=str(review), source_name="Twins 2026")
    assert snapshot(work) == before
    assert any("will write the rows that resolved cleanly" in n for n in dry.notes)
    _fill(review, {("4", "city2"): "springfield-us-4250542"})
    done = work.import_("review", review)
    assert done.created == {"ties": 2}                  # Munich–Kraków (clean) and Lyon–Springfield (reviewed)
    assert done.unchanged == {"ties": 1}                # Lyon–Milan was there
    assert done.matched["review"] == 1
    assert [(p["row"], p["field"]) for p in done.as_dict()["problems"]] == [(5, "city2")]   # no choice: left
    assert done.notes == ["the import of twins.csv was a dry run: this writes its 2 rows that resolved cleanly "
                          "with the 1 finished here; 1 row left out (see the problems)"]
    assert "krakow-pl" in {t["other"] for t in work.ties("munich-de", type="twinned_with")}
    lyon = {t["other"]: t for t in work.ties("lyon-fr", type="twinned_with")}
    assert "springfield-us-4250542" in lyon
    assert lyon["springfield-us-4250542"]["provenance"]["source"] == "Twins 2026"     # the import's own source
    after = snapshot(work)
    again = work.import_("review", review)             # twice: nothing new
    assert snapshot(work) == after and not again.changed


def test_review_of_an_applied_import_writes_the_reviewed_rows_and_says_so(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], REVIEWED)
    review = tmp_path / "review.csv"
    applied = work.import_("twinning", f, review=str(review))
    assert applied.created == {"ties": 1} and not applied.notes
    _fill(review, {("4", "city2"): "springfield-us-4250542", ("5", "city2"): "skip"})
    done = work.import_("review", review)
    assert done.created == {"ties": 1} and not done.unchanged
    assert done.notes[0].startswith("the import of twins.csv was applied")


def test_a_bad_review_file_writes_nothing_and_names_the_row_and_field(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], REVIEWED)
    review = tmp_path / "review.csv"
    work.import_("twinning", f, dry_run=True, review=str(review))
    before = snapshot(work)
    _fill(review, {("4", "city2"): "springfeld-us"})                         # a typo
    with pytest.raises(ValidationError) as e:
        work.import_("review", review)
    assert (e.value.file, e.value.row, e.value.field) == (str(review), 2, "choice")
    assert "'springfeld-us' is no actor id in the store" in str(e.value) and "review.csv" in str(e.value)
    rows = _fill(review, {("4", "city2"): "springfield-us-4250542"})
    rows[1]["context"] = rows[1]["context"][:-5]                                # a context cut short
    with review.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(ValidationError) as e:
        work.import_("review", review)
    assert (e.value.row, e.value.field) == (3, "context")
    _fill(review, {})
    rows[1]["context"] = rows[0]["context"]
    with review.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    f.write_text(f.read_text(encoding="utf-8") + "Lyon,France,Porto,Portugal\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:                                   # the list changed since
        work.import_("review", review)
    assert e.value.field == "file" and "has changed since its dry run" in str(e.value)
    f.unlink()
    with pytest.raises(ValidationError) as e:
        work.import_("review", review)
    assert e.value.field == "file" and "is not there any more" in str(e.value)
    with pytest.raises(ValidationError) as e:                                   # the web: only its uploads
        work.import_("review", review, within=str(tmp_path / "uploads"))
    assert e.value.field == "file" and "not one of your uploads" in str(e.value)
    assert snapshot(work) == before


def test_small_town_named_by_an_import_is_added_from_geonames(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Lyon", "France", "Zams", "Austria"]])
    with pytest.raises(Exception):
        work.get("zams-at")
    rep = work.import_("twinning", f)
    assert rep.created == {"actors": 1, "ties": 1}
    town = work.get("zams-at")
    assert town["geonames_id"] == 2760749 and town["provenance"]["licence"] == "CC BY 4.0"
    assert [t["other"] for t in work.ties("zams-at", type="located_in")] == ["aut"]


def test_counties_and_districts_named_by_an_import_become_actors_once(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Lyon", "France", "Honolulu County", "United States"],
                   ["Lyon", "France", "Prague 22", "Czech Republic"],
                   ["Turin", "Italy", "Prague 22 (Prague)", "Czech Republic"]])
    rep = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert rep.created == {"actors": 2, "ties": 3}
    assert rep.matched.get("subdivision") == 1 and rep.matched.get("new_district") == 2
    county = next(t["other"] for t in work.ties("lyon-fr", type="twinned_with") if "honolulu" in t["other"])
    a = work.get(county)
    assert a["kind"] == "region" and a["attrs"]["subdivision_code"] == "US-FIPS-15003"
    assert [t["other"] for t in work.ties(county, type="located_in")] == ["usa"]
    district = next(t["other"] for t in work.ties("turin-it", type="twinned_with") if "prague" in t["other"])
    d = work.get(district)
    assert d["kind"] == "city" and d["attrs"]["district_of"] == "prague-cz"
    prague = work.get("prague-cz")                               # placed at its city, and says so
    assert (d["lat"], d["lon"]) == (prague["lat"], prague["lon"]) and d["attrs"]["location_basis"] == "parent_city"
    assert a["lat"] is not None and a["attrs"]["location_basis"] in ("centroid", "namesake_town")
    assert d["provenance"]["source"] == "test list"            # named by the list, not a gazetteer
    assert {t["other"] for t in work.ties(district, type="located_in")} == {"prague-cz", "cze"}
    before = snapshot(work)
    again = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert snapshot(work) == before and not again.changed      # found again, not made twice


def test_a_municipality_only_the_supplement_lists_becomes_an_actor_once(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Lyon", "France", "Danyang", "South Korea"]])
    rep = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert rep.matched.get("supplement") == 1 and rep.created == {"actors": 1, "ties": 1}
    town = next(t["other"] for t in work.ties("lyon-fr", type="twinned_with") if "danyang" in t["other"])
    a = work.get(town)
    assert a["kind"] == "city" and a["name"] == "Danyang-gun" and a["lat"] and a["population"] is None
    assert a["attrs"]["supplement_id"] and a["provenance"]["licence"] == "ODbL 1.0"
    assert [t["other"] for t in work.ties(town, type="located_in")] == ["kor"]
    before = snapshot(work)
    again = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert snapshot(work) == before and not again.changed      # the store's actor now, not a new one


def test_a_french_commune_and_a_german_district_become_actors_with_their_lists(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Turin", "Italy", "Sèvremoine", "France"],
                   ["Turin", "Italy", "Olpe (district)", "Germany"]])
    rep = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert rep.matched.get("supplement") == 1 and rep.matched.get("subdivision") == 1
    others = {t["other"] for t in work.ties("turin-it", type="twinned_with")}
    commune = work.get(next(o for o in others if "sevremoine" in o))
    assert commune["kind"] == "city" and commune["population"] == 25797
    # located now (docs/data.md, "Every place on the map"): the chef-lieu or a centroid, with its basis
    assert commune["lat"] is not None and commune["attrs"]["location_basis"] in ("seat", "centroid")
    assert commune["attrs"]["insee_code"] == "49301" and commune["provenance"]["licence"] == "Licence Ouverte 2.0"
    kreis = work.get(next(o for o in others if "olpe" in o and o != "olpe-de"))
    assert kreis["kind"] == "region" and kreis["attrs"]["subdivision_code"] == "DE-AGS-05966"
    assert kreis["population"] == 134775 and kreis["provenance"]["licence"] == "dl-de/by-2-0"
    before = snapshot(work)
    again = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert snapshot(work) == before and not again.changed


def test_an_english_district_becomes_a_region_with_its_county(work, tmp_path):
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"],
                  [["Lyon", "France", "Erewash", "England"],
                   ["Turin", "Italy", "Erewash District", "England, United Kingdom"]])
    rep = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert rep.matched.get("subdivision") == 2 and rep.created == {"actors": 1, "ties": 2}
    # (a district no list of the default data names: Uttlesford, used before, is now in the
    # store as a council that declared a climate emergency)
    district = next(t["other"] for t in work.ties("lyon-fr", type="twinned_with") if "erewash" in t["other"])
    a = work.get(district)
    assert a["kind"] == "region" and a["attrs"]["subdivision_code"] == "GSS-E07000036"
    assert (a["attrs"]["county"], a["attrs"]["county_code"]) == ("Derbyshire", "GB-DBY")
    assert a["provenance"]["licence"] == "OGL-UK-3.0" and a["provenance"]["source"].startswith("ONS ")
    assert [t["other"] for t in work.ties("turin-it", type="twinned_with") if "erewash" in t["other"]] == [district]
    before = snapshot(work)
    again = work.import_("twinning", f, source_name="test list", licence="CC0 1.0")
    assert snapshot(work) == before and not again.changed


def test_failure_mid_import_leaves_the_store_unchanged(work, tmp_path, monkeypatch):
    from citydiplomacy.ingest import apply

    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], TWINS[:2])
    before = snapshot(work)
    original = apply._Writer.insert

    def write_then_fail(self, bulk):
        original(self, bulk)
        if bulk.table.name == "ties" and bulk.rows:
            raise RuntimeError("disk full (simulated) after the ties were written")

    monkeypatch.setattr(apply._Writer, "insert", write_then_fail)
    with pytest.raises(RuntimeError):
        work.import_("twinning", f)
    assert snapshot(work) == before


def test_killed_import_leaves_the_store_unchanged(work, tmp_path):
    """SIGKILL in the middle of the write transaction: SQLite (or PostgreSQL, whose
    server sees the connection drop) rolls it back."""
    f = write_csv(tmp_path / "twins.csv", ["city1", "country1", "city2", "country2"], TWINS[:2])
    before = snapshot(work)
    script = f"""
import os, signal, citydiplomacy
from citydiplomacy.ingest import apply
original = apply._Writer.insert
def write_then_die(self, bulk):
    original(self, bulk)
    if bulk.table.name == "ties" and bulk.rows:
        os.kill(os.getpid(), signal.SIGKILL)
apply._Writer.insert = write_then_die
obs = citydiplomacy.open(path={str(work.store.path or work.store.url)!r}, build=False)
obs.import_("twinning", {str(f)!r})
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert proc.returncode == -9
    assert snapshot(work) == before


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes("city1,country1,city2,country2\nMünchen,Deutschland,Köln,Deutschland\n"
                             .encode("latin-1")), "not valid utf-8"),
    (lambda p: p.write_text("town,nation\nLyon,France\n"), "missing columns 'city1'"),
    (lambda p: p.write_text(""), "the file is empty"),
    (lambda p: p.write_bytes(b"PK\x03\x04\x00\x00binary\x00\x01\x02" * 100), "binary data"),
    (lambda p: p.write_text("city1,country1,city2,country2\n"), "header but no rows"),
    (lambda p: p.write_text(",".join(f"c{i}" for i in range(1000)) + "\n" + ",".join("x" * 1000) + "\n"),
     "the header has 1,000 columns; the limit is 500"),
])
def test_bad_files_get_a_clear_error_and_change_nothing(work, tmp_path, make, message):
    f = tmp_path / "bad.csv"
    make(f)
    before = snapshot(work)
    with pytest.raises(ValidationError, match=message) as info:
        work.import_("twinning", f)
    assert str(f) in str(info.value)
    assert snapshot(work) == before


def test_two_gigabyte_file_is_refused_before_reading(work, tmp_path):
    f = tmp_path / "huge.csv"
    with f.open("wb") as fh:
        fh.truncate(2 * 1024**3)          # a real 2 GB (sparse) file
    with pytest.raises(ValidationError, match="the file is 2 GB; the limit is 1 GB") as info:
        work.import_("twinning", f)
    assert info.value.limit == "file_bytes" and info.value.setting == "CITYDIP_LIMIT_CLI_FILE_BYTES"


def test_row_with_too_many_fields_is_rejected_with_its_row(work, tmp_path):
    f = tmp_path / "wide.csv"
    f.write_text("city1,country1,city2,country2\nLyon,France,Turin,Italy\n"
                 + ",".join(["x"] * 1000) + "\n", encoding="utf-8")
    rep = work.import_("twinning", f)
    bad = [p for p in rep.problems if p.kind == "rejected"]
    assert bad and bad[0].row == 3 and "1000 fields" in bad[0].reason


def test_member_list_table_import(work, tmp_path):
    f = write_csv(tmp_path / "members.csv", ["City", "Country"],
                  [["Lyon", "France"], ["Torino", "Italy"], ["Nowhere Town", "France"]])
    rep = work.import_("table", f, as_="ties", mapping={"source": "City", "country": "Country"},
                       fixed={"target": "energy-cities", "type": "member_of"}, licence="facts")
    assert rep.created.get("ties") == 2
    assert rep.counts["unresolved"] == 1
    members = {t["other"] for t in work.ties("energy-cities", type="member_of")}
    assert {"lyon-fr", "turin-it"} <= members


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_excel_and_parquet_tables(work, tmp_path, suffix):
    f = tmp_path / f"obs{suffix}"
    rows = [["Lyon", "France", 2022, 4.1], ["Turin", "Italy", 2022, 5.3]]
    header = ["city", "country", "year", "co2"]
    if suffix == ".xlsx":
        import openpyxl
        wb = openpyxl.Workbook()
        wb.active.append(header)
        for r in rows:
            wb.active.append(r)
        wb.save(f)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)}), f)
    rep = work.import_("table", f, as_="observations",
                       mapping={"actor": "city", "country": "country", "year": "year", "value": "co2"},
                       fixed={"indicator": "co2_per_capita", "unit": "t CO2e / person"})
    assert rep.created.get("observations") == 2
    again = work.import_("table", f, as_="observations",
                         mapping={"actor": "city", "country": "country", "year": "year", "value": "co2"},
                         fixed={"indicator": "co2_per_capita", "unit": "t CO2e / person"})
    assert again.unchanged.get("observations") == 2


def test_table_mapping_errors(work, tmp_path):
    f = write_csv(tmp_path / "m.csv", ["City"], [["Lyon"]])
    with pytest.raises(ValidationError, match="no actor 'c41'"):
        work.import_("table", f, mapping={"source": "City"}, fixed={"target": "c41", "type": "member_of"})
    with pytest.raises(ValidationError, match="missing column 'Town'"):
        work.import_("table", f, mapping={"source": "Town"}, fixed={"target": "c40", "type": "member_of"})
    with pytest.raises(ValidationError, match="unknown field colour"):
        work.import_("table", f, mapping={"source": "City", "colour": "x"}, fixed={"target": "c40",
                                                                                  "type": "member_of"})


def test_wikidata_twinning_from_recorded_results(work):
    rep = work.import_("wikidata", DATA / "wikidata_twinning.json")
    assert rep.matched.get("identifier", 0) >= 6        # GeoNames ids carry the match
    assert rep.counts["ambiguous"] == 1                  # the Springfield row
    assert "rome-it" in {t["other"] for t in work.ties("paris-fr", type="twinned_with")}


def test_wikidata_city_list_fills_wikidata_ids(work):
    assert work.get("barcelona-es")["wikidata"] is None
    rep = work.import_("wikidata", DATA / "wikidata_cities.json")
    assert rep.updated.get("actors") == 3
    assert work.get("Q1492")["id"] == "barcelona-es"
    assert not work.import_("wikidata", DATA / "wikidata_cities.json").changed


def test_wikidata_memberships_resolve_the_org_by_its_qid(work):
    rep = work.import_("wikidata", DATA / "wikidata_memberships.json")
    assert rep.created.get("ties") == 1
    assert any(t["other"] == "eu" for t in work.ties("munich-de", type="member_of"))


def test_wikidata_query_runs_against_an_endpoint(work):
    """The online path, against a real HTTP server on loopback serving recorded results."""
    body = (DATA / "wikidata_cities.json").read_bytes()
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen["path"] = self.path
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rep = work.import_("wikidata", query="cities", endpoint=f"http://127.0.0.1:{server.server_port}/sparql")
    finally:
        server.shutdown()
    assert "query=" in seen["path"] and rep.updated.get("actors") == 3


def test_wikidata_offline_is_a_clear_error(work):
    with pytest.raises(CitydipError, match="cannot reach the SPARQL endpoint"):
        work.import_("wikidata", query="twinning", endpoint="http://127.0.0.1:9/sparql")


def test_wikidata_bad_results_file(work, tmp_path):
    f = tmp_path / "r.json"
    f.write_text('{"rows": []}')
    with pytest.raises(ValidationError, match="not SPARQL JSON results"):
        work.import_("wikidata", f)


def test_export_then_import_into_a_fresh_store_gives_the_same_data(obs, tmp_path):
    import citydiplomacy

    first = tmp_path / "first"
    counts = obs.export(first, fmt="datapackage", country="LU")
    assert counts["actors"] > 10 and counts["ties"] > 10
    fresh = citydiplomacy.open(home=tmp_path / "fresh", build=False)
    rep = fresh.import_("datapackage", first)
    assert not rep.problems
    second = tmp_path / "second"
    fresh.export(second, fmt="datapackage")

    def table(d, name, drop=("provenance_id", "provenance_run", "run_id", "id")):
        rows = list(csv.DictReader((d / f"{name}.csv").open(encoding="utf-8")))
        keep = [c for c in rows[0] if c not in drop] if rows else []
        return sorted(tuple(r[c] for c in keep) for r in rows)

    for name in ("actors", "aliases", "ties", "frameworks", "framework_items", "framework_titles"):
        assert table(first, name) == table(second, name), name
    assert table(first, "provenance", drop=("id", "run_id")) == table(second, "provenance", drop=("id", "run_id"))
    desc = json.loads((first / "datapackage.json").read_text())
    assert {r["name"] for r in desc["resources"]} >= {"actors", "ties", "provenance"}
    fresh.close()


def test_csv_export_columns(obs, tmp_path):
    obs.export(tmp_path, fmt="csv", country="IS")
    actors_header = (tmp_path / "actors.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert actors_header[:10] == ["id", "name", "kind", "layer", "country", "lat", "lon", "population",
                                  "geonames_id", "wikidata"]
    ties_header = (tmp_path / "ties.csv").read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert ties_header[:6] == ["source", "target", "type", "since", "until", "status"]
    assert "provenance_licence" in ties_header


@pytest.mark.parametrize("fmt,file", [("json", "actors.json"), ("parquet", "ties.parquet")])
def test_json_and_parquet_export(obs, tmp_path, fmt, file):
    obs.export(tmp_path, fmt=fmt, country="IS")
    assert (tmp_path / file).stat().st_size > 100
    if fmt == "parquet":
        import pyarrow.parquet as pq
        assert "provenance_licence" in pq.read_table(tmp_path / file).column_names


def test_wikidata_organizations_fill_ids_by_exact_name(work):
    """Shape test with placeholder ids (Q999999xx): no real id is asserted offline."""
    assert work.get("c40")["wikidata"] is None
    rep = work.import_("wikidata", DATA / "wikidata_organizations.json", dry_run=True)
    assert rep.updated.get("actors") == 1 and rep.counts["unresolved"] == 1


def test_organizations_query_lists_the_store_s_unidentified_names(work):
    from citydiplomacy.ingest.wikidata import _unidentified_names, shipped_query

    names = _unidentified_names(work.store)
    assert "C40 Cities Climate Leadership Group" in names and "Barcelona" not in names
    q = shipped_query("organizations", names='"C40 Cities Climate Leadership Group"@en')
    assert "VALUES ?name" in q and "C40" in q
