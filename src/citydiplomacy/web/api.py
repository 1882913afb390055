"""The REST API under ``/api/v1``: thin over the library (:class:`~citydiplomacy.Observatory`).

Every route parses its input, calls the library and returns its result as JSON. Reads
are public, send an ``ETag`` and answer ``If-None-Match`` with 304; public reads are kept
in a small in-memory cache, each body valid while the store's data versions it depends
on are unchanged (:mod:`citydiplomacy.store.versions`: kept in the database, raised by
every write of any process), so a change to the store (an edit, an import, from this
server, another worker or the command line) is seen at once, and an edit of one actor
leaves the cached reads of the others. Lists
are pages: ``{"items", "total", "limit", "offset", "next"}``. Writes need an editor's
login or token, go through the same library functions as ``citydip`` and are written to
the audit log. Errors are problem+json bodies (see :mod:`.problems`).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Path as PathParam, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import limits
from ..errors import CitydipError, ValidationError
from ..vocab import Axis, Kind, Layer, Status, TieType
from . import security
from .limiting import Heavy
from .problems import MEDIA_TYPE, PROBLEM_SCHEMA, Problem

log = logging.getLogger("citydiplomacy.web")

TAGS = [
    {"name": "store", "description": "What the store holds, and the whole store as a file."},
    {"name": "actors", "description": "Search actors, read one, its ties, profile, ego network and initiatives."},
    {"name": "frameworks", "description": "SDG goals, targets and indicators; Paris Agreement articles."},
    {"name": "network", "description": "Network measures of the store's graph, and the graph as a file."},
    {"name": "map", "description": "GeoJSON of actors and ties for maps."},
    {"name": "align", "description": "Alignment of a text or a document with the SDGs, Paris and the axes."},
    {"name": "edit", "description": "Writes (an editor's login or token): actors, ties, initiatives, imports."},
    {"name": "account", "description": "Log in and out, your account and your API tokens; the audit log (admin)."},
]

#: the largest page of a list
MAX_LIMIT = 500
#: the longest text aligned through the API (characters); longer texts go as a document.
#: Uploads are held to the limits of the request's channel (citydiplomacy.limits):
#: file_bytes, paragraphs, rows... and seconds.
MAX_ALIGN_TEXT = 100_000
#: default pivots of the betweenness estimate of the metrics endpoint
DEFAULT_SAMPLE = 100

EXPORT_MEDIA = {"graphml": "application/graphml+xml", "gexf": "application/gexf+xml",
                "json": "application/json", "geojson": "application/geo+json"}


# -- responses -------------------------------------------------------------------------------

def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    what = {400: "Bad request", 401: "Not logged in, or the token is unknown or revoked",
            403: "The user's role is too low, or the CSRF token is missing", 404: "Nothing matches",
            405: "Writes are off (read-only observatory)", 409: "Conflict",
            412: "If-Match does not match: the record changed since it was read (read it again)",
            428: "If-Match is required (CITYDIP_API_REQUIRE_IF_MATCH=1): send the ETag of the record as read",
            413: "The upload (or what it unpacks to) is beyond a limit: the body names it",
            422: "Invalid input: the body names the field",
            429: "Too many failed logins, or too many heavy requests of this client (see Retry-After)",
            503: "The store cannot be used, the server is busy, or the work ran out of time (see Retry-After)"}
    return {c: {"description": what.get(c, "Error"),
                "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}} for c in codes}


READ_ERRORS = _problems(404, 422, 503)
WRITE_ERRORS = _problems(401, 403, 404, 413, 422, 429, 503)
#: what a heavy request may also answer (citydiplomacy.web.limiting)
HEAVY_ERRORS = _problems(429, 503)
NOT_MODIFIED = {304: {"description": "Not modified (the ETag sent in If-None-Match still holds)"}}


class Page(BaseModel):
    """One page of a list."""

    items: list[dict[str, Any]]
    total: int = Field(description="how many items there are in all")
    limit: int
    offset: int
    next: str | None = Field(description="the URL of the next page, or null on the last one")


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any) -> bytes:
    """JSON bytes; NaN and infinities (which JSON lacks) become null."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=_default, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(data), ensure_ascii=False, allow_nan=False, default=_default,
                          separators=(",", ":"))
    return text.encode("utf-8")


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)


def respond(request: Request, body: bytes, etag: str, *, media_type: str = "application/json",
            private: bool = False, status: int = 200) -> Response:
    """A response with its ETag, or 304 when the client already holds it."""
    headers = {"ETag": etag, "Cache-Control": "private, no-cache" if private else "no-cache"}
    if status == 200 and _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def json_response(request: Request, data: Any, *, private: bool = False, status: int = 200) -> Response:
    body = dumps(data)
    return respond(request, body, etag_of(body), private=private, status=status)


class Tagged:
    """What a read's ``fn`` returns (instead of the data alone) when the data depends only
    on the own facts of the actors named in ``actors`` (an actor, its ties, a page of
    search results): the cached body then stays while other actors are written
    (:mod:`citydiplomacy.store.versions`)."""

    __slots__ = ("data", "actors")

    def __init__(self, data: Any, actors: Any):
        self.data = data
        self.actors = actors


class Entry:
    """A cached body: its ETag, the ``all`` version it was computed at (``seen``) and the
    version scopes it depends on (``deps``)."""

    __slots__ = ("body", "etag", "seen", "deps")

    def __init__(self, body: bytes, etag: str, seen: int, deps: tuple[str, ...]):
        self.body, self.etag, self.seen, self.deps = body, etag, seen, deps


class DataVersions:
    """This process's copy of the store's data versions (:mod:`citydiplomacy.store.versions`),
    kept up to date by reading what changed since the version it knows.

    :meth:`fresh` returns once a read of the versions that *started after the call*
    has finished: then every write acknowledged before the request came, by any process,
    is known. Concurrent requests share one read: a request that comes while a read is
    under way waits for the next one, which starts when that one ends. On SQLite, while
    the store's files are untouched, the versions read less than ``VERSION_TTL`` seconds
    ago are used (file times are coarse)."""

    def __init__(self, store):
        self.store = store
        self.known: dict[str, int] = {}
        self.last = -1
        self._lock = threading.Lock()
        self._started = 0
        self._completed = 0
        self._task = None
        self._file: tuple | None = None      # (signature, time) of the last read, SQLite
        self._conn = None                     # PostgreSQL: this process's own connection
        self._conn_lock = threading.Lock()

    @property
    def all(self) -> int:
        return self.known.get("all", 0)

    def valid(self, entry: Entry) -> bool:
        known = self.known
        seen = entry.seen
        for d in entry.deps:
            if known.get(d, 0) > seen:
                return False
        return True

    def forget(self) -> None:
        """After a write through this process: the next :meth:`fresh` reads the store."""
        self._file = None

    def refresh(self) -> bool:
        """Read what changed since the version known (blocking); False when the store's
        versions went back (another store at the same place): everything cached is stale."""
        from ..store.versions import ALL, changed_since

        sig = _file_signature(self.store.path)
        rows = self._query(lambda conn: changed_since(conn, self.last))
        with self._lock:
            ok = True
            top = dict(rows).get(ALL, 0)
            known = self.known
            if top < known.get(ALL, 0):
                known, self.last, ok = {}, -1, False
                rows = self._query(lambda conn: changed_since(conn, -1))
            for scope, version in rows:
                if version > known.get(scope, -1):
                    known[scope] = version
            self.known = known
            self.last = max([self.last, *(v for _, v in rows)])
            if sig is not None:
                self._file = (sig, time.monotonic())
        return ok

    def _query(self, query: Callable[[Any], Any]) -> Any:
        """``query(conn)`` on this process's own connection to a PostgreSQL store, kept
        open in autocommit (one round trip: no pool check-out, ping, BEGIN or ROLLBACK;
        opened again once when the server closed it); on SQLite a connection of the pool."""
        if not self.store.is_postgres:
            with self.store.connect() as conn:
                return query(conn)
        with self._conn_lock:
            for attempt in (0, 1):
                try:
                    if self._conn is None:
                        self._conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                    return query(self._conn)
                except Exception:
                    conn, self._conn = self._conn, None
                    if conn is not None:
                        try:
                            conn.close()
                        except Exception:  # noqa: BLE001 - the connection is gone already
                            pass
                    if attempt:
                        raise

    def close(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _file_unchanged(self) -> bool:
        if self._file is None or self.store.path is None:
            return False
        sig, at = self._file
        return time.monotonic() - at < VERSION_TTL and _file_signature(self.store.path) == sig

    async def fresh(self, on_reset: Callable[[], None]) -> None:
        import asyncio

        if self._file_unchanged():
            return
        loop = asyncio.get_running_loop()
        need = self._started + 1
        while self._completed < need:
            task = self._task
            if task is None or task.done() or task.get_loop() is not loop:
                self._started += 1
                task = self._task = loop.create_task(self._read(self._started, on_reset))
            await asyncio.shield(task)

    async def _read(self, number: int, on_reset: Callable[[], None]) -> None:
        ok = await anyio.to_thread.run_sync(self.refresh)
        if not ok:
            on_reset()
        self._completed = max(self._completed, number)


class ResponseCache:
    """The bodies of public reads, keyed by the request and valid while the data versions
    they depend on are unchanged (:class:`DataVersions`), least recently used first out
    when the cache holds more than ``max_bytes``. A key being computed is computed once:
    concurrent requests for it wait for the first. ``hits`` and ``misses`` count reads."""

    def __init__(self, max_bytes: int = 128 * 2**20):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple, versions: DataVersions) -> Entry | None:
        """The entry of ``key`` if it is still valid."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and versions.valid(hit):
                self._items.move_to_end(key)
                return hit
            return None

    def put(self, key: tuple, entry: Entry) -> None:
        if len(entry.body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._items[key] = entry
            self.size += len(entry.body)
            while self.size > self.max_bytes and self._items:
                _, gone = self._items.popitem(last=False)
                self.size -= len(gone.body)

    def compute(self, key: tuple, fn: Callable[[], Any], versions: DataVersions, *, raw: bool = False) -> Entry:
        """The valid entry of ``key``, or ``fn()``'s result as JSON (``raw``: ``fn``
        returns the body's bytes itself), stored with the data version it was read at."""
        with self._lock:
            lock = self._computing.setdefault(key, threading.Lock())
        try:
            with lock:
                hit = self.get(key, versions)
                if hit is None:
                    self.misses += 1
                    seen = versions.all            # read before the data: a later write makes it stale
                    data = fn()
                    deps: tuple[str, ...] = ("all",)
                    if isinstance(data, Tagged):
                        from ..store.versions import STRUCTURE, actor_scope

                        deps = (STRUCTURE, *sorted({actor_scope(a) for a in data.actors if a}))
                        data = data.data
                    body = data if raw else dumps(data)
                    hit = Entry(body, etag_of(body), seen, deps)
                    self.put(key, hit)
        finally:
            with self._lock:
                self._computing.pop(key, None)
        return hit

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


