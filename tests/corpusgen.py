"""A small corpus of real-looking local documents for the bulk alignment tests and
benchmark: the labelled texts of tests/data/align (Voluntary Local Review sections,
council minutes, press releases... written for this project) grouped into documents of a
few paragraphs each, written as plain text, Markdown, HTML, PDF (with a text layer) and
DOCX in turn."""

from __future__ import annotations

import html
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "align"
FORMATS = ("txt", "md", "html", "pdf", "docx")


def texts() -> list[str]:
    """Every labelled English text, in the order of the files."""
    out = []
    for f in sorted(DATA.glob("labelled_en_*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["text"])
    return out


def make_corpus(folder: str | Path, n_docs: int, *, paragraphs: int = 6, formats=FORMATS,
                subfolders: bool = True) -> list[Path]:
    """Write ``n_docs`` documents of ``paragraphs`` paragraphs each into ``folder`` (half
    of them in a subfolder when ``subfolders``); returns their paths."""
    from pdfgen import write_pdf

    folder = Path(folder)
    pool = texts()
    paths = []
    for d in range(n_docs):
        paras = [pool[(d * paragraphs + k * 7) % len(pool)] for k in range(paragraphs)]
        fmt = formats[d % len(formats)]
        sub = folder / ("region-b" if subfolders and d % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"report-{d:03d}.{fmt}"
        if fmt in ("txt", "md"):
            head = f"# Report {d}\n\n" if fmt == "md" else ""
            path.write_text(head + "\n\n".join(paras) + "\n", encoding="utf-8")
        elif fmt == "html":
            body = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
            path.write_text(f"<html><body><h1>Report {d}</h1>{body}</body></html>", encoding="utf-8")
        elif fmt == "pdf":
            write_pdf(path, [paras[:len(paras) // 2], paras[len(paras) // 2:]])
        else:
            import docx

            doc = docx.Document()
            doc.add_heading(f"Report {d}", level=1)
            for p in paras:
                doc.add_paragraph(p)
            doc.save(str(path))
        paths.append(path)
    return paths
