"""The learned combination of the signals, fitted only on training ties.

A model is fitted the way it is used: some training ties are set aside as the ties to
predict (*fit positives*), the signals are computed on the graph without them, and pairs
that are not tied are sampled as negatives (a mix of random candidates and hard ones — near,
or sharing neighbours — so the model learns to rank among plausible candidates). The
estimator is scikit-learn's histogram gradient boosting (it takes missing distances and
populations as they are); when it cannot be fitted (scikit-learn missing, fewer than
:data:`MIN_POSITIVES` fit positives, or one class only), the score is the documented
fixed-weight sum :data:`FALLBACK_WEIGHTS` of transformed signals.

Partners are ranked in two stages (:mod:`.ranker`): candidate generation, then gradient
boosting fitted on the hard negatives of set-aside training ties (:func:`fit_partner_model`,
:func:`score_partners`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import signals as S
from .data import RecData, TrainingGraph

__all__ = ["PARTNER_FEATURES", "MEMBER_FEATURES", "LinkModel", "partner_features", "member_features",
           "fit_partner_model", "fit_member_model", "score_partners", "MIN_POSITIVES", "FALLBACK_WEIGHTS"]

PARTNER_FEATURES = ("common_partners", "shared_networks", "adamic_adar", "ppr", "distance_km", "same_country",
                    "neighbouring_country", "shared_blocs", "same_language", "country_propensity",
                    "bloc_propensity", "partners_in_country", "your_partners_in_country", "population_log_ratio", "profile_similarity", "candidate_partners",
                    "query_partners", "candidate_networks", "candidate_degree", "candidate_is_region",
                    "resource_allocation", "paths_of_three")
MEMBER_FEATURES = ("partners_in_network", "adamic_adar", "comembership", "country_share", "band_share",
                   "nearest_member_km", "network_popularity", "actor_networks", "actor_partners",
                   "actor_degree", "actor_is_region", "log_population")

#: fewer fit positives than this: the fixed-weight fallback
MIN_POSITIVES = 30
#: the fallback's weights on transformed signals (log1p of counts, km in thousands)
FALLBACK_WEIGHTS = {
    "partners": {"common_partners": 1.0, "adamic_adar": 1.0, "shared_networks": 0.5, "country_propensity": 0.5,
                 "same_language": 0.3, "distance_km": -0.5},
    "members": {"partners_in_network": 1.0, "comembership": 1.0, "country_share": 3.0, "nearest_member_km": -0.5,
                "network_popularity": 0.2},
}


def partner_features(d: RecData, q: int, c: np.ndarray, ppr: np.ndarray | None = None) -> np.ndarray:
    """The len(c) × len(PARTNER_FEATURES) signal matrix of candidates ``c`` for ``q``;
    ``ppr``: the personalised PageRank column of ``q`` (computed when not given)."""
    if ppr is None:
        ppr = S.personalized_pagerank(d, [q])[:, 0]
    n = len(c)
    cols = [
        S.common_partners(d, q, c), S.shared_networks(d, q, c), S.adamic_adar(d, q, c), ppr[c] * len(d.ids),
        S.distance_km(d, q, c), S.same_country(d, q, c), S.neighbouring_country(d, q, c), S.shared_blocs(d, q, c),
        S.same_language(d, q, c), S.country_propensity(d, q, c), S.bloc_propensity(d, q, c),
        S.partners_in_country(d, q, c), S.your_partners_in_country(d, q, c), S.population_log_ratio(d, q, c), S.network_profile_similarity(d, q, c), d.deg_T[c],
        np.full(n, d.deg_T[q]), d.deg_M[c], d.deg_A[c], (d.kind[c] == "region").astype(float),
        S.resource_allocation(d, q, c), S.paths_of_three(d, q, c)]
    return np.column_stack(cols)


def member_features(d: RecData, a: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The len(a) × len(MEMBER_FEATURES) signal matrix of the pairs (actor a, network
    column j)."""
    a, j = np.asarray(a), np.asarray(j)
    aa = np.zeros(len(a))
    # Adamic–Adar between the actor and the network's vertex, grouped by network
    for col in np.unique(j):
        sel = np.flatnonzero(j == col)
        v = int(d.networks[col])
        aa[sel] = np.asarray((d.A_aa[v] @ d.A).toarray()).ravel()[a[sel]]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpop = np.log10(d.pop[a])
    cols = [S.partners_in_network(d, a, j), aa, S.network_comembership(d, a, j), S.country_share(d, a, j),
            S.band_share(d, a, j), S.nearest_member_km(d, a, j), S.network_popularity(d, j), d.deg_M[a],
            d.deg_T[a], d.deg_A[a], (d.kind[a] == "region").astype(float), logpop]
    return np.column_stack(cols)


