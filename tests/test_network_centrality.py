"""Centrality measures: NetworkX's definitions on classic graphs, published values, the
default dataset, and the stated error of sampled betweenness."""

from __future__ import annotations

import math
import random

import igraph as ig
import networkx as nx
import numpy as np
import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.network import DiplomacyGraph, build_graph
from citydiplomacy.network import centrality


def as_diplomacy_graph(G: nx.Graph, layer=lambda node, data: "micro") -> DiplomacyGraph:
    """A DiplomacyGraph of a NetworkX graph: actor ids are the node labels as strings;
    ``layer(node, data)`` gives each actor's layer. A graph with some weighted edges gets
    weight 1 on the others, as NetworkX assumes."""
    G = G.copy()
    if any("weight" in d for _, _, d in G.edges(data=True)):
        for _, _, d in G.edges(data=True):
            d.setdefault("weight", 1.0)
    g = ig.Graph.from_networkx(G)
    g.vs["name"] = [str(v) for v in G.nodes()]
    g.vs["label"] = [str(v) for v in G.nodes()]
    g.vs["kind"] = ["city"] * G.number_of_nodes()
    g.vs["layer"] = [layer(v, d) for v, d in G.nodes(data=True)]
    g.vs["country"] = [None] * G.number_of_nodes()
    return DiplomacyGraph(g)


def assert_same(ours: dict, reference: dict, tol: float = 1e-6) -> None:
    assert set(ours) == {str(k) for k in reference}
    worst = max(abs(ours[str(k)] - v) for k, v in reference.items())
    assert worst <= tol, worst


CLASSIC = {
    "karate": nx.karate_club_graph,
    "florentine": nx.florentine_families_graph,
    "kite": nx.krackhardt_kite_graph,
    # disconnected, with pendant trees, equal-λ components and an isolated actor
    "disconnected": lambda: nx.disjoint_union_all([
        nx.karate_club_graph(), nx.balanced_tree(2, 3), nx.complete_graph(5), nx.complete_graph(5),
        nx.path_graph(2), nx.empty_graph(1)]),
    # the largest eigenvalue shared by two components
    "tied": lambda: nx.disjoint_union_all([
        nx.complete_graph(5), nx.path_graph(3), nx.complete_graph(5), nx.complete_graph(4)]),
}

# (our call, NetworkX's) for each measure; PageRank at a tight tolerance so that only the
# definitions are compared.
MEASURES = {
    "degree": (lambda dg: centrality.degree(dg), lambda G: dict(G.degree())),
    "strength": (lambda dg: centrality.degree(dg, weighted=True), lambda G: dict(G.degree(weight="weight"))),
    "degree_centrality": (lambda dg: centrality.degree(dg, normalized=True), nx.degree_centrality),
    "pagerank": (lambda dg: centrality.pagerank(dg), lambda G: nx.pagerank(G, tol=1e-12, max_iter=10_000)),
    "pagerank_unweighted": (lambda dg: centrality.pagerank(dg, weighted=False, damping=0.7),
                            lambda G: nx.pagerank(G, alpha=0.7, weight=None, tol=1e-12, max_iter=10_000)),
    "betweenness": (lambda dg: centrality.betweenness(dg), nx.betweenness_centrality),
    "betweenness_raw": (lambda dg: centrality.betweenness(dg, normalized=False),
                        lambda G: nx.betweenness_centrality(G, normalized=False)),
    "eigenvector": (lambda dg: centrality.eigenvector(dg),
                    lambda G: nx.eigenvector_centrality(G, tol=1e-13, max_iter=100_000)),
    "eigenvector_weighted": (lambda dg: centrality.eigenvector(dg, weighted=True),
                             lambda G: nx.eigenvector_centrality(G, weight="weight", tol=1e-13, max_iter=100_000)),
    "closeness": (lambda dg: centrality.closeness(dg), nx.closeness_centrality),
    "closeness_plain": (lambda dg: centrality.closeness(dg, wf_improved=False),
                        lambda G: nx.closeness_centrality(G, wf_improved=False)),
}


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("graph", CLASSIC)
def test_equals_networkx(graph, measure):
    G = CLASSIC[graph]()
    ours, theirs = MEASURES[measure]
    assert_same(ours(as_diplomacy_graph(G)), theirs(G))


