"""Jobs on a real queue: RQ on Redis, behind the :class:`citydiplomacy.jobs.JobQueue`
interface.

The web server (and ``citydip jobs``) puts a job on the queue; ``citydip worker``
processes, on this machine or others, take it and run its task. Everything RQ keeps about
a job is in Redis, so any web worker answers for any job:

- its state is RQ's (queued, started, finished, failed, canceled), read through RQ's
  registries; its progress, owner and what it is about are in the job's ``meta``, which
  the task's process writes as it reports (:mod:`citydiplomacy.progress`);
- arguments and results are JSON (RQ's ``JSONSerializer``): nothing is unpickled;
- a cancel asks a running job to stop at its next step (a flag in Redis the task's
  process reads when it reports), so an import cancelled before its commit writes nothing;
- a job whose worker died (killed, out of memory, the machine lost) is *abandoned*: RQ
  moves it to its failed registry once its heartbeat expires; on the worker's own machine
  the status read does it at once, when neither the worker's process nor the job's is
  alive. A failed job can be retried (requeued with the same id and arguments).

A worker runs each job in a child process (RQ's fork) that dies with the worker
(``PR_SET_PDEATHSIG`` on Linux): a killed worker never leaves a job running unseen.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

from . import progress
from .errors import CitydipError
from .jobs import (FINAL, JOB_TTL, SAVE_EVERY, TASKS, Job, JobStateError, _alive, _check_id, _check_retry, check_task,
                   describe_error, job_folder, job_seconds, new_job_id)

log = logging.getLogger("citydiplomacy.rqjobs")

#: the RQ queue the jobs go to, unless ``CITYDIP_QUEUE_NAME`` says otherwise
QUEUE_NAME = "citydip"
#: how often a busy worker tells Redis it is alive (seconds); RQ adds 60 s before it
#: declares a job of a silent worker abandoned
MONITOR_INTERVAL = 10
#: the key of a job's cancel request
CANCEL_KEY = "citydip:cancel:{0}"


class QueueUnavailable(CitydipError):
    """The queue's Redis cannot be reached."""


def queue_name() -> str:
    return os.environ.get("CITYDIP_QUEUE_NAME", "").strip() or QUEUE_NAME


def connect(url: str):
    """A Redis connection to ``url``, checked: :class:`QueueUnavailable` (saying what to
    do) when nothing answers there."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        conn = Redis.from_url(url, socket_connect_timeout=5)
        conn.ping()
    except (RedisError, ValueError, OSError) as exc:
        raise QueueUnavailable(f"cannot reach the job queue at {_safe(url)} ({exc}); start Redis there, or unset "
                               "CITYDIP_QUEUE_URL to run jobs in the server's own process") from None
    return conn


def _safe(url: str) -> str:
    """The URL without its password."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat(timespec="seconds")


