import sqlite3

import pytest
from sqlalchemy import func, insert, inspect, select, text

import citydiplomacy
from citydiplomacy.dataset import build as build_mod
from citydiplomacy.errors import CitydipError, StoreError
from citydiplomacy.model import Provenance
from citydiplomacy.store import SCHEMA_HEAD, Store
from citydiplomacy.store import schema


def _count(store, table):
    with store.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_new_store_is_at_head_with_all_tables(fresh_store):
    assert fresh_store.schema_version() == SCHEMA_HEAD
    with fresh_store.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(schema.metadata.tables) <= tables


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_migrations_create_exactly_the_declared_schema(fresh_store):
    """The Alembic revisions and schema.py describe the same columns and indexes."""
    with fresh_store.connect() as conn:
        insp = inspect(conn)
        for name, table in schema.metadata.tables.items():
            cols = {c["name"] for c in insp.get_columns(name)}
            assert cols == {c.name for c in table.columns}, name
            declared = {ix.name for ix in table.indexes}
            created = {ix["name"] for ix in insp.get_indexes(name)}
            assert declared <= created | {"ux_ties_key"}, name
        if fresh_store.is_sqlite:
            names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
        else:
            names = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes"))}
        assert "ux_ties_key" in names


def test_store_from_an_older_schema_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate("0001")
    assert old.schema_version() == "0001"
    with old.transaction() as conn:
        run = old.start_run(conn, "test")
        prov = old.add_provenance(conn, Provenance(source="t", licence="CC0"), run)
        conn.execute(insert(schema.actors).values(id="x", name="X", kind="city", layer="micro",
                                                  provenance_id=prov))
    with old.connect() as conn:
        assert not inspect(conn).has_table("initiatives")
    old.close()

    new = Store(path)
    assert new.schema_version() == SCHEMA_HEAD
    with new.connect() as conn:
        assert inspect(conn).has_table("initiatives")
        assert conn.execute(select(schema.actors.c.name)).scalar() == "X"
    new.close()


def test_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "citydip.sqlite"
    path.write_bytes(b"")
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_HEAD


def test_corrupt_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "citydip.sqlite"
    path.write_bytes(b"this is not a database at all\n" * 100)
    with pytest.raises(StoreError, match="not an SQLite database"):
        Store(path)
    assert path.read_bytes().startswith(b"this is not")  # left untouched


@pytest.mark.sqlite_only
def test_truncated_sqlite_file_gives_a_clear_error(tmp_path, fresh_store):
    src = fresh_store.path.read_bytes()
    path = tmp_path / "broken.sqlite"
    path.write_bytes(src[:100] + b"\x00garbage" * 500)
    with pytest.raises(StoreError):
        Store(path)


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a citydiplomacy store"):
        Store(path)


def test_store_from_a_newer_version_is_refused(tmp_path, fresh_store):
    with fresh_store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    fresh_store.close()
    with pytest.raises(StoreError, match="newer citydiplomacy"):
        Store(fresh_store.path, url=None if fresh_store.path else fresh_store.url)


def test_failed_build_leaves_the_store_as_it_was(fresh_store, monkeypatch):
    """A failing step (here the last one) rolls back every earlier step."""
    def boom(ctx):
        raise RuntimeError("simulated failure in the last step")

    steps = [s for s in build_mod.STEPS if s[0] in ("states", "SDG framework")] + [("boom", boom)]
    monkeypatch.setattr(build_mod, "STEPS", steps)
    with pytest.raises(RuntimeError, match="simulated failure"):
        build_mod.build_default(fresh_store)
    for table in (schema.actors, schema.ties, schema.aliases, schema.framework_items,
                  schema.import_runs, schema.provenance):
        assert _count(fresh_store, table) == 0, table.name


def test_failed_rebuild_keeps_the_previous_contents(fresh_store, monkeypatch):
    store = fresh_store
    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS if s[0] == "states"])
    build_mod.build_default(store)
    before = _count(store, schema.actors)
    assert before > 190

    def boom(ctx):
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS] + [("boom", boom)])
    with pytest.raises(RuntimeError):
        build_mod.build_default(store, force=True)
    assert _count(store, schema.actors) == before
    assert _count(store, schema.import_runs) == 1


def test_init_refuses_to_overwrite_without_force(tmp_path, monkeypatch):
    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS if s[0] == "states"])
    obs = citydiplomacy.open(home=tmp_path)
    with pytest.raises(CitydipError, match="--force"):
        obs.init()
    obs.close()


def test_opening_a_second_store_keeps_the_first_seeing_other_processes(tmp_path):
    """Opening the same file again in a process must not drop the locks of the store already
    open there (a plain open and close of the file does: another process then removes the
    write-ahead log under it, and it stops seeing that process's commits)."""
    import subprocess
    import sys
    import time

    path = tmp_path / "citydip.sqlite"
    first = Store(path)
    with first.connect() as conn:
        conn.execute(text("SELECT 1")).all()
    Store(path).close()
    code = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
            "c.execute(\"INSERT INTO audit_log (at, user_name, action, target) VALUES ('t', 'p', ?, '')\", (sys.argv[2],)); "
            "c.commit(); time.sleep(float(sys.argv[3])); c.close()")
    subprocess.run([sys.executable, "-c", code, str(path), "closed", "0"], check=True)
    held = subprocess.Popen([sys.executable, "-c", code, str(path), "held", "4"])
    try:
        time.sleep(2)
        with first.connect() as conn:
            seen = sorted(conn.execute(text("SELECT action FROM audit_log")).scalars())
    finally:
        held.wait()
        first.close()
    assert seen == ["closed", "held"]
