"""The engagement register in the REST API (``/api/v1/engagements``, an actor's
``/engagements`` timeline and ``/activity``), thin over :mod:`citydiplomacy.engage`: reads
are public and cached like every read; writes need an editor's login or token and are
audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path as PathParam, Query, Request, Response
from pydantic import Field

from ..errors import ValidationError
from ..vocab import Axis, Layer
from .api import (MAX_ALIGN_TEXT, WRITE_ERRORS, WRITTEN, CountryQ, Editor, Limit, Offset, Provenanced, Ref, _Body,
                  _audit, _obs, _summary, cached, json_response, page, store_changed)
from .api import READ_ERRORS, NOT_MODIFIED  # noqa: F401 - the same documented responses as the other reads

__all__ = ["build_router", "TAG"]

TAG = {"name": "engagements", "description": "The engagement register: agreements, visits, events, declarations "
                                             "and joint projects; an actor's timeline and activity; what is due."}
READS = {**READ_ERRORS, **NOT_MODIFIED}
Key = Annotated[str, PathParam(min_length=1, max_length=200, description="The engagement's key.")]
DateQ = Annotated[str | None, Query(max_length=10, description="A date: YYYY, YYYY-MM or YYYY-MM-DD.")]
Sort = Annotated[str, Query(max_length=10, description="date, -date, title, -title, kind, status, review, "
                                                       "-review, updated, -updated.")]


class PartyIn(_Body):
    actor: str = Field(min_length=1, max_length=300, description="An actor: id, QID, GeoNames id or name.")
    role: str | None = Field(None, max_length=32, description="signatory, host, visitor, lead, partner, "
                                                              "organiser or participant (default: the kind's).")
    signed_on: str | None = Field(None, max_length=10)


class DocumentIn(_Body):
    title: str = Field(min_length=1, max_length=500)
    url: str | None = Field(None, max_length=2000)
    text: str | None = Field(None, max_length=MAX_ALIGN_TEXT)


class FollowupIn(_Body):
    text: str = Field(min_length=1, max_length=2000)
    due_on: str | None = Field(None, max_length=10)
    status: str | None = Field(None, max_length=16, description="open, done or dropped.")
    done_on: str | None = Field(None, max_length=10)


class EngagementIn(Provenanced):
    """An engagement (added, or updated when its key exists)."""

    key: str | None = Field(None, max_length=200, description="Default: derived from kind, title, date and parties.")
    kind: str = Field(min_length=1, max_length=32, description="agreement, visit, event, declaration, pledge, project, "
                                                               "or a lower-case word of your own.")
    title: str = Field(min_length=1, max_length=500)
    text: str = Field("", max_length=MAX_ALIGN_TEXT)
    signed_on: str | None = Field(None, max_length=10)
    start_on: str | None = Field(None, max_length=10)
    end_on: str | None = Field(None, max_length=10)
    review_on: str | None = Field(None, max_length=10)
    place: str | None = Field(None, max_length=300)
    status: str | None = Field(None, max_length=16, description="planned, active, completed, suspended or ended.")
    axes: list[Axis] | None = None
    outcomes: str | None = Field(None, max_length=MAX_ALIGN_TEXT)
    parties: list[PartyIn] = Field(default_factory=list, max_length=5000)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=100)
    followups: list[FollowupIn] = Field(default_factory=list, max_length=200)
    tie: str | None = Field(None, max_length=40, description="What it does to the tie between its two parties, "
                                                             "e.g. 'establishes twinned_with'.")


def _data(body: EngagementIn, key: str | None = None) -> dict[str, Any]:
    data = body.model_dump(exclude={"source", "url", "licence", "as_of", "dry_run"})
    if key is not None:
        data["key"] = key
    if body.axes is not None:
        data["axes"] = [a.value for a in body.axes]
    return data


def _filters(request: Request, kind, status, axis, actor, partner, country, layer, date_from, date_to, q):
    from .. import countries

    obs = _obs(request)
    f: dict[str, Any] = {"kind": kind, "status": status, "axis": axis.value if axis else None,
                         "layer": layer.value if layer else None, "date_from": date_from, "date_to": date_to, "q": q}
    if actor:
        f["actor"] = obs.get(actor)["id"]
    if partner:
        f["partner"] = obs.get(partner)["id"]
    if country:
        c = countries.lookup_name(country) or countries.lookup_code(country)
        if c is None:
            raise ValidationError(f"'{country}' is not a country name or code", field="country")
        f["country"] = c.alpha3
    return f


KindQ = Annotated[list[str] | None, Query(max_length=20, description="Only these kinds.")]
StatusQ = Annotated[list[str] | None, Query(max_length=5, description="Only these statuses.")]
AxisQ = Annotated[Axis | None, Query(description="Only engagements serving this axis.")]
ActorQ = Annotated[str | None, Query(max_length=300, description="Engagements this actor takes part in.")]
PartnerQ = Annotated[str | None, Query(max_length=300, description="With actor: those with this partner too.")]
LayerQ = Annotated[Layer | None, Query(description="Some party (with actor: some partner) is on this layer.")]
TextQ = Annotated[str | None, Query(max_length=200, description="Words in the title, text or place.")]
CursorQ = Annotated[str | None, Query(max_length=1000, description="The `next_cursor` of the previous page (same "
                                                                   "filters and sort): the page after it; "
                                                                   "`offset` is then ignored.")]


def build_router(*, read_only: bool = False) -> APIRouter:
    """The register's routes under ``/api/v1``; with ``read_only`` no write route."""
    r = APIRouter(prefix="/api/v1")

    def filters(request, kind, status, axis, actor, partner, country, layer, date_from, date_to, q):
        return _filters(request, kind, status, axis, actor, partner, country, layer, date_from, date_to, q)

    @r.get("/engagements", tags=["engagements"], responses=READS, summary="The engagement register")
    async def engagements(request: Request, kind: KindQ = None, status: StatusQ = None, axis: AxisQ = None,
                          actor: ActorQ = None, partner: PartnerQ = None, country: CountryQ = None,
                          layer: LayerQ = None, date_from: Annotated[DateQ, Query(alias="from")] = None,
                          date_to: Annotated[DateQ, Query(alias="to")] = None, q: TextQ = None,
                          sort: Sort = "-date", limit: Limit = 50, offset: Offset = 0,
                          cursor: CursorQ = None) -> Response:
        """Engagements passing every filter, one page, with the ``total``; each with its
        parties (id, name, role). ``country``/``layer``: some party is of that country or
        layer (with ``actor``: some partner); ``from``/``to``: running within the dates.
        ``next`` is the next page's URL (with its ``cursor``: read with a seek, however
        deep); ``next_cursor`` the cursor alone."""
        def build():
            from ..engage import list_engagements

            f = filters(request, kind, status, axis, actor, partner, country, layer, date_from, date_to, q)
            res = list_engagements(_obs(request).store, sort=sort, limit=limit, offset=offset, cursor=cursor, **f)
            body = page(request, res["items"], limit, res["offset"], total=res["total"])
            if res["next_cursor"]:
                body["next"] = str(request.url.remove_query_params("offset")
                                   .include_query_params(cursor=res["next_cursor"], limit=limit))
            return {**body, "next_cursor": res["next_cursor"]}
        return await cached(request, build)

    def export_route(suffix: str, media: str):
        async def export(request: Request, kind: KindQ = None, status: StatusQ = None, axis: AxisQ = None,
                         actor: ActorQ = None, partner: PartnerQ = None, country: CountryQ = None,
                         layer: LayerQ = None, date_from: Annotated[DateQ, Query(alias="from")] = None,
                         date_to: Annotated[DateQ, Query(alias="to")] = None, q: TextQ = None) -> Response:
            def build() -> bytes:
                from ..engage.io import export_csv, export_ics

                f = filters(request, kind, status, axis, actor, partner, country, layer, date_from, date_to, q)
                fn = export_csv if suffix == "csv" else export_ics
                return fn(_obs(request).store, **f).encode("utf-8")
            resp = await cached(request, build, raw=True, media_type=media)
            resp.headers["Content-Disposition"] = f'attachment; filename="engagements.{suffix}"'
            return resp
        export.__name__ = f"engagements_{suffix}"
        return export

    def file_responses(media: str, what: str) -> dict:
        return {**READS, 200: {"description": what, "content": {media: {"schema": {"type": "string"}}}}}

    r.get("/engagements.csv", tags=["engagements"], summary="The register as CSV",
          responses=file_responses("text/csv", "The register as CSV"),
          description="The columns `citydip engage import` reads: importing the file gives the same register. "
                      "Takes the filters of GET /engagements.")(export_route("csv", "text/csv; charset=utf-8"))
    r.get("/engagements.ics", tags=["engagements"], summary="The register as iCalendar",
          responses=file_responses("text/calendar", "The register as iCalendar"),
          description="Each dated engagement an all-day event; review or renewal dates and open follow-ups "
                      "events of their own; UIDs stable across exports. Takes the filters of GET /engagements.")(
        export_route("ics", "text/calendar; charset=utf-8"))

    @r.get("/engagements/due", tags=["engagements"], responses=READS, summary="What is due")
    async def engagements_due(request: Request,
                              days: Annotated[int, Query(ge=0, le=36_600, description="Days ahead.")] = 90,
                              actor: ActorQ = None,
                              today: Annotated[str | None, Query(max_length=10, description="Count from this day "
                                                                                            "(default: today).")] = None,
                              overdue: Annotated[bool, Query(description="Also open follow-ups already late.")] = False,
                              limit: Limit = 100, offset: Offset = 0) -> Response:
        """Review or renewal dates and open follow-ups due in the next ``days`` days, soonest first."""
        def build():
            from ..engage import due

            res = due(_obs(request).store, days, today=today, actor=actor, overdue=overdue)
            return {**page(request, res["items"], limit, offset), "today": res["today"], "until": res["until"]}
        return await cached(request, build)

    @r.get("/engagements/{key:path}", tags=["engagements"], responses=READS, summary="One engagement")
    async def engagement(request: Request, key: Key) -> Response:
        """With its parties, documents, follow-ups, alignment (SDG goals, targets, Paris
        articles with scores and evidence), the ties it establishes, renews or ends, and provenance."""
        def build():
            from ..engage import get_engagement

            return get_engagement(_obs(request).store, key)
        return await cached(request, build)

    @r.get("/actors/{ref}/engagements", tags=["engagements", "actors"], responses=READS,
           summary="An actor's timeline")
    async def actor_engagements(request: Request, ref: Ref, partner: PartnerQ = None,
                                kind: Annotated[str | None, Query(max_length=32)] = None,
                                limit: Limit = 100, offset: Offset = 0) -> Response:
        """Its engagements oldest first (undated last); with ``partner``, the pair's."""
        def build():
            from ..engage import timeline

            res = timeline(_obs(request).store, ref, partner, kind=kind)
            return {**page(request, res["items"], limit, offset), "actor": res["actor"], "partner": res["partner"]}
        return await cached(request, build)

    @r.get("/actors/{ref}/activity", tags=["engagements", "actors"], responses=READS,
           summary="An actor's activity")
    async def actor_activity(request: Request, ref: Ref,
                             dormant_years: Annotated[int, Query(ge=1, le=100, description=(
                                 "A tie with no engagement in this many years is dormant."))] = 5) -> Response:
        """Engagements by year, kind and axis; most active partners; dormant twinnings and partnerships."""
        def build():
            from ..engage import activity

            return activity(_obs(request).store, ref, dormant_years=dormant_years)
        return await cached(request, build)

    if read_only:
        return r
    responses = {**WRITTEN, **WRITE_ERRORS}

    def write(request: Request, body: EngagementIn, user, key: str | None = None) -> Response:
        from ..engage import add_engagement

        with request.app.state.align_lock:
            report = add_engagement(_obs(request).store, _data(body, key), source=body.source, url=body.url,
                                    licence=body.licence, as_of=body.as_of, who=user.name, dry_run=body.dry_run)
        data = {**report.as_dict(), "key": report.actor}
        store_changed(request)
        if not report.dry_run and report.changed:
            _audit(request, user, "engagement.add", report.actor, _summary(data))
        status = 201 if (not report.dry_run and report.created.get("engagements")) else 200
        return json_response(request, data, private=True, status=status)

    @r.post("/engagements", tags=["engagements", "edit"], responses=responses, status_code=201,
            summary="Add an engagement")
    def add(request: Request, body: EngagementIn, user: Editor) -> Response:
        """Parties are resolved like any reference; the text, outcomes and documents are
        aligned. The same key (given or derived) updates; unchanged, nothing is written."""
        return write(request, body, user)

    @r.put("/engagements/{key:path}", tags=["engagements", "edit"], responses=responses,
           summary="Replace an engagement")
    def replace(request: Request, key: Key, body: EngagementIn, user: Editor) -> Response:
        """Write the engagement ``key`` as given (created when there is none)."""
        if body.key not in (None, key):
            raise ValidationError(f"the body's key '{body.key}' is not the path's '{key}'", field="key")
        return write(request, body, user, key)

    @r.delete("/engagements/{key:path}", tags=["engagements", "edit"],
              responses={200: {"description": "Deleted"}, **WRITE_ERRORS},
              summary="Delete an engagement")
    def remove(request: Request, key: Key, user: Editor) -> Response:
        """The ties it established stay, without its key."""
        from ..engage import delete_engagement

        res = delete_engagement(_obs(request).store, key)
        store_changed(request)
        _audit(request, user, "engagement.delete", key, {"title": res["title"]})
        return json_response(request, res, private=True)

    return r
