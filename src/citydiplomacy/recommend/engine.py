"""Partners for a city, networks for a city, members for a network: candidates scored by
the fitted model on the signals, filtered by the constraints, raised by a theme, explained.

The arrays and the fitted models are made once per version of the store's data and kept
beside the store with the graph's other results (:mod:`citydiplomacy.network.cache`) and
in memory: the first recommendation after a change to the store fits the models (tens of
seconds); later ones score the candidates (a few tenths of a second).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import countries as _countries
from ..actors import resolve_actor
from ..errors import ValidationError
from . import signals as S
from .data import BANDS, RecData, TrainingGraph, profile_facts
from .explain import explain_member, explain_network, explain_partner
from .model import (MEMBER_FEATURES, PARTNER_FEATURES, LinkModel, fit_member_model, fit_partner_model,
                    member_features, score_partners)
from .themes import Theme, parse_theme

__all__ = ["Recommender", "recommender", "is_fitted", "recommend_partners", "recommend_networks", "recommend_members",
           "THEME_WEIGHT", "MAX_TOP"]

#: what a theme adds to a candidate's log-odds per unit of relevance (log1p of the
#: networks on the theme's axes, plus twice log1p of its initiatives on the theme's codes):
#: no training tie says which theme it served, so the weight is set, not learned
THEME_WEIGHT = 1.0
MAX_TOP = 200
#: bumped when the kept arrays or models change shape
FORMAT = 2


@dataclass
class Recommender:
    """The arrays of the store's ties in force and the two models fitted on them."""

    data: RecData
    partners: LinkModel
    members: LinkModel

    @classmethod
    def fit(cls, tg: TrainingGraph, *, seed: int = 0) -> "Recommender":
        """Fit both models on the training graph ``tg`` (only its kept ties are seen)."""
        return cls(tg.data(), fit_partner_model(tg, seed=seed), fit_member_model(tg, seed=seed))

    # -- scoring (used by the faces and the benchmark alike) ---------------------------------
    def partner_scores(self, q: int, cand: np.ndarray) -> np.ndarray:
        return score_partners(self.partners, self.data, q, cand)

    def member_scores(self, a: np.ndarray, j: np.ndarray) -> np.ndarray:
        return self.members.score(member_features(self.data, a, j))


_MEMO: dict[Any, tuple[tuple, Recommender]] = {}
_LOCK = threading.Lock()


def recommender(store, graph=None) -> Recommender:
    """The store's :class:`Recommender`, made once per data version (kept in memory and
    beside the store with ``graph``'s results)."""
    from ..network.cache import data_version

    version = data_version(store)
    key = getattr(store, "path", None) or getattr(store, "url", None) or id(store)
    with _LOCK:
        hit = _MEMO.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        if graph is None:
            from ..network import build_graph

            graph = build_graph(store)

        def make() -> Recommender:
            cov, scores = profile_facts(store)
            return Recommender.fit(TrainingGraph(graph, coverage=cov, axis_scores=scores))

        results = getattr(graph, "results", None)
        # the signals' names are part of the key: a change of features never reads an old model
        key_ = ("recommend", FORMAT, PARTNER_FEATURES, MEMBER_FEATURES)
        rec = results.get_or_compute(key_, make) if results is not None else make()
        _MEMO.clear()
        _MEMO[key] = (version, rec)
        return rec


def is_fitted(store) -> bool:
    """Whether the store's models for its current data version are made (in memory or
    kept beside the store): a page can then ask for recommendations without waiting for a
    fit. Reads no arrays."""
    from ..network.cache import data_version, result_cache

    version = data_version(store)
    key = getattr(store, "path", None) or getattr(store, "url", None) or id(store)
    hit = _MEMO.get(key)
    if hit is not None and hit[0] == version:
        return True
    cache = result_cache(store)
    if cache is None:
        return False
    # the key obs.graph() keeps results under: no filters
    return cache._path(version, ((), ("recommend", FORMAT, PARTNER_FEATURES, MEMBER_FEATURES))).exists()


# -- the three questions ----------------------------------------------------------------------

