"""The engagement register's pages: the register with its filters, what is due (review
and renewal dates, open follow-ups in the next days), an engagement's page, an actor's
timeline (alone or with one partner), and the editors' forms that add, edit and delete an
engagement.

Thin over :mod:`citydiplomacy.engage`: each route parses its input, calls one library
function and renders the result. The frame of these pages follows ``?lang=`` (en, fr,
es, de; :mod:`.i18n`). Writes need an editor's sign-in and the form's CSRF token, are
audited through the web channel, and a mistake comes back as the same form with the
message next to the field and the store unchanged.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import CitydipError, NotFoundError, ValidationError
from . import i18n
from .pages import (AXES, CSRF_MESSAGE, SOURCE_MESSAGE, Form, _audit, _csrf_ok, _need, _not_found, _obs,
                    _titles, _with_suggestions, render)

#: the register's reading pages
router = APIRouter(include_in_schema=False)
#: the editors' forms (left out of a read-only observatory; included before ``router``,
#: so that ``/engagements/new`` is not taken for an engagement's key)
edit_router = APIRouter(include_in_schema=False)

#: engagements on one page of the register
PAGE_SIZE = 50
#: how the register can be sorted, as offered in its form
SORT_OPTIONS = (("-date", "newest first"), ("date", "oldest first"), ("title", "title"),
                ("review", "next review first"), ("-updated", "recently changed"))
#: the fields of the engagement form
FIELDS = ("kind", "title", "text", "signed_on", "start_on", "end_on", "review_on", "place", "status",
          "outcomes", "parties", "documents", "followups", "tie", "source", "url", "licence", "as_of")
DATE_FIELDS = ("signed_on", "start_on", "end_on", "review_on", "as_of")
#: what an agreement may do to the tie between its two parties, as the form offers it
TIE_OPTIONS = (("", "nothing"), ("establishes twinned_with", "establishes a twinning"),
               ("renews twinned_with", "renews a twinning"), ("ends twinned_with", "ends a twinning"),
               ("establishes partner_of", "establishes a partnership"),
               ("renews partner_of", "renews a partnership"), ("ends partner_of", "ends a partnership"))

ROLE_HEADINGS = {"signatory": "Signatories", "host": "Hosts", "visitor": "Visitors", "lead": "Leads",
                 "partner": "Partners", "organiser": "Organisers", "participant": "Participants"}
TIE_NAMES = {"twinned_with": "twinning", "partner_of": "partnership"}

DONE = {"engagement": "The engagement was saved and aligned with the SDGs and the Paris Agreement.",
        "deleted": "The engagement was deleted."}


def _lang(request: Request) -> str:
    return i18n.frame_language(request.query_params.get("lang"))


async def _page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    """Render with the frame in ``?lang=``, and this module's messages after a write."""
    done = request.query_params.get("done")
    if done in DONE:
        ctx.setdefault("flash", {"kind": "ok", "text": i18n.translate(_lang(request), DONE[done])})
    return await render(request, name, status, ui_lang=_lang(request), **ctx)


def _key_url(key: str) -> str:
    return "/engagements/" + quote(key, safe="")


# ---------------------------------------------------------------------------------------
# the register


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: (q.get(k) or "").strip() for k in ("kind", "status", "axis", "country", "layer", "from", "to",
                                                    "q", "actor", "partner", "sort")}


