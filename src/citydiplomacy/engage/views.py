"""What the register says about an actor and about the calendar: an actor's timeline
(with one partner or all), what is due for review or follow-up in the next days, and an
actor's activity — engagements by year, kind and axis, its most active partners, and its
dormant ties (a twinning or partnership with no engagement between the pair in N years)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import and_, func, or_, select

from ..errors import ValidationError
from ..store import Store, schema
from .register import CHUNK, E, F, P, filter_statement, read_engagements

__all__ = ["timeline", "due", "activity", "first_day", "DORMANT_TIES"]

#: the tie types whose dormancy activity reports
DORMANT_TIES = ("twinned_with", "partner_of")


def first_day(partial: str | None) -> dt.date | None:
    """The first day a partial date can mean (``2027`` → 2027-01-01; year 0 → year 1)."""
    if not partial:
        return None
    parts = [int(x) for x in partial.split("-")] + [1, 1]
    return dt.date(max(parts[0], 1), parts[1], parts[2])


def _today(today: Any) -> dt.date:
    if today is None:
        return dt.date.today()
    if isinstance(today, dt.date):
        return today
    try:
        return dt.date.fromisoformat(str(today))
    except ValueError:
        raise ValidationError(f"'{today}' is not a day; write YYYY-MM-DD", field="today") from None


def _ref(store: Store, ref: str | None) -> dict[str, Any] | None:
    from ..actors import resolve_actor

    return None if ref is None else resolve_actor(store, ref)


def timeline(store: Store, actor: str, partner: str | None = None, *, kind: str | None = None) -> dict[str, Any]:
    """The engagements of ``actor`` (any reference), or of the pair ``actor``–``partner``,
    oldest first (undated last): ``{"actor", "partner", "count", "items"}``."""
    a, b = _ref(store, actor), _ref(store, partner)
    stmt = filter_statement(select(E.c.id), actor=a["id"], partner=b["id"] if b else None, kind=kind)
    date = func.coalesce(E.c.start_on, E.c.signed_on, E.c.end_on)
    with store.connect() as conn:
        ids = list(conn.execute(stmt.order_by(date.is_(None), date, E.c.id)).scalars())
        items = read_engagements(conn, ids)
    for e in items:
        e["date"] = e["start_on"] or e["signed_on"] or e["end_on"]
    return {"actor": {"id": a["id"], "name": a["name"]},
            "partner": {"id": b["id"], "name": b["name"]} if b else None, "count": len(items), "items": items}


def due(store: Store, days: int = 90, *, today: Any = None, actor: str | None = None,
        overdue: bool = False) -> dict[str, Any]:
    """What is due in the next ``days`` days from ``today`` (default: today): review or
    renewal dates of engagements not ended or completed, and open follow-ups (with
    ``overdue``, open follow-ups whose date has passed too, flagged). A partial date
    counts from its first day. ``actor``: only its engagements. Returns ``{"today",
    "until", "count", "items"}``, soonest first."""
    if not isinstance(days, int) or days < 0 or days > 36_600:
        raise ValidationError(f"days must be a whole number from 0 to 36600, not {days!r}", field="days")
    start = _today(today)
    try:
        end = start + dt.timedelta(days=days)
    except OverflowError:
        raise ValidationError(f"{days} days after {start} is past the year 9999", field="days") from None
    lo, hi = start.isoformat(), end.isoformat()
    a = _ref(store, actor)
    items: list[dict[str, Any]] = []
    with store.connect() as conn:
        stmt = select(E.c.id, E.c.review_on).where(and_(E.c.review_on >= lo[:4], E.c.review_on <= hi),
                                                   E.c.status.notin_(("ended", "completed")))
        if a:
            stmt = filter_statement(stmt, actor=a["id"])
        reviews = [(r.id, r.review_on) for r in conn.execute(stmt) if start <= first_day(r.review_on) <= end]
        fstmt = select(F.c.engagement_id, F.c.text, F.c.due_on).join(E, E.c.id == F.c.engagement_id).where(
            F.c.status == "open", F.c.due_on.is_not(None), F.c.due_on <= hi,
            *([] if overdue else [F.c.due_on >= lo[:4]]))
        if a:
            fstmt = filter_statement(fstmt, actor=a["id"])
        follow = [(r.engagement_id, r.text, r.due_on) for r in conn.execute(fstmt)
                  if first_day(r.due_on) <= end and (overdue or first_day(r.due_on) >= start)]
        ids = sorted({i for i, _ in reviews} | {i for i, _, _ in follow})
        by_id = {}
        for n in range(0, len(ids), CHUNK):
            chunk = ids[n:n + CHUNK]
            for i, e in zip(chunk, read_engagements(conn, chunk)):
                by_id[i] = e
    for i, d in reviews:
        e = by_id[i]
        items.append({"what": "review", "due_on": d, "overdue": False, "text": f"review or renewal of: {e['title']}",
                      **_brief(e)})
    for i, text, d in follow:
        e = by_id[i]
        items.append({"what": "follow-up", "due_on": d, "overdue": first_day(d) < start, "text": text, **_brief(e)})
    items.sort(key=lambda x: (first_day(x["due_on"]), x["key"], x["what"]))
    return {"today": lo, "until": hi, "days": days, "overdue": overdue, "count": len(items), "items": items}


def _brief(e: dict[str, Any]) -> dict[str, Any]:
    return {"key": e["key"], "kind": e["kind"], "title": e["title"], "status": e["status"],
            "parties": [{"id": p["id"], "name": p["name"], "role": p["role"]} for p in e["parties"]]}


def activity(store: Store, actor: str, *, dormant_years: int = 5, today: Any = None,
             top: int = 10) -> dict[str, Any]:
    """An actor's international activity from the register:

    - ``by_year``, ``by_kind``, ``by_axis``: how many engagements it took part in;
    - ``partners``: the ``top`` actors it shares the most engagements with (count, last date);
    - ``dormant``: its twinning and partnership ties (not ended) with no engagement
      between the pair in the last ``dormant_years`` years (ties younger than that are not
      dormant), each with the date of the pair's last engagement (None: never)."""
    if not isinstance(dormant_years, int) or dormant_years < 1:
        raise ValidationError(f"dormant_years must be a whole number ≥ 1, not {dormant_years!r}",
                              field="dormant_years")
    a = _ref(store, actor)
    aid = a["id"]
    now = _today(today)
    if now.year - dormant_years < 1:
        raise ValidationError(f"{dormant_years} years before {now} is before the year 1", field="dormant_years")
    cutoff = now.replace(year=now.year - dormant_years) if not (now.month == 2 and now.day == 29) \
        else dt.date(now.year - dormant_years, 2, 28)
    cut = cutoff.isoformat()
    ac, t = schema.actors, schema.ties
    date = func.coalesce(E.c.start_on, E.c.signed_on, E.c.end_on)
    with store.connect() as conn:
        mine = conn.execute(select(E.c.id, E.c.kind, E.c.axes, date.label("date"))
                            .join(P, P.c.engagement_id == E.c.id).where(P.c.actor_id == aid).distinct()).all()
        by_year: Counter = Counter()
        by_kind: Counter = Counter()
        by_axis: Counter = Counter()
        for r in mine:
            by_year[r.date[:4] if r.date else "undated"] += 1
            by_kind[r.kind] += 1
            for x in (r.axes or "").split(","):
                if x:
                    by_axis[x] += 1
        p2 = P.alias("p2")
        partners = conn.execute(
            select(p2.c.actor_id, ac.c.name, ac.c.kind, ac.c.country,
                   func.count(func.distinct(E.c.id)).label("n"), func.max(date).label("last"))
            .select_from(P.join(p2, and_(p2.c.engagement_id == P.c.engagement_id, p2.c.actor_id != aid))
                         .join(E, E.c.id == P.c.engagement_id).join(ac, ac.c.id == p2.c.actor_id))
            .where(P.c.actor_id == aid).group_by(p2.c.actor_id, ac.c.name, ac.c.kind, ac.c.country)).all()
        last = {r.actor_id: r.last for r in partners}
        ties = conn.execute(select(t.c.id, t.c.source, t.c.target, t.c.type, t.c.since, t.c.status, ac.c.name)
                            .join(ac, ac.c.id == func.coalesce(
                                func.nullif(t.c.target, aid), t.c.source))
                            .where(or_(t.c.source == aid, t.c.target == aid), t.c.type.in_(DORMANT_TIES),
                                   t.c.status != "ended")).all()
    ranked = sorted(partners, key=lambda r: (-r.n, r.name))[:top]
    dormant = []
    for r in ties:
        other = r.target if r.source == aid else r.source
        if r.since and r.since >= cut[:len(r.since)]:
            continue                       # too young to be dormant
        seen = last.get(other)
        if seen and seen >= cut[:len(seen)]:
            continue
        dormant.append({"tie": r.id, "partner": other, "name": r.name, "type": r.type, "since": r.since,
                        "status": r.status, "last_engagement": seen})
    dormant.sort(key=lambda d: (d["last_engagement"] or "", d["name"]))
    return {"actor": {"id": aid, "name": a["name"]}, "count": len(mine), "dormant_years": dormant_years,
            "as_of": now.isoformat(),
            "by_year": dict(sorted(by_year.items())), "by_kind": dict(by_kind.most_common()),
            "by_axis": dict(by_axis.most_common()),
            "partners": [{"id": r.actor_id, "name": r.name, "kind": r.kind, "country": r.country, "count": r.n,
                          "last": r.last} for r in ranked],
            "ties": len(ties), "dormant": dormant}
