"""Looking actors up (by id, identifier or name) and listing their ties."""

from __future__ import annotations

import functools
import re
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, bindparam, case, func, literal, or_, select, text, union_all

from .errors import NotFoundError, ValidationError
from .search import search
from .store import Store
from .store.schema import actors, aliases, frameworks, provenance, ties
from .text import normalize, parse_id_number
from .tiestate import IN_FORCE, in_force_clause, state_of
from .vocab import SYMMETRIC_TIES, Axis, Kind, Layer, TieType, choices

_QID = re.compile(r"^Q[1-9][0-9]*$")


#: the actor with its provenance, by id (built once: a statement built per call costs
#: more than the query it runs)
_ACTOR = (select(actors, provenance.c.source.label("prov_source"), provenance.c.url.label("prov_url"),
                 provenance.c.licence.label("prov_licence"), provenance.c.as_of.label("prov_as_of"),
                 provenance.c.run_id.label("prov_run_id"))
          .join(provenance, provenance.c.id == actors.c.provenance_id)
          .where(actors.c.id == bindparam("actor_id")))
_ALIASES = select(aliases.c.name).where(aliases.c.actor_id == bindparam("actor_id")).order_by(aliases.c.id)


def get_actor(store: Store, actor_id: str) -> dict[str, Any] | None:
    """The actor with this exact id, with its provenance and aliases, or None."""
    with store.connect() as conn:
        return read_actor(conn, actor_id)


def actor_statement(*columns):
    """The statement :func:`read_actor` runs, with more ``columns`` (labelled; they come
    back under their labels), so that a caller asks for what else it needs in the same query."""
    return _ACTOR.add_columns(*columns)


def read_actor(conn: Connection, actor_id: str, *, with_aliases: bool = True,
               statement=None) -> dict[str, Any] | None:
    """:func:`get_actor` on an open connection (``with_aliases=False``: without the
    ``aliases`` list, one query fewer; ``statement``: one made by :func:`actor_statement`)."""
    row = conn.execute(_ACTOR if statement is None else statement, {"actor_id": actor_id}).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["axes"] = [a for a in (out["axes"] or "").split(",") if a]
    out["attrs"] = out["attrs"] or {}
    out["provenance"] = {k[5:]: out.pop(k) for k in list(out) if k.startswith("prov_")}
    out.pop("provenance_id", None)
    if with_aliases:
        out["aliases"] = [r.name for r in conn.execute(_ALIASES, {"actor_id": actor_id})]
    return out


def resolve_actor(store: Store, ref: str, *, prefer_kind: str | None = None) -> dict[str, Any]:
    """Find one actor from what a person typed: an id, a Wikidata QID, a GeoNames id or
    a name. A name resolves to the best-ranked exact match (see :mod:`search`), and
    the other exact matches are returned in ``alternatives``. Raises
    :class:`NotFoundError` with the closest names when nothing matches exactly."""
    ref = (ref or "").strip()
    if not ref:
        raise ValidationError("name an actor (an id such as barcelona-es, or a name)", field="actor")
    actor = get_actor(store, ref) or get_actor(store, ref.lower())
    if actor is None:
        actor = _by_identifier(store, ref)
    if actor is not None:
        actor["alternatives"] = []
        return actor
    hits = search(store, ref, kind=prefer_kind, limit=10) if prefer_kind else []
    exact = [h for h in hits if h["match"].startswith("exact")]
    if not exact:
        hits = search(store, ref, limit=10)
        exact = [h for h in hits if h["match"].startswith("exact")]
    if exact:
        actor = get_actor(store, exact[0]["id"])
        actor["alternatives"] = exact[1:]
        return actor
    suggestions = [f"{h['name']} ({h['id']})" for h in hits[:5]] or closest_names(store, ref)
    raise NotFoundError(f"no actor matches '{ref}'", suggestions=suggestions)


def _by_identifier(store: Store, ref: str) -> dict[str, Any] | None:
    col = None
    if _QID.match(ref.upper()):
        col, value = actors.c.wikidata, ref.upper()
    elif (number := parse_id_number(ref)) is not None:
        col, value = actors.c.geonames_id, number
    if col is None:
        return None
    with store.connect() as conn:
        found = conn.execute(select(actors.c.id).where(col == value)
                             .order_by(actors.c.importance.desc())).first()
    return get_actor(store, found.id) if found else None


