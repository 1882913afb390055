"""Copying a whole store between SQLite and PostgreSQL (``citydip migrate-store``).

Every table is copied row for row with its ids — the data with its provenance and import
runs, and the observatory's own records: accounts, API tokens, sessions, the audit log,
index builds — into an empty store at the same schema revision, in one transaction on
the destination (a failure leaves it empty). Nothing is added on the way (not even an
audit row: the copy is the same store in another database), so SQLite → PostgreSQL →
SQLite gives back a store whose ``citydip export`` is identical (tests/test_postgres.py).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from sqlalchemy import func, select

from ..errors import StoreError
from . import schema
from .db import Store

#: rows read from the source per round trip
CHUNK = 20_000


def _counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in schema.metadata.sorted_tables}


def migrate_store(src: Store, dst: Store, *,
                  progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Copy every row of ``src`` into ``dst`` (which must be empty); returns the counts
    per table and the seconds taken. Both stores are at the current schema (opening
    them migrated them)."""
    t0 = time.perf_counter()
    if src.schema_version() != dst.schema_version():
        raise StoreError(f"{src.where} is at schema {src.schema_version()} and {dst.where} at "
                         f"{dst.schema_version()}; open both with this version of citydiplomacy first")
    held = {k: n for k, n in _counts(dst).items() if n}
    if held:
        raise StoreError(f"{dst.where} is not empty (it holds {', '.join(f'{n:,} {k}' for k, n in held.items())}); "
                         "migrate into a new, empty database or file")
    totals = _counts(src)
    tables = schema.metadata.sorted_tables
    copied: dict[str, int] = {}
    with src.snapshot() as rconn, dst.transaction() as wconn:
        for i, table in enumerate(tables):
            if progress:
                progress(table.name, i, len(tables))
            pk = list(table.primary_key.columns)
            stmt = select(table).order_by(*pk)
            result = rconn.execution_options(stream_results=True, yield_per=CHUNK).execute(stmt)
            n = 0
            for part in result.mappings().partitions(CHUNK):
                n += dst.insert_many(wconn, table, [dict(r) for r in part])
            result.close()
            if dst.is_postgres and n:
                _advance_sequence(wconn, table)
            copied[table.name] = n
        if progress:
            progress("done", len(tables), len(tables))
    if copied != totals:
        # the snapshot is one state of the source: a difference is a bug, never a race
        raise StoreError(f"the copy differs from the source: {copied} != {totals}")
    return {"tables": copied, "rows": sum(copied.values()),
            "seconds": round(time.perf_counter() - t0, 2)}


def _advance_sequence(conn, table) -> None:
    """After rows with their own ids: the next id PostgreSQL gives follows them."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not str(pk[0].type).upper().startswith("INTEGER"):
        return
    col = pk[0].name
    seq = conn.exec_driver_sql(f"SELECT pg_get_serial_sequence('{table.name}', '{col}')").scalar()
    if seq:
        conn.exec_driver_sql(f"SELECT setval('{seq}', coalesce((SELECT max(\"{col}\") FROM \"{table.name}\"), 0) + 1, false)")
