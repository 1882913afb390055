"""Background jobs on the real queue: RQ on the machine's Redis, run by real ``citydip
worker`` processes. A worker killed in the middle of an import leaves the store exactly as
it was and the job failed, and a retry runs it to success; cancel, retry and the API's 202
work the same on the queue as in-process.

Each test uses its own RQ queue in Redis database 13, its keys removed when the module ends. The
tests are skipped, saying why, only when no Redis answers on 127.0.0.1:6379."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import loadgen
import redistools
from conftest import app_args, copy_store, db_env, open_store, store_args

REDIS_URL = os.environ.get("CITYDIP_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture(scope="module")
def redis_url():
    conn = redistools.connect_or_skip(REDIS_URL)
    yield REDIS_URL
    # this module's keys only (not FLUSHDB): another run of the tests may share the database
    for key in conn.scan_iter("rq:*"):
        name = key.decode(errors="replace")
        origin = conn.hget(key, "origin") if name.startswith("rq:job:") and conn.type(key) == b"hash" else None
        if any(q in name for q in _QUEUES) or (origin and origin.decode(errors="replace") in _QUEUES):
            conn.delete(key)
    _QUEUES.clear()


#: the queues this module's tests made (their keys are removed when the module ends)
_QUEUES: set[str] = set()


@pytest.fixture
def qname(request) -> str:
    name = f"test-{request.node.name[:40]}-{os.getpid()}"
    _QUEUES.add(name)
    return name


@pytest.fixture
def home(built_home, tmp_path) -> Path:
    """A private copy of the built store."""
    h = tmp_path / "home"
    copy_store(built_home, h)
    return h


def cli(*args: str, home: Path, qname: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**loadgen.env(), **db_env(home), "CITYDIP_QUEUE_NAME": qname}
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


def start_worker(home: Path, url: str, qname: str, *extra: str) -> subprocess.Popen:
    env = {**loadgen.env(), **db_env(home), "CITYDIP_QUEUE_NAME": qname}
    return subprocess.Popen([sys.executable, "-m", "citydiplomacy", "worker", "--queue", url, *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def queue(home: Path, url: str, qname: str):
    from citydiplomacy.rqjobs import RQJobs

    return RQJobs(url, home / "jobs", name=qname)


def location(home: Path) -> str:
    """Where a job finds the store of ``home``: its SQLite file, or its database's URL."""
    return store_args(home)["db"] or str(home / "citydip.sqlite")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path) -> dict[str, int]:
    """The rows of each table of the store at ``path``: an SQLite file, or a home (its store,
    whatever its database)."""
    if path.is_dir():
        from sqlalchemy import inspect

        with open_store(path) as st, st.connect() as conn:
            return {t: conn.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar()
                    for t in sorted(inspect(conn).get_table_names())}
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        db.close()