@dataclass
class LinkModel:
    """A fitted combination of signals (or the fallback), and how it was fitted."""

    task: str                       # "partners" or "members"
    features: tuple[str, ...]
    estimator: Any = None           # None: the fallback
    n_positive: int = 0
    n_negative: int = 0
    reason: str = ""
    importances: dict[str, float] = field(default_factory=dict)

    @property
    def method(self) -> str:
        if self.estimator is None:
            return f"fixed weights (fallback: {self.reason})"
        if isinstance(self.estimator, _Ranker):
            how = "logistic regression" if isinstance(self.estimator.estimator, Logistic) else "gradient boosting"
            return (f"two stages: candidates from partners of partners, shared networks, the country-pair "
                    f"and area-pair twinning history; then {how} on {len(self.features)} signals, fitted on "
                    f"{self.n_positive:,} set-aside training ties and {self.n_negative:,} hard non-ties")
        how = "conditional logit" if isinstance(self.estimator, Logistic) else "gradient boosting"
        return (f"{how} on {len(self.features)} signals, fitted on {self.n_positive:,} training "
                f"ties and {self.n_negative:,} sampled non-ties")

    def score(self, X: np.ndarray) -> np.ndarray:
        """A score per row: the model's log-odds of a tie, or the fallback's weighted sum."""
        if isinstance(self.estimator, Logistic):
            return self.estimator.decision_function(X)
        if self.estimator is not None:
            with _one_thread():
                return self.estimator.decision_function(X).ravel()
        return _fallback(self.task, self.features, X)


def _fallback(task: str, names: tuple[str, ...], X: np.ndarray) -> np.ndarray:
    out = np.zeros(len(X))
    for name, w in FALLBACK_WEIGHTS[task].items():
        x = X[:, names.index(name)].astype(float)
        if name.endswith("_km"):
            x = np.nan_to_num(x / 1000.0, nan=5.0)
        elif name in ("country_share", "country_propensity", "same_language"):
            x = np.nan_to_num(x)
        else:
            x = np.log1p(np.nan_to_num(np.maximum(x, 0)))
        out += w * x
    return out


#: how each signal enters the logistic model: counts as log(1 + x), the random walk's
#: score as log x, distances as log(1 + km) with a flag where unknown, the population ratio
#: as it is with a flag where unknown, the rest (shares, lifts, indicators) as they are
_LOG1P = {"common_partners", "shared_networks", "adamic_adar", "resource_allocation", "paths_of_three", "shared_blocs", "partners_in_country",
          "your_partners_in_country", "candidate_partners", "query_partners", "candidate_networks",
          "candidate_degree", "partners_in_network", "comembership", "network_popularity", "actor_networks",
          "actor_partners", "actor_degree"}


