"""Applying a plan to the store: atomic, idempotent, with history — and a short write lock.

An import is applied in two steps so that it holds SQLite's write lock (one writer at a
time: logins, edits and other imports wait for it) only while it writes:

1. **prepare** — reading only, from one consistent snapshot, without any lock: work out
   every row the plan writes (new places with their names, ties to insert or update,
   observations, initiatives with their alignments) and fill in the report. A dry run
   stops here: it never takes the write lock.
2. **write** — one transaction: take the lock, check what other writers changed since the
   snapshot, insert the prepared rows in batches (``executemany``), commit. Killed or
   failing at any point, the transaction is rolled back and the store is as before.

Measured on the built store (2 cores, docs/import.md): a twinning list of 200,000 rows
(177,642 new ties) held the lock 145 s when every row was looked up and written inside the
transaction; prepared beforehand, the write holds it about 3 s.

If another writer committed between the snapshot and the write, the write checks the rows
that can collide: ties someone else added since (left as they are: counted unchanged), new
actors whose id was taken meanwhile, and any constraint that fails. A real collision
(rare) makes the import prepare again from a new snapshot, at most three times.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field as _field
from typing import Any

from sqlalchemy import JSON, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import progress
from ..errors import StoreError
from ..limits import check_deadline
from ..resolve import districts, geonames, subdivisions, supplement
from ..model import Provenance, Tie
from ..store import Store, rows, schema
from .base import Plan, Problem, Report

#: rows written per executemany (and between two progress reports / cancellation checks)
BATCH = 5_000
#: a plan with at least this many ties reads the store's ties of its types at once
#: instead of looking each one up
BULK_TIES = 500
#: how often a write that collides with another writer's is prepared again
ATTEMPTS = 3


class _Conflict(Exception):
    """Another writer changed rows this write depends on since the snapshot."""


def apply_plan(store: Store, plan: Plan, *, dry_run: bool = False, busy_timeout: float | None = None,
               audit: tuple[str, str, str | None] | None = None) -> Report:
    """Write ``plan`` atomically (nothing, when ``dry_run``); return the report.

    - actors already in the store (same id) are left as they are;
    - a tie already present (same source, target, type, start) is unchanged, or updated
      when its status or end changed;
    - when the plan ``supersedes`` earlier versions of its source, ties of those types
      from that source that this version no longer lists are ended (``until`` = the new
      version's as-of date) — the history stays in the store;
    - observations are upserted by (actor, indicator, year);
    - initiatives are upserted by (actor, title); a new or changed one is aligned with
      the SDGs and the Paris Agreement and its alignments replaced.

    ``busy_timeout``: how long the write waits for another writer's lock (default: the
    store's), then raises :class:`~citydiplomacy.errors.StoreBusyError`. ``audit`` =
    (who, what): when the import changes the store, the audit log records who's
    ``import.apply`` of what, in the same transaction.
    """
    for _attempt in range(ATTEMPTS):
        report = Report(importer=plan.importer, source=plan.source, dry_run=dry_run,
                        rows_read=plan.rows_read, matched=dict(plan.matched), problems=list(plan.problems),
                        notes=list(plan.notes))
        progress.report("checking against the store")
        with store.snapshot() as conn:
            changes = _Preparer(conn, plan, report).run()
        if dry_run:
            return report
        try:
            _write(store, plan, changes, report, busy_timeout, audit)
            return report
        except _Conflict:
            continue
    raise StoreError("other writers kept changing the rows this import writes; nothing was written. "
                     "Run the import again.")


# -- step 1: prepare (read only) ---------------------------------------------------------------------

@dataclass
class _Changes:
    """The rows an import writes. ``provenance_id`` in the rows is an index into ``provs``
    until the write gives the records their ids."""

    provs: list[Provenance] = _field(default_factory=list)
    actors: list[dict[str, Any]] = _field(default_factory=list)
    aliases: list[dict[str, Any]] = _field(default_factory=list)
    place_ties: list[dict[str, Any]] = _field(default_factory=list)        # located_in of new places
    frameworks: list[tuple[dict, list[dict], list[dict], int]] = _field(default_factory=list)
    actor_updates: list[tuple[str, dict[str, Any]]] = _field(default_factory=list)
    ties: list[dict[str, Any]] = _field(default_factory=list)
    tie_updates: list[dict[str, Any]] = _field(default_factory=list)
    observations: list[dict[str, Any]] = _field(default_factory=list)
    observation_updates: list[dict[str, Any]] = _field(default_factory=list)
    #: (initiative row, id of the row it updates or None, alignment rows, axes found or None)
    initiatives: list[tuple[dict[str, Any], int | None, list[dict[str, Any]], str | None]] = \
        _field(default_factory=list)
    #: tie keys this plan lists (for ending the ones an earlier version listed)
    seen: set[tuple] = _field(default_factory=set)
    #: the inserted rows, ready for executemany (made from the lists above by the preparer)
    bulk: dict[str, "_Bulk"] = _field(default_factory=dict)
    #: what identifies the snapshot: the last import run and the highest tie id then
    last_run: int | None = None
    last_tie: int | None = None


@dataclass
class _Bulk:
    """Rows of one table ready for ``executemany``: values in the store's form (JSON
    columns serialised), the provenance index last, sorted by the table's key — all done
    before the write lock is taken."""

    table: Any
    columns: list[str]
    rows: list[tuple]

    @classmethod
    def of(cls, table, dict_rows: list[dict[str, Any]], *, key: tuple[str, ...] = ()) -> "_Bulk":
        if not dict_rows:
            return cls(table, [], [])
        columns = [c for c in dict_rows[0] if c != "provenance_id"] + ["provenance_id"]
        as_json = [isinstance(table.c[c].type, JSON) for c in columns]
        out = [tuple(json.dumps(r.get(c)) if j else r.get(c) for c, j in zip(columns, as_json)) for r in dict_rows]
        if key:
            # inserting in the order of the unique index keeps its pages (and the
            # source index's) in cache: a quarter less time under the lock, measured
            pos = [columns.index(k) for k in key]
            out.sort(key=lambda t: tuple(t[i] or "" for i in pos))
        return cls(table, columns, out)

    def __len__(self) -> int:
        return len(self.rows)


class _Preparer:
    """Works out the rows of a plan against a snapshot of the store (the logic of the
    write, without writing)."""

    def __init__(self, conn, plan: Plan, report: Report):
        self.conn, self.plan, self.report = conn, plan, report
        self.ch = _Changes()
        self._prov: dict[tuple, int] = {}
        self._regions: dict[str, str] | None = None      # subdivision code -> region actor
        self._known: dict[str, bool] = {}                 # actor id -> in the store
        self._refs: dict[str, bool] = {}                  # framework or item -> in the store
        self._all_ids: set[str] | None = None
        self._new: dict[str, dict[str, Any]] = {}         # actor id -> new actor row

    def count(self, what: dict[str, int], key: str, n: int = 1) -> None:
        what[key] = what.get(key, 0) + n

    def provenance(self, prov: Provenance) -> int:
        key = tuple(prov.model_dump().values())
        if key not in self._prov:
            self._prov[key] = len(self.ch.provs)
            self.ch.provs.append(prov)
        return self._prov[key]

    def run(self) -> _Changes:
        plan, ch = self.plan, self.ch
        ch.last_run = self.conn.execute(select(func.max(schema.import_runs.c.id))).scalar()
        ch.last_tie = self.conn.execute(select(func.max(schema.ties.c.id))).scalar() or 0
        if len(plan.ties) >= BULK_TIES:
            self._all_ids = set(self.conn.execute(select(schema.actors.c.id)).scalars())
        mapping = self.towns(plan.towns)
        self.frameworks()
        self.actors()
        self.aliases()
        self.updates()
        self.ties(mapping)
        if plan.supersedes:
            self.report.ended = len(ties_to_end(self.conn, plan, ch.seen))
        self.observations()
        self.initiatives()
        progress.report("preparing the rows")
        ch.bulk = {
            "actors": _Bulk.of(schema.actors, ch.actors),
            "aliases": _Bulk.of(schema.aliases, ch.aliases),
            "place_ties": _Bulk.of(schema.ties, ch.place_ties),
            "ties": _Bulk.of(schema.ties, ch.ties, key=("source", "target", "type", "since")),
            "observations": _Bulk.of(schema.observations, ch.observations),
        }
        return ch

    # -- actors -----------------------------------------------------------------------

    def exists(self, actor_id: str) -> bool:
        if actor_id in self._new:
            return True
        if self._all_ids is not None:
            return actor_id in self._all_ids
        if actor_id not in self._known:
            self._known[actor_id] = self.conn.execute(
                select(schema.actors.c.id).where(schema.actors.c.id == actor_id)).first() is not None
        return self._known[actor_id]

    def towns(self, provisional: list[str]) -> dict[str, str]:
        """GeoNames places a tie names that the store lacks: add them as cities."""
        mapping: dict[str, str] = {}
        if not provisional:
            return mapping
        prov_id = None
        later = []
        by_geonames = {r["geonames_id"]: r["id"] for r in self._new.values() if r.get("geonames_id")}
        for pid in sorted(set(provisional)):
            if subdivisions.is_provisional(pid):
                mapping[pid] = self.region(pid)
                continue
            if districts.is_provisional(pid):
                later.append(pid)           # after the towns they are part of
                continue
            if supplement.is_provisional(pid):
                mapping[pid] = self.supplement(pid)
                continue
            prov_id = self.provenance(geonames.provenance()) if prov_id is None else prov_id
            rec = geonames.record_of(pid)
            gid = int(rec["geonameid"])
            known = by_geonames.get(gid) or self.conn.execute(
                select(schema.actors.c.id).where(schema.actors.c.geonames_id == gid)).scalar()
            if known:
                mapping[pid] = known
                continue
            base = geonames.city_slug(rec)
            actor_id = base if not self.exists(base) else f"{base}-{gid}"
            actor, names = geonames.city_actor(rec, actor_id)
            mapping[pid] = self.place(actor, names, prov_id)
            by_geonames[gid] = actor_id
        for pid in later:
            if pid in self.plan.districts:
                mapping[pid] = self.district(self.plan.districts[pid], mapping)
        return mapping

    def place(self, actor, names: list[str], prov_id: int, *, within: str | None = None) -> str:
        """A place the resolver found outside the store (a town, a subdivision, a
        district), with its names and ``located_in`` ties to ``within`` and its state."""
        row = rows.actor_row(actor, prov_id)
        self.ch.actors.append(row)
        self._new[actor.id] = row
        self.ch.aliases.extend(rows.alias_rows(actor.id, names, prov_id))
        state = (actor.country or "").lower()
        for target in ([within] if within else []) + ([state] if state and self.exists(state) else []):
            self.ch.place_ties.append(rows.tie_row(Tie(source=actor.id, target=target, type="located_in"), prov_id))
        self.count(self.report.created, "actors")
        return actor.id

    def _candidates(self, like: str) -> list[tuple[str, dict]]:
        """Cities whose id starts with ``like``: in the store, and new in this plan."""
        found = [(r.id, r.attrs or {}) for r in self.conn.execute(
            select(schema.actors.c.id, schema.actors.c.attrs)
            .where(schema.actors.c.kind == "city", schema.actors.c.id.like(f"{like}%")))]
        found += [(i, r.get("attrs") or {}) for i, r in self._new.items()
                  if r["kind"] == "city" and i.startswith(like)]
        return found

    def _location(self, actor_id: str) -> tuple[float, float] | None:
        """(lat, lon) of an actor in the store or new in this plan, if it has one."""
        new = self._new.get(actor_id)
        if new is not None:
            return (new["lat"], new["lon"]) if new.get("lat") is not None else None
        row = self.conn.execute(select(schema.actors.c.lat, schema.actors.c.lon)
                                .where(schema.actors.c.id == actor_id)).first()
        return (row.lat, row.lon) if row is not None and row.lat is not None else None

    def district(self, rec: dict, mapping: dict[str, str]) -> str:
        """A new district of a city (see citydiplomacy.resolve.districts): the actor already in the
        store under that city with one of its keys, or a new one."""
        city_id = mapping.get(rec["city"], rec["city"])
        for actor_id, attrs in self._candidates(f"{city_id}-"):
            if attrs.get("district_of") == city_id and set(attrs.get("district_keys", ())) & set(rec["keys"]):
                return actor_id
        town = self._location(city_id)
        actor, names = districts.district_actor(rec, city_id, self.exists, town)
        return self.place(actor, names, self.provenance(self.plan.provenance), within=city_id)

    def supplement(self, pid: str) -> str:
        """A place of the supplementary gazetteer a tie names: the actor already written
        from it, or a new one."""
        rec = supplement.record_of(pid)
        base = supplement.city_slug(rec)
        for actor_id, attrs in self._candidates(base):
            if attrs.get("supplement_id") == rec["id"]:
                return actor_id
        actor_id = base if not self.exists(base) else f"{base}-s{rec['id']}"
        actor, names = supplement.city_actor(rec, actor_id)
        return self.place(actor, names, self.provenance(supplement.provenance(rec)))

    def region(self, pid: str) -> str:
        """A subdivision a tie names: the region actor with its code, or a new one."""
        rec = subdivisions.record_of(pid)
        if self._regions is None:
            self._regions = {(r.attrs or {}).get("subdivision_code"): r.id for r in self.conn.execute(
                select(schema.actors.c.id, schema.actors.c.attrs).where(schema.actors.c.kind == "region"))}
        if rec["code"] in self._regions:
            return self._regions[rec["code"]]
        base = subdivisions.region_slug(rec)
        actor_id = base if not self.exists(base) else f"{base}-region"
        actor, names = subdivisions.region_actor(rec, actor_id)
        self.place(actor, names, self.provenance(subdivisions.provenance(rec)))
        self._regions[rec["code"]] = actor_id
        return actor_id

    def frameworks(self) -> None:
        for fw, items, titles, prov in self.plan.frameworks:
            if self.conn.execute(select(schema.frameworks.c.id).where(schema.frameworks.c.id == fw["id"])).first():
                self.count(self.report.unchanged, "frameworks")
                continue
            self.ch.frameworks.append((fw, items, titles, self.provenance(prov)))
            self.count(self.report.created, "frameworks")

    def actors(self) -> None:
        for actor, names, prov in self.plan.actors:
            check_deadline()
            if self.exists(actor.id):
                self.count(self.report.unchanged, "actors")
                continue
            prov_id = self.provenance(prov)
            row = rows.actor_row(actor, prov_id)
            self.ch.actors.append(row)
            self._new[actor.id] = row
            # names None: the plan carries the aliases separately (data package)
            if names is not None:
                self.ch.aliases.extend(rows.alias_rows(
                    actor.id, {None: [actor.name], **names} if None not in names else names, prov_id))
            self.count(self.report.created, "actors")

    def aliases(self) -> None:
        """Aliases with their own provenance (data package round-trip); known ones are skipped."""
        al = schema.aliases
        known: dict[str, set[str]] = {}
        for actor_id, name, lang, prov in self.plan.aliases:
            if actor_id not in known:
                known[actor_id] = {r.norm for r in self.conn.execute(select(al.c.norm).where(al.c.actor_id == actor_id))}
                known[actor_id] |= {r["norm"] for r in self.ch.aliases if r["actor_id"] == actor_id}
            new = rows.alias_rows(actor_id, {lang: [name]}, self.provenance(prov), skip=known[actor_id])
            if new:
                self.ch.aliases.extend(new)
                known[actor_id].add(new[0]["norm"])

    def updates(self) -> None:
        """Fill identifiers an actor lacks (never overwrite one it has)."""
        a = schema.actors
        taken: set[str] = set()
        for actor_id, values in self.plan.updates:
            row = self.conn.execute(select(a).where(a.c.id == actor_id)).first()
            if row is None:
                continue
            todo = {k: v for k, v in values.items() if k in ("wikidata", "geonames_id")
                    and getattr(row, k) in (None, "") and v}
            if not todo:
                self.count(self.report.unchanged, "actors")
                continue
            if "wikidata" in todo and (todo["wikidata"] in taken or self.conn.execute(
                    select(a.c.id).where(a.c.wikidata == todo["wikidata"])).first()):
                self.report.problems.append(Problem(row=None, kind="rejected", field="wikidata",
                                                    value=todo["wikidata"],
                                                    reason="another actor already has this Wikidata id"))
                continue
            taken.add(todo.get("wikidata") or "")
            self.ch.actor_updates.append((actor_id, todo))
            self.count(self.report.updated, "actors")

    # -- ties -------------------------------------------------------------------------

    def _framework_ref(self, ref: str) -> bool:
        if ref not in self._refs:
            self._refs[ref] = bool(
                self.conn.execute(select(schema.frameworks.c.id).where(schema.frameworks.c.id == ref)).first()
                or self.conn.execute(select(schema.framework_items.c.code)
                                     .where(schema.framework_items.c.code == ref)).first()
                or any(fw["id"] == ref or any(i["code"] == ref for i in items)
                       for fw, items, _, _ in self.ch.frameworks))
        return self._refs[ref]

    def _end_exists(self, ref: str, target_type: str) -> bool:
        return self._framework_ref(ref) if target_type == "framework" else self.exists(ref)

    def _existing_ties(self) -> dict[tuple, tuple] | None:
        """The store's ties of the plan's types, by key, for a large plan (None: look each up)."""
        if len(self.plan.ties) < BULK_TIES:
            return None
        t = schema.ties
        types = sorted({e[0].type.value for e in self.plan.ties})
        return {(r.source, r.target, r.type, r.since or ""): (r.id, r.status, r.until, r.attrs)
                for r in self.conn.execute(
                    select(t.c.id, t.c.source, t.c.target, t.c.type, t.c.since, t.c.status, t.c.until, t.c.attrs)
                    .where(t.c.type.in_(types)))}

    def _find_tie(self, existing: dict | None, key: tuple) -> tuple | None:
        if existing is not None:
            return existing.get(key)
        t = schema.ties
        r = self.conn.execute(select(t.c.id, t.c.status, t.c.until, t.c.attrs).where(
            t.c.source == key[0], t.c.target == key[1], t.c.type == key[2],
            func.coalesce(t.c.since, "") == key[3])).first()
        return None if r is None else (r.id, r.status, r.until, r.attrs)

    def ties(self, mapping: dict[str, str]) -> None:
        default_prov = self.provenance(self.plan.provenance) if self.plan.ties else None
        existing = self._existing_ties()
        total = len(self.plan.ties)
        for n, entry in enumerate(self.plan.ties):
            if n % BATCH == 0 and total >= BATCH:
                progress.report("checking ties against the store", n, total)
            check_deadline()
            tie, target_type = entry[0], entry[1]
            prov_id = self.provenance(entry[2]) if len(entry) > 2 else default_prov
            src, tgt = mapping.get(tie.source, tie.source), mapping.get(tie.target, tie.target)
            if (src, tgt) != (tie.source, tie.target):
                tie = Tie.parse({**tie.model_dump(), "source": src, "target": tgt})
            missing = [end for end, kind in ((tie.source, "actor"), (tie.target, target_type))
                       if not self._end_exists(end, kind)]
            if missing:
                self.report.problems.append(Problem(row=None, kind="rejected", field="target",
                                                    value=missing[0],
                                                    reason=f"no actor or framework '{missing[0]}' in the store"))
                continue
            key = rows.tie_key(tie)
            if key in self.ch.seen:
                continue
            self.ch.seen.add(key)
            found = self._find_tie(existing, key)
            if found is None:
                self.ch.ties.append(rows.tie_row(tie, prov_id, target_type))
                self.count(self.report.created, "ties")
            elif (found[3] or {}).get("changes"):
                # a sourced change of status or dates (data/curated/tie_changes.yaml) outranks
                # a list that does not say: the tie keeps it
                self.count(self.report.unchanged, "ties")
            elif (found[1], found[2]) != (tie.status.value, tie.until):
                self.ch.tie_updates.append({"_id": found[0], "status": tie.status.value, "until": tie.until,
                                            "provenance_id": prov_id})
                self.count(self.report.updated, "ties")
            else:
                self.count(self.report.unchanged, "ties")

    # -- observations and initiatives ----------------------------------------------------

    def observations(self) -> None:
        """Upserted by (actor, indicator, year); the same key twice in one plan: the later
        value updates the earlier, as if written one after the other."""
        o = schema.observations
        if not self.plan.observations:
            return
        prov_id = self.provenance(self.plan.provenance)
        planned: dict[tuple, dict[str, Any]] = {}
        for obs in self.plan.observations:
            check_deadline()
            if not self.exists(obs.actor):
                self.report.problems.append(Problem(row=None, kind="rejected", field="actor",
                                                    value=obs.actor, reason="no such actor"))
                continue
            key = (obs.actor, obs.indicator, obs.year)
            if key in planned:
                row = planned[key]
                if (row["value"], row["unit"]) != (obs.value, obs.unit):
                    row.update(value=obs.value, unit=obs.unit, provenance_id=prov_id)
                    self.count(self.report.updated, "observations")
                else:
                    self.count(self.report.unchanged, "observations")
                continue
            found = self.conn.execute(select(o.c.id, o.c.value, o.c.unit).where(and_(
                o.c.actor_id == obs.actor, o.c.indicator == obs.indicator, o.c.year == obs.year))).first()
            if found is None:
                planned[key] = rows.observation_row(obs, prov_id)
                self.ch.observations.append(planned[key])
                self.count(self.report.created, "observations")
            elif (found.value, found.unit) != (obs.value, obs.unit):
                planned[key] = {"_id": found.id, "value": obs.value, "unit": obs.unit, "provenance_id": prov_id}
                self.ch.observation_updates.append(planned[key])
                self.count(self.report.updated, "observations")
            else:
                planned[key] = {"value": found.value, "unit": found.unit}     # unchanged: nothing to write
                self.count(self.report.unchanged, "observations")

    def initiatives(self) -> None:
        """Upserted by (actor, title); the same title twice in one plan: the later one
        updates the earlier, as if written one after the other."""
        if not self.plan.initiatives:
            return
        from ..initiatives import alignment_rows

        t = schema.initiatives
        prov_id = self.provenance(self.plan.provenance)
        planned: dict[tuple, list] = {}                 # (actor, title) -> [values, row id, ini]
        for ini in self.plan.initiatives:
            check_deadline()
            if not self.exists(ini.actor):
                self.report.problems.append(Problem(row=None, kind="rejected", field="actor",
                                                    value=ini.actor, reason="no such actor"))
                continue
            values = rows.initiative_row(ini, prov_id)
            key = (ini.actor, ini.title)
            if key in planned:
                before, row_id = planned[key][0], planned[key][1]
            else:
                found = self.conn.execute(select(t).where(and_(t.c.actor_id == ini.actor,
                                                               t.c.title == ini.title))).first()
                before, row_id = (None, None) if found is None else (found._asdict(), found.id)
            if before is None:
                self.count(self.report.created, "initiatives")
                planned[key] = [values, None, ini, True]
            elif any(before.get(k) != v for k, v in values.items()
                     # axes left empty are filled by the alignment: not a change
                     if k != "provenance_id" and not (k == "axes" and not v)):
                self.count(self.report.updated, "initiatives")
                planned[key] = [values, row_id, ini, True]
            else:
                self.count(self.report.unchanged, "initiatives")
        changed = [p for p in planned.values() if p[3]]
        if changed:
            progress.report("aligning initiatives", 0, len(changed))
            aligned = alignment_rows([ini for _, _, ini, _ in changed])
            n = 0
            for (values, row_id, ini, _), (al_rows, axes) in zip(changed, aligned):
                self.ch.initiatives.append((values, row_id, al_rows, axes if not ini.axes else None))
                n += len(al_rows)
            self.report.created["alignments"] = self.report.created.get("alignments", 0) + n


def ties_to_end(conn, plan: Plan, seen: set[tuple], *, run_id: int | None = None) -> list[int]:
    """Ids of the open ties of an earlier version of the plan's source (of the types it
    supersedes) that this version no longer lists."""
    t, p = schema.ties, schema.provenance
    earlier = conn.execute(
        select(t.c.id, t.c.source, t.c.target, t.c.type, t.c.since)
        .join(p, p.c.id == t.c.provenance_id)
        .where(p.c.source == plan.provenance.source, t.c.type.in_(plan.supersedes),
               t.c.status != "ended", p.c.run_id != (run_id or -1))).all()
    return [r.id for r in earlier if (r.source, r.target, r.type, r.since or "") not in seen]


# -- step 2: write (one short transaction) --------------------------------------------------------------

def _write(store: Store, plan: Plan, ch: _Changes, report: Report, busy_timeout: float | None,
           audit: tuple[str, str, str | None] | None) -> None:
    progress.report("waiting for the store's write lock")
    try:
        with store.transaction(busy_timeout=busy_timeout) as conn:
            if conn.execute(select(func.max(schema.import_runs.c.id))).scalar() != ch.last_run:
                _recheck(conn, ch, report)
            _Writer(store, conn, plan, ch, report).run()
            if audit and report.changed:
                from ..accounts import record_audit

                record_audit(conn, audit[0], "import.apply", audit[1], report.summary(),
                             channel=audit[2] if len(audit) > 2 else None)
            progress.report("committing")
    except IntegrityError:
        raise _Conflict from None


def _recheck(conn, ch: _Changes, report: Report) -> None:
    """Another writer committed since the snapshot: drop the ties it added meanwhile (they
    are there: unchanged), and prepare again if an actor id was taken meanwhile."""
    a, t = schema.actors, schema.ties
    new_ids = [r["id"] for r in ch.actors]
    for i in range(0, len(new_ids), 500):
        if conn.execute(select(a.c.id).where(a.c.id.in_(new_ids[i:i + 500])).limit(1)).first():
            raise _Conflict
    added = {(r.source, r.target, r.type, r.since or "") for r in conn.execute(
        select(t.c.source, t.c.target, t.c.type, t.c.since).where(t.c.id > ch.last_tie))}
    bulk = ch.bulk["ties"]
    if not added or not bulk.rows:
        return
    pos = [bulk.columns.index(k) for k in ("source", "target", "type", "since")]
    keep = []
    for row in bulk.rows:
        if (row[pos[0]], row[pos[1]], row[pos[2]], row[pos[3]] or "") in added:
            report.created["ties"] -= 1
            report.unchanged["ties"] = report.unchanged.get("ties", 0) + 1
        else:
            keep.append(row)
    bulk.rows = keep
    if not report.created.get("ties"):
        report.created.pop("ties", None)


class _Writer:
    def __init__(self, store: Store, conn, plan: Plan, ch: _Changes, report: Report):
        self.store, self.conn, self.plan, self.ch, self.report = store, conn, plan, ch, report

    def run(self) -> None:
        ch, conn = self.ch, self.conn
        self.run_id = self.store.start_run(conn, f"import:{self.plan.importer}", self.plan.source)
        self.report.run_id = self.run_id
        self.ids = ids = [self.store.add_provenance(conn, p, self.run_id) for p in ch.provs]
        self.done, self.total = 0, sum(len(b) for b in ch.bulk.values())

        def with_prov(rows_: list[dict]) -> list[dict]:
            return [{**r, "provenance_id": ids[r["provenance_id"]]} for r in rows_]

        self.insert(ch.bulk["actors"])
        self.insert(ch.bulk["aliases"])
        self.insert(ch.bulk["place_ties"])
        for fw, items, titles, p in ch.frameworks:
            conn.execute(insert(schema.frameworks).values({**fw, "provenance_id": ids[p]}))
            if items:
                conn.execute(insert(schema.framework_items), [{**i, "provenance_id": ids[p]} for i in items])
            if titles:
                conn.execute(insert(schema.framework_titles), titles)
        a = schema.actors
        for actor_id, todo in ch.actor_updates:
            conn.execute(update(a).where(a.c.id == actor_id).values(**todo))
        self.insert(ch.bulk["ties"])
        self.update_by_id(schema.ties, with_prov(ch.tie_updates))
        if self.plan.supersedes:
            self.end_missing()
        self.insert(ch.bulk["observations"])
        self.update_by_id(schema.observations, with_prov(ch.observation_updates))
        self.write_initiatives(ids)
        self.store.finish_run(conn, self.run_id, self.report.as_dict(), touched=self.touched())

    def touched(self) -> tuple[str, ...] | None:
        """The plan's ``touches`` when it writes ties and nothing else (no actor, name,
        framework, observation or initiative; ends no tie): the data versions of those
        actors alone are raised."""
        ch, plan = self.ch, self.plan
        if plan.touches is None or plan.supersedes or ch.actor_updates or ch.frameworks or ch.observation_updates:
            return None
        if any(ch.bulk[k].rows for k in ("actors", "aliases", "place_ties", "observations")):
            return None
        if plan.initiatives or plan.observations or plan.actors or plan.aliases or plan.towns or plan.districts:
            return None
        ends = {e for row in ch.ties + ch.tie_updates for e in (row.get("source"), row.get("target"))} - {None}
        return plan.touches if ends <= set(plan.touches) else None

    def insert(self, bulk: _Bulk) -> None:
        """executemany of prepared rows, by the driver itself (SQLAlchemy's per-row
        processing took 40% of the write lock's time for 180,000 ties, measured)."""
        if not bulk.rows:
            return
        mark = {"qmark": "?", "numeric": ":{}", "named": ":p{}", "format": "%s", "pyformat": "%s"}[
            self.conn.dialect.paramstyle]
        marks = ", ".join(mark.format(n + 1) for n in range(len(bulk.columns)))
        sql = f"INSERT INTO {bulk.table.name} ({', '.join(bulk.columns)}) VALUES ({marks})"
        ids = self.ids
        for i in range(0, len(bulk.rows), BATCH):
            batch = [(*r[:-1], ids[r[-1]]) for r in bulk.rows[i:i + BATCH]]
            if mark == ":p{}":
                batch = [{f"p{n + 1}": v for n, v in enumerate(r)} for r in batch]
            self.conn.exec_driver_sql(sql, batch)
            self.done += len(batch)
            if self.total >= BATCH:
                progress.report("writing", self.done, self.total)

    def update_by_id(self, table, rows_: list[dict[str, Any]]) -> None:
        if not rows_:
            return
        keys = [k for k in rows_[0] if k != "_id"]
        stmt = update(table).where(table.c.id == bindparam("b_id")).values({k: bindparam(f"b_{k}") for k in keys})
        params = [{f"b_{k[1:] if k == '_id' else k}": v for k, v in r.items()} for r in rows_]
        for i in range(0, len(params), BATCH):
            self.conn.execute(stmt, params[i:i + BATCH])

    def end_missing(self) -> None:
        """Close the ties of an earlier version of this source that this one drops (read
        again here, inside the lock: another import of the same source may just have
        written)."""
        t = schema.ties
        until = self.plan.provenance.as_of or dt.date.today().isoformat()
        ended = ties_to_end(self.conn, self.plan, self.ch.seen, run_id=self.run_id)
        for i in range(0, len(ended), 500):
            self.conn.execute(update(t).where(t.c.id.in_(ended[i:i + 500])).values(status="ended", until=until))
        self.report.ended = len(ended)

    def write_initiatives(self, ids: list[int]) -> None:
        t, al = schema.initiatives, schema.alignments
        from sqlalchemy import delete

        for values, row_id, al_rows, axes in self.ch.initiatives:
            values = {**values, "provenance_id": ids[values["provenance_id"]]}
            if row_id is None:
                row_id = self.conn.execute(insert(t).values(values)).inserted_primary_key[0]
            else:
                self.conn.execute(update(t).where(t.c.id == row_id).values(values))
                self.conn.execute(delete(al).where(al.c.initiative_id == row_id))
            if al_rows:
                self.conn.execute(insert(al), [{**r, "initiative_id": row_id} for r in al_rows])
            if axes:
                self.conn.execute(update(t).where(t.c.id == row_id).values(axes=axes))


__all__ = ["apply_plan"]
