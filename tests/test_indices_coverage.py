"""Indices that mean what they say: not known is not zero, data coverage beside every
score and rank, the low-data rule, strengths and weaknesses among known indicators,
context indicators labelled, and the face-validity review of docs/indices.md checked
against a fresh build of the default data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

import citydiplomacy
from citydiplomacy.errors import ValidationError
from citydiplomacy.indices.build import data_coverage
from citydiplomacy.indices.framework import default_text, load_framework
from citydiplomacy.indices.results import coverage
from citydiplomacy.indices.stored import brief
from citydiplomacy.store import schema

from test_indices import SMALL_FRAMEWORK, small  # noqa: F401  (the hand-made world)
from conftest import app_args, copy_store, store_env

ROOT = Path(__file__).resolve().parents[1]


# -- the rule, on tables ---------------------------------------------------------------------

def test_data_coverage_per_axis_and_overall():
    known = pd.DataFrame({"t": [True, False, True], "n": [True, True, True], "d": [True, False, False]},
                         index=["x", "y", "z"])
    axis_of = {"t": "engagement", "n": "engagement", "d": "digital"}
    share, entered = data_coverage(known, axis_of, 0.6)
    assert share.loc["x"].to_dict() == {"engagement": 1.0, "digital": 1.0, "overall": 1.0}
    # y knows 1 of 2 engagement indicators, 0 of 1 digital: the overall is its least axis
    assert share.loc["y", "engagement"] == 0.5 and share.loc["y", "overall"] == 0.0
    # an axis under the threshold does not enter the overall (z: digital); when none
    # passes, all enter (y)
    assert entered.loc["x"].all() and entered.loc["y"].all()
    assert entered.loc["z"].to_dict() == {"engagement": True, "digital": False}
    share_w, _ = data_coverage(known, axis_of, 0.6, overall="weighted",
                               axis_weights={"engagement": 3, "digital": 1})
    assert share_w.loc["y", "overall"] == pytest.approx(0.5 * 3 / 4)


# -- the framework ---------------------------------------------------------------------------

def test_state_facts_only_as_labelled_context_indicators(tmp_path):
    fw = load_framework()
    assert not any(i.measure["kind"] == "state_tie" for i in fw.indicators)
    assert fw.low_data.min_coverage == 0.6 and fw.low_data.rank == "withhold"
    text = default_text() + """
  - code: state_paris
    name: State is a party to the Paris Agreement
    axis: sustainability
    source: test
    measure: {kind: state_tie, type: party_to, target: paris}
"""
    p = tmp_path / "fw.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="context: true") as exc:
        load_framework(p)
    assert str(p) in str(exc.value)
    p.write_text(text.replace("    source: test\n    measure: {kind: state_tie",
                              "    source: test\n    context: true\n    measure: {kind: state_tie"), encoding="utf-8")
    assert [i for i in load_framework(p).to_indicators() if i.code == "state_paris"][0].context
    p.write_text(default_text().replace("rank: withhold", "rank: hide"), encoding="utf-8")
    with pytest.raises(ValidationError, match="low_data.rank"):
        load_framework(p)


# -- a build of the hand-made world ---------------------------------------------------------

WORLD = SMALL_FRAMEWORK.replace("low_data: {min_coverage: 0.6, rank: mark}", "low_data: {min_coverage: 0.6}") + """
  - {code: state, name: State is a Paris signatory, axis: sustainability, source: test, context: true,
     measure: {kind: state_tie, type: signatory_of, target: paris}}
