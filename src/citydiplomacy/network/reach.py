"""How a city reaches the macro layer, how well it is integrated upward, its ego network.

Ties are followed *upward*: in their own direction (a city is ``located_in`` its state,
a state is a ``member_of`` the UN, a city ``hosts`` a body), and symmetric ties
(``twinned_with``, ``partner_of``) either way. The routes are the channels of a city's
access to international institutions: its state, its networks, the bodies it hosts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, NamedTuple

import igraph as ig
import numpy as np

from ..errors import ValidationError
from ..vocab import SYMMETRIC_TIES
from .arrays import distinct
from .graph import DiplomacyGraph
from .multiplex import _layer_types

__all__ = ["reach", "vertical_integration", "vertical_integration_all", "vertical_integration_scores", "ego",
           "EgoNetwork"]

_SYMMETRIC = {t.value for t in SYMMETRIC_TIES}
#: Order in which tie types are preferred when one shortest route is shown among
#: several: the chain of sovereignty first, then membership, then the looser ties.
_ROUTE_PREFERENCE = ("located_in", "member_of", "participates_in", "party_to", "signatory_of", "hosts",
                     "partner_of", "funds", "twinned_with")
_RANK = {t: i for i, t in enumerate(_ROUTE_PREFERENCE)}


def _upward_graph(dg: DiplomacyGraph, types: Iterable[str] | None) -> ig.Graph:
    """The traversal graph: each tie as an arc in its direction, symmetric ties also
    reversed; edge attribute ``type``. Same vertex set and order as ``dg.g``."""
    g = dg.g
    wanted = set(_layer_types(dg, types)) if types is not None else None
    arcs, kinds = [], []
    for (s, t), typ in zip(g.get_edgelist(), g.es["type"] if g.ecount() else []):
        if s == t or (wanted is not None and typ not in wanted):
            continue
        arcs.append((s, t))
        kinds.append(typ)
        if typ in _SYMMETRIC:
            arcs.append((t, s))
            kinds.append(typ)
    h = ig.Graph(n=g.vcount(), edges=arcs, directed=True)
    h.es["type"] = kinds
    return h


class _UpwardArcs:
    """The arcs of the traversal graph (:func:`_upward_graph`) out of one vertex at a
    time, read from ``dg.g`` when asked: a search from one actor visits its surroundings,
    not the 100,000 ties of the store."""

    def __init__(self, dg: DiplomacyGraph, types: Iterable[str] | None):
        self.g = dg.g
        self.ends = self.g.get_edgelist()
        self.types = self.g.es["type"] if self.g.ecount() else []
        self.wanted = set(_layer_types(dg, types)) if types is not None else None

    def out(self, u: int) -> list[tuple[int, str]]:
        """(head, tie type) of each arc out of ``u``."""
        arcs = []
        ends, types, wanted = self.ends, self.types, self.wanted
        for e in self.g.incident(u, mode="out"):
            s, t = ends[e]
            if s != t and (wanted is None or types[e] in wanted):
                arcs.append((t, types[e]))
        for e in self.g.incident(u, mode="in"):
            typ = types[e]
            if typ in _SYMMETRIC and (wanted is None or typ in wanted):
                s, t = ends[e]
                if s != t:
                    arcs.append((s, typ))
        return arcs


def _macro(dg: DiplomacyGraph) -> list[int]:
    return [v.index for v in dg.g.vs.select(layer_eq="macro")]


def _bfs(arcs: _UpwardArcs, source: int, max_depth: int) -> tuple[dict[int, int], dict[int, dict[int, str]]]:
    """Distances from ``source`` up to ``max_depth``, and for each vertex reached its
    predecessors on shortest routes with the tie type of the step."""
    dist = {source: 0}
    preds: dict[int, dict[int, str]] = {source: {}}
    frontier = [source]
    for depth in range(1, max_depth + 1):
        nxt = []
        for u in frontier:
            for w, typ in arcs.out(u):
                if w not in dist:
                    dist[w] = depth
                    preds[w] = {}
                    nxt.append(w)
                if dist[w] == depth:
                    old = preds[w].get(u)
                    if old is None or _RANK.get(typ, 99) < _RANK.get(old, 99):
                        preds[w][u] = typ
        frontier = nxt
        if not frontier:
            break
    return dist, preds


def _route(dg: DiplomacyGraph, preds: dict[int, dict[int, str]], target: int) -> tuple[list[int], list[str]]:
    """One shortest route to ``target``: walking back, take the preferred tie type at each
    step (then the smaller id)."""
    names = dg.g.vs["name"]
    path, ties = [target], []
    v = target
    while preds[v]:
        u, typ = min(preds[v].items(), key=lambda it: (_RANK.get(it[1], 99), names[it[0]]))
        path.append(u)
        ties.append(typ)
        v = u
    return path[::-1], ties[::-1]


def _on_routes(preds: dict[int, dict[int, str]], target: int) -> tuple[set[int], int]:
    """The vertices on all shortest routes to ``target`` (the target excluded, the source
    included), and the number of routes."""
    seen: set[int] = set()
    stack = list(preds[target])
    while stack:
        u = stack.pop()
        if u not in seen:
            seen.add(u)
            stack.extend(preds[u])
    counts: dict[int, int] = {}

    def n_routes(v: int) -> int:
        if not preds[v]:
            return 1
        if v not in counts:
            counts[v] = sum(n_routes(u) for u in preds[v])
        return counts[v]

    return seen, n_routes(target)


def reach(dg: DiplomacyGraph, actor_id: str, *, max_depth: int = 3,
          types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The shortest upward routes from an actor (a city, typically) to each macro actor.

    Ties are traversed in their direction and symmetric ties (``twinned_with``,
    ``partner_of``) both ways. For each macro-layer actor m at distance
    d(c, m) <= ``max_depth`` from the city c: d(c, m), the number of shortest routes,
    one of them (the one that prefers, step by step, ``located_in`` over ``member_of``
    over ``participates_in`` ... over ``twinned_with``), and the intermediaries: the
    distinct actors x on *any* shortest route, d(c, x) + d(x, m) = d(c, m), 0 < d(c, x)
    — its state, its networks, a twin city...

    Parameters
    ----------
    dg : the graph.
    actor_id : the actor's id (``barcelona-es``).
    max_depth : the longest route followed (default 3).
    types : follow only ties of these types (default: all ties of ``dg``).

    Returns
    -------
    One row per macro actor reached, nearest first (then by id): ``{id, name, kind,
    distance, routes, path: [ids], path_labels: [names], ties: [tie types along path],
    intermediaries: [ids], n_intermediaries}``.

    Reference
    ---------
    Shortest routes by breadth-first search: E. F. Moore (1959), "The shortest path
    through a maze", Proc. Int. Symp. on the Theory of Switching, 285–292; the
    intermediaries are the vertices of the shortest-path DAG as in U. Brandes (2001),
    "A faster algorithm for betweenness centrality", J. Math. Sociol. 25(2): 163–177,
    doi:10.1080/0022250X.2001.9990249.
    """
    if max_depth < 1:
        raise ValidationError("max_depth must be at least 1", field="max_depth")
    src = dg.index(actor_id)
    dist, preds = _bfs(_UpwardArcs(dg, types), src, max_depth)
    vs = dg.g.vs
    rows = []
    for m in _macro(dg):
        if m == src or m not in dist:
            continue
        path, ties = _route(dg, preds, m)
        between, n_routes = _on_routes(preds, m)
        between.discard(src)
        rows.append({"id": vs[m]["name"], "name": vs[m]["label"], "kind": vs[m]["kind"],
                     "distance": dist[m], "routes": n_routes,
                     "path": [vs[i]["name"] for i in path],
                     "path_labels": [vs[i]["label"] for i in path], "ties": ties,
                     "intermediaries": sorted(vs[i]["name"] for i in between),
                     "n_intermediaries": len(between)})
    rows.sort(key=lambda r: (r["distance"], r["id"]))
    return rows


