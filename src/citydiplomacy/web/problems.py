"""Errors as ``application/problem+json`` (RFC 9457): every error of the API is a body a
person can act on — ``type``, ``title``, ``status``, ``detail``, ``instance``, and where the
library knows them the ``field``, ``row`` and ``file`` of a
:class:`~citydiplomacy.errors.ValidationError` or the ``suggestions`` of a
:class:`~citydiplomacy.errors.NotFoundError`.

Library errors map to statuses: ValidationError → 422, NotFoundError → 404, AuthError →
401 (429 when throttled), StoreError → 503. A store that is busy — another process holds
SQLite's write lock longer than the request may wait ("database is locked"), or every
connection is in use — is a 503 with ``Retry-After``, never a 500. A
:class:`~citydiplomacy.limits.LimitExceeded` → 413 (an input beyond a size or count limit)
or 503 with ``Retry-After`` (work stopped at the time limit), its body naming the
``limit``, its ``limit_value`` and the ``setting`` (environment variable) that changes it.
A request the API cannot parse is a 422 naming the parameter. Anything else is a bug: a
500 whose body says so without a traceback (the traceback goes to the server's log).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import CitydipError, NotFoundError, PreconditionFailed, StoreBusyError, StoreError, ValidationError
from ..limits import LimitExceeded

__all__ = ["Problem", "problem_response", "problem_from_exception", "install", "MEDIA_TYPE", "PROBLEM_SCHEMA"]

MEDIA_TYPE = "application/problem+json"
#: problem types are tag URIs (RFC 4151): stable names, not addresses to fetch (RFC 9457 §3.1.1)
TYPE_BASE = "tag:citydiplomacy,2026:problem:"
log = logging.getLogger("citydiplomacy.web")

TITLES = {400: "Bad request", 401: "Not logged in", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 406: "Not acceptable", 409: "Conflict", 412: "Precondition failed", 413: "Too large",
          415: "Unsupported media type", 422: "Invalid input", 428: "Precondition required", 429: "Too many requests",
          500: "Server error", 503: "Store unavailable"}

#: the OpenAPI schema of a problem body (declared on every route's error responses)
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the kind of problem"},
        "title": {"type": "string", "description": "short summary of the kind of problem"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what went wrong and what to do about it"},
        "instance": {"type": "string", "description": "the path of the request"},
        "field": {"type": "string", "description": "the input field (or query parameter) at fault"},
        "row": {"type": "integer", "description": "the row of an uploaded file at fault"},
        "file": {"type": "string", "description": "the uploaded file at fault"},
        "suggestions": {"type": "array", "items": {"type": "string"},
                        "description": "the closest matches, for a name that matched nothing"},
        "limit": {"type": "string", "description": "the limit the input or the work went beyond (413, 429, 503)"},
        "limit_value": {"description": "the value of that limit"},
        "setting": {"type": "string", "description": "the environment variable that changes the limit"},
        "errors": {"type": "array", "items": {"type": "object"},
                   "description": "every invalid parameter, when there are several"},
    },
}


class Problem(Exception):
    """An HTTP error with a problem+json body: ``Problem(404, "Not found", "no actor 'x'")``.
    Extra keyword arguments become members of the body (``field="q"``)."""

    def __init__(self, status: int, title: str | None = None, detail: str = "", *,
                 headers: dict[str, str] | None = None, type: str | None = None, **extra: Any):  # noqa: A002
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail or self.title
        self.headers = headers or {}
        self.type = type or TYPE_BASE + _slug(self.title)
        self.extra = {k: v for k, v in extra.items() if v not in (None, [], "")}
        super().__init__(f"{status} {self.title}: {self.detail}")

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            out["instance"] = instance
        out.update(self.extra)
        return out


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def problem_from_exception(exc: BaseException) -> Problem:
    """The :class:`Problem` for a library error (or any other exception: a 500)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, LimitExceeded):
        headers = {"Retry-After": "30"} if exc.status == 503 else None
        return Problem(exc.status, "Too large" if exc.status == 413 else "Took too long", exc.detail or str(exc),
                       headers=headers, field=exc.field, row=exc.row, file=_display_file(exc.file), limit=exc.limit,
                       limit_value=exc.value, setting=exc.setting)
    if isinstance(exc, ValidationError):
        return Problem(422, "Invalid input", exc.detail or str(exc), field=exc.field, row=exc.row,
                       file=_display_file(exc.file))
    if isinstance(exc, NotFoundError):
        return Problem(404, "Not found", str(exc), suggestions=list(exc.suggestions))
    if isinstance(exc, PreconditionFailed):
        return Problem(412, "Precondition failed", str(exc))
    busy = _busy(exc)
    if busy is not None:
        return busy
    if isinstance(exc, StoreError):
        return Problem(503, "Store unavailable", str(exc), headers={"Retry-After": "30"})
    try:
        from ..accounts import AuthError
    except ImportError:  # pragma: no cover - accounts not installed yet
        AuthError = ()  # type: ignore[assignment]  # noqa: N806
    if AuthError and isinstance(exc, AuthError):
        wait = getattr(exc, "retry_after", None)
        if wait:
            import math
            seconds = max(1, math.ceil(wait))
            return Problem(429, "Too many failed logins", str(exc),
                           headers={"Retry-After": str(seconds)}, retry_after=seconds)
        return Problem(401, "Login failed", str(exc))
    if isinstance(exc, CitydipError):
        return Problem(422, "Invalid input", str(exc))
    return Problem(500, "Server error", "the server failed on this request; it is a bug, please report it "
                                        "with the request you made (the details are in the server log)")


