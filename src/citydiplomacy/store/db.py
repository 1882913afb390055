"""Opening, migrating and writing to the store.

Writes go through :meth:`Store.transaction`: everything inside one ``with`` block is
applied completely or not at all, so a failed load leaves the store as it was.

SQLite runs in WAL mode on every connection: readers never wait for a writer, and one
writer at a time holds the write lock. A write transaction takes that lock when it starts
(``BEGIN IMMEDIATE``) and waits for it at most its *busy timeout* (:data:`BUSY_TIMEOUTS`:
short for a web request, longer for an import from the command line); past that it raises
:class:`~citydiplomacy.errors.StoreBusyError` ("another process is writing; try again"),
never a bare "database is locked". Writers keep their transactions short (imports prepare
everything before they take the lock: see :mod:`citydiplomacy.ingest.apply`), so a wait of
a few seconds is enough for a login or an edit.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, create_engine, event, inspect, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ..errors import StoreBusyError, StoreError
from ..model import Provenance
from . import audit, schema

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0010"

#: How long (seconds) an operation waits for the write lock that another writer holds.
#: ``web``: a request of the web server (a login, a session, an edit): long enough to wait
#: out an import's final write (2 to 8 s for 177,000 new ties, measured: docs/import.md),
#: short enough to answer 503 while a person still waits; ``cli``: the command line and the
#: library (an import waits for another import's write; ``$CITYDIP_BUSY_TIMEOUT`` sets it);
#: ``job``: an import the web server runs in the background.
BUSY_TIMEOUTS = {"web": 10.0, "cli": float(os.environ.get("CITYDIP_BUSY_TIMEOUT") or 60.0), "job": 60.0}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _alembic_config(connection: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _not_sqlite(path: Path) -> StoreError:
    return StoreError(
        f"{path} is not a citydiplomacy store: it is not an SQLite database. "
        "Point --home or CITYDIP_HOME at another directory, or move the file away "
        "and run 'citydip init'.")


def _check_path(path: Path) -> None:
    # SQLite itself says whether the file is a database (see Store.__init__): reading its
    # header here would open and close the file, and closing any descriptor of a file drops
    # every POSIX lock this process holds on it, including those of stores already open on
    # it — another process then checkpoints and removes the write-ahead log under them, and
    # they stop seeing its writes (reproduced: a stale count read after another's commit)
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a store file")


def _create_private(path: Path) -> None:
    """Create the store file (mode 0600) and its directory (0700) if they do not exist, so
    that only this user can read the password and token hashes it will hold; SQLite gives
    the write-ahead log and shared-memory files the database file's mode. An existing file
    or directory keeps its mode (``citydip status`` warns when others can read it)."""
    if path.exists():
        return
    if not path.parent.exists():
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:         # created by another process meanwhile
        pass


class Store:
    """A citydiplomacy store, opened and migrated to the current schema.

    ``Store(path)`` opens (creating if needed) an SQLite file; ``Store(url=...)`` takes
    any SQLAlchemy URL (PostgreSQL follows with the same code).
    """

    def __init__(self, path: str | Path | None = None, *, url: str | None = None,
                 migrate: bool = True, busy_timeout: float | None = None):
        if url is None:
            if path is None:
                raise ValueError("give a path or a url")
            self.path: Path | None = Path(path)
            _check_path(self.path)
            _create_private(self.path)
            url = f"sqlite:///{self.path}"
        else:
            self.path = None
        self.url = url
        self.busy_timeout = BUSY_TIMEOUTS["cli"] if busy_timeout is None else busy_timeout
        self.engine: Engine = create_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", self._sqlite_pragmas)
        try:
            version = self._check_schema()
            # a store already at the newest revision needs no Alembic (0.25 s to import)
            if migrate and version != max(_known_revisions()):
                self.migrate()
        except StoreError:
            self.engine.dispose()
            raise
        except DatabaseError as exc:
            self.engine.dispose()
            if self.path is not None and "file is not a database" in str(exc.orig):
                raise _not_sqlite(self.path) from None
            raise StoreError(f"{self.path or url} cannot be opened as a store: {exc.orig}") from None

    # -- schema -----------------------------------------------------------------------

    def schema_version(self) -> str | None:
        """The Alembic revision the store is at, or None for an empty store."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def _check_schema(self) -> str | None:
        """The store's revision, after checking that this package can read it."""
        with self.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        where = self.path or self.url
        if tables and "alembic_version" not in tables:
            raise StoreError(
                f"{where} is an SQLite database but not a citydiplomacy store (it holds "
                f"tables {', '.join(sorted(tables)[:5])}). Use another --home.")
        version = self.schema_version()
        if version is not None and version not in _known_revisions():
            raise StoreError(
                f"{where} was written by a newer citydiplomacy (schema {version}); "
                "upgrade the package: pip install -U citydiplomacy")
        return version

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` (default: the newest). Data is kept."""
        from alembic import command

        with busy_errors(self.busy_timeout), self.engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, busy_timeout: float | None = None) -> Iterator[Connection]:
        """A connection in one write transaction: committed at the end, rolled back on error.

        The write lock is taken at the start (SQLite ``BEGIN IMMEDIATE``), so the reads
        inside see the rows the writes change and no other writer can slip in between;
        ``busy_timeout`` (default: the store's) is how long to wait for it before raising
        :class:`~citydiplomacy.errors.StoreBusyError`. Keep the block short: everything
        that can be read or computed beforehand belongs before it."""
        wait = self.busy_timeout if busy_timeout is None else busy_timeout
        with busy_errors(wait), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            if self.is_sqlite and wait != self.busy_timeout:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.rollback()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection that reads one consistent state of the store (a read transaction)
        and takes no lock: in WAL mode writers go on committing meanwhile, unseen here."""
        with busy_errors(self.busy_timeout), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN")
                # a read transaction starts at its first read, not at BEGIN
                conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").all()
            try:
                yield conn
            finally:
                conn.rollback()

    def start_run(self, conn: Connection, kind: str, source: str | None = None) -> int:
        """Record the start of an import run inside ``conn``'s transaction."""
        from .. import __version__

        return conn.execute(insert(schema.import_runs).values(
            kind=kind, source=source, started_at=_now(), status="running",
            software_version=__version__)).inserted_primary_key[0]

    def finish_run(self, conn: Connection, run_id: int, summary: dict[str, Any]) -> None:
        """Record the end of run ``run_id`` and, when someone is acting
        (:func:`~citydiplomacy.store.audit.acting_as`), its audit row, in the same transaction."""
        conn.execute(schema.import_runs.update().where(schema.import_runs.c.id == run_id)
                     .values(finished_at=_now(), status="ok", summary=summary))
        audit.audit_run(conn, run_id, summary)

    def add_provenance(self, conn: Connection, prov: Provenance, run_id: int,
                       cache: dict[tuple, int] | None = None) -> int:
        """The id of a provenance record for ``prov`` in run ``run_id``; with ``cache``
        (kept by the caller for one run), the same source is recorded once."""
        key = tuple(prov.model_dump().values())
        if cache is not None and key in cache:
            return cache[key]
        pid = conn.execute(insert(schema.provenance).values(
            run_id=run_id, **prov.model_dump())).inserted_primary_key[0]
        if cache is not None:
            cache[key] = pid
        return pid

    @staticmethod
    def insert_many(conn: Connection, table, rows: Iterable[dict[str, Any]], chunk: int = 20_000) -> int:
        """Insert rows in chunks (executemany); returns the count."""
        n = 0
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                conn.execute(insert(table), batch)
                n += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)
            n += len(batch)
        return n

    def analyze(self, conn: Connection) -> None:
        """Refresh the query planner's statistics after a bulk load. Without them SQLite
        may scan every city for a search filtered by kind instead of using the name
        index (85 ms instead of 1 ms, measured)."""
        conn.execute(text("ANALYZE"))

    def clear(self, conn: Connection) -> None:
        """Delete every row of data (children first), inside the caller's transaction.

        Accounts, tokens, sessions and the audit log are kept (``schema.ACCOUNT_TABLES``):
        rebuilding the dataset must not lock the observatory's users out or erase the
        record of who changed what."""
        for table in reversed(schema.metadata.sorted_tables):
            if table.name not in schema.ACCOUNT_TABLES:
                conn.execute(table.delete())

    # -- reading ----------------------------------------------------------------------

    def connect(self) -> Connection:
        return self.engine.connect()

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(schema.actors.c.id).limit(1)).first() is None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path or self.url)!r})"

    def _sqlite_pragmas(self, dbapi_conn, _record) -> None:
        """Every connection: foreign keys enforced, WAL (readers do not wait for the
        writer), and the store's busy timeout instead of the driver's 5 s."""
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        mode = cur.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal" and self.path is not None:
            # WAL is kept in the file once set; only a store another program holds in
            # another mode refuses it
            raise StoreError(f"{self.path} cannot be switched to WAL mode (it is in '{mode}' mode); "
                             "close the other programs that use it and try again")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" (another writer holds the lock)."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)            # SQLITE_BUSY, SQLITE_LOCKED
    msg = str(orig).lower()
    return "database is locked" in msg or "database table is locked" in msg or "busy" in msg


@contextmanager
def busy_errors(wait: float) -> Iterator[None]:
    """Turn "database is locked" (and a connection pool with no free connection) into a
    :class:`StoreBusyError` saying to try again."""
    try:
        yield
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        raise StoreBusyError(f"the store is busy: another process is writing and did not finish "
                             f"within {wait:g} s; try again in a few seconds") from None
    except PoolTimeoutError:
        raise StoreBusyError("the store is busy: every connection is in use; try again in a few seconds") from None


def _known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py")}
