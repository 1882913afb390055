"""The store's data versions (citydiplomacy.store.versions) and the caches keyed by them:
each write raises what it touches, in its own transaction; the web's response cache keeps
the reads a write does not touch, and never serves a read older than an acknowledged
write — through another app on the same store, or another uvicorn worker (PostgreSQL);
the graph kept by one process is rebuilt after another process's write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import citydiplomacy
from citydiplomacy import accounts
from citydiplomacy.store import schema
from citydiplomacy.web.app import create_app

PASSWORD = "correct horse battery"
SRC = {"source": "a test of data versions"}


def _new_store(tmp_path, db: str | None):
    """An empty store (a SQLite file in tmp_path, or the PostgreSQL database ``db``) with
    three cities, an editor and the editor's token."""
    obs = citydiplomacy.open(home=tmp_path, db=db, build=False)
    for name, pop in (("Alpha", 100_000), ("Beta", 200_000), ("Gamma", 300_000)):
        obs.add_actor(name, "city", id=name.lower(), country="FR", population=pop, **SRC)
    accounts.add_user(obs.store, "eddie", PASSWORD, "editor")
    token = accounts.create_token(obs.store, accounts.get_user(obs.store, "eddie"), "tests")[1]
    return obs, token


def _versions(store) -> dict[str, int]:
    with store.connect() as conn:
        return dict(conn.execute(select(schema.data_versions.c.scope, schema.data_versions.c.version)).all())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_db(request, tmp_path):
    """None (a SQLite file) or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        yield None
    else:
        yield request.getfixturevalue("pg_db")


def test_each_write_raises_what_it_touches(tmp_path, store_db):
    obs, _ = _new_store(tmp_path, store_db)
    try:
        v = _versions(obs.store)
        assert v["all"] == v["structure"] == 3          # three actors added: not local writes
        token = obs._data_version()

        obs.edit_actor("alpha", population=150_000, **SRC)   # a figure no query finds actors by
        v = _versions(obs.store)
        assert v["all"] == 4 and v["structure"] == 3 and v["actor:alpha"] == 4
        assert obs._data_version() != token

        obs.add_tie("beta", "gamma", "partner_of", since="2020", **SRC)
        v = _versions(obs.store)
        assert v["all"] == 5 and v["structure"] == 3 and v["actor:beta"] == v["actor:gamma"] == 5

        obs.edit_actor("alpha", name="Alpha-sur-Mer", **SRC)   # a name: searches change
        v = _versions(obs.store)
        assert v["all"] == v["structure"] == 6
        assert not [s for s in v if s.startswith("actor:")]      # below structure: dropped

        with obs.store.transaction() as conn:       # a rebuild keeps the versions rising
            obs.store.clear(conn)
        assert _versions(obs.store)["all"] == 6
    finally:
        obs.close()


def test_the_response_cache_keeps_what_a_write_does_not_touch_and_sees_what_it_does(tmp_path, store_db):
    """Two apps on one store (two web workers): a write through one is seen by the next
    read through the other; the cached reads of actors it does not touch stay."""
    obs, token = _new_store(tmp_path, store_db)
    obs2 = citydiplomacy.open(home=tmp_path, db=store_db, build=False)
    one = create_app(obs=obs, secret="s")
    two = create_app(obs=obs2, secret="s")
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(one) as a, TestClient(two) as b:
            reads = ["/api/v1/actors/alpha", "/api/v1/actors/beta", "/api/v1/actors/beta/ties",
                     "/api/v1/search?q=Beta", "/api/v1/status"]
            for path in reads * 2:
                assert a.get(path).status_code == 200
            cache = one.state.cache
            assert cache.misses == len(reads) and cache.hits == len(reads)

            for n in range(3):
                etag = b.get("/api/v1/actors/alpha").headers["etag"]
                r = b.patch("/api/v1/actors/alpha", json={"population": 500_000 + n, **SRC},
                            headers={**auth, "If-Match": etag})
                assert r.status_code == 200, r.text
                # at once, through the other app
                assert a.get("/api/v1/actors/alpha").json()["population"] == 500_000 + n
                assert a.get("/api/v1/status").status_code == 200
            misses = cache.misses
            for path in reads[1:4]:        # beta's reads and the search were not touched
                assert a.get(path).status_code == 200
            assert cache.misses == misses

            r = b.post("/api/v1/ties", json={"actor": "alpha", "target": "beta", "type": "partner_of",
                                             "since": "2021", **SRC}, headers=auth)
            assert r.status_code in (200, 201), r.text
            ties = a.get("/api/v1/actors/beta/ties").json()
            assert any("alpha" in (t["source"], t["target"]) for t in ties["items"])
            assert a.get("/api/v1/search?q=Gamma").status_code == 200

            r = b.patch("/api/v1/actors/beta", json={"name": "Betaville", **SRC}, headers=auth)
            assert r.status_code == 200, r.text
            hits = a.get("/api/v1/search?q=Betaville").json()["items"]
            assert [h["id"] for h in hits] == ["beta"]
            assert a.get("/api/v1/actors/beta").json()["name"] == "Betaville"
    finally:
        obs.close()
        obs2.close()


def _linked(graph, a: str, b: str) -> bool:
    u = graph.undirected()
    return u.are_adjacent(graph.index(a), graph.index(b))


@pytest.mark.postgres
def test_the_graph_kept_by_one_process_follows_another_process_write(tmp_path, pg_db):
    obs, _ = _new_store(tmp_path, pg_db)
    other = citydiplomacy.open(home=tmp_path / "other", db=pg_db, build=False)
    try:
        g = obs.graph()
        assert obs.graph() is g                     # kept while the store is unchanged
        assert not _linked(g, "alpha", "gamma")
        other.add_tie("alpha", "gamma", "partner_of", since="2022", **SRC)
        g2 = obs.graph()
        assert g2 is not g
        assert _linked(g2, "alpha", "gamma")
    finally:
        obs.close()
        other.close()


def _get(url: str) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, headers={"Accept": "application/json", "Connection": "close"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), json.loads(r.read())


def _send(url: str, method: str, body: dict, headers: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json",
                                          "Connection": "close", **headers})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


@pytest.mark.postgres
@pytest.mark.slow
def test_two_uvicorn_workers_never_serve_a_read_older_than_an_acknowledged_write(tmp_path, pg_db):
    """``serve --workers 2`` on PostgreSQL: after each acknowledged edit, every read — on
    new connections, so both workers answer — shows it, though both cached the actor."""
    from webserver import free_port

    obs, token = _new_store(tmp_path, pg_db)
    obs.close()
    port = free_port()
    env = dict(os.environ, CITYDIP_HOME=str(tmp_path), CITYDIP_DATABASE_URL=pg_db)
    proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy.web.serve", "--store", pg_db, "--port", str(port),
                             "--workers", "2", "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.time() + 120
        while True:
            try:
                _get(f"{base}/status")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("the server did not start: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.3)
        time.sleep(2)                      # the second worker
        for _ in range(20):                # both workers cache the actor and its ties
            _get(f"{base}/actors/gamma")
            _get(f"{base}/actors/gamma/ties")
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(15):
            status, _ = _send(f"{base}/actors/gamma", "PATCH", {"population": 700_000 + n, **SRC}, auth)
            assert status == 200
            for _ in range(6):
                assert _get(f"{base}/actors/gamma")[2]["population"] == 700_000 + n
            if n % 5 == 0:
                other = ["alpha", "beta"][n % 2]
                status, _ = _send(f"{base}/ties", "POST", {"actor": "gamma", "target": other, "type": "partner_of",
                                                          "since": str(2000 + n), **SRC}, auth)
                assert status in (200, 201)
                for _ in range(6):
                    items = _get(f"{base}/actors/gamma/ties?limit=100")[2]["items"]
                    assert any(t["since"] == str(2000 + n) for t in items)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
