"""The recommender's signals on a small hand-made graph whose answers are worked out by
hand (common partners, Adamic–Adar, shared networks, country history, blocs, language,
distance, membership signals), personalised PageRank against NetworkX, and the fallback
when there is too little to learn from."""

from __future__ import annotations

import math

import igraph as ig
import networkx as nx
import numpy as np
import pytest

from citydiplomacy.network import DiplomacyGraph
from citydiplomacy.recommend import signals as S
from citydiplomacy.recommend.data import TrainingGraph, population_band
from citydiplomacy.recommend.model import MEMBER_FEATURES, PARTNER_FEATURES, fit_member_model, fit_partner_model

#  id, kind, country, lat, lon, population
ACTORS = [
    ("paris", "city", "FRA", 48.8566, 2.3522, 2_100_000),
    ("london", "city", "GBR", 51.5074, -0.1278, 8_900_000),
    ("berlin", "city", "DEU", 52.52, 13.405, 3_600_000),
    ("vienna", "city", "AUT", 48.2082, 16.3738, 1_900_000),
    ("lyon", "city", "FRA", 45.764, 4.8357, 520_000),
    ("graz", "region", "AUT", 47.0707, 15.4395, None),
    ("n1", "city_network", None, None, None, None),
    ("n2", "city_network", None, None, None, None),
    ("fra", "state", "FRA", None, None, None),
    ("deu", "state", "DEU", None, None, None),
    ("aut", "state", "AUT", None, None, None),
    ("eu", "geopolitical_bloc", None, None, None, None),
]
#  source, target, type
TIES = [
    ("paris", "london", "twinned_with"), ("paris", "berlin", "twinned_with"),
    ("vienna", "london", "twinned_with"), ("vienna", "berlin", "twinned_with"),
    ("lyon", "berlin", "twinned_with"),
    ("paris", "n1", "member_of"), ("vienna", "n1", "member_of"), ("london", "n1", "member_of"),
    ("paris", "n2", "member_of"), ("lyon", "n2", "member_of"),
    ("fra", "eu", "member_of"), ("deu", "eu", "member_of"), ("aut", "eu", "member_of"),
]


def hand_graph() -> DiplomacyGraph:
    g = ig.Graph(directed=True)
    g.add_vertices(len(ACTORS))
    g.vs["name"] = [a[0] for a in ACTORS]
    g.vs["label"] = [a[0].title() for a in ACTORS]
    g.vs["kind"] = [a[1] for a in ACTORS]
    g.vs["layer"] = ["micro"] * len(ACTORS)
    g.vs["country"] = [a[2] for a in ACTORS]
    g.vs["lat"] = [a[3] for a in ACTORS]
    g.vs["lon"] = [a[4] for a in ACTORS]
    g.vs["population"] = [a[5] for a in ACTORS]
    g.vs["axes"] = ["sustainability" if a[0] == "n1" else "digital" if a[0] == "n2" else "" for a in ACTORS]
    pos = {a[0]: i for i, a in enumerate(ACTORS)}
    g.add_edges([(pos[s], pos[t]) for s, t, _ in TIES])
    g.es["type"] = [t for _, _, t in TIES]
    g.es["since"] = [None] * len(TIES)
    return DiplomacyGraph(g)


@pytest.fixture(scope="module")
def d():
    return TrainingGraph(hand_graph()).data()


def ix(d, *names):
    return np.array([d.index_of[n] for n in names])


def test_common_partners_and_neighbours(d):
    q = d.index_of["paris"]
    # Paris's partners: London, Berlin; Vienna's: London, Berlin; Lyon's: Berlin
    assert S.common_partners(d, q, ix(d, "vienna", "lyon", "graz")).tolist() == [2, 1, 0]
    # on every layer, Paris and Vienna also share the network n1
    assert S.common_neighbours(d, q, ix(d, "vienna", "lyon")).tolist() == [3, 2]