class RQJobs:
    """The job queue on RQ: jobs kept in the Redis at ``url``, their files (uploads, review
    files) under ``directory``, which every worker must see at the same path."""

    def __init__(self, url: str, directory: str | os.PathLike, *, name: str | None = None):
        from rq import Queue
        from rq.serializers import JSONSerializer

        self.url = url
        self.dir = Path(directory)
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.redis = connect(url)
        self.serializer = JSONSerializer
        self.queue = Queue(name or queue_name(), connection=self.redis, serializer=JSONSerializer)

    # -- the interface ---------------------------------------------------------------------------

    def workdir(self, job_id: str) -> Path:
        return job_folder(self.dir, job_id)

    def submit(self, task: str, args: dict[str, Any], *, owner: str, params: dict[str, Any] | None = None,
               job_id: str | None = None) -> Job:
        """Put ``task`` with ``args`` on the queue; returns the job (queued)."""
        check_task(task)
        job_id = _check_id(job_id or new_job_id())
        meta = {"owner": owner, "task": task, "params": dict(params or {}), "attempts": 0,
                "progress": {"phase": "queued", "done": None, "total": None}}
        rq_job = self.queue.enqueue_call(
            "citydiplomacy.rqjobs.perform", kwargs={"task": task, "args": args}, job_id=job_id, meta=meta,
            timeout=int(job_seconds()) + 60, result_ttl=JOB_TTL, failure_ttl=JOB_TTL,
            description=f"{task} for {owner}")
        return self._job(rq_job)

    def status(self, job_id: str) -> Job | None:
        """The job, or None for an unknown (or expired) id. A started job whose worker
        is gone is moved to the failed jobs first (see the module's docstring)."""
        rq_job = self._fetch(job_id)
        if rq_job is None:
            return None
        if rq_job.get_status(refresh=False) == "started" and self._abandoned(rq_job):
            rq_job = self._fetch(job_id)
            if rq_job is None:
                return None
        return self._job(rq_job)

    def cancel(self, job_id: str) -> Job | None:
        """A queued job is cancelled at once; a running one is asked to stop at its next
        step (an import cancelled before its commit writes nothing); a finished one is
        returned as it is."""
        job = self.status(job_id)
        if job is None or job.done:
            return job
        self.redis.set(CANCEL_KEY.format(job_id), "1", ex=JOB_TTL)
        rq_job = self._fetch(job_id)
        if rq_job is not None and rq_job.get_status(refresh=False) in ("queued", "deferred", "scheduled"):
            from rq.exceptions import InvalidJobOperation

            try:
                rq_job.cancel()
            except InvalidJobOperation:     # it started meanwhile: it reads the flag at its next step
                pass
        return self.status(job_id)

    def retry(self, job_id: str) -> Job | None:
        """Queue a failed or cancelled job again with the same id and arguments. Raises
        :class:`~citydiplomacy.jobs.JobStateError` for a queued, running or succeeded job."""
        from rq.registry import CanceledJobRegistry, FailedJobRegistry, FinishedJobRegistry

        job = self.status(job_id)
        if job is None:
            return None
        _check_retry(job)
        rq_job = self._fetch(job_id)
        state = getattr(rq_job.get_status(refresh=False), "value", None)
        registry = {"failed": FailedJobRegistry, "stopped": FailedJobRegistry, "canceled": CanceledJobRegistry,
                    "finished": FinishedJobRegistry}.get(state)
        if registry is None:
            raise JobStateError(f"job {job_id} is {state} in the queue; it cannot be retried now")
        reg = registry(self.queue.name, connection=self.redis, serializer=self.serializer)
        if job_id not in reg.get_job_ids(cleanup=False):
            raise JobStateError(f"job {job_id} is no longer kept in the queue's {state} jobs; submit it again")
        self.redis.delete(CANCEL_KEY.format(job_id))
        meta = dict(rq_job.meta)
        meta.update(progress={"phase": "queued", "done": None, "total": None}, error=None, cancelled=False,
                    host=None, pid=None, worker_pid=None)
        rq_job.meta = meta
        rq_job.save_meta()
        reg.requeue(job_id)
        return self.status(job_id)

    def list(self, *, owner: str | None = None, limit: int = 100) -> list[Job]:
        """The jobs the queue keeps (queued, running, and those finished in the last day),
        newest first; ``owner``: only theirs."""
        from rq.job import Job as RQJob

        ids: list[str] = list(self.queue.get_job_ids())
        for reg in (self.queue.started_job_registry, self.queue.finished_job_registry,
                    self.queue.failed_job_registry, self.queue.canceled_job_registry,
                    self.queue.deferred_job_registry, self.queue.scheduled_job_registry):
            ids.extend(reg.get_job_ids())
        seen: set[str] = set()
        jobs: list[Job] = []
        for rq_job in RQJob.fetch_many(list(dict.fromkeys(ids)), connection=self.redis, serializer=self.serializer):
            if rq_job is None or rq_job.id in seen or "owner" not in rq_job.meta:
                continue
            seen.add(rq_job.id)
            job = self.status(rq_job.id) if rq_job.get_status(refresh=False) == "started" else self._job(rq_job)
            if job is not None and (owner is None or job.owner == owner):
                jobs.append(job)
        jobs.sort(key=lambda j: j.created_at, reverse=True)
        return jobs[:limit]

    # -- reading RQ's state ------------------------------------------------------------------------

    def _fetch(self, job_id: str):
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RQJob

        try:
            _check_id(job_id)
            return RQJob.fetch(job_id, connection=self.redis, serializer=self.serializer)
        except (NoSuchJobError, ValueError):
            return None

    def _abandoned(self, rq_job) -> bool:
        """Whether ``rq_job`` (started) was left by a dead worker; if so, it is moved to
        RQ's failed jobs now, as RQ's own clean-up does once the heartbeat expires."""
        registry = self.queue.started_job_registry
        meta = rq_job.meta
        dead = (meta.get("host") == socket.gethostname() and meta.get("worker_pid")
                and not _alive(meta.get("worker_pid")) and not _alive(meta.get("pid")))
        if dead:
            entries = [f"{jid}:{eid}" for jid, eid in registry.get_job_and_execution_ids(cleanup=False)
                       if jid == rq_job.id]
            if entries:
                # its lease ends now: RQ's clean-up of expired entries handles it as abandoned
                self.redis.zadd(registry.key, {e: 1 for e in entries}, xx=True)
                registry.cleanup(timestamp=1)
            log.warning("job %s: its worker (pid %s) is gone; marked failed", rq_job.id, meta.get("worker_pid"))
        else:
            registry.cleanup()              # jobs of workers whose heartbeat expired, on any machine
        return rq_job.get_status(refresh=True) != "started"

    def _job(self, rq_job) -> Job:
        meta = rq_job.meta or {}
        state = rq_job.get_status(refresh=False)
        state = getattr(state, "value", state)
        status = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "created": "queued",
                  "started": "running", "finished": "succeeded", "failed": "failed", "stopped": "failed",
                  "canceled": "cancelled", "rate_limited": "queued", "ready_to_enqueue": "queued"}.get(state, "failed")
        result = error = None
        if status == "succeeded" and meta.get("cancelled"):
            status = "cancelled"
        elif status == "succeeded":
            result = rq_job.return_value(refresh=False) if hasattr(rq_job, "return_value") else rq_job.result
        elif status == "failed":
            error = meta.get("error") or {
                "error": "StoreError",
                "detail": "the worker running the job stopped (killed, out of memory or its machine lost); nothing "
                          "was written. Retry it: citydip jobs retry ID, or POST /api/v1/jobs/ID/retry."}
        cancel_requested = bool(meta.get("cancelled")) or status == "cancelled" or (
            status in ("queued", "running") and bool(self.redis.exists(CANCEL_KEY.format(rq_job.id))))
        prog = dict(meta.get("progress") or {"phase": status, "done": None, "total": None})
        if status == "cancelled":
            prog["phase"] = "cancelled"
        return Job(id=rq_job.id, task=meta.get("task", "?"), owner=meta.get("owner", "?"), status=status,
                   created_at=_iso(rq_job.created_at) or "", started_at=_iso(rq_job.started_at),
                   finished_at=_iso(rq_job.ended_at) if status in FINAL else None, progress=prog,
                   params=dict(meta.get("params") or {}), result=result, error=error,
                   cancel_requested=cancel_requested, pid=meta.get("pid"), args=None,
                   attempts=int(meta.get("attempts") or 0))


