"""Actors and ties on a map: GeoJSON of the actors that have coordinates, the ties of one
actor as lines, and the compact data of the world map of the whole store.

Coordinates are WGS 84 longitude and latitude, in that order (GeoJSON, RFC 7946). States,
organisations and networks mostly have none: they are left out, and the results say how
many were (``total`` against ``returned``, ``ties`` against ``mapped``).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import func, select, union_all

from .actors import filter_actors, list_ties, resolve_actor
from .store import Store
from .store.schema import actors, ties
from .tiestate import in_force_clause

__all__ = ["iso_numeric", "map_actors", "map_ties", "shaded_countries", "world_map"]


def map_actors(store: Store, *, kind: str | None = None, layer: str | None = None,
               country: str | None = None, limit: int = 2000) -> dict[str, Any]:
    """The actors that have coordinates as a GeoJSON ``FeatureCollection`` of points, the
    ``limit`` most important first (population, capitals, organisations), kept to a
    ``kind``, a ``layer`` and a ``country`` (a name or ISO code; an unknown one is a
    :class:`~citydiplomacy.errors.ValidationError`).

    Each feature's ``properties`` hold the actor's id, name, kind, layer, country and
    population; ``total`` counts every actor that matched, ``returned`` those sent."""
    if limit < 1:
        from .errors import ValidationError

        raise ValidationError("limit must be 1 or more", field="limit")
    stmt = filter_actors(select(actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country,
                                actors.c.population, actors.c.lat, actors.c.lon).where(
        actors.c.lat.is_not(None), actors.c.lon.is_not(None)), kind=kind, layer=layer, country=country)
    with store.connect() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar()
        rows = conn.execute(stmt.order_by(actors.c.importance.desc(), actors.c.id).limit(limit)).all()
    return {"type": "FeatureCollection", "total": total, "returned": len(rows),
            "features": [{"type": "Feature", "id": r.id,
                          "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                          "properties": {"id": r.id, "name": r.name, "kind": r.kind, "layer": r.layer,
                                         "country": r.country, "population": r.population}}
                         for r in rows]}


def map_ties(store: Store, ref: str, *, type: str | None = None) -> dict[str, Any]:  # noqa: A002
    """The ties of the actor ``ref`` names (an id or a name; see
    :func:`~citydiplomacy.actors.resolve_actor`), of one ``type`` if given, as a GeoJSON
    ``FeatureCollection``: the actor (``role: actor``) and the other end of each tie
    (``role: partner``) as points, and each tie as a line from the actor to the other end.

    A tie whose other end has no coordinates (a state, an organisation) is left out:
    ``ties`` counts them all, ``mapped`` the lines drawn. The lines' ``properties`` hold
    the tie (source, target, type, status, since, until, suspended_since) and the other
    end's id and name: a suspended or ended tie is drawn, and marked as such."""
    actor = resolve_actor(store, ref)
    aid = actor["id"]
    ties_ = list_ties(store, aid, type=type)
    ids = {aid} | {t["other"] for t in ties_}
    with store.connect() as conn:
        coords = {r.id: [r.lon, r.lat] for r in conn.execute(
            select(actors.c.id, actors.c.lat, actors.c.lon).where(
                actors.c.id.in_(sorted(ids)), actors.c.lat.is_not(None), actors.c.lon.is_not(None)))}
    here = coords.get(aid)
    features = []
    if here is not None:
        features.append(_point(aid, here, {"id": aid, "name": actor["name"], "kind": actor["kind"],
                                           "country": actor["country"], "role": "actor"}))
    seen = set()
    for t in ties_:
        other = t["other"]
        if other not in coords:
            continue
        if other not in seen:
            seen.add(other)
            features.append(_point(other, coords[other], {"id": other, "name": t["other_name"],
                                                          "kind": t["other_kind"], "country": t["other_country"],
                                                          "role": "partner"}))
        if here is not None:
            features.append({"type": "Feature", "id": f"{t['source']}|{t['type']}|{t['target']}",
                             "geometry": {"type": "LineString", "coordinates": [list(here), list(coords[other])]},
                             "properties": {"source": t["source"], "target": t["target"], "type": t["type"],
                                            "status": t["status"], "since": t["since"], "until": t["until"],
                                            "suspended_since": t["attrs"].get("suspended_since"),
                                            "other": other, "other_name": t["other_name"]}})
    placed = sum(1 for t in ties_ if t["other"] in coords and t["other"] != aid)
    return {"type": "FeatureCollection",
            "actor": {"id": aid, "name": actor["name"], "kind": actor["kind"], "located": here is not None},
            "ties": len(ties_), "mapped": sum(1 for f in features if f["geometry"]["type"] == "LineString"),
            "placed": placed, "points": sum(1 for f in features if f["geometry"]["type"] == "Point"),
            "shade": shaded_countries(store, actor, ties_),
            "features": features}


