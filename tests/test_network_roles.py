"""Network roles: multiplex participation, Gould–Fernandez brokerage, upward reach, ego.

Small graphs whose answers are worked out by hand in the comments, then the default
dataset.
"""

from __future__ import annotations

import itertools
import random
import time

import igraph as ig
import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.network import DiplomacyGraph, build_graph
from citydiplomacy.network.brokerage import ROLES, brokerage
from citydiplomacy.network.multiplex import multiplex_summary, participation_coefficient
from citydiplomacy.network.reach import ego, reach, vertical_integration, vertical_integration_all

KIND_LAYER = {"city": "micro", "city_network": "micro", "state": "meso",
              "international_organization": "macro", "geopolitical_bloc": "macro"}


def toy(actors: dict[str, tuple[str, str | None]], ties: list[tuple[str, str, str]]) -> DiplomacyGraph:
    """A DiplomacyGraph from {id: (kind, country)} and [(source, type, target)]."""
    names = list(actors)
    g = ig.Graph(n=len(names), directed=True)
    g.vs["name"] = names
    g.vs["label"] = [n.upper() for n in names]
    g.vs["kind"] = [actors[n][0] for n in names]
    g.vs["layer"] = [KIND_LAYER[actors[n][0]] for n in names]
    g.vs["country"] = [actors[n][1] for n in names]
    pos = {n: i for i, n in enumerate(names)}
    g.add_edges([(pos[s], pos[t]) for s, _, t in ties])
    g.es["type"] = [t for _, t, _ in ties]
    g.es["weight"] = [1.0] * len(ties)
    return DiplomacyGraph(g)


def by_id(rows):
    return {r["id"]: r for r in rows}


# --- multiplex participation -------------------------------------------------------

@pytest.fixture
def multiplex_toy():
    actors = {k: ("city", "ESP") for k in ("x", "y", "z", "w", "v")}
    actors |= {"n": ("city_network", None), "o": ("international_organization", None)}
    ties = [("x", "twinned_with", "y"), ("x", "twinned_with", "z"), ("z", "twinned_with", "w"),
            ("x", "member_of", "n"), ("x", "member_of", "n"),  # a tie renewed: still one neighbour
            ("y", "member_of", "n"), ("x", "hosts", "o"), ("x", "hosts", "n")]
    return toy(actors, ties)


def test_participation_by_hand(multiplex_toy):
    # M = 3 layers (hosts, member_of, twinned_with), so P = 3/2 * (1 - sum (k/o)^2).
    # x: twinned 2 (y, z), member 1 (n), hosts 2 (o, n); o = 5
    #    sum = (2/5)^2 + (1/5)^2 + (2/5)^2 = 0.36 -> P = 1.5 * 0.64 = 0.96
    # y: twinned 1, member 1; o = 2; sum = 0.5 -> P = 0.75
    # n: member 2 (x, y), hosts 1 (x); o = 3; sum = 4/9 + 1/9 -> P = 1.5 * 4/9 = 0.667
    # z: twinned 2 only -> 0; w, o: one layer -> 0; v: isolated -> 0
    rows = by_id(participation_coefficient(multiplex_toy))
    assert rows["x"]["degree_by_type"] == {"hosts": 2, "member_of": 1, "twinned_with": 2}
    assert rows["x"]["overlapping_degree"] == 5
    expected = {"x": 0.96, "y": 0.75, "n": 0.667, "z": 0.0, "w": 0.0, "o": 0.0, "v": 0.0}
    for aid, p in expected.items():
        assert rows[aid]["participation"] == pytest.approx(p, abs=1e-3), aid
    assert rows["v"]["overlapping_degree"] == 0
    assert rows["x"]["layer"] == "micro" and rows["x"]["name"] == "X"


def test_participation_with_chosen_types(multiplex_toy):
    # Two layers (member_of, twinned_with): x has 1 and 2 -> P = 2 * (1 - 1/9 - 4/9) = 0.889
    rows = by_id(participation_coefficient(multiplex_toy, types=["twinned_with", "member_of"]))
    assert rows["x"]["participation"] == pytest.approx(8 / 9, abs=1e-3)
    assert rows["y"]["participation"] == pytest.approx(1.0)


