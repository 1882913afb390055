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
SCHEMA_HEAD = "0012"

#: How long (seconds) an operation waits for the write lock that another writer holds.
#: ``web``: a request of the web server (a login, a session, an edit): long enough to wait
#: out an import's final write (2 to 8 s for 177,000 new ties, measured: docs/import.md),
#: short enough to answer 503 while a person still waits; ``cli``: the command line and the
#: library (an import waits for another import's write; ``$CITYDIP_BUSY_TIMEOUT`` sets it);
#: ``job``: an import the web server runs in the background.
BUSY_TIMEOUTS = {"web": 10.0, "cli": float(os.environ.get("CITYDIP_BUSY_TIMEOUT") or 60.0), "job": 60.0}


#: PostgreSQL errors that mean "run the transaction again": serialization_failure (40001)
#: and deadlock_detected (40P01) — another transaction won a race; nothing was written.
RETRY_SQLSTATES = ("40001", "40P01")
#: PostgreSQL errors that mean "the store is busy": lock_not_available (55P03, a
#: ``lock_timeout``), query_canceled (57014, a ``statement_timeout``) and too many
#: connections (53300).
BUSY_SQLSTATES = ("55P03", "57014", "53300")


#: the PostgreSQL advisory lock that migrations and index creation hold (any fixed number)
MIGRATION_LOCK = 2026_1206

#: PostgreSQL-only indexes behind the search functions (store/schema.py is the same for
#: both databases; these accelerate what SQLite answers with its own means): a pattern
#: index for prefix searches whatever the database's collation, and a trigram index (the
#: pg_trgm extension) for the in-word searches and the "did you mean" suggestions
POSTGRES_SEARCH_INDEXES = {
    "ix_aliases_norm_pattern": "CREATE INDEX IF NOT EXISTS ix_aliases_norm_pattern ON aliases (norm text_pattern_ops)",
    "ix_aliases_norm_trgm": "CREATE INDEX IF NOT EXISTS ix_aliases_norm_trgm ON aliases USING gin (norm gin_trgm_ops)",
}