def design(names: tuple[str, ...], X: np.ndarray) -> np.ndarray:
    """The logistic model's columns for the signal matrix ``X`` (see :data:`_LOG1P`)."""
    cols = []
    X = np.asarray(X, dtype=float)
    for k, n in enumerate(names):
        x = X[:, k]
        if n == "ppr":
            cols.append(np.log(np.maximum(np.nan_to_num(x), 1e-6)))
        elif n.endswith("_km"):
            cols += [np.log1p(np.nan_to_num(x, nan=20_000.0)), np.isnan(x).astype(float)]
        elif n in ("population_log_ratio", "log_population"):
            cols += [np.nan_to_num(x, nan=1.0 if n == "population_log_ratio" else 4.0), np.isnan(x).astype(float)]
        elif n in _LOG1P:
            cols.append(np.log1p(np.maximum(np.nan_to_num(x), 0.0)))
        else:
            cols.append(np.nan_to_num(x))
    return np.column_stack(cols)


@dataclass
class Logistic:
    """L2-penalised logistic regression on standardised :func:`design` columns, fitted by
    L-BFGS (scipy): log-odds = b + Σ w_k (z_k − μ_k) / σ_k."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, names: tuple[str, ...], X: np.ndarray, y: np.ndarray, *, l2: float = 1.0,
            groups: np.ndarray | None = None) -> "Logistic":
        """Fit on the signal matrix ``X`` and labels ``y``; with ``groups`` (one id per row,
        one positive per group), the conditional logit of McFadden (1974): maximise
        Σ_g log softmax(score)[positive of g], with the same L2 penalty."""
        from scipy.optimize import minimize

        Z = design(names, X)
        mean, scale = Z.mean(axis=0), Z.std(axis=0)
        scale[scale == 0] = 1.0
        Z = (Z - mean) / scale
        n = len(y)
        if groups is not None:
            return cls(names, mean, scale, _conditional_logit(Z, y, np.asarray(groups, dtype=np.int64), l2), 0.0)

        def loss(theta):
            w, b = theta[:-1], theta[-1]
            t = Z @ w + b
            # log(1 + e^t) − y·t, stably; gradient (σ(t) − y)
            ll = np.logaddexp(0.0, t) - y * t
            g = 1.0 / (1.0 + np.exp(-t)) - y
            return (ll.sum() + 0.5 * l2 * w @ w) / n, np.r_[(Z.T @ g + l2 * w) / n, g.sum() / n]

        res = minimize(loss, np.zeros(Z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
        return cls(names, mean, scale, res.x[:-1], float(res.x[-1]))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return ((design(self.names, X) - self.mean) / self.scale) @ self.coef + self.intercept


def _conditional_logit(Z: np.ndarray, y: np.ndarray, g: np.ndarray, l2: float) -> np.ndarray:
    from scipy.optimize import minimize

    G = int(g.max()) + 1
    pos = np.flatnonzero(y == 1)

    def loss(w):
        s = Z @ w
        top = np.full(G, -np.inf)
        np.maximum.at(top, g, s)
        e = np.exp(s - top[g])
        den = np.bincount(g, weights=e, minlength=G)
        lse = top + np.log(den)
        p = e / den[g]
        return ((lse - s[pos]).sum() + 0.5 * l2 * w @ w) / G, (Z.T @ p - Z[pos].sum(axis=0) + l2 * w) / G

    return minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x


def _fit(task: str, names: tuple[str, ...], X: np.ndarray, y: np.ndarray, seed: int,
         kind: str = "logistic", groups: np.ndarray | None = None) -> LinkModel:
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos < MIN_POSITIVES or n_neg == 0:
        return LinkModel(task, names, None, n_pos, n_neg,
                         reason=f"{n_pos} training ties to learn from (at least {MIN_POSITIVES} needed)")
    if kind == "logistic":
        return LinkModel(task, names, Logistic.fit(names, X, y, groups=groups), n_pos, n_neg)
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return LinkModel(task, names, Logistic.fit(names, X, y), n_pos, n_neg,
                         reason="scikit-learn is not installed: logistic regression instead of boosting")
    est = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08, max_leaf_nodes=31,
                                         min_samples_leaf=40, l2_regularization=1.0, random_state=seed)
    with _one_thread():
        est.fit(X, y)
    return LinkModel(task, names, est, n_pos, n_neg)


def _one_thread():
    """Run scikit-learn's OpenMP loops on one thread: on a shared machine its default of a
    thread per core spins against the other processes (a 3,000-row fit took 28 s instead
    of 0.7 s on 2 busy cores, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                 # pragma: no cover - comes with scikit-learn
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="openmp")


