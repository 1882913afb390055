"""Hardening of the observatory (docs/security.md): out-of-range numbers in URLs, the
audit of command-line writes and the channel of every audit row, file modes of the store,
security headers, and — against real ``citydip serve`` processes on loopback — the limit
on request heads, forwarded headers trusted only when asked, and workers that start warm
and are not replaced by the supervisor while they do."""

from __future__ import annotations

import getpass
import json
import os
import re
import select
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import citydiplomacy
from citydiplomacy import accounts
from citydiplomacy.errors import NotFoundError
from citydiplomacy.store import Store
from citydiplomacy.store.audit import acting_as
from citydiplomacy.web import create_app
from citydiplomacy.web.app import CSP, MAX_HEAD
from conftest import app_args, copy_store, open_store, store_args

PASSWORD = "correct horse battery"
BIG = ["99999999999999999999", str(2**63), str(2**64 + 1), "-99999999999999999999", "²", "١٢٣",
       "9" * 5000]


@pytest.fixture(scope="module")
def home(built_home, tmp_path_factory) -> Path:
    """A private copy of the built store, with an editor."""
    home = tmp_path_factory.mktemp("security-home")
    copy_store(built_home, home)
    with open_store(home) as store:
        accounts.add_user(store, "eddie", PASSWORD, "editor")
    return home


@pytest.fixture(scope="module")
def app(home):
    app = create_app(**app_args(home), secret="security-tests")
    store = app.state.obs.store
    app.state.token = accounts.create_token(store, accounts.get_user(store, "eddie"), "tests")[1]
    yield app
    app.state.obs.close()


@pytest.fixture
def client(app):
    return TestClient(app, raise_server_exceptions=False)


# -- 1. numbers out of range -----------------------------------------------------------------

@pytest.mark.parametrize("ref", BIG)
@pytest.mark.parametrize("path", ["/api/v1/actors/{}", "/api/v1/actors/{}/ties", "/api/v1/actors/{}/profile",
                                  "/api/v1/actors/{}/index", "/api/v1/actors/{}/ego",
                                  "/api/v1/actors/{}/initiatives", "/api/v1/map/ties?actor={}", "/actors/{}"])
def test_a_numeric_ref_out_of_range_is_an_unknown_actor(client, path, ref):
    r = client.get(path.format(ref))
    assert r.status_code in (404, 422), (r.status_code, r.text[:300])


@pytest.mark.parametrize("ref", BIG[:3])
def test_writes_to_an_out_of_range_actor_are_404(client, app, ref):
    auth = {"Authorization": f"Bearer {app.state.token}"}
    r = client.patch(f"/api/v1/actors/{ref}", json={"population": 5, "source": "test"}, headers=auth)
    assert r.status_code == 404, r.text
    r = client.post("/api/v1/ties", json={"actor": ref, "target": "c40", "type": "member_of", "source": "test"},
                    headers=auth)
    assert r.status_code == 404, r.text
    r = client.post(f"/api/v1/actors/{ref}/initiatives", json={"title": "x", "source": "test"}, headers=auth)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("token_id", [str(2**63), str(2**70), "-1", "0"])
def test_a_token_id_out_of_range_is_422(client, app, token_id):
    r = client.delete(f"/api/v1/me/tokens/{token_id}", headers={"Authorization": f"Bearer {app.state.token}"})
    assert r.status_code == 422, r.text


def test_the_library_treats_out_of_range_ids_as_unknown(app):
    obs = app.state.obs
    for ref in BIG:
        with pytest.raises(NotFoundError):
            obs.get(ref)
    eddie = accounts.get_user(obs.store, "eddie")
    for token_id in (2**63, 2**80, -5):
        with pytest.raises(NotFoundError, match="no token"):
            accounts.revoke_token(obs.store, eddie, token_id)


def test_an_imported_geonames_id_out_of_range_is_a_rejected_row(home, tmp_path):
    f = tmp_path / "actors.csv"
    f.write_text("name,kind,country,geonames_id\nTestville,city,ES,99999999999999999999\n", encoding="utf-8")
    obs = citydiplomacy.open(**store_args(home), build=False)
    try:
        rep = obs.import_("table", str(f), dry_run=True, as_="actors",
                          mapping={"name": "name", "kind": "kind", "country": "country", "geonames_id": "geonames_id"})
    finally:
        obs.close()
    (problem,) = rep.problems
    assert (problem.row, problem.field) == (2, "geonames_id")


