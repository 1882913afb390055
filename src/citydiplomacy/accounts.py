"""Accounts of the observatory: users and their roles, API tokens, web sessions, throttled
logins and the audit log.

The web app and the API are thin faces over these functions; so is ``citydip user`` and
``citydip token``. Every function takes the :class:`~citydiplomacy.store.Store` (an
:class:`~citydiplomacy.Observatory` works too) and writes in one transaction, together
with its audit row: a change is recorded, or it did not happen.

Secrets are never stored as given:

- passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher``, RFC 9106 low-memory
  parameters), and rehashed at the next login when the parameters change;
- API tokens (``cdp_`` + 40 random URL-safe characters) and session ids are stored as
  their SHA-256: they are long random strings, so a fast hash is enough, and a copy of
  the store file gives no working token or session.

Failed logins are slowed down per name and per client address (see :func:`verify_login`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .errors import CitydipError, NotFoundError, StoreBusyError, ValidationError
from .store.audit import CHANNELS, write_audit
from .store.schema import api_tokens, audit_log as audit_table, login_failures, users, web_sessions
from .text import INTEGER_MAX

__all__ = ["ROLES", "User", "AuthError", "add_user", "set_password", "set_role", "remove_user",
           "list_users", "get_user", "verify_login", "create_token", "list_tokens", "revoke_token",
           "user_for_token", "create_session", "user_for_session", "end_session", "audit",
           "audit_log"]

#: Roles, least to most: an editor can do what a viewer can, an admin what an editor can.
ROLES = ("viewer", "editor", "admin")

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a cap keeps a megabyte "password" out of forms
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
#: Names the audit log uses for who did something when no user did: not available to users.
RESERVED_NAMES = frozenset({"anonymous", "cli"})
TOKEN_PREFIX = "cdp_"
TOKEN_RE = re.compile(r"cdp_[A-Za-z0-9_-]{40}")
MAX_LABEL = 100

#: Throttling of failed logins: from the ``MAX_FAILURES``-th failure in a run (failures
#: less than ``WINDOW`` seconds apart, not counting the waits), each attempt for that name
#: or client waits ``FIRST_WAIT`` seconds after the last failure, doubling with each
#: further failure, up to ``MAX_WAIT``. See :func:`_streak`.
MAX_FAILURES = 5
WINDOW = 15 * 60
FIRST_WAIT = 2.0
MAX_WAIT = 15 * 60
#: Failures looked at per name or client: enough for the wait to reach its cap.
HISTORY = 32
#: Failures older than this are deleted (a run with them would have reached the cap long ago).
KEEP_FAILURES = 24 * 3600

#: ``last_used_at`` of a token is written at most this often (seconds): a script calling
#: the API in a loop should not turn every read into a write.
TOKEN_TOUCH_INTERVAL = 60

WRONG_LOGIN = "wrong name or password"

_HASHER = PasswordHasher(type=Type.ID)
_dummy: dict[tuple, str] = {}


class AuthError(CitydipError):
    """A login, token or session was refused; ``retry_after`` (seconds) when throttled."""

    def __init__(self, message: str = WRONG_LOGIN, *, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class User:
    """An account: its id, its (lower-case) name and its role."""

    id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user's role is at least ``role`` (admin ⊃ editor ⊃ viewer)."""
        return ROLES.index(self.role) >= ROLES.index(_check_role(role))


# -- helpers ---------------------------------------------------------------------------------

def _utcnow() -> dt.datetime:
    """Now, in UTC (one place, so tests can move the clock)."""
    return dt.datetime.now(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def _iso_us(t: dt.datetime) -> str:
    # failed logins are compared to the second: keep microseconds, always 6 digits,
    # so that the strings sort as the times do
    return t.isoformat(timespec="microseconds")


def _store(store):
    """The Store of ``store`` (a Store, or an Observatory holding one)."""
    return getattr(store, "store", store)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row) -> User:
    return User(id=row.id, name=row.name, role=row.role)