#: reads computed at once per process: more only share the same core and the GIL with
#: the event loop that answers the cached reads
COMPUTE_THREADS = int(os.environ.get("CITYDIP_WEB_COMPUTE_THREADS", "2"))
#: the longest the data versions read from a SQLite store whose files are untouched are
#: trusted without reading them again (seconds)
VERSION_TTL = 1.0


def _file_signature(path: Path | None) -> tuple | None:
    """(mtime, size) of the store file and its write-ahead log: a commit by any process
    changes one of them."""
    if path is None:
        return None
    out = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _versions(request: Request) -> DataVersions:
    state = request.app.state
    versions = getattr(state, "versions", None)
    if versions is None or versions.store is not _obs(request).store:
        versions = state.versions = DataVersions(_obs(request).store)
    return versions


def data_version(request: Request) -> tuple:
    """What identifies the store's content now (:func:`citydiplomacy.store.versions.token`;
    one query)."""
    from ..store.versions import token

    with _obs(request).store.connect() as conn:
        return token(conn)


def store_changed(request: Request) -> None:
    """After a write through this app: the next read asks the store for its versions."""
    _versions(request).forget()


async def cached(request: Request, fn: Callable[[], Any], *, raw: bool = False,
                 media_type: str = "application/json", heavy: bool = False) -> Response:
    """A public read: its body from the cache while what it depends on is unchanged, or
    computed by ``fn()`` in a worker thread (the library blocks), with its ETag. ``fn``
    may return :class:`Tagged` data (it depends on some actors alone). A ``heavy``
    computation takes a slot of the worker's heavy requests (:mod:`.limiting`) while it runs."""
    versions = _versions(request)
    cache = request.app.state.cache
    await versions.fresh(cache.clear)
    key = (request.url.path, tuple(sorted(request.query_params.multi_items())))
    hit = cache.get(key, versions)
    if hit is not None:
        cache.hits += 1
    else:
        limiter = getattr(request.app.state, "compute_limiter", None)
        if limiter is None:
            limiter = request.app.state.compute_limiter = anyio.CapacityLimiter(COMPUTE_THREADS)
        compute = functools.partial(anyio.to_thread.run_sync,
                                    functools.partial(cache.compute, key, fn, versions, raw=raw), limiter=limiter)
        if heavy:
            from .limiting import heavy_slot

            _, slot = await heavy_slot(request)
            with slot:
                hit = await compute()
        else:
            hit = await compute()
    return respond(request, hit.body, hit.etag, media_type=media_type)


def page(request: Request, items: list[Any], limit: int, offset: int, *, total: int | None = None) -> dict[str, Any]:
    """The page ``items[offset:offset + limit]`` (or ``items`` itself when ``total`` is
    given: the caller already sliced), with the URL of the next one."""
    if total is None:
        total = len(items)
        items = items[offset:offset + limit]
    nxt = None
    if offset + limit < total:
        nxt = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next": nxt}


def _obs(request: Request):
    return request.app.state.obs


def _actor_read(actor: dict[str, Any]) -> Any:
    """An actor as read: it depends on itself and the other actors of its name (a city
    network's membership figures count its members' ties: on anything)."""
    if actor.get("kind") == "city_network":
        return actor
    return Tagged(actor, [actor["id"], *(a["id"] for a in actor.get("alternatives") or [])])


def _graph(request: Request, **filters: Any):
    """The store's graph with these filters (built once per data version; one build at a time)."""
    with request.app.state.graph_lock:
        return _obs(request).graph(**filters)


def _recommend(request: Request, task: str, ref: str, **options: Any) -> dict[str, Any]:
    """A recommendation on the app's graph (built and fitted once per data version; one
    build at a time)."""
    from .. import recommend

    obs = _obs(request)
    with request.app.state.graph_lock:
        graph = obs.graph()
        rec = recommend.recommender(obs.store, graph)   # noqa: F841  (fitted here, under the lock)
    fn = {"partners": recommend.recommend_partners, "networks": recommend.recommend_networks,
          "members": recommend.recommend_members}[task]
    return fn(obs.store, ref, graph=graph, **options)


def _audit(request: Request, user, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    from .. import accounts

    accounts.audit(_obs(request).store, user, action, target, detail)


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """What an audit entry keeps of a report: what changed, not the whole problem list."""
    keys = ("importer", "source", "run_id", "rows_read", "created", "updated", "unchanged", "ended",
            "rejected", "ambiguous", "unresolved", "changes")
    return {k: report[k] for k in keys if k in report and report[k] not in (None, {}, [])}


def _rename_field(exc: ValidationError, mapping: dict[str, str]) -> ValidationError:
    if exc.field in mapping:
        return ValidationError(exc.detail, field=mapping[exc.field], row=exc.row, file=exc.file)
    return exc


# -- common parameters -------------------------------------------------------------------------

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Ref = Annotated[str, PathParam(min_length=1, max_length=300,
                               description="An actor: its id (barcelona-es), Wikidata QID, GeoNames id or name.")]
CountryQ = Annotated[str | None, Query(max_length=100, description="A country name or ISO code (ES, ESP, Spain).")]
AsOf = Annotated[str | None, Query(max_length=10, description="A date: YYYY, YYYY-MM or YYYY-MM-DD.")]
Engaged = Annotated[bool, Query(description="Add the ties derived from the engagement register (co_signed, met_at, "
                                            "engaged_with; docs/network.md).")]
BlocQ = Annotated[str | None, Query(max_length=100, description="A bloc's actor id (eu, au, asean ...).")]
Lang = Annotated[str, Query(min_length=2, max_length=10, description="Language of the titles (en, fr, es, ...).")]
# recommendations (citydiplomacy.recommend)
ThemeQ = Annotated[str | None, Query(max_length=300, description="An SDG goal or target (11, 11.6), a Paris "
                                    "article (paris:7), an axis (digital) or a few words ('urban heat').")]
CountriesQ = Annotated[list[str] | None, Query(max_length=50, description="Only candidates in these countries "
                                              "(names or ISO codes).")]
BlocsQ = Annotated[list[str] | None, Query(max_length=20, description="Only candidates in these blocs' member "
                                          "states (eu, asean ...).")]
BandsQ = Annotated[list[Literal["small", "medium", "large", "metropolis"]] | None, Query(
    description="Population bands: small (< 50,000), medium (< 250,000), large (< 1 million), metropolis.")]
KindsQ = Annotated[list[Literal["city", "region"]] | None, Query(description="city or region.")]
TopQ = Annotated[int, Query(ge=1, le=200, description="How many recommendations.")]
Layers = Annotated[list[Layer] | None, Query(description="Only actors on these layers.")]
Types = Annotated[list[TieType] | None, Query(description="Only ties of these types.")]
OneType = Annotated[TieType | None, Query(description="Only ties of this type.")]
Axes = Annotated[list[Axis] | None, Query(description="Only ties serving these axes.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Provenanced(_Body):
    source: str = Field(min_length=1, max_length=500,
                        description="Where this is documented (a decision, report or web page): its provenance.")
    url: str | None = Field(None, max_length=2000, description="Address of the source.")
    licence: str | None = Field(None, max_length=200, description="Licence of the source, e.g. CC BY 4.0.")
    as_of: str | None = Field(None, max_length=10, description="Date the source describes (YYYY[-MM[-DD]]).")
    dry_run: bool = Field(False, description="Validate and report what would change; change nothing.")


class ActorIn(Provenanced):
    """A new actor."""

    name: str = Field(min_length=1, max_length=300)
    kind: Kind
    id: str | None = Field(None, max_length=120, description="Default: the name and country as a slug.")
    country: str | None = Field(None, max_length=100, description="Name or ISO code.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    population: int | None = Field(None, ge=0, le=10**11)
    wikidata: str | None = Field(None, max_length=20, description="A Wikidata id such as Q1492.")
    geonames_id: int | None = Field(None, gt=0, le=2**53)
    admin1: str | None = Field(None, max_length=200)
    founded: int | None = Field(None, ge=0, le=2100)
    axes: list[Axis] | None = None

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "Eurocities", "kind": "city_network", "source": "https://eurocities.eu"}})


class ActorPatch(Provenanced):
    """Changes to an actor's fields (only those given change)."""

    name: str | None = Field(None, min_length=1, max_length=300)
    country: str | None = Field(None, max_length=100)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    population: int | None = Field(None, ge=0, le=10**11)
    wikidata: str | None = Field(None, max_length=20)
    geonames_id: int | None = Field(None, gt=0, le=2**53)
    admin1: str | None = Field(None, max_length=200)
    founded: int | None = Field(None, ge=0, le=2100)
    axes: list[Axis] | None = None

    model_config = ConfigDict(json_schema_extra={"example": {
        "population": 1660000, "source": "INE municipal register 2024"}})


class TieIn(Provenanced):
    """A tie from ``actor`` to ``target`` (an actor, or a framework such as sdg)."""

    actor: str = Field(min_length=1, max_length=300, description="The tie's source actor (id or name).")
    target: str = Field(min_length=1, max_length=300, description="The other end (actor id or name, or framework).")
    type: TieType
    since: str | None = Field(None, max_length=10)
    until: str | None = Field(None, max_length=10)
    status: Status | None = None
    axes: list[Axis] | None = None
    weight: float | None = Field(None, ge=0, le=1e9)

    model_config = ConfigDict(json_schema_extra={"example": {
        "actor": "barcelona-es", "target": "c40", "type": "member_of", "since": "2010",
        "source": "https://www.c40.org/cities/"}})


class InitiativeIn(Provenanced):
    """An initiative of the actor (added, or updated when the title exists)."""

    title: str = Field(min_length=1, max_length=500)
    text: str = Field("", max_length=MAX_ALIGN_TEXT)
    since: str | None = Field(None, max_length=10)
    until: str | None = Field(None, max_length=10)
    status: Status | None = None
    axes: list[Axis] | None = None
    partners: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=200)


