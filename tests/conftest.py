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
from pathlib import Path

import pytest

import citydiplomacy
from citydiplomacy.store import Store
from homes import copy_home

import pgtools

ON_PG = pgtools.on_postgres()
#: the name of the PostgreSQL database holding the built default dataset (PostgreSQL pass)
_BUILT_DB: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if ON_PG and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="a test of the SQLite file itself (PostgreSQL pass)"))


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


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """A home directory whose store holds the default dataset (built once per run); on
    PostgreSQL the store is a database of its own (see :func:`store_args`)."""
    home = tmp_path_factory.mktemp("home")
    if ON_PG:
        why = pgtools.unavailable()
        if why:
            pytest.fail(why)
        name = pgtools.create_db("built")
        _BUILT_DB.append(name)
        obs = citydiplomacy.open(home=home, db=pgtools.url_for(name))
    else:
        obs = citydiplomacy.open(home=home)
    obs.close()
    return home


def pytest_sessionfinish(session, exitstatus):
    for name in _BUILT_DB:
        try:
            pgtools.drop_db(name)
        except Exception:  # noqa: BLE001 - the server went away: nothing left to drop
            pass
    _BUILT_DB.clear()


def store_args(home: Path) -> dict:
    """Keyword arguments of ``citydiplomacy.open`` for the store of ``home`` (the built
    one, or a copy made by :func:`copy_store`)."""
    db = _COPIES.get(str(home))
    if db is None and ON_PG and _BUILT_DB:
        db = pgtools.url_for(_BUILT_DB[0])
    return {"home": home, "db": db}


#: home directory -> the database URL of its copy (PostgreSQL pass)
_COPIES: dict[str, str] = {}


def copy_store(built_home: Path, home: Path) -> dict:
    """Copy the built store into ``home`` (a new directory): the SQLite file, or on
    PostgreSQL a new database made from the built one (dropped at the end of the run).
    Returns ``citydiplomacy.open``'s keyword arguments for the copy; ``env`` adds what a
    ``citydip`` subprocess needs (``CITYDIP_HOME`` and, on PostgreSQL, ``CITYDIP_DATABASE_URL``)."""
    import shutil

    home.mkdir(parents=True, exist_ok=True)
    if ON_PG:
        name = pgtools.create_db("copy", template=_BUILT_DB[0])
        _BUILT_DB.append(name)
        _COPIES[str(home)] = pgtools.url_for(name)
    else:
        shutil.copy(built_home / "citydip.sqlite", home / "citydip.sqlite")
    return store_args(home)


def drop_copy(home: Path) -> None:
    """Drop the database of a copy made by :func:`copy_store` now (PostgreSQL pass; the
    copies a session keeps are dropped at its end): a test's copy is 130 MB."""
    url = _COPIES.pop(str(home), None)
    if url is None:
        return
    name = url.rsplit("/", 1)[1]
    pgtools.drop_db(name)
    if name in _BUILT_DB:
        _BUILT_DB.remove(name)


def store_env(home: Path) -> dict:
    """The environment of a ``citydip`` subprocess on the store of ``home``."""
    env = dict(os.environ)
    env["CITYDIP_HOME"] = str(home)
    args = store_args(home)
    if args["db"]:
        env["CITYDIP_DATABASE_URL"] = args["db"]
    return env


@pytest.fixture(scope="session")
def obs(built_home):
    o = citydiplomacy.open(**store_args(built_home), build=False)
    yield o
    o.close()


@pytest.fixture(scope="session")
def _migrated_template():
    name = pgtools.create_db("tpl")
    _BUILT_DB.append(name)
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
# second. A session fixture below builds a store once (always from ``built_home``, closed before
# it is handed out, so the file holds everything) and each test module takes its own copy with
# :func:`homes.copy_home`: the modules still write to private stores and never see each other's
# writes.

@pytest.fixture(scope="session")
def barcelona_log_home(built_home, tmp_path_factory):
    """A home with the built store, its register emptied of the shipped engagements and
    Barcelona's log of 500 engagements imported (light alignment) with the library; and the
    import's report. Copy it (:func:`homes.copy_home`) before writing."""
    from citydiplomacy.engage import io as eio
    from engagedata import clear_register
    from test_engage import LOG, MAP

    home = copy_home(built_home, tmp_path_factory.mktemp("barcelona-log"))
    store = Store(home / "citydip.sqlite")
    clear_register(store)
    report = eio.import_engagements(store, LOG, mapping=MAP, actor="Barcelona", mode="light")
    store.close()
    return home, report


@pytest.fixture(scope="session")
def seeded_engage_home(built_home, tmp_path_factory):
    """A home with the built store and the web tests' engagement register
    (:func:`engagedata.seed`), and the counts ``seed`` returns. Copy it before writing."""
    import engagedata

    home = copy_home(built_home, tmp_path_factory.mktemp("seeded-engage"))
    obs = citydiplomacy.open(home=home, build=False)
    counts = engagedata.seed(obs.store)
    obs.close()
    return home, counts
