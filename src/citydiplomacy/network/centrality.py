"""Centrality of actors in the diplomacy graph: degree, PageRank, betweenness,
eigenvector and closeness, overall and per layer.

Every measure is computed on the *undirected simple graph* of a
:class:`~citydiplomacy.network.graph.DiplomacyGraph` (what ``dg.undirected()`` gives:
parallel and reciprocal ties merged into one edge whose ``weight`` is their sum, self-loops
dropped). Twinning and partnership are symmetric, and a membership or a ``located_in`` tie
connects both actors whichever way it points, so direction carries no meaning for these
measures (only :func:`degree` offers ``mode="in"``/``"out"``). Each definition equals
NetworkX's on that same graph (checked by ``tests/test_network_centrality.py``); igraph is
the engine.

Results are dictionaries keyed by actor id, like NetworkX's. :func:`compute` turns a set
of measures into table rows with ranks, for the whole graph and for each layer.
"""

from __future__ import annotations

import functools
import math
import random
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import igraph as ig
import numpy as np

from ..errors import ValidationError
from ..vocab import SYMMETRIC_TIES, Layer
from .graph import DiplomacyGraph

__all__ = [
    "DEFAULT_PIVOTS",
    "EXACT_WORK_MAX",
    "MEASURES",
    "Components",
    "Rows",
    "Estimate",
    "betweenness",
    "closeness",
    "closeness_of",
    "components",
    "compute",
    "degree",
    "eigenvector",
    "pagerank",
    "resolve_sample",
]

_SYMMETRIC = {t.value for t in SYMMETRIC_TIES}
#: Confidence level of the simultaneous (Hoeffding) bound reported with sampled betweenness.
BOUND_CONFIDENCE = 0.95
#: Components whose 2-core has at least this many vertices get the bit-parallel search.
_BITWISE_MIN = 256
#: Two eigenvalues closer than this (relative) are taken as equal (ARPACK's accuracy is
#: far better; a genuine gap this small would need ~10^8 power iterations to show).
_EIGEN_TIE = 1e-8


# ---------------------------------------------------------------------------------------
# Graph preparation


def _weights(g: ig.Graph) -> str | None:
    return "weight" if "weight" in g.es.attributes() else None


def _simple(dg: DiplomacyGraph, *, weighted: bool = True) -> ig.Graph:
    """The undirected simple graph of ``dg`` (:meth:`DiplomacyGraph.undirected`), keeping
    only the summed ``weight`` among the edge attributes."""
    return dg.undirected("weight" if weighted and _weights(dg.g) else None)


def _has_loops(g: ig.Graph) -> bool:
    return g.ecount() > 0 and any(g.is_loop())


def _by_id(dg: DiplomacyGraph, values: Iterable) -> dict[str, Any]:
    # Derived graphs (undirected, simple) keep the vertex order of dg.g, so dg's cached
    # id list labels their values too.
    return dict(zip(dg.ids, values))


# ---------------------------------------------------------------------------------------
# Degree and strength


def degree(dg: DiplomacyGraph, *, weighted: bool = False, mode: str = "all",
           normalized: bool = False) -> dict[str, float]:
    """Degree (number of distinct partners) or, with ``weighted``, strength of each actor.

    Definition: on the undirected simple graph, k_i = Σ_j A_ij (the number of neighbours)
    and, weighted, s_i = Σ_j w_ij (the summed ``weight`` of the actor's ties; a tie without
    a weight counts 1). ``normalized`` divides by n − 1, the largest possible degree, which
    is ``networkx.degree_centrality``.

    ``mode="in"`` / ``"out"`` count ties by direction instead (on the directed simple
    graph: the distinct actors pointing at / pointed at by the actor), with the symmetric
    ties ``twinned_with`` and ``partner_of`` counted in both directions: the in-degree of
    a state is how many cities are ``located_in`` it, of a network how many members it has.

    Parameters: ``dg`` the graph; ``weighted`` strength instead of degree; ``mode`` one of
    ``all``, ``in``, ``out``; ``normalized`` divide by n − 1.

    Returns ``{actor id: degree}`` (int unless ``weighted`` or ``normalized``).

    Reference: L. C. Freeman (1978), "Centrality in social networks: conceptual
    clarification", *Social Networks* 1(3): 215–239, doi:10.1016/0378-8733(78)90021-7;
    strength: A. Barrat et al. (2004), "The architecture of complex weighted networks",
    *PNAS* 101(11): 3747–3752, doi:10.1073/pnas.0400087101.
    """
    if mode not in ("all", "in", "out"):
        raise ValidationError(f"unknown mode '{mode}'; choose from: all, in, out", field="mode")
    g = dg.g
    if mode == "all":
        if weighted:
            # The strength on the multigraph equals the strength on the collapsed graph
            # (weights summed), without building it.
            values = g.strength(mode="all", loops=False, weights=_weights(g))
        else:
            # Distinct neighbours; neighbourhood_size counts the actor itself.
            values = [k - 1 for k in g.neighborhood_size(order=1, mode="all")]
    else:
        h = _symmetric_arcs(g)
        values = (h.strength(mode=mode, loops=False, weights=_weights(h)) if weighted
                  else [k - 1 for k in h.neighborhood_size(order=1, mode=mode)])
    if normalized:
        n = g.vcount()
        values = [v / (n - 1) if n > 1 else 0.0 for v in values]
    return _by_id(dg, values)


