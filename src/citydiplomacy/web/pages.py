"""The browser face of the observatory: server-rendered HTML pages (Jinja2, autoescaped)
over the same library calls as the CLI and the REST API.

Reading pages are public; the data pages (add or edit an actor, add a tie or an
initiative, imports) need an editor's sign-in, check the form's CSRF token, write
through the library and record the write in the audit log. A mistake in a form comes
back as the same form with the message next to the field, never a traceback.

Maps draw the country outlines shipped in ``static/vendor/world-atlas`` (Natural Earth,
public domain) under the actors; graphs and maps read the REST API (``/api/v1``) or the
small page-data routes below from the browser.
"""

from __future__ import annotations

import csv
import json
import math
import re
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from .. import __version__, limits
from ..errors import CitydipError, NotFoundError, StoreError, ValidationError
from . import charts, i18n
from .limiting import heavy_slot
from ..vocab import Axis, Kind, Layer, Status, TieType

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
i18n.install(templates.env)         # the frame's words in the page's ui_lang (English by default)

#: the reading pages (and the alignment of a posted text, which stores nothing)
router = APIRouter(include_in_schema=False)
#: the pages that write or lead to a write: sign-in and account, the data forms, imports.
#: Only a writable observatory includes them (``citydip serve --read-only`` has none),
#: and before ``router``: ``/actors/new`` must not be taken for an actor named "new".
edit_router = APIRouter(include_in_schema=False)

AXES = [a.value for a in Axis]
LAYERS = [layer.value for layer in Layer]
KINDS = [k.value for k in Kind]
TIE_TYPES = [t.value for t in TieType]
STATUSES = [s.value for s in Status]

#: the longest text accepted from the alignment form (characters); uploads are held to
#: the limits of the visitor's channel (citydiplomacy.limits: anonymous or editor)
MAX_ALIGN_TEXT = 200_000
#: uploaded import files are kept this long for the dry-run → review → apply steps (seconds)
JOB_TTL = 24 * 3600

#: ties of one type listed on an actor's page before "show all" (a state has thousands)
GROUP_LIMIT = 100

#: short messages shown after a write redirects (``?done=...``); never user text
DONE = {
    "tie": "The tie was added. It is listed below with its provenance.",
    "actor": "The actor was saved.",
    "edit": "The changes were saved.",
    "initiative": "The initiative was added and aligned with the SDGs and the Paris Agreement.",
    "login": "You are signed in.",
    "logout": "You are signed out.",
    "token": "The token was revoked.",
    "published": "The build is published: the indices pages, the actor pages and the API show it now.",
    "built": "The index was built.",
}


def _static_url(path: str) -> str:
    return f"/static/{path}?v={__version__}"


templates.env.globals["static"] = _static_url
templates.env.globals["chart_radar"] = charts.radar
templates.env.globals["chart_interval"] = charts.interval
templates.env.globals["chart_columns"] = charts.columns


# ---------------------------------------------------------------------------------------
# plumbing: the store, the user, rendering


def _obs(request: Request):
    return request.app.state.obs


def _read_only(request: Request) -> bool:
    return bool(getattr(request.app.state, "read_only", False))


async def _user(request: Request):
    """The signed-in user (session cookie or bearer token), or None (always, when the
    observatory is read-only: nobody signs in there)."""
    from . import security

    if _read_only(request):
        return None
    return await security.current_user(request)


class _CsrfToken:
    """The page's CSRF token, computed when a template first prints it (so a page without
    a form sets no pre-session cookie)."""

    def __init__(self, request: Request):
        self.request = request
        self.value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            from . import security

            self.value = security.csrf_token(self.request)
        return self.value

    def __html__(self) -> str:
        return str(self)


@dataclass
class Form:
    """The values a person typed and the message for each field that was wrong."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str | None, message: str) -> None:
        name = (name or "_form").split(".")[0]
        self.errors.setdefault(name, message)


async def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    user = await _user(request)
    done = request.query_params.get("done")
    base = {
        "user": user,
        "can_edit": bool(user and user.can("editor")) and not _read_only(request),
        "read_only": _read_only(request),
        "csrf": _CsrfToken(request),
        "flash": {"kind": "ok", "text": DONE[done]} if done in DONE else None,
        "axes": AXES, "layers": LAYERS, "kinds": KINDS, "tie_types": TIE_TYPES, "statuses": STATUSES,
        "kind_options": [(k, k.replace("_", " ")) for k in KINDS],
        "tie_type_options": [(t, t.replace("_", " ")) for t in TIE_TYPES],
    }
    base.update(ctx)
    response = templates.TemplateResponse(request, name, base, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store" if user else "no-cache")
    return response


async def error_page(request: Request, status: int, title: str, message: str,
                     suggestions: list[str] | None = None) -> HTMLResponse:
    return await render(request, "error.html", status_code=status, title=title, message=message,
                        suggestions=suggestions or [], status=status)


def render_problem(request: Request, problem) -> HTMLResponse:
    """The HTML page for an error outside ``/api`` (an unknown page, a bad parameter, a
    write refused): used by :func:`citydiplomacy.web.problems.install`."""
    user = getattr(request.state, "user", None)
    message = problem.detail
    if problem.status == 404 and message.startswith("there is nothing at"):
        message = f"There is no page at {request.url.path}. Search for an actor, or start from the overview."
    ctx = {"user": user, "can_edit": False, "read_only": _read_only(request), "csrf": _CsrfToken(request),
           "flash": None, "title": problem.title, "message": message, "suggestions":
           _suggestion_links(problem.extra.get("suggestions", [])), "status": problem.status}
    response = templates.TemplateResponse(request, "error.html", ctx, status_code=problem.status)
    for k, v in problem.headers.items():
        response.headers[k] = v
    return response


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _need(request: Request, role: str):
    """The user if they may do this; otherwise the response that says why (sign in, not
    allowed, read-only)."""
    if _read_only(request):
        return await error_page(request, 403, "This observatory is read-only",
                                "It is served in public read-only mode: nothing can be changed here.")
    user = await _user(request)
    if user is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here)}", status_code=303)
    if not user.can(role):
        return await error_page(request, 403, "Not allowed",
                                f"Changing data needs the {role} role; you are signed in as "
                                f"{user.name} ({user.role}). Ask an administrator.")
    return user


async def _csrf_ok(request: Request) -> bool:
    """Does the posted form carry this page's CSRF token (see :mod:`.security`)?"""
    from . import security
    from .problems import Problem

    try:
        await security.check_csrf(request)
    except Problem:
        return False
    return True


CSRF_MESSAGE = ("This form has expired or did not come from this site. Reload the page and "
                "send it again.")


def _audit(request: Request, user, action: str, target: str, detail: dict | None = None) -> None:
    from .. import accounts

    accounts.audit(_obs(request).store, user, action, target, detail)


# ---------------------------------------------------------------------------------------
# overview: what the store holds, and the world map


def _cached(obs, key: Any, compute):
    """``compute()`` once per state of the store: kept on the Observatory until an import
    or an edit adds a run."""
    cache = obs.__dict__.setdefault("_web_pages_cache", {})
    version = obs._data_version()
    if cache.get("version") != version:
        cache.clear()
        cache["version"] = version
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def overview(obs) -> dict[str, Any]:
    """Counts for the home page: the store's status, ties and city networks by axis, ties
    by the layer of their source."""
    return _cached(obs, "overview", lambda: _overview(obs))


