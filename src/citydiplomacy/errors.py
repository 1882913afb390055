"""Exceptions raised by citydiplomacy. Each carries a message a person can act on."""

from __future__ import annotations


class CitydipError(Exception):
    """Base class: a problem the user can fix; the CLI prints it without a traceback."""


class ValidationError(CitydipError, ValueError):
    """A value does not fit the domain model (unknown kind, bad date, unknown ISO code...)."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None,
                 file: str | None = None):
        self.field = field
        self.row = row
        self.file = file
        where = []
        if file:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
        self.detail = message


class NotFoundError(CitydipError, LookupError):
    """No actor, framework item or record matches what was asked for."""

    def __init__(self, message: str, *, suggestions: list[str] | None = None):
        self.suggestions = suggestions or []
        super().__init__(message)


class PreconditionFailed(CitydipError):
    """A write made on a condition that no longer holds: the record changed since the
    version the writer read (an ``If-Match`` that does not match: HTTP 412)."""


class StoreError(CitydipError):
    """The store file cannot be used (corrupt, foreign, or from a newer version)."""


class StoreBusyError(StoreError):
    """Another process is writing to the store and did not finish within the wait allowed."""

    def __init__(self, message: str = "", *, retry_after: float = 5.0):
        self.retry_after = retry_after
        super().__init__(message or "the store is busy: another process is writing; try again in a few seconds")
