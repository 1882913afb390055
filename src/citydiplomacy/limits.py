"""How much work one read or one request may cost: the sizes, counts and seconds every
reader and every heavy request is held to, by channel.

Three presets (:func:`limits_for`):

- ``anonymous`` — a visitor of the web observatory or the API without an account (the
  public alignment of a text or a document, also on a ``--read-only`` server): the
  tightest, since anyone can send anything;
- ``editor`` — a logged-in user of the web observatory or the API (imports, alignment);
- ``cli`` — the ``citydip`` command and the Python library, run by someone on their own
  machine: the most generous.

Each limit can be changed from the environment: ``CITYDIP_LIMIT_<NAME>`` for every
channel, ``CITYDIP_LIMIT_<CHANNEL>_<NAME>`` for one (it wins), e.g.
``CITYDIP_LIMIT_ROWS=200000`` or ``CITYDIP_LIMIT_ANONYMOUS_PARAGRAPHS=500``. Sizes take a
unit (``50MB``, ``2GB``: binary, 1 MB = 1,048,576 bytes), seconds a decimal, and
``none`` lifts a limit. A value that cannot be read, or a ``CITYDIP_LIMIT_`` variable
that names no limit, is an error that says so (:class:`LimitSettingError`).

The readers enforce the limits while they stream, before the whole input is in memory,
and raise :class:`LimitExceeded`, whose message names the file, the limit, its value and
what to do. Work is also bounded in time: :func:`applied` (or :func:`deadline`) starts a
deadline that the loops of the readers, the importers and the aligner check with
:func:`check_deadline`.

The table of every limit and its defaults is in ``docs/limits.md``; a test checks
that it agrees with :data:`DEFAULTS`.
"""

from __future__ import annotations

import math
import os
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Iterator

from .errors import CitydipError, ValidationError

__all__ = ["Limits", "LimitExceeded", "LimitSettingError", "CHANNELS", "DEFAULTS", "HEAVY_REQUESTS",
           "limits_for", "current", "applied", "deadline", "check_deadline", "exceeded",
           "heavy_requests", "check_settings", "describe", "holding", "remaining", "size"]

CHANNELS = ("anonymous", "editor", "cli")
ENV_PREFIX = "CITYDIP_LIMIT_"

KB, MB, GB = 2**10, 2**20, 2**30


