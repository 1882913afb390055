"""The Covenant of Mayors from the JRC's open data: the script that derives the shipped
CSV from the workbook, the reading of signatories' names, the build step on a small real
excerpt, and the default store (with the figures docs/data.md quotes)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from citydiplomacy.dataset import covenant, organizations, states
from citydiplomacy.dataset.context import BuildContext
from citydiplomacy.dataset.covenant.locate import degrees_minutes, name_similarity, related_names
from citydiplomacy.dataset.covenant.names import group_parts, is_body_of_municipalities, place_name, place_names
from citydiplomacy.store import Store, schema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_covenant  # noqa: E402

EXCERPT = ROOT / "tests" / "data" / "covenant" / "excerpt.csv"
#: the JRC's workbook as the workplace holds it, beside the repository (../shared/data/gcom)
WORKBOOK = next((p for p in (base / "shared" / "data" / "gcom" / "gcom_mycovenant_2024_df1_signatories.xlsx"
                             for base in (ROOT.parent, ROOT.parent.parent)) if p.exists()),
                ROOT.parent / "shared" / "data" / "gcom" / "gcom_mycovenant_2024_df1_signatories.xlsx")

# -- the script --------------------------------------------------------------------------

HEADER = ["organisation_id", "organisation_name", "coordinator_name", "supporter_name", "country_code",
          "country_name", "population_adhesion", "organisation_latitude", "organisation_longitude",
          "group_organisation_id", "group_name", "commitment_CoM2020_flag", "commitment_CoM2030_flag",
          "commitment_CoM2050_flag", "commitment_mayoradapt_flag", "adhesion_type", "signatory_status", "mayor",
          "date_of_adhesion", "action_plan_expected", "group_profile", "gcom_id"]
OPTION_1 = "As a group of signatories committing individually (joint SEAP - option 1)"
OPTION_2 = "As a group of signatories committing collectively (joint SEAP - option 2)"
D = dt.datetime
#: Real rows of the JRC's workbook (sheet "1"), the mayor's name blanked: a group named by
#: its municipalities, three groups at Italy's centroid, a member of a group, a decimal
#: comma, "null" coordinates, the numeric adhesion type, a Southern-neighbourhood group
#: and its member whose group id lacks "_med".
RAW = [
    (20493, "Alkmaar, Bergen, Castricum, Heiloo, Heerhugowaard, Langedijk, Uitgeest", "-", "-", "nl", "Netherlands",
     "-", 52.2434979, 5.6343227, "-", "-", True, False, False, False, OPTION_1, "published", "x", D(2010, 1, 26),
     False, True, "NL0039"),
    (20494, "Aritzo, Austis, Desulo, Gadoni, Meana Sardo, Neoneli, Sorgono, Teti", "-", "-", "it", "Italy", "-",
     42.6384261, 12.674297, "-", "-", True, False, False, False, OPTION_1, "published", "x", D(2012, 7, 23), False,
     True, "IT5065"),
    (20496, "Avola, Noto, Pachino, Portopalo di Capo Passero, Rosolini", "-", "-", "it", "Italy", "-", 42.6384261,
     12.674297, "-", "-", True, True, False, False, OPTION_1, "published", "x", D(2012, 8, 1), False, True, "IT5046"),
    (20519, "Ferrandina, Garaguso, Salandra, San Mauro Forte", "-", "-", "it", "Italy", "-", 42.6384261, 12.674297,
     "-", "-", True, False, False, False, OPTION_1, "published", "x", D(2012, 9, 1), False, True, "IT5055"),
    (11948, "Barcelona", "Province of Barcelona", "EUROCITIES", "es", "Spain", 1636193, 41.3824005126953,
     2.17687010765076, "-", "-", True, True, False, False, "As an individual signatory", "published", "x",
     D(2008, 11, 19), True, False, "ES0002"),
    (19085, "Alkmaar", "Rijkswaterstaat", "-", "nl", "Netherlands", 288000, 52.6008538, 4.817099446443963, 20493,
     "Alkmaar, Bergen, Castricum, Heiloo, Heerhugowaard, Langedijk, Uitgeest", True, False, False, False, OPTION_1,
     "published", "x", D(2015, 7, 1), True, False, "NL0030"),
    (11557, "Ialoveni (Rayon)", "-", "Congress of Local Authorities from Moldova", "md", "Moldova, Republic Of",
     97000, 46.9500007629395, 28.7833309173584, "-", "-", True, True, False, False, 1, "on_hold", "x",
     D(2011, 5, 17), True, False, "MD0088"),
    (27633, "Brescia", "-", "-", "it", "Italy", 198000, "10,219287", "45,539723", "-", "-", False, True, False,
     False, "As an individual signatory", "published", "x", D(2020, 6, 19), True, False, "IT4892"),
    (17661, "Baunei", "-", "-", "it", "Italy", 3800, "null", "null", "-", "-", True, False, False, False,
     "As an individual signatory", "on_hold", "x", D(2013, 7, 31), True, False, "IT4818"),
    ("21177_med", "Aamatour", "-", "-", "lb", "Lebanon", 12450, "-", "-", 18372,
     "Federation of Municipalities of the Higher Chouf (F.M.H.C.)", True, False, False, False, OPTION_2, "on_hold",
     "x", D(2014, 4, 5), False, False, "-"),
    ("18372_med", "Federation of Municipalities of the Higher Chouf (F.M.H.C.)", "-", "-", "lb", "Lebanon", 12450,
     33.659049987793, 35.6140594482422, "-", "-", True, False, False, False, OPTION_2, "on_hold", "x",
     D(2014, 4, 5), True, True, "LB0004"),
]


def _workbook(tmp_path: Path, rows, header=HEADER) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "1"
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    path = tmp_path / "df1.xlsx"
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    path = _workbook(tmp_path_factory.mktemp("wb"), RAW)
    rows, summary = build_covenant.convert(build_covenant.read_workbook(path))
    return {r["organisation_id"]: r for r in rows}, summary


def test_the_script_keeps_what_the_build_needs_and_not_the_mayor(converted):
    rows, summary = converted
    assert list(next(iter(rows.values()))) == build_covenant.COLUMNS and "mayor" not in build_covenant.COLUMNS
    bcn = rows["11948"]
    assert bcn == {**bcn, "gcom_id": "ES0002", "name": "Barcelona", "country": "ES", "population": 1636193,
                   "lat": 41.3824, "lon": 2.17687, "coordinates": "ok", "is_group": 0, "adhesion": "individual",
                   "status": "published", "since": "2008-11-19", "commitments": "CoM2020;CoM2030",
                   "coordinator": "Province of Barcelona", "supporter": "EUROCITIES", "group_id": ""}
    assert summary["rows"] == len(RAW) and summary["countries"] == 5


def test_the_script_cleans_the_workbooks_quirks(converted):
    rows, summary = converted
    group = rows["20493"]
    assert group["is_group"] == 1 and group["population"] == "" and group["adhesion"] == "group_option_1"
    assert rows["19085"]["group_id"] == "20493"
    assert rows["11557"]["adhesion"] == "individual"          # the numeric type 1
    assert (rows["27633"]["lat"], rows["27633"]["lon"]) == (10.21929, 45.53972)   # decimal commas
    assert rows["17661"]["coordinates"] == "missing" and rows["17661"]["lat"] == ""
    assert rows["21177_med"]["group_id"] == "18372_med" and summary["group_ids_relinked"] == 1
    assert rows["21177_med"]["gcom_id"] == "" and rows["21177_med"]["coordinates"] == "missing"


def test_the_script_says_when_a_rows_name_is_its_mayors(tmp_path):
    """Two rows of the workbook give their mayor's name as the signatory's; the test uses
    Barcelona's row with the name copied into the mayor cell (in another word order)
    rather than a person's name."""
    row = list(RAW[4])
    row[1], row[17] = "Barcelona Ciutat", "Ciutat Barcelona"
    rows, _ = build_covenant.convert(build_covenant.read_workbook(_workbook(tmp_path, [row, RAW[0]])))
    assert [r["name_is_mayor"] for r in rows] == [1, 0]


