"""Heavy requests held to their channel's limits (see :mod:`citydiplomacy.limits`).

A heavy request — the alignment of a text or a document, an import, an export, the
network measures — costs seconds of a core and tens of MB. Each one:

- is held to the limits of its channel: ``anonymous`` without a logged-in user,
  ``editor`` with one (:func:`request_limits`);
- takes a slot of the worker's :class:`HeavyGate`: one client has at most
  ``concurrent`` of them running (more: 429), the worker at most
  ``CITYDIP_LIMIT_HEAVY_REQUESTS`` (more: 503); both answers carry ``Retry-After``;
- runs under the channel's deadline (``seconds``): :func:`citydiplomacy.limits.applied`
  around the work, in the thread that does it.

Routes take the :data:`Heavy` dependency; the HTML pages use :func:`heavy_slot`.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from typing import Annotated, Any, AsyncIterator, Iterator

from fastapi import Depends, Request

from .. import limits as _limits
from ..limits import Limits
from .problems import Problem
from .security import client_ip, current_user

__all__ = ["HeavyGate", "Heavy", "heavy", "heavy_slot", "request_limits", "gate"]

#: seconds a client is asked to wait: after its own requests (429) or the worker's (503)
RETRY_CLIENT = 5
RETRY_WORKER = 10


class HeavyGate:
    """Counts the heavy requests running in one worker, in all and per client; a slot is
    refused at once (never queued), so that a burst cannot pile up work."""

    def __init__(self, total: int | None):
        self.total = total
        self.running = 0
        self._per_client: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def slot(self, client: str, lim: Limits) -> Iterator[None]:
        with self._lock:
            mine = self._per_client[client]
            if lim.concurrent is not None and mine >= lim.concurrent:
                raise Problem(429, "Too many requests",
                              f"you already have {mine} heavy request{'s' if mine > 1 else ''} (alignment, import, "
                              f"export or network measures) running, the most one client may "
                              f"({lim.concurrent}, setting {lim.env_name('concurrent')}); wait for "
                              f"{'it' if mine == 1 else 'them'} to finish, then try again",
                              headers={"Retry-After": str(RETRY_CLIENT)}, limit="concurrent",
                              retry_after=RETRY_CLIENT)
            if self.total is not None and self.running >= self.total:
                raise Problem(503, "Server busy",
                              f"the server is running as many heavy requests as it takes at once ({self.total}, "
                              f"setting {_limits.ENV_PREFIX}HEAVY_REQUESTS); try again in a few seconds",
                              headers={"Retry-After": str(RETRY_WORKER)}, limit="heavy_requests",
                              retry_after=RETRY_WORKER)
            self.running += 1
            self._per_client[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
                self._per_client[client] -= 1
                if self._per_client[client] <= 0:
                    del self._per_client[client]


def gate(request: Request) -> HeavyGate:
    """The worker's gate (made on first use when the app did not make one)."""
    state = request.app.state
    g = getattr(state, "heavy", None)
    if g is None:
        g = state.heavy = HeavyGate(_limits.heavy_requests())
    return g


async def request_limits(request: Request) -> tuple[Limits, str]:
    """The limits of the request's channel and the key of its client: ``editor`` and the
    user's name when someone is logged in (session or token), else ``anonymous`` and the
    address."""
    user = await current_user(request)
    if user is not None:
        return _limits.limits_for("editor"), f"user:{user.name}"
    return _limits.limits_for("anonymous"), f"ip:{client_ip(request)}"


@contextmanager
def _slot(request: Request, lim: Limits, client: str) -> Iterator[Limits]:
    with gate(request).slot(client, lim):
        yield lim


async def heavy(request: Request) -> AsyncIterator[Limits]:
    """A dependency: the request's :class:`Limits`, holding a slot of the gate until
    the route has answered. The route applies them (``with limits.applied(lim):``)."""
    lim, client = await request_limits(request)
    with _slot(request, lim, client):
        yield lim


#: a route parameter: ``lim: Heavy``
Heavy = Annotated[Limits, Depends(heavy)]


async def heavy_slot(request: Request) -> Any:
    """For the HTML pages: ``lim, slot = await heavy_slot(request)`` then ``with slot:``."""
    lim, client = await request_limits(request)
    return lim, _slot(request, lim, client)
