"""Copies of built stores for the tests (see the session fixtures in conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_home(master: Path, dest: Path) -> Path:
    """A private copy of the store of the home ``master`` in the new home ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(master / "citydip.sqlite", dest / "citydip.sqlite")
    return dest