def test_adamic_adar_by_hand(d):
    q = d.index_of["paris"]
    # Paris–Vienna: London (Paris, Vienna, n1: degree 3), Berlin (Paris, Vienna, Lyon: 3),
    # n1 (Paris, Vienna, London: 3) -> 3 / log 3
    # Paris–Lyon: Berlin (3) and n2 (Paris, Lyon: 2) -> 1/log 3 + 1/log 2
    got = S.adamic_adar(d, q, ix(d, "vienna", "lyon"))
    assert got[0] == pytest.approx(3 / math.log(3), abs=1e-3)
    assert got[1] == pytest.approx(1 / math.log(3) + 1 / math.log(2), abs=1e-3)


def test_resource_allocation_and_paths_of_three_by_hand(d):
    q = d.index_of["paris"]
    # partners: London 2 (Paris, Vienna), Berlin 3 (Paris, Vienna, Lyon)
    ra = S.resource_allocation(d, q, ix(d, "vienna", "lyon"))
    assert ra.tolist() == pytest.approx([1 / 2 + 1 / 3, 1 / 3], abs=1e-3)
    # walks Paris–u–v–Berlin weighted 1/sqrt(k_u k_v): via London–Vienna and London–Paris (1/2 each),
    # Berlin–Paris and Berlin–Vienna (1/sqrt 6 each), Berlin–Lyon (1/sqrt 3); none end at Vienna
    l3 = S.paths_of_three(d, q, ix(d, "vienna", "berlin"))
    assert l3.tolist() == pytest.approx([0.0, 1.0 + 2 / math.sqrt(6) + 1 / math.sqrt(3)], abs=1e-3)


def test_shared_networks_and_preferential_attachment(d):
    q = d.index_of["paris"]
    assert S.shared_networks(d, q, ix(d, "vienna", "lyon", "london", "berlin")).tolist() == [1, 1, 1, 0]
    # degrees on every layer: Paris 4 (London, Berlin, n1, n2), Berlin 3
    assert S.preferential_attachment(d, q, ix(d, "berlin")).tolist() == [12]


def test_personalized_pagerank_is_networkx_rooted_pagerank(d):
    G = nx.Graph()
    G.add_nodes_from(range(len(d.ids)))
    coo = d.A.tocoo()
    G.add_edges_from((int(a), int(b)) for a, b in zip(coo.row, coo.col) if a < b)
    q = d.index_of["paris"]
    ours = S.personalized_pagerank(d, [q], steps=200)[:, 0]
    # isolated vertices: NetworkX sends their walk back to the root; here they hold no mass
    ref = nx.pagerank(G, alpha=1 - S.RESTART, personalization={q: 1.0}, tol=1e-12, max_iter=1000)
    connected = [v for v in G if G.degree(v) > 0]
    for v in connected:
        assert ours[v] == pytest.approx(ref[v], abs=1e-3)
    assert ours.argmax() == q and ours.sum() == pytest.approx(1.0, abs=1e-6)


def test_distance_paris_london(d):
    km = S.distance_km(d, d.index_of["paris"], ix(d, "london", "n1"))
    assert km[0] == pytest.approx(343.5, abs=1.0)        # the great-circle distance, published
    assert math.isnan(km[1])                              # a network has no location


def test_country_signals(d):
    q = d.index_of["paris"]
    c = ix(d, "lyon", "berlin", "vienna", "london")
    assert S.same_country(d, q, c).tolist() == [1, 0, 0, 0]
    assert S.neighbouring_country(d, q, c).tolist() == [0, 1, 0, 0]      # France borders Germany
    assert S.shared_blocs(d, q, c).tolist() == [1, 1, 1, 0]             # the EU; the UK's state is absent
    v = d.index_of["vienna"]
    assert S.same_language(d, v, ix(d, "berlin", "paris")).tolist() == [1, 0]   # German in both


