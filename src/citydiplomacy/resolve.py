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
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from rapidfuzz import fuzz, process

from . import countries
from .limits import check_deadline
from .text import normalize

__all__ = ["Place", "Candidate", "Resolution", "Gazetteer", "Resolver", "ACCEPT",
           "DOMINANCE", "FUZZY_ACCEPT", "FUZZY_CANDIDATE", "FUZZY_MARGIN", "FUZZY_MIN_LENGTH",
           "QUARTER_KM", "QUARTER_RATIO", "QUARTER_CITY_POP", "QUARTER_TOWN_POP", "UNKNOWN_FLOOR",
           "TERRITORIES", "with_territories"]

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
#: A city followed by a district number ("Budapest XI", "Prague 5") has at least this
#: many inhabitants; a district of a city this large may share its name with a town
#: elsewhere ("Belgrade – Mladenovac", "Seoul – Jung").
DISTRICT_CITY_POP = 100_000
#: Id prefix of a district the gazetteer does not hold, named by a list as part of a city.
DISTRICT_PREFIX = "district:"
_VOWELS = re.compile(r"[aeiouyj\W_]+")      # what transliterations of one name disagree on
_NUMBERED = re.compile(r"^(.*?\S)\s+([IVXLC]+|\d{1,2})\.?$")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}

#: Two GeoNames records of the same name and region this close are one place recorded
#: twice (a town and its municipality, a place and its administrative seat).
SAME_PLACE_KM = 10.0
#: A place within this distance of a town of another name with :data:`QUARTER_RATIO` ×
#: its population (and at least :data:`QUARTER_CITY_POP`) is a quarter of that town.
QUARTER_KM = 8.0
QUARTER_RATIO = 10.0
QUARTER_CITY_POP = 100_000
#: ... and the town chosen over it must have at least this many inhabitants.
QUARTER_TOWN_POP = 15_000
#: GeoNames gives some places no population (0): unknown, not small. A place dominates
#: such a record only with at least this many inhabitants.
UNKNOWN_FLOOR = 5_000

#: Dependent territories, searched when a name is not found in the country a list gives
#: ("Mariehamn, Finland" is in Åland, "La Possession, France" in Réunion).
TERRITORIES: dict[str, tuple[str, ...]] = {
    "FI": ("AX",), "CN": ("HK", "MO"), "DK": ("GL", "FO"), "NO": ("SJ",),
    "FR": ("RE", "GP", "MQ", "GF", "YT", "PF", "NC", "PM", "WF", "BL", "MF"),
    "NL": ("AW", "CW", "SX", "BQ"), "US": ("PR", "GU", "VI", "AS", "MP"),
    "GB": ("GI", "JE", "GG", "IM", "BM", "KY", "VG", "TC", "MS", "AI", "FK", "SH"),
    "AU": ("NF", "CX", "CC"), "NZ": ("TK",),
}


def with_territories(ccs: Iterable[str]) -> set[str]:
    """Country codes plus those of their dependent territories."""
    out = set(ccs)
    for cc in list(out):
        out.update(TERRITORIES.get(cc, ()))
    return out

#: Scores by rule (what the evidence is worth).
RULE_SCORE = {
    "identifier": 1.0, "unique_main_name": 0.98, "unique_alias": 0.95, "variant": 0.92,
    "region_hint": 0.93, "main_name": 0.9, "capital": 0.9, "dominant_population": 0.88,
    "not_a_quarter": 0.88,
    "district": 0.9, "territory": 0.9, "list_context": 0.9, "reciprocal": 0.9,
    "subdivision": 0.9, "new_district": 0.88, "supplement": 0.9, "supplement_confirms": 0.9,
}

_PREFIXES = ("city of ", "town of ", "municipality of ", "landeshauptstadt ", "hansestadt ",
             "stadt ", "gmina ", "miasto ", "comune di ", "ville de ", "ciudad de ", "borough of ",
             "village of ", "county of ", "district of ")
_SUFFIXES = (" municipality", " city", " town", " village", " commune", " municipal district")
#: A parenthesised qualifier that says the name is not a city: "Pinneberg (district)".
NOT_A_CITY = frozenset({"district", "county", "province", "region", "state", "oblast", "raion",
                        "prefecture", "department", "canton", "municipality", "borough",
                        "island", "islands", "governorate", "voivodeship"})
