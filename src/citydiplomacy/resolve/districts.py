"""Districts of cities that no gazetteer holds, named by the lists themselves.

Twinning lists name parts of cities as partners: "Berlin – Charlottenburg-Wilmersdorf",
"Budapest XI – Újbuda", "Prague 5 (Prague)", "Stari Grad (Sarajevo)". Where GeoNames has
the district as a place of its own, the resolver uses it (rule ``district``); where it has
none, the name still says two things for sure — the city, which resolves, and the part of
it — so the resolver answers with a new district of that city (rule ``new_district``,
see :meth:`citydiplomacy.resolve.Resolver._new_district`) instead of losing the tie.

A new district becomes a ``city`` actor (a local government) with the name the list gives,
``attrs.district_of`` = its city, the number it carries if any, no population (nothing is
made up), a ``located_in`` tie to its city and its state, and the provenance of the list
that named it. All the ways a list wrote it become its aliases. Its point is a GeoNames
place of its name within 30 km of its city where the gazetteer holds exactly one, else
its city's point (``attrs.location_basis`` ``place`` or ``parent_city``, see
:mod:`citydiplomacy.resolve.locations`).
"""

from __future__ import annotations

from typing import Any

from ..model import Actor
from ..text import slugify
from .gazetteer import Gazetteer
from ..text import normalize
from .locations import district_point
from .names import DISTRICT_PREFIX, district_keys, parse_district_id

__all__ = ["is_provisional", "record", "district_actor"]


def is_provisional(place_id: str) -> bool:
    return place_id.startswith(DISTRICT_PREFIX)


def record(gz: Gazetteer, place_id: str) -> dict[str, Any]:
    """What is needed to write a new district: its name, city, number, keys and names."""
    city, name, number = parse_district_id(place_id)
    place = gz.places[place_id]
    keys = [k for (c, k), pid in gz.districts.items() if c == city and pid == place_id]
    keys = keys or district_keys(name, str(number) if number else None)
    names = gz.district_names.get(place_id, [])
    town = gz.places.get(city)
    near = {pid for k in {*keys, *(normalize(n) for n in [place.name, *names])}
            for pid in gz.by_name.get((k, place.cc), ()) if pid not in (city, place_id)}
    places = [(gz.places[p].name, gz.places[p].lat, gz.places[p].lon) for p in sorted(near)
              if gz.places[p].kind == "city" and gz.places[p].lat is not None and not gz.places[p].supplement]
    return {"id": place_id, "city": city, "cc": place.cc, "admin1": place.admin1_name,
            "name": place.name, "number": number, "keys": keys, "names": names,
            "city_point": (town.lat, town.lon) if town else (None, None), "places": places}


def district_actor(rec: dict[str, Any], city_id: str, taken,
                   city_point: tuple[float | None, float | None] | None = None) -> tuple[Actor, list[str]]:
    """The actor of a new district of the city ``city_id`` (its id in the store), and its
    names. ``taken(id)`` says whether an actor id is in use; ``city_point`` is the city's
    (lat, lon) in the store, where the record has none."""
    from ..countries import lookup_code

    c = lookup_code(rec["cc"])
    base = f"{city_id}-{slugify(rec['name'])}"
    actor_id = base if not taken(base) else f"{base}-district"
    attrs = {"district_of": city_id, "district_number": rec["number"], "district_keys": rec["keys"],
             "note": "a part of the city named by the list; no gazetteer holds it"}
    known = tuple(rec.get("city_point") or (None, None))
    point = district_point(known if known[0] is not None else (city_point or (None, None)), city_id,
                           [tuple(p) for p in rec.get("places") or []])
    lat, lon = (point[0], point[1]) if point else (None, None)
    if point:
        attrs |= point[2]
    actor = Actor.parse({"id": actor_id, "name": rec["name"], "kind": "city", "lat": lat, "lon": lon,
                         "country": c.alpha3 if c else None, "admin1": rec["admin1"],
                         "attrs": {k: v for k, v in attrs.items() if v is not None}})
    return actor, list(dict.fromkeys([rec["name"], *rec["names"]]))