def normalize_url(url: str) -> str:
    """A store URL as SQLAlchemy takes it: ``postgresql://`` and ``postgres://`` mean
    PostgreSQL through psycopg 3 (``postgresql+psycopg://``); anything else is kept."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_url(ref: str | os.PathLike | None) -> bool:
    """True for a database URL (``postgresql+psycopg://...``, ``sqlite:///...``), false
    for a file or directory path."""
    return isinstance(ref, str) and "://" in ref


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:               # not a URL SQLAlchemy reads: say it as given
        return url


def _check_driver(url: str) -> None:
    if url.startswith("postgresql"):
        driver = url.split("://", 1)[0].partition("+")[2] or "psycopg2"
        if driver != "psycopg":
            raise StoreError(f"{redact(url)}: use the psycopg 3 driver: postgresql+psycopg://USER@HOST:PORT/DB")
        import importlib.util

        if importlib.util.find_spec("psycopg") is None:
            raise StoreError("a PostgreSQL store needs the psycopg driver: "
                             "pip install 'citydiplomacy[postgres]'")
    elif not url.startswith("sqlite"):
        raise StoreError(f"{redact(url)}: a store is an SQLite file (sqlite:///PATH) or a PostgreSQL "
                         "database (postgresql+psycopg://USER@HOST:PORT/DB)")


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
        self._versions_table: bool | None = None
        if url is None and is_url(path):
            path, url = None, str(path)
        if url is not None and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            path, url = url[len("sqlite:///"):], None
        if url is None:
            if path is None:
                raise ValueError("give a path or a url")
            self.path: Path | None = Path(path)
            _check_path(self.path)
            _create_private(self.path)
            url = f"sqlite:///{self.path}"
        else:
            self.path = None
            url = normalize_url(url)
            _check_driver(url)
        self.url = url
        #: a directory for the files kept beside the store (the web's signing key): the
        #: SQLite file's directory; for a server database, the home directory that
        #: :func:`citydiplomacy.open` gives it (None: no such files)
        self.home: Path | None = self.path.parent if self.path is not None else None
        self.busy_timeout = BUSY_TIMEOUTS["cli"] if busy_timeout is None else busy_timeout
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        #: PostgreSQL with pg_trgm's index on the aliases (set when the store opens)
        self.has_trigram = False
        if self.is_postgres:
            # a pool per process: web workers hold a few connections each; pre_ping drops
            # connections the server closed (a restart) instead of failing a request
            self.engine: Engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                                                connect_args={"connect_timeout": 10})
            event.listen(self.engine, "connect", self._postgres_settings)
        else:
            self.engine = create_engine(url)
        if self.is_sqlite:
            event.listen(self.engine, "connect", self._sqlite_pragmas)
        try:
            version = self._check_schema()
            # a store already at the newest revision needs no Alembic (0.25 s to import)
            if migrate and version != max(_known_revisions()):
                self.migrate()
            if self.is_postgres:
                self._postgres_search_indexes()
        except StoreError:
            self.engine.dispose()
            raise
        except DatabaseError as exc:
            self.engine.dispose()
            if self.path is not None and "file is not a database" in str(exc.orig):
                raise _not_sqlite(self.path) from None
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            raise StoreError(f"{self.path or redact(url)} cannot be opened as a store: {reason}") from None

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
        where = self.path or redact(self.url)
        if tables and "alembic_version" not in tables:
            raise StoreError(
                f"{where} is a database but not a citydiplomacy store (it holds "
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

        self._versions_table = None
        with busy_errors(self.busy_timeout), self.engine.begin() as conn:
            if self.is_postgres:
                # one migrating process at a time (web workers starting together): the
                # others wait here, then find the schema at its revision
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            command.upgrade(_alembic_config(conn), revision)

    def _postgres_search_indexes(self) -> None:
        """Create the PostgreSQL search indexes (and the pg_trgm extension) when missing.
        Without the right to create the extension (it needs a superuser or the database
        owner on PostgreSQL 13+), searches work without it — in-word searches scan — and
        a warning says what to ask the administrator for."""
        with self.engine.connect() as conn:
            have = set(conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'aliases'").scalars())
            trgm = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first() is not None
        self.has_trigram = trgm and "ix_aliases_norm_trgm" in have
        if set(POSTGRES_SEARCH_INDEXES) <= have and trgm:
            return
        import logging

        from sqlalchemy.exc import ProgrammingError

        with busy_errors(self.busy_timeout), self.engine.begin() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            conn.exec_driver_sql(POSTGRES_SEARCH_INDEXES["ix_aliases_norm_pattern"])
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                conn.exec_driver_sql(POSTGRES_SEARCH_INDEXES["ix_aliases_norm_trgm"])
            self.has_trigram = True
        except ProgrammingError as exc:
            logging.getLogger(__name__).warning(
                "%s: no trigram index for searches (%s); ask the database's administrator to run "
                "CREATE EXTENSION pg_trgm in it (docs/deploy.md)", self.where,
                str(getattr(exc, "orig", exc)).strip().splitlines()[0])
            self.has_trigram = False

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def transaction(self, *, busy_timeout: float | None = None,
                    isolation: str | None = None) -> Iterator[Connection]:
        """A connection in one write transaction: committed at the end, rolled back on error.

        The write lock is taken at the start (SQLite ``BEGIN IMMEDIATE``), so the reads
        inside see the rows the writes change and no other writer can slip in between;
        ``busy_timeout`` (default: the store's) is how long to wait for it before raising
        :class:`~citydiplomacy.errors.StoreBusyError`. Keep the block short: everything
        that can be read or computed beforehand belongs before it.

        On PostgreSQL many writers run at once. ``isolation`` chooses the transaction's
        isolation level per operation (default READ COMMITTED: the unique constraints
        settle races between imports; ``"SERIALIZABLE"`` for a read-modify-write that must
        see no concurrent change, run through :meth:`retrying`); ``busy_timeout`` bounds
        the wait for a row lock (``lock_timeout``). SQLite ignores ``isolation``: its write
        transactions are serialised by the write lock."""
        wait = self.busy_timeout if busy_timeout is None else busy_timeout
        with busy_errors(wait), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                if isolation is not None:
                    conn = conn.execution_options(isolation_level=isolation)
                conn.begin()
                if self.is_postgres:
                    # how long a statement waits for a row lock another writer holds
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            if self.is_sqlite and wait != self.busy_timeout:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                conn.rollback()

    def retrying(self, operation, *, attempts: int = 6):
        """``operation()`` run again when PostgreSQL aborts it for a serialisation failure
        or a deadlock (another transaction won a race; nothing of this one was written),
        with a short random back-off; after ``attempts`` it raises StoreBusyError. The
        operation must open its own transaction. On SQLite it runs once."""
        import random
        import time

        for attempt in range(attempts):
            try:
                return operation()
            except (DatabaseError, StoreBusyError) as exc:
                again = self.is_postgres and (getattr(exc, "retryable", False)
                                              or (isinstance(exc, DatabaseError) and is_retryable(exc)))
                if not again:
                    raise
                if attempt == attempts - 1:
                    raise StoreBusyError("the store is busy: concurrent writes kept colliding; "
                                         "try again in a few seconds") from None
                time.sleep(random.uniform(0.005, 0.05) * (2 ** attempt))

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection that reads one consistent state of the store (a read transaction)
        and takes no lock: in WAL mode writers go on committing meanwhile, unseen here."""
        with busy_errors(self.busy_timeout), self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN")
                # a read transaction starts at its first read, not at BEGIN
                conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").all()
            elif self.is_postgres:
                # one snapshot for every statement of the block; read only, so it never
                # fails to serialise and takes no lock that a writer waits for
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                conn.begin()
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
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

    def finish_run(self, conn: Connection, run_id: int, summary: dict[str, Any], *,
                   touched: Iterable[str] | None = None) -> None:
        """Record the end of run ``run_id`` and, when someone is acting
        (:func:`~citydiplomacy.store.audit.acting_as`), its audit row, in the same
        transaction; and raise the store's data versions (:mod:`.versions`): ``touched``,
        the ids of the only actors whose own facts the run changed (an edit of a
        population, a tie between two actors), or None (the default: anything may have
        changed). Call it last in the transaction: the version row it locks on
        PostgreSQL is held until the commit."""
        from . import versions

        conn.execute(schema.import_runs.update().where(schema.import_runs.c.id == run_id)
                     .values(finished_at=_now(), status="ok", summary=summary))
        audit.audit_run(conn, run_id, summary)
        if self._has_versions(conn):
            versions.bump(conn, touched)

    def _has_versions(self, conn: Connection) -> bool:
        """Whether the schema holds the data versions (revision 0011 on): a store opened
        without migrating (``migrate=False``) at an older revision is written without them.
        Asked once per Store and again after :meth:`migrate`."""
        if self._versions_table is None:
            from sqlalchemy import inspect as sa_inspect

            self._versions_table = sa_inspect(conn).has_table(schema.data_versions.name)
        return self._versions_table

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
        """Insert rows in chunks (executemany; on PostgreSQL ``COPY``); returns the count."""
        if conn.dialect.name == "postgresql":
            from .bulk import copy_rows

            return copy_rows(conn, table, rows)
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

    def _postgres_settings(self, dbapi_conn, _record) -> None:
        """Every PostgreSQL connection: UTC timestamps, and a name in pg_stat_activity."""
        cur = dbapi_conn.cursor()
        cur.execute("SET TIME ZONE 'UTC'")
        cur.execute("SET application_name = 'citydiplomacy'")
        cur.close()
        dbapi_conn.commit()

    def analyze(self, conn: Connection) -> None:
        """Refresh the query planner's statistics after a bulk load. Without them SQLite
        may scan every city for a search filtered by kind instead of using the name
        index (85 ms instead of 1 ms, measured)."""
        conn.execute(text("ANALYZE"))

    def clear(self, conn: Connection) -> None:
        """Delete every row of data (children first), inside the caller's transaction.

        Accounts, tokens, sessions and the audit log are kept (``schema.ACCOUNT_TABLES``):
        rebuilding the dataset must not lock the observatory's users out or erase the
        record of who changed what. The data versions are kept too (they only rise:
        ``schema.KEPT_TABLES``)."""
        for table in reversed(schema.metadata.sorted_tables):
            if table.name not in schema.KEPT_TABLES:
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

    @property
    def where(self) -> str:
        """Where the store is, for messages: the SQLite file, or the URL without password."""
        return str(self.path) if self.path is not None else redact(self.url)

    def __repr__(self) -> str:
        return f"Store({self.where!r})"

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


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlstate", None)


def is_retryable(exc: BaseException) -> bool:
    """True for PostgreSQL's serialisation failure and deadlock: run the transaction again."""
    return _sqlstate(exc) in RETRY_SQLSTATES


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" / "busy" (another writer holds the lock), and
    PostgreSQL's lock timeout, serialisation failure or deadlock (try again)."""
    state = _sqlstate(exc)
    if state is not None:
        return state in BUSY_SQLSTATES or state in RETRY_SQLSTATES
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
        if is_retryable(exc):
            busy = StoreBusyError("the store is busy: a concurrent write collided with this one; "
                                  "try again in a few seconds")
            busy.retryable = True
            raise busy from None
        raise StoreBusyError(f"the store is busy: another process is writing and did not finish "
                             f"within {wait:g} s; try again in a few seconds") from None
    except PoolTimeoutError:
        raise StoreBusyError("the store is busy: every connection is in use; try again in a few seconds") from None


def _known_revisions() -> set[str]:
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*.py")}
