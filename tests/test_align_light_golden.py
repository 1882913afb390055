"""The light mode gives the same answers as recorded in tests/data/align/light_golden.jsonl.gz
(made by tests/data/align/make_light_golden.py from the code before the light path was made
faster): the same labels, targets, evidence and rounded scores, and every probability
within 1e-9 — for texts aligned in one batch, in small batches, and one by one."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from citydiplomacy.align import Aligner, Passage

DATA = Path(__file__).parent / "data" / "align"
sys.path.insert(0, str(DATA))
import make_light_golden as golden  # noqa: E402


@pytest.fixture(scope="module")
def recorded() -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    with gzip.open(DATA / "light_golden.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out.setdefault(row.pop("case"), []).append(row)
    return out


def same(got: dict, want: dict, where: str) -> None:
    assert got["id"] == want["id"], where
    assert (got["lang"], got["error"]) == (want["lang"], want["error"]), f"{where} {want['id']}"
    assert got["record"] == want["record"], f"{where} {want['id']}"
    assert ("probs" in got) == ("probs" in want), f"{where} {want['id']}"
    for kind, probs in want.get("probs", {}).items():
        assert got["probs"][kind].keys() == probs.keys()
        for k, p in probs.items():
            assert abs(got["probs"][kind][k] - p) <= 1e-9, f"{where} {want['id']} {k}"


def test_the_fixture_covers_every_language_the_edge_cases_and_long_paragraphs(recorded):
    rows = recorded[0]
    assert {r["lang"] for r in rows if r["lang"]} == {"en", "fr", "es", "de"}
    assert sum(r["id"].startswith("para-") for r in rows) == 40
    assert {r["error"] for r in rows if r["error"]} >= {"empty text"}
    assert any("Italian" in (r["error"] or "") for r in rows)
    assert sum(bool(r["record"]["evidence"]) for r in rows) > 0.7 * len(rows)


@pytest.mark.parametrize("case", range(4))
def test_light_mode_results_equal_the_recorded_ones(recorded, case):
    al = Aligner("light")
    spec = golden.cases()[case]
    got = golden.run(al, spec)
    assert len(got) == len(recorded[case])
    for g, w in zip(got, recorded[case]):
        same(g, w, f"case {case}")


def test_batch_size_does_not_change_the_results(recorded):
    spec = golden.cases()[0]
    al = Aligner("light")
    passages = [Passage(id=t["id"], text=t["text"]) for t in spec["texts"]]
    whole = [a.record() for a in al.align_many(passages, batch=10_000)]
    small = [a.record() for a in al.align_many(passages, batch=7)]
    single = [al.align_many([p])[0].record() for p in passages]
    want = [r["record"] for r in recorded[0]]
    assert whole == want and small == want and single == want
