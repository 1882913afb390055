"""Reading user files safely: every problem becomes a message naming the file (and the
row and field where there is one) and saying what to do.

Every reader is held to the limits in force (:mod:`citydiplomacy.limits`) while it
streams, before the whole input is in memory: the file's size first; for a zip
container (.xlsx) the sizes its central directory declares (which bound what can be
unpacked: :mod:`zipfile` reads no more than a member declares); for Parquet the footer's
counts; then rows, columns and cells as they are read, and the deadline."""

from __future__ import annotations

import codecs
import csv
import io
import sys
import zipfile
from itertools import chain
from pathlib import Path
from typing import Any, Iterator

from .. import limits as _limits
from ..errors import ValidationError
from ..limits import Limits, check_deadline, exceeded

#: members of a zip container above this unpacked size are held to the compression ratio
RATIO_FLOOR = 1 << 20
#: the deadline is checked every this many rows
CHECK_EVERY = 256

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


def check_file(path: str | Path, *, max_bytes: int | None = None, limits: Limits | None = None) -> Path:
    """``path`` as a :class:`Path` once it is known to be a non-empty file within the
    size limit (``max_bytes`` when given, else ``file_bytes`` of the limits in force)."""
    lim = limits or _limits.current()
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", file=str(p))
    if p.is_dir():
        raise ValidationError("is a directory; give a file", file=str(p))
    size = p.stat().st_size
    if size == 0:
        raise ValidationError("the file is empty", file=str(p))
    if max_bytes is not None:
        if size > max_bytes:
            raise ValidationError(
                f"the file is {_limits.size(size)}, more than the limit of {_limits.size(max_bytes)}; "
                "split it into smaller files or raise the limit", file=str(p))
    elif lim.file_bytes is not None and size > lim.file_bytes:
        raise exceeded(lim, "file_bytes", found=f"the file is {_limits.size(size)}", file=str(p))
    return p


def check_zip(path: str | Path, *, limits: Limits | None = None, what: str = "file") -> list[zipfile.ZipInfo]:
    """The members of the zip container at ``path`` (an .xlsx workbook, a .docx
    document), once its central directory shows it within the limits: number of
    members, total unpacked size, and the compression ratio of each large member (a
    decompression bomb unpacks hundreds of MB from a few hundred KB). Nothing is
    unpacked here."""
    lim = limits or _limits.current()
    p = Path(path)
    entries = _zip_entry_count(p)
    if entries is None:
        raise ValidationError(f"not a readable {what} (it is not a zip container); "
                              "save it again from its application", file=str(p))
    if lim.zip_members is not None and entries > lim.zip_members:
        raise exceeded(lim, "zip_members", found=f"the {what} holds {entries:,} files", file=str(p),
                       advice="save it again without embedded files, or split it")
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValidationError(f"not a readable {what} ({exc}); save it again from its application",
                              file=str(p)) from None
    total = sum(i.file_size for i in infos)
    if lim.unpacked_bytes is not None and total > lim.unpacked_bytes:
        raise exceeded(lim, "unpacked_bytes", found=f"the {what} unpacks to {_limits.size(total)} "
                       f"(from {_limits.size(p.stat().st_size)})", file=str(p))
    if lim.compression_ratio is not None:
        for info in infos:
            if info.file_size > RATIO_FLOOR:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > lim.compression_ratio:
                    raise exceeded(lim, "compression_ratio",
                                   found=f"the part {info.filename} of the {what} unpacks {ratio:,.0f} times its "
                                         f"packed size ({_limits.size(info.compress_size)} to "
                                         f"{_limits.size(info.file_size)}), as a decompression bomb does",
                                   file=str(p), advice="check where the file comes from, or save it again")
    return infos


def _zip_entry_count(p: Path) -> int | None:
    """The number of members a zip file declares in its end-of-central-directory record
    (read before :mod:`zipfile` loads the whole directory), or None if it has none."""
    with p.open("rb") as fh:
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
        tail_len = min(size, 65536 + 22)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    if count == 0xFFFF:
        z64 = tail.rfind(b"PK\x06\x06", 0, at)
        if z64 >= 0 and len(tail) >= z64 + 40:
            count = int.from_bytes(tail[z64 + 32:z64 + 40], "little")
    return count


