"""Writes by a person, one fact at a time: add an actor, add (or change) a tie, edit an
actor's fields. Each is validated by the domain model, carries its provenance (the
``source`` the person names) and runs as one atomic import run, like a file import —
so the web, the API and scripts share one write path and one report."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import insert, select, update

from . import countries
from .actors import resolve_actor
from .errors import ValidationError
from .ingest.apply import apply_plan
from .ingest.base import Plan, Report
from .model import Actor, Provenance, Tie
from .store import Store, rows, schema, versions
from .text import slugify

#: actor fields a person may edit (ids, kind and layer are fixed once created)
EDITABLE = ("name", "country", "lat", "lon", "population", "wikidata", "geonames_id", "admin1", "founded", "axes")


def provenance(source: str | None, *, url: str | None = None, licence: str | None = None,
               as_of: str | None = None, who: str | None = None) -> Provenance:
    """The provenance of a fact a person enters: ``source`` (required) names where it is
    documented."""
    if not source or not str(source).strip():
        raise ValidationError("say where this is documented (source: a decision, report or web page), "
                              "so the fact keeps its provenance", field="source")
    note = f"entered by {who}" if who else None
    if not licence:
        note = "; ".join(x for x in (note, "licence not stated") if x)
    return Provenance.parse({"source": source, "url": url, "licence": licence or "not stated",
                             "as_of": as_of, "note": note})


def _target(store: Store, ref: str) -> tuple[str, str]:
    """(id, 'actor'|'framework') of a tie's target: a framework id or item code, or an actor."""
    with store.connect() as conn:
        if conn.execute(select(schema.frameworks.c.id).where(schema.frameworks.c.id == ref)).first() or \
                conn.execute(select(schema.framework_items.c.code).where(schema.framework_items.c.code == ref)).first():
            return ref, "framework"
    return resolve_actor(store, ref)["id"], "actor"


def add_tie(store: Store, source_actor: str, target: str, type: str, *,  # noqa: A002
            since: str | None = None, until: str | None = None, status: str | None = None,
            axes: Any = None, weight: float | None = None, source: str | None = None,
            url: str | None = None, licence: str | None = None, as_of: str | None = None,
            who: str | None = None, dry_run: bool = False) -> Report:
    """Add a tie between two actors (or from an actor to a framework), or update the
    status/end of the same tie (same ends, type and start)."""
    prov = provenance(source, url=url, licence=licence, as_of=as_of, who=who)
    src = resolve_actor(store, source_actor)["id"]
    tgt, target_type = _target(store, target)
    tie = Tie.parse({"source": src, "target": tgt, "type": type, "since": since, "until": until,
                     "status": status, "axes": axes, "weight": weight})
    plan = Plan(importer="edit", source=prov.source, provenance=prov, rows_read=1)
    plan.ties.append((tie, target_type))
    if target_type == "actor":
        plan.touches = (src, tgt)
    return apply_plan(store, plan, dry_run=dry_run)


def add_actor(store: Store, name: str, kind: str, *, id: str | None = None,  # noqa: A002
              country: str | None = None, source: str | None = None, url: str | None = None,
              licence: str | None = None, as_of: str | None = None, who: str | None = None,
              dry_run: bool = False, **fields: Any) -> Report:
    """Add an actor (a city network, an organisation, a city the gazetteer lacks ...).
    Its id is ``id``, or by default the name and the country's ISO code as a slug
    (``Eurocities`` → ``eurocities``; ``Springfield``, ``US`` → ``springfield-usa``); the
    report's ``actor`` is that id. An actor with the same id already in the store is left
    as it is (reported unchanged)."""
    prov = provenance(source, url=url, licence=licence, as_of=as_of, who=who)
    code = None
    if country:
        c = countries.lookup_name(country) or countries.lookup_code(country)
        if c is None:
            raise ValidationError(f"'{country}' is not a country name or code", field="country")
        code = c.alpha3
    actor_id = id or slugify(f"{name}-{(code or '').lower()}".strip("-"))
    actor = Actor.parse({"id": actor_id, "name": name, "kind": kind, "country": code,
                         **{k: v for k, v in fields.items() if v not in (None, "")}})
    plan = Plan(importer="edit", source=prov.source, provenance=prov, rows_read=1)
    plan.actors.append((actor, {}, prov))
    report = apply_plan(store, plan, dry_run=dry_run)
    report.actor = actor.id
    return report


