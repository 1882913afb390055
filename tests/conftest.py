"""Shared fixtures: a store built once with the default dataset, and empty stores.

The stores are SQLite files; with ``CITYDIP_TEST_DATABASE_URL`` set (a PostgreSQL server,
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) they are PostgreSQL databases
the run creates and drops (``citydip_test_<random>_...``): the fixtures open them
(:func:`store_args`), and the ``citydip`` subprocesses of ``cli_env`` and
:func:`store_env` get ``CITYDIP_DATABASE_URL``; a test that opens a home directory of its
own still gets an SQLite file there. A test that writes copies the built store with
:func:`copy_store`. Tests of the SQLite
file itself are marked ``sqlite_only`` and skipped on PostgreSQL; tests marked
``postgres`` run against the server in either pass (docs/deploy.md#tests).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import citydiplomacy
from citydiplomacy.store import Store

import pgtools

ON_PG = pgtools.on_postgres()
#: home directory -> the URL of its database (PostgreSQL pass): the built store, its copies
_DBS: dict[str, str] = {}
#: the databases this process made and drops when its session ends (PostgreSQL pass)
_OWNED: list[str] = []
#: the file, in the directory all the workers of a run share, naming the databases made
#: once for them all (the masters of :func:`_once`): the run's main process drops them
_SHARED_DBS = "shared-databases.txt"


#: the fixtures through which a test gets a store of the run (on PostgreSQL in its pass): every
#: fixture that opens or copies the built store asks for ``built_home``
STORE_FIXTURES = {"built_home", "fresh_store", "pg_server"}


def pytest_collection_modifyitems(config, items):
    if not ON_PG:
        return
    sqlite_only = pytest.mark.skip(reason="a test of the SQLite file itself (PostgreSQL pass)")
    no_store = pytest.mark.skip(reason="opens no store of the run's: it ran as it would here in the SQLite pass")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(sqlite_only)
        elif not item.get_closest_marker("postgres") and not STORE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(no_store)


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server for the ``postgres`` tests: skipped, saying why, when there is
    none — unless CITYDIP_TEST_DATABASE_URL names one, which must then work."""
    why = pgtools.unavailable()
    if why:
        if ON_PG:
            pytest.fail(why)
        pytest.skip(why)
    return pgtools


@pytest.fixture
def pg_db(pg_server):
    """A new, empty PostgreSQL database (its URL), dropped after the test."""
    name = pg_server.create_db("t")
    yield pg_server.url_for(name)
    pg_server.drop_db(name)


# -- built once per run, whatever the number of pytest-xdist workers ---------------------------
# With ``-n 2`` each worker is a process with its own session fixtures. A store that takes
# seconds to minutes to build is built once, by the first worker that asks, into the directory
# the run's workers share (the xdist pattern: a file lock in the parent of the worker's base
# temp directory); each worker then takes a private copy of it, so the workers never write to
# each other's stores.

