"""The jobs' pages: the list of background jobs (imports, index builds, exports,
recommendations over many cities) and one job's page, whose progress updates while it
runs — the same queue the REST API's ``/api/v1/jobs`` reads (in-process, or RQ on Redis:
:mod:`citydiplomacy.queues`).

Who sees what is the API's rule: a signed-in person sees their own jobs, an administrator
everyone's; cancel and retry need an editor (their own job) or an administrator, and the
form's CSRF token. While a job is queued or running, ``static/jobs.js`` fetches the page's
status part every two seconds and puts it in place; without JavaScript the page refreshes
itself (a ``<meta http-equiv=refresh>`` inside ``<noscript>``).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..jobs import FINAL, STATES, JobStateError
from . import i18n
from .pages import CSRF_MESSAGE, _audit, _csrf_ok, _need, error_page, render

#: the jobs' pages need a signed-in person: only a writable observatory has them
router = APIRouter(include_in_schema=False)

#: the tasks' names for people (translated in locales/*.yaml)
TASK_LABELS = {"import": "Import", "index-build": "Index build", "export": "Export",
               "recommend": "Recommendations", "align": "Bulk alignment"}
#: the states' names for people
STATE_LABELS = {"queued": "queued", "running": "running", "succeeded": "succeeded", "failed": "failed",
                "cancelled": "cancelled"}
#: how many jobs the list shows
LIST_LIMIT = 200
#: the no-JavaScript page refreshes itself this often while a job is active (seconds)
REFRESH = 3


def _lang(request: Request) -> str:
    return i18n.frame_language(request.query_params.get("lang"))


def _t(request: Request, message: str) -> str:
    return i18n.translate(_lang(request), message)


def _with_lang(request: Request, path: str) -> str:
    lang = _lang(request)
    if lang == "en":
        return path
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


def _visible(job, user) -> bool:
    return job is not None and (job.owner == user.name or user.can("admin"))


def _may_change(job, user) -> bool:
    """Cancel and retry: an editor on their own job, an administrator on any."""
    return user.can("admin") or (user.can("editor") and job.owner == user.name)


def _fetch(request: Request, job_id: str, user):
    try:
        job = request.app.state.jobs.status(job_id)
    except ValueError:              # not an id at all
        job = None
    return job if _visible(job, user) else None


async def _job_of(request: Request, job_id: str, role: str = "viewer", user=None):
    """``(user, job)`` for a job page: the signed-in user with ``role`` (``user`` when the
    caller has already checked it) and the job they may see, or ``(None, response)`` — the
    sign-in page, or the 404 page of an unknown job (or one of somebody else's)."""
    if user is None:
        user = await _need(request, role)
        if isinstance(user, Response):
            return None, user
    job = await run_in_threadpool(_fetch, request, job_id, user)
    if job is None:
        return None, await _unknown(request, job_id)
    return user, job


def _view(request: Request, job, user) -> dict[str, Any]:
    """A job as its templates show it: its state and progress, what it is about, its error
    as text, where its result is."""
    d = job.as_dict()
    d["label"] = TASK_LABELS.get(job.task, job.task)
    d["about"] = _about(job)
    d["active"] = job.status not in FINAL
    d["may_change"] = _may_change(job, user) and not getattr(request.app.state, "read_only", False)
    d["url"] = _with_lang(request, f"/jobs/{quote(job.id)}")
    d["error_text"] = _error_text(request, job) if job.error else None
    d["links"] = _result_links(request, job) if job.status == "succeeded" else []
    return d


def _about(job) -> str:
    """One line of what the job is about, from its parameters (never a server path)."""
    p = job.params or {}
    if job.task == "import":
        what = f"{p.get('importer', '?')}: {p.get('file', '?')}"
        return what + (" (dry run)" if p.get("dry_run") else "")
    if job.task == "index-build":
        return str(p.get("name") or p.get("framework") or "")
    if job.task == "recommend":
        return f"{p.get('kind', '')} · {p.get('cities', '?')} cities" + (f" · {p['theme']}" if p.get("theme") else "")
    parts = [f"{k}={v}" for k, v in p.items() if v not in (None, "", [], {}) and k != "task"]
    return ", ".join(parts)[:200]


def _error_text(request: Request, job) -> str:
    """A failed job's error as one sentence, the file, row and field at fault included (the
    API's problem body, its server paths removed)."""
    from .api import _job_problem

    body = _job_problem(request, job.error, request.app.state.jobs.dir / job.id, job.params.get("file") or "")
    text = body.get("detail") or body.get("title") or "the job failed"
    where = [f"{k} {body[k]}" for k in ("file", "row", "field") if body.get(k) not in (None, "")]
    return f"{text} ({', '.join(where)})" if where else text


def _result_links(request: Request, job) -> list[dict[str, str]]:
    """Where to see a finished job's result: the page it belongs to, and its result as JSON."""
    links = []
    r = job.result or {}
    if job.task == "index-build" and (r.get("label") or r.get("name")):
        links.append({"href": _with_lang(request, f"/indices?build={quote(r.get('label') or r.get('name'))}"),
                      "text": _t(request, "See the build's ranking")})
    if job.task == "import" and job.params.get("upload"):
        links.append({"href": f"/imports/{quote(job.params['upload'])}",
                      "text": _t(request, "See the import's report")})
    links.append({"href": f"/jobs/{quote(job.id)}/result.json", "text": _t(request, "Download the result (JSON)"),
                  "download": f"job-{job.id}.json"})
    return links


# -- the list -------------------------------------------------------------------------------------

@router.get("/jobs", response_class=HTMLResponse)
async def jobs_page(request: Request, state: str = "", partial: str = ""):
    """The jobs kept (queued, running, and those finished in the last day), newest first;
    ``state`` keeps those in one state; ``partial=1``: the table alone (for jobs.js)."""
    user = await _need(request, "viewer")
    if isinstance(user, Response):
        return user
    state = state.strip()
    problem = None
    if state and state not in STATES:
        problem = _t(request, "Choose one of the states listed.")
        state = ""
    owner = None if user.can("admin") else user.name
    jobs = await run_in_threadpool(request.app.state.jobs.list, owner=owner, limit=LIST_LIMIT)
    counts = {s: sum(1 for j in jobs if j.status == s) for s in STATES}
    shown = [_view(request, j, user) for j in jobs if not state or j.status == state]
    active = any(j["active"] for j in shown)
    query = {k: v for k, v in (("state", state), ("lang", _lang(request))) if v and v != "en"}
    ctx = dict(section="jobs", ui_lang=_lang(request), jobs=shown, counts=counts, state=state, states=STATES,
               state_labels=STATE_LABELS, problem=problem, active=active, everyone=user.can("admin"),
               partial_url="/jobs?" + urlencode({**query, "partial": "1"}), refresh=REFRESH,
               lang_q="" if _lang(request) == "en" else f"&lang={_lang(request)}")
    if partial:
        return await render(request, "_jobs_table.html", **ctx)
    return await render(request, "jobs.html", 422 if problem else 200, **ctx)


# -- one job -------------------------------------------------------------------------------------

async def _unknown(request: Request, job_id: str) -> HTMLResponse:
    return await error_page(request, 404, _t(request, "No such job"),
                            _t(request, "There is no job %(id)s of yours: jobs are kept a day after they finish, "
                                        "and you see only the jobs you started (an administrator sees everyone's).")
                            % {"id": job_id[:64]})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, job_id: str, partial: str = ""):
    """A job: its state and progress (updated while it runs), what it is about, its result
    or its error, and for an editor or an administrator the cancel and retry buttons."""
    user, job = await _job_of(request, job_id)
    if user is None:
        return job
    if job.status == "succeeded" and job.task == "import" and not job.params.get("dry_run"):
        from .api import store_changed

        store_changed(request)      # the import committed: the reads see it at once
    view = _view(request, job, user)
    ctx = dict(section="jobs", ui_lang=_lang(request), job=view, state_labels=STATE_LABELS, refresh=REFRESH,
               partial_url=_with_lang(request, f"/jobs/{quote(job.id)}?partial=1"))
    if partial:
        return await render(request, "_job_status.html", **ctx)
    return await render(request, "job.html", **ctx)