def edit_actor(store: Store, ref: str, *, source: str | None = None, url: str | None = None,
               licence: str | None = None, as_of: str | None = None, who: str | None = None,
               dry_run: bool = False, check: Callable[[], None] | None = None, **changes: Any) -> Report:
    """Change fields of an actor (``EDITABLE``); the actor's provenance becomes the new
    source, and the report's ``changes`` say what changed (old → new). A new name keeps
    the old one as an alias, so searches still find it.

    ``check``: called once the actor's row is locked for this write and before anything
    is read from it (the API's ``If-Match``: it raises
    :class:`~citydiplomacy.errors.PreconditionFailed` when the actor changed since the
    version the editor read). The lock (SQLite's write lock; on PostgreSQL the row's,
    ``SELECT ... FOR UPDATE``) holds every other edit of the actor until this one
    commits, so no edit is lost between the check and the write."""
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE)}",
                              field=unknown[0])
    prov = provenance(source, url=url, licence=licence, as_of=as_of, who=who)
    actor_id = resolve_actor(store, ref)["id"]
    a = schema.actors
    report = Report(importer="edit", source=prov.source, dry_run=dry_run, rows_read=1)
    # a dry run only reads: it never takes the write lock
    with (store.snapshot() if dry_run else store.transaction()) as conn:
        locked = select(a).where(a.c.id == actor_id)
        if not dry_run and store.is_postgres:
            locked = locked.with_for_update()
        row = conn.execute(locked).first()
        if check is not None:
            check()
        current = {c: getattr(row, c) for c in ("id", "name", "kind", "layer", "country", "lat", "lon", "population",
                                               "wikidata", "geonames_id", "admin1", "founded")}
        current["axes"] = [x for x in (row.axes or "").split(",") if x]
        given = {k: (None if v == "" else v) for k, v in changes.items()}
        if "country" in given and given["country"]:
            c = countries.lookup_name(given["country"]) or countries.lookup_code(given["country"])
            if c is None:
                raise ValidationError(f"'{given['country']}' is not a country name or code", field="country")
            given["country"] = c.alpha3
        merged = Actor.parse({**current, **given})
        new = rows.actor_row(merged, 0)
        diff = {k: [current[k], merged.model_dump(mode="json")[k]] for k in given
                if current[k] != merged.model_dump(mode="json")[k]}
        if not diff:
            report.unchanged = {"actors": 1}
            return report
        if "wikidata" in diff and merged.wikidata and conn.execute(
                select(a.c.id).where(a.c.wikidata == merged.wikidata, a.c.id != actor_id)).first():
            raise ValidationError(f"another actor already has the Wikidata id {merged.wikidata}", field="wikidata")
        report.changes = diff
        report.updated = {"actors": 1}
        if dry_run:
            return report
        run_id = store.start_run(conn, "edit", prov.source)
        prov_id = store.add_provenance(conn, prov, run_id)
        values = {k: new[k] for k in new if k in diff or (k == "axes" and "axes" in diff)}
        conn.execute(update(a).where(a.c.id == actor_id).values(**values, provenance_id=prov_id))
        if "name" in diff:
            known = {r.norm for r in conn.execute(select(schema.aliases.c.norm)
                                                  .where(schema.aliases.c.actor_id == actor_id))}
            alias = rows.alias_rows(actor_id, {None: [merged.name]}, prov_id, skip=known)
            if alias:
                conn.execute(insert(schema.aliases), alias)
        report.run_id = run_id
        # an edit of figures no query finds actors by touches this actor alone (the web's
        # caches of other reads stay: citydiplomacy.store.versions)
        touched = [actor_id] if set(diff) <= versions.LOCAL_FIELDS else None
        store.finish_run(conn, run_id, {"updated": {"actors": 1}, "changes": diff}, touched=touched)
    return report


__all__ = ["EDITABLE", "add_actor", "add_tie", "edit_actor", "provenance"]
