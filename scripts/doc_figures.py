"""Regenerate the figures blocks of the README and docs/ from a build of the default data.

    python scripts/doc_figures.py                 # builds the default data in a temporary folder
    CITYDIP_HOME=~/.citydip python scripts/doc_figures.py --home   # uses that built store

A block sits between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``; the names and
what each holds are in ``citydiplomacy.dataset.figures.BLOCKS``. ``tests/test_doc_figures.py``
fails when a block is not the current build's; this script is the fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import citydiplomacy
from citydiplomacy.dataset.figures import write_blocks

ROOT = Path(__file__).resolve().parents[1]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", action="store_true", help="use the store of $CITYDIP_HOME instead of a new build")
    args = ap.parse_args(argv)
    if args.home:
        obs = citydiplomacy.open(path=Path(os.environ["CITYDIP_HOME"]) / "citydip.sqlite")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="citydip-figures-"))
        print(f"building the default data in {tmp} ...", file=sys.stderr)
        obs = citydiplomacy.open(path=tmp / "citydip.sqlite")
    changed = write_blocks(pages(), obs)
    print("\n".join(changed) if changed else "every block is current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