@dataclass(frozen=True)
class Limits:
    """The limits of one channel; ``None`` means no limit. Every size is in bytes."""

    #: the channel these limits are for: anonymous, editor or cli
    channel: str = "cli"
    #: the largest file read or uploaded (bytes)
    file_bytes: int | None = None
    #: the most a zip container (.xlsx, .docx) may unpack to, all members together (bytes)
    unpacked_bytes: int | None = None
    #: the highest compression ratio of a member of a zip container (unpacked / packed)
    #: above 1 MB unpacked: ordinary workbooks and documents unpack 5 to 30 times their
    #: size, text repeated over and over 100 times or more, a decompression bomb 250 to 1,000
    compression_ratio: float | None = None
    #: the most members (files) in a zip container
    zip_members: int | None = None
    #: the most rows of a table (CSV, TSV, Excel, Parquet, JSON results) or of a file of texts
    rows: int | None = None
    #: the most columns of a table
    columns: int | None = None
    #: the most cells of a table (rows × columns): what a table holds in memory
    cells: int | None = None
    #: the longest field of a table (characters); a longer one rejects its row
    field_chars: int | None = None
    #: the most paragraphs of a document (after long ones are cut into pieces)
    paragraphs: int | None = None
    #: the most pages of a PDF
    pages: int | None = None
    #: the most characters of text taken from one document or file of texts
    text_chars: int | None = None
    #: the largest HTML, Markdown, plain-text or JSON file parsed as a whole (bytes)
    markup_bytes: int | None = None
    #: the longest one read, import or request may work (seconds)
    seconds: float | None = None
    #: heavy requests (alignment, imports, exports, network measures) one client may
    #: have running at once in one server worker
    concurrent: int | None = None

    def env_name(self, name: str) -> str:
        """The environment variable that sets ``name`` for this channel."""
        return f"{ENV_PREFIX}{self.channel.upper()}_{name.upper()}"

    def as_dict(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: the limits' names, in the order of the table in the docs
NAMES = tuple(f.name for f in fields(Limits) if f.name != "channel")
SIZES = frozenset({"file_bytes", "unpacked_bytes", "markup_bytes"})
DECIMALS = frozenset({"compression_ratio", "seconds"})

#: the defaults of each channel. Figures behind them (benchmarks/bench_limits.py, 2 cores):
#: an editor's table at the limits (100,000 rows, 2,000,000 cells) holds about 200 MB in a
#: worker; an anonymous document at its limits (2,000 paragraphs, 64 MB unpacked) is read
#: in seconds with a few tens of MB.
DEFAULTS: dict[str, Limits] = {
    "anonymous": Limits(
        channel="anonymous", file_bytes=20 * MB, unpacked_bytes=64 * MB, compression_ratio=100,
        zip_members=2_000, rows=10_000, columns=100, cells=200_000, field_chars=100_000,
        paragraphs=2_000, pages=300, text_chars=2_000_000, markup_bytes=5 * MB, seconds=30,
        concurrent=1),
    "editor": Limits(
        channel="editor", file_bytes=50 * MB, unpacked_bytes=200 * MB, compression_ratio=200,
        zip_members=10_000, rows=100_000, columns=500, cells=1_000_000, field_chars=1_000_000,
        paragraphs=10_000, pages=1_000, text_chars=10_000_000, markup_bytes=20 * MB, seconds=30,
        concurrent=2),
    "cli": Limits(
        channel="cli", file_bytes=1 * GB, unpacked_bytes=4 * GB, compression_ratio=1_000,
        zip_members=100_000, rows=10_000_000, columns=500, cells=200_000_000, field_chars=10_000_000,
        paragraphs=1_000_000, pages=100_000, text_chars=1_000_000_000, markup_bytes=512 * MB, seconds=None,
        concurrent=None),
}

#: heavy requests one server worker runs at once, all clients together
#: (``CITYDIP_LIMIT_HEAVY_REQUESTS``); more are answered 503 with Retry-After
HEAVY_REQUESTS = 4
_HEAVY_ENV = ENV_PREFIX + "HEAVY_REQUESTS"

#: how each limit is named in messages
LABELS = {
    "file_bytes": "file size", "unpacked_bytes": "unpacked size", "compression_ratio": "compression ratio",
    "zip_members": "members of a zip container", "rows": "rows", "columns": "columns", "cells": "cells",
    "field_chars": "characters in one field", "paragraphs": "paragraphs", "pages": "pages",
    "text_chars": "characters of text", "markup_bytes": "size of a document parsed whole",
    "seconds": "seconds of work", "concurrent": "heavy requests at once",
}
_CHANNEL_WORDS = {"anonymous": "requests without an account", "editor": "logged-in users",
                  "cli": "the command line and the library"}


class LimitSettingError(CitydipError):
    """A ``CITYDIP_LIMIT_`` environment variable that cannot be used."""


class LimitExceeded(ValidationError):
    """An input (or the work it asks for) goes beyond a limit of :class:`Limits`.

    ``limit`` names the limit, ``value`` is its value, ``channel`` the preset, ``setting``
    the environment variable that raises it. ``status`` is the HTTP status the web gives
    it: 413 for an input too large (bytes, rows, columns, cells, paragraphs, pages,
    characters), 503 (with Retry-After) for work that ran out of time."""

    def __init__(self, message: str, *, limit: str, value: object, channel: str, setting: str,
                 field: str | None = None, row: int | None = None, file: str | None = None):
        super().__init__(message, field=field, row=row, file=file)
        self.limit = limit
        self.value = value
        self.channel = channel
        self.setting = setting
        self.status = 503 if limit == "seconds" else 413


# -- reading the settings --------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": KB, "kb": KB, "kib": KB, "m": MB, "mb": MB, "mib": MB, "g": GB, "gb": GB,
          "gib": GB, "t": 2**40, "tb": 2**40, "tib": 2**40}
