"""Every generated figures block of the README and docs/ is the current build's
(regenerate with ``python scripts/doc_figures.py``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from citydiplomacy.dataset import figures
from citydiplomacy.membership import network_coverage
from citydiplomacy.store import schema

import pgtools

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LEDGER = yaml.safe_load((ROOT / "tests" / "data" / "doc_figures.yaml").read_text(encoding="utf-8"))
#: a figure of 1,000 or more, its thousands set off by a comma or a (thin) space
FIGURE = re.compile(r"(?<![\w.,/:#=-])\d{1,3}(?:(?:,|\u202f| )\d{3})+(?![\w,]?\d)")
KINDS = ("checked", "file", "limit", "setting", "measured", "source", "history")


def quoted_figures(text: str) -> set[str]:
    """The figures of 1,000 or more a page quotes in its prose: outside the generated
    blocks, code blocks, inline code, links and DOIs."""
    text = re.sub(r"<!-- figures:([a-z0-9-]+) -->.*?<!-- /figures:\1 -->", "", text, flags=re.S)
    text = re.sub(r"<!-- BEGIN index review.*?<!-- END index review -->", "", text, flags=re.S)
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    found = set()
    for line in text.splitlines():
        if line.startswith(("    ", "\t")):
            continue
        line = re.sub(r"`[^`]*`|https?://\S+|doi:\S+|\]\([^)]*\)", "", line)
        found |= {m.group(0).replace("\u202f", " ") for m in FIGURE.finditer(line)}
    return found


def _data_rows(path: Path) -> int:
    """Rows of a shipped TSV: its lines less comments and the header."""
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]
    return len(lines) - 1


def test_every_figure_about_the_data_is_checked_or_generated():
    """A figure of 1,000 or more in the README or docs/ is generated, checked by a test, a
    shipped file's size (checked here), or said not to be a figure of the current default
    data (tests/data/doc_figures.yaml says why); a new one fails until it is one of these."""
    problems = []
    for page in PAGES:
        entries = {str(k): str(v) for k, v in (LEDGER.get(page.name) or {}).items()}
        found = quoted_figures(page.read_text(encoding="utf-8"))
        problems += [f"{page.name}: {f} is quoted but not in tests/data/doc_figures.yaml (generate it, check it "
                     "in a test, or say why it is not a figure of the data)" for f in sorted(found - set(entries))]
        problems += [f"{page.name}: {f} is in doc_figures.yaml but no longer quoted" for f in sorted(set(entries) - found)]
        for fig, why in entries.items():
            kind, _, rest = why.partition(" ")
            if kind not in KINDS:
                problems.append(f"{page.name}: {fig}: unknown kind {kind!r}")
            elif kind == "checked":
                file, _, test = rest.partition("::")
                if f"def {test}(" not in (ROOT / file).read_text(encoding="utf-8"):
                    problems.append(f"{page.name}: {fig}: no test {rest}")
            elif kind == "file" and _data_rows(ROOT / rest) != int(fig.replace(",", "").replace(" ", "")):
                problems.append(f"{page.name}: {fig}: {rest} has {_data_rows(ROOT / rest):,} rows")
    assert not problems, "\n".join(problems)
    assert set(LEDGER) <= {p.name for p in PAGES}


def test_figures_in_prose_are_the_builds(obs):
    """The figures the prose quotes about the build (not in a generated block)."""
    with obs.store.connect() as conn:
        summary = conn.execute(select(schema.import_runs.c.summary)
                               .where(schema.import_runs.c.kind == "default-dataset")).scalar()
        twinned = conn.execute(select(func.count()).where(schema.ties.c.type == "twinned_with")).scalar()
    tw, cov = summary["report"]["twinning"], summary["report"]["covenant"]
    rows, without = tw["rows"], tw["rows_resolved_both_sides_without_new_districts"]

    def page(name: str) -> str:
        return " ".join((ROOT / name).read_text(encoding="utf-8").split())

    readme, data, resolution = page("README.md"), page("docs/data.md"), page("docs/resolution.md")
    assert f"the twinning network (about {round(twinned, -2):,} ties)" in readme
    assert f"The raw list has {rows:,} rows" in data
    assert f"holds the {cov['rows']:,} organisation-signatories" in data
    assert f"**Coordinates of quality `ok`** ({cov['coordinates']['ok']:,} rows)" in data
    assert f"of {rows:,} rows with every name resolved" in resolution
    assert f"from the {tw['distinct_names']:,} distinct pairs of the raw twinning list" in resolution
    assert f"**{without / rows:.1%}** ({without:,}) without the" in resolution
    assert f"The build loads {tw['ties_loaded']:,} ties" in resolution
    assert f"Wikipedia's lists (about {round(twinned, -2):,} ties)" in page("docs/recommend.md")
    mfp = network_coverage(obs.store, "mayors-for-peace")
    assert f"{mfp['published']:,} members of which the store holds {mfp['held']:,}" in page("docs/indices.md")


def _blocks() -> list[tuple[str, str, str]]:
    return [(p.name, name, body) for p in PAGES
            for name, body in figures.find_blocks(p.read_text(encoding="utf-8")).items()]


def test_the_docs_hold_the_generated_blocks():
    names = {name for _, name, _ in _blocks()}
    assert {"memberships-table", "build-counts", "covenant-table", "graph-figures", "roles-example"} <= names
    assert names <= set(figures.BLOCKS), names - set(figures.BLOCKS)


#: blocks whose text depends on the order the store returns rows in, not only on the data:
#: Leiden with a fixed seed walks the vertices in the graph's order, which on SQLite is the
#: order the actors were written in and on PostgreSQL the heap's order. The docs are
#: generated from the SQLite build; on PostgreSQL these blocks are not compared.
ORDER_DEPENDENT = {"projection-example"}


@pytest.mark.parametrize("page,name,body", _blocks(), ids=[f"{p}:{n}" for p, n, _ in _blocks()])
def test_a_block_is_the_builds(obs, page, name, body):
    if name in ORDER_DEPENDENT and pgtools.on_postgres():
        pytest.skip("Leiden's communities follow the row order of the store (generated from the SQLite build)")
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