def _overview(obs) -> dict[str, Any]:
    from sqlalchemy import func, select, union_all

    from ..store.schema import actors, ties

    status = obs.status()
    by_axis_ties, by_axis_actors, ties_by_layer = {}, {}, {}
    with obs.store.connect() as conn:
        for axis in AXES:
            by_axis_ties[axis] = conn.execute(select(func.count()).select_from(ties)
                                              .where(ties.c.axes.like(f"%{axis}%"))).scalar()
            by_axis_actors[axis] = conn.execute(select(func.count()).select_from(actors)
                                                .where(actors.c.axes.like(f"%{axis}%"),
                                                       actors.c.kind == "city_network")).scalar()
        for layer in LAYERS:
            ties_by_layer[layer] = conn.execute(
                select(func.count()).select_from(ties).join(actors, actors.c.id == ties.c.source)
                .where(actors.c.layer == layer)).scalar()
        from ..tiestate import in_force_clause

        live = in_force_clause(ties.c.status)          # the top cities by ties in force
        ends = union_all(select(ties.c.source.label("a")).where(ties.c.target_type == "actor", live),
                         select(ties.c.target.label("a")).where(ties.c.target_type == "actor", live)).subquery()
        degree = select(ends.c.a, func.count().label("n")).group_by(ends.c.a).subquery()
        top = [dict(r._mapping) for r in conn.execute(
            select(actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country, degree.c.n)
            .join(degree, degree.c.a == actors.c.id).where(actors.c.kind == "city")
            .order_by(degree.c.n.desc(), actors.c.id).limit(10))]
    return {"status": status, "ties_by_axis": by_axis_ties, "networks_by_axis": by_axis_actors,
            "ties_by_source_layer": ties_by_layer, "top_cities": top}


def map_overview(obs, top: int = 800) -> bytes:
    """The home map's data as compact JSON (see :func:`citydiplomacy.geo.world_map`),
    computed once per state of the store."""
    return _cached(obs, ("map", top), lambda: _map_overview(obs, top))


def _map_overview(obs, top: int) -> bytes:
    from ..geo import world_map

    return json.dumps(world_map(obs.store, top), ensure_ascii=False, separators=(",", ":")).encode()