def _norm_name(name: str) -> str:
    return unicodedata.normalize("NFC", str(name or "")).strip().lower()


def _check_name(name: str) -> str:
    norm = _norm_name(name)
    if not NAME_RE.fullmatch(norm):
        raise ValidationError(
            f"'{name}' is not a usable user name: use 1 to 64 letters a-z, digits or . _ @ - "
            "(starting with a letter or digit), e.g. 'maria.lopez'", field="name")
    if norm in RESERVED_NAMES:
        raise ValidationError(f"'{norm}' is reserved for the audit log; choose another name",
                              field="name")
    return norm


def _check_role(role: str) -> str:
    role = getattr(role, "value", role)  # a str Enum from a form or an option is fine too
    if role not in ROLES:
        raise ValidationError(f"'{role}' is not a role; use one of {', '.join(ROLES)}", field="role")
    return role


def _check_password(password: str, name: str) -> str:
    if not isinstance(password, str):
        raise ValidationError("the password must be text", field="password")
    password = unicodedata.normalize("NFC", password)
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"the password is too short: use at least {MIN_PASSWORD} characters "
                              "(a few unrelated words make a good one)", field="password")
    if len(password) > MAX_PASSWORD:
        raise ValidationError(f"the password is too long: use at most {MAX_PASSWORD} characters",
                              field="password")
    if password.strip().lower() == name:
        raise ValidationError("the password must not be the user name", field="password")
    return password


def _hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _dummy_hash() -> str:
    """A hash to check unknown names against, so that they take as long as known ones."""
    key = (_HASHER.time_cost, _HASHER.memory_cost, _HASHER.parallelism, _HASHER.type)
    if key not in _dummy:
        _dummy[key] = _HASHER.hash(secrets.token_urlsafe(16))
    return _dummy[key]


def _password_matches(hash_: str, password: str) -> bool:
    try:
        return _HASHER.verify(hash_, unicodedata.normalize("NFC", password))
    except (VerificationError, InvalidHashError):
        return False


def _who(user: User | str | None) -> str:
    if isinstance(user, User):
        return user.name
    if isinstance(user, str) and user:
        return user
    return "anonymous"


def _audit(conn, who: User | str | None, action: str, target: str, detail: dict | None = None,
           channel: str | None = None) -> None:
    write_audit(conn, _who(who), action, target, detail, channel=channel, at=_iso(_utcnow()))


def record_audit(conn, who: User | str | None, action: str, target: str, detail: dict | None = None,
                 channel: str | None = None) -> None:
    """Add an audit entry inside the caller's transaction (an import records who applied
    it in the same transaction as its rows)."""
    _audit(conn, who, action, target, detail, channel=channel)


def _row_by_name(conn, name: str):
    return conn.execute(select(users).where(users.c.name == _norm_name(name))).first()


def _not_found(conn, name: str) -> NotFoundError:
    names = [r.name for r in conn.execute(select(users.c.name))]
    close = difflib.get_close_matches(_norm_name(name), names, n=3, cutoff=0.6)
    return NotFoundError(f"no user named '{name}'; `citydip user list` shows the users",
                         suggestions=close)


def _existing(conn, name: str):
    row = _row_by_name(conn, name)
    if row is None:
        raise _not_found(conn, name)
    return row


# -- users -----------------------------------------------------------------------------------

