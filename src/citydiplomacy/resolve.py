"""Entity resolution: from a messy name (plus country, region, coordinates or
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
   the capital; one has at least :data:`DOMINANCE` × the population of the next.
3. **Fuzzy names** — no exact match: names in the country with a rapidfuzz ratio of at
   least :data:`FUZZY_CANDIDATE`; the best is accepted when its ratio reaches
   :data:`FUZZY_ACCEPT`, it leads the next place by :data:`FUZZY_MARGIN` points, and the
   name has at least :data:`FUZZY_MIN_LENGTH` letters.

Anything else is ``ambiguous`` (with ranked candidates, for review) or ``unresolved``.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from rapidfuzz import fuzz, process

from . import countries
from .text import normalize

__all__ = ["Place", "Candidate", "Resolution", "Gazetteer", "Resolver", "ACCEPT",
           "DOMINANCE", "FUZZY_ACCEPT", "FUZZY_CANDIDATE", "FUZZY_MARGIN", "FUZZY_MIN_LENGTH"]

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
#: A place qualified by another place ("Lazarevac (Belgrade)") must lie within this distance.
QUALIFIER_KM = 60.0

#: Scores by rule (what the evidence is worth).
RULE_SCORE = {
    "identifier": 1.0, "unique_main_name": 0.98, "unique_alias": 0.95, "variant": 0.92,
    "region_hint": 0.93, "main_name": 0.9, "capital": 0.9, "dominant_population": 0.88,
    "district": 0.9,
}

_PREFIXES = ("city of ", "town of ", "municipality of ", "landeshauptstadt ", "hansestadt ",
             "stadt ", "gmina ", "miasto ", "comune di ", "ville de ", "ciudad de ", "borough of ",
             "village of ", "county of ", "district of ")
_SUFFIXES = (" municipality", " city", " town", " village", " commune", " municipal district")
#: A parenthesised qualifier that says the name is not a city: "Pinneberg (district)".
NOT_A_CITY = frozenset({"district", "county", "province", "region", "state", "oblast", "raion",
                        "prefecture", "department", "canton", "municipality", "borough",
                        "island", "islands", "governorate", "voivodeship"})
_DASH = re.compile(r"\s+[–—-]\s+|\s*/\s*")
_PAREN = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")


@dataclass
class Place:
    """One place the resolver can point at."""

    id: str
    name: str
    cc: str                       # ISO alpha-2
    population: float = 0.0
    admin1: str = ""              # normalised region name
    admin1_name: str | None = None
    capital: bool = False
    lat: float | None = None
    lon: float | None = None
    geonames_id: int | None = None
    wikidata: str | None = None
    in_store: bool = True         # False: a GeoNames place not yet in the store

    @property
    def norm(self) -> str:
        return normalize(self.name)


@dataclass
class Candidate:
    id: str
    name: str
    country: str
    admin1: str | None
    population: int
    score: float
    matched: str
    how: str

    def label(self) -> str:
        region = f", {self.admin1}" if self.admin1 else ""
        return f"{self.id} ({self.name}{region}, {self.country}, pop {self.population:,}; {self.score:.2f})"


@dataclass
class Resolution:
    """The answer for one name: ``status`` is resolved, ambiguous or unresolved."""

    query: dict[str, Any]
    status: str
    id: str | None = None
    score: float = 0.0
    rule: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d


class Gazetteer:
    """Places indexed by normalised name and country, identifiers, and per country for
    fuzzy matching."""

    def __init__(self) -> None:
        self.places: dict[str, Place] = {}
        self.by_name: dict[tuple[str, str], list[str]] = {}
        self.by_geonames: dict[int, str] = {}
        self.by_qid: dict[str, str] = {}
        self._names_of: dict[str, list[str]] = {}     # place id -> its normalised names
        self._fuzzy: dict[str, list[str]] | None = None
        self._regions: dict[str, set[str]] | None = None

    def add(self, place: Place, names: Iterable[str], *, normalized: bool = False) -> None:
        """Add a place with its names (raw, or already ``normalized``)."""
        if place.id in self.places:
            return
        self.places[place.id] = place
        if place.geonames_id:
            self.by_geonames[place.geonames_id] = place.id
        if place.wikidata:
            self.by_qid[place.wikidata] = place.id
        norms = set(names) if normalized else {normalize(n) for n in names}
        self._index_names(place, norms | {place.norm})

    def _index_names(self, place: Place, norms: Iterable[str]) -> None:
        own = self._names_of.setdefault(place.id, [])
        for norm in norms:
            if norm and norm not in own:
                own.append(norm)
                self.by_name.setdefault((norm, place.cc), []).append(place.id)
        self._fuzzy = self._regions = None

    def remove(self, ids: Iterable[str]) -> None:
        for i in set(ids):
            p = self.places.pop(i, None)
            if p is None:
                continue
            if p.geonames_id and self.by_geonames.get(p.geonames_id) == i:
                del self.by_geonames[p.geonames_id]
            if p.wikidata and self.by_qid.get(p.wikidata) == i:
                del self.by_qid[p.wikidata]
            for norm in self._names_of.pop(i, ()):
                members = self.by_name.get((norm, p.cc), [])
                if i in members:
                    members.remove(i)
                if not members:
                    self.by_name.pop((norm, p.cc), None)
        self._fuzzy = None

    def regions(self, cc: str) -> set[str]:
        """Normalised first-level region names of a country."""
        if self._regions is None:
            self._regions = {}
            for p in self.places.values():
                if p.admin1:
                    self._regions.setdefault(p.cc, set()).add(p.admin1)
        return self._regions.get(cc, set())

    def countries(self) -> set[str]:
        return {p.cc for p in self.places.values()}

    def fuzzy_index(self, cc: str) -> list[str]:
        """The distinct names of a country, for rapidfuzz (places via ``by_name``)."""
        if self._fuzzy is None:
            idx: dict[str, list[str]] = {}
            for norm, c in self.by_name:
                idx.setdefault(c, []).append(norm)
            self._fuzzy = idx
        return self._fuzzy.get(cc, [])

    # -- builders -----------------------------------------------------------------------

    @classmethod
    def from_store(cls, store, kinds: tuple[str, ...] = ("city",)) -> "Gazetteer":
        """All actors of ``kinds`` in the store with their aliases."""
        from sqlalchemy import select

        from .store.schema import actors, aliases

        gz = cls()
        with store.connect() as conn:
            rows = conn.execute(select(
                actors.c.id, actors.c.name, actors.c.country, actors.c.population, actors.c.admin1,
                actors.c.lat, actors.c.lon, actors.c.geonames_id, actors.c.wikidata, actors.c.attrs)
                .where(actors.c.kind.in_(kinds)))
            for r in rows:
                c = countries.lookup_code(r.country) if r.country else None
                gz.places[r.id] = Place(
                    id=r.id, name=r.name, cc=c.alpha2 if c else "", population=float(r.population or 0),
                    admin1=normalize(r.admin1) if r.admin1 else "", admin1_name=r.admin1,
                    capital=bool((r.attrs or {}).get("capital")), lat=r.lat, lon=r.lon,
                    geonames_id=r.geonames_id, wikidata=r.wikidata)
                if r.geonames_id:
                    gz.by_geonames[r.geonames_id] = r.id
                if r.wikidata:
                    gz.by_qid[r.wikidata] = r.id
            alias_rows = conn.execute(select(aliases.c.actor_id, aliases.c.norm)
                                      .join(actors, actors.c.id == aliases.c.actor_id)
                                      .where(actors.c.kind.in_(kinds)))
            for actor_id, norm in alias_rows:
                gz._index_names(gz.places[actor_id], [norm])
        return gz


def _km(a: Place, b: Place) -> float:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def name_variants(name: str) -> list[tuple[str, str]]:
    """(normalised variant, how) for a raw name, most literal first."""
    out: list[tuple[str, str]] = []

    def add(text: str, how: str) -> None:
        n = normalize(text)
        if n and n not in [v for v, _ in out]:
            out.append((n, how))

    add(name, "name")
    m = _PAREN.match(name)
    base = m.group(1) if m else name
    if m:
        add(base, "without_qualifier")
    n = normalize(base)
    for p in _PREFIXES:
        if n.startswith(p):
            add(n[len(p):], "without_prefix")
    for s in _SUFFIXES:
        if n.endswith(s) and len(n) > len(s) + 2:
            add(n[: -len(s)], "without_suffix")
    if n.startswith("bad "):
        add(n[4:], "without_prefix")
    german = re.sub(r"(?<=[a-z])(ae|oe|ue)", lambda mm: mm.group(1)[0], n)
    if german != n:
        add(german, "transliteration")
    add(n.replace("saint ", "st ").replace("sankt ", "st "), "saint")
    add(re.sub(r"\bst\b\.?\s*", "saint ", n), "saint")
    return out


def split_name(name: str) -> list[str]:
    """The parts of a composite name: "Berlin – Mitte" → [Berlin, Mitte]; "Esch (Haaren)"
    → [Esch, Haaren]; "Suzhou, Jiangsu" → [Suzhou, Jiangsu]."""
    parts = [p.strip() for p in _DASH.split(name) if p.strip()]
    out = []
    for p in parts:
        m = _PAREN.match(p)
        out.extend([m.group(1), m.group(2)] if m else [x.strip() for x in p.split(",") if x.strip()])
    return out if len(out) > 1 else []


class Resolver:
    """Resolve names to places of a :class:`Gazetteer` (see the module docstring)."""

    def __init__(self, gazetteer: Gazetteer):
        self.gz = gazetteer

    def resolve(self, name: str, country: str | None = None, *, region: str | None = None,
                lat: float | None = None, lon: float | None = None, wikidata: str | None = None,
                geonames_id: int | None = None) -> Resolution:
        """Resolve one name; see the module docstring for the procedure. A resolution
        whose score falls below :data:`ACCEPT` is returned as ambiguous (for review)."""
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
        m = _PAREN.match(name)
        if m:
            qualifier = normalize(m.group(2))
            if qualifier in NOT_A_CITY:
                return Resolution(query, "unresolved", rule="not_a_city",
                                  evidence={"reason": f"the name is qualified as a {qualifier}"})
        comma = [p.strip() for p in name.split(",")]
        if len(comma) == 2:
            name, qualifier = comma[0], normalize(comma[1])
        if qualifier and not region_hint:
            region_hint = qualifier
        if cc is None:
            return self._without_country(query, name, region_hint, lat, lon)
        # "City – District": resolve the district near the city
        parts = [p for p in _DASH.split(name) if p.strip()]
        if len(parts) == 2:
            return self._district(query, parts, cc, region_hint)
        res = self._in_country(query, name, cc, region_hint, lat, lon)
        if res.resolved and region_hint and res.rule != "region_hint" \
                and self._known_hint(region_hint, cc) \
                and not self._consistent(self.gz.places[res.id], region_hint):
            # "Chaoyang (Beijing)" must not become the Chaoyang of another province
            return Resolution(query, "ambiguous", None, 0.6, "qualifier_disagrees",
                              {**res.evidence, "qualifier": region_hint,
                               "reason": "the place found is neither in nor near the region or place named"},
                              res.candidates)
        return res

    def _consistent(self, place: Place, hint: str) -> bool:
        """Does a region hint or qualifier agree with a place: its region, or a place of
        that name within QUALIFIER_KM?"""
        if place.admin1 and fuzz.token_set_ratio(place.admin1, hint) >= 90:
            return True
        for pid in self.gz.by_name.get((hint, place.cc), ()):
            if _km(self.gz.places[pid], place) <= QUALIFIER_KM:
                return True
        return False

    def _known_hint(self, hint: str, cc: str) -> bool:
        """Is a qualifier a region or a place of the country? (An unknown one — a river,
        "Hennef (Sieg)" — says nothing and is ignored.)"""
        if (hint, cc) in self.gz.by_name:
            return True
        return any(fuzz.token_set_ratio(r, hint) >= 90 for r in self.gz.regions(cc))

    # -- steps ----------------------------------------------------------------------------

    def _exact(self, name: str, cc: str) -> tuple[list[str], str, str]:
        for norm, how in name_variants(name):
            ids = self.gz.by_name.get((norm, cc))
            if ids:
                return list(dict.fromkeys(ids)), norm, how
        return [], "", ""

    def _in_country(self, query, name, cc, region_hint, lat, lon) -> Resolution:
        ids, norm, how = self._exact(name, cc)
        if ids:
            return self._decide_exact(query, ids, norm, how, region_hint, lat, lon)
        return self._fuzzy(query, name, cc, region_hint)

    def _decide_exact(self, query, ids, norm, how, region_hint, lat, lon) -> Resolution:
        places = [self.gz.places[i] for i in ids]
        cands = [self._cand(p, norm, how) for p in places]
        ev = {"matched": norm, "variant": how, "candidates": len(ids)}
        if lat is not None and lon is not None:
            probe = Place("?", "", "", lat=lat, lon=lon)
            near = [p for p in places if _km(p, probe) <= DISTRICT_KM]
            if len(near) == 1:
                return self._ok(query, near[0], "coordinates", ev, cands, 0.97)
        if len(places) == 1:
            p = places[0]
            rule = ("unique_main_name" if p.norm == norm else "unique_alias") if how == "name" else "variant"
            return self._ok(query, p, rule, ev, cands)
        if region_hint:
            hit = [p for p in places if self._consistent(p, region_hint)]
            if len(hit) == 1:
                return self._ok(query, hit[0], "region_hint", {**ev, "region": region_hint}, cands)
            if hit:
                places = hit
        main = [p for p in places if p.norm == norm]
        if len(main) == 1:
            return self._ok(query, main[0], "main_name", ev, cands)
        pool = main or places
        capital = [p for p in pool if p.capital]
        if len(capital) == 1:
            return self._ok(query, capital[0], "capital", ev, cands)
        ranked = sorted(pool, key=lambda p: -p.population)
        first, second = ranked[0], ranked[1]
        if first.population >= DOMINANCE * max(second.population, 1.0):
            return self._ok(query, first, "dominant_population",
                            {**ev, "population_ratio": round(first.population / max(second.population, 1.0), 1)},
                            cands)
        ev["reason"] = (f"{len(pool)} places of this name in the country and nothing decides between "
                        "them (no region, capital or clearly larger place)")
        return Resolution(query, "ambiguous", None, 0.6, "ambiguous", ev, self._rank(cands))

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
            ev["region_agrees"] = self._consistent(self.gz.places[ranked[0][0]], region_hint)
        if (top_score >= FUZZY_ACCEPT and top_score - next_score >= FUZZY_MARGIN
                and len(norm) >= FUZZY_MIN_LENGTH and ev.get("region_agrees", True)):
            p = self.gz.places[ranked[0][0]]
            return Resolution(query, "resolved", p.id, round(top_score / 100 - 0.05, 3), "fuzzy", ev,
                              cands[:5])
        return Resolution(query, "ambiguous", None, round(top_score / 100 - 0.2, 3), "fuzzy_unsure", ev,
                          cands[:5])

    def _district(self, query, parts, cc, region_hint) -> Resolution:
        city = self._in_country({}, parts[0], cc, region_hint, None, None)
        district = self._in_country({}, parts[1], cc, region_hint, None, None)
        if district.resolved and city.resolved:
            d, c = self.gz.places[district.id], self.gz.places[city.id]
            km = _km(d, c)
            if km <= DISTRICT_KM:
                return self._ok(query, d, "district", {"city": c.id, "km": round(km, 1),
                                                        **district.evidence}, district.candidates)
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


def _prior(p: Place) -> float:
    """A candidate's standing among exact matches: more populous places rank higher."""
    return round(0.5 + 0.05 * math.log10(p.population + 10), 3)
