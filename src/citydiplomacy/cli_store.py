"""``citydip migrate-store``: copy a whole store between SQLite and PostgreSQL (thin over
:mod:`citydiplomacy.store.migrate`)."""

from __future__ import annotations

import typer


def _open_store(ref: str):
    from .paths import resolve_store_path
    from .store import Store
    from .store.db import is_url

    from pathlib import Path

    if is_url(ref):
        return Store(url=ref)
    path = Path(ref).expanduser()
    if not path.exists() and not path.suffix:
        path.mkdir(mode=0o700, parents=True)     # a new home directory
    return Store(resolve_store_path(path))


def migrate_store(src: str = typer.Argument(..., help="The store to copy: an SQLite file or its directory, "
                                                      "or a database URL (postgresql+psycopg://USER@HOST/DB)."),
                  dst: str = typer.Argument(..., help="An empty store to copy into (created and migrated if "
                                                      "needed): a file, a directory or a database URL.")):
    """Copy a whole store, losslessly, between SQLite and PostgreSQL: every actor, tie and
    framework with its provenance and import runs, the engagement register, the index
    builds, and the accounts, tokens and audit log — with their ids — into an empty store,
    in one transaction (a failure leaves it empty).

    Example: `citydip migrate-store ~/.local/share/citydiplomacy postgresql+psycopg://citydip@db.example.org/citydip`
    """
    from .cli import _fail, _progress, err
    from .errors import CitydipError
    from .store.migrate import migrate_store as copy

    try:
        source = _open_store(src)
        try:
            target = _open_store(dst)
            try:
                bar, update = _progress()
                if bar is None:
                    summary = copy(source, target)
                else:
                    with bar:
                        summary = copy(source, target, progress=update)
            finally:
                target.close()
        finally:
            source.close()
    except CitydipError as exc:
        _fail(exc)
    t = summary["tables"]
    err.print(f"copied {summary['rows']:,} rows of {len(t)} tables from {source.where} to {target.where} in "
              f"{summary['seconds']:.1f} s: {t.get('actors', 0):,} actors, {t.get('ties', 0):,} ties, "
              f"{t.get('provenance', 0):,} provenance records, {t.get('import_runs', 0):,} runs, "
              f"{t.get('users', 0):,} users, {t.get('audit_log', 0):,} audit rows", highlight=False)