def _register(obs, values: dict[str, str], page: int, form: Form, cursor: str | None = None) -> dict[str, Any]:
    """The register's page ``page`` for the filters in ``values`` (wrong ones named in
    ``form``): the engagements, the total, the actors named, the kinds to offer."""
    from .. import countries
    from ..engage.register import known_kinds, list_engagements

    store = obs.store
    named: dict[str, dict[str, Any]] = {}
    for name in ("actor", "partner"):
        if values[name]:
            try:
                named[name] = obs.get(values[name])
            except NotFoundError as exc:
                form.error(name, _with_suggestions(exc))
    country = None
    if values["country"]:
        found = countries.lookup_name(values["country"])
        if found is None:
            form.error("country", f"'{values['country']}' is not a country; write its name or its ISO code "
                                  "(e.g. France, FR or FRA)")
        else:
            country = found.alpha3
    if values["partner"] and not values["actor"]:
        form.error("partner", "a partner filter needs an actor: the pair's engagements are listed")
    result = {"total": 0, "items": []}
    if not form.errors:
        try:
            result = list_engagements(
                store, kind=values["kind"] or None, status=values["status"] or None, axis=values["axis"] or None,
                actor=named["actor"]["id"] if "actor" in named else None,
                partner=named["partner"]["id"] if "partner" in named else None, country=country,
                layer=values["layer"] or None, date_from=values["from"] or None, date_to=values["to"] or None,
                q=values["q"] or None, sort=values["sort"] or "-date", limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE, cursor=cursor or None)
        except ValidationError as exc:
            form.error({"from": "from", "to": "to", "cursor": "_form"}.get(exc.field or "", exc.field), exc.detail)
    return {"result": result, "named": named, "kinds": known_kinds(store), "country_code": country}