def read_table(path: str | Path, *, encoding: str = "utf-8", sheet: str | None = None,
               max_bytes: int | None = None, allow_empty: bool = False, limits: Limits | None = None) -> Table:
    """Read a CSV/TSV, Excel (.xlsx) or Parquet file into a :class:`Table` (a header
    without rows is an error unless ``allow_empty``), within ``limits`` (default: those
    in force, :func:`citydiplomacy.limits.current`)."""
    lim = limits or _limits.current()
    p = check_file(path, max_bytes=max_bytes, limits=lim)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_excel(p, sheet, lim)
    if suffix == ".parquet":
        return _read_parquet(p, lim)
    return _read_csv(p, encoding, allow_empty, lim)


def _utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def decode(raw: bytes, p: Path, encoding: str = "utf-8", *,
           binary_hint: str = "give a text file or the document in its own format (.pdf, .docx)") -> str:
    """The text of a file's bytes; a binary file or a wrong encoding is a clear error
    naming the file and line."""
    if b"\x00" in raw[:65536]:
        raise ValidationError(f"this is not a text file (it holds binary data); {binary_hint}", file=str(p))
    _check_encoding(encoding)
    try:
        return raw.decode("utf-8-sig" if _utf8(encoding) else encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise _not_encoded(p, encoding, exc.start, line) from None


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationError(f"unknown encoding '{encoding}'", field="encoding") from None


def _not_encoded(p: Path, encoding: str, byte: int, line: int) -> ValidationError:
    return ValidationError(
        f"the file is not valid {encoding} (byte {byte}, line {line}); give its encoding, "
        "e.g. --encoding latin-1 or --encoding cp1252", file=str(p), row=line)


def text_lines(p: Path, encoding: str = "utf-8", *,
               binary_hint: str = "give a text file or the document in its own format (.pdf, .docx)",
               ) -> Iterator[str]:
    """The lines of a text file (with their line ends), decoded one at a time: a binary
    file or a wrong encoding is a clear error naming the file and line, as
    :func:`decode` gives, without the whole file in memory."""
    _check_encoding(encoding)
    with p.open("rb") as fh:
        if b"\x00" in fh.read(65536):
            raise ValidationError(f"this is not a text file (it holds binary data); {binary_hint}", file=str(p))
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig" if _utf8(encoding) else encoding)()
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise _not_encoded(p, encoding, offset + exc.start, lineno) from None
            offset += len(raw)
            yield text
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _not_encoded(p, encoding, offset, lineno) from None


def _first_line(lines: Iterator[str]) -> tuple[str | None, int]:
    """The first line with text, and how many lines came before it."""
    skipped = 0
    for line in lines:
        if line.strip():
            return line, skipped
        skipped += 1
    return None, skipped


def _read_csv(p: Path, encoding: str, allow_empty: bool, lim: Limits) -> Table:
    lines = text_lines(p, encoding, binary_hint="export the table as CSV, or give an .xlsx or .parquet "
                                                "file by its real extension")
    first, skipped = _first_line(lines)
    if first is None:
        raise ValidationError("the file holds no rows", file=str(p))
    try:
        delimiter = csv.Sniffer().sniff(first.rstrip("\r\n"), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise ValidationError(f"cannot read the header: {exc}", file=str(p), row=1 + skipped) from None
    header = [h.strip() for h in header]
    _check_header(p, header, lim, row=1 + skipped)
    rows, problems = [], []
    n = 1
    count = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            n += 1
            problems.append({"row": n, "field": None, "reason": f"unreadable row: {exc}"})
            continue
        n = reader.line_num + skipped
        if not fields or not any(f.strip() for f in fields):
            continue
        count += 1
        _count_row(p, count, len(header), lim, row=n)
        if len(fields) != len(header):
            problems.append({"row": n, "field": None,
                             "reason": f"the row has {len(fields)} fields, the header {len(header)}"})
            continue
        long = _long_field(fields, header, lim)
        if long is not None:
            problems.append({"row": n, "field": long, "reason": f"the field is longer than "
                                                                f"{lim.field_chars:,} characters"})
            continue
        rows.append((n, {h: f.strip() for h, f in zip(header, fields)}))
    if not rows and not problems and not allow_empty:
        raise ValidationError("the file has a header but no rows", file=str(p))
    return Table(p, header, rows, problems)


def _check_header(p: Path, header: list[str], lim: Limits, *, row: int = 1, names: bool = True) -> None:
    if lim.columns is not None and len(header) > lim.columns:
        raise exceeded(lim, "columns", found=f"the header has {len(header):,} columns", file=str(p), row=row,
                       advice="is this the right file? Keep the columns you map")
    if names and (len([h for h in header if h]) < len(header) or len(set(header)) < len(header)):
        raise ValidationError("the header has empty or repeated column names: "
                              + ", ".join(repr(h) for h in header), file=str(p), row=row)


def _count_row(p: Path, count: int, width: int, lim: Limits, *, row: int) -> None:
    """Hold the ``count``-th data row (of ``width`` columns) to the limits on rows, cells
    and time."""
    if lim.rows is not None and count > lim.rows:
        raise exceeded(lim, "rows", found=f"the file has more than {lim.rows:,} rows", file=str(p),
                       advice="split it into files of fewer rows")
    if lim.cells is not None and count * width > lim.cells:
        raise exceeded(lim, "cells", found=f"the file has more than {lim.cells:,} cells "
                                           f"({count:,} rows of {width:,} columns by row {row:,})",
                       file=str(p), advice="split it into files of fewer rows, or keep only the columns you map")
    if count % CHECK_EVERY == 0:
        check_deadline(file=str(p))


def _long_field(values, header: list[str], lim: Limits) -> str | None:
    """The column of the first field longer than ``field_chars``, or None."""
    if lim.field_chars is None or not values or max(map(len, values)) <= lim.field_chars:
        return None
    for h, v in zip(header, values):
        if isinstance(v, str) and len(v) > lim.field_chars:
            return h or None
    return None


# -- Excel ------------------------------------------------------------------------------------

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def precheck(path: str | Path, *, limits: Limits | None = None, encoding: str = "utf-8") -> None:
    """What can be known of a table file within its limits without keeping its rows: its
    size; for a workbook, its zip directory, shared strings and the sheets' declared
    dimensions; for Parquet, its footer; for CSV, its number of rows (counted as it
    streams, only when it has more lines than the limit allows rows). The web calls it
    before it queues an import, so that a file of a million rows is refused at once (413),
    not minutes later by its job."""
    lim = limits or _limits.current()
    p = check_file(path, limits=lim)
    suffix = p.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".parquet") and lim.rows is not None:
        lines = 0
        with p.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                lines += chunk.count(b"\n")
        if lines > lim.rows + 1:          # more lines than rows allowed: count the rows themselves
            reader = csv.reader(text_lines(p, encoding))
            count = -1                    # the header
            for fields in reader:
                if fields and any(f.strip() for f in fields):
                    count += 1
                    if count > lim.rows:
                        raise exceeded(lim, "rows", found=f"the file has more than {lim.rows:,} rows",
                                       file=str(p), advice="split it into files of fewer rows")
        return
    if suffix in (".xlsx", ".xlsm"):
        _check_workbook(p, lim)
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(p).metadata
        except ImportError:
            return
        except Exception as exc:
            raise ValidationError(f"not a readable Parquet file ({exc})", file=str(p)) from None
        _check_parquet(p, meta, lim)


def _check_workbook(p: Path, lim: Limits) -> None:
    """A workbook's zip directory, shared strings and declared sheet sizes within the
    limits, before any cell is read."""
    infos = check_zip(p, limits=lim, what="workbook")
    try:
        _check_shared_strings(p, infos, lim)
        _check_sheet_sizes(p, infos, lim)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # a damaged member, a compression zipfile lacks, an encrypted member
        raise ValidationError(f"not a readable Excel workbook ({type(exc).__name__}); save it again from Excel",
                              file=str(p)) from None


def _read_excel(p: Path, sheet: str | None, lim: Limits) -> Table:
    try:
        import openpyxl
    except ImportError:
        raise ValidationError("reading Excel files needs openpyxl: pip install 'citydiplomacy[tables]'",
                              file=str(p)) from None
    _check_workbook(p, lim)
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise ValidationError(f"not a readable Excel workbook ({type(exc).__name__})", file=str(p)) from None
    try:
        if sheet and sheet not in wb.sheetnames:
            raise ValidationError(f"no sheet '{sheet}'; the workbook has: {', '.join(wb.sheetnames)}",
                                  field="sheet", file=str(p))
        if not wb.worksheets:
            raise ValidationError("the workbook has no sheet", file=str(p))
        ws = wb[sheet] if sheet else wb.worksheets[0]
        return _sheet_table(p, ws, lim)
    finally:
        wb.close()


def _check_shared_strings(p: Path, infos: list[zipfile.ZipInfo], lim: Limits) -> None:
    """Count the workbook's shared strings (streaming) before openpyxl loads them all:
    a table holds no more distinct strings than cells."""
    if lim.cells is None:
        return
    part = next((i for i in infos if i.filename.lower() == "xl/sharedstrings.xml"), None)
    if part is None or part.file_size < 1 << 20:
        return
    from lxml import etree

    n = 0
    with zipfile.ZipFile(p) as z, z.open(part) as src:
        try:
            for _, el in etree.iterparse(src, events=("end",), tag=_MAIN_NS + "si", resolve_entities=False,
                                         no_network=True, huge_tree=False):
                n += 1
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
                if n > lim.cells:
                    raise exceeded(lim, "cells", found=f"the workbook holds more than {lim.cells:,} distinct texts",
                                   file=str(p), advice="split it into files of fewer rows")
                if n % 4096 == 0:
                    check_deadline(file=str(p))
        except etree.XMLSyntaxError as exc:
            raise ValidationError(f"not a readable Excel workbook (its texts: {exc.msg})", file=str(p)) from None


def _check_sheet_sizes(p: Path, infos: list[zipfile.ZipInfo], lim: Limits) -> None:
    """Every worksheet's size, before openpyxl opens the workbook: the size it declares
    (``<dimension>``), or — when it declares none, and openpyxl would read the whole sheet
    to find one — its rows and cells counted as a stream, up to the limits."""
    import re

    from lxml import etree

    sheets = [i for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename, re.I)]
    with zipfile.ZipFile(p) as z:
        for info in sheets:
            rows = cells = 0
            where = f"the worksheet {info.filename}"
            with z.open(info) as src:
                try:
                    for _, el in etree.iterparse(src, events=("end",), tag=(_MAIN_NS + "dimension", _MAIN_NS + "row"),
                                                 resolve_entities=False, no_network=True, huge_tree=False):
                        if el.tag == _MAIN_NS + "dimension":
                            _check_dimension(p, where, el.get("ref") or "", lim)
                            break                   # declared: openpyxl reads no further either
                        rows += 1
                        cells += len(el)
                        el.clear()
                        while el.getprevious() is not None:
                            del el.getparent()[0]
                        if lim.rows is not None and rows - 1 > lim.rows:
                            raise exceeded(lim, "rows", found=f"{where} has more than {lim.rows:,} rows below "
                                           "its header", file=str(p), advice="split it into files of fewer rows")
                        if lim.cells is not None and cells > lim.cells:
                            raise exceeded(lim, "cells", found=f"{where} has more than {lim.cells:,} cells",
                                           file=str(p), advice="split it into files of fewer rows, or keep only "
                                                               "the columns you map")
                        if rows % 4096 == 0:
                            check_deadline(file=str(p))
                except etree.XMLSyntaxError as exc:
                    raise ValidationError(f"not a readable Excel workbook ({info.filename}: {exc.msg})",
                                          file=str(p)) from None


