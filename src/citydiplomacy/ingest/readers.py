"""Reading user files safely: every problem becomes a message naming the file (and the
row and field where there is one) and saying what to do."""

from __future__ import annotations

import codecs
import csv
import io
import sys
from pathlib import Path
from typing import Any, Iterator

from ..errors import ValidationError

#: Files larger than this are refused unless the caller raises the limit.
MAX_BYTES = 512 * 1024 * 1024
#: A header with more columns than this is refused.
MAX_COLUMNS = 500
#: The longest single field accepted (characters).
MAX_FIELD = 1_000_000

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class Table:
    """A table read from a file: its columns and its rows as dicts, with row numbers as
    a person counts them (the header is row 1, the first data row is row 2)."""

    def __init__(self, path: Path, columns: list[str], rows: list[tuple[int, dict[str, str]]],
                 problems: list[dict[str, Any]]):
        self.path = path
        self.columns = columns
        self.rows = rows
        self.problems = problems   # rows rejected while reading (too many fields, ...)

    def require(self, columns: list[str]) -> None:
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ValidationError(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}; "
                f"the file has columns: {', '.join(self.columns)}. Check --map or the file's header.",
                file=str(self.path))


def check_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Path:
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", file=str(p))
    if p.is_dir():
        raise ValidationError("is a directory; give a file", file=str(p))
    size = p.stat().st_size
    if size == 0:
        raise ValidationError("the file is empty", file=str(p))
    if size > max_bytes:
        raise ValidationError(
            f"the file is {size / 2**30:.1f} GB, more than the limit of {max_bytes / 2**30:.1f} GB; "
            "split it into smaller files or raise the limit (--max-bytes)", file=str(p))
    return p


def read_table(path: str | Path, *, encoding: str = "utf-8", sheet: str | None = None,
               max_bytes: int = MAX_BYTES, allow_empty: bool = False) -> Table:
    """Read a CSV/TSV, Excel (.xlsx) or Parquet file into a :class:`Table` (a header
    without rows is an error unless ``allow_empty``)."""
    p = check_file(path, max_bytes=max_bytes)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(p, sheet)
    if suffix == ".parquet":
        return _read_parquet(p)
    return _read_csv(p, encoding, allow_empty)


def decode(raw: bytes, p: Path, encoding: str = "utf-8", *,
           binary_hint: str = "give a text file or the document in its own format (.pdf, .docx)") -> str:
    """The text of a file's bytes; a binary file or a wrong encoding is a clear error
    naming the file and line."""
    if b"\x00" in raw[:65536]:
        raise ValidationError(f"this is not a text file (it holds binary data); {binary_hint}", file=str(p))
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationError(f"unknown encoding '{encoding}'", field="encoding") from None
    try:
        return raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ValidationError(
            f"the file is not valid {encoding} (byte {exc.start}, line {line}); give its encoding, "
            "e.g. --encoding latin-1 or --encoding cp1252", file=str(p), row=line) from None


def _read_csv(p: Path, encoding: str, allow_empty: bool = False) -> Table:
    text = decode(p.read_bytes(), p, encoding,
                  binary_hint="export the table as CSV, or give an .xlsx or .parquet file by its real extension")
    if not text.strip():
        raise ValidationError("the file holds no rows", file=str(p))
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ValidationError(f"cannot read the header: {exc}", file=str(p), row=1) from None
    header = [h.strip() for h in header]
    if len(header) > MAX_COLUMNS:
        raise ValidationError(f"the header has {len(header)} columns, more than {MAX_COLUMNS}; "
                              "is this the right file?", file=str(p), row=1)
    if len([h for h in header if h]) < len(header) or len(set(header)) < len(header):
        raise ValidationError("the header has empty or repeated column names: "
                              + ", ".join(repr(h) for h in header), file=str(p), row=1)
    rows, problems = [], []
    n = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            n += 1
            problems.append({"row": n, "field": None, "reason": f"unreadable row: {exc}"})
            continue
        n = reader.line_num
        if not fields or not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append({"row": n, "field": None,
                             "reason": f"the row has {len(fields)} fields, the header {len(header)}"})
            continue
        if any(len(f) > MAX_FIELD for f in fields):
            problems.append({"row": n, "field": None, "reason": f"a field is longer than {MAX_FIELD:,} characters"})
            continue
        rows.append((n, {h: f.strip() for h, f in zip(header, fields)}))
    if not rows and not problems and not allow_empty:
        raise ValidationError("the file has a header but no rows", file=str(p))
    return Table(p, header, rows, problems)


def _read_excel(p: Path, sheet: str | None) -> Table:
    try:
        import openpyxl
    except ImportError:
        raise ValidationError("reading Excel files needs openpyxl: pip install 'citydiplomacy[tables]'",
                              file=str(p)) from None
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise ValidationError(f"not a readable Excel workbook ({type(exc).__name__})", file=str(p)) from None
    ws = wb[sheet] if sheet else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    rows = [(i, {h: "" if v is None else str(v).strip() for h, v in zip(header, values)})
            for i, values in enumerate(it, start=2) if any(v is not None for v in values)]
    if not rows:
        raise ValidationError("the sheet has no rows", file=str(p))
    return Table(p, header, rows, [])


def _read_parquet(p: Path) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValidationError("reading Parquet files needs pyarrow: pip install 'citydiplomacy[tables]'",
                              file=str(p)) from None
    try:
        table = pq.read_table(p)
    except Exception as exc:
        raise ValidationError(f"not a readable Parquet file ({exc})", file=str(p)) from None
    cols = table.column_names
    data = table.to_pylist()
    rows = [(i, {c: "" if r[c] is None else str(r[c]) for c in cols}) for i, r in enumerate(data, start=2)]
    return Table(p, cols, rows, [])


def iter_json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    import json

    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield i, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValidationError(f"not JSON: {exc.msg}", file=str(path), row=i) from None
