"""Writers that do not block readers: WAL and busy timeouts, imports that prepare outside
the write lock and write atomically, a busy store answered with 503 (never 500), imports
as jobs (202, progress, result, errors, cancel), and a real server under a long import."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citydiplomacy import accounts
from citydiplomacy.errors import StoreBusyError
from citydiplomacy.store import Store

sys.path.insert(0, str(Path(__file__).parent))
import loadgen  # noqa: E402
from conftest import app_args, copy_store  # noqa: E402

PASSWORD = loadgen.PASSWORD
TWINS = "city1,country1,city2,country2\nAndorra la Vella,AD,Tirana,AL\nLyon,France,Turin,Italy\n"


@contextmanager
def write_lock(path: Path):
    """Another process's writer: holds SQLite's write lock on ``path`` for the block."""
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


def counts(path: Path | Store) -> tuple:
    """The rows of the main tables of the store at ``path`` (an SQLite file) or ``path``
    (an open store, whatever its database)."""
    tables = ("actors", "aliases", "ties", "provenance", "import_runs", "audit_log")
    if isinstance(path, Store):
        with path.connect() as conn:
            return tuple(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in tables)
    db = sqlite3.connect(path)
    try:
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    finally:
        db.close()


# -- the store ---------------------------------------------------------------------------------------

def test_every_connection_is_in_wal_mode_with_the_stores_busy_timeout(tmp_path):
    st = Store(tmp_path / "s.sqlite", busy_timeout=3.5)
    try:
        conns = [st.connect() for _ in range(3)]              # distinct pooled connections
        for c in conns:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3500
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        for c in conns:
            c.close()
    finally:
        st.close()


def test_a_writer_waits_its_busy_timeout_then_says_the_store_is_busy(tmp_path):
    st = Store(tmp_path / "s.sqlite", busy_timeout=30)
    try:
        with write_lock(st.path):
            with st.snapshot() as conn:                       # readers do not wait in WAL mode
                assert conn.exec_driver_sql("SELECT count(*) FROM actors").scalar() == 0
            t0 = time.monotonic()
            with pytest.raises(StoreBusyError, match="another process is writing.*try again"):
                with st.transaction(busy_timeout=0.3):
                    pass
            assert 0.25 < time.monotonic() - t0 < 5
        with st.transaction(busy_timeout=0.3) as conn:        # free again
            conn.exec_driver_sql("SELECT 1")
    finally:
        st.close()


@pytest.mark.sqlite_only     # another process holding SQLite's write lock
def test_a_dry_run_never_takes_the_write_lock_and_an_apply_waits(work, tmp_path):
    f = tmp_path / "twins.csv"
    f.write_text(TWINS, encoding="utf-8")
    before = counts(work.store.path)
    work.store.busy_timeout = 0.3
    with write_lock(work.store.path):
        dry = work.import_("twinning", str(f), dry_run=True)
        assert dry.dry_run and dry.created == {"ties": 2}
        with pytest.raises(StoreBusyError):
            work.import_("twinning", str(f))
    assert counts(work.store.path) == before
    rep = work.import_("twinning", str(f))
    assert rep.created == {"ties": 2} and rep.run_id


def test_ties_another_writer_added_meanwhile_are_not_written_twice(work, tmp_path, monkeypatch):
    """An edit commits between the import's snapshot and its write: the import finds the
    tie there (unchanged), and writes the rest."""
    from citydiplomacy import editing
    from citydiplomacy.ingest import apply

    f = tmp_path / "twins.csv"
    f.write_text(TWINS, encoding="utf-8")
    original = apply._write

    def edit_then_write(store, plan, ch, report, busy_timeout, audit):
        if plan.importer == "twinning":                 # the edit's own write goes straight through
            editing.add_tie(store, "andorra-la-vella-ad", "tirana-al", "twinned_with", source="an editor",
                            who="eddie")
        return original(store, plan, ch, report, busy_timeout, audit)

    monkeypatch.setattr(apply, "_write", edit_then_write)
    rep = work.import_("twinning", str(f))
    assert rep.created == {"ties": 1} and rep.unchanged == {"ties": 1}
    ties = work.ties("andorra-la-vella-ad", type="twinned_with")
    assert [t["other"] for t in ties].count("tirana-al") == 1


@pytest.mark.sqlite_only     # SQLite's write lock, probed by sqlite3 (test_postgres.py: PostgreSQL's)
def test_an_import_killed_while_it_writes_leaves_the_store_as_it_was(built_home, tmp_path):
    """SIGKILL of ``citydip import`` while it holds the write lock: SQLite rolls the
    transaction back; the store is exactly as before and sound."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built_home / "citydip.sqlite", home / "citydip.sqlite")
    store_path = home / "citydip.sqlite"
    st = Store(store_path)
    loadgen.write_twinning(st, tmp_path / "big.csv", 30_000)
    st.close()
    before = counts(store_path)
    proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy", "--home", str(home), "import", "twinning",
                             str(tmp_path / "big.csv"), "--licence", "CC0"], env=loadgen.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    probe = sqlite3.connect(store_path, timeout=0, isolation_level=None)
    killed = False
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:                      # the import holds the lock: it is writing
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    probe.close()
    assert killed, f"the import finished before it could be killed while writing: {proc.stderr.read()[-500:]}"
    assert proc.returncode == -signal.SIGKILL
    assert counts(store_path) == before
    db = sqlite3.connect(store_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


@pytest.mark.sqlite_only     # another process holding SQLite's write lock
def test_the_command_line_says_the_store_is_busy_without_a_traceback(built_home, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built_home / "citydip.sqlite", home / "citydip.sqlite")
    f = tmp_path / "twins.csv"
    f.write_text(TWINS, encoding="utf-8")
    env = {**loadgen.env(), "CITYDIP_BUSY_TIMEOUT": "0.5", "COLUMNS": "200"}
    with write_lock(home / "citydip.sqlite"):
        proc = subprocess.run([sys.executable, "-m", "citydiplomacy", "--home", str(home), "import", "twinning",
                               str(f)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "another process is writing" in proc.stderr and "try again" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


# -- the web: 503, jobs ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(built_home, tmp_path_factory):
    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("jobs-home")
    copy_store(built_home, home)
    app = create_app(**app_args(home), secret="test-secret")
    store = app.state.obs.store
    for name, role in (("eddie", "editor"), ("erin", "editor"), ("ada", "admin")):
        accounts.add_user(store, name, PASSWORD, role)
    app.state.tokens = {name: accounts.create_token(store, accounts.get_user(store, name), "t")[1]
                        for name in ("eddie", "erin", "ada")}
    yield app
    app.state.obs.close()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def bearer(app, name: str = "eddie") -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.tokens[name]}"}


@pytest.mark.sqlite_only     # another process holding SQLite's write lock
def test_a_busy_store_answers_503_with_retry_after_never_500(app, client):
    store = app.state.obs.store
    ed = bearer(app)
    client.get("/api/v1/actors/tirana-al", headers=ed)                # the token's use is recorded first
    store.busy_timeout = 0.3
    try:
        with write_lock(store.path):
            assert client.get("/api/v1/actors/tirana-al").status_code == 200       # reads go on
            for r in (client.patch("/api/v1/actors/tirana-al", headers=ed,
                                   json={"population": 557_422, "source": "a census"}),
                      client.post("/api/v1/session", json={"name": "eddie", "password": PASSWORD})):
                assert r.status_code == 503, r.text
                assert r.headers["retry-after"] == "5"
                assert r.headers["content-type"].startswith("application/problem+json")
                body = r.json()
                assert body["title"] == "Store busy" and "try again" in body["detail"]
            import re

            csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            page = client.post("/login", data={"name": "eddie", "password": PASSWORD, "csrf_token": csrf})
            assert page.status_code == 503 and page.headers["retry-after"] == "5"
            assert "text/html" in page.headers["content-type"] and "try again" in page.text
    finally:
        store.busy_timeout = 10.0
    assert client.post("/api/v1/session", json={"name": "eddie", "password": PASSWORD}).status_code == 200


def wait_job(client, url: str, headers, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        job = client.get(url, headers=headers).json()
        seen.append((job["status"], job["progress"]["phase"]))
        if job["status"] in ("succeeded", "failed", "cancelled"):
            job["seen"] = seen
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_an_import_job_reports_progress_then_its_report_and_is_audited(app, client, tmp_path):
    st = app.state.obs.store
    big = loadgen.write_twinning(st, tmp_path / "big.csv", 3_000, seed=7)
    ed = bearer(app)
    r = client.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "false"}, headers=ed,
                    files={"file": ("big.csv", big.read_bytes(), "text/csv")}, data={"licence": "CC0"})
    assert r.status_code == 202
    url = r.headers["location"]
    assert url.startswith("/api/v1/jobs/") and r.json()["status"] in ("queued", "running")
    job = wait_job(client, url, ed)
    assert job["status"] == "succeeded", job
    phases = [p for _, p in job["seen"]]
    assert len(set(phases)) >= 2 and phases[-1] == "done", phases         # it reported its steps
    rep = job["result"]
    assert rep["dry_run"] is False and rep["rows_read"] == 3_000 and rep["created"]["ties"] > 2_500
    assert job["progress"]["phase"] == "done" and job["error"] is None
    assert job["params"] == {"importer": "twinning", "file": "big.csv", "dry_run": False}
    assert "/tmp" not in str(job)
    entry = next(e for e in accounts.audit_log(st, limit=20, user="eddie") if e["action"] == "import.apply")
    assert entry["target"] == "twinning: big.csv"
    assert entry["detail"]["run_id"] == rep["run_id"]
    # another editor cannot see it; an admin can
    assert client.get(url, headers=bearer(app, "erin")).status_code == 404
    assert client.get(url, headers=bearer(app, "ada")).json()["status"] == "succeeded"
    assert client.get(url).status_code == 401
    assert client.post(url + "/cancel", headers=ed).status_code == 409


def test_a_bad_file_fails_its_job_with_a_problem_naming_row_and_field(app, client):
    ed = bearer(app)
    bad = b"city1,country1,city2,country2\nLyon,France,Turin\n\"Oslo,Norway,Bergen,Norway\n"
    r = client.post("/api/v1/imports", params={"importer": "twinning"}, headers=ed,
                    files={"file": ("broken.csv", bad, "text/csv")})
    job = wait_job(client, r.headers["location"], ed)
    if job["status"] == "succeeded":                    # a short row is a problem of the report
        assert any(p["row"] == 2 for p in job["result"]["problems"])
    r = client.post("/api/v1/imports", params={"importer": "twinning"}, headers=ed,
                    files={"file": ("cols.csv", b"town,nation\nLyon,France\n", "text/csv")})
    job = wait_job(client, r.headers["location"], ed)
    assert job["status"] == "failed" and job["result"] is None
    err = job["error"]
    assert err["status"] == 422 and err["title"] == "Invalid input" and err["type"].startswith("tag:")
    assert err["file"] == "cols.csv" and err["field"] == "file" and "city1" in err["detail"]


def test_a_cancelled_import_job_writes_nothing(app, client, tmp_path):
    st = app.state.obs.store
    big = loadgen.write_twinning(st, tmp_path / "big.csv", 20_000, seed=8)
    before = counts(st)
    ed = bearer(app)
    r = client.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "false"}, headers=ed,
                    files={"file": ("big.csv", big.read_bytes(), "text/csv")})
    url = r.headers["location"]
    while client.get(url, headers=ed).json()["status"] == "queued":
        time.sleep(0.05)
    c = client.post(url + "/cancel", headers=ed)
    assert c.status_code in (200, 202) and c.json()["cancel_requested"] is True
    job = wait_job(client, url, ed)
    assert job["status"] == "cancelled" and job["result"] is None
    assert counts(st)[:5] == before[:5]                            # the audit log has the cancel
    assert "job.cancel" in [e["action"] for e in accounts.audit_log(st, limit=5, user="eddie")]


