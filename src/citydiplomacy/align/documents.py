"""Texts to align, from wherever they come: a string, a file of texts (txt one per line,
CSV or JSONL with ``id`` and ``text``), or a whole document (PDF, DOCX, HTML, Markdown or
plain text) split into paragraphs that keep their page or section for the evidence.

Every problem is a :class:`ValidationError` naming the file (and row) and saying what
to do; a bad row of a batch becomes a :class:`Passage` with an ``error`` instead.

Every reader streams within the limits in force (:mod:`citydiplomacy.limits`): a DOCX
is checked as a zip container first (unpacked size, compression ratio) and its paragraphs
are parsed one at a time; a PDF's pages are counted before any is extracted; HTML is
parsed as a stream (lxml), and HTML, Markdown and plain text are read whole only within
``markup_bytes``; and the count of
paragraphs (or texts of a batch), their characters and the deadline are checked as they
come, so that a document stops at the first paragraph past a limit."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Iterator

from .. import limits as _limits
from ..errors import ValidationError
from ..ingest.readers import check_file, check_zip, decode, text_lines
from ..limits import Limits, check_deadline, exceeded

#: the longest single text aligned as one unit (characters, about 150,000 words)
MAX_TEXT = 1_000_000
#: paragraphs longer than this (words) are cut at sentence ends into pieces of about this size
CHUNK_WORDS = 220

BATCH_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".tsv"}
DOCUMENT_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".md", ".txt"}

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'«(\[]?[A-ZÀ-ÖØ-Þ0-9])")


@dataclass
class Passage:
    """One unit to align: ``id``, its ``text`` and where it is in its source (``ref``:
    ``p. 12 ¶3``, ``§ Housing ¶2``, ``row 5``, ``line 7``), or the ``error`` that kept it
    from being read."""

    id: str
    text: str
    ref: str | None = None
    error: str | None = None


def check_text(text: str, *, where: str = "text") -> str:
    """Refuse what cannot be aligned, with the reason."""
    if text is None or not str(text).strip():
        raise ValidationError("the text is empty; give some words to align", field=where)
    if len(text) > MAX_TEXT:
        raise ValidationError(
            f"the text has {len(text):,} characters, more than the {MAX_TEXT:,} aligned as one unit; "
            "save it to a file and align the file (it is split into paragraphs)", field=where)
    return text


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def chunk(text: str, words: int = CHUNK_WORDS) -> list[str]:
    """``text`` cut at sentence ends into pieces of at most about ``words`` words."""
    if len(text.split()) <= words:
        return [text]
    out, cur, n = [], [], 0
    for s in sentences(text):
        k = len(s.split())
        if cur and n + k > words:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += k
    if cur:
        out.append(" ".join(cur))
    return out


def _paragraphs(text: str) -> list[str]:
    """Paragraphs of extracted text: blank lines separate them; lines of one paragraph
    (wrapped by the layout) are joined, hyphenated breaks mended."""
    paras = []
    for block in re.split(r"\n\s*\n", text):
        block = re.sub(r"-\n(?=[a-zà-ÿ])", "", block.strip())
        block = re.sub(r"\s*\n\s*", " ", block)
        block = re.sub(r"[ \t]+", " ", block).strip()
        if len(block.split()) >= 3:
            paras.extend(chunk(block))
    return paras


# ---------------------------------------------------------------------------------------
# batches: one text per line / row


class _Budget:
    """Counts what a reader takes from one file (paragraphs, or texts of a batch, and
    their characters) against the limits, and checks the deadline as it goes."""

    def __init__(self, lim: Limits, path: Path, *, unit: str = "paragraphs"):
        self.lim, self.path, self.unit = lim, path, unit
        self.count = self.chars = 0

    def take(self, text: str) -> str:
        self.count += 1
        self.chars += len(text)
        lim, file = self.lim, str(self.path)
        if self.unit == "paragraphs" and lim.paragraphs is not None and self.count > lim.paragraphs:
            raise exceeded(lim, "paragraphs", found=f"the document has more than {lim.paragraphs:,} paragraphs",
                           file=file, advice="split it into smaller documents")
        if self.unit == "rows" and lim.rows is not None and self.count > lim.rows:
            raise exceeded(lim, "rows", found=f"the file has more than {lim.rows:,} texts", file=file,
                           advice="split it into files of fewer texts")
        if lim.text_chars is not None and self.chars > lim.text_chars:
            raise exceeded(lim, "text_chars", found=f"the {'document' if self.unit == 'paragraphs' else 'file'} "
                           f"has more than {lim.text_chars:,} characters of text", file=file,
                           advice="split it into smaller files")
        if self.count % 64 == 0:
            check_deadline(file=file)
        return text


def read_batch(path: Path, *, encoding: str = "utf-8", limits: Limits | None = None) -> list[Passage]:
    """The texts of a file of texts: one per line (.txt), per row (.csv/.tsv with a
    ``text`` column) or per JSON line (.jsonl), read line by line within the limits."""
    lim = limits or _limits.current()
    suffix = path.suffix.lower()
    check_file(path, limits=lim)
    lines = text_lines(path, encoding)
    budget = _Budget(lim, path, unit="rows")
    if suffix in (".jsonl", ".ndjson"):
        passages = _jsonl(lines, path)
    elif suffix in (".csv", ".tsv"):
        passages = _csv(lines, path, "\t" if suffix == ".tsv" else ",")
    else:
        passages = (Passage(id=str(i), text=line.strip(), ref=f"line {i}")
                    if line.strip() else Passage(id=str(i), text="", ref=f"line {i}", error="empty line")
                    for i, line in enumerate((x.rstrip("\r\n") for x in lines), 1))
    out = []
    for p in passages:
        budget.take(p.text)
        out.append(p)
    return out


def _row_passage(pid: str, text, ref: str) -> Passage:
    if not isinstance(text, str) or not text.strip():
        return Passage(id=pid, text="", ref=ref, error="empty text")
    if len(text) > MAX_TEXT:
        return Passage(id=pid, text="", ref=ref,
                       error=f"text of {len(text):,} characters is longer than {MAX_TEXT:,}; split it")
    return Passage(id=pid, text=text, ref=ref)


def _jsonl(lines: Iterator[str], path: Path) -> Iterator[Passage]:
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Passage(id=str(i), text="", ref=f"line {i}", error=f"not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict) or "text" not in obj:
            yield Passage(id=str(i), text="", ref=f"line {i}",
                          error='each line must be an object with "text" (and "id")')
            continue
        yield _row_passage(str(obj.get("id", i)), obj.get("text"), f"line {i}")


def _csv(lines: Iterator[str], path: Path, delimiter: str) -> Iterator[Passage]:
    reader = csv.DictReader(lines, delimiter=delimiter)
    cols = reader.fieldnames or []
    if "text" not in cols:
        raise ValidationError(f"no 'text' column; the file has columns: {', '.join(cols) or '(none)'}. "
                              "Name the column of texts 'text' (and of identifiers 'id').", file=str(path))
    for row_no, row in enumerate(reader, 2):
        yield _row_passage(str(row.get("id") or row_no), row.get("text"), f"row {row_no}")


# ---------------------------------------------------------------------------------------
# documents: split into paragraphs


def read_document(path: Path, *, limits: Limits | None = None) -> list[Passage]:
    """The paragraphs of a document, with their page or section, read within ``limits``
    (default: those in force)."""
    lim = limits or _limits.current()
    suffix = path.suffix.lower()
    check_file(path, limits=lim)
    stem = path.stem
    budget = _Budget(lim, path)
    if suffix == ".pdf":
        parts = _pdf(path, budget)
    elif suffix == ".docx":
        parts = _docx(path, budget)
    elif suffix in (".html", ".htm"):
        parts = _html(_whole_text(path, lim), budget)
    else:
        parts = ((None, budget.take(p)) for p in _paragraphs(_whole_text(path, lim)))
    counters: dict[str | None, int] = {}
    out = []
    for where, para in parts:
        counters[where] = counters.get(where, 0) + 1
        ref = f"{where} ¶{counters[where]}" if where else f"¶{counters[where]}"
        out.append(Passage(id=f"{stem}:{len(out) + 1}", text=para, ref=ref))
    if not out:
        raise ValidationError("no paragraphs of text found in the document", file=str(path))
    return out


def _whole_text(path: Path, lim: Limits) -> str:
    """The text of an HTML, Markdown or plain-text document, read whole once its size is
    within ``markup_bytes`` (a parsed HTML page takes many times its size)."""
    size = path.stat().st_size
    if lim.markup_bytes is not None and size > lim.markup_bytes:
        raise exceeded(lim, "markup_bytes", found=f"the document is {_limits.size(size)}", file=str(path),
                       advice="split it into smaller documents, or convert it to PDF or DOCX")
    return decode(path.read_bytes(), path, "utf-8")


def _pdf(path: Path, budget: _Budget) -> list[tuple[str, str]]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is a dependency
        raise ValidationError("reading PDF needs pypdf: pip install pypdf", file=str(path)) from None
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:   # noqa: BLE001 - pypdf raises several kinds for unknown ciphers
                ok = 0
            if not ok:
                raise ValidationError("the PDF is encrypted with a password; save a decrypted copy "
                                      "(e.g. qpdf --password=... --decrypt in.pdf out.pdf) and align that",
                                      file=str(path))
        lim = budget.lim
        pages = len(reader.pages)
        if lim.pages is not None and pages > lim.pages:
            raise exceeded(lim, "pages", found=f"the PDF has {pages:,} pages", file=str(path),
                           advice="split it into smaller documents (e.g. qpdf in.pdf --pages . 1-100 -- part1.pdf)")
        out: list[tuple[str, str]] = []
        for i, page in enumerate(reader.pages, 1):
            check_deadline(file=str(path))
            # layout mode keeps the vertical gaps, so paragraphs stay apart
            try:
                text = page.extract_text(extraction_mode="layout") or ""
            except Exception:   # noqa: BLE001 - fall back to plain extraction on odd pages
                text = page.extract_text() or ""
            out.extend((f"p. {i}", budget.take(p)) for p in _paragraphs(text))
    except ValidationError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationError(f"not a readable PDF ({exc.__class__.__name__}: {exc}); check the file",
                              file=str(path)) from None
    if not out:
        raise ValidationError(
            f"the PDF has {len(reader.pages)} page(s) but no text layer (a scan?); "
            "run OCR first (e.g. ocrmypdf in.pdf out.pdf) and align the result", file=str(path))
    return out


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "/officeDocument"


def _docx(path: Path, budget: _Budget) -> Iterator[tuple[str | None, str]]:
    """The body's paragraphs of a Word document, parsed one at a time from its XML (the
    text python-docx's ``Paragraph.text`` gives: runs and hyperlinks, tabs and breaks),
    with the heading they stand under. The zip container is checked first."""
    import zipfile

    from lxml import etree

    lim, file = budget.lim, str(path)
    check_zip(path, limits=lim, what="Word document")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_docx(path, exc) from None
    with z:
        part = _docx_main_part(z)
        names = set(z.namelist())
        if part not in names:
            raise _not_docx(path, KeyError(part))
        styles = _docx_styles(z, names)
        section = None
        seen = 0
        try:
            with z.open(part) as src:
                for _, el in etree.iterparse(src, events=("end",), tag=(_W + "p", _W + "tbl", _W + "tr"),
                                             resolve_entities=False, no_network=True, huge_tree=False):
                    seen += 1
                    if seen % 256 == 0:
                        check_deadline(file=file)
                    parent = el.getparent()
                    if el.tag == _W + "p" and parent is not None and parent.tag == _W + "body":
                        text = _docx_text(el).strip()
                        style_el = el.find(f"{_W}pPr/{_W}pStyle")
                        style_id = style_el.get(_W + "val") if style_el is not None else None
                        style = styles.get(style_id, style_id or "") if style_id else styles.get(None, "")
                        if text:
                            if style.lower().startswith(("heading", "title")):
                                section = "§ " + text[:80]
                            else:
                                for piece in chunk(text):
                                    if len(piece.split()) >= 3:
                                        yield section, budget.take(piece)
                    # keep memory flat: drop what has been read
                    el.clear()
                    if parent is not None:
                        while el.getprevious() is not None:
                            del parent[0]
        except etree.XMLSyntaxError as exc:
            raise ValidationError(f"not a readable Word document (its text: {exc.msg}); save it again as .docx",
                                  file=file) from None
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            # a damaged member, a compression zipfile lacks, an encrypted member
            raise _not_docx(path, exc) from None


def _not_docx(path: Path, exc: BaseException) -> ValidationError:
    return ValidationError(f"not a readable Word document ({exc.__class__.__name__}); save it again as .docx",
                           file=str(path))


def _docx_main_part(z) -> str:
    """The document part named by the package's relationships (word/document.xml)."""
    from lxml import etree

    try:
        root = etree.fromstring(z.read("_rels/.rels"), etree.XMLParser(resolve_entities=False, no_network=True))
    except (KeyError, etree.XMLSyntaxError):
        return "word/document.xml"
    for rel in root.iter(_REL + "Relationship"):
        if (rel.get("Type") or "").endswith(_OFFICE_DOCUMENT) and rel.get("TargetMode") != "External":
            return (rel.get("Target") or "word/document.xml").lstrip("/")
    return "word/document.xml"


