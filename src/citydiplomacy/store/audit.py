"""Who is writing, for the audit log.

A face of the observatory says who acts and through which channel (``cli``, ``web``,
``api``) with :func:`acting_as`; every write run made inside it (an import, an edit, the
default dataset's build, an index build: whatever calls :meth:`Store.finish_run`) then
adds its row to ``audit_log`` in the write's own transaction, so that a write is recorded
or it did not happen. A dry run is rolled back with its row.

The web sets only the channel (the user is known later, per route) and records its writes
itself (:func:`citydiplomacy.accounts.audit`); writes made through the Python API outside
:func:`acting_as` add no row.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import Connection, insert, select

from . import schema

__all__ = ["CHANNELS", "Acting", "acting_as", "set_acting", "reset_acting", "current", "os_user", "write_audit", "audit_run"]

#: where a write comes from: the command line, the web pages, the REST API, a Python program
CHANNELS = ("cli", "web", "api", "python")


@dataclass(frozen=True)
class Acting:
    """Who writes (``user``: None when the caller records its own rows) and how (``channel``)."""

    user: str | None
    channel: str


_ACTING: ContextVar[Acting | None] = ContextVar("citydiplomacy_acting", default=None)


def set_acting(user: str | None, channel: str) -> Token:
    """Make ``user`` through ``channel`` the writer of what follows in this context; returns
    the token that :meth:`ContextVar.reset` takes to undo it."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    return _ACTING.set(Acting(user, channel))


def reset_acting(token: Token) -> None:
    """Undo :func:`set_acting`."""
    _ACTING.reset(token)


@contextmanager
def acting_as(user: str | None, channel: str = "python") -> Iterator[Acting]:
    """Within the block, write runs are audited as ``user`` through ``channel``:

    >>> with acting_as(os_user(), "python"):               # doctest: +SKIP
    ...     obs.import_("twinning", "twins.csv")
    """
    token = set_acting(user, channel)
    try:
        yield _ACTING.get()
    finally:
        _ACTING.reset(token)


def current() -> Acting | None:
    """Who is writing in this context, or None."""
    return _ACTING.get()


def os_user() -> str:
    """The operating-system user running this process (the command line's writer)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):       # no login name and no password-file entry (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _jsonable(detail: dict | None) -> dict | None:
    if detail is None:
        return None
    return json.loads(json.dumps(detail, ensure_ascii=False, default=str))


def write_audit(conn: Connection, user_name: str, action: str, target: str, detail: dict | None = None,
                *, channel: str | None = None, at: str | None = None) -> None:
    """Append one row to the audit log inside ``conn``'s transaction; ``channel`` defaults
    to the one of :func:`current`, ``at`` (ISO 8601, UTC) to now."""
    if channel is None:
        acting = _ACTING.get()
        channel = acting.channel if acting is not None else None
    at = at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    conn.execute(insert(schema.audit_log).values(
        at=at, user_name=str(user_name)[:64],
        action=action, target=str(target or ""), detail=_jsonable(detail), channel=channel))


#: the audit action of each kind of write run (an import's kind is ``import:<importer>``)
RUN_ACTIONS = {"default-dataset": "store.init", "index": "index.build", "index-publish": "index.publish",
               "index-remove": "index.remove", "edit": "actor.edit",
               "import:initiative": "initiative.add", "import:edit": "data.edit"}
#: what the audit row keeps of a run's summary: what changed, not its problems or results
SUMMARY_KEYS = ("rows_read", "rows_resolved", "created", "updated", "unchanged", "ended", "rejected",
                "ambiguous", "unresolved", "changes", "actor", "counts", "framework", "units", "scored",
                "replications", "years", "name", "label", "published", "replaced", "build", "previous")


def audit_run(conn: Connection, run_id: int, summary: dict[str, Any]) -> None:
    """The audit row of write run ``run_id`` (its kind and source from ``import_runs``), when
    a user is acting (:func:`acting_as`); nothing otherwise."""
    acting = _ACTING.get()
    if acting is None or acting.user is None:
        return
    run = conn.execute(select(schema.import_runs.c.kind, schema.import_runs.c.source)
                       .where(schema.import_runs.c.id == run_id)).first()
    kind, source = (run.kind, run.source or "") if run is not None else ("", "")
    action = RUN_ACTIONS.get(kind) or ("import.apply" if kind.startswith("import:") else kind or "write")
    target = f"{kind.partition(':')[2]}: {source}" if action == "import.apply" else source
    detail = {"run_id": run_id, **{k: summary[k] for k in SUMMARY_KEYS
                                   if k in summary and summary[k] not in (None, {}, [], 0)}}
    write_audit(conn, acting.user, action, target, detail, channel=acting.channel)