def _check_dimension(p: Path, where: str, ref: str, lim: Limits) -> None:
    """A declared size (``A1:D1000001``) against the limits on rows, columns and cells."""
    import re

    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?", ref.strip().upper())
    if not m:
        return
    from openpyxl.utils import column_index_from_string

    first_col, first_row = column_index_from_string(m.group(1)), int(m.group(2))
    last_col = column_index_from_string(m.group(3)) if m.group(3) else first_col
    last_row = int(m.group(4)) if m.group(4) else first_row
    rows, cols = last_row - 1, last_col      # rows below the header, columns from A (as openpyxl pads)
    if lim.columns is not None and cols > lim.columns:
        raise exceeded(lim, "columns", found=f"{where} declares {cols:,} columns", file=str(p),
                       advice="is this the right sheet? Keep the columns you map")
    if lim.rows is not None and rows > lim.rows:
        raise exceeded(lim, "rows", found=f"{where} declares {rows:,} rows below its header", file=str(p),
                       advice="split it into files of fewer rows")
    if lim.cells is not None and rows * cols > lim.cells:
        raise exceeded(lim, "cells", found=f"{where} declares {rows * cols:,} cells ({rows:,} rows of {cols:,} "
                                           "columns)", file=str(p),
                       advice="split it into files of fewer rows, or keep only the columns you map")