def test_the_script_flags_a_point_that_three_signatories_share(converted):
    rows, summary = converted
    assert {rows[i]["coordinates"] for i in ("20494", "20496", "20519")} == {"shared"}
    assert summary["shared_points"] == {"42.63843, 12.6743": 3}
    assert rows["20493"]["coordinates"] == "ok"


def test_the_script_writes_the_shipped_columns(converted, tmp_path):
    rows, _ = converted
    out = tmp_path / "signatories.csv"
    build_covenant.write_csv(list(rows.values()), out)
    read = covenant.read_signatories(out)
    assert [s.organisation_id for s in read] == list(rows)
    assert read[4].commitments == ["CoM2020", "CoM2030"] and read[4].population == 1636193


def test_a_bad_workbook_is_refused_naming_row_and_field(tmp_path, capsys):
    bad = list(RAW[4])
    bad[15] = "as a friend"
    path = _workbook(tmp_path, [RAW[0], bad])
    with pytest.raises(build_covenant.WorkbookError, match="row 3, adhesion_type: unknown value 'as a friend'"):
        build_covenant.convert(build_covenant.read_workbook(path))
    assert build_covenant.main([str(path)]) == 1
    assert "error: row 3, adhesion_type" in capsys.readouterr().err
    short = _workbook(tmp_path, [RAW[0][:5]], HEADER[:5])
    with pytest.raises(build_covenant.WorkbookError, match="lacks the columns .*date_of_adhesion"):
        build_covenant.read_workbook(short)


