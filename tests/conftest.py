"""Shared fixtures: a store built once with the default dataset, and empty stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import citydiplomacy
from citydiplomacy.store import Store


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
