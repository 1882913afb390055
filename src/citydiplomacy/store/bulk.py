"""Bulk loading on PostgreSQL: rows written with ``COPY ... FROM STDIN`` (psycopg 3).

``COPY`` streams rows to the server in one statement instead of one ``INSERT`` per row:
the default dataset's 1.2 million rows of actors, aliases and ties load several times
faster than through ``executemany`` (benchmarks/bench_postgres_load.py measures the whole
build). Values are adapted as an ``INSERT`` would: JSON columns serialised, booleans,
numbers and text by psycopg; a column a row does not give takes its server default.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from sqlalchemy import JSON, Connection, Table


def _json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def copy_rows(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` (dicts of column values) into ``table`` with COPY, inside ``conn``'s
    transaction; returns the count. Rows are grouped by the columns they give, so a column
    one row leaves out takes its default (as in an INSERT) and is not written as NULL."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(k for k in table.c.keys() if k in row), []).append(row)
    n = 0
    raw = conn.connection.driver_connection
    for cols, group in groups.items():
        if not group:
            continue
        json_cols = {c for c in cols if isinstance(table.c[c].type, JSON)}
        names = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur:
            with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in group:
                    copy.write_row([_json(row[c]) if c in json_cols else row[c] for c in cols])
        n += len(group)
    return n