def closest_names(store: Store, ref: str, limit: int = 5) -> list[str]:
    """Names close to ``ref`` by fuzzy similarity, for "did you mean" messages."""
    q = normalize(ref)
    if getattr(store, "has_trigram", False) and q:
        return _closest_by_trigrams(store, q, limit)
    with store.connect() as conn:
        rows = conn.execute(select(actors.c.id, actors.c.name, actors.c.importance)
                            .where(actors.c.importance >= 50_000)).all()
    choices_ = {r.id: normalize(r.name) for r in rows}
    names = {r.id: r.name for r in rows}
    best = process.extract(q, choices_, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [f"{names[key]} ({key})" for _, _, key in best]


def _closest_by_trigrams(store: Store, q: str, limit: int) -> list[str]:
    """On PostgreSQL with pg_trgm: the actors whose names or aliases (every language) share
    the most trigrams with ``q`` (its ``%`` operator: similarity at least 0.3, answered by
    the trigram index), the more prominent first among equals."""
    from sqlalchemy import text

    with store.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.id, a.name, max(similarity(al.norm, :q)) AS sim, max(a.importance) AS imp "
            "FROM aliases al JOIN actors a ON a.id = al.actor_id WHERE al.norm % :q "
            "GROUP BY a.id, a.name ORDER BY sim DESC, imp DESC, a.id LIMIT :n"), {"q": q, "n": limit}).all()
    return [f"{r.name} ({r.id})" for r in rows]


def _check(value: str | None, enum, field: str) -> None:
    if value is not None:
        try:
            enum(value)
        except ValueError:
            raise ValidationError(f"unknown {field} '{value}'; choose one of: {choices(enum)}",
                                  field=field) from None


_other = actors.alias("other")


def _ties_select(direction: str, types: tuple[str, ...] | None = None):
    """One direction of an actor's ties (``out``: it is the source), with the other end
    and the provenance; ``types``: only ties of these types."""
    mine, theirs = (ties.c.source, ties.c.target) if direction == "out" else (ties.c.target, ties.c.source)
    stmt = (select(ties, literal(direction).label("direction"),
                   _other.c.name.label("other_name"), _other.c.kind.label("other_kind"),
                   _other.c.layer.label("other_layer"), _other.c.country.label("other_country"),
                   provenance.c.source.label("prov_source"), provenance.c.licence.label("prov_licence"),
                   provenance.c.as_of.label("prov_as_of"), provenance.c.url.label("prov_url"))
            .outerjoin(_other, _other.c.id == theirs)
            .join(provenance, provenance.c.id == ties.c.provenance_id)
            .where(mine == bindparam("actor_id")))
    if direction == "in":
        stmt = stmt.where(ties.c.target_type == "actor")
    if types is not None:
        stmt = stmt.where(ties.c.type.in_(types))
    return stmt


@functools.lru_cache(maxsize=256)
def _ties_statement(type: str | None, axis: str | None,  # noqa: A002
                    out_types: tuple[str, ...] | None, in_types: tuple[str, ...] | None):
    """Both directions of an actor's ties as one statement, for each filter (kept: there
    are few, and a statement built once is compiled once)."""
    parts = []
    for direction, types in (("out", out_types), ("in", in_types)):
        if types == ():
            continue
        stmt = _ties_select(direction, types)
        if type:
            stmt = stmt.where(ties.c.type == type)
        if axis:
            stmt = stmt.where(or_(ties.c.axes == axis, ties.c.axes.like(f"%{axis}%")))
        parts.append(stmt)
    return union_all(*parts) if len(parts) > 1 else parts[0]


_FRAMEWORK_NAMES = select(frameworks.c.id, frameworks.c.name).where(
    frameworks.c.id.in_(bindparam("ids", expanding=True)))


