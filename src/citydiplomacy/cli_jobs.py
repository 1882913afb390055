"""``citydip worker`` and ``citydip jobs``: run the queue's workers, and list, follow,
cancel, retry and submit background jobs (thin over :mod:`citydiplomacy.jobs`,
:mod:`citydiplomacy.rqjobs` and :mod:`citydiplomacy.queues`).

With ``CITYDIP_QUEUE_URL`` (or ``--queue URL``) the jobs are those of the RQ queue on
Redis, run by ``citydip worker`` processes; without it, those of the store's in-process
runner (``jobs/`` beside the store), and a job submitted or retried here runs here, now.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import Any, Optional

import typer
from rich.markup import escape

from .errors import CitydipError, NotFoundError, ValidationError
from .render import FORMAT_HELP, Format, emit, table

QUEUE_HELP = "The job queue: a Redis URL (default: $CITYDIP_QUEUE_URL; unset: the store's in-process jobs)."
QUEUE_OPT = typer.Option(None, "--queue", help=QUEUE_HELP, envvar="CITYDIP_QUEUE_URL", show_envvar=True)

jobs_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Background jobs (imports, index builds, exports, recommendations for many cities): list them, "
         "follow one, cancel it, retry a failed one, submit one. With a queue (CITYDIP_QUEUE_URL) "
         "`citydip worker` runs them; without, a job submitted or retried here runs here.\n\n"
         "Example: `citydip jobs list` then `citydip jobs retry mQ3f8Yw0bV2d1kTq`")

COLUMNS = ["id", "task", "owner", "status", "phase", "done", "total", "attempts", "created_at", "finished_at"]


def _ctx():
    from .cli import _fail, err, out, state

    return _fail, out, err, state


def _store_path():
    from .paths import resolve_store_path

    return resolve_store_path(None, home=_ctx()[3].home)


def _open_queue(url: Optional[str]):
    from .queues import jobs_dir, open_queue

    _fail = _ctx()[0]
    folder = jobs_dir(_store_path())
    try:
        if url:
            return open_queue(folder, url=url)
        from .jobs import ThreadJobs

        return ThreadJobs(folder, start=False)      # its jobs run in the foreground (drain)
    except CitydipError as exc:
        _fail(exc)


def _row(job) -> dict[str, Any]:
    d = job.as_dict()
    p = d["progress"]
    return {**{k: d.get(k) for k in COLUMNS}, "phase": p.get("phase"), "done": p.get("done"), "total": p.get("total")}


def _get(q, job_id: str):
    job = q.status(job_id)
    if job is None:
        _ctx()[0](NotFoundError(f"no job '{job_id}' (jobs are kept a day after they finish); "
                                "`citydip jobs list` shows those kept"))
    return job


def _show(job, fmt: Format) -> None:
    d = job.as_dict()
    if fmt == Format.json:
        emit(fmt, data=d)
        return
    _, out, _, _ = _ctx()
    p = d["progress"]
    step = p.get("phase") or ""
    if p.get("total"):
        step += f" {p.get('done') or 0:,}/{p['total']:,}"
    lines = [f"[bold]{escape(job.id)}[/] · {escape(job.task)} · {escape(job.owner)} · [bold]{job.status}[/]"
             + (" (cancel requested)" if job.cancel_requested and not job.done else ""),
             f"progress: {escape(step)}", f"attempts: {job.attempts}", f"created: {job.created_at}"
             + (f" · started: {job.started_at}" if job.started_at else "")
             + (f" · finished: {job.finished_at}" if job.finished_at else "")]
    if job.params:
        lines.append("about: " + escape(json.dumps(job.params, ensure_ascii=False)))
    if job.error:
        lines.append("[red]error:[/] " + escape(job.error.get("detail") or job.error.get("error") or ""))
    if job.result is not None:
        brief = {k: v for k, v in job.result.items() if not isinstance(v, (list, dict))}
        lines.append("result: " + escape(json.dumps(brief, ensure_ascii=False, default=str)))
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)


def _run_here(q, job) -> Any:
    """Run the queued ``job`` in this process (no queue): a spinner on a terminal."""
    err = _ctx()[2]
    status = err.status(f"running job {job.id} ({job.task})") if err.is_terminal else nullcontext()
    with status:
        q.drain()
    return q.status(job.id)


@jobs_app.command("list")
def jobs_list(owner: Optional[str] = typer.Option(None, "--owner", help="Only this user's jobs."),
              limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many, newest first."),
              queue: Optional[str] = QUEUE_OPT,
              fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The jobs kept (queued, running, and those finished in the last day), newest first.

    Example: `citydip jobs list --owner maria --format csv`
    """
    q = _open_queue(queue)
    rows = [_row(j) for j in q.list(owner=owner, limit=limit)]
    emit(fmt, data=rows, rows=rows, columns=COLUMNS,
         renderables=[table(None, rows, ["id", "task", "owner", "status", "phase", "done", "total", "created_at"])
                      if rows else "no jobs"])


