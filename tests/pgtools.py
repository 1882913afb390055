"""PostgreSQL databases for the tests: created per session or per test and dropped after.

``CITYDIP_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
names a server and a database to connect to for creating the tests' own databases
(``citydip_test_<random>_...``); when it is set, the store fixtures of conftest.py put
every store on that server (see tests/conftest.py and docs/deploy.md#tests). The tests
marked ``postgres`` use it, or the local server at its default address, whatever pass runs.
"""

from __future__ import annotations

import os
import secrets
import time

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    return os.environ.get("CITYDIP_TEST_DATABASE_URL") or DEFAULT_SERVER


def on_postgres() -> bool:
    """True when the store fixtures put the stores on PostgreSQL (the PostgreSQL pass)."""
    return bool(os.environ.get("CITYDIP_TEST_DATABASE_URL"))


def unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None: it can)."""
    import importlib.util

    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install '.[test]')"
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the reason
        return f"no PostgreSQL server at {server_url()}: {str(exc).strip().splitlines()[0]}"
    return None


def _admin():
    import psycopg

    from citydiplomacy.store.db import normalize_url

    url = normalize_url(server_url()).replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def url_for(name: str) -> str:
    from sqlalchemy.engine import make_url

    from citydiplomacy.store.db import normalize_url

    return make_url(normalize_url(server_url())).set(database=name).render_as_string(hide_password=False)


def new_name(tag: str) -> str:
    """``citydip_test_<worker>_<random>_<tag>``: the pytest-xdist worker (``gw0``...,
    ``main`` without xdist) says whose database it is."""
    worker = os.environ.get("PYTEST_XDIST_WORKER") or "main"
    return f"citydip_test_{worker}_{secrets.token_hex(4)}_{tag}"


def create_db(tag: str, template: str | None = None) -> str:
    """A new database (a copy of ``template`` when given); returns its name."""
    name = new_name(tag)
    with _admin() as conn:
        if template is not None:
            for attempt in range(20):
                # a template must have no other connection: end those of the pools that read it
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (template,))
                try:
                    conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                    break
                except Exception as exc:  # noqa: BLE001
                    if "is being accessed by other users" not in str(exc) or attempt == 19:
                        raise
                    time.sleep(0.1)
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_db(name: str) -> None:
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_leftovers() -> None:
    """Drop the databases of earlier runs that were killed before they could drop them."""
    with _admin() as conn:
        names = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'citydip\\_test\\_%'")]
        for name in names:
            # only those nobody is connected to: another run's databases are in use
            busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
            if not busy:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
