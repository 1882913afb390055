"""Why each recommendation: reasons in words and figures, each with its evidence — the
actors and the tie ids in the store it rests on.

Every reason is read from the arrays the recommendation was scored on (the store's ties in
force) and the tie ids are looked up in the store, so a reason names only facts the store
holds: shared networks, common partners, members nearby, distance, country, bloc,
language, the twinning history of the two countries, size, and the theme.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

import numpy as np
from sqlalchemy import and_, or_, select

from .. import countries as _countries
from ..store.schema import ties
from ..tiestate import in_force_clause
from . import signals as S
from .data import RecData, population_band

__all__ = ["explain_partner", "explain_network", "explain_member"]

_LIST = 3   # names listed in a reason's words (all of them are in its evidence)


def _names(d: RecData, idx: Iterable[int]) -> str:
    idx = list(idx)
    shown = ", ".join(d.labels[i] for i in idx[:_LIST])
    return shown + (f" and {len(idx) - _LIST} more" if len(idx) > _LIST else "")


@lru_cache(maxsize=512)
def _country_name(alpha3: str | None) -> str:
    if not alpha3:
        return "?"
    c = _countries.lookup_code(alpha3)
    return c.name if c else alpha3


@lru_cache(maxsize=256)
def _language_name(code: str | None) -> str:
    import pycountry

    lang = pycountry.languages.get(alpha_2=code) if code and len(code) == 2 else None
    return lang.name if lang else (code or "?")


def _pop(p: float) -> str:
    if not np.isfinite(p):
        return "?"
    return f"{p / 1e6:.1f} million" if p >= 1e6 else f"{p:,.0f}"


def _ties_between(store, xs: set[str], ys: set[str], types: tuple[str, ...]) -> dict[frozenset, list[int]]:
    """Tie ids in force of the given types between an actor of ``xs`` and one of ``ys``
    (either direction), by the pair of actor ids."""
    if not xs or not ys:
        return {}
    out: dict[frozenset, list[int]] = {}
    with store.connect() as conn:
        rows = conn.execute(select(ties.c.id, ties.c.source, ties.c.target).where(
            ties.c.type.in_(types), in_force_clause(ties.c.status),
            or_(and_(ties.c.source.in_(xs), ties.c.target.in_(ys)),
                and_(ties.c.source.in_(ys), ties.c.target.in_(xs))))).all()
    for r in rows:
        out.setdefault(frozenset((r.source, r.target)), []).append(r.id)
    return out


def _tie(lookup: dict[frozenset, list[int]], a: str, b: str) -> list[int]:
    return lookup.get(frozenset((a, b)), [])


def _base(d: RecData, v: int, rank: int) -> dict[str, Any]:
    return {"rank": rank, "id": d.ids[v], "name": d.labels[v], "kind": d.kind[v],
            "country": d.countries[d.country[v]] if d.country[v] >= 0 else None,
            "population": None if not np.isfinite(d.pop[v]) else int(d.pop[v])}


def _finish(item: dict[str, Any], reasons: list[dict[str, Any]]) -> dict[str, Any]:
    item["reasons"] = reasons
    item["why"] = "; ".join(r["text"] for r in reasons) if reasons else "no shared ties; ranked on its profile"
    return item


def _theme_reasons(d: RecData, c: int, theme, query: int | None) -> list[dict[str, Any]]:
    if theme is None:
        return []
    out = []
    nets = [int(d.networks[j]) for j in d.M[c].indices if set(d.net_axes[j]) & set(theme.axes)]
    if nets:
        out.append({"signal": "theme_networks", "value": len(nets),
                    "text": f"member of {len(nets)} network{'s' if len(nets) != 1 else ''} on "
                            f"{'/'.join(theme.axes)}: {_names(d, nets)}",
                    "evidence": {"actors": [d.ids[n] for n in nets], "ties": []}})
    cov = d.coverage.get(c, {})
    served = {code: cov[code] for code in theme.codes if cov.get(code)}
    if served:
        gap = query is not None and not any(d.coverage.get(query, {}).get(code) for code in theme.codes)
        code = next(iter(served))
        words = f"covers {code.replace('sdg:', 'SDG ').replace('paris:', 'Paris art. ')} " \
                f"({served[code]} initiative{'s' if served[code] != 1 else ''} or engagement{'s' if served[code] != 1 else ''})"
        out.append({"signal": "theme_coverage", "value": served[code],
                    "text": words + (" where you have a gap" if gap else ""),
                    "evidence": {"actors": [d.ids[c]], "ties": [], "codes": sorted(served)}})
    return out


def explain_partner(store, d: RecData, q: int, chosen: np.ndarray, theme=None) -> list[dict[str, Any]]:
    """The reasons for each candidate partner in ``chosen`` of the actor ``q``."""
    chosen = [int(c) for c in chosen]
    q_nets = set(d.M[q].indices)
    q_partners = set(d.T[q].indices)
    common = {c: sorted(q_partners & set(d.T[c].indices)) for c in chosen}
    nets = {c: sorted(q_nets & set(d.M[c].indices)) for c in chosen}
    qid = d.ids[q]
    twin_ties = _ties_between(store, {qid} | {d.ids[c] for c in chosen},
                              {d.ids[p] for ps in common.values() for p in ps}, ("twinned_with", "partner_of"))
    net_ids = {d.ids[int(d.networks[j])] for js in nets.values() for j in js}
    mem_ties = _ties_between(store, {qid} | {d.ids[c] for c in chosen}, net_ids, ("member_of",))
    dist = S.distance_km(d, q, np.array(chosen, dtype=np.int64)) if chosen else np.array([])
    out = []
    for rank, c in enumerate(chosen, 1):
        cid = d.ids[c]
        reasons = []
        if nets[c]:
            vs = [int(d.networks[j]) for j in nets[c]]
            reasons.append({"signal": "shared_networks", "value": len(vs),
                            "text": f"shares {len(vs)} network{'s' if len(vs) != 1 else ''} with you: {_names(d, vs)}",
                            "evidence": {"actors": [d.ids[v] for v in vs],
                                         "ties": sorted(t for v in vs for t in _tie(mem_ties, qid, d.ids[v])
                                                        + _tie(mem_ties, cid, d.ids[v]))}})
        if common[c]:
            ps = common[c]
            reasons.append({"signal": "common_partners", "value": len(ps),
                            "text": f"{len(ps)} of your partners {'are its partners' if len(ps) != 1 else 'is its partner'}: "
                                    f"{_names(d, ps)}",
                            "evidence": {"actors": [d.ids[p] for p in ps],
                                         "ties": sorted(t for p in ps for t in _tie(twin_ties, qid, d.ids[p])
                                                        + _tie(twin_ties, cid, d.ids[p]))}})
        reasons += _theme_reasons(d, c, theme, q)
        km = dist[rank - 1]
        if np.isfinite(km):
            reasons.append({"signal": "distance_km", "value": round(float(km)),
                            "text": f"{km:,.0f} km away", "evidence": {"actors": [qid, cid], "ties": []}})
        reasons += _country_reasons(d, q, c)
        pq, pc = d.pop[q], d.pop[c]
        if np.isfinite(pq) and np.isfinite(pc) and max(pq, pc) / max(min(pq, pc), 1) < 2:
            reasons.append({"signal": "population", "value": int(pc),
                            "text": f"similar size ({_pop(pc)} inhabitants; you: {_pop(pq)})",
                            "evidence": {"actors": [qid, cid], "ties": []}})
        out.append(_finish(_base(d, c, rank) | {"distance_km": None if not np.isfinite(km) else round(float(km))},
                           reasons))
    return out


def _country_reasons(d: RecData, q: int, c: int) -> list[dict[str, Any]]:
    cq, cc = int(d.country[q]), int(d.country[c])
    if cq < 0 or cc < 0:
        return []
    out = []
    nq, nc = _country_name(d.countries[cq]), _country_name(d.countries[cc])
    if cq == cc:
        out.append({"signal": "same_country", "value": 1, "text": f"also in {nq}",
                    "evidence": {"actors": [d.ids[q], d.ids[c]], "ties": []}})
    else:
        n = int(d.country_twins[cq, cc])
        lift = float(np.exp(d.country_lift[cq, cc]))
        if n and lift >= 1.5:
            out.append({"signal": "country_propensity", "value": n,
                        "text": f"{nq}–{nc} twinnings are common: {n:,} in the store, {lift:.1f}× chance",
                        "evidence": {"actors": [], "ties": [], "countries": [d.countries[cq], d.countries[cc]]}})
        blocs = sorted(set(d.country_blocs[cq]) & set(d.country_blocs[cc]), key=lambda v: d.labels[v])
        if blocs:
            out.append({"signal": "shared_blocs", "value": len(blocs),
                        "text": f"both countries in {_names(d, blocs)}",
                        "evidence": {"actors": [d.ids[b] for b in blocs], "ties": []}})
        if d.neighbours[cq, cc]:
            out.append({"signal": "neighbouring_country", "value": 1, "text": f"{nc} borders {nq}",
                        "evidence": {"actors": [], "ties": [], "countries": [d.countries[cq], d.countries[cc]]}})
    if cq != cc and d.same_language[cq, cc]:
        lang = _language_name(d.main_language[cq])
        out.append({"signal": "same_language", "value": 1, "text": f"{lang} is the main language of both countries",
                    "evidence": {"actors": [], "ties": [], "countries": [d.countries[cq], d.countries[cc]]}})
    return out


def _member_reasons(store, d: RecData, a: int, j: int, you: bool) -> list[dict[str, Any]]:
    """The reasons for the pair (actor a, network column j), worded for the city (``you``)
    or for the network's secretariat."""
    nv = int(d.networks[j])
    aid, nid = d.ids[a], d.ids[nv]
    member_ids = d.MT[j].indices
    members = set(member_ids.tolist())
    reasons = []
    partners = sorted(set(d.T[a].indices) & members)
    if partners:
        tw = _ties_between(store, {aid}, {d.ids[p] for p in partners}, ("twinned_with", "partner_of"))
        mt = _ties_between(store, {nid}, {d.ids[p] for p in partners}, ("member_of",))
        who = "your partners" if you else "its partners"
        reasons.append({"signal": "partners_in_network", "value": len(partners),
                        "text": f"{len(partners)} of {who} {'are members' if len(partners) != 1 else 'is a member'}: "
                                f"{_names(d, partners)}",
                        "evidence": {"actors": [d.ids[p] for p in partners],
                                     "ties": sorted(t for p in partners for t in _tie(tw, aid, d.ids[p])
                                                    + _tie(mt, nid, d.ids[p]))}})
    own = [int(x) for x in d.M[a].indices if x != j]
    if own:
        co = np.asarray((d.MT[own] @ d.M[:, j]).toarray()).ravel()
        best = int(np.argmax(co))
        if co[best] > 0:
            other = int(d.networks[own[best]])
            reasons.append({"signal": "comembership", "value": int(co[best]),
                            "text": f"{int(co[best]):,} members of {d.labels[other]} "
                                    f"({'yours' if you else 'its network'}) are also members of {d.labels[nv]}",
                            "evidence": {"actors": [d.ids[other], nid], "ties": []}})
    c = int(d.country[a])
    if c >= 0:
        in_c = int(np.sum(d.country[member_ids] == c))
        if in_c:
            reasons.append({"signal": "country_share", "value": in_c,
                            "text": f"{in_c:,} of its {len(member_ids):,} members are in {_country_name(d.countries[c])}",
                            "evidence": {"actors": [nid], "ties": [], "countries": [d.countries[c]]}})
    km, who = S.nearest_member_km(d, np.array([a]), np.array([j]), with_member=True)
    if np.isfinite(km[0]) and who[0] >= 0:
        m = int(who[0])
        reasons.append({"signal": "nearest_member_km", "value": round(float(km[0])),
                        "text": f"nearest member: {d.labels[m]}, {km[0]:,.0f} km away",
                        "evidence": {"actors": [d.ids[m]], "ties": _tie(_ties_between(
                            store, {nid}, {d.ids[m]}, ("member_of",)), nid, d.ids[m])}})
    band = population_band(d.pop[a])
    if band is not None:
        share = float(d.net_band_share[j, int(d.band[a])])
        if share >= 0.25:
            reasons.append({"signal": "band_share", "value": round(share, 3),
                            "text": f"{share:.0%} of its members are {band} places like "
                                    f"{'you' if you else 'it'} ({_pop(d.pop[a])} inhabitants)",
                            "evidence": {"actors": [nid], "ties": []}})
    return reasons


