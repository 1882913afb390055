"""PostgreSQL as the store: opening by URL and its errors, the migrations on a real
server, COPY, ``citydip migrate-store`` round trips, and writes at once without loss
(concurrent edits with a version check, the same import twice at once).

The tests marked ``postgres`` create their own databases on the server of
CITYDIP_TEST_DATABASE_URL (default: 127.0.0.1:5432, trust authentication) and drop
them; they are skipped, saying why, when there is no server — except in the PostgreSQL
pass (CITYDIP_TEST_DATABASE_URL set), where a missing server fails.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

import citydiplomacy
from citydiplomacy.errors import PreconditionFailed, StoreError
from citydiplomacy.store import Store, schema
from citydiplomacy.store.db import normalize_url, redact
from citydiplomacy.store.migrate import migrate_store

from conftest import ON_PG, store_args

postgres = pytest.mark.postgres


def citydip(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True,
                          env=env, timeout=600)


# -- opening by URL --------------------------------------------------------------------------

def test_urls_are_normalised_and_passwords_never_shown():
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert "s3cret" not in redact("postgresql+psycopg://u:s3cret@h/db")


@pytest.mark.parametrize("url, says", [
    ("mysql://u@h/db", "a store is an SQLite file"),
    ("postgresql+psycopg2://u@h/db", "use the psycopg 3 driver"),
    ("postgresql://postgres:pw@127.0.0.1:1/nothing", "cannot be opened as a store"),
])
def test_a_bad_database_url_is_a_clear_error(url, says):
    with pytest.raises(StoreError, match=says) as exc:
        Store(url=url)
    assert "pw" not in str(exc.value).replace("psycopg", "")


def test_the_command_line_says_what_is_wrong_with_a_url_without_a_traceback(tmp_path):
    r = citydip("--db", "postgresql://postgres@127.0.0.1:1/nothing", "status", env={
        "PATH": "/usr/bin:/bin", "CITYDIP_HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)})
    assert r.returncode == 1
    assert "cannot be opened as a store" in r.stderr and "Traceback" not in r.stderr


# -- the schema on a real server ---------------------------------------------------------------

@postgres
def test_the_migrations_build_the_schema_on_postgres(pg_db):
    """Every migration 0001..head runs on PostgreSQL and gives exactly the tables, columns
    and indexes of store/schema.py; a second open migrates nothing."""
    s = Store(url=pg_db)
    try:
        from citydiplomacy.store.db import _known_revisions

        assert s.schema_version() == max(_known_revisions())
        insp = inspect(s.engine)
        assert set(insp.get_table_names()) - {"alembic_version"} == {t.name for t in schema.metadata.sorted_tables}
        for table in schema.metadata.sorted_tables:
            cols = {c["name"] for c in insp.get_columns(table.name)}
            assert cols == set(table.c.keys()), table.name
            have = {i["name"] for i in insp.get_indexes(table.name)}
            want = {i.name for i in table.indexes}
            assert want <= have | {c["name"] for c in insp.get_unique_constraints(table.name)}, table.name
    finally:
        s.close()
    again = Store(url=pg_db)
    assert again.schema_version() == max(_known_revisions())
    again.close()


@postgres
def test_copy_loads_rows_with_json_and_defaults(pg_db):
    s = Store(url=pg_db)
    try:
        with s.transaction() as conn:
            run = s.start_run(conn, "test")
            from citydiplomacy.model import Provenance

            pid = s.add_provenance(conn, Provenance(source="a test", licence="CC0"), run)
            n = s.insert_many(conn, schema.actors, [
                {"id": f"a{i}", "name": f"Ä{i} \\ \t 'quoted'", "kind": "city", "layer": "micro",
                 "attrs": {"k": [i, None, "é"]} if i % 2 else None, "provenance_id": pid} for i in range(1000)])
            assert n == 1000
        with s.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(schema.actors))}
        assert rows["a1"].attrs == {"k": [1, None, "é"]} and rows["a2"].attrs is None
        assert rows["a7"].name == "Ä7 \\ \t 'quoted'"
        assert rows["a3"].importance == 0 and rows["a3"].axes == ""      # the server defaults
    finally:
        s.close()


# -- migrate-store ---------------------------------------------------------------------------

def _export(args: dict, out: Path) -> dict[str, str]:
    obs = citydiplomacy.open(args.get("path") or args["home"], db=args.get("db"), build=False)
    try:
        obs.export(out, fmt="json")
    finally:
        obs.close()
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}


@postgres
@pytest.mark.slow
def test_migrate_store_round_trip_gives_identical_exports(built_home, pg_server, tmp_path):
    """The built store → the other kind of store → the first kind again: ``citydip
    export`` of all three is identical, and every table holds the same rows (accounts,
    tokens and the audit log included)."""
    from citydiplomacy import accounts

    src_args = store_args(built_home)
    work = citydiplomacy.open(**src_args, build=False) if not ON_PG else None
    mid_name = back_name = None
    try:
        # a private copy of the built store with an account, a token and audit rows
        if ON_PG:
            from conftest import copy_store

            src_args = copy_store(built_home, tmp_path / "src")
            src = Store(url=src_args["db"])
        else:
            import shutil

            (tmp_path / "src").mkdir()
            shutil.copy(built_home / "citydip.sqlite", tmp_path / "src" / "citydip.sqlite")
            src = Store(tmp_path / "src" / "citydip.sqlite")
            src_args = {"home": tmp_path / "src", "db": None}
        user = accounts.add_user(src, "maria", "correct horse battery", "editor")
        accounts.create_token(src, accounts.get_user(src, "maria"), "nightly")

        if ON_PG:                                  # PostgreSQL -> SQLite -> PostgreSQL
            mid = Store(tmp_path / "mid.sqlite")
            back_name = pg_server.create_db("back")
            back = Store(url=pg_server.url_for(back_name))
        else:                                      # SQLite -> PostgreSQL -> SQLite
            mid_name = pg_server.create_db("mid")
            mid = Store(url=pg_server.url_for(mid_name))
            back = Store(tmp_path / "back.sqlite")
        first = migrate_store(src, mid)
        second = migrate_store(mid, back)
        assert first["tables"] == second["tables"]
        assert first["tables"]["actors"] > 50_000 and first["tables"]["users"] == 1
        assert first["tables"]["api_tokens"] == 1 and first["tables"]["audit_log"] >= 2
        for table in schema.metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            with src.connect() as a, back.connect() as b:
                ra = [tuple(r) for r in a.execute(select(table).order_by(*pk))]
                rb = [tuple(r) for r in b.execute(select(table).order_by(*pk))]
            assert ra == rb, table.name
        # a store that holds data is never written into
        with pytest.raises(StoreError, match="is not empty"):
            migrate_store(src, back)
        # the next id the copy gives follows the copied ones
        accounts.add_user(back, "nina", "correct horse battery", "viewer")
        assert accounts.get_user(back, "nina").id > user.id
        for s in (src, mid, back):
            s.close()
        e_src = _export({"home": src_args["home"], "db": src_args["db"]}, tmp_path / "e1")
        mid_args = {"db": pg_server.url_for(mid_name), "home": tmp_path} if mid_name else {"path": str(tmp_path / "mid.sqlite"), "home": tmp_path}
        back_args = {"db": pg_server.url_for(back_name), "home": tmp_path} if back_name else {"path": str(tmp_path / "back.sqlite"), "home": tmp_path}
        e_mid = _export(mid_args, tmp_path / "e2")
        e_back = _export(back_args, tmp_path / "e3")
        assert e_src.keys() == e_mid.keys() == e_back.keys() and "ties.json" in e_src
        for name in e_src:
            assert e_src[name] == e_mid[name] == e_back[name], name
    finally:
        if work is not None:
            work.close()
        for name in (mid_name, back_name):
            if name:
                pg_server.drop_db(name)


@postgres
def test_migrate_store_from_the_command_line(tmp_path, pg_db):
    """An empty SQLite store with an account → PostgreSQL, by the command; a second run
    into the same database refuses (it holds data) without a traceback."""
    from citydiplomacy import accounts

    src = Store(tmp_path / "a" / "citydip.sqlite") if (tmp_path / "a").mkdir() is None else None
    accounts.add_user(src, "maria", "correct horse battery", "editor")
    src.close()
    env = {"PATH": "/usr/bin:/bin", "CITYDIP_HOME": str(tmp_path), "PYTHONPATH": ":".join(sys.path)}
    r = citydip("migrate-store", str(tmp_path / "a"), pg_db, env=env)
    assert r.returncode == 0, r.stderr
    assert "1 users" in r.stderr and "audit rows" in r.stderr
    with Store(url=pg_db) as s, s.connect() as conn:
        assert conn.execute(select(schema.users.c.name)).scalars().all() == ["maria"]
    r = citydip("migrate-store", str(tmp_path / "a"), pg_db, env=env)
    assert r.returncode == 1 and "is not empty" in r.stderr and "Traceback" not in r.stderr


@postgres
def test_a_job_submitted_from_the_command_line_works_on_the_database_of_db(tmp_path, pg_db):
    """`citydip --db URL jobs submit export` exports the PostgreSQL store, not an SQLite file
    in the home (which does not exist here)."""
    store = Store(url=pg_db)
    _seed(store)
    store.close()
    env = {"PATH": "/usr/bin:/bin", "CITYDIP_HOME": str(tmp_path / "home"), "PYTHONPATH": ":".join(sys.path)}
    out = tmp_path / "export"
    r = citydip("--db", pg_db, "jobs", "submit", "export", f"out={out}", "fmt=csv", env=env)
    assert r.returncode == 0, r.stderr
    actors = (out / "actors.csv").read_text(encoding="utf-8")
    assert "testville-xx" in actors
    assert not (tmp_path / "home" / "citydip.sqlite").exists()


# -- writes at once ------------------------------------------------------------------------------

def _seed(store: Store) -> None:
    from citydiplomacy.editing import add_actor

    add_actor(store, "Testville", "city", source="a test", id="testville-xx", population=1000)


@postgres
def test_concurrent_edits_with_a_version_check_lose_nothing(pg_db):
    """Eight editors read the actor's version and write at once, each checking that the
    actor is still as read: exactly one wins each round; every loser is told
    (PreconditionFailed) and wrote nothing; the audit of the runs matches."""
    from citydiplomacy.editing import edit_actor

    store = Store(url=pg_db)
    try:
        _seed(store)

        def version() -> tuple:
            with store.connect() as conn:
                return tuple(conn.execute(select(schema.actors).where(schema.actors.c.id == "testville-xx")).one())

        outcomes: list[str] = []
        lock = threading.Lock()

        def editor(k: int, value: int, seen: tuple, barrier: threading.Barrier) -> None:
            def check() -> None:
                if version() != seen:
                    raise PreconditionFailed("changed")
            barrier.wait()
            try:
                edit_actor(store, "testville-xx", source=f"editor {k}", check=check, population=value)
                res = "won"
            except PreconditionFailed:
                res = "lost"
            with lock:
                outcomes.append(res)

        for round_ in range(3):
            # every editor of every round writes a value of its own: an edit that changes
            # nothing (last round's winner writing its value again) writes nothing either
            outcomes.clear()
            seen = version()
            barrier = threading.Barrier(8)
            threads = [threading.Thread(target=editor, args=(k, 2000 + 10 * round_ + k, seen, barrier)) for k in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(outcomes) == ["lost"] * 7 + ["won"]
        with store.connect() as conn:
            runs = conn.execute(select(func.count()).select_from(schema.import_runs)
                                .where(schema.import_runs.c.kind == "edit")).scalar()
        assert runs == 3
    finally:
        store.close()


PAIRS = [("Lyon", "France", "Nairobi", "Kenya"), ("Turin", "Italy", "Quito", "Ecuador"),
         ("Graz", "Austria", "Cusco", "Peru"), ("Tampere", "Finland", "Hobart", "Australia"),
         ("Aarhus", "Denmark", "Cebu City", "Philippines"), ("Bergen", "Norway", "Rosario", "Argentina")]


def test_the_same_import_twice_at_once_is_written_once(work, tmp_path):
    """Two imports of the same twinning list at the same moment (on the store of the run:
    SQLite, or PostgreSQL in its pass): one writes the ties; the other finds them there
    (unchanged), never a duplicate — the unique key of a tie makes a double import
    impossible, whichever transaction commits first."""
    from citydiplomacy.store.schema import ties

    f = tmp_path / "twins.csv"
    f.write_text("city1,country1,city2,country2\n" + "".join(",".join(p) + "\n" for p in PAIRS), encoding="utf-8")
    with work.store.connect() as conn:
        before = conn.execute(select(func.count()).select_from(ties)).scalar()
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def importer() -> None:
        barrier.wait()
        try:
            reports.append(work.import_("twinning", f))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=importer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    created = sorted(r.created.get("ties", 0) for r in reports)
    assert created == [0, len(PAIRS)], [r.as_dict() for r in reports]
    with work.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ties)).scalar() == before + len(PAIRS)


@postgres
def test_serialisation_failures_are_retried(pg_db):
    """Two SERIALIZABLE read-modify-writes of the same row at once: PostgreSQL aborts one
    (40001); Store.retrying runs it again and both increments are kept."""
    from sqlalchemy import update

    store = Store(url=pg_db)
    try:
        _seed(store)
        a = schema.actors
        attempts = []
        barrier = threading.Barrier(2)

        def bump() -> None:
            def op():
                attempts.append(1)
                with store.transaction(isolation="SERIALIZABLE") as conn:
                    pop = conn.execute(select(a.c.population).where(a.c.id == "testville-xx")).scalar()
                    if len(attempts) <= 2:
                        barrier.wait(timeout=10)
                    conn.execute(update(a).where(a.c.id == "testville-xx").values(population=pop + 1))
            store.retrying(op)

        threads = [threading.Thread(target=bump) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with store.connect() as conn:
            assert conn.execute(select(a.c.population).where(a.c.id == "testville-xx")).scalar() == 1002
        assert len(attempts) == 3          # one of the two ran again
    finally:
        store.close()
