"""The job queue a face uses: RQ on Redis when ``CITYDIP_QUEUE_URL`` names one
(:mod:`citydiplomacy.rqjobs`), the server's own processes otherwise
(:mod:`citydiplomacy.jobs`). Both have the same interface (:class:`~citydiplomacy.jobs.JobQueue`)."""

from __future__ import annotations

import os
from pathlib import Path

from .jobs import JobQueue, job_queue

#: the queue's address (``redis://127.0.0.1:6379/0``); unset: jobs run in the server's process
ENV_QUEUE_URL = "CITYDIP_QUEUE_URL"


def queue_url() -> str | None:
    """``$CITYDIP_QUEUE_URL``, or None when it is unset or empty."""
    return os.environ.get(ENV_QUEUE_URL, "").strip() or None


def jobs_dir(store_path: str | os.PathLike | None) -> Path | None:
    """Where the jobs' files go: ``$CITYDIP_JOBS_DIR``, else ``jobs/`` beside the store
    file (None for a store with no file, a server database, when the variable is unset)."""
    env = os.environ.get("CITYDIP_JOBS_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(store_path).parent / "jobs" if store_path is not None else None


def open_queue(directory: str | os.PathLike, *, url: str | None = None) -> JobQueue:
    """The RQ queue at ``url`` (default ``$CITYDIP_QUEUE_URL``), whose ``citydip worker``
    processes run the jobs, or without one the in-process runner
    (:func:`citydiplomacy.jobs.job_queue`). ``directory`` holds the jobs' files (uploads,
    review files): with a queue, every worker must see it at the same path."""
    url = url or queue_url()
    if url:
        from .rqjobs import RQJobs

        return RQJobs(url, directory)
    return job_queue(directory)


__all__ = ["ENV_QUEUE_URL", "jobs_dir", "open_queue", "queue_url"]