def wait_for(q, job_id: str, final: bool = True, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while True:
        job = q.status(job_id)
        if job is not None and (job.done if final else job.status == "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.sqlite_only     # SQLite's write lock, probed by sqlite3 (test_postgres.py: PostgreSQL's)
def test_a_worker_killed_mid_import_leaves_the_store_unchanged_and_the_job_failed_then_retried(
        redis_url, home, qname, tmp_path):
    from citydiplomacy.store import Store

    store_path = home / "citydip.sqlite"
    st = Store(store_path)
    big = loadgen.write_twinning(st, tmp_path / "big.csv", 3_000, seed=11)
    st.close()
    digest, before = sha256(store_path), rows(store_path)

    sub = cli("jobs", "submit", "import", "importer=twinning", f"file={big}", "dry_run=false",
              'options={"licence": "CC0"}', "--queue", redis_url, home=home, qname=qname)
    job_id = sub.stdout.strip()
    q = queue(home, redis_url, qname)
    assert q.status(job_id).status == "queued"

    worker = start_worker(home, redis_url, qname)
    # kill the worker while its job holds the store's write lock: in the middle of the write
    probe = sqlite3.connect(store_path, timeout=0, isolation_level=None)
    killed, deadline = False, time.monotonic() + 600
    try:
        while worker.poll() is None and time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:
                os.kill(worker.pid, signal.SIGKILL)
                killed = True
                break
            time.sleep(0.002)
    finally:
        probe.close()
    worker.wait(timeout=60)
    assert killed, f"the worker ended before the import wrote: {worker.stderr.read()[-2000:]}"
    seen = q.status(job_id)
    horse = (seen.pid if seen else None)
    for _ in range(100):                    # the job's process dies with its worker (PR_SET_PDEATHSIG)
        if horse is None or not Path(f"/proc/{horse}").exists() or " Z " in Path(f"/proc/{horse}/stat").read_text():
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the job's process {horse} outlived its killed worker")

    # the store: byte for byte and row for row as before
    assert sha256(store_path) == digest
    assert rows(store_path) == before
    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    # the job: failed, retryable, in RQ's own failed registry
    job = q.status(job_id)
    assert job.status == "failed" and job.attempts == 1, job
    assert "worker running the job stopped" in job.error["detail"] and "retry" in job.error["detail"].lower()
    assert job_id in q.queue.failed_job_registry.get_job_ids()
    shown = json.loads(cli("jobs", "show", job_id, "--format", "json", "--queue", redis_url,
                           home=home, qname=qname).stdout)
    assert shown["status"] == "failed" and "args" not in shown and "pid" not in shown
    listed = json.loads(cli("jobs", "list", "--format", "json", "--queue", redis_url, home=home, qname=qname).stdout)
    assert [(j["id"], j["status"]) for j in listed] == [(job_id, "failed")]

    # retry: queued again, run by a new worker to success
    retried = cli("jobs", "retry", job_id, "--format", "json", "--queue", redis_url, home=home, qname=qname)
    assert json.loads(retried.stdout)["status"] == "queued"
    done = start_worker(home, redis_url, qname, "--burst")
    assert done.wait(timeout=900) == 0, done.stderr.read()[-2000:]
    job = q.status(job_id)
    assert job.status == "succeeded" and job.attempts == 2, job
    assert job.result["rows_read"] == 3_000 and job.result["created"]["ties"] > 2_000
    after = rows(store_path)
    assert after["actors"] == before["actors"] + job.result["created"]["actors"]
    assert after["ties"] >= before["ties"] + job.result["created"]["ties"]      # and the new actors' own ties
    assert after["import_runs"] == before["import_runs"] + 1


def test_a_queued_job_cancelled_then_retried_runs_on_a_worker(redis_url, home, qname, tmp_path):
    q = queue(home, redis_url, qname)
    out = tmp_path / "andorra"
    job = q.submit("export", {"store": location(home), "out": str(out), "fmt": "csv",
                              "country": "AD"}, owner="maria", params={"country": "AD"})
    assert job.status == "queued" and job.attempts == 0
    job = q.cancel(job.id)
    assert job.status == "cancelled" and job.cancel_requested
    with pytest.raises(Exception, match="only a failed or cancelled job"):
        q.retry(q.submit("export", {"store": "x", "out": "y"}, owner="maria").id)      # queued: not retryable
    q.cancel(q.list(owner="maria")[0].id)
    job = q.retry(job.id)
    assert job.status == "queued" and not job.cancel_requested
    worker = start_worker(home, redis_url, qname, "--burst")
    assert worker.wait(timeout=600) == 0, worker.stderr.read()[-2000:]
    job = q.status(job.id)
    assert job.status == "succeeded" and job.attempts == 1, job
    assert job.result["counts"]["actors"] > 0 and (out / "actors.csv").exists()
    assert job.progress["phase"] == "done"


def test_a_failed_job_keeps_its_error_and_its_retry_counts_attempts(redis_url, home, qname, tmp_path):
    q = queue(home, redis_url, qname)
    blocker = tmp_path / "export-here"
    blocker.write_text("a file, not a folder")
    job = q.submit("export", {"store": location(home), "out": str(blocker), "country": "AD"},
                   owner="maria")
    worker = start_worker(home, redis_url, qname, "--burst")
    assert worker.wait(timeout=600) == 0, worker.stderr.read()[-2000:]
    job = q.status(job.id)
    assert job.status == "failed" and job.attempts == 1
    assert job.error == {"error": "ValidationError", "detail": "exists and is not a directory", "field": None,
                         "row": None, "file": str(blocker)}
    blocker.unlink()
    assert q.retry(job.id).error is None
    worker = start_worker(home, redis_url, qname, "--burst")
    assert worker.wait(timeout=600) == 0, worker.stderr.read()[-2000:]
    job = q.status(job.id)
    assert job.status == "succeeded" and job.attempts == 2 and (blocker / "datapackage.json").exists()


def test_without_redis_the_queue_says_what_to_do(home, qname):
    proc = cli("worker", "--queue", "redis://127.0.0.1:1/0", home=home, qname=qname, check=False)
    assert proc.returncode == 1
    assert "cannot reach the job queue at redis://127.0.0.1:1/0" in proc.stderr and "unset CITYDIP_QUEUE_URL" in proc.stderr
    proc = cli("worker", home=home, qname=qname, check=False)
    assert proc.returncode == 1 and "set CITYDIP_QUEUE_URL" in proc.stderr


# -- the API on the queue ----------------------------------------------------------------------------

@pytest.fixture
def api(home, redis_url, qname, monkeypatch):
    from fastapi.testclient import TestClient

    from citydiplomacy import accounts
    from citydiplomacy.web import create_app

    monkeypatch.setenv("CITYDIP_QUEUE_URL", redis_url)
    monkeypatch.setenv("CITYDIP_QUEUE_NAME", qname)
    app = create_app(**app_args(home), secret="test-secret")
    store = app.state.obs.store
    tokens = {}
    for name, role in (("eddie", "editor"), ("erin", "editor")):
        accounts.add_user(store, name, loadgen.PASSWORD, role)
        tokens[name] = {"Authorization": f"Bearer {accounts.create_token(store, accounts.get_user(store, name), 't')[1]}"}
    with TestClient(app) as client:
        yield app, client, tokens
    app.state.obs.close()


@pytest.mark.slow
def test_the_api_runs_imports_on_the_queue_with_202_progress_cancel_and_retry(api, home, redis_url, qname, tmp_path):
    from citydiplomacy.rqjobs import RQJobs

    app, client, tokens = api
    assert isinstance(app.state.jobs, RQJobs)
    ed = tokens["eddie"]
    st = open_store(home)
    big = loadgen.write_twinning(st, tmp_path / "twins.csv", 300, seed=4)
    st.close()
    before = rows(home)
    r = client.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "false"}, headers=ed,
                    files={"file": ("twins.csv", big.read_bytes(), "text/csv")}, data={"licence": "CC0"})
    assert r.status_code == 202, r.text
    url = r.headers["location"]
    job_id = url.rsplit("/", 1)[1]
    assert r.json()["status"] == "queued" and r.json()["url"] == url
    assert client.get(url, headers=tokens["erin"]).status_code == 404          # not erin's job
    assert client.post(f"{url}/retry", headers=ed).status_code == 409          # queued: nothing to retry

    worker = start_worker(home, redis_url, qname)
    try:
        deadline = time.monotonic() + 600
        while (job := client.get(url, headers=ed).json())["status"] != "running":
            assert time.monotonic() < deadline and job["status"] == "queued", job
            time.sleep(0.1)
        r = client.post(f"{url}/cancel", headers=ed)
        assert r.status_code == 202 and r.json()["cancel_requested"] is True
        while (job := client.get(url, headers=ed).json())["status"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "cancelled" and job["progress"]["phase"] == "cancelled", job
        now = rows(home)
        assert now.pop("audit_log") == before["audit_log"] + 1               # the cancel, audited
        assert now == {k: v for k, v in before.items() if k != "audit_log"}  # the import: nothing written

        r = client.post(f"{url}/retry", headers=ed)
        assert r.status_code == 202 and r.headers["location"] == url and r.json()["status"] == "queued"
        phases = set()
        while (job := client.get(url, headers=ed).json())["status"] not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, job
            phases.add(job["progress"]["phase"])
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert job["status"] == "succeeded" and job["attempts"] == 2, job
    assert len(phases - {"queued", "starting"}) >= 1, phases                  # progress came through
    assert job["result"]["rows_read"] == 300 and job["result"]["created"]["ties"] > 200
    assert rows(home)["ties"] >= before["ties"] + job["result"]["created"]["ties"]
    listed = client.get("/api/v1/jobs", headers=ed).json()
    assert [(j["id"], j["status"]) for j in listed["items"]] == [(job_id, "succeeded")]
    assert client.get("/api/v1/jobs", headers=tokens["erin"]).json()["items"] == []
    from citydiplomacy import accounts

    actions = [e["action"] for e in accounts.audit_log(app.state.obs.store, limit=20, user="eddie")]
    assert {"job.cancel", "job.retry", "import.apply"} <= set(actions)


@pytest.mark.slow
def test_recommendations_for_many_cities_run_as_one_job(api, home, redis_url, qname):
    app, client, tokens = api
    ed = tokens["eddie"]
    r = client.post("/api/v1/recommend/batch", headers=ed,
                    json={"cities": ["Lyon", "Porto", "Nowhere-on-earth-xyz"], "kind": "partners", "top": 3})
    assert r.status_code == 202, r.text
    url = r.headers["location"]
    worker = start_worker(home, redis_url, qname, "--burst")
    assert worker.wait(timeout=900) == 0, worker.stderr.read()[-2000:]
    job = client.get(url, headers=ed).json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"phase": "done", "done": 3, "total": 3, "fraction": 1.0}
    answers = job["result"]["answers"]
    assert [a["actor"]["name"] for a in answers] == ["Lyon", "Porto"]
    assert all(len(a["results"]) == 3 and a["results"][0]["why"] for a in answers)
    assert [n["city"] for n in job["result"]["not_found"]] == ["Nowhere-on-earth-xyz"]
    assert client.post("/api/v1/recommend/batch", headers=ed, json={"cities": []}).status_code == 422


