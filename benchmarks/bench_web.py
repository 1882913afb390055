"""Load benchmark of the web API: throughput and latency of search and profile requests
from 50 concurrent clients against a real uvicorn server on loopback.

The server (``python -m citydiplomacy.web.serve``, the same as ``citydip serve``) runs on
a free port of 127.0.0.1 over the store of ``--home`` (built on first use). Each client
keeps one HTTP/1.1 connection open and sends its next request as soon as the previous
answer is in (a closed loop, as a browser or a script would). The load generator is a
small asyncio client on raw sockets, so that it takes little of the two cores.

Two scenarios, one after the other:

- search: ``GET /api/v1/search?q=<name>&limit=10`` for the names of the ``--keys`` largest
  cities, in turn;
- profile: ``GET /api/v1/actors/<id>/profile`` for the same cities.

Every key is asked for several times: its first request is computed by the library
("cold": the store's SQLite queries), the later ones come from the server's response
cache, which keeps a body until the store changes ("warm"). The table gives both, and all
requests together. Target: p95 under 100 ms.

Bounded: each scenario stops after ``--seconds`` or ``--max-requests``, whichever comes
first; traffic goes to 127.0.0.1 only.

Run: python benchmarks/bench_web.py [--home DIR] [--workers 2] [--clients 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import citydiplomacy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(store: Path, port: int, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "citydiplomacy.web.serve", "--store", str(store), "--port", str(port),
           "--workers", str(workers), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server did not start:\n" + proc.stderr.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/status", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not answer within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


async def _request(reader, writer, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-length":
            length = int(v)
    if length:
        await reader.readexactly(length)
    return status


async def run_load(port: int, paths: list[str], clients: int, seconds: float, max_requests: int):
    """Send ``paths`` in turn from ``clients`` connections; returns (latencies of first
    requests of a path, latencies of repeats, errors, elapsed seconds)."""
    queue = iter(enumerate(paths * (max_requests // max(len(paths), 1) + 1)))
    seen: set[str] = set()
    cold: list[float] = []
    warm: list[float] = []
    errors = 0
    sent = 0
    start = time.perf_counter()
    stop_at = start + seconds

    async def client():
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop_at and sent < max_requests:
                try:
                    _, path = next(queue)
                except StopIteration:
                    return
                sent += 1
                first = path not in seen
                seen.add(path)
                t0 = time.perf_counter()
                try:
                    status = await _request(reader, writer, path)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                dt = time.perf_counter() - t0
                if status != 200:
                    errors += 1
                (cold if first else warm).append(dt)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return cold, warm, errors, time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[k] * 1000


def keys(home: Path | None, n: int) -> list[tuple[str, str]]:
    """(id, name) of the ``n`` largest cities."""
    from sqlalchemy import select

    from citydiplomacy.store.schema import actors

    obs = citydiplomacy.open(home=home)
    try:
        with obs.store.connect() as conn:
            rows = conn.execute(select(actors.c.id, actors.c.name).where(actors.c.kind == "city")
                                .order_by(actors.c.importance.desc()).limit(n)).all()
        return [(r.id, r.name) for r in rows], obs.store.path
    finally:
        obs.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="directory of the store (default: $CITYDIP_HOME "
                                                            "or the per-user one; built on first use)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="server processes")
    ap.add_argument("--clients", type=int, default=50, help="concurrent clients")
    ap.add_argument("--seconds", type=float, default=20.0, help="longest run of each scenario")
    ap.add_argument("--max-requests", type=int, default=40_000, help="most requests of each scenario")
    ap.add_argument("--keys", type=int, default=1000, help="distinct cities (search names, profiles)")
    args = ap.parse_args()

    cities, store = keys(args.home, args.keys)
    scenarios = {
        "search": [f"/api/v1/search?q={urllib.parse.quote(name)}&limit=10" for _, name in cities],
        "profile": [f"/api/v1/actors/{urllib.parse.quote(i)}/profile" for i, _ in cities],
    }
    port = free_port()
    proc = start_server(store, port, args.workers)
    try:
        rows = []
        for name, paths in scenarios.items():
            cold, warm, errors, elapsed = asyncio.run(run_load(port, paths, args.clients, args.seconds,
                                                               args.max_requests))
            every = cold + warm
            for label, values in (("all", every), ("cold", cold), ("warm", warm)):
                rows.append({"scenario": name, "requests": label, "n": len(values),
                             "req/s": len(every) / elapsed if label == "all" else None,
                             "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
                             "mean": statistics.fmean(values) * 1000 if values else float("nan"),
                             "errors": errors if label == "all" else None})
    finally:
        stop_server(proc)

    print(f"\nweb API load: {args.clients} concurrent clients, {args.workers} worker(s), {os.cpu_count()} cores, "
          f"{len(cities)} distinct cities, store {store}")
    print(f"{'scenario':<9} {'requests':<8} {'n':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'mean ms':>8} {'errors':>7}")
    for r in rows:
        rate = f"{r['req/s']:.0f}" if r["req/s"] is not None else ""
        errs = str(r["errors"]) if r["errors"] is not None else ""
        print(f"{r['scenario']:<9} {r['requests']:<8} {r['n']:>7} {rate:>8} {r['p50']:>8.1f} {r['p95']:>8.1f} "
              f"{r['p99']:>8.1f} {r['mean']:>8.1f} {errs:>7}")
    worst = max(r["p95"] for r in rows if r["requests"] == "all")
    print(f"\ntarget p95 < 100 ms (all requests): {'met' if worst < 100 else 'NOT met'} (worst p95 {worst:.1f} ms)")


if __name__ == "__main__":
    main()
