"""Audit the twinning ties for namesake errors: a name tied to the wrong place of its
name. Prints the suspicious mentions of Wikipedia's raw twinning list with the reason,
one per line, and counts by kind (see docs/resolution.md, "Namesakes").

The raw list is resolved exactly as ``citydip import twinning`` resolves it against a
store (every distinct name once, then the list's order, reciprocity and, where the
resolver has it, the same pair written twice). Then five checks, each a kind:

- ``qualifier`` — a name qualified after a comma or in brackets ("Dartmouth,
  Massachusetts", "Stolberg (Südharz)") whose answer lies outside the region the
  qualifier names (a first-level region, or the region of the county named), or whose
  qualifier names nothing the gazetteer knows while the answer was picked among several
  places of the name by size or main name (the qualifier was dropped);
- ``division`` — a plain name that is a state's, province's or region's (ISO 3166-2
  first level: "Goa", "Alagoas", "Quảng Nam") answered with a town that is not a regional
  capital and does not carry the name as its own name, or with a village of it;
- ``seat`` — a name answered with a place that is not a capital while another place of
  the same name is the capital of a region of that name (GeoNames PPLA/PPLC:
  "Zaporizhzhia" answered with a village of 656);
- ``twice`` — one partner's twins include the same name written plainly and qualified
  ("Halle" and "Halle (Saale)" beside Gyumri) answered with different places (or one
  not answered);
- ``far`` — a twin answered with a place more than 300 km from each of the partner's
  other twins in its country, while another place of its name lies within a third of
  that distance of one of them.

Run: PYTHONPATH=src python scripts/audit_namesakes.py [--home DIR] [--kind KIND] [--tsv FILE]
"""

from __future__ import annotations

import argparse
import collections
import csv
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz

import citydiplomacy
from citydiplomacy.countries import parse_place
from citydiplomacy.dataset.twinning import read_rows
from citydiplomacy.ingest.resolving import StoreResolver
from citydiplomacy.resolve import subdivisions
from citydiplomacy.resolve.gazetteer import distance_km
from citydiplomacy.resolve.listcontext import settle_rows
from citydiplomacy.text import normalize

SEATS = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/geonames_seats.tsv"
PAREN = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")
KIND = re.compile(r"\b(district|county|gmina|communaute|intercommunality|amt|samtgemeinde|microregion|"
                  r"municipality|parish|borough|council|province|region|state|oblast|raion|island|islands)\b")
REGION_WORDS = {"province", "region", "state", "county", "prefecture", "sheng", "shi", "voivodeship", "oblast",
                "governorate", "department", "departement", "district", "kraj", "of", "the", "d", "de", "du",
                "muhafazat", "apskritis", "rajons", "rayon", "oblysy", "changwat"}
BY_SIZE = {"dominant_population", "main_name", "not_a_quarter", "capital"}
FAR_KM, NEARER = 300.0, 3.0


def seats() -> dict[int, str]:
    with SEATS.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return {int(r["geonameid"]): r["feature"] for r in rows}


def bare(name: str) -> str:
    words = normalize(name).split()
    return " ".join(w for w in words if w not in REGION_WORDS) or " ".join(words)


def qualified(name: str) -> tuple[str, str | None]:
    m = PAREN.match(name)
    base, q = (m.group(1), m.group(2)) if m else (name, None)
    if not m and name.count(",") == 1:
        base, q = (x.strip() for x in name.split(","))
    if not q or KIND.fullmatch(normalize(q)) or all(KIND.fullmatch(w) or w in {"rural", "urban", "local",
                                                                                  "government"}
                                                      for w in normalize(q).split()):
        return name, None
    return base.strip(), q.strip()