@router.get("/overview/map.json")
async def overview_map(request: Request, top: int = 800):
    """The home map's data (see :func:`map_overview`)."""
    obs = _obs(request)
    top = max(10, min(int(top), 3000))
    etag = f'"map-{obs._data_version()}-{top}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    body = await run_in_threadpool(map_overview, obs, top)
    return Response(body, media_type="application/json",
                    headers={"ETag": etag, "Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse)
async def home(request: Request):
    from ..vocab import KIND_LAYER

    data = await run_in_threadpool(overview, _obs(request))
    layer_kinds = {layer: [k.value for k, v in KIND_LAYER.items() if v.value == layer] for layer in LAYERS}
    return await render(request, "home.html", section="home", layer_kinds=layer_kinds, map_top=800, **data)


# ---------------------------------------------------------------------------------------
# search


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = "", kind: str = "", layer: str = "", country: str = "",
                      fragment: bool = False):
    obs = _obs(request)
    results: list[dict[str, Any]] = []
    error = None
    q = q.strip()
    if q:
        try:
            results = await run_in_threadpool(obs.search, q, kind=kind or None, layer=layer or None,
                                              country=country or None, limit=30)
        except CitydipError as exc:
            error = str(getattr(exc, "detail", None) or exc)
    ctx = {"q": q, "kind": kind, "layer": layer, "country": country, "results": results, "error": error}
    if fragment or request.headers.get("x-fragment") == "results":
        return await render(request, "_results.html", **ctx)
    return await render(request, "search.html", section="search", **ctx)


# ---------------------------------------------------------------------------------------
# actors


def _suggestion_links(suggestions: list[str]) -> list[dict[str, str]]:
    out = []
    for s in suggestions:
        m = re.match(r"^(.*) \(([^()]+)\)$", s)
        out.append({"label": s, "href": f"/actors/{quote(m.group(2))}" if m else f"/search?q={quote(s)}"})
    return out


@edit_router.get("/actors/new", response_class=HTMLResponse)
async def actor_new(request: Request):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    form = Form(values={"kind": request.query_params.get("kind", "city_network"),
                        "name": request.query_params.get("name", "")})
    return await render(request, "actor_form.html", section="data", form=form, actor=None)


ACTOR_FIELDS = ("name", "kind", "id", "country", "lat", "lon", "population", "wikidata", "geonames_id",
                "admin1", "founded", "source", "url", "licence", "as_of")
TIE_FIELDS = ("actor", "target", "type", "since", "until", "status", "weight", "source", "url", "licence", "as_of")
INITIATIVE_FIELDS = ("actor", "title", "text", "since", "until", "status", "partners", "source", "url",
                     "licence", "as_of")


async def _posted_form(request: Request, template: str, fields: tuple[str, ...], **ctx: Any):
    """The start of every editor form post: an editor's login, the posted ``fields``
    (stripped; ``axes`` as a list) and the CSRF check. Returns ``(user, values, form)``,
    or the response to send instead (the login page, a 403 page with the form)."""
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    data = await request.form()
    values = {k: (data.get(k) or "").strip() for k in fields}
    values["axes"] = data.getlist("axes")
    form = Form(values=values)
    if not await _csrf_ok(request):
        form.error("_form", CSRF_MESSAGE)
        return await render(request, template, 403, section="data", form=form, **ctx)
    return user, values, form


def _numbers(values: dict[str, Any], form: Form) -> dict[str, Any]:
    """The numeric fields as numbers, with a message next to each one that is not."""
    out: dict[str, Any] = {}
    for key, kind in (("lat", float), ("lon", float), ("population", int), ("geonames_id", int),
                      ("founded", int)):
        raw = values.get(key)
        if raw in (None, ""):
            continue
        try:
            number = kind(str(raw).replace(",", "").replace("_", "")) if kind is int else float(raw)
            if kind is float and not math.isfinite(number):
                raise ValueError
            out[key] = number
        except ValueError:
            form.error(key, f"'{raw}' is not a {'whole number' if kind is int else 'number'}")
    return out


@edit_router.post("/actors/new", response_class=HTMLResponse)
async def actor_create(request: Request):
    posted = await _posted_form(request, "actor_form.html", ACTOR_FIELDS, actor=None)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    numbers = _numbers(values, form)
    if not values["name"]:
        form.error("name", "give the actor's name, as it is usually written")
    _precheck(_obs(request), values, form, dates=("as_of",))
    if not form.errors:
        obs = _obs(request)
        fields = {k: v for k, v in values.items()
                  if k in ("admin1", "wikidata") and v}
        fields.update(numbers)
        if values["axes"]:
            fields["axes"] = values["axes"]
        try:
            report = await run_in_threadpool(
                obs.add_actor, values["name"], values["kind"], id=values["id"] or None,
                country=values["country"] or None, source=values["source"] or None,
                url=values["url"] or None, licence=values["licence"] or None,
                as_of=values["as_of"] or None, who=user.name, **fields)
        except ValidationError as exc:
            form.error(exc.field, exc.detail)
        else:
            new_id = report.actor
            if not report.changed:
                form.error("id" if values["id"] else "name",
                           f"an actor with the id '{new_id}' is already in the store; open it at "
                           f"/actors/{new_id}, or give another id")
            else:
                _audit(request, user, "actor.add", new_id, {"name": values["name"], "kind": values["kind"],
                                                            "source": values["source"]})
                return RedirectResponse(f"/actors/{quote(new_id)}?done=actor", status_code=303)
    return await render(request, "actor_form.html", 422, section="data", form=form, actor=None)


@edit_router.get("/actors/{ref}/edit", response_class=HTMLResponse)
async def actor_edit(request: Request, ref: str):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    try:
        actor = _obs(request).get(ref)
    except CitydipError as exc:
        return await _not_found(request, exc)
    values = {k: ("" if actor.get(k) is None else actor.get(k)) for k in
              ("name", "country", "lat", "lon", "population", "wikidata", "geonames_id", "admin1", "founded")}
    values["axes"] = actor.get("axes") or []
    return await render(request, "actor_form.html", section="data", form=Form(values=values), actor=actor)


@edit_router.post("/actors/{ref}/edit", response_class=HTMLResponse)
async def actor_update(request: Request, ref: str):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    obs = _obs(request)
    try:
        actor = obs.get(ref)
    except CitydipError as exc:
        return await _not_found(request, exc)
    posted = await _posted_form(request, "actor_form.html", ACTOR_FIELDS, actor=actor)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    numbers = _numbers(values, form)
    if not values["name"]:
        form.error("name", "an actor needs a name")
    _precheck(obs, values, form, dates=("as_of",))
    if not form.errors:
        changes: dict[str, Any] = {}
        for key in ("name", "country", "wikidata", "admin1"):
            old = actor.get(key) or ""
            if values[key] != old:
                changes[key] = values[key]
        for key in ("lat", "lon", "population", "geonames_id", "founded"):
            new = numbers.get(key)
            if new != actor.get(key) and not (new is None and actor.get(key) is None):
                changes[key] = "" if new is None else new
        if sorted(values["axes"]) != sorted(actor.get("axes") or []):
            changes["axes"] = values["axes"]
        if not changes:
            form.error("_form", "nothing was changed; edit a field, or go back to the actor's page")
        else:
            try:
                report = await run_in_threadpool(
                    obs.edit_actor, actor["id"], source=values["source"] or None, url=values["url"] or None,
                    licence=values["licence"] or None, as_of=values["as_of"] or None,
                    who=user.name, **changes)
            except ValidationError as exc:
                form.error(exc.field, exc.detail)
            else:
                _audit(request, user, "actor.edit", actor["id"], {"changes": report.changes,
                                                                  "source": values["source"]})
                return RedirectResponse(f"/actors/{quote(actor['id'])}?done=edit", status_code=303)
    return await render(request, "actor_form.html", 422, section="data", form=form, actor=actor)


async def _not_found(request: Request, exc: CitydipError) -> HTMLResponse:
    if isinstance(exc, NotFoundError):
        return await render(request, "error.html", 404, title="Not found", message=str(exc), status=404,
                            suggestions=_suggestion_links(exc.suggestions))
    return await error_page(request, 422, "Cannot show this", str(getattr(exc, "detail", None) or exc))


@router.get("/actors/{ref}", response_class=HTMLResponse)
async def actor_page(request: Request, ref: str, type: str = "", layer: str = "", axis: str = "",  # noqa: A002
                     all: bool = False, as_of: str = "", build: str = ""):  # noqa: A002
    obs = _obs(request)
    try:
        actor = obs.get(ref)
    except CitydipError as exc:
        return await _not_found(request, exc)
    if actor["id"] != ref:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/actors/{quote(actor['id'])}{query}", status_code=303)
    try:
        data = await run_in_threadpool(_actor_data, obs, actor["id"], type, layer, axis, as_of, build.strip())
    except NotFoundError as exc:            # an unknown build
        return await error_page(request, 404, "No such index build", str(exc))
    return await render(request, "actor.html", section="search", actor=actor, **data, build=build.strip(),
                        filters={"type": type, "layer": layer, "axis": axis, "as_of": as_of},
                        group_limit=None if all else GROUP_LIMIT,
                        ego_url=f"/api/v1/actors/{quote(actor['id'])}/ego/layout",
                        map_url=f"/api/v1/map/ties?actor={quote(actor['id'])}",
                        standing_url=f"/api/v1/actors/{quote(actor['id'])}/profile?network=true")


def _actor_data(obs, actor_id: str, type: str, layer: str, axis: str,  # noqa: A002
                as_of: str = "", build: str = "") -> dict[str, Any]:
    """What the actor page shows: the profile (its index scores from the published build,
    or the build named ``build``), the ties (filtered; with ``as_of``, those in force at
    that date), the initiatives."""
    profile = obs.profile(actor_id, build=build or None)
    filter_error = None
    try:
        ties = obs.ties(actor_id, type=type or None, layer=layer or None, axis=axis or None, as_of=as_of or None)
    except ValidationError as exc:
        filter_error = exc.detail
        ties = obs.ties(actor_id)
    from .. import countries, tieroles

    initiatives = obs.initiatives(actor_id)
    from ..engage.summary import activity_if_any

    engaged = activity_if_any(obs.store, actor_id)    # the "Activity" card: only with engagements

    groups = tieroles.group_ties(ties)
    with obs.store.connect() as conn:
        roles_by_layer = tieroles.count_roles(conn, actor_id)

    all_count = sum(sum(c.values()) for c in profile["ties_by_layer"].values())
    code = profile["actor"].get("country")
    found = countries.lookup_code(code) if code else None
    from ..recommend.engine import is_fitted

    recommend_ready = profile["actor"]["kind"] in LOCAL_KINDS and is_fitted(obs.store)
    return {"profile": profile, "ties": ties, "groups": groups, "initiatives": initiatives,
            "recommend_ready": recommend_ready,
            "roles_by_layer": roles_by_layer, "cards": _cards(profile, bool(initiatives)),
            "partners": profile["twinning"]["partners"], "not_in_force": profile["twinning"]["not_in_force"],
            "filter_error": filter_error, "activity": engaged,
            "tie_count": all_count, "country_name": found.name if found else None}


#: kinds of actor that join city networks and act locally: their pages always show the
#: networks-by-axis and initiatives cards, empty or not (an empty one says something)
LOCAL_KINDS = ("city", "region")


def _cards(profile: dict[str, Any], has_initiatives: bool) -> dict[str, bool]:
    """Which optional cards the actor page shows: a card that has nothing to say for this
    kind of actor (a bloc's networks by axis, a network's initiatives) is left out."""
    kind = profile["actor"]["kind"]
    local = kind in LOCAL_KINDS
    reach = profile["reach"]
    return {
        "networks": local or any(profile["networks_by_axis"].values()),
        "initiatives": local or has_initiatives,
        # a macro actor's own "route to the macro layer" is only worth a line when it has one
        "reach": bool(reach["count"]) or profile["actor"]["layer"] != "macro",
    }


# ---------------------------------------------------------------------------------------
# ties and initiatives


@edit_router.get("/ties/new", response_class=HTMLResponse)
async def tie_new(request: Request, actor: str = "", target: str = ""):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    form = Form(values={"actor": actor, "target": target, "type": "partner_of", "status": "active"})
    return await render(request, "tie_form.html", section="data", form=form)


@edit_router.post("/ties/new", response_class=HTMLResponse)
async def tie_create(request: Request):
    posted = await _posted_form(request, "tie_form.html", TIE_FIELDS)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    obs = _obs(request)
    weight = None
    if values["weight"]:
        try:
            weight = float(values["weight"])
        except ValueError:
            form.error("weight", f"'{values['weight']}' is not a number")
    if not values["actor"]:
        form.error("actor", "name the actor the tie starts from (an id such as barcelona-es, or a name)")
    if not values["target"]:
        form.error("target", "name the other end: an actor, or a framework such as paris or sdg:11")
    found = await run_in_threadpool(_precheck, obs, values, form, actors=("actor", "target"))
    src = found.get("actor")
    if not form.errors:
        try:
            report = await run_in_threadpool(
                obs.add_tie, src["id"], values["target"], values["type"], since=values["since"] or None,
                until=values["until"] or None, status=values["status"] or None,
                axes=values["axes"] or None, weight=weight, source=values["source"] or None,
                url=values["url"] or None, licence=values["licence"] or None,
                as_of=values["as_of"] or None, who=user.name)
        except NotFoundError as exc:
            form.error("target", _with_suggestions(exc))
        except ValidationError as exc:
            name = exc.field if exc.field in values else None
            if exc.field == "actor":
                name = "target"
            form.error(name, exc.detail)
        else:
            _audit(request, user, "tie.add", f"{src['id']} {values['type']} {values['target']}",
                   {"report": _summary(report), "source": values["source"]})
            return RedirectResponse(f"/actors/{quote(src['id'])}?done=tie#ties", status_code=303)
    return await render(request, "tie_form.html", 422, section="data", form=form)


SOURCE_MESSAGE = ("say where this is documented (a decision, report or web page), so the fact keeps "
                  "its provenance")


def _precheck(obs, values: dict[str, Any], form: Form, *, dates=("since", "until", "as_of"),
              actors=()) -> dict[str, Any]:
    """Check what can be checked field by field before the library sees the whole
    record, so that every wrong field is named at once: the source, dates, and actor
    references (``actors``: the fields naming an actor, or a framework for ``target``).
    Returns the actors found, by field."""
    from ..dates import parse_partial_date

    if "source" in values and not values["source"]:
        form.error("source", SOURCE_MESSAGE)
    for name in dates:
        if values.get(name):
            try:
                parse_partial_date(values[name], field=name)
            except ValidationError as exc:
                form.error(name, exc.detail)
    found = {}
    frameworks = None
    for name in actors:
        ref = values.get(name)
        if not ref:
            continue
        if name == "target":
            if frameworks is None:
                frameworks = {f["id"] for f in obs.frameworks()}
            if ref in frameworks or re.match(r"^[a-z][a-z0-9_-]*:[0-9A-Za-z.]+$", ref):
                continue
        try:
            found[name] = obs.get(ref)
        except NotFoundError as exc:
            form.error(name, _with_suggestions(exc))
        except ValidationError as exc:
            form.error(name, exc.detail)
    return found


def _with_suggestions(exc: NotFoundError) -> str:
    if exc.suggestions:
        return f"{exc}; did you mean {', '.join(exc.suggestions[:4])}?"
    return f"{exc}; search for the actor first and use its id"


def _summary(report) -> dict[str, Any]:
    d = report.as_dict()
    return {k: d[k] for k in ("importer", "source", "run_id", "rows_read", "created", "updated", "unchanged",
                              "ended", "rejected", "ambiguous", "unresolved") if k in d}


@edit_router.get("/initiatives/new", response_class=HTMLResponse)
async def initiative_new(request: Request, actor: str = ""):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    form = Form(values={"actor": actor, "status": "active"})
    return await render(request, "initiative_form.html", section="data", form=form)


@edit_router.post("/initiatives/new", response_class=HTMLResponse)
async def initiative_create(request: Request):
    posted = await _posted_form(request, "initiative_form.html", INITIATIVE_FIELDS)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    obs = _obs(request)
    if not values["actor"]:
        form.error("actor", "name the actor whose initiative this is (an id such as barcelona-es, or a name)")
    if not values["title"]:
        form.error("title", "give the initiative a title")
    found = await run_in_threadpool(_precheck, obs, values, form, actors=("actor",))
    actor = found.get("actor")
    if not form.errors:
        partners = [p.strip() for p in re.split(r"[,\n]", values["partners"]) if p.strip()]
        try:
            report = await run_in_threadpool(
                obs.add_initiative, actor["id"], values["title"], values["text"], since=values["since"] or None,
                until=values["until"] or None, status=values["status"] or None, axes=values["axes"] or None,
                partners=partners, source=values["source"], url=values["url"] or None,
                licence=values["licence"] or None, as_of=values["as_of"] or None)
        except NotFoundError as exc:
            form.error("partners", _with_suggestions(exc))
        except ValidationError as exc:
            form.error(exc.field if exc.field in values else None, exc.detail)
        else:
            _audit(request, user, "initiative.add", actor["id"], {"title": values["title"],
                                                                  "report": _summary(report)})
            return RedirectResponse(f"/actors/{quote(actor['id'])}?done=initiative#initiatives", status_code=303)
    return await render(request, "initiative_form.html", 422, section="data", form=form)


# ---------------------------------------------------------------------------------------
# frameworks


@router.get("/recommend", response_class=HTMLResponse)
async def recommend_page(request: Request, task: str = "partners", city: str = "", theme: str = "",
                         country: str = "", bloc: str = "", band: str = "", max_km: str = "", top: str = "20"):
    """Ask for recommendations: partners for a city, networks for a city or members for a
    network, with a theme and filters; each answer with its reasons (citydiplomacy.recommend)."""
    values = {"task": task if task in ("partners", "networks", "members") else "partners", "city": city.strip(),
              "theme": theme.strip(), "country": country.strip(), "bloc": bloc.strip(), "band": band,
              "max_km": max_km.strip(), "top": top.strip() or "20"}
    form = Form(values=values)
    answer, status = None, 200
    try:
        n = int(values["top"])
        if not 1 <= n <= 200:
            raise ValueError
    except ValueError:
        form.error("top", "Give a number from 1 to 200.")
        n = 20
    km = None
    if values["max_km"]:
        try:
            km = float(values["max_km"])
        except ValueError:
            form.error("max_km", "Give a distance in km, e.g. 500.")
    if values["city"] and not form.errors:
        from .. import recommend

        obs = _obs(request)
        opts: dict[str, Any] = {"theme": values["theme"] or None, "top": n}
        if values["task"] != "networks":
            opts |= {"countries": [values["country"]] if values["country"] else None,
                     "blocs": [values["bloc"]] if values["bloc"] else None,
                     "band": [values["band"]] if values["band"] else None}
        if values["task"] == "partners":
            opts["max_km"] = km
        fn = {"partners": recommend.recommend_partners, "networks": recommend.recommend_networks,
              "members": recommend.recommend_members}[values["task"]]

        def run():
            with request.app.state.graph_lock:
                graph = obs.graph()
                recommend.recommender(obs.store, graph)
            return fn(obs.store, values["city"], graph=graph, **opts)

        _, slot = await heavy_slot(request)
        try:
            with slot:
                answer = await run_in_threadpool(run)
        except NotFoundError as exc:
            form.error("city", _with_suggestions(exc))
            status = 404
        except ValidationError as exc:
            field = {"countries": "country", "blocs": "bloc", "actor": "city", "network": "city"}.get(
                exc.field, exc.field)
            form.error(field if field in values else "city", exc.detail)
            status = 422
    return await render(request, "recommend.html", status, section="recommend", form=form, answer=answer)


INDEX_AXES = ("overall", "sustainability", "digital", "engagement")
INDEX_REGIONS = ("", "Africa", "Asia", "Europe", "North America", "Oceania", "South America")


@router.get("/indices", response_class=HTMLResponse)
async def indices_page(request: Request, axis: str = "overall", region: str = "", bloc: str = "", country: str = "",
                       band: str = "", top: str = "50", low_data: str = "", build: str = ""):
    """The cities ranked on an axis in the published build (or the build named ``build``),
    with filters, each rank with its interval and the city's data coverage (cities with low
    data listed after them on request); the builds, and for an administrator the controls
    that publish one and start a new one."""
    return await _indices(request, Form(values={"axis": axis, "region": region, "bloc": bloc, "country": country,
                                                "band": band, "top": top, "low_data": low_data,
                                                "build": build.strip()}))


async def _indices(request: Request, form: Form, build_form: Form | None = None, status: int = 200) -> HTMLResponse:
    from ..indices.build import BANDS

    values, errors = form.values, form.errors
    ranking, total, error = None, 0, None
    try:
        n = int(values["top"])
        if not 1 <= n <= 500:
            raise ValueError
    except ValueError:
        errors["top"] = "Give a number from 1 to 500."
        n = 50
    obs = _obs(request)
    builds = await run_in_threadpool(obs.index_builds)
    if not errors:
        try:
            ranking = await run_in_threadpool(lambda: obs.index_rank(
                axis=values["axis"], region=values["region"] or None, bloc=values["bloc"].strip() or None,
                country=values["country"].strip() or None, band=values["band"] or None, top=n,
                low_data=bool(values.get("low_data")), build=values["build"] or None))
            total = ranking["of"]
        except NotFoundError as exc:
            ranking = None
            if values["build"] and builds:
                errors["build"] = str(exc)
        except ValidationError as exc:
            if exc.field in values:
                errors[exc.field] = exc.detail
            else:
                error = str(exc)
    user = await _user(request)
    is_admin = bool(user and user.can("admin")) and not _read_only(request)
    frameworks: list[str] = []
    if is_admin:
        from ..indices.builds import known_frameworks

        frameworks = await run_in_threadpool(known_frameworks, obs.store)
    return await render(request, "indices.html", status, section="indices", form=form,
                        ranking=ranking, total=total, error=error, axes=list(INDEX_AXES),
                        regions=[("", "all")] + [(r, r) for r in INDEX_REGIONS if r],
                        bands=[("", "all")] + [(b, b) for _, b in BANDS],
                        builds=builds, build_options=[("", "the published build")] + [
                            (b["label"] or b["name"], (b["label"] or b["name"]) + (" (published)" if b["published"]
                                                                                  else "")) for b in builds],
                        is_admin=is_admin, frameworks=[(f, f) for f in frameworks],
                        build_form=build_form or Form(values={"replications": "1000", "framework": "shipped"}))


@edit_router.post("/indices/publish", response_class=HTMLResponse)
async def indices_publish(request: Request):
    """An administrator publishes a build (audited: index.publish, channel web)."""
    from ..store.audit import acting_as

    user = await _need(request, "admin")
    if isinstance(user, Response):
        return user
    data = await request.form()
    name = str(data.get("build") or "").strip()
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Not published", CSRF_MESSAGE)

    def work():
        with acting_as(user.name, "web"):
            return _obs(request).index_publish(name)
    try:
        result = await run_in_threadpool(work)
    except NotFoundError as exc:
        return await error_page(request, 404, "No such index build", str(exc))
    return RedirectResponse(f"/indices?build={quote(result['label'] or result['name'])}&done=published",
                            status_code=303)


@edit_router.post("/indices/builds", response_class=HTMLResponse)
async def indices_build(request: Request):
    """An administrator starts a build of the shipped framework as a job; its progress page
    follows it (audited: index.build, channel web)."""
    from ..indices.builds import check_framework, check_label, parse_years

    user = await _need(request, "admin")
    if isinstance(user, Response):
        return user
    data = await request.form()
    values = {k: str(data.get(k) or "").strip() for k in ("framework", "years", "replications", "seed", "name")}
    values["publish"] = bool(data.get("publish"))
    build_form = Form(values=values)
    args: dict[str, Any] = {}
    if not await _csrf_ok(request):
        build_form.error("_form", CSRF_MESSAGE)
    else:
        for key, low, high in (("replications", 0, 10_000), ("seed", 0, 2**31)):
            if values[key]:
                try:
                    args[key] = int(values[key])
                    if not low <= args[key] <= high:
                        raise ValueError
                except ValueError:
                    build_form.error(key, f"Give a whole number from {low:,} to {high:,}.")
        try:
            args["years"] = parse_years(values["years"])
        except ValidationError as exc:
            build_form.error("years", exc.detail)
        try:
            args["name"] = check_label(values["name"] or None)
        except ValidationError as exc:
            build_form.error("name", exc.detail)
        try:
            args["framework"] = await run_in_threadpool(check_framework, _obs(request).store, values["framework"])
        except ValidationError as exc:
            build_form.error("framework", exc.detail)
    if build_form.errors:
        return await _indices(request, Form(values={"axis": "overall", "region": "", "bloc": "", "country": "",
                                                    "band": "", "top": "50", "low_data": "", "build": ""}),
                              build_form, 422)
    store = _obs(request).store
    args.update(store=str(store.path or store.url), publish=values["publish"], who=user.name, channel="web")
    from ..jobs import submit_one

    job, submitted = submit_one(request.app.state.jobs, "index-build", args, owner=user.name, params={
        "task": "index build", "framework": values["framework"] or "shipped", "years": values["years"] or None,
        "replications": args.get("replications"), "name": args.get("name"), "publish": values["publish"]})
    if not submitted:           # one build at a time: follow the one in progress
        return RedirectResponse(f"/indices/jobs/{job.id}?busy=1", status_code=303)
    return RedirectResponse(f"/indices/jobs/{job.id}", status_code=303)


@edit_router.get("/indices/jobs/{job_id}", response_class=HTMLResponse)
async def indices_job(request: Request, job_id: str):
    """The progress of an index build; when it is done, the new build's ranking."""
    user = await _need(request, "admin")
    if isinstance(user, Response):
        return user
    try:
        state = request.app.state.jobs.status(job_id)
    except ValueError:
        state = None
    if state is None or state.task != "index-build":
        return await error_page(request, 404, "No such build", "This index build is unknown or has expired "
                                "(jobs are kept a day after they finish).")
    if state.status == "succeeded":
        name = state.result.get("label") or state.result.get("name")
        return RedirectResponse(f"/indices?build={quote(name)}&done=built", status_code=303)
    return await render(request, "index_progress.html", 200, section="indices", state=state.as_dict(),
                        job_id=job_id, busy=bool(request.query_params.get("busy")))


@edit_router.post("/indices/jobs/{job_id}/cancel", response_class=HTMLResponse)
async def indices_job_cancel(request: Request, job_id: str):
    user = await _need(request, "admin")
    if isinstance(user, Response):
        return user
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Not cancelled", CSRF_MESSAGE)
    try:
        job = request.app.state.jobs.cancel(job_id)
    except ValueError:
        job = None
    if job is None or job.task != "index-build":
        return await error_page(request, 404, "No such build", "This index build is unknown or has expired.")
    _audit(request, user, "job.cancel", job_id, {"task": job.task, **job.params})
    return RedirectResponse(f"/indices/jobs/{job_id}", status_code=303)


@router.get("/frameworks", response_class=HTMLResponse)
async def frameworks_page(request: Request, lang: str = "en"):
    """Every framework, its titles in ``lang`` where it has them (else English); the
    page's frame in ``lang`` when the frame is written in it (:mod:`.i18n`)."""
    obs = _obs(request)
    items = []
    for fw in obs.frameworks():
        try:
            browse = obs.framework(fw["id"], lang=lang)
        except ValidationError:             # a language this framework lacks: its English titles
            browse = obs.framework(fw["id"])
        items.append({"id": fw["id"], "name": browse["name"], "counts": browse["counts"], "lang": browse["lang"],
                      "languages": browse["languages"], "children": browse["children"]})
    shown = lang if any(f["lang"] == lang for f in items) else "en"
    return await render(request, "frameworks.html", section="frameworks", frameworks=items, lang=shown,
                        ui_lang=i18n.frame_language(shown), language_names=LANGUAGE_NAMES)


@router.get("/frameworks/{fw}", response_class=HTMLResponse)
async def framework_page(request: Request, fw: str, lang: str = "en"):
    if ":" in fw:                       # an item code such as sdg:11.6 (a tie's target)
        prefix, _, code = fw.partition(":")
        return RedirectResponse(f"/frameworks/{quote(prefix)}/{quote(code)}?lang={quote(lang)}", status_code=303)
    return await _framework(request, fw, None, lang)


@router.get("/frameworks/{fw}/{code}", response_class=HTMLResponse)
async def framework_item_page(request: Request, fw: str, code: str, lang: str = "en"):
    return await _framework(request, fw, code, lang)


LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "de": "Deutsch", "ru": "Русский",
                  "ar": "العربية", "zh-Hans": "中文", "zh": "中文", "pt": "Português"}


