"""The two-stage partner ranking's stage-1 signals on small hand-made graphs whose answers
are worked out by hand: the country-pair prior, a candidate's partners in the query's
country, the grid-cell twinning history (neighbours of the query twinned with neighbours
of the candidate), the union of candidates, and the ranking of that union first."""

from __future__ import annotations

import igraph as ig
import numpy as np
import pytest

from citydiplomacy.network import DiplomacyGraph
from citydiplomacy.recommend import ranker as R
from citydiplomacy.recommend.data import TrainingGraph
from citydiplomacy.recommend.model import Logistic, _Ranker

from test_recommend_signals import hand_graph, ix


def _graph(actors, ties) -> DiplomacyGraph:
    g = ig.Graph(directed=True)
    g.add_vertices(len(actors))
    g.vs["name"] = [a[0] for a in actors]
    g.vs["label"] = [a[0].title() for a in actors]
    g.vs["kind"] = [a[1] for a in actors]
    g.vs["layer"] = ["micro"] * len(actors)
    g.vs["country"] = [a[2] for a in actors]
    g.vs["lat"] = [a[3] for a in actors]
    g.vs["lon"] = [a[4] for a in actors]
    g.vs["population"] = [a[5] for a in actors]
    g.vs["axes"] = [""] * len(actors)
    pos = {a[0]: i for i, a in enumerate(actors)}
    g.add_edges([(pos[s], pos[t]) for s, t in ties])
    g.es["type"] = ["twinned_with"] * len(ties)
    g.es["since"] = [None] * len(ties)
    return DiplomacyGraph(g)


@pytest.fixture(scope="module")
def d():
    return TrainingGraph(hand_graph()).data()


def test_country_prior_and_ties_into_the_query_country(d):
    # training twinning by country pair: FRA–DEU 2 (Paris–Berlin, Lyon–Berlin), FRA–GBR 1,
    # AUT–GBR 1, AUT–DEU 1; so P(GBR | FRA) = (1 + 0.1) / (3 + 4 × 0.1)
    q = d.index_of["lyon"]
    c = ix(d, "london", "vienna", "berlin")
    ch = R.candidate_scores(d, q, c)
    assert ch["pc"][0] == pytest.approx(1.1 / 3.4)
    assert ch["pc"][1] == pytest.approx(0.1 / 3.4)
    # London is the only British actor and holds all of Britain's twinning: share 1;
    # Vienna holds Austria's 2 ties beside Graz's 0: (2 + 0.5) / (2 + 2 × 0.5)
    assert ch["share"][0] == pytest.approx(1.0)
    assert ch["share"][1] == pytest.approx(2.5 / 3.0)
    assert ch["prior"][1] == pytest.approx(0.1 / 3.4 * 2.5 / 3.0)
    # partners in France: London has Paris, Vienna none, Berlin Paris and Lyon
    assert ch["into"].tolist() == [1, 0, 2]
    # resource allocation: Lyon and Vienna share Berlin (3 partners)
    assert ch["ra"].tolist() == pytest.approx([0.0, 1 / 3, 0.0])


AREA = [  # two towns near Paris, two near Berlin, one near Munich, one in Rome
    ("a1", "city", "FRA", 48.910, 2.300, 10_000), ("a2", "city", "FRA", 48.912, 2.310, 12_000),
    ("b1", "city", "DEU", 52.510, 13.300, 20_000), ("b2", "city", "DEU", 52.512, 13.310, 22_000),
    ("far", "city", "DEU", 48.100, 11.500, 30_000), ("x", "city", "ITA", 41.9, 12.5, 50_000),
]


def test_area_pair_history_neighbours_of_the_query_twinned_near_the_candidate():
    d = TrainingGraph(_graph(AREA, [("a2", "b2"), ("a1", "x")])).data()
    cell = R._tables(d).cells[0][0]
    assert cell[d.index_of["a1"]] == cell[d.index_of["a2"]]        # the hand-picked places share a
    assert cell[d.index_of["b1"]] == cell[d.index_of["b2"]]        # 25 km cell
    q = d.index_of["a1"]
    c = ix(d, "b1", "b2", "far")
    ch = R.candidate_scores(d, q, c)
    # one tie between a1's cell and b1's cell (a2–b2), none of them a1's own
    assert ch["cellpair25"].tolist() == [1, 1, 0]
    # b2 has a partner in a1's cell (a2); b1 and far none
    assert ch["cinto25"].tolist() == [0, 1, 0]
    # a1's partners in the candidate's cell: none (its partner x is in Italy)
    assert ch["mine25"].tolist() == [0, 0, 0]
    # the query's own ties are not its area's history: from a2, b2's cell holds a2's partner
    ch2 = R.candidate_scores(d, d.index_of["a2"], ix(d, "b1"))
    assert ch2["mine25"].tolist() == [1] and ch2["cellpair25"].tolist() == [0]


def test_union_of_candidates_takes_the_best_of_each_score(d):
    q = d.index_of["lyon"]
    c = ix(d, "london", "vienna", "graz", "paris")
    ch = R.candidate_scores(d, q, c)
    u = R.candidates(ch, sizes=(1, 0, 0, 0, 0))
    assert c[u].tolist() == [d.index_of["vienna"]]          # resource allocation's best only
    u = R.candidates(ch, sizes=(0, 0, 1, 0, 0))
    best_prior = c[int(np.argmax(ch["prior"]))]
    assert c[u].tolist() == [best_prior]
    assert R.candidates(ch, sizes=(0, 0, 0, 0, 0)).tolist() == []


def test_two_stage_scores_rank_the_union_above_the_rest(d, monkeypatch):
    q = d.index_of["lyon"]
    c = ix(d, "london", "vienna", "graz", "paris")
    u, X, ch = R.stage(d, q, c)
    assert X.shape == (len(u), len(R.RANK_FEATURES))
    y = (c[u] == d.index_of["vienna"]).astype(float)
    est = _Ranker(Logistic.fit(R.RANK_FEATURES, np.vstack([X, X]), np.r_[y, y]))
    monkeypatch.setattr(R, "POOL_SIZES", (1, 0, 0, 0, 0))
    monkeypatch.setattr(R.candidates, "__defaults__", ((1, 0, 0, 0, 0),))
    s = R.score_partners(est, d, q, c)
    vienna = int(np.flatnonzero(c == d.index_of["vienna"])[0])
    assert s[vienna] == s.max() and np.sum(s == s.max()) == 1
    # the rest follow in the order of the country-pair prior
    rest = [k for k in range(len(c)) if k != vienna]
    assert np.argsort(-s[rest]).tolist() == np.argsort(-ch["prior"][rest], kind="stable").tolist()