@pytest.mark.parametrize("types, message", [(["twinned_with"], "at least two tie types"),
                                            (["twinned_with", "cousin_of"], "unknown tie type 'cousin_of'")])
def test_participation_bad_types(multiplex_toy, types, message):
    with pytest.raises(ValidationError, match=message):
        participation_coefficient(multiplex_toy, types=types)


def test_multiplex_summary_by_hand(multiplex_toy):
    s = multiplex_summary(multiplex_toy)
    assert s["layers"] == 3 and s["actors"] == 7
    assert {t["type"]: (t["nodes"], t["edges"]) for t in s["types"]} == {
        "hosts": (3, 2),          # x-o, x-n
        "member_of": (3, 2),      # x-n, y-n
        "twinned_with": (4, 3)}   # x-y, x-z, z-w
    pair = {tuple(o["types"]): o for o in s["overlap"]}
    # x-n is both a hosts and a member_of tie: 1 shared of 3 distinct pairs
    assert pair[("hosts", "member_of")]["shared_edges"] == 1
    assert pair[("hosts", "member_of")]["jaccard"] == pytest.approx(1 / 3)
    assert pair[("hosts", "member_of")]["shared_nodes"] == 2       # x, n
    assert pair[("member_of", "twinned_with")]["shared_edges"] == 0
    assert pair[("member_of", "twinned_with")]["shared_nodes"] == 2  # x, y


# --- brokerage -------------------------------------------------------------------

@pytest.fixture
def brokerage_toy():
    # Groups (country): A = {a1, a2, a3}, B = {b1, b2}, C = {c1}.
    actors = {"a1": ("city", "A"), "a2": ("city", "A"), "a3": ("city", "A"),
              "b1": ("city", "B"), "b2": ("city", "B"), "c1": ("city", "C")}
    ties = [("a1", "member_of", "a2"), ("b1", "member_of", "a2"), ("a2", "member_of", "a3"),
            ("a3", "member_of", "a2"), ("a2", "member_of", "b2"), ("a2", "hosts", "b2"),
            ("a2", "member_of", "c1"), ("a1", "member_of", "b2"), ("b2", "member_of", "c1")]
    return toy(actors, ties)


def test_brokerage_by_hand(brokerage_toy):
    # a2: In = {a1, b1, a3}, Out = {a3, b2, c1} (the two ties a2 -> b2 make one arc).
    #   a1 a2 a3  A A A  coordinator          b1 a2 a3  B A A  gatekeeper
    #   a1 a2 b2  closed: a1 -> b2 exists     b1 a2 b2  B A B  consultant
    #   a1 a2 c1  A A C  representative       b1 a2 c1  B A C  liaison
    #   a3 a2 a3  not a pair (a = b)          a3 a2 b2  A A B  representative
    #                                         a3 a2 c1  A A C  representative
    # b2: In = {a1, a2}, Out = {c1}: a2 b2 c1 is closed (a2 -> c1); a1 b2 c1 A B C liaison.
    # a3: In = Out = {a2}: nothing. a1, b1 (no in-ties) and c1 (no out-ties): nothing.
    rows = by_id(brokerage(brokerage_toy, group="country"))
    assert {r: rows["a2"][r] for r in ROLES} == {"coordinator": 1, "consultant": 1,
                                                  "representative": 3, "gatekeeper": 1, "liaison": 1}
    assert rows["a2"]["total"] == 7 and rows["a2"]["group"] == "A"
    assert {r: rows["b2"][r] for r in ROLES} == {"coordinator": 0, "consultant": 0,
                                                  "representative": 0, "gatekeeper": 0, "liaison": 1}
    for aid in ("a1", "a3", "b1", "c1"):
        assert rows[aid]["total"] == 0
    assert [r["id"] for r in brokerage(brokerage_toy, group="country")][:2] == ["a2", "b2"]


def test_brokerage_group_mapping_and_missing(brokerage_toy):
    # Everyone in one group but c1, which has none (a group of its own): a2's open pairs
    # with b = c1 (a1 c1, b1 c1, a3 c1) are representatives, the other four coordinators.
    groups = {"a1": "g", "a2": "g", "a3": "g", "b1": "g", "b2": "g"}
    row = by_id(brokerage(brokerage_toy, group=groups))["a2"]
    assert (row["coordinator"], row["representative"], row["total"]) == (4, 3, 7)
    with pytest.raises(ValidationError, match="not an actor attribute"):
        brokerage(brokerage_toy, group="continent")