async def _framework(request: Request, fw: str, code: str | None, lang: str) -> HTMLResponse:
    obs = _obs(request)
    try:
        data = obs.framework(fw, code, lang=lang)
    except ValidationError as exc:           # a language the framework lacks: say so, show English
        data = obs.framework(fw, code, lang="en")
        data["lang_error"] = exc.detail
    except NotFoundError as exc:
        return await _not_found(request, exc)
    trail = []
    parent = data.get("item", {}).get("parent")
    while parent:
        p = obs.framework(fw, parent, lang=data["lang"])["item"]
        trail.insert(0, p)
        parent = p.get("parent")
    return await render(request, "framework.html", section="frameworks", fw=fw, data=data, trail=trail,
                        language_names=LANGUAGE_NAMES, ui_lang=i18n.frame_language(data["lang"]))


# ---------------------------------------------------------------------------------------
# alignment


def _titles(obs) -> dict[str, str]:
    """English titles of every framework item (for labelling alignment results)."""
    from sqlalchemy import select

    from ..store.schema import framework_titles

    def compute():
        with obs.store.connect() as conn:
            return {r.code: (r.short or r.title) for r in conn.execute(
                select(framework_titles).where(framework_titles.c.lang == "en"))}
    return _cached(obs, "titles", compute)


