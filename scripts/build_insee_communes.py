"""Derive the French communes shipped as ``src/citydiplomacy/data/insee_communes.tsv``:
the communes of metropolitan France that GeoNames' ``cities500`` and the
countries-states-cities database lack — communes nouvelles formed by mergers since 2015
("Vire Normandie", "Beaupréau-en-Mauges", "Évry-Courcouronnes") and small communes —
which twinning lists name as partners.

Source: INSEE's Code officiel géographique (COG) 2026 with INSEE's municipal
populations, as the npm package ``@etalab/decoupage-administratif`` 6.0.0 (Etalab, MIT)
ships it (``data/communes.json``). INSEE data are under the Licence Ouverte / Open
Licence 2.0, which allows commercial use with attribution.

A commune is written when it is a current commune (``commune-actuelle``) of metropolitan
France and no ``cities500`` record of its region has its name or alternate name, or a
name within a rapidfuzz ratio of 90 (a spelling variant of a place GeoNames has), and no
place of the countries-states-cities database in ``data/supplement_places.tsv`` has its
name in its region. The COG gives no coordinates: the region (INSEE's code, which
GeoNames uses as the French admin1 code) and the département are kept.

Run by a developer when the COG changes (nothing is downloaded at run time):
    npm pack @etalab/decoupage-administratif@6.0.0
    python scripts/build_insee_communes.py etalab-decoupage-administratif-6.0.0.tgz
"""

from __future__ import annotations

import collections
import csv
import json
import sys
from pathlib import Path

from rapidfuzz import fuzz, process

from citydiplomacy.resolve import geonames
from citydiplomacy.text import normalize
from vendored import member_from_args, write_tsv

DATA = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data"
OUT = DATA / "insee_communes.tsv"
MEMBER = "package/data/communes.json"
SAME_RATIO = 90
HEADER = ("# Communes of metropolitan France (COG 2026) that GeoNames cities500 and the countries-states-cities "
          "database lack, derived by scripts/build_insee_communes.py from @etalab/decoupage-administratif 6.0.0. "
          "Source: INSEE, Code officiel géographique and populations légales, Licence Ouverte / Open Licence 2.0.\n")


def geonames_names() -> dict[str, set[str]]:
    """Normalised names and alternate names of cities500's French places, by region code."""
    out: dict[str, set[str]] = collections.defaultdict(set)
    for rec in geonames.load_records("cities500.json").values():
        if rec["countrycode"] == "FR":
            for name in [rec["name"], *rec.get("alternatenames", ())]:
                if name:
                    out[rec["admin1code"]].add(normalize(name))
    return out


def supplement_names() -> set[tuple[str, str]]:
    with (DATA / "supplement_places.tsv").open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return {(normalize(r["name"]), r["admin1code"]) for r in rows if r["country"] == "FR"}


def main(argv: list[str]) -> int:
    data = member_from_args(argv, MEMBER, __doc__)
    if data is None:
        return 2
    communes = json.loads(data)
    known, extra = geonames_names(), supplement_names()
    choices = {region: sorted(names) for region, names in known.items()}
    kept = []
    for c in communes:
        if c["type"] != "commune-actuelle" or c.get("zone") != "metro" or c["region"] not in choices:
            continue
        norm = normalize(c["nom"])
        if norm in known[c["region"]] or (norm, c["region"]) in extra:
            continue
        if process.extractOne(norm, choices[c["region"]], scorer=fuzz.ratio, score_cutoff=SAME_RATIO):
            continue
        kept.append(c)
    write_tsv(OUT, HEADER, ["code", "name", "region", "departement", "population"],
              ([c["code"], c["nom"], c["region"], c["departement"], c.get("population")]
               for c in sorted(kept, key=lambda c: c["code"])), "communes")
    return 0

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
