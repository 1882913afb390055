"""Bulk alignment results loaded into the store (``citydip align FOLDER --out
results.parquet --store --city CITY``; citydiplomacy.align.stored): each document linked to
the city with its items and provenance, in one transaction, and idempotent — loading again,
or after a resumed run, adds nothing — on SQLite and on the real PostgreSQL server; clear
errors for an unknown city, a store that is not built, a folder that holds no results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

sys.path.insert(0, str(Path(__file__).parent))
from corpusgen import make_corpus  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

from citydiplomacy.align import Aligner  # noqa: E402
from citydiplomacy.align.bulk import (BulkSettings, _file_id, _prepare_out, _write_partition,  # noqa: E402
                                      document_rows, list_corpus)
from citydiplomacy.align.stored import aligned_documents, store_results  # noqa: E402
from citydiplomacy.errors import NotFoundError, StoreError, ValidationError  # noqa: E402
from citydiplomacy.store import Store, schema  # noqa: E402
from citydiplomacy.text import normalize  # noqa: E402

import loadgen  # noqa: E402
from conftest import copy_store, store_env  # noqa: E402

N_DOCS = 6


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root, N_DOCS, formats=("txt", "md", "html"))
    (root / "empty.txt").write_text("   \n", encoding="utf-8")          # a document with no text: an error row
    return root


@pytest.fixture(scope="module")
def doc_rows(corpus):
    """Each document's rows as a bulk run writes them (light mode, in this process)."""
    settings = BulkSettings(mode="light")
    out = {}
    for p in list_corpus(corpus):
        rel, doc_id = _file_id(corpus, p)
        out[rel] = document_rows(corpus, rel, doc_id, settings)
    return out


def write_results(corpus: Path, out: Path, batches: list[list[list[dict]]]) -> Path:
    """A results folder as a bulk run leaves it, with the partitions ``batches``."""
    _prepare_out(out, BulkSettings(mode="light"), corpus, Aligner("light").method)
    for batch in batches:
        _write_partition(out, [r for rows in batch for r in rows])
    return out


def seed(store: Store, codes: set[str]) -> None:
    """The least a store needs: one city and the framework items the results name."""
    with store.transaction() as conn:
        run = store.start_run(conn, "test", "seed")
        prov = conn.execute(insert(schema.provenance).values(source="test", licence="CC0", run_id=run)
                            ).inserted_primary_key[0]
        conn.execute(insert(schema.actors).values(id="bonn-de", name="Bonn", kind="city", layer="micro",
                                                  country="DEU", provenance_id=prov))
        conn.execute(insert(schema.aliases).values(actor_id="bonn-de", name="Bonn", norm=normalize("Bonn"),
                                                   provenance_id=prov))
        conn.execute(insert(schema.frameworks), [{"id": fw, "name": {"en": fw}, "provenance_id": prov}
                                                 for fw in ("sdg", "paris")])
        conn.execute(insert(schema.framework_items), [
            {"code": c, "framework": c.split(":")[0], "level": "target" if "." in c else "goal", "provenance_id": prov}
            for c in sorted(codes)])
        store.finish_run(conn, run, {})


def counts(store: Store) -> tuple[int, int, int]:
    with store.snapshot() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (schema.aligned_documents, schema.aligned_document_items, schema.provenance))


def _codes(doc_rows) -> set[str]:
    return {r["item"] for rows in doc_rows.values() for r in rows if r["item"] and not r["item"].startswith("axis:")}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path, doc_rows):
    if request.param == "sqlite":
        s = Store(tmp_path / "citydip.sqlite")
        yield_store = s
    else:
        url = request.getfixturevalue("pg_db")
        yield_store = Store(url=url)
    seed(yield_store, _codes(doc_rows))
    yield yield_store
    yield_store.close()