# -- in the worker ------------------------------------------------------------------------------------

def perform(task: str, args: dict[str, Any]) -> dict[str, Any]:
    """The body of every RQ job, run by a worker: the registered ``task`` with ``args``,
    its progress written to the job's ``meta`` (at most every half second), the cancel
    flag read at each report. A task's error is recorded (as :func:`describe_error`
    describes it) and raised again, so that RQ marks the job failed and keeps it for a
    retry; a cancelled job ends without error, marked cancelled."""
    from rq import get_current_job
    from rq.timeouts import JobTimeoutException

    from .jobs import load_tasks

    if task not in TASKS:
        load_tasks()
    rq_job = get_current_job()
    meta = rq_job.meta
    meta.update(host=socket.gethostname(), pid=os.getpid(), cancelled=False, error=None,
                worker_pid=int(os.environ.get("CITYDIP_WORKER_PID") or os.getppid()),
                attempts=int(meta.get("attempts") or 0) + 1,
                progress={"phase": "starting", "done": None, "total": None})
    rq_job.save_meta()
    conn = rq_job.connection
    cancel_key = CANCEL_KEY.format(rq_job.id)
    last = [time.monotonic()]

    def listener(phase: str, done: int | None, total: int | None) -> None:
        meta["progress"] = {"phase": phase, "done": done, "total": total}
        if time.monotonic() - last[0] < SAVE_EVERY:
            return
        last[0] = time.monotonic()
        if conn.exists(cancel_key):
            raise progress.Cancelled("the job was cancelled; nothing was written")
        rq_job.save_meta()

    if conn.exists(cancel_key):
        return _cancelled(rq_job)
    try:
        with progress.listening(listener):
            result = TASKS[task](**args)
    except progress.Cancelled:
        return _cancelled(rq_job)
    except CitydipError as exc:
        meta["error"] = describe_error(exc)
        rq_job.save_meta()
        raise
    except JobTimeoutException:
        meta["error"] = {"error": "CitydipError", "detail": f"the job ran longer than {int(job_seconds())} s, the "
                         "time a job may take (CITYDIP_JOB_SECONDS); nothing was written"}
        rq_job.save_meta()
        raise
    except Exception as exc:
        log.exception("job %s (%s) failed", rq_job.id, task)
        meta["error"] = describe_error(exc)
        rq_job.save_meta()
        raise
    total = meta["progress"].get("total")
    meta["progress"] = {"phase": "done", "done": total, "total": total}
    rq_job.save_meta()
    return result


