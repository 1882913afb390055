"""Load on PostgreSQL: 50 concurrent readers and 5 concurrent writers for 60 s against a
real server with 2 web workers, then a check that no acknowledged write was lost.

The store is a new PostgreSQL database (``citydip_bench_<random>``, dropped at the end)
holding a copy of the SQLite store of ``--home`` made by ``citydip migrate-store`` (built
on first use). The server is ``python -m citydiplomacy.web.serve --store URL --workers 2``
(the same as ``citydip --db URL serve --workers 2``) on a free port of 127.0.0.1.

- readers (``--readers``, closed loop, one keep-alive connection each, raw sockets so the
  load generator takes little of the cores): ``GET /api/v1/search?q=<name>``,
  ``/api/v1/actors/<id>`` and ``/api/v1/actors/<id>/ties?limit=20`` in turn over the
  ``--keys`` largest cities;
- writers (``--writers``, each with its own editor's API token): in turn, an actor edit
  (``GET`` the actor, then ``PATCH`` its population with ``If-Match``: each writer edits
  actors of its own, so a 412 would be a lost race that should not happen) and a new
  tie (``POST /api/v1/ties``, a ``partner_of`` tie between two cities, a pair per write).

First a baseline phase: one reader alone for ``--baseline`` seconds. Then the load. The
table gives p50/p95/p99 of reads and writes, throughput, errors (any status other than
200/201, or a dropped connection); then the check: every acknowledged edit's value is
the actor's value now (each writer's last one), every acknowledged tie is in the store,
every acknowledged write's run is in ``import_runs`` and has its audit row (action,
target, user, channel ``api``). Targets: read p95 < 100 ms, zero errors, zero lost
writes, a complete audit log. Traffic stays on 127.0.0.1. Also printed: the reads by
route, and the CPU seconds of the server (both workers), of this script and of the whole
machine during each phase, with the load average (the machine may be shared).

Run: python benchmarks/bench_postgres_load.py [--home DIR] [--server postgresql://postgres@127.0.0.1:5432/postgres]
     [--readers 50] [--writers 5] [--seconds 60] [--baseline 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import table  # noqa: E402
from bench_web import free_port, pct, stop_server  # noqa: E402

PASSWORD = "correct horse battery"


def start_server(url: str, port: int, workers: int, home: Path) -> subprocess.Popen:
    env = dict(os.environ, CITYDIP_HOME=str(home), CITYDIP_DATABASE_URL=url)
    cmd = [sys.executable, "-m", "citydiplomacy.web.serve", "--store", url, "--port", str(port),
           "--workers", str(workers), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server did not start:\n" + proc.stderr.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=5) as r:
                if r.status == 200:
                    time.sleep(3 * workers)    # the other workers' warm-up
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not answer within 180 s")


async def send(reader, writer, method: str, path: str, body: dict | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: application/json"]
    for k, v in (headers or {}).items():
        head.append(f"{k}: {v}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k:
            hdrs[k.strip().lower()] = v.strip()
    length = int(hdrs.get("content-length", 0))
    payload = await reader.readexactly(length) if length else b""
    return status, hdrs, payload


class Phase:
    def __init__(self):
        self.reads: list[float] = []
        self.writes: list[float] = []
        self.errors: list[str] = []
        self.acked_edits: dict[str, tuple[int, int]] = {}     # actor -> (population, run id)
        self.acked_ties: list[tuple[str, str, int]] = []      # (source, target, run id)
        self.conflicts = 0
        self.edits_acked = 0
        self.acked_runs: set[int] = set()     # the run of every acknowledged write
        self.by_route: dict[str, list[float]] = {}
        self.cpu: dict[str, float] = {}
        self.load: tuple[float, float] = (0.0, 0.0)


def route_of(path: str) -> str:
    if path.startswith("/api/v1/search"):
        return "search"
    return "actor ties" if "/ties" in path else "actor"


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return total


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return (sum(v) - idle) / tick, sum(v) / tick


async def reader_loop(port: int, paths: list[str], stop: float, ph: Phase, offset: int) -> None:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < stop:
            path = paths[i % len(paths)]
            i += 1
            t = time.perf_counter()
            try:
                status, _, _ = await send(r, w, "GET", path)
            except (OSError, asyncio.IncompleteReadError) as exc:
                ph.errors.append(f"read {path}: {exc.__class__.__name__}")
                r, w = await asyncio.open_connection("127.0.0.1", port)
                continue
            took = time.perf_counter() - t
            ph.reads.append(took)
            ph.by_route.setdefault(route_of(path), []).append(took)
            if status != 200:
                ph.errors.append(f"read {path}: {status}")
    finally:
        w.close()


async def writer_loop(port: int, token: str, actors: list[str], pairs: list[tuple[str, str]], stop: float,
                      ph: Phase, k: int) -> None:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    auth = {"Authorization": f"Bearer {token}"}
    n = 0
    try:
        while time.perf_counter() < stop:
            t = time.perf_counter()
            try:
                if n % 2 == 0:
                    actor = actors[(n // 2) % len(actors)]
                    status, hdrs, _ = await send(r, w, "GET", f"/api/v1/actors/{actor}")
                    pop = 100_000 + k * 1_000_000 + n
                    status, hdrs, body = await send(
                        r, w, "PATCH", f"/api/v1/actors/{actor}",
                        {"population": pop, "source": f"load benchmark, writer {k}"},
                        {**auth, "If-Match": hdrs.get("etag", "*")})
                    if status == 200:
                        ph.acked_edits[actor] = (pop, json.loads(body)["run_id"])
                        ph.acked_runs.add(json.loads(body)["run_id"])
                        ph.edits_acked += 1
                    elif status == 412:
                        ph.conflicts += 1
                else:
                    src, dst = pairs[n // 2]
                    status, _, body = await send(
                        r, w, "POST", "/api/v1/ties",
                        {"actor": src, "target": dst, "type": "partner_of", "since": "2026",
                         "source": f"load benchmark, writer {k}"}, auth)
                    if status in (200, 201):
                        ph.acked_ties.append((src, dst, json.loads(body)["run_id"]))
                        ph.acked_runs.add(json.loads(body)["run_id"])
            except (OSError, asyncio.IncompleteReadError) as exc:
                ph.errors.append(f"write: {exc.__class__.__name__}")
                r, w = await asyncio.open_connection("127.0.0.1", port)
                n += 1
                continue
            ph.writes.append(time.perf_counter() - t)
            if status not in (200, 201):
                ph.errors.append(f"write: {status} {body[:200]!r}")
            n += 1
    finally:
        w.close()


async def run_phase(port: int, paths: list[str], readers: int, writers: list[tuple], seconds: float,
                    server_pid: int | None = None) -> tuple[Phase, float]:
    ph = Phase()
    load0 = os.getloadavg()[0]
    cpu0 = (_proc_cpu(server_pid) if server_pid else 0.0, time.process_time(), *_machine_cpu())
    t0 = time.perf_counter()
    stop = t0 + seconds
    tasks = [reader_loop(port, paths, stop, ph, i * 7) for i in range(readers)]
    tasks += [writer_loop(port, tok, acts, prs, stop, ph, k) for k, (tok, acts, prs) in enumerate(writers)]
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    cpu1 = (_proc_cpu(server_pid) if server_pid else 0.0, time.process_time(), *_machine_cpu())
    ph.cpu = {"server": cpu1[0] - cpu0[0], "loadgen": cpu1[1] - cpu0[1],
              "machine busy": cpu1[2] - cpu0[2], "machine": cpu1[3] - cpu0[3]}
    ph.load = (load0, os.getloadavg()[0])
    return ph, wall


def check(url: str, ph: Phase, users: list[str]) -> list[str]:
    """What was acknowledged and is not in the store (or not in the audit log)."""
    from sqlalchemy import select

    from citydiplomacy.store import Store, schema

    problems = []
    a, t, runs, log = schema.actors, schema.ties, schema.import_runs, schema.audit_log
    with Store(url=url) as s, s.connect() as conn:
        pops = dict(conn.execute(select(a.c.id, a.c.population).where(a.c.id.in_(list(ph.acked_edits)))).all())
        for actor, (pop, _) in ph.acked_edits.items():
            if pops.get(actor) != pop:
                problems.append(f"lost edit: {actor} population {pops.get(actor)} != {pop}")
        have = {(r.source, r.target) for r in conn.execute(
            select(t.c.source, t.c.target).where(t.c.type == "partner_of", t.c.since == "2026"))}
        for src, dst, _ in ph.acked_ties:
            if (src, dst) not in have and (dst, src) not in have:     # partner_of is stored once, either way
                problems.append(f"lost tie: {src} -> {dst}")
        run_ids = ph.acked_runs
        held = set(conn.execute(select(runs.c.id).where(runs.c.id.in_(list(run_ids)))).scalars())
        problems += [f"run {r} missing" for r in run_ids - held]
        audit = conn.execute(select(log.c.action, log.c.detail, log.c.channel)
                             .where(log.c.user_name.in_(users))).all()
        audited = set()
        for row in audit:
            if row.action in ("user.add", "token.create"):
                continue                  # the accounts this script set up before the run
            if row.channel != "api":
                problems.append(f"audit row {row.action} with channel {row.channel}")
            detail = row.detail if isinstance(row.detail, dict) else json.loads(row.detail or "{}")
            if detail.get("run_id") is not None:
                audited.add(detail["run_id"])
        problems += [f"acknowledged write (run {r}) has no audit row" for r in sorted(ph.acked_runs - audited)]
    return problems


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, default=None, help="the SQLite store to copy (default: $CITYDIP_HOME)")
    p.add_argument("--server", default=os.environ.get("CITYDIP_TEST_DATABASE_URL")
                   or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--readers", type=int, default=50)
    p.add_argument("--writers", type=int, default=5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--baseline", type=float, default=10)
    p.add_argument("--keys", type=int, default=200)
    a = p.parse_args()

    import citydiplomacy
    from citydiplomacy import accounts
    from citydiplomacy.store import Store, schema
    from citydiplomacy.store.migrate import migrate_store
    from sqlalchemy import create_engine, select, text
    from sqlalchemy.engine import make_url

    from citydiplomacy.store.db import normalize_url

    server = make_url(normalize_url(a.server))
    name = f"citydip_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="citydip-bench-pg-"))
    proc = None
    try:
        from citydiplomacy.paths import resolve_store_path

        src = citydiplomacy.open(resolve_store_path(None, home=a.home), build=True)
        dst = Store(url=url)
        t = time.perf_counter()
        copied = migrate_store(src.store, dst)
        copy_s = time.perf_counter() - t
        src.close()
        with dst.connect() as conn:
            a_ = schema.actors
            cities = conn.execute(select(a_.c.id, a_.c.name).where(a_.c.kind == "city")
                                  .order_by(a_.c.importance.desc()).limit(a.keys + 40 * a.writers + 2000)).all()
        keys = cities[:a.keys]
        paths = []
        for cid, cname in keys:
            paths += [f"/api/v1/search?q={urllib.parse.quote(cname)}&limit=10", f"/api/v1/actors/{cid}",
                      f"/api/v1/actors/{cid}/ties?limit=20"]
        rest = [c.id for c in cities[a.keys:]]
        writers, users = [], []
        for k in range(a.writers):
            user = f"bench-writer-{k}"
            accounts.add_user(dst, user, PASSWORD, "editor")
            token = accounts.create_token(dst, accounts.get_user(dst, user), "load benchmark")[1]
            own = rest[k * 40:(k + 1) * 40]
            others = rest[40 * a.writers:]
            pairs = [(own[i % len(own)], others[(k * 7919 + i * 31) % len(others)]) for i in range(20_000)]
            pairs = list(dict.fromkeys(pairs))
            writers.append((token, own, pairs))
            users.append(user)
        dst.close()

        port = free_port()
        proc = start_server(url, port, a.workers, tmp)
        base, base_s = asyncio.run(run_phase(port, paths, 1, [], a.baseline, proc.pid))
        load, load_s = asyncio.run(run_phase(port, paths, a.readers, writers, a.seconds, proc.pid))
        stop_server(proc)
        proc = None
    finally:
        if proc is not None:
            stop_server(proc)
    problems = check(url, load, users)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def row(label, ph, secs, readers, writers_):
        return [label, str(readers), str(writers_), f"{len(ph.reads):,}", f"{len(ph.reads) / secs:,.0f}",
                f"{pct(ph.reads, 50):.1f}", f"{pct(ph.reads, 95):.1f}", f"{pct(ph.reads, 99):.1f}",
                f"{len(ph.writes):,}", f"{pct(ph.writes, 95):.1f}" if ph.writes else "–", str(len(ph.errors))]

    print(f"store: PostgreSQL, a copy of {copied['rows']:,} rows made by migrate-store in {copy_s:.1f} s; "
          f"server: {a.workers} web workers on 127.0.0.1")
    table(f"Load on PostgreSQL ({a.seconds:g} s; the baseline: one reader alone, {a.baseline:g} s)",
          ["phase", "readers", "writers", "reads", "reads/s", "read p50 ms", "read p95 ms", "read p99 ms",
           "writes", "write p95 ms", "errors"],
          [row("baseline", base, base_s, 1, 0), row("load", load, load_s, a.readers, a.writers)])
    table("Reads by route (load phase)", ["route", "reads", "p50 ms", "p95 ms", "p99 ms"],
          [[k, f"{len(v):,}", f"{pct(v, 50):.1f}", f"{pct(v, 95):.1f}", f"{pct(v, 99):.1f}"]
           for k, v in sorted(load.by_route.items())])
    table("CPU seconds and load average (the machine is shared: other work runs beside)",
          ["phase", "wall s", "server CPU s (all workers)", "load generator CPU s", "machine busy CPU s",
           "machine CPU s available", "load average at start", "at end"],
          [[label, f"{secs:.1f}", f"{ph.cpu['server']:.1f}", f"{ph.cpu['loadgen']:.1f}", f"{ph.cpu['machine busy']:.1f}",
            f"{ph.cpu['machine']:.1f}", f"{ph.load[0]:.2f}", f"{ph.load[1]:.2f}"]
           for label, ph, secs in (("baseline", base, base_s), ("load", load, load_s))])
    table("Writes acknowledged and found after the run",
          ["edits acknowledged", "ties acknowledged", "412 (stale If-Match)", "lost or unaudited"],
          [[f"{load.edits_acked:,}", f"{len(load.acked_ties):,}", str(load.conflicts), str(len(problems))]])
    for e in (base.errors + load.errors)[:10]:
        print("error:", e)
    for pr in problems[:20]:
        print("problem:", pr)


if __name__ == "__main__":
    main()