def _symmetric_arcs(g: ig.Graph) -> ig.Graph:
    """The directed graph of ``g`` with each symmetric tie also reversed."""
    h = ig.Graph(n=g.vcount(), edges=g.get_edgelist(), directed=True)
    w = g.es["weight"] if _weights(g) else [1.0] * g.ecount()
    types = g.es["type"] if "type" in g.es.attributes() else [None] * g.ecount()
    extra = [(t, s) for (s, t), typ in zip(g.get_edgelist(), types) if typ in _SYMMETRIC]
    h.es["weight"] = w
    h.add_edges(extra, attributes={"weight": [w[i] for i, typ in enumerate(types) if typ in _SYMMETRIC]})
    return h


# ---------------------------------------------------------------------------------------
# PageRank


def pagerank(dg: DiplomacyGraph, *, damping: float = 0.85, weighted: bool = True) -> dict[str, float]:
    """PageRank of each actor on the undirected simple graph.

    Definition: the stationary distribution of a walk that, with probability ``damping``
    (α), follows a tie chosen in proportion to its weight, and otherwise jumps to an actor
    chosen uniformly; an actor without ties jumps uniformly:

        PR_i = (1 − α)/n + α Σ_j (w_ji / s_j) PR_j + α/n Σ_{j: s_j = 0} PR_j,

    with s_j = Σ_k w_jk. Σ_i PR_i = 1. Same as ``networkx.pagerank`` (``weight="weight"``;
    ``weighted=False`` is ``weight=None``), which stops iterating once a step changes the
    vector by less than n·10⁻⁶ (L1), while igraph's PRPACK solves to about 10⁻¹⁰.

    Parameters: ``damping`` α in [0, 1]; ``weighted`` use the summed tie weights.

    Returns ``{actor id: PageRank}``.

    Reference: S. Brin, L. Page (1998), "The anatomy of a large-scale hypertextual Web
    search engine", *Computer Networks and ISDN Systems* 30(1–7): 107–117,
    doi:10.1016/S0169-7552(98)00110-X.
    """
    _check_damping(damping)
    g = dg.g
    if weighted and _weights(g) and not _has_loops(g):
        # With weights, a walk on the multigraph (edges taken both ways) is the walk on
        # the collapsed graph with summed weights; no need to build that graph.
        values = _pagerank_of(g, damping, "weight")
    else:
        u = _simple(dg, weighted=weighted)
        values = _pagerank_of(u, damping, _weights(u) if weighted else None)
    return _by_id(dg, values)


def _check_damping(damping: float) -> None:
    if not 0.0 <= damping <= 1.0:
        raise ValidationError(f"damping must be between 0 and 1 (got {damping}); 0.85 is usual",
                              field="damping")


def _pagerank_of(g: ig.Graph, damping: float, weights: str | None) -> list[float]:
    if g.vcount() == 0:
        return []
    # PRPACK (igraph's default) solves the linear system to 1e-10; ARPACK gives the same
    # vector to 1e-12 (L1), 4x faster on the default data (0.15 s against 0.64 s), but
    # from a random start: its round-off differs from run to run and would reorder actors
    # of equal PageRank. Results are kept per data version, so PRPACK's cost is paid once.
    return g.pagerank(directed=False, damping=damping, weights=weights, implementation="prpack")


# ---------------------------------------------------------------------------------------
# Betweenness


class Estimate(dict):
    """Estimated values keyed by actor id (a ``dict``), with their stated error.

    ``stderr``: actor id → estimated standard error over the random draw of pivots (see
    :func:`betweenness` for what it does and does not promise). ``bound``: a half-width
    ε such that, with probability at least ``confidence``, *every* estimate is within ε of
    its exact value (Hoeffding's inequality and a union bound over the actors).
    ``sample``: single-source searches made; ``seed`` of the draw.
    """

    def __init__(self, values: dict[str, float], *, stderr: dict[str, float], bound: float,
                 confidence: float, sample: int, seed: int | None):
        super().__init__(values)
        self.stderr = stderr
        self.bound = bound
        self.confidence = confidence
        self.sample = sample
        self.seed = seed

    def __repr__(self) -> str:
        return (f"Estimate({len(self)} values, sample={self.sample}, seed={self.seed}, "
                f"bound={self.bound:.3g} at {self.confidence:.0%})")