@pytest.mark.skipif(not WORKBOOK.exists(), reason="the JRC workbook is not beside the repository (../shared/data/gcom)")
def test_the_shipped_csv_is_what_the_script_makes_of_the_workbook(tmp_path):
    rows, summary = build_covenant.convert(build_covenant.read_workbook(WORKBOOK))
    out = tmp_path / "signatories.csv"
    build_covenant.write_csv(rows, out)
    assert out.read_bytes() == (ROOT / "src/citydiplomacy/data/covenant/signatories.csv").read_bytes()
    assert summary["rows"] == 11_973 and summary["countries"] == 61


# -- reading names -----------------------------------------------------------------------

@pytest.mark.parametrize("raw,name,hint", [
    ("Comune di Bovisio Masciago", "Bovisio Masciago", None),
    ("Sint-Niklaas 2030", "Sint-Niklaas", None),
    ("MOIOLA - 2050", "MOIOLA", None),
    ("Frattamaggiore (NA)", "Frattamaggiore", None),
    ("GRANZE (PD) - ITALY", "GRANZE", None),
    ("Valbondione (duplicated)", "Valbondione", None),
    ("Zolochiv AC, Kharkiv region", "Zolochiv", "Kharkiv"),
    ("Primăria s. Costuleni, r-nul Ungheni", "Costuleni", "Ungheni"),
    ("Budapest Főváros II. Kerület Önkormányzata", "Budapest II", None),
    ("Zugló (XIV. district of Budapest)", "Budapest XIV", None),
    ("District 3 of Bucharest", "Bucharest 3", None),
    ("Lutsk amalgamated community", "Lutsk", None),
    ("Ialoveni (Rayon)", "Ialoveni (raion)", None),
    ("Borsod-Abaúj-Zemplén megye", "Borsod-Abaúj-Zemplén County", None),
    ("Schitu Golești AG", "Schitu Golești", None),
    ("Bath & North East Somerset", "Bath and North East Somerset", None),
    ("Città di Castello", "Città di Castello", None),
    ("None 2050", "None", None),                 # a town in Piedmont
])
def test_a_signatorys_name_is_read_as_a_place(raw, name, hint):
    assert place_name(raw) == (name, hint)


