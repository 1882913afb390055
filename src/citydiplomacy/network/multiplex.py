"""The diplomacy graph as a multiplex: one layer per tie type over the same actors.

An actor that twins with cities, belongs to networks and hosts a body spreads its ties
over several kinds of relation; one that only sits in its state (``located_in``) puts
them all in one. The multiplex participation coefficient measures that spread.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Iterable

import numpy as np

from ..errors import ValidationError
from ..vocab import TieType, choices
from .arrays import distinct
from .graph import DiplomacyGraph

__all__ = ["participation_coefficient", "participation_values", "multiplex_summary"]


def _layer_types(dg: DiplomacyGraph, types: Iterable[str] | None) -> list[str]:
    """The tie types that make the layers: those given (checked), else those in ``dg``."""
    if types is None:
        return sorted(set(dg.g.es["type"])) if dg.g.ecount() else []
    out = []
    for t in types:
        try:
            out.append(TieType(t).value)
        except ValueError:
            raise ValidationError(f"unknown tie type '{t}'; choose from: {choices(TieType)}",
                                  field="type") from None
    return sorted(set(out))


def _layer_pairs(dg: DiplomacyGraph, types: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, v, layer) for every distinct unordered pair of actors tied in a layer.

    Direction is dropped and parallel ties of one type merged, so a layer is a simple
    undirected graph, as in Battiston et al.; self-loops are ignored.
    """
    code = {t: i for i, t in enumerate(types)}
    g = dg.g
    if not g.ecount() or not types:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    layer = np.asarray([code.get(t, -1) for t in g.es["type"]], dtype=np.int64)
    keep = (layer >= 0) & (edges[:, 0] != edges[:, 1])
    u = np.minimum(edges[keep, 0], edges[keep, 1])
    v = np.maximum(edges[keep, 0], edges[keep, 1])
    n = g.vcount()
    key = distinct((layer[keep] * n + u) * n + v)
    return (key // n) % n, key % n, key // (n * n)


def _degrees(dg: DiplomacyGraph, types: list[str]) -> np.ndarray:
    """The n × M matrix of k_i^alpha: distinct neighbours of actor i in layer alpha."""
    n, m = dg.g.vcount(), len(types)
    u, v, layer = _layer_pairs(dg, types)
    counts = np.bincount(np.concatenate([u, v]) * m + np.concatenate([layer, layer]),
                         minlength=n * m)
    return counts.reshape(n, m)


def _participation(dg: DiplomacyGraph, types: Iterable[str] | None):
    """(types, k, o, P) of :func:`participation_coefficient`, as arrays by vertex."""
    types = _layer_types(dg, types)
    m = len(types)
    if m < 2:
        raise ValidationError(f"the participation coefficient needs at least two tie types; "
                              f"this graph has {types or 'none'} (drop the tie-type filter "
                              f"or pass more types)", field="type")
    k = _degrees(dg, types)
    o = k.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(o[:, None] > 0, k / np.maximum(o, 1)[:, None], 0.0)
    p = np.where(o > 0, m / (m - 1) * (1.0 - (share ** 2).sum(axis=1)), 0.0)
    return types, k, o, p


def participation_values(dg: DiplomacyGraph, *, types: Iterable[str] | None = None) -> np.ndarray:
    """The ``participation`` of :func:`participation_coefficient` alone, by vertex (an
    array: no row per actor to build)."""
    return np.maximum(_participation(dg, types)[3], 0.0)


def participation_coefficient(dg: DiplomacyGraph, *, types: Iterable[str] | None = None
                              ) -> list[dict[str, Any]]:
    """The multiplex participation coefficient of every actor across tie types.

    With M layers (tie types), k_i^alpha the degree of actor i in layer alpha (its
    distinct neighbours through ties of that type, direction ignored) and
    o_i = sum_alpha k_i^alpha its overlapping degree::

        P_i = M / (M - 1) * [1 - sum_alpha (k_i^alpha / o_i)^2]

    P_i is 0 when all of i's ties are of one type, 1 when they are spread evenly over
    all M types, and 0 for an actor without ties.

    Parameters
    ----------
    dg : the graph (see :func:`citydiplomacy.network.build_graph`).
    types : the tie types taken as layers; default: the types present in ``dg``. At
        least two are needed.

    Returns
    -------
    One row per actor, in graph order: ``{id, name, layer, degree_by_type: {type: k},
    overlapping_degree, participation}``.

    Reference
    ---------
    F. Battiston, V. Nicosia, V. Latora (2014), "Structural measures for multiplex
    networks", Phys. Rev. E 89, 032804, doi:10.1103/PhysRevE.89.032804.
    """
    types, k, o, p = _participation(dg, types)
    g = dg.g
    return [{"id": name, "name": label, "layer": layer,
             "degree_by_type": dict(zip(types, map(int, row))),
             "overlapping_degree": int(oi), "participation": float(max(pi, 0.0))}
            for name, label, layer, row, oi, pi in zip(g.vs["name"], g.vs["label"], g.vs["layer"],
                                                      k, o, p)]


def multiplex_summary(dg: DiplomacyGraph, *, types: Iterable[str] | None = None) -> dict[str, Any]:
    """How the tie types (layers) of the graph compare: sizes and overlaps.

    Per type: the actors active in it (degree > 0) and its edges (distinct unordered
    pairs). Per pair of types alpha, beta: the shared edges, pairs of actors tied in both
    (the edge overlap, sum_{i<j} a_ij^alpha a_ij^beta), the Jaccard index of the two edge
    sets |E_alpha ∩ E_beta| / |E_alpha ∪ E_beta|, and the actors active in both.

    Parameters
    ----------
    dg : the graph.
    types : the tie types taken as layers; default: those present in ``dg``.

    Returns
    -------
    ``{layers: M, actors: n, types: [{type, nodes, edges}], overlap: [{types: [a, b],
    shared_edges, jaccard, shared_nodes}]}``.

    Reference
    ---------
    F. Battiston, V. Nicosia, V. Latora (2014), "Structural measures for multiplex
    networks", Phys. Rev. E 89, 032804, doi:10.1103/PhysRevE.89.032804 (edge overlap).
    """
    types = _layer_types(dg, types)
    n = dg.g.vcount()
    u, v, layer = _layer_pairs(dg, types)
    pair = u * n + v
    edge_sets = [set(pair[layer == i].tolist()) for i in range(len(types))]
    active = _degrees(dg, types) > 0
    per_type = [{"type": t, "nodes": int(active[:, i].sum()), "edges": len(edge_sets[i])}
                for i, t in enumerate(types)]
    overlap = []
    for i, j in combinations(range(len(types)), 2):
        shared = len(edge_sets[i] & edge_sets[j])
        union = len(edge_sets[i]) + len(edge_sets[j]) - shared
        overlap.append({"types": [types[i], types[j]], "shared_edges": shared,
                        "jaccard": shared / union if union else 0.0,
                        "shared_nodes": int((active[:, i] & active[:, j]).sum())})
    return {"layers": len(types), "actors": n, "types": per_type, "overlap": overlap}
