import pytest

from citydiplomacy.errors import NotFoundError


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
