import pytest

from citydiplomacy.actors import bloc_countries, count_ties, list_ties
from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.profile import build_profile, macro_reach


def test_barcelona_profile(obs):
    p = obs.profile("Barcelona")
    assert p["actor"]["id"] == "barcelona-es"
    assert p["ties_by_layer"]["meso"]["located_in"] == 1
    assert p["ties_by_layer"]["micro"]["twinned_with"] >= 10
    tw = p["twinning"]
    assert len(tw["partners"]) >= 10 and sum(tw["by_country"].values()) == len(tw["partners"])
    assert tw["by_bloc"]                       # partners' states belong to blocs
    nets = {n["id"] for ns in p["networks_by_axis"].values() for n in ns}
    assert "c40" in nets and "eurocities" in nets
    assert {n["id"] for n in p["networks_by_axis"]["sustainability"]} >= {"c40"}
    reach = p["reach"]
    ids = {m["id"] for m in reach["macro_actors"]}
    assert {"un", "eu"} <= ids
    assert reach["by_channel"].get("state", 0) >= 2
    assert "esp" in reach["intermediaries"]


def test_paris_profile_reaches_macro_through_networks(obs):
    p = obs.profile("Paris")
    assert p["actor"]["id"] == "paris-fr"
    assert p["reach"]["count"] >= 3
    assert "fra" in p["reach"]["intermediaries"]


@pytest.mark.parametrize("city", ["Tokyo", "Nairobi", "Copenhagen", "Seoul"])
def test_well_known_cities_have_profiles(obs, city):
    p = obs.profile(city)
    assert p["actor"]["kind"] == "city"
    assert p["ties_by_layer"]["meso"]["located_in"] == 1
    assert p["reach"]["count"] >= 1


def test_unknown_actor_suggests_closest_matches(obs):
    with pytest.raises(NotFoundError, match="no actor matches 'Barcelonaa'") as info:
        obs.profile("Barcelonaa")
    assert any("Barcelona" in s for s in info.value.suggestions)


def test_show_by_identifiers(obs):
    assert obs.get("3128760")["id"] == "barcelona-es"      # GeoNames id
    assert obs.get("Q458")["id"] == "eu"                   # Wikidata QID
    assert obs.get("BARCELONA-ES")["id"] == "barcelona-es"


def test_ties_filters(obs):
    tw = obs.ties("Barcelona", type="twinned_with")
    assert tw and all(t["type"] == "twinned_with" for t in tw)
    assert all(t["other_layer"] == "meso" for t in obs.ties("Barcelona", layer="meso"))
    assert all("sustainability" in t["axes"] for t in obs.ties("Barcelona", axis="sustainability"))
    for t in tw:
        assert t["provenance"]["licence"] == "CC BY-SA 4.0"


def test_ties_filters_on_the_other_end_and_date(obs):
    everything = list_ties(obs.store, "barcelona-es")
    cities = list_ties(obs.store, "barcelona-es", kind="city")
    assert cities and all(t["other_kind"] == "city" for t in cities) and len(cities) < len(everything)
    french = list_ties(obs.store, "barcelona-es", country="France")
    assert french and all(t["other_country"] == "FRA" for t in french)
    assert list_ties(obs.store, "barcelona-es", country="FR") == french
    with obs.store.connect() as conn:
        eu = bloc_countries(conn, "eu")
    assert {"ESP", "FRA", "DEU"} <= eu and "USA" not in eu
    in_eu = list_ties(obs.store, "barcelona-es", bloc="eu")
    assert in_eu and all(t["other_country"] in eu for t in in_eu) and len(in_eu) < len(everything)
    members = list_ties(obs.store, "barcelona-es", type="member_of")
    in_2000 = list_ties(obs.store, "barcelona-es", type="member_of", as_of="2000")
    assert in_2000 and all(not t["since"] or t["since"] <= "2000" for t in in_2000)
    assert len(in_2000) < len(members)          # the memberships since 2017, 2018 and 2020 are not
    both = list_ties(obs.store, "barcelona-es", type="twinned_with", kind="city", bloc="eu")
    assert both and all(t["type"] == "twinned_with" and t["other_country"] in eu for t in both)


