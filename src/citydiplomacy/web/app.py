"""The web application: the store opened once, the REST API under ``/api/v1`` (with its
OpenAPI document and a docs page served from package-shipped Swagger UI assets), the
static files and the HTML pages."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__, limits
from ..store.audit import reset_acting, set_acting
from ..store.db import BUSY_TIMEOUTS
from . import problems
from .limiting import HeavyGate
from .security import SAFE_METHODS, CookieMiddleware

HERE = Path(__file__).parent
SECRET_FILE = "web-secret"
#: the largest request body accepted (bytes): uploads of imports and documents
MAX_BODY = 64 * 1024 * 1024

DESCRIPTION = """\
The City Diplomacy Observatory: actors (states, organisations, city networks, cities),
their ties across the macro, meso and micro layers, the SDGs and the Paris Agreement,
network measures and the alignment of texts with the frameworks.

**Reading** needs no account. **Writing** (actors, ties, initiatives, imports) needs an
editor: log in (`POST /api/v1/session`) or send an API token created on your account
(`Authorization: Bearer cdp_...`). A request made with the session cookie must carry the
CSRF token (`X-CSRF-Token`) returned by the login.

**Errors** are `application/problem+json` bodies (`type`, `title`, `status`, `detail`, and
`field`, `row`, `file` or `suggestions` where they apply). **Lists** are paginated with
`limit` and `offset` and say where the `next` page is. **Reads** send an `ETag`; send it back
in `If-None-Match` to get a `304 Not Modified` when nothing changed.
"""


def load_secret(store_path: Path | None, secret: str | bytes | None = None) -> bytes:
    """The key that signs cookies and CSRF tokens: ``secret``, or the file ``web-secret``
    next to the store (created with 32 random bytes, mode 0600, on first start)."""
    if secret:
        return secret if isinstance(secret, bytes) else secret.encode()
    env = os.environ.get("CITYDIP_WEB_SECRET")
    if env:
        return env.encode()
    if store_path is None:
        return secrets.token_bytes(32)      # a store without a file: sessions end with the process
    path = store_path.parent / SECRET_FILE
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:             # another worker wrote it first
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode()


def _secret_anchor(store) -> Path | None:
    """The file whose directory holds the signing key: the SQLite file, or for a server
    database a file name in its home directory (created 0700 if missing), so that every
    worker of every server on the machine signs with the same key."""
    if store.path is not None:
        return store.path
    if store.home is None:
        return None
    home = Path(store.home)
    if not home.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home / "citydip.database"


def create_app(*, home: Any = None, path: Any = None, read_only: bool = False,
               secure_cookies: bool | None = None, secret: str | bytes | None = None,
               obs: Any = None) -> FastAPI:
    """The web application over the store at ``path`` / in ``home`` (the default store
    when neither is given; the default dataset is built on a fresh install).

    ``read_only``: no write route (API or page, sign-in included) is registered, and
    every write that reaches the app anyway is refused (405);
    ``secure_cookies``: force the Secure flag on cookies (default: when the request came
    over https); ``secret``: the signing key (default: the file ``web-secret`` beside the
    store, or ``$CITYDIP_WEB_SECRET``). ``obs``: an open Observatory to serve instead."""
    from ..observatory import open as open_observatory
    from . import api, api_engage, api_reports

    if obs is None:
        obs = open_observatory(path, home=home)
    # a request waits at most this long for another writer (an import's final write)
    obs.store.busy_timeout = BUSY_TIMEOUTS["web"]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        warm_up()
        yield
        api.remove_exports(app)
        versions = getattr(app.state, "versions", None)
        if versions is not None:
            versions.close()

    app = FastAPI(
        title="City Diplomacy Observatory", version=__version__, description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None,
        openapi_tags=api.TAGS + [api_engage.TAG, api_reports.TAG], lifespan=lifespan,
    )
    app.state.obs = obs
    app.state.read_only = read_only
    app.state.secure_cookies = secure_cookies
    app.state.secret = load_secret(_secret_anchor(obs.store), secret)
    # the limits of heavy requests (citydiplomacy.limits): a bad CITYDIP_LIMIT_ setting stops the start
    limits.check_settings()
    app.state.heavy = HeavyGate(limits.heavy_requests())
    editor_bytes = limits.limits_for("editor").file_bytes
    app.state.max_body = max(MAX_BODY, editor_bytes + 2**20) if editor_bytes else MAX_BODY
    app.state.graph_lock = threading.Lock()
    app.state.align_lock = threading.Lock()
    app.state.cache = api.ResponseCache()
    app.state.jobs = _job_queue(obs.store)

    html_handler = None
    if importlib.util.find_spec(f"{__package__}.pages") is not None:
        from . import pages

        html_handler = getattr(pages, "render_problem", None)
    problems.install(app, html_handler=html_handler)

    app.include_router(api.build_router(read_only=read_only))
    app.include_router(api_engage.build_router(read_only=read_only))
    app.include_router(api_reports.build_router())
    _add_docs(app)
    static = HERE / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    if importlib.util.find_spec(f"{__package__}.pages") is not None:
        from . import engage_pages, jobs_pages, pages

        if not read_only:
            app.include_router(pages.edit_router)
            app.include_router(engage_pages.edit_router)
            app.include_router(jobs_pages.router)
        app.include_router(pages.router)
        app.include_router(engage_pages.router)
        app.include_router(api_reports.page_router())

    app.add_middleware(CookieMiddleware)
    app.add_middleware(GuardMiddleware, read_only=read_only, max_body=MAX_BODY, html_handler=html_handler)
    return app


def _job_queue(store):
    """Imports run as jobs: on the RQ queue of ``CITYDIP_QUEUE_URL`` (run by ``citydip
    worker``), or each in a process of its own (``CITYDIP_JOBS=thread``: in a thread of
    the worker), their state kept in ``jobs/`` beside the store (every worker process of
    the server reads it there). The jobs' files are in ``jobs/`` (or ``$CITYDIP_JOBS_DIR``)
    in both cases."""
    import tempfile

    from ..queues import jobs_dir, open_queue

    folder = jobs_dir(store.path) or Path(tempfile.mkdtemp(prefix="citydip-jobs-"))
    return open_queue(folder)


#: modules the reads import on first use: imported when a worker starts, so that its first
#: profile does not hold every request of the worker while numpy and pandas load (0.5 s,
#: measured)
WARM_MODULES = ("citydiplomacy.profile", "citydiplomacy.initiatives", "citydiplomacy.align.catalog",
                "citydiplomacy.indices.results", "citydiplomacy.search", "citydiplomacy.frameworks",
                "citydiplomacy.geo")


#: set to 0 to skip loading the alignment's models when a worker starts
ENV_WARM_ALIGN = "CITYDIP_WEB_WARM_ALIGN"


def warm_up() -> None:
    """Before the worker takes requests: import the modules the reads need, and load what
    alignment needs (lexicon, catalogue, the language detector's models: see
    :func:`citydiplomacy.align.engine.warm_up`). Lingua loads its models holding the
    interpreter for seconds; in the first request it held every other request of the worker
    (and its answers to the supervisor's health check) for 3.6–5.7 s. The alignment part
    costs about 35 MB per worker (Lingua's trigram models; the full ones load only for a
    short text, see :mod:`citydiplomacy.align.language`); ``CITYDIP_WEB_WARM_ALIGN=0``
    leaves it to the first alignment."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:     # an optional part that is not installed: imported (and reported) on use
            pass
    if os.environ.get(ENV_WARM_ALIGN, "1") != "0":
        from ..align.engine import warm_up as warm_align

        warm_align()


# -- middleware ---------------------------------------------------------------------------------

#: writes a read-only observatory still accepts: they change nothing (alignment of a text)
READ_ONLY_POSTS = ("/api/v1/align", "/api/v1/align/document", "/align", "/api/v1/reports/align", "/reports/align")

#: the largest request head accepted (bytes: the request line and every header field):
#: larger ones get 431. The server (:mod:`.protocol`) refuses them as they arrive; this
#: app checks again for servers that do not.
MAX_HEAD = 16 * 1024

#: the Content-Security-Policy of every response: scripts, styles, images and requests from
#: this server only — no inline script or style, no plugin, no framing, forms post here
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")

HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"x-frame-options", b"DENY"), (b"content-security-policy", CSP.encode()),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
           (b"cross-origin-opener-policy", b"same-origin")]