def add_user(store, name: str, password: str, role: str = "viewer", *,
             by: User | str | None = "cli") -> User:
    """Create an account. The name is kept in lower case (``Maria`` and ``maria`` are the
    same user); ``by`` is who did it, for the audit log.

    Raises :class:`ValidationError` for a bad or taken name, an unknown role or a password
    shorter than 10 characters.
    """
    norm = _check_name(name)
    role = _check_role(role)
    password = _check_password(password, norm)
    hashed = _hash_password(password)
    st = _store(store)
    try:
        with st.transaction() as conn:
            if _row_by_name(conn, norm) is not None:
                raise ValidationError(f"there is already a user named '{norm}'; choose another name "
                                      "or change that user with `citydip user passwd/role`", field="name")
            uid = conn.execute(insert(users).values(
                name=norm, role=role, password_hash=hashed, created_at=_iso(_utcnow()),
                disabled=False)).inserted_primary_key[0]
            _audit(conn, by, "user.add", norm, {"role": role})
    except IntegrityError:  # added by someone else between the check and the insert
        raise ValidationError(f"there is already a user named '{norm}'", field="name") from None
    return User(id=uid, name=norm, role=role)


def set_password(store, name: str, password: str, *, by: User | str | None = "cli") -> None:
    """Change a user's password. The user's web sessions end (they log in again with the
    new one); API tokens keep working. NotFoundError for an unknown name."""
    st = _store(store)
    norm = _norm_name(name)
    password = _check_password(password, norm)
    hashed = _hash_password(password)
    with st.transaction() as conn:
        row = _existing(conn, name)
        conn.execute(update(users).where(users.c.id == row.id).values(password_hash=hashed))
        ended = conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id)).rowcount
        _audit(conn, by, "user.passwd", row.name, {"sessions_ended": ended})


def set_role(store, name: str, role: str, *, by: User | str | None = "cli") -> None:
    """Give a user another role (viewer, editor or admin). NotFoundError for an unknown name."""
    role = _check_role(role)
    with _store(store).transaction() as conn:
        row = _existing(conn, name)
        conn.execute(update(users).where(users.c.id == row.id).values(role=role))
        _audit(conn, by, "user.role", row.name, {"old": row.role, "new": role})


def remove_user(store, name: str, *, by: User | str | None = "cli") -> None:
    """Delete an account: its sessions end and its API tokens stop working at once. The
    audit log keeps what the user did. NotFoundError for an unknown name."""
    with _store(store).transaction() as conn:
        row = _existing(conn, name)
        # explicit, not only ON DELETE CASCADE: a store opened without foreign-key
        # enforcement must not leave tokens behind for a later user with the same id
        tokens = conn.execute(delete(api_tokens).where(api_tokens.c.user_id == row.id)).rowcount
        sessions = conn.execute(delete(web_sessions).where(web_sessions.c.user_id == row.id)).rowcount
        conn.execute(delete(users).where(users.c.id == row.id))
        _audit(conn, by, "user.remove", row.name, {"role": row.role, "tokens_revoked": tokens,
                                                    "sessions_ended": sessions})


def list_users(store) -> list[User]:
    """Every account, by name."""
    with _store(store).connect() as conn:
        return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def get_user(store, name: str) -> User | None:
    """The account named ``name`` (any case), or None."""
    with _store(store).connect() as conn:
        row = _row_by_name(conn, name)
    return _user(row) if row is not None else None


# -- logging in --------------------------------------------------------------------------------

def _wait_after(failures: int) -> float:
    """Seconds to wait after the last of ``failures`` recent failures (0: no wait)."""
    if failures < MAX_FAILURES:
        return 0.0
    return min(FIRST_WAIT * 2 ** (failures - MAX_FAILURES), MAX_WAIT)