"""


def test_unknown_values_are_flagged_and_ranks_withheld_under_the_threshold(small, tmp_path):  # noqa: F811
    fw = tmp_path / "fw.yaml"
    fw.write_text(WORLD, encoding="utf-8")
    rep = small.build_index(str(fw), replications=30)
    # the units: a, b, c, d. d is in no network: its green and digital memberships are
    # not known (estimated, flagged, raw NULL); co2 is imputed for c and d
    d = small.index_show("d")
    ind = {x["indicator"]: x for x in d["drivers"]["indicators"]}
    assert ind["green"]["raw"] is None and ind["green"]["imputed"] and not ind["green"]["known"]
    assert ind["partners"]["known"] and ind["partners"]["raw"] == 1
    # d's coverage: engagement 2 of 2, sustainability 0 of 2 (green, co2; the context
    # indicator aside), digital 0 of 1 ('nothing' dropped): both withheld
    axes = d["axes"]
    assert axes["engagement"]["coverage"] == 1.0 and not axes["engagement"]["low_data"]
    assert axes["sustainability"]["coverage"] == 0.0 and axes["sustainability"]["low_data"]
    assert axes["sustainability"]["rank"] is None and axes["sustainability"]["rank_lo"] is None
    assert "low data" in axes["sustainability"]["note"] and "withheld" in axes["sustainability"]["note"]
    assert axes["overall"]["rank"] is None and axes["overall"]["low_data"]
    # strengths and weaknesses only among known indicators about the city itself
    for x in d["drivers"]["strengths"] + d["drivers"]["weaknesses"]:
        assert x["known"] and not x["context"], x
    assert {x["indicator"] for x in d["drivers"]["strengths"] + d["drivers"]["weaknesses"]} <= {"partners", "reach"}
    # the context indicator is kept, labelled
    assert ind["state"]["context"]
    # no peer rank where the rank is withheld; peers compared among the ranked only
    assert d["peers"] and all(p["sustainability"]["rank"] is None for p in d["peers"])
    for p in small.index_show("a")["peers"]:
        assert p["sustainability"]["of"] <= rep.scored - rep.low_data["sustainability"]
    # ranks among the cities with enough data: a has every axis; the others are withheld
    a = small.index_show("a")
    assert a["axes"]["overall"]["rank"] == 1 and a["axes"]["overall"]["of"] == rep.scored - rep.low_data["overall"]
    r = small.index_rank(axis="sustainability")
    assert all(not x["low_data"] and x["rank"] is not None for x in r["rows"])
    assert r["withheld"] == rep.low_data["sustainability"] and r["count"] + r["withheld"] == 4
    r_all = small.index_rank(axis="sustainability", low_data=True)
    assert r_all["count"] == 4 and [x["rank"] is None for x in r_all["rows"]][-1]
    assert all(x["low_data"] for x in r_all["rows"] if x["rank"] is None)
    # the profile's light reading gives the same coverage as the full one
    for unit in "abcd":
        full, light = small.index_show(unit)["axes"], brief(small.store, unit)["axes"]
        for axis in full:
            assert light[axis]["coverage"] == full[axis]["coverage"], (unit, axis)
            assert light[axis]["low_data"] == full[axis]["low_data"]
            assert light[axis]["of"] == full[axis]["of"]


def test_marking_instead_of_withholding(small, tmp_path):  # noqa: F811
    fw = tmp_path / "fw.yaml"
    fw.write_text(WORLD.replace("low_data: {min_coverage: 0.6}", "low_data: {min_coverage: 0.6, rank: mark}"),
                  encoding="utf-8")
    small.build_index(str(fw), replications=0)
    d = small.index_show("d")["axes"]["sustainability"]
    assert d["rank"] is not None and d["low_data"] and "withheld" not in d["note"]
    r = small.index_rank(axis="sustainability")
    assert r["count"] == 4 and any(x["low_data"] for x in r["rows"])


def test_coverage_and_the_rule_are_the_named_builds(small, tmp_path):  # noqa: F811
    """Two builds side by side, one withholding, one marking: each reading (show, rank, the
    profile's brief, export) takes the rule, ranks and coverage of the build it names,
    the published one by default."""
    withhold, mark = tmp_path / "withhold.yaml", tmp_path / "mark.yaml"
    withhold.write_text(WORLD, encoding="utf-8")
    mark.write_text(WORLD.replace("low_data: {min_coverage: 0.6}", "low_data: {min_coverage: 0.6, rank: mark}"),
                    encoding="utf-8")
    first = small.build_index(str(withhold), replications=0, name="withhold")
    second = small.build_index(str(mark), replications=0, name="mark")
    assert first.published and not second.published
    for build, rank_is_kept in ((None, False), ("withhold", False), ("mark", True), (second.name, True)):
        d = small.index_show("d", build=build)
        assert d["build_label"] == (build if build in ("withhold", "mark") else ("mark" if build else "withhold"))
        s = d["axes"]["sustainability"]
        assert s["coverage"] == 0.0 and s["low_data"] and (s["rank"] is not None) == rank_is_kept, build
        assert d["low_data_rule"]["rank"] == ("mark" if rank_is_kept else "withhold")
        light = brief(small.store, "d", build)["axes"]["sustainability"]
        assert (light["coverage"], light["low_data"], light["rank"]) == (s["coverage"], s["low_data"], s["rank"])
        r = small.index_rank(axis="sustainability", build=build)
        assert r["low_data_rule"]["rank"] == d["low_data_rule"]["rank"]
        assert (r["withheld"] == 0) == rank_is_kept and r["build_label"] == d["build_label"]
    small.index_export(tmp_path / "out", build="mark")
    scores = pd.read_csv(tmp_path / "out" / "index_scores.csv").set_index("id")
    assert bool(scores.at["d", "sustainability_low_data"]) and pd.notna(scores.at["d", "sustainability_rank"])
    # publishing the marking build changes what the default reading shows
    small.index_publish("mark")
    assert small.index_show("d")["axes"]["sustainability"]["rank"] is not None
    assert small.index_rank(axis="sustainability")["withheld"] == 0


def test_export_carries_coverage_and_the_mark(small, tmp_path):  # noqa: F811
    fw = tmp_path / "fw.yaml"
    fw.write_text(WORLD, encoding="utf-8")
    small.build_index(str(fw), replications=0)
    small.index_export(tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "index_scores.csv").set_index("id")
    assert scores.at["d", "sustainability_coverage"] == 0 and bool(scores.at["d", "sustainability_low_data"])
    assert scores.at["a", "overall_coverage"] == 1 and not bool(scores.at["a", "overall_low_data"])


# -- the default data ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(built_home, tmp_path_factory):
    """A copy of the default store with the shipped index built (nominal ranks only: the
    review and these checks do not read rank intervals)."""
    home = tmp_path_factory.mktemp("indexcov")
    o = citydiplomacy.open(**copy_store(built_home, home), build=False)
    report = o.build_index(replications=0, publish=True)
    yield o, report, home
    o.close()


def test_lyon_gets_its_hosted_body_and_no_state_fact(built):
    o, _, _ = built
    lyon = o.index_show("Lyon")
    ind = {x["indicator"]: x for x in lyon["drivers"]["indicators"]}
    assert ind["hosted_bodies"]["raw"] >= 1  # INTERPOL
    assert "state_paris_party" not in ind
    assert ind["covenant_commitments"]["known"]
    names = [x["indicator"] for x in lyon["drivers"]["weaknesses"] + lyon["drivers"]["strengths"]]
    assert "hosted_bodies" not in [x["indicator"] for x in lyon["drivers"]["weaknesses"]]
    assert all(ind[n]["known"] for n in names)


def test_paris_is_not_zero_on_digital_and_lagos_is_low_data(built):
    """Paris was 0 on the digital axis (no digital network listed it), then "low data"; with
    Eurocities' member list it has a digital record and a rank. Lagos, with no digital
    network's record, is "low data", its rank withheld, not 0."""
    o, _, _ = built
    digital = o.index_show("Paris")["axes"]["digital"]
    assert not digital["low_data"] and digital["rank"] is not None and digital["score"] > 0
    assert digital["coverage"] == 1
    digital = o.index_show("lagos-ng")["axes"]["digital"]
    assert digital["low_data"] and digital["rank"] is None and digital["coverage"] < 0.6


def test_covenant_commitments_are_observed_for_signatories(built):
    o, _, _ = built
    run = o.store.connect()
    with run as conn:
        vals = pd.DataFrame(conn.execute(select(schema.index_values.c.actor_id, schema.index_values.c.raw)
                                         .where(schema.index_values.c.indicator == "covenant_commitments")).all(),
                            columns=["id", "raw"])
    known = vals["raw"].dropna()
    # thousands of signatories with their commitments; suspended ones at 0
    assert len(known) > 5000 and known.max() >= 3 and (known == 0).any()


def test_no_city_ranked_under_the_threshold_without_a_mark(built):
    o, report, _ = built
    from citydiplomacy.indices.results import _scores, index_run

    run = index_run(o.store, report.name)
    threshold = run["summary"]["low_data"]["min_coverage"]
    cov = coverage(o.store, run, None)
    scores = _scores(o.store, run["run_id"], year=None, scored_only=True)
    for axis in ("sustainability", "digital", "engagement", "overall"):
        s = scores[scores["axis"] == axis].set_index("id")
        share = cov[axis].reindex(s.index)
        low = share < threshold - 1e-9
        assert low.sum() == report.low_data[axis] > 0
        # withheld: no rank, a reason saying low data
        assert s.loc[low, "rank"].isna().all(), axis
        assert s.loc[low, "reason"].str.startswith("low data").all(), axis
        assert s.loc[~low, "rank"].notna().all(), axis
        # and the ranking says so
        r = o.index_rank(axis=axis, top=50, low_data=True)
        assert r["withheld"] == int(low.sum())
        assert all((x["rank"] is None) == x["low_data"] for x in r["rows"])
        # ranks run 1..n among the ranked
        assert s.loc[~low, "rank"].min() == 1 and s.loc[~low, "rank"].max() <= (~low).sum()


def test_the_review_in_the_docs_is_the_build(built):
    from citydiplomacy.indices.review import BEGIN, END, face_validity, render_markdown

    o, _, _ = built
    block = render_markdown(face_validity(o.store))
    doc = (ROOT / "docs" / "indices.md").read_text(encoding="utf-8")
    shown = BEGIN + doc.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert shown == block, "docs/indices.md's review is out of date: run python scripts/index_review.py"
    review = face_validity(o.store)
    assert len(review["tables"]["overall"]["rows"]) == 25
    for axis in ("sustainability", "digital", "engagement"):
        rows = review["tables"][axis]["rows"]
        assert len(rows) == 10 and all(x["drivers"] for x in rows)
        assert all(not x["low_data"] for x in rows)


def test_cli_api_and_web_show_coverage(built):
    o, _, home = built
    env = dict(store_env(home), COLUMNS="120")
    r = subprocess.run([sys.executable, "-m", "citydiplomacy", "index", "rank", "--axis", "digital", "--top", "3"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "data coverage" in r.stdout and "withheld for low data" in r.stdout
    r = subprocess.run([sys.executable, "-m", "citydiplomacy", "index", "rank", "--axis", "digital", "--top", "2",
                        "--country", "France", "--low-data", "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=300)
    rows = json.loads(r.stdout)["rows"]
    assert {"coverage", "low_data"} <= set(rows[0])
    r = subprocess.run([sys.executable, "-m", "citydiplomacy", "index", "show", "lagos-ng"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0 and "low data" in r.stdout and "withheld" in r.stdout

    from fastapi.testclient import TestClient

    from citydiplomacy.web.app import create_app

    c = TestClient(create_app(**app_args(home)))
    j = c.get("/api/v1/index/rank", params={"axis": "digital", "top": 3}).json()
    assert j["withheld"] > 0 and all("coverage" in x for x in j["rows"])
    j = c.get("/api/v1/actors/lagos-ng/index").json()
    assert j["axes"]["digital"]["low_data"] and j["axes"]["digital"]["coverage"] is not None
    page = c.get("/indices", params={"axis": "digital", "top": 5}).text
    assert "Data coverage" in page and "low data" in page
    page = c.get("/actors/lagos-ng").text
    assert "Data coverage" in page and "low data" in page and "withheld" in page


def test_the_written_review_holds(built):
    """The figures and names docs/indices.md's review quotes, on the fresh build."""
    from citydiplomacy.indices import indicators as I
    from citydiplomacy.indices.review import face_validity

    o, _, _ = built
    t = face_validity(o.store)["tables"]
    names = {axis: [x["name"] for x in t[axis]["rows"]] for axis in t}
    assert set(names["overall"][:6]) == {"Barcelona", "Berlin", "Kyiv", "Madrid", "Athens", "Istanbul"}
    assert t["overall"]["of"] == 235
    assert {"Berlin", "Barcelona", "Rotterdam", "Porto", "Heidelberg", "Valencia", "Paris"} <= set(
        names["sustainability"])
    assert set(names["digital"][:3]) == {"Berlin", "Moscow", "Barcelona"}
    london = next(x for x in t["digital"]["rows"] if x["name"] == "London")
    assert round({d["indicator"]: d["raw"] for d in london["drivers"]}["digital_networks"]) == 3
    assert o.index_show("Paris")["axes"]["digital"]["rank"] == 104
    assert t["digital"]["of"] == 271
    assert {"Shanghai", "Beijing", "Istanbul", "Rio de Janeiro", "Ankara", "Bethlehem"} <= set(names["engagement"])
    beth = {x["indicator"]: x for x in o.index_show("bethlehem-ps")["drivers"]["indicators"]}
    assert beth["twinning_partners"]["raw"] == 70 and beth["brokerage"]["position"] == 1
    paris = {x["indicator"]: x for x in o.index_show("paris-fr")["drivers"]["indicators"]}
    assert paris["twinning_partners"]["raw"] == 1 and paris["hosted_bodies"]["raw"] == 6
    # "0.28 for Mayors for Peace's 8,400 members of which the store holds 1,996" (the indicator
    # counts the 1,991 of them that are cities, the docs' figure every member the coverage counts)
    data = I.load(o.store)
    units = data.actors.index[data.actors["kind"] == "city"]
    units = pd.Index(sorted(set(units) & set(I.edges(data, ["twinned_with", "member_of", "hosts", "partner_of",
                                                            "participates_in"], None)["unit"])))
    facts = I.network_chances(data, pd.Index(["mayors-for-peace"]), units, None)
    assert facts.at["mayors-for-peace", "published"] == 8400 and facts.at["mayors-for-peace", "held"] == 1991
    assert facts.at["mayors-for-peace", "chance"] == pytest.approx(0.28, abs=0.005)