def test_country_propensity_by_hand(d):
    # twinning ties by country pair: FRA–GBR 1, FRA–DEU 2, AUT–GBR 1, AUT–DEU 1; 5 in all
    # country totals (tie ends): FRA 3, GBR 2, DEU 3, AUT 2
    q = d.index_of["paris"]
    got = S.country_propensity(d, q, ix(d, "berlin", "vienna"))
    assert got[0] == pytest.approx(math.log((2 + 1) / (3 * 3 / 10 + 1)), abs=1e-3)
    assert got[1] == pytest.approx(math.log((0 + 1) / (3 * 2 / 10 + 1)), abs=1e-3)


def test_population_signals(d):
    q = d.index_of["paris"]
    got = S.population_log_ratio(d, q, ix(d, "lyon", "graz"))
    assert got[0] == pytest.approx(abs(math.log10(2_100_000 / 520_000)), abs=1e-3)
    assert math.isnan(got[1])
    assert [population_band(p) for p in (4_000, 60_000, 520_000, 2_100_000, None)] == \
        ["small", "medium", "large", "metropolis", None]


def test_membership_signals(d):
    n1, n2 = d.net_col[d.index_of["n1"]], d.net_col[d.index_of["n2"]]
    a = ix(d, "berlin", "lyon", "graz")
    # Berlin's partners Paris, Vienna, Lyon: Paris and Vienna are members of n1
    assert S.partners_in_network(d, a, np.full(3, n1)).tolist() == [2, 0, 0]
    # n1 = {Paris, Vienna, London}, n2 = {Paris, Lyon}: cosine 1 / sqrt(3·2)
    assert S.network_comembership(d, ix(d, "lyon"), np.array([n1]))[0] == pytest.approx(1 / math.sqrt(6), abs=1e-3)
    # n1's members by country: FRA 1, AUT 1, GBR 1
    assert S.country_share(d, ix(d, "lyon", "graz"), np.array([n1, n1])).tolist() == \
        pytest.approx([1 / 3, 1 / 3], abs=1e-3)
    # Lyon's nearest member of n1 is Paris (392 km); Paris's own nearest other member is London
    km = S.nearest_member_km(d, ix(d, "lyon", "paris"), np.array([n1, n1]))
    assert km[0] == pytest.approx(S.distance_km(d, d.index_of["lyon"], ix(d, "paris"))[0], abs=0.5)
    assert km[1] == pytest.approx(343.5, abs=1.0)
    assert S.network_popularity(d, np.array([n1, n2])).tolist() == [3, 2]


def test_too_little_to_learn_from_is_the_documented_fallback():
    tg = TrainingGraph(hand_graph())
    pm, mm = fit_partner_model(tg), fit_member_model(tg)
    assert pm.estimator is None and mm.estimator is None
    assert "fallback" in pm.method and "needed" in pm.method
    d = tg.data()
    from citydiplomacy.recommend.model import member_features, partner_features

    q = d.index_of["paris"]
    X = partner_features(d, q, ix(d, "vienna", "graz"))
    assert X.shape == (2, len(PARTNER_FEATURES))
    s = pm.score(X)
    assert s[0] > s[1]          # two common partners and a network beat nothing in common
    Xm = member_features(d, ix(d, "berlin", "graz"), np.full(2, d.net_col[d.index_of["n1"]]))
    assert Xm.shape == (2, len(MEMBER_FEATURES))
    # the documented weights: log1p of counts, km in thousands, the country share as it is
    f = dict(zip(MEMBER_FEATURES, Xm[0]))
    expected = (math.log1p(f["partners_in_network"]) + math.log1p(f["comembership"]) + 3.0 * f["country_share"]
                - 0.5 * f["nearest_member_km"] / 1000 + 0.2 * math.log1p(f["network_popularity"]))
    assert mm.score(Xm)[0] == pytest.approx(expected, abs=1e-9)