#: sent over https only (behind a TLS proxy: when its X-Forwarded-Proto is trusted)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def _too_large(limit: int) -> str:
    size = f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit:,} bytes"
    return f"the request is larger than {size}; send a smaller file"


def head_size(scope) -> int:
    """Bytes of the request's head as sent: request line and header fields."""
    return (len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 16
            + sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or ()))


def head_too_large(limit: int) -> str:
    return (f"the request's header fields are larger than {limit // 1024} KB in all; send fewer or "
            "smaller headers (cookies for this site included)")


class GuardMiddleware:
    """Refuses what must not reach a route: a request head larger than ``MAX_HEAD`` (431),
    a body larger than ``max_body`` (413), and in read-only mode any write (405); adds
    protective headers to every response (HSTS over https), and tells the audit log the
    channel of what follows (``api`` under /api, ``web`` elsewhere)."""

    def __init__(self, app: Any, *, read_only: bool, max_body: int, html_handler=None,
                 max_head: int = MAX_HEAD):
        self.app = app
        self.read_only = read_only
        self.max_body = max_body
        self.max_head = max_head
        self.html_handler = html_handler

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        app = scope.get("app")
        max_body = getattr(app.state, "max_body", self.max_body) if app is not None else self.max_body
        problem = None
        if head_size(scope) > self.max_head:
            problem = problems.Problem(431, "Request header fields too large", head_too_large(self.max_head))
        elif self.read_only and method not in SAFE_METHODS and path.rstrip("/") not in READ_ONLY_POSTS:
            problem = problems.Problem(405, "Method not allowed",
                                       "this observatory is served read-only (citydip serve --read-only): "
                                       "it accepts no writes; run your own copy to edit data",
                                       headers={"Allow": "GET, HEAD"})
        else:
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None:
                try:
                    too_big = int(length) > max_body
                except ValueError:
                    too_big = False
                if too_big:
                    problem = problems.Problem(413, "Too large", _too_large(max_body))
        extra = HEADERS + [HSTS] if scope.get("scheme") == "https" else HEADERS

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        received = 0

        async def receive_at_most():
            # a body sent without Content-Length (chunked) is counted as it comes
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    from fastapi import HTTPException

                    raise HTTPException(413, _too_large(max_body))
            return message

        if problem is not None and problem.status != 431 and self.html_handler is not None \
                and not path.startswith("/api"):
            from starlette.requests import Request as _Request

            page = self.html_handler(_Request(scope, receive), problem)
            if page is not None:
                return await page(scope, receive, send_with_headers)
        if problem is not None:
            body = json.dumps(problem.body(path)).encode()
            headers = [(b"content-type", problems.MEDIA_TYPE.encode()),
                       (b"content-length", str(len(body)).encode())]
            headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
            await send_with_headers({"type": "http.response.start", "status": problem.status, "headers": headers})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        token = set_acting(None, "api" if path.startswith("/api") else "web")
        try:
            await self.app(scope, receive_at_most, send_with_headers)
        finally:
            reset_acting(token)


