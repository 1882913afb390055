"""The reports in the REST API and on the web (thin over :mod:`citydiplomacy.reports`):
an actor's profile report as HTML or PDF and each of its figures as SVG or PNG; the
alignment report of uploaded documents; the upload page of the alignment report."""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path as PathParam, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from .. import limits
from ..errors import ValidationError
from ..reports.charts import ACTOR_CHARTS, SITE_CHARTS, actor_chart as actor_chart_of, site_chart as site_chart_of
from .api import READ_ERRORS, BuildQ, Ref, _graph, _obs, _problems, _safe_name, _save_upload, cached
from .limiting import Heavy, heavy_slot
from .problems import Problem

__all__ = ["build_router", "page_router", "TAG"]

TAG = {"name": "reports", "description": "Reports to read, print and hand on (HTML, PDF) and their figures "
                                         "(SVG, PNG): a city's profile, the alignment of documents."}
Lang = Annotated[Literal["en", "fr", "es", "de"], Query(description="The report's language.")]
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"}
#: profile reports kept per worker (store, actor, language, data version): a figure asked for
#: after its report is not drawn again
KEEP = 8
_kept: OrderedDict = OrderedDict()
_lock = threading.Lock()


def profile_report_of(request: Request, ref: str, lang: str):
    """The profile report of ``ref`` in ``lang``, made once per data version and kept."""
    from ..reports import profile_report

    obs = _obs(request)
    actor_id = obs.get(ref)["id"]
    key = (str(obs.store.path or obs.store.url), actor_id, lang, obs._data_version())
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    _graph(request)             # the shared graph, built under the app's lock
    rep = profile_report(obs, actor_id, lang=lang, partners=None)
    with _lock:
        _kept[key] = rep
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return rep


def chart_links(ref: str, lang: str):
    return lambda name, fmt: f"/api/v1/actors/{ref}/charts/{name}.{fmt}?lang={lang}"


def _format(fmt: str) -> str:
    """``fmt`` when it is a figure format, else a 400 saying which are."""
    if fmt not in ("svg", "png"):
        raise Problem(400, "Bad request", f"unknown chart format '{fmt}'; use svg or png")
    return fmt


def _named(response: Response, filename: str) -> Response:
    """``response`` with the file's name (shown inline; the pages' links download it)."""
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _file(data: bytes, fmt: str, name: str, *, download: bool) -> Response:
    disposition = "attachment" if download else "inline"
    return Response(data, media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             "Cache-Control": "private, max-age=300"})


CSS_HREF = "/reports/report.css"


def render_report(rep, fmt: str, name: str, *, download: bool, chart_url=None) -> Response:
    """The report as a response: a PDF, a standalone HTML file to download, or the HTML
    page to view here (its stylesheet linked, its figures as SVG images: the site's
    Content-Security-Policy allows no inline style)."""
    from ..reports.render import to_html, to_pdf

    if fmt == "pdf":
        return _file(to_pdf(rep), "pdf", f"{name}.pdf", download=True)
    html = to_html(rep, chart_url=chart_url, css_href=None if download else CSS_HREF)
    return _file(html.encode("utf-8"), "html", f"{name}.html", download=download)


def align_upload(files: list[UploadFile], lim, *, city: str | None, lang: str, mode: str, obs):
    """The alignment report of the uploaded ``files`` (read within ``lim``)."""
    from ..align.documents import DOCUMENT_SUFFIXES
    from ..reports import align_report

    files = [f for f in files if f is not None and getattr(f, "filename", None)]
    if not files:
        raise ValidationError("choose at least one document (PDF, DOCX, HTML, Markdown or text)", field="files")
    with limits.applied(lim), tempfile.TemporaryDirectory(prefix="citydip-") as tmp:
        paths, names = [], []
        for i, f in enumerate(files):
            d = Path(tmp) / str(i)
            d.mkdir()
            paths.append(_save_upload(f, d, "document.txt", DOCUMENT_SUFFIXES, lim))
            names.append(_safe_name(f.filename, "document.txt"))
        try:
            return align_report(obs, paths, city=city or None, lang=lang, mode=mode, names=names)
        except ValidationError as exc:
            msg = str(exc)
            for p, n in zip(paths, names):
                msg = msg.replace(str(p), n)
            raise ValidationError(msg.split(": ", 1)[1] if msg.startswith("file ") else exc.detail,
                                  field=exc.field or "files", file=next((n for p, n in zip(paths, names)
                                                                          if str(p) in str(exc)), None)) from None


