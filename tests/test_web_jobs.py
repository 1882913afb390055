"""The jobs' pages (``/jobs``, ``/jobs/{id}``) through a real app: the list with its state
filter, a job's page following its progress to its result or its error, cancel and retry
for editors and administrators with the forms' CSRF token, the 404 of an unknown job, the
frame in French, Spanish and German — on the in-process runner (threads) and on RQ with the
machine's Redis (database 14, its own) run by a real ``citydip worker``; and in Debian's
chromium, a real job's progress watched to its end, also at 375 px wide."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citydiplomacy import accounts, progress
from citydiplomacy.errors import ValidationError
from citydiplomacy.jobs import task
from citydiplomacy.web import create_app, i18n

import loadgen
import redistools
from conftest import app_args, copy_store

PASSWORD = loadgen.PASSWORD
TEMPLATES = Path(i18n.__file__).parent / "templates"
PAGES = ("jobs.html", "job.html", "_jobs_table.html", "_job_status.html", "_job_progress.html", "base.html")
REDIS_URL = os.environ.get("CITYDIP_TEST_JOBS_WEB_REDIS_URL", "redis://127.0.0.1:6379/14")

#: a gate the test task waits at, so that a test sees it running
GATE = threading.Event()


@task("test-steps")
def steps_task(*, steps: int = 5, pause: float = 0.0, fail_at: int | None = None, wait: bool = False) -> dict:
    """A test task: ``steps`` steps reported as progress, failing at ``fail_at`` with a
    validation error (row and field), waiting at the gate first when ``wait``."""
    if wait:
        for _ in range(600):
            progress.report("waiting", 0, steps)
            if GATE.wait(0.1):
                break
    for n in range(1, steps + 1):
        if fail_at == n:
            raise ValidationError("the value 'x' is not a year", field="year", row=n, file="steps.csv")
        time.sleep(pause)
        progress.report("stepping", n, steps)
    return {"steps": steps}


@pytest.fixture
def web(built_home, tmp_path, monkeypatch):
    monkeypatch.setenv("CITYDIP_JOBS", "thread")
    monkeypatch.setenv("CITYDIP_WEB_WARM_ALIGN", "0")
    args = copy_store(built_home, tmp_path / "home")
    app = create_app(**app_args(args["home"]), secret="test-secret-jobs")
    store = app.state.obs.store
    for name, role in (("ada", "admin"), ("eddie", "editor"), ("erin", "editor"), ("vera", "viewer")):
        accounts.add_user(store, name, PASSWORD, role)
    GATE.clear()
    with TestClient(app) as client:
        yield app, client
    GATE.set()
    app.state.obs.close()


def login(client, name: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return token


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def wait_final(queue, job_id: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while (job := queue.status(job_id)) is None or not job.done:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_pages_need_a_signed_in_person_and_show_only_their_jobs(web):
    app, c = web
    q = app.state.jobs
    mine = q.submit("test-steps", {"steps": 3}, owner="eddie")
    theirs = q.submit("test-steps", {"steps": 2}, owner="erin")
    wait_final(q, mine.id), wait_final(q, theirs.id)
    r = c.get("/jobs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/jobs")
    assert 'href="/jobs"' not in c.get("/").text                # not in the menu before signing in
    login(c, "eddie")
    page = c.get("/jobs")
    assert page.status_code == 200 and 'href="/jobs" aria-current="page"' in page.text
    assert f'data-job="{mine.id}"' in page.text and theirs.id not in page.text
    assert "succeeded (1)" in text(page.text)
    # someone else's job is as unknown as a job that never was
    for ref in (theirs.id, "no-such-job-here", "bad..id"):
        r = c.get(f"/jobs/{ref}")
        assert r.status_code == 404 and "No such job" in r.text
    # an administrator sees everyone's, with who started each
    c.post("/logout", data={"csrf_token": csrf(page.text)})
    login(c, "ada")
    page = c.get("/jobs").text
    assert mine.id in page and theirs.id in page and "<td>erin</td>" in page


def test_a_job_page_follows_progress_to_its_result(web):
    app, c = web
    login(c, "eddie")
    q = app.state.jobs
    job = q.submit("test-steps", {"steps": 4, "wait": True}, owner="eddie", params={"steps": 4})
    deadline = time.monotonic() + 30
    while q.status(job.id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.6)                                 # the state file is written every half second
    page = c.get(f"/jobs/{job.id}")
    assert page.status_code == 200
    assert 'data-status="running"' in page.text and f'data-poll="/jobs/{job.id}?partial=1"' in page.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.text
    assert 'src="/static/jobs.js' in page.text and 'id="cancel"' in page.text
    part = c.get(f"/jobs/{job.id}?partial=1")
    assert part.text.lstrip().startswith('<div id="job-status"') and "<html" not in part.text
    # the list shows it running, and polls while it does
    listing = c.get("/jobs?state=running").text
    assert job.id in listing and "data-poll=" in listing
    GATE.set()
    wait_final(q, job.id)
    page = c.get(f"/jobs/{job.id}")
    assert 'data-status="succeeded"' in page.text and "data-poll" not in page.text and "noscript" not in page.text
    assert 'value="1"' in page.text and "The job is done." in page.text and 'id="cancel"' not in page.text
    assert "steps=4" in text(page.text)
    r = c.get(f"/jobs/{job.id}/result.json")
    assert r.status_code == 200 and r.json() == {"steps": 4}
    assert r.headers["content-disposition"] == f'attachment; filename="job-{job.id}.json"'
    # the filter keeps one state; a state that is none is said so
    assert job.id in c.get("/jobs?state=succeeded").text and job.id not in c.get("/jobs?state=failed").text
    assert "No job is failed." in c.get("/jobs?state=failed").text
    bad = c.get("/jobs?state=exploded")
    assert bad.status_code == 422 and "Choose one of the states listed." in bad.text


def test_a_failed_job_shows_its_error_and_is_retried_cancel_needs_csrf_and_a_role(web):
    app, c = web
    q = app.state.jobs
    failed = q.submit("test-steps", {"steps": 3, "fail_at": 2}, owner="eddie", params={"file": "steps.csv"})
    wait_final(q, failed.id)
    login(c, "eddie")
    page = c.get(f"/jobs/{failed.id}")
    assert 'id="job-error"' in page.text
    assert "the value 'x' is not a year (file steps.csv, row 2, field year)" in unescape(page.text)
    assert c.get(f"/jobs/{failed.id}/result.json").status_code == 409
    # retry: refused without the form's token, done with it (same id, a second attempt)
    assert c.post(f"/jobs/{failed.id}/retry", data={}).status_code == 403
    r = c.post(f"/jobs/{failed.id}/retry", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/jobs/{failed.id}"
    again = wait_final(q, failed.id)
    assert again.status == "failed" and again.attempts == 2
    log = accounts.audit_log(app.state.obs.store, limit=1)[0]
    assert (log["action"], log["user_name"], log["target"]) == ("job.retry", "eddie", failed.id)
    # cancel a job held at the gate; a succeeded one cannot be cancelled (409)
    held = q.submit("test-steps", {"steps": 2, "wait": True}, owner="eddie")
    page = c.get(f"/jobs/{held.id}")
    r = c.post(f"/jobs/{held.id}/cancel", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert wait_final(q, held.id).status == "cancelled"
    page = c.get(f"/jobs/{held.id}").text
    assert 'id="job-cancelled"' in page and 'id="retry"' in page
    done = q.submit("test-steps", {"steps": 1}, owner="eddie")
    wait_final(q, done.id)
    assert c.post(f"/jobs/{done.id}/cancel", data={"csrf_token": csrf(page)}).status_code == 409
    # a viewer sees their job but no buttons, and a post is refused
    c.post("/logout", data={"csrf_token": csrf(page)})
    token = login(c, "vera")
    viewers = q.submit("test-steps", {"steps": 1, "fail_at": 1}, owner="vera")
    wait_final(q, viewers.id)
    page = c.get(f"/jobs/{viewers.id}").text
    assert 'id="job-error"' in page and 'id="retry"' not in page
    assert c.post(f"/jobs/{viewers.id}/retry", data={"csrf_token": csrf(page) or token}).status_code == 403


def test_the_frame_is_translated(web):
    app, c = web
    login(c, "eddie")
    q = app.state.jobs
    job = q.submit("test-steps", {"steps": 1}, owner="eddie")
    wait_final(q, job.id)
    messages = set()
    for name in PAGES:
        from citydiplomacy.web.pages import templates

        for _, _, m in templates.env.extract_translations((TEMPLATES / name).read_text(encoding="utf-8")):
            messages.update(x for x in (m if isinstance(m, tuple) else (m,)) if isinstance(x, str))
    from citydiplomacy.web.jobs_pages import STATE_LABELS, TASK_LABELS

    messages |= set(TASK_LABELS.values()) | set(STATE_LABELS.values())
    messages |= {"See the build's ranking", "See the import's report", "Download the result (JSON)",
                 "Choose one of the states listed.", "No such job", "No result yet", "Not done", "Not allowed"}
    for lang in ("fr", "es", "de"):
        missing = sorted(m for m in messages if m not in i18n.catalogue(lang))
        assert missing == [], (lang, missing)
    page = c.get("/jobs?lang=fr").text
    assert '<html lang="fr">' in page and "Tâches" in page and f'href="/jobs/{job.id}?lang=fr"' in page
    assert "réussie" in c.get(f"/jobs/{job.id}?lang=fr").text
    assert "Trabajos" in c.get("/jobs?lang=es").text and "Aufträge" in c.get("/jobs?lang=de").text


def test_the_progress_pages_of_imports_and_index_builds_link_to_the_job(web):
    for name in ("import_progress.html", "index_progress.html"):
        assert 'href="/jobs/' in (TEMPLATES / name).read_text(encoding="utf-8")


# -- on RQ ---------------------------------------------------------------------------------------

@pytest.fixture
def rq_web(built_home, tmp_path, monkeypatch):
    conn = redistools.connect_or_skip(REDIS_URL)
    qname = f"test-jobs-web-{os.getpid()}"
    monkeypatch.setenv("CITYDIP_QUEUE_URL", REDIS_URL)
    monkeypatch.setenv("CITYDIP_QUEUE_NAME", qname)
    monkeypatch.setenv("CITYDIP_WEB_WARM_ALIGN", "0")
    home = tmp_path / "home"
    args = copy_store(built_home, home)
    app = create_app(**app_args(args["home"]), secret="test-secret-jobs")
    accounts.add_user(app.state.obs.store, "eddie", PASSWORD, "editor")
    with TestClient(app) as client:
        yield app, client, home, qname
    app.state.obs.close()
    conn.flushdb()


@pytest.mark.slow
def test_on_rq_the_pages_follow_a_worker_s_job_and_cancel_and_retry_it(rq_web):
    from conftest import store_env

    app, c, home, qname = rq_web
    login(c, "eddie")
    token = c.get("/api/v1/me").json()["csrf_token"]
    r = c.post("/api/v1/recommend/batch", json={"cities": ["Lyon", "Porto", "Nowhere-upon-Sea"], "top": 3},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    page = c.get(f"/jobs/{job_id}")
    assert 'data-status="queued"' in page.text and "Waiting for a worker" in page.text
    # cancelled while queued, then retried: it waits for a worker again
    r = c.post(f"/jobs/{job_id}/cancel", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/jobs/{job_id}")
    assert 'data-status="cancelled"' in page.text and 'id="retry"' in page.text
    c.post(f"/jobs/{job_id}/retry", data={"csrf_token": csrf(page.text)})
    assert 'data-status="queued"' in c.get(f"/jobs/{job_id}").text
    env = {**store_env(home), **{"PYTHONPATH": loadgen.env()["PYTHONPATH"]}, "CITYDIP_QUEUE_NAME": qname}
    worker = subprocess.run([sys.executable, "-m", "citydiplomacy", "worker", "--queue", REDIS_URL, "--burst"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert worker.returncode == 0, worker.stderr[-2000:]
    page = c.get(f"/jobs/{job_id}")
    assert 'data-status="succeeded"' in page.text and "The job is done." in page.text
    result = c.get(f"/jobs/{job_id}/result.json").json()
    assert [a["city"] for a in result["answers"]] == ["Lyon", "Porto"]
    assert result["not_found"][0]["city"] == "Nowhere-upon-Sea"
    listing = c.get("/jobs?state=succeeded").text
    assert job_id in listing and "Recommendations" in listing


# -- in the browser ------------------------------------------------------------------------------

@pytest.mark.slow
def test_chromium_watches_a_real_job_reach_done_and_the_pages_fit_375_px(web):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import webserver

    if not webserver.CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    app, _ = web
    with webserver.serving(app) as url, webserver.chromium(sync_api) as browser, \
            webserver.watched_page(browser, url, viewport={"width": 1280, "height": 800}) as pg:
        pg.goto("/login?next=/jobs")
        pg.fill("#f-name", "eddie")
        pg.fill("#f-password", PASSWORD)
        pg.click("form[action='/login'] button[type=submit]")
        pg.wait_for_url(re.compile(r"/jobs(\?|$)"))
        # a real job: a batch of recommendations, submitted through the API with the session
        token = pg.evaluate("() => fetch('/api/v1/me').then(r => r.json()).then(d => d.csrf_token)")
        cities = ["Lyon", "Porto", "Gdańsk"]
        answer = pg.evaluate("""([token, cities]) => fetch('/api/v1/recommend/batch', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({cities: cities, top: 3})}).then(r => r.json())""", [token, cities])
        job_id = answer["id"]
        pg.goto("/jobs")
        assert pg.locator(f'tr[data-job="{job_id}"]').count() == 1
        pg.goto(f"/jobs/{job_id}")
        seen = set()
        deadline = time.monotonic() + 900      # the models are fitted in the server's process: slow under load
        while True:     # the page updates itself (no reload): collect the states it shows
            status = pg.locator("#job-status").get_attribute("data-status")
            seen.add(status)
            if status in ("succeeded", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, seen
            pg.wait_for_timeout(100)
        assert status == "succeeded", pg.locator("#job-status").inner_text()
        assert seen & {"queued", "running"}, seen           # it was followed while it ran
        assert pg.url.endswith(f"/jobs/{job_id}")            # ... without leaving the page
        assert pg.locator("#job-done a[download]").count() == 1
        assert pg.locator("progress").get_attribute("value") == "1"
        assert pg.locator(f'a[href="/jobs/{job_id}/result.json"]').count() == 1
        # on a phone (375 px) nothing is wider than the screen: no page scrolls sideways
        pg.set_viewport_size({"width": 375, "height": 740})
        for path in (f"/jobs/{job_id}", "/jobs", "/jobs?state=succeeded"):
            pg.goto(path)
            assert pg.evaluate("() => document.documentElement.scrollWidth") <= 375, path
        assert pg.locator(f'tr[data-job="{job_id}"] .badge').inner_text() == "succeeded"
        assert pg.locator(f'tr[data-job="{job_id}"] progress').is_visible()