def test_the_import_page_shows_the_jobs_progress_then_its_report(app, tmp_path, monkeypatch):
    import re

    from citydiplomacy.web import pages

    monkeypatch.setattr(pages, "SETTLE", 0.0)             # show the progress page at once
    big = loadgen.write_twinning(app.state.obs.store, tmp_path / "list.csv", 3_000, seed=9)

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    with TestClient(app) as c:
        r = c.post("/login", data={"name": "erin", "password": PASSWORD, "csrf_token": csrf(c.get("/login").text)})
        assert r.status_code == 200 and c.cookies.get("citydip_session")
        r = c.post("/imports", data={"importer": "twinning", "csrf_token": csrf(c.get("/imports").text)},
                   files={"file": ("list.csv", big.read_bytes(), "text/csv")}, follow_redirects=False)
        assert r.status_code == 303
        page = c.get(r.headers["location"])
        assert page.status_code == 200
        if "Dry run: list.csv" not in page.text:              # still running: the progress page
            assert '<meta http-equiv="refresh" content="2">' in page.text
            assert "<progress" in page.text and 'id="cancel"' in page.text
            deadline = time.monotonic() + 300
            while "Dry run: list.csv" not in page.text:
                assert time.monotonic() < deadline
                time.sleep(0.5)
                page = c.get(r.headers["location"])
        assert "rows read" in page.text and "3000" in page.text
        assert "Apply this import" in page.text