def list_ties(store: Store, actor_id: str, *, type: str | None = None,  # noqa: A002
              layer: str | None = None, axis: str | None = None, kind: str | None = None,
              country: str | None = None, bloc: str | None = None,
              as_of: str | None = None) -> list[dict[str, Any]]:
    """The ties of an actor in both directions, each with the other end's name, kind
    and layer, its direction (``out``/``in``) and its provenance.

    Filters (each optional; a bad value is a :class:`ValidationError` naming it): the
    tie's ``type``; the ``axis`` it serves; the other end's ``layer``, ``kind`` or
    ``country`` (a name or ISO code); ``bloc``, an actor id such as ``eu``: the other
    end is in one of the bloc's member states; ``as_of``, a date (``YYYY[-MM[-DD]]``):
    the tie was in force then (see :mod:`citydiplomacy.tiestate`).

    Each tie carries its ``status``, ``since``, ``until``, ``attrs`` (a suspension's date
    and the source of a change of status, see :mod:`citydiplomacy.dataset.tie_changes`)
    and its ``state``: the status at ``as_of``, or now."""
    _check(type, TieType, "type")
    _check(layer, Layer, "layer")
    _check(axis, Axis, "axis")
    _check(kind, Kind, "kind")
    code = _country_code(country) if country else None
    date = None
    if as_of:
        from .dates import parse_partial_date

        date = parse_partial_date(as_of, field="as_of")
    with store.connect() as conn:
        members = bloc_countries(conn, bloc) if bloc else None
        rows = read_ties(conn, actor_id, type=_value(type), layer=_value(layer), axis=_value(axis))
    if kind:
        rows = [r for r in rows if r["other_kind"] == kind]
    if code:
        rows = [r for r in rows if r["other_country"] == code]
    if members is not None:
        rows = [r for r in rows if r["other_country"] in members]
    if date:
        for r in rows:
            r["state"] = state_of(r, date)
        rows = [r for r in rows if r["state"] in IN_FORCE]
    return rows


#: how many ties of each type and direction ``citydip show`` lists before "… N more"
SHOWN_PER_TYPE = 8


def group_ties(rows: list[dict[str, Any]], *, per_type: int | None = SHOWN_PER_TYPE) -> list[dict[str, Any]]:
    """An actor's ties (as :func:`list_ties` returns them) summarised by type and
    direction, the largest group first: each group's ``type``, ``direction`` (``out``:
    the actor is the source — its memberships; ``in``: its members), ``count``, the other
    ends' layers (``layers``: layer → count), the first ``per_type`` ties (``shown``;
    None: all of them) and how many more there are (``more``). A symmetric tie (twinning,
    partnership) has no direction: ``both``."""

    symmetric = {t.value for t in SYMMETRIC_TIES}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["type"], "both" if r["type"] in symmetric else r["direction"]), []).append(r)
    out = []
    for (type_, direction), ts in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        layers: dict[str, int] = {}
        for t in ts:
            layers[t["other_layer"] or "?"] = layers.get(t["other_layer"] or "?", 0) + 1
        shown = ts if per_type is None else ts[:per_type]
        out.append({"type": type_, "direction": direction, "count": len(ts),
                    "layers": dict(sorted(layers.items(), key=lambda kv: (-kv[1], kv[0]))),
                    "shown": shown, "more": len(ts) - len(shown)})
    return out


def _value(member: Any) -> str | None:
    """An enum member's value (a filter given as ``TieType.MEMBER_OF`` or as text)."""
    return getattr(member, "value", member) or None


def _country_code(country: str) -> str:
    from . import countries

    c = countries.lookup_name(country)
    if c is None:
        raise ValidationError(f"'{country}' is not a country name or ISO code", field="country")
    return c.alpha3


_BLOC_MEMBERS = (select(actors.c.country).join(ties, ties.c.source == actors.c.id)
                 .where(ties.c.target == bindparam("bloc"), ties.c.type == "member_of", in_force_clause(ties.c.status),
                        actors.c.kind == "state"))


def bloc_countries(conn: Connection, bloc: str) -> set[str]:
    """The ISO codes of the states that are members (in force now) of ``bloc``, an actor id
    such as ``eu``. A bloc without member states is a :class:`ValidationError`."""
    members = {m for m in conn.execute(_BLOC_MEMBERS, {"bloc": bloc}).scalars() if m}
    if not members:
        raise ValidationError(f"'{bloc}' has no member states in the store; give a bloc's id such as eu",
                              field="bloc")
    return members


