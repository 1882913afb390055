"""A list's order settles ambiguous names: sections by region, and reciprocal rows."""

import pytest

from citydiplomacy.resolve.listcontext import section_order, settle_rows
from citydiplomacy.resolve import Gazetteer, Place, Resolver

US = "United States"


@pytest.fixture(scope="module")
def resolver():
    gz = Gazetteer()
    places = [
        ("atlanta", "Atlanta", "georgia"), ("macon", "Macon", "georgia"), ("savannah", "Savannah", "georgia"),
        ("columbus-ga", "Columbus", "georgia"), ("columbus-oh", "Columbus", "ohio"),
        ("columbus-in", "Columbus", "indiana"), ("carmel", "Carmel", "indiana"),
        ("evansville", "Evansville", "indiana"), ("winona", "Winona", "minnesota"),
        ("st-cloud", "St. Cloud", "minnesota"), ("st-louis", "St. Louis", "missouri"),
        ("jackson-mn", "Jackson", "minnesota"), ("jackson-ms", "Jackson", "mississippi"),
        ("jackson-mo", "Jackson", "missouri"), ("dayton", "Dayton", "ohio"), ("akron", "Akron", "ohio"),
    ]
    for pid, name, region in places:
        gz.add(Place(pid, name, "US", 100_000, region, region.title()), [])
    for i in range(12):     # partners abroad, each unique
        gz.add(Place(f"p{i}", f"Partner{i}", "JP", 50_000), [])
    return Resolver(gz)


TAIL = ["Dayton", "Akron", "Dayton", "Akron"]      # enough resolved entries to measure the order


def rows_of(firsts):
    """One row per first name, each with its own partner."""
    return [((name, US), (f"Partner{i % 12}", "Japan")) for i, name in enumerate(firsts + TAIL)]


def settle(resolver, rows):
    base = {k: resolver.resolve(*k) for pair in rows for k in pair}
    return settle_rows(resolver, rows, base)


def test_a_name_inside_a_region_section_takes_that_region(resolver):
    firsts = ["Atlanta", "Columbus", "Macon", "Savannah", "Carmel", "Columbus", "Evansville",
              "Dayton", "Akron", "Winona", "St. Cloud", "St. Louis"]
    out, counts = settle(resolver, rows_of(firsts))
    assert out[1][0].id == "columbus-ga" and out[1][0].rule == "list_context"
    assert out[5][0].id == "columbus-in"
    assert counts["list_context"] == 2


def test_an_entry_at_the_edge_of_a_section_is_left_alone(resolver):
    # Jackson between Winona (Minnesota) and St. Louis (Missouri) is in neither
    firsts = ["Atlanta", "Macon", "Savannah", "Carmel", "Evansville", "Dayton", "Akron",
              "Winona", "St. Cloud", "Jackson", "St. Louis", "Atlanta"]
    out, _ = settle(resolver, rows_of(firsts))
    assert out[9][0].status == "ambiguous"


def test_a_list_not_ordered_by_region_says_nothing(resolver):
    firsts = ["Akron", "Atlanta", "Carmel", "Columbus", "Dayton", "Evansville", "Macon",
              "Savannah", "St. Cloud", "St. Louis", "Winona", "Atlanta", "Carmel", "Dayton", "Macon"]
    rows = [((name, US), (f"Partner{i % 12}", "Japan")) for i, name in enumerate(firsts)]
    regions = [resolver.gz.places[resolver.resolve(n, US).id].admin1 if resolver.resolve(n, US).resolved
               else None for n in firsts]
    assert section_order(regions) < 0.5
    out, counts = settle(resolver, rows)
    assert out[3][0].status == "ambiguous" and not counts


def test_the_reversed_row_takes_the_settled_place(resolver):
    firsts = ["Atlanta", "Columbus", "Macon", "Savannah", "Carmel", "Evansville", "Dayton", "Akron",
              "Winona", "St. Cloud", "St. Louis", "Atlanta"]
    rows = rows_of(firsts) + [(("Partner1", "Japan"), ("Columbus", US))]
    out, counts = settle(resolver, rows)
    assert out[-1][1].id == "columbus-ga" and out[-1][1].rule == "reciprocal"
    assert counts["reciprocal"] == 1


# -- the same pair written plainly and qualified -----------------------------------------


@pytest.fixture(scope="module")
def halle():
    gz = Gazetteer()
    gz.add(Place("halle-saale", "Halle (Saale)", "DE", 237_000, "saxony-anhalt", "Saxony-Anhalt",
                 lat=51.48, lon=11.97), ["Halle"])
    gz.add(Place("halle-westf", "Halle", "DE", 21_000, "north rhine-westphalia", "North Rhine-Westphalia",
                 lat=52.06, lon=8.36), [])
    gz.add(Place("wellington-a", "Wellington", "GB", 22_000, "england", "England", lat=52.7, lon=-2.5), [])
    gz.add(Place("wellington-b", "Wellington", "GB", 0, "england", "England", lat=52.1, lon=-2.7), [])
    gz.add(Place("gyumri", "Gyumri", "AM", 120_000, "shirak", "Shirak"), [])
    gz.add(Place("torres", "Torres Vedras", "PT", 20_000, "lisbon", "Lisbon"), [])
    from citydiplomacy.resolve import subdivisions
    subdivisions.extend_gazetteer(gz, {"GB"})
    return Resolver(gz)


def test_a_pair_listed_plainly_and_qualified_takes_the_qualified_place(halle):
    # Gyumri's page names "Halle"; Halle's own page is "Halle (Saale)": one twin, not two
    rows = [(("Gyumri", "Armenia"), ("Halle", "Germany")),
            (("Halle (Saale)", "Germany"), ("Gyumri", "Armenia"))]
    base = {k: halle.resolve(*k) for pair in rows for k in pair}
    assert base[("Halle", "Germany")].id == "halle-westf"          # alone: the larger namesake
    out, counts = settle_rows(halle, rows, base)
    assert out[0][1].id == out[1][0].id == "halle-saale"
    assert out[0][1].rule == "same_pair" and counts["same_pair"] == 1


def test_a_qualified_mention_that_cannot_be_settled_sends_the_plain_one_to_review(halle):
    # "Wellington, Somerset": both Wellingtons lie in England, which one is in Somerset the
    # gazetteer cannot tell; the plain "Wellington" beside the same partner cannot either
    rows = [(("Torres Vedras", "Portugal"), ("Wellington", "England")),
            (("Wellington, Somerset", "England"), ("Torres Vedras", "Portugal"))]
    base = {k: halle.resolve(*k) for pair in rows for k in pair}
    assert base[("Wellington, Somerset", "England")].rule == "qualifier_unsettled"
    assert base[("Wellington", "England")].resolved
    out, _ = settle_rows(halle, rows, base)
    assert out[0][1].status == "ambiguous" and out[0][1].rule == "same_pair_unsettled"