def _docx_styles(z, names: set[str]) -> dict[str | None, str]:
    """Paragraph style id -> its name (``None`` -> the default paragraph style's)."""
    from lxml import etree

    if "word/styles.xml" not in names:
        return {}
    try:
        root = etree.fromstring(z.read("word/styles.xml"),
                                etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError:
        return {}
    out: dict[str | None, str] = {}
    for st in root.iter(_W + "style"):
        if st.get(_W + "type") != "paragraph":
            continue
        name_el = st.find(_W + "name")
        name = name_el.get(_W + "val") if name_el is not None else st.get(_W + "styleId")
        out[st.get(_W + "styleId")] = name or ""
        if st.get(_W + "default") in ("1", "true", "on"):
            out[None] = name or ""
    return out


_BREAKS = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}


def _docx_text(p) -> str:
    """A paragraph's text: its runs and the runs of its hyperlinks."""
    out = []
    for child in p:
        runs = [child] if child.tag == _W + "r" else child.findall(_W + "r") if child.tag == _W + "hyperlink" else ()
        for r in runs:
            for e in r:
                if e.tag == _W + "t":
                    out.append(e.text or "")
                elif e.tag == _W + "br":
                    out.append("\n" if e.get(_W + "type") in (None, "textWrapping") else "")
                elif e.tag in _BREAKS:
                    out.append(_BREAKS[e.tag])
    return "".join(out)