def _shared_dir(tmp_path_factory) -> Path:
    """The directory the workers of this run share (without xdist, the run's base temp)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _once(tmp_path_factory, name: str, build) -> tuple[Path, object]:
    """``build(directory)`` run once per run into the shared directory ``name`` (the first
    worker builds, the others wait for it); ``build`` returns the name of the store's
    database (PostgreSQL pass; None on SQLite) and a value (pickled for the other workers).
    Returns the directory, registered as a home with a store, and the value."""
    import pickle

    from filelock import FileLock

    shared = _shared_dir(tmp_path_factory)
    target, done = shared / name, shared / f"{name}.pickle"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)     # a build that failed in another worker
            target.mkdir()
            done.write_bytes(pickle.dumps(build(target)))
    db, value = pickle.loads(done.read_bytes())
    if db:
        _DBS[str(target)] = pgtools.url_for(db)
    return target, value


def _shared_db(tmp_path_factory, tag: str, template: str | None = None) -> str:
    """A database for a store of :func:`_once` (PostgreSQL pass), dropped by the run's main
    process when every worker is done with it."""
    name = pgtools.create_db(tag, template=template)
    with open(_shared_dir(tmp_path_factory) / _SHARED_DBS, "a", encoding="utf-8") as f:
        f.write(name + "\n")
    return name


def _db_name(home: Path) -> str:
    return _DBS[str(home)].rsplit("/", 1)[1]


def _copy(src: Path, home: Path, *, tag: str = "copy", shared=None) -> str | None:
    """The store of ``src`` copied into the new home ``home``: its directory (the SQLite
    file and what lies beside it) and, on PostgreSQL, a new database made from its own
    (one of the run, dropped at its end, when ``shared`` is the ``tmp_path_factory``).
    Returns the name of the new database (None on SQLite)."""
    shutil.copytree(src, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    if not ON_PG:
        return None
    template = _db_name(src)
    name = _shared_db(shared, tag, template) if shared else pgtools.create_db(tag, template=template)
    if not shared:
        _OWNED.append(name)
    _DBS[str(home)] = pgtools.url_for(name)
    return name


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """A home directory whose store holds the default dataset (built once per run, copied
    for each worker); on PostgreSQL the store is a database of its own (see :func:`store_args`)."""
    def build(master: Path) -> dict:
        if ON_PG:
            why = pgtools.unavailable()
            if why:
                pytest.fail(why)
            name = _shared_db(tmp_path_factory, "built")
            citydiplomacy.open(home=master, db=pgtools.url_for(name)).close()
            return name, None
        citydiplomacy.open(home=master).close()
        return None, None

    master, _ = _once(tmp_path_factory, "built", build)
    home = tmp_path_factory.mktemp("home")
    _copy(master, home, tag="built")
    return home


def pytest_sessionfinish(session, exitstatus):
    for name in _OWNED:
        try:
            pgtools.drop_db(name)
        except Exception:  # noqa: BLE001 - the server went away: nothing left to drop
            pass
    _OWNED.clear()
    if hasattr(session.config, "workerinput") or not ON_PG:
        return
    # the run's main process (xdist's controller, or the only process): the shared databases
    listing = session.config._tmp_path_factory.getbasetemp() / _SHARED_DBS
    try:
        names = listing.read_text(encoding="utf-8").split()
    except OSError:
        names = []
    for name in names:
        try:
            pgtools.drop_db(name)
        except Exception:  # noqa: BLE001
            pass


def store_args(home: Path) -> dict:
    """Keyword arguments of ``citydiplomacy.open`` for the store of ``home`` (the built
    one, or a copy made by :func:`copy_store`)."""
    return {"home": home, "db": _DBS.get(str(home))}


def app_args(home: Path) -> dict:
    """Keyword arguments of ``citydiplomacy.web.create_app`` for the store of ``home``."""
    return {"home": home, "path": _DBS.get(str(home))}


def open_store(home: Path, **kwargs) -> Store:
    """The :class:`Store` of ``home``: its SQLite file, or on PostgreSQL its database."""
    db = _DBS.get(str(home))
    return Store(url=db, **kwargs) if db else Store(home / "citydip.sqlite", **kwargs)


def copy_store(src: Path, home: Path) -> dict:
    """Copy the store of ``src`` (the built home, or any home holding a store) into
    ``home`` (a new directory): the SQLite file, or on PostgreSQL a new database made
    from ``src``'s (dropped at the end of the run, or by :func:`drop_copy`). Returns
    ``citydiplomacy.open``'s keyword arguments for the copy; :func:`store_env` gives what
    a ``citydip`` subprocess needs (``CITYDIP_HOME`` and, on PostgreSQL, ``CITYDIP_DATABASE_URL``)."""
    home.mkdir(parents=True, exist_ok=True)
    if ON_PG:
        name = pgtools.create_db("copy", template=_db_name(src))
        _OWNED.append(name)
        _DBS[str(home)] = pgtools.url_for(name)
    else:
        shutil.copy(src / "citydip.sqlite", home / "citydip.sqlite")
    return store_args(home)


def drop_copy(home: Path) -> None:
    """Drop the database of a copy made by :func:`copy_store` now (PostgreSQL pass; the
    copies a session keeps are dropped at its end): a test's copy is 130 MB."""
    url = _DBS.pop(str(home), None)
    if url is None:
        return
    name = url.rsplit("/", 1)[1]
    pgtools.drop_db(name)
    if name in _OWNED:
        _OWNED.remove(name)


