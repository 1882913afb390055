"""The REST API (``/api/v1``): every endpoint, its errors (problem+json bodies that name
the field) and its permissions — anonymous, viewer, editor, admin, and a revoked token —
on a private copy of the built store."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from fastapi.testclient import TestClient

from citydiplomacy import accounts
from citydiplomacy.web import api as api_module
from citydiplomacy.web import create_app

from conftest import copy_store

PASSWORD = "correct horse battery"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def app(built_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("api-home")
    app = create_app(**_paths(copy_store(built_home, home)), secret="test-secret")
    store = app.state.obs.store
    for name, role in (("vera", "viewer"), ("eddie", "editor"), ("ada", "admin")):
        accounts.add_user(store, name, PASSWORD, role)
    yield app
    app.state.obs.close()


@pytest.fixture(scope="module")
def tokens(app):
    """A bearer token per role, and one revoked token (the editor's)."""
    store = app.state.obs.store
    out = {}
    for name, role in (("vera", "viewer"), ("eddie", "editor"), ("ada", "admin")):
        user = accounts.get_user(store, name)
        out[role] = accounts.create_token(store, user, f"{role} tests")[1]
    eddie = accounts.get_user(store, "eddie")
    tid, secret = accounts.create_token(store, eddie, "to revoke")
    accounts.revoke_token(store, eddie, tid)
    out["revoked"] = secret
    return out


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def _paths(args: dict) -> dict:
    """create_app's keyword arguments for a store copied by conftest.copy_store."""
    return {"home": args["home"], "path": args["db"]}


def auth(tokens, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"} if who != "anonymous" else {}


def problem(r, status: int, field: str | None = None) -> dict:
    """Assert that ``r`` is a problem+json of ``status`` (naming ``field``) and return it."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert body["instance"] == r.request.url.path
    if field is not None:
        assert body.get("field") == field, body
    return body


# -- reading ------------------------------------------------------------------------------------

def test_status_has_counts_and_no_server_path(client):
    r = client.get("/api/v1/status")
    assert r.status_code == 200
    s = r.json()
    assert s["actors"]["total"] > 30_000
    assert set(s["actors"]["by_layer"]) == {"macro", "meso", "micro"}
    assert s["frameworks"]["sdg"]["goals"] == 17
    assert "store" not in s and s["read_only"] is False


def test_reads_send_etags_and_honour_if_none_match(client):
    r = client.get("/api/v1/actors/barcelona-es")
    etag = r.headers["etag"]
    assert etag.startswith('"')
    again = client.get("/api/v1/actors/barcelona-es", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/api/v1/actors/barcelona-es", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/api/v1/actors/barcelona-es", headers={"If-None-Match": f'W/{etag}'}).status_code == 304


def test_search_ranks_and_paginates(client):
    r = client.get("/api/v1/search", params={"q": "München", "limit": 1})
    page = r.json()
    assert page["items"][0]["id"] == "munich-de"
    assert page["limit"] == 1 and page["offset"] == 0 and page["total"] >= 1
    r = client.get("/api/v1/search", params={"q": "san", "kind": "city", "limit": 5})
    page = r.json()
    assert len(page["items"]) == 5 and page["total"] > 5
    assert "offset=5" in page["next"] and "limit=5" in page["next"]
    second = client.get(page["next"]).json()
    assert second["offset"] == 5
    assert {x["id"] for x in second["items"]}.isdisjoint(x["id"] for x in page["items"])
    assert all(x["kind"] == "city" for x in page["items"] + second["items"])


@pytest.mark.parametrize("params, field", [
    ({}, "q"),
    ({"q": "!!!"}, "q"),
    ({"q": "paris", "kind": "town"}, "kind"),
    ({"q": "paris", "layer": "top"}, "layer"),
    ({"q": "paris", "country": "Atlantis"}, "country"),
    ({"q": "paris", "limit": 501}, "limit"),
    ({"q": "paris", "limit": 0}, "limit"),
    ({"q": "paris", "offset": -1}, "offset"),
])
def test_search_errors_name_the_parameter(client, params, field):
    body = problem(client.get("/api/v1/search", params=params), 422, field)
    assert field in body["detail"] or body["detail"]


def test_actor_by_id_name_and_unknown(client):
    a = client.get("/api/v1/actors/barcelona-es").json()
    assert a["name"] == "Barcelona" and a["provenance"]["source"]
    assert client.get("/api/v1/actors/Barcelona").json()["id"] == "barcelona-es"
    body = problem(client.get("/api/v1/actors/Barcelonaa"), 404)
    assert "Barcelonaa" in body["detail"]
    assert any("barcelona-es" in s for s in body["suggestions"])


def test_resolve_endpoint(client):
    r = client.get("/api/v1/resolve", params={"name": "Steglitz-Zehlendorf (Berlin)", "country": "Germany"})
    assert r.status_code == 200
    body = r.json()      # the district the default build wrote, found through its city
    assert (body["status"], body["id"], body["rule"]) == ("resolved", "berlin-de-steglitz-zehlendorf", "district")
    assert body["in_store"] and body["part_of"] == "berlin-de"
    amb = client.get("/api/v1/resolve", params={"name": "Springfield", "country": "US"}).json()
    assert amb["status"] == "ambiguous" and len(amb["candidates"]) > 5 and amb["id"] is None
    bad = client.get("/api/v1/resolve", params={"name": " "})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_districts_and_regions_say_what_they_are(client):
    page = client.get("/actors/berlin-de-steglitz-zehlendorf")
    assert page.status_code == 200 and 'a district of <a href="/actors/berlin-de">' in page.text
    county = client.get("/api/v1/search", params={"q": "Maui County"}).json()["items"][0]
    assert county["kind"] == "region"
    assert "US-FIPS-15009" in client.get(f"/actors/{county['id']}").text


def test_ties_filters(client):
    base = "/api/v1/actors/barcelona-es/ties"
    everything = client.get(base, params={"limit": 500}).json()
    assert everything["total"] == len(everything["items"]) > 10
    twins = client.get(base, params={"type": "twinned_with", "limit": 500}).json()["items"]
    assert twins and all(t["type"] == "twinned_with" for t in twins)
    macro = client.get(base, params={"layer": "macro"}).json()["items"]
    assert all(t["other_layer"] == "macro" for t in macro)
    cities = client.get(base, params={"kind": "city", "limit": 500}).json()["items"]
    assert cities and all(t["other_kind"] == "city" for t in cities)
    french = client.get(base, params={"country": "France"}).json()["items"]
    assert all(t["other_country"] == "FRA" for t in french)
    in_eu = client.get(base, params={"bloc": "eu", "limit": 500}).json()["items"]
    assert in_eu and all(t["other_country"] for t in in_eu)
    assert len(in_eu) < everything["total"]
    dated = client.get(base, params={"as_of": "1950", "limit": 500}).json()
    assert dated["total"] <= everything["total"]


@pytest.mark.parametrize("params, status, field", [
    ({"type": "friend_of"}, 422, "type"),
    ({"axis": "culture"}, 422, "axis"),
    ({"as_of": "20x0"}, 422, "as_of"),
    ({"country": "Atlantis"}, 422, "country"),
    ({"bloc": "barcelona-es"}, 422, "bloc"),
])
def test_ties_errors(client, params, status, field):
    problem(client.get("/api/v1/actors/barcelona-es/ties", params=params), status, field)


def test_ties_of_unknown_actor(client):
    problem(client.get("/api/v1/actors/zzqxq-nowhere/ties"), 404)


def test_profile(client):
    p = client.get("/api/v1/actors/Barcelona/profile").json()
    assert p["actor"]["id"] == "barcelona-es"
    assert set(p["ties_by_layer"]) == {"macro", "meso", "micro"}
    assert p["twinning"]["partners"]
    assert "network" not in p


def test_index_endpoints_before_and_after_a_build(app, client):
    # nothing built: a 404 that says what to do
    for path in ("/api/v1/index", "/api/v1/index/rank", "/api/v1/actors/Lyon/index"):
        body = problem(client.get(path), 404)
        assert "citydip index build" in body["detail"]
    app.state.obs.build_index(replications=50)
    run = client.get("/api/v1/index").json()
    assert run["summary"]["scored"] > 10_000 and run["summary"]["pipeline"]["normalisation"] == "minmax"
    r = client.get("/api/v1/index/rank", params={"axis": "digital", "bloc": "eu", "top": 3})
    assert r.status_code == 200 and r.headers["etag"]
    rows = r.json()["rows"]
    assert len(rows) == 3 and rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    assert all(x["rank_lo"] <= x["rank_hi"] for x in rows)
    assert client.get("/api/v1/index/rank", headers={"If-None-Match": r.headers["etag"]},
                      params={"axis": "digital", "bloc": "eu", "top": 3}).status_code == 304
    lyon = client.get("/api/v1/actors/Lyon/index").json()
    assert lyon["id"] == "lyon-fr" and lyon["scored"]
    assert set(lyon["axes"]) == {"sustainability", "digital", "engagement", "overall"}
    assert lyon["peers"] and lyon["drivers"]["strengths"]
    # the profile carries the summary
    assert client.get("/api/v1/actors/lyon-fr/profile").json()["index"]["axes"]["overall"]["rank"] == \
        lyon["axes"]["overall"]["rank"]
    kanpur = client.get("/api/v1/actors/kanpur-in/index").json()
    assert not kanpur["scored"] and "no diplomatic tie" in kanpur["reason"]
    problem(client.get("/api/v1/index/rank", params={"axis": "happiness"}), 422, "axis")
    problem(client.get("/api/v1/index/rank", params={"region": "Atlantis"}), 422, "region")
    problem(client.get("/api/v1/index/rank", params={"band": "huge"}), 422, "band")
    problem(client.get("/api/v1/index/rank", params={"top": 0}), 422, "top")
    problem(client.get("/api/v1/actors/Nowhere-at-all/index"), 404)


def test_profile_with_network_section(client):
    p = client.get("/api/v1/actors/barcelona-es/profile", params={"network": "true"}).json()
    assert p["network"]["degree"]["rank"] >= 1
    assert "vertical_integration" in p["network"]


def test_ego_network_is_node_link(client):
    g = client.get("/api/v1/actors/barcelona-es/ego").json()
    ids = {n["id"] for n in g["nodes"]}
    assert "barcelona-es" in ids and g["ego"]["id"] == "barcelona-es"
    assert [n for n in g["nodes"] if n["ego"]] == [n for n in g["nodes"] if n["id"] == "barcelona-es"]
    assert g["edges"] and all(e["source"] in ids and e["target"] in ids for e in g["edges"])
    small = client.get("/api/v1/actors/barcelona-es/ego", params={"depth": 2, "max_nodes": 10}).json()
    assert small["truncated"] is True and len(small["nodes"]) == 10
    assert "barcelona-es" in {n["id"] for n in small["nodes"]}
    problem(client.get("/api/v1/actors/barcelona-es/ego", params={"depth": 9}), 422, "depth")


def test_frameworks(client):
    fws = client.get("/api/v1/frameworks").json()
    assert {f["id"] for f in fws["items"]} == {"sdg", "paris"}
    sdg = client.get("/api/v1/frameworks/sdg", params={"lang": "fr"}).json()
    assert len(sdg["children"]) == 17 and sdg["lang"] == "fr"
    target = client.get("/api/v1/frameworks/sdg/13.2").json()
    assert target["item"]["code"] == "sdg:13.2" and target["children"]
    assert client.get("/api/v1/frameworks/paris/4").json()["item"]["code"] == "paris:4"


@pytest.mark.parametrize("path, params, status, field", [
    ("/api/v1/frameworks/unfccc", {}, 404, None),
    ("/api/v1/frameworks/sdg/99", {}, 404, None),
    ("/api/v1/frameworks/sdg", {"lang": "xx"}, 422, "lang"),
])
def test_framework_errors(client, path, params, status, field):
    problem(client.get(path, params=params), status, field)


def test_network_metrics(client):
    m = client.get("/api/v1/network/metrics", params={"country": "ES", "limit": 5, "sort": "degree"}).json()
    assert len(m["items"]) == 5 and m["graph"]["actors"] > 5
    degrees = [r["degree"] for r in m["items"]]
    assert degrees == sorted(degrees, reverse=True)
    micro = client.get("/api/v1/network/metrics", params={"country": "ES", "scope": "micro", "limit": 3}).json()
    assert all(r["scope"] == "micro" for r in micro["items"])
    problem(client.get("/api/v1/network/metrics", params={"sort": "fame"}), 422, "sort")
    problem(client.get("/api/v1/network/metrics", params={"sample": 1}), 422, "sample")
    problem(client.get("/api/v1/network/metrics", params={"bloc": "nobloc"}), 422, "bloc")


@pytest.mark.parametrize("fmt, media, start", [
    ("gexf", "application/gexf+xml", b"<?xml"), ("graphml", "application/graphml+xml", b"<?xml"),
    ("json", "application/json", b"{"), ("geojson", "application/geo+json", b"{")])
def test_network_export(client, fmt, media, start):
    r = client.get("/api/v1/network/export", params={"format": fmt, "country": "ES", "type": "twinned_with"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.content.startswith(start)
    assert "attachment" in r.headers["content-disposition"]


def test_network_export_bad_format(client):
    problem(client.get("/api/v1/network/export", params={"format": "pajek"}), 422, "format")


def test_map_actors(client):
    fc = client.get("/api/v1/map/actors", params={"kind": "city", "limit": 3}).json()
    assert fc["type"] == "FeatureCollection" and fc["returned"] == 3 and fc["total"] > 1000
    lon, lat = fc["features"][0]["geometry"]["coordinates"]
    assert -180 <= lon <= 180 and -90 <= lat <= 90
    spain = client.get("/api/v1/map/actors", params={"country": "Spain", "limit": 50_000}).json()
    assert all(f["properties"]["country"] == "ESP" for f in spain["features"])
    problem(client.get("/api/v1/map/actors", params={"country": "Atlantis"}), 422, "country")


def test_map_ties(client):
    fc = client.get("/api/v1/map/ties", params={"actor": "barcelona-es", "type": "twinned_with"}).json()
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    assert lines and fc["mapped"] == len(lines) <= fc["ties"]
    assert fc["features"][0]["properties"]["role"] == "actor"
    problem(client.get("/api/v1/map/ties"), 422, "actor")
    problem(client.get("/api/v1/map/ties", params={"actor": "zzqxq-nowhere"}), 404)


def test_export_json_and_zip(client):
    r = client.get("/api/v1/export", params={"format": "json", "country": "AD"})
    assert r.status_code == 200
    data = r.json()
    assert {"actors", "ties", "aliases", "provenance", "frameworks"} <= set(data)
    assert any(a["country"] == "AND" for a in data["actors"])
    again = client.get("/api/v1/export", params={"format": "json", "country": "AD"},
                       headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    z = client.get("/api/v1/export", params={"format": "datapackage", "country": "AD"})
    assert z.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "datapackage.json" in names and "actors.csv" in names
    problem(client.get("/api/v1/export", params={"format": "xml"}), 422, "format")


# -- alignment -----------------------------------------------------------------------------------

def test_align_text(client):
    text = "The city will retrofit 4,000 social housing units to cut heating emissions."
    r = client.post("/api/v1/align", json={"text": text, "mode": "light"})
    rec = r.json()
    assert r.status_code == 200 and 11 in rec["sdgs"]
    assert {"id", "sdgs", "targets", "paris", "axes", "scores", "evidence", "lang", "method"} <= set(rec)
    span = next(e["span"] for e in rec["evidence"] if e["via"] == "term")
    assert text[span[0]:span[1]]


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "text"),
    ({"text": "x" * (api_module.MAX_ALIGN_TEXT + 1)}, "text"),
    ({"text": "Bus lanes", "lang": "tlh"}, "lang"),
    ({"text": "Bus lanes", "frameworks": []}, "frameworks"),
    ({"text": "Bus lanes", "level": "indicator"}, "level"),
    ({"text": "Bus lanes", "colour": "red"}, "colour"),
    ({}, "text"),
])
def test_align_errors(client, body, field):
    problem(client.post("/api/v1/align", json=body), 422, field)


def test_align_bad_json(client):
    problem(client.post("/api/v1/align", content=b"{not json", headers={"content-type": "application/json"}),
            422, "body")


def test_align_document(client):
    html = ("<html><body><h1>Climate plan</h1><p>We will plant 10,000 trees and build cycle lanes to cut "
            "emissions from transport.</p><p>Free school meals for every child in the city.</p></body></html>")
    r = client.post("/api/v1/align/document", files={"file": ("plan.html", html.encode(), "text/html")},
                    data={"mode": "light", "level": "goal"})
    out = r.json()
    assert r.status_code == 200 and out["file"] == "plan.html" and out["passages"] == 2
    assert out["items"][0]["ref"].startswith("§ Climate plan")
    assert {"11", "13"} & set(out["summary"]["sdgs"])


def test_align_pdf(client, tmp_path):
    from pdfgen import write_pdf

    pdf = write_pdf(tmp_path / "plan.pdf", [["Bus lanes and 2,000 new social housing units cut commuting "
                                             "emissions across the metropolitan area."]])
    r = client.post("/api/v1/align/document", files={"file": ("plan.pdf", pdf.read_bytes(), "application/pdf")},
                    data={"mode": "light"})
    assert r.status_code == 200 and r.json()["items"][0]["ref"].startswith("p. 1")


@pytest.mark.parametrize("name, content, field", [
    ("plan.exe", b"MZ...", "file"),
    ("plan.pdf", b"%PDF-1.4 this is not really a pdf", "file"),
    ("plan.docx", b"PK not a zip", "file"),
    ("plan.txt", b"", "file"),
])
def test_align_document_errors(client, name, content, field):
    problem(client.post("/api/v1/align/document", files={"file": (name, content, "application/octet-stream")}),
            422, field)


def test_align_document_bad_frameworks(client):
    problem(client.post("/api/v1/align/document", files={"file": ("a.txt", b"Bus lanes cut emissions.", "text/plain")},
                        data={"frameworks": "sdg,unfccc"}), 422, "frameworks")


# -- permissions on writes --------------------------------------------------------------------------

WRITES = [
    ("post", "/api/v1/actors", {"json": {"name": "Perm Network", "kind": "city_network", "source": "t",
                                         "dry_run": True}}),
    ("patch", "/api/v1/actors/barcelona-es", {"json": {"population": 1686208, "source": "t", "dry_run": True}}),
    ("post", "/api/v1/ties", {"json": {"actor": "barcelona-es", "target": "c40", "type": "member_of",
                                       "source": "t", "dry_run": True}}),
    ("post", "/api/v1/actors/barcelona-es/initiatives", {"json": {"title": "Perm", "source": "t",
                                                                  "dry_run": True}}),
    ("post", "/api/v1/imports?importer=twinning", {"files": {"file": ("t.csv", b"city1,country1,city2,country2\n"
                                                                                b"Lyon,FR,Turin,IT\n", "text/csv")}}),
    ("post", "/api/v1/imports/review", {"files": {"file": ("r.csv", b"importer,file,row\n", "text/csv")}}),
]


@pytest.mark.parametrize("method, path, kw", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize("who, status", [("anonymous", 401), ("revoked", 401), ("viewer", 403)])
def test_writes_refused(client, tokens, method, path, kw, who, status):
    r = getattr(client, method)(path, headers=auth(tokens, who), **kw)
    body = problem(r, status)
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"
        if who == "revoked":
            assert "revoked" in body["detail"]
    else:
        assert "editor" in body["detail"]


@pytest.mark.parametrize("method, path, kw", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
@pytest.mark.parametrize("who", ["editor", "admin"])
def test_writes_allowed_for_editors(client, tokens, method, path, kw, who):
    r = getattr(client, method)(path, headers=auth(tokens, who), **kw)
    if "/imports" not in path:
        assert r.status_code in (200, 201), r.text
        assert r.json()["dry_run"] is True
        return
    job = finished(client, r, auth(tokens, who))            # an import is a job (202)
    if path.endswith("/review"):                            # the review file above lacks columns
        assert job["status"] == "failed" and job["error"]["status"] == 422
        assert job["error"]["field"] == "file" and job["error"]["file"] == "r.csv"
    else:
        assert job["status"] == "succeeded" and job["result"]["dry_run"] is True


# -- writes ----------------------------------------------------------------------------------------

def test_add_actor_then_read_it(client, tokens, app):
    ed = auth(tokens, "editor")
    body = {"name": "Test Alliance of Towns", "kind": "city_network", "country": "Portugal",
            "source": "https://example.org/alliance", "licence": "CC0", "axes": ["digital"]}
    r = client.post("/api/v1/actors", json=body, headers=ed)
    assert r.status_code == 201 and r.json()["created"] == {"actors": 1}
    actor_id = r.json()["actor"]
    assert actor_id == "test-alliance-of-towns-prt"
    got = client.get(f"/api/v1/actors/{actor_id}").json()
    assert got["country"] == "PRT" and got["provenance"]["source"] == "https://example.org/alliance"
    assert client.get("/api/v1/search", params={"q": "Test Alliance"}).json()["items"][0]["id"] == actor_id
    again = client.post("/api/v1/actors", json=body, headers=ed)
    assert again.status_code == 200 and again.json()["unchanged"] == {"actors": 1}
    log = accounts.audit_log(app.state.obs.store, limit=5, user="eddie")
    assert any(e["action"] == "actor.add" and e["target"] == actor_id for e in log)


@pytest.mark.parametrize("body, status, field", [
    ({"name": "X", "kind": "town", "source": "t"}, 422, "kind"),
    ({"name": "X", "kind": "city_network"}, 422, "source"),
    ({"name": "X", "kind": "city_network", "source": "  "}, 422, "source"),
    ({"name": "X", "kind": "city_network", "source": "t", "country": "Atlantis"}, 422, "country"),
    ({"name": "X", "kind": "city", "source": "t", "lat": 10}, 422, None),
    ({"name": "X", "kind": "city", "source": "t", "lat": 100, "lon": 0}, 422, "lat"),
    ({"name": "X", "kind": "city", "source": "t", "wikidata": "X1"}, 422, "wikidata"),
    ({"name": "X", "kind": "city", "source": "t", "id": "Not A Slug"}, 422, "id"),
])
def test_add_actor_errors(client, tokens, body, status, field):
    problem(client.post("/api/v1/actors", json=body, headers=auth(tokens, "editor")), status, field)


def test_edit_actor(client, tokens):
    ed = auth(tokens, "editor")
    r = client.patch("/api/v1/actors/andorra-la-vella-ad", json={"population": 23000, "source": "census 2024"},
                     headers=ed)
    assert r.status_code == 200, r.text
    assert r.json()["changes"]["population"][1] == 23000
    assert client.get("/api/v1/actors/andorra-la-vella-ad").json()["population"] == 23000
    problem(client.patch("/api/v1/actors/zzqxq-nowhere", json={"population": 1, "source": "t"}, headers=ed), 404)
    problem(client.patch("/api/v1/actors/andorra-la-vella-ad", json={"source": "t"}, headers=ed), 422, "body")
    problem(client.patch("/api/v1/actors/andorra-la-vella-ad", json={"population": -5, "source": "t"}, headers=ed),
            422, "population")
    problem(client.patch("/api/v1/actors/andorra-la-vella-ad", json={"kind": "state", "source": "t"}, headers=ed),
            422, "kind")


def test_edit_actor_with_if_match_loses_no_update(client, tokens):
    """Two editors read the same actor; the first edit with its ETag wins, the second
    (the ETag it read is stale) gets 412 and writes nothing; read again, it applies."""
    ed = auth(tokens, "editor")
    url = "/api/v1/actors/les-escaldes-ad"
    first = client.get(url)
    tag = first.headers["etag"]
    r = client.patch(url, json={"population": 9700, "source": "census 2024"}, headers={**ed, "If-Match": tag})
    assert r.status_code == 200, r.text
    new_tag = r.headers["etag"]
    assert new_tag != tag and client.get(url).headers["etag"] == new_tag
    stale = client.patch(url, json={"founded": 1278, "source": "a chronicle"}, headers={**ed, "If-Match": tag})
    body = problem(stale, 412)
    assert "changed since you read it" in body["detail"]
    now = client.get(url).json()
    assert now["population"] == 9700 and now.get("founded") is None
    r = client.patch(url, json={"founded": 1278, "source": "a chronicle"}, headers={**ed, "If-Match": new_tag})
    assert r.status_code == 200 and client.get(url).json()["founded"] == 1278
    # "*" matches any version; no If-Match applies the edit (documented), unless the server requires it
    assert client.patch(url, json={"founded": 1279, "source": "t"}, headers={**ed, "If-Match": "*"}).status_code == 200


def test_if_match_required_when_the_server_says_so(client, tokens, monkeypatch):
    monkeypatch.setenv("CITYDIP_API_REQUIRE_IF_MATCH", "1")
    r = client.patch("/api/v1/actors/les-escaldes-ad", json={"population": 1, "source": "t"},
                     headers=auth(tokens, "editor"))
    problem(r, 428)


def test_add_tie_appears_in_ties(client, tokens, app):
    ed = auth(tokens, "editor")
    before = client.get("/api/v1/actors/andorra-la-vella-ad/ties", params={"type": "member_of"}).json()
    body = {"actor": "andorra-la-vella-ad", "target": "eurocities", "type": "member_of", "since": "2021",
            "source": "https://eurocities.eu/cities/"}
    r = client.post("/api/v1/ties", json=body, headers=ed)
    assert r.status_code == 201 and r.json()["created"] == {"ties": 1}
    after = client.get("/api/v1/actors/andorra-la-vella-ad/ties", params={"type": "member_of"}).json()
    assert after["total"] == before["total"] + 1
    tie = next(t for t in after["items"] if t["other"] == "eurocities")
    assert tie["since"] == "2021" and tie["provenance"]["source"] == "https://eurocities.eu/cities/"
    entry = accounts.audit_log(app.state.obs.store, limit=1, user="eddie")[0]
    assert entry["action"] == "tie.add" and "eurocities" in entry["target"]
    assert entry["detail"]["created"] == {"ties": 1}


@pytest.mark.parametrize("change, status, field", [
    ({"type": "friend_of"}, 422, "type"),
    ({"target": "zzqxq-nowhere"}, 404, None),
    ({"since": "2030", "until": "2020"}, 422, None),
    ({"target": "andorra-la-vella-ad"}, 422, None),
    ({"source": ""}, 422, "source"),
    ({"status": "maybe"}, 422, "status"),
])
def test_add_tie_errors(client, tokens, change, status, field):
    body = {"actor": "andorra-la-vella-ad", "target": "c40", "type": "member_of", "source": "t", **change}
    problem(client.post("/api/v1/ties", json=body, headers=auth(tokens, "editor")), status, field)


def test_add_initiative(client, tokens):
    ed = auth(tokens, "editor")
    body = {"title": "Climate shelters", "text": "A network of 200 cooled public buildings protects residents "
            "during heatwaves.", "since": "2019", "source": "Ajuntament de Barcelona"}
    r = client.post("/api/v1/actors/barcelona-es/initiatives", json=body, headers=ed)
    assert r.status_code == 201 and r.json()["created"]["initiatives"] == 1
    items = client.get("/api/v1/actors/barcelona-es/initiatives").json()["items"]
    assert [i["title"] for i in items] == ["Climate shelters"] and items[0]["sdgs"]
    problem(client.post("/api/v1/actors/zzqxq-nowhere/initiatives", json=body, headers=ed), 404)
    problem(client.post("/api/v1/actors/barcelona-es/initiatives", json={**body, "title": ""}, headers=ed),
            422, "title")
    problem(client.post("/api/v1/actors/barcelona-es/initiatives", json={**body, "since": "soon"}, headers=ed),
            422, "since")


# -- imports ----------------------------------------------------------------------------------------

TWINS = (b"city1,country1,city2,country2\n"
         b"Andorra la Vella,AD,Tirana,AL\n"
         b"Springfield,US,Escaldes-Engordany,AD\n"
         b"Andorra la Vella,,,\n")


def finished(client, r, headers, timeout: float = 120) -> dict:
    """The job that the 202 answer ``r`` started, polled until its status is final."""
    import time

    assert r.status_code == 202, r.text
    url = r.headers["location"]
    assert r.json()["url"] == url and r.json()["status"] in ("queued", "running", "succeeded")
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=headers)
        assert job.status_code == 200, job.text
        job = job.json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def imported(client, r, headers) -> dict:
    """The report of the import job that ``r`` started (which must succeed)."""
    job = finished(client, r, headers)
    assert job["status"] == "succeeded", job
    return job["result"]


def test_import_dry_run_names_the_bad_rows(client, tokens):
    r = client.post("/api/v1/imports", params={"importer": "twinning"}, headers=auth(tokens, "editor"),
                    files={"file": ("twins.csv", TWINS, "text/csv")}, data={"licence": "CC0"})
    rep = imported(client, r, auth(tokens, "editor"))
    assert rep["dry_run"] is True and rep["source"] == "twins.csv"
    assert rep["created"] == {"ties": 1}
    rows = {(p["row"], p["kind"]) for p in rep["problems"]}
    assert (3, "ambiguous") in rows and (4, "rejected") in rows
    assert all(p["file"] == "twins.csv" for p in rep["problems"])
    assert "/tmp" not in json.dumps(rep)
    assert "3" in {r["row"] for r in rep["review"]} and rep["review_csv"].startswith("importer,")
    assert client.get("/api/v1/actors/andorra-la-vella-ad/ties", params={"type": "twinned_with"}).json()["total"] == 0


def test_import_apply_then_review(client, tokens, app):
    ed = auth(tokens, "editor")
    r = client.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "false"}, headers=ed,
                    files={"file": ("twins.csv", TWINS, "text/csv")})
    rep = imported(client, r, ed)
    assert rep["dry_run"] is False and rep["created"] == {"ties": 1}
    twins = client.get("/api/v1/actors/andorra-la-vella-ad/ties", params={"type": "twinned_with"}).json()
    assert [t["other"] for t in twins["items"]] == ["tirana-al"]
    entry = accounts.audit_log(app.state.obs.store, limit=1, user="eddie")[0]
    assert entry["action"] == "import.apply" and "twins.csv" in entry["target"]
    # fill the review file's choice and send it back
    lines = list(csv.DictReader(io.StringIO(rep["review_csv"])))
    assert "Springfield" in [x["name"] for x in lines]
    for line in lines:
        line["choice"] = line["candidates"].split(" | ")[0] if line["name"] == "Springfield" else "skip"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(lines[0]))
    w.writeheader()
    w.writerows(lines)
    r = client.post("/api/v1/imports/review", params={"dry_run": "false"}, headers=ed,
                    files={"file": ("review.csv", buf.getvalue().encode(), "text/csv")})
    assert imported(client, r, ed)["created"] == {"ties": 1}
    partners = client.get("/api/v1/actors/les-escaldes-ad/ties", params={"type": "twinned_with"}).json()
    assert any(t["other"].startswith("springfield-us") for t in partners["items"])


def _review_upload(lines) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(lines[0]))
    w.writeheader()
    w.writerows(lines)
    return buf.getvalue().encode()


def test_import_dry_run_then_review_writes_the_clean_rows_too(client, tokens):
    ed = auth(tokens, "editor")
    twins = (b"city1,country1,city2,country2\nEscaldes-Engordany,AD,Tirana,AL\nSpringfield,US,Andorra la Vella,AD\n"
             b"Andorra la Vella,,,\n")
    r = client.post("/api/v1/imports", params={"importer": "twinning"}, headers=ed,
                    files={"file": ("pairs.csv", twins, "text/csv")})
    rep = imported(client, r, ed)
    assert rep["dry_run"] is True and rep["created"] == {"ties": 1}
    lines = list(csv.DictReader(io.StringIO(rep["review_csv"])))
    assert [x["name"] for x in lines] == ["Springfield", ""]                          # row 4: no choice made
    lines[0]["choice"] = lines[0]["candidates"].split(" | ")[0]
    # a review naming a file that is none of this server's uploads is refused, nothing written
    bad = [dict(lines[0])]
    ctx = json.loads(bad[0]["context"])
    ctx["original"]["file"] = "/etc/hostname"
    bad[0]["context"] = json.dumps(ctx)
    r = client.post("/api/v1/imports/review", params={"dry_run": "false"}, headers=ed,
                    files={"file": ("review.csv", _review_upload(bad), "text/csv")})
    job = finished(client, r, ed)
    assert job["status"] == "failed" and job["error"]["field"] == "file"
    assert "not one of your uploads" in job["error"]["detail"]
    r = client.post("/api/v1/imports/review", params={"dry_run": "false"}, headers=ed,
                    files={"file": ("review.csv", _review_upload(lines), "text/csv")})
    done = imported(client, r, ed)
    assert done["created"] == {"ties": 2} and "was a dry run" in done["notes"][0]
    assert "/tmp" not in json.dumps(done) and done["source"] == "review.csv"
    assert [(p["file"], p["row"]) for p in done["problems"]] == [("pairs.csv", 4)]      # the empty name: left
    escaldes = client.get("/api/v1/actors/les-escaldes-ad/ties", params={"type": "twinned_with"}).json()
    assert "tirana-al" in [t["other"] for t in escaldes["items"]]                       # the clean row
    andorra = client.get("/api/v1/actors/andorra-la-vella-ad/ties", params={"type": "twinned_with"}).json()
    assert any(t["other"].startswith("springfield-us") for t in andorra["items"])         # the reviewed one


def test_import_table_with_mapping(client, tokens):
    members = b"City,Country\nAndorra la Vella,Andorra\nZzqxq,AD\n"
    r = client.post("/api/v1/imports", params={"importer": "table"}, headers=auth(tokens, "editor"),
                    files={"file": ("members.csv", members, "text/csv")},
                    data={"map": ["source=City", "country=Country"], "target": "c40", "type": "member_of"})
    rep = imported(client, r, auth(tokens, "editor"))
    assert rep["created"] == {"ties": 1}
    assert rep["problems"][0]["row"] == 3 and rep["problems"][0]["value"] == "Zzqxq"


@pytest.mark.parametrize("params, data, files, field", [
    ({"importer": "twinning"}, {}, {"file": ("t.xml", b"<x/>", "text/xml")}, "file"),
    ({"importer": "twinning"}, {}, {"file": ("t.csv", b"", "text/csv")}, "file"),
    ({"importer": "wikidata"}, {}, {"file": ("t.csv", b"a\n1\n", "text/csv")}, "importer"),
    ({"importer": "twinning"}, {"encoding": "klingon"}, {"file": ("t.csv", b"a\n1\n", "text/csv")}, "encoding"),
    ({"importer": "table"}, {"map": "source"}, {"file": ("t.csv", b"a\n1\n", "text/csv")}, "map"),
    ({"importer": "table"}, {"map": "colour=a"}, {"file": ("t.csv", b"a\n1\n", "text/csv")}, "map"),
    ({"importer": "table"}, {"as": "planets", "map": "name=a"}, {"file": ("t.csv", b"a\n1\n", "text/csv")}, "as"),
    ({"importer": "twinning"}, {}, {}, "file"),
])
def test_import_errors(client, tokens, params, data, files, field):
    problem(client.post("/api/v1/imports", params=params, data=data, files=files or None,
                        headers=auth(tokens, "editor")), 422, field)


def test_import_missing_columns_fails_the_job_naming_the_file(client, tokens):
    ed = auth(tokens, "editor")
    job = finished(client, client.post("/api/v1/imports", params={"importer": "twinning"}, headers=ed,
                                       files={"file": ("pairs.csv", b"a,b\n1,2\n", "text/csv")}), ed)
    body = job["error"]
    assert job["status"] == "failed" and job["result"] is None
    assert body["status"] == 422 and body["field"] == "file" and body["title"] and body["type"]
    assert body["file"] == "pairs.csv" and "city1" in body["detail"] and "/tmp" not in json.dumps(job)


def test_upload_too_large(client, tokens, monkeypatch):
    monkeypatch.setenv("CITYDIP_LIMIT_EDITOR_FILE_BYTES", "100")
    body = problem(client.post("/api/v1/imports", params={"importer": "twinning"}, headers=auth(tokens, "editor"),
                               files={"file": ("t.csv", b"x" * 200, "text/csv")}), 413)
    assert "larger than 100 bytes" in body["detail"] and body["setting"] == "CITYDIP_LIMIT_EDITOR_FILE_BYTES"


# -- sessions, CSRF, tokens, audit -----------------------------------------------------------------------

def login(client, name="eddie", password=PASSWORD):
    r = client.post("/api/v1/session", json={"name": name, "password": password})
    assert r.status_code == 200, r.text
    return r


def test_login_sets_a_safe_cookie_and_needs_csrf(app):
    with TestClient(app) as c:
        r = login(c)
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("citydip_session=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
        token = r.json()["csrf_token"]
        me = c.get("/api/v1/me").json()
        assert me["name"] == "eddie" and me["auth"] == "session" and me["csrf_token"] == token
        body = {"actor": "barcelona-es", "target": "c40", "type": "member_of", "source": "t", "dry_run": True}
        problem(c.post("/api/v1/ties", json=body), 403)
        problem(c.post("/api/v1/ties", json=body, headers={"X-CSRF-Token": "0" * 64}), 403)
        assert c.post("/api/v1/ties", json=body, headers={"X-CSRF-Token": token}).status_code == 200
        problem(c.delete("/api/v1/session"), 403)
        assert c.delete("/api/v1/session", headers={"X-CSRF-Token": token}).status_code == 204
        problem(c.get("/api/v1/me"), 401)
        problem(c.post("/api/v1/ties", json=body, headers={"X-CSRF-Token": token}), 401)


def test_cookie_is_secure_over_https_or_when_forced(app, built_home, tmp_path):
    with TestClient(app, base_url="https://testserver") as c:
        assert "Secure" in login(c).headers["set-cookie"]
    home = tmp_path / "forced"
    forced = create_app(**_paths(copy_store(built_home, home)), secure_cookies=True)
    accounts.add_user(forced.state.obs.store, "sam", PASSWORD, "viewer")
    with TestClient(forced) as c:
        assert "Secure" in login(c, "sam").headers["set-cookie"]
    forced.state.obs.close()
    assert (home / "web-secret").stat().st_mode & 0o777 == 0o600


def test_a_forged_session_cookie_is_anonymous(app):
    with TestClient(app, cookies={"citydip_session": "forged.value"}) as c:
        problem(c.get("/api/v1/me"), 401)


@pytest.mark.parametrize("body, status, field", [
    ({"name": "eddie", "password": "wrong password!"}, 401, None),
    ({"name": "nobody", "password": "wrong password!"}, 401, None),
    ({"name": "eddie"}, 422, "password"),
    ({"name": "", "password": "x"}, 422, "name"),
])
def test_login_errors(app, body, status, field):
    with TestClient(app, client=("198.51.100.20", 1)) as c:
        out = problem(c.post("/api/v1/session", json=body), status, field)
        if status == 401:
            assert out["detail"] == "wrong name or password"     # the same for an unknown name


def test_repeated_failed_logins_are_slowed_down(app, monkeypatch):
    # the clock stands still: on a loaded machine an attempt can take longer than the 2 s wait
    now = accounts._utcnow()
    monkeypatch.setattr(accounts, "_utcnow", lambda: now)
    with TestClient(app, client=("203.0.113.77", 1)) as c:
        codes = [c.post("/api/v1/session", json={"name": "vera", "password": f"guess number {i}"}).status_code
                 for i in range(6)]
        assert codes[:4] == [401] * 4 and codes[-1] == 429
        r = c.post("/api/v1/session", json={"name": "vera", "password": PASSWORD})
        body = problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1 and body["retry_after"] >= 1


def test_tokens_create_list_revoke(app, tokens):
    with TestClient(app) as c:
        v = auth(tokens, "viewer")
        r = c.post("/api/v1/me/tokens", json={"label": "nightly"}, headers=v)
        assert r.status_code == 201
        new = r.json()
        assert new["token"].startswith("cdp_") and new["label"] == "nightly"
        listed = c.get("/api/v1/me/tokens", headers=v).json()["items"]
        assert any(t["id"] == new["id"] for t in listed) and all("token" not in t for t in listed)
        mine = {"Authorization": f"Bearer {new['token']}"}
        me = c.get("/api/v1/me", headers=mine).json()
        assert me["name"] == "vera" and me["role"] == "viewer" and me["auth"] == "token"
        problem(c.delete(f"/api/v1/me/tokens/{new['id']}", headers=auth(tokens, "editor")), 404)  # not eddie's
        assert c.delete(f"/api/v1/me/tokens/{new['id']}", headers=v).status_code == 204
        problem(c.get("/api/v1/me", headers=mine), 401)
        problem(c.post("/api/v1/me/tokens", json={"label": ""}, headers=v), 422, "label")
        problem(c.post("/api/v1/me/tokens", json={"label": "x"}), 401)
        problem(c.delete("/api/v1/me/tokens/abc", headers=v), 422, "token_id")
        problem(c.get("/api/v1/me/tokens"), 401)


def test_admin_reads_the_audit_log(client, tokens):
    client.post("/api/v1/ties", headers=auth(tokens, "editor"),
                json={"actor": "andorra-la-vella-ad", "target": "c40", "type": "member_of", "source": "audit test"})
    log = client.get("/api/v1/audit", params={"limit": 2, "user": "eddie"}, headers=auth(tokens, "admin")).json()
    assert len(log["items"]) == 2 and log["next"]
    assert log["items"][0]["action"] == "tie.add" and log["items"][0]["user_name"] == "eddie"
    problem(client.get("/api/v1/audit", headers=auth(tokens, "editor")), 403)
    problem(client.get("/api/v1/audit", headers=auth(tokens, "viewer")), 403)
    problem(client.get("/api/v1/audit"), 401)
    problem(client.get("/api/v1/audit", headers=auth(tokens, "revoked")), 401)


# -- the app ------------------------------------------------------------------------------------------

def test_unknown_paths_and_methods_are_problems(client):
    assert "/api/v1/docs" in problem(client.get("/api/v1/nothing-here"), 404)["detail"]
    problem(client.delete("/api/v1/status"), 405)


def test_openapi_and_docs_page_are_served_locally(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/search", "/api/v1/actors/{ref}/ties", "/api/v1/align", "/api/v1/imports", "/api/v1/session"):
        assert path in doc["paths"]
    err = doc["paths"]["/api/v1/search"]["get"]["responses"]["422"]["content"]
    assert PROBLEM in err
    page = client.get("/api/v1/docs").text
    assert "swagger-ui" in page and "//cdn" not in page and "https://" not in page
    for src in ("/api/v1/docs/assets/swagger-ui-bundle.js", "/api/v1/docs/assets/swagger-ui.css",
                "/api/v1/docs/init.js"):
        assert client.get(src).status_code == 200, src
    spec_url = json.loads(client.get("/api/v1/docs/init.js").text.split("url: ", 1)[1].split(",", 1)[0])
    assert client.get(spec_url).json()["paths"]


def test_responses_carry_protective_headers(client):
    r = client.get("/api/v1/status")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


def test_read_only_has_no_write_path(built_home, tmp_path):
    ro = create_app(**_paths(copy_store(built_home, tmp_path / "ro")), read_only=True)
    try:
        with TestClient(ro) as c:
            assert c.get("/api/v1/status").json()["read_only"] is True
            assert c.get("/api/v1/actors/barcelona-es").status_code == 200
            for method, path, kw in WRITES + [("post", "/api/v1/session", {"json": {"name": "a", "password": "b"}}),
                                              ("post", "/api/v1/me/tokens", {"json": {"label": "x"}})]:
                body = problem(getattr(c, method)(path, **kw), 405)
                assert "read-only" in body["detail"]
            light = {"text": "Bus lanes cut emissions.", "mode": "light"}
            assert c.post("/api/v1/align", json=light).status_code == 200
            paths = c.get("/api/v1/openapi.json").json()["paths"]
            assert "/api/v1/ties" not in paths and "/api/v1/session" not in paths
    finally:
        ro.state.obs.close()


def _write_routes() -> set[tuple[str, str]]:
    """(path, method) of every write route of a writable observatory: the API's writes and
    account routes, and the pages of sign-in, account, data forms and imports."""
    from citydiplomacy.web import pages

    def routes(router):
        return {(r.path, m) for r in router.routes for m in r.methods}

    return ((routes(api_module.build_router()) - routes(api_module.build_router(read_only=True)))
            | routes(pages.edit_router))


def test_read_only_has_no_write_route_and_no_form(built_home, tmp_path):
    """``citydip serve --read-only``: every write path of the normal app is 404 or 405 —
    from routing itself, not only from the guard in front of it — and no page renders
    a form that writes (searching and aligning a text remain)."""
    import re

    where = _paths(copy_store(built_home, tmp_path / "ro"))
    writes = _write_routes()
    assert {("/login", "GET"), ("/login", "POST"), ("/actors/new", "POST"), ("/actors/{ref}/edit", "POST"),
            ("/ties/new", "POST"), ("/initiatives/new", "POST"), ("/imports", "POST"),
            ("/imports/{token}/apply", "POST"), ("/imports/{token}/review", "POST"), ("/account", "GET"),
            ("/api/v1/ties", "POST"), ("/api/v1/session", "POST")} <= writes
    ro = create_app(**where, read_only=True, secret="ro")
    try:
        with TestClient(ro) as c:
            for path, method in sorted(writes):
                r = c.request(method, re.sub(r"\{[^}]+\}", "x1", path))
                assert r.status_code in (404, 405), (method, path, r.status_code)
            for path in ("/", "/search?q=barcelona", "/actors/barcelona-es", "/frameworks", "/frameworks/sdg",
                         "/frameworks/sdg/13", "/align", "/nowhere"):
                html = c.get(path).text
                for form in re.findall(r"<form\b[^>]*>", html):
                    method = re.search(r'method="([a-z]+)"', form)
                    assert (method is None or method.group(1) == "get") or 'action="/align' in form, (path, form)
                for href in ("/login", "/logout", "/account", "/imports", "/actors/new", "/ties/new",
                             "/initiatives/new"):
                    assert f'href="{href}' not in html, (path, href)
        # without the guard in front (the app's own router): still no write route
        bare = TestClient(ro.router, raise_server_exceptions=False)
        for path, method in sorted(writes):
            if method != "GET":
                r = bare.request(method, re.sub(r"\{[^}]+\}", "x1", path))
                assert r.status_code in (404, 405), (method, path, r.status_code)
    finally:
        ro.state.obs.close()


def test_every_endpoint_is_documented(client):
    """docs/api.md names every operation of the OpenAPI document (the docs stay honest)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    doc = client.get("/api/v1/openapi.json").json()
    missing = [f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops
               if not any(f"{m.upper()} {p}{end}" in text for end in ("`", "?", " "))]
    assert not missing, f"not in docs/api.md: {missing}"


def test_a_change_by_another_process_is_seen(client, app):
    """The cache of reads follows the store: a write by the command line (another
    Observatory on the same file) shows in the next read."""
    import time

    import citydiplomacy

    path = "/api/v1/actors/encamp-ad/ties"
    before = client.get(path).json()["total"]
    store = app.state.obs.store
    other = citydiplomacy.open(path=store.path or store.url, build=False)
    try:
        other.add_tie("encamp-ad", "eurocities", "member_of", source="another process")
    finally:
        other.close()
    after = client.get(path).json()["total"]
    if after == before:                      # file times are coarse: at most VERSION_TTL late
        time.sleep(api_module.VERSION_TTL)
        after = client.get(path).json()["total"]
    assert after == before + 1


def test_bodies_larger_than_the_limit_are_refused(client, app, tokens, monkeypatch):
    monkeypatch.setattr(app.state, "max_body", 1000)
    big = {"text": "Bus lanes cut emissions. " * 100}
    assert "1,000 bytes" in problem(client.post("/api/v1/align", json=big), 413)["detail"]

    def chunks():                                       # no Content-Length: counted as it comes
        for _ in range(10):
            yield b"x" * 200
    r = client.post("/api/v1/imports?importer=twinning", headers={**auth(tokens, "editor"),
                    "content-type": "multipart/form-data; boundary=xyz"}, content=chunks())
    problem(r, 413)