# -- the docs page -------------------------------------------------------------------------------

def _swagger_assets() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:
        return None
    p = Path(swagger_ui_bundle.swagger_ui_path)
    return p if p.is_dir() else None


def _swagger_major(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[-1].split(".")[0])
    except ValueError:
        return 5


def openapi_30(doc: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 document rewritten for tools that read only 3.0 (Swagger UI 4):
    ``anyOf [X, null]`` becomes ``X`` with ``nullable: true``."""

    def walk(node):
        if isinstance(node, dict):
            node = {k: walk(v) for k, v in node.items()}
            any_of = node.get("anyOf")
            if isinstance(any_of, list) and {"type": "null"} in any_of:
                rest = [s for s in any_of if s != {"type": "null"}]
                node.pop("anyOf")
                if len(rest) == 1:
                    node.update({**rest[0], "nullable": True})
                else:
                    node.update({"anyOf": rest, "nullable": True})
            if node.get("type") == "null":
                node.pop("type")
                node["nullable"] = True
            if isinstance(node.get("type"), list):
                types = [t for t in node["type"] if t != "null"]
                if len(types) < len(node["type"]):
                    node["nullable"] = True
                node["type"] = types[0] if len(types) == 1 else types
            if "examples" in node and isinstance(node["examples"], list) and "example" not in node:
                node["example"] = node.pop("examples")[0] if node["examples"] else None
            if "const" in node:
                node["enum"] = [node.pop("const")]
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(doc)
    out["openapi"] = "3.0.3"
    return out


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>City Diplomacy Observatory — API</title>
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
</head><body>
<div id="swagger-ui"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/init.js"></script>
</body></html>
"""

DOCS_INIT = """window.ui = SwaggerUIBundle({url: %s, dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
"""

NO_ASSETS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API docs</title></head>
<body><h1>City Diplomacy Observatory — API</h1>
<p>The interactive docs page needs the <code>swagger-ui-bundle</code> package
(<code>pip install swagger-ui-bundle</code>). The OpenAPI document is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></body></html>
"""


def _add_docs(app: FastAPI) -> None:
    assets = _swagger_assets()
    spec_url = "/api/v1/openapi.json"
    if assets is not None:
        app.mount("/api/v1/docs/assets", StaticFiles(directory=assets), name="swagger-ui")
        if _swagger_major(assets) < 5:
            spec_url = "/api/v1/docs/openapi-3.0.json"

            @app.get(spec_url, include_in_schema=False)
            def openapi_for_docs() -> JSONResponse:
                return JSONResponse(openapi_30(app.openapi()))

    @app.get("/api/v1/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE if assets is not None else NO_ASSETS)

    @app.get("/api/v1/docs/init.js", include_in_schema=False)
    def docs_init(request: Request):
        from fastapi.responses import Response

        return Response(DOCS_INIT % json.dumps(spec_url), media_type="text/javascript")
