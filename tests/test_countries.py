import pytest

from citydiplomacy import countries


@pytest.mark.parametrize("text,iso3", [
    ("England", "GBR"), ("England, United Kingdom", "GBR"), ("Holland", "NLD"),
    ("Ivory Coast", "CIV"), ("Côte d'Ivoire", "CIV"), ("Czechia", "CZE"),
    ("Czech Republic", "CZE"), ("Georgia (country)", "GEO"), ("Republic of Ireland", "IRL"),
    ("Kosovo", "XKX"), ("Palestine", "PSE"), ("Moldavia", "MDA"), ("DE", "DEU"), ("ESP", "ESP"),
    ("Turkey", "TUR"), ("South Korea", "KOR"),
])
def test_country_variants(text, iso3):
    assert countries.lookup_name(text).alpha3 == iso3


def test_region_hint_is_split_off():
    country, region = countries.parse_place("Brandenburg, Germany")
    assert (country.alpha3, region) == ("DEU", "Brandenburg")
    assert countries.parse_place("Réunion, France")[0].alpha2 == "RE"


def test_unknown_country_is_none():
    assert countries.lookup_name("Atlantis") is None
    assert countries.lookup_code("QQ") is None