def _streak(times: list[dt.datetime], now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """The length of the current run of failures (``times``, oldest first) and its latest
    failure. A run ends when 15 minutes pass without a failure after its wait has ended,
    so that someone who waits out each wait and tries again keeps the run (and the wait)
    growing, up to the cap, while a person who stops for 15 minutes starts afresh."""
    def ended(count: int, last: dt.datetime, t: dt.datetime) -> bool:
        return (t - last).total_seconds() >= _wait_after(count) + WINDOW

    count, last = 0, None
    for t in times:
        if last is not None and ended(count, last, t):
            count, last = 0, None
        count, last = count + 1, t if last is None else max(last, t)
    if last is None or ended(count, last, now):
        return 0, None
    return count, last


def _retry_after(conn, pending: dict[str, int], now: dt.datetime) -> float | None:
    """Seconds until an attempt is allowed again, or None if it is now. ``pending`` maps
    each key of the attempt to the id of the failure recorded for it in advance; only
    the failures before it count."""
    longest = 0.0
    for key, own_id in pending.items():
        recent = [dt.datetime.fromisoformat(at) for at, in conn.execute(
            select(login_failures.c.at)
            .where(login_failures.c.key == key, login_failures.c.id < own_id)
            .order_by(login_failures.c.id.desc()).limit(HISTORY))]
        count, last = _streak(recent[::-1], now)
        if last is not None and _wait_after(count):
            longest = max(longest, (last + dt.timedelta(seconds=_wait_after(count)) - now).total_seconds())
    return longest if longest > 0 else None


def _login_keys(name: str, client: str) -> list[str]:
    keys = ["name:" + _norm_name(name)[:190]]
    if client:
        keys.append("client:" + str(client)[:190])
    return keys


def verify_login(store, name: str, password: str, *, client: str = "") -> User:
    """The user whose name and password these are; ``client`` is where the attempt comes
    from (the web passes the IP address; the command line none).

    Raises :class:`AuthError` with the same message, "wrong name or password", for an
    unknown name, a wrong password or a disabled account, so that the answer does not
    tell which names exist. Failures are recorded per name and per client: from the 5th
    failure within 15 minutes, every further attempt for that name or from that client is
    refused, even with the right password, until a wait has passed (``retry_after``):
    2 s after the last failure, doubling with each further failure, at most 15 minutes.
    The count starts afresh once 15 minutes pass without a failure after the wait. A
    refused attempt is not counted. A success clears the name's failures. Logins and
    failures go to the audit log.
    """
    st = _store(store)
    password = password if isinstance(password, str) else ""
    dummy = _dummy_hash()  # made before any name is looked up: no slower first "unknown name"
    now = _utcnow()
    # Each attempt is recorded as a failure before it is checked, and the check counts
    # the failures recorded before it: a burst of parallel attempts cannot all slip in
    # before the first of them is counted. The record is removed if the attempt is
    # refused (waiting is not failing) or succeeds.
    with st.transaction() as conn:
        pending = {k: conn.execute(insert(login_failures).values(key=k, at=_iso_us(now)))
                   .inserted_primary_key[0] for k in _login_keys(name, client)}
    with st.connect() as conn:
        wait = _retry_after(conn, pending, now)
        row = None if wait else _row_by_name(conn, name)
    if wait:
        with st.transaction() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.id.in_(list(pending.values()))))
        secs = int(wait) + (wait % 1 > 0)
        raise AuthError(f"too many failed logins for this name or from this address; "
                        f"try again in {secs} s", retry_after=wait)
    ok = _password_matches(row.password_hash if row is not None else dummy, password)
    ok = ok and row is not None and not row.disabled
    rehashed = None
    if ok and _HASHER.check_needs_rehash(row.password_hash):
        rehashed = _hash_password(unicodedata.normalize("NFC", password))  # outside the write lock
    with st.transaction() as conn:
        if ok:
            name_key = next(iter(pending))
            conn.execute(delete(login_failures).where(
                (login_failures.c.key == name_key) | login_failures.c.id.in_(list(pending.values()))))
            if rehashed:
                conn.execute(update(users).where(users.c.id == row.id).values(password_hash=rehashed))
            _audit(conn, row.name, "login.ok", row.name, {"client": client or None})
        else:
            reason = ("unknown name" if row is None else "account disabled" if row.disabled
                      else "wrong password")
            conn.execute(delete(login_failures).where(
                login_failures.c.at < _iso_us(_utcnow() - dt.timedelta(seconds=KEEP_FAILURES))))
            _audit(conn, "anonymous", "login.fail", _norm_name(name)[:64],
                   {"client": client or None, "reason": reason})
    if not ok:
        raise AuthError(WRONG_LOGIN)
    return _user(row)


