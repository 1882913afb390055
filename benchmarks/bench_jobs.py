"""Background jobs: what a job costs on the queue (RQ on Redis, ``citydip worker``)
against the in-process runner, and how fast a killed worker's job is reported failed.

Three runs over one copy of the built store, in the same process, each on ``--jobs``
small jobs (an export of one country's actors and ties, Andorra's by default):

- baseline: ``ThreadJobs``, one thread of this process (what ``CITYDIP_JOBS=thread`` runs);
- RQ, one worker: the jobs submitted to Redis, run by one ``citydip worker`` process;
- RQ, two workers: the same with two ``citydip worker`` processes.

For each: the median time from submit to ``succeeded`` when jobs go one at a time
(latency), and the jobs per second when all are submitted at once (throughput). Then a
worker is SIGKILLed while it runs a job, and the time until the job's status reads
``failed`` is measured (on the worker's machine: at once; from another, RQ's heartbeat
takes up to 70 s).

Needs Redis (``--redis``, default redis://127.0.0.1:6379/12, a database this script
flushes). Run: python benchmarks/bench_jobs.py [--home DIR] [--jobs 20] [--country AD]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
from _report import table  # noqa: E402


def wait(q, job_id: str, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while True:
        job = q.status(job_id)
        if job is not None and job.done:
            assert job.status == "succeeded", job
            return time.monotonic()
        assert time.monotonic() < deadline, job
        time.sleep(0.01)


def run(q, args: dict, n: int, out: Path) -> tuple[float, float]:
    """(median latency, jobs per second) of ``n`` export jobs on ``q``."""
    lat = []
    for i in range(n):
        t0 = time.monotonic()
        job = q.submit("export", {**args, "out": str(out / f"one-{i}")}, owner="bench")
        lat.append(wait(q, job.id) - t0)
    t0 = time.monotonic()
    ids = [q.submit("export", {**args, "out": str(out / f"all-{i}")}, owner="bench").id for i in range(n)]
    end = max(wait(q, i) for i in ids)
    return statistics.median(lat), n / (end - t0)


def workers(home: Path, url: str, qname: str, n: int) -> list[subprocess.Popen]:
    env = {**loadgen.env(), "CITYDIP_HOME": str(home), "CITYDIP_QUEUE_NAME": qname}
    return [subprocess.Popen([sys.executable, "-m", "citydiplomacy", "worker", "--queue", url], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", default=os.environ.get("CITYDIP_HOME"), help="a home with a built store")
    ap.add_argument("--jobs", type=int, default=20)
    ap.add_argument("--country", default="AD")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    a = ap.parse_args()
    from citydiplomacy.jobs import ThreadJobs
    from citydiplomacy.paths import resolve_store_path
    from citydiplomacy.rqjobs import RQJobs

    tmp = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    home = tmp / "home"
    home.mkdir()
    shutil.copy(resolve_store_path(None, home=a.home), home / "citydip.sqlite")
    args = {"store": str(home / "citydip.sqlite"), "fmt": "json", "country": a.country}
    rows = []
    try:
        q = ThreadJobs(tmp / "threads", workers=1)
        lat, rate = run(q, args, a.jobs, tmp / "out-threads")
        rows.append(["in-process, 1 thread (baseline)", f"{lat * 1000:.0f}", f"{rate:.1f}"])
        for n in (1, 2):
            qname = f"bench-{os.getpid()}-{n}"
            rq = RQJobs(a.redis, home / "jobs", name=qname)
            rq.redis.flushdb()
            procs = workers(home, a.redis, qname, n)
            try:
                lat, rate = run(rq, args, a.jobs, tmp / f"out-rq{n}")
            finally:
                stop(procs)
            rows.append([f"RQ, {n} worker{'s' if n > 1 else ''}", f"{lat * 1000:.0f}", f"{rate:.1f}"])
        table(f"{a.jobs} export jobs ({a.country}), {os.cpu_count()} cores", ["runner", "median latency (ms)",
                                                                              "jobs/s, all at once"], rows)

        # a killed worker: how long until its job reads failed
        qname = f"bench-{os.getpid()}-kill"
        rq = RQJobs(a.redis, home / "jobs", name=qname)
        [proc] = workers(home, a.redis, qname, 1)
        st_args = {"store": str(home / "citydip.sqlite"), "fmt": "json"}       # the whole store: seconds
        job = rq.submit("export", {**st_args, "out": str(tmp / "whole")}, owner="bench")
        while rq.status(job.id).status != "running":
            time.sleep(0.01)
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        t0 = time.monotonic()
        while rq.status(job.id).status == "running":
            time.sleep(0.01)
        seen = time.monotonic() - t0
        table("a worker killed while it runs a job", ["what", "figure"],
              [["status read failed after", f"{seen * 1000:.0f} ms"], ["status", rq.status(job.id).status]])
        rq.redis.flushdb()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