def test_some_names_have_a_second_reading():
    assert place_names("Città di Collegno") == (("Città di Collegno", None), ("Collegno", None))
    assert place_names("Greater Irbid Municipality")[1] == ("Irbid", None)
    assert len(place_names("Greater Manchester")) == 1


@pytest.mark.parametrize("name,parts,explicit", [
    ("Alkmaar, Bergen, Castricum", ["Alkmaar", "Bergen", "Castricum"], True),
    ("Flero, Gambara, Verolanuova e Verolavecchia", ["Flero", "Gambara", "Verolanuova", "Verolavecchia"], True),
    ("Battipaglia e Montecorvino Pugliano", ["Battipaglia", "Montecorvino Pugliano"], False),
    ("Unione dei Comuni Savena - Idice", [], False),
    ("Sierra (Sierra Minera, Sierra Occidental and Ribera de Huelva)", [], False),
    ("ROSOLINA", [], False),
])
def test_a_groups_name_is_split_into_its_municipalities(name, parts, explicit):
    assert group_parts(name) == (parts, explicit)


@pytest.mark.parametrize("name,body", [("Rennes Métropole", True), ("Unione dei Comuni Valle del Savio", True),
                                       ("GRAND CHAMBERY", True), ("Grand-Bourg", False), ("Città di Castello", False)])
def test_bodies_of_municipalities_are_told_apart(name, body):
    assert is_body_of_municipalities(name) is body


def test_coordinates_and_names_compared():
    lat, lon = degrees_minutes(45.54441, 11.59457)                 # Valdobbiadene: 45°54', 11°59'
    assert round(lat, 3) == 45.907 and round(lon, 3) == 11.991
    assert degrees_minutes(45.75, 9.1) is None                      # 75 minutes: not degrees and minutes
    assert name_similarity("masnou", "el masnou") == 100            # an article
    assert name_similarity("caravaca de la cruz", "caravaca") == 100
    assert name_similarity("castel san giovanni", "san giovanni") < 88
    assert related_names("heusden zolder", "heusden") and not related_names("alto reno terme", "porretta terme")


# -- the step on a real excerpt ------------------------------------------------------------

@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    """A store with the states and the curated organisations, then the Covenant step on
    22 real rows (tests/data/covenant/excerpt.csv): two groups and some of their members,
    centroid coordinates, suspended signatories, coordinators and supporters."""
    store = Store(tmp_path_factory.mktemp("covenant") / "citydip.sqlite")
    with store.transaction() as conn:
        ctx = BuildContext(store=store, conn=conn, run_id=store.start_run(conn, "test", "excerpt"))
        states.build(ctx)
        organizations.build(ctx)
        covenant.build(ctx, signatories=covenant.read_signatories(EXCERPT))
    yield store, ctx.report["covenant"]
    store.close()


def _ties(store, **where):
    t = schema.ties
    with store.connect() as conn:
        stmt = select(t).where(*(getattr(t.c, k) == v for k, v in where.items()))
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _actor(store, actor_id):
    with store.connect() as conn:
        row = conn.execute(select(schema.actors).where(schema.actors.c.id == actor_id)).first()
    return dict(row._mapping) if row else None


def test_excerpt_report(excerpt):
    _, rep = excerpt
    assert rep["rows"] == 22 and rep["group_rows"] == 2 and rep["municipality_rows"] == 20
    tied = rep["rows_resolved"] + rep["rows_new_cities"] + rep["rows_new_bodies"]
    assert tied + rep["rows_ambiguous"] + rep["rows_unresolved"] == rep["municipality_rows"]
    assert rep["rows_new_cities"] == 1 and rep["rows_new_bodies"] == 1
    assert rep["coordinates_read"] == {"degrees_minutes": 1, "swapped": 1}      # Valdobbiadene, Brescia
    # Langedijk's row gives 200,000 inhabitants; the village of Broek op Langedijk lies at its point
    assert "Langedijk (NL, NL0008)" in rep["not_tied"]
    assert "related_name_at_point" in rep["not_tied"]["Langedijk (NL, NL0008)"]


