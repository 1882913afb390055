"""The resolver's decision procedure. Entity resolution: from a messy name (plus country, region, coordinates or
identifiers) to the actor it means — or an honest "not sure".

The resolver works on a :class:`Gazetteer`, an in-memory index of places built from the
store (or, while the default dataset is built, from the records being loaded), and can
extend it with GeoNames places below 15,000 inhabitants on demand.

Decision procedure (each step documented in docs/resolution.md):

1. **Identifiers** — a Wikidata QID or GeoNames id that the gazetteer knows resolves
   at once (score 1.0).
2. **Exact names** — the name, normalised (accents, case, script; see
   :func:`citydiplomacy.text.normalize`), and its variants (without a parenthesised
   qualifier, without "City of"/"Gmina"/..., German ``ue``→``u`` spellings, the district
   part of "Berlin – Mitte") equal a name or alternate name of a place in the country.
   One place: resolved. Several: broken only by unambiguous evidence — the region
   hint names one place's region; one place carries the name as its main name; one is
   the capital; one is the only clearly larger town once quarters of large cities are set
   aside (:meth:`Resolver.quarter_of`); one has at least :data:`DOMINANCE` × the
   population of the next (a place without population is of unknown size: only a place
   of :data:`UNKNOWN_FLOOR` or more dominates it).
3. **Fuzzy names** — no exact match: names in the country with a rapidfuzz ratio of at
   least :data:`FUZZY_CANDIDATE`; the best is accepted when its ratio reaches
   :data:`FUZZY_ACCEPT`, it leads the next place by :data:`FUZZY_MARGIN` points, and the
   name has at least :data:`FUZZY_MIN_LENGTH` letters.

Anything else is ``ambiguous`` (with ranked candidates, for review) or ``unresolved``.
"""

from __future__ import annotations

import math
from typing import Any

from rapidfuzz import fuzz, process

from .. import countries
from ..limits import check_deadline
from ..text import normalize
from . import geonames, subdivisions, supplement
from .namesakes import QUALIFIER_KM, REGION_TYPES, VILLAGE_POP, NamesakeRules  # noqa: F401 (QUALIFIER_KM: re-exported)
from .gazetteer import (QUARTER_CITY_POP, TERRITORIES, Candidate, Gazetteer, Place, Resolution, distance_km)
from .names import (DASH, NUMBERED, PAREN, NOT_A_CITY, arabic, roman, designation_keys,
                    district_id, district_keys, is_designated, is_kind_qualifier, name_variants, powiat_key,
                    without_prefix,
                    seat_match)

#: A resolution is accepted ("resolved") at or above this score; below, it goes to review.
ACCEPT = 0.85
#: Population ratio over the next candidate that lets the most populous place win.
DOMINANCE = 5.0
#: rapidfuzz ratio (0-100) for a fuzzy candidate to be considered at all.
FUZZY_CANDIDATE = 85.0
#: rapidfuzz ratio for the best fuzzy candidate to be accepted ...
FUZZY_ACCEPT = 92.0
#: ... when it leads the next place by this many points ...
FUZZY_MARGIN = 4.0
#: ... and the name has at least this many characters (short names are too risky).
FUZZY_MIN_LENGTH = 6
#: A district named as "City – District" must lie within this distance of the city.
DISTRICT_KM = 30.0
#: A city followed by a district number ("Budapest XI", "Prague 5") has at least this
#: many inhabitants; a district of a city this large may share its name with a town
#: elsewhere ("Belgrade – Mladenovac", "Seoul – Jung").
DISTRICT_CITY_POP = 100_000
#: Id prefix of a district the gazetteer does not hold, named by a list as part of a city.

#: Two GeoNames records of the same name and region this close are one place recorded
#: twice (a town and its municipality, a place and its administrative seat).
SAME_PLACE_KM = 10.0
#: A place within this distance of a town of another name with :data:`QUARTER_RATIO` ×
#: its population (and at least :data:`QUARTER_CITY_POP`) is a quarter of that town.
QUARTER_KM = 8.0
QUARTER_RATIO = 10.0
#: ... and the town chosen over it must have at least this many inhabitants.
QUARTER_TOWN_POP = 15_000
#: GeoNames gives some places no population (0): unknown, not small. A place dominates
#: such a record only with at least this many inhabitants.
UNKNOWN_FLOOR = 5_000

#: Scores by rule (what the evidence is worth).
RULE_SCORE = {
    "identifier": 1.0, "unique_main_name": 0.98, "unique_alias": 0.95, "variant": 0.92,
    "region_hint": 0.93, "main_name": 0.9, "capital": 0.9, "dominant_population": 0.88,
    "not_a_quarter": 0.88,
    "district": 0.9, "territory": 0.9, "list_context": 0.9, "reciprocal": 0.9,
    "subdivision": 0.9, "new_district": 0.88, "supplement": 0.9, "supplement_confirms": 0.9,
    "admin_seat": 0.9, "division": 0.9, "same_pair": 0.9,
}