_LOCATOR = re.compile(r"^(.+?) (?:am|an der|an den|in der|ob der|auf der|vor der|bei) \S.*$")
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
    kind: str = "city"            # or "region": a subdivision (see citydiplomacy.subdivisions)
    code: str | None = None       # a region's ISO 3166-2 or FIPS code, or supplement:<id>
    parent: str | None = None     # a district's city (see Resolver._new_district)
    supplement: bool = False      # from the supplementary gazetteer (see citydiplomacy.supplement)

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
        #: Subdivisions (kind "region") by normalised name and country, and by code: kept
        #: apart so that a town's name never matches a county by accident.
        self.region_by_name: dict[tuple[str, str], list[str]] = {}
        self.by_code: dict[str, str] = {}
        #: Places of the supplementary gazetteer by normalised name and country: consulted
        #: only when the main index has no exact name (see citydiplomacy.supplement).
        self.extra_by_name: dict[tuple[str, str], list[str]] = {}
        #: Districts of cities by (city id, key): "n:<normalised name>" or "#<number>".
        self.districts: dict[tuple[str, str], str] = {}
        #: The names a new district was written as, for its aliases.
        self.district_names: dict[str, list[str]] = {}
        self._names_of: dict[str, list[str]] = {}     # place id -> its normalised names
        self._fuzzy: dict[str, list[str]] | None = None
        self._compact: dict[str, dict[str, list[str]]] | None = None
        self._regions: dict[str, set[str]] | None = None
        self._cities: dict[str, list[Place]] | None = None

    def add(self, place: Place, names: Iterable[str], *, normalized: bool = False) -> None:
        """Add a place with its names (raw, or already ``normalized``)."""
        if place.id in self.places:
            return
        self.places[place.id] = place
        if place.geonames_id:
            self.by_geonames[place.geonames_id] = place.id
        if place.wikidata:
            self.by_qid[place.wikidata] = place.id
        if place.code:
            self.by_code[place.code] = place.id
        norms = set(names) if normalized else {normalize(n) for n in names}
        self._index_names(place, norms | {place.norm})

    def _index_names(self, place: Place, norms: Iterable[str]) -> None:
        if place.parent:
            return          # a district is found through its city only (see districts)
        own = self._names_of.setdefault(place.id, [])
        index = self._index_of(place)
        for norm in norms:
            if norm and norm not in own:
                own.append(norm)
                index.setdefault((norm, place.cc), []).append(place.id)
        self._fuzzy = self._regions = self._compact = self._cities = None

    def _index_of(self, place: Place) -> dict[tuple[str, str], list[str]]:
        if place.kind == "region":
            return self.region_by_name
        return self.extra_by_name if place.supplement else self.by_name

    def remove(self, ids: Iterable[str]) -> None:
        for i in set(ids):
            p = self.places.pop(i, None)
            if p is None:
                continue
            if p.geonames_id and self.by_geonames.get(p.geonames_id) == i:
                del self.by_geonames[p.geonames_id]
            if p.wikidata and self.by_qid.get(p.wikidata) == i:
                del self.by_qid[p.wikidata]
            if p.code and self.by_code.get(p.code) == i:
                del self.by_code[p.code]
            index = self._index_of(p)
            for norm in self._names_of.pop(i, ()):
                members = index.get((norm, p.cc), [])
                if i in members:
                    members.remove(i)
                if not members:
                    index.pop((norm, p.cc), None)
        self._fuzzy = self._compact = self._cities = None

    def large_cities(self, cc: str) -> list[Place]:
        """Towns of a country with at least :data:`QUARTER_CITY_POP` inhabitants and
        coordinates (what a place may be a quarter of)."""
        if self._cities is None:
            self._cities = {}
            for p in self.places.values():
                if p.kind == "city" and not p.parent and p.lat is not None \
                        and p.population >= QUARTER_CITY_POP:
                    self._cities.setdefault(p.cc, []).append(p)
        return self._cities.get(cc, [])

    def regions(self, cc: str) -> set[str]:
        """Normalised first-level region names of a country."""
        if self._regions is None:
            self._regions = {}
            for p in self.places.values():
                if p.admin1 and p.kind == "city":
                    self._regions.setdefault(p.cc, set()).add(p.admin1)
        return self._regions.get(cc, set())

    def countries(self) -> set[str]:
        return {p.cc for p in self.places.values()}

    def compact_index(self, cc: str) -> dict[str, list[str]]:
        """A country's names by their letters without spaces ("yong in" → "yongin")."""
        if self._compact is None:
            idx: dict[str, dict[str, list[str]]] = {}
            for norm, c in self.by_name:
                idx.setdefault(c, {}).setdefault(norm.replace(" ", ""), []).append(norm)
            self._compact = idx
        return self._compact.get(cc, {})

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
    def from_store(cls, store, kinds: tuple[str, ...] = ("city", "region")) -> "Gazetteer":
        """All actors of ``kinds`` in the store with their aliases (regions: those with a
        subdivision code, see :mod:`citydiplomacy.subdivisions`)."""
        from sqlalchemy import select

        from .store.schema import actors, aliases

        gz = cls()
        with store.connect() as conn:
            rows = conn.execute(select(
                actors.c.id, actors.c.name, actors.c.kind, actors.c.country, actors.c.population,
                actors.c.admin1, actors.c.lat, actors.c.lon, actors.c.geonames_id, actors.c.wikidata,
                actors.c.attrs)
                .where(actors.c.kind.in_(kinds)))
            for r in rows:
                attrs = r.attrs or {}
                code = attrs.get("subdivision_code") if r.kind == "region" else None
                if attrs.get("supplement_id"):      # written from the supplementary gazetteer
                    code = f"supplement:{attrs['supplement_id']}"
                if r.kind == "region" and not code:
                    continue
                c = countries.lookup_code(r.country) if r.country else None
                gz.places[r.id] = Place(
                    id=r.id, name=r.name, cc=c.alpha2 if c else "", population=float(r.population or 0),
                    admin1=normalize(r.admin1) if r.admin1 else "", admin1_name=r.admin1,
                    capital=bool(attrs.get("capital")), lat=r.lat, lon=r.lon,
                    geonames_id=r.geonames_id, wikidata=r.wikidata, kind=r.kind, code=code)
                if r.geonames_id:
                    gz.by_geonames[r.geonames_id] = r.id
                if r.wikidata:
                    gz.by_qid[r.wikidata] = r.id
                if code:
                    gz.by_code[code] = r.id
                if attrs.get("district_of"):
                    gz.places[r.id].parent = attrs["district_of"]
                    for key in attrs.get("district_keys", ()):
                        gz.districts[(attrs["district_of"], key)] = r.id
            alias_rows = conn.execute(select(aliases.c.actor_id, aliases.c.norm)
                                      .join(actors, actors.c.id == aliases.c.actor_id)
                                      .where(actors.c.kind.in_(kinds)))
            for actor_id, norm in alias_rows:
                place = gz.places.get(actor_id)
                if place is None:
                    continue
                gz._index_names(place, _region_keys(norm) if place.kind == "region" else [norm])
        return gz