@pytest.fixture
def twinning_toy():
    # p, q in ESP; r, t in FRA; s in ITA. Twinning: p-r, q-r, s-r, t-r, p-q.
    actors = {"p": ("city", "ESP"), "q": ("city", "ESP"), "r": ("city", "FRA"),
              "s": ("city", "ITA"), "t": ("city", "FRA")}
    ties = [("p", "twinned_with", "r"), ("q", "twinned_with", "r"), ("r", "twinned_with", "s"),
            ("r", "twinned_with", "t"), ("p", "twinned_with", "q")]
    return toy(actors, ties)


def test_brokerage_undirected_by_hand(twinning_toy):
    # r's neighbours p, q, s, t; unordered pairs: {p, q} closed (twinned);
    # {p, s}, {q, s}: ESP FRA ITA -> liaison 2;
    # {p, t}, {q, t}, {s, t}: one end shares r's country -> 1/2 representative and
    # 1/2 gatekeeper each -> 1.5 and 1.5. Total 5 open pairs.
    rows = by_id(brokerage(twinning_toy, group="country", directed=False))
    assert {k: rows["r"][k] for k in (*ROLES, "total")} == {
        "coordinator": 0, "consultant": 0, "representative": 1.5, "gatekeeper": 1.5,
        "liaison": 2, "total": 5}
    assert rows["p"]["total"] == rows["q"]["total"] == rows["s"]["total"] == 0
    # Directed, a twinning is two arcs and every ordered pair counts: twice as many.
    directed = by_id(brokerage(twinning_toy, group="country"))["r"]
    assert (directed["representative"], directed["gatekeeper"], directed["liaison"]) == (3, 3, 4)


def _brute_force(dg, group, directed):
    """Gould–Fernandez straight from the definition, for checking."""
    g = dg.g
    arcs = set()
    for e in g.es:
        s, t = e.tuple
        if s != t:
            arcs.add((s, t))
            if not directed or e["type"] in ("twinned_with", "partner_of"):
                arcs.add((t, s))
    grp = [x if x is not None else ("alone", i) for i, x in enumerate(g.vs[group])]
    out = {}
    n = g.vcount()
    for v in range(n):
        c = dict.fromkeys(ROLES, 0)
        for a, b in itertools.permutations(range(n), 2):
            if v in (a, b) or (a, v) not in arcs or (v, b) not in arcs or (a, b) in arcs:
                continue
            ga, gv, gb = grp[a], grp[v], grp[b]
            role = ("coordinator" if ga == gv == gb else "consultant" if ga == gb else
                    "representative" if ga == gv else "gatekeeper" if gb == gv else "liaison")
            c[role] += 1
        out[g.vs[v]["name"]] = c if directed else {k: x / 2 for k, x in c.items()}
    return out


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_brokerage_matches_definition_on_random_graphs(seed, directed):
    rnd = random.Random(seed)
    actors = {f"v{i}": ("city", rnd.choice(["A", "B", "C", None])) for i in range(14)}
    ids = list(actors)
    ties = [(rnd.choice(ids), rnd.choice(["member_of", "twinned_with", "hosts"]), rnd.choice(ids))
            for _ in range(45)]
    dg = toy(actors, ties)
    expected = _brute_force(dg, "country", directed)
    for row in brokerage(dg, group="country", directed=directed):
        assert {k: row[k] for k in ROLES} == expected[row["id"]], row["id"]
        assert row["total"] == sum(expected[row["id"]].values())


# --- reach, vertical integration, ego ----------------------------------------------

@pytest.fixture
def reach_toy():
    actors = {"c": ("city", "S"), "x": ("city", "S"), "t": ("city", "T"), "n": ("city_network", None),
              "s": ("state", "S"), "s2": ("state", "T"), "u": ("international_organization", None),
              "e": ("geopolitical_bloc", None), "h": ("international_organization", None),
              "f": ("geopolitical_bloc", None)}
    ties = [("c", "located_in", "s"), ("x", "located_in", "s"), ("s", "member_of", "u"),
            ("s", "member_of", "e"), ("c", "member_of", "n"),
            ("e", "partner_of", "n"),    # symmetric, stored e -> n: followed n -> e too
            ("c", "hosts", "h"), ("t", "twinned_with", "c"), ("t", "located_in", "s2"),
            ("s2", "member_of", "f"), ("u", "hosts", "x")]  # never followed down to x from c
    return toy(actors, ties)


