"""Write the face-validity review of the default index into docs/indices.md.

Builds the shipped framework's index on a store (default: the one of CITYDIP_HOME, or
``--home``), then replaces the block between the review markers of docs/indices.md with
the overall top 25 and each axis's top 10, each city with its data coverage and the
indicators that put it there (:mod:`citydiplomacy.indices.review`).
``tests/test_indices_coverage.py`` builds the same index on a fresh default store and
fails when the block differs, so the review cannot drift from the data.

    python scripts/index_review.py [--home DIR] [--check]

``--check`` writes nothing: exit 1 when the block is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "indices.md"


def replace_block(text: str, block: str) -> str:
    """``text`` with the review block (markers included) replaced by ``block``."""
    from citydiplomacy.indices.review import BEGIN, END

    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers of the review block are missing ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + block + tail


def main(argv: list[str] | None = None) -> int:
    import citydiplomacy
    from citydiplomacy.indices.review import face_validity, render_markdown

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", help="the observatory's home (default: CITYDIP_HOME or ~/.citydiplomacy)")
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/indices.md is out of date")
    args = ap.parse_args(argv)
    obs = citydiplomacy.open(home=args.home)
    try:
        # the review reads nominal ranks only; it reads this build, published or not
        report = obs.build_index(replications=0)
        block = render_markdown(face_validity(obs.store, build=report.name))
    finally:
        obs.close()
    text = DOC.read_text(encoding="utf-8")
    new = replace_block(text, block)
    if args.check:
        if new != text:
            print(f"{DOC} is out of date: run python scripts/index_review.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote the review block of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