# -- 2. warm workers -----------------------------------------------------------------------

def test_warm_up_loads_what_alignment_needs():
    from citydiplomacy.align import catalog, engine, language, lexicon
    from citydiplomacy.web.app import warm_up

    warm_up()
    for cached in (lexicon.default_lexicon, catalog.catalog, language._lingua, engine.aligner):
        assert cached.cache_info().currsize >= 1, cached.__name__


def test_several_workers_get_a_health_check_longer_than_their_warm_up():
    from citydiplomacy.web.serve import HEALTHCHECK_TIMEOUT, uvicorn_options

    assert uvicorn_options(workers=2)["timeout_worker_healthcheck"] == HEALTHCHECK_TIMEOUT >= 30
    assert "timeout_worker_healthcheck" not in uvicorn_options(workers=1)


# -- 3. the audit log: every write, its user and its channel ---------------------------------------

@pytest.fixture
def work_home(built_home, tmp_path) -> Path:
    home = tmp_path / "work"
    copy_store(built_home, home)
    return home


def _cli(home: Path, *args: str):
    from citydiplomacy.cli import app as cli_app

    db = store_args(home)["db"]
    return CliRunner().invoke(cli_app, ["--home", str(home), *(["--db", db] if db else []), *args])


def test_cli_imports_are_audited_as_the_os_user_and_dry_runs_are_not(work_home, tmp_path):
    f = tmp_path / "twins.csv"
    f.write_text("city1,country1,city2,country2\nBarcelona,Spain,Lyon,France\n", encoding="utf-8")
    assert _cli(work_home, "import", "twinning", str(f), "--dry-run").exit_code == 0
    with open_store(work_home) as store:
        assert accounts.audit_log(store) == []
    r = _cli(work_home, "import", "twinning", str(f))
    assert r.exit_code == 0, r.output
    r = _cli(work_home, "initiative", "add", "Barcelona", "--title", "Climate shelters",
             "--text", "Cooled public buildings protect residents during heatwaves.", "--source", "test")
    assert r.exit_code == 0, r.output
    with open_store(work_home) as store:
        log = accounts.audit_log(store)
    assert [(e["user_name"], e["channel"], e["action"]) for e in log] == [
        (getpass.getuser(), "cli", "initiative.add"), (getpass.getuser(), "cli", "import.apply")]
    entry = log[1]
    assert entry["target"].startswith("twinning: ") and entry["target"].endswith("twins.csv")
    assert entry["detail"]["created"] == {"ties": 1} and entry["detail"]["run_id"] > 0
    r = _cli(work_home, "audit", "--channel", "cli", "--format", "json")
    assert [e["action"] for e in json.loads(r.stdout)] == ["initiative.add", "import.apply"]


def test_a_write_and_its_audit_row_are_one_transaction(work_home, monkeypatch):
    """A failure after the write's audit row was added leaves neither."""
    from citydiplomacy.store import audit as audit_mod

    obs = citydiplomacy.open(**store_args(work_home), build=False)
    ties_before = obs.status()["ties"]["total"]
    real = audit_mod.write_audit

    def write_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_mod, "write_audit", write_then_fail)
    with acting_as("ops", "python"), pytest.raises(RuntimeError):
        obs.add_tie("barcelona-es", "c40", "member_of", source="test")
    monkeypatch.setattr(audit_mod, "write_audit", real)
    assert obs.status()["ties"]["total"] == ties_before
    assert accounts.audit_log(obs) == []
    with acting_as("ops", "python"):
        obs.add_tie("barcelona-es", "c40", "member_of", source="test")
    obs.add_tie("lyon-fr", "c40", "member_of", source="test")       # nobody acting: no row
    (entry,) = accounts.audit_log(obs)
    assert (entry["user_name"], entry["channel"], entry["action"]) == ("ops", "python", "data.edit")
    obs.close()