def _highlight(text: str, evidence: list[dict[str, Any]], titles: dict[str, str]) -> list[dict[str, Any]]:
    """The text cut into plain and marked pieces; each mark lists the items its words
    matched (overlapping spans are merged)."""
    spans = sorted((e["span"][0], e["span"][1], e["item"]) for e in evidence
                   if e.get("via") == "term" and e.get("span"))
    merged: list[list[Any]] = []
    for start, end, item in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].add(item)
        else:
            merged.append([start, end, {item}])
    out, pos = [], 0
    for start, end, items in merged:
        if start > pos:
            out.append({"text": text[pos:start]})
        label = "; ".join(f"{_item_label(i)}" + (f" — {titles[_code(i)]}" if _code(i) in titles else "")
                          for i in sorted(items))
        out.append({"text": text[start:end], "mark": True, "title": label})
        pos = end
    if pos < len(text):
        out.append({"text": text[pos:]})
    return out


def _code(item: str) -> str:
    return item


def _item_label(item: str) -> str:
    kind, _, code = item.partition(":")
    return {"sdg": f"SDG {code}", "paris": f"Paris Art. {code}", "axis": f"axis {code}"}.get(kind, item)


def _result(rec: dict[str, Any], text: str, titles: dict[str, str], ref: str | None = None) -> dict[str, Any]:
    scores = rec.get("scores", {})
    words: dict[str, list[str]] = {}
    for e in rec.get("evidence", []):
        if e.get("via") == "term" and e.get("text"):
            seen = words.setdefault(e["item"], [])
            if e["text"].lower() not in (w.lower() for w in seen):
                seen.append(e["text"])
    targets = [{"code": t, "title": titles.get(f"sdg:{t}", ""), "score": scores.get("targets", {}).get(t),
                "words": words.get(f"sdg:{t}", [])} for t in rec["targets"]]
    return {
        "ref": ref,
        "goals": [{"code": g, "title": titles.get(f"sdg:{g}", ""), "score": scores.get("sdg", {}).get(str(g)),
                   "targets": [t for t in targets if t["code"].split(".")[0] == str(g)],
                   "words": words.get(f"sdg:{g}", [])}
                  for g in rec["sdgs"]],
        "targets": targets,
        "paris": [{"code": a, "title": titles.get(f"paris:{a}", ""), "score": scores.get("paris", {}).get(str(a)),
                   "words": words.get(f"paris:{a}", [])} for a in rec["paris"]],
        "axes": [{"code": x, "score": scores.get("axes", {}).get(x), "words": words.get(f"axis:{x}", [])}
                 for x in rec["axes"]],
        "near": {k: {c: s for c, s in v.items()
                     if (k == "sdg" and int(c) not in rec["sdgs"]) or (k == "paris" and int(c) not in rec["paris"])}
                 for k, v in scores.items() if k in ("sdg", "paris")},
        "pieces": _highlight(text, rec.get("evidence", []), titles),
        "semantic": [e for e in rec.get("evidence", []) if e.get("via") == "semantic"],
        "empty": not (rec["sdgs"] or rec["paris"] or rec["axes"]),
    }