def recommend_partners(store, ref: str, *, graph=None, theme: str | None = None,
                       countries: list[str] | None = None, blocs: list[str] | None = None,
                       layers: list[str] | None = None, kinds: list[str] | None = None,
                       band: list[str] | None = None, max_km: float | None = None,
                       exclude_existing: bool = True, top: int = 20) -> dict[str, Any]:
    """Candidate partner cities (and regions) for the actor ``ref`` names, best first, each
    with its score and the reasons for it. ``theme``: an SDG goal or target, a Paris
    article, an axis or a text (:func:`~.themes.parse_theme`); ``countries`` (names or ISO
    codes), ``blocs`` (bloc ids such as ``eu``), ``layers``, ``kinds`` (city, region),
    ``band`` (small, medium, large, metropolis) and ``max_km`` keep only the candidates
    that satisfy them; ``exclude_existing`` leaves out the actor's current partners."""
    top = _check_top(top)
    actor = resolve_actor(store, ref, prefer_kind="city")
    th = parse_theme(store, theme)
    rec = recommender(store, graph)
    d = rec.data
    q = _vertex(d, actor)
    cand = d.pool[d.pool != q]
    cand = _constrain(store, d, q, cand, countries=countries, blocs=blocs, layers=layers, kinds=kinds,
                      band=band, max_km=max_km)
    if exclude_existing and len(cand):
        cand = cand[~np.isin(cand, d.T[q].indices)]
    score = rec.partner_scores(q, cand) if len(cand) else np.array([])
    relevance = _theme_relevance(d, cand, th) if th else np.zeros(len(cand))
    total = score + THEME_WEIGHT * relevance
    order = _top(total, top)
    chosen = cand[order]
    results = explain_partner(store, d, q, chosen, th)
    for r, k in zip(results, order):
        r["score"] = round(float(total[k]), 3)
    return _answer("partners", actor, d, q, rec.partners, th, len(cand), results,
                   {"countries": countries, "blocs": blocs, "layers": layers, "kinds": kinds, "band": band,
                    "max_km": max_km, "exclude_existing": exclude_existing, "top": top})


def recommend_networks(store, ref: str, *, graph=None, theme: str | None = None,
                       exclude_existing: bool = True, top: int = 10) -> dict[str, Any]:
    """City networks the actor ``ref`` names could join, best first, with the reasons."""
    top = _check_top(top)
    actor = resolve_actor(store, ref, prefer_kind="city")
    th = parse_theme(store, theme)
    rec = recommender(store, graph)
    d = rec.data
    a = _vertex(d, actor)
    cols = np.arange(len(d.networks))
    if exclude_existing:
        cols = cols[~np.isin(cols, d.M[a].indices)]
    score = rec.member_scores(np.full(len(cols), a), cols) if len(cols) else np.array([])
    if th and len(cols):
        on = np.array([bool(set(d.net_axes[j]) & set(th.axes)) for j in cols], dtype=float)
        score = score + THEME_WEIGHT * on
    order = _top(score, top)
    results = explain_network(store, d, a, cols[order], th)
    for r, k in zip(results, order):
        r["score"] = round(float(score[k]), 3)
    return _answer("networks", actor, d, a, rec.members, th, len(cols), results,
                   {"exclude_existing": exclude_existing, "top": top})


def recommend_members(store, ref: str, *, graph=None, theme: str | None = None,
                      countries: list[str] | None = None, blocs: list[str] | None = None,
                      kinds: list[str] | None = None, band: list[str] | None = None,
                      exclude_existing: bool = True, top: int = 20) -> dict[str, Any]:
    """Cities (and regions) the city network ``ref`` names could recruit, best first, with
    the reasons; filters as for :func:`recommend_partners`."""
    top = _check_top(top)
    actor = resolve_actor(store, ref, prefer_kind="city_network")
    if actor["kind"] != "city_network":
        raise ValidationError(f"'{actor['name']}' is a {actor['kind'].replace('_', ' ')}, not a city network; "
                              "give a network such as c40 or iclei (see 'citydip network coverage')", field="network")
    th = parse_theme(store, theme)
    rec = recommender(store, graph)
    d = rec.data
    v = _vertex(d, actor)
    j = d.net_col[v]
    cand = _constrain(store, d, None, d.pool, countries=countries, blocs=blocs, layers=None, kinds=kinds,
                      band=band, max_km=None)
    if exclude_existing and len(cand):
        cand = cand[~np.isin(cand, d.MT[j].indices)]
    score = rec.member_scores(cand, np.full(len(cand), j)) if len(cand) else np.array([])
    relevance = _theme_relevance(d, cand, th) if th else np.zeros(len(cand))
    total = score + THEME_WEIGHT * relevance
    order = _top(total, top)
    results = explain_member(store, d, j, cand[order], th)
    for r, k in zip(results, order):
        r["score"] = round(float(total[k]), 3)
    return _answer("members", actor, d, v, rec.members, th, len(cand), results,
                   {"countries": countries, "blocs": blocs, "kinds": kinds, "band": band,
                    "exclude_existing": exclude_existing, "top": top})


# -- helpers ------------------------------------------------------------------------------------

def _check_top(top: int) -> int:
    try:
        top = int(top)
    except (TypeError, ValueError):
        raise ValidationError(f"top must be a whole number from 1 to {MAX_TOP}", field="top") from None
    if not 1 <= top <= MAX_TOP:
        raise ValidationError(f"top must be from 1 to {MAX_TOP} (got {top})", field="top")
    return top


