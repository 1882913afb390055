"""The axis indices from the store: each measure on a small hand-made store (expected
values worked out by hand below), the framework file and its errors, a build stored with
its provenance, show / rank / export, the CLI, and a build on the default dataset."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, select

import citydiplomacy
from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.indices import indicators as I
from citydiplomacy.indices.framework import default_text, load_framework
from citydiplomacy.model import Provenance
from citydiplomacy.store import schema

# The small world:
#   states fr (FRA; member of eu and g7; party to Paris), de (DEU; eu, g7; Paris), jp (JPN; g7)
#   macro: eu, g7 (blocs), un (organisation); networks c40 (sustainability, engagement;
#   participates in un), eurocities (sustainability, digital, engagement), smartnet (digital)
#   cities a, d in France, b, e in Germany, c in Japan
#   twinning a-b (since 1990), a-c (since 2015), b-c (ended 2010), d-b (no dates)
#   memberships a->c40, a->eurocities, b->smartnet, c->c40; a hosts un; e has no tie but its state
ACTORS = [
    ("fr", "France", "state", "meso", "FRA"), ("de", "Germany", "state", "meso", "DEU"),
    ("jp", "Japan", "state", "meso", "JPN"),
    ("eu", "European Union", "geopolitical_bloc", "macro", None), ("g7", "G7", "geopolitical_bloc", "macro", None),
    ("un", "United Nations", "international_organization", "macro", None),
    ("c40", "C40", "city_network", "micro", None), ("eurocities", "Eurocities", "city_network", "micro", None),
    ("smartnet", "Smart net", "city_network", "micro", None),
    ("a", "Aville", "city", "micro", "FRA"), ("b", "Bstadt", "city", "micro", "DEU"),
    ("c", "Cshi", "city", "micro", "JPN"), ("d", "Dville", "city", "micro", "FRA"),
    ("e", "Estadt", "city", "micro", "DEU"),
]
NET_AXES = {"c40": "sustainability,engagement", "eurocities": "sustainability,digital,engagement",
            "smartnet": "digital"}
TIES = [
    ("a", "fr", "located_in", None, None, "active"), ("d", "fr", "located_in", None, None, "active"),
    ("b", "de", "located_in", None, None, "active"), ("e", "de", "located_in", None, None, "active"),
    ("c", "jp", "located_in", None, None, "active"),
    ("fr", "eu", "member_of", None, None, "active"), ("fr", "g7", "member_of", None, None, "active"),
    ("de", "eu", "member_of", None, None, "active"), ("de", "g7", "member_of", None, None, "active"),
    ("jp", "g7", "member_of", None, None, "active"),
    ("a", "b", "twinned_with", "1990", None, "active"), ("a", "c", "twinned_with", "2015", None, "active"),
    ("b", "c", "twinned_with", "1980", "2010", "ended"), ("d", "b", "twinned_with", None, None, "active"),
    ("a", "c40", "member_of", None, None, "active"), ("a", "eurocities", "member_of", None, None, "active"),
    ("b", "smartnet", "member_of", None, None, "active"), ("c", "c40", "member_of", None, None, "active"),
    ("a", "un", "hosts", None, None, "active"), ("c40", "un", "participates_in", None, None, "active"),
]


@pytest.fixture
def small(tmp_path):
    obs = citydiplomacy.open(home=tmp_path / "home", build=False)
    st = obs.store
    with st.transaction() as conn:
        run = st.start_run(conn, "test")
        prov = st.add_provenance(conn, Provenance(source="hand-made test world", licence="CC0"), run)
        for i, name, kind, layer, country in ACTORS:
            conn.execute(insert(schema.actors).values(id=i, name=name, kind=kind, layer=layer, country=country,
                                                      axes=NET_AXES.get(i, ""), provenance_id=prov,
                                                      population={"a": 2_000_000, "b": 300_000}.get(i)))
        for s, t, typ, since, until, status in TIES:
            conn.execute(insert(schema.ties).values(source=s, target=t, type=typ, since=since, until=until,
                                                    status=status, provenance_id=prov))
        for c in ("fr", "de"):
            conn.execute(insert(schema.ties).values(source=c, target="paris", target_type="framework",
                                                    type="signatory_of", provenance_id=prov))
        for fw in ("sdg", "paris"):
            conn.execute(insert(schema.frameworks).values(id=fw, name={"en": fw}, provenance_id=prov))
        for code, fw, level in (("sdg:5", "sdg", "goal"), ("sdg:11", "sdg", "goal"), ("sdg:13", "sdg", "goal"),
                                ("sdg:11.2", "sdg", "target"), ("paris:7", "paris", "article")):
            conn.execute(insert(schema.framework_items).values(code=code, framework=fw, level=level,
                                                               provenance_id=prov))
        ini = conn.execute(insert(schema.initiatives).values(actor_id="a", title="Climate plan", axes="sustainability",
                                                             provenance_id=prov)).inserted_primary_key[0]
        for code, score in (("sdg:11", 0.9), ("sdg:13", 0.8), ("sdg:11.2", 0.9), ("paris:7", 0.7), ("sdg:5", 0.3)):
            conn.execute(insert(schema.alignments).values(initiative_id=ini, item_code=code, score=score))
        for actor, year, value in (("a", 2019, 5.0), ("a", 2020, 4.0), ("b", 2020, 8.0)):
            conn.execute(insert(schema.observations).values(actor_id=actor, indicator="co2", year=year, value=value,
                                                            unit="t", provenance_id=prov))
    yield obs
    obs.close()


CITIES = pd.Index(["a", "b", "c", "d", "e"])


def m(obs, spec, as_of=None):
    """The measure's values (NaN: not known)."""
    data = I.load(obs.store)
    return I.measure(obs.store, data, CITIES, spec, as_of, code="x").values.to_dict()