def betweenness(dg: DiplomacyGraph, *, normalized: bool = True, sample: int | None = None,
                seed: int | None = 0) -> dict[str, float] | Estimate:
    """Shortest-path betweenness of each actor on the undirected simple graph (hops).

    Definition: B_v = Σ_{s<t; s,t≠v} σ_st(v) / σ_st, where σ_st is the number of shortest
    paths between s and t and σ_st(v) those through v; ``normalized`` divides by the number
    of pairs not involving v, (n − 1)(n − 2)/2. Same as ``networkx.betweenness_centrality``
    (undirected, ``endpoints=False``). Exact by default (Brandes' algorithm, O(n·m)).

    With ``sample=k``, an estimate. Shortest paths stay inside a connected component, so
    components of at most k actors are computed exactly (a search from each of their
    actors), and in each larger component C, k pivots are drawn uniformly without
    replacement among its actors (``random.Random(seed).sample``: on a connected graph the
    draw of ``networkx.betweenness_centrality(G, k=k, seed=seed)`` on the same vertex
    order). With δ_s(v) = Σ_t σ_st(v)/σ_st, the dependency of source s on v,
    B_v = ½ Σ_{s≠v} δ_s(v). The L_v pendant partners ℓ of v (actors
    whose only tie is to v) are not sampled for v but counted exactly: every path from ℓ
    passes through v, so δ_ℓ(v) = r_v − 2 (r_v: the size of v's component). The other
    sources of v's component form a population P_v of r_v − 1 − L_v; the k_v pivots that
    fall in it are a simple random sample of it, and

        B̂_v = ½ [L_v (r_v − 2) + (r_v − 1 − L_v) · mean_{s ∈ pivots ∩ P_v} δ_s(v)]

    is unbiased. On a graph without pendant actors this is NetworkX's estimate (Brandes &
    Pich). The exact pendant term matters here: most cities hang from their state by one
    ``located_in`` tie, and a city with a few pendant twin towns would otherwise owe half
    its betweenness to the rare draws of those towns.

    Stated error, returned in an :class:`Estimate`:

    - ``stderr[v]``: the standard error of B̂_v over the draw of pivots, by the
      random-group method: the k pivots are searched in g ≈ √k random groups (2 to 32),
      and with Y_j, k_j the summed dependencies and pivot count of group j in P_v,
      stderr = ½ |P_v| √((1 − k_v/|P_v|) · g/(g − 1) · Σ_j (Y_j − m k_j)² / k_v²), m the mean.
      Its square is about unbiased for the variance, so Σ_v stderr² estimates the summed
      squared error of all the estimates; for one actor it is a guide, not a guarantee:
      when an actor's betweenness comes from a few sources that no pivot hit (deeper
      pendant trees), both its estimate and its stderr come out too low.
    - ``bound``: a guarantee. Each δ_s(v)/(r_v − 2) lies in [0, 1], so by Hoeffding's
      inequality (valid for sampling without replacement) and a union bound over the n
      actors, with probability ≥ 95 % every normalized estimate is within
      max_v |P_v| (r_v − 2) / ((n − 1)(n − 2)) · √(ln(2n/0.05) / (2 k_v)) of its exact
      value (times (n − 1)(n − 2)/2 unnormalized). It is conservative: on a connected
      graph about √(ln(2n/0.05)/(2k)), less when the largest component is smaller.

    ``sample`` ≥ n computes the exact values (with zero error); so does a graph whose
    components all have at most ``sample`` actors.

    Parameters: ``normalized`` divide by (n − 1)(n − 2)/2; ``sample`` pivots (≥ 2) or None
    for exact; ``seed`` of the pivot draw.

    Returns ``{actor id: betweenness}``, an :class:`Estimate` when sampled.

    References: L. C. Freeman (1977), "A set of measures of centrality based on
    betweenness", *Sociometry* 40(1): 35–41, doi:10.2307/3033543; U. Brandes (2001), "A
    faster algorithm for betweenness centrality", *J. Math. Sociol.* 25(2): 163–177,
    doi:10.1080/0022250X.2001.9990249; U. Brandes, C. Pich (2007), "Centrality estimation
    in large networks", *Int. J. Bifurcation and Chaos* 17(7): 2303–2318,
    doi:10.1142/S0218127407018403; W. Hoeffding (1963), "Probability inequalities for sums
    of bounded random variables", *JASA* 58(301): 13–30, doi:10.1080/01621459.1963.10500830.
    """
    u = _simple(dg, weighted=False)
    cols = _betweenness_of(u, normalized=normalized, sample=sample, seed=seed)
    values = _by_id(dg, cols["betweenness"].tolist())
    if "betweenness_stderr" not in cols:
        return values
    return Estimate(values, stderr=_by_id(dg, cols["betweenness_stderr"].tolist()),
                    bound=cols["bound"], confidence=BOUND_CONFIDENCE, sample=cols["sample"], seed=seed)


def _groups(sample: int) -> int:
    """Groups the pivots are searched in: about √k, between 2 and 32."""
    return min(max(2, round(math.sqrt(sample))), 32, sample)


def _check_sample(sample: int | None) -> None:
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int) or sample < 2):
        raise ValidationError(f"sample must be a whole number of pivots, at least 2 (got {sample!r}); "
                              f"leave it out for the exact value", field="sample")


def _betweenness_of(u: ig.Graph, *, normalized: bool, sample: int | None, seed: int | None) -> dict[str, Any]:
    """Columns ``betweenness`` (and, sampled, ``betweenness_stderr``, ``bound``, ``sample``)."""
    _check_sample(sample)
    n = u.vcount()
    # Pairs {s, t} not involving v: NetworkX's normalisation (none below 3 vertices,
    # where every value is 0 anyway).
    pairs = (n - 1) * (n - 2) / 2 if n > 2 else 1.0
    scale = 1.0 / pairs if normalized else 1.0
    if sample is None or sample >= n:
        exact = np.asarray(u.betweenness(directed=False), dtype=float) if n else np.zeros(0)
        out: dict[str, Any] = {"betweenness": exact * scale}
        if sample is not None:
            out.update(betweenness_stderr=np.zeros(n), bound=0.0, sample=n)
        return out
    cc = u.connected_components()
    membership = np.asarray(cc.membership, dtype=np.int64)
    sizes = np.asarray(cc.sizes(), dtype=np.int64)
    r = sizes.astype(float)[membership]
    estimate = np.zeros(n)
    stderr = np.zeros(n)
    # Components of at most `sample` actors are searched from every actor (exact, and no
    # dearer than the pivots' searches); the pivots are drawn inside each larger one.
    small = np.flatnonzero(sizes[membership] <= sample)
    if len(small):
        sub = u.induced_subgraph(small.tolist())   # keeps the vertex order
        estimate[small] = np.asarray(sub.betweenness(directed=False), dtype=float)
    rng = random.Random(seed)
    log_term = math.log(2 * n / (1 - BOUND_CONFIDENCE))
    bound = 0.0
    searched = len(small)
    for c in sorted(np.flatnonzero(sizes > sample).tolist(), key=lambda c: -sizes[c]):
        members = np.flatnonzero(membership == c)
        est_c, err_c, width = _sampled_component(u, members, r, sample, rng, n, log_term)
        estimate[members] = est_c
        stderr[members] = err_c
        bound = max(bound, width)
        searched += sample
    # (capped at 1: a normalized estimate and the exact value both lie in [0, 1])
    bound = min(1.0, bound)
    return {"betweenness": estimate * scale, "betweenness_stderr": stderr * scale,
            "bound": bound * (pairs if not normalized else 1.0), "sample": sample, "searched": searched}


