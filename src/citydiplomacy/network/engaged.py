"""Ties derived from the engagement register: who signed the same declaration, met at
the same event, or engaged with each other in an agreement, a visit or a project.

These ties are never stored (the ``ties`` table holds what a source says; these follow
from the register and change with it): :func:`add_engagement_ties` adds them to a graph
when it is built with ``engagements=True`` or with one of :data:`ENGAGEMENT_TIES` among
its tie types (see :func:`citydiplomacy.network.build_graph`). Three types:

- ``co_signed`` — two signatories of the same declaration or pledge (its organisers,
  the network that runs it, are not signatories);
- ``met_at`` — two parties of the same event (participants, hosts and organisers);
- ``engaged_with`` — two parties of the same agreement, visit, project or engagement of
  a kind a user added.

Weight: the one-mode projection of the bipartite actor–engagement graph with Newman's
collaboration weighting: an engagement with n parties adds 1/(n − 1) to the tie of each
pair of them, so each party gains a strength of 1 per engagement whatever its size, and
a two-party agreement weighs 1 while a 300-city declaration's pairs weigh 1/299 each.
An engagement with more than ``max_parties`` parties (default :data:`MAX_PARTIES`) is
left out (listed in the graph's ``filters["left_out"]``): its clique would hold
n(n − 1)/2 ties — 60 million for 11,000 signatories — and make every
unweighted measure (degree, betweenness, closeness) a count of the big declarations.

Dates: a pair's tie begins when both had taken part — for a declaration, the later of
the two signing dates (each party's own, else the declaration's); otherwise the
engagement's start (else its signing). A declaration, an event or a visit stays a fact
once it has happened (in force from its date on unless the engagement is ``ended``,
then until its ``end_on``); an agreement or a project is in force from its start to its
end (``completed`` and ``ended`` ones end at their ``end_on``). A planned engagement is
``proposed`` (never in force); a suspended one ``suspended``. The rule of in force is the
ties' (:mod:`citydiplomacy.tiestate`), so ``as_of`` means what it means for stored ties.

The engagements of a pair are summed into one edge per pair and type: ``weight`` (the
sum of the 1/(n − 1) of the engagements in force), ``since`` (the earliest known), ``until``
(the latest end, None when one has none), ``engagements`` (how many) and, for a tie of
several engagements, ``timeline`` (a JSON list of ``[since, until, weight]`` per
engagement; None for one), which the GEXF export turns into a dynamic weight for
Gephi's timeline.

References: M. E. J. Newman (2001), "Scientific collaboration networks. II. Shortest
paths, weighted networks, and centrality", *Phys. Rev. E* 64, 016132,
doi:10.1103/PhysRevE.64.016132; T. Opsahl (2013), "Triadic closure in two-mode
networks: Redefining the global and local clustering coefficients", *Social Networks*
35(2):159–167, doi:10.1016/j.socnet.2011.07.001 (on what a projection loses).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterable

import numpy as np
from sqlalchemy import select

from ..store import Store, schema
from ..tiestate import in_force

__all__ = ["ENGAGEMENT_TIES", "MAX_PARTIES", "tie_type_of", "tie_status", "engagement_pairs", "add_engagement_ties"]

ENGAGEMENT_TIES = ("co_signed", "met_at", "engaged_with")
#: engagements with more parties than this are left out of the projection
MAX_PARTIES = 500
#: kinds whose engagement stays a fact once it has happened (not in force over a span)
_EVENTS = ("declaration", "event", "visit")
#: roles that do not sign a declaration
_NOT_SIGNING = ("organiser",)
_SOURCE_NAME = "engagement register"


def tie_type_of(kind: str) -> str:
    """The derived tie type of an engagement kind."""
    return {"declaration": "co_signed", "event": "met_at"}.get(kind, "engaged_with")


def tie_status(kind: str, status: str, end_on: str | None) -> tuple[str, str | None]:
    """(tie status, until) of an engagement's derived ties (the rule of the module's notes)."""
    if status == "planned":
        return "proposed", None
    if status == "suspended":
        return "suspended", None
    if status == "ended":
        return "ended", end_on
    if kind in _EVENTS:
        return "active", None
    if status == "completed":
        return "ended", end_on
    return "active", end_on


def engagement_pairs(store: Store, *, types: Iterable[str] = ENGAGEMENT_TIES, as_of: str | None = None,
                     include_ended: bool = False, axes: Iterable[str] | None = None,
                     max_parties: int | None = MAX_PARTIES) -> tuple[dict[str, list], dict[str, int]]:
    """The derived ties of the register, summed per pair and type, as columns: ``({a, b,
    type, since, until, weight, engagements, axes, source_name, licence, timeline}, left_out)``
    with a < b (actor ids); ``left_out``: engagement key → parties, for those over
    ``max_parties``. Only the engagements' ties in force at ``as_of`` (now when None, or
    any unless ``include_ended``) and serving one of ``axes`` (when given) are kept.
    ``timeline`` is None for a tie of one engagement (its since, until and weight say it).

    The pairs are made and summed with NumPy, so a register of a million pairs (25
    declarations of up to 500 signatories) is held as arrays, not a million dicts
    (``benchmarks/bench_engage_network.py`` times it)."""
    types = set(types)
    axes = set(axes) if axes else None
    E, P, prov = schema.engagements, schema.engagement_parties, schema.provenance
    with store.connect() as conn:
        rows = conn.execute(select(E.c.id, E.c.key, E.c.kind, E.c.signed_on, E.c.start_on, E.c.end_on,
                                   E.c.status, E.c.axes, prov.c.source, prov.c.licence)
                            .join(prov, prov.c.id == E.c.provenance_id).order_by(E.c.id)).all()
        declarations = {r.id for r in rows if r.kind == "declaration"}
        parties: dict[int, dict[str, str | None]] = defaultdict(dict)
        for r in conn.execute(select(P.c.engagement_id, P.c.actor_id, P.c.role, P.c.signed_on)
                              .order_by(P.c.engagement_id, P.c.actor_id)):
            if r.role in _NOT_SIGNING and r.engagement_id in declarations:
                continue
            mine = parties[r.engagement_id]
            # an actor in two roles takes part once, at its earliest date
            if r.actor_id not in mine or (r.signed_on and (mine[r.actor_id] or "9") > r.signed_on):
                mine[r.actor_id] = r.signed_on
    actor_ids = sorted({a for m in parties.values() for a in m})
    apos = {a: i for i, a in enumerate(actor_ids)}
    # dates as codes whose order is the text order of partial dates (0: none)
    dates = [None] + sorted({d for e in rows for d in (e.signed_on, e.start_on, e.end_on) if d}
                            | {d for m in parties.values() for d in m.values() if d})
    dcode = {d: k for k, d in enumerate(dates)}
    left_out: dict[str, int] = {}
    chunks: list[tuple] = []
    used: list = []                     # the engagements that made pairs, by index
    for e in rows:
        etype = tie_type_of(e.kind)
        if etype not in types:
            continue
        e_axes = [x for x in (e.axes or "").split(",") if x]
        if axes is not None and not axes & set(e_axes):
            continue
        members = parties.get(e.id) or {}
        n = len(members)
        if n < 2:
            continue
        if max_parties is not None and n > max_parties:
            left_out[e.key] = n
            continue
        status, until = tie_status(e.kind, e.status, e.end_on)
        base = e.start_on or e.signed_on
        # each party's date; a pair begins at the later of its two (partial dates compare as
        # text: "2017" < "2017-12-05", the later being the more precise)
        dated = sorted(((members[a] if etype == "co_signed" and members[a] else base) or "", a) for a in members)
        live = np.fromiter(((include_ended or in_force(status, d or None, until, as_of)) for d, _ in dated),
                           dtype=bool, count=n)
        if not live[1:].any():
            continue
        act = np.fromiter((apos[a] for _, a in dated), dtype=np.int64, count=n)
        since = np.fromiter((dcode[d] if d else 0 for d, _ in dated), dtype=np.int64, count=n)
        i, j = np.triu_indices(n, 1)
        keep = live[j]
        i, j = i[keep], j[keep]
        a, b = act[i], act[j]
        chunks.append((np.minimum(a, b), np.maximum(a, b), np.full(len(i), ENGAGEMENT_TIES.index(etype)),
                       since[j], np.full(len(i), dcode.get(until, 0) if until else 0),
                       np.full(len(i), 1.0 / (n - 1)), np.full(len(i), len(used))))
        used.append((e, ",".join(sorted(e_axes)), until))
    if not chunks:
        return {k: [] for k in _COLUMNS}, left_out
    lo, hi, tcode, since, until, weight, eng = (np.concatenate(c) for c in zip(*chunks))
    n_act = len(actor_ids)
    key = (lo * n_act + hi) * len(ENGAGEMENT_TIES) + tcode
    order = np.argsort(key, kind="stable")
    key, lo, hi, tcode, since, until, weight, eng = (x[order] for x in (key, lo, hi, tcode, since, until, weight, eng))
    first = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    count = np.diff(np.append(first, len(key)))
    big = np.iinfo(np.int64).max
    since_min = np.minimum.reduceat(np.where(since > 0, since, big), first)
    open_end = np.minimum.reduceat(until, first) == 0
    until_max = np.where(open_end, 0, np.maximum.reduceat(until, first))
    dates_arr = np.asarray(dates, dtype=object)
    e_axes = np.asarray([u[1] for u in used], dtype=object)
    e_src = np.asarray([_SOURCE_NAME + ": " + (u[0].source or "") for u in used], dtype=object)
    e_lic = np.asarray([u[0].licence for u in used], dtype=object)
    head_eng = eng[first]
    out = {"a": [actor_ids[x] for x in lo[first].tolist()], "b": [actor_ids[x] for x in hi[first].tolist()],
           "type": [ENGAGEMENT_TIES[x] for x in tcode[first].tolist()],
           "since": dates_arr[np.where(since_min == big, 0, since_min)].tolist(),
           "until": dates_arr[until_max].tolist(),
           "weight": np.add.reduceat(weight, first).tolist(), "engagements": count.tolist(),
           "axes": e_axes[head_eng].tolist(), "source_name": e_src[head_eng].tolist(),
           "licence": e_lic[head_eng].tolist(), "timeline": [None] * len(first)}
    for g in np.flatnonzero(count > 1).tolist():      # ties of several engagements: their union
        part = range(first[g], first[g] + count[g])
        es = [used[eng[k]] for k in part]
        out["axes"][g] = ",".join(sorted({x for u in es for x in u[1].split(",") if x}))
        out["source_name"][g] = _SOURCE_NAME + ": " + "; ".join(sorted({u[0].source or "" for u in es}))
        out["licence"][g] = "; ".join(sorted({u[0].licence for u in es if u[0].licence})) or None
        out["timeline"][g] = json.dumps(sorted(([dates[since[k]], u[2], float(weight[k])] for k, u in zip(part, es)),
                                               key=lambda x: (x[0] or "", x[1] or "")), ensure_ascii=False)
    return out, left_out


_COLUMNS = ("a", "b", "type", "since", "until", "weight", "engagements", "axes", "source_name", "licence", "timeline")


def add_engagement_ties(dg, store: Store, types: Iterable[str], *, nodes: dict[str, Any],
                        as_of: str | None = None, include_ended: bool = False,
                        axes: Iterable[str] | None = None, seeds: set[str] | None = None,
                        max_parties: int | None = MAX_PARTIES):
    """Add the derived ties of ``types`` to ``dg`` (a graph just built by
    :func:`~citydiplomacy.network.build_graph`, whose actor rows — tuples of id, name, kind, layer, country, lat, lon,
    population, axes — are ``nodes``, by id), between
    actors of ``nodes`` and, with ``seeds`` (a country or bloc filter), touching one of
    them; actors they bring in are added. Returns ``dg`` (its filters say
    ``engagements`` and, when some were too large, ``left_out``)."""
    types = [t for t in ENGAGEMENT_TIES if t in set(types)]
    cols, left_out = engagement_pairs(store, types=types, as_of=as_of, include_ended=include_ended, axes=axes,
                                      max_parties=max_parties)
    keep = [k for k, (a, b) in enumerate(zip(cols["a"], cols["b"])) if a in nodes and b in nodes
            and (seeds is None or a in seeds or b in seeds)]
    if len(keep) < len(cols["a"]):
        cols = {c: [v[k] for k in keep] for c, v in cols.items()}
    g = dg.g
    pos = {n: i for i, n in enumerate(g.vs["name"])}
    new = sorted({x for x in cols["a"] + cols["b"] if x not in pos})
    if new:
        rows = [nodes[i] for i in new]
        g.add_vertices(len(new), attributes={
            "name": new, "label": [r[1] for r in rows], "kind": [r[2] for r in rows],
            "layer": [r[3] for r in rows], "country": [r[4] for r in rows], "lat": [r[5] for r in rows],
            "lon": [r[6] for r in rows], "population": [r[7] for r in rows],
            "axes": [r[8] or "" for r in rows]})
        pos.update({n: len(pos) + k for k, n in enumerate(new)})
    m = len(cols["a"])
    g.add_edges([(pos[a], pos[b]) for a, b in zip(cols["a"], cols["b"])], attributes={
        **{c: cols[c] for c in ("type", "since", "until", "weight", "axes", "source_name", "licence", "engagements",
                                "timeline")},
        "status": ["active"] * m, "suspended_since": [None] * m})
    dg.filters["engagements"] = types
    if left_out:
        dg.filters["left_out"] = dict(sorted(left_out.items()))
    dg.__dict__.pop("ids", None)          # the vertex list may have grown
    return dg
