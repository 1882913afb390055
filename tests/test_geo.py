"""Actors and ties on a map (:mod:`citydiplomacy.geo`): GeoJSON points and lines, and the
world map's compact data."""

import pytest

from citydiplomacy.errors import NotFoundError, ValidationError
from citydiplomacy.geo import iso_numeric, map_actors, map_ties, world_map


def test_map_actors_are_points_most_important_first(obs):
    fc = map_actors(obs.store, kind="city", limit=5)
    assert fc["type"] == "FeatureCollection" and fc["returned"] == 5 and fc["total"] > 1000
    for f in fc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "Point" and -180 <= lon <= 180 and -90 <= lat <= 90
        assert f["properties"]["kind"] == "city" and f["id"] == f["properties"]["id"]
    pops = [f["properties"]["population"] or 0 for f in fc["features"]]
    assert pops[0] > 5_000_000


@pytest.mark.parametrize("country", ["Spain", "ES", "ESP"])
def test_map_actors_of_a_country(obs, country):
    fc = map_actors(obs.store, country=country, layer="micro", limit=50_000)
    assert fc["returned"] == fc["total"] > 100
    assert {f["properties"]["country"] for f in fc["features"]} == {"ESP"}
    assert {f["properties"]["layer"] for f in fc["features"]} == {"micro"}


def test_map_actors_errors(obs):
    with pytest.raises(ValidationError, match="'Atlantis' is not a country name or ISO code") as info:
        map_actors(obs.store, country="Atlantis")
    assert info.value.field == "country"
    with pytest.raises(ValidationError, match="limit must be 1 or more"):
        map_actors(obs.store, limit=0)


def test_map_ties_draws_a_line_to_each_located_partner(obs):
    fc = map_ties(obs.store, "Barcelona", type="twinned_with")
    assert fc["actor"] == {"id": "barcelona-es", "name": "Barcelona", "kind": "city", "located": True}
    first = fc["features"][0]
    assert first["properties"]["role"] == "actor" and first["id"] == "barcelona-es"
    lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in fc["features"] if f["geometry"]["type"] == "Point"]
    assert 10 <= fc["mapped"] == len(lines) <= fc["ties"]
    assert all(line["geometry"]["coordinates"][0] == first["geometry"]["coordinates"] for line in lines)
    assert {line["properties"]["other"] for line in lines} == {p["id"] for p in points[1:]}
    assert all(line["properties"]["type"] == "twinned_with" for line in lines)


def test_map_ties_leaves_out_ends_without_coordinates(obs):
    """Barcelona's state and networks have no coordinates: counted, not drawn."""
    fc = map_ties(obs.store, "barcelona-es")
    others = {f["properties"]["other"] for f in fc["features"] if f["geometry"]["type"] == "LineString"}
    assert "esp" not in others and "c40" not in others
    assert fc["mapped"] < fc["ties"]


def test_map_ties_of_an_unknown_actor(obs):
    with pytest.raises(NotFoundError, match="no actor matches 'zzqxq-nowhere'"):
        map_ties(obs.store, "zzqxq-nowhere")


def test_world_map_is_compact_and_consistent(obs):
    m = world_map(obs.store, top=50)
    assert len(m["actors"]) == 50
    ties_of = [a[4] for a in m["actors"]]
    assert ties_of == sorted(ties_of, reverse=True)          # most connected first
    for src, tgt, kind in m["ties"]:
        assert 0 <= src < 50 and 0 <= tgt < 50 and m["types"][kind]
    assert iso_numeric()["ESP"] == "724" and m["countries"]["724"] > 0
