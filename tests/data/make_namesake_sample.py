"""Draw the (name, country) pairs of the namesake evaluation set
(``resolution_namesakes.csv``): names of the raw twinning list whose place is easy to
take for a namesake. Three groups, by rules over the list and the gazetteers only (never
over the resolver's answers, so names it gets right are drawn as well as names it gets
wrong):

- **A, qualified** — every distinct pair whose name carries a qualifier after a comma or
  in brackets ("Kusatsu, Gunma", "Doksy (Kladno District)", "Heringen (Werra)") that is
  not the main name of a GeoNames place of the country (so not "Stari Grad (Sarajevo)",
  a part of a city) and does not only say what kind of entity it is ("(rural gmina)",
  "(district)");
- **B, divisions** — 35 drawn with ``random.Random(20261206)`` from the plain names that
  are the own name of a first-level ISO 3166-2 subdivision of a regional kind (state,
  province, region, prefecture...) of the country and that no national or regional
  capital (GeoNames PPLC, PPLA) of the country bears as its main name ("Goa", "Jalisco",
  "Okinawa", "Lagos");
- **C, namesakes of a capital** — 35 drawn with the same seed from the other plain names
  that at least two ``cities500`` places of the country bear (as name or alternate name),
  one of them a national or regional capital ("Mérida", "Mġarr", "Concord");
- **D, the audit's findings** — the names ``scripts/audit_namesakes.py`` flagged (kinds
  qualifier, division, seat) in the store built before the namesake rules (2026-12-06)
  that A, B and C do not already hold (:data:`AUDIT`).

The pairs are sorted before each draw. This script only samples; the labels were
decided by hand (see ``resolution_namesakes.md``).

Usage: PYTHONPATH=src python tests/data/make_namesake_sample.py [RAW_CSV] > sample.csv
"""

from __future__ import annotations

import collections
import csv
import random
import sys
from pathlib import Path

from citydiplomacy.countries import parse_place
from citydiplomacy.resolve import geonames, subdivisions
from citydiplomacy.resolve.names import qualified
from citydiplomacy.resolve.namesakes import REGION_TYPES
from citydiplomacy.text import normalize

RAW = Path(__file__).resolve().parents[2] / "src/citydiplomacy/data/twinning/twin_cities_raw.csv"
SEED = 20261206
SIZE = 35
#: Group D: the audit's findings of 2026-12-06 not drawn into A, B or C.
AUDIT = [("Alagoas", "Brazil"), ("Champasak", "Laos"), ("Goa", "India"), ("Kocaeli", "Turkey"),
         ("Molise", "Italy"), ("Querétaro", "Mexico"), ("Quảng Nam", "Vietnam"), ("Salfit", "Palestine"),
         ("Shandong", "China"), ("Zaporizhzhia", "Ukraine"), ("Zhongshan (Dalian)", "China")]


def distinct_pairs(path) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pairs.update(p for p in ((row["city1"], row["country1"]), (row["city2"], row["country2"])) if p[0])
    return sorted(pairs)


def groups(path=RAW) -> dict[str, list[tuple[str, str]]]:
    records = geonames.load_records("cities500.json")
    seats = geonames.admin_seats()
    bearers: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    main_names: set[tuple[str, str]] = set()
    for rec in records.values():
        gid, cc = int(rec["geonameid"]), rec["countrycode"]
        main_names.add((normalize(rec["name"]), cc))
        for n in {normalize(x) for x in (rec["name"], *rec.get("alternatenames", ()))}:
            bearers[(n, cc)].add(gid)
    capital_names = {(normalize(records[str(g)]["name"]), records[str(g)]["countrycode"])
                     for g, code in seats.items() if code in ("PPLA", "PPLC") and str(g) in records}
    divisions = {(normalize(n), r["cc"]) for r in subdivisions.records().values()
                 if r["source"] == "iso3166-2" and not r["parent"] and normalize(r["type"]) in REGION_TYPES
                 for n in r["names"]}
    out: dict[str, list[tuple[str, str]]] = {"A": [], "B": [], "C": []}
    for name, cell in distinct_pairs(path):
        country, _ = parse_place(cell)
        if country is None:
            continue
        cc = country.alpha2
        base, qualifier = qualified(name)
        if qualifier:
            if (normalize(qualifier), cc) not in main_names:
                out["A"].append((name, cell))
            continue
        key = (normalize(name), cc)
        if key in divisions:
            if key not in capital_names:
                out["B"].append((name, cell))
        elif len(bearers.get(key, ())) > 1 and any(seats.get(g) in ("PPLA", "PPLC") for g in bearers[key]):
            out["C"].append((name, cell))
    return out


def sample(path=RAW) -> list[tuple[str, str, str]]:
    g = groups(path)
    drawn = ([(*p, "A") for p in g["A"]]
             + [(*p, "B") for p in random.Random(SEED).sample(g["B"], SIZE)]
             + [(*p, "C") for p in random.Random(SEED).sample(g["C"], SIZE)])
    have = {(name, cell) for name, cell, _ in drawn}
    return drawn + [(*p, "D") for p in AUDIT if p not in have]


def main(argv: list[str]) -> int:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["name", "country", "group"])
    writer.writerows(sample(argv[1] if len(argv) > 1 else RAW))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