class AlignIn(_Body):
    """A text to align."""

    text: str = Field(min_length=1, max_length=MAX_ALIGN_TEXT,
                      description=f"At most {MAX_ALIGN_TEXT:,} characters; upload longer texts as a document.")
    lang: Literal["auto", "en", "fr", "es", "de"] = "auto"
    level: Literal["goal", "target"] = "target"
    frameworks: list[Literal["sdg", "paris"]] = Field(default_factory=lambda: ["sdg", "paris"], min_length=1,
                                                      max_length=2)
    mode: Literal["auto", "hybrid", "light"] = Field(
        "auto", description="hybrid (lexical + MiniLM), light (lexical only), or auto (hybrid when available).")

    model_config = ConfigDict(json_schema_extra={"example": {
        "text": "Bus lanes and 2,000 new social housing units cut commuting emissions."}})


class RecommendBatchIn(_Body):
    """Recommendations for many cities, run as a job."""

    cities: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        ..., min_length=1, max_length=1000, description="The cities: ids, names or Wikidata QIDs.")
    kind: Literal["partners", "networks"] = Field("partners", description="What to recommend for each city.")
    theme: str | None = Field(None, max_length=200, description="A theme: an SDG goal or target, a Paris article, "
                                                                "an axis or a few words.")
    top: int = Field(10, ge=1, le=50, description="How many for each city.")

    model_config = ConfigDict(json_schema_extra={"example": {"cities": ["Lyon", "Porto", "Gdańsk"],
                                                             "kind": "partners", "theme": "11.6", "top": 5}})


class IndexBuildIn(_Body):
    """An index build, run as a job."""

    framework: str = Field("shipped", max_length=1000, description="shipped, or the framework file of an "
                                                                    "earlier build (see GET /index/builds).")
    years: str | None = Field(None, max_length=9, description="A year or a range (a panel), e.g. 2015-2025; "
                                                              "none: the current snapshot.")
    replications: int | None = Field(None, ge=0, le=10_000, description="Monte Carlo replications (default: "
                                                                         "the framework's, 1000; 0 skips it).")
    seed: int | None = Field(None, ge=0, le=2**31, description="The Monte Carlo's random seed.")
    name: str | None = Field(None, max_length=64, description="A name of its own, besides its stable name.")
    publish: bool = Field(False, description="Publish it when it is built (default: only a store's first "
                                             "build is published).")

    model_config = ConfigDict(json_schema_extra={"example": {"years": "2015-2025", "replications": 200,
                                                             "name": "panel", "publish": False}})


class PublishIn(_Body):
    build: str = Field(min_length=1, max_length=200, description="The build's name or the name given to it.")


class LoginIn(_Body):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class TokenIn(_Body):
    label: str = Field(min_length=1, max_length=200, description="What the token is for (a script's name).")


# -- the ego network as node-link JSON -----------------------------------------------------------

# -- uploads ---------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _safe_name(filename: str | None, default: str) -> str:
    name = Path((filename or "").replace("\\", "/")).name
    name = _SAFE_NAME.sub("_", name).strip(" .") or default
    return name[-120:]


def _save_upload(upload: UploadFile, directory: Path, default: str, suffixes: set[str],
                 lim: limits.Limits) -> Path:
    """The upload copied to ``directory``, refused past ``lim.file_bytes`` as it comes."""
    name = _safe_name(upload.filename, default)
    if Path(name).suffix.lower() not in suffixes:
        raise ValidationError(f"'{name}' is not a file type this accepts; give a file ending in "
                              f"{', '.join(sorted(suffixes))}", field="file")
    path = directory / name
    size = 0
    with path.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            if lim.file_bytes is not None and size > lim.file_bytes:
                raise limits.exceeded(lim, "file_bytes", found=f"the file is larger than {limits.size(lim.file_bytes)}",
                                      field="file", file=name)
            out.write(chunk)
    if size == 0:
        raise ValidationError("the file is empty", field="file", file=name)
    return path


def _clean_report(report: dict[str, Any], tmp: Path, name: str) -> dict[str, Any]:
    """The report with the temporary upload path replaced by the uploaded file's name."""
    text = json.dumps(report, ensure_ascii=False, default=str)
    for p in sorted({str(tmp / name), str(tmp)}, key=len, reverse=True):
        text = text.replace(json.dumps(p)[1:-1], name)
    return json.loads(text)


def _in_upload(exc: ValidationError, name: str) -> ValidationError:
    """A library error about an uploaded file, naming the file as uploaded (not its
    temporary path) and the form field ``file`` when no finer field is known."""
    if not exc.file:
        return exc
    if isinstance(exc, limits.LimitExceeded):
        return limits.LimitExceeded(exc.detail, limit=exc.limit, value=exc.value, channel=exc.channel,
                                    setting=exc.setting, field=exc.field or "file", row=exc.row, file=name)
    return ValidationError(exc.detail, field=exc.field or "file", row=exc.row, file=name)


IMPORT_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".parquet"}
DOCUMENT_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".md", ".txt"}


# -- the router ----------------------------------------------------------------------------------------

def build_router(*, read_only: bool = False) -> APIRouter:
    """The API's routes; with ``read_only`` no write route is registered."""
    r = APIRouter(prefix="/api/v1")
    _reads(r)
    _indices(r)
    _align(r)
    if not read_only:
        _writes(r)
        _index_admin(r)
        _jobs(r)
        _account(r)
    return r


IndexAxis = Literal["sustainability", "digital", "engagement", "overall"]


BuildQ = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                     description="An index build by its name or the name given to it "
                                                 "(GET /index/builds); default: the published build.")]


