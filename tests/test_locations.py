"""Every place on the map (issue 15, item 5): regions, districts of cities and French
communes get a representative point with its basis and source, the points are sane, and
the share of twinning ties with both ends located is the one docs/data.md quotes."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from citydiplomacy.resolve import districts, locations, subdivisions, supplement
from citydiplomacy.store import schema

DOCS = Path(__file__).resolve().parents[1] / "docs"


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p = math.pi / 180
    x = (b[1] - a[1]) * p * math.cos((a[0] + b[0]) / 2 * p)
    return 6371.0 * math.hypot(x, (b[0] - a[0]) * p)


def _region(code: str):
    rec = subdivisions.records()[code]
    actor, _ = subdivisions.region_actor(rec, subdivisions.region_slug(rec))
    return actor


@pytest.mark.parametrize("code, near, within, basis, source", [
    # Kreis Herford: its namesake seat Herford (52.114, 8.673)
    ("DE-AGS-05758", (52.114, 8.673), 15, {"namesake_town", "centroid"}, "postal codes"),
    # Tendring (Essex): Clacton-on-Sea (51.789, 1.156), the district's largest town
    ("GSS-E07000076", (51.789, 1.156), 25, {"centroid"}, "postal codes"),
    # Los Angeles County: Los Angeles (34.052, -118.244), its largest place and its namesake
    ("US-FIPS-06037", (34.052, -118.244), 60, {"namesake_town"}, "cities1000"),
    # Maui County: a centroid of its places on Maui, Molokai and Lanai (Wailuku, 20.89 N 156.50 W)
    ("US-FIPS-15009", (20.89, -156.50), 60, {"centroid"}, "cities1000"),
    # Tuscany (IT-52): Florence (43.770, 11.249)
    ("IT-52", (43.770, 11.249), 100, {"reference_point"}, "countries-states-cities"),
    # Hobsons Bay (a GeoNames second-level division of Victoria): Williamstown (-37.857, 144.897)
    ("AU-ADM2-victoria-hobsons-bay", (-37.857, 144.897), 20, {"centroid", "namesake_town"}, "cities1000"),
])
def test_each_kind_of_region_gets_a_sourced_point(code, near, within, basis, source):
    actor = _region(code)
    assert actor.lat is not None and actor.lon is not None
    assert km((actor.lat, actor.lon), near) <= within
    assert actor.attrs["location_basis"] in basis
    assert source in actor.attrs["location_source"]
    assert actor.attrs["location_licence"] and actor.attrs["location_note"]


def test_medway_is_not_put_in_massachusetts():
    """The countries-states-cities database puts GB-MDW at Medway, Massachusetts: the point
    is rejected and Medway's GeoNames places give its centroid instead."""
    actor = _region("GB-MDW")
    assert km((actor.lat, actor.lon), (51.39, 0.52)) <= 15
    assert actor.attrs["location_basis"] == "centroid"


def test_a_region_no_source_locates_has_no_point():
    actor = _region("ST-01")                 # Água Grande: no source has a point we trust
    assert actor.lat is None and "location_basis" not in actor.attrs


def test_insee_communes_get_their_seat_or_a_centroid():
    vire = supplement.records()["insee-14762"]          # Vire Normandie: chef-lieu Vire
    actor, _ = supplement.city_actor(vire, "vire-normandie-fr")
    assert actor.attrs["location_basis"] == "seat" and "Vire" in actor.attrs["location_note"]
    assert km((actor.lat, actor.lon), (48.838, -0.889)) <= 2
    assert "INSEE" in actor.attrs["location_source"] and "Licence Ouverte" in actor.attrs["location_licence"]
    guidel = supplement.records()["insee-56078"]        # Guidel (Morbihan), 47.79 N 3.49 W
    actor, _ = supplement.city_actor(guidel, "guidel-fr")
    assert actor.attrs["location_basis"] == "centroid" and "Lorient" in actor.attrs["location_note"]
    assert km((actor.lat, actor.lon), (47.79, -3.49)) <= 20


def test_a_list_place_keeps_its_own_coordinates():
    rec = next(r for r in supplement.records().values() if r["source"] == "dr5hn" and r["lat"])
    actor, _ = supplement.city_actor(rec, "x-" + rec["country"].lower())
    assert (actor.lat, actor.lon) == (float(rec["lat"]), float(rec["lon"]))
    assert "location_basis" not in actor.attrs


def test_district_point_prefers_a_place_near_its_city():
    berlin = (52.524, 13.411)
    lat, lon, attrs = locations.district_point(berlin, "berlin-de", [])
    assert (lat, lon) == berlin and attrs["location_basis"] == "parent_city"
    assert "berlin-de" in attrs["location_note"]
    near = [("Spandau", 52.535, 13.200), ("Spandau", 48.0, 9.0)]      # the second is 500 km away
    lat, lon, attrs = locations.district_point(berlin, "berlin-de", near)
    assert (lat, lon) == (52.535, 13.200) and attrs["location_basis"] == "place"
    two = [("Mitte", 52.52, 13.40), ("Mitte", 52.45, 13.30)]           # two places: not sure, the city
    assert locations.district_point(berlin, "berlin-de", two)[2]["location_basis"] == "parent_city"
    assert locations.district_point((None, None), "x", near) is None


