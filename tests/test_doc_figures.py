"""Every generated figures block of the README and docs/ is the current build's
(regenerate with ``python scripts/doc_figures.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydiplomacy.dataset import figures

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks() -> list[tuple[str, str, str]]:
    return [(p.name, name, body) for p in PAGES
            for name, body in figures.find_blocks(p.read_text(encoding="utf-8")).items()]


def test_the_docs_hold_the_generated_blocks():
    names = {name for _, name, _ in _blocks()}
    assert {"memberships-table", "build-counts"} <= names
    assert names <= set(figures.BLOCKS), names - set(figures.BLOCKS)


@pytest.mark.parametrize("page,name,body", _blocks(), ids=[f"{p}:{n}" for p, n, _ in _blocks()])
def test_a_block_is_the_builds(obs, page, name, body):
    assert body == figures.block(name, obs), (f"{page}: the figures block {name!r} is not this build's; "
                                              "run python scripts/doc_figures.py")


def test_write_blocks_rewrites_only_what_changed(obs, tmp_path):
    page = tmp_path / "p.md"
    page.write_text("intro\n<!-- figures:build-counts -->\nold\n<!-- /figures:build-counts -->\nend\n")
    assert figures.write_blocks([page], obs) == ["p.md: build-counts"]
    text = page.read_text()
    assert text.startswith("intro\n<!-- figures:build-counts -->\n| | count |") and text.endswith("end\n")
    assert figures.write_blocks([page], obs) == []
    page.write_text("<!-- figures:nope -->\nx\n<!-- /figures:nope -->\n")
    with pytest.raises(KeyError, match="unknown figures block 'nope'"):
        figures.write_blocks([page], obs)