def _indices(r: APIRouter) -> None:
    """The axis indices (``citydip index build``): the published build, or another by name."""
    @r.get("/index", tags=["indices"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The published index build (or another, by name)")
    async def index_run(request: Request, build: BuildQ = None) -> Response:
        """How the published build (or the build named ``build``) was made: its ``name`` (the
        framework, the hash of its content, the years, the options and the data version), the
        name given to it (``label``), whether it is ``published``, and in its ``summary`` every
        choice of the pipeline and of the Monte Carlo, the weights, the multivariate checks, the
        indicators dropped and why, how many cities are scored and why the others are not. 404
        when no index has been built (``citydip index build``) or no build has that name."""
        return await cached(request, lambda: _obs(request).index_build(build))

    @r.get("/index/builds", tags=["indices"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The index builds")
    async def index_builds(request: Request, limit: Limit = 100, offset: Offset = 0) -> Response:
        """Every build, newest first: ``name``, ``label``, ``published``, ``framework`` and
        ``framework_hash``, ``years``, ``options`` (replications, seed), ``data_version``,
        ``built_at``, ``scored``. Any of them can be read with ``?build=NAME``."""
        return await cached(request, lambda: page(request, _obs(request).index_builds(), limit, offset))

    @r.get("/index/rank", tags=["indices"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="Cities ranked on an axis")
    async def index_rank(request: Request, axis: IndexAxis = "overall",
                         region: Annotated[str | None, Query(max_length=40, description="A continent: Europe, "
                                                             "Asia, Africa, North America, South America, "
                                                             "Oceania.")] = None,
                         bloc: BlocQ = None, country: CountryQ = None,
                         band: Annotated[str | None, Query(max_length=20, description="A population band: "
                                                           "under 100k, 100k–500k, 500k–1M, 1M–5M, "
                                                           "5M and more.")] = None,
                         year: Annotated[int | None, Query(ge=1900, le=2100, description="A year of a panel "
                                                           "build (default: the latest).")] = None,
                         top: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many cities.")] = 20,
                         low_data: Annotated[bool, Query(description="Also list the cities whose rank is "
                                                         "withheld for low data (after the ranked ones, "
                                                         "without a rank).")] = False,
                         build: BuildQ = None) -> Response:
        """Best first: each city's score, its rank among the cities ranked on the axis, the
        5th–95th percentile of that rank over the Monte Carlo replications (``rank_lo``,
        ``rank_hi``), its data ``coverage`` on the axis (the share of the axis's indicators the
        store holds its record for) and its ``low_data`` mark; ``withheld`` counts the cities
        whose rank the build's low-data rule (``low_data_rule``) withholds. From the published
        build, or the one named ``build``."""
        return await cached(request, lambda: _obs(request).index_rank(
            axis=axis, region=region, bloc=bloc, country=country, band=band, year=year, top=top,
            low_data=low_data, build=build))

    @r.get("/actors/{ref}/index", tags=["indices", "actors"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="A city's axis scores, rank intervals, peers, strengths and weaknesses")
    async def actor_index(request: Request, ref: Ref, build: BuildQ = None) -> Response:
        """Per axis and overall: score, rank, rank interval and median rank, data coverage and
        the low-data mark (``note`` says why a rank is withheld); its rank in each peer group
        (population band, continent, blocs); the indicators where it stands highest and lowest
        among those the store holds its record for; the yearly series of a panel build — or why
        it is not scored. From the published build, or the one named ``build``."""
        return await cached(request, lambda: _obs(request).index_show(ref, build=build))


def _index_admin(r: APIRouter) -> None:
    """An administrator builds the indices (as a job), publishes a build, removes one."""
    responses = _problems(401, 403, 404, 409, 422, 503)

    @r.post("/index/builds", tags=["indices"], status_code=202, responses={
        202: {"description": "Accepted: the build runs as a job; poll the job's url (also in Location)"},
        **responses}, summary="Build the indices (admin)")
    def index_build(request: Request, body: IndexBuildIn, user: AdminWrites) -> Response:
        """Builds the indices of the shipped framework (or of the framework file of an earlier
        build) as a job (``GET /jobs/{id}`` follows its
        steps; its result is the build's report, with its ``name``). The build lives beside
        the others; it is published only with ``publish`` (or when it is the store's first).
        The build is written to the audit log (``index.build``, channel api). One build at a
        time: 409 while another is queued or running."""
        from ..indices.builds import check_framework, check_label, parse_years

        years = parse_years(body.years)            # a 422 now, not the job's error
        label = check_label(body.name)
        store = _obs(request).store
        framework = check_framework(store, body.framework)
        args = {"store": str(store.path or store.url), "framework": framework, "years": years, "replications": body.replications,
                "seed": body.seed, "name": label, "publish": body.publish, "who": user.name, "channel": "api"}
        from ..jobs import submit_one

        job, submitted = submit_one(request.app.state.jobs, "index-build", args, owner=user.name, params={
            "task": "index build", "framework": body.framework, "years": body.years,
            "replications": body.replications, "name": label, "publish": body.publish})
        if not submitted:
            raise Problem(409, "Conflict", f"an index build is already {job.status} (job {job.id}, started by "
                                           f"{job.owner}): wait for it to finish, then start yours")
        out = json_response(request, _job_json(request, job), private=True, status=202)
        out.headers["Location"] = f"/api/v1/jobs/{job.id}"
        return out

    @r.post("/index/publish", tags=["indices"], responses={200: {"description": "Published (or already)"},
                                                           **responses}, summary="Publish a build (admin)")
    def index_publish(request: Request, body: PublishIn, user: AdminWrites) -> Response:
        """Make the build named ``build`` the one the web pages and these routes show by
        default; ``changed`` is false when it already was. Written to the audit log
        (``index.publish``: the build and the ``previous`` one, channel api)."""
        from ..store.audit import acting_as

        with acting_as(user.name, "api"):
            result = _obs(request).index_publish(body.build)
        store_changed(request)
        return json_response(request, result, private=True)

    @r.delete("/index/builds/{name}", tags=["indices"], responses={200: {"description": "Removed"}, **responses},
              summary="Remove a build (admin)")
    def index_remove(request: Request, user: AdminWrites,
                     name: Annotated[str, PathParam(min_length=1, max_length=200,
                                                    pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]) -> Response:
        """Delete a build and its results; the published build cannot be removed (422:
        publish another first)."""
        from ..store.audit import acting_as

        with acting_as(user.name, "api"):
            result = _obs(request).index_remove(name)
        store_changed(request)
        return json_response(request, result, private=True)


def _reads(r: APIRouter) -> None:
    @r.get("/status", tags=["store"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="What the store holds")
    async def status(request: Request) -> Response:
        """Actors by layer and kind, ties by type and status, frameworks, sources and import runs."""
        def build():
            s = _obs(request).status()
            s.pop("store", None)     # the server's file path is nobody else's business
            from .. import __version__
            return {**s, "version": __version__, "read_only": bool(request.app.state.read_only)}
        return await cached(request, build)

    @r.get("/search", tags=["actors"], response_model=Page, responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="Search actors by name")
    async def search(request: Request,
                     q: Annotated[str, Query(min_length=1, max_length=200,
                                             description="A name in any language or spelling.")],
                     kind: Kind | None = None, layer: Layer | None = None, country: CountryQ = None,
                     limit: Limit = 20, offset: Offset = 0) -> Response:
        """Actors whose name or alias matches ``q`` (accent- and case-insensitive), best first."""
        def build():
            try:
                hits = _obs(request).search(q, kind=kind, country=country, layer=layer, limit=offset + limit + 1000)
            except ValidationError as exc:
                raise _rename_field(exc, {"text": "q"}) from None
            out = page(request, hits, limit, offset)
            # the matches and their order depend on names and importance, which local
            # writes leave; the page shows these actors' own figures
            return Tagged(out, [h["id"] for h in out["items"]])
        return await cached(request, build)

    @r.get("/resolve", tags=["actors"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="Resolve a messy name to an actor")
    async def resolve(request: Request,
                      name: Annotated[str, Query(min_length=1, max_length=200,
                                                 description="A name as a list writes it: 'Muenchen', "
                                                             "'Budapest XI – Újbuda', 'Maui County'.")],
                      country: Annotated[str | None, Query(max_length=100, description=(
                          "Its country: a name, an ISO code or a variant (England, Holland)."))] = None,
                      region: Annotated[str | None, Query(max_length=100,
                                                          description="Its region, if known.")] = None) -> Response:
        """The actor the name means, with its score, the rule that decided and the
        evidence; or, when the resolver is not sure, ``status`` ambiguous or unresolved and
        the ranked candidates. A small town or subdivision the store does not hold yet is
        answered with ``in_store: false``. The first call builds the gazetteer (seconds)."""
        return await cached(request, lambda: _obs(request).resolve(name, country, region=region))

    @r.get("/actors/{ref}", tags=["actors"], responses={**READ_ERRORS, **NOT_MODIFIED}, summary="One actor")
    async def actor(request: Request, ref: Ref) -> Response:
        """The actor with its provenance and aliases; a name that several actors bear
        resolves to the best known, the others listed in ``alternatives``."""
        return await cached(request, lambda: _actor_read(_obs(request).get(ref)))

    @r.get("/actors/{ref}/ties", tags=["actors"], response_model=Page, responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The ties of an actor")
    async def actor_ties(request: Request, ref: Ref,
                         type: OneType = None,  # noqa: A002
                         layer: Annotated[Layer | None, Query(description="Only ties to actors on this layer.")] = None,
                         axis: Annotated[Axis | None, Query(description="Only ties serving this axis.")] = None,
                         kind: Annotated[Kind | None, Query(description="Only ties to actors of this kind.")] = None,
                         country: CountryQ = None, bloc: BlocQ = None,
                         as_of: AsOf = None, limit: Limit = 100, offset: Offset = 0) -> Response:
        """Both directions, each tie with the other end (``other``, ``other_name``, ``other_kind``,
        ``other_layer``, ``other_country``), its ``direction``, its provenance, its ``status``,
        ``since`` and ``until``, its ``attrs`` (``suspended_since``, and ``changes``: each curated
        change of status or dates with its source) and its ``state`` (the status at ``as_of``,
        or now). ``country`` and ``bloc`` filter on the other end's country (the bloc's member
        states); ``as_of`` keeps the ties in force at that date (a tie suspended later is in force
        before its suspension)."""
        def build():
            from ..actors import list_ties

            store = _obs(request).store
            actor = _obs(request).get(ref)
            rows = list_ties(store, actor["id"], type=type, layer=layer, axis=axis, kind=kind,
                             country=country, bloc=bloc, as_of=as_of)
            out = page(request, rows, limit, offset)
            if bloc:
                return out          # a bloc's members are ties of other actors
            # a tie is written with both its ends' versions raised; what the rows show of
            # the other end (name, kind, layer, country) only a non-local write changes
            return Tagged(out, [actor["id"], *(a["id"] for a in actor.get("alternatives") or [])])
        return await cached(request, build)

    @r.get("/actors/{ref}/profile", tags=["actors"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The diplomacy profile of an actor")
    async def actor_profile(request: Request, ref: Ref,
                            network: Annotated[bool, Query(
                                description="Add centrality ranks, brokerage and reach (seconds the first time).")]
                            = False, build: BuildQ = None) -> Response:
        """Ties by layer, networks by axis, twinning partners by country and bloc, reach to the
        macro layer, initiatives; with ``network``, its standing in the store's graph; its
        scores, ranks and data coverage (``index``) from the published index build, or the one
        named ``build`` (404 naming the builds when there is none of that name)."""
        def answer():
            return _obs(request).profile(ref, network=network, build=build,
                                         graph=_graph(request) if network else None)
        return await cached(request, answer)

    @r.get("/actors/{ref}/ego", tags=["actors", "network"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The ego network of an actor (node-link JSON)")
    async def actor_ego(request: Request, ref: Ref,
                        depth: Annotated[int, Query(ge=1, le=3, description="Steps from the actor.")] = 1,
                        type: Types = None,  # noqa: A002
                        max_nodes: Annotated[int, Query(ge=2, le=2000,
                                                        description="Keep the nearest this many actors.")] = 300
                        ) -> Response:
        """Everyone within ``depth`` ties and the ties among them, as ``nodes`` and ``edges``
        (for a graph drawing); ``truncated`` says whether only the nearest ``max_nodes`` were kept."""
        def build():
            actor_id = _obs(request).get(ref)["id"]
            dg = _graph(request, tie_types=[t.value for t in type] if type else None)
            from ..network.reach import ego_node_link

            return ego_node_link(dg, actor_id, depth=depth, max_nodes=max_nodes)
        return await cached(request, build)

    @r.get("/actors/{ref}/ego/layout", tags=["actors", "network"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The ego network of an actor, aggregated and laid out for drawing")
    async def actor_ego_layout(request: Request, ref: Ref,
                               depth: Annotated[int, Query(ge=1, le=3, description="Steps from the actor.")] = 1,
                               type: Types = None,  # noqa: A002
                               group_by: Annotated[Literal["auto", "kind", "layer", "country"], Query(
                                   description="How the actors not drawn one by one are grouped.")] = "auto",
                               expand: Annotated[list[str] | None, Query(
                                   max_length=50, description="Group nodes to open (an id given k times opens "
                                                              "k pages of its actors).")] = None
                               ) -> Response:
        """The ego network as a hub's page draws it: on each ring, the actors drawn one by one
        and "+85 more" group nodes for the others, one edge per pair of drawn nodes with its
        count, positions and label boxes placed so that no two labels overlap (see
        ``citydiplomacy.network.ego``)."""
        def build():
            actor_id = _obs(request).get(ref)["id"]
            dg = _graph(request, tie_types=[t.value for t in type] if type else None)
            from ..network.ego import ego_view

            return ego_view(dg, actor_id, depth=depth, group_by=group_by, expand=expand or ())
        return await cached(request, build)

    @r.get("/actors/{ref}/initiatives", tags=["actors"], response_model=Page,
           responses={**READ_ERRORS, **NOT_MODIFIED}, summary="The initiatives of an actor")
    async def actor_initiatives(request: Request, ref: Ref, limit: Limit = 100, offset: Offset = 0) -> Response:
        """Its initiatives with the goals, targets and Paris articles each serves, and provenance."""
        return await cached(request, lambda: page(request, _obs(request).initiatives(ref), limit, offset))

    @r.get("/networks/coverage", tags=["actors"], response_model=Page, responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="Membership coverage of every city network")
    async def networks_coverage(request: Request, limit: Limit = 100, offset: Offset = 0) -> Response:
        """Each city network with its members held, its own published member count and the
        coverage ("33 of about 200 members held"), largest membership first. One network's
        figures, with the sources of its members, are in its actor JSON under ``members``."""
        return await cached(request, lambda: page(request, _obs(request).coverage(), limit, offset))

    # -- recommendations (citydiplomacy.recommend) ----------------------------------------

    @r.get("/recommend/partners/{ref}", tags=["recommend"], responses={**READ_ERRORS, **HEAVY_ERRORS, **NOT_MODIFIED},
           summary="Candidate partner cities for a city, with the reasons")
    async def recommend_partners(request: Request, ref: Ref, theme: ThemeQ = None, country: CountriesQ = None,
                                 bloc: BlocsQ = None, band: BandsQ = None, kind: KindsQ = None,
                                 max_km: Annotated[float | None, Query(gt=0, le=20040, description="Only candidates "
                                                                       "within this distance (km).")] = None,
                                 include_existing: bool = False, top: TopQ = 20) -> Response:
        """Candidate partners, best first: each with its score (log-odds of the fitted model,
        plus the theme's weight), its reasons in words (``why``) and as records (``reasons``:
        signal, value, text, evidence with actor ids and tie ids). ``message`` says when the
        city has no ties and the recommendations come from its profile. The first request
        after the store changes fits the models (tens of seconds): a heavy request."""
        return await cached(request, lambda: _recommend(
            request, "partners", ref, theme=theme, countries=country, blocs=bloc, band=band, kinds=kind,
            max_km=max_km, exclude_existing=not include_existing, top=top), heavy=True)

    @r.get("/recommend/networks/{ref}", tags=["recommend"], responses={**READ_ERRORS, **HEAVY_ERRORS, **NOT_MODIFIED},
           summary="City networks a city could join, with the reasons")
    async def recommend_networks(request: Request, ref: Ref, theme: ThemeQ = None, top: TopQ = 10) -> Response:
        """Networks the city is not a member of, best first, with the reasons."""
        return await cached(request, lambda: _recommend(request, "networks", ref, theme=theme, top=top), heavy=True)

    @r.get("/recommend/members/{ref}", tags=["recommend"], responses={**READ_ERRORS, **HEAVY_ERRORS, **NOT_MODIFIED},
           summary="Cities a city network could recruit, with the reasons")
    async def recommend_members(request: Request, ref: Ref, theme: ThemeQ = None, country: CountriesQ = None,
                                bloc: BlocsQ = None, band: BandsQ = None, kind: KindsQ = None, top: TopQ = 20) -> Response:
        """Cities and regions that are not members of the network, best first, with the reasons."""
        return await cached(request, lambda: _recommend(request, "members", ref, theme=theme, countries=country,
                                                        blocs=bloc, band=band, kinds=kind, top=top), heavy=True)

    @r.get("/frameworks", tags=["frameworks"], response_model=Page, responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="The frameworks")
    async def frameworks(request: Request, limit: Limit = 100, offset: Offset = 0) -> Response:
        return await cached(request, lambda: page(request, _obs(request).frameworks(), limit, offset))

    @r.get("/frameworks/{fw}", tags=["frameworks"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="A framework's top-level items")
    async def framework(request: Request, fw: Annotated[str, PathParam(max_length=50)], lang: Lang = "en") -> Response:
        """The SDG goals, or the Paris Agreement's articles, titled in ``lang``."""
        return await cached(request, lambda: _obs(request).framework(fw, lang=lang))

    @r.get("/frameworks/{fw}/{code}", tags=["frameworks"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="One framework item and its children")
    async def framework_item(request: Request, fw: Annotated[str, PathParam(max_length=50)],
                             code: Annotated[str, PathParam(max_length=50, description="e.g. 13, 13.2, 13.2.1, or 4")],
                             lang: Lang = "en") -> Response:
        """A goal with its targets, a target with its indicators, an article."""
        return await cached(request, lambda: _obs(request).framework(fw, code, lang=lang))

    def graph_filters(layer, type_, axis, as_of, country, bloc, engagements=False) -> dict[str, Any]:
        return {"layers": [x.value for x in layer] if layer else None,
                "tie_types": [x.value for x in type_] if type_ else None,
                "axes": [x.value for x in axis] if axis else None,
                "as_of": as_of, "country": country, "bloc": bloc, "engagements": engagements or None}

    @r.get("/network/metrics", tags=["network"], response_model=Page,
           responses={**READ_ERRORS, **HEAVY_ERRORS, **NOT_MODIFIED},
           summary="Centrality of every actor")
    async def network_metrics(request: Request, layer: Layers = None, type: Types = None,  # noqa: A002
                              axis: Axes = None, as_of: AsOf = None, country: CountryQ = None, bloc: BlocQ = None,
                              sort: Literal["degree", "pagerank", "betweenness", "eigenvector", "closeness",
                                            "participation"] = "pagerank",
                              scope: Annotated[Literal["all", "macro", "meso", "micro", "engagement"], Query(
                                  description="The whole graph, one layer's subgraph, or the ties derived from "
                                              "engagements alone.")] = "all",
                              engagements: Engaged = False,
                              sample: Annotated[int, Query(ge=2, le=2000, description="Pivots of the betweenness "
                                                           "estimate.")] = DEFAULT_SAMPLE,
                              limit: Limit = 20, offset: Offset = 0) -> Response:
        """Degree, PageRank, betweenness (estimated from ``sample`` pivots), eigenvector and
        closeness with their ranks, and the multiplex participation coefficient, highest
        ``sort`` first. Computed once per store version and filters (seconds on the whole store)."""
        from ..network.metrics import metrics

        def build():
            dg = _graph(request, **graph_filters(layer, type, axis, as_of, country, bloc,
                                                 engagements or scope == "engagement"))
            rows, overall = metrics(dg, sort=sort, sample=sample, scopes=[scope])   # only the scope asked
            out = page(request, overall, limit, offset)
            out["graph"] = {"actors": dg.g.vcount(), "ties": dg.g.ecount()}
            return out
        return await cached(request, build, heavy=True)

    @r.get("/network/export", tags=["network"],
           responses={**READ_ERRORS, **HEAVY_ERRORS, 200: {"description": "The graph file", "content": {
               m: {"schema": {"type": "object" if m.endswith("json") else "string"}}
               for m in EXPORT_MEDIA.values()}}},
           summary="The graph as a file (GraphML, GEXF, node-link JSON, GeoJSON)")
    async def network_export(request: Request,
                             format: Literal["graphml", "gexf", "json", "geojson"] = "graphml",  # noqa: A002
                             layer: Layers = None, type: Types = None, axis: Axes = None,  # noqa: A002
                             as_of: AsOf = None, country: CountryQ = None, bloc: BlocQ = None,
                             engagements: Engaged = False) -> Response:
        """For Gephi (gexf: dynamic, with dated ties, when ``engagements`` adds the ties derived
        from the register), yEd or Cytoscape (graphml), D3 (json) or QGIS (geojson)."""
        from ..network import io

        def build():
            dg = _graph(request, **graph_filters(layer, type, axis, as_of, country, bloc, engagements))
            with tempfile.TemporaryDirectory(prefix="citydip-") as tmp:
                return io.write_graph(dg, Path(tmp) / f"graph.{format}", format).read_bytes()

        resp = await cached(request, build, raw=True, media_type=EXPORT_MEDIA[format], heavy=True)
        resp.headers["Content-Disposition"] = f'attachment; filename="citydiplomacy-graph.{format}"'
        return resp

    @r.get("/map/actors", tags=["map"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="Actors with coordinates (GeoJSON points)")
    async def map_actors(request: Request, kind: Kind | None = None, layer: Layer | None = None,
                         country: CountryQ = None,
                         limit: Annotated[int, Query(ge=1, le=50_000,
                                                     description="The most important this many.")] = 2000
                         ) -> Response:
        """A FeatureCollection of points, most important first (population, capitals, organisations)."""
        from ..geo import map_actors

        return await cached(request, lambda: map_actors(_obs(request).store, kind=kind, layer=layer, country=country,
                                                        limit=limit))

    @r.get("/map/ties", tags=["map"], responses={**READ_ERRORS, **NOT_MODIFIED},
           summary="An actor's ties as lines (GeoJSON)")
    async def map_ties(request: Request,
                       actor: Annotated[str, Query(min_length=1, max_length=300, description="An actor (id or name).")],
                       type: OneType = None  # noqa: A002
                       ) -> Response:
        """The actor and the other ends of its ties as points, each tie as a line; ties whose
        other end has no coordinates (states, organisations) are left out (``mapped`` < ``ties``)."""
        from ..geo import map_ties

        return await cached(request, lambda: map_ties(_obs(request).store, actor, type=type))

    @r.get("/export", tags=["store"],
           responses={**READ_ERRORS, **HEAVY_ERRORS, 200: {"description": "The store (or part of it)", "content": {
               "application/json": {"schema": {"type": "object"}},
               "application/zip": {"schema": {"type": "string", "format": "binary"}}}}},
           summary="The store as JSON or a zip of CSV files")
    def export(request: Request, lim: Heavy,
               format: Annotated[Literal["json", "csv", "datapackage"], Query(  # noqa: A002
                   description="json: one document; csv: a zip of CSV files; datapackage: the same with "
                               "datapackage.json (re-importable with citydip import datapackage)")] = "json",
               kind: Kind | None = None, layer: Layer | None = None, country: CountryQ = None,
               type: OneType = None  # noqa: A002
               ) -> Response:
        """Actors (filtered), every tie touching them, the actors at the other ends, aliases,
        frameworks, observations and provenance — a few seconds and tens of MB for the whole store."""
        with limits.applied(lim):
            return _export(request, format, kind=kind, layer=layer, country=country, tie_type=type)


_EXPORTS_LOCK = threading.Lock()


def remove_exports(app) -> None:
    """Delete the export files kept for reuse (when the app shuts down)."""
    with _EXPORTS_LOCK:
        directory = getattr(app.state, "export_dir", None)
        app.state.exports = None
        app.state.export_dir = None
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def _export(request: Request, fmt: str, **filters: Any) -> Response:
    """The last few exports are kept as files, keyed by data version and filters."""
    state = request.app.state
    key = (data_version(request), fmt, tuple(sorted((k, str(v)) for k, v in filters.items() if v)))
    etag = etag_of(repr(key).encode())
    if _matches(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    with _EXPORTS_LOCK:
        if getattr(state, "export_dir", None) is None:
            state.exports = OrderedDict()
            state.export_dir = Path(tempfile.mkdtemp(prefix="citydip-exports-"))
        if getattr(state, "export_lock", None) is None:
            state.export_lock = threading.Lock()
    with state.export_lock:
        path = state.exports.get(key)
        if path is None or not path.exists():
            path = _write_export(_obs(request), state.export_dir, fmt, len(state.exports), filters)
            state.exports[key] = path
            while len(state.exports) > 4:
                # a file dropped now may still be on its way to a client: deleted later
                _, old = state.exports.popitem(last=False)
                state.export_trash = getattr(state, "export_trash", []) + [(time.monotonic(), old)]
            keep = []
            for dropped, old in getattr(state, "export_trash", []):
                if time.monotonic() - dropped > 600:
                    old.unlink(missing_ok=True)
                else:
                    keep.append((dropped, old))
            state.export_trash = keep
    suffix = "json" if fmt == "json" else "zip"
    return FileResponse(path, media_type="application/json" if fmt == "json" else "application/zip",
                        filename=f"citydiplomacy-{fmt}.{suffix}", headers={"ETag": etag, "Cache-Control": "no-cache"})


def _write_export(obs, directory: Path, fmt: str, n: int, filters: dict[str, Any]) -> Path:
    import time

    stamp = f"{int(time.time() * 1000)}-{n}"
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        tmp = Path(tmp)
        counts = obs.export(tmp / "out", fmt="json" if fmt == "json" else fmt, **filters)
        if fmt == "json":
            path = directory / f"export-{stamp}.json"
            with path.open("w", encoding="utf-8") as out:
                out.write("{")
                for i, name in enumerate(counts):
                    out.write(("," if i else "") + json.dumps(name) + ":")
                    with (tmp / "out" / f"{name}.json").open(encoding="utf-8") as fh:
                        shutil.copyfileobj(fh, out)
                out.write("}")
            return path
        path = directory / f"export-{stamp}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for f in sorted((tmp / "out").iterdir()):
                z.write(f, f.name)
        return path


def _align(r: APIRouter) -> None:
    @r.post("/align", tags=["align"], responses=_problems(413, 422, 429, 503), summary="Align a text")
    def align_text(request: Request, body: AlignIn, lim: Heavy) -> Response:
        """The SDG goals (and likely targets), Paris articles and axes the text speaks to, each
        with a calibrated score and the evidence (matched words with their ``span`` in the text,
        and the closest framework text). Changes nothing; no account needed."""
        from ..align import aligner

        with limits.applied(lim):
            al = aligner(body.mode)
            with limits.holding(request.app.state.align_lock):
                result = al.align(body.text, lang=body.lang, level=body.level, frameworks=body.frameworks)
        return json_response(request, {**result.record(), "lang": result.lang, "method": al.method})

    @r.post("/align/document", tags=["align"], responses=_problems(413, 422, 429, 503),
            summary="Align a document (PDF, DOCX, HTML, Markdown or text)")
    def align_document(request: Request, lim: Heavy,
                       file: Annotated[UploadFile, File(description="A .pdf, .docx, .html, .md or .txt file.")],
                       lang: Annotated[Literal["auto", "en", "fr", "es", "de"], Form()] = "auto",
                       level: Annotated[Literal["goal", "target"], Form()] = "target",
                       frameworks: Annotated[str, Form(max_length=20, description="sdg, paris or sdg,paris")]
                       = "sdg,paris",
                       mode: Annotated[Literal["auto", "hybrid", "light"], Form()] = "auto") -> Response:
        """The document split into paragraphs (with their page or section in ``ref``), each
        aligned; ``summary`` counts the paragraphs per goal, article and axis. Without an
        account the document is held to the ``anonymous`` limits (20 MB, 2,000 paragraphs,
        300 pages, 30 s by default): beyond them, a 413 (or 503 for the time) names the limit."""
        from collections import Counter

        from ..align import aligner, read_document

        fws = [f.strip() for f in frameworks.split(",") if f.strip()]
        bad = [f for f in fws if f not in ("sdg", "paris")]
        if bad or not fws:
            raise ValidationError(f"unknown framework '{(bad or [frameworks])[0]}'; use sdg, paris or sdg,paris",
                                  field="frameworks")
        with limits.applied(lim):
            with tempfile.TemporaryDirectory(prefix="citydip-") as tmp:
                path = _save_upload(file, Path(tmp), "document.txt", DOCUMENT_SUFFIXES, lim)
                try:
                    passages = read_document(path, limits=lim)
                except ValidationError as exc:
                    raise _in_upload(exc, path.name) from None
                except CitydipError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a parser's own failure on a malformed file
                    log.warning("could not read uploaded document %s: %r", path.name, exc)
                    raise ValidationError(f"the file cannot be read as a {path.suffix} document "
                                          f"({exc.__class__.__name__}); check that it is not damaged",
                                          field="file", file=path.name) from None
            al = aligner(mode)          # after the document is read: a refused one loads no model
            with limits.holding(request.app.state.align_lock):
                results = al.align_many(passages, lang=lang, level=level, frameworks=fws)
        items = [{**res.record(), "ref": res.ref, "lang": res.lang, "text": p.text}
                 for p, res in zip(passages, results)]
        summary = {"sdgs": dict(sorted(Counter(g for x in results for g in x.sdgs).items())),
                   "paris": dict(sorted(Counter(a for x in results for a in x.paris).items())),
                   "axes": dict(Counter(a for x in results for a in x.axes).most_common()),
                   "not_aligned": sum(1 for x in results if x.error)}
        return json_response(request, {"file": path.name, "method": al.method, "passages": len(passages),
                                       "summary": summary, "items": items})


#: ``CITYDIP_API_REQUIRE_IF_MATCH=1``: an actor edit without ``If-Match`` is refused (428)
REQUIRE_IF_MATCH_ENV = "CITYDIP_API_REQUIRE_IF_MATCH"


def _if_match(request: Request, current: Callable[[], Any]) -> Callable[[], None] | None:
    """The check of a write's ``If-Match`` against the ETag of the resource as it is now
    (``current()``: what its GET returns), for the library to call once the record is
    locked: 412 when it changed since the editor read it. Without the header: no check
    (the last edit of a field wins), or 428 when ``CITYDIP_API_REQUIRE_IF_MATCH=1``."""
    header = request.headers.get("if-match")
    if not header:
        if os.environ.get(REQUIRE_IF_MATCH_ENV, "").strip() in ("1", "true", "yes"):
            raise Problem(428, "Precondition required",
                          "send If-Match with the ETag of the actor as you read it (GET /api/v1/actors/{ref})")
        return None
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]

    def check() -> None:
        from ..errors import PreconditionFailed

        if "*" in tags:
            return
        now = etag_of(dumps(current()))
        if now not in tags:
            raise PreconditionFailed(f"the actor changed since you read it (its ETag is now {now}); "
                                     "read it again, and apply your change to what it is now")
    return check


def writer(role: str):
    """A dependency for a write: the user must hold ``role`` (401/403 first), and a
    request made with the session cookie must carry the CSRF token (403)."""
    need = security.require(role)

    async def dependency(request: Request, user: Any = Depends(need)):
        await security.check_csrf(request)
        return user

    dependency.__name__ = f"write_as_{role}"
    return dependency


Editor = Annotated[Any, Depends(writer("editor"))]
Viewer = Annotated[Any, Depends(security.require("viewer"))]
ViewerWrites = Annotated[Any, Depends(writer("viewer"))]
Admin = Annotated[Any, Depends(security.require("admin"))]
AdminWrites = Annotated[Any, Depends(writer("admin"))]

WRITTEN = {200: {"description": "A dry run, or nothing changed: the report says what would change"},
           201: {"description": "Written: the report says what changed"}}


def _writes(r: APIRouter) -> None:
    responses = {**WRITTEN, **WRITE_ERRORS}

    def result(request: Request, report, user, action: str, target: str, **extra: Any) -> Response:
        data = {**report.as_dict(), **extra}
        store_changed(request)
        if not report.dry_run and report.changed:
            _audit(request, user, action, target, _summary(data))
        status = 201 if (not report.dry_run and sum(report.created.values())) else 200
        return json_response(request, data, private=True, status=status)

    @r.post("/actors", tags=["edit"], responses=responses, status_code=201,
            summary="Add an actor")
    def add_actor(request: Request, body: ActorIn, user: Editor) -> Response:
        """Validated by the domain model; an actor with the same id is left unchanged (200).
        The report's ``actor`` is the new actor's id."""
        fields = body.model_dump(exclude={"name", "kind", "dry_run"}, exclude_none=True)
        report = _obs(request).add_actor(body.name, body.kind.value, dry_run=body.dry_run, who=user.name, **fields)
        return result(request, report, user, "actor.add", report.actor, actor=report.actor)

    @r.patch("/actors/{ref}", tags=["edit"], responses={**responses, **_problems(412, 428)},
             summary="Edit an actor")
    def edit_actor(request: Request, ref: Ref, body: ActorPatch, user: Editor) -> Response:
        """Change the fields given (a new name keeps the old one as an alias); ``source`` says
        where the new values are documented. The report's ``changes`` say old → new.

        Send ``If-Match`` with the ``ETag`` of ``GET /actors/{ref}`` as you read it: when
        someone changed the actor since, nothing is written and the answer is 412 (read it
        again). Without it the edit applies to the actor as it is (the last edit of a field
        wins), or is refused with 428 when the server sets ``CITYDIP_API_REQUIRE_IF_MATCH=1``.
        The answer's ``ETag`` is the edited actor's."""
        changes = body.model_dump(exclude={"dry_run"}, exclude_unset=True)
        for k in ("source", "url", "licence", "as_of"):
            changes.pop(k, None)
        if not changes:
            raise ValidationError("give at least one field to change (name, country, lat and lon, population, "
                                  "wikidata, geonames_id, admin1, founded, axes)", field="body")
        obs = _obs(request)
        actor_id = obs.get(ref)["id"]
        check = _if_match(request, lambda: obs.get(actor_id))
        report = obs.edit_actor(actor_id, source=body.source, url=body.url, licence=body.licence,
                                as_of=body.as_of, who=user.name, dry_run=body.dry_run, check=check, **changes)
        response = result(request, report, user, "actor.edit", actor_id)
        # the actor's new ETag (that of GET /actors/{id}), for the editor's next If-Match
        response.headers["ETag"] = etag_of(dumps(obs.get(actor_id)))
        return response

    @r.post("/ties", tags=["edit"], responses=responses, status_code=201, summary="Add a tie")
    def add_tie(request: Request, body: TieIn, user: Editor) -> Response:
        """Add a tie, or change the status or end of the same tie (same ends, type and start)."""
        fields = body.model_dump(exclude={"actor", "target", "type", "dry_run"}, exclude_none=True)
        if "status" in fields:
            fields["status"] = body.status.value
        report = _obs(request).add_tie(body.actor, body.target, body.type.value, dry_run=body.dry_run,
                                       who=user.name, **fields)
        return result(request, report, user, "tie.add", f"{body.actor} {body.type.value} {body.target}")

    @r.post("/actors/{ref}/initiatives", tags=["edit"], responses=responses,
            status_code=201, summary="Add an initiative")
    def add_initiative(request: Request, ref: Ref, body: InitiativeIn, user: Editor) -> Response:
        """Add (or update: same actor and title) an initiative, aligned with the SDGs and Paris."""
        fields = body.model_dump(exclude={"title", "text", "dry_run"}, exclude_none=True)
        if "status" in fields:
            fields["status"] = body.status.value
        if body.axes is not None:
            fields["axes"] = [a.value for a in body.axes]
        with request.app.state.align_lock:
            report = _obs(request).add_initiative(ref, body.title, body.text, dry_run=body.dry_run, **fields)
        return result(request, report, user, "initiative.add", f"{ref}: {body.title}")

    queued = {202: {"description": "Accepted: the import runs as a job; poll the job's url (also in "
                                   "Location) until its status is final"}, **WRITE_ERRORS}

    @r.post("/imports", tags=["edit"], responses=queued, status_code=202, summary="Import a file")
    def import_file(
        request: Request, user: Editor, lim: Heavy,
        file: Annotated[UploadFile, File(description="CSV, TSV, Excel (.xlsx) or Parquet.")],
        importer: Annotated[Literal["twinning", "table"], Query(
            description="twinning: columns city1,country1,city2,country2; table: any table with a mapping.")],
        dry_run: Annotated[bool, Query(description="Report what would change and change nothing "
                                                   "(the default); false applies the import.")] = True,
        source: Annotated[str | None, Form(max_length=500, description="Name of the source (default: "
                                                                          "the file's name).")] = None,
        licence: Annotated[str | None, Form(max_length=200)] = None,
        as_of: Annotated[str | None, Form(max_length=10, description="Date the data describes.")] = None,
        encoding: Annotated[str, Form(max_length=40)] = "utf-8",
        as_: Annotated[Literal["actors", "ties", "observations", "initiatives"], Form(
            alias="as", description="table: what the rows are.")] = "ties",
        map: Annotated[list[str] | None, Form(description="table: FIELD=COLUMN pairs (repeat the field, "  # noqa: A002
                                                          "or one pair per line): source=City")] = None,
        target: Annotated[str | None, Form(max_length=300, description="table: fixed tie target (e.g. c40).")] = None,
        type: Annotated[TieType | None, Form(description="table: fixed tie type.")] = None,  # noqa: A002
        kind: Annotated[Kind | None, Form(description="table: fixed actor kind.")] = None,
        indicator: Annotated[str | None, Form(max_length=200)] = None,
        unit: Annotated[str | None, Form(max_length=50)] = None,
        sheet: Annotated[str | None, Form(max_length=100, description="Excel sheet.")] = None,
    ) -> Response:
        """Runs as a job (202; ``GET /jobs/{id}`` follows it, ``POST /jobs/{id}/cancel``
        stops it). The job's result: every row resolved to actors or reported —
        ``problems`` name the row, field and reason; rows with unsure names come back in
        ``review`` (and as ``review_csv``: fill its ``choice`` column and send it to
        ``POST /imports/review``). Applies completely or not at all; a dry run never locks
        the store."""
        options: dict[str, Any] = {"source_name": source, "licence": licence, "as_of": as_of,
                                   "encoding": encoding}
        if importer == "table":
            pairs = [p for v in (map or []) for p in re.split(r"[\r\n]+", v) if p.strip()]
            mapping = {}
            for p in pairs:
                if "=" not in p:
                    raise ValidationError(f"map takes FIELD=COLUMN pairs, e.g. source=City; got '{p}'", field="map")
                k, _, col = p.partition("=")
                mapping[k.strip()] = col.strip()
            fixed = {k: v for k, v in (("target", target), ("type", type.value if type else None),
                                       ("kind", kind.value if kind else None), ("indicator", indicator),
                                       ("unit", unit)) if v}
            options.update(as_=as_, mapping=mapping, fixed=fixed, sheet=sheet)
            from ..ingest.table import check_options

            check_options(as_, mapping, fixed)         # before the job: a 422 at once
        return _run_import(request, user, importer, file, dry_run, options, lim)

    @r.post("/imports/review", tags=["edit"], responses=queued, status_code=202,
            summary="Finish the unsure rows of an import")
    def import_review(request: Request, user: Editor, lim: Heavy,
                      file: Annotated[UploadFile, File(description="The review CSV with its 'choice' column filled "
                                                                   "(an actor id, or skip).")],
                      dry_run: Annotated[bool, Query(description="Report only (the default); false applies.")] = True
                      ) -> Response:
        # a review of a dry run reads that run's upload again: one of this server's uploads only
        return _run_import(request, user, "review", file, dry_run, {"within": str(request.app.state.jobs.dir)}, lim)


def _run_import(request: Request, user, importer: str, upload: UploadFile, dry_run: bool,
                options: dict[str, Any], lim: limits.Limits) -> Response:
    """Save the upload into a new job's folder and queue the import: 202 with the job.
    What can be checked at once (the file's type and size, the encoding's name) is a 422
    now; what needs the file read (its columns, its rows) is the job's error."""
    import codecs
    import shutil

    from ..jobs import new_job_id

    try:
        codecs.lookup(options.get("encoding") or "utf-8")
    except LookupError:
        raise ValidationError(f"'{options.get('encoding')}' is not a text encoding; give its encoding "
                              "(utf-8, latin-1, cp1252)", field="encoding") from None
    jobs = request.app.state.jobs
    job_id = new_job_id()
    folder = jobs.workdir(job_id)
    try:
        path = _save_upload(upload, folder, "upload.csv", IMPORT_SUFFIXES if importer != "review" else {".csv"}, lim)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if importer != "review":
        options = {**options, "url": path.name}
        from ..ingest.readers import precheck

        try:
            precheck(path, limits=lim, encoding=options.get("encoding") or "utf-8")   # 413 now, not in its job
        except ValidationError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise _in_upload(exc, path.name) from None
    store = _obs(request).store
    args = {"store": str(store.path or store.url), "importer": importer, "file": str(path), "options": options,
            "dry_run": dry_run, "review": str(folder / "review.csv") if importer != "review" else None,
            "who": user.name, "label": f"{importer}: {path.name}", "channel": "api",
            "limits": lim.channel}
    job = jobs.submit("import", args, owner=user.name, job_id=job_id,
                      params={"importer": importer, "file": path.name, "dry_run": dry_run})
    out = json_response(request, _job_json(request, job), private=True, status=202)
    out.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return out


def _job_json(request: Request, job) -> dict[str, Any]:
    """A job for the API: its state and progress, its result (an import's report, as the
    uploaded file names it) or its error as a problem body."""
    d = job.as_dict()
    d["url"] = f"/api/v1/jobs/{job.id}"
    folder = request.app.state.jobs.dir / job.id
    name = job.params.get("file") or ""
    if d["result"] is not None and job.task == "import":
        data = _clean_report(d["result"], folder, name)
        review_csv = data.pop("review_csv", None)
        review_rows: list[dict[str, str]] = []
        if review_csv is not None:
            import csv

            review_rows = list(csv.DictReader(io.StringIO(review_csv)))
        data["review_file"] = None
        data["review"] = review_rows
        data["review_csv"] = review_csv
        d["result"] = data
    if d["error"] is not None:
        d["error"] = _job_problem(request, d["error"], folder, name)
    return d


def _job_problem(request: Request, error: dict[str, Any], folder: Path, name: str) -> dict[str, Any]:
    """A failed job's error as the problem body the request would have had."""
    from ..errors import CitydipError, NotFoundError, StoreBusyError, StoreError
    from .problems import problem_from_exception

    detail = (error.get("detail") or "").replace(str(folder) + "/", "")
    kind = error.get("error")
    if kind == "ValidationError":
        exc: Exception = _in_upload(ValidationError(detail, field=error.get("field"), row=error.get("row"),
                                                    file=error.get("file")), name)
    elif kind == "NotFoundError":
        exc = NotFoundError(detail)
    elif kind == "StoreBusyError":
        exc = StoreBusyError(detail)
    elif kind in ("StoreError",):
        exc = StoreError(detail)
    elif kind == "CitydipError":
        exc = CitydipError(detail)
    else:
        exc = RuntimeError(detail)
    problem = problem_from_exception(exc)
    if kind == "InternalError":
        problem.detail = detail
    return problem.body(request.url.path)


JobId = Annotated[str, PathParam(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                 description="The job's id, from the 202 answer of the request that started it.")]


def _jobs(r: APIRouter) -> None:

    def mine(request: Request, job_id: str, user):
        job = request.app.state.jobs.status(job_id)
        if job is None or (job.owner != user.name and not user.can("admin")):
            raise Problem(404, "Not found", f"no job '{job_id}' of yours (jobs are kept a day after they finish)")
        return job

    @r.get("/jobs", tags=["edit"], responses=_problems(401, 422), summary="Your jobs")
    def job_list(request: Request, user: Viewer,
                 limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
                 offset: Annotated[int, Query(ge=0, le=100_000, description="Jobs to skip.")] = 0) -> Response:
        """Your jobs (an admin's: everyone's), newest first: queued, running, and those
        finished in the last day, each as ``GET /jobs/{id}`` gives it, without its result."""
        owner = None if user.can("admin") else user.name
        jobs = request.app.state.jobs.list(owner=owner, limit=offset + limit + 1000)
        items = []
        for job in jobs[offset:offset + limit]:
            d = job.as_dict()
            d["url"] = f"/api/v1/jobs/{job.id}"
            d.pop("result")
            if d["error"] is not None:
                d["error"] = _job_problem(request, d["error"], request.app.state.jobs.dir / job.id,
                                          job.params.get("file") or "")
            items.append(d)
        return json_response(request, page(request, items, limit, offset, total=len(jobs)), private=True)

    @r.get("/jobs/{job_id}", tags=["edit"], responses=_problems(401, 404, 422), summary="A job's state")
    def job_status(request: Request, job_id: JobId, user: Viewer) -> Response:
        """``status``: queued, running, succeeded, failed or cancelled; ``progress``: the
        step it is at (``phase``, ``done`` of ``total``, ``fraction``); ``result``: when it
        succeeded, the import's report; ``error``: when it failed, a problem body (the
        ``field``, ``row`` and ``file`` at fault). Poll until ``status`` is final."""
        job = mine(request, job_id, user)
        if job.status == "succeeded" and not job.params.get("dry_run"):
            store_changed(request)          # the import committed: reads see it at once
        return json_response(request, _job_json(request, job), private=True)

    @r.post("/jobs/{job_id}/cancel", tags=["edit"], responses=_problems(401, 403, 404, 409, 422),
            summary="Cancel a job")
    def job_cancel(request: Request, job_id: JobId, user: Editor) -> Response:
        """A queued job is cancelled at once (200); a running one stops at its next step
        (202: poll it until ``status`` is ``cancelled``). An import cancelled before it
        commits writes nothing. A job that already finished is a 409."""
        job = mine(request, job_id, user)
        if job.status in ("succeeded", "failed"):
            raise Problem(409, "Conflict", f"the job has already {job.status}; there is nothing to cancel")
        job = request.app.state.jobs.cancel(job_id)
        _audit(request, user, "job.cancel", job_id, {"task": job.task, **job.params})
        return json_response(request, _job_json(request, job), private=True, status=202 if not job.done else 200)

    @r.post("/jobs/{job_id}/retry", tags=["edit"], status_code=202, responses={
        202: {"description": "Accepted: the job is queued again; poll its url (also in Location)"},
        **_problems(401, 403, 404, 409, 422)}, summary="Retry a failed job")
    def job_retry(request: Request, job_id: JobId, user: Editor) -> Response:
        """Queue a failed or cancelled job again, with the same arguments and id (a failed
        import wrote nothing, so a retry is safe): a job whose worker was killed, or that
        failed on a store that was busy. ``attempts`` counts its runs. A job that is
        queued, running or succeeded is a 409."""
        from ..jobs import JobStateError

        job = mine(request, job_id, user)
        try:
            job = request.app.state.jobs.retry(job_id)
        except JobStateError as exc:
            raise Problem(409, "Conflict", str(exc)) from None
        _audit(request, user, "job.retry", job_id, {"task": job.task, **job.params})
        out = json_response(request, _job_json(request, job), private=True, status=202)
        out.headers["Location"] = f"/api/v1/jobs/{job.id}"
        return out

    @r.post("/recommend/batch", tags=["recommend"], status_code=202, responses={
        202: {"description": "Accepted: the recommendations run as a job; poll its url (also in Location)"},
        **_problems(401, 403, 409, 422)}, summary="Recommendations for many cities (a job)")
    def recommend_batch(request: Request, body: RecommendBatchIn, user: Editor) -> Response:
        """Recommendations (partners or networks) for each of up to 1,000 cities, as a job:
        its progress counts the cities; its ``result`` holds ``answers`` (per city: the
        actor and its ``results``, as ``GET /recommend/partners/{ref}`` gives them) and
        ``not_found`` (the cities no actor matches, with why). One batch at a time per user:
        409 while yours is queued or running."""
        from ..jobs import submit_one

        store = _obs(request).store
        args = {"store": str(store.path or store.url), "cities": body.cities, "kind": body.kind,
                "theme": body.theme, "top": body.top}
        job, submitted = submit_one(request.app.state.jobs, "recommend", args, owner=user.name, params={
            "kind": body.kind, "cities": len(body.cities), "theme": body.theme, "top": body.top},
            key=f"recommend-{hashlib.sha256(user.name.encode()).hexdigest()[:16]}")
        if not submitted:
            raise Problem(409, "Conflict", f"your batch of recommendations {job.id} is still {job.status}: wait "
                                           "for it to finish (or cancel it), then send the next")
        out = json_response(request, _job_json(request, job), private=True, status=202)
        out.headers["Location"] = f"/api/v1/jobs/{job.id}"
        return out


def _account(r: APIRouter) -> None:

    def user_json(user) -> dict[str, Any]:
        return {"id": user.id, "name": user.name, "role": user.role}

    @r.post("/session", tags=["account"], responses=_problems(401, 422, 429), summary="Log in")
    def log_in(request: Request, body: LoginIn) -> Response:
        """Starts a session: sets the ``citydip_session`` cookie (HttpOnly, SameSite=Lax,
        Secure over https) and returns the ``csrf_token`` to send as ``X-CSRF-Token`` with
        every write made with that cookie. Repeated failures are slowed down (429)."""
        resp = Response()
        user = security.login(request, resp, body.name, body.password)
        out = json_response(request, {"user": user_json(user), "csrf_token": security.csrf_token(request)},
                            private=True)
        for k, v in resp.headers.items():
            if k == "set-cookie":
                out.headers.append(k, v)
        return out

    @r.delete("/session", tags=["account"], dependencies=[Depends(security.check_csrf)],
              responses=_problems(403), status_code=204, summary="Log out")
    def log_out(request: Request) -> Response:
        resp = Response(status_code=204)
        security.logout(request, resp)
        return resp

    @r.get("/me", tags=["account"], responses=_problems(401), summary="Who am I")
    def me(request: Request, user: Viewer) -> Response:
        out = {**user_json(user), "auth": request.state.auth}
        if request.state.auth == "session":
            out["csrf_token"] = security.csrf_token(request)
        return json_response(request, out, private=True)

    @r.get("/me/tokens", tags=["account"], response_model=Page, responses=_problems(401, 422),
           summary="My API tokens")
    def my_tokens(request: Request, user: Viewer, limit: Limit = 100, offset: Offset = 0) -> Response:
        """Label, creation, last use and revocation of each token (never the secret)."""
        from .. import accounts

        return json_response(request, page(request, accounts.list_tokens(_obs(request).store, user), limit, offset),
                             private=True)

    @r.post("/me/tokens", tags=["account"],
            responses=_problems(401, 403, 422), status_code=201, summary="Create an API token")
    def create_token(request: Request, body: TokenIn, user: ViewerWrites) -> Response:
        """The ``token`` is shown this once: keep it; send it as ``Authorization: Bearer <token>``."""
        from .. import accounts

        token_id, secret = accounts.create_token(_obs(request).store, user, body.label)   # audited there
        return json_response(request, {"id": token_id, "label": body.label, "token": secret}, private=True,
                             status=201)

    @r.delete("/me/tokens/{token_id}", tags=["account"],
              responses=_problems(401, 403, 404, 422), status_code=204, summary="Revoke an API token")
    def revoke_token(request: Request, token_id: Annotated[int, PathParam(ge=1, le=2**62)],
                     user: ViewerWrites) -> Response:
        from .. import accounts

        accounts.revoke_token(_obs(request).store, user, token_id)   # audited there
        return Response(status_code=204)

    @r.get("/audit", tags=["account"], response_model=Page, responses=_problems(401, 403, 422),
           summary="The audit log (admin)")
    def audit(request: Request, user: Admin, limit: Limit = 100, offset: Offset = 0,
              name: Annotated[str | None, Query(alias="user", max_length=200,
                                                description="Only this user's entries.")] = None) -> Response:
        """Every write: when, who, what (action and target) and what changed, newest first."""
        from .. import accounts

        rows = accounts.audit_log(_obs(request).store, limit=offset + limit + 1, user=name)
        more = len(rows) > offset + limit
        items = rows[offset:offset + limit]
        return json_response(request, page(request, items, limit, offset,
                                           total=offset + len(items) + (1 if more else 0)), private=True)