def _sheet_table(p: Path, ws, lim: Limits) -> Table:
    declared_rows, declared_cols = ws.max_row, ws.max_column
    where = f"the sheet '{ws.title}' declares"
    if lim.columns is not None and declared_cols is not None and declared_cols > lim.columns:
        raise exceeded(lim, "columns", found=f"{where} {declared_cols:,} columns", file=str(p),
                       advice="is this the right sheet? Keep the columns you map")
    if lim.rows is not None and declared_rows is not None and declared_rows - 1 > lim.rows:
        raise exceeded(lim, "rows", found=f"{where} {declared_rows - 1:,} rows below its header", file=str(p),
                       advice="split it into files of fewer rows")
    if lim.cells is not None and declared_rows and declared_cols and (declared_rows - 1) * declared_cols > lim.cells:
        raise exceeded(lim, "cells", found=f"{where} {(declared_rows - 1) * declared_cols:,} cells "
                                           f"({declared_rows - 1:,} rows of {declared_cols:,} columns)",
                       file=str(p), advice="split it into files of fewer rows, or keep only the columns you map")
    # without a declared width, rows are cut one column past the limit (to tell it was passed)
    width = None if declared_cols or lim.columns is None else lim.columns + 1
    it = ws.iter_rows(values_only=True, max_col=width)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    while header and not header[-1]:
        header.pop()
    _check_header(p, header, lim, names=False)
    rows, problems = [], []
    count = 0
    for i, values in enumerate(it, start=2):
        count += 1
        _count_row(p, count, max(len(header), 1), lim, row=i)
        if not any(v is not None for v in values):
            continue
        cells = {h: "" if v is None else str(v).strip() for h, v in zip(header, values)}
        long = _long_field(list(cells.values()), header, lim)
        if long is not None:
            problems.append({"row": i, "field": long,
                             "reason": f"the field is longer than {lim.field_chars:,} characters"})
            continue
        rows.append((i, {h: cells.get(h, "") for h in header}))
    if not rows and not problems:
        raise ValidationError("the sheet has no rows", file=str(p))
    return Table(p, header, rows, problems)