# -- API tokens --------------------------------------------------------------------------------

def create_token(store, user: User, label: str, *, by: User | str | None = None) -> tuple[int, str]:
    """A new API token for ``user``: returns (id, secret). The secret (``cdp_`` and 40
    URL-safe characters) is shown this once; only its SHA-256 is stored. ``label`` says
    what the token is for ("nightly import"). ``by`` (default: the user) is recorded in
    the audit log."""
    label = " ".join(str(label or "").split())
    if not label:
        raise ValidationError("give the token a label that says what it is for, e.g. 'nightly import'",
                              field="label")
    if len(label) > MAX_LABEL:
        raise ValidationError(f"the label is too long: use at most {MAX_LABEL} characters", field="label")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(30)  # 30 bytes → 40 characters
    with _store(store).transaction() as conn:
        if conn.execute(select(users.c.id).where(users.c.id == user.id)).first() is None:
            raise NotFoundError(f"no user named '{user.name}'; `citydip user list` shows the users")
        tid = conn.execute(insert(api_tokens).values(
            user_id=user.id, label=label, token_hash=_sha256(secret),
            created_at=_iso(_utcnow()))).inserted_primary_key[0]
        _audit(conn, by or user, "token.create", user.name, {"id": tid, "label": label})
    return tid, secret


def list_tokens(store, user: User) -> list[dict[str, Any]]:
    """The user's tokens, oldest first, revoked ones included: id, label, created_at,
    last_used_at, revoked_at (never the secret, which is not stored)."""
    cols = [api_tokens.c.id, api_tokens.c.label, api_tokens.c.created_at,
            api_tokens.c.last_used_at, api_tokens.c.revoked_at]
    with _store(store).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(*cols).where(api_tokens.c.user_id == user.id).order_by(api_tokens.c.id))]


def revoke_token(store, user: User, token_id: int, *, by: User | str | None = None) -> None:
    """Revoke token ``token_id``: one of ``user``'s own, or anyone's if ``user`` is an
    admin. NotFoundError otherwise (another user's token is not even said to exist).
    Revoking a revoked token changes nothing."""
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise ValidationError(f"'{token_id}' is not a token id (a number, see `citydip token list`)",
                              field="id") from None
    if not 0 < token_id <= INTEGER_MAX:     # no stored id is out of the store's range
        raise NotFoundError(f"there is no token {token_id}" if user.can("admin") else
                            f"{user.name} has no token {token_id}; `citydip token list {user.name}` shows the ids")
    with _store(store).transaction() as conn:
        stmt = (select(api_tokens.c.id, api_tokens.c.label, api_tokens.c.revoked_at, users.c.name)
                .join(users, users.c.id == api_tokens.c.user_id).where(api_tokens.c.id == token_id))
        if not user.can("admin"):
            stmt = stmt.where(api_tokens.c.user_id == user.id)
        row = conn.execute(stmt).first()
        if row is None:
            if user.can("admin"):
                raise NotFoundError(f"there is no token {token_id}")
            raise NotFoundError(f"{user.name} has no token {token_id}; `citydip token list "
                                f"{user.name}` shows the ids")
        if row.revoked_at is not None:
            return
        conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                     .values(revoked_at=_iso(_utcnow())))
        _audit(conn, by or user, "token.revoke", row.name, {"id": token_id, "label": row.label})