def test_unknown_and_malformed_job_ids(app, client):
    ed = bearer(app)
    assert client.get("/api/v1/jobs/AAAAAAAAAAAAAAAA", headers=ed).status_code == 404
    assert client.get("/api/v1/jobs/..%2F..%2Fetc", headers=ed).status_code in (404, 422)


# -- a real server under a long import ---------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.sqlite_only     # the server and the lock probe of loadgen are on the SQLite file
def test_edits_and_logins_during_a_long_import_get_no_500_and_are_kept(built_home, tmp_path):
    """``citydip import twinning`` of 100,000 rows (a separate process, as an operator
    would run it) while editors PATCH actors and POST ties and people log in, through a
    real server: no 500; a 503 always says when to retry; most edits succeed; every
    acknowledged edit is in the store afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    store_path = home / "citydip.sqlite"
    shutil.copy(built_home / "citydip.sqlite", store_path)
    st = Store(store_path)
    big = loadgen.write_twinning(st, tmp_path / "big.csv", 100_000)
    with st.connect() as conn:
        actors = [r[0] for r in conn.exec_driver_sql(
            "SELECT id FROM actors WHERE kind = 'city' ORDER BY importance DESC LIMIT 120")]
    st.close()
    tokens = loadgen.add_accounts(store_path, 4)
    with loadgen.server(store_path, tmp_path / "server.log") as url:
        load = loadgen.Load(url, tokens, actors, pause=0.1).start()
        t0 = time.monotonic()
        with loadgen.lock_probe(store_path, tmp_path) as lock:
            proc = subprocess.run([sys.executable, "-m", "citydiplomacy", "--home", str(home), "import",
                                   "twinning", str(big), "--licence", "CC0", "--format", "json"],
                                  env=loadgen.env(), capture_output=True, text=True, timeout=1500)
        took = time.monotonic() - t0
        time.sleep(1)
        load.stop()
    assert proc.returncode == 0, proc.stderr[-2000:]
    answers = load.answers
    assert answers and took > 10
    assert [a for a in answers if a.status >= 500 and a.status != 503] == []
    assert all(a.retry_after for a in answers if a.status == 503)
    assert [a for a in answers if a.status == 0] == []                  # every request was answered
    edits = [a for a in answers if a.what in ("patch", "tie")]
    ok = [a for a in edits if a.status in (200, 201)]
    assert len(edits) > 50 and len(ok) >= 0.9 * len(edits), (len(ok), len(edits))
    logins = [a for a in answers if a.what == "login"]
    assert logins and sum(a.status == 200 for a in logins) >= 0.9 * len(logins)
    assert loadgen.check_store(store_path, load) == []
    assert lock["longest"] < 30, lock


# -- jobs in a process of their own --------------------------------------------------------------

def _wait(q, job_id):
    import time

    for _ in range(1200):
        state = q.status(job_id)
        if state.done:
            return state
        time.sleep(0.1)
    raise AssertionError("the job did not finish")


def test_a_process_job_runs_outside_the_server_process_and_reports_back(tmp_path):
    import os

    from citydiplomacy import jobs
    from citydiplomacy.store import Store

    Store(tmp_path / "s.sqlite").close()
    f = tmp_path / "twins.csv"
    f.write_text("city1,country1,city2,country2\nLyon,France,Turin,Italy\n", encoding="utf-8")
    q = jobs.ProcessJobs(tmp_path / "jobs", workers=1)
    job = q.submit("import", {"store": str(tmp_path / "s.sqlite"), "importer": "twinning", "file": str(f),
                              "dry_run": True}, owner="maria")
    state = _wait(q, job.id)
    assert state.status == "succeeded", state.error
    assert state.pid != os.getpid()                 # it ran in a process of its own
    assert state.result["rows_read"] == 1 and state.progress["phase"] == "done"


def test_a_process_job_that_fails_or_dies_is_reported_failed(tmp_path):
    import os
    import time

    from citydiplomacy import jobs

    q = jobs.ProcessJobs(tmp_path / "jobs", workers=1)
    # an import of a file that is not there fails inside the child, cleanly
    job = q.submit("import", {"store": str(tmp_path / "none.sqlite"), "importer": "twinning",
                              "file": str(tmp_path / "missing.csv")}, owner="maria")
    state = _wait(q, job.id)
    assert state.status == "failed" and state.error["error"] == "ValidationError"
    assert "missing.csv" in state.error["file"]
    # a job whose process is killed is failed, not left running
    import signal

    slow = tmp_path / "slow.csv"
    slow.write_text("city1,country1,city2,country2\n" + "Lyon,France,Turin,Italy\n" * 20000, encoding="utf-8")
    from citydiplomacy.store import Store

    Store(tmp_path / "s2.sqlite").close()
    job = q.submit("import", {"store": str(tmp_path / "s2.sqlite"), "importer": "twinning", "file": str(slow)},
                   owner="maria")
    for _ in range(600):
        state = q.status(job.id)
        if state.status == "running" and state.pid:
            break
        time.sleep(0.05)
    os.kill(state.pid, signal.SIGKILL)
    state = _wait(q, job.id)
    assert state.status == "failed" and "process stopped" in state.error["detail"]


def test_the_server_runs_jobs_in_processes_unless_told_otherwise(tmp_path, monkeypatch):
    from citydiplomacy import jobs

    assert isinstance(jobs.job_queue(tmp_path / "a"), jobs.ProcessJobs)
    monkeypatch.setenv("CITYDIP_JOBS", "thread")
    q = jobs.job_queue(tmp_path / "b")
    assert isinstance(q, jobs.ThreadJobs) and not isinstance(q, jobs.ProcessJobs)
    monkeypatch.setenv("CITYDIP_JOBS", "fork")
    with pytest.raises(ValueError, match="CITYDIP_JOBS"):
        jobs.job_queue(tmp_path / "c")