_HTML_BLOCKS = frozenset({"h1", "h2", "h3", "h4", "p", "li", "blockquote", "td"})
_HTML_HEADINGS = frozenset({"h1", "h2", "h3", "h4"})
_HTML_SKIP = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template"})
_HTML_CHUNK = 1 << 16


def _html(text: str, budget: _Budget) -> Iterator[tuple[str | None, str]]:
    """The text blocks of an HTML page (paragraphs, list items, quotes, cells) under their
    heading, parsed as a stream by lxml's HTML parser: each block is read when it closes
    and emptied, so memory stays near the size of the text. Scripts, styles, navigation,
    headers and footers are left out; a block holding paragraphs or list items is a
    container, whose children come on their own."""
    from lxml import etree

    parser = etree.HTMLPullParser(events=("start", "end"), no_network=True, remove_comments=True,
                                  remove_pis=True, huge_tree=False)
    section = None
    skipping = 0
    chunks = (text[at:at + _HTML_CHUNK] for at in range(0, len(text), _HTML_CHUNK))
    for piece in chain(chunks, [None]):
        if piece is None:
            parser.close()
        else:
            parser.feed(piece)
        check_deadline(file=str(budget.path))
        for event, el in parser.read_events():
            tag = el.tag.lower() if isinstance(el.tag, str) else ""
            if tag in _HTML_SKIP:
                skipping += 1 if event == "start" else -1
                if event == "end":
                    el.clear(keep_tail=True)
                continue
            if event == "start" or skipping or tag not in _HTML_BLOCKS:
                continue
            block = " ".join(" ".join(el.itertext()).split())
            if block and tag in _HTML_HEADINGS:
                section = "§ " + block[:80]
            elif block and next(el.iterdescendants("p", "li"), None) is None:
                for part in chunk(block):
                    if len(part.split()) >= 3:
                        yield section, budget.take(part)
            # what is read is emptied; the element stays, so a container still shows it holds one
            el.clear(keep_tail=True)


def load_inputs(source: str, *, as_document: bool | None = None, encoding: str = "utf-8",
                limits: Limits | None = None) -> tuple[list[Passage], str]:
    """What ``citydip align`` reads: ``source`` is a file path (a batch or a document,
    by its suffix) or the text itself, within ``limits`` (default: those in force).
    Returns the passages and the kind of input (``text``, ``batch`` or ``document``)."""
    path = Path(source)
    looks_like_path = len(source) < 4096 and "\n" not in source and (path.suffix.lower() in
                                                                    BATCH_SUFFIXES | DOCUMENT_SUFFIXES)
    if looks_like_path or (len(source) < 4096 and "\n" not in source and path.is_file()):
        if not path.exists():
            raise ValidationError("no such file (to align the words themselves, quote them "
                                  "without a file suffix)", file=str(path))
        suffix = path.suffix.lower()
        if as_document is None:
            as_document = suffix in DOCUMENT_SUFFIXES and suffix != ".txt"
        if as_document:
            return read_document(path, limits=limits), "document"
        return read_batch(path, encoding=encoding, limits=limits), "batch"
    return [Passage(id="text", text=check_text(source))], "text"
