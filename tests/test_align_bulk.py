"""Bulk alignment of a folder of documents on a real Dask LocalCluster (worker
processes): the same results as aligning each document in one process, a run killed
half-way resumed without duplicates, and clear messages for bad input
(docs/bulk-align.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

sys.path.insert(0, str(Path(__file__).parent))
from corpusgen import make_corpus  # noqa: E402
from pdfgen import write_pdf  # noqa: E402

from citydiplomacy.align import Aligner, read_document  # noqa: E402
from citydiplomacy.align.bulk import (COLUMNS, MANIFEST, BulkSettings, _file_id, align_corpus,  # noqa: E402
                                      document_rows, list_corpus, read_results)
from citydiplomacy.errors import ValidationError  # noqa: E402

N_DOCS = 10


def citydip(*args, **kw):
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True,
                          timeout=900, **kw)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root, N_DOCS)
    return root


@pytest.fixture(scope="module")
def expected(corpus):
    """Every document aligned in this process, one after the other (the default mode)."""
    settings = BulkSettings(mode=Aligner("auto").mode)
    rows = []
    for p in list_corpus(corpus):
        rel, doc_id = _file_id(corpus, p)
        rows.extend(document_rows(corpus, rel, doc_id, settings))
    return rows


def _key(r):
    return (r["path"], r["item"] or "")


def assert_same_rows(got: list[dict], want: list[dict]) -> None:
    """The same documents and items with the same figures (the MiniLM scores of a
    process with one torch thread may differ from one with two in the last digits)."""
    got, want = sorted(got, key=_key), sorted(want, key=_key)
    assert [_key(r) for r in got] == [_key(r) for r in want]
    for g, w in zip(got, want):
        for col in COLUMNS:
            if col == "score":
                assert g[col] == pytest.approx(w[col], abs=2e-3), (g["path"], g["item"])
            elif col == "evidence" and g[col]:
                ge, we = json.loads(g[col]), json.loads(w[col])
                assert len(ge) == len(we)
                for a, b in zip(ge, we):
                    assert a.pop("similarity", 0) == pytest.approx(b.pop("similarity", 0), abs=2e-3)
                    assert a == b
            else:
                assert g[col] == w[col], (g["path"], g["item"], col)


@pytest.fixture(scope="module")
def uninterrupted(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("bulk") / "results.parquet"
    rep = align_corpus(corpus, out, workers=2, batch=2)
    return rep, out


def test_a_cluster_of_two_workers_gives_the_single_process_results(uninterrupted, expected):
    rep, out = uninterrupted
    assert rep.documents == N_DOCS and rep.aligned == N_DOCS and not rep.failed and rep.workers == 2
    assert rep.partitions == N_DOCS // 2 and len(list(out.glob("part-*.parquet"))) == N_DOCS // 2
    rows = read_results(out).to_pylist()
    assert_same_rows(rows, expected)
    assert len({r["document_id"] for r in rows}) == N_DOCS
    # every document reports goals, each row names its best paragraph, each goal its evidence
    assert {r["document_id"] for r in rows if r["level"] == "goal"} == {r["document_id"] for r in rows}
    assert all(r["ref"] for r in rows if r["item"])
    assert all(json.loads(r["evidence"])[0]["item"] == r["item"] for r in rows if r["level"] == "goal")
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["status"] == "complete" and manifest["documents"] == N_DOCS and manifest["failed"] == 0
    # pandas reads the folder as one table (the manifest is left out)
    import pandas as pd

    assert len(pd.read_parquet(out)) == len(rows)


def test_a_document_row_holds_what_its_paragraphs_report(corpus):
    """The document's items are those its paragraphs report, each with its best score."""
    path = sorted(corpus.rglob("*.html"))[0]
    al = Aligner("light")
    results = al.align_many(read_document(path))
    want: dict[str, float] = {}
    for r in results:
        for g in r.sdgs:
            want[f"sdg:{g}"] = max(want.get(f"sdg:{g}", 0), r.scores["sdg"][str(g)])
        for a in r.paris:
            want[f"paris:{a}"] = max(want.get(f"paris:{a}", 0), r.scores["paris"][str(a)])
    rel, doc_id = _file_id(corpus, path)
    rows = document_rows(corpus, rel, doc_id, BulkSettings(mode="light"))
    got = {r["item"]: r["score"] for r in rows if r["framework"] in ("sdg", "paris") and r["level"] != "target"}
    assert got == want and want
    assert all(r["n_passages"] == len(results) and r["method"] == "lexical" for r in rows)


