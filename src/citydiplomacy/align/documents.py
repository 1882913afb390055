"""Texts to align, from wherever they come: a string, a file of texts (txt one per line,
CSV or JSONL with ``id`` and ``text``), or a whole document (PDF, DOCX, HTML, Markdown or
plain text) split into paragraphs that keep their page or section for the evidence.

Every problem is a :class:`ValidationError` naming the file (and row) and saying what
to do; a bad row of a batch becomes a :class:`Passage` with an ``error`` instead."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import ValidationError
from ..ingest.readers import check_file, decode

#: the longest single text aligned as one unit (characters, about 150,000 words)
MAX_TEXT = 1_000_000
#: paragraphs longer than this (words) are cut at sentence ends into pieces of about this size
CHUNK_WORDS = 220
#: the largest file read (bytes)
MAX_FILE = 512 * 1024 * 1024

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


def read_batch(path: Path, *, encoding: str = "utf-8") -> list[Passage]:
    suffix = path.suffix.lower()
    raw = check_file(path, max_bytes=MAX_FILE).read_bytes()
    text = decode(raw, path, encoding)
    if suffix in (".jsonl", ".ndjson"):
        return list(_jsonl(text, path))
    if suffix in (".csv", ".tsv"):
        return list(_csv(text, path, "\t" if suffix == ".tsv" else ","))
    return [Passage(id=str(i), text=line.strip(), ref=f"line {i}")
            if line.strip() else Passage(id=str(i), text="", ref=f"line {i}", error="empty line")
            for i, line in enumerate(text.splitlines(), 1)]


def _row_passage(pid: str, text, ref: str) -> Passage:
    if not isinstance(text, str) or not text.strip():
        return Passage(id=pid, text="", ref=ref, error="empty text")
    if len(text) > MAX_TEXT:
        return Passage(id=pid, text="", ref=ref,
                       error=f"text of {len(text):,} characters is longer than {MAX_TEXT:,}; split it")
    return Passage(id=pid, text=text, ref=ref)


def _jsonl(text: str, path: Path) -> Iterator[Passage]:
    for i, line in enumerate(text.splitlines(), 1):
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


def _csv(text: str, path: Path, delimiter: str) -> Iterator[Passage]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    cols = reader.fieldnames or []
    if "text" not in cols:
        raise ValidationError(f"no 'text' column; the file has columns: {', '.join(cols) or '(none)'}. "
                              "Name the column of texts 'text' (and of identifiers 'id').", file=str(path))
    for row_no, row in enumerate(reader, 2):
        yield _row_passage(str(row.get("id") or row_no), row.get("text"), f"row {row_no}")


# ---------------------------------------------------------------------------------------
# documents: split into paragraphs


def read_document(path: Path) -> list[Passage]:
    """The paragraphs of a document, with their page or section."""
    suffix = path.suffix.lower()
    check_file(path, max_bytes=MAX_FILE)
    stem = path.stem
    if suffix == ".pdf":
        parts = _pdf(path)
    elif suffix == ".docx":
        parts = _docx(path)
    elif suffix in (".html", ".htm"):
        parts = _html(decode(path.read_bytes(), path, "utf-8"))
    else:
        parts = [(None, p) for p in _paragraphs(decode(path.read_bytes(), path, "utf-8"))]
    counters: dict[str | None, int] = {}
    out = []
    for where, para in parts:
        counters[where] = counters.get(where, 0) + 1
        ref = f"{where} ¶{counters[where]}" if where else f"¶{counters[where]}"
        out.append(Passage(id=f"{stem}:{len(out) + 1}", text=para, ref=ref))
    if not out:
        raise ValidationError("no paragraphs of text found in the document", file=str(path))
    return out


def _pdf(path: Path) -> list[tuple[str, str]]:
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
        out: list[tuple[str, str]] = []
        for i, page in enumerate(reader.pages, 1):
            # layout mode keeps the vertical gaps, so paragraphs stay apart
            try:
                text = page.extract_text(extraction_mode="layout") or ""
            except Exception:   # noqa: BLE001 - fall back to plain extraction on odd pages
                text = page.extract_text() or ""
            out.extend((f"p. {i}", p) for p in _paragraphs(text))
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


def _docx(path: Path) -> list[tuple[str | None, str]]:
    try:
        import docx
    except ImportError:  # pragma: no cover
        raise ValidationError("reading DOCX needs python-docx: pip install python-docx", file=str(path)) from None
    try:
        document = docx.Document(str(path))
    except Exception as exc:   # noqa: BLE001 - python-docx raises zipfile/KeyError/lxml errors
        raise ValidationError(f"not a readable Word document ({exc.__class__.__name__}); "
                              "save it again as .docx", file=str(path)) from None
    out: list[tuple[str | None, str]] = []
    section = None
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "") or ""
        if style.lower().startswith(("heading", "title")):
            section = "§ " + text[:80]
            continue
        out.extend((section, p) for p in chunk(text) if len(p.split()) >= 3)
    return out


def _html(text: str) -> list[tuple[str | None, str]]:
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    out: list[tuple[str | None, str]] = []
    section = None
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote", "td"]):
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        if el.name in ("h1", "h2", "h3", "h4"):
            section = "§ " + text[:80]
            continue
        if el.find(["p", "li"]):     # a container: its children come on their own
            continue
        out.extend((section, p) for p in chunk(text) if len(p.split()) >= 3)
    return out


def load_inputs(source: str, *, as_document: bool | None = None, encoding: str = "utf-8") -> tuple[list[Passage], str]:
    """What ``citydip align`` reads: ``source`` is a file path (a batch or a document,
    by its suffix) or the text itself. Returns the passages and the kind of input
    (``text``, ``batch`` or ``document``)."""
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
            return read_document(path), "document"
        return read_batch(path, encoding=encoding), "batch"
    return [Passage(id="text", text=check_text(source))], "text"
