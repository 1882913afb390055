"""Applying a plan to the store: one transaction, idempotent, with history."""

from __future__ import annotations

import datetime as dt
from sqlalchemy import and_, func, insert, select, update

from .. import districts, geonames, subdivisions, supplement
from ..limits import check_deadline
from ..model import Provenance, Tie
from ..store import Store, rows, schema
from .base import Plan, Problem, Report


class _Rollback(Exception):
    """Raised inside the transaction of a dry run so that nothing is kept."""


def apply_plan(store: Store, plan: Plan, *, dry_run: bool = False) -> Report:
    """Write ``plan`` in one transaction (rolled back when ``dry_run``); return the report.

    - actors already in the store (same id) are left as they are;
    - a tie already present (same source, target, type, start) is unchanged, or updated
      when its status or end changed;
    - when the plan ``supersedes`` earlier versions of its source, ties of those types
      from that source that this version no longer lists are ended (``until`` = the new
      version's as-of date) — the history stays in the store;
    - observations are upserted by (actor, indicator, year);
    - initiatives are upserted by (actor, title); a new or changed one is aligned with
      the SDGs and the Paris Agreement and its alignments replaced.
    """
    report = Report(importer=plan.importer, source=plan.source, dry_run=dry_run,
                    rows_read=plan.rows_read, matched=dict(plan.matched), problems=list(plan.problems))
    try:
        with store.transaction() as conn:
            w = _Writer(store, conn, plan, report)
            w.run()
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return report