#: seconds a client is told to wait when the store is busy (an import's final write takes
#: a few seconds: docs/import.md)
BUSY_RETRY_AFTER = 5


def _busy(exc: BaseException) -> Problem | None:
    """The 503 for a busy store: StoreBusyError, SQLite's "database is locked" that reached
    the web without going through the store's transactions, or an exhausted connection pool."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    from ..store.db import is_busy

    if isinstance(exc, StoreBusyError):
        detail = str(exc)
    elif isinstance(exc, OperationalError) and is_busy(exc):
        detail = "the store is busy: another process is writing; try again in a few seconds"
    elif isinstance(exc, PoolTimeoutError):
        detail = "the store is busy: every connection is in use; try again in a few seconds"
    else:
        return None
    return Problem(503, "Store busy", detail, headers={"Retry-After": str(BUSY_RETRY_AFTER)},
                   retry_after=BUSY_RETRY_AFTER)


def _display_file(file: str | None) -> str | None:
    """Uploaded files live under a temporary directory: show only their name."""
    if not file:
        return None
    from pathlib import PurePath
    return PurePath(file).name


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(request.url.path), status_code=problem.status,
                        headers=problem.headers, media_type=MEDIA_TYPE)


def _field_of(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("query", "path", "header", "cookie", "body", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = []
    for e in exc.errors():
        field = "body" if e.get("type") == "json_invalid" else _field_of(e.get("loc", ()))
        msg = str(e.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e.get("type") == "missing":
            msg = "this is required"
        elif e.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        errors.append({"field": field, "message": msg})
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return Problem(422, "Invalid input", detail, field=first["field"],
                   errors=errors if len(errors) > 1 else None)


def install(app, *, html_handler=None) -> None:
    """Register the handlers that turn every error into problem+json. ``html_handler(request,
    problem)``, when given, answers for paths outside ``/api`` (the HTML pages), and may
    return None to fall back to problem+json."""

    def respond(request: Request, problem: Problem):
        if html_handler is not None and not request.url.path.startswith("/api"):
            out = html_handler(request, problem)
            if out is not None:
                return out
        return problem_response(request, problem)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return respond(request, exc)

    @app.exception_handler(CitydipError)
    async def _citydip(request: Request, exc: CitydipError):
        return respond(request, problem_from_exception(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return respond(request, validation_problem(exc))

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    async def _store_busy(request: Request, exc: Exception):
        problem = problem_from_exception(exc)
        if problem.status == 500:
            log.error("store error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, problem)

    # busy errors are answered here (a 503), not by the server-error handler below
    app.add_exception_handler(OperationalError, _store_busy)
    app.add_exception_handler(PoolTimeoutError, _store_busy)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
        if status == 400 and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            # FastAPI's and Starlette's answers to a body they cannot decode (not UTF-8 JSON,
            # a broken form: "There was an error parsing the body", "Invalid multipart data.")
            ctype = request.headers.get("content-type", "")
            what = "form" if "form" in ctype else "JSON (UTF-8)"
            return respond(request, Problem(422, "Invalid input", f"the body cannot be read as {what} "
                                            f"({detail.rstrip('.')}); check the request's Content-Type and body",
                                            field="body"))
        if status == 404 and detail == "Not Found":
            detail = (f"there is nothing at {request.url.path}; the API's endpoints are listed at "
                      f"/api/v1/docs")
        elif status == 405 and detail == "Method Not Allowed":
            if getattr(request.app.state, "read_only", False):
                detail = ("this observatory is served read-only (citydip serve --read-only): "
                          "it accepts no writes")
            else:
                detail = f"{request.method} is not allowed on {request.url.path}; see /api/v1/docs"
        return respond(request, Problem(status, TITLES.get(status), detail, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, problem_from_exception(exc))
