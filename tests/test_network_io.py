"""Graph exports (GraphML, GEXF, node-link JSON, GeoJSON), the membership projection
with GaWC connectivity, and Leiden communities."""

from __future__ import annotations

import json
import math
from collections import Counter

import igraph as ig
import networkx as nx
import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.network import DiplomacyGraph, build_graph
from citydiplomacy.network.graph import EDGE_ATTRS, VERTEX_ATTRS
from citydiplomacy.network.io import write_geojson, write_gexf, write_graph, write_graphml, write_node_link
from citydiplomacy.network.projection import communities, membership_projection

EDGE_DEFAULTS = {"since": None, "until": None, "status": "active", "axes": "", "weight": 1.0,
                 "source_name": "hand-made", "licence": "CC0"}


def make_graph(vertices: list[dict], edges: list[tuple[str, str, dict]], *, directed: bool = True) -> DiplomacyGraph:
    """A DiplomacyGraph from vertex dicts (``name`` plus any of VERTEX_ATTRS) and edges."""
    g = ig.Graph(directed=directed)
    g.add_vertices(len(vertices))
    g.vs["name"] = [v["name"] for v in vertices]
    for a in VERTEX_ATTRS:
        g.vs[a] = [v.get(a, "" if a == "axes" else None) for v in vertices]
    pos = {v["name"]: i for i, v in enumerate(vertices)}
    g.add_edges([(pos[s], pos[t]) for s, t, _ in edges])
    for a in EDGE_ATTRS:
        g.es[a] = [attrs.get(a, EDGE_DEFAULTS.get(a)) for _, _, attrs in edges]
    return DiplomacyGraph(g, {"country": None, "tie_types": ["member_of", "hosts", "twinned_with"]})


@pytest.fixture
def small():
    """Two cities, a network, a state and a framework: None values, an empty axes, a
    float population, and parallel member_of/hosts ties from Madrid to C40."""
    return make_graph(
        [
            {"name": "madrid-es", "label": "Madrid", "kind": "city", "layer": "micro", "country": "ESP",
             "lat": 40.4165, "lon": -3.70256, "population": 3255944, "axes": "sustainability"},
            {"name": "lisbon-pt", "label": "Lisboa", "kind": "city", "layer": "micro", "country": "PRT",
             "lat": 38.71667, "lon": -9.13333, "population": None},
            {"name": "c40", "label": "C40 Cities", "kind": "city_network", "layer": "micro",
             "axes": "sustainability"},
            {"name": "esp", "label": "Spain", "kind": "state", "layer": "meso", "country": "ESP",
             "population": 47351567, "axes": "engagement"},
            {"name": "sdg-11", "label": None, "kind": "framework", "layer": "macro"},
        ],
        [
            ("madrid-es", "c40", {"type": "member_of", "since": "2005", "axes": "sustainability"}),
            ("madrid-es", "c40", {"type": "hosts", "since": "2011-05", "licence": None}),
            ("madrid-es", "lisbon-pt", {"type": "twinned_with", "since": "1979", "until": None}),
            ("lisbon-pt", "c40", {"type": "member_of", "weight": 2.5, "status": "dormant"}),
            ("madrid-es", "esp", {"type": "located_in", "source_name": None}),
            ("esp", "sdg-11", {"type": "signatory_of", "status": None}),
        ],
    )


@pytest.fixture(scope="module")
def real_graphs(obs):
    return {
        "IS": build_graph(obs.store, country="IS"),
        "PT": build_graph(obs.store, tie_types=["twinned_with", "member_of"], country="PT"),
        "GB": build_graph(obs.store, tie_types=["member_of", "hosts"], country="GB"),
    }


def present(d: dict) -> dict:
    """Attributes with a value: the files leave None and "" out (see network.io)."""
    return {k: v for k, v in d.items() if v is not None and v != ""}


def nx_view(G) -> tuple[dict, Counter]:
    nodes = {n: present(d) for n, d in G.nodes(data=True)}
    edges = Counter((u, v, frozenset(present(d).items())) for u, v, d in G.edges(data=True))
    return nodes, edges


