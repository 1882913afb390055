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
GeoNames uses as the French admin1 code) and the département are kept, with a point
located from the COG's own structure and GeoNames' ``cities500``:

- ``seat``: a commune nouvelle keeps the code of its chef-lieu, the commune déléguée of the
  same code ("Vire Normandie" 14762: Vire); its point is that of the ``cities500`` place of
  that name, the only one of the region;
- ``centroid`` of the communes that share its postcode (the communes one post office
  serves), located in ``cities500`` as above and weighted by population;
- else ``centroid`` of the located communes of its intercommunality (EPCI, ``epci.json``),
  weighted by population.

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
from vendored import member_from_args, read_member, write_tsv

DATA = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data"
OUT = DATA / "insee_communes.tsv"
MEMBER = "package/data/communes.json"
EPCI = "package/data/epci.json"
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


def towns() -> dict[tuple[str, str], list[dict]]:
    """cities500's French places by (region code, normalised name)."""
    out: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for rec in geonames.load_records("cities500.json").values():
        if rec["countrycode"] == "FR":
            out[(rec["admin1code"], normalize(rec["name"]))].append(rec)
    return out


def point_of(name: str, region: str, idx) -> tuple[float, float] | None:
    """The point of the only cities500 place of this name in the region."""
    recs = {r["geonameid"]: r for r in idx.get((region, normalize(name)), ())}
    if len(recs) != 1:
        return None
    r = next(iter(recs.values()))
    return (r["latitude"], r["longitude"])


def centroid(members: list[tuple[tuple[float, float], float]]) -> tuple[float, float]:
    total = sum(w for _, w in members) or 1.0
    return (round(sum(p[0] * w for p, w in members) / total, 5), round(sum(p[1] * w for p, w in members) / total, 5))


class Cog:
    """The COG's communes indexed for :func:`locate`."""

    def __init__(self, communes: list[dict], epci: list[dict]):
        self.delegated: dict[str, list[dict]] = collections.defaultdict(list)
        self.by_postcode: dict[str, list[dict]] = collections.defaultdict(list)
        self.current: dict[str, dict] = {}
        for d in communes:
            if d["type"] in ("commune-deleguee", "commune-associee"):
                self.delegated[d["code"]].append(d)
            elif d["type"] == "commune-actuelle":
                self.current[d["code"]] = d
                for pc in d.get("codesPostaux") or ():
                    self.by_postcode[pc].append(d)
        self.epci = {m["code"]: e for e in epci for m in e["membres"]}


def locate(c: dict, cog: Cog, idx) -> tuple | None:
    """(lat, lon, basis, detail) of a commune (see the module docstring)."""
    for d in cog.delegated.get(c["code"], ()):
        pt = point_of(d["nom"], c["region"], idx)
        if pt:
            return (*pt, "seat", f"its chef-lieu {d['nom']} (commune déléguée of the same code), GeoNames cities500")
    for pc in c.get("codesPostaux") or []:
        members = [(pt, float(d.get("population") or 1)) for d in cog.by_postcode[pc] if d["code"] != c["code"]
                   and (pt := point_of(d["nom"], d["region"], idx))]
        if members:
            return (*centroid(members), "centroid",
                    f"of the {len(members)} communes sharing its postcode {pc}, located by GeoNames cities500, "
                    "weighted by population")
    e = cog.epci.get(c["code"])
    if e:
        members = [(pt, float(m.get("populationMunicipale") or 1)) for m in e["membres"]
                   if m["code"] != c["code"] and m["code"] in cog.current
                   and (pt := point_of(m["nom"], cog.current[m["code"]]["region"], idx))]
        if members:
            return (*centroid(members), "centroid",
                    f"of the {len(members)} located communes of its intercommunality {e['nom']}, "
                    "weighted by population")
    return None


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
    epci = json.loads(read_member(argv[0], EPCI) or b"[]")
    idx, cog = towns(), Cog(communes, epci)
    rows = []
    for c in sorted(kept, key=lambda c: c["code"]):
        pt = locate(c, cog, idx) or ("", "", "", "")
        rows.append([c["code"], c["nom"], c["region"], c["departement"], c.get("population"), *pt])
    print(f"located {sum(1 for r in rows if r[5] != '')} of {len(rows)} communes", file=sys.stderr)
    write_tsv(OUT, HEADER, ["code", "name", "region", "departement", "population", "lat", "lon", "basis", "detail"],
              rows, "communes")
    return 0

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
