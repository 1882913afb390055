"""The ties of an actor by their role for it: a tie of a directed type reads one way from
its source and the other way from its target. The EU's ``member_of`` ties from the 27
states are its *members*; its ``member_of`` ties to the G7 or the WTO are what it is a
*member of*. Pages and reports group and name ties by role so that the two never mix.

Symmetric types (``twinned_with``, ``partner_of``) have one role whichever way they are
stored.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, literal, select, text, union_all
from sqlalchemy.engine import Connection

from .store.schema import actors, ties
from .tiestate import in_force_clause
from .vocab import SYMMETRIC_TIES

__all__ = ["ROLES", "TieGroup", "count_roles", "group_ties", "role_key", "role_label"]

#: (tie type, direction from the actor's side) -> the heading of the ties in that role
ROLES: dict[tuple[str, str], str] = {
    ("member_of", "out"): "Member of", ("member_of", "in"): "Members",
    ("located_in", "out"): "Located in", ("located_in", "in"): "Located here",
    ("hosts", "out"): "Hosts", ("hosts", "in"): "Hosted by",
    ("funds", "out"): "Funds", ("funds", "in"): "Funded by",
    ("participates_in", "out"): "Participates in", ("participates_in", "in"): "Participants",
    ("signatory_of", "out"): "Signatory of", ("signatory_of", "in"): "Signatories",
    ("party_to", "out"): "Party to", ("party_to", "in"): "Parties",
    ("coordinates", "out"): "Coordinates", ("coordinates", "in"): "Coordinated by",
    ("supports", "out"): "Supports", ("supports", "in"): "Supported by",
    ("founded", "out"): "Founded", ("founded", "in"): "Founded by",
    ("twinned_with", "both"): "Twinned with", ("partner_of", "both"): "Partners",
}
_SYMMETRIC = {t.value for t in SYMMETRIC_TIES}


def role_key(type: str, direction: str) -> str:  # noqa: A002
    """``member_of:in``, ``member_of:out``; ``twinned_with:both`` for a symmetric type."""
    return f"{type}:{'both' if type in _SYMMETRIC else direction}"


def role_label(type: str, direction: str) -> str:  # noqa: A002
    """The heading of ties of ``type`` seen from the ``out`` (source) or ``in`` (target)
    side: ``Members``, ``Member of``; an unknown type is named with its direction."""
    d = "both" if type in _SYMMETRIC else direction
    label = ROLES.get((type, d))
    if label:
        return label
    words = type.replace("_", " ")
    return words.capitalize() if d != "in" else f"{words.capitalize()} (to this actor)"


class TieGroup(NamedTuple):
    """Ties of one role: ``key`` (``member_of:in``), ``type``, ``direction`` (``out``,
    ``in`` or ``both``), ``label`` (``Members``) and the ``ties``."""

    key: str
    type: str
    direction: str
    label: str
    ties: list[dict[str, Any]]


def group_ties(rows: list[dict[str, Any]]) -> list[TieGroup]:
    """The ties (as :func:`~citydiplomacy.actors.list_ties` gives them) grouped by role, in
    the order the ties come (by type), the ties *from* the actor before those *to* it."""
    groups: dict[str, TieGroup] = {}
    for t in rows:
        key = role_key(t["type"], t["direction"])
        g = groups.get(key)
        if g is None:
            d = key.rsplit(":", 1)[1]
            g = groups[key] = TieGroup(key, t["type"], d, role_label(t["type"], t["direction"]), [])
        g.ties.append(t)
    order = {"out": 0, "both": 0, "in": 1}
    first = {}
    for i, k in enumerate(groups):
        first.setdefault(groups[k].type, i)
    return sorted(groups.values(), key=lambda g: (first[g.type], order[g.direction]))


_other = actors.alias("other")
#: ties in force by the other end's layer, type and direction (a framework counts as macro)
_ROLE_COUNTS = union_all(
    select(func.coalesce(_other.c.layer, "macro").label("layer"), ties.c.type,
           literal("out").label("direction"), func.count().label("n"))
    .select_from(ties.outerjoin(_other, _other.c.id == ties.c.target))
    .where(ties.c.source == bindparam("actor_id"), in_force_clause(ties.c.status))
    # by position: the expression's literal is a new parameter each time it is written,
    # and PostgreSQL does not see the two as the same expression
    .group_by(text("1"), ties.c.type),
    select(_other.c.layer.label("layer"), ties.c.type, literal("in").label("direction"),
           func.count().label("n"))
    .select_from(ties.join(_other, _other.c.id == ties.c.source))
    .where(ties.c.target == bindparam("actor_id"), ties.c.target_type == "actor", in_force_clause(ties.c.status))
    .group_by(_other.c.layer, ties.c.type))


def count_roles(conn: Connection, actor_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """How many ties in force the actor has to each layer, by role:
    ``{"meso": {"member_of:in": {"label": "Members", "type": "member_of", "n": 27}, ...}}``
    (a tie to a framework counts as macro)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in conn.execute(_ROLE_COUNTS, {"actor_id": actor_id}):
        if not r.layer:
            continue
        key = role_key(r.type, r.direction)
        entry = out.setdefault(r.layer, {}).setdefault(
            key, {"label": role_label(r.type, r.direction), "type": r.type, "n": 0})
        entry["n"] += r.n
    return {layer: dict(sorted(roles.items())) for layer, roles in out.items()}
