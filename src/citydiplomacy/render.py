"""Output for the command line: tables that fit the reader's terminal (and print whole in
a pipe), JSON or CSV for scripts. Every ``citydip`` command prints through this module, so
the rules below hold everywhere (docs/cli.md states them for users):

- ``--format json|csv`` holds the rows the table shows — the same filters, sort and
  ``--top`` — with numbers unrounded; a table only rounds and lays them out.
- Numbers in a table: whole numbers (counts, ranks) as integers with thousands separators
  (ids and years without); other numbers to three significant digits (``0.0123``,
  ``45.7``, ``12,346``), in scientific notation below 0.0001 (``2.35e-05``), so a small
  score never reads ``0.00``.
- On a terminal a table fits its width: text columns (names, titles) wrap at spaces; if
  that is not enough, columns are left out from the right, never an id, the first column,
  a name or the column the rows are sorted by, and a line under the table names those
  left out. Ids are never wrapped or cut. When even that does not fit, each row is printed
  as a block of ``column: value`` lines.
- In a pipe (or a file) nothing is wrapped, cut or left out: a table prints at its full
  width, a line of text on one line.
- No Python structure is printed raw: a mapping reads ``key value, key value``, a list
  ``a, b, c``, true/false ``yes``/``no``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from datetime import date, datetime
from enum import Enum
from typing import Any, Iterable, Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

FORMAT_HELP = ("Output: a table on the terminal, or json/csv for scripts. json and csv hold the rows the "
               "table shows (the same filters, sort and --top), with numbers unrounded.")

#: width of a console writing to a pipe or a file: wide enough that nothing wraps
PIPE_WIDTH = 10_000
#: a text column wraps down to this many cells (or its longest word) before columns are left out
TEXT_FLOOR = 12


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def make_console(*, stderr: bool = False) -> Console:
    """A console for standard output (or error): the terminal's width on a terminal; in a
    pipe or a file, no wrapping at all."""
    c = Console(stderr=stderr)
    if c.is_terminal:
        return c
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True)


# -- words and numbers ------------------------------------------------------------------------

def plural(n: int | float, word: str, many: str | None = None) -> str:
    """``1 initiative``, ``2 initiatives``, ``12,345 cities`` (give ``many`` for an irregular
    plural: ``plural(n, "city", "cities")``)."""
    return f"{number(n)} {word if n == 1 else (many or word + 's')}"


def number(v: int | float | None, *, digits: int = 3, integral: bool | None = None) -> str:
    """A number as a table shows it (see the module's rules). ``integral`` forces (True) or
    forbids (False) printing a whole float as an integer; by default a whole float is one."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return "—"
    if v == 0:
        return "0"
    whole = v.is_integer() and abs(v) < 1e15
    if whole and integral is not False:
        return f"{int(v):,}"
    a = abs(float(f"{v:.{digits - 1}e}"))     # rounded first: 0.9996 is 1.00, 999.7 is 1,000
    if a >= 10 ** digits:
        return f"{v:,.0f}"
    if a < 1e-4:
        return f"{v:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(a)))
    return f"{v:.{decimals}f}"


def text(v: Any) -> str:
    """Any value as a reader should see it in a table or a sentence: never a Python repr."""
    if v is None:
        return ""
    if isinstance(v, (bool, int, float)):
        return number(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, dict):
        return ", ".join(f"{k} {text(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple, set, frozenset)):
        return ", ".join(text(x) for x in v)
    if isinstance(v, Enum):
        return text(v.value)
    return str(v)


def _is_id(column: str) -> bool:
    return column in ("id", "other", "code", "year", "run") or column.endswith("_id")


def _plain_int(v: Any) -> str:
    return str(int(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() \
        else text(v)


# -- JSON and CSV ----------------------------------------------------------------------------

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


# -- tables ----------------------------------------------------------------------------------

def _need(widths: Sequence[int]) -> int:
    """Cells a table of these column widths takes: one space of padding either side of
    each column and a rule between two columns (no outer edge)."""
    return sum(w + 3 for w in widths) - 1 if widths else 0


class RowTable:
    """Rows of dicts laid out for the console they are printed on (the module's rules).
    ``keep``: columns never left out besides ids, the first column and ``name``."""

    def __init__(self, title: str | None, rows: Iterable[dict[str, Any]], columns: Sequence[str],
                 headers: Sequence[str] | None = None, *, keep: Sequence[str] = ()):
        self.title = title
        self.rows = list(rows)
        self.columns = list(columns)
        self.headers = dict(zip(self.columns, headers or self.columns))
        self.keep = {c for c in self.columns if _is_id(c) or c == "name" or c in keep}
        if self.columns:
            self.keep.add(self.columns[0])
        self.dropped: list[str] = []

    # the cells, as text, with each column's kind: "id", "number" or "text"
    def _cells(self) -> tuple[dict[str, list[str]], dict[str, str]]:
        cells: dict[str, list[str]] = {}
        kinds: dict[str, str] = {}
        for c in self.columns:
            values = [r.get(c) for r in self.rows]
            present = [v for v in values if v is not None and v != ""]
            numeric = bool(present) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            for v in present)
            if _is_id(c):
                kinds[c] = "id"
                cells[c] = [_plain_int(v) for v in values]
            elif numeric:
                kinds[c] = "number"
                whole = all(float(v).is_integer() for v in present)
                cells[c] = [number(v, integral=whole) if isinstance(v, (int, float)) else text(v) for v in values]
            else:
                kinds[c] = "text"
                cells[c] = [text(v) for v in values]
        return cells, kinds

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        cells, kinds = self._cells()

        def longest(s: str) -> int:
            return max((cell_len(line) for line in s.split("\n")), default=0)

        natural = {c: max([cell_len(self.headers[c])] + [longest(v) for v in cells[c]]) for c in self.columns}
        # a text column wraps at spaces down to TEXT_FLOOR cells (or its header's width); a longer
        # word, such as a URL, folds across lines rather than push other columns out
        floor = {c: natural[c] if kinds[c] != "text" else
                 min(natural[c], max(TEXT_FLOOR, cell_len(self.headers[c]))) for c in self.columns}
        shown = list(self.columns)
        self.dropped = []
        terminal = console.is_terminal
        width = options.max_width if terminal else _need([natural[c] for c in shown])
        if terminal:
            droppable = [c for c in reversed(self.columns) if c not in self.keep]
            while _need([floor[c] for c in shown]) > width and droppable:
                c = droppable.pop(0)
                shown.remove(c)
                self.dropped.append(c)
            if _need([floor[c] for c in shown]) > width:
                self.dropped = []
                yield from self._records(cells, options)
                return
        if self.title:
            yield Text(self.title, style="table.title")
        t = Table(show_edge=False, header_style="bold", box=box.HEAVY_HEAD)
        for c in shown:
            if kinds[c] == "text":
                t.add_column(self.headers[c], overflow="fold")
            else:       # ids and numbers keep their width: never wrapped, never cut
                t.add_column(self.headers[c], no_wrap=True, width=natural[c],
                             justify="right" if kinds[c] == "number" else "left")
        for i in range(len(self.rows)):
            t.add_row(*[Text(cells[c][i]) for c in shown])
        yield from console.render(t, options.update(width=min(width, _need([natural[c] for c in shown]))))
        if self.dropped:
            yield Text(f"left out at this width: {', '.join(self.headers[c] or c for c in self.dropped)} "
                       "(a wider terminal, a pipe or --format csv shows them)", style="dim")

    def _records(self, cells: dict[str, list[str]], options: ConsoleOptions) -> RenderResult:
        """Each row as ``column: value`` lines: the layout when no table fits."""
        if self.title:
            yield Text(self.title, style="table.title")
        for i in range(len(self.rows)):
            block = Text()
            for c in self.columns:
                if cells[c][i]:
                    block.append(f"{self.headers[c] or c}: ", style="bold")
                    block.append(cells[c][i] + "\n")
            yield block


def table(title: str | None, rows: Iterable[dict[str, Any]], columns: Sequence[str],
          headers: Sequence[str] | None = None, *, keep: Sequence[str] = ()) -> RowTable:
    """A table of ``rows`` (dicts) showing ``columns`` under ``headers``; it lays itself out
    when printed (see the module's rules). ``keep`` names columns never left out."""
    return RowTable(title, rows, columns, headers, keep=keep)


def emit(fmt: Format, *, data: Any, rows: list[dict[str, Any]] | None = None,
         columns: Sequence[str] = (), title: str | None = None, console: Console | None = None,
         renderables: Sequence[Any] = ()) -> None:
    """Print ``data`` as JSON, ``rows`` as CSV, or ``renderables`` (default: a table of
    ``rows``) on the console. ``data`` and ``rows`` must be what the table shows."""
    if fmt == Format.json:
        sys.stdout.write(to_json(data) + "\n")
    elif fmt == Format.csv:
        sys.stdout.write(to_csv(rows if rows is not None else [], columns))
    else:
        console = console or make_console()
        for r in renderables or [table(title, rows or [], columns)]:
            console.print(r, highlight=False)
