"""Namesakes: what a name's qualifier names, states and provinces named as twins, and
regional capitals among places of one name — the rules that keep a name from being tied
to a bigger or odder namesake (docs/resolution.md, "Namesakes").

:class:`NamesakeRules` is a part of :class:`citydiplomacy.resolve.Resolver` (a mixin: it
works on the resolver's gazetteer ``self.gz`` and answers through its helpers):

- :meth:`~NamesakeRules.hint_regions` reads a qualifier or region hint as a first-level
  region ("Hesse", "Jiangsu Sheng"), the region of a county below one ("Kladno District",
  "Pembrokeshire", "Ille-et-Vilaine"), or nothing checkable (a river);
  :meth:`~NamesakeRules.consistent` says whether a place agrees with it;
- :meth:`~NamesakeRules._division` answers a plain name that is a state's or province's
  with the subdivision unless a town stands for it ("Goa", "Alagoas", "Quảng Nam");
- :meth:`~NamesakeRules._seat_of_namesake_region` and ``_seat_among_villages`` prefer a
  regional capital (GeoNames PPLA, PPLC, from ``data/geonames_seats.tsv``) to villages of
  its name ("Querétaro", "Zaporizhzhia", "Mġarr").
"""

from __future__ import annotations

from rapidfuzz import fuzz

from ..text import normalize
from . import geonames, subdivisions
from .gazetteer import Place, Resolution, distance_km
from .names import REGION_WORDS, bare_region, designation_keys

__all__ = ["NamesakeRules", "REGION_TYPES", "SPELLING_RATIO", "VILLAGE_POP", "STANDING_POP", "QUALIFIER_KM",
           "REGION_WORDS"]

#: A place qualified by another place ("Lazarevac (Belgrade)") must lie within this distance.
QUALIFIER_KM = 60.0

#: Kinds of first-level subdivision (ISO 3166-2 types) that a plain name may mean rather
#: than a town of that name: states, provinces, regions — not the municipalities, local
#: councils and districts that in some countries are first-level and are named after
#: their town (Slovenia's, Malta's, North Macedonia's, Moldova's).
REGION_TYPES = frozenset({
    "state", "province", "region", "department", "county", "governorate", "prefecture",
    "administrative region", "republic", "autonomous region", "autonomous community", "land",
    "voivodship", "oblast", "regional state", "union territory", "metropolitan region", "territory",
    "canton", "federal district", "autonomous province", "autonomous republic", "autonomous district",
    "special administrative region", "emirate", "capital territory", "federal territory",
    "administrative territory", "geographical unit", "indigenous region", "special self governing province"})
#: rapidfuzz ratio at which a town's own name counts as a spelling of the name asked for
#: ("Janīn" / "Jenin": 80).
SPELLING_RATIO = 80.0

#: A place of fewer inhabitants that is no administrative seat is a village: a regional
#: capital of its name comes first (Eurostat's degree of urbanisation calls settlements
#: under 5,000 rural).
VILLAGE_POP = 5_000

#: A town of at least this many inhabitants bearing a state's or province's name as its
#: own stands for it (as the quarter rule's town: docs/resolution.md).
STANDING_POP = 15_000