@router.get("/jobs/{job_id}/result.json")
async def job_result(request: Request, job_id: str):
    """A succeeded job's result, as the API gives it (an import's report without server
    paths), to download."""
    from .api import _job_json

    user, job = await _job_of(request, job_id)
    if user is None:
        return job
    if job.status != "succeeded":
        return await error_page(request, 409, _t(request, "No result yet"),
                                _t(request, "This job has no result: it is %(state)s.")
                                % {"state": _t(request, STATE_LABELS[job.status])})
    body = json.dumps(_job_json(request, job)["result"], ensure_ascii=False, indent=2, default=str)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="job-{job.id}.json"', "Cache-Control": "no-store"})


async def _change(request: Request, job_id: str, action: str):
    user = await _need(request, "editor")
    if isinstance(user, Response):
        return user
    if not await _csrf_ok(request):
        return await error_page(request, 403, _t(request, "Not done"), _t(request, CSRF_MESSAGE))
    user, job = await _job_of(request, job_id, user=user)
    if user is None:
        return job
    if not _may_change(job, user):
        return await error_page(request, 403, _t(request, "Not allowed"),
                                _t(request, "Only the person who started a job, or an administrator, may cancel or "
                                            "retry it."))
    jobs = request.app.state.jobs
    try:
        if action == "cancel":
            if job.status in ("succeeded", "failed"):
                raise JobStateError(f"the job has already {job.status}; there is nothing to cancel")
            job = await run_in_threadpool(jobs.cancel, job_id)
        else:
            job = await run_in_threadpool(jobs.retry, job_id)
    except JobStateError as exc:
        return await error_page(request, 409, _t(request, "Not done"), str(exc))
    _audit(request, user, f"job.{action}", job_id, {"task": job.task, **job.params})
    return RedirectResponse(_with_lang(request, f"/jobs/{quote(job_id)}"), status_code=303)


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
async def job_cancel(request: Request, job_id: str):
    """Cancel a queued job at once, a running one at its next step (an import cancelled
    before it commits writes nothing)."""
    return await _change(request, job_id, "cancel")


@router.post("/jobs/{job_id}/retry", response_class=HTMLResponse)
async def job_retry(request: Request, job_id: str):
    """Queue a failed or cancelled job again, with the same arguments and id."""
    return await _change(request, job_id, "retry")


__all__ = ["router", "TASK_LABELS"]
