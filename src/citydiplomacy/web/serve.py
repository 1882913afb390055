"""Running the observatory on the web with uvicorn (``citydip serve``).

The store is opened (and on a fresh install filled with the default dataset) once,
before the server starts, so that several workers do not build it side by side; each
worker then opens it with :func:`app_from_env`. Settings reach the workers through
``CITYDIP_WEB_*`` environment variables (uvicorn starts them as new processes).

``python -m citydiplomacy.web.serve --port 8000`` does the same as ``citydip serve``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

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


def prepare(*, home: Any = None, path: Any = None, progress=None) -> str:
    """Open the store (building the default dataset on a fresh install) and make sure the
    signing secret exists; returns the store's path."""
    from ..observatory import open as open_observatory
    from .app import load_secret

    obs = open_observatory(path, home=home, progress=progress)
    try:
        load_secret(obs.store.path)
        return str(obs.store.path or obs.store.url)
    finally:
        obs.close()


def run(*, host: str = "127.0.0.1", port: int = 8000, home: Any = None, path: Any = None, workers: int = 1,
        read_only: bool = False, secure_cookies: bool | None = None, log_level: str = "info",
        forwarded_allow_ips: str | None = None, progress=None) -> None:
    """Serve the observatory at ``http://host:port`` until interrupted.

    ``workers``: processes serving requests (SQLite lets many read at once; one writes at
    a time); ``read_only``: public mode, no write path at all; ``secure_cookies``: force
    the Secure flag (default: set when the request came over https — behind a TLS proxy,
    list the proxy's address in ``forwarded_allow_ips`` so that its X-Forwarded-Proto is
    believed)."""
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be 1 or more")
    store = prepare(home=home, path=path, progress=progress)
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
    kw: dict[str, Any] = {}
    if forwarded_allow_ips:
        kw["forwarded_allow_ips"] = forwarded_allow_ips
    uvicorn.run("citydiplomacy.web.serve:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level=log_level, server_header=False, **kw)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m citydiplomacy.web.serve",
                                description="Serve the City Diplomacy Observatory (web pages and REST API).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--home", default=None, help="directory of the store (default: $CITYDIP_HOME or per-user)")
    p.add_argument("--store", default=None, help="the store file (instead of --home)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--read-only", action="store_true")
    p.add_argument("--log-level", default="info")
    a = p.parse_args(argv)
    from ..errors import CitydipError

    try:
        run(host=a.host, port=a.port, home=a.home, path=a.store, workers=a.workers, read_only=a.read_only,
            log_level=a.log_level)
    except CitydipError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":  # pragma: no cover
    main()