@pytest.mark.slow
def test_a_run_killed_half_way_resumes_with_each_document_once(corpus, tmp_path, uninterrupted):
    out = tmp_path / "results.parquet"
    args = ["align", str(corpus), "--out", str(out), "--workers", "1", "--batch", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while len(list(out.glob("part-*.parquet"))) < N_DOCS // 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before half"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)      # the command and its cluster's processes
        proc.wait()
    parts = len(list(out.glob("part-*.parquet")))
    assert N_DOCS // 2 <= parts < N_DOCS
    done = citydip(*args)
    assert done.returncode == 0, done.stderr
    assert f"{parts} done before, {N_DOCS - parts} aligned now" in done.stderr
    rows = read_results(out).to_pylist()
    assert len({r["document_id"] for r in rows}) == N_DOCS
    # each document once: no (document, item) twice, and the whole equals the uninterrupted run
    assert len({(r["document_id"], r["item"]) for r in rows}) == len(rows)
    assert_same_rows(rows, read_results(uninterrupted[1]).to_pylist())
    assert not list(out.glob(".*.tmp"))


def test_a_scanned_pdf_is_named_and_the_others_are_aligned(tmp_path):
    root = tmp_path / "corpus"
    make_corpus(root, 3, formats=("txt",), subfolders=False)
    write_pdf(root / "scan.pdf", scanned_pages=2)
    (root / "notes.xlsx").write_bytes(b"not a document to align")       # other suffixes are left alone
    out = tmp_path / "r.parquet"
    proc = citydip("align", str(root), "--out", str(out), "--workers", "1", "--mode", "light")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "scan.pdf: the PDF has 2 page(s) but no text layer" in proc.stderr and "run OCR" in proc.stderr
    assert "4 documents: 0 done before, 3 aligned now" in proc.stderr
    rows = read_results(out).to_pylist()
    assert {r["path"] for r in rows} == {"report-000.txt", "report-001.txt", "report-002.txt", "scan.pdf"}
    assert [r["item"] for r in rows if r["path"] == "scan.pdf"] == [None]
    # run again: nothing is aligned twice, and the failure is still reported
    again = citydip("align", str(root), "--out", str(out), "--workers", "1", "--mode", "light")
    assert again.returncode == 1 and "4 done before, 0 aligned now" in again.stderr
    assert "scan.pdf" in again.stderr and len(read_results(out)) == len(rows)
    # other settings are refused on the same results
    other = citydip("align", str(root), "--out", str(out), "--mode", "light", "--level", "goal")
    assert other.returncode == 1 and "other settings (--mode light --level target" in other.stderr


@pytest.mark.parametrize("setup,args,message", [
    ("missing", ["--out", "{tmp}/r.parquet"], "no such folder"),
    ("empty", ["--out", "{tmp}/r.parquet"], "no documents (.docx, .htm, .html, .md, .pdf, .txt)"),
    ("corpus", [], "aligning a folder needs --out"),
    ("corpus", ["--out", "{tmp}/taken.parquet"], "is not a folder; --out names the folder"),
    ("corpus", ["--out", "{tmp}/busy", "--workers", "1"], "holds other files"),
    ("corpus", ["--out", "{tmp}/r.parquet", "--workers", "0"], "at least 1 worker"),
    ("corpus", ["--out", "{tmp}/r.parquet", "--framework", "kyoto"], "unknown framework 'kyoto'"),
])
def test_bad_input_gets_a_clear_message_and_exit_1(tmp_path, setup, args, message):
    folder = tmp_path / "docs"
    if setup != "missing":
        folder.mkdir()
    if setup == "corpus":
        (folder / "a.txt").write_text("The city will build 400 social housing units near the tram line.\n")
    (tmp_path / "taken.parquet").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.csv").write_text("a,b\n")
    proc = citydip("align", str(folder) + "/", *[a.format(tmp=tmp_path) for a in args], "--mode", "light")
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_missing_folder_is_refused_by_the_library(tmp_path):
    with pytest.raises(ValidationError, match="no such folder"):
        align_corpus(tmp_path / "nope", tmp_path / "r.parquet", mode="light")
    assert not (tmp_path / "r.parquet").exists()


def test_an_unreachable_scheduler_is_named(tmp_path):
    root = tmp_path / "c"
    make_corpus(root, 1, formats=("txt",), subfolders=False)
    proc = citydip("align", str(root), "--out", str(tmp_path / "r.parquet"), "--mode", "light",
                   "--scheduler", "tcp://127.0.0.1:9")
    assert proc.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr
    assert "Traceback" not in proc.stderr