def build_router() -> APIRouter:
    r = APIRouter(prefix="/api/v1")

    @r.get("/actors/{ref}/report.{fmt}", tags=["reports"], responses={**READ_ERRORS, 200: {
        "content": {"application/pdf": {}, "text/html": {}}, "description": "The report."}},
           summary="The diplomacy profile report of an actor (PDF or HTML)")
    def actor_report(request: Request, ref: Ref, fmt: Annotated[Literal["pdf", "html"], PathParam()],
                     lang: Lang = "en") -> Response:
        """Ties by layer, networks by axis with coverage, twinning map, ego network, reach to
        the macro layer, axis scores with rank intervals, activity over time, SDG coverage and
        gaps, recommended partners (when the models are fitted), each figure with its source;
        A4 with page numbers and contents (PDF), or one HTML page."""
        rep = profile_report_of(request, ref, lang)
        aid = _obs(request).get(ref)["id"]
        return render_report(rep, fmt, f"profile-{aid}-{lang}", download=fmt == "pdf",
                             chart_url=chart_links(aid, lang))

    @r.get("/actors/{ref}/charts/{name}.{fmt}", tags=["reports"], responses={**_problems(400), **READ_ERRORS, 200: {
        "content": {"image/svg+xml": {}, "image/png": {}}, "description": "The figure."}},
           summary="A chart of an actor's page or profile report (SVG or PNG)")
    async def actor_chart(request: Request, ref: Ref,
                          name: Annotated[str, PathParam(max_length=40, pattern=r"^[a-z0-9-]+$",
                                                         description="The page's charts: " + ", ".join(ACTOR_CHARTS)
                                                         + "; the profile report's: ties-by-layer, networks-by-axis, "
                                                           "twinning-map, reach-channels, sdg-coverage")],
                          fmt: Annotated[str, PathParam(max_length=10, description="svg or png")], lang: Lang = "en",
                          build: BuildQ = None,
                          partner: Annotated[str | None, Query(max_length=300, description="activity-by-year: the "
                                                               "engagements of the pair only (an actor's id or "
                                                               "name).")] = None,
                          kind: Annotated[Literal["agreement", "visit", "event", "declaration", "project"] | None,
                                          Query(description="activity-by-year: that kind of engagement only.")] = None
                          ) -> Response:
        """One chart, with its title and text alternative inside (SVG ``<title>``/``<desc>``,
        PNG ``Title``/``Description``), drawn with matplotlib in the Okabe–Ito colours. The
        actor page's charts (%s) are drawn alone from the data the page shows; the other
        names are the figures of the profile report. 404 naming the charts when the actor
        has no chart of that name (or it has nothing to draw), 400 for a format other than
        svg or png.""" % ", ".join(ACTOR_CHARTS)
        from ..errors import NotFoundError

        fmt = _format(fmt)
        if name in ACTOR_CHARTS:
            def draw() -> bytes:
                obs = _obs(request)
                graph = _graph(request) if name == "ego-network" else None
                return actor_chart_of(obs, ref, name, lang=lang, build=build, partner=partner, kind=kind,
                                      graph=graph).render(fmt)
            return _named(await cached(request, draw, raw=True, media_type=MEDIA[fmt]), f"{name}.{fmt}")

        def report_chart() -> bytes:
            charts = profile_report_of(request, ref, lang).charts()
            if name not in charts:
                raise NotFoundError(f"no chart '{name}' of this actor; it has {', '.join(ACTOR_CHARTS)} "
                                    f"(its page's) and {', '.join(c for c in charts if c not in ACTOR_CHARTS)} "
                                    "(its profile report's)")
            return charts[name].render(fmt)
        return _named(await cached(request, report_chart, raw=True, media_type=MEDIA[fmt]), f"{name}.{fmt}")

    @r.get("/charts/{name}.{fmt}", tags=["reports"], responses={**_problems(400), **READ_ERRORS, 200: {
        "content": {"image/svg+xml": {}, "image/png": {}}, "description": "The figure."}},
           summary="A chart of the site's pages: the world map, ties by type, index ranks (SVG or PNG)")
    async def site_chart(request: Request,
                         name: Annotated[str, PathParam(max_length=40, pattern=r"^[a-z0-9-]+$",
                                                        description=", ".join(SITE_CHARTS))],
                         fmt: Annotated[str, PathParam(max_length=10, description="svg or png")], lang: Lang = "en",
                         top: Annotated[int | None, Query(ge=1, le=3000, description="world-map: the actors drawn "
                                                   "(default 800, as the home page); index-ranks: the cities "
                                                   "(default 50, as the indices page).")] = None,
                         axis: Annotated[Literal["sustainability", "digital", "engagement", "overall"],
                                         Query(description="index-ranks: the axis.")] = "overall",
                         region: Annotated[str | None, Query(max_length=40, description="index-ranks: a "
                                                             "continent.")] = None,
                         bloc: Annotated[str | None, Query(max_length=100, description="index-ranks: a bloc's "
                                                           "id.")] = None,
                         country: Annotated[str | None, Query(max_length=100, description="index-ranks: a "
                                                              "country.")] = None,
                         band: Annotated[str | None, Query(max_length=20, description="index-ranks: a population "
                                                           "band.")] = None,
                         low_data: Annotated[bool, Query(description="index-ranks: list the low-data cities "
                                                         "too.")] = False,
                         build: BuildQ = None) -> Response:
        """A chart of the home page (``world-map``, ``ties-by-type``) or of the indices page
        (``index-ranks``, with the page's filters), with its title and text alternative
        inside. 404 naming the charts for an unknown name, 400 for a format other than svg
        or png."""
        fmt = _format(fmt)

        def draw() -> bytes:
            options: dict[str, Any] = {}
            if name == "world-map":
                options["top"] = top or 800
            elif name == "index-ranks":
                options.update(top=min(top or 50, 500), axis=axis, region=region, bloc=bloc, country=country,
                               band=band, low_data=low_data, build=build)
            return site_chart_of(_obs(request), name, lang=lang, **options).render(fmt)
        return _named(await cached(request, draw, raw=True, media_type=MEDIA[fmt]), f"{name}.{fmt}")

    @r.post("/reports/align", tags=["reports"], responses={**_problems(404, 413, 422, 429, 503), 200: {
        "content": {"application/pdf": {}, "text/html": {}}, "description": "The report."}},
            summary="The alignment report of documents (PDF or HTML)")
    def align_report_route(request: Request, lim: Heavy,
                           files: Annotated[list[UploadFile], File(description="One or more .pdf, .docx, .html, "
                                                                               ".md or .txt files.")],
                           city: Annotated[str | None, Form(max_length=300, description="The city whose "
                                                            "documents they are (adds the comparison).")] = None,
                           lang: Annotated[Literal["en", "fr", "es", "de"], Form()] = "en",
                           mode: Annotated[Literal["auto", "hybrid", "light"], Form()] = "auto",
                           format: Annotated[Literal["pdf", "html"], Form()] = "pdf") -> Response:  # noqa: A002
        """Coverage of the SDG goals, targets and Paris articles as heatmaps, the strongest
        passages per goal with their pages, the gaps, the comparison with the city's register
        and peers, the method and its measured accuracy. The documents are held to the
        channel's limits (anonymous or editor) and kept by nobody."""
        with limits.holding(request.app.state.align_lock):
            rep = align_upload(files, lim, city=city, lang=lang, mode=mode, obs=_obs(request))
        return render_report(rep, format, "alignment-report", download=True)

    return r


