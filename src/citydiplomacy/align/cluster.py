"""The Dask side of bulk alignment (:mod:`citydiplomacy.align.bulk`): connecting to a
cluster — a local one of worker processes, or a running scheduler — loading the aligner
once per worker (a worker plugin), and running batches of documents with a bounded number
in flight, yielding each batch's rows as it completes.

Imported only when Dask is installed (the ``cluster`` extra)."""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from distributed import Client, LocalCluster, WorkerPlugin, as_completed
from distributed.client import FutureCancelledError

from ..errors import CitydipError, ValidationError

__all__ = ["AlignerPlugin", "connect", "worker_threads", "worker_cpu_seconds", "prepare_workers", "run_batches"]


class AlignerPlugin(WorkerPlugin):
    """Loads the aligner (and the MiniLM model, in hybrid mode) when a worker starts or
    joins, so each worker process loads it once and every task of the run reuses it."""

    name = "citydip-aligner"

    def __init__(self, mode: str):
        self.mode = mode

    def setup(self, worker) -> None:
        from .bulk import warm

        threads = getattr(getattr(worker, "state", None), "nthreads", None) or getattr(worker, "nthreads", 1)
        warm(self.mode, threads)


@contextmanager
def connect(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A client of the running scheduler at ``scheduler``, or of a local cluster of
    ``workers`` processes (default: the CPU cores) with one thread each, closed after."""
    if scheduler:
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ValidationError(f"cannot reach the Dask scheduler at {scheduler} ({exc.__class__.__name__}); "
                                  "start one with `dask scheduler` and workers with `dask worker "
                                  f"{scheduler}`, or leave --scheduler out for a local cluster",
                                  field="scheduler") from None
        try:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise ValidationError(f"the Dask scheduler at {scheduler} has no workers; start some with "
                                      f"`dask worker {scheduler}`", field="scheduler") from None
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def worker_threads(client: Client) -> int:
    """The worker threads of the cluster (each runs one task at a time)."""
    info = client.scheduler_info(n_workers=-1) if _takes_n_workers(client) else client.scheduler_info()
    return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))


def _takes_n_workers(client: Client) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def worker_cpu_seconds(client: Client) -> float:
    """The CPU time the worker processes have used so far, all together (seconds): what
    the cluster spent, whatever else shares its machines."""
    return float(sum(client.run(_cpu_seconds).values()))


def prepare_workers(client: Client, mode: str) -> None:
    """Register the plugin that loads the aligner on every worker (now, and on workers
    that join later)."""
    client.register_plugin(AlignerPlugin(mode))


def run_batches(client: Client, root: str, batches: Sequence[list[tuple[str, str]]], settings: Any, *,
                in_flight: int) -> Iterator[tuple[list[dict[str, Any]], float]]:
    """Run :func:`citydiplomacy.align.bulk.align_batch` on each batch, at most
    ``in_flight`` at a time (memory stays bounded on a corpus of any size), yielding the
    rows of each batch and its task's CPU time as it completes."""
    from distributed.scheduler import KilledWorker

    from .bulk import align_batch

    pending = iter(batches)
    futures: dict[Any, list[tuple[str, str]]] = {}

    def submit() -> Any:
        b = next(pending, None)
        if b is None:
            return None
        f = client.submit(align_batch, root, b, settings, pure=False)
        futures[f] = b
        return f

    ac = as_completed([f for f in (submit() for _ in range(max(1, in_flight))) if f is not None])
    for fut in ac:
        batch = futures.pop(fut)
        try:
            result = fut.result()
        except KilledWorker:
            raise CitydipError(
                "a worker died (out of memory, or killed) aligning one of: "
                + ", ".join(rel for rel, _ in batch[:5]) + ("..." if len(batch) > 5 else "")
                + "; run again with --batch 1 to find the document (the others done are kept)") from None
        except FutureCancelledError:
            raise CitydipError("the cluster cancelled the work (its scheduler stopped?); run again to "
                               "resume") from None
        nxt = submit()
        if nxt is not None:
            ac.add(nxt)
        yield result