ALIGN_DEFAULTS = {"lang": "auto", "level": "target", "frameworks": ["sdg", "paris"], "mode": "auto", "text": ""}


@router.get("/align", response_class=HTMLResponse)
async def align_page(request: Request):
    return await render(request, "align.html", section="align", form=Form(values=dict(ALIGN_DEFAULTS)),
                        results=None, method=None)


@router.post("/align", response_class=HTMLResponse)
async def align_post(request: Request):
    from ..align.documents import DOCUMENT_SUFFIXES

    data = await request.form()
    values = {"text": (data.get("text") or ""), "lang": data.get("lang") or "auto",
              "level": data.get("level") or "target", "mode": data.get("mode") or "auto",
              "frameworks": data.getlist("frameworks") or ["sdg", "paris"]}
    form = Form(values=values)
    upload = data.get("document")
    has_file = isinstance(upload, UploadFile) and upload.filename
    if not has_file and not values["text"].strip():
        form.error("text", "paste some text to align, or choose a document to upload")
    if len(values["text"]) > MAX_ALIGN_TEXT:
        form.error("text", f"the text has {len(values['text']):,} characters; paste at most "
                           f"{MAX_ALIGN_TEXT:,}, or upload it as a document")
    results, method, doc_name = None, None, None
    status = 200
    if not form.errors:
        titles = await run_in_threadpool(_titles, _obs(request))
        lim, slot = await heavy_slot(request)
        try:
            with slot:
                if has_file:
                    suffix = Path(upload.filename).suffix.lower()
                    if suffix not in DOCUMENT_SUFFIXES:
                        raise ValidationError(f"cannot read a '{suffix or 'file without suffix'}' document; upload "
                                              f"{', '.join(sorted(DOCUMENT_SUFFIXES))}", field="document")
                    with tempfile.TemporaryDirectory() as tmp:
                        path = Path(tmp) / ("document" + suffix)
                        await _save_upload(upload, path, field_name="document", lim=lim)
                        method, results = await run_in_threadpool(_align_work, values, titles, lim, path)
                    doc_name = upload.filename
                else:
                    method, results = await run_in_threadpool(_align_work, values, titles, lim, None)
        except ValidationError as exc:
            name = {"framework": "frameworks", "file": "document"}.get(exc.field or "", exc.field)
            if name not in (None, "text", "lang", "level", "mode", "frameworks", "document"):
                name = "document" if has_file else "text"
            form.error(name, exc.detail if exc.field else str(exc))
            results = None
            status = getattr(exc, "status", 422)
    summary = None
    if results and doc_name:
        goals: dict[int, int] = {}
        for r in results:
            for g in r["goals"]:
                goals[g["code"]] = goals.get(g["code"], 0) + 1
        summary = {"passages": len(results), "goals": sorted(goals.items(), key=lambda kv: (-kv[1], kv[0]))}
        results = [r for r in results if not r["empty"]]
    if form.errors and status == 200:
        status = 422
    return await render(request, "align.html", status, section="align", form=form, results=results,
                        method=method, document=doc_name, summary=summary)


def _align_work(values: dict[str, Any], titles: dict[str, str], lim, path: Path | None):
    """The alignment of the form's document (``path``) or text, within ``lim``: the
    method used and the results to show."""
    from ..align import aligner
    from ..align.documents import read_document

    with limits.applied(lim):
        if path is not None:
            passages = read_document(path, limits=lim)
            al = aligner(values["mode"])
            records = al.align_many(passages, lang=values["lang"], level=values["level"],
                                    frameworks=values["frameworks"])
            return al.method, [_result(r.record(), p.text, titles, ref=p.ref) for p, r in zip(passages, records)
                               if not r.error]
        al = aligner(values["mode"])
        rec = al.align(values["text"], lang=values["lang"], level=values["level"],
                       frameworks=values["frameworks"]).record()
        return al.method, [_result(rec, values["text"], titles)]


async def _save_upload(upload: UploadFile, path: Path, *, field_name: str, lim) -> None:
    """Copy an upload to ``path``, refusing one larger than ``lim.file_bytes`` as it comes."""
    size = 0
    with path.open("wb") as fh:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if lim.file_bytes is not None and size > lim.file_bytes:
                raise limits.exceeded(lim, "file_bytes", found=f"the file is larger than {limits.size(lim.file_bytes)}",
                                      field=field_name, advice="split it, or use the command line "
                                                               "(citydip import / citydip align)")
            fh.write(chunk)
    if size == 0:
        raise ValidationError("the file is empty", field=field_name)


# ---------------------------------------------------------------------------------------
# sign in, sign out, account


@edit_router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/"):  # noqa: A002
    return await render(request, "login.html", form=Form(values={"name": ""}), next=_safe_next(next))