def read_ties(conn: Connection, actor_id: str, *, type: str | None = None,  # noqa: A002
              layer: str | None = None, axis: str | None = None,
              out_types: tuple[str, ...] | None = None,
              in_types: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """:func:`list_ties` on an open connection, the filters already checked.
    ``out_types`` and ``in_types`` keep the ties from the actor, and to it, to these
    types (a state has thousands of cities ``located_in`` it: a profile does not list them)."""
    if out_types == () and in_types == ():
        return []
    out: list[dict[str, Any]] = []
    stmt = _ties_statement(type or None, axis or None, out_types, in_types)
    for row in conn.execute(stmt, {"actor_id": actor_id}):
        r = dict(row._mapping)
        r["direction"] = direction = r.pop("direction")     # after the tie's own fields, as before
        r["other"] = r["target"] if direction == "out" else r["source"]
        r["axes"] = [a for a in (r["axes"] or "").split(",") if a]
        r["attrs"] = r.get("attrs") or {}
        r["state"] = state_of(r)
        r["provenance"] = {"source": r.pop("prov_source"), "licence": r.pop("prov_licence"),
                           "as_of": r.pop("prov_as_of"), "url": r.pop("prov_url")}
        r.pop("provenance_id", None)
        out.append(r)
    fw_targets = {r["other"] for r in out if r["target_type"] == "framework"}
    if fw_targets:
        names = {r.id: r.name for r in conn.execute(_FRAMEWORK_NAMES, {"ids": sorted(fw_targets)})}
        for r in out:
            if r["target_type"] == "framework":
                n = names.get(r["other"]) or {}
                r["other_name"] = n.get("en") or r["other"]
                r["other_kind"] = "framework"
                r["other_layer"] = "macro"
    if layer:
        out = [r for r in out if r["other_layer"] == layer]
    out.sort(key=lambda r: (r["type"], r["other_layer"] or "", r["other_name"] or ""))
    return out


#: how many ties an actor has of each type to each layer (a framework counts as macro)
_OUT_LAYER = case((ties.c.target_type == "framework", "macro"), else_=_other.c.layer)
_TIE_COUNTS = union_all(*(
    select(_OUT_LAYER.label("layer"), ties.c.type, func.count().label("n"))
    .select_from(ties.outerjoin(_other, _other.c.id == ties.c.target))
    .where(ties.c.source == bindparam("actor_id"), in_force_clause(ties.c.status))
    # by position, not by the label: PostgreSQL reads "layer" as the joined actor's column
    .group_by(text("1"), ties.c.type),
    select(_other.c.layer.label("layer"), ties.c.type, func.count().label("n"))
    .select_from(ties.join(_other, _other.c.id == ties.c.source))
    .where(ties.c.target == bindparam("actor_id"), ties.c.target_type == "actor", in_force_clause(ties.c.status))
    .group_by(_other.c.layer, ties.c.type)))


def count_ties(conn: Connection, actor_id: str) -> dict[str, dict[str, int]]:
    """How many ties in force (active or dormant: not suspended, ended or proposed) the
    actor has to each layer, by tie type (both directions; a tie to a framework counts as
    macro): ``{"macro": {"member_of": 3, ...}, ...}``."""
    out: dict[str, dict[str, int]] = {}
    for r in conn.execute(_TIE_COUNTS, {"actor_id": actor_id}):
        if r.layer:
            by_type = out.setdefault(r.layer, {})
            by_type[r.type] = by_type.get(r.type, 0) + r.n
    return out


def filter_actors(stmt, *, kind: str | None = None, layer: str | None = None, country: str | None = None):
    """``stmt`` (a select over ``actors``) kept to actors of a kind, a layer and a country
    (a name or ISO code; an unknown one is a :class:`ValidationError` naming it)."""
    if kind:
        stmt = stmt.where(actors.c.kind == kind)
    if layer:
        stmt = stmt.where(actors.c.layer == layer)
    if country:
        stmt = stmt.where(actors.c.country == _country_code(country))
    return stmt
