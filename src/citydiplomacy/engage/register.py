"""The engagement register in the store: write (atomic, idempotent, aligned), read one,
list with filters, and delete.

Writes go in two steps like every import (see :mod:`citydiplomacy.ingest.apply`): the
engagements are checked against a snapshot and the new or changed ones aligned with the
SDGs and the Paris Agreement *before* the write lock is taken; then one transaction
writes them, their parties, documents, follow-ups, alignments and the ties they
establish, renew or end, as one run with its provenance and (when someone is acting) its
audit row. Anything wrong anywhere: nothing is written.

An engagement is identified by its ``key``: writing the same key again updates it, and
writing it unchanged changes nothing (a fingerprint of what was written is kept in
``attrs.digest``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, delete, func, insert, literal, or_, select, true, update

from .. import progress
from sqlalchemy.exc import IntegrityError

from ..errors import NotFoundError, StoreError, ValidationError
from ..ingest.base import Problem, Report
from ..limits import check_deadline
from ..model import Provenance
from ..store import Store, schema
from ..store import rows as rows_mod
from .model import KINDS, ROLES, STATUSES, Engagement, digest, sort_keys
from .paging import SORTS
from .ties import link_ties, unlink_ties

__all__ = ["write_engagements", "add_engagement", "delete_engagement", "get_engagement", "list_engagements",
           "alignment_text", "SORTS", "ImportRejected", "engagement_of_row", "read_engagements"]

E, P, D, F, A, T = (schema.engagements, schema.engagement_parties, schema.engagement_documents,
                    schema.engagement_followups, schema.engagement_alignments, schema.engagement_ties)

#: rows per executemany
BATCH = 5_000
CHUNK = 500


class ImportRejected(ValidationError):
    """An import found bad rows: nothing was written; ``report.problems`` lists them all."""

    def __init__(self, report: Report):
        self.report = report
        n = len(report.problems)
        first = report.problems[0]
        where = ", ".join(x for x in (f"file {first.file}" if first.file else "",
                                      f"row {first.row}" if first.row is not None else "",
                                      f"field '{first.field}'" if first.field else "") if x)
        super().__init__(f"{n} row{'s' if n != 1 else ''} could not be read, nothing was written; first: "
                         f"{where + ': ' if where else ''}{first.reason}"
                         + (f" (candidates: {'; '.join(first.candidates[:3])})" if first.candidates else "")
                         + ". Correct the file and import it again.")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def alignment_text(e: Engagement) -> str:
    """What an engagement is aligned on: its title, its text, its outcomes and the text
    of its documents."""
    parts = [e.title.strip()]
    for extra in (e.text, e.outcomes, *[d.text for d in e.documents]):
        extra = (extra or "").strip()
        if extra and extra not in parts:
            parts.append(extra)
    return ". ".join(parts)


# -- writing -----------------------------------------------------------------------------------

def write_engagements(store: Store, items: Sequence[Engagement], provenance: Provenance, *,
                      importer: str = "engage", source: str | None = None, mode: str = "auto",
                      dry_run: bool = False, problems: Sequence[Problem] = (), rows_read: int | None = None,
                      run_kind: str | None = None, party_provenance: dict[tuple[str, str], Provenance] | None = None,
                      ) -> Report:
    """Write ``items`` atomically (upserted by key) and return the report (created,
    updated, unchanged, alignments). ``problems`` found while reading: when there are
    any, or when an engagement names an actor the store lacks, nothing is written and
    :class:`ImportRejected` is raised with the report. ``mode``: the alignment engine's
    (light, hybrid, auto). ``party_provenance``: (engagement key, actor id) → the source
    of that party (a signatory list), default the engagement's provenance."""
    source = source or provenance.source
    report = Report(importer=importer, source=source, dry_run=dry_run,
                    rows_read=len(items) + len(problems) if rows_read is None else rows_read,
                    problems=list(problems))
    seen: dict[str, int] = {}
    for n, e in enumerate(items):
        if e.key in seen:
            report.problems.append(Problem(row=e.attrs.get("row"), field="key", value=e.key, file=e.attrs.get("file"),
                                           reason=f"the key is used twice in this input (also by row "
                                                  f"{items[seen[e.key]].attrs.get('row', seen[e.key] + 1)})"))
        seen[e.key] = n
    progress.report("checking against the store")
    with store.snapshot() as conn:
        _check_actors(conn, items, report)
        if report.problems:
            raise ImportRejected(report)
        before = _existing(conn, [e.key for e in items])
    todo: list[tuple[Engagement, int | None, str]] = []
    for e in items:
        d = digest(e)
        old = before.get(e.key)
        if old is None:
            report.created["engagements"] = report.created.get("engagements", 0) + 1
        elif old[1] != d:
            report.updated["engagements"] = report.updated.get("engagements", 0) + 1
        else:
            report.unchanged["engagements"] = report.unchanged.get("engagements", 0) + 1
            continue
        todo.append((e, old[0] if old else None, d))
    if not todo or dry_run:
        return report
    progress.report("aligning engagements", 0, len(todo))
    from ..align.records import alignment_rows

    aligned = alignment_rows([alignment_text(e) for e, _, _ in todo], mode=mode)
    report.created["alignments"] = sum(len(r) for r, _ in aligned)
    progress.report("waiting for the store's write lock")
    try:
        _write(store, report, todo, aligned, provenance, party_provenance, importer, source, run_kind)
    except IntegrityError:
        # another writer added one of these keys (or removed a party) since the snapshot
        raise StoreError("another writer changed the same engagements meanwhile; nothing was written. "
                         "Run it again.") from None
    return report