# -- Parquet -----------------------------------------------------------------------------------

def _read_parquet(p: Path, lim: Limits) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValidationError("reading Parquet files needs pyarrow: pip install 'citydiplomacy[tables]'",
                              file=str(p)) from None
    try:
        pf = pq.ParquetFile(p)
        meta = pf.metadata
    except Exception as exc:
        raise ValidationError(f"not a readable Parquet file ({exc})", file=str(p)) from None
    _check_parquet(p, meta, lim)
    cols = list(pf.schema_arrow.names)
    _check_header(p, cols, lim, names=False)
    rows, problems = [], []
    n = 1
    try:
        for batch in pf.iter_batches(batch_size=4096):
            check_deadline(file=str(p))
            for r in batch.to_pylist():
                n += 1
                _count_row(p, n - 1, len(cols), lim, row=n)
                cells = {c: "" if r[c] is None else str(r[c]) for c in cols}
                long = _long_field(list(cells.values()), cols, lim)
                if long is not None:
                    problems.append({"row": n, "field": long,
                                     "reason": f"the field is longer than {lim.field_chars:,} characters"})
                    continue
                rows.append((n, cells))
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError(f"not a readable Parquet file ({exc})", file=str(p)) from None
    return Table(p, cols, rows, problems)


def _check_parquet(p: Path, meta, lim: Limits) -> None:
    """The footer's counts against the limits, before any data is read."""
    rows, cols = meta.num_rows, meta.num_columns
    if lim.columns is not None and cols > lim.columns:
        raise exceeded(lim, "columns", found=f"the file has {cols:,} columns", file=str(p),
                       advice="is this the right file? Keep the columns you map")
    if lim.rows is not None and rows > lim.rows:
        raise exceeded(lim, "rows", found=f"the file has {rows:,} rows", file=str(p),
                       advice="split it into files of fewer rows")
    if lim.cells is not None and rows * cols > lim.cells:
        raise exceeded(lim, "cells", found=f"the file has {rows * cols:,} cells ({rows:,} rows of {cols:,} columns)",
                       file=str(p), advice="split it into files of fewer rows, or keep only the columns you map")
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if lim.unpacked_bytes is not None and unpacked > lim.unpacked_bytes:
        raise exceeded(lim, "unpacked_bytes", found=f"the file unpacks to {_limits.size(unpacked)} "
                       f"(from {_limits.size(p.stat().st_size)})", file=str(p))
    packed = max(p.stat().st_size, 1)
    if lim.compression_ratio is not None and unpacked > RATIO_FLOOR and unpacked / packed > lim.compression_ratio:
        raise exceeded(lim, "compression_ratio",
                       found=f"the file unpacks {unpacked / packed:,.0f} times its size ({_limits.size(packed)} to "
                             f"{_limits.size(unpacked)}), as a decompression bomb does",
                       file=str(p), advice="check where the file comes from, or write it without dictionary "
                                           "and run-length encoding of repeated values")


