"""Ties derived from the engagement register in the network: co_signed, met_at and
engaged_with, their weights (1/(n−1) per engagement) and dates, --as-of, the
engagement scope of the metrics, and the dynamic GEXF for Gephi's timeline."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date

import networkx as nx
import pytest
from engstore import make_store
from sqlalchemy import func, select

from citydiplomacy.errors import ValidationError
from citydiplomacy.network import build_graph
from citydiplomacy.network.io import weight_steps, write_gexf, write_graphml
from citydiplomacy.network.metrics import metrics
from citydiplomacy.store import schema

G = "{http://www.gexf.net/1.2draft}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    home = tmp_path_factory.mktemp("engnet")
    s = make_store(home / "citydip.sqlite")
    yield s
    s.close()


def edges(dg, *types) -> dict[tuple[str, str, str], dict]:
    names = dg.g.vs["name"]
    return {(*sorted((names[e.source], names[e.target])), e["type"]): e.attributes() for e in dg.g.es
            if not types or e["type"] in types}


def test_the_default_graph_has_no_derived_ties_and_none_is_stored(store):
    dg = build_graph(store)
    assert sorted(dg.g.es["type"]) == ["member_of", "member_of", "partner_of", "twinned_with"]
    assert "engagements" not in dg.filters and "timeline" not in dg.g.es.attributes()
    assert build_graph(store, engagements=True).g.es.select(type="met_at")["timeline"] == [None] * 3
    before = _ties(store)
    build_graph(store, engagements=True)
    assert _ties(store) == before == 4


def _ties(store) -> int:
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.ties)).scalar()


def test_co_signed_pairs_weigh_one_over_n_minus_one_and_begin_at_the_later_signature(store):
    e = edges(build_graph(store, engagements=True), "co_signed")
    # decl: 4 signatories → 6 pairs of 1/3; decl2 adds 1 to alpha–beta; the organiser signs nothing
    assert set(e) == {("alpha", "beta", "co_signed"), ("alpha", "delta", "co_signed"),
                      ("alpha", "gamma", "co_signed"), ("beta", "delta", "co_signed"),
                      ("beta", "gamma", "co_signed"), ("delta", "gamma", "co_signed")}
    assert e["alpha", "delta", "co_signed"]["weight"] == pytest.approx(1 / 3)
    assert e["alpha", "delta", "co_signed"]["since"] == "2015-12-01"     # Delta: the declaration's date
    assert e["beta", "gamma", "co_signed"]["since"] == "2018-03"         # the later of 2016 and 2018-03
    ab = e["alpha", "beta", "co_signed"]
    assert ab["weight"] == pytest.approx(1 + 1 / 3) and ab["engagements"] == 2 and ab["since"] == "2010"
    assert json.loads(ab["timeline"]) == [["2010", None, 1.0], ["2016", None, pytest.approx(1 / 3)]]
    assert ab["axes"] == "digital,sustainability" and ab["source_name"].startswith("engagement register")
    # each signatory of decl gains a strength of 1 from it
    strength = sum(v["weight"] for k, v in e.items() if "gamma" in k[:2])
    assert strength == pytest.approx(1.0)


def test_met_at_joins_every_party_of_an_event_and_the_agreement_lives_from_start_to_end(store):
    dg = build_graph(store, engagements=True)
    met = edges(dg, "met_at")
    assert set(met) == {("alpha", "epsilon", "met_at"), ("alpha", "gamma", "met_at"), ("epsilon", "gamma", "met_at")}
    assert all(v["weight"] == pytest.approx(0.5) and v["since"] == "2019-05-02" and v["until"] is None
               for v in met.values())
    assert not edges(dg, "engaged_with")              # completed in 2023: not in force now
    assert edges(build_graph(store, engagements=True, include_ended=True), "engaged_with")


@pytest.mark.parametrize("as_of, expected", [
    ("2012", {"co_signed": 1}),                       # decl2 alone
    ("2017", {"co_signed": 3}),                       # alpha, beta, delta had signed decl
    ("2019", {"co_signed": 6, "met_at": 3}),
    ("2021", {"co_signed": 6, "met_at": 3, "engaged_with": 1}),
    ("2023-06", {"co_signed": 6, "met_at": 3, "engaged_with": 1}),   # until 2023: through 2023
    ("2024", {"co_signed": 6, "met_at": 3}),
])
def test_as_of_keeps_the_derived_ties_in_force_then(store, as_of, expected):
    dg = build_graph(store, engagements=True, as_of=as_of)
    got = {}
    for t in dg.g.es["type"]:
        if t in ("co_signed", "met_at", "engaged_with"):
            got[t] = got.get(t, 0) + 1
    assert got == expected
    if as_of == "2017":
        assert edges(dg, "co_signed")["alpha", "beta", "co_signed"]["weight"] == pytest.approx(4 / 3)


def test_a_derived_type_named_alone_and_the_cap_on_parties(store):
    dg = build_graph(store, tie_types=["co_signed"])
    assert set(dg.g.es["type"]) == {"co_signed"} and dg.filters["tie_types"] == ["co_signed"]
    dg = build_graph(store, tie_types=["member_of", "met_at"])
    assert sorted(set(dg.g.es["type"])) == ["member_of", "met_at"]
    capped = build_graph(store, engagements=True, max_parties=3)
    assert capped.filters["left_out"] == {"decl": 4}
    assert len(edges(capped, "co_signed")) == 1      # decl2's pair only
    with pytest.raises(ValidationError, match="unknown type 'co_sign'"):
        build_graph(store, tie_types=["co_sign"])


def test_a_country_filter_brings_in_the_partners_through_engagements(store):
    dg = build_graph(store, country="ES", engagements=True)
    assert set(dg.g.vs["name"]) == {"delta", "alpha", "beta", "gamma"}


def test_metrics_engagement_scope_and_participation_across_derived_types(store):
    dg = build_graph(store, engagements=True, as_of="2021")
    rows, top = metrics(dg, scopes=["engagement", "all"])
    scoped = {r["id"]: r for r in rows if r["scope"] == "engagement"}
    assert set(scoped) == {"alpha", "beta", "gamma", "delta", "epsilon"}   # net and zeta have none
    assert scoped["alpha"]["degree"] == 4 and scoped["epsilon"]["degree"] == 2
    assert top[0]["scope"] == "all"
    assert metrics(dg, scopes=["engagement"])[1][0]["id"] == "alpha"
    whole = {r["id"]: r for r in rows if r["scope"] == "all"}
    assert whole["alpha"]["participation"] > 0.8       # five tie types, spread
    with pytest.raises(ValidationError, match="--engagements"):
        metrics(build_graph(store), scopes=["engagement"])
    default_scopes = {r["scope"] for r in metrics(dg, measures=["degree"])[0]}
    assert "engagement" in default_scopes and "engagement" not in {
        r["scope"] for r in metrics(build_graph(store), measures=["degree"])[0]}


def test_gexf_with_time_for_gephi(store, tmp_path):
    dg = build_graph(store, engagements=True, include_ended=True)
    path = write_gexf(dg, tmp_path / "e.gexf")
    root = ET.parse(path).getroot()
    graph = root.find(f"{G}graph")
    assert graph.get("mode") == "dynamic" and graph.get("timeformat") == "date"
    dyn = [a for a in graph.findall(f"{G}attributes") if a.get("mode") == "dynamic"]
    assert [x.get("title") for x in dyn[0]] == ["weight_over_time"]
    wid = dyn[0][0].get("id")
    by_pair = {}
    names = {n.get("id") for n in graph.find(f"{G}nodes")}
    assert {"alpha", "epsilon"} <= names
    for e in graph.find(f"{G}edges"):
        by_pair.setdefault((e.get("source"), e.get("target")), []).append(e)
    agr = [e for e in by_pair[("alpha", "epsilon")] if e.get("end")]
    assert agr[0].get("start") == "2020-01-10" and agr[0].get("end") == "2023-12-31"
    ab = [e for e in by_pair[("alpha", "beta")] if e.find(f"{G}attvalues/{G}attvalue[@for='{wid}']") is not None][0]
    steps = [(v.get("start"), v.get("end"), float(v.get("value")))
             for v in ab.find(f"{G}attvalues") if v.get("for") == wid]
    assert steps == [("2010-01-01", "2015-12-31", 1.0), ("2016-01-01", None, pytest.approx(4 / 3))]
    twin = [e for e in by_pair[("alpha", "beta")] if e.get("start") == "1990-01-01"]
    assert twin                                         # stored ties are dated too
    H = nx.read_gexf(path)
    assert H.number_of_edges() == dg.g.ecount()
    # without derived ties the export stays static, as before
    static = ET.parse(write_gexf(build_graph(store), tmp_path / "s.gexf")).getroot().find(f"{G}graph")
    assert static.get("mode") == "static" and static.get("timeformat") is None
    # GraphML carries the same columns (timeline as JSON text)
    Gm = nx.read_graphml(write_graphml(dg, tmp_path / "e.graphml"), force_multigraph=True)
    assert any(d.get("type") == "co_signed" and d.get("engagements") for _, _, d in Gm.edges(data=True))


def test_weight_steps_with_an_end_and_an_undated_engagement():
    assert weight_steps([["2019-05", "2020", 0.5], ["2020-02-03", None, 1.0]]) == [
        (date(2019, 5, 1), date(2020, 2, 2), 0.5), (date(2020, 2, 3), date(2020, 12, 31), 1.5),
        (date(2021, 1, 1), None, 1.0)]
    assert weight_steps([[None, None, 0.25], ["2001", None, 1.0]]) == [
        (None, date(2000, 12, 31), 0.25), (date(2001, 1, 1), None, 1.25)]


def test_the_cli_metrics_engagement_scope_and_export(store, tmp_path):
    import os

    from test_cli import citydip

    env = {**os.environ, "CITYDIP_HOME": str(store.path.parent), "CITYDIP_NETWORK_CACHE": "0"}
    rows = json.loads(citydip("network", "metrics", "--scope", "engagement", "--as-of", "2021", "--format", "json",
                              env=env).stdout)
    assert {r["scope"] for r in rows} == {"engagement"} and rows[0]["id"] == "alpha"
    out = tmp_path / "e.gexf"
    citydip("network", "export", "--engagements", "--out", str(out), env=env)
    assert ET.parse(out).getroot().find(f"{G}graph").get("mode") == "dynamic"


def test_the_api_metrics_engagement_scope_and_dynamic_export(store):
    from fastapi.testclient import TestClient

    from citydiplomacy.web import create_app

    with TestClient(create_app(home=store.path.parent, secret="test-secret")) as c:
        got = c.get("/api/v1/network/metrics", params={"scope": "engagement", "as_of": "2021"})
        assert got.status_code == 200, got.text
        assert got.json()["items"][0]["id"] == "alpha"
        plain = c.get("/api/v1/network/export", params={"format": "gexf"})
        engaged = c.get("/api/v1/network/export", params={"format": "gexf", "engagements": "true"})
        assert 'mode="static"' in plain.text and 'mode="dynamic"' in engaged.text
        assert "co_signed" in engaged.text and "co_signed" not in plain.text
