"""Who is asking, and may they: API tokens, session cookies, roles and CSRF.

Used by the REST API (``api.py``) and the HTML pages (``pages.py``) alike:

- :func:`current_user` — the user of a request: ``Authorization: Bearer cdp_...`` (an API
  token) or the signed session cookie ``citydip_session``; ``None`` for an anonymous visitor;
- :func:`require` — a FastAPI dependency refusing anonymous visitors (401) and users whose
  role is too low (403);
- :func:`csrf_token` / :func:`check_csrf` — every unsafe request made with the session
  cookie must carry ``csrf_token`` (form field) or ``X-CSRF-Token`` (header) equal to
  :func:`csrf_token`, an HMAC of the session id; requests with a bearer token are exempt
  (a browser never sends one by itself). Before login, the token is bound to a random
  value in a separate signed cookie (``citydip_csrf``), set on the response that first
  needs it;
- :func:`login` / :func:`logout` — start and end a session (cookies HttpOnly,
  SameSite=Lax, Secure behind TLS). Login failures are throttled by
  :func:`citydiplomacy.accounts.verify_login`; a throttled attempt is a 429 with
  ``Retry-After``.

The secret that signs the cookies and the CSRF tokens is ``app.state.secret`` (see
:func:`citydiplomacy.web.app.create_app`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPBearer
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool

from .problems import Problem

if TYPE_CHECKING:  # pragma: no cover
    from ..accounts import User

__all__ = ["SESSION_COOKIE", "LOGIN_CSRF_COOKIE", "CSRF_FIELD", "CSRF_HEADER", "SAFE_METHODS",
           "current_user", "require", "csrf_token", "check_csrf", "login", "logout", "client_ip"]

SESSION_COOKIE = "citydip_session"
LOGIN_CSRF_COOKIE = "citydip_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: how long a session lasts (hours); the cookie lives as long
SESSION_HOURS = 12.0
#: the pre-session (login form) cookie lives this long (seconds)
LOGIN_CSRF_SECONDS = 2 * 3600

_UNSET = object()

#: declares the bearer token in the OpenAPI document (the docs page's "Authorize" button);
#: the token itself is read by :func:`current_user`
BEARER = HTTPBearer(auto_error=False, scheme_name="token",
                    description="An API token (cdp_...): your account page, POST /api/v1/me/tokens, "
                                "or `citydip token create NAME --label LABEL`.")


# -- signing ------------------------------------------------------------------------------

def _secret(request: Request) -> bytes:
    secret = getattr(request.app.state, "secret", None)
    if not secret:
        raise RuntimeError("app.state.secret is not set; build the app with citydiplomacy.web.create_app()")
    return secret if isinstance(secret, bytes) else str(secret).encode()


def _serializer(request: Request, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(_secret(request), salt=salt)


def _unsign(request: Request, cookie: str, salt: str) -> str | None:
    raw = request.cookies.get(cookie)
    if not raw:
        return None
    try:
        value = _serializer(request, salt).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, str) and value else None


def _mac(request: Request, purpose: str, value: str) -> str:
    return hmac.new(_secret(request), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _store(request: Request):
    return request.app.state.obs.store


def client_ip(request: Request) -> str:
    """The client's address (uvicorn applies ``X-Forwarded-For`` from trusted proxies)."""
    return request.client.host if request.client else ""


def _secure(request: Request) -> bool:
    forced = getattr(request.app.state, "secure_cookies", None)
    if forced is not None:
        return bool(forced)
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=_secure(request))


# -- who is asking ------------------------------------------------------------------------

def session_id(request: Request) -> str | None:
    """The session id in the request's (validly signed) session cookie, or None. Set by
    :func:`login` for the rest of the request that logged in."""
    sid = getattr(request.state, "session_id", _UNSET)
    if sid is _UNSET:
        sid = _unsign(request, SESSION_COOKIE, "session")
        request.state.session_id = sid
    return sid


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def current_user(request: Request) -> "User | None":
    """The user of this request (also left on ``request.state.user``), or None.

    A bearer token wins over the cookie. An unknown or revoked token, or an expired
    session, counts as anonymous here; :func:`require` then says why it refuses.
    ``request.state.auth`` tells how the user was found: ``"token"``, ``"session"`` or None.
    """
    if getattr(request.state, "auth_done", False):
        return request.state.user
    from .. import accounts

    user = None
    auth = None
    token = bearer_token(request)
    store = _store(request)
    if token is not None:
        user = await run_in_threadpool(accounts.user_for_token, store, token)
        auth = "token" if user is not None else None
        request.state.auth_problem = None if user else (
            "the API token is unknown or revoked; create a new one on your account page "
            "or with `citydip token create NAME --label LABEL`")
    else:
        sid = session_id(request)
        if sid is not None:
            user = await run_in_threadpool(accounts.user_for_session, store, sid)
            auth = "session" if user is not None else None
            request.state.auth_problem = None if user else "your session has ended; log in again"
    request.state.user = user
    request.state.auth = auth
    request.state.auth_done = True
    return user