def test_district_actor_is_placed_at_its_city():
    rec = {"city": "berlin-de", "cc": "DE", "admin1": "Berlin", "name": "Steglitz-Zehlendorf", "number": None,
           "keys": ["steglitz zehlendorf"], "names": [], "city_point": (52.524, 13.411), "places": []}
    actor, _ = districts.district_actor(rec, "berlin-de", lambda i: False)
    assert (actor.lat, actor.lon) == (52.524, 13.411) and actor.attrs["location_basis"] == "parent_city"
    rec["city_point"] = (None, None)                     # the record does not know: the caller does
    actor, _ = districts.district_actor(rec, "berlin-de", lambda i: False, (52.5, 13.4))
    assert (actor.lat, actor.lon) == (52.5, 13.4)


def test_unknown_basis_is_refused():
    with pytest.raises(ValueError, match="location basis"):
        locations.location_attrs("guess", "parent_city")


# -- the built default store -------------------------------------------------------------------

def _actors(obs) -> dict[str, dict]:
    a = schema.actors
    with obs.store.connect() as conn:
        rows = conn.execute(select(a.c.id, a.c.kind, a.c.layer, a.c.country, a.c.lat, a.c.lon, a.c.attrs))
        return {r.id: {"kind": r.kind, "layer": r.layer, "country": r.country, "lat": r.lat, "lon": r.lon,
                       "attrs": (json.loads(r.attrs) if isinstance(r.attrs, str) else r.attrs) or {}} for r in rows}


def _twinning(obs) -> list[tuple[str, str]]:
    t = schema.ties
    with obs.store.connect() as conn:
        return [(r.source, r.target) for r in conn.execute(select(t.c.source, t.c.target)
                                                              .where(t.c.type == "twinned_with"))]


def test_derived_points_carry_basis_and_source(obs):
    derived = [a for a in _actors(obs).values() if a["attrs"].get("location_basis")]
    assert len(derived) > 700
    for a in derived:
        assert a["attrs"]["location_basis"] in locations.BASES
        assert a["attrs"]["location_source"] and a["attrs"]["location_licence"]
        assert a["lat"] is not None and a["lon"] is not None
    kinds = {(a["kind"], a["attrs"]["location_basis"]) for a in derived}
    assert {("region", "centroid"), ("region", "reference_point"), ("city", "parent_city"), ("city", "seat"),
            ("city", "centroid")} <= kinds


def test_points_are_sane(obs):
    """Each region's and commune's point lies in its country's box (that of the country's
    GeoNames cities500 places, 1 degree wider) and within 100 km of one of those places;
    each district's point within 30 km of its city."""
    from citydiplomacy import countries
    from citydiplomacy.resolve import geonames

    cells: dict[tuple[str, int, int], list[tuple[float, float]]] = {}
    box: dict[str, list[float]] = {}
    for r in geonames.load_records("cities500.json").values():
        pt = (r["latitude"], r["longitude"])
        cells.setdefault((r["countrycode"], int(pt[0] // 1), int(pt[1] // 1)), []).append(pt)
        b = box.setdefault(r["countrycode"], [pt[0], pt[0], pt[1], pt[1]])
        b[:] = [min(b[0], pt[0]), max(b[1], pt[0]), min(b[2], pt[1]), max(b[3], pt[1])]
    actors = _actors(obs)
    bad = []
    for aid, a in actors.items():
        basis = a["attrs"].get("location_basis")
        if not basis:
            continue
        pt = (a["lat"], a["lon"])
        if basis in ("parent_city", "place"):
            city = actors[a["attrs"]["district_of"]]
            if km(pt, (city["lat"], city["lon"])) > 30:
                bad.append((aid, "far from its city"))
            continue
        cc = countries.lookup_code(a["country"]).alpha2
        b = box.get(cc)
        if not b or not (b[0] - 1 <= pt[0] <= b[1] + 1 and b[2] - 1 <= pt[1] <= b[3] + 1):
            bad.append((aid, "outside its country"))
            continue
        i, j = int(pt[0] // 1), int(pt[1] // 1)
        near = [p for di in (-1, 0, 1) for dj in (-1, 0, 1) for p in cells.get((cc, i + di, j + dj), ())]
        if not near or min(km(pt, p) for p in near) > 100:
            bad.append((aid, "far from every place of its country"))
    assert not bad, bad[:20]


def test_located_share_of_twinning_ties_is_the_one_docs_quote(obs):
    actors = _actors(obs)
    ties = _twinning(obs)
    located = sum(1 for s, t in ties if actors[s]["lat"] is not None and actors[t]["lat"] is not None)
    assert located / len(ties) >= 0.97
    text = (DOCS / "data.md").read_text(encoding="utf-8")
    m = re.search(r"twinning ties with both ends located \| \*\*([\d,]+) of ([\d,]+) \(([\d.]+)%\)\*\*", text)
    assert m, "docs/data.md must quote the located share of twinning ties"
    assert (int(m[1].replace(",", "")), int(m[2].replace(",", ""))) == (located, len(ties))
    assert m[3] == f"{100 * located / len(ties):.1f}"
