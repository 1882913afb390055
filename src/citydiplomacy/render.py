"""Output for the command line: Rich tables on a terminal, JSON or CSV for scripts."""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.table import Table


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                    for k, v in row.items()})
    return buf.getvalue()


def table(title: str | None, rows: Iterable[dict[str, Any]], columns: Sequence[str],
          headers: Sequence[str] | None = None) -> Table:
    t = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for h in headers or columns:
        t.add_column(h)
    for row in rows:
        t.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return t


def emit(fmt: Format, *, data: Any, rows: list[dict[str, Any]] | None = None,
         columns: Sequence[str] = (), title: str | None = None, console: Console | None = None,
         renderables: Sequence[Any] = ()) -> None:
    """Print ``data`` as JSON, ``rows`` as CSV, or ``renderables`` (default: a table of
    ``rows``) on the console."""
    if fmt == Format.json:
        sys.stdout.write(to_json(data) + "\n")
    elif fmt == Format.csv:
        sys.stdout.write(to_csv(rows if rows is not None else [], columns))
    else:
        console = console or Console()
        for r in renderables or [table(title, rows or [], columns)]:
            console.print(r)