def explain_network(store, d: RecData, a: int, cols: np.ndarray, theme=None) -> list[dict[str, Any]]:
    """The reasons for each network in ``cols`` (columns) for the actor ``a``."""
    out = []
    for rank, j in enumerate(int(x) for x in cols):
        nv = int(d.networks[j])
        reasons = _member_reasons(store, d, a, j, you=True)
        if theme is not None and set(d.net_axes[j]) & set(theme.axes):
            reasons.insert(0, {"signal": "theme_networks", "value": 1,
                               "text": f"serves {'/'.join(sorted(set(d.net_axes[j]) & set(theme.axes)))}, "
                                       f"the axis of {theme.label}",
                               "evidence": {"actors": [d.ids[nv]], "ties": []}})
        item = _base(d, nv, rank + 1) | {"members": int(d.net_size[j]), "axes": d.net_axes[j]}
        out.append(_finish(item, reasons))
    return out


def explain_member(store, d: RecData, j: int, chosen: np.ndarray, theme=None) -> list[dict[str, Any]]:
    """The reasons for each candidate member in ``chosen`` of the network column ``j``."""
    out = []
    for rank, a in enumerate(int(x) for x in chosen):
        reasons = _member_reasons(store, d, a, j, you=False) + _theme_reasons(d, a, theme, None)
        out.append(_finish(_base(d, a, rank + 1), reasons))
    return out