_SIZE = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def _parse(name: str, raw: str, var: str) -> int | float | None:
    text = raw.strip()
    if text.lower() in ("none", "unlimited", "off"):
        return None
    example = {"file_bytes": "50MB", "unpacked_bytes": "200MB", "markup_bytes": "20MB", "seconds": "120",
               "compression_ratio": "100"}.get(name, "100000")
    if name in SIZES:
        m = _SIZE.match(text)
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _UNITS:
            raise LimitSettingError(f"{var}={raw!r} is not a size; give bytes with an optional unit, "
                                    f"e.g. {var}={example} (or none for no limit)")
        value: int | float = float(m.group(1).replace("_", "")) * _UNITS[unit]
        value = int(value)
    elif name in DECIMALS:
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise LimitSettingError(f"{var}={raw!r} is not a number; give e.g. {var}={example} "
                                    "(or none for no limit)")
    else:
        if not re.fullmatch(r"[0-9][0-9_]*", text):
            raise LimitSettingError(f"{var}={raw!r} is not a whole number; give e.g. {var}={example} "
                                    "(or none for no limit)")
        value = int(text.replace("_", ""))
    if value <= 0 or (name == "compression_ratio" and value < 1):
        raise LimitSettingError(f"{var}={raw!r} must be more than {1 if name == 'compression_ratio' else 0}; "
                                f"give e.g. {var}={example}, or none for no limit")
    return value


def _known_variables() -> set[str]:
    out = {_HEAVY_ENV}
    for name in NAMES:
        out.add(ENV_PREFIX + name.upper())
        for channel in CHANNELS:
            out.add(f"{ENV_PREFIX}{channel.upper()}_{name.upper()}")
    return out


