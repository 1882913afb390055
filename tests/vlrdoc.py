"""A Voluntary-Local-Review-like PDF for the report tests and benchmarks: the labelled
city texts of tests/data/align (written in the register of VLR sections, council reports
and project sheets) laid out as pages of real text (tests/pdfgen.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pdfgen import write_pdf

DATA = Path(__file__).resolve().parent / "data" / "align"


def city_texts(*, lang: str = "en", about: bool = True) -> list[dict]:
    """The labelled texts in ``lang`` (English: the test and dev splits), those about a
    goal (``about``) first by goal."""
    rows = []
    for f in sorted(DATA.glob("labelled_*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["lang"] == lang and (not about or r["sdgs"]):
                rows.append(r)
    return sorted(rows, key=lambda r: (r["sdgs"][:1] or [99], r["id"]))


def write_vlr(path: str | Path, *, pages: int | None = None, per_page: int = 4, lang: str = "en") -> Path:
    """A PDF of ``per_page`` texts a page; ``pages`` repeats the texts to reach that many."""
    texts = [r["text"] for r in city_texts(lang=lang)]
    n = pages * per_page if pages else len(texts)
    texts = [texts[i % len(texts)] for i in range(n)]
    return write_pdf(path, [texts[i:i + per_page] for i in range(0, len(texts), per_page)])
