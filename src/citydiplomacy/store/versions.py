"""The store's data versions: what caches of reads are keyed by, kept in the database so
that every process that reads the store (web workers, queue workers, the command line)
agrees on them at once.

Every write is an import run, and :meth:`Store.finish_run` raises the versions in the
run's own transaction (:func:`bump`), so a version is visible exactly when the write is:

- ``all``: raised by every write; its new value is the write's number. What a result of
  the whole store (a graph, a ranking, the status, a map) is keyed by.
- ``structure``: set to the write's number by every write that is not *local*.
- ``actor:<id>``: set to the write's number by a *local* write that touches actor
  ``<id>``: an edit of an actor's own figures (:data:`LOCAL_FIELDS`: no search, filter or
  look-up ranks or finds actors by them), or a tie between two actors (both ends).

A read that depends only on some actors' own facts (an actor, its ties, a page of search
results) computed when ``all`` was ``seen`` is still right while ``structure`` and each of
its actors' versions are at most ``seen``; any other read is right while ``all`` is.

On PostgreSQL the ``all`` row is locked by each write from its :func:`bump` (the last
statement of the write) to its commit, so writes commit in the order of their numbers:
a reader that sees version ``n`` has seen every write numbered ``n`` or less, and learns
what changed since with one range read of an index (:func:`changed_since`).
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import Connection, select

from . import schema

ALL = "all"
STRUCTURE = "structure"

#: actor fields no query ranks, filters or looks actors up by (search ranks by
#: ``importance``, which an edit leaves as it is; names, countries and identifiers are
#: searched and filtered on): an edit of only these touches that actor alone
LOCAL_FIELDS = frozenset({"population", "lat", "lon", "admin1", "founded"})


def actor_scope(actor_id: str) -> str:
    return f"actor:{actor_id}"


def _upsert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(schema.data_versions)


def bump(conn: Connection, touched: Iterable[str] | None = None) -> int:
    """Raise the versions for a write in ``conn``'s transaction (see the module's
    docstring); returns the write's number (the new ``all``)."""
    t = schema.data_versions
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
    ins = _upsert(conn).values(scope=ALL, version=1, changed_at=now)
    ins = ins.on_conflict_do_update(index_elements=[t.c.scope],
                                    set_={"version": t.c.version + 1, "changed_at": now})
    conn.execute(ins)
    version = conn.execute(select(t.c.version).where(t.c.scope == ALL)).scalar()
    scopes = [STRUCTURE] if touched is None else sorted({actor_scope(a) for a in touched if a})
    if scopes:
        ins = _upsert(conn)
        ins = ins.on_conflict_do_update(index_elements=[t.c.scope],
                                        set_={"version": ins.excluded.version, "changed_at": now})
        conn.execute(ins, [{"scope": s, "version": version, "changed_at": now} for s in scopes])
    if touched is None:
        # an actor's version below ``structure`` no longer tells anything: a read that
        # depends on it depends on ``structure`` too
        conn.execute(t.delete().where(t.c.version < version, t.c.scope.like("actor:%")))
    return version


def token(conn: Connection) -> tuple:
    """What identifies the store's content now, for keys of results kept in memory or on
    disk: (``all``, the time of that write). A store written before revision 0011 and not
    since has no row: then (its latest import run, its start time)."""
    t = schema.data_versions
    row = conn.execute(select(t.c.version, t.c.changed_at).where(t.c.scope == ALL)).first()
    if row is not None:
        return (row.version, row.changed_at)
    runs = schema.import_runs
    row = conn.execute(select(runs.c.id, runs.c.started_at).order_by(runs.c.id.desc()).limit(1)).first()
    return ("run", row.id, str(row.started_at)) if row else (0, "")


def changed_since(conn: Connection, version: int) -> list[tuple[str, int]]:
    """(scope, version) of every scope raised above ``version``, and ``all`` always."""
    t = schema.data_versions
    return [(r.scope, r.version) for r in
            conn.execute(select(t.c.scope, t.c.version).where((t.c.version > version) | (t.c.scope == ALL)))]


__all__ = ["ALL", "LOCAL_FIELDS", "STRUCTURE", "actor_scope", "bump", "changed_since", "token"]