def _cancelled(rq_job) -> dict[str, Any]:
    rq_job.meta["cancelled"] = True
    rq_job.meta["progress"] = {**(rq_job.meta.get("progress") or {}), "phase": "cancelled"}
    rq_job.save_meta()
    return {"cancelled": True}


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux), so that a job's
    process never outlives its worker."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))          # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(os.environ.get("CITYDIP_WORKER_PID") or 0):
        os._exit(1)                                  # the worker died before we asked


def work(url: str, *, queues: list[str] | None = None, burst: bool = False, name: str | None = None,
         interval: int = MONITOR_INTERVAL) -> bool:
    """Run a worker on the queue at ``url`` until it is stopped (SIGINT or SIGTERM: after
    the current job), or, with ``burst``, until the queue is empty. Returns whether it
    did any job."""
    from rq import Worker
    from rq.serializers import JSONSerializer

    from .jobs import load_tasks

    load_tasks()                                    # every task a job may name, registered

    class CitydipWorker(Worker):
        def setup_work_horse_signals(self):
            super().setup_work_horse_signals()
            _die_with_parent()

        def subscribe(self):
            # RQ's listener for commands (stop a job, shut down) waits 60 s per read, and a
            # worker asked to stop waits for that read to end: 1 s lets it stop at once
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                           exception_handler=self._pubsub_exception_handler)

    os.environ["CITYDIP_WORKER_PID"] = str(os.getpid())
    conn = connect(url)
    worker = CitydipWorker(queues or [queue_name()], connection=conn, serializer=JSONSerializer, name=name,
                           job_monitoring_interval=interval)
    return worker.work(burst=burst, with_scheduler=False)


__all__ = ["RQJobs", "QueueUnavailable", "perform", "work", "connect", "queue_name", "QUEUE_NAME"]
