"""Running the observatory on the web with uvicorn (``citydip serve``).

The store is opened (and on a fresh install filled with the default dataset) once,
before the server starts, so that several workers do not build it side by side; each
worker then opens it with :func:`app_from_env`. Settings reach the workers through
``CITYDIP_WEB_*`` environment variables (uvicorn starts them as new processes).

``python -m citydiplomacy.web.serve --port 8000`` does the same as ``citydip serve``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator

ENV_HOME = "CITYDIP_WEB_HOME"
ENV_PATH = "CITYDIP_WEB_PATH"
ENV_READ_ONLY = "CITYDIP_WEB_READ_ONLY"
ENV_SECURE = "CITYDIP_WEB_SECURE_COOKIES"


def app_from_env():
    """The app for a uvicorn worker (``factory=True``), configured by the environment."""
    from . import create_app

    secure = os.environ.get(ENV_SECURE)
    return create_app(home=os.environ.get(ENV_HOME) or None, path=os.environ.get(ENV_PATH) or None,
                      read_only=os.environ.get(ENV_READ_ONLY) == "1",
                      secure_cookies=None if not secure else secure == "1")


class _StderrHandler(logging.StreamHandler):
    """Writes to the ``sys.stderr`` of the moment (a progress bar on a terminal replaces
    it, and prints the lines above itself)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


#: the loggers whose lines a first start shows while it builds the store
BUILD_LOGGERS = ("citydiplomacy.dataset",)


@contextmanager
def build_log(log_level: str = "info") -> Iterator[None]:
    """Show the default dataset's build, step by step, on standard error (the server's
    log) while the block runs — "citydiplomacy: build step 3/11, cities: N actors, … in
    4.1 s" — unless ``log_level`` is above info. When the application configured
    logging itself (the root logger has handlers), its handlers get the lines instead."""
    level = logging.getLevelName(log_level.upper()) if log_level.lower() != "trace" else logging.DEBUG
    shown = isinstance(level, int) and level <= logging.INFO
    loggers = [logging.getLogger(name) for name in BUILD_LOGGERS]
    saved = [(lg, lg.level) for lg in loggers]
    handler = None
    if shown:
        if not logging.getLogger().handlers:
            handler = _StderrHandler()
            handler.setFormatter(logging.Formatter("citydiplomacy: %(message)s"))
        for lg in loggers:
            lg.setLevel(logging.INFO)
            if handler is not None:
                lg.addHandler(handler)
    try:
        yield
    finally:
        for lg, lvl in saved:
            lg.setLevel(lvl)
            if handler is not None:
                lg.removeHandler(handler)


def prepare(*, home: Any = None, path: Any = None, progress=None, log_level: str = "info") -> str:
    """Open the store (building the default dataset on a fresh install, its steps shown
    in the log: :func:`build_log`) and make sure the signing secret exists; returns the
    store's path."""
    from ..observatory import open as open_observatory
    from .app import _secret_anchor, load_secret

    with build_log(log_level):
        obs = open_observatory(path, home=home, progress=progress)
    try:
        load_secret(_secret_anchor(obs.store))
        return str(obs.store.path or obs.store.url)
    finally:
        obs.close()


#: seconds a worker may go without answering the supervisor's health check before it is
#: replaced (uvicorn's default, 5 s, is shorter than a worker's start, whose warm-up holds
#: the interpreter for up to 9 s measured on 2 busy cores, and than some slow requests)
HEALTHCHECK_TIMEOUT = 60


def uvicorn_options(*, workers: int = 1, forwarded_allow_ips: str | None = None) -> dict[str, Any]:
    """The settings ``citydip serve`` gives uvicorn besides the address and the app:

    - the HTTP protocol that refuses request heads over ``MAX_HEAD`` with 431
      (:mod:`.protocol`);
    - ``X-Forwarded-For`` and ``X-Forwarded-Proto`` believed only from the addresses in
      ``forwarded_allow_ips`` (a comma-separated list; ``*`` trusts every peer), and from
      nobody when it is not given — uvicorn's own default trusts 127.0.0.1 and
      ``$FORWARDED_ALLOW_IPS``, which would let any client of a local proxy choose the
      address its failed logins are counted against;
    - with several workers, a health-check timeout long enough for a worker's warm-up.
    """
    import inspect

    import uvicorn

    from .app import MAX_HEAD
    from .protocol import protocol_class

    kw: dict[str, Any] = {"http": protocol_class(), "h11_max_incomplete_event_size": MAX_HEAD,
                          "server_header": False}
    allowed = [a.strip() for a in (forwarded_allow_ips or "").split(",") if a.strip()]
    kw["proxy_headers"] = bool(allowed)
    kw["forwarded_allow_ips"] = ",".join(allowed) if allowed else ""
    if workers > 1 and "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        kw["timeout_worker_healthcheck"] = HEALTHCHECK_TIMEOUT
    return kw


def run(*, host: str = "127.0.0.1", port: int = 8000, home: Any = None, path: Any = None, workers: int = 1,
        read_only: bool = False, secure_cookies: bool | None = None, log_level: str = "info",
        forwarded_allow_ips: str | None = None, progress=None) -> None:
    """Serve the observatory at ``http://host:port`` until interrupted.

    ``workers``: processes serving requests (SQLite lets many read at once; one writes at
    a time); ``read_only``: public mode, no write path at all; ``secure_cookies``: force
    the Secure flag (default: set when the request came over https); ``forwarded_allow_ips``:
    the reverse proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed
    (default: none; see :func:`uvicorn_options` and docs/security.md)."""
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be 1 or more")
    store = prepare(home=home, path=path, progress=progress, log_level=log_level)
    os.environ[ENV_PATH] = store
    os.environ.pop(ENV_HOME, None)
    os.environ[ENV_READ_ONLY] = "1" if read_only else "0"
    if secure_cookies is None:
        os.environ.pop(ENV_SECURE, None)
    else:
        os.environ[ENV_SECURE] = "1" if secure_cookies else "0"
    shown = f"[{host}]" if ":" in host else host
    print(f"citydiplomacy: serving {store} at http://{shown}:{port}/ (API docs: /api/v1/docs)"
          + ("; read-only" if read_only else "") + "; stop with Ctrl+C", file=sys.stderr, flush=True)
    for warning in store_warnings(store):
        print(f"citydiplomacy: warning: {warning}", file=sys.stderr, flush=True)
    uvicorn.run("citydiplomacy.web.serve:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level,
                **uvicorn_options(workers=workers, forwarded_allow_ips=forwarded_allow_ips))


def store_warnings(store: str) -> list[str]:
    """What :func:`citydiplomacy.status.permission_warnings` says of the store being served."""
    from pathlib import Path

    from ..status import permission_warnings

    return permission_warnings(Path(store)) if store and "://" not in store else []


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m citydiplomacy.web.serve",
                                description="Serve the City Diplomacy Observatory (web pages and REST API).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--home", default=None, help="directory of the store (default: $CITYDIP_HOME or per-user)")
    p.add_argument("--store", default=None, help="the store file (instead of --home)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--read-only", action="store_true")
    p.add_argument("--forwarded-allow-ips", default=None,
                   help="reverse proxies whose X-Forwarded-For/-Proto are believed (default: none)")
    p.add_argument("--log-level", default="info")
    a = p.parse_args(argv)
    from ..errors import CitydipError

    try:
        run(host=a.host, port=a.port, home=a.home, path=a.store, workers=a.workers, read_only=a.read_only,
            log_level=a.log_level, forwarded_allow_ips=a.forwarded_allow_ips)
    except CitydipError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":  # pragma: no cover
    main()