@edit_router.post("/login", response_class=HTMLResponse)
async def login_post(request: Request):
    from . import security
    from .problems import Problem

    data = await request.form()
    name = (data.get("name") or "").strip()
    password = data.get("password") or ""
    target = _safe_next(data.get("next"))
    form = Form(values={"name": name})
    if not await _csrf_ok(request):
        form.error("_form", CSRF_MESSAGE)
        return await render(request, "login.html", 403, form=form, next=target)
    if not name:
        form.error("name", "enter your user name")
    if not password:
        form.error("password", "enter your password")
    headers = {}
    status = 422
    if not form.errors:
        response = RedirectResponse(target + ("&" if "?" in target else "?") + "done=login", status_code=303)
        try:
            await run_in_threadpool(security.login, request, response, name, password)
            return response
        except Problem as exc:          # wrong name or password (401), or too many tries (429)
            form.error("_form", exc.detail)
            status = exc.status
            headers.update(exc.headers)
    out = await render(request, "login.html", status, form=form, next=target)
    out.headers.update(headers)
    return out


@edit_router.get("/logout", response_class=HTMLResponse)
async def logout_page(request: Request):
    return await render(request, "logout.html")


@edit_router.post("/logout")
async def logout_post(request: Request):
    from . import security

    response = RedirectResponse("/?done=logout", status_code=303)
    if await _user(request) is not None and not await _csrf_ok(request):
        return await error_page(request, 403, "Not signed out", CSRF_MESSAGE)
    await run_in_threadpool(security.logout, request, response)
    return response


@edit_router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request):
    from .. import accounts

    user = await _user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    tokens = accounts.list_tokens(_obs(request).store, user)
    return await render(request, "account.html", tokens=tokens, form=Form(), new_secret=None)


@edit_router.post("/account/tokens", response_class=HTMLResponse)
async def token_create(request: Request):
    from .. import accounts

    user = await _user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    data = await request.form()
    label = (data.get("label") or "").strip()
    form = Form(values={"label": label})
    store = _obs(request).store
    secret = None
    if not await _csrf_ok(request):
        form.error("_form", CSRF_MESSAGE)
    elif not label:
        form.error("label", "give the token a label that says where it is used, e.g. 'nightly import script'")
    else:
        try:
            token_id, secret = accounts.create_token(store, user, label)     # audited by accounts
            form = Form()
        except ValidationError as exc:
            form.error("label", exc.detail)
    tokens = accounts.list_tokens(store, user)
    return await render(request, "account.html", 422 if form.errors else 200, tokens=tokens, form=form,
                        new_secret=secret)


@edit_router.post("/account/tokens/{token_id}/revoke")
async def token_revoke(request: Request, token_id: int):
    from .. import accounts

    user = await _user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Token not revoked", CSRF_MESSAGE)
    try:
        accounts.revoke_token(_obs(request).store, user, token_id)
    except NotFoundError as exc:
        return await error_page(request, 404, "No such token", str(exc))
    return RedirectResponse("/account?done=token", status_code=303)


# ---------------------------------------------------------------------------------------
# imports: upload → dry-run report → review → apply


IMPORTERS = ("twinning", "table")
TABLE_KINDS = ("ties", "actors", "observations", "initiatives")
#: the review file a dry run writes into the job's folder (the names it was unsure of)
UNSURE = "unsure.csv"


def _jobs_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "citydip-web-imports"
    d.mkdir(mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        st = d.lstat()
        if d.is_symlink() or st.st_uid != os.getuid() or st.st_mode & 0o077:
            # someone else made it first in the shared temporary directory: not ours to use
            raise StoreError(f"{d} belongs to another user or others can open it; remove it, or set "
                             "TMPDIR to a private directory for citydip serve")
    now = time.time()
    for old in d.iterdir():
        try:
            if now - old.stat().st_mtime > JOB_TTL:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return d


def _job(token: str, user) -> dict[str, Any] | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token):
        return None
    meta = _jobs_dir() / token / "job.json"
    if not meta.exists():
        return None
    job = json.loads(meta.read_text(encoding="utf-8"))
    if job.get("owner") != user.name:
        return None
    job["dir"] = str(meta.parent)
    return job


def _save_job(job: dict[str, Any]) -> None:
    d = Path(job["dir"])
    (d / "job.json").write_text(json.dumps({k: v for k, v in job.items() if k != "dir"}, ensure_ascii=False),
                                encoding="utf-8")


def _pairs(text: str, what: str, form: Form, name: str) -> dict[str, str]:
    """``field=Column`` lines as a dict, with a message for a line that is not one."""
    out = {}
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            form.error(name, f"line {n} ('{line}') is not {what}")
            continue
        out[key.strip()] = value.strip()
    return out


def _start_job(request: Request, job: dict[str, Any], user, *, dry_run: bool) -> None:
    """Queue the upload's import as a background job (dry run: it also writes the review
    file); the report page follows it. An applied import is audited by the job, in the
    import's own transaction."""
    d = Path(job["dir"])
    review = str(d / UNSURE) if dry_run else None
    if dry_run and (d / UNSURE).exists():
        (d / UNSURE).unlink()
    store = _obs(request).store
    args = {"store": str(store.path or store.url), "importer": job["importer"], "file": str(d / job["file"]),
            "options": job["options"], "dry_run": dry_run, "review": review, "who": user.name,
            "label": job["original"], "channel": "web", "limits": "editor"}
    queued = request.app.state.jobs.submit("import", args, owner=user.name,
                                           params={"importer": job["importer"], "file": job["original"],
                                                   "dry_run": dry_run, "upload": d.name})
    job["running"] = queued.id
    job["running_dry"] = dry_run
    job.pop("failed", None)
    _save_job(job)


#: how long a form waits for its import job before showing the progress page instead of the
#: report (seconds): a small file's report comes at once, a large one's progress is shown
SETTLE = 10.0


async def _settle(request: Request, job_id: str, seconds: float = SETTLE) -> None:
    """Wait (without holding a thread) until the job finished or ``seconds`` passed."""
    import anyio

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = request.app.state.jobs.status(job_id)
        if state is None or state.done:
            return
        await anyio.sleep(0.1)


def _follow_job(request: Request, job: dict[str, Any]):
    """The background job of this upload: None when it finished (its report, or its error,
    is then kept with the upload), else its state."""
    if not job.get("running"):
        return None
    state = request.app.state.jobs.status(job["running"])
    if state is not None and not state.done:
        return state
    key = "dry" if job.get("running_dry") else "applied"
    if state is None:
        job["failed"] = {"title": "The import was lost", "detail": "The server no longer knows this import. "
                         "Upload the file again."}
    elif state.status == "succeeded":
        job[key] = _summary_dict(state.result, job)
    elif state.status == "cancelled":
        job["failed"] = {"title": "Import cancelled", "detail": "The import was cancelled; nothing was written."}
    else:
        err = state.error or {}
        job["failed"] = {"title": "The import cannot run",
                         "detail": _strip(_error_text(err), job)}
    job.pop("running", None)
    _save_job(job)
    return None


def _error_text(err: dict[str, Any]) -> str:
    where = [x for x in (f"row {err['row']}" if err.get("row") is not None else "",
                         f"field '{err['field']}'" if err.get("field") else "") if x]
    return (", ".join(where) + ": " if where else "") + (err.get("detail") or "the import failed")


