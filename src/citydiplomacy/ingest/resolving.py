"""Name resolution for importers: the store's places plus, for the countries a file
names, the smaller GeoNames places and the subdivisions (which an import adds when a tie
uses them)."""

from __future__ import annotations

from typing import Iterable

from ..resolve import districts, geonames, subdivisions, supplement
from ..countries import parse_place
from ..resolve import Gazetteer, Resolution, Resolver, with_territories
from ..search import search


class StoreResolver:
    """Resolve (name, country) pairs against a store, caching each distinct pair."""

    def __init__(self, store, country_cells: Iterable[str] = ()):
        self.gz = Gazetteer.from_store(store)
        self.resolver = Resolver(self.gz)
        self._cache: dict[tuple, Resolution] = {}
        self._countries: set[str] = set()
        self.extend(country_cells)

    def extend(self, country_cells: Iterable[str]) -> None:
        """Add the smaller GeoNames places and the subdivisions of the countries these
        cells name (and of their dependent territories), once per country."""
        ccs = {c.alpha2 for cell in set(country_cells) if cell and (c := parse_place(cell)[0]) is not None}
        new = with_territories(ccs) - self._countries
        if new:
            geonames.extend_gazetteer(self.gz, new)
            subdivisions.extend_gazetteer(self.gz, new)
            supplement.extend_gazetteer(self.gz, new)
            self._countries |= new
            self._cache.clear()

    def resolve(self, name: str, country: str | None = None, **kw) -> Resolution:
        key = (name, country, tuple(sorted(kw.items())))
        if key not in self._cache:
            self._cache[key] = self.resolver.resolve(name, country, **kw)
        return self._cache[key]

    def resolve_many(self, pairs) -> dict[tuple[str, str], Resolution]:
        """Distinct (name, country) pairs, composite names first (see Resolver.resolve_many)."""
        pairs = set(pairs)
        out = self.resolver.resolve_many(p for p in pairs if (p[0], p[1], ()) not in self._cache)
        for (name, country), res in out.items():
            self._cache[(name, country, ())] = res
        return {p: self._cache[(p[0], p[1], ())] for p in pairs}

    def is_provisional(self, place_id: str) -> bool:
        return is_provisional(place_id)


    def finish_plan(self, plan) -> None:
        """Give the plan the records of its new districts, and their cities when those
        are not in the store yet (a district is written under its city)."""
        plan.districts = {p: districts.record(self.gz, p) for p in plan.towns if districts.is_provisional(p)}
        parents = {r["city"] for r in plan.districts.values() if is_provisional(r["city"])}
        plan.towns = sorted(set(plan.towns) | parents)


def is_provisional(place_id: str) -> bool:
    """A place the resolver knows that is not yet in the store: a small GeoNames place, a
    subdivision or a new district of a city, written when a loaded tie uses it."""
    return (place_id.startswith(geonames.PROVISIONAL) or subdivisions.is_provisional(place_id)
            or districts.is_provisional(place_id) or supplement.is_provisional(place_id))


def describe(sr: StoreResolver, res: Resolution) -> dict:
    """A resolution for people and programs: the answer (an actor of the store, or a place
    or subdivision it does not hold yet, ``in_store`` false), its score, rule and evidence,
    and the ranked candidates when it is not sure."""
    out = {"query": res.query, "status": res.status, "id": None, "in_store": None, "score": res.score,
           "rule": res.rule, "evidence": res.evidence,
           "candidates": [{"id": c.id, "name": c.name, "country": c.country, "admin1": c.admin1,
                           "population": c.population, "score": c.score, "matched": c.matched}
                          for c in res.candidates]}
    if res.resolved:
        p = sr.gz.places[res.id]
        out.update(id=res.id, in_store=not is_provisional(res.id), name=p.name, kind=p.kind, country=p.cc,
                   admin1=p.admin1_name, geonames_id=p.geonames_id, code=p.code, part_of=p.parent,
                   list=supplement.list_name(p.id) if p.supplement else None)
    return out


def actor_exists(store, actor_id: str) -> bool:
    from sqlalchemy import select

    from ..store.schema import actors

    with store.connect() as conn:
        return conn.execute(select(actors.c.id).where(actors.c.id == actor_id)).first() is not None


def resolve_any(store, sr: StoreResolver, name: str, country: str | None) -> Resolution:
    """An actor id, a city (through the resolver), or another actor whose name or alias
    matches exactly and uniquely."""
    if name and actor_exists(store, name):
        return Resolution({"name": name}, "resolved", name, 1.0, "id")
    res = sr.resolve(name, country or None)
    if res.resolved or res.candidates:
        return res
    hits = [h for h in search(store, name, limit=5) if h["match"].startswith("exact") and h["kind"] != "city"]
    if len(hits) == 1:
        return Resolution({"name": name}, "resolved", hits[0]["id"], 0.95, "exact_name_other_kind")
    return res