def db_env(home: Path) -> dict:
    """The variables that put a ``citydip`` subprocess on the store of ``home``:
    ``CITYDIP_HOME`` and, on PostgreSQL, ``CITYDIP_DATABASE_URL``."""
    env = {"CITYDIP_HOME": str(home)}
    if _DBS.get(str(home)):
        env["CITYDIP_DATABASE_URL"] = _DBS[str(home)]
    return env


def store_env(home: Path) -> dict:
    """The environment of a ``citydip`` subprocess on the store of ``home``."""
    return {**os.environ, **db_env(home)}


@pytest.fixture(scope="session")
def obs(built_home):
    o = citydiplomacy.open(**store_args(built_home), build=False)
    yield o
    o.close()


@pytest.fixture(scope="session")
def _migrated_template():
    name = pgtools.create_db("tpl")
    _OWNED.append(name)
    Store(url=pgtools.url_for(name)).close()
    return name


@pytest.fixture
def fresh_store(tmp_path, request) -> Store:
    """An empty store in a new SQLite file (on PostgreSQL, a new database), migrated to
    the current schema."""
    if ON_PG:
        tpl = request.getfixturevalue("_migrated_template")
        name = pgtools.create_db("fresh", template=tpl)
        s = Store(url=pgtools.url_for(name))
        yield s
        s.close()
        pgtools.drop_db(name)
        return
    s = Store(tmp_path / "citydip.sqlite")
    yield s
    s.close()


@pytest.fixture
def cli_env(built_home, monkeypatch):
    """Environment for running ``citydip`` against the built store."""
    monkeypatch.setenv("CITYDIP_HOME", str(built_home))
    return store_env(built_home)


@pytest.fixture
def work(built_home, tmp_path):
    """An Observatory on a private copy of the built store, for tests that write."""
    o = citydiplomacy.open(**copy_store(built_home, tmp_path / "work"), build=False)
    yield o
    o.close()
    drop_copy(tmp_path / "work")


# -- built stores shared between modules ------------------------------------------------------
# Building or seeding a store costs seconds to minutes; copying its SQLite file a fraction of a
# second (on PostgreSQL, ``CREATE DATABASE ... TEMPLATE``: about a second). A session fixture
# below builds a store once per run (:func:`_once`, from a copy of ``built_home``) and each
# test module takes its own copy with :func:`homes.copy_home`: the modules still write to
# private stores and never see each other's writes.

@pytest.fixture(scope="session")
def barcelona_log_home(built_home, tmp_path_factory):
    """A home with the built store, its register emptied of the shipped engagements and
    Barcelona's log of 500 engagements imported (light alignment) with the library; and the
    import's report. Copy it (:func:`homes.copy_home`) before writing."""
    def build(home: Path):
        from citydiplomacy.engage import io as eio
        from engagedata import clear_register
        from test_engage import LOG, MAP

        db = _copy(built_home, home, tag="barcelona", shared=tmp_path_factory)
        store = open_store(home)
        clear_register(store)
        report = eio.import_engagements(store, LOG, mapping=MAP, actor="Barcelona", mode="light")
        store.close()
        return db, report

    return _once(tmp_path_factory, "barcelona-log", build)


@pytest.fixture(scope="session")
def seeded_engage_home(built_home, tmp_path_factory):
    """A home with the built store and the web tests' engagement register
    (:func:`engagedata.seed`), and the counts ``seed`` returns. Copy it before writing."""
    def build(home: Path):
        import engagedata

        db = _copy(built_home, home, tag="seeded", shared=tmp_path_factory)
        obs = citydiplomacy.open(**store_args(home), build=False)
        counts = engagedata.seed(obs.store)
        obs.close()
        return db, counts

    return _once(tmp_path_factory, "seeded-engage", build)