class _Writer:
    def __init__(self, store: Store, conn, plan: Plan, report: Report):
        self.store, self.conn, self.plan, self.report = store, conn, plan, report
        self._prov: dict[tuple, int] = {}
        self._regions: dict[str, str] | None = None      # subdivision code -> region actor

    def count(self, what: dict[str, int], key: str) -> None:
        what[key] = what.get(key, 0) + 1

    def provenance(self, prov: Provenance) -> int:
        return self.store.add_provenance(self.conn, prov, self.run_id, self._prov)

    def run(self) -> None:
        plan = self.plan
        self.run_id = self.store.start_run(self.conn, f"import:{plan.importer}", plan.source)
        self.report.run_id = self.run_id
        mapping = self.write_towns(plan.towns)
        self.write_frameworks()
        self.write_actors()
        self.write_aliases()
        self.write_updates()
        self.write_ties(mapping)
        if plan.supersedes:
            self.end_missing(mapping)
        self.write_observations()
        self.write_initiatives()
        self.store.finish_run(self.conn, self.run_id, self.report.as_dict())

    # -- actors -----------------------------------------------------------------------

    def exists(self, actor_id: str) -> bool:
        return self.conn.execute(select(schema.actors.c.id).where(schema.actors.c.id == actor_id)).first() is not None

    def write_towns(self, provisional: list[str]) -> dict[str, str]:
        """GeoNames places a tie names that the store lacks: add them as cities."""
        mapping: dict[str, str] = {}
        if not provisional:
            return mapping
        prov_id = None
        later = []
        for pid in sorted(set(provisional)):
            if subdivisions.is_provisional(pid):
                mapping[pid] = self.write_region(pid)
                continue
            if districts.is_provisional(pid):
                later.append(pid)           # after the towns they are part of
                continue
            if supplement.is_provisional(pid):
                mapping[pid] = self.write_supplement(pid)
                continue
            prov_id = prov_id or self.provenance(geonames.provenance())
            rec = geonames.record_of(pid)
            gid = int(rec["geonameid"])
            known = self.conn.execute(select(schema.actors.c.id).where(schema.actors.c.geonames_id == gid)).first()
            if known:
                mapping[pid] = known.id
                continue
            base = geonames.city_slug(rec)
            actor_id = base if not self.exists(base) else f"{base}-{gid}"
            actor, names = geonames.city_actor(rec, actor_id)
            mapping[pid] = self.write_place(actor, names, prov_id)
        for pid in later:
            if pid in self.plan.districts:
                mapping[pid] = self.write_district(self.plan.districts[pid], mapping)
        return mapping

    def write_place(self, actor, names: list[str], prov_id: int, *, within: str | None = None) -> str:
        """Insert a place the resolver found outside the store (a town, a subdivision, a
        district), with its names and ``located_in`` ties to ``within`` and its state."""
        self.conn.execute(insert(schema.actors).values(rows.actor_row(actor, prov_id)))
        alias = rows.alias_rows(actor.id, names, prov_id)
        if alias:
            self.conn.execute(insert(schema.aliases), alias)
        state = (actor.country or "").lower()
        for target in ([within] if within else []) + ([state] if state and self.exists(state) else []):
            self.conn.execute(insert(schema.ties).values(
                rows.tie_row(Tie(source=actor.id, target=target, type="located_in"), prov_id)))
        self.count(self.report.created, "actors")
        return actor.id

    def write_district(self, rec: dict, mapping: dict[str, str]) -> str:
        """A new district of a city (see citydiplomacy.districts): the actor already in the
        store under that city with one of its keys, or a new one."""
        city_id = mapping.get(rec["city"], rec["city"])
        for row in self.conn.execute(select(schema.actors.c.id, schema.actors.c.attrs)
                                     .where(schema.actors.c.kind == "city",
                                            schema.actors.c.id.like(f"{city_id}-%"))):
            attrs = row.attrs or {}
            if attrs.get("district_of") == city_id and set(attrs.get("district_keys", ())) & set(rec["keys"]):
                return row.id
        actor, names = districts.district_actor(rec, city_id, self.exists)
        return self.write_place(actor, names, self.provenance(self.plan.provenance), within=city_id)

    def write_supplement(self, pid: str) -> str:
        """A place of the supplementary gazetteer a tie names: the actor already written
        from it, or a new one."""
        rec = supplement.record_of(pid)
        base = supplement.city_slug(rec)
        for row in self.conn.execute(select(schema.actors.c.id, schema.actors.c.attrs)
                                     .where(schema.actors.c.kind == "city", schema.actors.c.id.like(f"{base}%"))):
            if (row.attrs or {}).get("supplement_id") == rec["id"]:
                return row.id
        actor_id = base if not self.exists(base) else f"{base}-s{rec['id']}"
        actor, names = supplement.city_actor(rec, actor_id)
        return self.write_place(actor, names, self.provenance(supplement.provenance(rec)))

    def write_region(self, pid: str) -> str:
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
        self.write_place(actor, names, self.provenance(subdivisions.provenance(rec)))
        self._regions[rec["code"]] = actor_id
        return actor_id

    def write_frameworks(self) -> None:
        for fw, items, titles, prov in self.plan.frameworks:
            if self.conn.execute(select(schema.frameworks.c.id).where(schema.frameworks.c.id == fw["id"])).first():
                self.count(self.report.unchanged, "frameworks")
                continue
            prov_id = self.provenance(prov)
            self.conn.execute(insert(schema.frameworks).values({**fw, "provenance_id": prov_id}))
            if items:
                self.conn.execute(insert(schema.framework_items), [{**i, "provenance_id": prov_id} for i in items])
            if titles:
                self.conn.execute(insert(schema.framework_titles), titles)
            self.count(self.report.created, "frameworks")

    def write_actors(self) -> None:
        for actor, names, prov in self.plan.actors:
            check_deadline()
            if self.exists(actor.id):
                self.count(self.report.unchanged, "actors")
                continue
            prov_id = self.provenance(prov)
            self.conn.execute(insert(schema.actors).values(rows.actor_row(actor, prov_id)))
            # names None: the plan carries the aliases separately (data package)
            alias = [] if names is None else rows.alias_rows(
                actor.id, {None: [actor.name], **names} if None not in names else names, prov_id)
            if alias:
                self.conn.execute(insert(schema.aliases), alias)
            self.count(self.report.created, "actors")

    def write_aliases(self) -> None:
        """Aliases with their own provenance (data package round-trip); known ones are skipped."""
        al = schema.aliases
        known: dict[str, set[str]] = {}
        for actor_id, name, lang, prov in self.plan.aliases:
            if actor_id not in known:
                known[actor_id] = {r.norm for r in self.conn.execute(select(al.c.norm).where(al.c.actor_id == actor_id))}
            new = rows.alias_rows(actor_id, {lang: [name]}, self.provenance(prov), skip=known[actor_id])
            if new:
                self.conn.execute(insert(al), new)
                known[actor_id].add(new[0]["norm"])

    def write_updates(self) -> None:
        """Fill identifiers an actor lacks (never overwrite one it has)."""
        a = schema.actors
        for actor_id, values in self.plan.updates:
            row = self.conn.execute(select(a).where(a.c.id == actor_id)).first()
            if row is None:
                continue
            todo = {k: v for k, v in values.items() if k in ("wikidata", "geonames_id")
                    and getattr(row, k) in (None, "") and v}
            if not todo:
                self.count(self.report.unchanged, "actors")
                continue
            if "wikidata" in todo and self.conn.execute(
                    select(a.c.id).where(a.c.wikidata == todo["wikidata"])).first():
                self.report.problems.append(Problem(row=None, kind="rejected", field="wikidata",
                                                    value=todo["wikidata"],
                                                    reason="another actor already has this Wikidata id"))
                continue
            self.conn.execute(update(a).where(a.c.id == actor_id).values(**todo))
            self.count(self.report.updated, "actors")

    # -- ties -------------------------------------------------------------------------

    def _end_exists(self, ref: str, target_type: str) -> bool:
        if target_type == "framework":
            return bool(self.conn.execute(select(schema.frameworks.c.id).where(schema.frameworks.c.id == ref)).first()
                        or self.conn.execute(select(schema.framework_items.c.code)
                                             .where(schema.framework_items.c.code == ref)).first())
        return self.exists(ref)

    def write_ties(self, mapping: dict[str, str]) -> None:
        t = schema.ties
        default_prov = self.provenance(self.plan.provenance)
        self._seen: set[tuple] = set()
        for entry in self.plan.ties:
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
            if key in self._seen:
                continue
            self._seen.add(key)
            found = self.conn.execute(select(t.c.id, t.c.status, t.c.until).where(
                t.c.source == key[0], t.c.target == key[1], t.c.type == key[2],
                func.coalesce(t.c.since, "") == key[3])).first()
            if found is None:
                self.conn.execute(insert(t).values(rows.tie_row(tie, prov_id, target_type)))
                self.count(self.report.created, "ties")
            elif (found.status, found.until) != (tie.status.value, tie.until):
                self.conn.execute(update(t).where(t.c.id == found.id).values(
                    status=tie.status.value, until=tie.until, provenance_id=prov_id))
                self.count(self.report.updated, "ties")
            else:
                self.count(self.report.unchanged, "ties")

    def end_missing(self, mapping: dict[str, str]) -> None:
        """Close the ties of an earlier version of this source that this one drops."""
        t, p = schema.ties, schema.provenance
        until = self.plan.provenance.as_of or dt.date.today().isoformat()
        earlier = self.conn.execute(
            select(t.c.id, t.c.source, t.c.target, t.c.type, t.c.since)
            .join(p, p.c.id == t.c.provenance_id)
            .where(p.c.source == self.plan.provenance.source, t.c.type.in_(self.plan.supersedes),
                   t.c.status != "ended")).all()
        for r in earlier:
            if (r.source, r.target, r.type, r.since or "") not in self._seen:
                self.conn.execute(update(t).where(t.c.id == r.id).values(status="ended", until=until))
                self.report.ended += 1

    # -- observations -------------------------------------------------------------------

    def write_observations(self) -> None:
        o = schema.observations
        if not self.plan.observations:
            return
        prov_id = self.provenance(self.plan.provenance)
        for obs in self.plan.observations:
            check_deadline()
            if not self.exists(obs.actor):
                self.report.problems.append(Problem(row=None, kind="rejected", field="actor",
                                                    value=obs.actor, reason="no such actor"))
                continue
            found = self.conn.execute(select(o.c.id, o.c.value, o.c.unit).where(and_(
                o.c.actor_id == obs.actor, o.c.indicator == obs.indicator, o.c.year == obs.year))).first()
            if found is None:
                self.conn.execute(insert(o).values(rows.observation_row(obs, prov_id)))
                self.count(self.report.created, "observations")
            elif (found.value, found.unit) != (obs.value, obs.unit):
                self.conn.execute(update(o).where(o.c.id == found.id).values(
                    value=obs.value, unit=obs.unit, provenance_id=prov_id))
                self.count(self.report.updated, "observations")
            else:
                self.count(self.report.unchanged, "observations")

    # -- initiatives ----------------------------------------------------------------------

    def write_initiatives(self) -> None:
        if not self.plan.initiatives:
            return
        from ..initiatives import write_alignments

        t = schema.initiatives
        prov_id = self.provenance(self.plan.provenance)
        changed: list[tuple[int, object]] = []
        for ini in self.plan.initiatives:
            check_deadline()
            if not self.exists(ini.actor):
                self.report.problems.append(Problem(row=None, kind="rejected", field="actor",
                                                    value=ini.actor, reason="no such actor"))
                continue
            values = rows.initiative_row(ini, prov_id)
            found = self.conn.execute(select(t).where(and_(t.c.actor_id == ini.actor,
                                                           t.c.title == ini.title))).first()
            if found is None:
                new_id = self.conn.execute(insert(t).values(values)).inserted_primary_key[0]
                self.count(self.report.created, "initiatives")
                changed.append((new_id, ini))
            elif any(getattr(found, k) != v for k, v in values.items()
                     # axes left empty are filled by the alignment: not a change
                     if k != "provenance_id" and not (k == "axes" and not v)):
                self.conn.execute(update(t).where(t.c.id == found.id).values(values))
                self.count(self.report.updated, "initiatives")
                changed.append((found.id, ini))
            else:
                self.count(self.report.unchanged, "initiatives")
        if changed:
            n = write_alignments(self.conn, changed)
            self.report.created["alignments"] = self.report.created.get("alignments", 0) + n


__all__ = ["apply_plan"]
