"""A tiny PDF writer for tests and benchmarks: pages of wrapped Helvetica text (a real
text layer that pypdf extracts), pages with only drawings (a "scan" with no text layer),
and encryption through pypdf."""

from __future__ import annotations

import textwrap
from pathlib import Path


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text_stream(paragraphs: list[str]) -> bytes:
    lines = ["BT", "/F1 10 Tf", "12 TL", "50 790 Td"]
    for para in paragraphs:
        for line in textwrap.wrap(para, 95):
            lines.append(f"({_escape(line.encode('latin-1', 'replace').decode('latin-1'))}) Tj T*")
        lines.append("T*")         # a blank line between paragraphs
    lines.append("ET")
    return "\n".join(lines).encode("latin-1")


def _drawing_stream() -> bytes:
    return b"0.5 g 50 50 495 740 re f 0 g 100 100 m 400 600 l S"


def write_pdf(path: str | Path, pages: list[list[str]] | None = None, *, scanned_pages: int = 0) -> Path:
    """Write ``pages`` (each a list of paragraphs) or, with ``scanned_pages``, that many
    pages holding only drawings."""
    streams = [_text_stream(p) for p in (pages or [])] + [_drawing_stream() for _ in range(scanned_pages)]
    objs: list[bytes] = []
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    n = len(streams)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, s in enumerate(streams):
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                    f"/Contents {5 + 2 * i} 0 R >>".encode())
        objs.append(b"<< /Length %d >>\nstream\n" % len(s) + s + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    p = Path(path)
    p.write_bytes(bytes(out))
    return p


def encrypt_pdf(src: str | Path, dst: str | Path, password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter
    w = PdfWriter()
    for page in PdfReader(str(src)).pages:
        w.add_page(page)
    w.encrypt(user_password=password, owner_password=password + "-owner")
    with open(dst, "wb") as fh:
        w.write(fh)
    return Path(dst)
