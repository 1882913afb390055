"""The profile's activity (engagements by year, kind and axis, most active partners,
dormant ties) and its coverage of the SDGs through initiatives and engagements, each
goal with what serves it — on the hand-made store, and on a real city where the test
holds whatever engagements the default data ships (it compares before and after)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from engstore import SOURCE, make_store

from citydiplomacy.engage import activity, add_engagement
from citydiplomacy.profile import build_profile, coverage_of


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = make_store(tmp_path_factory.mktemp("engprof") / "citydip.sqlite")
    yield s
    s.close()


def test_the_profile_holds_the_activity_of_the_register(store):
    p = build_profile(store, "alpha")
    act = p["activity"]
    assert act["count"] == 4
    assert act["by_kind"] == {"declaration": 2, "event": 1, "agreement": 1}
    assert act["by_year"] == {"2010": 1, "2015": 1, "2019": 1, "2020": 1}
    assert act["by_axis"]["sustainability"] == 2
    assert [x["id"] for x in act["partners"][:3]] == ["beta", "epsilon", "gamma"]     # 2 each, by name
    # the twinning with Beta (last engagement 2015) and the partnership with Gamma (2019)
    # are dormant by 2026 with 5 years; by 2022 only the twinning is
    dormant = {d["partner"]: d for d in activity(store, "alpha", today="2026-01-01")["dormant"]}
    assert set(dormant) == {"beta", "gamma"} and dormant["beta"]["last_engagement"] == "2015-12-01"
    assert {d["partner"] for d in activity(store, "alpha", today="2022-01-01")["dormant"]} == {"beta"}
    assert json.loads(json.dumps(p, default=str))["activity"]["count"] == 4      # the API's JSON


def test_coverage_counts_initiatives_and_engagements_and_says_which(store):
    cov = build_profile(store, "alpha")["coverage"]
    assert cov["engagements"] == 4 and cov["initiatives"] == 0
    served = {g: v for g, v in cov["by_sdg"].items() if v["served_by"]}
    assert served and all(s["source"] == "engagement" for v in served.values() for s in v["served_by"])
    assert set(cov["sdg_gaps"]) == set(range(1, 18)) - set(served)
    # with an initiative serving goal 11 as well
    both = coverage_of([{"id": 7, "title": "Bike lanes", "sdgs": [11], "paris": []}],
                       [{"key": "agr", "title": "Memorandum", "sdgs": [11, 13], "paris": [7]}])
    assert both["by_sdg"][11]["initiatives"] == 1 and both["by_sdg"][11]["engagements"] == 1
    assert [s["source"] for s in both["by_sdg"][11]["served_by"]] == ["initiative", "engagement"]
    assert both["by_sdg"][13]["served_by"] == [{"source": "engagement", "key": "agr", "title": "Memorandum"}]
    assert 11 not in both["sdg_gaps"] and 7 not in both["paris_gaps"]


def test_a_city_without_engagements_has_an_empty_activity(store):
    p = build_profile(store, "zeta")
    assert p["activity"]["count"] == 0 and p["activity"]["partners"] == [] and p["coverage"]["engagements"] == 0


def test_activity_on_a_real_city(work):
    """Barcelona, before and after a visit to one of its twinning partners a month ago."""
    before = work.profile("Barcelona")
    partner = before["twinning"]["partners"][0]["id"]
    day = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    add_engagement(work.store, {"key": "test-barcelona-visit", "kind": "visit", "status": "completed",
                                "title": "Delegation on climate adaptation, heat waves and urban greening",
                                "start_on": day, "axes": ["sustainability"],
                                "parties": [{"actor": "barcelona-es", "role": "visitor"},
                                            {"actor": partner, "role": "host"}]}, mode="light", **SOURCE)
    after = work.profile("Barcelona")
    a0, a1 = before["activity"], after["activity"]
    assert a1["count"] == a0["count"] + 1
    assert a1["by_kind"].get("visit", 0) == a0["by_kind"].get("visit", 0) + 1
    assert a1["by_year"][day[:4]] == a0["by_year"].get(day[:4], 0) + 1
    assert partner not in {d["partner"] for d in a1["dormant"]}
    full = activity(work.store, "barcelona-es", top=100_000)
    assert any(x["id"] == partner and x["last"] == day for x in full["partners"])
    assert after["coverage"]["engagements"] == before["coverage"]["engagements"] + 1
    assert any(s.get("key") == "test-barcelona-visit" for v in after["coverage"]["by_sdg"].values()
               for s in v["served_by"])
    assert after["coverage"]["initiatives"] == after["initiatives"]["count"]


def test_the_cli_profile_shows_the_activity(store):
    import os

    from test_cli import citydip

    env = {**os.environ, "CITYDIP_HOME": str(store.path.parent)}
    out = citydip("profile", "alpha", "--no-network", env=env).stdout
    assert "activity in the engagement register" in out and "dormant ties" in out
    rows = json.loads(citydip("profile", "alpha", "--no-network", "--format", "json", env=env).stdout)
    assert rows["activity"]["count"] == 4 and "coverage" in rows
