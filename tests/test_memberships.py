"""City-network member lists: the files' format, the build step that resolves their rows
to places (namesakes, unresolved rows, statuses, dates, per-row sources), the coverage
figures, and how the CLI, the API and the web show them."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from citydiplomacy.dataset import memberships, states
from citydiplomacy.dataset.context import BuildContext, data_path
from citydiplomacy.errors import ValidationError
from citydiplomacy.membership import SOURCES_SHOWN, coverage_text, network_members
from citydiplomacy.model import Actor
from citydiplomacy.store.schema import actors, provenance, ties
from conftest import app_args, copy_store

SHIPPED = Path(str(data_path("memberships")))
DOCS = Path(__file__).resolve().parents[1] / "docs" / "data.md"


def shipped_rows(network: str, cities: set[str]) -> list[dict[str, str]]:
    """Rows of a shipped list, as they are in the file (real data, not made up)."""
    with open(SHIPPED / f"{network}.csv", encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["city"] in cities]


def write_list(folder: Path, network: str, rows: list[dict[str, str]], meta: dict | None = None) -> None:
    folder.mkdir(exist_ok=True)
    with open(folder / f"{network}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, memberships.HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    meta = meta or {"network": network, "published_members": 470, "complete": False,
                    "count_source": {"name": "Climate Mayors — Who we are", "url": "https://climatemayors.org/who-we-are/",
                                     "licence": "facts; see url", "as_of": "2023"}}
    (folder / f"{network}.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")


# -- the files ----------------------------------------------------------------------------

def test_every_shipped_list_reads_and_names_its_sources():
    lists = memberships.read_lists()
    assert {nl.network for nl in lists} >= {"climate-mayors", "100-resilient-cities", "fast-track-cities", "mufpp"}
    for nl in lists:
        for r in nl.rows:
            assert r["source_url"].startswith(("http://", "https://")), (nl.csv_name, r["line"])
            assert r["as_of"] and r["licence"] and r["source_name"]
    # each row carries its own source: the page that lists that city (one page may list a
    # whole network, as Wikipedia's section lists the OWHC's members; most lists cite several)
    several = [nl for nl in lists if len({r["source_url"] for r in nl.rows}) > 1]
    assert len(several) >= len([nl for nl in lists if nl.rows]) // 2


@pytest.mark.parametrize("change, field, words", [
    ({"country": "XX"}, "country", "not an ISO 3166-1"),
    ({"licence": "CC BY-NC 4.0"}, "licence", "non-commercial"),
    ({"status": "paused"}, "status", "suspended"),
    ({"since": "2019", "until": "2015"}, "until", "before it starts"),
    ({"source_url": ""}, "source_url", "own source"),
    ({"lat": "52.5"}, "lon", "both coordinates"),
    ({"since": "2019-02-30"}, "since", "February 2019 has 28 days"),
])
def test_a_bad_row_is_refused_naming_file_row_and_field(tmp_path, change, field, words):
    rows = shipped_rows("climate-mayors", {"Carmel", "Beverly"})
    rows[1] = {**rows[1], **change}
    write_list(tmp_path, "climate-mayors", rows)
    with pytest.raises(ValidationError) as exc:
        memberships.read_lists(tmp_path)
    msg = str(exc.value)
    assert "climate-mayors.csv" in msg and "row 3" in msg and f"field '{field}'" in msg and words in msg


def test_a_bad_header_or_a_missing_yaml_is_refused(tmp_path):
    write_list(tmp_path, "mufpp", shipped_rows("mufpp", {"Abidjan"}))
    text = (tmp_path / "mufpp.csv").read_text(encoding="utf-8").replace("admin1", "region", 1)
    (tmp_path / "mufpp.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="mufpp.csv, row 1: the header must be exactly"):
        memberships.read_lists(tmp_path)
    (tmp_path / "mufpp.yaml").unlink()
    with pytest.raises(ValidationError, match="without its YAML file"):
        memberships.read_lists(tmp_path)


def test_the_yaml_must_state_its_count_and_completeness(tmp_path):
    write_list(tmp_path, "mufpp", [], {"network": "mufpp", "published_members": "about 300", "complete": False})
    with pytest.raises(ValidationError, match="mufpp.yaml, field 'published_members'"):
        memberships.read_lists(tmp_path)
    write_list(tmp_path, "mufpp", [], {"network": "mufpp", "published_members": 330})
    with pytest.raises(ValidationError, match="field 'count_source'"):
        memberships.read_lists(tmp_path)
    write_list(tmp_path, "mufpp", [], {"network": "mufpp", "published_members": 330, "complete": False,
                                        "count_source": {"url": "https://x.org", "as_of": "2025-13"}})
    with pytest.raises(ValidationError, match="mufpp.yaml, field 'count_source.as_of': .*months run from 01 to 12"):
        memberships.read_lists(tmp_path)


# -- the build step on real rows ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    """The step run on an excerpt of the real lists, in a store holding the states and
    one network: rows, the resulting ties, provenance and the report."""
    from citydiplomacy.store import Store

    folder = tmp_path_factory.mktemp("lists")
    mayors = shipped_rows("climate-mayors", {"Portland", "Columbia", "Carmel", "Boise"})
    # the file's later namesakes (Portland, Maine and Columbia, Missouri, each by its state) are left
    # out: Portland, Maine comes below by its coordinates only, and Columbia stands for South Carolina's
    mayors = [r for r in mayors if (r["city"], r["admin1"]) not in {("Portland", "US-ME"), ("Columbia", "US-MO")}]
    # the same city twice (steering committee, then the compendium): one tie, the first row's
    assert [r["city"] for r in mayors].count("Boise") == 1
    mayors.append({**shipped_rows("climate-mayors", {"Austin"})[-1]})
    mayors.insert(0, shipped_rows("climate-mayors", {"Austin"})[0])
    # Portland, Maine by its coordinates (the file's Portland is Oregon's, by its state)
    mayors.append({**mayors[[r["city"] for r in mayors].index("Portland")], "admin1": "", "lat": "43.661",
                   "lon": "-70.255", "note": "coordinates only"})
    # a name no gazetteer holds (made up for the test): reported, not tied
    mayors.append({**mayors[0], "city": "Qxwzt Springs", "role": "", "note": ""})
    write_list(folder, "climate-mayors", mayors)
    # a county and a city of Nevada (the source writes "Boulder" for Boulder City)
    write_list(folder, "fast-track-cities", shipped_rows("fast-track-cities", {"Clark County", "Las Vegas", "Boulder"}))
    ended = shipped_rows("100-resilient-cities", {"Vejle", "Byblos"})
    write_list(folder, "100-resilient-cities", ended, {
        "network": "100-resilient-cities", "published_members": 100, "exact": True, "complete": False,
        "count_source": {"name": "100RC", "url": "http://www.100resilientcities.org/", "as_of": "2016-05"},
        "new_network": yaml.safe_load((SHIPPED / "100-resilient-cities.yaml").read_text())["new_network"]})

    store = Store(tmp_path_factory.mktemp("store") / "citydip.sqlite")
    with store.transaction() as conn:
        run = store.start_run(conn, "test", "member lists")
        ctx = BuildContext(store=store, conn=conn, run_id=run)
        states.build(ctx)
        for nid, name in (("climate-mayors", "Climate Mayors"), ("fast-track-cities", "Fast-Track Cities")):
            net = Actor.parse({"id": nid, "name": name, "kind": "city_network", "axes": ["sustainability"]})
            ctx.add_actors([ctx.actor_row(net, ctx.provenance(memberships.provenance_from(
                {"name": name, "url": "https://example.org/", "as_of": "2023"})))])
        memberships.build(ctx, folder)
        report = ctx.report["memberships"]
    with store.connect() as c:
        rows = c.execute(select(ties.c.source, ties.c.target, ties.c.since, ties.c.until, ties.c.status,
                                ties.c.attrs, ties.c.note, provenance.c.url, provenance.c.as_of,
                                actors.c.admin1, actors.c.lat)
                         .join(provenance, provenance.c.id == ties.c.provenance_id)
                         .join(actors, actors.c.id == ties.c.source)
                         .where(ties.c.type == "member_of")).all()
        nets = {r.id: r.attrs for r in c.execute(select(actors.c.id, actors.c.attrs)
                                                    .where(actors.c.kind == "city_network"))}
        figures = {n: network_members(c, n) for n in nets}
        hosts = [tuple(r) for r in c.execute(select(ties.c.source, ties.c.target).where(ties.c.type == "hosts"))]
    yield {"report": report, "ties": {(r.source, r.target): r for r in rows}, "rows": mayors,
           "networks": nets, "figures": figures, "hosts": hosts}
    store.close()


def test_namesakes_are_told_apart_by_state_and_by_coordinates(small_build):
    t = small_build["ties"]
    members = {s for s, n in t if n == "climate-mayors"}
    portland = [t[(s, "climate-mayors")] for s in members if s.startswith("portland")]
    assert sorted(p.admin1 for p in portland) == ["Maine", "Oregon"]
    columbia = [t[(s, "climate-mayors")] for s in members if s.startswith("columbia")]
    assert [c.admin1 for c in columbia] == ["South Carolina"]      # not the Columbias of Missouri or Maryland
    carmel = [t[(s, "climate-mayors")] for s in members if s.startswith("carmel")]
    assert [c.admin1 for c in carmel] == ["Indiana"]


def test_an_unresolved_row_is_reported_and_not_tied(small_build):
    rep = small_build["report"]["climate-mayors"]
    assert rep["rows"] == len(small_build["rows"])
    assert rep["unresolved"] == 1 and any("Qxwzt Springs" in u for u in rep["unresolved_rows"])
    assert rep["resolved"] + rep["ambiguous"] + rep["unresolved"] == rep["rows"]



def test_a_county_member_resolves_to_the_county(small_build):
    assert small_build["report"]["fast-track-cities"]["resolved"] == 3
    members = sorted(s for s, n in small_build["ties"] if n == "fast-track-cities")
    assert members == ["boulder-city-us", "clark-county-us-fips-32003", "las-vegas-us"], members
    assert small_build["figures"]["fast-track-cities"]["held_by_kind"] == {"city": 2, "region": 1}


def test_the_same_city_twice_is_one_tie_with_the_first_rows_facts(small_build):
    rep = small_build["report"]["climate-mayors"]
    assert rep["already_held"] == 1
    austin = small_build["ties"][("austin-us", "climate-mayors")]
    assert austin.attrs == {"role": "steering committee"}
    assert austin.url == "https://climatemayors.org/who-we-are/"


def test_ended_status_dates_and_each_rows_own_source_are_carried(small_build):
    t = small_build["ties"]
    vejle = next(r for (s, n), r in t.items() if n == "100-resilient-cities" and s.startswith("vejle"))
    assert (vejle.status, vejle.since, vejle.until) == ("ended", "2013-12", "2019")
    assert vejle.url == "https://www.rockefellerfoundation.org/news/rockefeller-foundation-announces/"
    assert vejle.as_of == "2013-12-03"
    sources = {r.url for (s, n), r in t.items() if n == "climate-mayors"}
    assert sources == {"https://climatemayors.org/who-we-are/",
                       "https://climatemayors.org/wp-content/uploads/2020/12/Cities_Climate_Action_Compendium_180105-1.pdf"}


def test_a_new_network_is_created_with_its_count_and_seat(small_build):
    assert small_build["hosts"] == [("new-york-city-us", "100-resilient-cities")]
    attrs = small_build["networks"]["100-resilient-cities"]
    assert attrs["members"]["published"] == 100 and attrs["members"]["exact"] is True
    fig = small_build["figures"]["100-resilient-cities"]
    assert fig["held"] == 2 and fig["former"] == 2 and fig["current"] == 0
    assert fig["text"] == "2 of 100 members held (2 former)"


def test_coverage_is_computed_from_the_ties(small_build):
    fig = small_build["figures"]["climate-mayors"]
    rep = small_build["report"]["climate-mayors"]
    assert fig["held"] == rep["ties_written"] == rep["members_held"]
    assert fig["coverage"] == round(fig["held"] / 470, 3)
    assert fig["text"] == f"{fig['held']} of about 470 members held"


@pytest.mark.parametrize("held, published, exact, former, text", [
    (33, 200, False, 0, "33 of about 200 members held"),
    (97, 97, True, 0, "97 of 97 members held"),
    (1, None, False, 0, "1 member held; the network's own count is not recorded"),
    (1, 200, False, 0, "1 of about 200 members held"),
    (85, 100, True, 85, "85 of 100 members held (85 former)"),
])
def test_coverage_text(held, published, exact, former, text):
    assert coverage_text(held, published, exact, former) == text


# -- the default store ------------------------------------------------------------------------

def test_default_store_counts_agree_with_the_docs(obs):
    """docs/data.md's table of member lists quotes rows, ties and coverage per network:
    they are checked against the built store (and the lists), so they cannot drift."""
    report = _build_report(obs)
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("<!-- figures:memberships-table -->"):text.index("<!-- /figures:memberships-table -->")]
    quoted = {}
    for line in table.splitlines():
        m = re.match(r"\| `([a-z0-9-]+)` \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+|–) \| ([\d,]+|–) \|", line)
        if m:
            quoted[m.group(1)] = [m.group(i).replace(",", "") for i in range(2, 7)]
    assert quoted, "no rows found in the docs' memberships table"
    table_ids = {r["id"] for r in obs.coverage() if r["published"]}
    assert set(quoted) == set(report) | table_ids
    for net, (rows, resolved, held, published, pct) in quoted.items():
        fig = obs.coverage(net)
        rep = report.get(net, {"rows": 0, "resolved": 0})
        assert [int(rows), int(resolved), int(held)] == [rep["rows"], rep["resolved"], fig["held"]], net
        assert published == (str(fig["published"]) if fig["published"] else "–"), net
        assert pct == (f"{round(100 * fig['coverage'])}" if fig["coverage"] is not None else "–"), net


def _build_report(obs) -> dict:
    from citydiplomacy.store.schema import import_runs

    with obs.store.connect() as c:
        summary = c.execute(select(import_runs.c.summary).where(import_runs.c.kind == "default-dataset")).scalar()
    return summary["report"]["memberships"]


def test_every_membership_in_the_default_store_names_its_source(obs):
    with obs.store.connect() as c:
        rows = c.execute(select(provenance.c.url, provenance.c.as_of)
                         .join(ties, ties.c.provenance_id == provenance.c.id)
                         .where(ties.c.type == "member_of")
                         .join(actors, actors.c.id == ties.c.source)
                         .where(actors.c.kind.in_(["city", "region"]))).all()
    assert rows and all(url for url, _ in rows)


def test_held_never_exceeds_a_complete_or_exact_count(obs):
    for r in obs.coverage():
        if r["published"]:
            assert r["coverage"] == round((r["current"] or r["held"]) / r["published"], 3)
            if r["complete"]:
                assert r["current"] <= r["published"], r["id"]


def test_build_report_counts_add_up(obs):
    for net, rep in _build_report(obs).items():
        assert rep["resolved"] + rep["ambiguous"] + rep["unresolved"] == rep["rows"], net
        assert rep["ties_written"] + rep["already_held"] == rep["resolved"], net


# -- the faces ---------------------------------------------------------------------------------

def citydip(*args, env):
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cli_show_and_network_coverage(obs, cli_env):
    fig = obs.coverage("climate-mayors")
    out = citydip("show", "Climate Mayors", env=cli_env)
    assert f"{fig['held']} of about 470 members held" in out
    data = json.loads(citydip("network", "coverage", "--format", "json", env=cli_env))
    row = next(r for r in data if r["id"] == "climate-mayors")
    assert (row["held"], row["published"]) == (fig["held"], 470)
    one = json.loads(citydip("network", "coverage", "mufpp", "--format", "json", env=cli_env))
    assert one["published"] == 330 and one["sources"]
    # the sources shown (the largest, at most SOURCES_SHOWN) account for every member only
    # when they are all the sources there are
    assert len(one["sources"]) == min(one["source_count"], SOURCES_SHOWN)
    if one["source_count"] <= SOURCES_SHOWN:
        assert sum(s["members"] for s in one["sources"]) >= one["held"]
    shown = json.loads(citydip("show", "mufpp", "--format", "json", env=cli_env))
    assert shown["members"]["text"] == one["text"]


def test_api_actor_json_and_coverage_list(built_home, tmp_path):
    from fastapi.testclient import TestClient

    from citydiplomacy.web import create_app

    copy_store(built_home, tmp_path)
    app = create_app(**app_args(tmp_path), secret="test-secret")
    with TestClient(app) as c:
        a = c.get("/api/v1/actors/fast-track-cities").json()
        assert a["members"]["published"] == 550 and "of about 550 members held" in a["members"]["text"]
        prof = c.get("/api/v1/actors/fast-track-cities/profile").json()
        assert prof["members"]["held"] == a["members"]["held"]
        page = c.get("/api/v1/networks/coverage?limit=100").json()
        ids = [r["id"] for r in page["items"]]
        assert "climate-mayors" in ids
        html = c.get("/actors/climate-mayors").text
        assert "of about 470 members held" in html and "Published count" in html
    app.state.obs.close()


# -- Mayors for Peace in Japan: members by exclusion ---------------------------------------

def _mfp_japan_rows() -> list[dict[str, str]]:
    with open(SHIPPED / "mayors-for-peace.csv", encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if (r["note"] or "").startswith("member by exclusion")]


def _quoted_block(name: str) -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    block = text[text.index(f"<!-- figures-checked:{name} -->"):text.index(f"<!-- /figures-checked:{name} -->")]
    rows = [line.strip("|").split("|") for line in block.splitlines() if line.startswith("| ") and "---" not in line]
    return {k.strip(): v.strip() for k, v in rows[1:]}


def _n(text: str) -> int:
    return int(re.match(r"[\d,]+", text).group(0).replace(",", ""))


def test_japans_members_by_exclusion_are_every_municipality_but_the_one_named():
    """The rows derived from the MIC's list: one per municipality (unique codes), all citing
    the report that names Sasebo as the only non-member; Sasebo absent; the GeoNames ids
    distinct and of the right prefecture's places; the docs' figures are the file's."""
    from citydiplomacy.resolve import geonames

    rows = _mfp_japan_rows()
    codes = [re.search(r"MIC code (\d{6})", r["note"]).group(1) for r in rows]
    assert len(codes) == len(set(codes))
    assert "422029" not in codes and all("佐世保" not in r["note"] for r in rows)     # Sasebo
    assert all(r["country"] == "JP" and r["source_url"] == "https://www.hiroshimapeacemedia.jp/?p=142184"
               and r["as_of"] == "2024-06-01" for r in rows)
    assert [r["since"] for r in rows if r["since"]] == ["2024-06-01"]                  # Yawata, dated by the report
    ids = [r["geonameid"] for r in rows if r["geonameid"]]
    assert len(ids) == len(set(ids))
    records = geonames.load_records("cities500.json")
    admin1 = {}
    for line in data_path("geonames_admin1.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == "JP":
            admin1[parts[2]] = parts[1]
    assert all(records[r["geonameid"]]["admin1code"] == admin1[r["admin1"]] for r in rows if r["geonameid"])
    # a row without a place keeps the written name (no romanised namesake can take it)
    assert all(not r["city"].isascii() for r in rows if not r["geonameid"])
    quoted = _quoted_block("mfp-japan")
    by_basis = {b: sum(f"GeoNames id by the {b}" in r["note"] for r in rows) for b in ("written name", "romanised reading")}
    assert _n(quoted["rows (every municipality but Sasebo; Machida keeps its own dated row)"]) == len(rows)
    assert quoted["with a GeoNames id"] == (f"{len(ids):,}: {by_basis['written name']:,} by the written name, "
                                            f"{by_basis['romanised reading']:,} by the romanised reading")


def test_japans_members_in_the_default_store_agree_with_the_docs(obs):
    report = _build_report(obs)["mayors-for-peace"]
    quoted = _quoted_block("mfp-japan")
    rows = _mfp_japan_rows()
    with obs.store.connect() as c:
        tied = c.execute(select(ties.c.source).where(ties.c.target == "mayors-for-peace", ties.c.type == "member_of",
                                                     ties.c.note.like("member by exclusion%"))).all()
        japanese = c.execute(select(ties.c.source).distinct().join(actors, actors.c.id == ties.c.source)
                             .where(ties.c.target == "mayors-for-peace", ties.c.type == "member_of",
                                    actors.c.country.in_(["JP", "JPN"]))).all()
    other_rows = report["rows"] - len(rows)
    resolved = _n(quoted["resolved in the build"])
    assert _n(quoted["resolved in the build"].split(": ")[1]) == len(tied)
    assert resolved - len(tied) == 3
    assert _n(quoted["not resolved (no GeoNames place of the prefecture carries the name; reported, not tied)"]) \
        == len(rows) - resolved
    unresolved_japanese = [k for k in [*report["unresolved_rows"], *report["ambiguous_rows"]] if "(JP" in k]
    assert len(unresolved_japanese) == len(rows) - resolved
    with open(SHIPPED / "mayors-for-peace.csv", encoding="utf-8", newline="") as fh:
        assert other_rows == sum(1 for _ in csv.DictReader(fh)) - len(rows)   # the rows not derived
    assert quoted["Japanese members held"] == f"{len(japanese):,} of 1,740"


def test_city_network_memberships_in_all_agree_with_the_docs(obs):
    """"the build ties cities to city networks **14,378** times ... **11** networks have 50
    or more member cities"."""
    from sqlalchemy.orm import aliased

    net = aliased(actors)
    with obs.store.connect() as c:
        pairs = c.execute(select(ties.c.source, ties.c.target).distinct()
                          .join(actors, actors.c.id == ties.c.source).join(net, net.c.id == ties.c.target)
                          .where(ties.c.type == "member_of", actors.c.kind == "city",
                                 net.c.kind == "city_network")).all()
    size: dict[str, int] = {}
    for _, target in pairs:
        size[target] = size.get(target, 0) + 1
    text = DOCS.read_text(encoding="utf-8")
    m = re.search(r"ties cities to city networks \*\*([\d,]+)\*\* times.*?\*\*(\d+)\*\* networks have 50\s+or more",
                  text, re.S)
    assert m, "the sentence on city-network memberships in all is missing from docs/data.md"
    assert (_n(m.group(1)), int(m.group(2))) == (len(pairs), sum(n >= 50 for n in size.values()))
    readme = (DOCS.parents[1] / "README.md").read_text(encoding="utf-8")
    r = re.search(r"\((\d+) networks with 50 or more;", readme)
    assert r and int(r.group(1)) == sum(n >= 50 for n in size.values()), "README's count of networks with 50+ members"


# -- Climate Alliance from the ETMUN database ----------------------------------------------------

def _etmun_script():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "build_climate_alliance_etmun.py"
    spec = importlib.util.spec_from_file_location("build_climate_alliance_etmun", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_etmun_rows_are_the_climate_alliance_municipalities_with_their_fixes(tmp_path):
    """On a real excerpt of the ETMUN file (coordinates blanked): only Climate Alliance
    municipalities from the starting row id, abbreviations written out, "Sankt", the first
    form of a bilingual name, the wrong country code corrected, a namesake's state; every
    change said in the note; non-municipal members, the Amt and the misspelt duplicate left
    out. Rewriting keeps the file's other rows first."""
    mod = _etmun_script()
    text = (Path(__file__).parent / "data" / "etmun_climate_alliance_excerpt.csv").read_text(encoding="utf-8")
    rows = mod.convert(text, start="A4440")
    got = {r["note"].split(";")[0]: (r["city"], r["country"], r["admin1"], r["since"]) for r in rows}
    assert got == {
        "ETMUN row A4591": ("Wasserburg (Bodensee)", "DE", "DE-BY", "2008"),
        "ETMUN row A4777": ("Sankt Florian", "AT", "", "2007"),
        "ETMUN row A4789": ("Hainburg an der Donau", "AT", "", "1999"),
        "ETMUN row A4949": ("Lendava", "SI", "", "2016"),
        "ETMUN row A5389": ("Bozen", "IT", "", "1994"),
    }
    notes = {r["note"].split(";")[0]: r["note"] for r in rows}
    assert "the file writes Hainburg a.d. Donau" in notes["ETMUN row A4789"]
    assert "Sierra Leone" in notes["ETMUN row A4949"]
    assert all(r["licence"] == "facts; see url" and r["as_of"] == "2019" and "f48bc29" in r["source_url"]
               for r in rows)
    assert all(not r.get("lat") and not r.get("lon") for r in rows)     # the file's geocodes are not taken
    shipped = tmp_path / "climate-alliance.csv"
    shipped.write_text(",".join(memberships.HEADER) + "\nBerlin,DE,,,,,,,,,Some page,https://example.org/,facts; see url,2015,\n"
                       "Old,AT,,,,,,,,,x,https://example.org/,facts; see url,2019,ETMUN row A1\n", encoding="utf-8")
    out = tmp_path / "mine.csv"
    mod.rewrite(rows, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(memberships.HEADER) and len(lines) == 1 + len(rows)
    mod.rewrite(rows, out, merge=shipped)
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[1].startswith("Berlin,") and len(text.splitlines()) == 2 + len(rows)
    assert "ETMUN row A1\n" not in text


def test_etmun_script_writes_only_where_told_never_into_the_package(tmp_path):
    """The ETMUN rows are not shipped (the source states no licence): the script needs
    --out and refuses a path in the package's data."""
    mod = _etmun_script()
    excerpt = str(Path(__file__).parent / "data" / "etmun_climate_alliance_excerpt.csv")
    assert mod.main([excerpt]) == 2
    inside = SHIPPED / "climate-alliance.csv"      # the data of the citydiplomacy imported here
    before = inside.read_bytes()
    try:
        assert mod.main([excerpt, "--out", str(inside)]) == 2
        assert mod.main([excerpt, "--out", str(SHIPPED / "sub" / "x.csv")]) == 2
    finally:                                          # a failing guard must not leave the package changed
        if inside.read_bytes() != before:
            inside.write_bytes(before)
            pytest.fail("the script wrote into the package's data")
    out = tmp_path / "my-climate-alliance.csv"
    assert mod.main([excerpt, "--out", str(out), "--from", "A4440"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 5


def test_no_etmun_rows_are_shipped():
    """The default data holds no row of the ETMUN database (no licence stated)."""
    for lst in memberships.read_lists():
        assert not [r for r in lst.rows if "ETMUN" in (r["note"] or "") or "pgourdongeo" in (r["source_url"] or "")], lst.network