class Audit:
    def __init__(self, home: str | None):
        obs = citydiplomacy.open(home=home)
        self.rows = read_rows()
        sr = StoreResolver(obs.store, [r[c] for r in self.rows for c in ("country1", "country2")])
        self.gz = sr.gz
        keyrows = [((r["city1"], r["country1"]), (r["city2"], r["country2"])) for r in self.rows]
        self.base = sr.resolve_many(k for pair in keyrows for k in pair if k[0])
        self.per_row, _ = settle_rows(sr.resolver, keyrows, self.base)
        self.seat = seats()
        self.records = subdivisions.records()
        self._regions: dict[tuple[str, str], set[str]] = {}
        self.found: list[tuple[str, int, str, str, str, str]] = []

    # -- what a qualifier names ------------------------------------------------------

    def regions_named(self, q: str, cc: str) -> set[str]:
        """GeoNames regions (normalised) a qualifier names: a region of that name, or the
        region above a subdivision of that name."""
        key = (q, cc)
        if key not in self._regions:
            regions = self.gz.regions(cc)
            b = bare(q)
            out = {r for r in regions if bare(r) == b or fuzz.ratio(bare(r), b) >= 90}
            if not out and (normalize(q), cc) not in self.gz.by_name:
                for pid in self.gz.region_by_name.get((normalize(q), cc), ()):
                    rec = self.records.get(self.gz.places[pid].code or "", {})
                    parent = self.records.get(rec.get("parent") or "", {})
                    names = [*(parent.get("names") or ()), rec.get("admin1") or ""]
                    if not rec.get("parent") and rec.get("source") == "iso3166-2":
                        names = rec["names"]
                    out |= {r for r in regions for n in names if n and fuzz.ratio(bare(r), bare(n)) >= 90}
            self._regions[key] = out
        return self._regions[key]

    def near_town(self, place, q: str) -> bool:
        return any(distance_km(self.gz.places[pid], place) <= 60
                   for pid in self.gz.by_name.get((normalize(q), place.cc), ()))

    def describe(self, res) -> str:
        if not res.resolved:
            return f"[{res.status}: {res.rule}]"
        p = self.gz.places[res.id]
        return f"{p.name} ({p.admin1_name or '-'}, pop {int(p.population):,}{', ' + p.code if p.code else ''}) <{res.rule}>"

    def add(self, kind: str, row: int, side: str, res, reason: str) -> None:
        r = self.rows[row]
        self.found.append((kind, row + 2, r[f"city{side}"], r[f"country{side}"], self.describe(res), reason))

    # -- the checks ------------------------------------------------------------------

    def mentions(self):
        for i, (r, ends) in enumerate(zip(self.rows, self.per_row)):
            for s, res, partner in (("1", ends[0], ends[1]), ("2", ends[1], ends[0])):
                c, _ = parse_place(r[f"country{s}"])
                if c is not None and r[f"city{s}"]:
                    yield i, s, r[f"city{s}"], c.alpha2, res, partner

    def check_qualifiers(self) -> None:
        for i, s, name, cc, res, _ in self.mentions():
            base, q = qualified(name)
            if q is None or not res.resolved:
                continue
            p = self.gz.places[res.id]
            regions = self.regions_named(q, cc)
            town = (normalize(q), cc) in self.gz.by_name
            if res.rule in ("district", "new_district") and res.evidence.get("city") in self.gz.places:
                city = self.gz.places[res.evidence["city"]]      # a part of the city named: in its region?
                if p.admin1 and city.admin1 and p.admin1 != city.admin1:
                    self.add("qualifier", i, s, res, f"a part of {city.name} ({city.admin1_name}) that lies "
                                                     f"in {p.admin1_name}")
                continue
            if regions or town:
                if not (p.admin1 in regions or self.near_town(p, q) or (p.lat is None and not regions)):
                    self.add("qualifier", i, s, res, f"'{q}' names {', '.join(sorted(regions)) or 'a town'}; "
                                                     "the answer lies neither in it nor near it")
            elif res.rule in BY_SIZE and len(res.candidates) > 1:
                self.add("qualifier", i, s, res, f"'{q}' names nothing known; the answer was picked among "
                                                 f"{len(res.candidates)} places by {res.rule}")

    def first_level(self) -> dict[tuple[str, str], str]:
        out = {}
        for code, rec in self.records.items():
            if rec["source"] == "iso3166-2" and not rec["parent"] and rec["type"] not in (
                    "Municipality", "Local council", "City", "Commune", "Urban municipality", "District", "Rayon"):
                for n in rec["names"]:
                    out[(normalize(n), rec["cc"])] = code
        return out

    def check_divisions(self) -> None:
        first = self.first_level()
        for i, s, name, cc, res, _ in self.mentions():
            code = first.get((normalize(name), cc))
            if code is None or not res.resolved:
                continue
            p = self.gz.places[res.id]
            if p.kind != "city" or self.seat.get(p.geonames_id or 0) in ("PPLA", "PPLC"):
                continue
            own = fuzz.ratio(p.norm, normalize(name)) >= 80 or fuzz.token_set_ratio(p.norm, normalize(name)) >= 90
            if not own or (p.population < 15_000 and not self.seat.get(p.geonames_id or 0)):
                self.add("division", i, s, res, f"the name is {code} ({self.records[code]['type']}); the town "
                                                f"found {'does not carry it as its name' if not own else 'is a village'}")

    def check_seats(self) -> None:
        for i, s, name, cc, res, _ in self.mentions():
            if not res.resolved or len(res.candidates) < 2:
                continue
            p = self.gz.places[res.id]
            if self.seat.get(p.geonames_id or 0) in ("PPLA", "PPLC"):
                continue
            n = bare(qualified(name)[0])
            for c in res.candidates:
                o = self.gz.places.get(c.id)
                if o is None or o.id == p.id or c.how == "fuzzy":
                    continue
                if self.seat.get(o.geonames_id or 0) in ("PPLA", "PPLC") and o.admin1 \
                        and fuzz.token_set_ratio(bare(o.admin1), n) >= 90:
                    self.add("seat", i, s, res, f"{o.name} ({o.admin1_name}, pop {int(o.population):,}) is the "
                                                "capital of a region of this name")
                    break

    def check_twice(self) -> None:
        groups = collections.defaultdict(list)
        for i, s, name, cc, res, partner in self.mentions():
            if partner.resolved:
                base, q = qualified(name)
                groups[(partner.id, normalize(base), cc)].append((i, s, q, res))
        for ms in groups.values():
            if any(q for *_, q, _ in ms) and any(not q for *_, q, _ in ms) \
                    and len({res.id for *_, res in ms}) > 1:
                for i, s, q, res in ms:
                    others = sorted({self.describe(r) for *_, r in ms if r.id != res.id})
                    self.add("twice", i, s, res, f"{'qualified' if q else 'plain'}; the same partner's other "
                                                 f"mention: {'; '.join(others)}")

    def check_far(self) -> None:
        twins = collections.defaultdict(list)
        for i, s, name, cc, res, partner in self.mentions():
            if partner.resolved and res.resolved:
                twins[(partner.id, cc)].append((i, s, res))
        for group in twins.values():
            for i, s, res in group:
                p = self.gz.places[res.id]
                others = [self.gz.places[r.id] for _, _, r in group if r.id != res.id
                          and self.gz.places[r.id].lat is not None]
                if len(others) < 2 or p.lat is None or len(res.candidates) < 2:
                    continue
                d = min(distance_km(p, o) for o in others)
                if d <= FAR_KM:
                    continue
                for c in res.candidates:
                    alt = self.gz.places.get(c.id)
                    if alt is None or alt.id == p.id or alt.lat is None or c.how == "fuzzy":
                        continue
                    d2 = min(distance_km(alt, o) for o in others)
                    if d2 * NEARER < d:
                        self.add("far", i, s, res, f"{d:.0f} km from the partner's nearest other twin; "
                                                   f"{alt.name} ({alt.admin1_name}) lies {d2:.0f} km from it")
                        break


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", help="store home (default: the default home)")
    ap.add_argument("--kind", choices=["qualifier", "division", "seat", "twice", "far"], action="append")
    ap.add_argument("--tsv", help="also write the findings to this TSV file")
    args = ap.parse_args(argv)
    audit = Audit(args.home)
    for kind in args.kind or ["qualifier", "division", "seat", "twice", "far"]:
        getattr(audit, f"check_{'divisions' if kind == 'division' else kind + ('s' if kind in ('qualifier', 'seat') else '')}")()
    found = sorted(set(audit.found), key=lambda f: (f[0], f[3], f[2], f[1]))
    for kind, row, name, cell, answer, reason in found:
        print(f"{kind:9} row {row:5}  {name} ({cell}) -> {answer}: {reason}")
    counts = collections.Counter(f[0] for f in found)
    names = {kind: len({(f[2], f[3]) for f in found if f[0] == kind}) for kind in counts}
    print("\nsuspicious mentions by kind (distinct names):",
          ", ".join(f"{k} {counts[k]} ({names[k]})" for k in sorted(counts)), f"; total {len(found)}",
          file=sys.stderr)
    if args.tsv:
        with open(args.tsv, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t")
            w.writerow(["kind", "row", "name", "country", "answer", "reason"])
            w.writerows(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
