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
n(n − 1)/2 ties — 60 million for the Covenant of Mayors' signatories — and make every
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
sum of the 1/(n − 1) of the engagements in force), ``since`` (the earliest), ``until``
(the latest end, None when one has none), ``engagements`` (how many) and ``timeline``
(a JSON list of ``[since, until, weight]`` per engagement, which the GEXF export turns
into a dynamic weight for Gephi's timeline).

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
                     max_parties: int | None = MAX_PARTIES) -> tuple[dict[tuple[str, str, str], dict], dict]:
    """The derived ties of the register, summed per pair and type: ``({(a, b, type):
    {weight, since, until, engagements, axes, sources, licences, timeline}}, left_out)``
    with a < b; ``left_out``: engagement key → parties, for those over ``max_parties``.
    Only the engagements' ties in force at ``as_of`` (now when None, or any unless
    ``include_ended``) and serving one of ``axes`` (when given) are kept."""
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
    out: dict[tuple[str, str, str], dict] = {}
    left_out: dict[str, int] = {}
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
        w = 1.0 / (n - 1)
        # each party's date; a pair begins at the later of its two (partial dates compare as
        # text: "2017" < "2017-12-05", the later being the more precise)
        dated = sorted(((members[a] if etype == "co_signed" and members[a] else base) or "", a) for a in members)
        for j in range(1, n):
            since = dated[j][0] or None
            if not include_ended and not in_force(status, since, until, as_of):
                continue
            b = dated[j][1]
            for i in range(j):
                a = dated[i][1]
                key = (a, b, etype) if a < b else (b, a, etype)
                t = out.get(key)
                if t is None:
                    out[key] = t = {"weight": 0.0, "since": since, "until": until, "engagements": 0,
                                    "axes": set(), "sources": set(), "licences": set(), "timeline": []}
                else:
                    if since and (t["since"] is None or since < t["since"]):
                        t["since"] = since        # the earliest known date
                    t["until"] = None if until is None or t["until"] is None else max(t["until"], until)
                t["weight"] += w
                t["engagements"] += 1
                t["axes"].update(e_axes)
                t["sources"].add(e.source)
                if e.licence:
                    t["licences"].add(e.licence)
                t["timeline"].append((since, until, w))
    return out, left_out


def add_engagement_ties(dg, store: Store, types: Iterable[str], *, nodes: dict[str, Any],
                        as_of: str | None = None, include_ended: bool = False,
                        axes: Iterable[str] | None = None, seeds: set[str] | None = None,
                        max_parties: int | None = MAX_PARTIES):
    """Add the derived ties of ``types`` to ``dg`` (a graph just built by
    :func:`~citydiplomacy.network.build_graph`, whose actor rows are ``nodes``), between
    actors of ``nodes`` and, with ``seeds`` (a country or bloc filter), touching one of
    them; actors they bring in are added. Returns ``dg`` (its filters say
    ``engagements`` and, when some were too large, ``left_out``)."""
    types = [t for t in ENGAGEMENT_TIES if t in set(types)]
    pairs, left_out = engagement_pairs(store, types=types, as_of=as_of, include_ended=include_ended, axes=axes,
                                       max_parties=max_parties)
    kept = [(k, v) for k, v in pairs.items() if k[0] in nodes and k[1] in nodes
            and (seeds is None or k[0] in seeds or k[1] in seeds)]
    g = dg.g
    pos = {n: i for i, n in enumerate(g.vs["name"])}
    new = sorted({x for (a, b, _), _ in kept for x in (a, b) if x not in pos})
    if new:
        rows = [nodes[i] for i in new]
        g.add_vertices(len(new), attributes={
            "name": new, "label": [r.name for r in rows], "kind": [r.kind for r in rows],
            "layer": [r.layer for r in rows], "country": [r.country for r in rows], "lat": [r.lat for r in rows],
            "lon": [r.lon for r in rows], "population": [r.population for r in rows],
            "axes": [r.axes or "" for r in rows]})
        pos.update({n: len(pos) + k for k, n in enumerate(new)})
    g.add_edges([(pos[a], pos[b]) for (a, b, _), _ in kept], attributes={
        "type": [t for (_, _, t), _ in kept],
        "since": [v["since"] for _, v in kept],
        "until": [v["until"] for _, v in kept],
        "status": ["active"] * len(kept),
        "suspended_since": [None] * len(kept),
        "axes": [",".join(sorted(v["axes"])) for _, v in kept],
        "weight": [v["weight"] for _, v in kept],
        "source_name": [_SOURCE_NAME + ": " + "; ".join(sorted(v["sources"])) for _, v in kept],
        "licence": ["; ".join(sorted(v["licences"])) or None for _, v in kept],
        "engagements": [v["engagements"] for _, v in kept],
        "timeline": [json.dumps(sorted(v["timeline"], key=lambda x: (x[0] or "", x[1] or "")),
                                ensure_ascii=False) for _, v in kept],
    })
    dg.filters["engagements"] = types
    if left_out:
        dg.filters["left_out"] = dict(sorted(left_out.items()))
    dg.__dict__.pop("ids", None)          # the vertex list may have grown
    return dg