@pytest.mark.parametrize("filters, field, message", [
    ({"kind": "village"}, "kind", "unknown kind 'village'"),
    ({"country": "Atlantis"}, "country", "'Atlantis' is not a country name or ISO code"),
    ({"bloc": "barcelona-es"}, "bloc", "'barcelona-es' has no member states in the store"),
    ({"as_of": "20x0"}, "as_of", "'20x0' is not a date; write YYYY"),
    ({"type": "friend_of"}, "type", "unknown type 'friend_of'"),
])
def test_ties_filter_errors_name_the_filter(obs, filters, field, message):
    with pytest.raises(ValidationError, match=message) as info:
        list_ties(obs.store, "barcelona-es", **filters)
    assert info.value.field == field


def test_tie_counts_match_the_listed_ties(obs):
    """The profile counts the ties in force with one aggregate query; it agrees with the
    full list (the EU's list holds the United Kingdom's ended membership, uncounted)."""
    for actor in ("barcelona-es", "esp", "c40", "eu"):
        listed: dict[str, dict[str, int]] = {}
        for t in list_ties(obs.store, actor):
            if t["other_layer"] and t["state"] in ("active", "dormant"):
                listed.setdefault(t["other_layer"], {}).setdefault(t["type"], 0)
                listed[t["other_layer"]][t["type"]] += 1
        with obs.store.connect() as conn:
            assert count_ties(conn, actor) == listed, actor


def test_profile_reach_is_the_same_as_macro_reach(obs):
    """The profile derives the first upward steps from the ties it already read, and the
    second from facts shared by the cities of a country: the same as asking afresh."""
    for city in ("barcelona-es", "paris-fr", "nairobi-ke", "esp", "c40"):
        assert build_profile(obs.store, city)["reach"] == macro_reach(obs.store, city), city


def test_profile_follows_a_write(work):
    """Facts shared between profiles (a state's blocs, a network's axes, what a state
    reaches) are dropped when the store changes."""
    before = build_profile(work.store, "barcelona-es")
    work.add_actor("Test Bloc", "geopolitical_bloc", id="test-bloc", source="a test")
    work.add_actor("Test Union", "international_organization", id="test-union", source="a test")
    for state in ("esp", "fra"):
        work.add_tie(state, "test-bloc", "member_of", status="active", source="a test")
    work.add_tie("esp", "test-union", "member_of", status="active", source="a test")
    after = build_profile(work.store, "barcelona-es")
    assert after["twinning"]["by_bloc"].get("Test Bloc", 0) > 0
    assert "test-union" in {m["id"] for m in after["reach"]["macro_actors"]}
    assert "test-union" not in {m["id"] for m in before["reach"]["macro_actors"]}


def test_add_actor_reports_the_new_id(work):
    report = work.add_actor("Springfield Partnership", "city_network", country="US", source="a test")
    assert report.actor == "springfield-partnership-usa" and report.changed
    assert work.get("springfield-partnership-usa")["name"] == "Springfield Partnership"
    again = work.add_actor("Springfield Partnership", "city_network", country="US", source="a test")
    assert again.actor == "springfield-partnership-usa" and not again.changed
    assert work.add_actor("Other", "city_network", id="my-net", source="t", dry_run=True).actor == "my-net"


def test_framework_browse(obs):
    r = obs.framework("sdg")
    assert [c["code"] for c in r["children"]][:3] == ["sdg:1", "sdg:2", "sdg:3"]
    assert len(r["children"]) == 17
    r = obs.framework("sdg", "11.6", lang="fr")
    assert "des villes par habitant" in r["item"]["title"]
    assert [c["code"] for c in r["children"]] == ["sdg:11.6.1", "sdg:11.6.2"]
    assert obs.framework("sdg", "11", lang="zh-Hans")["children"][-1]["code"] == "sdg:11.c"
    paris = obs.framework("paris", "7")
    assert paris["item"]["attrs"]["theme"] == "adaptation"
    assert obs.framework("paris", lang="de")["children"][0]["title"]


def test_framework_errors(obs):
    with pytest.raises(NotFoundError, match="no framework 'kyoto'"):
        obs.framework("kyoto")
    with pytest.raises(NotFoundError, match="no item '11.99'"):
        obs.framework("sdg", "11.99")