def check_settings(environ: dict[str, str] | None = None) -> None:
    """Refuse a ``CITYDIP_LIMIT_`` variable that names no limit (a typo would otherwise
    be ignored in silence) or whose value cannot be read."""
    env = os.environ if environ is None else environ
    known = _known_variables()
    for var in sorted(k for k in env if k.upper().startswith(ENV_PREFIX)):
        if var not in known:
            close = [k for k in sorted(known) if k.endswith("_" + var[len(ENV_PREFIX):].split("_")[-1])][:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise LimitSettingError(
                f"the environment variable {var} names no limit{hint}; the limits are "
                f"{', '.join(n.upper() for n in NAMES)}, set as {ENV_PREFIX}NAME for every channel or "
                f"{ENV_PREFIX}CHANNEL_NAME for one ({', '.join(c.upper() for c in CHANNELS)}); "
                "see docs/limits.md")
    for channel in CHANNELS:
        limits_for(channel, environ=env)
    heavy_requests(environ=env)


def limits_for(channel: str, *, environ: dict[str, str] | None = None) -> Limits:
    """The limits of ``channel`` (anonymous, editor or cli): the defaults, changed by the
    ``CITYDIP_LIMIT_`` environment variables."""
    if channel not in DEFAULTS:
        raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    env = os.environ if environ is None else environ
    base = DEFAULTS[channel]
    changes: dict[str, object] = {}
    for name in NAMES:
        for var in (f"{ENV_PREFIX}{channel.upper()}_{name.upper()}", ENV_PREFIX + name.upper()):
            raw = env.get(var)
            if raw is not None and raw.strip() != "":
                changes[name] = _parse(name, raw, var)
                break
    return replace(base, **changes) if changes else base


def heavy_requests(*, environ: dict[str, str] | None = None) -> int | None:
    """Heavy requests one server worker runs at once (:data:`HEAVY_REQUESTS`, or
    ``CITYDIP_LIMIT_HEAVY_REQUESTS``)."""
    env = os.environ if environ is None else environ
    raw = env.get(_HEAVY_ENV)
    if raw is None or not raw.strip():
        return HEAVY_REQUESTS
    return _parse("concurrent", raw, _HEAVY_ENV)      # type: ignore[return-value]


# -- the limits in force -------------------------------------------------------------------

_CURRENT: ContextVar[Limits | None] = ContextVar("citydip_limits", default=None)
#: (monotonic time to stop at, the limits that set it, its length in seconds)
_DEADLINE: ContextVar[tuple[float, Limits, float] | None] = ContextVar("citydip_deadline", default=None)


def current() -> Limits:
    """The limits in force: those :func:`applied` last in this context, or the ``cli``
    preset (the library run by someone on their own machine)."""
    lim = _CURRENT.get()
    return lim if lim is not None else limits_for("cli")


@contextmanager
def applied(limits: Limits | str) -> Iterator[Limits]:
    """Hold the readers called inside to ``limits`` (a :class:`Limits` or a channel's
    name), and stop the work with :class:`LimitExceeded` after ``limits.seconds``."""
    lim = limits_for(limits) if isinstance(limits, str) else limits
    token = _CURRENT.set(lim)
    try:
        with deadline(lim.seconds, limits=lim):
            yield lim
    finally:
        _CURRENT.reset(token)


@contextmanager
def deadline(seconds: float | None, *, limits: Limits | None = None) -> Iterator[None]:
    """Stop the work inside after ``seconds`` (``None``: no new deadline): every
    :func:`check_deadline` after that raises :class:`LimitExceeded`. An outer deadline
    that ends sooner still holds."""
    if seconds is None:
        yield
        return
    lim = limits or current()
    end = time.monotonic() + seconds
    outer = _DEADLINE.get()
    if outer is not None and outer[0] <= end:
        yield
        return
    token = _DEADLINE.set((end, lim, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_deadline(*, file: str | None = None) -> None:
    """Raise :class:`LimitExceeded` when the deadline in force has passed (cheap: call it
    in loops)."""
    d = _DEADLINE.get()
    if d is not None and time.monotonic() > d[0]:
        lim = d[1] if d[1].seconds == d[2] else replace(d[1], seconds=d[2])
        raise exceeded(lim, "seconds", found="the work ran out of time and was stopped",
                       file=file, advice="give a smaller input (split the file, fewer texts), or try again "
                                         "when the server is less busy")


@contextmanager
def holding(lock) -> Iterator[None]:
    """Hold ``lock`` (a :class:`threading.Lock`), waiting for it no longer than the
    deadline in force allows."""
    left = remaining()
    if not lock.acquire(timeout=max(left, 0.0) if left is not None else -1):
        check_deadline()
        d = _DEADLINE.get()
        raise exceeded(d[1] if d else current(), "seconds", found="the work waited its whole time for "
                       "another request to finish", advice="try again when the server is less busy")
    try:
        yield
    finally:
        lock.release()


def remaining() -> float | None:
    """Seconds left before the deadline in force, or None."""
    d = _DEADLINE.get()
    return None if d is None else d[0] - time.monotonic()


# -- messages ----------------------------------------------------------------------------------

def _fmt(name: str, value: object) -> str:
    if value is None:
        return "no limit"
    if name in SIZES:
        v = float(value)  # type: ignore[arg-type]
        if v >= MB:
            unit, label = (GB, "GB") if v >= GB else (MB, "MB")
            if v % unit == 0:
                return f"{v / unit:.0f} {label}"
            text = f"{v / unit:.1f}"
            # a size just above a round limit must not read as the limit itself
            return f"{v / unit:.3f} {label}" if text.endswith(".0") else f"{text} {label}"
        if v >= KB:
            return f"{v / KB:.0f} KB"
        return f"{int(v):,} bytes"
    if name == "seconds":
        return f"{float(value):g} s"  # type: ignore[arg-type]
    if name == "compression_ratio":
        return f"{float(value):g}:1"  # type: ignore[arg-type]
    return f"{int(value):,}"  # type: ignore[call-overload]


def size(n: float) -> str:
    """``n`` bytes for people (``1.5 GB``, ``64 MB``)."""
    return _fmt("file_bytes", n)


def exceeded(lim: Limits, name: str, *, found: str, advice: str = "split it into smaller files",
             file: str | None = None, row: int | None = None, field: str | None = None) -> LimitExceeded:
    """The :class:`LimitExceeded` for limit ``name`` of ``lim``: ``found`` says what the
    input holds ("the workbook unpacks to 196 MB"), ``advice`` what to do besides raising
    the limit."""
    value = getattr(lim, name)
    setting = lim.env_name(name)
    who = _CHANNEL_WORDS.get(lim.channel, lim.channel)
    raise_it = (f"or raise the limit with the environment variable {setting}"
                + (" where the server runs" if lim.channel != "cli" else ""))
    extra = ""
    if lim.channel == "anonymous":
        extra = "; logged-in editors and the command line (citydip) have higher limits"
    message = (f"{found}; the limit is {_fmt(name, value)} ({LABELS.get(name, name)} for {who}): "
               f"{advice}, {raise_it}{extra}")
    return LimitExceeded(message, limit=name, value=value, channel=lim.channel, setting=setting,
                         file=file, row=row, field=field)


def describe(limits: Limits) -> dict[str, str]:
    """Each limit of ``limits`` as people read it (``{"file_bytes": "50 MB", ...}``)."""
    return {name: _fmt(name, getattr(limits, name)) for name in NAMES}