@pytest.mark.parametrize("graph", ["karate", "florentine", "kite"])
def test_eigenvector_equals_networkx_numpy(graph):
    G = CLASSIC[graph]()
    assert_same(centrality.eigenvector(as_diplomacy_graph(G)), nx.eigenvector_centrality_numpy(G))


@pytest.mark.parametrize("graph", CLASSIC)
def test_closeness_bitwise_search_equals_networkx(graph, monkeypatch):
    # Force the 64-sources-at-a-time search that large components get.
    monkeypatch.setattr(centrality, "_BITWISE_MIN", 1)
    G = CLASSIC[graph]()
    assert_same(centrality.closeness(as_diplomacy_graph(G)), nx.closeness_centrality(G), tol=1e-12)


def test_directed_multigraph_is_made_simple():
    # Reciprocal and parallel ties become one edge with summed weight; loops are dropped.
    g = ig.Graph(n=4, edges=[(0, 1), (1, 0), (0, 1), (1, 2), (2, 3), (3, 3)], directed=True)
    g.vs["name"] = list("abcd")
    g.es["weight"] = [1.0, 2.0, 0.5, 1.0, 3.0, 9.0]
    g.es["type"] = ["twinned_with", "twinned_with", "member_of", "located_in", "hosts", "hosts"]
    dg = DiplomacyGraph(g)
    G = nx.Graph()
    G.add_nodes_from("abcd")
    G.add_weighted_edges_from([("a", "b", 3.5), ("b", "c", 1.0), ("c", "d", 3.0)])
    assert centrality.degree(dg) == {"a": 1, "b": 2, "c": 2, "d": 1}
    assert_same(centrality.degree(dg, weighted=True), dict(G.degree(weight="weight")))
    assert_same(centrality.pagerank(dg), nx.pagerank(G, tol=1e-12))
    assert_same(centrality.eigenvector(dg, weighted=True), nx.eigenvector_centrality_numpy(G, weight="weight"))
    assert_same(centrality.closeness(dg), nx.closeness_centrality(G))
    # in/out: ties by direction, symmetric ties both ways
    assert centrality.degree(dg, mode="in") == {"a": 1, "b": 1, "c": 1, "d": 1}
    assert centrality.degree(dg, mode="out") == {"a": 1, "b": 2, "c": 1, "d": 0}


# Published values (Zachary 1977 as tabulated by NetworkX and the SNA literature;
# Padgett's Florentine families; Krackhardt 1990's kite), to 3 decimals.
PUBLISHED = [
    ("karate", "betweenness", "0", 0.4376),
    ("karate", "betweenness", "33", 0.3041),
    ("karate", "betweenness", "32", 0.1452),
    ("karate", "closeness", "0", 0.5690),
    ("karate", "closeness", "33", 0.5500),
    ("karate", "eigenvector", "33", 0.3734),
    ("karate", "eigenvector", "0", 0.3555),
    ("karate", "pagerank_unweighted", "33", 0.1009),
    ("karate", "pagerank_unweighted", "0", 0.0970),
    ("karate", "degree", "33", 17),
    ("florentine", "betweenness", "Medici", 0.522),
    ("florentine", "betweenness", "Guadagni", 0.255),
    ("florentine", "closeness", "Medici", 0.560),
    ("florentine", "closeness", "Ridolfi", 0.500),
    ("florentine", "degree", "Medici", 6),
    ("kite", "betweenness", "7", 0.389),   # Heather, the broker
    ("kite", "betweenness", "5", 0.231),   # Fernando
    ("kite", "betweenness", "8", 0.222),   # Ike
    ("kite", "closeness", "5", 0.643),     # Fernando and Garth: closest
    ("kite", "closeness", "3", 0.600),     # Diane
    ("kite", "degree", "3", 6),            # Diane: most ties
]


@pytest.mark.parametrize("graph, measure, node, value", PUBLISHED)
def test_published_values(graph, measure, node, value):
    calls = {"pagerank_unweighted": lambda dg: centrality.pagerank(dg, weighted=False)}
    call = calls.get(measure, getattr(centrality, measure, None))
    got = call(as_diplomacy_graph(CLASSIC[graph]()))[node]
    assert got == pytest.approx(value, abs=5e-4)


