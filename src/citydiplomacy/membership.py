"""How much of a city network's membership the store holds: its members held, the
network's own published member count, and the coverage between them ("33 of about 200
members held"), with the sources the members come from.

The published count, its source and whether the shipped list is complete are facts of
the network actor (``attrs["members"]``, written by the member-list build step, see
``data/memberships/FORMAT.md``); the members held are counted in the store, so the
figures stay true after an import adds members.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from .actors import resolve_actor
from .store import Store
from .store.schema import actors, provenance, ties
from .tiestate import in_force_clause

__all__ = ["network_members", "network_coverage", "coverage_table", "coverage_text"]

#: How many of a network's member sources are listed (the rest are counted).
SOURCES_SHOWN = 10
#: The kinds of actor counted as a network's members (its published counts are of these).
MEMBER_KINDS = ("city", "region")


def coverage_text(held: int, published: int | None, exact: bool = False, former: int = 0) -> str:
    """The sentence shown beside a network's members: "33 of about 200 members held"
    ("of 97" when the published count is exact; "(2 former)": members no longer in force,
    beside the current ones the published count is of)."""
    current = held - former
    if current and former:
        held = current
    noun = "member" if (published or held) == 1 else "members"     # "1 of about 200 members held"
    past = f" (and {former:,} former)" if former and current else (f" ({former:,} former)" if former else "")
    if not published:
        return f"{held:,} {noun} held{past}; the network's own count is not recorded"
    about = "" if exact else "about "
    return f"{held:,} of {about}{published:,} {noun} held{past}"


def network_members(conn: Connection, network_id: str, attrs: dict[str, Any] | None = None,
                    *, with_sources: bool = True) -> dict[str, Any]:
    """The membership figures of one network on an open connection (``attrs``: the
    network actor's attrs, when the caller has them).

    ``held`` counts the distinct cities and regions with a ``member_of`` tie to the
    network, current or former (``former``: those with no tie in force: ended or
    suspended, see :mod:`citydiplomacy.tiestate`); member
    networks and organisations are counted apart (``other_members``), as the published
    counts are of cities and regions. ``coverage`` is ``held / published``."""
    if attrs is None:
        attrs = conn.execute(select(actors.c.attrs).where(actors.c.id == network_id)).scalar() or {}
    facts = (attrs or {}).get("members") or {}
    rows = conn.execute(
        select(ties.c.source, actors.c.kind, func.max(case((in_force_clause(ties.c.status), 1), else_=0)))
        .join(actors, actors.c.id == ties.c.source)
        .where(ties.c.target == network_id, ties.c.type == "member_of")
        .group_by(ties.c.source, actors.c.kind)).all()
    by_kind: dict[str, int] = {}
    former = 0
    for _, kind, current in rows:
        by_kind[kind] = by_kind.get(kind, 0) + 1
        if kind in MEMBER_KINDS and not current:
            former += 1
    held = sum(n for k, n in by_kind.items() if k in MEMBER_KINDS)
    published = facts.get("published")
    complete = bool(facts.get("complete"))
    out = {
        "held": held,
        "current": held - former,
        "former": former,
        "held_by_kind": dict(sorted(by_kind.items())),
        "other_members": sum(n for k, n in by_kind.items() if k not in MEMBER_KINDS),
        "published": published,
        "complete": complete,
        # the published count is of members now: compared with the members in force; for a
        # programme whose members have all left (100 Resilient Cities), with its former ones
        "coverage": round(((held - former) or held) / published, 3) if published else None,
        "count_source": facts.get("count_source"),
        "text": coverage_text(held, published, bool(facts.get("exact")), former),
    }
    if with_sources:
        src = conn.execute(
            select(provenance.c.source, provenance.c.url, provenance.c.as_of, func.count())
            .join(ties, ties.c.provenance_id == provenance.c.id)
            .where(ties.c.target == network_id, ties.c.type == "member_of")
            .group_by(provenance.c.id).order_by(func.count().desc(), provenance.c.source)).all()
        out["sources"] = [{"source": s, "url": u, "as_of": a, "members": n} for s, u, a, n in src[:SOURCES_SHOWN]]
        out["source_count"] = len(src)
    return out


def network_coverage(store: Store, ref: str) -> dict[str, Any]:
    """A network's members held, its published count and the coverage, with the sources
    of its members; ``ref`` is an id, QID or name (see :func:`citydiplomacy.actors.resolve_actor`)."""
    actor = resolve_actor(store, ref, prefer_kind="city_network")
    with store.connect() as conn:
        return {"id": actor["id"], "name": actor["name"], "kind": actor["kind"],
                **network_members(conn, actor["id"], actor.get("attrs"))}


def coverage_table(store: Store) -> list[dict[str, Any]]:
    """Every city network with its members held, published count and coverage, the
    largest memberships first."""
    with store.connect() as conn:
        nets = conn.execute(select(actors.c.id, actors.c.name, actors.c.attrs)
                            .where(actors.c.kind == "city_network")).all()
        out = [{"id": i, "name": n, **network_members(conn, i, a or {}, with_sources=False)} for i, n, a in nets]
    return sorted(out, key=lambda r: (-r["held"], r["id"]))