#: kinds whose members are states: their map shades the member states
_STATE_BODIES = ("geopolitical_bloc", "international_organization", "regional_organization")


def shaded_countries(store: Store, actor: dict[str, Any], ties_: list[dict[str, Any]]) -> dict[str, Any]:
    """The countries an actor's map shades, and what they are, from its ties in force
    (``ties_`` as :func:`~citydiplomacy.actors.list_ties` gives them):

    - a bloc or an international or regional organisation: its member states;
    - a city network: the countries of its members;
    - a state: itself;
    - any other actor (a city): its country and those of its twinning partners.

    Returns ``{"what": "member states", "countries": [ISO alpha-3 ...], "numeric": [ISO numeric ...]}``
    (numeric codes are the ids of the map's country outlines, :func:`iso_numeric`)."""
    from .tiestate import IN_FORCE

    live = [t for t in ties_ if t["state"] in IN_FORCE and t["target_type"] == "actor"]
    kind = actor["kind"]
    if kind in _STATE_BODIES:
        what = "member states"
        codes = {t["other_country"] for t in live
                 if t["type"] == "member_of" and t["direction"] == "in" and t["other_kind"] == "state"}
    elif kind == "city_network":
        what = "countries of its members"
        codes = {t["other_country"] for t in live if t["type"] == "member_of" and t["direction"] == "in"}
    elif kind == "state":
        what = "the state"
        codes = {actor["country"]}
    else:
        what = "its country and its twinning partners' countries"
        codes = {actor["country"]} | {t["other_country"] for t in live if t["type"] == "twinned_with"}
    codes.discard(None)
    numeric = iso_numeric()
    return {"what": what, "countries": sorted(codes), "numeric": sorted(numeric[c] for c in codes if c in numeric)}


def _point(fid: str, lonlat: list[float], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": list(lonlat)},
            "properties": properties}


@functools.lru_cache(maxsize=1)
def iso_numeric() -> dict[str, str]:
    """ISO 3166 alpha-3 → numeric code ("ESP" → "724"): the ids of the Natural Earth
    country outlines the maps draw."""
    import pycountry

    return {c.alpha_3: c.numeric for c in pycountry.countries}


def world_map(store: Store, top: int = 800) -> dict[str, Any]:
    """The data of a world map of the store (the ties in force), compact for a browser:

    - ``actors``: the ``top`` most connected actors that have a location, each
      ``[id, name, lon, lat, ties, country, layer]`` (coordinates rounded to 3 decimals,
      about 100 m);
    - ``ties``: the ties among them, each ``[index of source, index of target, index into types]``;
    - ``types``: the tie types met;
    - ``countries``: how many ties the non-state actors of each country have (twinning,
      memberships ...; ``located_in``, ``party_to`` and ``signatory_of`` left out), keyed by the ISO
      numeric code (:func:`iso_numeric`)."""
    numeric = iso_numeric()
    with store.connect() as conn:
        live = in_force_clause(ties.c.status)      # suspended and ended ties are not drawn
        ends = union_all(select(ties.c.source.label("a")).where(ties.c.target_type == "actor", live),
                         select(ties.c.target.label("a")).where(ties.c.target_type == "actor", live)).subquery()
        degree = (select(ends.c.a, func.count().label("n")).group_by(ends.c.a)).subquery()
        rows = conn.execute(
            select(actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country,
                   actors.c.lat, actors.c.lon, degree.c.n)
            .join(degree, degree.c.a == actors.c.id)
            .where(actors.c.lat.is_not(None), actors.c.lon.is_not(None))
            .order_by(degree.c.n.desc(), actors.c.id).limit(top)).all()
        ids = [r.id for r in rows]
        lines = conn.execute(
            select(ties.c.source, ties.c.target, ties.c.type)
            .where(ties.c.source.in_(ids), ties.c.target.in_(ids), live)).all()
        per_country = {r.country: r.n for r in conn.execute(
            select(actors.c.country, func.count().label("n")).select_from(ties)
            .join(actors, actors.c.id == ties.c.source)
            .where(actors.c.country.is_not(None), actors.c.kind != "state", live,
                   ties.c.type.not_in(("located_in", "party_to", "signatory_of")))
            .group_by(actors.c.country))}
    index = {r.id: i for i, r in enumerate(rows)}
    types = sorted({t.type for t in lines})
    return {
        "actors": [[r.id, r.name, round(r.lon, 3), round(r.lat, 3), r.n, r.country, r.layer] for r in rows],
        "ties": [[index[t.source], index[t.target], types.index(t.type)] for t in lines],
        "types": types,
        "countries": {numeric[c]: n for c, n in per_country.items() if c in numeric},
    }
