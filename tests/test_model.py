import pytest

from citydiplomacy.errors import ValidationError
from citydiplomacy.model import Actor, Provenance, Tie
from citydiplomacy.vocab import Layer


def test_kind_sets_default_layer_and_can_be_overridden():
    assert Actor.parse({"id": "c40", "name": "C40", "kind": "city_network"}).layer == Layer.MICRO
    assert Actor.parse({"id": "eu", "name": "EU", "kind": "geopolitical_bloc"}).layer == Layer.MACRO
    a = Actor.parse({"id": "x", "name": "X", "kind": "regional_organization", "layer": "macro"})
    assert a.layer == Layer.MACRO


def test_country_codes_are_normalised_to_alpha3():
    assert Actor.parse({"id": "x", "name": "X", "kind": "city", "country": "es"}).country == "ESP"
    assert Actor.parse({"id": "x", "name": "X", "kind": "city", "country": "XK"}).country == "XKX"


@pytest.mark.parametrize("data,field,message", [
    ({"kind": "town"}, "kind", "unknown kind 'town'; choose one of: international_organization"),
    ({"country": "QQ"}, "country", "'QQ' is not an ISO 3166-1 country code"),
    ({"id": "Bad Id"}, "id", "is not a valid id"),
    ({"wikidata": "1492"}, "wikidata", "is not a Wikidata id"),
    ({"lat": 95, "lon": 0}, "lat", "less than or equal to 90"),
    ({"lat": 41.0}, None, "give both lat and lon"),
    ({"population": -5}, "population", "greater than or equal to 0"),
    ({"axes": ["climate"]}, "axes", "unknown axis 'climate'"),
    ({"colour": "red"}, "colour", "unknown field"),
])
def test_actor_validation_messages(data, field, message):
    base = {"id": "x", "name": "X", "kind": "city"}
    with pytest.raises(ValidationError, match=message) as info:
        Actor.parse({**base, **data}, row=7, file="actors.csv")
    assert info.value.field == field
    assert str(info.value).startswith("file actors.csv, row 7")


@pytest.mark.parametrize("data,field,message", [
    ({"type": "loves"}, "type", "unknown tie type 'loves'"),
    ({"since": "2031-02-30"}, "since", "February 2031 has 28 days"),
    ({"status": "asleep"}, "status", "unknown status 'asleep'"),
    ({"since": 2020, "until": 2019}, None, "ends \\(2019\\) before it starts \\(2020\\)"),
    ({"target": "a"}, None, "two different ends"),
    ({"weight": -1}, "weight", "greater than or equal to 0"),
])
def test_tie_validation_messages(data, field, message):
    base = {"source": "a", "target": "b", "type": "member_of"}
    with pytest.raises(ValidationError, match=message) as info:
        Tie.parse({**base, **data})
    assert info.value.field == field


def test_twinning_is_symmetric_and_stored_canonically():
    t = Tie.parse({"source": "zagreb-hr", "target": "athens-gr", "type": "twinned_with"})
    assert (t.source, t.target) == ("athens-gr", "zagreb-hr")
    directed = Tie.parse({"source": "zagreb-hr", "target": "hrv", "type": "located_in"})
    assert (directed.source, directed.target) == ("zagreb-hr", "hrv")


def test_provenance_requires_source_and_licence():
    with pytest.raises(ValidationError, match="licence"):
        Provenance.parse({"source": "somewhere"})
    p = Provenance.parse({"source": "UN", "licence": "facts", "as_of": "2026-11"})
    assert p.as_of == "2026-11"