class NamesakeRules:
    """The namesake rules of :class:`~citydiplomacy.resolve.Resolver` (see the module
    docstring). Its state: caches of what hints name, per gazetteer generation."""

    def _init_namesakes(self) -> None:
        self._hints: dict[tuple[str, str], tuple[frozenset[str], str]] = {}
        self._hints_of: object = None
        self._admin2: dict[str, dict[str, set[str]]] = {}
        self._capital_cache: dict[str, list[Place]] = {}
        self._capitals_of: object = None

    def _second_level(self, cc: str) -> dict[str, set[str]]:
        """GeoNames second-level division names of a country, without the words for their
        kind ("Departement d'Ille-et-Vilaine" → "ille et vilaine"), and the regions they
        lie in."""
        if cc not in self._admin2:
            out: dict[str, set[str]] = {}
            for rec in subdivisions.records().values():
                if rec["cc"] == cc and rec["source"] == "geonames_admin2" and rec.get("admin1"):
                    out.setdefault(bare_region(rec["name"]), set()).add(rec["admin1"])
            self._admin2[cc] = out
        return self._admin2[cc]

    def _capitals(self, cc: str) -> list[Place]:
        """The national and regional capitals (GeoNames PPLC, PPLA) of a country."""
        self.gz.regions(cc)
        if self._capitals_of is not self.gz._regions:       # built, or the gazetteer has grown
            self._capital_cache = {}
            for p in self.gz.places.values():
                if p.kind == "city" and geonames.seat_of(p.geonames_id) in ("PPLA", "PPLC"):
                    self._capital_cache.setdefault(p.cc, []).append(p)
            self._capitals_of = self.gz._regions
        return self._capital_cache.get(cc, [])

    def division_named(self, name: str, cc: str) -> Place | None:
        """The one first-level subdivision of a regional kind (:data:`REGION_TYPES`) whose
        own name is ``name`` ("Goa" → IN-GA, "Pingtung" → TW-PIF), or None."""
        norm = normalize(name)
        records = subdivisions.records()
        found = {p.id: p for pid in self.gz.region_by_name.get((norm, cc), ())
                 if (p := self.gz.places[pid]).code in records
                 and (rec := records[p.code])["source"] == "iso3166-2" and not rec["parent"]
                 and normalize(rec["type"]) in REGION_TYPES and norm in {normalize(n) for n in rec["names"]}}
        return next(iter(found.values())) if len(found) == 1 else None

    def _division(self, query, name: str, cc: str, res: Resolution) -> Resolution | None:
        """A plain name that is a state's, province's or region's ("Goa", "Alagoas",
        "Quảng Nam", "Molise"): the first-level subdivision, unless a town found for it
        stands for the name (:meth:`_stands_for`). None when the name is no such division's
        or a town stands for it."""
        norm = normalize(name)
        records = subdivisions.records()
        division = self.division_named(name, cc)
        if division is None:
            return None
        if res.rule == "no_match":
            return None                     # no town: the subdivision step finds it
        bare = bare_region(norm)
        capital = [p for p in self._capitals(cc) if p.admin1 and fuzz.token_set_ratio(bare_region(p.admin1), bare) >= 90]
        towns = [self.gz.places[res.id]] if res.resolved else [self.gz.places[c.id] for c in res.candidates]
        if res.resolved and res.rule == "main_name" and towns[0].population <= 0 \
                and geonames.seat_of(towns[0].geonames_id) not in ("PPLA", "PPLC"):
            # "Selenge": two villages of unknown size and a province; the main name alone
            # does not make one of the villages what the name means
            return Resolution(query, "ambiguous", None, 0.6, "ambiguous", {
                **res.evidence, "division": division.code,
                "reason": "several places of this name of unknown size, and a province or state"},
                [self._cand(division, norm, "subdivision", 0.7), *res.candidates])
        if any(t.kind != "city" or self._stands_for(t, norm, capital, strict=not res.resolved) for t in towns):
            return None
        ev = {"matched": norm, "code": division.code, "type": records[division.code]["type"],
              "town": (f"{res.status}, {res.rule}" + (f": {self.gz.places[res.id].name}" if res.resolved else ""))}
        return self._ok(query, division, "division", ev, [self._cand(division, norm, "subdivision", 0.9),
                                                          *res.candidates])

    @staticmethod
    def _stands_for(town: Place, norm: str, capitals: list[Place], *, strict: bool) -> bool:
        """Does a town found for the name of a state or province stand for it? It does when
        it is a national or regional capital (GeoNames PPLC, PPLA: "Sakarya" is Adapazarı,
        the province's capital), or when its own name is the name (or a spelling of it:
        "Janīn" for "Jenin", "Fukui-shi" for "Fukui") and it is a town of standing — the
        seat of a second-level division (PPLA2: Heves, Tolna), a town of at least
        :data:`STANDING_POP` inhabitants (Ibaraki, Lagos), or one whose division has no
        other capital ("Salfit": GeoNames knows no capital of a governorate of that name).
        Mormugao, which GeoNames also calls "Goa", does not, nor does the town of Champasak
        (13,000; the province's capital is Pakse), nor a village of 167 called Molise. With
        ``strict`` (the towns are ambiguous among themselves) any town whose own name is the
        name stands: "Guerrero" stays for review."""
        seat = geonames.seat_of(town.geonames_id)
        if seat in ("PPLC", "PPLA"):
            return True
        own = town.norm
        spelt = fuzz.ratio(own, norm) >= SPELLING_RATIO or fuzz.token_set_ratio(own, norm) >= 90
        return spelt and (strict or seat == "PPLA2" or town.population >= STANDING_POP
                          or all(c.id == town.id for c in capitals))

    def _check_qualifier(self, query, res: Resolution, hint: str, cc: str) -> Resolution:
        """A place found for a qualified name must lie in or near what the qualifier
        names: "Chaoyang (Beijing)" is not the Chaoyang of another province, "Bayside, New
        South Wales" not the council of Victoria. Otherwise the name goes to review."""
        if not self._known_hint(hint, cc) or self.consistent(self.gz.places[res.id], hint):
            return res
        return Resolution(query, "ambiguous", None, 0.6, "qualifier_disagrees",
                          {**res.evidence, "qualifier": hint,
                           "reason": "the place found is neither in nor near the region or place named"},
                          res.candidates)

    def consistent(self, place: Place, hint: str) -> bool:
        """Does a region hint or qualifier agree with a place: its region (or the region
        of the county named), or a place of that name within QUALIFIER_KM?"""
        if place.admin1:
            own = {place.admin1} if place.admin1 in self.gz.regions(place.cc) else \
                self.hint_regions(place.admin1, place.cc)[0]       # a subdivision's ISO parent
            if own & self.hint_regions(hint, place.cc)[0]:
                return True
        for pid in self.gz.by_name.get((hint, place.cc), ()):
            if distance_km(self.gz.places[pid], place) <= QUALIFIER_KM:
                return True
        return False

    def _known_hint(self, hint: str, cc: str) -> bool:
        """Is a qualifier a region, a county or a place of the country? (An unknown one — a
        river, "Hennef (Sieg)" — cannot be checked.)"""
        return (hint, cc) in self.gz.by_name or bool(self.hint_regions(hint, cc)[0])

    def hint_regions(self, hint: str, cc: str) -> tuple[frozenset[str], str]:
        """The first-level regions (normalised GeoNames region names) that a region hint or
        qualifier names, and how: ``"region"`` when it names one ("Hesse", "Jiangsu",
        "Shiga Prefecture", "Brandenburg"; compared without the words for a region's kind,
        so "Saxony" is not Saxony-Anhalt), ``"part"`` when it names part of one only (the one
        region whose name contains it: "Baden" for Baden-Württemberg, "Rheinland" for
        Rheinland-Pfalz — a weaker reading), ``"county"`` when it names a subdivision below
        one — a county, district or council — whose region it gives ("Kladno District" →
        Central Bohemia, "Pembrokeshire" → Wales, "Southern Downs" → Queensland); empty
        when it names neither (a river, a landscape)."""
        key = (hint, cc)
        self.gz.regions(cc)
        if self._hints_of is not self.gz._regions:       # the gazetteer has grown since
            self._hints, self._hints_of = {}, self.gz._regions
        if key not in self._hints:
            self._hints[key] = self._read_hint(hint, cc)
        return self._hints[key]

    def _read_hint(self, hint: str, cc: str) -> tuple[frozenset[str], str]:
        regions = {r: bare_region(r) for r in self.gz.regions(cc)}

        def named(names) -> set[str]:
            bares = {bare_region(n) for n in names if n}
            exact = {r for r, b in regions.items() if b in bares}
            close = exact or {r for r, b in regions.items() for n in bares if fuzz.ratio(b, n) >= 90}
            # "Baden" for Baden-Württemberg: one region whose name contains the words named
            part = close or {r for r, b in regions.items() for n in bares if fuzz.token_set_ratio(b, n) >= 90}
            return part if len(part) == 1 or close else set()

        found = named([hint])
        if found:
            whole = {r for r, b in regions.items() if fuzz.ratio(b, bare_region(hint)) >= 90}
            return frozenset(found), "region" if whole else "part"
        if (hint, cc) in self.gz.by_name:
            return frozenset(), ""          # a town ("Chaoyang (Changchun)"): places near it agree
        second = self._second_level(cc).get(bare_region(hint))
        if second:                                  # "Ille-et-Vilaine": a GeoNames admin2 division
            return frozenset(named(second)), "county" if named(second) else ""
        records = subdivisions.records()
        first: set[str] = set()
        below: set[str] = set()
        for k in designation_keys(hint):
            for pid in self.gz.region_by_name.get((k, cc), ()):
                rec = records.get(self.gz.places[pid].code or "")
                if rec is None:
                    continue
                if rec["source"] == "iso3166-2" and not rec["parent"]:
                    first |= named(rec["names"])
                    continue
                parent = records.get(rec.get("parent") or "")
                below |= named([*(parent["names"] if parent else ()), rec.get("admin1") or ""])
        if first:
            return frozenset(first), "region"
        if not below and len(keys := designation_keys(hint)) > 1:
            # "Kladno District": a district named after its seat, whose region is the seat's
            seats = {self.gz.places[pid].admin1 for pid in self.gz.by_name.get((keys[-1], cc), ())}
            below = seats if len(seats) == 1 and "" not in seats else set()
        return frozenset(below), "county" if below else ""

    @staticmethod
    def _seat_of_namesake_region(places: list[Place], norm: str) -> Place | None:
        """Of places sharing a name, the one that is the capital (GeoNames PPLA) of a
        first-level region of that name: "Querétaro" is Santiago de Querétaro, capital of
        the state of Querétaro, not the village of Querétaro in Chiapas; "Zaporizhzhia"
        the oblast's capital, not a village of 656. None when no place or several are."""
        bare = bare_region(norm)
        seats = [p for p in places if p.kind == "city" and geonames.seat_of(p.geonames_id) in ("PPLA", "PPLC")
                 and p.admin1 and fuzz.token_set_ratio(bare_region(p.admin1), bare) >= 90]
        return seats[0] if len(seats) == 1 and len(places) > 1 else None

    @staticmethod
    def _seat_among_villages(places: list[Place], norm: str) -> Place | None:
        """Of places sharing a name, the one regional or national capital (GeoNames PPLA,
        PPLC) that bears the name as its own (or a spelling of it), when every other is a
        village of fewer than :data:`VILLAGE_POP` inhabitants and no seat: "Mġarr" is
        Imġarr, seat of the council of Mġarr, not the harbour hamlet of Gozo."""
        seats = [p for p in places if geonames.seat_of(p.geonames_id) in ("PPLA", "PPLC")]
        if len(seats) != 1 or len(places) < 2:
            return None
        seat = seats[0]
        if fuzz.ratio(seat.norm, norm) < SPELLING_RATIO and fuzz.token_set_ratio(seat.norm, norm) < 90:
            return None
        others = [p for p in places if p.id != seat.id]
        if all(p.population < VILLAGE_POP and not geonames.seat_of(p.geonames_id) for p in others):
            return seat
        return None