def test_reach_by_hand(reach_toy):
    # From c: h at 1 (hosts); u at 2 via s; e at 2 by two routes, c-s-e and c-n-e;
    # f at 3 via the twin t and its state s2.
    rows = by_id(reach(reach_toy, "c"))
    assert {k: r["distance"] for k, r in rows.items()} == {"h": 1, "u": 2, "e": 2, "f": 3}
    assert rows["h"]["path"] == ["c", "h"] and rows["h"]["n_intermediaries"] == 0
    assert rows["u"]["path"] == ["c", "s", "u"] and rows["u"]["ties"] == ["located_in", "member_of"]
    assert rows["u"]["path_labels"] == ["C", "S", "U"]
    assert rows["e"]["routes"] == 2 and rows["e"]["intermediaries"] == ["n", "s"]
    assert rows["e"]["path"] == ["c", "s", "e"]  # the state's route is the one shown
    assert rows["f"]["path"] == ["c", "t", "s2", "f"]
    assert rows["f"]["ties"] == ["twinned_with", "located_in", "member_of"]
    assert rows["f"]["intermediaries"] == ["s2", "t"]
    assert [r["id"] for r in reach(reach_toy, "c", max_depth=2)] == ["h", "e", "u"]
    assert [r["id"] for r in reach(reach_toy, "c", types=["located_in", "member_of"])] == ["e", "u"]


def test_vertical_integration_by_hand(reach_toy):
    # Macro layer M = {u, e, h, f}.
    # c, D = 2: h at 1, u and e at 2 -> (1 + 1/2 + 1/2) / 4 = 0.5;  D = 3 adds f: + (1/3) / 4
    # x: u and e at 2 through its state -> (1/2 + 1/2) / 4 = 0.25;  n: e at 1 -> 0.25
    assert vertical_integration(reach_toy, "c") == pytest.approx(0.5)
    assert vertical_integration(reach_toy, "c", max_depth=3) == pytest.approx(0.5 + 1 / 12)
    assert vertical_integration(reach_toy, "x") == pytest.approx(0.25)
    # e itself is left out of its own M; it reaches only n (micro) -> 0
    assert vertical_integration(reach_toy, "e") == 0.0
    # t reaches h through its twin c and f through its state s2: (1/2 + 1/2) / 4
    rows = vertical_integration_all(reach_toy)  # the cities c, x, t
    assert [(r["id"], round(r["score"], 3)) for r in rows] == [("c", 0.5), ("t", 0.25), ("x", 0.25)]
    assert rows[0]["by_distance"] == {1: 1, 2: 2} and rows[0]["reached"] == 3
    assert vertical_integration_all(reach_toy, ["n"])[0]["score"] == pytest.approx(0.25)


@pytest.mark.parametrize("mode, members", [("all", {"s", "c", "x", "u", "e"}),
                                           ("out", {"s", "u", "e"}), ("in", {"s", "c", "x"})])
def test_ego_by_hand(reach_toy, mode, members):
    sub, summary = ego(reach_toy, "s", depth=1, mode=mode)
    assert set(sub.ids) == members
    assert summary["nodes"] == len(members) and summary["ego"]["id"] == "s"
    assert sub.filters["ego"] == "s"


def test_ego_node_link_keeps_the_nearest(reach_toy):
    from citydiplomacy.network.reach import ego_node_link

    full = ego_node_link(reach_toy, "c", depth=2)
    assert not full["truncated"] and len(full["nodes"]) == 9 and len(full["edges"]) == 10
    assert [n["id"] for n in full["nodes"] if n["ego"]] == ["c"]
    # 5 kept: c (distance 0), then its four neighbours s, n, h, t (distance 1)
    small = ego_node_link(reach_toy, "c", depth=2, max_nodes=5)
    assert small["truncated"] and {n["id"] for n in small["nodes"]} == {"c", "s", "n", "h", "t"}
    assert all({e["source"], e["target"]} <= {"c", "s", "n", "h", "t"} for e in small["edges"])


