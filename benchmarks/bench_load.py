"""Bounded load test of the web observatory: a real server, readers on search, actor and
profile for a fixed time, against one reader alone in the same run.

The server is ``python -m citydiplomacy.web.serve`` (the same as ``citydip serve``) on a
free port of 127.0.0.1 over the store of ``--home`` (built on first use), with
``--workers`` processes. The run:

1. start: seconds until every worker has started (``--log-level info``, as ``citydip serve``
   runs: each request is logged), then the first request of each kind after
   the start (an alignment whose language the function words do not settle, a search, an
   actor, a profile): what the first visitor of a fresh worker waits;
2. baseline: one client for ``--seconds``;
3. load: ``--clients`` concurrent clients for ``--seconds``.

Each client keeps one HTTP/1.1 connection and sends its next request when the previous
answer is in (closed loop), cycling through ``GET /api/v1/search?q=<name>``,
``/api/v1/actors/<id>`` and ``/api/v1/actors/<id>/profile`` for the ``--keys`` largest
cities. The table gives p50, p95 and p99 latency, throughput and errors (a status other
than 200, or a dropped connection) per phase, and the load's p95 as a multiple of the
baseline's. The default run takes under a minute on two cores; traffic stays on 127.0.0.1.

Run: python benchmarks/bench_load.py [--home DIR] [--workers 2] [--clients 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import _request, free_port, keys, pct, stop_server  # noqa: E402

#: a text the function-word count does not settle: its language goes to Lingua
ALIGN_TEXT = "Plans de mobilitat urbana sostenible i habitatge social per reduir emissions."


def start_server(store: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    """The server, once every worker has finished its start (warm-up included): its log
    (uvicorn's default level, as ``citydip serve`` runs it) says so once per worker."""
    cmd = [sys.executable, "-m", "citydiplomacy.web.serve", "--store", str(store), "--port", str(port),
           "--workers", str(workers), "--log-level", "info"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.time() + 180
    while time.time() < deadline:
        text = log.read_text(errors="replace")
        if proc.poll() is not None:
            raise SystemExit("the server did not start:\n" + text)
        if text.count("Application startup complete") >= workers and "running on" in text:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server's workers did not all start within 180 s:\n" + log.read_text(errors="replace"))


def timed(fn) -> tuple[float, object]:
    """(seconds, status) of one request; a dropped connection is reported, not raised."""
    t = time.perf_counter()
    try:
        out = fn()
    except OSError as exc:
        out = f"failed: {exc.__class__.__name__}"
    return time.perf_counter() - t, out


def get(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as r:
        r.read()
        return r.status


def post_json(port: int, path: str, body: dict) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as exc:       # a 422 (language not supported) still timed
        return exc.code


async def readers(port: int, paths: list[str], clients: int, seconds: float):
    """``clients`` closed-loop readers over ``paths`` for ``seconds``: (latencies, errors, elapsed)."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    stop_at = start + seconds

    async def client(k: int):
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = k
        try:
            while time.perf_counter() < stop_at:
                path = paths[i % len(paths)]
                i += clients
                t0 = time.perf_counter()
                try:
                    status = await _request(reader, writer, path)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    continue
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return latencies, errors, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="directory of the store (default: $CITYDIP_HOME "
                                                            "or the per-user one; built on first use)")
    ap.add_argument("--workers", type=int, default=2, help="server processes")
    ap.add_argument("--clients", type=int, default=20, help="concurrent readers of the load phase")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the baseline and of the load phase")
    ap.add_argument("--keys", type=int, default=300, help="distinct cities asked for")
    args = ap.parse_args()
    if not 1 <= args.clients <= 500 or not 0 < args.seconds <= 300:
        raise SystemExit("keep the run bounded: --clients 1..500, --seconds up to 300")

    cities, store = keys(args.home, args.keys)
    paths = []
    for cid, name in cities:
        q = urllib.parse.quote(cid)
        paths += [f"/api/v1/search?q={urllib.parse.quote(name)}&limit=10", f"/api/v1/actors/{q}",
                  f"/api/v1/actors/{q}/profile"]
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="citydip-bench-")) / "server.log"
    t0 = time.perf_counter()
    proc = start_server(store, port, args.workers, log)
    ready = time.perf_counter() - t0
    try:
        cid = urllib.parse.quote(cities[-1][0])
        first = [("align", *timed(lambda: post_json(port, "/api/v1/align",
                                                    {"text": ALIGN_TEXT, "mode": "light"}))),
                 ("search", *timed(lambda: get(port, f"/api/v1/search?q={urllib.parse.quote(cities[-1][1])}"))),
                 ("actor", *timed(lambda: get(port, f"/api/v1/actors/{cid}"))),
                 ("profile", *timed(lambda: get(port, f"/api/v1/actors/{cid}/profile")))]
        phases = []
        for label, clients in (("baseline", 1), ("load", args.clients)):
            lat, errors, elapsed = asyncio.run(readers(port, paths, clients, args.seconds))
            phases.append({"phase": label, "clients": clients, "n": len(lat), "req/s": len(lat) / elapsed,
                           "p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99), "errors": errors})
    finally:
        stop_server(proc)
    text = log.read_text(errors="replace")
    restarts = text.count("died") + text.count("was not ready")
    shutil.rmtree(log.parent, ignore_errors=True)

    print(f"\nweb load: {args.workers} worker(s), {os.cpu_count()} cores, {len(cities)} cities "
          f"(search, actor, profile in turn), {args.seconds:.0f} s per phase, store {store}")
    print(f"server ready after {ready:.1f} s (every worker started and warmed up); workers replaced by the "
          f"supervisor during the run: {restarts}; first request of each kind:")
    for what, seconds, status in first:
        print(f"  {what:<8} {seconds * 1000:8.0f} ms  (status {status})")
    print(f"\n{'phase':<9} {'clients':>7} {'n':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in phases:
        print(f"{r['phase']:<9} {r['clients']:>7} {r['n']:>7} {r['req/s']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} "
              f"{r['p99']:>8.1f} {r['errors']:>7}")
    base, load = phases
    print(f"\nload vs baseline: p95 ×{load['p95'] / base['p95']:.1f}, throughput ×{load['req/s'] / base['req/s']:.1f}; "
          f"errors {load['errors'] + base['errors']}")


if __name__ == "__main__":
    main()
