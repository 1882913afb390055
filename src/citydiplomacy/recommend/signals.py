"""The signals of the recommender, each a measure on the training graph (:class:`RecData`).

Partner signals take a query actor ``q`` and an array of candidate actors ``c`` (vertex
indices) and return one value per candidate. Membership signals take arrays of actors
``a`` and network columns ``j`` (pairs) and return one value per pair. None of them reads
the store: they see only the ties the arrays were built from (the training ties).

References: D. Liben-Nowell and J. Kleinberg, "The link-prediction problem for social
networks", JASIST 58(7), 2007, doi:10.1002/asi.20591 (common neighbours, Adamic–Adar,
preferential attachment, rooted PageRank as link predictors); L. A. Adamic and E. Adar,
"Friends and neighbors on the Web", Social Networks 25(3), 2003,
doi:10.1016/S0378-8733(03)00009-1; G. Jeh and J. Widom, "Scaling personalized web search",
WWW 2003 (personalised PageRank).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .data import EARTH_KM, RecData

__all__ = ["common_partners", "common_neighbours", "resource_allocation", "paths_of_three", "shared_networks", "adamic_adar", "preferential_attachment",
           "personalized_pagerank", "distance_km", "same_country", "neighbouring_country", "shared_blocs",
           "same_language", "country_propensity", "bloc_propensity", "partners_in_country", "your_partners_in_country", "population_log_ratio",
           "network_profile_similarity", "partners_in_network", "network_comembership", "country_share",
           "band_share", "nearest_member_km", "network_popularity", "RESTART", "STEPS"]

#: the random walk's restart probability and the number of power-iteration steps
#: (0.7¹² ≈ 1.4 %: later steps change no ranking that matters)
RESTART = 0.3
STEPS = 12


def _row(m: sp.csr_matrix, q: int) -> sp.csr_matrix:
    return m[q]


def _dense(row: sp.spmatrix, c: np.ndarray) -> np.ndarray:
    return np.asarray(row.toarray()).ravel()[c]


# -- network proximity ----------------------------------------------------------------------

def common_partners(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """|Γ_T(q) ∩ Γ_T(c)|: twinning partners that ``q`` and each candidate share (the
    common-neighbours predictor on the twinning layer alone)."""
    return _dense(_row(d.T, q) @ d.T, c)


def common_neighbours(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """|Γ(q) ∩ Γ(c)| on the multilayer graph (every tie type, undirected): partners,
    networks, the state or region both are located in, ... (Liben-Nowell & Kleinberg 2007)."""
    return _dense(_row(d.A, q) @ d.A, c)


def shared_networks(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """The number of city networks both ``q`` and the candidate are members of."""
    return _dense(_row(d.M, q) @ d.MT, c)


def adamic_adar(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """Σ_{w ∈ Γ(q) ∩ Γ(c)} 1 / log |Γ(w)| on the multilayer graph: common neighbours,
    each weighted down by how many others it connects (a network of 11,000 members or a
    state of 5,000 towns says little; a shared partner of 3 says much) (Adamic & Adar 2003)."""
    return _dense(_row(d.A_aa, q) @ d.A, c)


def resource_allocation(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """Σ_{w ∈ Γ_T(q) ∩ Γ_T(c)} 1 / |Γ_T(w)| on the twinning layer: common partners, each
    weighted by how few partners it has (Zhou, Lü & Zhang 2009, "resource allocation")."""
    inv = np.where(d.deg_T > 0, 1.0 / np.maximum(d.deg_T, 1), 0.0)
    return _dense(d.T[q].multiply(inv) @ d.T, c)


def paths_of_three(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """Σ over twinning paths q–u–v–c of 1 / sqrt(k_u · k_v) (k: number of partners): the
    partners of *q*'s partners' partners, degree-normalised (Kovács et al. 2019, "L3")."""
    inv = np.where(d.deg_T > 0, 1.0 / np.sqrt(np.maximum(d.deg_T, 1)), 0.0)
    step = d.T[q].multiply(inv) @ d.T
    step = step.multiply(inv) @ d.T
    return _dense(step, c)


def preferential_attachment(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """|Γ(q)| · |Γ(c)| on the multilayer graph (Barabási–Albert; a classical baseline)."""
    return d.deg_A[q] * d.deg_A[c]


def personalized_pagerank(d: RecData, qs: np.ndarray | list[int], *, restart: float = RESTART,
                          steps: int = STEPS) -> np.ndarray:
    """Personalised PageRank of every vertex from each query in ``qs`` (a random walk on the
    multilayer graph that returns to the query with probability ``restart`` at each step):
    an n × len(qs) array, column k the walk's stationary distribution from ``qs[k]``
    (r = restart·e_q + (1 − restart)·P r, by power iteration from e_q; Jeh & Widom 2003,
    "rooted PageRank" in Liben-Nowell & Kleinberg 2007). It sees paths of every length
    through every layer: partners of partners, fellow members of small networks."""
    qs = np.asarray(qs, dtype=np.int64)
    E = np.zeros((d.A.shape[0], len(qs)))
    E[qs, np.arange(len(qs))] = 1.0
    r = E.copy()
    for _ in range(steps):
        r = restart * E + (1.0 - restart) * (d.P @ r)
    return r


# -- geography, language and history ------------------------------------------------------

def distance_km(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """Great-circle distance from ``q`` to each candidate in km (NaN where a location is
    unknown), from the dot product of unit vectors."""
    dot = d.xyz[c] @ d.xyz[q]
    return EARTH_KM * np.arccos(np.clip(dot, -1.0, 1.0))


def _country_table(d: RecData, table: np.ndarray, q: int, c: np.ndarray, missing: float = 0.0) -> np.ndarray:
    cq, cc = d.country[q], d.country[c]
    if cq < 0:
        return np.full(len(c), missing, dtype=float)
    out = table[cq, np.maximum(cc, 0)].astype(float)
    out[cc < 0] = missing
    return out


def same_country(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """1 where the candidate is in ``q``'s country, else 0."""
    cq = d.country[q]
    return ((d.country[c] == cq) & (cq >= 0)).astype(float)