def test_sampled_betweenness_is_networkx_estimate_without_pendants():
    G = nx.convert_node_labels_to_integers(nx.k_core(nx.karate_club_graph(), 2))
    est = centrality.betweenness(as_diplomacy_graph(G), sample=8, seed=5)
    assert isinstance(est, centrality.Estimate) and est.sample == 8
    assert_same(est, nx.betweenness_centrality(G, k=8, seed=5), tol=1e-12)
    assert centrality.betweenness(as_diplomacy_graph(G), sample=100) == pytest.approx(
        centrality.betweenness(as_diplomacy_graph(G)))


def test_components():
    G = CLASSIC["disconnected"]()
    comps = centrality.components(as_diplomacy_graph(G))
    assert comps.count == nx.number_connected_components(G)
    assert comps.sizes == sorted((len(c) for c in nx.connected_components(G)), reverse=True)
    assert comps.membership["0"] == 0  # karate is the largest
    assert comps.membership["0"] != comps.membership["34"]


def test_compute_rows_per_layer():
    G = nx.karate_club_graph()
    dg = as_diplomacy_graph(G, layer=lambda v, d: "meso" if d["club"] == "Officer" else "micro")
    rows = centrality.compute(dg, sample=None)
    assert [r["scope"] for r in rows] == ["all"] * 34 + ["meso"] * 17 + ["micro"] * 17
    top = rows[0]
    assert set(top) == {"scope", "id", "name", "kind", "layer", "country", "degree", "degree_rank", "pagerank",
                        "pagerank_rank", "betweenness", "betweenness_rank", "eigenvector", "eigenvector_rank",
                        "closeness", "closeness_rank"}
    assert (top["id"], top["degree"], top["degree_rank"]) == ("33", 17, 1)
    assert top["betweenness"] == pytest.approx(0.3041, abs=5e-4)
    # a layer scope holds the measures of that layer's subgraph
    meso = [v for v, d in G.nodes(data=True) if d["club"] == "Officer"]
    H = G.subgraph(meso)
    by_id = {r["id"]: r for r in rows if r["scope"] == "meso"}
    for v, value in nx.pagerank(H, tol=1e-12).items():
        assert by_id[str(v)]["pagerank"] == pytest.approx(value, abs=1e-9)
    for v, value in nx.closeness_centrality(H).items():
        assert by_id[str(v)]["closeness"] == pytest.approx(value, abs=1e-12)
    # ranks: 1 = highest, ties share the best rank
    degrees = sorted((r["degree"] for r in rows if r["scope"] == "all"), reverse=True)
    for r in rows[:34]:
        assert r["degree_rank"] == degrees.index(r["degree"]) + 1


def test_compute_top_and_sample():
    dg = as_diplomacy_graph(nx.karate_club_graph())
    rows = centrality.compute(dg, ["pagerank", "betweenness"], per_layer=False, top=3, sample=10)
    assert all(r["pagerank_rank"] <= 3 or r["betweenness_rank"] <= 3 for r in rows)
    assert len(rows) >= 3 and all("betweenness_stderr" in r for r in rows)
    assert [r["pagerank_rank"] for r in rows] == sorted(r["pagerank_rank"] for r in rows)


@pytest.mark.parametrize("call, message", [
    (lambda dg: centrality.compute(dg, ["fame"]), "unknown measure 'fame'; choose from: degree"),
    (lambda dg: centrality.compute(dg, top=0), "top must be a positive whole number"),
    (lambda dg: centrality.betweenness(dg, sample=1), "sample must be a whole number of pivots, at least 2"),
    (lambda dg: centrality.degree(dg, mode="up"), "unknown mode 'up'; choose from: all, in, out"),
    (lambda dg: centrality.pagerank(dg, damping=1.5), "damping must be between 0 and 1"),
])
def test_bad_input(call, message):
    with pytest.raises(ValidationError, match=message):
        call(as_diplomacy_graph(nx.krackhardt_kite_graph()))


# --- the default dataset ---------------------------------------------------------------


