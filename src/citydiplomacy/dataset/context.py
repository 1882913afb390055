"""State shared by the dataset builders during one build."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Callable

import yaml
from sqlalchemy import Connection

from ..model import Actor, Provenance, Tie
from ..resolve import Gazetteer
from ..store import Store
from ..store import rows, schema


def data_path(*parts: str):
    """A file shipped in ``citydiplomacy/data``."""
    return resources.files("citydiplomacy").joinpath("data", *parts)


def load_yaml(*parts: str) -> Any:
    with data_path(*parts).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def provenance_from(d: dict[str, Any], *, default_licence: str = "facts; see url") -> Provenance:
    """A :class:`Provenance` from a curated ``source:`` mapping."""
    return Provenance.parse({
        "source": d.get("name") or d.get("source") or d.get("url"),
        "url": d.get("url"),
        "licence": d.get("licence") or default_licence,
        "as_of": d.get("as_of"),
        "note": d.get("note"),
    })


@dataclass
class BuildContext:
    """What the builders share: the connection, the run, and indexes built on the way."""

    store: Store
    conn: Connection
    run_id: int
    counts: dict[str, int] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    actor_ids: set[str] = field(default_factory=set)
    framework_ids: set[str] = field(default_factory=set)
    #: the places (cities) built so far, for resolving names; see citydiplomacy.resolve
    gazetteer: Gazetteer = field(default_factory=Gazetteer)
    #: (name, country cell) -> the ids of the actors in the store the twinning step
    #: resolved that place to (a set: a name the list's order settles can differ by row),
    #: or a reason it has none; set by the twinning step, used to apply curated changes
    place_lookup: Callable[[str, str], tuple[set[str], str | None]] | None = None
    _prov_cache: dict[tuple, int] = field(default_factory=dict)
    _tie_keys: set[tuple] = field(default_factory=set)

    def provenance(self, prov: Provenance) -> int:
        return self.store.add_provenance(self.conn, prov, self.run_id, self._prov_cache)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # -- rows ---------------------------------------------------------------------------

    def actor_row(self, actor: Actor, prov_id: int, importance: float | None = None) -> dict[str, Any]:
        return rows.actor_row(actor, prov_id, importance)

    def add_actors(self, actor_rows: list[dict[str, Any]]) -> None:
        for row in actor_rows:
            if row["id"] in self.actor_ids:
                raise ValueError(f"duplicate actor id '{row['id']}' in the default dataset")
            self.actor_ids.add(row["id"])
        self.store.insert_many(self.conn, schema.actors, actor_rows)
        self.count("actors", len(actor_rows))

    def alias_rows(self, actor_id: str, names: dict[str | None, list[str]] | list[str],
                   prov_id: int) -> list[dict[str, Any]]:
        return rows.alias_rows(actor_id, names, prov_id)

    def add_aliases(self, alias_rows: list[dict[str, Any]]) -> None:
        self.store.insert_many(self.conn, schema.aliases, alias_rows)
        self.count("aliases", len(alias_rows))

    def tie_row(self, tie: Tie, prov_id: int, target_type: str = "actor") -> dict[str, Any] | None:
        """A row for ``tie``, or None when the same tie was already added in this build."""
        key = rows.tie_key(tie)
        if key in self._tie_keys:
            return None
        self._tie_keys.add(key)
        return rows.tie_row(tie, prov_id, target_type)

    def add_ties(self, tie_rows: list[dict[str, Any] | None]) -> int:
        tie_rows = [r for r in tie_rows if r is not None]
        self.store.insert_many(self.conn, schema.ties, tie_rows)
        for r in tie_rows:
            self.count(f"ties.{r['type']}")
        return len(tie_rows)