def as_multi(G):
    return G if G.is_multigraph() else nx.MultiDiGraph(G)


def parallel_pairs(dg: DiplomacyGraph) -> int:
    return sum(1 for n in Counter(dg.g.get_edgelist()).values() if n > 1)


# -- GraphML and GEXF read back by NetworkX and igraph ---------------------------------

def check_graphml(dg: DiplomacyGraph, path) -> None:
    write_graphml(dg, path)
    expected = dg.to_networkx()
    G = nx.read_graphml(path, force_multigraph=True)
    assert isinstance(G, nx.MultiDiGraph)
    assert list(G) == dg.ids
    assert nx_view(G) == nx_view(expected)
    # keys too: parallel edges are numbered 0, 1, ... per pair as to_networkx does
    assert sorted((u, v, k, d.get("type")) for u, v, k, d in G.edges(keys=True, data=True)) == \
        sorted((u, v, k, d.get("type")) for u, v, k, d in expected.edges(keys=True, data=True))
    # without force_multigraph NetworkX picks a multigraph exactly when there are parallel edges
    assert nx.read_graphml(path).is_multigraph() == (parallel_pairs(dg) > 0)


def same_igraph_value(original, read) -> bool:
    if original is None or original == "":
        return read == "" or (isinstance(read, float) and math.isnan(read))
    if isinstance(original, (int, float)):
        return float(original) == read
    return original == read


def check_igraph(dg: DiplomacyGraph, path) -> None:
    h = ig.Graph.Read_GraphML(str(path))
    g = dg.g
    assert h.is_directed() and h.vcount() == g.vcount() and h.ecount() == g.ecount()
    assert h.vs["id"] == dg.ids
    assert h.get_edgelist() == g.get_edgelist()
    for a in VERTEX_ATTRS:
        assert all(same_igraph_value(x, y) for x, y in zip(g.vs[a], h.vs[a])), a
    for a in EDGE_ATTRS:
        assert all(same_igraph_value(x, y) for x, y in zip(g.es[a], h.es[a])), a
    assert json.loads(h["filters"]) == {k: v for k, v in dg.filters.items() if v is not None}


def check_gexf(dg: DiplomacyGraph, path) -> None:
    write_gexf(dg, path)
    G = as_multi(nx.read_gexf(path))
    assert list(G) == dg.ids
    for _, _, d in G.edges(data=True):
        d.pop("id")  # the GEXF edge id NetworkX reports as an attribute
    assert nx_view(G) == nx_view(dg.to_networkx())


def test_graphml_round_trip_small(small, tmp_path):
    path = tmp_path / "small.graphml"
    check_graphml(small, path)
    check_igraph(small, path)
    G = nx.read_graphml(path)
    assert sorted(d["type"] for d in G.get_edge_data("madrid-es", "c40").values()) == ["hosts", "member_of"]
    assert G.nodes["lisbon-pt"].get("population") is None
    assert G.nodes["madrid-es"]["population"] == 3255944
    assert "label" not in G.nodes["sdg-11"]


def test_gexf_round_trip_small(small, tmp_path):
    check_gexf(small, tmp_path / "small.gexf")
    G = nx.read_gexf(tmp_path / "small.gexf")
    assert isinstance(G, nx.MultiDiGraph)
    assert sorted(d["type"] for d in G.get_edge_data("madrid-es", "c40").values()) == ["hosts", "member_of"]
    assert G.nodes["madrid-es"]["label"] == "Madrid" and G.nodes["sdg-11"]["label"] is None
    assert G.edges["lisbon-pt", "c40", "3"]["weight"] == 2.5


@pytest.mark.parametrize("name", ["IS", "PT", "GB"])
def test_round_trips_on_real_graphs(real_graphs, name, tmp_path):
    dg = real_graphs[name]
    assert dg.g.ecount() > 0
    check_graphml(dg, tmp_path / "g.graphml")
    check_igraph(dg, tmp_path / "g.graphml")
    check_gexf(dg, tmp_path / "g.gexf")
    write_node_link(dg, tmp_path / "g.json")
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert nx.utils.graphs_equal(nx.node_link_graph(data, edges="edges"), dg.to_networkx())