def test_a_signatory_is_a_member_with_date_status_commitments_and_gcom_id(excerpt):
    store, _ = excerpt
    [tie] = _ties(store, source="barcelona-es", target=covenant.NETWORK)
    assert tie["since"] == "2008-11-19" and tie["status"] == "active"
    assert tie["attrs"]["gcom_id"] == "ES0002" and tie["attrs"]["commitments"] == ["CoM2020", "CoM2030"]
    assert tie["attrs"]["chapter"] == "Europe" and tie["attrs"]["adhesion"] == "individual"
    with store.connect() as conn:
        prov = conn.execute(select(schema.provenance).where(schema.provenance.c.id == tie["provenance_id"])).first()
    assert prov.source.startswith("JRC") and prov.licence == "CC BY 4.0" and prov.as_of == "2024-01"
    assert "data.jrc.ec.europa.eu" in prov.url


def test_an_on_hold_signatory_is_suspended(excerpt):
    store, _ = excerpt
    [tie] = [t for t in _ties(store, target=covenant.NETWORK) if (t["attrs"] or {}).get("gcom_id") == "IT3631"]
    assert tie["status"] == "suspended" and tie["attrs"]["jrc_status"] == "on_hold"
    assert _actor(store, tie["source"])["attrs"]["subdivision_code"] == "IT-TE"     # the Province of Teramo


def test_a_group_named_by_its_municipalities_is_split_and_kept(excerpt):
    store, rep = excerpt
    group = _actor(store, "covenant-group-es2186")
    assert group["kind"] == "region" and group["attrs"]["covenant_group"] is True
    assert group["attrs"]["gcom_id"] == "ES2186"
    members = _ties(store, target="covenant-group-es2186", type="member_of")
    assert len(members) >= 7 and {m["status"] for m in members} == {"suspended"}
    for m in members:
        [cov] = _ties(store, source=m["source"], target=covenant.NETWORK)
        assert cov["attrs"]["group_gcom_id"] == "ES2186" and cov["attrs"]["via"] == "listed in the group's name"
        assert cov["since"] == "2014-07-15"
    [own] = _ties(store, source="covenant-group-es2186", target=covenant.NETWORK)
    assert own["status"] == "suspended"
    assert rep["names_in_group_lists"] == 9
    # the group lies in Huelva: its "Lucena" is not Lucena in Córdoba, 200 km away
    assert "ambiguous: coordinates_disagree" in rep["group_names_not_tied"][
        "Lucena (Escacena del Campo, Paterna del Campo, Villalba del Alcor, Manzanilla, Chucena, Villarrasa, "
        "Niebla, Rociana del Condado, Lucena)"]


def test_members_of_a_group_with_rows_of_their_own(excerpt):
    store, _ = excerpt
    members = {t["source"] for t in _ties(store, target="covenant-group-nl0039", type="member_of")}
    assert {"alkmaar-nl", "bergen-nl", "castricum-nl", "heiloo-nl", "uitgeest-nl"} <= members
    [alk] = _ties(store, source="alkmaar-nl", target=covenant.NETWORK)
    assert alk["attrs"]["gcom_id"] == "NL0030" and alk["attrs"]["group_gcom_id"] == "NL0039"


def test_centroid_coordinates_are_not_taken_for_a_town(excerpt):
    store, _ = excerpt
    [tie] = [t for t in _ties(store, target=covenant.NETWORK) if (t["attrs"] or {}).get("gcom_id") == "IT1633"]
    dello = _actor(store, tie["source"])
    assert dello["name"] == "Dello" and dello["lat"] > 45        # Brescia's province, not Italy's centre at 41.87


