"""What the store holds: actors by layer and kind, ties by type, frameworks, sources."""

from __future__ import annotations

import os
import stat
from pathlib import Path
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


def permission_warnings(path: Path | None) -> list[str]:
    """What other users of this computer can do with the store: one message per file (the
    store, its write-ahead log and shared-memory files, the web secret) that others can
    read or write, and for a directory others can write to, each saying how to fix it.

    The store holds password hashes (Argon2id) and the hashes of tokens and sessions; new
    stores are created 0600 in a 0700 directory, but an existing store's mode is left as its
    owner set it (a group of operators may share it on purpose): this reports it instead."""
    if path is None or os.name == "nt":
        return []
    out = []
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
             path.with_name("web-secret")]
    for f in files:
        try:
            mode = stat.S_IMODE(f.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            who = "other users" if mode & 0o007 else "its group"
            out.append(f"{f} can be read or written by {who} (mode {mode:04o}); it holds "
                       f"{'the key that signs web sessions' if f.name == 'web-secret' else 'password and token hashes'}"
                       f": run chmod 600 {f}")
    try:
        dmode = stat.S_IMODE(path.parent.stat().st_mode)
    except OSError:
        dmode = 0
    if dmode & 0o022 and not dmode & stat.S_ISVTX:     # sticky (/tmp): others cannot replace it
        out.append(f"the directory {path.parent} can be written by other users (mode {dmode:04o}): they "
                   f"could replace the store; run chmod go-w {path.parent}")
    return out