def test_ego_summary_by_hand(reach_toy):
    sub, summary = ego(reach_toy, "c", depth=2)
    # depth 1: s, n, h, t; depth 2: x (via s), u, e, s2
    assert summary["by_distance"] == {0: 1, 1: 4, 2: 4}
    assert summary["by_layer"] == {"micro": 4, "meso": 2, "macro": 3}
    assert summary["edges"] == sub.g.ecount() == 10  # all but s2 -> f
    # the twinning is stored t -> c, yet it is followed outward from c as well
    assert "t" in ego(reach_toy, "c", depth=1, mode="out").graph.ids
    with pytest.raises(ValidationError, match="unknown mode 'up'"):
        ego(reach_toy, "c", mode="up")
    with pytest.raises(ValidationError, match="not in this graph"):
        ego(reach_toy, "nowhere")


# --- the default dataset -----------------------------------------------------------

@pytest.fixture(scope="module")
def dg(obs):
    return build_graph(obs.store)


def test_barcelona_reaches_un_and_eu_through_spain(dg):
    rows = by_id(reach(dg, "barcelona-es"))
    for macro in ("un", "eu"):
        assert rows[macro]["distance"] == 2
        assert rows[macro]["path"] == ["barcelona-es", "esp", macro]
        assert rows[macro]["ties"] == ["located_in", "member_of"]
        assert "esp" in rows[macro]["intermediaries"]
    assert rows["union-for-the-mediterranean"]["distance"] == 1  # Barcelona hosts its secretariat


def test_vertical_integration_ranks_barcelona_above_a_small_town(dg):
    g = dg.g
    spain = dg.index("esp")
    # a Spanish town whose only tie is to its state
    town = next(g.vs[i]["name"] for i in g.neighbors(spain, mode="in")
                if g.vs[i]["kind"] == "city" and g.degree(i) == 1)
    vi_bcn, vi_town = vertical_integration(dg, "barcelona-es"), vertical_integration(dg, town)
    assert 0 < vi_town < vi_bcn <= 1
    ranked = by_id(vertical_integration_all(dg, ["barcelona-es", town]))
    assert ranked["barcelona-es"]["score"] == pytest.approx(vi_bcn)
    assert ranked[town]["score"] == pytest.approx(vi_town)
    # the score summarises the reach table: the mean over macro actors of 1/distance
    n_macro = len(dg.g.vs.select(layer_eq="macro"))
    table = reach(dg, "barcelona-es", max_depth=2)
    assert vi_bcn == pytest.approx(sum(1 / r["distance"] for r in table) / n_macro)


def test_ego_of_c40_holds_its_member_cities(dg):
    sub, summary = ego(dg, "c40", depth=1)
    c40 = dg.index("c40")
    members = {dg.g.vs[e.source]["name"] for e in dg.g.es.select(_target=c40, type="member_of")}
    assert len(members) > 50 and members <= set(sub.ids)
    assert "barcelona-es" in members
    assert summary["by_kind"]["city"] >= len(members)


def test_brokerage_on_the_default_graph(dg):
    start = time.perf_counter()
    rows = brokerage(dg, group="layer")
    assert time.perf_counter() - start < 10
    assert len(rows) == dg.g.vcount()
    assert all(r["total"] == sum(r[k] for k in ROLES) for r in rows[:100])
    kind = dict(zip(dg.g.vs["name"], dg.g.vs["kind"]))
    # states stand between their cities (micro) and the bodies above: top gatekeepers
    gatekeepers = sorted(rows, key=lambda r: -r["gatekeeper"])[:10]
    assert all(kind[r["id"]] == "state" for r in gatekeepers)
    # grouped by country, states speak for their own cities toward international bodies
    by_country = brokerage(dg, group="country")
    representatives = sorted(by_country, key=lambda r: -r["representative"])[:10]
    assert all(kind[r["id"]] == "state" for r in representatives)


def test_participation_on_the_default_graph(dg):
    rows = by_id(participation_coefficient(dg))
    # Barcelona spreads its ties over twinning, networks, hosting and its state; Spain's
    # ties are nearly all cities located in it.
    assert rows["barcelona-es"]["participation"] > 0.5 > rows["esp"]["participation"]
    summary = multiplex_summary(dg)
    assert {t["type"] for t in summary["types"]} >= {"located_in", "member_of", "twinned_with"}