@router.get("/engagements", response_class=HTMLResponse)
async def register_page(request: Request, page: str = "1"):
    """The register: every engagement that passes the filters, a page at a time, with
    how many pass in all."""
    values = _filters(request)
    try:
        n = max(1, int(page))
    except ValueError:
        n = 1
    form = Form(values=values)
    data = await run_in_threadpool(_register, _obs(request), values, n, form,
                                   (request.query_params.get("cursor") or "").strip()[:1000])
    result = data["result"]
    total = result["total"]
    pages = max(1, -(-total // PAGE_SIZE))
    if result.get("items"):
        n = min(pages, result["offset"] // PAGE_SIZE + 1)      # where a cursor's page falls
    keep = {k: v for k, v in values.items() if v}
    if request.query_params.get("lang"):
        keep["lang"] = request.query_params["lang"]

    def link(p: int, cursor: str | None = None) -> str:
        return "/engagements?" + urlencode({**keep, "page": p, **({"cursor": cursor} if cursor else {})})
    # the next page is read after this one's last row (a seek, however deep), the previous
    # one by its position
    return await _page(request, "engagements.html", section="engagements", form=form, page=n, pages=pages,
                       first=result.get("offset", 0) + 1, prev_url=link(n - 1) if n > 1 else None,
                       next_url=link(n + 1, result.get("next_cursor")) if result.get("next_cursor") else None,
                       sort_options=SORT_OPTIONS,
                       filtered=any(v for k, v in values.items() if k != "sort"), key_url=_key_url, **data)


# ---------------------------------------------------------------------------------------
# what is due

#: the windows the due page offers (days ahead)
DUE_DAYS = (30, 90, 180, 365)


def _due(obs, values: dict[str, str], form: Form) -> dict[str, Any]:
    """What is due for the values of the form (wrong ones named in ``form``): the items by
    month, how many, the actor named."""
    from ..engage.views import due

    days = 90
    try:
        days = int(values["days"] or 90)
        if not 0 <= days <= 36_600:
            raise ValueError
    except ValueError:
        form.error("days", f"'{values['days']}' is not a number of days; write a whole number from 0 to 36600 "
                           "(e.g. 90)")
    actor = None
    if values["actor"]:
        try:
            actor = obs.get(values["actor"])
        except NotFoundError as exc:
            form.error("actor", _with_suggestions(exc))
    result = {"count": 0, "items": [], "today": None, "until": None}
    if not form.errors:
        try:
            result = due(obs.store, days, actor=actor["id"] if actor else None, overdue=values["overdue"] == "1",
                         today=values["today"] or None)
        except ValidationError as exc:
            form.error("days" if exc.field == "days" else "_form", exc.detail)
    months: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for item in result["items"]:
        months.setdefault("overdue" if item["overdue"] else item["due_on"][:7], []).append(item)
    return {"result": result, "months": months, "actor": actor, "days": days}


@router.get("/engagements/due", response_class=HTMLResponse)
async def due_page(request: Request):
    """What is up for renewal or review, and the open follow-ups, in the next days
    (``?today=YYYY-MM-DD``: counted from another day than today)."""
    q = request.query_params
    values = {"days": (q.get("days") or "").strip(), "actor": (q.get("actor") or "").strip(),
              "overdue": "1" if q.get("overdue") in ("1", "on", "true") else "", "today": (q.get("today") or "")[:10]}
    form = Form(values=values)
    data = await run_in_threadpool(_due, _obs(request), values, form)
    return await _page(request, "engagements_due.html", 422 if form.errors else 200, section="engagements",
                       form=form, key_url=_key_url, due_days=DUE_DAYS, **data)


# ---------------------------------------------------------------------------------------
# one engagement


def _by_role(parties: list[dict[str, Any]]) -> "OrderedDict[str, list[dict[str, Any]]]":
    from ..engage.model import ROLES

    out: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for role in ROLES:
        found = [p for p in parties if p["role"] == role]
        if found:
            out[role] = found
    return out


def _alignment_rows(obs, alignments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engagement's alignments, best first, each with its item's title and the page
    of the item (``sdg:11.6`` -> /frameworks/sdg/11.6)."""
    titles = _titles(obs)
    out = []
    for a in sorted(alignments, key=lambda x: (-x["score"], x["item"])):
        fw, _, code = a["item"].partition(":")
        out.append({**a, "framework": fw, "code": code, "title": titles.get(a["item"], ""),
                    "href": f"/frameworks/{quote(fw)}/{quote(code)}" if code else f"/frameworks/{quote(fw)}"})
    return out


@router.get("/engagements/{key:path}", response_class=HTMLResponse)
async def engagement_page(request: Request, key: str):
    from ..engage.register import get_engagement

    obs = _obs(request)
    try:
        e = await run_in_threadpool(get_engagement, obs.store, key)
    except NotFoundError as exc:
        return await _not_found(request, exc)
    ids = {p["id"] for p in e["parties"]}
    names = {p["id"]: p["name"] for p in e["parties"]}
    return await _page(request, "engagement.html", section="engagements", e=e, by_role=_by_role(e["parties"]),
                       alignment=await run_in_threadpool(_alignment_rows, obs, e["alignments"]),
                       pair=sorted(ids) if len(ids) == 2 else None, names=names, key_url=_key_url,
                       role_headings=ROLE_HEADINGS, tie_names=TIE_NAMES)


# ---------------------------------------------------------------------------------------
# an actor's timeline


def _timeline(obs, actor_id: str, partner: str, kind: str, form: Form) -> dict[str, Any]:
    from ..engage.views import activity, timeline

    partner_id = None
    if partner:
        try:
            partner_id = obs.get(partner)["id"]
            if partner_id == actor_id:
                form.error("partner", "name another actor than the one whose timeline this is")
        except NotFoundError as exc:
            form.error("partner", _with_suggestions(exc))
    data = {"count": 0, "items": [], "partner": None}
    if not form.errors:
        data = timeline(obs.store, actor_id, partner_id, kind=kind or None)
    years: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for e in data["items"]:
        years.setdefault(e["date"][:4] if e["date"] else "undated", []).append(e)
    act = activity(obs.store, actor_id, top=12)
    return {"timeline": data, "years": years, "partners": act["partners"],
            "counts": {y: len(v) for y, v in years.items()}}


@router.get("/actors/{ref}/engagements", response_class=HTMLResponse)
async def timeline_page(request: Request, ref: str, partner: str = "", kind: str = ""):
    """An actor's engagements by year, oldest first; with ``?partner=``, the pair's."""
    obs = _obs(request)
    try:
        actor = obs.get(ref)
    except CitydipError as exc:
        return await _not_found(request, exc)
    form = Form(values={"partner": partner.strip(), "kind": kind.strip()})
    data = await run_in_threadpool(_timeline, obs, actor["id"], partner.strip(), kind.strip(), form)
    return await _page(request, "engagement_timeline.html", 422 if form.errors else 200, section="engagements",
                       actor=actor, form=form, key_url=_key_url, **data)


# ---------------------------------------------------------------------------------------
# the editors' forms


def _lines(text: str) -> list[tuple[int, list[str]]]:
    """The non-empty lines of a text area, numbered from 1, split at ``|``."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append((n, [x.strip() for x in line.split("|")]))
    return out


def _parse(obs, values: dict[str, Any], form: Form, key: str | None) -> dict[str, Any]:
    """The engagement's data from the form, every wrong field named in ``form``: parties
    resolved to actors (one a line: ``actor | role | signed on``), documents (``title |
    URL``), follow-ups (``due date | what | status``)."""
    from ..actors import resolve_actor
    from ..dates import parse_partial_date
    from ..engage.model import DEFAULT_ROLE, FOLLOWUP_STATUSES, ROLES, STATUSES

    if not values["title"]:
        form.error("title", "give the engagement a title, e.g. 'Memorandum of understanding on urban mobility'")
    kind = values["kind"].lower()
    if not kind:
        form.error("kind", "say what kind of engagement this is: agreement, visit, event, declaration, pledge, project "
                           "(or a word of your own)")
    elif not re.match(r"^[a-z][a-z_]{1,31}$", kind):
        form.error("kind", f"'{values['kind']}' is not a kind; use one lower-case word (letters and _)")
    if values["status"] and values["status"] not in STATUSES:
        form.error("status", f"choose one of: {', '.join(STATUSES)}")
    if not values["source"]:
        form.error("source", SOURCE_MESSAGE)
    for name in DATE_FIELDS:
        if values.get(name):
            try:
                parse_partial_date(values[name], field=name)
            except ValidationError as exc:
                form.error(name, exc.detail)
    parties, seen = [], set()
    for n, cells in _lines(values["parties"]):
        ref = cells[0]
        role = (cells[1] if len(cells) > 1 else "").lower() or DEFAULT_ROLE.get(kind, "participant")
        signed = cells[2] if len(cells) > 2 else ""
        if role not in ROLES:
            form.error("parties", f"line {n}: unknown role '{role}'; choose one of: {', '.join(ROLES)}")
            continue
        try:
            actor = resolve_actor(obs.store, ref)
        except NotFoundError as exc:
            form.error("parties", f"line {n}: {_with_suggestions(exc)}")
            continue
        except ValidationError as exc:
            form.error("parties", f"line {n}: {exc.detail}")
            continue
        if signed:
            try:
                parse_partial_date(signed, field="signed_on")
            except ValidationError as exc:
                form.error("parties", f"line {n}: {exc.detail}")
                continue
        if (actor["id"], role) in seen:
            form.error("parties", f"line {n}: {actor['name']} is already listed as {role}")
            continue
        seen.add((actor["id"], role))
        parties.append({"actor": actor["id"], "role": role, "signed_on": signed or None})
    documents = []
    for n, cells in _lines(values["documents"]):
        title, url = cells[0], (cells[1] if len(cells) > 1 else "")
        if url and not re.match(r"^https?://\S+$", url):
            form.error("documents", f"line {n}: '{url}' is not a web address (http:// or https://)")
        documents.append({"title": title or url, "url": url or None})
    followups = []
    for n, cells in _lines(values["followups"]):
        due, text = (cells[0], cells[1]) if len(cells) > 1 else ("", cells[0])
        status = (cells[2] if len(cells) > 2 else "open").lower() or "open"
        if due:
            try:
                parse_partial_date(due, field="due_on")
            except ValidationError as exc:
                form.error("followups", f"line {n}: {exc.detail}")
        if status not in FOLLOWUP_STATUSES:
            form.error("followups", f"line {n}: unknown status '{status}'; choose one of: "
                                    f"{', '.join(FOLLOWUP_STATUSES)}")
        if not text:
            form.error("followups", f"line {n}: say what is to be done")
        followups.append({"text": text, "due_on": due or None, "status": status})
    data = {k: values[k] or None for k in ("title", "signed_on", "start_on", "end_on", "review_on", "place",
                                           "outcomes", "tie")}
    data.update(kind=kind, text=values["text"], status=values["status"] or "active", axes=values["axes"],
                parties=parties, documents=documents, followups=followups)
    if key:
        data["key"] = key
    return data


# the library's field -> the form's field
FIELD_OF = {"parties": "parties", "place_id": "place", "documents": "documents", "followups": "followups",
            "axes": "axes", "date": "start_on"}


def _library_error(form: Form, exc: ValidationError) -> None:
    field = (exc.field or "").split(".")[0]
    field = FIELD_OF.get(field, field)
    message = exc.detail
    if field not in FIELDS and field != "axes":
        field = "end_on" if "end_on" in message else "tie" if "tie" in message else "_form"
    form.error(field, message)


async def _save(request: Request, user, values: dict[str, Any], form: Form, key: str | None):
    """Write the engagement (a redirect to its page) or name what is wrong (None)."""
    from ..engage.register import ImportRejected, add_engagement

    obs = _obs(request)
    data = await run_in_threadpool(_parse, obs, values, form, key)
    if form.errors:
        return None
    try:
        report = await run_in_threadpool(
            lambda: add_engagement(obs.store, data, source=values["source"], url=values["url"] or None,
                                   licence=values["licence"] or None, as_of=values["as_of"] or None,
                                   who=user.name))
    except ImportRejected as exc:
        first = exc.report.problems[0]
        form.error(FIELD_OF.get(first.field or "", first.field or "_form"), first.reason)
        return None
    except NotFoundError as exc:
        form.error("parties", _with_suggestions(exc))
        return None
    except ValidationError as exc:
        _library_error(form, exc)
        return None
    _audit(request, user, "engagement.edit" if key else "engagement.add", report.actor,
           {"title": values["title"], "kind": data["kind"], "source": values["source"],
            "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "run_id": report.run_id})
    return RedirectResponse(_key_url(report.actor) + "?done=engagement", status_code=303)


def _form_page(request: Request, form: Form, e: dict[str, Any] | None, status: int = 200):
    from ..engage.register import known_kinds

    return _page(request, "engagement_form.html", status, section="data", form=form, e=e,
                 kind_choices=known_kinds(_obs(request).store), key_url=_key_url,
                 tie_options=[(v, i18n.translate(_lang(request), label)) for v, label in TIE_OPTIONS])


async def _posted(request: Request, e: dict[str, Any] | None):
    """An editor's posted form with its CSRF token checked: ``(user, values, form)``, or the
    response to send instead."""
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    data = await request.form()
    values = {k: (data.get(k) or "").strip() for k in FIELDS}
    values["axes"] = data.getlist("axes")
    form = Form(values=values)
    if not await _csrf_ok(request):
        form.error("_form", CSRF_MESSAGE)
        return await _form_page(request, form, e, 403)
    return user, values, form


@edit_router.get("/engagements/new", response_class=HTMLResponse)
async def engagement_new(request: Request, actor: str = "", partner: str = "", kind: str = "agreement"):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    parties = "\n".join(x for x in (actor.strip(), partner.strip()) if x)
    return await _form_page(request, Form(values={"kind": kind, "status": "active", "parties": parties}), None)


@edit_router.post("/engagements/new", response_class=HTMLResponse)
async def engagement_create(request: Request):
    posted = await _posted(request, None)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    done = await _save(request, user, values, form, None)
    return done or await _form_page(request, form, None, 422)


def _values_of(e: dict[str, Any]) -> dict[str, Any]:
    """The form's values for an engagement of the store."""
    values = {k: e.get(k) or "" for k in ("kind", "title", "text", "signed_on", "start_on", "end_on", "review_on",
                                          "place", "status", "outcomes")}
    values["axes"] = [] if e["attrs"].get("axes_aligned") else list(e["axes"])
    values["tie"] = e.get("tie") or ""
    values["parties"] = "\n".join(" | ".join(x for x in (p["id"], p["role"], p["signed_on"] or "") if x)
                                  for p in e["parties"])
    values["documents"] = "\n".join(" | ".join(x for x in (d["title"], d["url"] or "") if x) for d in e["documents"])
    values["followups"] = "\n".join(" | ".join((f["due_on"] or "", f["text"], f["status"])) for f in e["followups"])
    prov = e["provenance"]
    values.update(source=prov["source"] or "", url=prov["url"] or "",
                  licence="" if prov["licence"] == "not stated" else (prov["licence"] or ""), as_of=prov["as_of"] or "")
    return values


async def _existing(request: Request, key: str):
    """An editor and the engagement ``key`` they act on, or the response that refuses (not
    signed in as an editor, or no such engagement)."""
    from ..engage.register import get_engagement

    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    try:
        return user, await run_in_threadpool(get_engagement, _obs(request).store, key)
    except NotFoundError as exc:
        return await _not_found(request, exc)


@edit_router.get("/engagements/{key:path}/edit", response_class=HTMLResponse)
async def engagement_edit(request: Request, key: str):
    found = await _existing(request, key)
    if isinstance(found, Response):
        return found
    user, e = found
    return await _form_page(request, Form(values=_values_of(e)), e)


@edit_router.post("/engagements/{key:path}/edit", response_class=HTMLResponse)
async def engagement_update(request: Request, key: str):
    found = await _existing(request, key)
    if isinstance(found, Response):
        return found
    user, e = found
    posted = await _posted(request, e)
    if isinstance(posted, Response):
        return posted
    user, values, form = posted
    done = await _save(request, user, values, form, e["key"])
    return done or await _form_page(request, form, e, 422)


@edit_router.get("/engagements/{key:path}/delete", response_class=HTMLResponse)
async def engagement_delete_confirm(request: Request, key: str):
    found = await _existing(request, key)
    if isinstance(found, Response):
        return found
    user, e = found
    return await _page(request, "engagement_delete.html", section="data", e=e, form=Form(), key_url=_key_url)


@edit_router.post("/engagements/{key:path}/delete", response_class=HTMLResponse)
async def engagement_delete(request: Request, key: str):
    from ..engage.register import delete_engagement

    found = await _existing(request, key)
    if isinstance(found, Response):
        return found
    user, e = found
    if not await _csrf_ok(request):
        form = Form()
        form.error("_form", CSRF_MESSAGE)
        return await _page(request, "engagement_delete.html", 403, section="data", e=e, form=form, key_url=_key_url)
    result = await run_in_threadpool(delete_engagement, _obs(request).store, e["key"])
    _audit(request, user, "engagement.delete", e["key"], {"title": e["title"], "run_id": result.get("run_id")})
    return RedirectResponse("/engagements?done=deleted", status_code=303)


def vocabulary() -> set[str]:
    """The words of the data these pages translate through a variable (kinds, statuses,
    roles, axes, sort orders...): the catalogues must have them (tests/test_web_engage.py)."""
    from ..engage.model import FOLLOWUP_STATUSES, KINDS, ROLES, STATUSES, TIE_EFFECTS

    return (set(KINDS) | set(STATUSES) | set(FOLLOWUP_STATUSES) | set(ROLES) | set(TIE_EFFECTS) | set(AXES)
            | set(ROLE_HEADINGS.values()) | set(TIE_NAMES.values()) | {label for _, label in SORT_OPTIONS}
            | set(DONE.values()) | {label for _, label in TIE_OPTIONS} | {"undated", "overdue", "review",
                                                                           "follow-up"})


__all__ = ["router", "edit_router", "PAGE_SIZE", "DUE_DAYS", "vocabulary"]
