"""Long operations as jobs: submitted, followed (status and progress), their result or
error read back, cancelled.

The web server runs an import that may take minutes (a twinning list of 200,000 rows:
about a minute to resolve its names) as a job, so that no request waits for it and the
person sees its progress. :class:`JobQueue` is the small interface the faces use
(submit, status, cancel, retry, list); :class:`ThreadJobs` and :class:`ProcessJobs`
implement it in the server's own process (the embedded default), and
:class:`citydiplomacy.rqjobs.RQJobs` on a real queue, RQ on Redis, whose workers
(``citydip worker``) may run on other machines (``CITYDIP_QUEUE_URL``; see docs/jobs.md).
Tasks are registered by name (:func:`task`) and take JSON arguments, as a queue wants.

:class:`ThreadJobs` keeps each job's state in a JSON file (``<directory>/<id>/job.json``),
so that every worker process of the server can answer for any job, and a job whose
process stopped is reported failed rather than running forever. The job's files (an
uploaded table, the review file it writes) live in the same folder, removed a day later.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from . import progress
from .errors import CitydipError, NotFoundError, StoreError, ValidationError

log = logging.getLogger("citydiplomacy.jobs")

#: the states of a job; the last three are final
STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINAL = ("succeeded", "failed", "cancelled")
#: a job's folder is removed this long after the job finished (seconds)
JOB_TTL = 24 * 3600
#: the state file is rewritten at most this often while a job reports progress (seconds)
SAVE_EVERY = 0.5

Task = Callable[..., dict[str, Any]]
TASKS: dict[str, Task] = {}
#: the modules whose import registers tasks (a worker imports them all before it runs a
#: job); a capability that adds a task appends its module here, or names it in
#: ``CITYDIP_TASK_MODULES`` (comma-separated)
TASK_MODULES: list[str] = ["citydiplomacy.jobs"]


def task(name: str) -> Callable[[Task], Task]:
    """Register a function as the task ``name``: called with the job's JSON arguments, it
    returns the job's result (a JSON object) and may report progress
    (:func:`citydiplomacy.progress.report`)."""
    def deco(fn: Task) -> Task:
        TASKS[name] = fn
        return fn
    return deco


def load_tasks() -> dict[str, Task]:
    """Import every module of :data:`TASK_MODULES` and ``$CITYDIP_TASK_MODULES``, so that
    their tasks are registered; returns the tasks by name."""
    import importlib

    extra = [m.strip() for m in os.environ.get("CITYDIP_TASK_MODULES", "").split(",") if m.strip()]
    for module in [*TASK_MODULES, *extra]:
        importlib.import_module(module)
    return TASKS


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Job:
    """A job's state, as any worker process reads it."""

    id: str
    task: str
    owner: str
    status: str = "queued"
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    #: {"phase": ..., "done": ..., "total": ...}
    progress: dict[str, Any] = field(default_factory=lambda: {"phase": "queued", "done": None, "total": None})
    #: what the job is about, for people (an importer and a file name; never a server path)
    params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    #: a failed job's error: {"error": class name, "detail", "field", "row", "file"}
    error: dict[str, Any] | None = None
    cancel_requested: bool = False
    pid: int | None = None
    #: the task's arguments (server paths: never shown), kept so that a failed job can be retried
    args: dict[str, Any] | None = None
    #: how many times the job was started (a retry adds one)
    attempts: int = 0

    @property
    def done(self) -> bool:
        return self.status in FINAL

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("pid")
        d.pop("args")
        p = d["progress"]
        p["fraction"] = round(p["done"] / p["total"], 4) if p.get("total") and p.get("done") is not None else None
        return d


class JobQueue(Protocol):
    """What the faces need of a job queue."""

    def submit(self, task: str, args: dict[str, Any], *, owner: str, params: dict[str, Any] | None = None,
               job_id: str | None = None) -> Job: ...

    def status(self, job_id: str) -> Job | None: ...

    def cancel(self, job_id: str) -> Job | None: ...

    def retry(self, job_id: str) -> Job | None: ...

    def list(self, *, owner: str | None = None, limit: int = 100) -> list[Job]: ...

    def workdir(self, job_id: str) -> Path: ...