def estimate(obs, spec, as_of=None):
    """The measure's estimates of the units not known (None: the measure has none)."""
    data = I.load(obs.store)
    got = I.measure(obs.store, data, CITIES, spec, as_of, code="x").estimate
    return None if got is None else got.reindex(CITIES).to_dict()


def same(got, expected):
    assert set(got) == set(expected)
    for k, v in expected.items():
        if v is None:
            assert np.isnan(got[k]), (k, got[k])
        else:
            assert got[k] == pytest.approx(v), (k, got[k], v)


def test_twinning_counts_partners_countries_and_blocs(small):
    # b-c ended in 2010, so b has a and d, c only a; e has no twinning tie at all: not
    # known (NaN), not 0
    same(m(small, {"kind": "ties", "type": "twinned_with"}), {"a": 2, "b": 2, "c": 1, "d": 1, "e": None})
    # at the end of 2012 a-c (2015) had not started; d-b has no dates: in force. c has a
    # twinning record (ended, not yet begun): a known 0 then
    same(m(small, {"kind": "ties", "type": "twinned_with"}, "2012-12-31"),
         {"a": 1, "b": 2, "c": 0, "d": 1, "e": None})
    # in 2005 b-c was in force
    same(m(small, {"kind": "ties", "type": "twinned_with"}, "2005"), {"a": 1, "b": 3, "c": 1, "d": 1, "e": None})
    # foreign countries: a's partners are in DEU and JPN; b's two partners both in FRA
    same(m(small, {"kind": "ties", "count": "countries"}), {"a": 2, "b": 1, "c": 1, "d": 1, "e": None})
    # blocs of those countries: DEU {eu, g7} + JPN {g7} = 2 for a; FRA {eu, g7} for b, c; DEU for d
    same(m(small, {"kind": "ties", "count": "blocs"}), {"a": 2, "b": 2, "c": 2, "d": 2, "e": None})
    # hosts: without a record, not known; with absent: zero (the source lists every
    # body's seat), a known 0
    same(m(small, {"kind": "ties", "type": "hosts"}), {"a": 1, "b": None, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "ties", "type": "hosts", "absent": "zero"}), {"a": 1, "b": 0, "c": 0, "d": 0, "e": 0})
    with pytest.raises(ValidationError, match="absent 'maybe'"):
        m(small, {"kind": "ties", "absent": "maybe"})


