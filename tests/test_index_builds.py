"""Named index builds: several side by side, one published; what the published one
changes (the API, the pages, the profile), switching it audited, other builds reachable by
name, the command line, an administrator's build from the web as a job, and the upgrade of
a store built before revision 0008."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from citydiplomacy import accounts
from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.indices import builds as B
from citydiplomacy.model import Provenance
from citydiplomacy.store import SCHEMA_HEAD, Store, schema
from citydiplomacy.store.audit import acting_as

from test_indices import SMALL_FRAMEWORK, small  # noqa: F401 - the small world's fixture

PASSWORD = "correct horse battery"


@pytest.fixture
def fw(tmp_path):
    path = tmp_path / "fw.yaml"
    path.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    return str(path)


def overall_ranks(obs, build=None):
    return {r["id"]: r["rank"] for r in obs.index_rank(top=10, build=build)["rows"]}


def test_two_builds_live_side_by_side_and_the_first_stays_published(small, fw):
    first = small.build_index(fw, replications=20)
    # another framework (rank normalisation), another name
    panel_fw = fw.replace("fw.yaml", "panel.yaml")
    with open(panel_fw, "w", encoding="utf-8") as f:
        f.write(SMALL_FRAMEWORK.replace("normalisation: minmax", "normalisation: rank"))
    second = small.build_index(panel_fw, replications=0, name="by-rank")
    assert first.published and not second.published
    assert first.name != second.name and second.label == "by-rank"
    # the name says what was built: framework, its hash, years, options, data version
    assert re.fullmatch(r"fw-[0-9a-f]{8}-snapshot-n20-s1-d1", first.name), first.name
    assert re.fullmatch(r"panel-[0-9a-f]{8}-snapshot-n0-s1-d1", second.name), second.name
    listed = small.index_builds()
    assert [b["name"] for b in listed] == [second.name, first.name]
    assert [b["published"] for b in listed] == [False, True]
    assert listed[1]["framework_hash"] == B.framework_hash(__import__(
        "citydiplomacy.indices.framework", fromlist=["x"]).load_framework(fw))
    # the published build is the default everywhere; the other one is reachable by either name
    assert small.index_build()["name"] == first.name
    assert small.index_show("a")["build"] == first.name
    assert small.profile("a")["index"]["build"] == first.name
    assert small.index_show("a", build="by-rank")["build"] == second.name
    assert small.index_show("a", build=second.name)["run"] == second.run_id
    assert small.index_rank(build="by-rank")["run"] == second.run_id
    assert small.profile("a", build="by-rank")["index"]["published"] is False


def test_publishing_switches_what_is_shown_and_is_audited(small, fw):
    first = small.build_index(fw, replications=0)
    second = small.build_index(fw, replications=10, name="ten")
    assert small.index_rank()["run"] == first.run_id
    with acting_as("ops", "cli"):
        r = small.index_publish("ten")
        again = small.index_publish(second.name)            # already published: nothing changes
    assert r == {"name": second.name, "label": "ten", "previous": first.name, "changed": True}
    assert not again["changed"]
    assert small.index_rank()["run"] == second.run_id and small.index_show("a")["published"]
    assert small.profile("a")["index"]["build"] == second.name
    # the old build is still there, by its name
    assert small.index_rank(build=first.name)["run"] == first.run_id
    log = accounts.audit_log(small.store)
    pub = [e for e in log if e["action"] == "index.publish"]
    assert len(pub) == 1 and pub[0]["user_name"] == "ops" and pub[0]["channel"] == "cli"
    assert pub[0]["target"] == second.name and pub[0]["detail"]["previous"] == first.name
    with small.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.index_builds)
                            .where(schema.index_builds.c.published.is_(True))).scalar() == 1


def test_a_build_of_the_same_name_replaces_it_and_keeps_its_state(small, fw):
    first = small.build_index(fw, replications=0, name="base")
    again = small.build_index(fw, replications=0)
    assert again.name == first.name and again.replaced == first.name
    assert again.published and again.label == "base"
    with small.store.connect() as conn:
        runs = set(conn.execute(select(schema.index_scores.c.run_id).distinct()).scalars())
        n = conn.execute(select(func.count()).select_from(schema.index_builds)).scalar()
    assert runs == {again.run_id} and n == 1
    # new data, a new data version: a new name
    with small.store.transaction() as conn:
        run = small.store.start_run(conn, "test")
        small.store.finish_run(conn, run, {})
    third = small.build_index(fw, replications=0)
    assert third.name != first.name and f"-d{run}" in third.name and not third.published


def test_remove_and_the_errors_say_what_to_do(small, fw):
    with pytest.raises(NotFoundError, match="citydip index build"):
        small.index_build()
    first = small.build_index(fw, replications=0)
    second = small.build_index(fw, replications=5, name="five")
    with pytest.raises(NotFoundError) as exc:
        small.index_show("a", build="nope")
    assert "five" in str(exc.value) and "citydip index builds" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        small.index_remove(first.name)
    assert exc.value.field == "build" and "publish another" in exc.value.detail
    with pytest.raises(ValidationError) as exc:
        small.build_index(fw, replications=7, name="five")          # the name is taken, before any work
    assert exc.value.field == "name"
    with pytest.raises(ValidationError):
        small.build_index(fw, name="no spaces/please")
    assert small.index_remove("five") == {"name": second.name, "label": "five"}
    assert [b["name"] for b in small.index_builds()] == [first.name]
    with small.store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.index_values)
                            .where(schema.index_values.c.run_id == second.run_id)).scalar() == 0


# -- the faces ------------------------------------------------------------------------------------

@pytest.fixture
def web(small, fw, tmp_path, monkeypatch):
    """The web app on the small world with two builds (the first published) and an admin."""
    from citydiplomacy.web import create_app

    monkeypatch.setenv("CITYDIP_JOBS", "thread")
    first = small.build_index(fw, replications=0)
    second = small.build_index(fw, replications=10, name="ten")
    for name, role in (("ada", "admin"), ("eddie", "editor")):
        accounts.add_user(small.store, name, PASSWORD, role)
    app = create_app(home=tmp_path / "home", secret="test-secret")
    store = app.state.obs.store
    tokens = {role: accounts.create_token(store, accounts.get_user(store, name), "t")[1]
              for name, role in (("ada", "admin"), ("eddie", "editor"))}
    with TestClient(app) as client:
        yield {"client": client, "app": app, "first": first, "second": second, "tokens": tokens, "fw": fw}
    app.state.obs.close()


def test_the_api_shows_the_published_build_and_others_by_name(web):
    c, first, second = web["client"], web["first"], web["second"]
    admin = {"Authorization": f"Bearer {web['tokens']['admin']}"}
    editor = {"Authorization": f"Bearer {web['tokens']['editor']}"}
    assert c.get("/api/v1/index").json()["name"] == first.name
    assert c.get("/api/v1/index", params={"build": "ten"}).json()["run_id"] == second.run_id
    builds = c.get("/api/v1/index/builds").json()
    assert builds["total"] == 2 and [b["published"] for b in builds["items"]] == [False, True]
    assert c.get("/api/v1/index/rank").json()["build"] == first.name
    assert c.get("/api/v1/actors/a/index", params={"build": "ten"}).json()["run"] == second.run_id
    r = c.get("/api/v1/index", params={"build": "nope"})
    assert r.status_code == 404 and "ten" in r.json()["detail"]
    assert c.get("/api/v1/index", params={"build": "bad name"}).status_code == 422
    # only an administrator publishes
    assert c.post("/api/v1/index/publish", json={"build": "ten"}).status_code == 401
    assert c.post("/api/v1/index/publish", json={"build": "ten"}, headers=editor).status_code == 403
    r = c.post("/api/v1/index/publish", json={"build": "ten"}, headers=admin)
    assert r.status_code == 200 and r.json()["previous"] == first.name
    # the cached reads follow at once
    assert c.get("/api/v1/index").json()["name"] == second.name
    assert c.get("/api/v1/index/rank").json()["run"] == second.run_id
    assert c.get("/api/v1/actors/a/profile").json()["index"]["build"] == second.name
    entry = accounts.audit_log(web["app"].state.obs.store, limit=5)[0]
    assert (entry["action"], entry["user_name"], entry["channel"]) == ("index.publish", "ada", "api")
    # the published build cannot be removed; another one can
    assert c.delete(f"/api/v1/index/builds/{second.name}", headers=admin).status_code == 422
    assert c.delete(f"/api/v1/index/builds/{first.name}", headers=admin).status_code == 200
    assert c.get("/api/v1/index", params={"build": first.name}).status_code == 404


def test_the_profile_route_reads_a_build_by_name(web):
    c, first, second = web["client"], web["first"], web["second"]
    assert c.get("/api/v1/actors/a/profile").json()["index"]["build"] == first.name
    for ref in ("ten", second.name):
        index = c.get("/api/v1/actors/a/profile", params={"build": ref}).json()["index"]
        assert (index["build"], index["run"], index["published"]) == (second.name, second.run_id, False)
    # with its network section too (that path used to drop the index)
    r = c.get("/api/v1/actors/a/profile", params={"build": "ten", "network": "true"}).json()
    assert r["index"]["build"] == second.name and "network" in r
    r = c.get("/api/v1/actors/a/profile", params={"build": "nope"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    detail = r.json()["detail"]
    assert "no index build named 'nope'" in detail and first.name in detail and "ten" in detail
    assert c.get("/api/v1/actors/a/profile", params={"build": "bad name"}).status_code == 422


def test_the_pages_show_the_published_build_and_an_admin_switches_it(web):
    c, first, second = web["client"], web["first"], web["second"]
    page = c.get("/indices").text
    assert first.name in page and "the published build" in page and 'action="/indices/publish"' not in page
    assert "ten" in c.get("/indices", params={"build": "ten"}).text
    actor = c.get("/actors/a").text
    assert first.name in actor
    assert "ten" in c.get("/actors/a", params={"build": "ten"}).text
    assert c.get("/actors/a", params={"build": "nope"}).status_code == 404
    unknown = c.get("/indices", params={"build": "nope"}).text
    assert "no index build named" in unknown and "No index has been built" not in unknown
    # an administrator signs in and publishes through the page's form
    login = c.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    r = c.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = c.get("/indices").text
    assert 'action="/indices/publish"' in page and 'action="/indices/builds"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = c.post("/indices/publish", data={"build": second.name, "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/indices/publish", data={"build": second.name, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "done=published" in r.headers["location"]
    assert second.name in c.get("/actors/a").text and "ten" in c.get("/indices").text
    entry = accounts.audit_log(web["app"].state.obs.store, limit=5)[0]
    assert (entry["action"], entry["user_name"], entry["channel"]) == ("index.publish", "ada", "web")


def test_an_admin_builds_from_the_web_and_follows_its_progress(web):
    c = web["client"]
    admin = {"Authorization": f"Bearer {web['tokens']['admin']}"}
    editor = {"Authorization": f"Bearer {web['tokens']['editor']}"}
    assert c.post("/api/v1/index/builds", json={}, headers=editor).status_code == 403
    r = c.post("/api/v1/index/builds", json={"years": "20x0"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "years"
    r = c.post("/api/v1/index/builds", json={"framework": "/etc/passwd"}, headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "framework"
    r = c.post("/api/v1/index/builds", json={"framework": web["fw"], "replications": 5, "name": "from-api",
                                              "publish": True}, headers=admin)
    assert r.status_code == 202, r.text
    url = r.headers["location"]

    deadline = time.monotonic() + 120
    while (job := c.get(url, headers=admin).json())["status"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    assert job["result"]["label"] == "from-api" and job["result"]["published"]
    assert c.get("/api/v1/index").json()["label"] == "from-api"
    log = accounts.audit_log(web["app"].state.obs.store, limit=5)
    assert (log[0]["action"], log[0]["user_name"], log[0]["channel"]) == ("index.build", "ada", "api")
    assert log[0]["detail"]["published"] is True
    # from the page: the form starts a job whose page refreshes until it shows the build
    login = c.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    c.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/indices").text).group(1)
    r = c.post("/indices/builds", data={"replications": "abc", "csrf_token": token})
    assert r.status_code == 422 and "whole number" in r.text
    r = c.post("/indices/builds", data={"framework": web["fw"], "replications": "3", "name": "from-page",
                                        "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/indices/jobs/")
    deadline = time.monotonic() + 120
    while True:
        page = c.get(r.headers["location"], follow_redirects=False)
        if page.status_code == 303:
            break
        assert page.status_code == 200 and "Building the indices" in page.text
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "build=from-page" in page.headers["location"]
    shown = c.get(page.headers["location"]).text
    assert "from-page" in shown and "not published" in shown


def test_one_index_build_at_a_time(web, tmp_path):
    from citydiplomacy.jobs import ThreadJobs, submit_one

    queue = ThreadJobs(tmp_path / "jobs", start=False)          # no worker: a job stays queued
    first, submitted = submit_one(queue, "index-build", {"store": "x"}, owner="ada")
    assert submitted and first.status == "queued"
    again, submitted = submit_one(queue, "index-build", {"store": "x"}, owner="bob")
    assert not submitted and again.id == first.id
    queue.cancel(first.id)
    third, submitted = submit_one(queue, "index-build", {"store": "x"}, owner="bob")
    assert submitted and third.id != first.id
    # through the API: a 409 that names the build in progress
    app = web["app"]
    app.state.jobs, real = queue, app.state.jobs
    try:
        r = web["client"].post("/api/v1/index/builds", json={}, headers={
            "Authorization": f"Bearer {web['tokens']['admin']}"})
    finally:
        app.state.jobs = real
    assert r.status_code == 409 and third.id in r.json()["detail"]
    # through the page: a second build follows the one in progress, whose page cancels it
    c = web["client"]
    login = c.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    c.post("/login", data={"name": "ada", "password": PASSWORD, "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/indices").text).group(1)
    app.state.jobs = queue
    try:
        r = c.post("/indices/builds", data={"replications": "3", "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/indices/jobs/{third.id}?busy=1"
        page = c.get(r.headers["location"]).text
        assert "Another index build is in progress" in page and "Waiting for another job" in page
        r = c.post(f"/indices/jobs/{third.id}/cancel", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        assert "cancelled; nothing was written" in c.get(f"/indices/jobs/{third.id}").text
        assert c.get("/indices/jobs/unknown-job-id").status_code == 404
    finally:
        app.state.jobs = real


# -- the command line ----------------------------------------------------------------------------

def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True, env=env,
                          timeout=600)


def test_cli_builds_publish_and_build_option(small, fw, tmp_path):
    env = dict(os.environ, CITYDIP_HOME=str(tmp_path / "home"))
    r = run_cli(env, "index", "build", "--config", fw, "-n", "0")
    assert r.returncode == 0, r.stderr
    assert "published" in r.stdout
    r = run_cli(env, "index", "build", "--config", fw, "-n", "10", "--name", "ten")
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "not published" in text and "publish it with: citydip index publish ten" in text
    r = run_cli(env, "index", "builds", "--format", "json")
    listed = json.loads(r.stdout)
    assert [b["label"] for b in listed] == ["ten", None] and listed[1]["published"]
    r = run_cli(env, "index", "builds")
    assert r.returncode == 0 and "ten" in r.stdout and "published" in r.stdout
    r = run_cli(env, "index", "show", "a", "--build", "ten", "--format", "json")
    assert json.loads(r.stdout)["build_label"] == "ten"
    r = run_cli(env, "index", "rank", "--build", "nope")
    assert r.returncode == 1 and "ten" in r.stderr and "Traceback" not in r.stderr
    r = run_cli(env, "index", "publish", "ten")
    assert r.returncode == 0 and "published" in r.stdout
    r = run_cli(env, "index", "rank", "--format", "json")
    assert json.loads(r.stdout)["build_label"] == "ten"
    r = run_cli(env, "index", "remove", "ten")
    assert r.returncode == 1 and "publish another" in r.stderr
    with Store(tmp_path / "home" / "citydip.sqlite") as st:
        log = accounts.audit_log(st, limit=10)
    assert [e["action"] for e in log][:3] == ["index.publish", "index.build", "index.build"]
    assert log[0]["channel"] == "cli"
    for cmd in ("builds", "publish", "remove"):
        h = run_cli(env, "index", cmd, "--help")
        assert h.returncode == 0 and "Example" in h.stdout


# -- the upgrade of an older store ------------------------------------------------------------------

def test_a_store_at_0007_gets_its_build_named_and_published(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Store(path, migrate=False)
    old.migrate("0007")
    with old.transaction() as conn:
        data = old.start_run(conn, "default-dataset")
        prov = old.add_provenance(conn, Provenance(source="t", licence="CC0"), data)
        conn.execute(insert(schema.actors).values(id="x", name="X", kind="city", layer="micro", provenance_id=prov))
        old.finish_run(conn, data, {})
        runs = []
        for n in (100, 50):                 # two builds; the second replaced the first's rows
            run = old.start_run(conn, "index", "shipped framework (data/indices/framework.yaml)")
            old.finish_run(conn, run, {"framework": "shipped", "years": [2019, 2020], "replications": n,
                                       "scored": 1, "uncertainty": {"n": n, "seed": 0}})
            runs.append(run)
        conn.execute(insert(schema.index_scores).values(run_id=runs[1], actor_id="x", year=2020, axis="overall",
                                                        score=50.0, rank=1.0))
    old.close()

    new = Store(path)
    assert new.schema_version() == SCHEMA_HEAD
    listed = B.list_builds(new)
    assert len(listed) == 1
    b = listed[0]
    assert b["name"] == f"shipped-run{runs[1]}-2019-2020-n50-s0-d{data}" and b["published"]
    assert b["framework_hash"] is None and b["data_version"] == data and b["years"] == "2019-2020"
    assert B.find_build(new)["run_id"] == runs[1]
    assert B.find_build(new, b["name"])["published"]
    from citydiplomacy.indices.stored import brief

    assert brief(new, "x")["axes"]["overall"]["score"] == 50.0
    new.close()