class JobStateError(CitydipError):
    """The job is not in a state that allows what was asked (retrying a running job)."""


def describe_error(exc: BaseException) -> dict[str, Any]:
    """A failed job's error as JSON: the library error's class, message and, for a
    validation error, the field, row and file."""
    if isinstance(exc, ValidationError):
        return {"error": "ValidationError", "detail": exc.detail, "field": exc.field, "row": exc.row,
                "file": exc.file}
    if isinstance(exc, NotFoundError):
        return {"error": "NotFoundError", "detail": str(exc)}
    if isinstance(exc, StoreError):
        return {"error": type(exc).__name__, "detail": str(exc)}
    if isinstance(exc, CitydipError):
        return {"error": "CitydipError", "detail": str(exc)}
    return {"error": "InternalError", "detail": "the job failed on an unexpected error; it is a bug, please "
                                                "report it (the details are in the server log). Nothing was written."}


#: how long a job may work (seconds), unless ``CITYDIP_JOB_SECONDS`` says otherwise
JOB_SECONDS = 3600.0


def job_seconds() -> float:
    """The time a job may work: ``$CITYDIP_JOB_SECONDS`` (a positive number) or an hour."""
    raw = os.environ.get("CITYDIP_JOB_SECONDS", "").strip()
    if not raw:
        return JOB_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValidationError(f"CITYDIP_JOB_SECONDS={raw!r} is not a positive number of seconds",
                              field="CITYDIP_JOB_SECONDS")
    return value


def new_job_id() -> str:
    return secrets.token_urlsafe(12)


