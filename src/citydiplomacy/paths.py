"""Where the store lives: ``--home DIR``, else ``$CITYDIP_HOME``, else the per-user data
directory (``~/.local/share/citydiplomacy`` on Linux)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

STORE_FILENAME = "citydip.sqlite"


def default_home() -> Path:
    env = os.environ.get("CITYDIP_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("citydiplomacy", appauthor=False))


def resolve_store_path(path: str | os.PathLike | None = None, *, home: str | os.PathLike | None = None) -> Path:
    """The store file for an explicit ``path`` (a file, or a directory holding one), a
    ``home`` directory, or the default home."""
    if path is not None:
        p = Path(path).expanduser()
        return p / STORE_FILENAME if p.is_dir() else p
    base = Path(home).expanduser() if home is not None else default_home()
    return base / STORE_FILENAME


def database_url() -> str | None:
    """``$CITYDIP_DATABASE_URL`` (a PostgreSQL store: ``postgresql+psycopg://...``), or None:
    the SQLite file in the home directory."""
    return (os.environ.get("CITYDIP_DATABASE_URL") or "").strip() or None
