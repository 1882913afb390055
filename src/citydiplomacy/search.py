"""Search actors by any name, alias or language, accent- and case-insensitively.

Ranking: each match gets ``log10(importance + 10)`` plus a bonus for how it matched —
exact main name (+3), exact alias (+2.5), main name starting with the query (+1),
alias starting with it (+0.3), a later word starting with it (+0; looked for only when
nothing matched at the start of a name, since it scans every alias). ``importance`` is a
city's population (times 10 for a capital), a state's population times 100, and a
fixed large value for organisations (see the dataset builders). So "Paris" finds the
capital of France before Paris, Texas, and "Washington" finds Washington, D.C. before
the small towns called exactly Washington.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import and_, select

from .errors import ValidationError
from .store import Store
from .store.schema import actors, aliases
from .text import normalize
from .vocab import Kind, Layer

BONUS = {"exact_name": 3.0, "exact_alias": 2.5, "prefix_name": 1.0, "prefix_alias": 0.3,
         "word": 0.0}
#: How many candidate rows a prefix or word query looks at before ranking.
CANDIDATES = 400

ACTOR_COLUMNS = (actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country,
                 actors.c.population, actors.c.admin1, actors.c.lat, actors.c.lon,
                 actors.c.wikidata, actors.c.geonames_id, actors.c.importance)


def _filters(kind: str | None, country: str | None, layer: str | None) -> list:
    from . import countries

    out = []
    if kind:
        try:
            Kind(kind)
        except ValueError:
            raise ValidationError(f"unknown kind '{kind}'", field="kind") from None
        out.append(actors.c.kind == kind)
    if layer:
        try:
            Layer(layer)
        except ValueError:
            raise ValidationError(f"unknown layer '{layer}'; use macro, meso or micro",
                                  field="layer") from None
        out.append(actors.c.layer == layer)
    if country:
        found = countries.lookup_name(country)
        if found is None:
            raise ValidationError(f"'{country}' is not a country name or ISO code", field="country")
        out.append(actors.c.country == found.alpha3)
    return out


def search(store: Store, text: str, *, kind: str | None = None, country: str | None = None,
           layer: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Actors matching ``text``, best first, each with ``score``, ``matched`` (the alias
    that matched) and ``match`` (how: exact_name, exact_alias, prefix_name, ...)."""
    q = normalize(text or "")
    if not q:
        raise ValidationError("give some letters or digits to search for", field="text")
    filters = _filters(kind, country, layer)
    base = select(*ACTOR_COLUMNS, aliases.c.name.label("matched"), aliases.c.norm).join(
        aliases, aliases.c.actor_id == actors.c.id)
    if store.is_postgres:
        # a pattern (text_pattern_ops) index answers it whatever the database's collation
        prefix = aliases.c.norm.like(_like_escape(q) + "_%", escape="\\")
    else:
        prefix = and_(aliases.c.norm > q, aliases.c.norm < q + "\U0010ffff")
    queries = [
        base.where(aliases.c.norm == q, *filters),
        base.where(prefix, *filters).order_by(actors.c.importance.desc()).limit(CANDIDATES),
    ]
    best: dict[str, dict[str, Any]] = {}
    with store.connect() as conn:
        for stmt in queries:
            _collect(conn.execute(stmt), q, best)
        if not best and len(q) >= 3:
            # on PostgreSQL the trigram index (pg_trgm) answers it; SQLite scans the aliases
            word = base.where(aliases.c.norm.like(f"% {_like_escape(q)}%", escape="\\"), *filters) \
                .order_by(actors.c.importance.desc()).limit(CANDIDATES)
            _collect(conn.execute(word), q, best)
    ranked = sorted(best.values(), key=lambda r: (-r["score"], r["id"]))
    return ranked[:limit]


def _like_escape(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _collect(rows, q: str, best: dict[str, dict[str, Any]]) -> None:
    for row in rows:
        r = row._asdict()
        name_norm = normalize(r["name"])
        if r["norm"] == q:
            how = "exact_name" if name_norm == q else "exact_alias"
        elif r["norm"].startswith(q):
            how = "prefix_name" if name_norm == r["norm"] else "prefix_alias"
        else:
            how = "word"
        score = math.log10((r["importance"] or 0) + 10) + BONUS[how]
        prev = best.get(r["id"])
        if prev is None or score > prev["score"]:
            r.pop("norm")
            r.update(score=round(score, 3), match=how)
            best[r["id"]] = r