def page_router() -> APIRouter:
    from .pages import Form as PageForm, render

    r = APIRouter(include_in_schema=False)

    @r.get(CSS_HREF)
    async def report_css():
        from ..reports.render import stylesheet

        return Response(stylesheet(), media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})

    @r.get("/reports/align", response_class=HTMLResponse)
    async def align_report_page(request: Request):
        return await render(request, "report_align.html", section="align",
                            form=PageForm(values={"city": "", "lang": "en", "mode": "auto"}))

    @r.post("/reports/align")
    async def align_report_post(request: Request):
        data = await request.form()
        values = {"city": (data.get("city") or "").strip(), "lang": data.get("lang") or "en",
                  "mode": data.get("mode") or "auto"}
        fmt = data.get("format") or "view"
        form = PageForm(values=values)
        if values["lang"] not in ("en", "fr", "es", "de") or values["mode"] not in ("auto", "hybrid", "light"):
            form.error("lang", "choose a language and a mode from the lists")
        files = [f for f in data.getlist("files") if isinstance(f, StarletteUpload) and f.filename]
        if not files:
            form.error("files", "choose at least one document to upload (PDF, DOCX, HTML, Markdown or text)")
        if not form.errors:
            lim, slot = await heavy_slot(request)
            try:
                with slot:
                    rep = await run_in_threadpool(_align_locked, request, files, lim, values)
            except ValidationError as exc:
                form.error(exc.field if exc.field in ("city", "lang", "mode") else "files", exc.detail if not
                           exc.file else f"{exc.file}: {exc.detail}")
            except Exception as exc:  # noqa: BLE001 - NotFoundError for the city
                from ..errors import NotFoundError
                if not isinstance(exc, NotFoundError):
                    raise
                form.error("city", str(exc) + (" — closest: " + "; ".join(exc.suggestions) if exc.suggestions
                                               else ""))
            else:
                if fmt == "pdf":
                    return await run_in_threadpool(render_report, rep, "pdf", "alignment-report", download=True)
                return await run_in_threadpool(render_report, rep, "html", "alignment-report",
                                               download=fmt == "html")
        return await render(request, "report_align.html", 422, section="align", form=form)

    @r.get("/actors/{ref}/report")
    async def actor_report_page(request: Request, ref: str, lang: str = "en", format: str = "html"):  # noqa: A002
        if lang not in ("en", "fr", "es", "de"):
            lang = "en"
        fmt = "pdf" if format == "pdf" else "html"
        rep = await run_in_threadpool(profile_report_of, request, ref, lang)
        aid = rep.charts() and _obs(request).get(ref)["id"] or ref
        return await run_in_threadpool(render_report, rep, fmt, f"profile-{aid}-{lang}", download=fmt == "pdf",
                                       chart_url=chart_links(aid, lang))

    return r


def _align_locked(request: Request, files, lim, values: dict[str, Any]):
    with limits.holding(request.app.state.align_lock):
        return align_upload(files, lim, city=values["city"], lang=values["lang"], mode=values["mode"],
                            obs=_obs(request))
