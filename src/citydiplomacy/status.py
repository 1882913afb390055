"""What the store holds: actors by layer and kind, ties by type, frameworks, sources."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from .frameworks import _level_counts
from .store import Store
from .store.schema import actors, aliases, framework_items, frameworks, import_runs, provenance, ties


def store_status(store: Store) -> dict[str, Any]:
    with store.connect() as conn:
        def grouped(col, *, table=None):
            return {k: n for k, n in conn.execute(
                select(col, func.count()).group_by(col).order_by(func.count().desc()))}

        fws = {}
        for fid, in conn.execute(select(frameworks.c.id).order_by(frameworks.c.id)):
            counts = _level_counts(conn, fid)
            fws[fid] = {f"{level}s": n for level, n in counts.items()}
        actor_sources = {k: n for k, n in conn.execute(
            select(provenance.c.source, func.count()).join(actors, actors.c.provenance_id == provenance.c.id)
            .group_by(provenance.c.source).order_by(func.count().desc()))}
        tie_sources = {k: n for k, n in conn.execute(
            select(provenance.c.source, func.count()).join(ties, ties.c.provenance_id == provenance.c.id)
            .group_by(provenance.c.source).order_by(func.count().desc()))}
        missing = {
            "actors": conn.execute(select(func.count()).select_from(actors)
                                   .where(actors.c.provenance_id.is_(None))).scalar(),
            "ties": conn.execute(select(func.count()).select_from(ties)
                                 .where(ties.c.provenance_id.is_(None))).scalar(),
        }
        runs = [dict(r._mapping) for r in conn.execute(
            select(import_runs.c.id, import_runs.c.kind, import_runs.c.started_at,
                   import_runs.c.finished_at, import_runs.c.status).order_by(import_runs.c.id))]
        return {
            "store": str(store.path or store.url),
            "schema": store.schema_version(),
            "actors": {
                "total": conn.execute(select(func.count()).select_from(actors)).scalar(),
                "by_layer": grouped(actors.c.layer),
                "by_kind": grouped(actors.c.kind),
                "by_source": actor_sources,
            },
            "aliases": conn.execute(select(func.count()).select_from(aliases)).scalar(),
            "ties": {
                "total": conn.execute(select(func.count()).select_from(ties)).scalar(),
                "by_type": grouped(ties.c.type),
                "by_status": grouped(ties.c.status),
                "by_source": tie_sources,
            },
            "frameworks": fws,
            "framework_items": conn.execute(select(func.count()).select_from(framework_items)).scalar(),
            "without_provenance": missing,
            "runs": runs,
        }
