"""An actor's activity only when the register holds some: what an actor page's "Activity"
card shows (none when the actor has no engagement, so a page does not pay for the
dormant-ties query of an actor the register never names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..store import Store
from .register import P
from .views import activity

__all__ = ["has_engagements", "activity_if_any"]


def has_engagements(store: Store, actor_id: str) -> bool:
    """Does the register name ``actor_id`` (an actor id, not a name) as a party?"""
    with store.connect() as conn:
        return conn.execute(select(P.c.engagement_id).where(P.c.actor_id == actor_id).limit(1)).first() is not None


def activity_if_any(store: Store, actor_id: str, *, dormant_years: int = 5) -> dict[str, Any] | None:
    """:func:`~citydiplomacy.engage.views.activity` of ``actor_id``, or None when the
    register holds no engagement of it."""
    if not has_engagements(store, actor_id):
        return None
    return activity(store, actor_id, dormant_years=dormant_years)