def test_network_memberships_by_axis_and_by_id(small):
    # no network of the small world has a published member count: a city listed by none
    # of an indicator's networks is not known (NaN), its estimate the listed count, 0
    same(m(small, {"kind": "networks"}), {"a": 2, "b": 1, "c": 1, "d": None, "e": None})
    same(estimate(small, {"kind": "networks"}), {"a": None, "b": None, "c": None, "d": 0, "e": 0})
    same(m(small, {"kind": "networks", "axis": "sustainability"}), {"a": 2, "b": None, "c": 1, "d": None, "e": None})
    same(m(small, {"kind": "networks", "axis": "digital"}), {"a": 1, "b": 1, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "networks", "ids": ["c40"]}), {"a": 1, "b": None, "c": 1, "d": None, "e": None})
    with pytest.raises(ValidationError, match="nowhere-net"):
        m(small, {"kind": "networks", "ids": ["nowhere-net"]})
    # partners in digital networks: a's partner b (smartnet); b's partner a (eurocities); c's
    # partner a; d's partner b; e has no twinning record
    same(m(small, {"kind": "partners_in_networks", "axis": "digital"}), {"a": 1, "b": 1, "c": 1, "d": 1, "e": None})


def test_network_counts_follow_the_lists_coverage(small):
    """A complete list makes absence a known 0; a partial list with a published count
    gives every city it does not list the chance of being an unlisted member,
    (published - held) / units."""
    from sqlalchemy import update

    with small.store.transaction() as conn:
        conn.execute(update(schema.actors).where(schema.actors.c.id == "c40")
                     .values(attrs={"members": {"published": 2, "complete": True}}))
        conn.execute(update(schema.actors).where(schema.actors.c.id == "smartnet")
                     .values(attrs={"members": {"published": 3}}))
    # c40 complete: b, d, e are known non-members
    same(m(small, {"kind": "networks", "ids": ["c40"]}), {"a": 1, "b": 0, "c": 1, "d": 0, "e": 0})
    # smartnet lists b of about 3: each of the 4 others has a (3 - 1) / 5 = 0.4 chance
    same(m(small, {"kind": "networks", "ids": ["smartnet"]}), {"a": None, "b": 1, "c": None, "d": None, "e": None})
    same(estimate(small, {"kind": "networks", "ids": ["smartnet"]}),
         {"a": 0.4, "b": None, "c": 0.4, "d": 0.4, "e": 0.4})
    # both: b listed by smartnet, c by c40 only (+ 0.4 for smartnet), a by c40 (+ 0.4)
    same(m(small, {"kind": "networks", "ids": ["c40", "smartnet"]}),
         {"a": 1.4, "b": 1, "c": 1.4, "d": None, "e": None})
    data = I.load(small.store)
    facts = I.network_chances(data, pd.Index(["c40", "smartnet"]), CITIES, None)
    assert facts.loc["c40", "chance"] == 0 and facts.loc["smartnet", "chance"] == pytest.approx(0.4)