@jobs_app.command("show")
def jobs_show(job_id: str = typer.Argument(..., help="The job's id (from `citydip jobs list` or a 202 answer)."),
              queue: Optional[str] = QUEUE_OPT,
              fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """A job: its status, progress, attempts, result or error.

    Example: `citydip jobs show mQ3f8Yw0bV2d1kTq --format json`
    """
    _show(_get(_open_queue(queue), job_id), fmt)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str = typer.Argument(..., help="The job's id."), queue: Optional[str] = QUEUE_OPT):
    """Cancel a job: a queued one at once, a running one at its next step (an import
    cancelled before its commit writes nothing).

    Example: `citydip jobs cancel mQ3f8Yw0bV2d1kTq`
    """
    _fail, _, err, _ = _ctx()
    q = _open_queue(queue)
    job = _get(q, job_id)
    if job.done:
        _fail(CitydipError(f"job {job_id} has already {job.status}; there is nothing to cancel"))
    job = q.cancel(job_id)
    err.print(f"job {job_id}: " + ("cancelled" if job.done else "cancel requested; it stops at its next step"),
              highlight=False)


@jobs_app.command("retry")
def jobs_retry(job_id: str = typer.Argument(..., help="The id of a failed or cancelled job."),
               queue: Optional[str] = QUEUE_OPT,
               fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Run a failed or cancelled job again, with the same arguments and id (a failed
    import wrote nothing). On a queue it is queued for the workers; without one it runs
    here, now.

    Example: `citydip jobs retry mQ3f8Yw0bV2d1kTq`
    """
    _fail = _ctx()[0]
    q = _open_queue(queue)
    _get(q, job_id)
    try:
        job = q.retry(job_id)
    except CitydipError as exc:
        _fail(exc)
    if not queue:
        job = _run_here(q, job)
    _show(job, fmt)
    if job.status == "failed":
        raise typer.Exit(1)


def _arg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValidationError(f"'{text}' is not KEY=VALUE (e.g. fmt=csv, cities='[\"Lyon\", \"Porto\"]')",
                              field="args")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


@jobs_app.command("submit")
def jobs_submit(task: str = typer.Argument(..., help="The task: import, index-build, export, recommend, align (and "
                                           "any a module registers)."),
                args: Optional[list[str]] = typer.Argument(None, help="Its arguments as KEY=VALUE (a VALUE that "
                                                           "reads as JSON is taken as JSON). `store` defaults "
                                                           "to the store in use."),
                queue: Optional[str] = QUEUE_OPT,
                fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Submit a job. On a queue it is queued for the workers and its id printed; without
    one it runs here, now, and its result is printed.

    Examples: `citydip jobs submit export out=/srv/exports/es fmt=csv country=ES`;
    `citydip jobs submit recommend cities='["Lyon","Porto","Gdańsk"]' top=5 out=recs.jsonl`
    """
    from .jobs import TASKS, load_tasks
    from .store.audit import os_user

    _fail, out, _, _ = _ctx()
    load_tasks()
    if task not in TASKS:
        _fail(ValidationError(f"no task '{task}'; use one of: {', '.join(sorted(TASKS))}", field="task"))
    try:
        kwargs = dict(_arg(a) for a in args or [])
    except ValidationError as exc:
        _fail(exc)
    # the store the job works on: the database of --db / CITYDIP_DATABASE_URL, else the SQLite file
    kwargs.setdefault("store", _ctx()[3].db or str(_store_path()))
    q = _open_queue(queue)
    job = q.submit(task, kwargs, owner=os_user(), params={k: v for k, v in kwargs.items() if k != "store"})
    if queue:
        if fmt == Format.json:
            emit(fmt, data=job.as_dict())
        else:
            out.print(job.id, highlight=False)
        return
    job = _run_here(q, job)
    _show(job, fmt)
    if job.status == "failed":
        raise typer.Exit(1)


def worker(queue: Optional[str] = QUEUE_OPT,
           burst: bool = typer.Option(False, "--burst", help="Stop when the queue is empty (for scripts and tests)."),
           name: Optional[str] = typer.Option(None, "--name", help="The worker's name (default: a random one)."),
           queue_name: Optional[str] = typer.Option(None, "--queue-name", envvar="CITYDIP_QUEUE_NAME",
                                                    help="The RQ queue to take jobs from (default: citydip).")):
    """Run a queue worker: it takes the jobs the web server, the API and `citydip jobs
    submit` put on the queue and runs them, each in a child process, reporting progress.
    Start as many as the machine has cores to spare, on any machine that reaches Redis and
    the store (and the jobs' folder, for imports of uploaded files). Stop it with Ctrl+C or
    SIGTERM: it finishes its job first.

    Example: `CITYDIP_QUEUE_URL=redis://127.0.0.1:6379/0 citydip worker`
    """
    _fail, _, err, _ = _ctx()
    if not queue:
        _fail(CitydipError("no queue: set CITYDIP_QUEUE_URL (e.g. redis://127.0.0.1:6379/0) or give --queue URL; "
                           "without a queue, jobs run in the web server's own process and need no worker"))
    from .rqjobs import work

    try:
        work(queue, queues=[queue_name] if queue_name else None, burst=burst, name=name)
    except CitydipError as exc:
        _fail(exc)


__all__ = ["jobs_app", "worker"]