def require(role: str):
    """A FastAPI dependency: the current user, who must hold at least ``role`` (viewer,
    editor or admin). Anonymous → 401; role too low → 403. Returns the :class:`User`."""
    from ..accounts import ROLES

    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")

    async def dependency(request: Request, _credentials: Any = Depends(BEARER)) -> "User":
        user = await current_user(request)
        if user is None:
            detail = getattr(request.state, "auth_problem", None) or (
                f"log in (POST /api/v1/session, or the /login page) or send an API token "
                f"(Authorization: Bearer cdp_...) of a user with the {role} role")
            raise Problem(401, "Not logged in", detail, headers={"WWW-Authenticate": "Bearer"})
        if not user.can(role):
            raise Problem(403, "Not allowed",
                          f"this needs the {role} role; {user.name} is {user.role}. "
                          f"An admin can change it: citydip user role {user.name} {role}")
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


# -- CSRF ----------------------------------------------------------------------------------

def _login_nonce(request: Request) -> str:
    """The random value behind the pre-session CSRF token: from the signed cookie, or a
    new one that the :class:`CookieMiddleware` sets on the response."""
    nonce = getattr(request.state, "login_nonce", None)
    if nonce:
        return nonce
    nonce = _unsign(request, LOGIN_CSRF_COOKIE, "login-csrf")
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.new_login_cookie = _serializer(request, "login-csrf").dumps(nonce)
        request.state.new_login_cookie_secure = _secure(request)
    request.state.login_nonce = nonce
    return nonce


def csrf_token(request: Request) -> str:
    """The CSRF token to put in every form (``<input type="hidden" name="csrf_token">``)
    or send as ``X-CSRF-Token``: bound to the session, or before login to the
    ``citydip_csrf`` cookie (created on the response when missing)."""
    sid = session_id(request)
    if sid:
        return _mac(request, "csrf", sid)
    return _mac(request, "login", _login_nonce(request))


async def _sent_token(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            form = await request.form()
        except Exception:  # a malformed body is reported by the endpoint's own parsing
            return None
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request) -> None:
    """A FastAPI dependency for unsafe methods: a request authenticated by the session
    cookie, or a pre-login form post, must carry the right CSRF token; bearer-token
    requests and JSON requests without a session (a script logging in) are exempt."""
    if request.method in SAFE_METHODS:
        return
    await current_user(request)
    if bearer_token(request) is not None:
        return
    sid = session_id(request)
    if sid:
        expected = _mac(request, "csrf", sid)
    else:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            # a cross-site page cannot send JSON without CORS (which we never allow),
            # and there is no session to ride on
            return
        nonce = _unsign(request, LOGIN_CSRF_COOKIE, "login-csrf")
        if nonce is None:
            raise Problem(403, "Form expired",
                          "the form's security cookie is missing or expired; reload the page and "
                          "submit the form again (cookies must be enabled)")
        expected = _mac(request, "login", nonce)
    sent = await _sent_token(request)
    if not sent or not hmac.compare_digest(sent, expected):
        raise Problem(403, "CSRF token missing or wrong",
                      f"a request made with the session cookie must carry the page's CSRF token "
                      f"(form field '{CSRF_FIELD}' or header '{CSRF_HEADER}'); reload the page and "
                      f"try again, or use an API token (Authorization: Bearer ...) from a script")


# -- login / logout --------------------------------------------------------------------------

def login(request: Request, response: Response, name: str, password: str) -> "User":
    """Check ``name`` and ``password`` and start a session: sets the session cookie on
    ``response`` and ``request.state.user``. Raises :class:`Problem` 401 (wrong name or
    password) or 429 with ``Retry-After`` (too many failures). Blocks for the password
    hash (about a tenth of a second): call it from a sync route or a thread."""
    from .. import accounts
    from ..accounts import AuthError

    store = _store(request)
    try:
        user = accounts.verify_login(store, name or "", password or "", client=client_ip(request))
    except AuthError as exc:
        wait = getattr(exc, "retry_after", None)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise Problem(429, "Too many failed logins",
                          str(exc),
                          headers={"Retry-After": str(seconds)}, retry_after=seconds) from None
        raise Problem(401, "Login failed", str(exc)) from None
    sid = accounts.create_session(store, user, hours=SESSION_HOURS)
    _set_cookie(request, response, SESSION_COOKIE, _serializer(request, "session").dumps(sid),
                int(SESSION_HOURS * 3600))
    request.state.session_id = sid
    request.state.user = user
    request.state.auth = "session"
    request.state.auth_done = True
    return user


def logout(request: Request, response: Response) -> None:
    """End the session of this request (if any) and clear its cookie."""
    from .. import accounts

    sid = session_id(request)
    if sid:
        accounts.end_session(_store(request), sid)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    request.state.session_id = None
    request.state.user = None
    request.state.auth = None
    request.state.auth_done = True


# -- the middleware that sets the pre-session cookie ---------------------------------------------

class CookieMiddleware:
    """Adds the pre-session CSRF cookie to a response when :func:`csrf_token` created one
    during the request (a template cannot set cookies itself)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})

        async def send_with_cookie(message):
            if message["type"] == "http.response.start" and state.get("new_login_cookie"):
                from http.cookies import SimpleCookie

                c = SimpleCookie()
                c[LOGIN_CSRF_COOKIE] = state["new_login_cookie"]
                m = c[LOGIN_CSRF_COOKIE]
                m["path"] = "/"
                m["max-age"] = LOGIN_CSRF_SECONDS
                m["httponly"] = True
                m["samesite"] = "lax"
                if state.get("new_login_cookie_secure"):
                    m["secure"] = True
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", m.OutputString().encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)
