"""The partner ranking in two stages: candidate generation, then a learned ranker.

Stage 1 takes, among all candidates, the union of the best few hundred by cheap scores on
the training graph: resource allocation and Adamic–Adar (partners of partners, shared
networks), a country-pair prior (how often the query's country twins with the candidate's,
times the candidate's share of its country's twinning) and two cell-pair scores (training
ties between the query's area and the candidate's, on a grid of ~25 and ~100 km cells).
Stage 2 scores that union with a gradient-boosted classifier fitted on *hard* negatives:
for training ties set aside from the training graph, the other members of the same union
(random negatives would teach it only to tell a busy city from a village, which gives a
high AUC and a poor top of the list). Candidates outside the union come after it, in
the order of the country-pair prior.

Everything here is computed from a :class:`~.data.RecData` of training ties only.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import signals as S
from .data import RecData

__all__ = ["RANK_FEATURES", "CELL_KM", "POOL_SIZES", "candidate_scores", "candidates", "rank_features",
           "score_partners"]

#: grid cell sizes (km) for the cell-pair twinning history
CELL_KM = (25.0, 100.0, 400.0)
#: how many candidates each stage-1 score contributes (resource allocation, Adamic–Adar,
#: country prior, ties into the query's 100 km cell, cell-pair history)
POOL_SIZES = (300, 200, 200, 100, 100)

_CHEAP = ("aa", "ra", "prior", "into", "pc", "share") + tuple(
    f"{k}{int(r)}" for r in CELL_KM for k in ("cellpair", "mine", "cinto"))
RANK_FEATURES = _CHEAP + (
    "common_partners", "common_neighbours", "paths_of_three", "shared_networks", "ppr", "distance_km",
    "same_country", "neighbouring_country", "shared_blocs", "same_language", "country_propensity",
    "bloc_propensity", "your_partners_in_country", "your_partners_in_country_share", "into_share",
    "candidate_partners", "query_partners", "candidate_networks", "query_networks", "candidate_degree",
    "log_population", "query_log_population", "population_log_ratio", "candidate_is_region",
    "profile_similarity", "rank_aa", "rank_ra", "rank_prior")


class _Tables:
    """Per training graph: country and grid-cell tables of the training twinning ties."""

    def __init__(self, d: RecData):
        n, C = len(d.ids), len(d.countries)
        c = d.country
        pool = d.pool
        cc = np.where(c[pool] >= 0, c[pool], C)
        self.c_deg = np.bincount(cc, weights=d.deg_T[pool], minlength=C + 1)
        self.c_n = np.bincount(cc, minlength=C + 1).astype(float)
        tw = d.country_twins
        #: P(partner's country | query's country), smoothed
        self.p_cc = (tw + 0.1) / (tw.sum(axis=1, keepdims=True) + 0.1 * max(C, 1))
        cT = np.where(c >= 0, c, C)
        Cm = sp.csr_matrix((np.ones(n), (np.arange(n), cT)), shape=(n, C + 1))
        self.TC = (d.T @ Cm).tocsc()              # actor × country: partners in each country
        self.cells = []
        ok = np.isfinite(d.lat) & np.isfinite(d.lon)
        for km in CELL_KM:
            dl = km / 111.0
            rows = np.floor(np.nan_to_num(d.lat) / dl)
            ncol = np.maximum(1, np.floor(360 * np.cos(np.radians(rows * dl + dl / 2)) / dl))
            cols = np.floor((np.nan_to_num(d.lon) + 180) / 360 * ncol)
            _, cell = np.unique(np.where(ok, rows * 100000 + cols, -1e12), return_inverse=True)
            K = int(cell.max()) + 2
            cell = np.where(ok, cell, K - 1)      # the last cell: no location
            Cm = sp.csr_matrix((np.ones(n), (np.arange(n), cell)), shape=(n, K))
            self.cells.append((cell, (d.T @ Cm).tocsc(), (Cm.T @ d.T @ Cm).tocsr(), K))


def _tables(d: RecData) -> _Tables:
    t = d.__dict__.get("_rank_tables")
    if t is None:
        t = d.__dict__["_rank_tables"] = _Tables(d)
    return t


def candidate_scores(d: RecData, q: int, c: np.ndarray) -> dict[str, np.ndarray]:
    """The cheap scores of every candidate ``c`` for ``q`` (stage 1): ``aa`` Adamic–Adar,
    ``ra`` resource allocation, ``pc`` P(candidate's country | query's country) from the
    training ties, ``share`` the candidate's share of its country's twinning, ``prior``
    their product, ``into`` the candidate's partners in the query's country, and per grid
    size r: ``cellpair{r}`` training ties between the query's cell and the candidate's
    (less the query's own), ``mine{r}`` the query's partners in the candidate's cell,
    ``cinto{r}`` the candidate's partners in the query's cell."""
    t = _tables(d)
    C = len(d.countries)
    cq, cc = d.country[q], d.country[c]
    ccx = np.where(cc >= 0, cc, C)
    if cq >= 0:
        pc = t.p_cc[cq, np.maximum(cc, 0)]
        into = np.asarray(t.TC[:, cq].toarray()).ravel()[c]
    else:
        pc, into = np.full(len(c), 1.0 / max(C, 1)), np.zeros(len(c))
    share = (d.deg_T[c] + 0.5) / (t.c_deg[ccx] + 0.5 * t.c_n[ccx])
    out = {"aa": S.adamic_adar(d, q, c), "ra": S.resource_allocation(d, q, c), "prior": pc * share,
           "into": into, "pc": pc, "share": share}
    partners = d.T[q].indices
    for km, (cell, TCell, CC, K) in zip(CELL_KM, t.cells):
        k = int(km)
        known = cell[q] != K - 1
        mine = np.bincount(cell[partners], minlength=K)[cell[c]].astype(float)
        pair = np.asarray(CC[cell[q]].toarray()).ravel()[cell[c]] if known else np.zeros(len(c))
        out[f"cellpair{k}"] = pair - mine
        out[f"mine{k}"] = mine
        out[f"cinto{k}"] = np.asarray(TCell[:, cell[q]].toarray()).ravel()[c] if known else np.zeros(len(c))
    return out


def _top(score: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(score))
    if k <= 0:
        return np.array([], dtype=np.int64)
    idx = np.argpartition(-score, k - 1)[:k]
    return idx[score[idx] > 0]


def candidates(ch: dict[str, np.ndarray], sizes: tuple[int, ...] = POOL_SIZES) -> np.ndarray:
    """Positions (into the candidate array) of stage 1's union."""
    parts = [_top(ch["ra"], sizes[0]), _top(ch["aa"], sizes[1]), _top(ch["prior"], sizes[2]),
             _top(ch["cinto100"] + 0.01 * ch["cellpair100"] + 1e-4 * ch["share"], sizes[3]),
             _top(ch["cellpair25"] + 0.1 * ch["cellpair100"] + 0.01 * ch["cellpair400"] + 1e-4 * ch["share"],
                  sizes[4])]
    return np.unique(np.concatenate(parts)).astype(np.int64)


def _ranks(s: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(-s, kind="stable"), kind="stable").astype(float)


def rank_features(d: RecData, q: int, c: np.ndarray, ch: dict[str, np.ndarray], ppr: np.ndarray) -> np.ndarray:
    """The len(c) × len(RANK_FEATURES) matrix of stage 2 (``ch``: the stage-1 scores of
    ``c``; ``ppr``: the query's personalised PageRank column)."""
    n = len(c)
    with np.errstate(divide="ignore", invalid="ignore"):
        logpop, qpop = np.log10(d.pop[c]), np.log10(d.pop[q])
    ypic = S.your_partners_in_country(d, q, c)
    cols = [ch[k] for k in _CHEAP] + [
        S.common_partners(d, q, c), S.common_neighbours(d, q, c), S.paths_of_three(d, q, c),
        S.shared_networks(d, q, c), ppr[c] * len(d.ids), S.distance_km(d, q, c), S.same_country(d, q, c),
        S.neighbouring_country(d, q, c), S.shared_blocs(d, q, c), S.same_language(d, q, c),
        S.country_propensity(d, q, c), S.bloc_propensity(d, q, c), ypic, ypic / max(d.deg_T[q], 1),
        ch["into"] / np.maximum(d.deg_T[c], 1), d.deg_T[c], np.full(n, d.deg_T[q]), d.deg_M[c],
        np.full(n, d.deg_M[q]), d.deg_A[c], logpop, np.full(n, qpop), S.population_log_ratio(d, q, c),
        (d.kind[c] == "region").astype(float), S.network_profile_similarity(d, q, c),
        _ranks(ch["aa"]), _ranks(ch["ra"]), _ranks(ch["prior"])]
    return np.column_stack(cols)


def stage(d: RecData, q: int, c: np.ndarray, ppr: np.ndarray | None = None):
    """(positions of stage 1's union in ``c``, their stage-2 features, the stage-1 scores)."""
    if ppr is None:
        ppr = S.personalized_pagerank(d, [q])[:, 0]
    ch = candidate_scores(d, q, c)
    u = candidates(ch)
    return u, rank_features(d, q, c[u], {k: v[u] for k, v in ch.items()}, ppr), ch


def score_partners(estimator, d: RecData, q: int, c: np.ndarray, ppr: np.ndarray | None = None) -> np.ndarray:
    """A score per candidate: the ranker's log-odds on stage 1's union; below all of them,
    the others in the order of the country-pair prior."""
    if not len(c):
        return np.zeros(0)
    u, X, ch = stage(d, q, c, ppr)
    z = np.log(ch["prior"])
    out = np.full(len(c), 0.0)
    top = estimator.decision_function(X).ravel() if len(u) else np.zeros(0)
    floor = (top.min() if len(top) else 0.0) - 1.0
    out[:] = floor + 0.01 * (z - z.max())
    out[u] = top
    return out