class Resolver(NamesakeRules):
    """Resolve names to places of a :class:`Gazetteer` (see the module docstring)."""

    def __init__(self, gazetteer: Gazetteer):
        self.gz = gazetteer
        self._init_namesakes()

    def resolve(self, name: str, country: str | None = None, *, region: str | None = None,
                lat: float | None = None, lon: float | None = None, wikidata: str | None = None,
                geonames_id: int | None = None) -> Resolution:
        """Resolve one name; see the module docstring for the procedure. A resolution
        whose score falls below :data:`ACCEPT` is returned as ambiguous (for review)."""
        check_deadline()
        res = self._resolve(name, country, region=region, lat=lat, lon=lon, wikidata=wikidata,
                            geonames_id=geonames_id)
        if res.resolved and res.score < ACCEPT:
            return Resolution(res.query, "ambiguous", None, res.score, "below_threshold",
                              {**res.evidence, "reason": f"score {res.score:.2f} below {ACCEPT}"},
                              res.candidates)
        return res

    def _resolve(self, name: str, country: str | None, *, region: str | None, lat: float | None,
                 lon: float | None, wikidata: str | None, geonames_id: int | None) -> Resolution:
        query = {"name": name, "country": country, "region": region}
        # 1. identifiers
        for ident, index in ((geonames_id, self.gz.by_geonames), (wikidata, self.gz.by_qid)):
            if ident and ident in index:
                return Resolution(query, "resolved", index[ident], 1.0, "identifier",
                                  {"identifier": ident})
        cc = None
        region_hint = normalize(region) if region else ""
        if country:
            c, hint = countries.parse_place(country)
            if c is None:
                return Resolution(query, "unresolved", rule="unknown_country",
                                  evidence={"reason": f"'{country}' is not a country name or code"})
            cc = c.alpha2
            if hint and not region_hint:
                region_hint = normalize(hint)
        name = (name or "").strip()
        if not name:
            return Resolution(query, "unresolved", rule="empty_name", evidence={"reason": "no name"})
        qualifier = ""
        m = PAREN.match(name)
        paren = (m.group(1), m.group(2)) if m else None
        if m:
            qualifier = normalize(m.group(2))
            if qualifier in NOT_A_CITY:
                if cc:
                    sub = self._subdivision(query, m.group(1), cc, "")
                    if sub.status != "unresolved":
                        return sub
                return Resolution(query, "unresolved", rule="not_a_city",
                                  evidence={"reason": f"the name is qualified as a {qualifier}"})
            if is_kind_qualifier(qualifier):
                qualifier = ""          # "(rural gmina)", "(communauté)": no location
        comma = [p.strip() for p in name.split(",")]
        if len(comma) == 2:
            name, qualifier = comma[0], normalize(comma[1])
            named, _ = countries.parse_place(comma[1])
            if named is not None and (cc is None or named.alpha2 == cc):
                # "Varna, Bulgaria": the qualifier is the country itself
                cc, qualifier = named.alpha2, ""
        if qualifier and not region_hint:
            region_hint = without_prefix(qualifier)     # "Gmina Nowy Targ" names Nowy Targ
        if cc is None:
            return self._without_country(query, name, region_hint, lat, lon)

        if is_designated(name):
            # "Maui County", "County Mayo", "Vilnius District Municipality": a subdivision first
            sub = self._subdivision(query, name, cc, region_hint)
            if sub.resolved:
                return sub
        if "/" in name:
            # "Mogente/Moixent": one place in two languages
            found = {r.id: r for part in name.split("/") if part.strip()
                     for r in [self._in_country(query, part.strip(), cc, region_hint, lat, lon)] if r.resolved}
            if len(found) == 1:
                return next(iter(found.values()))
        # "City – District": resolve the district near the city
        parts = [p for p in DASH.split(name) if p.strip()]
        if len(parts) == 2 and "/" not in name:
            return self._district(query, parts, cc, region_hint)
        res = self._in_country(query, name, cc, region_hint, lat, lon)
        if res.resolved and region_hint and res.rule != "region_hint":
            res = self._check_qualifier(query, res, region_hint, cc)
        if res.resolved and paren:
            res = self._check_part_of_city(query, res, paren[1], cc)
        if not qualifier and not region_hint and not is_designated(name):
            # "Goa", "Alagoas", "Quảng Nam": a state or province, unless a town of that
            # name stands for it
            division = self._division(query, name, cc, res)
            if division is not None:
                return division
        if res.rule in ("no_match", "fuzzy_unsure"):
            # no town of that name: a borough, county or municipality ("Haringey")? (A
            # GeoNames admin2 division only when no town is even close: "Le Mont-Dore" is
            # the town Mont-Dore before it is the commune.)
            sub = self._subdivision(query, name, cc, region_hint, admin2=res.rule == "no_match")
            if sub.resolved and region_hint:
                sub = self._check_qualifier(query, sub, region_hint, cc)
            if sub.status != "unresolved":
                return sub
        if not res.resolved or res.rule == "fuzzy":
            # "Budapest XV", "Prague 5 (Prague)", "Stari Grad (Sarajevo)": part of a city
            part = self._part_of_city(query, paren, name, cc, res)
            if part is not None:
                return part
        if res.rule in ("no_match", "fuzzy_unsure", "fuzzy"):
            # no exact name anywhere else: the supplementary gazetteer's municipalities
            return self._after_supplement(query, name, cc, region_hint, res)
        return res

    def _check_part_of_city(self, query, res: Resolution, qualifier: str, cc: str) -> Resolution:
        """"B (A)" where A is a city of :data:`DISTRICT_CITY_POP` or more: a village
        named B (fewer than :data:`VILLAGE_POP` inhabitants) farther than
        :data:`DISTRICT_KM` from A is a namesake, not the part of A the name means
        ("Friesenheim (Ludwigshafen)" is the city's district, not the village of 647 in
        Rheinhessen 45 km away); the name is left to the district rules. (A town is left
        alone: Chongqing's and Beijing's districts lie far from their centres.)"""
        place = self.gz.places[res.id]
        if place.kind != "city" or not 0 < place.population < VILLAGE_POP or place.lat is None:
            return res
        city, _ = self._city(qualifier, cc)
        if city is None or city.id == place.id or city.population < DISTRICT_CITY_POP \
                or distance_km(place, city) <= DISTRICT_KM:
            return res
        km = distance_km(place, city)
        return Resolution(query, "ambiguous", None, 0.6, "qualifier_disagrees",
                          {**res.evidence, "qualifier": qualifier, "km": round(km, 1),
                           "reason": f"the village found lies {km:.0f} km from {city.name}, which the "
                                     "name says it is part of"}, res.candidates)

    def _after_supplement(self, query, name, cc, region_hint, res: Resolution) -> Resolution:
        """``res`` (no exact name, or only a fuzzy one) weighed against the supplementary
        gazetteer: an exact name there ("Keçiören", "Yongin") beats a fuzzy one here,
        unless it lies near a fuzzy candidate — the same place under two names."""
        extra = self._supplement(query, name, cc, region_hint)
        km = {c.id: distance_km(self.gz.places[extra.id], self.gz.places[c.id])
              for c in (res.candidates if extra.resolved and res.rule != "no_match" else ())}
        same = [i for i, d in km.items() if d <= SAME_PLACE_KM]
        if len(same) == 1 and res.rule == "fuzzy_unsure":
            # "Donghae": the supplement's Donghae-si lies 2 km from GeoNames' "Donghae
            # City" (alias Tonghae), a close name: two lists agree on one place
            return self._ok(query, self.gz.places[same[0]], "supplement_confirms",
                            {**res.evidence, "supplement": extra.id, "km": round(km[same[0]], 1)},
                            res.candidates)
        if any(d <= DISTRICT_KM for d in km.values()):
            return res      # "Le Mont-Dore" 12 km from the "Mont-Dore" fuzzy found: one commune? review
        if extra.resolved or (extra.status == "ambiguous" and res.rule != "fuzzy"):
            return extra
        return res

    # -- steps ----------------------------------------------------------------------------

    def _exact(self, name: str, cc: str) -> tuple[list[str], str, str]:
        variants = name_variants(name, cc)
        for norm, how in variants:
            ids = self.gz.by_name.get((norm, cc))
            if ids:
                return list(dict.fromkeys(ids)), norm, how
        # "Yongin" / "Yong-in": the same letters, spaced differently
        norm = variants[0][0] if variants else ""
        spaced = bool(norm) and min(map(len, norm.split())) >= 2      # not "budapest i" = "budapesti"
        names = self.gz.compact_index(cc).get(norm.replace(" ", ""), []) if spaced else []
        ids = [i for n in names for i in self.gz.by_name.get((n, cc), ())]
        if ids:
            return list(dict.fromkeys(ids)), norm, "spacing"
        return [], "", ""

    def _in_country(self, query, name, cc, region_hint, lat, lon) -> Resolution:
        ids, norm, how = self._exact(name, cc)
        if ids:
            return self._decide_exact(query, ids, norm, how, region_hint, lat, lon)
        for territory in TERRITORIES.get(cc, ()):
            ids, norm, how = self._exact(name, territory)
            if ids:
                res = self._decide_exact(query, ids, norm, how, region_hint, lat, lon)
                if res.resolved:
                    res.evidence["territory"] = territory
                    res.rule, res.score = "territory", min(res.score, RULE_SCORE["territory"])
                return res
        return self._fuzzy(query, name, cc, region_hint)

    def _decide_exact(self, query, ids, norm, how, region_hint, lat, lon) -> Resolution:
        places = same_place_once([self.gz.places[i] for i in ids])
        cands = [self._cand(p, norm, how) for p in places]
        ev = {"matched": norm, "variant": how, "candidates": len(ids)}
        if lat is not None and lon is not None:
            probe = Place("?", "", "", lat=lat, lon=lon)
            near = [p for p in places if distance_km(p, probe) <= DISTRICT_KM]
            if len(near) == 1:
                return self._ok(query, near[0], "coordinates", ev, cands, 0.97)
        if len(places) == 1:
            p = places[0]
            rule = ("unique_main_name" if p.norm == norm else "unique_alias") if how == "name" else "variant"
            return self._ok(query, p, rule, ev, cands)
        if region_hint:
            hit = [p for p in places if self.consistent(p, region_hint)]
            if len(hit) == 1:
                return self._ok(query, hit[0], "region_hint", {**ev, "region": region_hint}, cands)
            cc = places[0].cc
            regions, how_named = self.hint_regions(region_hint, cc)
            if not hit:
                # the qualifier names a region none of them lies in ("Coventry, New York"),
                # or nothing that can be checked (a river): a bigger namesake elsewhere is
                # no answer to a qualified name
                known = self._known_hint(region_hint, cc)
                rule = "qualifier_disagrees" if known else "qualifier_unknown"
                return Resolution(query, "ambiguous", None, 0.6, rule, {
                    **ev, "qualifier": region_hint,
                    "reason": "no place of this name lies in or near the region or place named" if known else
                              "several places of this name, and the qualifier names nothing that tells them apart"},
                    self._rank(cands))
            if how_named == "county" and not (region_hint, cc) in self.gz.by_name:
                # "St Ives, Cornwall": both St Ives lie in England; which one lies in
                # Cornwall the gazetteer cannot tell
                return Resolution(query, "ambiguous", None, 0.6, "qualifier_unsettled", {
                    **ev, "qualifier": region_hint, "region": sorted(regions),
                    "reason": f"{len(hit)} places of this name in the region of the county named"},
                    self._rank([c for c in cands if c.id in {p.id for p in hit}]))
            places = hit
        seat = self._seat_of_namesake_region(places, norm) or self._seat_among_villages(places, norm)
        if seat is not None:
            return self._ok(query, seat, "admin_seat", {**ev, "seat": geonames.seat_of(seat.geonames_id),
                                                        "region": seat.admin1_name}, cands)
        main = [p for p in places if p.norm == norm]
        if len(main) == 1:
            return self._ok(query, main[0], "main_name", ev, cands)
        pool = main or places
        capital = [p for p in pool if p.capital]
        if len(capital) == 1:
            return self._ok(query, capital[0], "capital", ev, cands)
        town = self._not_a_quarter(pool)
        if town is not None:
            place, quarters = town
            return self._ok(query, place, "not_a_quarter",
                            {**ev, "quarters": [f"{q.name} ({c.name})" for q, c in quarters]}, cands)
        ranked = sorted(pool, key=lambda p: -p.population)
        first, second = ranked[0], ranked[1]
        unknown = any(p.population <= 0 for p in ranked[1:])
        if first.population >= DOMINANCE * max(second.population, 1.0) \
                and not (unknown and first.population < UNKNOWN_FLOOR):
            return self._ok(query, first, "dominant_population",
                            {**ev, "population_ratio": round(first.population / max(second.population, 1.0), 1)},
                            cands)
        ev["reason"] = (f"{len(pool)} places of this name in the country and nothing decides between "
                        "them (no region, capital or clearly larger place)")
        return Resolution(query, "ambiguous", None, 0.6, "ambiguous", ev, self._rank(cands))

    def quarter_of(self, p: Place) -> Place | None:
        """The large city a place lies inside of, as GeoNames' populated places include
        cities' quarters (Hamm in Hamburg, Chełm in Gdańsk): a town of another name with at
        least :data:`QUARTER_RATIO` × its population (and :data:`QUARTER_CITY_POP`) within
        :data:`QUARTER_KM`. None for a place standing on its own."""
        if p.lat is None or p.kind != "city":
            return None
        floor = max(QUARTER_RATIO * p.population, QUARTER_CITY_POP)
        near = [c for c in self.gz.large_cities(p.cc)
                if c.population >= floor and c.id != p.id and c.norm != p.norm and distance_km(c, p) <= QUARTER_KM]
        return max(near, key=lambda c: c.population, default=None)

    def _not_a_quarter(self, pool: list[Place]) -> tuple[Place, list[tuple[Place, Place]]] | None:
        """Of places sharing a plain name, the one town that is not a quarter of a large
        city, when it is also the largest of them and clearly larger than any other town
        left ("Hamm": the city in Westphalia, not the quarter of Hamburg)."""
        quarters = [(p, c) for p in pool if (c := self.quarter_of(p)) is not None]
        if not quarters or len(quarters) == len(pool):
            return None
        inside = {q.id for q, _ in quarters}
        towns = sorted((p for p in pool if p.id not in inside), key=lambda p: -p.population)
        first = towns[0]
        if first.population < max(QUARTER_TOWN_POP, *(q.population for q, _ in quarters)):
            return None
        if len(towns) > 1 and first.population < DOMINANCE * max(towns[1].population, 1.0):
            return None
        return first, quarters

    def _fuzzy(self, query, name, cc, region_hint) -> Resolution:
        norm = normalize(name)
        names = self.gz.fuzzy_index(cc)
        if not names or len(norm) < 3:
            return Resolution(query, "unresolved", rule="no_match", evidence={"reason": "no place of that name in the country"})
        hits = process.extract(norm, names, scorer=fuzz.ratio, score_cutoff=FUZZY_CANDIDATE, limit=25)
        best: dict[str, tuple[float, str]] = {}
        for matched, score, _ in hits:
            for pid in self.gz.by_name.get((matched, cc), ()):
                if pid not in best or score > best[pid][0]:
                    best[pid] = (score, matched)
        if not best:
            return Resolution(query, "unresolved", rule="no_match",
                              evidence={"reason": "no place of that name in the country"})
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -self.gz.places[kv[0]].population))
        cands = [self._cand(self.gz.places[pid], m, "fuzzy", score / 100) for pid, (score, m) in ranked]
        top_score = ranked[0][1][0]
        next_score = ranked[1][1][0] if len(ranked) > 1 else 0.0
        ev = {"matched": ranked[0][1][1], "ratio": round(top_score, 1), "next_ratio": round(next_score, 1),
              "reason": "no exact name; the closest names are not close or clear enough"}
        if region_hint:
            ev["region_agrees"] = self.consistent(self.gz.places[ranked[0][0]], region_hint)
        if (top_score >= FUZZY_ACCEPT and top_score - next_score >= FUZZY_MARGIN
                and len(norm) >= FUZZY_MIN_LENGTH and ev.get("region_agrees", True)):
            p = self.gz.places[ranked[0][0]]
            return Resolution(query, "resolved", p.id, round(top_score / 100 - 0.05, 3), "fuzzy", ev,
                              cands[:5])
        return Resolution(query, "ambiguous", None, round(top_score / 100 - 0.2, 3), "fuzzy_unsure", ev,
                          cands[:5])

    def _subdivision(self, query, name, cc, region_hint, *, admin2: bool = True) -> Resolution:
        """A subdivision of the country with this name (exactly, or without its
        designation words); several are settled by the region hint (a county's state) or
        by one matching the full name; otherwise ambiguous."""

        none = Resolution(query, "unresolved", rule="no_match",
                          evidence={"reason": "no place or subdivision of that name in the country"})
        keys = designation_keys(name)
        seat = powiat_key(name) if cc == "PL" and admin2 else None
        # ISO 3166-2 and US counties first, under any key; GeoNames admin2 divisions after
        # (not a Polish county's seat: "Kraków County" is not the city county of Kraków)
        passes = [(k, False) for k in keys] + ([(k, True) for k in keys if k != seat] if admin2 else [])
        for key, second_level in passes:
            ids = list(dict.fromkeys(self.gz.region_by_name.get((key, cc), ())))
            places = [p for p in (self.gz.places[i] for i in ids) if subdivisions.is_second_level(p.code) == second_level]
            if not places:
                continue
            cands = [self._cand(p, key, "subdivision", 0.7) for p in places]
            ev = {"matched": key, "candidates": len(ids)}
            if region_hint and len(places) > 1:
                hit = [p for p in places if p.admin1 and p.admin1 in self.hint_regions(region_hint, cc)[0]]
                places = hit or places
            if len(places) > 1:
                places, how = _settle_namesakes(places, name)
                ev = {**ev, **({"settled_by": how} if how else {})}
            if len(places) == 1:
                p = places[0]
                return self._ok(query, p, "subdivision", {**ev, "code": p.code}, cands)
            return Resolution(query, "ambiguous", None, 0.6, "ambiguous_subdivision",
                              {**ev, "reason": f"{len(places)} subdivisions of this name in the country"},
                              self._rank(cands))
        if seat:
            # "Kętrzyn County": GeoNames names it "Powiat kętrzyński", after its seat
            fit = {i: n for (key, c), ids in self.gz.region_by_name.items()
                   if c == cc and (n := seat_match(seat, key)) for i in ids}
            best = max(fit.values(), default=0)      # "tarnow": tarnowski, not tarnogorski
            places = [self.gz.places[i] for i, n in fit.items() if n == best]
            cands = [self._cand(p, seat, "subdivision", 0.7) for p in places]
            ev = {"matched": seat, "seat_adjective": True, "candidates": len(places)}
            if len(places) == 1:
                return self._ok(query, places[0], "subdivision", {**ev, "code": places[0].code}, cands)
            if places:
                return Resolution(query, "ambiguous", None, 0.6, "ambiguous_subdivision",
                                  {**ev, "reason": f"{len(places)} counties named after a seat of this name"},
                                  self._rank(cands))
        return none

    def _supplement(self, query, name, cc, region_hint) -> Resolution:
        """A place of the supplementary gazetteer with this name (or a variant of it):
        one, or one in the region named; otherwise ambiguous or unresolved."""

        for norm, how in name_variants(name, cc):
            ids = self.gz.extra_by_name.get((norm, cc))
            if not ids:
                continue
            places = same_place_once([self.gz.places[i] for i in dict.fromkeys(ids)])
            cands = [self._cand(p, norm, "supplement", 0.7) for p in places]
            lists = sorted({supplement.list_of(p) for p in places})
            ev = {"matched": norm, "variant": how, "candidates": len(places), "list": " / ".join(lists)}
            if region_hint and len(places) > 1:
                places = [p for p in places if self.consistent(p, region_hint)] or places
            if len(places) == 1:
                return self._ok(query, places[0], "supplement", ev, cands)
            return Resolution(query, "ambiguous", None, 0.6, "ambiguous",
                              {**ev, "reason": f"{len(places)} places of this name in the supplementary list"},
                              self._rank(cands))
        return Resolution(query, "unresolved", rule="no_match",
                          evidence={"reason": "no place of that name in the country"})

    def _city(self, name: str, cc: str) -> tuple[Place | None, str | None]:
        """The city a district names as its own ("Berlin", "Budapest XI" → Budapest and
        the number XI): resolved by exact name (not fuzzy), a city, not itself a district."""
        res = self._in_country({}, name, cc, "", None, None)
        number = None
        if not res.resolved or res.rule == "fuzzy":
            m = NUMBERED.match(name)
            if not m:
                return None, None
            res, number = self._in_country({}, m.group(1), cc, "", None, None), m.group(2)
        if not res.resolved or res.rule == "fuzzy":
            return None, None
        p = self.gz.places[res.id]
        if p.kind != "city" or p.parent or (number and p.population < DISTRICT_CITY_POP):
            return None, None
        return p, number

    def _part_of_city(self, query, paren, name, cc, res: Resolution) -> Resolution | None:
        """A name the gazetteer lacks that says which city it is part of: "Stari Grad
        (Sarajevo)" (no place of that name near Sarajevo), "Prague 5 (Prague)", "Budapest XV"."""
        if paren:
            base, qualifier = paren
            city, _ = self._city(qualifier, cc)
            if city is None or any(self.consistent(self.gz.places[c.id], normalize(qualifier))
                                   for c in res.candidates if c.id != city.id):
                return None           # a place of that name in or near the city exists
                                      # (not the city itself, a fuzzy match of the whole name)
            inner, number = self._city(base, cc)
            if inner is not None and inner.id == city.id and number:        # "Prague 5 (Prague)"
                return self._new_district(query, city, None, number)
            sub = self._subdivision({}, base, cc, "")
            if sub.resolved and self._within(self.gz.places[sub.id], city):  # "Karpoš (Skopje)"
                return self._ok(query, self.gz.places[sub.id], "district", {"city": city.id, **sub.evidence},
                                sub.candidates)
            if res.rule in ("ambiguous", "qualifier_disagrees") and city.population < DISTRICT_CITY_POP:
                return None           # "Lingen (Ems)", "Winsen (Luhe)": a town and its river
            return self._new_district(query, city, base, None)
        city, number = self._city(name, cc)
        if city is not None and number:
            return self._new_district(query, city, None, number)
        return None

    def _within(self, sub: Place, city: Place) -> bool:
        """Can a subdivision be a part of ``city``: in its region, when both regions are
        known ("Zhongshan (Dalian)" is not Guangdong's Zhongshan Prefecture)?"""
        rec = subdivisions.records().get(sub.code or "", {})
        if rec.get("source") == "iso3166-2" and not rec.get("parent") \
                and normalize(rec.get("type", "")) in REGION_TYPES:
            return False        # "Sükhbaatar (Ulaanbaatar)" is a district, not the province
        if not sub.admin1 or not city.admin1:
            return True
        return self.consistent(sub, city.admin1)

    def _new_district(self, query, city: Place, name: str | None, number: str | None) -> Resolution:
        """A district of ``city`` that no gazetteer holds, known by its name and/or number.
        The same district named another way ("Budapest XI – Újbuda", "Újbuda (Budapest)",
        "Budapest XI") gets the same id; it enters the store when a loaded tie uses it."""
        keys = district_keys(name, number)
        pid = next((self.gz.districts[(city.id, k)] for k in keys if (city.id, k) in self.gz.districts), None)
        if pid is not None and (not self.gz.places[pid].parent or self.gz.places[pid].in_store):
            # a GeoNames place, or a district an earlier import wrote
            return self._ok(query, self.gz.places[pid], "district", {"city": city.id, "number": number}, [])
        if pid is None and number:
            pid = self._numbered_place(city, number)        # GeoNames: "Budapest XIII. kerület"
            if pid is not None:
                for k in keys:
                    self.gz.districts.setdefault((city.id, k), pid)
                return self._ok(query, self.gz.places[pid], "district", {"city": city.id, "number": number}, [])
        if pid is None:
            pid = district_id(city.id, name, number)
            self.gz.places[pid] = Place(
                id=pid, name=name or f"{city.name} {number}", cc=city.cc, admin1=city.admin1,
                admin1_name=city.admin1_name, in_store=False, parent=city.id)
        for k in keys:
            self.gz.districts.setdefault((city.id, k), pid)
        place = self.gz.places[pid]
        if name and number and not place.in_store and pid == district_id(city.id, None, number):
            place.name = name                    # "Budapest XI" first, "Budapest XI – Újbuda" later
        if query.get("name"):
            names = self.gz.district_names.setdefault(pid, [])
            if query["name"] not in names:
                names.append(query["name"])
        ev = {"city": city.id, "district": name, "number": number,
              "note": "a part of the city that no gazetteer holds; named by the list"}
        return Resolution(query, "resolved", pid, RULE_SCORE["new_district"], "new_district",
                          {k: v for k, v in ev.items() if v is not None})

    def _numbered_place(self, city: Place, number: str) -> str | None:
        """The one place within DISTRICT_KM of ``city`` whose name is one of the city's
        names followed by this number, in Roman or Arabic figures ("Budapest XIII.
        kerület", "Praha 5")."""
        n = arabic(number)
        figures = {normalize(number), str(n), roman(n).lower()}
        prefixes = tuple(f"{name} {f}" for name in self.gz._names_of.get(city.id, [city.norm]) for f in figures)
        found = {pid for norm in self.gz.fuzzy_index(city.cc) if norm.startswith(prefixes)
                 and any(norm == p or norm.startswith(p + " ") for p in prefixes)
                 for pid in self.gz.by_name.get((norm, city.cc), ())
                 if distance_km(self.gz.places[pid], city) <= DISTRICT_KM}
        return found.pop() if len(found) == 1 else None

    def _district(self, query, parts, cc, region_hint) -> Resolution:
        city = self._in_country({}, parts[0], cc, region_hint, None, None)
        district = self._in_country({}, parts[1], cc, region_hint, None, None)
        parent, number = self._city(parts[0], cc)          # "Budapest XI" → Budapest, XI
        if district.resolved and parent is not None:
            d = self.gz.places[district.id]
            km = distance_km(d, parent)
            if km <= DISTRICT_KM:
                for key in district_keys(None, number):     # "Budapest XIX" is Kispest too
                    self.gz.districts.setdefault((parent.id, key), d.id)
                return self._ok(query, d, "district", {"city": parent.id, "km": round(km, 1),
                                                        **district.evidence}, district.candidates)
        if parent is not None:
            sub = self._subdivision({}, parts[1], cc, "")
            if sub.resolved and self._within(self.gz.places[sub.id], parent):   # "Skopje – Karpoš"
                return self._ok(query, self.gz.places[sub.id], "district", {"city": parent.id, **sub.evidence},
                                sub.candidates)
            if district.status == "unresolved" or parent.population >= DISTRICT_CITY_POP:
                return self._new_district(query, parent, parts[1], number)
        cands = self._rank(district.candidates + city.candidates)
        return Resolution(query, "ambiguous" if cands else "unresolved", None, 0.5, "composite_name",
                          {"parts": parts, "reason": "a name with two parts (district or joint municipality)"},
                          cands[:5])

    def _without_country(self, query, name, region_hint, lat, lon) -> Resolution:
        """No country: exact names anywhere, decided as within a country (coordinates,
        region hint, main name, capital, population dominance)."""
        for norm, how in name_variants(name):
            hits = [pid for cc in self.gz.countries() for pid in self.gz.by_name.get((norm, cc), ())]
            if hits:
                return self._decide_exact(query, list(dict.fromkeys(hits)), norm, how, region_hint, lat, lon)
        return Resolution(query, "unresolved", rule="no_match",
                          evidence={"reason": "no place of that name (give a country to narrow it)"})

    def resolve_many(self, pairs) -> dict[tuple[str, str], Resolution]:
        """Resolve distinct (name, country) pairs, names that say more first: "Budapest
        XIX – Kispest" before "Budapest XIX", so that both mean the same district."""
        def says_more(pair):
            name = pair[0] or ""
            return (0 if (DASH.search(name) or PAREN.match(name)) else 1, pair)
        return {pair: self.resolve(*pair) for pair in sorted(set(pairs), key=says_more)}

    def refine(self, res: Resolution, region: str, *, rule: str = "list_context",
               evidence: dict[str, Any] | None = None) -> Resolution:
        """Settle an exact-name ambiguity with a region known from elsewhere (the section
        of a list the name stands in): resolved when exactly one candidate lies in
        ``region`` (a normalised first-level region name); otherwise ``res`` unchanged."""
        if res.status != "ambiguous" or res.rule != "ambiguous" or not region:
            return res
        hit = [c for c in res.candidates if self.gz.places[c.id].admin1 == region]
        if len(hit) != 1:
            return res
        p = self.gz.places[hit[0].id]
        ev = {k: v for k, v in res.evidence.items() if k != "reason"}
        return self._ok(res.query, p, rule, {**ev, "region": p.admin1_name, **(evidence or {})},
                        res.candidates)

    # -- helpers --------------------------------------------------------------------------

    def _cand(self, p: Place, matched: str, how: str, score: float | None = None) -> Candidate:
        return Candidate(id=p.id, name=p.name, country=p.cc, admin1=p.admin1_name,
                         population=int(p.population), score=round(score if score is not None else
                                                                     _prior(p), 3),
                         matched=matched, how=how)

    @staticmethod
    def _rank(cands: list[Candidate]) -> list[Candidate]:
        seen, out = set(), []
        for c in sorted(cands, key=lambda c: (-c.score, -c.population)):
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
        return out

    def _ok(self, query, p: Place, rule: str, ev: dict, cands: list[Candidate],
            score: float | None = None) -> Resolution:
        return Resolution(query, "resolved", p.id, score if score is not None else RULE_SCORE[rule], rule,
                          ev, self._rank(cands)[:5])