def _vertex(d: RecData, actor: dict[str, Any]) -> int:
    v = d.index_of.get(actor["id"])
    if v is None:
        raise ValidationError(f"'{actor['id']}' is not in the graph of ties in force", field="actor")
    return v


def _top(score: np.ndarray, top: int) -> np.ndarray:
    if len(score) == 0:
        return np.array([], dtype=np.int64)
    k = min(top, len(score))
    part = np.argpartition(-score, k - 1)[:k] if k < len(score) else np.arange(len(score))
    return part[np.argsort(-score[part], kind="stable")]


def _theme_relevance(d: RecData, cand: np.ndarray, th: Theme) -> np.ndarray:
    """log1p(networks on the theme's axes) + 2·log1p(initiatives and engagements on its codes)."""
    on = np.array([float(bool(set(ax) & set(th.axes))) for ax in d.net_axes])
    nets = np.asarray(d.M[cand] @ on).ravel() if len(on) else np.zeros(len(cand))
    cov = np.array([sum(d.coverage.get(int(c), {}).get(code, 0) for code in th.codes) for c in cand], dtype=float) \
        if d.coverage else np.zeros(len(cand))
    return np.log1p(nets) + 2.0 * np.log1p(cov)


def _constrain(store, d: RecData, q: int | None, cand: np.ndarray, *, countries, blocs, layers, kinds, band,
               max_km) -> np.ndarray:
    from ..vocab import Layer, choices

    if countries:
        codes = set()
        for c in countries:
            found = _countries.lookup_name(c)
            if found is None:
                raise ValidationError(f"'{c}' is not a country name or ISO code", field="country")
            codes.add(found.alpha3)
        idx = [i for i, c in enumerate(d.countries) if c in codes]
        cand = cand[np.isin(d.country[cand], idx)]
    if blocs:
        keep_c: set[int] = set()
        for b in blocs:
            v = d.index_of.get(str(b).strip().lower())
            if v is None or d.kind[v] not in ("geopolitical_bloc", "regional_organization"):
                raise ValidationError(f"'{b}' is not a bloc in the store; give a bloc's id such as eu or asean",
                                      field="bloc")
            keep_c |= {c for c, bl in enumerate(d.country_blocs) if v in bl}
        cand = cand[np.isin(d.country[cand], sorted(keep_c))]
    if layers:
        valid = {x.value for x in Layer}
        bad = [x for x in layers if x not in valid]
        if bad:
            raise ValidationError(f"unknown layer '{bad[0]}'; choose from: {choices(Layer)}", field="layer")
        # the pool's kinds (city, region) are on the micro layer
        if "micro" not in layers:
            cand = cand[:0]
    if kinds:
        bad = [k for k in kinds if k not in ("city", "region")]
        if bad:
            raise ValidationError(f"kind '{bad[0]}' cannot be recommended; choose city or region", field="kind")
        cand = cand[np.isin(d.kind[cand], kinds)]
    if band:
        names = [b for b, _ in BANDS]
        bad = [b for b in band if b not in names]
        if bad:
            raise ValidationError(f"unknown population band '{bad[0]}'; choose from: {', '.join(names)}",
                                  field="band")
        cand = cand[np.isin(d.band[cand], [names.index(b) for b in band])]
    if max_km is not None:
        try:
            km = float(max_km)
        except (TypeError, ValueError):
            raise ValidationError("max_km must be a number of kilometres", field="max_km") from None
        if not km > 0:
            raise ValidationError("max_km must be more than 0", field="max_km")
        if q is None or not np.isfinite(d.xyz[q]).all():
            raise ValidationError("max_km needs the actor's location, which the store does not hold",
                                  field="max_km")
        dist = S.distance_km(d, q, cand)
        cand = cand[np.nan_to_num(dist, nan=np.inf) <= km]
    return cand


def _answer(task: str, actor: dict[str, Any], d: RecData, v: int, model: LinkModel, th: Theme | None,
            n_cand: int, results: list[dict[str, Any]], filters: dict[str, Any]) -> dict[str, Any]:
    message = None
    if task in ("partners", "networks") and d.deg_T[v] == 0 and d.deg_M[v] == 0:
        message = (f"{actor['name']} has no partnerships or network memberships in the store: these "
                   "recommendations come from its profile only (place, country, language, size) and "
                   "the twinning history of its country.")
    elif not results:
        message = "No candidate satisfies the filters; relax them (country, bloc, band, distance)."
    return {"task": task,
            "actor": {k: actor.get(k) for k in ("id", "name", "kind", "country")},
            "theme": th.as_dict() if th else None,
            "filters": {k: v for k, v in filters.items() if v not in (None, [], ())},
            "method": model.method, "candidates": int(n_cand), "message": message, "results": results}
