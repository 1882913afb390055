"""Copies of built stores for the tests (see the session fixtures in conftest.py)."""

from __future__ import annotations

from pathlib import Path


def copy_home(master: Path, dest: Path) -> Path:
    """A private copy of the store of the home ``master`` in the new home ``dest`` (on
    PostgreSQL, a database of its own: open it with :func:`conftest.open_store` or
    :func:`conftest.store_args`)."""
    from conftest import copy_store

    copy_store(master, dest)
    return dest