def _settle_namesakes(places: list[Place], name: str) -> tuple[list[Place], str | None]:
    """Several subdivisions of one name: the one whose type the name's designation states
    ("Hsinchu County" is the county, not the city of Hsinchu); else, when the others all
    contain it, the innermost — the local government ("Saaremaa" is the municipality that
    covers the island, inside the county of that name; Guam's county-equivalent lies
    inside the territory). Returns the places left and how they were narrowed."""
    recs = {p.id: subdivisions.records().get(p.code or "", {}) for p in places}
    words = set(normalize(name).split())
    typed = [p for p in places if (t := normalize(recs[p.id].get("type", ""))) and set(t.split()) <= words]
    if len(typed) == 1:
        return typed, "designation"
    outer = {recs[p.id].get("parent") for p in places} & {p.code for p in places}
    inner = [p for p in places if p.code not in outer]
    if outer and len(inner) == 1:
        return inner, "innermost"
    return places, None


def same_place_once(places: list[Place]) -> list[Place]:
    """Drop records that repeat a place: same main name and region, and within
    :data:`SAME_PLACE_KM` or with the same population (GeoNames often has a town and its
    municipality, or a record without population beside the real one). The one kept is in the store if
    either is, else the more populous."""
    if len(places) < 2:
        return places
    kept: list[Place] = []
    for p in sorted(places, key=lambda p: (not p.in_store, -p.population)):
        if not any(k.norm == p.norm and k.admin1 == p.admin1
                   and (distance_km(k, p) <= SAME_PLACE_KM or (p.population > 0 and k.population == p.population))
                   for k in kept):
            kept.append(p)
    return kept


def _prior(p: Place) -> float:
    """A candidate's standing among exact matches: more populous places rank higher."""
    return round(0.5 + 0.05 * math.log10(p.population + 10), 3)