def _networkx_simple(dg: DiplomacyGraph) -> nx.Graph:
    """The undirected simple NetworkX graph of a DiplomacyGraph, built independently of
    the library: ties in either direction merged, weights summed, loops dropped."""
    G = nx.Graph()
    names = dg.g.vs["name"]
    G.add_nodes_from(names)
    for (a, b), w in zip(dg.g.get_edgelist(), dg.g.es["weight"]):
        if a != b:
            a, b = names[a], names[b]
            G.add_edge(a, b, weight=(G[a][b]["weight"] if G.has_edge(a, b) else 0.0) + w)
    return G


@pytest.fixture(scope="module")
def twinned(obs):
    return build_graph(obs.store, tie_types=["twinned_with"])


def test_dataset_pagerank_within_networkx_tolerance(twinned):
    G = _networkx_simple(twinned)
    n, alpha = G.number_of_nodes(), 0.85
    ours = centrality.pagerank(twinned)
    assert sum(ours.values()) == pytest.approx(1.0, abs=1e-9)
    for tol in (1e-6, 1e-10):  # NetworkX's default, and a tight one
        theirs = nx.pagerank(G, alpha=alpha, tol=tol, max_iter=1000)
        # NetworkX stops once a step moves the vector by less than n·tol (L1); the
        # iteration contracts by alpha, so it is then within alpha/(1 - alpha)·n·tol of
        # the exact PageRank.
        l1 = sum(abs(ours[v] - p) for v, p in theirs.items())
        assert l1 <= alpha / (1 - alpha) * n * tol, (tol, l1)


def test_dataset_closeness_equals_networkx(twinned):
    G = _networkx_simple(twinned)
    ours = centrality.closeness(twinned)
    nodes = random.Random(1).sample(sorted(G), 200) + sorted(ours, key=ours.get)[-20:]
    for v in nodes:
        assert ours[v] == pytest.approx(nx.closeness_centrality(G, u=v), abs=1e-12), v


def test_dataset_closeness_full_graph(obs):
    # The whole graph: one component of 40 000 actors, searched on its 2-core.
    dg = build_graph(obs.store)
    G = _networkx_simple(dg)
    ours = centrality.closeness(dg)
    for v in random.Random(2).sample(sorted(G), 12):
        assert ours[v] == pytest.approx(nx.closeness_centrality(G, u=v), abs=1e-12), v


def test_sampled_betweenness_within_stated_error(obs):
    # A mid-size graph: the French cities' twinning and located_in ties (4,240 actors).
    dg = build_graph(obs.store, tie_types=["twinned_with", "located_in"], country="FRA")
    assert 3000 < dg.g.vcount() < 6000
    exact = centrality.betweenness(dg)
    est = centrality.betweenness(dg, sample=200, seed=0)
    err = np.array([est[v] - exact[v] for v in exact])
    stderr = np.array([est.stderr[v] for v in exact])
    # the guarantee: every actor within the simultaneous 95 % bound
    assert np.abs(err).max() <= est.bound
    assert est.bound == pytest.approx(math.sqrt(math.log(2 * len(exact) / 0.05) / (2 * 199)), rel=0.05)
    # the standard errors account for the squared error in aggregate
    assert 0.5 <= (err ** 2).sum() / (stderr ** 2).sum() <= 2.0
    # and the estimate ranks the leading brokers like the exact value
    top_exact = sorted(exact, key=exact.get)[-10:]
    top_est = sorted(est, key=est.get)[-20:]
    assert len(set(top_exact) & set(top_est)) >= 8


def test_dataset_compute_layers(obs):
    dg = build_graph(obs.store)
    rows = centrality.compute(dg, ["degree", "pagerank"], top=5)
    scopes = {r["scope"] for r in rows}
    assert scopes == {"all", "macro", "meso", "micro"}
    for r in rows:
        assert r["scope"] == "all" or r["layer"] == r["scope"]
    best = [r for r in rows if r["scope"] == "all"][0]
    assert best["degree_rank"] == 1 and best["kind"] in ("state", "international_organization", "city_network")
    comps = centrality.components(dg)
    assert sum(comps.sizes) == dg.g.vcount() == len(comps.membership)
    assert comps.sizes[0] > 0.9 * dg.g.vcount()  # one system, apart from isolated actors