def _review_lines(obs, job: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(job["dir"]) / UNSURE
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, line in enumerate(csv.DictReader(fh)):
            cands = []
            for cid in [c.strip() for c in (line.get("candidates") or "").split("|") if c.strip()]:
                label = cid
                try:
                    a = obs.get(cid)
                    where = f", {a['admin1']}" if a.get("admin1") else ""
                    label = f"{a['name']}{where} ({a.get('country') or '–'}) — {cid}"
                except CitydipError:
                    pass
                cands.append({"id": cid, "label": label})
            lines.append({"n": n, "row": line.get("row"), "field": line.get("field"), "name": line.get("name"),
                          "country": line.get("country"), "status": line.get("status"),
                          "reason": line.get("reason"), "candidates": cands})
    return lines


@edit_router.get("/imports", response_class=HTMLResponse)
async def imports_page(request: Request):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    form = Form(values={"importer": "twinning", "as": "ties"})
    return await render(request, "imports.html", section="data", form=form)


@edit_router.post("/imports", response_class=HTMLResponse)
async def imports_upload(request: Request):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    data = await request.form()
    values = {k: (data.get(k) or "").strip() if isinstance(data.get(k) or "", str) else ""
              for k in ("importer", "as", "mapping", "fixed", "source_name", "licence", "as_of", "url", "encoding")}
    form = Form(values=values)
    if not await _csrf_ok(request):
        form.error("_form", CSRF_MESSAGE)
        return await render(request, "imports.html", 403, section="data", form=form)
    upload = data.get("file")
    if values["importer"] not in IMPORTERS:
        form.error("importer", f"choose one of: {', '.join(IMPORTERS)}")
    if not (isinstance(upload, UploadFile) and upload.filename):
        form.error("file", "choose the file to import (CSV, TSV, or Excel for tables)")
    options: dict[str, Any] = {k: values[k] for k in ("source_name", "licence", "as_of", "url") if values[k]}
    if values["encoding"]:
        options["encoding"] = values["encoding"]
    if values["importer"] == "table":
        if values["as"] not in TABLE_KINDS:
            form.error("as", f"choose one of: {', '.join(TABLE_KINDS)}")
        options["as_"] = values["as"]
        options["mapping"] = _pairs(values["mapping"], "field=Column", form, "mapping")
        options["fixed"] = _pairs(values["fixed"], "field=value", form, "fixed")
        if not options["mapping"] and "mapping" not in form.errors:
            form.error("mapping", "map at least one field to a column, e.g. source=City")
        if not form.errors:
            from ..ingest.table import check_options

            try:
                check_options(options["as_"], options["mapping"], options["fixed"])
            except ValidationError as exc:
                form.error({"map": "mapping", "as": "as"}.get(exc.field or "", "mapping"), exc.detail)
    if form.errors:
        return await render(request, "imports.html", 422, section="data", form=form)
    # provenance names the uploaded file, not the server's temporary copy
    options.setdefault("source_name", Path(upload.filename).name)
    options.setdefault("url", f"upload: {Path(upload.filename).name}")
    token = secrets.token_urlsafe(18)
    d = _jobs_dir() / token
    d.mkdir(mode=0o700)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.filename).name).strip("._") or "upload.csv"
    job = {"owner": user.name, "importer": values["importer"], "file": filename, "options": options,
           "original": upload.filename, "dir": str(d)}
    lim, slot = await heavy_slot(request)
    try:
        with slot:      # the upload is read within the editor's limits; the import runs as a job
            await _save_upload(upload, d / filename, field_name="file", lim=lim)
        _start_job(request, job, user, dry_run=True)
        await _settle(request, job["running"])
        state = request.app.state.jobs.status(job["running"])
        if state is not None and state.status == "failed" and (state.error or {}).get("error") == "ValidationError":
            err = state.error
            raise ValidationError(err["detail"], field=err.get("field"), row=err.get("row"), file=err.get("file"))
    except ValidationError as exc:
        shutil.rmtree(d, ignore_errors=True)
        name = {"map": "mapping", "as": "as", "encoding": "encoding"}.get(exc.field or "", "file")
        form.error(name, str(exc).replace(str(d) + "/", ""))
        return await render(request, "imports.html", getattr(exc, "status", 422), section="data", form=form)
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    return RedirectResponse(f"/imports/{token}", status_code=303)


@edit_router.get("/imports/{token}", response_class=HTMLResponse)
async def import_report(request: Request, token: str):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    job = _job(token, user)
    if job is None:
        return await error_page(request, 404, "No such import", "This import is unknown or has expired "
                                "(uploads are kept for a day). Upload the file again.")
    obs = _obs(request)
    state = _follow_job(request, job)
    if state is not None:
        return await render(request, "import_progress.html", section="data", job=job, token=token,
                            state=state.as_dict(), applying=not job.get("running_dry"))
    if job.get("failed") and not job.get("applied"):
        f = job["failed"]
        if not job.get("dry"):
            return await error_page(request, 422, f["title"], f["detail"])
    if job.get("applied"):
        report = job["applied"]
    elif job.get("dry"):
        report = job["dry"]
    else:
        _start_job(request, job, user, dry_run=True)
        await _settle(request, job["running"])
        return RedirectResponse(f"/imports/{token}", status_code=303)
    return await render(request, "import_report.html", section="data", job=job, token=token, report=report,
                        review=await run_in_threadpool(_review_lines, obs, job))


def _strip(text: str, job: dict[str, Any]) -> str:
    return text.replace(str(Path(job["dir"])) + "/", "")


def _summary_dict(report, job: dict[str, Any]) -> dict[str, Any]:
    d = dict(report) if isinstance(report, dict) else report.as_dict()
    d.pop("review_csv", None)
    d["source"] = _strip(d.get("source") or "", job)
    for p in d.get("problems", []):
        if p.get("file"):
            p["file"] = _strip(p["file"], job)
        if p.get("file") == job["file"]:
            p["file"] = job["original"]
    d["review_file"] = None
    d["problems"] = sorted(d.get("problems", []), key=lambda p: (p.get("row") is None, p.get("row") or 0))
    return d


@edit_router.post("/imports/{token}/apply", response_class=HTMLResponse)
async def import_apply(request: Request, token: str):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    job = _job(token, user)
    if job is None:
        return await error_page(request, 404, "No such import", "This import is unknown or has expired. "
                                "Upload the file again.")
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Not applied", CSRF_MESSAGE)
    if job.get("applied") or job.get("running"):
        return RedirectResponse(f"/imports/{token}", status_code=303)
    _start_job(request, job, user, dry_run=False)
    await _settle(request, job["running"])
    return RedirectResponse(f"/imports/{token}", status_code=303)


@edit_router.post("/imports/{token}/cancel", response_class=HTMLResponse)
async def import_cancel(request: Request, token: str):
    """Stop the upload's running job (an import cancelled before it commits writes nothing)."""
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    job = _job(token, user)
    if job is None:
        return await error_page(request, 404, "No such import", "This import is unknown or has expired.")
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Not cancelled", CSRF_MESSAGE)
    if job.get("running"):
        request.app.state.jobs.cancel(job["running"])
        _audit(request, user, "job.cancel", job["running"], {"importer": job["importer"], "file": job["original"]})
    return RedirectResponse(f"/imports/{token}", status_code=303)


@edit_router.post("/imports/{token}/review", response_class=HTMLResponse)
async def import_review(request: Request, token: str):
    """Turn the choices made on the report page into a filled review file: a new import
    job of the ``review`` importer, shown as its own dry run."""
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    job = _job(token, user)
    if job is None:
        return await error_page(request, 404, "No such import", "This import is unknown or has expired. "
                                "Upload the file again.")
    if not await _csrf_ok(request):
        return await error_page(request, 403, "Not sent", CSRF_MESSAGE)
    data = await request.form()
    src = Path(job["dir"]) / UNSURE
    if not src.exists():
        return RedirectResponse(f"/imports/{token}", status_code=303)
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        rows, columns = list(reader), reader.fieldnames or []
    chosen = 0
    for n, row in enumerate(rows):
        choice = (data.get(f"choice-{n}") or "").strip()
        other = (data.get(f"other-{n}") or "").strip()
        if choice in ("", "__other__") and other:
            choice = other
        elif choice == "__other__":
            choice = ""
        row["choice"] = choice
        chosen += bool(choice)
    if not chosen:
        obs = _obs(request)
        return await render(request, "import_report.html", 422, section="data", job=job, token=token,
                            report=job.get("dry") or {}, review=await run_in_threadpool(_review_lines, obs, job),
                            review_error="choose an actor (or 'skip') for at least one name")
    new = secrets.token_urlsafe(18)
    d = _jobs_dir() / new
    d.mkdir(mode=0o700)
    with (d / "review.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    review_job = {"owner": user.name, "importer": "review", "file": "review.csv",
                  "options": {"within": str(_jobs_dir())},      # its dry run's upload, nobody else's file
                  "original": f"review of {job['original']}", "dir": str(d), "parent": token}
    _save_job(review_job)
    return RedirectResponse(f"/imports/{new}", status_code=303)


__all__ = ["edit_router", "router", "overview", "render", "render_problem"]