# -- JSON ----------------------------------------------------------------------------------------

def read_json(path: str | Path, *, what: str = "JSON", limits: Limits | None = None) -> Any:
    """A JSON file parsed whole, once its size is within ``markup_bytes`` (a parsed JSON
    document takes several times its size in memory)."""
    import json

    lim = limits or _limits.current()
    p = check_file(path, limits=lim)
    size = p.stat().st_size
    if lim.markup_bytes is not None and size > lim.markup_bytes:
        raise exceeded(lim, "markup_bytes", found=f"the {what} file is {_limits.size(size)}", file=str(p),
                       advice="split it into smaller files")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not {what} ({exc})", file=str(p)) from None


def iter_json_lines(path: Path, *, limits: Limits | None = None) -> Iterator[tuple[int, Any]]:
    """The objects of a JSON-lines file, one line at a time, within the limits on rows,
    line length (``field_chars``) and time."""
    import json

    lim = limits or _limits.current()
    p = check_file(path, limits=lim)
    count = 0
    for i, line in enumerate(text_lines(p), start=1):
        if not line.strip():
            continue
        count += 1
        if lim.rows is not None and count > lim.rows:
            raise exceeded(lim, "rows", found=f"the file has more than {lim.rows:,} lines", file=str(p),
                           advice="split it into files of fewer lines")
        if lim.field_chars is not None and len(line) > lim.field_chars:
            raise exceeded(lim, "field_chars", found=f"line {i} has {len(line):,} characters", file=str(p), row=i,
                           advice="shorten that line")
        if count % CHECK_EVERY == 0:
            check_deadline(file=str(p))
        try:
            yield i, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc.msg}", file=str(p), row=i) from None