class ThreadJobs:
    """Jobs run by ``workers`` background threads of this process, their state kept in
    files under ``directory`` (see the module's docstring)."""

    def __init__(self, directory: str | os.PathLike, *, workers: int = 2, start: bool = True):
        self.dir = Path(directory)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._queue: queue.Queue = queue.Queue()
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"citydip-job-{n}", daemon=True)
                         for n in range(workers if start else 0)]
        for t in self._threads:
            t.start()

    # -- the interface ---------------------------------------------------------------------------

    def workdir(self, job_id: str) -> Path:
        """The job's folder (for its input files); made on first use."""
        return job_folder(self.dir, job_id)

    def submit(self, task: str, args: dict[str, Any], *, owner: str, params: dict[str, Any] | None = None,
               job_id: str | None = None) -> Job:
        """Queue ``task`` with ``args``; returns the job (queued)."""
        check_task(task)
        self._sweep()
        job = Job(id=job_id or new_job_id(), task=task, owner=owner, params=dict(params or {}), pid=os.getpid(),
                  args=dict(args))
        self.workdir(job.id)
        self._save(job)
        with self._lock:
            self._cancel[job.id] = threading.Event()
        self._queue.put((job.id, task, args))
        return job

    def status(self, job_id: str) -> Job | None:
        """The job's state, or None for an unknown id. A job left queued or running by a
        process that no longer exists is reported failed (its import wrote nothing)."""
        job = self._load(job_id)
        if job is None or job.done or job.pid is None or job.pid == os.getpid() or _alive(job.pid):
            return job
        job.status, job.finished_at = "failed", job.finished_at or _now()
        job.error = {"error": "StoreError", "detail": "the server stopped while the job ran; nothing was "
                                                      "written. Submit it again."}
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Ask the job to stop: a queued job is cancelled at once, a running one at its next
        step (an import cancelled before its commit writes nothing). A finished job is
        returned as it is."""
        job = self.status(job_id)
        if job is None or job.done:
            return job
        job.cancel_requested = True
        (self.dir / job.id / "cancel").touch()
        with self._lock:
            event = self._cancel.get(job.id)
        if event is not None:
            event.set()
        if job.status == "queued":
            job.status, job.finished_at = "cancelled", _now()
            job.progress = {**job.progress, "phase": "cancelled"}
        self._save(job)
        return job

    def retry(self, job_id: str) -> Job | None:
        """Queue a failed or cancelled job again, with the same arguments and id (an
        import that failed wrote nothing, so running it again is safe). Raises
        :class:`JobStateError` for a job that is queued, running or succeeded."""
        job = self.status(job_id)
        if job is None:
            return None
        _check_retry(job)
        if job.args is None:
            raise JobStateError(f"job {job_id} was queued by an older version, which kept no arguments; "
                                "submit it again")
        (self.dir / job.id / "cancel").unlink(missing_ok=True)
        job.status, job.started_at, job.finished_at, job.result, job.error = "queued", None, None, None, None
        job.cancel_requested, job.pid = False, os.getpid()
        job.progress = {"phase": "queued", "done": None, "total": None}
        self._save(job)
        with self._lock:
            self._cancel[job.id] = threading.Event()
        self._queue.put((job.id, job.task, job.args))
        return job

    def list(self, *, owner: str | None = None, limit: int = 100) -> list[Job]:
        """The jobs kept (a day after they finished), newest first; ``owner``: only theirs."""
        jobs = []
        for d in self.dir.iterdir() if self.dir.is_dir() else ():
            job = self.status(d.name) if d.is_dir() else None
            if job is not None and (owner is None or job.owner == owner):
                jobs.append(job)
        jobs.sort(key=lambda j: j.created_at, reverse=True)
        return jobs[:limit]

    def drain(self) -> None:
        """Run the jobs queued in this object, here and now, until none is left (for a
        process that started no worker threads: ``citydip jobs retry`` without a queue)."""
        while True:
            try:
                job_id, name, args = self._queue.get_nowait()
            except queue.Empty:
                return
            self._execute(job_id, name, args)

    # -- running -----------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job_id, name, args = self._queue.get()
            try:
                self._execute(job_id, name, args)
            except Exception:       # noqa: BLE001 - a job must never stop its worker thread
                log.exception("job %s: could not record its state", job_id)
            finally:
                with self._lock:
                    self._cancel.pop(job_id, None)

    def _execute(self, job_id: str, name: str, args: dict[str, Any]) -> None:
        """Run one job (here: in this thread)."""
        self._run(job_id, name, args)

    def _cancelled(self, job_id: str) -> bool:
        with self._lock:
            event = self._cancel.get(job_id)
        return bool(event is not None and event.is_set()) or (self.dir / job_id / "cancel").exists()

    def _run(self, job_id: str, name: str, args: dict[str, Any]) -> None:
        job = self._load(job_id)
        if job is None or job.done:
            return
        if self._cancelled(job_id):
            job.status, job.finished_at, job.cancel_requested = "cancelled", _now(), True
            self._save(job)
            return
        job.status, job.started_at, job.pid = "running", _now(), os.getpid()
        job.attempts += 1
        job.progress = {"phase": "starting", "done": None, "total": None}
        self._save(job)
        last_save = [time.monotonic()]

        def listener(phase: str, done: int | None, total: int | None) -> None:
            if self._cancelled(job_id):
                raise progress.Cancelled("the job was cancelled; nothing was written")
            job.progress = {"phase": phase, "done": done, "total": total}
            if time.monotonic() - last_save[0] >= SAVE_EVERY:
                self._save(job)
                last_save[0] = time.monotonic()

        try:
            with progress.listening(listener):
                result = TASKS[name](**args)
        except progress.Cancelled:
            job.status, job.cancel_requested = "cancelled", True
            job.progress = {**job.progress, "phase": "cancelled"}
        except CitydipError as exc:
            job.status, job.error = "failed", describe_error(exc)
        except Exception as exc:    # noqa: BLE001 - reported as a failed job, logged with its traceback
            log.exception("job %s (%s) failed", job_id, name)
            job.status, job.error = "failed", describe_error(exc)
        else:
            job.status, job.result = "succeeded", result
            job.progress = {"phase": "done", "done": job.progress.get("total"), "total": job.progress.get("total")}
        job.finished_at = _now()
        self._save(job)

    # -- the state files ------------------------------------------------------------------------------

    def _save(self, job: Job) -> None:
        d = self.dir / job.id
        d.mkdir(mode=0o700, exist_ok=True)
        tmp = d / f"job.json.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, d / "job.json")

    def _load(self, job_id: str) -> Job | None:
        try:
            path = self.dir / _check_id(job_id) / "job.json"
        except ValueError:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Job(**{k: v for k, v in data.items() if k in Job.__dataclass_fields__})

    def _sweep(self) -> None:
        """Remove the folders of jobs finished more than a day ago."""
        now = time.time()
        for d in self.dir.iterdir():
            try:
                if d.is_dir() and now - d.stat().st_mtime > JOB_TTL:
                    job = self._load(d.name)
                    if job is None or job.done or not _alive(job.pid or 0):
                        shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass


class ProcessJobs(ThreadJobs):
    """Jobs each run in a process of its own, started by a background thread of this one:
    the server's worker keeps its memory and its CPU for requests while an import resolves
    thousands of names (which costs several hundred MB, whatever the file's size), and the
    memory comes back to the system when the job ends. Cancelling goes through the job's
    ``cancel`` file; a job whose process dies (killed, out of memory) is reported failed,
    and its import wrote nothing."""

    def _execute(self, job_id: str, name: str, args: dict[str, Any]) -> None:
        import multiprocessing

        proc = multiprocessing.get_context("spawn").Process(
            target=_run_in_child, args=(str(self.dir), job_id, name, args), name=f"citydip-job-{job_id}",
            daemon=True)
        proc.start()
        while proc.is_alive():
            if self._cancelled(job_id):
                (self.dir / job_id / "cancel").touch()
            proc.join(0.5)
        job = self._load(job_id)
        if job is not None and not job.done:
            job.status, job.finished_at = "failed", _now()
            job.error = {"error": "StoreError",
                         "detail": f"the job's process stopped (exit code {proc.exitcode}); nothing was "
                                   "written. Submit it again."}
            self._save(job)


def _run_in_child(directory: str, job_id: str, name: str, args: dict[str, Any]) -> None:
    """The body of a :class:`ProcessJobs` job, in its own process."""
    ThreadJobs(directory, start=False)._run(job_id, name, args)


def job_queue(directory: str | os.PathLike) -> JobQueue:
    """The in-process job runner of a server: each job in a process of its own
    (:class:`ProcessJobs`), or in a thread of the server's process with
    ``CITYDIP_JOBS=thread``. (:func:`citydiplomacy.queues.open_queue` chooses between this
    and a real queue.)"""
    kind = os.environ.get("CITYDIP_JOBS", "process").strip().lower()
    if kind not in ("process", "thread"):
        raise ValueError(f"CITYDIP_JOBS={kind!r}: use process or thread")
    return ProcessJobs(directory) if kind == "process" else ThreadJobs(directory)


def submit_one(queue: JobQueue, task: str, args: dict[str, Any], *, owner: str,
               params: dict[str, Any] | None = None, key: str | None = None) -> tuple[Job, bool]:
    """Submit ``task`` unless a job of the same task is still queued or running (an index
    build holds a core and several hundred MB for minutes: one at a time per store). Returns
    (the job, True) when it was submitted, (the job in progress, False) otherwise. The job
    in progress is remembered in a file of the queue's folder, so every worker process of
    the server sees it. ``key`` (default: the task's name) makes it one at a time per key
    (a user's batch of recommendations: ``recommend-NAME``)."""
    marker = Path(queue.dir) / f"{_check_id(key or task)}.active"      # type: ignore[attr-defined]
    try:
        current = queue.status(marker.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        current = None
    if current is not None and not current.done:
        return current, False
    job = queue.submit(task, args, owner=owner, params=params)
    marker.write_text(job.id, encoding="utf-8")
    return job, True


def _check_retry(job: Job) -> None:
    if job.status not in ("failed", "cancelled"):
        raise JobStateError(f"job {job.id} is {job.status}: only a failed or cancelled job can be retried")


def _check_id(job_id: str) -> str:
    if not job_id or len(job_id) > 64 or not all(c.isalnum() or c in "-_" for c in job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return job_id


def _alive(pid: int | None) -> bool:
    """Whether process ``pid`` of this machine runs (a zombie, dead but not yet reaped by
    its parent, does not)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def job_folder(directory: Path, job_id: str) -> Path:
    """The folder of job ``job_id`` under ``directory`` (its input files); made on first use."""
    d = directory / _check_id(job_id)
    d.mkdir(mode=0o700, exist_ok=True)
    return d


def check_task(task: str) -> None:
    """Raise ValueError unless ``task`` is a registered task."""
    if task not in TASKS:
        raise ValueError(f"no task '{task}'; registered: {', '.join(sorted(TASKS))}")


# -- the tasks ------------------------------------------------------------------------------------------

@task("import")
def import_task(*, store: str, importer: str, file: str, options: dict[str, Any] | None = None,
                dry_run: bool = True, review: str | None = None, who: str | None = None,
                label: str | None = None, busy_timeout: float | None = None,
                channel: str | None = None, limits: str | None = None) -> dict[str, Any]:
    """Run an import (:func:`citydiplomacy.ingest.run_import`) on the store at ``store`` (a
    path, or an SQLAlchemy URL); an applied import that changed the store is recorded in
    the audit log as ``who``'s ``import.apply`` of ``label`` (from ``channel``: web or api),
    in the import's transaction; ``limits``: the channel whose limits hold (sizes, rows and
    seconds: an editor's import stops at the editor's limits).
    Returns the report, with the review file's text (``review_csv``) when it wrote one."""
    from .ingest import run_import
    from .store import Store
    from .store.db import BUSY_TIMEOUTS

    wait = BUSY_TIMEOUTS["job"] if busy_timeout is None else busy_timeout
    if isinstance(limits, str):
        # the channel's sizes and rows; the time is the job's own: it is no request
        from dataclasses import replace

        from .limits import limits_for

        limits = replace(limits_for(limits), seconds=job_seconds())
    st = Store(url=store, busy_timeout=wait) if "://" in store else Store(store, busy_timeout=wait)
    try:
        report = run_import(st, importer, file, dry_run=dry_run, review=review, limits=limits, **(options or {}),
                            audit=(who or "unknown", label or f"{importer}: {Path(file).name}", channel))
        data = report.as_dict()
        if review and Path(review).exists():
            data["review_csv"] = Path(review).read_text(encoding="utf-8")
        return data
    finally:
        st.close()


@task("index-build")
def index_build_task(*, store: str, framework: str | None = None, years: list[int] | None = None,
                     replications: int | None = None,
                     seed: int | None = None, name: str | None = None, publish: bool = False,
                     who: str | None = None, channel: str | None = None,
                     busy_timeout: float | None = None) -> dict[str, Any]:
    """Build the indices of ``framework`` (a YAML path; None: the shipped one) with
    :func:`citydiplomacy.indices.build.build_index` on the store at ``store``, reporting each step as the job's progress; the build (and its
    publication, with ``publish``) is recorded in the audit log as ``who``'s, from
    ``channel`` (web or api), in the build's own transaction. Returns the build's report."""
    from .indices.build import build_index
    from .store import Store
    from .store.audit import acting_as
    from .store.db import BUSY_TIMEOUTS

    wait = BUSY_TIMEOUTS["job"] if busy_timeout is None else busy_timeout
    st = Store(url=store, busy_timeout=wait) if "://" in store else Store(store, busy_timeout=wait)
    try:
        with acting_as(who or "unknown", channel or "python"):
            report = build_index(st, framework, years=years, replications=replications, seed=seed, name=name,
                                 publish=True if publish else None,
                                 progress=lambda phase, done, total: progress.report(phase, done, total))
        return report.as_dict()
    finally:
        st.close()


@task("export")
def export_task(*, store: str, out: str, fmt: str = "datapackage", kind: str | None = None,
                country: str | None = None, layer: str | None = None, tie_type: str | None = None) -> dict[str, Any]:
    """Export the store at ``store`` (or the part the filters select) to the directory
    ``out`` (:func:`citydiplomacy.export.export_store`). Returns the rows per table."""
    from .export import export_store
    from .store import Store

    st = Store(url=store) if "://" in store else Store(store)
    try:
        progress.report("exporting", 0, 1)
        counts = export_store(st, out, fmt=fmt, kind=kind, country=country, layer=layer, tie_type=tie_type)
        progress.report("exporting", 1, 1)
        return {"out": out, "format": fmt, "counts": counts}
    finally:
        st.close()


@task("align")
def align_task(*, store: str, folder: str, out: str, mode: str = "auto", level: str = "target",
               frameworks: list[str] | None = None, lang: str = "auto", workers: int | None = None,
               scheduler: str | None = None, city: str | None = None, licence: str | None = None) -> dict[str, Any]:
    """Align the documents of ``folder`` in bulk into the Parquet dataset ``out``
    (:func:`citydiplomacy.align.bulk.align_corpus`: a local Dask cluster of ``workers``, or
    the one at ``scheduler``; resumable, so a retried job picks up where the failed one
    stopped). With ``city``, the results are then loaded into the store at ``store``, each
    document linked to that actor (:func:`citydiplomacy.align.stored.store_results`; the
    city is checked before anything is aligned). Returns the run's report (and the load's)."""
    from .actors import resolve_actor
    from .align.bulk import align_corpus
    from .store import Store

    st = None
    actor = None
    try:
        if city:
            st = Store(url=store) if "://" in store else Store(store)
            actor = resolve_actor(st, city, prefer_kind="city")
        rep = align_corpus(folder, out, mode=mode, level=level, frameworks=frameworks or ("sdg", "paris"),
                           lang=lang, workers=workers, scheduler=scheduler)
        result: dict[str, Any] = {"out": out, **rep.as_dict()}
        if actor is not None:
            from .align.stored import store_results

            progress.report("loading into the store", 0, 1)
            result["stored"] = store_results(st, out, actor=actor["id"], licence=licence).as_dict()
            progress.report("loading into the store", 1, 1)
        return result
    finally:
        if st is not None:
            st.close()


#: what the ``recommend`` task can ask for each city
RECOMMEND_KINDS = ("partners", "networks")


@task("recommend")
def recommend_task(*, store: str, cities: list[str], kind: str = "partners", theme: str | None = None,
                   top: int = 10, out: str | None = None) -> dict[str, Any]:
    """Recommendations for many cities in one job: ``kind`` (partners or networks) for
    each of ``cities`` (names, ids or QIDs), ``top`` each, on a ``theme``. The models are
    fitted once. A city that cannot be found is listed in ``not_found`` and the others go
    on. With ``out``, the answers are written there as JSON Lines (one city a line) and the
    result holds only the counts. Reports its progress city by city."""
    from .observatory import Observatory
    from .store import Store

    if kind not in RECOMMEND_KINDS:
        raise ValidationError(f"kind '{kind}': use one of {', '.join(RECOMMEND_KINDS)}", field="kind")
    if not cities:
        raise ValidationError("no cities given: name at least one", field="cities")
    st = Store(url=store) if "://" in store else Store(store)
    obs = Observatory(st)
    answers: list[dict[str, Any]] = []
    not_found: list[dict[str, str]] = []
    try:
        ask = obs.recommend_partners if kind == "partners" else obs.recommend_networks
        progress.report("fitting the models", 0, len(cities))
        for i, city in enumerate(cities):
            try:
                r = ask(city, theme=theme, top=top)
            except NotFoundError as exc:
                not_found.append({"city": city, "detail": str(exc)})
            else:
                answers.append({"city": city, "actor": r["actor"], "results": r["results"]})
            progress.report("recommending", i + 1, len(cities))
        if out is None:
            return {"kind": kind, "answers": answers, "not_found": not_found}
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(f"{out}.tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for a in answers:
                f.write(json.dumps(a, ensure_ascii=False, default=str) + "\n")
        os.replace(tmp, out)
        return {"kind": kind, "out": out, "answered": len(answers), "not_found": not_found}
    finally:
        obs.close()


__all__ = ["Job", "JobQueue", "JobStateError", "ThreadJobs", "ProcessJobs", "job_queue", "STATES",
           "FINAL", "TASKS", "task", "load_tasks", "TASK_MODULES", "describe_error", "import_task", "index_build_task", "export_task",
           "recommend_task", "new_job_id", "submit_one"]
