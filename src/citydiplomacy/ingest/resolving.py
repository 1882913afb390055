"""Name resolution for importers: the store's places plus, for the countries a file
names, the smaller GeoNames places (which an import adds when a tie uses them)."""

from __future__ import annotations

from typing import Iterable

from .. import geonames
from ..countries import parse_place
from ..resolve import Gazetteer, Resolution, Resolver


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
