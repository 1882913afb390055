"""The gazetteer: an in-memory index of the places the resolver can point at (towns,
subdivisions, districts of cities, supplementary places), by name, country, identifier
and code, built from the store or, during the default build, from the records being
loaded (see :mod:`.geonames`, :mod:`.subdivisions`, :mod:`.districts`, :mod:`.supplement`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from .. import countries
from ..text import normalize
from .names import designation_keys

#: Towns of at least this many inhabitants are what a place may be a quarter of (see
#: :meth:`citydiplomacy.resolve.Resolver.quarter_of`).
QUARTER_CITY_POP = 100_000


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
    kind: str = "city"            # or "region": a subdivision (see citydiplomacy.resolve.subdivisions)
    code: str | None = None       # a region's ISO 3166-2 or FIPS code, or supplement:<id>
    parent: str | None = None     # a district's city (see Resolver._new_district)
    supplement: bool = False      # from the supplementary gazetteer (see citydiplomacy.resolve.supplement)

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
        #: only when the main index has no exact name (see citydiplomacy.resolve.supplement).
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

    def rename(self, old_id: str, new_id: str) -> None:
        """A provisional place written to the store as actor ``new_id``: the gazetteer
        finds it under that id from now on (by its names, code, identifiers and, for a
        district, its keys within its city), as :meth:`from_store` would (a
        supplementary place becomes a place like any other)."""
        place = self.places.get(old_id)
        if place is None or old_id == new_id:
            return
        names = list(self._names_of.get(old_id, []))
        self.remove([old_id])
        place.id, place.in_store, place.supplement = new_id, True, False
        self.add(place, names, normalized=True)
        for key, pid in list(self.districts.items()):
            if pid == old_id:
                self.districts[key] = new_id
        if old_id in self.district_names:
            self.district_names[new_id] = self.district_names.pop(old_id)

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
        subdivision code, see :mod:`citydiplomacy.resolve.subdivisions`)."""
        from sqlalchemy import select

        from ..store.schema import actors, aliases

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
                    capital=bool(attrs.get("capital")),
                    # a derived point (a region's centroid, a district's city) is no evidence
                    lat=None if attrs.get("location_basis") else r.lat,
                    lon=None if attrs.get("location_basis") else r.lon,
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



def _region_keys(norm: str) -> list[str]:
    return designation_keys(norm)



def distance_km(a: Place, b: Place) -> float:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return math.inf
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


#: Where "ue" is a way of writing "ü" (Muenchen), and where "ia" is a romanisation of "я"
