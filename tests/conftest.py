"""Shared fixtures: a store built once with the default dataset, and empty stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import citydiplomacy
from citydiplomacy.store import Store
from homes import copy_home


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """A home directory whose store holds the default dataset (built once per run)."""
    home = tmp_path_factory.mktemp("home")
    obs = citydiplomacy.open(home=home)
    obs.close()
    return home


@pytest.fixture(scope="session")
def obs(built_home):
    o = citydiplomacy.open(home=built_home, build=False)
    yield o
    o.close()


@pytest.fixture
def fresh_store(tmp_path) -> Store:
    """An empty store in a new SQLite file, migrated to the current schema."""
    s = Store(tmp_path / "citydip.sqlite")
    yield s
    s.close()


@pytest.fixture
def cli_env(built_home, monkeypatch):
    """Environment for running ``citydip`` against the built store."""
    monkeypatch.setenv("CITYDIP_HOME", str(built_home))
    env = dict(os.environ)
    env["CITYDIP_HOME"] = str(built_home)
    return env


@pytest.fixture
def work(built_home, tmp_path):
    """An Observatory on a private copy of the built store, for tests that write."""
    import shutil

    home = tmp_path / "work"
    home.mkdir()
    shutil.copy(built_home / "citydip.sqlite", home / "citydip.sqlite")
    o = citydiplomacy.open(home=home, build=False)
    yield o
    o.close()


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
