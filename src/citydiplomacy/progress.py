"""Progress of a long operation (an import), and its cancellation.

A long operation calls :func:`report` at its steps ("resolving names", 40,000 of
180,000); whoever runs it — a background job of the web server, the command line's
progress bar — listens with :func:`listening`. The listener may raise :class:`Cancelled`
to stop the operation at its next step; an import stopped that way writes nothing.

Nothing is reported when nobody listens: :func:`report` is then a no-op, so library code
calls it freely.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

from .errors import CitydipError

Listener = Callable[[str, "int | None", "int | None"], None]

_listener: ContextVar[Listener | None] = ContextVar("citydip_progress", default=None)


class Cancelled(CitydipError):
    """The operation was cancelled before it finished; nothing of it was written."""


def report(phase: str, done: int | None = None, total: int | None = None) -> None:
    """Say that the current operation is at ``phase`` (``done`` of ``total`` items)."""
    listener = _listener.get()
    if listener is not None:
        listener(phase, done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the reports made inside the block (in this thread) to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


__all__ = ["Cancelled", "report", "listening"]
