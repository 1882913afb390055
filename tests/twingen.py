"""A large twinning list made from the store's own cities, for tests and benchmarks of
imports under load: random pairs of real city names with their country names, so that
nearly every row resolves and becomes a new tie (the worst case for the write lock)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from sqlalchemy import select


def write_twinning(store, path: Path, rows: int, *, seed: int = 16, bad_row: int | None = None) -> Path:
    """Write ``rows`` pairs to ``path`` (CSV city1,country1,city2,country2). With
    ``bad_row``, that row (1-based, header excluded) is given an empty country and a
    broken quote so that the reader rejects the file."""
    from citydiplomacy import countries
    from citydiplomacy.store import schema

    a = schema.actors
    with store.connect() as conn:
        cities = [(r.name, r.country) for r in conn.execute(
            select(a.c.name, a.c.country).where(a.c.kind == "city", a.c.country.is_not(None))
            .order_by(a.c.id))]
    names: dict[str, str] = {}
    for _, cc in cities:
        if cc not in names:
            c = countries.lookup_code(cc)
            names[cc] = c.name if c else cc
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["city1", "country1", "city2", "country2"])
        for i in range(rows):
            (n1, c1), (n2, c2) = rng.sample(cities, 2)
            w.writerow([n1, names[c1], n2, names[c2]])
    return path