def test_a_load_links_every_document_to_the_city_with_its_items_and_provenance(store, corpus, doc_rows, tmp_path):
    out = write_results(corpus, tmp_path / "results.parquet", [[rows for rows in doc_rows.values()]])
    rep = store_results(store, out, actor="Bonn", licence="CC BY 4.0")
    assert (rep.actor, rep.documents, rep.added, rep.updated, rep.unchanged) == ("bonn-de", N_DOCS + 1, N_DOCS + 1,
                                                                                  0, 0)
    assert rep.failed == 1
    want_items = sum(1 for rows in doc_rows.values() for r in rows if r["item"] and not r["item"].startswith("axis:"))
    assert rep.items == want_items and counts(store)[:2] == (N_DOCS + 1, want_items)
    docs = {d["path"]: d for d in aligned_documents(store, "bonn-de")}
    assert set(docs) == set(doc_rows)
    assert docs["empty.txt"]["error"] and docs["empty.txt"]["items"] == []
    for rel, rows in doc_rows.items():
        d = docs[rel]
        assert d["document_id"] == rows[0]["document_id"] and d["licence"] == "CC BY 4.0"
        assert d["url"] == str(corpus / rel) and d["source"] == f"{rel} (bulk alignment)"
        assert d["as_of"] and d["run_id"] == rep.run_id
        want = {r["item"]: r["score"] for r in rows if r["item"] and not r["item"].startswith("axis:")}
        assert {i["item_code"]: i["score"] for i in d["items"]} == pytest.approx(want)
        assert d["axes"] == ",".join(sorted(r["item"][5:] for r in rows if (r["item"] or "").startswith("axis:")))
    with store.snapshot() as conn:
        run = conn.execute(select(schema.import_runs).where(schema.import_runs.c.id == rep.run_id)).mappings().one()
    assert run["kind"] == "align-store" and run["status"] == "ok" and run["summary"]["added"] == N_DOCS + 1


def test_loading_again_or_after_a_resumed_run_adds_nothing(store, corpus, doc_rows, tmp_path):
    items = list(doc_rows.values())
    out = write_results(corpus, tmp_path / "results.parquet", [items[:3]])
    first = store_results(store, out, actor="bonn-de")                  # the run stopped after one partition
    assert (first.added, first.unchanged) == (3, 0)
    _write_partition(out, [r for rows in items[3:] for r in rows])       # ... and was resumed
    second = store_results(store, out, actor="bonn-de")
    assert (second.added, second.updated, second.unchanged) == (len(items) - 3, 0, 3)
    before = counts(store)
    third = store_results(store, out, actor="bonn-de")
    assert (third.added, third.updated, third.unchanged, third.items) == (0, 0, len(items), 0)
    assert counts(store) == before                                       # no row, no provenance added
    # the same document aligned again differently (another results folder): replaced, not doubled
    changed = [[{**r, "score": 0.5} if r["item"] else r for r in rows] for rows in items]
    other = write_results(corpus, tmp_path / "again.parquet", [changed])
    fourth = store_results(store, other, actor="bonn-de")
    with_items = sum(1 for rows in items if any(r["item"] for r in rows))
    assert (fourth.added, fourth.updated, fourth.unchanged) == (0, with_items, len(items) - with_items)
    assert counts(store)[:2] == before[:2]
    assert {i["score"] for d in aligned_documents(store, "bonn-de") for i in d["items"]} == {0.5}


def test_a_load_that_fails_writes_nothing(store, corpus, doc_rows, tmp_path, monkeypatch):
    out = write_results(corpus, tmp_path / "results.parquet", [list(doc_rows.values())])
    before = counts(store)

    def broken(*a, **k):
        raise StoreError("the disk is full")
    monkeypatch.setattr(store, "insert_many", broken)
    with pytest.raises(StoreError, match="disk is full"):
        store_results(store, out, actor="bonn-de")
    assert counts(store) == before
    with store.snapshot() as conn:
        assert conn.execute(select(func.count()).select_from(schema.import_runs)
                            .where(schema.import_runs.c.kind == "align-store")).scalar() == 0


