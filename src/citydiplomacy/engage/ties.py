"""Agreements that establish, renew or end a tie (a twinning, a partnership) between
their two parties: the tie is created or updated (since, until, status) and the link kept
both ways — a row of ``engagement_ties`` here, the engagement's key in the tie's
``attrs.engagements`` there."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from ..store import schema

__all__ = ["link_ties", "unlink_ties"]


def _attrs(value: Any) -> dict[str, Any]:
    return dict(value or {})


def link_ties(conn, engagement_id: int, e, prov_id: int) -> int:
    """Create or update the tie ``e.tie`` names between the engagement's two parties, and
    link it; returns 1 (a tie written). Runs inside the caller's transaction."""
    t = schema.ties
    effect, type_ = e.tie
    a, b = sorted({p.actor for p in e.parties})          # symmetric ties: source < target
    date = e.signed_on or e.start_on
    found = conn.execute(select(t).where(and_(t.c.source == a, t.c.target == b, t.c.type == type_))
                         .order_by(t.c.id)).all()
    tie = None
    if found:
        same = [r for r in found if date and r.since == date]
        open_ = [r for r in found if r.status != "ended"]
        tie = (same or open_ or found)[-1]
    if effect == "ends":
        until = e.end_on or date
        values = {"status": "ended", "until": until}
    elif effect == "renews":
        values = {"status": "active", "until": None}
    else:
        values = {"status": "active"}
    if tie is None:
        row = {"source": a, "target": b, "target_type": "actor", "type": type_, "axes": "engagement",
               "since": date if effect != "ends" else None, "provenance_id": prov_id,
               "attrs": {"engagements": [e.key]}, "until": None, "status": "active"}
        row.update(values)
        tie_id = conn.execute(insert(t).values(row)).inserted_primary_key[0]
    else:
        tie_id = tie.id
        attrs = _attrs(tie.attrs)
        keys = set(attrs.get("engagements") or []) | {e.key}
        attrs["engagements"] = sorted(keys)
        if effect == "establishes" and tie.since is None and date:
            values["since"] = date
        conn.execute(update(t).where(t.c.id == tie_id).values(**values, attrs=attrs))
    conn.execute(insert(schema.engagement_ties).values(engagement_id=engagement_id, tie_id=tie_id, effect=effect))
    return 1


def unlink_ties(conn, engagement_id: int, key: str) -> None:
    """Forget the links of an engagement about to be rewritten or deleted: its rows of
    ``engagement_ties`` and its key in those ties' ``attrs.engagements`` (the ties stay)."""
    t, et = schema.ties, schema.engagement_ties
    for r in conn.execute(select(t.c.id, t.c.attrs).join(et, et.c.tie_id == t.c.id)
                          .where(et.c.engagement_id == engagement_id)).all():
        attrs = _attrs(r.attrs)
        keys = [k for k in attrs.get("engagements") or [] if k != key]
        if keys:
            attrs["engagements"] = keys
        else:
            attrs.pop("engagements", None)
        conn.execute(update(t).where(t.c.id == r.id).values(attrs=attrs or None))
    conn.execute(delete(et).where(et.c.engagement_id == engagement_id))