def test_a_municipality_no_gazetteer_holds_comes_from_the_jrc_row(excerpt):
    store, _ = excerpt
    petrer = _actor(store, "petrer-es")
    assert petrer["kind"] == "city" and (petrer["lat"], petrer["lon"]) == (38.4848, -0.76997)
    assert petrer["attrs"]["gcom_id"] == "ES0132" and petrer["population"] == 34479
    with store.connect() as conn:
        source = conn.execute(select(schema.provenance.c.source)
                              .where(schema.provenance.c.id == petrer["provenance_id"])).scalar()
    assert source.startswith("JRC")
    assert _ties(store, source="petrer-es", target="esp", type="located_in")


def test_coordinators_and_supporters_are_tied_to_their_signatories(excerpt):
    store, _ = excerpt
    [coordinates] = _ties(store, target="barcelona-es", type="coordinates")
    assert _actor(store, coordinates["source"])["attrs"]["subdivision_code"] == "ES-B"
    assert coordinates["attrs"] == {"coordinator": "Province of Barcelona"}
    assert {t["source"] for t in _ties(store, target="barcelona-es", type="supports")} == {"eurocities"}
    [koeln] = [t for t in _ties(store, target=covenant.NETWORK) if (t["attrs"] or {}).get("gcom_id") == "DE0004"]
    assert _actor(store, koeln["source"])["geonames_id"] == 2886242                  # Köln
    assert {t["source"] for t in _ties(store, target=koeln["source"], type="supports")} == {"climate-alliance"}
    # a body that signed and coordinates itself is one actor
    rennes = [t for t in _ties(store, target=covenant.NETWORK) if (t["attrs"] or {}).get("gcom_id") == "FR0011"]
    assert _actor(store, rennes[0]["source"])["attrs"]["covenant_body"]
    assert not _ties(store, source=rennes[0]["source"], type="coordinates")


def test_chapters_and_readings(excerpt):
    store, _ = excerpt
    [zarqa] = _ties(store, source="zarqa-jo", target=covenant.NETWORK)
    assert zarqa["attrs"]["chapter"] == "South" and "gcom_id" not in zarqa["attrs"]
    assert _ties(store, source="baryshivka-ua", target=covenant.NETWORK)[0]["attrs"]["chapter"] == "East"
    assert _ties(store, source="el-masnou-es", target=covenant.NETWORK)                # "Masnou"


# -- the default store ------------------------------------------------------------------

def _report(obs):
    with obs.store.connect() as conn:
        return conn.execute(select(schema.import_runs.c.summary)).scalar()["report"]["covenant"]


#: docs/data.md's figures of the Covenant ("| label | figure |") and the report's keys.
DOC_FIGURES = {
    "rows": "rows", "municipality rows (not groups)": "municipality_rows", "group rows": "group_rows",
    "names from splitting groups' lists": "names_in_group_lists", "resolved to a known place": "rows_resolved",
    "new cities from the JRC's rows": "rows_new_cities", "bodies of municipalities": "rows_new_bodies",
    "ambiguous, not tied": "rows_ambiguous", "unresolved, not tied": "rows_unresolved",
    "group actors": "groups", "membership ties": "membership_ties", "new city actors": "new_cities",
    "rows adhering by 2019": "rows_by_2019", "of which tied": "rows_by_2019_tied",
}


def _doc_figure(label: str) -> int:
    """A figure of the Covenant's section of docs/data.md."""
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    text = text[text.index("## The Covenant of Mayors"):]
    text = text[:text.index("\n## ", 1)]
    m = re.search(rf"^\| {re.escape(label)} \| ([\d,]+)", text, re.MULTILINE)
    assert m, f"docs/data.md has no row '| {label} | ...'"
    return int(m.group(1).replace(",", ""))


