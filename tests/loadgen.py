"""Load for tests and benchmarks of writers under a long import: a large twinning list
made from the store's own cities, a real server in a subprocess, threads of editors and
logins that record every answer, and a probe of how long the write lock is held."""

from __future__ import annotations

import csv
import os
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from sqlalchemy import select

SRC = Path(__file__).resolve().parents[1] / "src"
PASSWORD = "correct horse battery"


def env() -> dict[str, str]:
    """The environment of a subprocess that runs this checkout's package."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(SRC) + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def write_twinning(store, path: Path, rows: int, *, seed: int = 16) -> Path:
    """``rows`` random pairs of the store's cities with their country names (CSV
    city1,country1,city2,country2): nearly every row resolves and becomes a new tie, the
    worst case for the write lock."""
    from citydiplomacy import countries
    from citydiplomacy.store import schema

    a = schema.actors
    with store.connect() as conn:
        cities = [(r.name, r.country) for r in conn.execute(
            select(a.c.name, a.c.country).where(a.c.kind == "city", a.c.country.is_not(None)).order_by(a.c.id))]
    names: dict[str, str] = {}
    for _, cc in cities:
        if cc not in names:
            c = countries.lookup_code(cc)
            names[cc] = c.name if c else cc
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["city1", "country1", "city2", "country2"])
        for _ in range(rows):
            (n1, c1), (n2, c2) = rng.sample(cities, 2)
            w.writerow([n1, names[c1], n2, names[c2]])
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_accounts(store_path: Path, editors: int) -> list[str]:
    """Editors ``ed0`` ... with the same password; returns an API token for each."""
    from citydiplomacy import accounts
    from citydiplomacy.store import Store

    st = Store(store_path)
    try:
        tokens = []
        for n in range(editors):
            user = accounts.add_user(st, f"ed{n}", PASSWORD, "editor")
            tokens.append(accounts.create_token(st, user, "load")[1])
        return tokens
    finally:
        st.close()


@contextmanager
def server(store_path: Path, log: Path) -> Iterator[str]:
    """``citydip serve`` (uvicorn) in a subprocess on a free loopback port; yields its URL."""
    import httpx

    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy.web.serve", "--store", str(store_path),
                                 "--port", str(port), "--log-level", "warning"], env=env(),
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url + "/api/v1/status", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Answer:
    what: str               # login | patch | tie
    status: int             # 0: no answer (connection error or client timeout)
    seconds: float
    at: float               # when it was sent (monotonic)
    retry_after: str | None = None
    body: str = ""


@dataclass
class Load:
    """Editors (one thread each) that PATCH their own actors and POST new ties, and a thread
    of logins, against ``url`` until :meth:`stop`. Every answer is kept; the writes that
    were acknowledged are kept to check the store afterwards."""

    url: str
    tokens: list[str]
    actors: list[str]
    pause: float = 0.2
    answers: list[Answer] = field(default_factory=list)
    #: actor id -> the population of the last acknowledged PATCH
    populations: dict[str, int] = field(default_factory=dict)
    #: (source, target) of the acknowledged new ties (type partner_of)
    ties: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Load":
        per = len(self.actors) // (len(self.tokens) + 1)
        for n, token in enumerate(self.tokens):
            mine = self.actors[n * per:(n + 1) * per]
            self._threads.append(threading.Thread(target=self._editor, args=(n, token, mine), daemon=True))
        self._threads.append(threading.Thread(target=self._logins, daemon=True))
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def _record(self, what: str, t0: float, r) -> Answer:
        a = Answer(what, 0 if r is None else r.status_code, time.monotonic() - t0, t0,
                   None if r is None else r.headers.get("retry-after"), "" if r is None else r.text[:300])
        with self._lock:
            self.answers.append(a)
        return a

    def _send(self, client, what: str, method: str, path: str, **kw):
        import httpx

        t0 = time.monotonic()
        try:
            r = client.request(method, self.url + path, **kw)
        except httpx.HTTPError:
            r = None
        return self._record(what, t0, r), r

    def _editor(self, n: int, token: str, actors: list[str]) -> None:
        import httpx

        rng = random.Random(n)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=60, headers=headers) as client:
            k = 0
            while not self._stop.is_set():
                k += 1
                actor = actors[k % len(actors)]
                if k % 2:
                    pop = 100_000 + n * 1_000_000 + k
                    a, _ = self._send(client, "patch", "PATCH", f"/api/v1/actors/{actor}",
                                      json={"population": pop, "source": f"load test {n}"})
                    if a.status == 200:
                        with self._lock:
                            self.populations[actor] = pop
                else:
                    target = rng.choice(self.actors)
                    if target == actor:
                        continue
                    a, _ = self._send(client, "tie", "POST", "/api/v1/ties",
                                      json={"actor": actor, "target": target, "type": "partner_of",
                                            "source": f"load test {n}"})
                    if a.status in (200, 201):
                        with self._lock:
                            self.ties.append((actor, target))
                self._stop.wait(self.pause)

    def _logins(self) -> None:
        import httpx

        with httpx.Client(timeout=60) as client:
            k = 0
            while not self._stop.is_set():
                self._send(client, "login", "POST", "/api/v1/session",
                           json={"name": f"ed{k % max(1, len(self.tokens))}", "password": PASSWORD})
                k += 1
                self._stop.wait(self.pause)


def check_store(store_path: Path, load: Load) -> list[str]:
    """The acknowledged writes missing from the store (empty when all are there)."""
    db = sqlite3.connect(store_path)
    try:
        missing = []
        for actor, pop in load.populations.items():
            got = db.execute("SELECT population FROM actors WHERE id = ?", (actor,)).fetchone()
            if got is None or got[0] != pop:
                missing.append(f"{actor}: population {got} != {pop}")
        for src, tgt in load.ties:
            src, tgt = sorted((src, tgt))           # partner_of is symmetric: stored once, ends in order
            if db.execute("SELECT 1 FROM ties WHERE source = ? AND target = ? AND type = 'partner_of'",
                          (src, tgt)).fetchone() is None:
                missing.append(f"tie {src} partner_of {tgt}")
        return missing
    finally:
        db.close()


LOCK_PROBE = r"""
import json, sqlite3, sys, time
db, stop_file = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db, timeout=0, isolation_level=None)
t0 = time.monotonic(); since = None; spans = []
import os
while not os.path.exists(stop_file):
    try:
        c.execute("BEGIN IMMEDIATE"); c.execute("ROLLBACK")
        if since is not None:
            spans.append(time.monotonic() - since); since = None
    except sqlite3.OperationalError:
        if since is None:
            since = time.monotonic()
    time.sleep(0.01)
if since is not None:
    spans.append(time.monotonic() - since)
print(json.dumps({"longest": max(spans, default=0.0), "total": sum(spans), "spans": len(spans)}))
"""


@contextmanager
def lock_probe(store_path: Path, tmp: Path) -> Iterator[dict]:
    """A process that tries to take the write lock (without waiting) every 10 ms; the
    dict it yields gets, at the end, the longest and total time the lock was held by
    others (an edit's short writes included)."""
    import json

    stop = tmp / f"probe-stop-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen([sys.executable, "-c", LOCK_PROBE, str(store_path), str(stop)],
                            stdout=subprocess.PIPE, env=env())
    out: dict = {}
    try:
        yield out
    finally:
        stop.touch()
        text, _ = proc.communicate(timeout=60)
        out.update(json.loads(text))
        stop.unlink(missing_ok=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]