def test_covenant_commitments_and_status(small):
    """The commitments of a signatory in force; a suspended one counts 0; a city of a
    country without signatories is not known."""
    with small.store.transaction() as conn:
        prov = conn.execute(select(schema.provenance.c.id)).scalars().first()
        conn.execute(insert(schema.actors).values(id="covenant-of-mayors-eu", name="Covenant", kind="city_network",
                                                  layer="micro", axes="sustainability", provenance_id=prov))
        conn.execute(insert(schema.ties).values(source="a", target="covenant-of-mayors-eu", type="member_of",
                                                status="active", provenance_id=prov,
                                                attrs={"commitments": ["CoM2020", "CoM2030", "MayorsAdapt"]}))
        conn.execute(insert(schema.ties).values(source="b", target="covenant-of-mayors-eu", type="member_of",
                                                status="suspended", provenance_id=prov,
                                                attrs={"commitments": ["CoM2030"], "jrc_status": "on_hold"}))
    # a: 3 commitments; b suspended: 0; d (France) and e (Germany) are not signatories of
    # the complete list in countries it covers: 0; c (Japan): not known
    same(m(small, {"kind": "commitments"}), {"a": 3, "b": 0, "c": None, "d": 0, "e": 0})
    with pytest.raises(ValidationError, match="carries no commitments"):
        m(small, {"kind": "commitments", "network": "c40"})
    # the list is complete (the JRC's register): climate networks of d are a known 0
    same(m(small, {"kind": "networks", "ids": ["covenant-of-mayors-eu"]}),
         {"a": 1, "b": 0, "c": 0, "d": 0, "e": 0})


def test_macro_reach_counts_what_the_profile_counts(small):
    from citydiplomacy.profile import macro_reach

    # a: un (hosted), eu and g7 through France, un again through c40 -> 3
    got = m(small, {"kind": "macro_reach"})
    same(got, {"a": 3, "b": 2, "c": 2, "d": 2, "e": 2})
    for c in CITIES:
        assert got[c] == macro_reach(small.store, c)["count"]


def test_state_ties_initiatives_coverage_and_observations(small):
    same(m(small, {"kind": "state_tie", "type": "signatory_of", "target": "paris"}),
         {"a": 1, "b": 1, "c": 0, "d": 1, "e": 1})
    # only a has an initiative: the others are unknown (NaN), not zero
    same(m(small, {"kind": "coverage", "framework": "sdg"}), {"a": 2, "b": None, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "coverage", "framework": "paris"}), {"a": 1, "b": None, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "initiatives", "axis": "digital"}), {"a": 0, "b": None, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "initiatives", "axis": "sustainability"}),
         {"a": 1, "b": None, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "observation", "indicator": "co2"}), {"a": 4, "b": 8, "c": None, "d": None, "e": None})
    same(m(small, {"kind": "observation", "indicator": "co2"}, "2019-12-31"),
         {"a": 5, "b": None, "c": None, "d": None, "e": None})


def test_centrality_and_brokerage_come_from_the_network_module(small):
    pr = m(small, {"kind": "centrality", "measure": "pagerank", "types": ["twinned_with"]})
    # e is isolated: only the teleport share
    assert pr["a"] > pr["c"] > pr["e"] and pr["e"] == min(pr.values())
    br = m(small, {"kind": "brokerage", "types": ["twinned_with"], "group": "country"})
    # a mediates between b (DEU) and c (JPN), and b between a and d (both FRA): one open
    # two-path each (b-c has ended)
    assert br["a"] == 1 and br["b"] == 1 and br["c"] == 0 and np.isnan(br["e"])  # e: no twinning record
    with pytest.raises(ValidationError, match="katz"):
        m(small, {"kind": "centrality", "measure": "katz"})


def test_an_unknown_measure_kind_is_refused(small):
    with pytest.raises(ValidationError, match="measure kind 'magic'"):
        m(small, {"kind": "magic"})


# -- the framework file ------------------------------------------------------------------------

