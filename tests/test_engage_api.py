"""The engagement register in the REST API: the list with filters and paging, one
engagement, an actor's timeline and activity, what is due, the CSV and iCalendar
exports, and the writes (editors only, audited)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from citydiplomacy import accounts
from citydiplomacy.engage import io as eio
from citydiplomacy.web import create_app

from homes import copy_home
from conftest import app_args

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app(barcelona_log_home, tmp_path_factory):
    # a copy of the built store holding Barcelona's log alone (the register emptied, then the
    # log imported: conftest.py): the tests count what it holds
    home = copy_home(barcelona_log_home[0], tmp_path_factory.mktemp("engage-api"))
    app = create_app(**app_args(home), secret="test-secret")
    store = app.state.obs.store
    for name, role in (("vera", "viewer"), ("eddie", "editor")):
        accounts.add_user(store, name, PASSWORD, role)
    yield app
    app.state.obs.close()


@pytest.fixture(scope="module")
def tokens(app):
    store = app.state.obs.store
    return {role: accounts.create_token(store, accounts.get_user(store, name), "tests")[1]
            for name, role in (("vera", "viewer"), ("eddie", "editor"))}


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def auth(tokens, who):
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_list_filters_and_pages(client):
    r = client.get("/api/v1/engagements", params={"limit": 5})
    assert r.status_code == 200 and r.headers["etag"]
    body = r.json()
    assert body["total"] == 500 and len(body["items"]) == 5 and body["next"]
    assert client.get("/api/v1/engagements", params={"limit": 5},
                      headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    f = client.get("/api/v1/engagements", params={"actor": "Barcelona", "country": "FR", "kind": "agreement",
                                                  "limit": 500}).json()
    assert 0 < f["total"] == len(f["items"])
    assert all(e["kind"] == "agreement" and any(p["country"] == "FRA" for p in e["parties"]) for e in f["items"])
    dated = client.get("/api/v1/engagements", params={"from": "2015", "to": "2016", "sort": "date",
                                                      "limit": 500}).json()
    assert dated["total"] > 0
    assert client.get("/api/v1/engagements", params={"sort": "colour"}).status_code == 422
    assert client.get("/api/v1/engagements", params={"layer": "galactic"}).status_code == 422
    assert client.get("/api/v1/engagements", params={"actor": "Atlantisville"}).status_code == 404


def test_pages_follow_the_next_cursor_to_the_end(client):
    """``next`` carries the cursor of the page's last row: followed to the end it gives every
    engagement once, in the order of one page holding them all."""
    whole = [e["key"] for e in client.get("/api/v1/engagements", params={"sort": "title", "limit": 500})
             .json()["items"]]
    keys, url = [], "/api/v1/engagements?sort=title&limit=60&offset=0"
    while url:
        body = client.get(url).json()
        assert body["offset"] == len(keys) and body["total"] == 500
        keys += [e["key"] for e in body["items"]]
        assert (body["next"] is None) == (body["next_cursor"] is None)
        if body["next"]:
            assert f"cursor={body['next_cursor']}" in body["next"] and "offset=" not in body["next"]
        url = body["next"]
    assert keys == whole and len(set(keys)) == 500
    r = client.get("/api/v1/engagements", params={"cursor": "garbage"})
    assert r.status_code == 422 and "not a cursor" in r.json()["detail"]


def test_one_engagement_timeline_activity_due(client):
    e = client.get("/api/v1/engagements/BCN-0001").json()
    assert e["kind"] == "agreement" and {p["id"] for p in e["parties"]} == {"barcelona-es", "chicago-us"}
    assert e["ties"][0]["effect"] == "establishes" and "alignments" in e
    assert client.get("/api/v1/engagements/NO-SUCH").status_code == 404
    tl = client.get("/api/v1/actors/Barcelona/engagements", params={"partner": "Lyon"}).json()
    assert tl["actor"]["id"] == "barcelona-es" and tl["total"] > 0
    act = client.get("/api/v1/actors/barcelona-es/activity", params={"dormant_years": 5}).json()
    assert act["count"] == 500 and act["partners"] and "dormant" in act
    due = client.get("/api/v1/engagements/due", params={"days": 90, "today": "2026-12-06"}).json()
    assert due["total"] > 0 and due["until"] == "2027-03-06"
    assert client.get("/api/v1/engagements/due", params={"days": -1}).status_code == 422


def test_exports(client):
    r = client.get("/api/v1/engagements.csv", params={"actor": "barcelona-es"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 500 and list(rows[0]) == eio.COLUMNS
    ics = client.get("/api/v1/engagements.ics", params={"kind": "agreement"})
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR") and "CATEGORIES:review" in ics.text


def test_writes_need_an_editor_and_are_audited(client, tokens, app):
    body = {"kind": "visit", "title": "Delegation from Lyon on the tramway", "start_on": "2026-11-20",
            "parties": [{"actor": "Lyon", "role": "visitor"}, {"actor": "Barcelona", "role": "host"}],
            "source": "City press release"}
    assert client.post("/api/v1/engagements", json=body).status_code == 401
    assert client.post("/api/v1/engagements", json=body, headers=auth(tokens, "viewer")).status_code == 403
    r = client.post("/api/v1/engagements", json=body, headers=auth(tokens, "editor"))
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    again = client.post("/api/v1/engagements", json=body, headers=auth(tokens, "editor"))
    assert again.status_code == 200 and again.json()["unchanged"] == {"engagements": 1}
    put = client.put(f"/api/v1/engagements/{key}", json={**body, "status": "completed"},
                     headers=auth(tokens, "editor"))
    assert put.status_code == 200 and put.json()["updated"] == {"engagements": 1}
    assert client.get(f"/api/v1/engagements/{key}").json()["status"] == "completed"
    bad = client.post("/api/v1/engagements", json={**body, "end_on": "2026-01-01"}, headers=auth(tokens, "editor"))
    assert bad.status_code == 422 and bad.json()["field"] == "end_on"
    gone = client.delete(f"/api/v1/engagements/{key}", headers=auth(tokens, "editor"))
    assert gone.status_code == 200 and gone.json()["deleted"] is True
    assert client.get(f"/api/v1/engagements/{key}").status_code == 404
    log = accounts.audit_log(app.state.obs.store, limit=10, user="eddie")
    actions = [a["action"] for a in log]
    assert "engagement.add" in actions and "engagement.delete" in actions
    assert all(a["channel"] == "api" for a in log if a["action"].startswith("engagement."))