def test_errors_name_the_city_the_store_and_the_folder(store, corpus, doc_rows, tmp_path):
    out = write_results(corpus, tmp_path / "results.parquet", [list(doc_rows.values())])
    with pytest.raises(NotFoundError):
        store_results(store, out, actor="Atlantis-under-the-Sea")
    with pytest.raises(ValidationError, match="no such results folder"):
        store_results(store, tmp_path / "nothing-here", actor="bonn-de")
    (tmp_path / "other").mkdir()
    with pytest.raises(ValidationError, match="not a folder of citydip bulk alignment results"):
        store_results(store, tmp_path / "other", actor="bonn-de")
    empty = Store(tmp_path / "empty.sqlite")
    try:
        with pytest.raises(StoreError, match="holds no frameworks: build it first with citydip init"):
            store_results(empty, out, actor="bonn-de")
    finally:
        empty.close()
    assert counts(store)[0] == 0


@pytest.mark.slow
def test_the_command_aligns_a_folder_into_the_store_and_a_second_run_adds_nothing(built_home, corpus, tmp_path):
    pytest.importorskip("distributed")
    home = tmp_path / "home"
    copy_store(built_home, home)
    env = {**store_env(home), "PYTHONPATH": loadgen.env()["PYTHONPATH"]}
    out = tmp_path / "results.parquet"

    def run(*args):
        return subprocess.run([sys.executable, "-m", "citydiplomacy", "align", str(corpus), "--out", str(out),
                               "--workers", "1", "--mode", "light", *args], env=env, capture_output=True, text=True,
                              timeout=900)

    bad = run("--store", "--city", "Atlantis-under-the-Sea")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "error:" in bad.stderr
    assert not out.exists()                                  # checked before anything was aligned
    assert run("--store").returncode == 1 and "--store needs --city" in run("--store").stderr
    first = run("--store", "--city", "Bonn", "--licence", "CC BY 4.0")
    assert "for Bonn (" in first.stderr and f"{N_DOCS + 1} documents added" in first.stderr, first.stderr
    assert first.returncode == 1                             # empty.txt could not be aligned: named, exit 1
    second = run("--store", "--city", "Bonn")
    assert "0 documents added, 0 replaced, 7 unchanged" in second.stderr, second.stderr
    import citydiplomacy

    from conftest import store_args

    obs = citydiplomacy.open(**store_args(home), build=False)
    try:
        docs = aligned_documents(obs.store, "Bonn")
        assert len(docs) == N_DOCS + 1 and len({d["document_id"] for d in docs}) == N_DOCS + 1
        from citydiplomacy import accounts

        log = accounts.audit_log(obs.store, limit=2)
        assert log[0]["channel"] == "cli"
    finally:
        obs.close()
    # a store that is not built is named, not built behind the person's back
    bare = tmp_path / "bare"
    bare.mkdir()
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", "--home", str(bare), "align", str(corpus), "--out",
                           str(tmp_path / "r2.parquet"), "--store", "--city", "Bonn"],
                          env={**loadgen.env(), "CITYDIP_DATABASE_URL": ""}, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 1 and "is not initialised: build it with citydip init" in proc.stderr, proc.stderr


def test_revision_0012_adds_the_two_tables_and_downgrades_to_0011(tmp_path):
    from alembic import command
    from sqlalchemy import inspect

    from citydiplomacy.store import SCHEMA_HEAD
    from citydiplomacy.store.db import _alembic_config

    s = Store(tmp_path / "citydip.sqlite")
    try:
        assert {"aligned_documents", "aligned_document_items"} <= set(inspect(s.engine).get_table_names())
        with s.engine.begin() as conn:
            command.downgrade(_alembic_config(conn), "0011")
        assert s.schema_version() == "0011"
        assert "aligned_documents" not in inspect(s.engine).get_table_names()
        s.migrate()
        assert s.schema_version() == SCHEMA_HEAD == "0012"
        assert "aligned_document_items" in inspect(s.engine).get_table_names()
    finally:
        s.close()