def test_init_force_is_audited(tmp_path, monkeypatch):
    from citydiplomacy.dataset import build as build_mod

    monkeypatch.setattr(build_mod, "STEPS", [s for s in build_mod.STEPS if s[0] == "states"])
    home = tmp_path / "small"
    assert _cli(home, "init").exit_code == 0
    assert _cli(home, "init", "--force").exit_code == 0
    with Store(home / "citydip.sqlite") as store:
        log = accounts.audit_log(store)
    assert [(e["action"], e["channel"]) for e in log] == [("store.init", "cli")] * 2
    assert log[0]["detail"]["counts"]["actors"] > 190


def test_index_build_and_actor_edit_are_audited(work_home):
    obs = citydiplomacy.open(**store_args(work_home), build=False)
    with acting_as("ops", "cli"):
        obs.build_index(replications=10, seed=1)
        obs.edit_actor("barcelona-es", population=1_660_000, source="INE 2024")
        obs.edit_actor("barcelona-es", population=1_660_000, source="INE 2024")    # no change: no run, no row
    log = accounts.audit_log(obs)
    obs.close()
    assert [(e["action"], e["channel"]) for e in log] == [("actor.edit", "cli"), ("index.build", "cli")]
    assert log[0]["detail"]["changes"]["population"][1] == 1_660_000
    assert log[1]["detail"]["scored"] > 1000 and log[1]["detail"]["replications"] == 10


def test_web_and_api_rows_say_their_channel(app, client):
    store = app.state.obs.store
    r = TestClient(app).post("/api/v1/session", json={"name": "eddie", "password": PASSWORD})
    assert r.status_code == 200
    r = client.post("/api/v1/ties", json={"actor": "barcelona-es", "target": "c40", "type": "member_of",
                                          "since": "1901", "source": "channel test"},
                    headers={"Authorization": f"Bearer {app.state.token}"})
    assert r.status_code == 201, r.text
    page = TestClient(app)
    form = page.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    r = page.post("/login", data={"name": "eddie", "password": PASSWORD, "csrf_token": csrf},
                  follow_redirects=False)
    assert r.status_code == 303
    log = accounts.audit_log(store, limit=3, user="eddie")
    assert [(e["action"], e["channel"]) for e in log] == [("login.ok", "web"), ("tie.add", "api"),
                                                           ("login.ok", "api")]


# -- 4. file modes -------------------------------------------------------------------------

@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_new_store_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        obs = citydiplomacy.open(home=tmp_path / "new" / "home", build=False)
        accounts.add_user(obs, "maria", PASSWORD)           # a write: the -wal and -shm files exist
        from citydiplomacy.web.app import load_secret

        load_secret(obs.store.path)
        path = obs.store.path
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        obs.close()
    finally:
        os.umask(old)
    assert modes["citydip.sqlite"] == 0o600 and modes["web-secret"] == 0o600
    assert modes.get("citydip.sqlite-wal", 0o600) == 0o600 and modes.get("citydip.sqlite-shm", 0o600) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
@pytest.mark.sqlite_only     # the modes of the SQLite file
def test_an_existing_readable_store_is_left_as_it_is_and_status_warns(work_home):
    path = work_home / "citydip.sqlite"
    path.chmod(0o644)
    r = _cli(work_home, "status")
    assert r.exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert f"{path} can be read or written by other users (mode 0644)" in r.stderr
    assert f"chmod 600 {path}" in r.stderr
    path.chmod(0o600)
    for p in path.parent.glob("citydip.sqlite-*"):
        p.chmod(0o600)
    r = _cli(work_home, "status")
    assert "warning" not in r.stderr


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_an_upload_folder_others_can_open_is_not_used(tmp_path, monkeypatch):
    """The web's import uploads live in a folder of the shared temporary directory: one made
    there first by someone else (or left open to others) is refused, not written into."""
    from citydiplomacy.errors import StoreError
    from citydiplomacy.web import pages

    monkeypatch.setattr(pages.tempfile, "gettempdir", lambda: str(tmp_path))
    d = tmp_path / "citydip-web-imports"
    d.mkdir()
    d.chmod(0o777)
    with pytest.raises(StoreError, match="others can open it"):
        pages._jobs_dir()
    d.chmod(0o700)
    assert pages._jobs_dir() == d


