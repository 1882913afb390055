"""Render the sample reports of docs/reports.md and their pages as pictures in docs/img:
Barcelona's profile report and the alignment report of a VLR-like document made of the
labelled city texts (tests/vlrdoc.py). Pages are rasterised with pypdfium2 (pip install
pypdfium2) or, failing that, poppler's pdftoppm.

    CITYDIP_HOME=~/cd-home python scripts/report_samples.py [--mode hybrid]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import citydiplomacy  # noqa: E402
from citydiplomacy.reports import align_report, profile_report, write_report  # noqa: E402
from vlrdoc import write_vlr  # noqa: E402

IMG = ROOT / "docs" / "img"


def pictures(pdf: Path, stem: str, pages: list[int], width: int = 900) -> None:
    try:
        import pypdfium2 as pdfium
    except ImportError:
        pdfium = None
    if pdfium is not None:
        doc = pdfium.PdfDocument(str(pdf))
        for i in pages:
            page = doc[i - 1]
            page.render(scale=width / page.get_width()).to_pil().save(IMG / f"{stem}-p{i}.png", optimize=True)
        return
    if not shutil.which("pdftoppm"):
        raise SystemExit("install pypdfium2 (pip) or poppler-utils (apt) to draw the pages")
    for i in pages:
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(i), "-l", str(i), "-singlefile", str(pdf),
                        str(IMG / f"{stem}-p{i}")], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="auto")
    args = ap.parse_args()
    obs = citydiplomacy.open()
    with tempfile.TemporaryDirectory() as tmp:
        prof = write_report(profile_report(obs, "Barcelona"), Path(tmp) / "profile.pdf")
        pictures(prof, "report-profile-barcelona", [1, 3, 5])
        vlr = write_vlr(Path(tmp) / "vlr-sample.pdf", pages=60)
        rep = align_report(obs, [vlr], city="Barcelona", mode=args.mode)
        pdf = write_report(rep, Path(tmp) / "align.pdf")
        pictures(pdf, "report-align", [2, 3, 6])
    print("wrote", ", ".join(sorted(p.name for p in IMG.glob("report-*.png"))))


if __name__ == "__main__":
    main()
