"""What every importer produces (a :class:`Plan`) and the report of a run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field as _field
from typing import Any

from ..model import Actor, Initiative, Observation, Provenance
from ..resolve import Resolution


@dataclass
class Problem:
    """A row that was not loaded: rejected (bad data) or ambiguous/unresolved (a name)."""

    row: int | None
    reason: str
    field: str | None = None
    file: str | None = None
    kind: str = "rejected"              # rejected | ambiguous | unresolved
    value: str | None = None
    candidates: list[str] = _field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}


@dataclass
class ReviewRow:
    """An input row held back because a name in it is unsure: enough to finish it later.

    ``fields`` are the row's values; ``ends`` maps each name field to the id already
    resolved (or None); ``choices`` are the candidates a person picks from."""

    row: int
    fields: dict[str, str]
    ends: dict[str, str | None]
    candidates: dict[str, list[str]]
    reasons: dict[str, str]


@dataclass
class Plan:
    """Everything an import would write, before it is written."""

    importer: str
    source: str
    provenance: Provenance
    actors: list[tuple[Actor, dict[str | None, list[str]], Provenance]] = _field(default_factory=list)
    #: GeoNames places (cities500 records) that ties use and the store lacks
    towns: list[str] = _field(default_factory=list)
    #: new districts of cities among ``towns``: {place id: record} (citydiplomacy.resolve.districts)
    districts: dict[str, dict[str, Any]] = _field(default_factory=dict)
    #: (tie, target_type) or (tie, target_type, its own provenance)
    ties: list[tuple] = _field(default_factory=list)
    #: whole frameworks (data package round-trip): (framework row, item rows, title rows, provenance)
    frameworks: list[tuple[dict, list[dict], list[dict], Provenance]] = _field(default_factory=list)
    observations: list[Observation] = _field(default_factory=list)
    #: initiatives of actors: upserted by (actor, title), aligned when new or changed
    initiatives: list[Initiative] = _field(default_factory=list)
    #: (actor id, name, language, provenance): aliases with their own provenance
    aliases: list[tuple[str, str, str | None, Provenance]] = _field(default_factory=list)
    #: (actor id, {column: value}): fill empty identifier columns of existing actors
    updates: list[tuple[str, dict[str, Any]]] = _field(default_factory=list)
    problems: list[Problem] = _field(default_factory=list)
    review: list[ReviewRow] = _field(default_factory=list)
    rows_read: int = 0
    matched: Counter = _field(default_factory=Counter)                # rule -> count
    #: when set, ties of these types from an earlier version of the same source that
    #: this version no longer lists are closed (status ended, until = as_of)
    supersedes: tuple[str, ...] = ()
    #: the only actors whose own facts the plan's ties change (a single edit's tie between
    #: two actors: citydiplomacy.store.versions); None: the write may change anything
    touches: tuple[str, ...] | None = None
    options: dict[str, Any] = _field(default_factory=dict)
    #: what a person should know of this run, in a sentence each (a review: which rows it writes)
    notes: list[str] = _field(default_factory=list)

    def count_resolution(self, res: Resolution) -> None:
        if res.resolved:
            self.matched[res.rule] += 1

    def problem_from(self, res: Resolution, *, row: int, field_name: str, file: str | None) -> Problem:
        p = Problem(row=row, field=field_name, file=file, kind=res.status,
                    value=res.query.get("name"),
                    reason=res.evidence.get("reason") or res.rule or res.status,
                    candidates=[c.label() for c in res.candidates[:5]])
        self.problems.append(p)
        return p


@dataclass
class Report:
    """What an import run did (or, for a dry run, would do)."""

    importer: str
    source: str
    dry_run: bool
    run_id: int | None = None
    rows_read: int = 0
    matched: dict[str, int] = _field(default_factory=dict)
    created: dict[str, int] = _field(default_factory=dict)
    unchanged: dict[str, int] = _field(default_factory=dict)
    updated: dict[str, int] = _field(default_factory=dict)
    ended: int = 0
    problems: list[Problem] = _field(default_factory=list)
    review_file: str | None = None
    #: for edits: field -> [old, new]
    changes: dict[str, list] = _field(default_factory=dict)
    #: for editing.add_actor: the id of the actor added (or already there)
    actor: str | None = None
    #: the plan's notes (a review: which rows it writes and why)
    notes: list[str] = _field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(p.kind for p in self.problems)
        return {"rejected": c["rejected"], "ambiguous": c["ambiguous"], "unresolved": c["unresolved"]}

    @property
    def rows_resolved(self) -> int:
        """Rows read that raised no problem: every name in them resolved (in a twinning
        list, a pair resolved on both sides)."""
        return max(0, self.rows_read - len({(p.file, p.row) for p in self.problems if p.row is not None}))

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()) or self.ended or self.changes)

    def summary(self) -> dict[str, Any]:
        """What an audit entry keeps of the report: what changed, not the problem list."""
        keys = ("importer", "source", "run_id", "rows_read", "created", "updated", "unchanged", "ended",
                "rejected", "ambiguous", "unresolved", "changes")
        d = self.as_dict()
        return {k: d[k] for k in keys if k in d and d[k] not in (None, {}, [])}

    def as_dict(self) -> dict[str, Any]:
        return {"importer": self.importer, "source": self.source, "dry_run": self.dry_run,
                "run_id": self.run_id, "rows_read": self.rows_read, "matched_by_rule": self.matched,
                "created": self.created, "unchanged": self.unchanged, "updated": self.updated,
                "ended": self.ended, "rows_resolved": self.rows_resolved, **self.counts,
                "problems": [p.as_dict() for p in self.problems], "review_file": self.review_file,
                **({"changes": self.changes} if self.changes else {}),
                **({"actor": self.actor} if self.actor else {}),
                **({"notes": self.notes} if self.notes else {})}