def _write(store, report, todo, aligned, provenance, party_provenance, importer, source, run_kind) -> None:
    with store.transaction() as conn:
        run_id = store.start_run(conn, run_kind or f"import:{importer}", source)
        report.run_id = run_id
        cache: dict[tuple, int] = {}
        prov_id = store.add_provenance(conn, provenance, run_id, cache)
        pp = {k: store.add_provenance(conn, v, run_id, cache) for k, v in (party_provenance or {}).items()}
        now = _now()
        new = [(e, d, al) for (e, row_id, d), al in zip(todo, aligned) if row_id is None]
        old = [(e, row_id, d, al) for (e, row_id, d), al in zip(todo, aligned) if row_id is not None]
        progress.report("writing", 0, len(todo))
        if new:
            rows_ = [_row(e, d, prov_id, now, axes) for e, d, (_, axes) in new]
            for i in range(0, len(rows_), BATCH):
                check_deadline()
                conn.execute(insert(E), rows_[i:i + BATCH])
        ids = dict(_existing_ids(conn, [e.key for e, _, _ in new]))
        for e, row_id, d, (_, axes) in old:
            conn.execute(update(E).where(E.c.id == row_id).values(_row(e, d, prov_id, now, axes)))
            unlink_ties(conn, row_id, e.key)
            ids[e.key] = row_id
        old_ids = [row_id for _, row_id, _, _ in old]
        for i in range(0, len(old_ids), CHUNK):
            for t in (P, D, F, A):
                conn.execute(delete(t).where(t.c.engagement_id.in_(old_ids[i:i + CHUNK])))
        progress.report("writing parties, documents, follow-ups, alignments", len(todo) // 2, len(todo))
        _write_children(conn, [(ids[e.key], e, al_rows) for (e, _, _), (al_rows, _) in zip(todo, aligned)],
                        prov_id, pp)
        rows_mod.refresh_party_layers(conn, [ids[e.key] for e, _, _ in todo])
        for e, _, _ in todo:
            if e.tie is not None:
                report.updated["ties"] = report.updated.get("ties", 0) + link_ties(conn, ids[e.key], e, prov_id)
        if not report.updated.get("ties"):
            report.updated.pop("ties", None)
        store.finish_run(conn, run_id, report.as_dict())


def _row(e: Engagement, d: str, prov_id: int, now: str, axes: str | None) -> dict[str, Any]:
    attrs = {**e.attrs, "digest": d}
    attrs.pop("row", None)
    attrs.pop("file", None)
    if e.tie:
        attrs["tie"] = f"{e.tie[0]} {e.tie[1]}"
    if not e.axes and axes:
        attrs["axes_aligned"] = True           # filled from the alignment, not given
    row = {"key": e.key, "kind": e.kind, "title": e.title, "text": e.text or "", "signed_on": e.signed_on,
           "start_on": e.start_on, "end_on": e.end_on, "review_on": e.review_on, "place_id": e.place_id,
           "place": e.place, "status": e.status,
           "axes": ",".join(a.value for a in e.axes) if e.axes else (axes or ""),
           "outcomes": e.outcomes, "attrs": attrs, "updated_at": now, "provenance_id": prov_id}
    return {**row, **sort_keys(row)}


def _write_children(conn, todo: list[tuple[int, Engagement, list[dict]]], prov_id: int, pp: dict) -> None:
    """The parties, documents, follow-ups and alignments of the engagements written, in
    batches (executemany)."""
    parties, docs, follows, als = [], [], [], []
    for row_id, e, al_rows in todo:
        parties += [{"engagement_id": row_id, "actor_id": p.actor, "role": p.role, "signed_on": p.signed_on,
                     "attrs": None, "provenance_id": pp.get((e.key, p.actor), prov_id)} for p in e.parties]
        docs += [{"engagement_id": row_id, **d.model_dump(), "added_at": None} for d in e.documents]
        follows += [{"engagement_id": row_id, **f.model_dump()} for f in e.followups]
        als += [{**r, "engagement_id": row_id} for r in al_rows or []]
    if als:
        # only the items of frameworks the store holds (a store built without the SDGs
        # keeps its engagements, without their alignment)
        codes = sorted({r["item_code"] for r in als})
        held = {c for i in range(0, len(codes), 500) for (c,) in conn.execute(
            select(schema.framework_items.c.code).where(schema.framework_items.c.code.in_(codes[i:i + 500])))}
        als = [r for r in als if r["item_code"] in held]
    for table, rows_ in ((P, parties), (D, docs), (F, follows), (A, als)):
        for i in range(0, len(rows_), BATCH):
            conn.execute(insert(table), rows_[i:i + BATCH])


def _existing_ids(conn, keys: Sequence[str]) -> list[tuple[str, int]]:
    out = []
    for i in range(0, len(keys), CHUNK):
        out += [(r.key, r.id) for r in conn.execute(select(E.c.key, E.c.id).where(E.c.key.in_(keys[i:i + CHUNK])))]
    return out


def _check_actors(conn, items: Sequence[Engagement], report: Report) -> None:
    """Every party and place names an actor of the store."""
    ids = {p.actor for e in items for p in e.parties} | {e.place_id for e in items if e.place_id}
    known: set[str] = set()
    ids_l = sorted(ids)
    for i in range(0, len(ids_l), CHUNK):
        known |= set(conn.execute(select(schema.actors.c.id).where(schema.actors.c.id.in_(ids_l[i:i + CHUNK])))
                     .scalars())
    for e in items:
        for p in e.parties:
            if p.actor not in known:
                report.problems.append(Problem(row=e.attrs.get("row"), file=e.attrs.get("file"), field="parties",
                                               value=p.actor, kind="unresolved",
                                               reason=f"no actor '{p.actor}' in the store"))
        if e.place_id and e.place_id not in known:
            report.problems.append(Problem(row=e.attrs.get("row"), file=e.attrs.get("file"), field="place",
                                           value=e.place_id, kind="unresolved",
                                           reason=f"no actor '{e.place_id}' in the store"))


def _existing(conn, keys: Sequence[str]) -> dict[str, tuple[int, str | None]]:
    out: dict[str, tuple[int, str | None]] = {}
    for i in range(0, len(keys), CHUNK):
        for r in conn.execute(select(E.c.id, E.c.key, E.c.attrs).where(E.c.key.in_(keys[i:i + CHUNK]))):
            out[r.key] = (r.id, (r.attrs or {}).get("digest"))
    return out


def add_engagement(store: Store, data: dict[str, Any] | Engagement, *, source: str | None = None,
                   url: str | None = None, licence: str | None = None, as_of: str | None = None,
                   who: str | None = None, mode: str = "auto", dry_run: bool = False) -> Report:
    """Add one engagement, or update the one with the same key (given, or derived from
    kind, title, date and parties). ``data`` holds the :class:`Engagement` fields;
    ``parties`` may name actors by id or name (``{"actor": "Lyon", "role": "host"}`` or
    just ``"Lyon"``): each is resolved like a person's input (an unknown name raises
    :class:`NotFoundError` with the closest names). The report's ``actor`` is the key."""
    from ..editing import provenance as person_provenance

    prov = person_provenance(source, url=url, licence=licence, as_of=as_of, who=who)
    e = data if isinstance(data, Engagement) else engagement_of(store, data)
    rep = write_engagements(store, [e], prov, importer="engagement", source=prov.source, mode=mode,
                            dry_run=dry_run, run_kind="engagement.add")
    rep.actor = e.key
    return rep


def engagement_of(store: Store, data: dict[str, Any]) -> Engagement:
    """An :class:`Engagement` from a person's input, its parties (and place) resolved to actors."""
    from ..actors import resolve_actor

    data = dict(data)
    kind = str(data.get("kind") or "").strip().lower()
    parties = []
    for p in data.get("parties") or []:
        if isinstance(p, str):
            p = {"actor": p}
        p = dict(p)
        p["actor"] = resolve_actor(store, str(p.get("actor") or ""))["id"]
        if not p.get("role"):
            p["role"] = _default_role(kind)
        parties.append(p)
    data["parties"] = parties
    if data.get("place_id"):
        data["place_id"] = resolve_actor(store, data["place_id"])["id"]
    return Engagement.parse(data)


def _default_role(kind: str) -> str:
    from .model import DEFAULT_ROLE

    return DEFAULT_ROLE.get(kind, "participant")


def engagement_of_row(data: dict[str, Any], *, row: int | None = None, file: str | None = None) -> Engagement:
    """Validate a record whose parties are already actor ids (an import row)."""
    e = Engagement.parse(data, row=row, file=file)
    if row is not None or file:
        e.attrs.update({k: v for k, v in (("row", row), ("file", file)) if v is not None})
    return e


def delete_engagement(store: Store, key: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Delete the engagement ``key`` with its parties, documents, follow-ups and
    alignments; the ties it established stay (facts of their own) but no longer name it.
    Raises :class:`NotFoundError` when there is none."""
    with store.transaction() as conn:
        row = conn.execute(select(E.c.id, E.c.title).where(E.c.key == key)).first()
        if row is None:
            raise NotFoundError(f"no engagement with key '{key}'", suggestions=_close_keys(conn, key))
        if dry_run:
            conn.rollback()
            return {"key": key, "deleted": False, "dry_run": True}
        run_id = store.start_run(conn, "engagement.delete", key)
        unlink_ties(conn, row.id, key)
        conn.execute(delete(E).where(E.c.id == row.id))
        for t in (P, D, F, A, T):           # without foreign keys enforced (PostgreSQL does it itself)
            conn.execute(delete(t).where(t.c.engagement_id == row.id))
        store.finish_run(conn, run_id, {"deleted": {"engagements": 1}, "changes": {"key": [key, None]}})
    return {"key": key, "title": row.title, "deleted": True, "run_id": run_id}


def _close_keys(conn, key: str) -> list[str]:
    head = key[:12]
    return list(conn.execute(select(E.c.key).where(E.c.key.like(f"{head}%")).order_by(E.c.key).limit(5)).scalars())


# -- reading -----------------------------------------------------------------------------------

def get_engagement(store: Store, key: str) -> dict[str, Any]:
    """One engagement with its parties (names, kinds, countries, roles), documents,
    follow-ups, alignments, the ties it links to and its provenance."""
    with store.connect() as conn:
        row = conn.execute(select(E.c.id).where(E.c.key == key)).first()
        if row is None:
            raise NotFoundError(f"no engagement with key '{key}'", suggestions=_close_keys(conn, key))
        return read_engagements(conn, [row.id], full=True)[0]


def read_engagements(conn, ids: Sequence[int], *, full: bool = False) -> list[dict[str, Any]]:
    """The engagements ``ids`` (in that order) as dicts, with their parties; ``full``:
    with documents, follow-ups, alignments, ties and provenance too."""
    if not ids:
        return []
    ac, pv = schema.actors, schema.provenance
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i:i + CHUNK])
        for r in conn.execute(select(E, pv.c.source.label("prov_source"), pv.c.url.label("prov_url"),
                                     pv.c.licence.label("prov_licence"), pv.c.as_of.label("prov_as_of"))
                              .join(pv, pv.c.id == E.c.provenance_id).where(E.c.id.in_(chunk))):
            d = dict(r._mapping)
            attrs = d.pop("attrs") or {}
            out[r.id] = {
                "key": d["key"], "kind": d["kind"], "title": d["title"], "text": d["text"],
                "signed_on": d["signed_on"], "start_on": d["start_on"], "end_on": d["end_on"],
                "review_on": d["review_on"], "place": d["place"], "place_id": d["place_id"],
                "status": d["status"], "axes": [a for a in (d["axes"] or "").split(",") if a],
                "outcomes": d["outcomes"], "tie": attrs.get("tie"), "updated_at": d["updated_at"],
                "attrs": {k: v for k, v in attrs.items() if k not in ("digest", "tie")},
                "parties": [],
                "provenance": {"source": d["prov_source"], "url": d["prov_url"], "licence": d["prov_licence"],
                               "as_of": d["prov_as_of"]},
                "_id": r.id}
        for r in conn.execute(select(P.c.engagement_id, P.c.actor_id, P.c.role, P.c.signed_on, ac.c.name,
                                     ac.c.kind, ac.c.layer, ac.c.country)
                              .join(ac, ac.c.id == P.c.actor_id).where(P.c.engagement_id.in_(chunk))
                              .order_by(P.c.engagement_id, P.c.role, ac.c.name)):
            out[r.engagement_id]["parties"].append({"id": r.actor_id, "name": r.name, "role": r.role,
                                                    "signed_on": r.signed_on, "kind": r.kind, "layer": r.layer,
                                                    "country": r.country})
        if full:
            for e in (out[x] for x in chunk if x in out):
                e.update(documents=[], followups=[], alignments=[], ties=[])
            for r in conn.execute(select(D).where(D.c.engagement_id.in_(chunk)).order_by(D.c.id)):
                out[r.engagement_id]["documents"].append(
                    {k: getattr(r, k) for k in ("title", "url", "filename", "media_type", "sha256", "text")})
            for r in conn.execute(select(F).where(F.c.engagement_id.in_(chunk)).order_by(F.c.id)):
                out[r.engagement_id]["followups"].append(
                    {k: getattr(r, k) for k in ("text", "due_on", "status", "done_on")})
            for r in conn.execute(select(A).where(A.c.engagement_id.in_(chunk)).order_by(A.c.item_code)):
                out[r.engagement_id]["alignments"].append({"item": r.item_code, "score": round(r.score, 3),
                                                           "method": r.method, "evidence": r.evidence})
            t = schema.ties
            for r in conn.execute(select(T.c.engagement_id, T.c.effect, t.c.id, t.c.source, t.c.target, t.c.type,
                                         t.c.since, t.c.until, t.c.status)
                                  .join(t, t.c.id == T.c.tie_id).where(T.c.engagement_id.in_(chunk))):
                out[r.engagement_id]["ties"].append({"effect": r.effect, "id": r.id, "source": r.source,
                                                     "target": r.target, "type": r.type, "since": r.since,
                                                     "until": r.until, "status": r.status})
            for e in (out[x] for x in chunk if x in out):
                codes = [a["item"] for a in e["alignments"]]
                e["sdgs"] = sorted({int(c[4:]) for c in codes if c.startswith("sdg:") and "." not in c})
                e["targets"] = [c[4:] for c in codes if c.startswith("sdg:") and "." in c]
                e["paris"] = sorted(int(c[6:]) for c in codes if c.startswith("paris:"))
    res = []
    for i in ids:
        if i in out:
            e = out[i]
            e.pop("_id", None)
            res.append(e)
    return res


def filter_statement(stmt, *, kind: str | Iterable[str] | None = None, status: str | Iterable[str] | None = None,
                     axis: str | None = None, actor: str | None = None, partner: str | None = None,
                     country: str | None = None, layer: str | None = None, date_from: str | None = None,
                     date_to: str | None = None, q: str | None = None, sqlite: bool = True):
    """``stmt`` (a select over ``engagements``) restricted to the filters (see
    :func:`list_engagements`); party filters are lookups in the parties' index.
    ``sqlite``: the store is SQLite (its LIKE ignores case; PostgreSQL's needs ILIKE)."""
    from ..dates import parse_partial_date

    def many(v):
        if v is None or v == "" or v == []:
            return []
        return [x.strip().lower() for x in ([v] if isinstance(v, str) else v) for x in x.split(",") if x.strip()]

    kinds, statuses = many(kind), many(status)
    if kinds:
        stmt = stmt.where(E.c.kind.in_(kinds))
    for s in statuses:
        if s not in STATUSES:
            raise ValidationError(f"unknown status '{s}'; choose one of: {', '.join(STATUSES)}", field="status")
    if statuses:
        stmt = stmt.where(E.c.status.in_(statuses))
    if axis:
        from ..vocab import Axis, choices

        if axis not in {a.value for a in Axis}:
            raise ValidationError(f"unknown axis '{axis}'; choose one of: {choices(Axis)}", field="axis")
        stmt = stmt.where(or_(E.c.axes == axis, E.c.axes.like(f"{axis},%"), E.c.axes.like(f"%,{axis}"),
                              E.c.axes.like(f"%,{axis},%")))
    # IN (the parties' index) rather than EXISTS: SQLite answers an EXISTS by probing it
    # for every engagement, an IN by reading the actor's entries of the index (10 ms
    # instead of 170 ms for a city in 4,000 of 100,000 engagements, measured)
    for ref in (actor, partner):
        if ref:
            stmt = stmt.where(E.c.id.in_(select(P.c.engagement_id).where(P.c.actor_id == ref)))
    if country or layer:
        ac = schema.actors
        if layer and layer not in ("macro", "meso", "micro"):
            raise ValidationError(f"unknown layer '{layer}'; choose one of: macro, meso, micro", field="layer")
        cond = [ac.c.id == P.c.actor_id] + ([ac.c.country == country] if country else []) + \
            ([ac.c.layer == layer] if layer else []) + ([P.c.actor_id != actor] if actor else [])
        if country:
            # a country's actors are few: read their entries of the parties' index
            stmt = stmt.where(E.c.id.in_(select(P.c.engagement_id).where(*cond)))
        elif not actor:
            # the layers of the parties are stored with the engagement (revision 0010)
            bit = rows_mod.LAYER_BITS[layer]
            stmt = stmt.where(E.c.party_layers.in_([m for m in range(8) if m & bit]))
        else:
            # a partner's layer: probe each of the actor's engagements' parties
            # (SELECT 1, not SELECT *: the probe then reads the parties' primary key alone)
            stmt = stmt.where(select(literal(1)).select_from(P).join(ac, ac.c.id == P.c.actor_id)
                              .where(P.c.engagement_id == E.c.id, *cond[1:]).exists())
    if date_from:
        d = parse_partial_date(date_from, field="from")
        stmt = stmt.where(func.coalesce(E.c.end_on, E.c.start_on, E.c.signed_on) >= d)
    if date_to:
        d = parse_partial_date(date_to, field="to")
        # "to 2020" includes 2020-12-31: compare the date's prefix (not a range of the
        # sort index on purpose: SQLite would walk it for a range that keeps most rows,
        # fetching them one by one, 4 times slower than a scan — measured)
        stmt = stmt.where(func.substr(E.c.sort_date, 1, len(d)) <= d)
    if q:
        like = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # SQLite's LIKE ignores the case of ASCII letters by itself; lower() on every row
        # would double the time of the scan
        op = (lambda c: c.like(like, escape="\\")) if sqlite else (lambda c: c.ilike(like, escape="\\"))
        stmt = stmt.where(or_(op(E.c.title), op(E.c.text), op(E.c.place), E.c.key == q.strip()))
    return stmt


def list_engagements(store: Store, *, kind: str | Iterable[str] | None = None,
                     status: str | Iterable[str] | None = None, axis: str | None = None, actor: str | None = None,
                     partner: str | None = None, country: str | None = None, layer: str | None = None,
                     date_from: str | None = None, date_to: str | None = None, q: str | None = None,
                     sort: str = "-date", limit: int | None = 50, offset: int = 0,
                     cursor: str | None = None) -> dict[str, Any]:
    """Engagements that pass every filter, one page of them, and how many pass in all.

    - ``kind``, ``status``: one or several (a list or comma-separated);
    - ``axis``: sustainability, digital or engagement;
    - ``actor``: an actor id among the parties; ``partner``: a second one (the pair's);
    - ``country`` (ISO alpha-3), ``layer``: some party is of that country or layer (with
      ``actor``: some *other* party — the actor's partners);
    - ``date_from``, ``date_to``: partial dates; an engagement counts when it runs (or
      happened) within them;
    - ``q``: words in the title, text or place, or the exact key;
    - ``sort``: one of :data:`SORTS` (``-`` = descending; ties in the order of the ids,
      undated rows last); ``limit`` (None: all) and ``offset``;
    - ``cursor``: the ``next_cursor`` of the previous page (same filters and sort): the page
      after it, read with a seek in the index however deep (``offset`` is then ignored).

    Returns ``{"total", "limit", "offset", "items", "next_cursor"}``; items carry their
    parties; ``offset`` is the position of the first item; ``next_cursor`` is None on the
    last page."""
    from .paging import decode_cursor, encode_cursor, first_column, segments

    segs = segments(sort)
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be a whole number ≥ 0, not {limit!r}", field="limit")
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError(f"offset must be a whole number ≥ 0, not {offset!r}", field="offset")
    after = decode_cursor(cursor, sort) if cursor else None
    filters = dict(kind=kind, status=status, axis=axis, actor=actor, partner=partner, country=country,
                   layer=layer, date_from=date_from, date_to=date_to, q=q, sqlite=store.is_sqlite)
    # filters no index answers in the register's order (words, an axis, dates, parties) are
    # run once: the matching ids in order give the total and the page. Their order is an
    # expression no index holds (the column || ''), so that SQLite filters first and sorts
    # what is left, rather than walk the sort index fetching every row one by one (4 times
    # slower than a scan, measured). The other filters (kind, status, layer, none) are
    # counted from an index and the page read in order from another, stopping after it.
    one_pass = limit is None or any(v not in (None, "", []) for v in (axis, date_from, date_to, q, actor, partner,
                                                                         country))

    def count(*where) -> int:
        return conn.execute(filter_statement(select(func.count()).select_from(E), **filters).where(*where)).scalar()

    def query(seg):
        stmt = filter_statement(select(*seg.columns()), **filters)
        if seg.where is not None:
            stmt = stmt.where(seg.where)
        cond = seg.after(after) if after is not None else None
        return (stmt if cond is None else stmt.where(cond)).order_by(*seg.order_by())

    live = [seg for seg in segs if after is None or seg.number >= after.segment]
    seek = or_(*[_seek_where(seg, after) for seg in live]) if after is not None else None
    with store.connect() as conn:
        if one_pass:
            first, desc = segs[0], segs[0].desc
            expr = first.column.concat("")
            order = ([first.column.is_(None)] if len(segs) > 1 else []) + \
                [expr.desc() if desc else expr.asc(), E.c.id.desc() if desc else E.c.id.asc()]
            every = list(conn.execute(filter_statement(select(E.c.id), **filters).order_by(*order)).scalars())
            total = len(every)
            if after is not None:
                try:
                    offset = every.index(after.id) + 1
                except ValueError:      # the cursor's row left the list meanwhile: count what follows it
                    offset = total - count(seek)
            ids = every[offset:] if limit is None else every[offset:offset + limit]
        else:
            total = count()
            if after is not None:
                offset = total - count(seek)
            ids, skip = [], (0 if after is not None else offset)
            for seg in live:
                need = limit - len(ids)
                if need <= 0:
                    break
                got = conn.execute(query(seg).offset(skip).limit(need)).all()
                ids += [r.id for r in got]
                if skip and not got:
                    # the page starts past this segment: skip its rows in the next one
                    skip = max(0, skip - count(seg.where))
                else:
                    skip = 0
        items = read_engagements(conn, ids)
        nxt = None
        if ids and limit is not None and offset + len(ids) < total:
            value = conn.execute(select(first_column(segs)).where(E.c.id == ids[-1])).scalar()
            seg = segs[0] if value is not None or len(segs) == 1 else segs[1]
            nxt = encode_cursor(sort, seg.number, value if seg.column is not None else None, ids[-1])
    return {"total": total, "limit": limit, "offset": offset, "items": items, "next_cursor": nxt}


def _seek_where(seg, after):
    """The rows of ``seg`` at or after the cursor's segment that come after the cursor."""
    cond = seg.after(after)
    if cond is None:
        return seg.where if seg.where is not None else true()
    return cond if seg.where is None else and_(seg.where, cond)


def known_kinds(store: Store) -> list[str]:
    """The built-in kinds and any a user added."""
    with store.connect() as conn:
        extra = set(conn.execute(select(E.c.kind).distinct()).scalars()) - set(KINDS)
    return list(KINDS) + sorted(extra)


__all__ += ["engagement_of", "filter_statement", "known_kinds", "ROLES", "KINDS"]
