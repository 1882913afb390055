import pytest

from citydiplomacy.errors import ValidationError


@pytest.mark.parametrize("query", ["Munich", "München", "Munchen", "MÜNCHEN", "Muenchen", "Мюнхен", "慕尼黑"])
def test_accents_case_aliases_and_scripts_find_the_same_city(obs, query):
    assert obs.search(query, limit=3)[0]["id"] == "munich-de"


@pytest.mark.parametrize("query,expected", [
    ("Paris", "paris-fr"),            # the capital before Paris, Texas
    ("Barcelona", "barcelona-es"),    # before Barcelona, Venezuela
    ("London", "london-gb"),          # before London, Ontario
    ("Washington", "washington-us"),  # the capital before the small towns
    ("Georgia", "geo"),               # the state
    ("Deutschland", "deu"),           # a state by its German name
    ("Nordic Council", "nordic-council"),
    ("C40", "c40"),
])
def test_ranking_puts_capitals_and_populous_places_first(obs, query, expected):
    assert obs.search(query, limit=5)[0]["id"] == expected


def test_filters(obs):
    hits = obs.search("Springfield", country="US", kind="city", limit=50)
    assert len(hits) >= 3 and all(h["country"] == "USA" and h["kind"] == "city" for h in hits)
    assert all(h["layer"] == "macro" for h in obs.search("United", layer="macro"))


def test_prefix_matches(obs):
    assert "munich-de" in [h["id"] for h in obs.search("Munic", limit=10)]


def test_records_have_the_documented_fields(obs):
    hit = obs.search("Barcelona")[0]
    assert {"id", "name", "kind", "layer", "country", "score", "match"} <= set(hit)


@pytest.mark.parametrize("kwargs,message", [
    ({"text": "  "}, "give some letters"),
    ({"text": "x", "kind": "town"}, "unknown kind"),
    ({"text": "x", "layer": "upper"}, "unknown layer"),
    ({"text": "x", "country": "Atlantis"}, "not a country"),
])
def test_bad_search_input(obs, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        obs.search(**kwargs)