def _scores(dist: np.ndarray, max_depth: int, n_macro: np.ndarray) -> np.ndarray:
    """Row-wise mean of 1/d over macro actors, for 0 < d <= max_depth."""
    with np.errstate(divide="ignore"):
        inv = np.where((dist > 0) & (dist <= max_depth), 1.0 / dist, 0.0)
    return np.divide(inv.sum(axis=1), n_macro, out=np.zeros(len(inv)), where=n_macro > 0)


def vertical_integration(dg: DiplomacyGraph, actor_id: str, *, max_depth: int = 2,
                         types: Iterable[str] | None = None) -> float:
    """How well an actor is connected upward to the macro layer, in [0, 1].

    The harmonic reach of the macro layer M (the macro actors of ``dg``, the actor
    itself excluded), upward distances d(c, m) cut at ``max_depth``::

        VI(c) = 1/|M| * sum_{m in M, d(c, m) <= D} 1 / d(c, m)

    1 when the actor is tied directly to every macro actor; 1/D for each macro actor
    reached only through D steps; 0 when none is reached. A city that reaches the macro
    layer only through its state scores (macro memberships of its state) / (2 |M|);
    each body it hosts, each network tied to a further body raises it.

    Parameters
    ----------
    dg : the graph.
    actor_id : the actor's id.
    max_depth : D, the longest route counted (default 2: the city's own ties and those
        of its state, networks and partners).
    types : follow only ties of these types (default: all).

    Returns
    -------
    The score, a float in [0, 1].

    Reference
    ---------
    Harmonic centrality restricted to a target set: M. Marchiori, V. Latora (2000),
    "Harmony in the small-world", Physica A 285: 539–546,
    doi:10.1016/S0378-4371(00)00311-3; P. Boldi, S. Vigna (2014), "Axioms for
    centrality", Internet Mathematics 10: 222–262, doi:10.1080/15427951.2013.865686.
    """
    src = dg.index(actor_id)
    macro = [m for m in _macro(dg) if m != src]
    if not macro:
        return 0.0
    # only distances up to max_depth count: a search that far from the actor
    reached, _ = _bfs(_UpwardArcs(dg, types), src, max_depth)
    dist = np.array([[reached.get(m, np.inf) for m in macro]], dtype=float)
    return float(_scores(dist, max_depth, np.array([len(macro)]))[0])