@pytest.mark.slow
def test_the_import_page_follows_a_queued_job_to_its_report(api, home, redis_url, qname, tmp_path, monkeypatch):
    import re

    from citydiplomacy.web import pages

    app, client, _ = api
    monkeypatch.setattr(pages, "SETTLE", 0.0)             # show the progress page at once
    st = open_store(home)
    big = loadgen.write_twinning(st, tmp_path / "list.csv", 200, seed=2)
    st.close()

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    r = client.post("/login", data={"name": "erin", "password": loadgen.PASSWORD,
                                    "csrf_token": csrf(client.get("/login").text)})
    assert r.status_code == 200
    r = client.post("/imports", data={"importer": "twinning", "csrf_token": csrf(client.get("/imports").text)},
                    files={"file": ("list.csv", big.read_bytes(), "text/csv")}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert '<meta http-equiv="refresh" content="2">' in page.text and "<progress" in page.text   # queued: no worker
    [job] = app.state.jobs.list(owner="erin")
    assert job.status == "queued" and job.task == "import"
    worker = start_worker(home, redis_url, qname, "--burst")
    assert worker.wait(timeout=600) == 0, worker.stderr.read()[-2000:]
    page = client.get(r.headers["location"])
    assert "Dry run: list.csv" in page.text and "Apply this import" in page.text
    assert app.state.jobs.status(job.id).status == "succeeded"
