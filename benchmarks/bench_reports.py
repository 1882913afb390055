"""How long the reports take: a 300-page PDF read, aligned and its report made and
written (HTML and PDF), beside the reading and alignment alone (the baseline: what
``citydip align`` does with the same document, in the same process); and a city's
profile report.

    CITYDIP_HOME=~/cd-home python benchmarks/bench_reports.py                 # light mode
    CITYDIP_HOME=~/cd-home python benchmarks/bench_reports.py --mode hybrid --pages 300
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import table  # noqa: E402

import citydiplomacy  # noqa: E402
from citydiplomacy.align import aligner, read_document  # noqa: E402
from citydiplomacy.reports import align_report, profile_report, to_html, to_pdf  # noqa: E402
from vlrdoc import write_vlr  # noqa: E402


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--mode", default="light", choices=["light", "hybrid", "auto"])
    ap.add_argument("--city", default="Barcelona")
    args = ap.parse_args()
    obs = citydiplomacy.open()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = write_vlr(Path(tmp) / "vlr.pdf", pages=args.pages)
        al = aligner(args.mode)
        al.align_many(read_document(pdf)[:8])          # warm: models and framework embeddings loaded
        passages, t_read = timed(lambda: read_document(pdf))
        _, t_align = timed(lambda: al.align_many(passages))
        rep, t_all = timed(lambda: align_report(obs, [pdf], city=args.city, mode=args.mode))
        _, t_html = timed(lambda: to_html(rep))
        data, t_pdf = timed(lambda: to_pdf(rep))
    n = len(passages)
    table(f"Alignment report of a {args.pages}-page PDF ({n:,} paragraphs, {args.mode} mode, city {args.city})",
          ["step", "seconds"],
          [["baseline: read the PDF", f"{t_read:.1f}"], ["baseline: align its paragraphs", f"{t_align:.1f}"],
           ["baseline: read + align", f"{t_read + t_align:.1f}"],
           ["report: read + align + sections and figures", f"{t_all:.1f}"],
           ["report: HTML written", f"{t_html:.1f}"],
           [f"report: PDF written ({len(data) / 1e6:.1f} MB)", f"{t_pdf:.1f}"],
           ["**PDF aligned and its report as PDF**", f"**{t_all + t_pdf:.1f}**"],
           ["report's own cost (sections, figures, PDF) over the baseline",
            f"{t_all + t_pdf - t_read - t_align:.1f}"]])

    obs.graph()                                            # the graph is kept beside the store
    rep, t_build = timed(lambda: profile_report(obs, args.city, partners=False))
    _, t_html = timed(lambda: to_html(rep))
    data, t_pdf = timed(lambda: to_pdf(rep))
    rep2, t_build2 = timed(lambda: profile_report(obs, args.city, lang="fr", partners=False))
    table(f"Profile report of {args.city}", ["step", "seconds"],
          [["sections and figures (library calls)", f"{t_build:.1f}"], ["HTML (figures as SVG)", f"{t_html:.1f}"],
           [f"PDF ({len(data) / 1e6:.1f} MB, figures as PNG)", f"{t_pdf:.1f}"],
           ["sections again, in French (warm)", f"{t_build2:.1f}"]])


if __name__ == "__main__":
    main()