def vertical_integration_all(dg: DiplomacyGraph, ids: Iterable[str] | None = None, *,
                             max_depth: int = 2, types: Iterable[str] | None = None
                             ) -> list[dict[str, Any]]:
    """:func:`vertical_integration` of many actors at once, ranked.

    One breadth-first search per macro actor over the reversed upward graph reaches
    every actor below it, so ranking all 40 000 cities costs |M| searches rather than
    one per city.

    Parameters
    ----------
    dg : the graph.
    ids : the actors to score (default: every city of ``dg``).
    max_depth : D, the longest route counted (default 2).
    types : follow only ties of these types (default: all).

    Returns
    -------
    One row per actor, highest score first (then by id): ``{id, name, kind, country,
    score, reached, by_distance: {d: macro actors at distance d}}``.

    Reference
    ---------
    M. Marchiori, V. Latora (2000), "Harmony in the small-world", Physica A 285: 539–546,
    doi:10.1016/S0378-4371(00)00311-3.
    """
    g = dg.g
    if ids is None:
        idx = [v.index for v in g.vs.select(kind_eq="city")]
    else:
        idx = [dg.index(i) for i in ids]
    macro = _macro(dg)
    if not idx:
        return []
    if macro:
        h = _upward_graph(dg, types)
        dist = np.asarray(h.distances(source=macro, target=idx, mode="in"), dtype=float).T
    else:
        dist = np.full((len(idx), 0), np.inf)
    is_macro = np.isin(idx, macro)
    scores = _scores(dist, max_depth, len(macro) - is_macro.astype(float))
    vs = g.vs
    rows = []
    for r, (i, s) in enumerate(zip(idx, scores)):
        d = dist[r]
        by = Counter(int(x) for x in d[(d > 0) & (d <= max_depth)])
        rows.append({"id": vs[i]["name"], "name": vs[i]["label"], "kind": vs[i]["kind"],
                     "country": vs[i]["country"], "score": float(s),
                     "reached": sum(by.values()), "by_distance": dict(sorted(by.items()))})
    rows.sort(key=lambda row: (-row["score"], row["id"]))
    return rows