# -- 5. security headers --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/actors/barcelona-es", "/api/v1/status", "/api/v1/docs",
                                  "/static/app.css", "/api/v1/actors/nowhere-xx"])
def test_every_response_has_the_security_headers(client, path):
    r = client.get(path)
    h = r.headers
    assert h["content-security-policy"] == CSP
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert h["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in h["permissions-policy"]
    assert "strict-transport-security" not in h


def test_hsts_only_over_https(app):
    r = TestClient(app, base_url="https://testserver").get("/api/v1/status")
    assert r.headers["strict-transport-security"] == "max-age=31536000"


TEMPLATES = Path(citydiplomacy.__file__).parent / "web" / "templates"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_script_style_or_handler(template):
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "an inline <script>"
    assert not re.search(r"\sstyle\s*=", text), "a style attribute"
    assert not re.search(r"<style", text), "a <style> element"
    assert not re.search(r"\son[a-z]+\s*=", text), "an event-handler attribute"
    assert "javascript:" not in text


def test_a_head_over_the_limit_is_431_in_the_app_too(client):
    r = client.get("/api/v1/status", headers={"X-Big": "a" * (MAX_HEAD + 1)})
    assert r.status_code == 431
    assert r.json()["status"] == 431 and "header fields" in r.json()["detail"]
    assert client.get("/api/v1/status", headers={"X-Fine": "a" * (MAX_HEAD // 2)}).status_code == 200


# -- real servers ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m citydiplomacy.web.serve`` (what ``citydip serve`` runs) on a free loopback port."""

    def __init__(self, home: Path, log: Path, *args: str, workers: int = 1, env: dict | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        # the store of ``home``: its SQLite file, or on PostgreSQL its database
        store = store_args(home)["db"] or str(home / "citydip.sqlite")
        cmd = [sys.executable, "-m", "citydiplomacy.web.serve", "--home", str(home), "--store", store,
               "--port", str(self.port),
               "--workers", str(workers), "--log-level", "info", *args]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **(env or {})}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env)
        deadline = time.time() + 240
        # with one worker uvicorn binds the port after the app's startup; with several, before
        while self.text().count("Application startup complete") < workers or "running on" not in self.text():
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                pytest.fail("the server did not start:\n" + self.text()[-3000:])
            time.sleep(0.2)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        req = urllib.request.Request(self.url + path, method=method, headers={**(headers or {})},
                                     data=json.dumps(body).encode() if body is not None else None)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def server(home, tmp_path_factory):
    """Two workers, as ``citydip serve --workers 2`` (default settings otherwise)."""
    srv = Server(home, tmp_path_factory.mktemp("srv") / "server.log", workers=2)
    yield srv
    srv.stop()


def _raw(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def test_warm_workers_answer_the_first_alignment_and_none_is_replaced(server):
    # no function word settles the language: the first detection needs Lingua's models
    status, _, body = server.request("POST", "/api/v1/align",
                                     {"text": "Solar panels, bus lanes, cycling paths, green roofs.", "mode": "light"})
    assert status == 200, body[:300]
    assert json.loads(body)["lang"] == "en"
    log = server.text()
    assert log.count("Started server process") == 2, log[-2000:]
    assert "died" not in log and "was not ready" not in log


def test_a_10_mb_header_is_refused_with_431_while_it_is_still_coming(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent, answer = 0, b""
        while sent < 10 * 2**20:
            s.sendall(b"a" * 65536)
            sent += 65536
            if select.select([s], [], [], 0.01)[0]:
                answer = s.recv(65536)
                break
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert sent < 5 * 2**20, f"answered only after {sent:,} bytes"
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["status"] == 431 and body["title"] == "Request header fields too large"
    assert server.request("GET", "/api/v1/status")[0] == 200          # and the worker serves on


@pytest.mark.parametrize("size, status", [(MAX_HEAD // 2, b"200"), (MAX_HEAD + 4096, b"431"),
                                          (200_000, b"431")])
def test_a_head_sent_in_one_piece_is_measured(server, size, status):
    head = b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    assert _raw(server.port, head).split(b" ")[1] == status


def test_many_small_headers_count_together(server):
    head = (b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 100) for i in range(200)) + b"\r\n")
    assert _raw(server.port, head).split(b" ")[1] == b"431"


def _failed_logins(server, n: int, forwarded: bool) -> list[int]:
    out = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"203.0.113.{i + 1}", "X-Forwarded-Proto": "https"} if forwarded else {}
        status, _, _ = server.request("POST", "/api/v1/session", {"name": f"nobody{i}-{forwarded}",
                                                                  "password": "wrong password"}, headers)
        out.append(status)
    return out


def test_forwarded_headers_are_not_believed_by_default(server, home):
    statuses = _failed_logins(server, 6, forwarded=True)
    # six different names from one real address: the address's count reaches the limit
    assert statuses == [401] * 5 + [429], statuses
    with open_store(home) as store:
        fails = [e for e in accounts.audit_log(store, limit=20) if e["action"] == "login.fail"]
    assert {e["detail"]["client"] for e in fails} == {"127.0.0.1"}
    _, headers, _ = server.request("GET", "/api/v1/status", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in {k.lower() for k in headers}


def test_forwarded_headers_are_believed_from_the_proxies_named(built_home, tmp_path):
    copy_store(built_home, tmp_path / "home")     # a store with no failed login yet
    srv = Server(tmp_path / "home", tmp_path / "server.log", "--forwarded-allow-ips", "127.0.0.1",
                 env={"CITYDIP_WEB_WARM_ALIGN": "0"})
    try:
        statuses = _failed_logins(srv, 6, forwarded=True)
        _, headers, _ = srv.request("GET", "/api/v1/status", headers={"X-Forwarded-Proto": "https"})
    finally:
        srv.stop()
    assert statuses == [401] * 6, statuses           # each attempt counted against its own client
    with open_store(tmp_path / "home") as s:
        clients = {e["detail"]["client"] for e in accounts.audit_log(s, limit=20) if e["action"] == "login.fail"}
    assert clients == {f"203.0.113.{i}" for i in range(1, 7)}
    assert {k.lower(): v for k, v in headers.items()}["strict-transport-security"] == "max-age=31536000"


# -- the documentation states the limits as they are -------------------------------------------

def test_security_doc_states_the_current_limits_and_headers():
    from citydiplomacy import accounts as acc, limits
    from citydiplomacy.web import api, app as app_mod, pages, protocol, security, serve

    doc = (Path(__file__).parent.parent / "docs" / "security.md").read_text(encoding="utf-8")
    stated = {
        "head": f"{app_mod.MAX_HEAD // 1024} KB", "body": f"{app_mod.MAX_BODY // 2**20} MB",
        "upload": (f"{limits.DEFAULTS['anonymous'].file_bytes // 2**20} MB without an account, "
                   f"{limits.DEFAULTS['editor'].file_bytes // 2**20} MB for a logged-in editor"),
        "text": f"{api.MAX_ALIGN_TEXT:,} / {pages.MAX_ALIGN_TEXT:,} characters",
        "passages": (f"| {limits.DEFAULTS['anonymous'].paragraphs:,} without an account, "
                     f"{limits.DEFAULTS['editor'].paragraphs:,} for an editor |"), "page": f"`limit` ≤ {api.MAX_LIMIT}",
        "password": f"at least {acc.MIN_PASSWORD} characters, at most {acc.MAX_PASSWORD:,}",
        "throttle": f"from the {acc.MAX_FAILURES}th failure within {acc.WINDOW // 60} minutes",
        "waits": f"a wait of {acc.FIRST_WAIT:g} s, doubling to at most {acc.MAX_WAIT // 60} minutes",
        "session": f"{security.SESSION_HOURS:g} hours", "health check": f"for {serve.HEALTHCHECK_TIMEOUT} s",
        "linger": f"for {protocol.LINGER:g} s (`LINGER`)", "csp": f"`{app_mod.CSP}`",
        "cache": f"{api.ResponseCache().max_bytes // 2**20} MB",
    }
    stated.update({name.decode(): f"| `{name.decode().title()}` | `{value.decode()}`"
                   for name, value in app_mod.HEADERS + [app_mod.HSTS] if name != b"content-security-policy"})
    missing = {k: v for k, v in stated.items() if v not in doc}
    assert not missing, f"docs/security.md does not state: {missing}"
