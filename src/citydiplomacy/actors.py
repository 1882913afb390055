"""Looking actors up (by id, identifier or name) and listing their ties."""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import or_, select

from .errors import NotFoundError, ValidationError
from .search import search
from .store import Store
from .store.schema import actors, aliases, frameworks, provenance, ties
from .text import normalize
from .vocab import Axis, Layer, TieType, choices

_QID = re.compile(r"^Q[1-9][0-9]*$")


def get_actor(store: Store, actor_id: str) -> dict[str, Any] | None:
    """The actor with this exact id, with its provenance and aliases, or None."""
    with store.connect() as conn:
        row = conn.execute(
            select(actors, provenance.c.source.label("prov_source"), provenance.c.url.label("prov_url"),
                   provenance.c.licence.label("prov_licence"), provenance.c.as_of.label("prov_as_of"),
                   provenance.c.run_id.label("prov_run_id"))
            .join(provenance, provenance.c.id == actors.c.provenance_id)
            .where(actors.c.id == actor_id)).first()
        if row is None:
            return None
        out = dict(row._mapping)
        out["axes"] = [a for a in (out["axes"] or "").split(",") if a]
        out["attrs"] = out["attrs"] or {}
        out["provenance"] = {k[5:]: out.pop(k) for k in list(out) if k.startswith("prov_")}
        out.pop("provenance_id", None)
        out["aliases"] = [r.name for r in conn.execute(
            select(aliases.c.name).where(aliases.c.actor_id == actor_id).order_by(aliases.c.id))]
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
    elif ref.isdigit():
        col, value = actors.c.geonames_id, int(ref)
    if col is None:
        return None
    with store.connect() as conn:
        found = conn.execute(select(actors.c.id).where(col == value)
                             .order_by(actors.c.importance.desc())).first()
    return get_actor(store, found.id) if found else None


def closest_names(store: Store, ref: str, limit: int = 5) -> list[str]:
    """Names close to ``ref`` by fuzzy similarity, for "did you mean" messages."""
    q = normalize(ref)
    with store.connect() as conn:
        rows = conn.execute(select(actors.c.id, actors.c.name, actors.c.importance)
                            .where(actors.c.importance >= 50_000)).all()
    choices_ = {r.id: normalize(r.name) for r in rows}
    names = {r.id: r.name for r in rows}
    best = process.extract(q, choices_, scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
    return [f"{names[key]} ({key})" for _, _, key in best]


def _check(value: str | None, enum, field: str) -> None:
    if value is not None:
        try:
            enum(value)
        except ValueError:
            raise ValidationError(f"unknown {field} '{value}'; choose one of: {choices(enum)}",
                                  field=field) from None


def list_ties(store: Store, actor_id: str, *, type: str | None = None,  # noqa: A002
              layer: str | None = None, axis: str | None = None) -> list[dict[str, Any]]:
    """The ties of an actor in both directions, each with the other end's name, kind
    and layer, its direction (``out``/``in``) and its provenance."""
    _check(type, TieType, "type")
    _check(layer, Layer, "layer")
    _check(axis, Axis, "axis")
    other = actors.alias("other")
    out: list[dict[str, Any]] = []
    with store.connect() as conn:
        for direction, mine, theirs in (("out", ties.c.source, ties.c.target),
                                        ("in", ties.c.target, ties.c.source)):
            stmt = (select(ties, other.c.name.label("other_name"), other.c.kind.label("other_kind"),
                           other.c.layer.label("other_layer"), other.c.country.label("other_country"),
                           provenance.c.source.label("prov_source"),
                           provenance.c.licence.label("prov_licence"),
                           provenance.c.as_of.label("prov_as_of"), provenance.c.url.label("prov_url"))
                    .outerjoin(other, other.c.id == theirs)
                    .join(provenance, provenance.c.id == ties.c.provenance_id)
                    .where(mine == actor_id))
            if direction == "in":
                stmt = stmt.where(ties.c.target_type == "actor")
            if type:
                stmt = stmt.where(ties.c.type == type)
            if axis:
                stmt = stmt.where(or_(ties.c.axes == axis, ties.c.axes.like(f"%{axis}%")))
            for row in conn.execute(stmt):
                r = dict(row._mapping)
                r["direction"] = direction
                r["other"] = r["target"] if direction == "out" else r["source"]
                r["axes"] = [a for a in (r["axes"] or "").split(",") if a]
                r["provenance"] = {k[5:]: r.pop(k) for k in list(r) if k.startswith("prov_")}
                r.pop("provenance_id", None)
                out.append(r)
        fw_targets = {r["other"] for r in out if r["target_type"] == "framework"}
        if fw_targets:
            names = {r.id: r.name for r in conn.execute(
                select(frameworks.c.id, frameworks.c.name).where(frameworks.c.id.in_(fw_targets)))}
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


def filter_actors(stmt, *, kind: str | None = None, layer: str | None = None, country: str | None = None):
    """``stmt`` (a select over ``actors``) kept to actors of a kind, a layer and a country
    (a name or ISO code; an unknown one is a :class:`ValidationError` naming it)."""
    from . import countries

    if kind:
        stmt = stmt.where(actors.c.kind == kind)
    if layer:
        stmt = stmt.where(actors.c.layer == layer)
    if country:
        c = countries.lookup_name(country)
        if c is None:
            raise ValidationError(f"'{country}' is not a country name or ISO code", field="country")
        stmt = stmt.where(actors.c.country == c.alpha3)
    return stmt