def district_keys(name: str | None, number: str | None) -> list[str]:
    """The keys a district is known by within its city: its normalised name, the name's
    consonants (two transliterations of one name, "Leninsky" / "Lyeninski", are one
    district of Minsk), its number."""
    keys = [f"n:{normalize(name)}"] if name else []
    skeleton = _VOWELS.sub("", normalize(name)) if name else ""
    if len(skeleton) >= 4:
        keys.append(f"s:{skeleton}")
    if number:
        keys.append(f"#{_arabic(number)}")
    return keys


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"),
                           (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _arabic(number: str) -> int:
    if number.isdigit():
        return int(number)
    values = [_ROMAN[c] for c in number.upper()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def district_id(parent: str, name: str | None, number: str | None) -> str:
    """The provisional id of a new district: ``district:<city id>|<name>|<number>``."""
    return f"{DISTRICT_PREFIX}{parent}|{name or ''}|{_arabic(number) if number else ''}"


def parse_district_id(place_id: str) -> tuple[str, str | None, int | None]:
    """(city id, name, number) of a provisional district id."""
    parent, name, number = place_id[len(DISTRICT_PREFIX):].rsplit("|", 2)
    return parent, name or None, int(number) if number else None


def _region_keys(norm: str) -> list[str]:
    from .subdivisions import designation_keys

    return designation_keys(norm)


def _km(a: Place, b: Place) -> float:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


#: Where "ue" is a way of writing "ü" (Muenchen), and where "ia" is a romanisation of "я"
#: (Tiachiv / Tyachiv): elsewhere these letters are just letters (Hoengseong, Korea).
GERMAN_SPELLING = frozenset({"DE", "AT", "CH", "LI", "LU", "BE", "IT"})
SLAVIC_SPELLING = frozenset({"UA", "BY", "RU", "KZ", "MD", "KG"})


def name_variants(name: str, cc: str | None = None) -> list[tuple[str, str]]:
    """(normalised variant, how) for a raw name, most literal first. Spelling variants
    that belong to some languages only are tried in their countries (all of them when
    ``cc`` is None)."""
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
    if german != n and (cc is None or cc in GERMAN_SPELLING):
        add(german, "transliteration")
    # Ukrainian and Belarusian romanisations write ia/iu/ie where GeoNames often has ya/yu/ye
    slavic = re.sub(r"(?<=[a-z])i([aue])", r"y\1", n)
    if slavic != n and (cc is None or cc in SLAVIC_SPELLING):
        add(slavic, "transliteration")
    # "Weiden in der Oberpfalz", "Rottenburg am Neckar": the town without its river or
    # neighbour (not "im <valley>": "Affoltern im Emmental" is not Zürich's Affoltern)
    locator = _LOCATOR.match(n)
    if locator:
        add(locator.group(1), "without_locator")
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
        m = _PAREN.match(name)
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
        comma = [p.strip() for p in name.split(",")]
        if len(comma) == 2:
            name, qualifier = comma[0], normalize(comma[1])
        if qualifier and not region_hint:
            region_hint = qualifier
        if cc is None:
            return self._without_country(query, name, region_hint, lat, lon)
        from .subdivisions import is_designated

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
        parts = [p for p in _DASH.split(name) if p.strip()]
        if len(parts) == 2 and "/" not in name:
            return self._district(query, parts, cc, region_hint)
        res = self._in_country(query, name, cc, region_hint, lat, lon)
        if res.resolved and region_hint and res.rule != "region_hint" \
                and self._known_hint(region_hint, cc) \
                and not self._consistent(self.gz.places[res.id], region_hint):
            # "Chaoyang (Beijing)" must not become the Chaoyang of another province
            res = Resolution(query, "ambiguous", None, 0.6, "qualifier_disagrees",
                             {**res.evidence, "qualifier": region_hint,
                              "reason": "the place found is neither in nor near the region or place named"},
                             res.candidates)
        if res.rule in ("no_match", "fuzzy_unsure"):
            # no town of that name: a borough, county or municipality ("Haringey")? (A
            # GeoNames admin2 division only when no town is even close: "Le Mont-Dore" is
            # the town Mont-Dore before it is the commune.)
            sub = self._subdivision(query, name, cc, region_hint, admin2=res.rule == "no_match")
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

    def _after_supplement(self, query, name, cc, region_hint, res: Resolution) -> Resolution:
        """``res`` (no exact name, or only a fuzzy one) weighed against the supplementary
        gazetteer: an exact name there ("Keçiören", "Yongin") beats a fuzzy one here,
        unless it lies near a fuzzy candidate — the same place under two names."""
        extra = self._supplement(query, name, cc, region_hint)
        km = {c.id: _km(self.gz.places[extra.id], self.gz.places[c.id])
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
                if c.population >= floor and c.id != p.id and c.norm != p.norm and _km(c, p) <= QUARTER_KM]
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
            ev["region_agrees"] = self._consistent(self.gz.places[ranked[0][0]], region_hint)
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
        from .subdivisions import designation_keys, is_second_level, powiat_key, seat_match

        none = Resolution(query, "unresolved", rule="no_match",
                          evidence={"reason": "no place or subdivision of that name in the country"})
        keys = designation_keys(name)
        seat = powiat_key(name) if cc == "PL" and admin2 else None
        # ISO 3166-2 and US counties first, under any key; GeoNames admin2 divisions after
        # (not a Polish county's seat: "Kraków County" is not the city county of Kraków)
        passes = [(k, False) for k in keys] + ([(k, True) for k in keys if k != seat] if admin2 else [])
        for key, second_level in passes:
            ids = list(dict.fromkeys(self.gz.region_by_name.get((key, cc), ())))
            places = [p for p in (self.gz.places[i] for i in ids) if is_second_level(p.code) == second_level]
            if not places:
                continue
            cands = [self._cand(p, key, "subdivision", 0.7) for p in places]
            ev = {"matched": key, "candidates": len(ids)}
            if region_hint and len(places) > 1:
                hit = [p for p in places if p.admin1 and fuzz.token_set_ratio(p.admin1, region_hint) >= 90]
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
        from .supplement import list_name

        for norm, how in name_variants(name, cc):
            ids = self.gz.extra_by_name.get((norm, cc))
            if not ids:
                continue
            places = same_place_once([self.gz.places[i] for i in dict.fromkeys(ids)])
            cands = [self._cand(p, norm, "supplement", 0.7) for p in places]
            lists = sorted({list_name(p.id) for p in places})
            ev = {"matched": norm, "variant": how, "candidates": len(places), "list": " / ".join(lists)}
            if region_hint and len(places) > 1:
                places = [p for p in places if self._consistent(p, region_hint)] or places
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
            m = _NUMBERED.match(name)
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
            if city is None or any(self._consistent(self.gz.places[c.id], normalize(qualifier))
                                   for c in res.candidates if c.id != city.id):
                return None           # a place of that name in or near the city exists
                                      # (not the city itself, a fuzzy match of the whole name)
            inner, number = self._city(base, cc)
            if inner is not None and inner.id == city.id and number:        # "Prague 5 (Prague)"
                return self._new_district(query, city, None, number)
            sub = self._subdivision({}, base, cc, "")
            if sub.resolved:                                                # "Karpoš (Skopje)"
                return self._ok(query, self.gz.places[sub.id], "district", {"city": city.id, **sub.evidence},
                                sub.candidates)
            if res.rule in ("ambiguous", "qualifier_disagrees") and city.population < DISTRICT_CITY_POP:
                return None           # "Lingen (Ems)", "Winsen (Luhe)": a town and its river
            return self._new_district(query, city, base, None)
        city, number = self._city(name, cc)
        if city is not None and number:
            return self._new_district(query, city, None, number)
        return None

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
        n = _arabic(number)
        figures = {normalize(number), str(n), _roman(n).lower()}
        prefixes = tuple(f"{name} {f}" for name in self.gz._names_of.get(city.id, [city.norm]) for f in figures)
        found = {pid for norm in self.gz.fuzzy_index(city.cc) if norm.startswith(prefixes)
                 and any(norm == p or norm.startswith(p + " ") for p in prefixes)
                 for pid in self.gz.by_name.get((norm, city.cc), ())
                 if _km(self.gz.places[pid], city) <= DISTRICT_KM}
        return found.pop() if len(found) == 1 else None

    def _district(self, query, parts, cc, region_hint) -> Resolution:
        city = self._in_country({}, parts[0], cc, region_hint, None, None)
        district = self._in_country({}, parts[1], cc, region_hint, None, None)
        parent, number = self._city(parts[0], cc)          # "Budapest XI" → Budapest, XI
        if district.resolved and parent is not None:
            d = self.gz.places[district.id]
            km = _km(d, parent)
            if km <= DISTRICT_KM:
                for key in district_keys(None, number):     # "Budapest XIX" is Kispest too
                    self.gz.districts.setdefault((parent.id, key), d.id)
                return self._ok(query, d, "district", {"city": parent.id, "km": round(km, 1),
                                                        **district.evidence}, district.candidates)
        if parent is not None:
            sub = self._subdivision({}, parts[1], cc, "")
            if sub.resolved:                                   # "Skopje – Karpoš"
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
            return (0 if (_DASH.search(name) or _PAREN.match(name)) else 1, pair)
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
    from .subdivisions import records

    recs = {p.id: records().get(p.code or "", {}) for p in places}
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
                   and (_km(k, p) <= SAME_PLACE_KM or (p.population > 0 and k.population == p.population))
                   for k in kept):
            kept.append(p)
    return kept


def _prior(p: Place) -> float:
    """A candidate's standing among exact matches: more populous places rank higher."""
    return round(0.5 + 0.05 * math.log10(p.population + 10), 3)
