"""Recommendations on the built default store: partners, networks and members, their
explanations checked against the store (every actor and tie they cite exists and says what
the reason says), filters, themes, a city with no ties, and the CLI and API faces.

The first recommendation fits the models on the shared built store (once per test run;
they are then kept beside it and the CLI and API read them)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import select

from citydiplomacy.errors import ValidationError
from citydiplomacy.store.schema import actors, ties
from conftest import app_args, copy_store


def _tie_rows(obs, ids):
    with obs.store.connect() as conn:
        return {r.id: r for r in conn.execute(select(ties.c.id, ties.c.source, ties.c.target, ties.c.type,
                                                     ties.c.status).where(ties.c.id.in_(ids)))}


def _actor_ids(obs, ids):
    with obs.store.connect() as conn:
        return {r.id for r in conn.execute(select(actors.c.id).where(actors.c.id.in_(ids)))}


def _members(obs, actor_id):
    with obs.store.connect() as conn:
        return {r.target for r in conn.execute(select(ties.c.target).where(
            ties.c.source == actor_id, ties.c.type == "member_of", ties.c.status.in_(("active", "dormant"))))}


def _partners(obs, actor_id):
    with obs.store.connect() as conn:
        rows = conn.execute(select(ties.c.source, ties.c.target).where(
            ties.c.type == "twinned_with", ties.c.status.in_(("active", "dormant")),
            (ties.c.source == actor_id) | (ties.c.target == actor_id))).all()
    return {r.target if r.source == actor_id else r.source for r in rows}


@pytest.fixture(scope="module")
def munich(obs):
    return obs.recommend_partners("Munich", top=15)


def test_partners_are_new_and_every_reason_is_a_fact_in_the_store(obs, munich):
    me = munich["actor"]["id"]
    assert me == "munich-de" and len(munich["results"]) == 15
    assert munich["method"].startswith("two stages") and munich["message"] is None
    mine = _partners(obs, me)
    my_networks = _members(obs, me)
    cited_ties, cited_actors = set(), set()
    for r in munich["results"]:
        assert r["id"] not in mine and r["id"] != me
        assert r["why"] and r["reasons"]
        for reason in r["reasons"]:
            cited_ties |= set(reason["evidence"]["ties"])
            cited_actors |= set(reason["evidence"]["actors"])
            if reason["signal"] == "shared_networks":
                named = set(reason["evidence"]["actors"])
                assert named == my_networks & _members(obs, r["id"]) and reason["value"] == len(named)
                assert str(len(named)) in reason["text"]
            if reason["signal"] == "common_partners":
                named = set(reason["evidence"]["actors"])
                assert named == mine & _partners(obs, r["id"]) and reason["value"] == len(named)
            if reason["signal"] == "same_country":
                assert r["country"] == "DEU"
    assert cited_actors and _actor_ids(obs, cited_actors) == cited_actors
    rows = _tie_rows(obs, cited_ties)
    assert set(rows) == cited_ties
    for t in rows.values():                      # every cited tie is in force and touches a named actor
        assert t.status in ("active", "dormant")
        assert {t.source, t.target} & (cited_actors | {me} | {r["id"] for r in munich["results"]})


def test_partners_filters(obs):
    fr = obs.recommend_partners("Munich", countries=["France"], top=5)
    assert fr["results"] and all(r["country"] == "FRA" for r in fr["results"])
    near = obs.recommend_partners("Munich", max_km=300, top=10)
    assert near["results"] and all(r["distance_km"] <= 300 for r in near["results"])
    big = obs.recommend_partners("Munich", band=["metropolis"], blocs=["eu"], top=5)
    assert big["results"] and all(r["population"] >= 1_000_000 for r in big["results"])
    with_existing = obs.recommend_partners("Munich", exclude_existing=False, top=200)
    assert _partners(obs, "munich-de") & {r["id"] for r in with_existing["results"]}


@pytest.mark.parametrize("kwargs,message", [
    ({"theme": "sdg:99"}, "no SDG item '99'"),
    ({"theme": "paris:77"}, "no Paris Agreement article"),
    ({"band": ["huge"]}, "unknown population band 'huge'"),
    ({"blocs": ["narnia"]}, "'narnia' is not a bloc"),
    ({"countries": ["Atlantis"]}, "'Atlantis' is not a country"),
    ({"top": 0}, "top must be from 1"),
    ({"max_km": -5}, "max_km must be more than 0"),
])
def test_bad_requests_say_what_to_do(obs, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        obs.recommend_partners("Munich", **kwargs)


def test_theme_sdg_target_raises_networks_on_its_axis(obs):
    r = obs.recommend_partners("Munich", theme="11.6", top=10)
    assert r["theme"]["codes"] == ["sdg:11.6", "sdg:11"] and r["theme"]["axes"] == ["sustainability"]
    assert "SDG 11.6" in r["theme"]["label"]
    themed = [x for x in r["results"] if any(s["signal"] == "theme_networks" for s in x["reasons"])]
    assert len(themed) >= 5
    for x in themed:
        reason = next(s for s in x["reasons"] if s["signal"] == "theme_networks")
        assert set(reason["evidence"]["actors"]) <= _members(obs, x["id"])


def test_theme_as_free_text_is_aligned(obs):
    r = obs.recommend_partners("Munich", theme="air quality and municipal waste management", top=3)
    assert r["theme"]["codes"] and "sustainability" in r["theme"]["axes"]


def test_a_city_with_no_ties_gets_profile_recommendations_and_a_message(obs):
    assert not _partners(obs, "kanpur-in") and not _members(obs, "kanpur-in")
    r = obs.recommend_partners("kanpur-in", top=5)
    assert "has no partnerships or network memberships" in r["message"]
    assert len(r["results"]) == 5
    for x in r["results"]:
        assert not {s["signal"] for s in x["reasons"]} & {"shared_networks", "common_partners"}
    assert obs.recommend_networks("kanpur-in", top=3)["message"]


def test_networks_for_a_city(obs):
    r = obs.recommend_networks("Munich", top=5)
    mine = _members(obs, "munich-de")
    assert r["results"] and not {x["id"] for x in r["results"]} & mine
    for x in r["results"]:
        assert x["kind"] == "city_network" and x["members"] > 0
        for reason in x["reasons"]:
            if reason["signal"] == "partners_in_network":
                named = set(reason["evidence"]["actors"])
                assert named <= _partners(obs, "munich-de")
                assert all(x["id"] in _members(obs, p) for p in named)


def test_members_for_a_network(obs):
    r = obs.recommend_members("c40", top=10)
    with obs.store.connect() as conn:
        current = {s for (s,) in conn.execute(select(ties.c.source).where(ties.c.target == "c40",
                                                                           ties.c.type == "member_of"))}
    assert len(r["results"]) == 10 and not {x["id"] for x in r["results"]} & current
    assert all(x["kind"] in ("city", "region") for x in r["results"])
    with pytest.raises(ValidationError, match="not a city network"):
        obs.recommend_members("Munich")


# -- faces ------------------------------------------------------------------------------------

def citydip(*args, env):
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def test_cli_partners_json_and_csv(obs, munich, cli_env):
    proc = citydip("recommend", "partners", "Munich", "--top", "3", "--format", "json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [x["id"] for x in data["results"]] == [x["id"] for x in munich["results"][:3]]
    proc = citydip("recommend", "members", "c40", "--top", "2", "--format", "csv", env=cli_env)
    assert proc.returncode == 0 and proc.stdout.splitlines()[0] == "rank,id,name,country,score,why"
    assert len(proc.stdout.splitlines()) == 3


@pytest.mark.parametrize("args,message", [
    (["partners", "Munich", "--theme", "sdg:99"], "no SDG item '99'"),
    (["members", "Munich"], "not a city network"),
    (["partners", "Nowhereville-on-Sea"], "no actor matches"),
])
def test_cli_mistakes_exit_non_zero_with_a_message(obs, munich, cli_env, args, message):
    proc = citydip("recommend", *args, env=cli_env)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["partners", "networks", "members"])
def test_cli_help_has_an_example(command, cli_env):
    out = citydip("recommend", command, "--help", env=cli_env).stdout
    assert "Example" in out and f"citydip recommend {command}" in out


@pytest.fixture(scope="module")
def client(obs, munich, built_home, tmp_path_factory):
    from fastapi.testclient import TestClient

    from citydiplomacy.web import create_app

    home = tmp_path_factory.mktemp("rec-api")
    copy_store(built_home, home)
    cache = built_home / "citydip.sqlite.network-cache"
    if cache.exists():          # the fitted models: the copy holds the same data version
        shutil.copytree(cache, home / "citydip.sqlite.network-cache")
    app = create_app(**app_args(home), secret="test-secret")
    with TestClient(app) as c:
        yield c
    app.state.obs.close()


def test_api_recommendations(client, munich):
    r = client.get("/api/v1/recommend/partners/munich-de", params={"top": 3})
    assert r.status_code == 200
    body = r.json()
    assert [x["id"] for x in body["results"]] == [x["id"] for x in munich["results"][:3]]
    assert all(x["reasons"] and x["why"] for x in body["results"])
    r = client.get("/api/v1/recommend/partners/munich-de", params={"theme": "11.6", "country": ["FR", "IT"],
                                                                  "band": "large", "top": 5})
    assert r.status_code == 200 and all(x["country"] in ("FRA", "ITA") for x in r.json()["results"])
    assert client.get("/api/v1/recommend/networks/munich-de").json()["task"] == "networks"
    assert len(client.get("/api/v1/recommend/members/c40", params={"top": 4}).json()["results"]) == 4


@pytest.mark.parametrize("path,status,text", [
    ("/api/v1/recommend/partners/munich-de?band=huge", 422, "band"),
    ("/api/v1/recommend/partners/munich-de?theme=sdg:99", 422, "no SDG item"),
    ("/api/v1/recommend/partners/Nowhereville-on-Sea", 404, "no actor matches"),
    ("/api/v1/recommend/members/munich-de", 422, "not a city network"),
])
def test_api_errors_are_problems(client, path, status, text):
    r = client.get(path)
    assert r.status_code == status and text in r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_web_card_and_page(client, munich):
    page = client.get("/actors/munich-de")
    assert page.status_code == 200
    assert 'id="recommended"' in page.text and "/api/v1/recommend/partners/munich-de?top=5" in page.text
    assert 'data-auto="true"' in page.text        # the models are made: the card fills itself
    assert 'id="recommended"' not in client.get("/actors/c40").text       # a network has no such card
    r = client.get("/recommend", params={"city": "Munich", "theme": "11.6", "top": 3})
    assert r.status_code == 200
    assert "Partners for Munich" in r.text and "SDG 11.6" in r.text
    first = client.get("/api/v1/recommend/partners/munich-de", params={"theme": "11.6", "top": 3}).json()
    assert first["results"][0]["name"] in r.text
    bad = client.get("/recommend", params={"city": "Munich", "theme": "sdg:99"})
    assert bad.status_code == 422 and "no SDG item" in bad.text
    assert client.get("/recommend", params={"task": "members", "city": "c40", "top": 2}).status_code == 200