def test_real_parallel_ties_survive(real_graphs, tmp_path):
    dg = real_graphs["GB"]
    assert parallel_pairs(dg) > 0  # london-gb is a member of C40 and hosts it
    for fmt, read in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        G = read(write_graph(dg, tmp_path / f"gb.{fmt}"))
        assert sorted(d["type"] for d in G.get_edge_data("london-gb", "c40").values()) == ["hosts", "member_of"]


# -- node-link JSON and GeoJSON --------------------------------------------------------

def test_node_link_json(small, tmp_path):
    write_node_link(small, tmp_path / "small.json")
    data = json.loads((tmp_path / "small.json").read_text(encoding="utf-8"))
    assert set(data) >= {"directed", "multigraph", "nodes", "edges"} and "links" not in data
    assert data["directed"] and data["multigraph"]
    G = nx.node_link_graph(data, edges="edges")
    assert nx.utils.graphs_equal(G, small.to_networkx())
    assert G.nodes["madrid-es"]["axes"] == "sustainability"


def test_geojson(small, tmp_path):
    write_geojson(small, tmp_path / "small.geojson")
    fc = json.loads((tmp_path / "small.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection"
    kinds = Counter(f["geometry"]["type"] for f in fc["features"])
    assert kinds == {"Point": 2, "LineString": 1}  # only Madrid and Lisbon have coordinates
    point = next(f for f in fc["features"] if f["properties"]["id"] == "madrid-es")
    assert point["geometry"]["coordinates"] == [-3.70256, 40.4165]
    assert set(point["properties"]) >= {"id", "name", "kind", "layer", "country", "axes"}
    assert point["properties"]["name"] == "Madrid"
    lisbon = next(f for f in fc["features"] if f["properties"]["id"] == "lisbon-pt")
    assert lisbon["properties"]["population"] is None
    line = next(f for f in fc["features"] if f["geometry"]["type"] == "LineString")
    assert line["geometry"]["coordinates"] == [[-3.70256, 40.4165], [-9.13333, 38.71667]]
    props = line["properties"]
    assert set(props) >= {"type", "since", "until", "status", "axes", "weight", "source_name", "licence"}
    assert (props["source"], props["target"], props["type"], props["since"], props["until"]) == \
        ("madrid-es", "lisbon-pt", "twinned_with", "1979", None)


def test_geojson_real(real_graphs, tmp_path):
    dg = real_graphs["IS"]
    fc = json.loads(write_geojson(dg, tmp_path / "is.geojson").read_text(encoding="utf-8"))
    located = sum(1 for v in dg.g.vs if v["lat"] is not None and v["lon"] is not None)
    points = [f for f in fc["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == located > 0
    assert all(-180 <= f["geometry"]["coordinates"][0] <= 180 for f in points)
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    assert lines and {f["properties"]["type"] for f in lines} <= {"twinned_with", "member_of", "partner_of"}


@pytest.mark.parametrize("suffix,fmt", [("graphml", "graphml"), ("gexf", "gexf"), ("json", "json"),
                                        ("geojson", "geojson")])
def test_write_graph_dispatches(small, tmp_path, suffix, fmt):
    by_suffix = write_graph(small, tmp_path / f"a.{suffix}")
    by_fmt = write_graph(small, tmp_path / "b.out", fmt)
    assert by_suffix.stat().st_size > 0 and by_fmt.stat().st_size > 0


def test_write_graph_unknown_format(small, tmp_path):
    with pytest.raises(ValidationError, match="unknown graph format 'dot'; choose from: graphml, gexf"):
        write_graph(small, tmp_path / "a.gv", "dot")
    with pytest.raises(ValidationError, match="cannot tell the format"):
        write_graph(small, tmp_path / "noext")


# -- membership projection and GaWC connectivity ---------------------------------------

@pytest.fixture
def bipartite():
    """4 cities, 3 networks: A∈{N1 (service value 2), N2}, B∈{N1, N2, N3}, C∈{N2, N3},
    D∈{N3}; plus ties the projection must ignore."""
    city = {"kind": "city", "layer": "micro"}
    net = {"kind": "city_network", "layer": "micro"}
    vertices = [{"name": n, "label": n.upper(), "country": c, **city}
                for n, c in (("a", "ESP"), ("b", "ESP"), ("c", "FRA"), ("d", "PRT"))]
    vertices += [{"name": n, "label": n.upper(), **net} for n in ("n1", "n2", "n3")]
    vertices += [{"name": "esp", "kind": "state", "layer": "meso"},
                 {"name": "eu", "kind": "geopolitical_bloc", "layer": "macro"}]
    member = [("a", "n1", 2.0), ("a", "n2", 1.0), ("b", "n1", 1.0), ("b", "n2", 1.0), ("b", "n3", 1.0),
              ("c", "n2", 1.0), ("c", "n3", 1.0), ("d", "n3", 1.0)]
    edges = [(s, t, {"type": "member_of", "weight": w}) for s, t, w in member]
    edges += [("esp", "n1", {"type": "member_of"}),     # a state, not a city
              ("a", "eu", {"type": "member_of"}), ("d", "eu", {"type": "member_of"}),  # not a city network
              ("a", "d", {"type": "twinned_with"})]      # not a membership
    return make_graph(vertices, edges)


def edge_map(dg: DiplomacyGraph, attr: str) -> dict[frozenset, float]:
    names = dg.ids
    return {frozenset((names[e.source], names[e.target])): e[attr] for e in dg.g.es}


def test_projection_shared_counts(bipartite):
    proj, table = membership_projection(bipartite)
    assert not proj.g.is_directed()
    assert sorted(proj.ids) == ["a", "b", "c", "d"]
    assert edge_map(proj, "shared") == {frozenset("ab"): 2, frozenset("ac"): 1, frozenset("bc"): 2,
                                        frozenset("bd"): 1, frozenset("cd"): 1}
    assert edge_map(proj, "weight") == {k: float(v) for k, v in edge_map(proj, "shared").items()}
    assert edge_map(proj, "networks")[frozenset("bc")] == "n2,n3"
    gnc = {row["id"]: row["gnc"] for row in table}
    assert gnc == {"a": 3.0, "b": 5.0, "c": 4.0, "d": 2.0}
    assert [row["id"] for row in table] == ["b", "c", "a", "d"]
    assert table[0]["gnc_relative"] == 1.0 and table[-1]["gnc_relative"] == pytest.approx(0.4)
    assert {row["id"]: row["network_count"] for row in table} == {"a": 2, "b": 3, "c": 2, "d": 1}


def test_projection_gawc_interlocks(bipartite):
    proj, table = membership_projection(bipartite, weighting="gawc")
    # r_ab = Σ_j v_aj v_bj: a–b = 2·1 (N1) + 1·1 (N2) = 3
    assert edge_map(proj, "weight") == {frozenset("ab"): 3.0, frozenset("ac"): 1.0, frozenset("bc"): 2.0,
                                        frozenset("bd"): 1.0, frozenset("cd"): 1.0}
    rows = {row["id"]: row for row in table}
    assert {k: r["gnc"] for k, r in rows.items()} == {"a": 4.0, "b": 6.0, "c": 4.0, "d": 2.0}
    assert {k: round(r["gnc_relative"], 3) for k, r in rows.items()} == {"a": 0.667, "b": 1.0, "c": 0.667,
                                                                         "d": 0.333}
    assert proj.g.vs.find(name="b")["gnc"] == 6.0


def test_projection_network_kinds(bipartite):
    proj, _ = membership_projection(bipartite, network_kinds=("city_network", "geopolitical_bloc"))
    assert edge_map(proj, "networks")[frozenset("ad")] == "eu"


def test_projection_rejects_bad_input(bipartite, obs):
    with pytest.raises(ValidationError, match="unknown weighting 'gwac'; choose from: shared, gawc"):
        membership_projection(bipartite, weighting="gwac")
    with pytest.raises(ValidationError, match="build it with tie_types including 'member_of'"):
        membership_projection(build_graph(obs.store, tie_types=["twinned_with"], country="IS"))


@pytest.fixture(scope="module")
def real_projection(obs):
    return membership_projection(build_graph(obs.store, tie_types=["member_of"]))


def test_projection_real(real_projection, tmp_path):
    proj, table = real_projection
    eid = proj.g.get_eid(proj.index("barcelona-es"), proj.index("paris-fr"))
    tie = proj.g.es[eid]
    assert tie["shared"] >= 2 and {"c40", "metropolis"} <= set(tie["networks"].split(","))
    assert "C40" in tie["source_name"]
    assert table[0]["gnc_relative"] == 1.0
    assert [r["gnc"] for r in table] == sorted((r["gnc"] for r in table), reverse=True)
    assert dict(zip(proj.ids, proj.g.strength(weights="weight"))) == {r["id"]: r["gnc"] for r in table}
    # the projection exports like any graph, its extra attributes included
    G = nx.read_graphml(write_graphml(proj, tmp_path / "proj.graphml"))
    assert not G.is_directed() and G.number_of_edges() == proj.g.ecount()
    assert G.nodes["barcelona-es"]["gnc"] == proj.g.vs.find(name="barcelona-es")["gnc"]


# -- Leiden communities ----------------------------------------------------------------

@pytest.fixture(scope="module")
def karate():
    g = ig.Graph.from_networkx(nx.karate_club_graph())
    g.vs["name"] = [str(n) for n in g.vs["_nx_name"]]
    return DiplomacyGraph(g)


def test_communities_karate(karate):
    result = communities(karate, weights=None)
    # the optimum modularity of Zachary's karate club is 0.4198 (4 communities)
    assert result.modularity > 0.40
    assert result.modularity == pytest.approx(0.4198, abs=1e-3)
    assert result.quality == result.modularity
    assert sorted(g["size"] for g in result.groups) == [5, 6, 11, 12]
    assert sum(g["size"] for g in result.groups) == 34 and len(result.membership) == 34
    assert result.modularity == pytest.approx(karate.g.modularity([result.membership[n] for n in karate.ids]))
    assert result.membership["0"] != result.membership["33"]  # the instructor and the administrator


def test_communities_resolution(karate):
    coarse = communities(karate, weights=None, resolution=0.5)
    fine = communities(karate, weights=None, resolution=2.0)
    assert len(coarse.groups) < len(fine.groups)
    assert fine.quality == pytest.approx(
        karate.g.modularity([fine.membership[n] for n in karate.ids], resolution=2.0))


def test_communities_bad_weights(karate):
    with pytest.raises(ValidationError, match="no edge attribute 'strength'; pass weights=None"):
        communities(karate, weights="strength")


def test_communities_real_projection(real_projection):
    proj, _ = real_projection
    result = communities(proj)
    assert set(result.membership) == set(proj.ids)
    assert sum(g["size"] for g in result.groups) == proj.g.vcount()
    assert result.modularity > 0.3
    biggest = result.groups[0]
    assert biggest["size"] == max(g["size"] for g in result.groups)
    assert len(biggest["top"]) == 5 and biggest["countries"]
    assert communities(proj).membership == result.membership  # the seed makes it repeatable


# -- the docs stay honest ----------------------------------------------------------------

def test_docs_cover_formats_and_worked_example(real_projection):
    from pathlib import Path

    from citydiplomacy.network.io import FORMATS

    doc = (Path(__file__).parent.parent / "docs" / "network-exports.md").read_text(encoding="utf-8")
    for fmt, writer in FORMATS.items():
        assert f"`{fmt}`" in doc and writer.__name__ in doc
    _, table = real_projection
    for r in table[:5]:
        row = (f"| {r['label']} | {r['country']} | {r['network_count']} | {r['partners']} | "
               f"{r['gnc']:.0f} | {r['gnc_relative']:.3f} |")
        assert row in doc, row