def _holdout(n_edges: int, share: float, cap: int, rng: np.random.Generator) -> np.ndarray:
    k = min(cap, max(1, int(round(n_edges * share)))) if n_edges else 0
    return rng.choice(n_edges, size=k, replace=False) if k else np.array([], dtype=int)


def fit_partner_model(tg: TrainingGraph, *, seed: int = 0, share: float = 0.1, folds: int = 2,
                      negatives: int = 60) -> LinkModel:
    """Fit the partner ranker (:mod:`.ranker`) on the training graph ``tg``: in each of
    ``folds`` disjoint folds a share of its twinning ties is set aside as the ties to
    predict and every signal is computed on the graph without them; each endpoint of a
    set-aside tie is a query, its stage-1 union the candidates (hard negatives: what the
    ranker will have to order), ``negatives`` of them sampled per query beside its
    set-aside partners in the union. The estimator is gradient boosting (logistic
    regression without scikit-learn); with fewer than :data:`MIN_POSITIVES` ties to
    learn from, the fixed-weight fallback on :data:`PARTNER_FEATURES`."""
    from . import ranker as R

    rng = np.random.default_rng(seed)
    twin_edges = tg.twin_edges()
    perm = rng.permutation(twin_edges)
    k = max(1, int(round(len(perm) * share))) if len(perm) else 0
    if k < MIN_POSITIVES:
        return LinkModel("partners", PARTNER_FEATURES, None, k, 0,
                         reason=f"{k} training ties to learn from (at least {MIN_POSITIVES} needed)")
    Xs, ys = [], []
    n_ties = 0
    for f in range(max(1, min(folds, len(perm) // k))):
        pick = perm[f * k:(f + 1) * k]
        n_ties += len(pick)
        d = tg.data(drop=pick)
        rel: dict[int, set[int]] = {}
        for u, v in tg.edges[pick]:
            rel.setdefault(int(u), set()).add(int(v))
            rel.setdefault(int(v), set()).add(int(u))
        qs = sorted(rel)
        pool = d.pool
        for b in range(0, len(qs), 64):
            batch = qs[b:b + 64]
            ppr = S.personalized_pagerank(d, batch)
            for i, q in enumerate(batch):
                cand = pool[(pool != q) & ~np.isin(pool, d.T[q].indices)]
                u, X, _ = R.stage(d, q, cand, ppr[:, i])
                y = np.isin(cand[u], list(rel[q])).astype(float)
                neg = np.flatnonzero(y == 0)
                sel = np.concatenate([np.flatnonzero(y == 1), rng.choice(neg, size=min(len(neg), negatives),
                                                                         replace=False)])
                Xs.append(X[sel])
                ys.append(y[sel])
    X, y = np.vstack(Xs), np.concatenate(ys)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos < MIN_POSITIVES or n_neg == 0:
        return LinkModel("partners", PARTNER_FEATURES, None, n_pos, n_neg,
                         reason=f"{n_pos} set-aside ties among the candidates (at least {MIN_POSITIVES} needed)")
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return LinkModel("partners", R.RANK_FEATURES, _Ranker(Logistic.fit(R.RANK_FEATURES, X, y)), n_pos, n_neg,
                         reason="scikit-learn is not installed: logistic regression instead of boosting")
    est = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, max_leaf_nodes=31,
                                         min_samples_leaf=100, l2_regularization=1.0, random_state=seed)
    with _one_thread():
        est.fit(X, y)
    return LinkModel("partners", R.RANK_FEATURES, _Ranker(est), n_pos, n_neg,
                     reason=f"{n_ties:,} set-aside training ties")


@dataclass
class _Ranker:
    """Stage 2 of the partner ranking: an estimator on :data:`.ranker.RANK_FEATURES`."""

    estimator: Any

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        with _one_thread():
            return np.asarray(self.estimator.decision_function(X)).ravel()


def score_partners(model: LinkModel, d: RecData, q: int, c: np.ndarray, ppr: np.ndarray | None = None) -> np.ndarray:
    """A score per candidate ``c`` for ``q``: the two-stage ranking (:mod:`.ranker`) when
    the model is fitted, else the fallback on :func:`partner_features`."""
    if isinstance(model.estimator, _Ranker):
        from .ranker import score_partners as two_stage

        return two_stage(model.estimator, d, q, c, ppr)
    return model.score(partner_features(d, q, c, ppr))


def fit_member_model(tg: TrainingGraph, *, seed: int = 0, share: float = 0.1, cap: int = 3000,
                     negatives: int = 12) -> LinkModel:
    """Fit the membership model on a share of the training graph's memberships of city
    networks as positives; per positive (actor, network), a third of the negatives are
    other networks for the actor, a third random actors for the network, a third actors
    from the countries where the network has members (drawn by its members' shares)."""
    rng = np.random.default_rng(seed + 1)
    member_edges = tg.member_edges()
    pick = member_edges[_holdout(len(member_edges), share, cap, rng)]
    d = tg.data(drop=pick)
    pairs = tg.edges[pick]
    if len(pairs) < MIN_POSITIVES:
        return LinkModel("members", MEMBER_FEATURES, None, len(pairs), 0,
                         reason=f"{len(pairs)} training ties to learn from (at least {MIN_POSITIVES} needed)")
    col = np.array([d.net_col.get(int(v), -1) for v in pairs[:, 1]])
    ok = col >= 0
    acts, cols = pairs[ok, 0], col[ok]
    pool = d.pool
    K = len(d.networks)
    third = max(1, negatives // 3)
    A_, J_, Y_ = [acts], [cols], [np.ones(len(acts))]
    for a, j in zip(acts, cols):
        own = set(d.M[a].indices) | {j}
        others = [x for x in rng.choice(K, size=min(K, third + 2), replace=False) if x not in own][:third]
        rand = rng.choice(pool, size=third, replace=False)
        share_c = d.net_country_share[j, :-1]
        if share_c.sum() > 0:
            cs = rng.choice(len(share_c), size=third, p=share_c / share_c.sum())
            same = np.array([_random_in_country(d, c, rng) for c in cs])
            same = same[same >= 0]
        else:
            same = np.array([], dtype=np.int64)
        cand = np.concatenate([rand, same]).astype(np.int64)
        members = set(d.MT[j].indices)
        cand = np.array([c for c in cand if c not in members], dtype=np.int64)
        A_ += [np.full(len(others), a), cand]
        J_ += [np.array(others, dtype=np.int64), np.full(len(cand), j)]
        Y_ += [np.zeros(len(others)), np.zeros(len(cand))]
    a_all, j_all = np.concatenate(A_).astype(np.int64), np.concatenate(J_).astype(np.int64)
    X = member_features(d, a_all, j_all)
    return _fit("members", MEMBER_FEATURES, X, np.concatenate(Y_), seed, kind="boosting")


def _random_in_country(d: RecData, c: int, rng: np.random.Generator) -> int:
    by = d.__dict__.get("_pool_by_country")
    if by is None:
        pool = d.pool
        order = np.argsort(d.country[pool], kind="stable")
        sorted_c = d.country[pool][order]
        starts = np.searchsorted(sorted_c, np.arange(len(d.countries) + 1))
        by = d.__dict__["_pool_by_country"] = (pool[order], starts)
    members, starts = by
    lo, hi = starts[c], starts[c + 1]
    return int(members[rng.integers(lo, hi)]) if hi > lo else -1
