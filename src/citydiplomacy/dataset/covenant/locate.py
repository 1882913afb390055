"""Locating a signatory: the resolver on the name its row gives, then the row's
coordinates and population at adhesion as evidence (docs/data.md, "Covenant of Mayors").

- A name the resolver finds is kept when it lies within :data:`NEAR_KM` of the row's
  coordinates, or when those coordinates read right another way (latitude and longitude
  swapped; degrees and minutes written as decimals, 45.54 for 45°54'), or when the
  population at adhesion agrees; otherwise it is not taken (``coordinates_disagree``).
- A name of several places is settled by the one within :data:`NEAR_KM` (the resolver's
  rule ``coordinates``), by whole-degree coordinates (``coarse_coordinates``) or by the
  population at adhesion (``population``).
- A name the resolver does not find is looked for near the point: the one place close by
  whose name is the signatory's written another way (``coordinates_and_name``:
  "Masnou" / "El Masnou", "Baryshivska" / "Baryshivka").
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from rapidfuzz import fuzz

from ...resolve import Candidate, Place, Resolution, Resolver, geonames, name_variants, supplement
from ...resolve.gazetteer import distance_km
from ...resolve.names import DASH, is_designated
from ...resolve.resolver import same_place_once
from ...text import normalize
from .names import place_names

__all__ = ["NEAR_KM", "COARSE_KM", "GROUP_KM", "RADIUS", "NEARBY_KM", "NEARBY_CLOSE_KM", "NEARBY_SAME",
           "NEARBY_RATIO", "POPULATION_FACTOR", "NAME_PART_FACTOR", "REGION_KM", "Entry", "Locator", "degrees_minutes",
           "name_similarity", "related_names", "adjective_stems"]

#: Coordinates of quality ``ok`` lie within this distance of the place they name.
NEAR_KM = 30.0
#: Coordinates of quality ``coarse`` (a whole degree, often truncated) lie within this distance.
COARSE_KM = 160.0
#: A name of a group's list lies within this distance of the group's other municipalities
#: (their centre; Entry.coordinates ``group``).
GROUP_KM = 60.0
#: How far from each kind of coordinates the place they name may lie.
RADIUS = {"ok": NEAR_KM, "coarse": COARSE_KM, "group": GROUP_KM}
#: A place of a similar name this close to ``ok`` coordinates is the signatory, when the
#: name finds nothing (see :meth:`Locator.nearby`): a name alike to :data:`NEARBY_SAME`
#: within :data:`NEARBY_KM`, or to :data:`NEARBY_RATIO` within :data:`NEARBY_CLOSE_KM`
#: ("Sighnagi" / "Sighnaghi"; not "Hof HaSharon" / "Hod HaSharon", 9 km apart).
NEARBY_KM = 10.0
NEARBY_CLOSE_KM = 4.0
NEARBY_SAME = 95.0
NEARBY_RATIO = 88.0
#: An ambiguous name is settled by the population at adhesion when exactly one candidate
#: has a population within this factor of it.
POPULATION_FACTOR = 2.0
#: ... and a place near the point whose name is part of the signatory's, within this one.
NAME_PART_FACTOR = 1.5
#: A municipality no gazetteer holds takes the region of the nearest known place of its
#: country within this distance (the grid reaches about 15 km).
REGION_KM = 15.0


@dataclass
class Entry:
    """A municipality to locate: a signatory's row, or one name of a group's list."""

    name: str
    cc: str
    lat: float | None = None
    lon: float | None = None
    coordinates: str = "missing"
    population: int | None = None


class _Grid:
    """Places with coordinates in cells of 0.2°, for "what lies near this point"."""

    CELL = 0.2

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)

    def add(self, lat: float, lon: float, ref: str) -> None:
        self.cells[(math.floor(lat / self.CELL), math.floor(lon / self.CELL))].append((lat, lon, ref))

    def near(self, lat: float, lon: float, km: float) -> Iterable[tuple[float, str]]:
        """(distance, ref) of the places within ``km`` (at most ~15 km)."""
        i, j = math.floor(lat / self.CELL), math.floor(lon / self.CELL)
        probe = Place("?", "", "", lat=lat, lon=lon)
        dlat = km / 110.0                                   # a degree of latitude is ~111 km
        dlon = km / (111.3 * max(math.cos(math.radians(lat)), 0.1))
        for di in (-1, 0, 1):
            for dj in (-2, -1, 0, 1, 2):
                for plat, plon, ref in self.cells.get((i + di, j + dj), ()):
                    if abs(plat - lat) > dlat or abs(plon - lon) > dlon:
                        continue
                    d = distance_km(probe, Place("?", "", "", lat=plat, lon=plon))
                    if d <= km:
                        yield d, ref


class Locator:
    """Resolve signatories to places: the resolver on the name, then the coordinates and
    the population at adhesion as evidence (see docs/data.md)."""

    def __init__(self, resolver: Resolver, ccs: Iterable[str]):
        self.resolver = resolver
        self.gz = resolver.gz
        self.ccs = set(ccs)
        self._grid: _Grid | None = None
        self._name_cache: dict[str, list[str]] = {}
        #: places found near a point that the gazetteer lacked: added by :meth:`commit`
        #: (adding one at a time would rebuild the gazetteer's indexes each time)
        self.pending: dict[str, tuple[Place, set[str]]] = {}

    def _build_grid(self) -> _Grid:
        """Every place with coordinates in the signatories' countries: the gazetteer's, and
        GeoNames' and the supplementary list's places it does not hold (by reference;
        their names are read when a point needs them)."""
        grid = _Grid()
        for pid, p in self.gz.places.items():
            if p.lat is not None and p.cc in self.ccs and p.kind == "city" and not p.parent:
                grid.add(p.lat, p.lon, pid)
        known = set(self.gz.by_geonames)
        for gid, rec in geonames.load_records("cities500.json").items():
            if rec["countrycode"] in self.ccs and int(gid) not in known:
                grid.add(rec["latitude"], rec["longitude"], f"{geonames.PROVISIONAL}{gid}")
        for rid, rec in supplement.records().items():
            pid = f"{supplement.PROVISIONAL}{rid}"
            if rec["country"] in self.ccs and rec["lat"] and pid not in self.gz.places \
                    and supplement.code_of(rec) not in self.gz.by_code:
                grid.add(float(rec["lat"]), float(rec["lon"]), pid)
        return grid

    def _names(self, pid: str) -> list[str]:
        """The normalised names of a place of the grid."""
        if pid not in self._name_cache:
            if pid in self.gz.places:
                p = self.gz.places[pid]
                names = list(self.gz._names_of.get(pid, [])) or [p.norm]
            elif pid.startswith(geonames.PROVISIONAL):
                rec = geonames.record_of(pid)
                names = list({normalize(x) for x in (rec["name"], *rec.get("alternatenames", ()))})
            else:
                names = list(supplement.keys_of(supplement.record_of(pid)))
            self._name_cache[pid] = names
        return self._name_cache[pid]

    def near(self, lat: float, lon: float, km: float) -> list[tuple[float, Place]]:
        """(distance, place) of the places within ``km`` of a point (at most ~15 km)."""
        if self._grid is None:
            self._grid = self._build_grid()
        return [(d, self._place(ref)) for d, ref in self._grid.near(lat, lon, km)]

    def _place(self, pid: str) -> Place:
        """The place of ``pid``: the gazetteer's, or a provisional one made from its record."""
        if pid in self.gz.places:
            return self.gz.places[pid]
        if pid not in self.pending:
            if pid.startswith(geonames.PROVISIONAL):
                rec = geonames.record_of(pid)
                norms = {normalize(x) for x in (rec["name"], *rec.get("alternatenames", ()))}
                self.pending[pid] = (geonames.place_from_record(rec, pid, in_store=False), norms)
            else:
                rec = supplement.record_of(pid)
                self.pending[pid] = (supplement.place(rec, pid), supplement.keys_of(rec))
        return self.pending[pid][0]

    def commit(self) -> None:
        """Add the places found near points to the gazetteer."""
        for place, norms in self.pending.values():
            self.gz.add(place, norms, normalized=True)
        self.pending.clear()

    def place(self, pid: str) -> Place:
        return self._place(pid)

    def region_near(self, lat: float, lon: float, cc: str, km: float = REGION_KM) -> str | None:
        """The first-level region of the nearest place of country ``cc`` within ``km`` of a
        point: the region of a municipality no gazetteer holds (regions are large, so a
        neighbour a few kilometres away is almost always in the same one)."""
        found = sorted(((d, p) for d, p in self.near(lat, lon, km) if p.cc == cc and p.admin1_name),
                       key=lambda dp: dp[0])
        return found[0][1].admin1_name if found else None

    def nearby(self, query: dict, name: str, lat: float, lon: float) -> Resolution | None:
        """The one place within :data:`NEARBY_KM` of the point whose name is the
        signatory's written another way (see :func:`name_similarity`), ahead of any other
        nearby place's name by 5 points."""
        if self._grid is None:
            self._grid = self._build_grid()
        norms = [v for v, _ in name_variants(name)]
        if not norms or len(norms[0].replace(" ", "")) < 4:
            return None
        norms += adjective_stems(norms[0])
        best: dict[str, tuple[float, float, str]] = {}
        for d, ref in self._grid.near(lat, lon, NEARBY_KM):
            names = self._names(ref)
            score, matched = max(((name_similarity(q, n), n) for q in norms for n in names), default=(0.0, ""))
            if any(_contradicts(q, n) for q in norms[:1] for n in names):
                continue            # "vistabella del maestrazgo" is not "vistabella de huerva"
            if score >= NEARBY_RATIO - 5 and (ref not in best or score > best[ref][0]):
                best[ref] = (score, d, matched)
        if not best:
            return None
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        top, (score, d, matched) = ranked[0]
        if score < NEARBY_RATIO or (score < NEARBY_SAME and d > NEARBY_CLOSE_KM):
            return None
        rivals = [self._place(r) for r, (sc, _, _) in ranked[1:] if sc > score - 5]
        place = self._place(top)
        if rivals and len(same_place_once([place, *rivals])) > 1:
            return None
        return Resolution(query, "resolved", place.id, round(min(score, 100.0) / 100 - 0.05, 3),
                          "coordinates_and_name", {"matched": matched, "ratio": round(score, 1), "km": round(d, 1)})

    def _check_far(self, res: Resolution, e: Entry) -> Resolution:  # noqa: C901
        """A place found by its name but far from ``ok`` coordinates: kept when the
        coordinates read right another way (latitude and longitude swapped, or degrees
        and minutes written as decimals: 45.54 for 45°54') or when the population at
        adhesion agrees; otherwise the name's place is not taken (rule
        ``coordinates_disagree``)."""
        p = self._place(res.id)
        km = res.evidence["km"]
        for how, point in (("swapped", (e.lon, e.lat)), ("degrees_minutes", degrees_minutes(e.lat, e.lon))):
            if point and -90 <= point[0] <= 90 and -180 <= point[1] <= 180 and \
                    distance_km(p, Place("?", "", "", lat=point[0], lon=point[1])) <= NEAR_KM:
                res.evidence["coordinates_read"] = how
                return res
        if e.population and p.population > 0 and \
                1 / POPULATION_FACTOR <= p.population / e.population <= POPULATION_FACTOR:
            res.evidence["coordinates_off_population_agrees"] = True
            return res
        return Resolution(res.query, "ambiguous", None, 0.6, "coordinates_disagree",
                          {**res.evidence, "reason": f"{p.name} lies {km:.0f} km from the signatory's coordinates "
                                                     "and its population differs"},
                          res.candidates or [_candidate(p)])

    def locate(self, e: Entry) -> Resolution:
        """A signatory's place, or why there is none (see the module docstring)."""
        exact = e.coordinates == "ok" and e.lat is not None
        readings = place_names(e.name)
        tried_nearby = False
        if exact and not any(self._known(name, e.cc) for name, _ in readings):
            # no place carries the name at all: what lies at the point comes first (and
            # spares the resolver's fuzzy search, the costliest of its steps)
            found = self._nearby_point(readings[0][0], e)
            if found is not None:
                return found
            found = self.name_part({"name": e.name, "country": e.cc, "region": None}, readings[0][0], e)
            if found is not None:
                return found
            if not _NUMBERED.search(readings[0][0]):
                # nothing of that name anywhere, nothing like it at the point: a name
                # elsewhere that is merely close (the resolver's fuzzy step) would be far
                # from the coordinates, and is not taken for that
                return Resolution({"name": e.name, "country": e.cc, "region": None}, "unresolved",
                                  rule="no_match", evidence={
                                      "name_read": readings[0][0],
                                      "reason": "no place of that name in the country, none of a like name "
                                                "at its coordinates"})
            tried_nearby = True
        res = None
        for name, hint in readings:
            attempt = self._by_name(name, hint, e)
            if res is None or attempt.resolved:
                res = attempt
            if res.resolved:
                return res
        if exact:
            name = res.evidence["name_read"]
            found = None if tried_nearby else self._nearby_point(name, e)
            if found is None:
                found = self.name_part(res.query, name, e)
            if found is not None:
                return found
        return res

    def _known(self, name: str, cc: str) -> bool:
        """Does any place or subdivision of the country carry the name (or a variant)?"""
        if is_designated(name) or "(" in name or DASH.search(name):
            return True            # a county, a district, a qualified name: the resolver's business
        return any((v, cc) in index for v, _ in name_variants(name, cc)
                   for index in (self.gz.by_name, self.gz.extra_by_name, self.gz.region_by_name))

    def _nearby_point(self, name: str, e: Entry) -> Resolution | None:
        query = {"name": e.name, "country": e.cc, "region": None}
        for point, how in (((e.lat, e.lon), None), (degrees_minutes(e.lat, e.lon), "degrees_minutes")):
            found = self.nearby(query, name, *point) if point else None
            if found is not None:
                found.evidence.update(name_read=name, **({"coordinates_read": how} if how else {}))
                return found
        return None

    def _by_name(self, name: str, hint: str | None, e: Entry) -> Resolution:
        """The resolver on one reading of the name, weighed against the row's coordinates
        and population."""
        radius = RADIUS.get(e.coordinates)
        point = radius is not None and e.lat is not None
        exact = point and e.coordinates == "ok"
        res = self.resolver.resolve(name, e.cc, region=hint, lat=e.lat if exact else None,
                                    lon=e.lon if exact else None)
        res.evidence["name_read"] = name
        if res.resolved and point:
            p = self._place(res.id)
            if p.lat is not None:
                km = distance_km(p, Place("?", "", "", lat=e.lat, lon=e.lon))
                res.evidence["km"] = round(km, 1)
                if km > radius:
                    res = self._check_far(res, e)
        if res.resolved:
            return res
        if exact and res.rule == "ambiguous":
            dm = degrees_minutes(e.lat, e.lon)
            if dm:
                again = self.resolver.resolve(name, e.cc, region=hint, lat=dm[0], lon=dm[1])
                if again.resolved and again.rule == "coordinates":
                    again.evidence.update(name_read=name, coordinates_read="degrees_minutes")
                    return again
        if res.status == "ambiguous" and res.candidates and res.rule in ("ambiguous", "ambiguous_subdivision"):
            settled = self._settle(res, e)
            if settled is not None:
                settled.evidence["name_read"] = name
                return settled
        return res

    def related(self, name: str, lat: float, lon: float, km: float = NEARBY_CLOSE_KM) -> list[tuple[float, Place]]:
        """Places within ``km`` of a point whose name shares a telling word with ``name``
        or contains it ("Heusden" for "Heusden-Zolder", "Basse Lasne" for "Lasne")."""
        query = normalize(name)
        out = []
        for d, p in self.near(lat, lon, km):
            if p.kind == "city" and any(related_names(query, n) for n in self._names(p.id)):
                out.append((d, p))
        return sorted(out, key=lambda dp: dp[0])

    def name_part(self, query: dict, name: str, e: Entry) -> Resolution | None:
        """The one place near the point whose name is part of the signatory's (or the
        other way round) and whose population agrees with the population at adhesion
        (rule ``name_part_and_population``: "Heusden-Zolder" → Heusden, pop 31,017;
        "Pula-Pola" → Pula)."""
        if not e.population:
            return None
        fit = same_place_once([p for _, p in self.related(name, e.lat, e.lon)
                               if p.population > 0 and 1 / NAME_PART_FACTOR <= p.population / e.population
                               <= NAME_PART_FACTOR])
        if len(fit) != 1:
            return None
        p = fit[0]
        return Resolution(query, "resolved", p.id, 0.88, "name_part_and_population",
                          {"name_read": name, "matched": p.name, "population_at_adhesion": e.population,
                           "population": int(p.population),
                           "km": round(distance_km(p, Place("?", "", "", lat=e.lat, lon=e.lon)), 1)})

    def _settle(self, res: Resolution, e: Entry) -> Resolution | None:
        """An ambiguous name settled by coarse coordinates (one candidate within
        :data:`COARSE_KM`) or by the population at adhesion (one candidate within
        :data:`POPULATION_FACTOR` of it)."""
        places = [self._place(c.id) for c in res.candidates]
        ev = {k: v for k, v in res.evidence.items() if k != "reason"}
        if e.coordinates in ("coarse", "group") and e.lat is not None:
            probe = Place("?", "", "", lat=e.lat, lon=e.lon)
            near = same_place_once([p for p in places if distance_km(p, probe) <= RADIUS[e.coordinates]])
            if len(near) == 1:
                return Resolution(res.query, "resolved", near[0].id, 0.9, f"{e.coordinates}_coordinates",
                                  {**ev, "km": round(distance_km(near[0], probe), 1)}, res.candidates)
        if e.population:
            fit = same_place_once([p for p in places if p.population > 0
                                   and 1 / POPULATION_FACTOR <= p.population / e.population <= POPULATION_FACTOR])
            if len(fit) == 1:
                return Resolution(res.query, "resolved", fit[0].id, 0.88, "population",
                                  {**ev, "population_at_adhesion": e.population,
                                   "population": int(fit[0].population)}, res.candidates)
        return None