def test_the_figures_docs_quote_are_the_builds(obs):
    rep = _report(obs)
    for label, key in DOC_FIGURES.items():
        assert _doc_figure(label) == rep[key], label
    status = rep["membership_ties_by_network_and_status"]
    assert _doc_figure("active members") == status[f"{covenant.NETWORK} active"]
    assert _doc_figure("suspended members") == status[f"{covenant.NETWORK} suspended"]
    tied = rep["rows_resolved"] + rep["rows_new_cities"] + rep["rows_new_bodies"]
    assert _doc_figure("signatories tied") == tied and tied / rep["municipality_rows"] >= 0.97
    text = (ROOT / "docs" / "data.md").read_text(encoding="utf-8")
    assert f"{rep['names_in_group_lists_resolved']} resolved, each checked" in text
    assert rep["rows_by_2019_tied"] / rep["rows_by_2019"] >= 0.95


def test_the_readme_row_is_the_builds(obs):
    rep = _report(obs)
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| the Covenant of Mayors'"))
    by_type = obs.status()["ties"]["by_type"]
    figures = [rep["rows"], rep["membership_ties"], rep["groups"], sum(rep["coordinators"].values()),
               sum(rep["supporters"].values()), by_type["coordinates"] + by_type["supports"], rep["new_cities"]]
    what = row.split("|")[1]
    assert [int(n.replace(",", "")) for n in re.findall(r"\b\d[\d,]*\b", what)] == figures


def test_memberships_in_the_store_match_the_report(obs):
    rep = _report(obs)
    t, p = schema.ties, schema.provenance
    with obs.store.connect() as conn:
        rows = conn.execute(select(t.c.target, t.c.status).join(p, p.c.id == t.c.provenance_id).where(
            t.c.type == "member_of", t.c.target.in_([covenant.NETWORK, covenant.GLOBAL_NETWORK]),
            p.c.source == covenant.PROVENANCE.source)).all()
    from collections import Counter
    counts = Counter(f"{target} {status}" for target, status in rows)
    assert dict(counts) == rep["membership_ties_by_network_and_status"]


def test_a_known_signatory_in_the_default_store(obs):
    [tie] = [t for t in obs.ties("barcelona-es", type="member_of") if t["other"] == covenant.NETWORK]
    assert tie["since"] == "2008-11-19" and tie["status"] == "active"
    assert tie["attrs"]["gcom_id"] == "ES0002" and tie["attrs"]["commitments"] == ["CoM2020", "CoM2030"]
    networks = {n["id"]: n for ns in obs.profile("Barcelona")["networks_by_axis"].values() for n in ns}
    assert networks[covenant.NETWORK]["since"] == "2008-11-19"


def test_a_group_is_split_in_the_default_store(obs):
    members = [t for t in obs.ties("covenant-group-es2186", type="member_of") if t["direction"] == "in"]
    names = {t["other_name"] for t in members}
    assert {"Escacena del Campo", "Paterna del Campo", "Villalba del Alcor", "Niebla"} <= names


def test_the_cli_shows_a_membership_with_its_status_and_date(cli_env):
    out = subprocess.run([sys.executable, "-m", "citydiplomacy", "ties", "Uitgeest", "--type", "member_of",
                          "--format", "json"], env=cli_env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    ties = {t["other"]: t for t in json.loads(out.stdout)}
    cov = ties[covenant.NETWORK]
    assert cov["status"] == "suspended" and cov["since"] == "2015-09-29" and cov["attrs"]["gcom_id"] == "NL0025"
    shown = subprocess.run([sys.executable, "-m", "citydiplomacy", "profile", "Barcelona", "--no-network"],
                           env={**cli_env, "COLUMNS": "250"}, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "Covenant of Mayors for Climate & Energy (Europe) (since 2008-11-19)" in shown.stdout


def test_the_excerpt_is_real(tmp_path):
    """Every row of the excerpt is a row of the shipped CSV, unchanged."""
    with EXCERPT.open(encoding="utf-8", newline="") as fh:
        excerpt_rows = list(csv.DictReader(fh))
    shipped = {s.organisation_id: s for s in covenant.read_signatories()}
    for row in excerpt_rows:
        assert covenant.Signatory.from_row(row) == shipped[row["organisation_id"]]