def vertical_integration_scores(dg: DiplomacyGraph, *, max_depth: int = 2,
                                types: Iterable[str] | None = None) -> np.ndarray:
    """:func:`vertical_integration` of every actor, by vertex (the same values as
    :func:`vertical_integration_all`), for ``max_depth`` 1 or 2: the macro actors at one
    step are the heads of the actor's upward arcs, those at two steps the heads of its
    heads' arcs, so the whole store is a few array operations rather than a search
    from each macro actor (0.05 s against 0.9 s on the default data).

    Returns a float array in vertex order of ``dg.g``."""
    if max_depth not in (1, 2):
        raise ValidationError("the array form counts up to 2 steps; use vertical_integration_all",
                              field="max_depth")
    g = dg.g
    n = g.vcount()
    macro = np.zeros(n, dtype=bool)
    macro[_macro(dg)] = True
    if not n or not g.ecount():
        return np.zeros(n)
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    etypes = g.es["type"]
    keep = edges[:, 0] != edges[:, 1]
    if types is not None:
        wanted = set(_layer_types(dg, types))
        keep &= np.fromiter((t in wanted for t in etypes), dtype=bool, count=len(etypes))
    both = keep & np.fromiter((t in _SYMMETRIC for t in etypes), dtype=bool, count=len(etypes))
    src = np.concatenate([edges[keep, 0], edges[both, 1]])
    dst = np.concatenate([edges[keep, 1], edges[both, 0]])
    # one step: the distinct pairs (actor, macro actor), as sorted keys actor·n + macro
    up = macro[dst]
    one = distinct(src[up] * n + dst[up])
    scores = np.bincount(one // n, minlength=n).astype(float)
    if max_depth == 2:
        # two steps: for each arc a -> x, the macro actors one step from x
        x_of, m_of = one // n, one % n
        count = np.bincount(x_of, minlength=n)
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        via = count[dst] > 0
        a, x = src[via], dst[via]
        k = count[x]
        offsets = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        pairs_a = np.repeat(a, k)
        pairs_m = m_of[np.repeat(start[x], k) + offsets]
        two = distinct(pairs_a[pairs_a != pairs_m] * n + pairs_m[pairs_a != pairs_m])
        two = two[~np.isin(two, one, assume_unique=True)]
        scores += 0.5 * np.bincount(two // n, minlength=n)
    others = macro.sum() - macro.astype(float)       # the macro actors, the actor itself excluded
    return np.divide(scores, others, out=np.zeros(n), where=others > 0)


class EgoNetwork(NamedTuple):
    """An ego network: the induced subgraph and its summary."""

    graph: DiplomacyGraph
    summary: dict[str, Any]


def ego(dg: DiplomacyGraph, actor_id: str, *, depth: int = 2, mode: str = "all") -> EgoNetwork:
    """The ego network of an actor: everyone within ``depth`` steps, and the ties among them.

    N_k(c) = {v : d(c, v) <= k}, with d following ties outward (``mode="out"``), inward
    (``"in"``) or either way (``"all"``, the default); symmetric ties (``twinned_with``,
    ``partner_of``) are followed both ways in every mode. The graph is the subgraph of
    ``dg`` induced by N_k(c).

    Parameters
    ----------
    dg : the graph.
    actor_id : the ego's id.
    depth : k, the number of steps (default 2).
    mode : ``"all"``, ``"out"`` or ``"in"``.

    Returns
    -------
    ``EgoNetwork(graph, summary)``: a :class:`DiplomacyGraph` (its filters record
    ``ego``, ``depth`` and ``mode``) and ``{ego: {id, name, kind, layer}, depth, mode,
    nodes, edges, by_layer, by_kind, by_distance, by_tie_type}``.

    Reference
    ---------
    The ego network as the k-step neighbourhood: S. Wasserman, K. Faust (1994), *Social
    Network Analysis: Methods and Applications*, Cambridge University Press, ch. 2,
    doi:10.1017/CBO9780511815478.
    """
    if mode not in ("all", "out", "in"):
        raise ValidationError(f"unknown mode '{mode}'; choose from: all, out, in", field="mode")
    if depth < 0:
        raise ValidationError("depth must be 0 or more", field="depth")
    g = dg.g
    c = dg.index(actor_id)
    # symmetric ties are stored one way only; "out" and "in" must follow them both ways
    walk = g if mode == "all" else _upward_graph(dg, None)
    keep = sorted(walk.neighborhood(c, order=depth, mode=mode))
    dist = walk.distances(source=[c], target=keep, mode=mode)[0]
    sub = g.induced_subgraph(keep)
    v = g.vs[c]
    summary = {
        "ego": {"id": v["name"], "name": v["label"], "kind": v["kind"], "layer": v["layer"]},
        "depth": depth, "mode": mode, "nodes": sub.vcount(), "edges": sub.ecount(),
        "by_layer": dict(Counter(sub.vs["layer"]).most_common()),
        "by_kind": dict(Counter(sub.vs["kind"]).most_common()),
        "by_distance": dict(sorted(Counter(int(d) for d in dist).items())),
        "by_tie_type": dict(Counter(sub.es["type"] if sub.ecount() else []).most_common()),
    }
    return EgoNetwork(DiplomacyGraph(sub, {**dg.filters, "ego": actor_id, "depth": depth, "mode": mode}),
                      summary)


def ego_node_link(dg: DiplomacyGraph, actor_id: str, *, depth: int = 1, max_nodes: int = 300) -> dict[str, Any]:
    """The ego network (see :func:`ego`) as node-link JSON for a graph drawing: ``nodes``
    (id, label, kind, layer, country, coordinates, ``ego`` for the actor itself), ``edges``
    (source, target, type, status, dates, axes), the ``summary``, and ``truncated``. When
    the network has more than ``max_nodes`` actors, the nearest are kept: by distance to
    the ego, then most ties first, then by id."""
    eg = ego(dg, actor_id, depth=depth)
    g = eg.graph.g
    truncated = False
    if g.vcount() > max_nodes:
        me = g.vs.find(name=actor_id).index
        dist = g.distances(source=[me], mode="all")[0]
        deg = g.degree()
        order = sorted(range(g.vcount()), key=lambda i: (dist[i], -deg[i], g.vs[i]["name"]))
        g = g.induced_subgraph(order[:max_nodes])
        truncated = True
    names = g.vs["name"]
    nodes = []
    for v in g.vs:
        a = v.attributes()
        nodes.append({"id": a["name"], "label": a.get("label"), "kind": a.get("kind"), "layer": a.get("layer"),
                      "country": a.get("country"), "lat": a.get("lat"), "lon": a.get("lon"),
                      "ego": a["name"] == actor_id})
    edges = []
    for e in g.es:
        a = e.attributes()
        edges.append({"source": names[e.source], "target": names[e.target], "type": a.get("type"),
                      "status": a.get("status"), "since": a.get("since"), "until": a.get("until"),
                      "axes": [x for x in (a.get("axes") or "").split(",") if x]})
    return {"ego": eg.summary["ego"], "summary": eg.summary, "truncated": truncated,
            "nodes": nodes, "edges": edges}
