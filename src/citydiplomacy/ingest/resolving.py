"""Name resolution for importers: the store's places plus, for the countries a file
names, the smaller GeoNames places (which an import adds when a tie uses them)."""

from __future__ import annotations

from typing import Iterable

from .. import geonames
from ..countries import parse_place
from ..resolve import Gazetteer, Resolution, Resolver
from ..search import search


class StoreResolver:
    """Resolve (name, country) pairs against a store, caching each distinct pair."""

    def __init__(self, store, country_cells: Iterable[str] = ()):
        self.gz = Gazetteer.from_store(store)
        ccs = {c.alpha2 for cell in set(country_cells) if (c := parse_place(cell)[0]) is not None}
        if ccs:
            geonames.extend_gazetteer(self.gz, ccs)
        self.resolver = Resolver(self.gz)
        self._cache: dict[tuple, Resolution] = {}

    def resolve(self, name: str, country: str | None = None, **kw) -> Resolution:
        key = (name, country, tuple(sorted(kw.items())))
        if key not in self._cache:
            self._cache[key] = self.resolver.resolve(name, country, **kw)
        return self._cache[key]

    def is_provisional(self, place_id: str) -> bool:
        return place_id.startswith(geonames.PROVISIONAL)


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