def _candidate(p: Place) -> Candidate:
    return Candidate(id=p.id, name=p.name, country=p.cc, admin1=p.admin1_name, population=int(p.population),
                     score=0.6, matched=p.norm, how="name")


def degrees_minutes(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Coordinates written as degrees and minutes (45.54 for 45°54') read as such, or
    None when they cannot be (minutes of 60 or more)."""
    if lat is None or lon is None:
        return None
    out = []
    for v in (lat, lon):
        sign, v = (-1 if v < 0 else 1), abs(v)
        deg = int(v)
        minutes = round((v - deg) * 100, 6)
        if minutes >= 60:
            return None
        out.append(sign * (deg + minutes / 60))
    return out[0], out[1]


#: Words that may stand before a name or open its tail without changing the place:
#: "El Masnou" / "Masnou", "Caravaca de la Cruz" / "Caravaca".
_ARTICLES = frozenset({"el", "la", "les", "los", "las", "l", "il", "o", "a", "as", "os", "le"})
_LINKS = frozenset({"de", "del", "della", "delle", "dei", "di", "d", "da", "do", "dos", "das", "du", "des", "sul",
                    "sulla", "sur", "am", "an", "im", "in", "ob", "nad", "pod", "na", "en", "i", "y", "u"})


def _contradicts(query: str, name: str) -> bool:
    """Does a place's name extend the first word of the query with another tail
    ("vistabella del maestrazgo" against "vistabella de huerva")?"""
    q, n = query.split(), name.split()
    return (len(q) > 1 and len(n) > 1 and q[0] == n[0] and q[1] in _LINKS and n[1] in _LINKS
            and fuzz.ratio(query, name) < NEARBY_RATIO)


def adjective_stems(norm: str) -> list[str]:
    """A Ukrainian community named by the adjective of its seat ("Baryshivska",
    "Radyvylivska", "Olevska") read as the seat: "baryshivka", "radyvyliv", "olevsk"."""
    words = norm.split()
    if len(words) != 1 or not words[0].endswith("ska") or len(words[0]) < 7:
        return []
    stem = words[0][:-3]
    return [stem, stem + "ka", stem + "k", stem + "sk", stem + "ske"]


_NUMBERED = re.compile(r"\b(?:[IVXL]+|\d+)\b")

#: Words too common in place names to say that two names are related.
_GENERIC = frozenset("""san santa sant santo saint sankt sint st terme bagni valle val vall monte castel castello
castell villa vila ville nuovo nuova nova novo novi nove alto alta alte bajo baja de del della la el les los
las di da do dos du des sul sur am an der den city town municipality comune mare marina lago grand grande
nord sud est ovest upper lower new old gorny dolny horni dolni velky velke mala maly male nagy kis vecchia
vecchio superiore inferiore sopra sotto campo puerto porto port pont ponte torre torres""".split())


def related_names(a: str, b: str) -> bool:
    """Do two normalised names share a telling word (four letters or more, not a common
    one such as "San" or "Terme"), or does one contain the other ("bondione" in
    "valbondione")?"""
    wa = {w for w in a.split() if len(w) >= 4 and w not in _GENERIC}
    wb = {w for w in b.split() if len(w) >= 4 and w not in _GENERIC}
    if wa & wb:
        return True
    short, long_ = sorted((a.replace(" ", ""), b.replace(" ", "")), key=len)
    return len(short) >= 5 and short in long_ and short not in _GENERIC


def name_similarity(a: str, b: str) -> float:
    """How alike two normalised names are (0-100): rapidfuzz's ratio, or 100 when one is
    the other with a leading article ("el masnou") or a tail that opens with a linking
    word ("caravaca de la cruz", "ciutadella de menorca")."""
    score = fuzz.ratio(a, b)
    if score >= 100 or not a or not b:
        return score
    short, long_ = sorted((a.split(), b.split()), key=len)
    if len(" ".join(short)) >= 4 and len(short) < len(long_):
        n = len(short)
        if long_[-n:] == short and all(w in _ARTICLES for w in long_[:-n]):
            return 100.0
        if long_[:n] == short and long_[n] in _LINKS:
            return 100.0
    return score