def neighbouring_country(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """1 where the candidate's country borders ``q``'s (GeoNames countryInfo), else 0."""
    return _country_table(d, d.neighbours, q, c)


def shared_blocs(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """The number of blocs (geopolitical blocs and regional organisations: EU, ASEAN, ...)
    that both actors' states belong to, from the states' ``member_of`` ties."""
    return _country_table(d, d.shared_blocs, q, c)


def same_language(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """1 where both countries' main language (the first GeoNames lists) is the same."""
    return _country_table(d, d.same_language, q, c)


def country_propensity(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """log((t + 1) / (e + 1)) for the pair of countries: t twinning ties between them in
    the training ties, e = t_q · t_c / t the number expected by chance from each
    country's total. 0: as often as chance; log 3 ≈ 1.1: three times as often."""
    return _country_table(d, d.country_lift, q, c)


def partners_in_country(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """How many of each candidate's twinning partners are in ``q``'s country: a city that
    already twins with three German towns is likelier to take a fourth (0 for ``q``
    without a country)."""
    cq = d.country[q]
    if cq < 0:
        return np.zeros(len(c))
    return np.asarray(d.T[c] @ (d.country == cq).astype(float)).ravel()


def your_partners_in_country(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """How many of ``q``'s twinning partners are in each candidate's country."""
    partners = d.T[q].indices
    counts = np.bincount(d.country[partners][d.country[partners] >= 0], minlength=len(d.countries) + 1)
    cc = d.country[c]
    return np.where(cc >= 0, counts[np.maximum(cc, 0)], 0).astype(float)


def bloc_propensity(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """The same lift for the blocs of the two countries (EU–EU, EU–ASEAN, ...), averaged
    over the pairs of blocs the two countries belong to: the history of twinning between
    blocs, which also speaks for country pairs with few ties of their own."""
    return _country_table(d, d.bloc_lift, q, c)


# -- profiles ----------------------------------------------------------------------------

def population_log_ratio(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """|log10(population of q / population of c)|: 0 for equal sizes, 1 for a factor of
    ten (NaN where a population is unknown)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(np.log10(d.pop[q] / d.pop[c]))


def _axis_profile(d: RecData, idx: np.ndarray) -> np.ndarray:
    axes = ("sustainability", "digital", "engagement")
    net = np.array([[a in ax for a in axes] for ax in d.net_axes], dtype=float).reshape(-1, 3)
    return np.asarray((d.M[idx] @ net))


def network_profile_similarity(d: RecData, q: int, c: np.ndarray) -> np.ndarray:
    """Cosine similarity of the two actors' profiles across the three axes: the number of
    networks each belongs to per axis (sustainability, digital, engagement), and where an
    index build is published, the actor's axis scores appended (0 when either profile is
    empty)."""
    pq = _axis_profile(d, np.array([q]))[0]
    pc = _axis_profile(d, c)
    if d.axis_scores:
        axes = ("sustainability", "digital", "engagement")
        sq = np.array([d.axis_scores.get(q, {}).get(a, 0.0) / 100.0 for a in axes])
        sc = np.array([[d.axis_scores.get(int(v), {}).get(a, 0.0) / 100.0 for a in axes] for v in c])
        pq, pc = np.concatenate([pq, sq]), np.hstack([pc, sc])
    nq = np.linalg.norm(pq)
    nc = np.linalg.norm(pc, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (pc @ pq) / (nc * nq)
    return np.nan_to_num(out)


# -- memberships (pairs of an actor a and a network column j) --------------------------------

def partners_in_network(d: RecData, a: np.ndarray, j: np.ndarray) -> np.ndarray:
    """How many of the actor's twinning partners are members of the network."""
    return _tm(d)[a, j]


def _tm(d: RecData) -> np.ndarray:
    cache = d.__dict__.setdefault("_tm", None)
    if cache is None:
        cache = d.__dict__["_tm"] = np.asarray((d.T @ d.M).toarray())
    return cache


def _mcomem(d: RecData) -> np.ndarray:
    cache = d.__dict__.setdefault("_comem", None)
    if cache is None:
        cache = d.__dict__["_comem"] = np.asarray(d.M @ d.net_similarity)
    return cache


def network_comembership(d: RecData, a: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Σ over the actor's networks m of cos(m, j), the cosine similarity of the member
    sets of m and j: the networks whose members also join j (item-to-item collaborative
    filtering on the membership matrix)."""
    return _mcomem(d)[a, j]


def country_share(d: RecData, a: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The share of the network's members that are in the actor's country (0 for an actor
    without a country)."""
    c = d.country[a]
    out = d.net_country_share[j, np.maximum(c, 0)]
    return np.where(c >= 0, out, 0.0)


def band_share(d: RecData, a: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The share of the network's members in the actor's population band (unknown
    populations are a band of their own)."""
    b = np.where(d.band[a] >= 0, d.band[a], 4)
    return d.net_band_share[j, b]


def nearest_member_km(d: RecData, a: np.ndarray, j: np.ndarray, *, with_member: bool = False):
    """The distance in km from the actor to the network's nearest located member other
    than itself (NaN when either has no location); with ``with_member``, also that
    member's vertex index (-1 where none)."""
    a, j = np.asarray(a), np.asarray(j)
    out = np.full(len(a), np.nan)
    who = np.full(len(a), -1, dtype=np.int64)
    for col in np.unique(j):
        sel = np.flatnonzero(j == col)
        tree, located = d.member_tree(int(col))
        if tree is None:
            continue
        pts = d.xyz[a[sel]]
        ok = np.isfinite(pts).all(axis=1)
        if not ok.any():
            continue
        k = min(2, tree.n)
        dist, idx = tree.query(pts[ok], k=k)
        dist, idx = dist.reshape(len(dist), -1), idx.reshape(len(idx), -1)
        # a member's nearest member is itself: take the next one
        self_hit = located[idx[:, 0]] == a[sel][ok]
        second = self_hit & (k > 1)
        chord = np.where(second, dist[:, -1], dist[:, 0])
        pick = np.where(second, idx[:, -1], idx[:, 0])
        valid = ~(self_hit & (k == 1))
        km = 2.0 * EARTH_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
        rows = sel[ok]
        out[rows[valid]] = km[valid]
        who[rows[valid]] = located[pick[valid]]
    return (out, who) if with_member else out


def network_popularity(d: RecData, j: np.ndarray) -> np.ndarray:
    """The number of members the network has in the training ties."""
    return d.net_size[j]