def _sampled_component(u: ig.Graph, members: np.ndarray, r: np.ndarray, sample: int, rng: random.Random,
                       n: int, log_term: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The estimate and stderr of the (unnormalized) betweenness of one component's
    actors from ``sample`` pivots drawn in it, and the Hoeffding half-width of the
    normalized estimates (see :func:`betweenness`)."""
    deg = np.asarray(u.degree(members.tolist()))
    pendant = members[deg == 1]
    parent = np.full(u.vcount(), -1)
    parent[pendant] = [u.neighbors(int(v))[0] for v in pendant]
    n_pendant = np.bincount(parent[pendant], minlength=u.vcount()).astype(float)
    # a connected graph's only component is range(n): the draw of
    # random.Random(seed).sample(range(n), k), NetworkX's
    pivots = rng.sample(members.tolist(), sample)
    # Pivots are searched in g random groups (one igraph call each: a call costs a pass
    # over the graph besides its searches); the spread between groups gives the error.
    groups = [pivots[i::_groups(sample)] for i in range(_groups(sample))]
    sums = np.zeros((len(groups), len(members)))    # Σ δ_s(v) over the group's pivots in P_v
    counts = np.zeros((len(groups), len(members)))  # how many of the group's pivots are in P_v
    pos = np.full(u.vcount(), -1)
    pos[members] = np.arange(len(members))
    for j, group in enumerate(groups):
        # igraph halves dependencies on undirected graphs: δ = 2 × its value.
        sums[j] = 2.0 * np.asarray(u.betweenness(vertices=members.tolist(), directed=False, sources=group),
                                   dtype=float)
        counts[j] = len(group)
        counts[j, pos[group]] -= 1.0  # a pivot has no dependency on itself
        for s in group:
            p = parent[s]
            if p >= 0:  # a pendant pivot: counted exactly for its parent, not as a draw
                sums[j, pos[p]] -= r[p] - 2.0
                counts[j, pos[p]] -= 1.0
    rc = r[members]
    lc = n_pendant[members]
    population = (rc - 1) - lc
    k_v = counts.sum(axis=0)
    drawn = np.maximum(k_v, 1.0)
    mean = sums.sum(axis=0) / drawn
    # Random-group variance of a ratio mean: g/(g − 1) Σ_j (Y_j − mean·k_j)² / k².
    g = len(groups)
    var_mean = g / (g - 1) * ((sums - mean * counts) ** 2).sum(axis=0) / drawn ** 2
    fpc = np.clip(1.0 - k_v / np.maximum(population, 1.0), 0.0, 1.0)
    estimate = 0.5 * (lc * (rc - 2.0) + population * mean)
    stderr = 0.5 * population * np.sqrt(fpc * var_mean)
    # Hoeffding half-width of each normalized estimate, the widest over the actors: each
    # δ_s(v) lies in [0, r − 2], and B̂_v/pairs moves by |P_v|(r − 2)/((n − 1)(n − 2)) per unit of mean.
    widths = population * (rc - 2) / ((n - 1) * (n - 2)) * np.sqrt(log_term / (2 * drawn))
    width = float(widths[population > 0].max()) if (population > 0).any() else 0.0
    return estimate, stderr, width


# ---------------------------------------------------------------------------------------
# Eigenvector


def eigenvector(dg: DiplomacyGraph, *, weighted: bool = False) -> dict[str, float]:
    """Eigenvector centrality of each actor on the undirected simple graph.

    Definition: x with A x = λ_max x, x ≥ 0, ‖x‖₂ = 1, where A is the adjacency matrix
    (summed tie weights with ``weighted``) and λ_max its largest eigenvalue: an actor is
    central when its partners are. On a connected graph this is
    ``networkx.eigenvector_centrality_numpy`` (which refuses disconnected graphs) and
    ``networkx.eigenvector_centrality`` (igraph's own result, scaled to max 1, is rescaled
    to unit norm here).

    On a disconnected graph, x is the limit of the power iteration x ← (I + A)x from the
    uniform vector, which is what ``networkx.eigenvector_centrality`` converges to: the
    leading eigenvector of the component with the largest λ (every other actor scores 0);
    when several components share λ_max, their unit eigenvectors v_c are combined as
    Σ_c (1·v_c) v_c and normalized. A graph without ties gives 1/√n to everyone.

    Parameters: ``weighted`` use the summed tie weights (``weight="weight"`` in NetworkX).

    Returns ``{actor id: centrality}``, a unit vector.

    Reference: P. Bonacich (1972), "Factoring and weighting approaches to status scores
    and clique identification", *J. Math. Sociol.* 2(1): 113–120,
    doi:10.1080/0022250X.1972.9989806.
    """
    u = _simple(dg, weighted=weighted)
    return _by_id(dg, _eigenvector_of(u, _weights(u) if weighted else None).tolist())


def _eigenvector_of(u: ig.Graph, weights: str | None) -> np.ndarray:
    n = u.vcount()
    if n == 0:
        return np.zeros(0)
    if u.ecount() == 0:
        return np.full(n, 1.0 / math.sqrt(n))
    with warnings.catch_warnings():
        # igraph warns that the graph is disconnected; handled below.
        warnings.simplefilter("ignore", RuntimeWarning)
        vec, lam = u.eigenvector_centrality(weights=weights, return_eigenvalue=True)
    vec = np.abs(np.asarray(vec, dtype=float))
    membership = np.asarray(u.connected_components().membership)
    ncomp = membership.max() + 1
    if ncomp == 1:
        return vec / np.linalg.norm(vec)
    # Components that could share λ_max: λ_c ≤ max strength of c (Perron–Frobenius).
    strength = np.asarray(u.strength(weights=weights, loops=False), dtype=float)
    upper = np.zeros(ncomp)
    np.maximum.at(upper, membership, strength)
    mass = np.bincount(membership, weights=vec, minlength=ncomp)
    dominant = int(np.argmax(mass))
    x = np.zeros(n)
    for c in np.flatnonzero(upper >= lam * (1 - _EIGEN_TIE)):
        members = np.flatnonzero(membership == c)
        if c == dominant:
            v = vec[members]
        else:
            sub = u.induced_subgraph(members.tolist())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                v, lam_c = sub.eigenvector_centrality(weights=weights, return_eigenvalue=True)
            if lam_c < lam * (1 - _EIGEN_TIE):
                continue
            v = np.abs(np.asarray(v, dtype=float))
        v = v / np.linalg.norm(v)
        x[members] = v.sum() * v
    return x / np.linalg.norm(x)


# ---------------------------------------------------------------------------------------
# Closeness


def closeness(dg: DiplomacyGraph, *, wf_improved: bool = True) -> dict[str, float]:
    """Closeness centrality of each actor on the undirected simple graph (hops).

    Definition: with r_u the size of u's component and d(u, v) the number of ties on a
    shortest path,

        C_u = (r_u − 1) / Σ_v d(u, v)  ×  (r_u − 1)/(n − 1)   (the second factor with
                                                               ``wf_improved``),

    the inverse mean distance to the actors u can reach, scaled by the share of the graph
    it can reach (the Wasserman–Faust correction, without which an actor in a pair of
    twin towns would score 1). Isolated actors score 0. Same as
    ``networkx.closeness_centrality`` (``wf_improved=True`` by default).

    Exact. Pendant trees (a city whose only tie is to its state, ...) are peeled first:
    for a peeled actor v hanging from p, Σ d(v, ·) = Σ d(p, ·) + r − 2·|subtree of v|, so
    distances are searched only from the 2-core; in a large component, on the 2-core
    alone (each core actor weighted by the tree it carries) and 64 sources at a time,
    one bit each in a machine word.

    Parameters: ``wf_improved`` apply the Wasserman–Faust scaling.

    Returns ``{actor id: closeness}``.

    References: A. Bavelas (1950), "Communication patterns in task-oriented groups",
    *J. Acoust. Soc. Am.* 22(6): 725–730, doi:10.1121/1.1906679; S. Wasserman, K. Faust
    (1994), *Social Network Analysis: Methods and Applications*, Cambridge University
    Press, §5.3, doi:10.1017/CBO9780511815478.
    """
    u = _simple(dg, weighted=False)
    return _by_id(dg, _closeness_of(u, wf_improved=wf_improved).tolist())


def closeness_of(dg: DiplomacyGraph, ids: Iterable[str], *, wf_improved: bool = True) -> dict[str, float]:
    """:func:`closeness` of these actors alone: one search from each (milliseconds each
    on the default data), where :func:`closeness` searches from every actor — what
    ``citydip network metrics --top N`` does for the rows it shows unless it ranks by
    closeness. The same values as :func:`closeness` (tested)."""
    # distances ignore direction, parallel ties and loops: the graph itself serves, without
    # making its undirected simple copy
    u = dg.g
    n = u.vcount()
    idx = [dg.index(i) for i in ids]
    if not idx:
        return {}
    cc = u.connected_components(mode="weak")
    r = np.asarray(cc.sizes(), dtype=float)[np.asarray(cc.membership)[idx]]
    inv = np.asarray(u.closeness(vertices=idx, mode="all", normalized=False), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sums = np.where(np.isnan(inv) | (inv == 0), 0.0, np.round(1.0 / inv))
        out = np.where(sums > 0, (r - 1) / np.where(sums > 0, sums, 1.0), 0.0)
    if wf_improved and n > 1:
        out *= (r - 1) / (n - 1)
    return dict(zip((dg.ids[i] for i in idx), out.tolist()))


def _peel(u: ig.Graph) -> tuple[list[int], list[int], list[int]]:
    """Peel degree-1 vertices repeatedly: the peel order, each peeled vertex's parent
    (its last neighbour), and subtree sizes (the vertex and what was peeled into it)."""
    n = u.vcount()
    indptr, indices = (a.tolist() for a in _csr(u))
    deg = [indptr[v + 1] - indptr[v] for v in range(n)]
    removed = [False] * n
    parent = [-1] * n
    size = [1] * n
    order: list[int] = []
    stack = [v for v in range(n) if deg[v] == 1]
    while stack:
        v = stack.pop()
        if deg[v] != 1:  # its partner was peeled first (a lone pair): v is the root
            continue
        p = next(w for w in indices[indptr[v]:indptr[v + 1]] if not removed[w])
        removed[v], parent[v] = True, p
        order.append(v)
        deg[v] = 0
        deg[p] -= 1
        size[p] += size[v]
        if deg[p] == 1:
            stack.append(p)
    return order, parent, size


def _csr(h: ig.Graph) -> tuple[np.ndarray, np.ndarray]:
    """Compressed adjacency of an undirected graph: neighbours of v are
    ``indices[indptr[v]:indptr[v + 1]]``."""
    n = h.vcount()
    e = np.asarray(h.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    tails = np.concatenate([e[:, 0], e[:, 1]])
    heads = np.concatenate([e[:, 1], e[:, 0]])
    indices = heads[np.argsort(tails, kind="stable")]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    return indptr, indices


#: bit i of byte value v, for v in 0..255 (little-endian bit order, as the frontier's bytes)
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little").astype(float)


def _distance_sums(h: ig.Graph, mass: np.ndarray) -> np.ndarray:
    """Σ_c mass_c · d(s, c) over the vertices c that s reaches, for every vertex s of h.

    Breadth-first search from 64 sources at once: bit j of ``frontier[v]`` says that v is
    at the current distance from source j, and a level is one OR over the neighbours."""
    n = h.vcount()
    indptr, indices = _csr(h)
    has_nbrs = np.flatnonzero(np.diff(indptr) > 0)
    starts = indptr[:-1][has_nbrs]
    mass = np.asarray(mass, dtype=float)
    out = np.zeros(n)
    for first in range(0, n, 64):
        sources = np.arange(first, min(first + 64, n))
        b = len(sources)
        frontier = np.zeros(n, dtype=np.uint64)
        frontier[sources] = np.left_shift(np.uint64(1), np.arange(b, dtype=np.uint64))
        seen = frontier.copy()
        level = 0
        while len(starts):
            level += 1
            reached = np.zeros(n, dtype=np.uint64)
            reached[has_nbrs] = np.bitwise_or.reduceat(frontier[indices], starts)
            reached &= ~seen
            rows = np.flatnonzero(reached)
            if not len(rows):
                break
            seen |= reached
            # Σ mass over the rows with bit j set, per byte of the 64 bits: the masses summed
            # by the byte's value (a bincount), then spread over the byte's 8 bits.
            octets = reached[rows].view(np.uint8).reshape(-1, 8)
            m = mass[rows]
            per_bit = np.concatenate([np.bincount(octets[:, k], weights=m, minlength=256) @ _BYTE_BITS
                                      for k in range(8)])
            out[sources] += level * per_bit[:b]
            frontier = reached
    return out


def _closeness_of(u: ig.Graph, *, wf_improved: bool) -> np.ndarray:
    n = u.vcount()
    if n == 0:
        return np.zeros(0)
    cc = u.connected_components()
    membership = np.asarray(cc.membership)
    r = np.asarray(cc.sizes(), dtype=float)[membership]
    order, parent, size = _peel(u)
    # depth[v]: summed distance from v to what was peeled into it.
    depth = [0] * n
    for v in order:
        depth[parent[v]] += depth[v] + size[v]
    peeled = np.zeros(n, dtype=bool)
    peeled[order] = True
    sums = np.zeros(n)
    # From a core vertex s, a vertex hanging at depth d below core vertex c is d(s, c) + d
    # away: Σ_v d(s, v) = Σ_c size_c · d(s, c) + Σ_c depth_c over s's component. Large
    # components are searched 64 sources at a time on their core; the core vertices of
    # small ones directly (each search there is short).
    core_of = np.bincount(membership[~peeled], minlength=len(cc))
    for c in np.flatnonzero(core_of >= _BITWISE_MIN):
        core = np.flatnonzero((membership == c) & ~peeled)
        sums[core] = (_distance_sums(u.induced_subgraph(core.tolist()), np.asarray(size, dtype=float)[core])
                      + np.asarray(depth, dtype=float)[core].sum())
    rest = np.flatnonzero(~peeled & (core_of[membership] < _BITWISE_MIN))
    if len(rest):
        inv = np.asarray(u.closeness(vertices=rest.tolist(), mode="all", normalized=False), dtype=float)
        with np.errstate(divide="ignore"):
            sums[rest] = np.where(np.isnan(inv) | (inv == 0), 0.0, np.round(1.0 / inv))
    for v in reversed(order):
        sums[v] = sums[parent[v]] + r[v] - 2 * size[v]
    out = np.zeros(n)
    ok = sums > 0
    out[ok] = (r[ok] - 1) / sums[ok]
    if wf_improved and n > 1:
        out *= (r - 1) / (n - 1)
    return out


# ---------------------------------------------------------------------------------------
# Components


class Components:
    """Connected components of the graph (ties taken either way).

    ``count``: how many; ``sizes``: their sizes, largest first; ``membership``: actor id →
    component number (0 is the largest; equal sizes in order of their first actor),
    built when first read."""

    def __init__(self, clustering: ig.VertexClustering):
        sizes = clustering.sizes()
        self._order = sorted(range(len(sizes)), key=lambda c: -sizes[c])
        self._clustering = clustering
        self.count = len(sizes)
        self.sizes = [sizes[c] for c in self._order]

    @functools.cached_property
    def membership(self) -> dict[str, int]:
        renumber = np.empty(self.count, dtype=np.int64)
        renumber[self._order] = np.arange(self.count)
        g = self._clustering.graph
        if g.vcount() == 0:
            return {}
        labels = renumber[np.asarray(self._clustering.membership, dtype=np.int64)]
        return dict(zip(g.vs["name"], labels.tolist()))

    def __repr__(self) -> str:
        return f"Components(count={self.count}, sizes={self.sizes[:5]}{'...' if self.count > 5 else ''})"


def components(dg: DiplomacyGraph) -> Components:
    """The connected components of the undirected graph: how fragmented the system is.

    Definition: two actors are in the same component when a path of ties (in any
    direction) joins them; an actor without ties is a component of its own. Same as
    ``networkx.connected_components`` on the undirected graph.

    Returns a :class:`Components`: ``count``, ``sizes`` (largest first) and
    ``membership`` (actor id → component number, 0 the largest).

    Reference: J. Hopcroft, R. Tarjan (1973), "Algorithm 447: efficient algorithms for
    graph manipulation", *Commun. ACM* 16(6): 372–378, doi:10.1145/362248.362272.
    """
    return Components(dg.g.connected_components(mode="weak"))


# ---------------------------------------------------------------------------------------
# Tables of measures


@dataclass
class _Options:
    sample: int | None
    seed: int | None


def _m_degree(u, o):
    return {"degree": np.asarray(u.degree(), dtype=np.int64)}


def _m_strength(u, o):
    return {"strength": np.asarray(u.strength(weights=_weights(u), loops=False), dtype=float)}


def _m_pagerank(u, o):
    return {"pagerank": np.asarray(_pagerank_of(u, 0.85, _weights(u)), dtype=float)}


def _m_betweenness(u, o):
    cols = _betweenness_of(u, normalized=True, sample=o.sample, seed=o.seed)
    out = {k: v for k, v in cols.items() if k in ("betweenness", "betweenness_stderr")}
    # how it was computed, as a one-element column (kept with the values)
    out["betweenness_method"] = np.array([{
        "method": "sampled" if o.sample is not None else "exact", "pivots": o.sample, "seed": o.seed,
        "bound": cols.get("bound", 0.0), "confidence": BOUND_CONFIDENCE,
        "searched": cols.get("searched", u.vcount())}], dtype=object)
    return out


def _m_eigenvector(u, o):
    return {"eigenvector": _eigenvector_of(u, None)}


def _m_closeness(u, o):
    return {"closeness": _closeness_of(u, wf_improved=True)}


#: The measures :func:`compute` knows, by name: each maps the undirected simple graph to
#: columns, the first named like the measure (ranked), others (an error) alongside.
MEASURES: dict[str, Callable[[ig.Graph, _Options], dict[str, np.ndarray]]] = {
    "degree": _m_degree,
    "strength": _m_strength,
    "pagerank": _m_pagerank,
    "betweenness": _m_betweenness,
    "eigenvector": _m_eigenvector,
    "closeness": _m_closeness,
}


def _ranks(values: np.ndarray) -> np.ndarray:
    """Competition ranks, 1 = highest; equal values (to 12 significant digits, so that
    floating-point noise does not split ties) share the best rank."""
    x = np.asarray(values, dtype=float)
    top = np.abs(x).max() if len(x) else 0.0
    if top > 0:
        x = np.round(x / top, 12)
    desc = np.sort(-x)
    return np.searchsorted(desc, -x, side="left") + 1


#: Betweenness is computed exactly when a search from every actor visits at most this
#: many (actor, tie) pairs — Σ over the connected components of actors × ties, about half
#: a second on 2 cores — and estimated from :data:`DEFAULT_PIVOTS` pivots above it
#: (``sample="auto"``, what ``citydip network metrics`` and the API do unless told).
EXACT_WORK_MAX = 20_000_000
#: Pivots of the default estimate of betweenness (see docs/network-centrality.md for its error).
DEFAULT_PIVOTS = 256
SCOPES = ("all",) + tuple(layer.value for layer in Layer) + ("engagement",)


def betweenness_work(u: ig.Graph) -> int:
    """The work of exact betweenness on the undirected graph ``u``: Σ_C |C| · |E(C)|
    over its connected components (each search from an actor visits its component)."""
    if u.vcount() == 0:
        return 0
    membership = np.asarray(u.connected_components().membership, dtype=np.int64)
    sizes = np.bincount(membership)
    ties = np.bincount(membership, weights=np.asarray(u.degree(), dtype=float)) / 2
    return int((sizes * ties).sum())


def resolve_sample(u: ig.Graph, sample: int | str | None) -> int | None:
    """The pivots to use on ``u``: ``sample`` itself, or for ``"auto"`` None (exact) when
    :func:`betweenness_work` is at most :data:`EXACT_WORK_MAX`, else :data:`DEFAULT_PIVOTS`."""
    if sample == "auto":
        return None if betweenness_work(u) <= EXACT_WORK_MAX else DEFAULT_PIVOTS
    _check_sample(sample)
    return sample


class Rows(list):
    """Rows of :func:`compute` (a ``list``), with ``betweenness``: scope → how its
    betweenness was computed (``method`` exact or sampled, ``pivots``, ``seed``, ``bound``
    at ``confidence``, ``searched``: single-source searches made)."""

    def __init__(self, rows=(), betweenness: dict[str, dict[str, Any]] | None = None):
        super().__init__(rows)
        self.betweenness = betweenness or {}


def compute(dg: DiplomacyGraph,
            measures: Iterable[str] = ("degree", "pagerank", "betweenness", "eigenvector", "closeness"),
            *, per_layer: bool = True, scopes: Iterable[str] | None = None, top: int | None = None,
            sample: int | str | None = None, seed: int | None = 0) -> Rows:
    """A table of centralities with ranks, for the whole graph and each layer.

    Scopes: ``all`` (the whole graph) and, with ``per_layer``, each layer present
    (``macro``, ``meso``, ``micro``): the subgraph of that layer's actors and the ties among
    them (``dg.layer(name)``), so a city's micro-layer rank reflects its city-to-city
    ties only; and, asked by name on a graph built with engagements, ``engagement``: the
    actors with ties derived from the register and those ties alone (``dg.engaged()``). Every measure is computed on the scope's undirected simple graph with
    the definitions of :func:`degree`, :func:`pagerank` (weighted, α = 0.85),
    :func:`betweenness` (normalized), :func:`eigenvector` (unweighted) and
    :func:`closeness` (Wasserman–Faust); ``strength`` (weighted degree) is also known.
    Names are looked up in :data:`MEASURES`.

    Parameters: ``measures`` names, in column order (only these are computed);
    ``per_layer`` add the layer scopes; ``scopes`` compute only these (``all``, ``macro``,
    ``meso``, ``micro``; overrides ``per_layer``); ``top`` keep, per scope, the actors
    ranked ≤ ``top`` in at least one measure; ``sample`` estimate betweenness from that
    many pivots (adds ``betweenness_stderr``, see :func:`betweenness`), None for the exact
    value, ``"auto"`` for exact up to :data:`EXACT_WORK_MAX` and :data:`DEFAULT_PIVOTS`
    pivots above (decided per scope); ``seed`` of the pivots.

    When ``dg.results`` is set (a graph from :meth:`Observatory.graph`), each column is
    kept there per data version and read back on the next call instead of computed.

    Returns :class:`Rows` ``{"scope", "id", "name", "kind", "layer", "country", <measure>,
    "<measure>_rank", ...}``, per scope ordered by the first measure's rank (1 = highest;
    equal values share a rank), with ``.betweenness`` saying per scope how it was computed.

    References: those of each measure; on centrality in multilayer networks read layer by
    layer, M. De Domenico et al. (2013), "Mathematical formulation of multilayer
    networks", *Phys. Rev. X* 3, 041022, doi:10.1103/PhysRevX.3.041022.
    """
    measures = list(measures)
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise ValidationError(f"unknown measure '{unknown[0] if unknown else ''}'; choose from: "
                              f"{', '.join(MEASURES)}", field="measure")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValidationError(f"top must be a positive whole number (got {top!r})", field="top")
    if sample != "auto":
        _check_sample(sample)
    if scopes is None:
        wanted = [x for x in SCOPES if x != "engagement" or dg.filters.get("engagements")] if per_layer else ["all"]
    else:
        wanted = list(dict.fromkeys(scopes))
        bad = [x for x in wanted if x not in SCOPES]
        if bad or not wanted:
            raise ValidationError(f"unknown scope '{bad[0] if bad else ''}'; choose from: {', '.join(SCOPES)}",
                                  field="scope")
    present = set(dg.g.vs["layer"]) if dg.g.vcount() else set()
    if "engagement" in wanted:
        if not dg.filters.get("engagements"):
            raise ValidationError("the engagement scope needs the ties derived from engagements: build the graph "
                                  "with engagements=True (CLI: --engagements)", field="scope")
        present.add("engagement")
    rows = Rows()
    for scope in wanted:
        if scope != "all" and scope not in present:
            continue
        sdg = dg.scope(scope)
        rows += _scope_rows(scope, sdg, measures, sample, seed, top, dg.results, rows.betweenness)
    return rows


def _scope_rows(scope: str, dg: DiplomacyGraph, measures: list[str], sample: int | str | None,
                seed: int | None, top: int | None, results, method: dict[str, Any]) -> list[dict[str, Any]]:
    n = dg.g.vcount()
    if n == 0:
        return []
    simple: list[ig.Graph] = []

    def u() -> ig.Graph:      # built only when a column must be computed
        if not simple:
            simple.append(_simple(dg, weighted=True))
        return simple[0]

    columns: dict[str, list] = {}
    ranks: dict[str, np.ndarray] = {}
    for m in measures:
        def run(m=m):
            pivots = resolve_sample(u(), sample) if m == "betweenness" else None
            return MEASURES[m](u(), _Options(sample=pivots, seed=seed))
        if results is None:
            cols = run()
        else:
            key = ("measure", scope, m) + ((sample, seed) if m == "betweenness" else ())
            cols = results.get_or_compute(key, run)
        ranks[m] = _ranks(cols[m])
        for name, values in cols.items():
            if name == "betweenness_method":
                method[scope] = dict(values[0])
            else:
                columns[name] = values.tolist()
    keep = np.ones(n, dtype=bool)
    if top is not None:
        keep = np.zeros(n, dtype=bool)
        for r in ranks.values():
            keep |= r <= top
    first = ranks[measures[0]]
    order = sorted(np.flatnonzero(keep).tolist(), key=lambda i: (first[i], i))
    vs = dg.g.vs   # the simple graph keeps this vertex order
    attrs = {a: vs[a] if a in vs.attributes() else [None] * n
             for a in ("name", "label", "kind", "layer", "country")}
    rank_lists = {m: r.tolist() for m, r in ranks.items()}
    rows = []
    for i in order:
        row = {"scope": scope, "id": attrs["name"][i], "name": attrs["label"][i], "kind": attrs["kind"][i],
               "layer": attrs["layer"][i], "country": attrs["country"][i]}
        for m in measures:
            row[m] = columns[m][i]
            row[f"{m}_rank"] = rank_lists[m][i]
            if f"{m}_stderr" in columns:
                row[f"{m}_stderr"] = columns[f"{m}_stderr"][i]
        rows.append(row)
    return rows