def test_the_shipped_framework_loads_with_three_axes():
    fw = load_framework()
    axes = {i.axis for i in fw.indicators}
    assert axes == {"sustainability", "digital", "engagement"}
    assert all(i.source for i in fw.indicators)
    assert any(i.direction == -1 for i in fw.indicators)
    assert fw.uncertainty.n == 1000


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("direction: -1", "direction: 2"), "indicators[17].direction"),
    (lambda t: t.replace("kind: macro_reach", "kind: telepathy"), "telepathy"),
    (lambda t: t.replace("code: brokerage", "code: pagerank"), "appears twice"),
    (lambda t: t.replace("normalisation: minmax", "normalisation: magic"), "normalisation: 'magic'"),
    (lambda t: t + "\nsurprise: 1\n", "surprise"),
    (lambda t: t.replace("indicators:", "indicators: [", 1), "not valid YAML"),
])
def test_framework_mistakes_name_the_file_and_field(tmp_path, edit, message):
    p = tmp_path / "fw.yaml"
    p.write_text(edit(default_text()), encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_framework(p)
    assert str(p) in str(exc.value) and message in str(exc.value)


def test_a_missing_or_binary_framework_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        load_framework(tmp_path / "nope.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ValidationError, match="UTF-8"):
        load_framework(tmp_path / "bin.yaml")


# -- building and reading --------------------------------------------------------------------

SMALL_FRAMEWORK = """
units: {kind: city, min_ties: 1}
low_data: {min_coverage: 0.6, rank: mark}
pipeline: {min_unit_coverage: 0.5, min_indicator_coverage: 0.1, imputation: mean, outliers: false,
           normalisation: minmax, weighting: equal, aggregation: arithmetic}
uncertainty: {n: 200, seed: 1, weight_noise: 0.2, imputations: [mean], normalisations: [minmax, rank],
              aggregations: [arithmetic], outliers: [false]}
indicators:
  - {code: partners, name: Twinning partners, axis: engagement, source: test, measure: {kind: ties}}
  - {code: reach, name: Macro reach, axis: engagement, source: test, measure: {kind: macro_reach}}
  - {code: green, name: Sustainability networks, axis: sustainability, source: test,
     measure: {kind: networks, axis: sustainability}}
  - {code: co2, name: CO2, axis: sustainability, direction: -1, source: test,
     measure: {kind: observation, indicator: co2}}
  - {code: digital, name: Digital networks, axis: digital, source: test, measure: {kind: networks, axis: digital}}
  - {code: nothing, name: Never observed, axis: digital, source: test, measure: {kind: observation, indicator: none}}
"""


def test_a_build_is_stored_with_its_choices_and_the_unscored_say_why(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    rep = small.build_index(str(fw))
    assert rep.units == 4 and rep.scored == 4
    assert "nothing" in rep.dropped_indicators
    assert sum(rep.not_scored.values()) == 1  # e: no tie
    with small.store.connect() as conn:
        run = conn.execute(select(schema.import_runs).where(schema.import_runs.c.id == rep.run_id)).one()
        assert run.kind == "index" and run.source == str(fw) and run.status == "ok"
        assert run.summary["pipeline"]["normalisation"] == "minmax"
        assert run.summary["uncertainty"]["n"] == 200
        n_scores = conn.execute(select(func.count()).select_from(schema.index_scores)).scalar()
    # 4 units x (3 axes + overall) + e's reason
    assert n_scores == 17
    # hand check: engagement = mean of the min-max normalised partners (a 2, b 2, c 1, d 1)
    # and reach (a 3, others 2): a = (100 + 100) / 2 = 100, c = (0 + 0) / 2 = 0
    a, c = small.index_show("a"), small.index_show("c")
    assert a["axes"]["engagement"]["score"] == pytest.approx(100.0)
    assert c["axes"]["engagement"]["score"] == pytest.approx(0.0)
    # co2 (lower is better): a 4 -> 100, b 8 -> 0, c and d imputed with the mean (6) -> 50;
    # green: a 2 -> 100, c 1 -> 50, b, d 0 -> 0. sustainability of b = (0 + 0) / 2 = 0
    b = small.index_show("b")
    assert b["axes"]["sustainability"]["score"] == pytest.approx(0.0)
    assert a["axes"]["sustainability"]["score"] == pytest.approx(100.0)
    co2 = {x["indicator"]: x for x in small.index_show("d")["drivers"]["indicators"]}["co2"]
    assert co2["imputed"] and co2["raw"] is None and co2["value"] == pytest.approx(50.0)
    assert a["axes"]["overall"]["rank"] == 1
    lo, hi = a["axes"]["overall"]["rank_lo"], a["axes"]["overall"]["rank_hi"]
    assert 1 <= lo <= 1 <= hi <= 4
    e = small.index_show("e")
    assert not e["scored"] and "no diplomatic tie" in e["reason"]
    assert not small.index_show("fr")["scored"]
    # a second build with other options lives beside the first, which stays published
    rep2 = small.build_index(str(fw), replications=0)
    with small.store.connect() as conn:
        runs = set(conn.execute(select(schema.index_scores.c.run_id).distinct()).scalars())
    assert runs == {rep.run_id, rep2.run_id} and rep2.replications == 0
    assert rep.published and not rep2.published and rep.name != rep2.name


def test_rank_filters_and_errors(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    small.build_index(str(fw), replications=50)
    r = small.index_rank(axis="engagement")
    assert [x["id"] for x in r["rows"]][0] == "a" and r["count"] == 4
    assert [x["id"] for x in small.index_rank(country="Germany")["rows"]] == ["b"]
    assert {x["id"] for x in small.index_rank(bloc="eu")["rows"]} == {"a", "b", "d"}
    assert {x["id"] for x in small.index_rank(region="asia")["rows"]} == {"c"}
    assert {x["id"] for x in small.index_rank(band="1M–5M")["rows"]} == {"a"}
    for kwargs, field in (({"axis": "happiness"}, "axis"), ({"region": "Atlantis"}, "region"),
                          ({"bloc": "nato"}, "bloc"), ({"country": "Narnia"}, "country"),
                          ({"band": "huge"}, "band"), ({"year": 2020}, "year")):
        with pytest.raises(ValidationError) as exc:
            small.index_rank(**kwargs)
        assert exc.value.field == field


def test_peers_and_drivers(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    small.build_index(str(fw), replications=0)
    a = small.index_show("a")
    groups = {(p["group"], p["name"]) for p in a["peers"]}
    assert ("bloc", "eu") in groups and ("region", "Europe") in groups
    eu = next(p for p in a["peers"] if p["name"] == "eu")
    assert eu["size"] == 3 and eu["overall"]["rank"] == 1
    # a alone leads on reach, green and co2 (top 1 of 4 = 25%); it shares the top of
    # partners and digital with b (top 2 of 4 = 50%): those are its weakest
    assert {x["indicator"] for x in a["drivers"]["strengths"]} == {"reach", "green", "co2"}
    assert {x["indicator"] for x in a["drivers"]["weaknesses"]} == {"partners", "digital"}
    assert all(x["top_share"] == pytest.approx(0.5) for x in a["drivers"]["weaknesses"])
    # b has the highest CO2 per capita (8 t; lower is better): last of 4 on it
    b = {x["indicator"]: x for x in small.index_show("b")["drivers"]["indicators"]}
    assert b["co2"]["position"] == 4 and b["co2"]["top_share"] == 1.0
    assert small.index_show("b")["drivers"]["weaknesses"][0]["top_share"] == 1.0


def test_nothing_built_yet_is_a_clear_error(small):
    with pytest.raises(NotFoundError, match="citydip index build"):
        small.index_show("a")


def test_a_panel_build_scores_each_year(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK.replace("imputation: mean", "imputation: locf"), encoding="utf-8")
    rep = small.build_index(str(fw), years=[2019, 2020], replications=20)
    assert rep.years == [2019, 2020]
    a = small.index_show("a")
    assert a["year"] == 2020 and set(a["series"]["overall"]) == {2019, 2020}
    assert small.index_rank(year=2019)["year"] == 2019


def test_export_writes_scores_values_and_the_run(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    small.build_index(str(fw), replications=20)
    written = small.index_export(tmp_path / "out")
    scores = pd.read_csv(tmp_path / "out" / "index_scores.csv")
    assert {"id", "overall_score", "overall_rank", "overall_rank_lo", "engagement_score", "reason"} <= set(scores)
    assert scores.loc[scores["id"] == "e", "reason"].str.contains("no diplomatic tie").all()
    values = pd.read_csv(tmp_path / "out" / "index_values.csv")
    assert len(values) == written["index_values.csv"] and {"raw", "normalised", "imputed"} <= set(values)
    meta = json.loads((tmp_path / "out" / "index_run.json").read_text())
    assert meta["framework"] == str(fw) and meta["pipeline"]["weighting"] == "equal"
    with pytest.raises(ValidationError):
        small.index_export(tmp_path / "out2", fmt="xls")


def test_sensitivity_names_each_choice(small, tmp_path):
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    df = small.index_sensitivity(str(fw), n_base=16)
    assert {"factor", "S1", "ST"} <= set(df.columns)
    assert "normalisation" in set(df["factor"])


# -- the default dataset and the command line --------------------------------------------------

def test_the_default_dataset_is_scored_with_reasons_for_the_rest(work):
    rep = work.build_index(replications=100)
    # every city with a tie is a unit; the others are listed with the reason
    assert rep.scored > 10_000
    with work.store.connect() as conn:
        cities = conn.execute(select(func.count()).select_from(schema.actors)
                              .where(schema.actors.c.kind == "city")).scalar()
    assert rep.scored + sum(rep.not_scored.values()) == cities
    # no initiative and no observation series in the default data: those indicators are
    # dropped, and say why
    for code in ("sdg_coverage", "co2_per_capita", "egov_score", "digital_initiatives"):
        assert code in rep.dropped_indicators
    b = work.index_show("Barcelona")
    assert b["scored"] and b["axes"]["overall"]["rank"] <= 200
    lo, hi = b["axes"]["overall"]["rank_lo"], b["axes"]["overall"]["rank_hi"]
    assert lo <= b["axes"]["overall"]["rank"] <= hi or lo <= b["axes"]["overall"]["rank_median"] <= hi


def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_cli_index_commands(small, tmp_path, monkeypatch):
    import os

    env = dict(os.environ, CITYDIP_HOME=str(tmp_path / "home"))
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    r = run_cli(env, "index", "show", "a")
    assert r.returncode == 1 and "citydip index build" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(env, "index", "build", "--config", str(fw), "-n", "50")
    assert r.returncode == 0, r.stderr
    assert "scored" in r.stdout and "nothing" in r.stdout
    r = run_cli(env, "index", "show", "a")
    assert r.returncode == 0 and "engagement" in r.stdout and "rank among peers" in r.stdout
    r = run_cli(env, "index", "show", "a", "--format", "json")
    assert json.loads(r.stdout)["axes"]["overall"]["rank"] == 1
    r = run_cli(env, "index", "rank", "--axis", "digital", "--format", "csv")
    assert r.returncode == 0 and r.stdout.splitlines()[0].startswith("position,id,name")
    r = run_cli(env, "index", "rank", "--axis", "happiness")
    assert r.returncode == 1 and "axis" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(env, "index", "export", "--out", str(tmp_path / "x"))
    assert r.returncode == 0 and (tmp_path / "x" / "index_scores.csv").exists()
    r = run_cli(env, "index", "build", "--config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1 and "no such file" in r.stderr
    r = run_cli(env, "index", "build", "--years", "20x0")
    assert r.returncode == 1 and "years" in r.stderr
    r = run_cli(env, "index", "framework")
    assert r.returncode == 0 and load_framework  # the text is the shipped file
    assert r.stdout == default_text()
    for cmd in ("build", "show", "rank", "sensitivity", "export", "framework"):
        h = run_cli(env, "index", cmd, "--help")
        assert h.returncode == 0 and "Example" in h.stdout