def user_for_token(store, secret: str) -> User | None:
    """The user an API token belongs to, or None if it is unknown, revoked or the user's
    account is disabled. Records when the token was last used (to the minute)."""
    secret = str(secret or "").strip()
    if not TOKEN_RE.fullmatch(secret):
        return None
    now = _utcnow()
    st = _store(store)
    with st.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.name, users.c.role, api_tokens.c.id.label("token_id"),
                   api_tokens.c.last_used_at)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == _sha256(secret), api_tokens.c.revoked_at.is_(None),
                   users.c.disabled.is_(False))).first()
    if row is None:
        return None
    stale = _iso(now - dt.timedelta(seconds=TOKEN_TOUCH_INTERVAL))
    if row.last_used_at is None or row.last_used_at < stale:
        try:
            with st.transaction() as conn:
                conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id)
                             .values(last_used_at=_iso(now)))
        except StoreBusyError:
            pass        # another writer holds the store: the use is recorded on a later request

    return _user(row)


# -- web sessions ------------------------------------------------------------------------------

def create_session(store, user: User, *, hours: float = 12) -> str:
    """Start a web session for ``user``, valid for ``hours``; returns its id (for the
    cookie). Only the id's SHA-256 is stored. Expired sessions are swept here."""
    if not hours or hours <= 0:
        raise ValidationError("a session must last a positive number of hours", field="hours")
    sid = secrets.token_urlsafe(32)
    now = _utcnow()
    with _store(store).transaction() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= _iso(now)))
        conn.execute(insert(web_sessions).values(
            id_hash=_sha256(sid), user_id=user.id, created_at=_iso(now),
            expires_at=_iso(now + dt.timedelta(hours=hours))))
    return sid


def user_for_session(store, session_id: str) -> User | None:
    """The user of a live session, or None if the id is unknown, ended or expired."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > 200:
        return None
    with _store(store).connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.name, users.c.role)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .where(and_(web_sessions.c.id_hash == _sha256(session_id),
                        web_sessions.c.expires_at > _iso(_utcnow()),
                        users.c.disabled.is_(False)))).first()
    return _user(row) if row is not None else None


def end_session(store, session_id: str) -> None:
    """End a session (log out); an unknown or expired id is not an error."""
    if not session_id or not isinstance(session_id, str):
        return
    with _store(store).transaction() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _sha256(session_id)))


# -- audit log -----------------------------------------------------------------------------------

def audit(store, user: User | str | None, action: str, target: str,
          detail: dict | None = None, *, channel: str | None = None) -> None:
    """Append a row to the audit log: when (UTC), who (the user's name; "anonymous" for
    None; a string is taken as the name, e.g. an operating-system user), the action
    ("tie.add", "actor.edit", "import.apply", ...), its target, what changed (``detail``,
    JSON) and the ``channel`` it came through (cli, web, api, python; default: the one
    set by :func:`~citydiplomacy.store.audit.acting_as`).

    The account functions of this module record their own actions (user.add, user.passwd,
    user.role, user.remove, token.create, token.revoke, login.ok, login.fail), and every
    write run made while someone is acting records itself (see :mod:`citydiplomacy.store.audit`).
    """
    if not action or not isinstance(action, str):
        raise ValidationError("an audit record needs an action, e.g. 'tie.add'", field="action")
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(f"unknown channel '{channel}'; use one of {', '.join(CHANNELS)}", field="channel")
    with _store(store).transaction() as conn:
        _audit(conn, user, action, target, detail, channel)


def audit_log(store, *, limit: int = 100, user: str | None = None,
              channel: str | None = None) -> list[dict[str, Any]]:
    """The latest ``limit`` audit records, newest first, optionally only ``user``'s and only
    those that came through ``channel``: dicts with id, at, user_name, action, target,
    detail, channel (null for records older than the channel column)."""
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError(f"limit must be a positive whole number, not {limit!r}", field="limit")
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(f"unknown channel '{channel}'; use one of {', '.join(CHANNELS)}", field="channel")
    stmt = select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)
    if user:
        # account names are lower case; an operating-system user is kept as it is
        stmt = stmt.where(audit_table.c.user_name.in_(sorted({user, _norm_name(user)})))
    if channel:
        stmt = stmt.where(audit_table.c.channel == channel)
    with _store(store).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
