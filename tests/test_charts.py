"""The geometry of the index charts (radar, rank intervals on a log scale)."""

from __future__ import annotations

import pytest

from citydiplomacy.web import charts


def test_radar_full_scores_touch_the_outer_ring_and_zero_is_the_centre():
    full = charts.radar({"sustainability": 100, "digital": {"score": 100}, "engagement": 100})
    assert full["polygon"] == full["rings"][-1]
    empty = charts.radar({"sustainability": 0, "digital": None, "engagement": 0})
    assert set(empty["points"]) == {(empty["cx"], empty["cy"])}
    # the first axis points straight up from the centre, at half the radius for 50
    half = charts.radar({"sustainability": 50, "digital": 0, "engagement": 0})
    x, y = half["points"][0]
    assert x == half["cx"] and y == pytest.approx(half["cy"] - 55, abs=0.1)
    # out-of-range scores are clipped, labels stay inside the drawing
    big = charts.radar({"sustainability": 250, "digital": -5, "engagement": 50})
    assert big["spokes"][0]["score"] == 100 and big["spokes"][1]["score"] == 0
    assert all(0 < s["lx"] < big["width"] and 0 < s["ly"] < big["height"] for s in big["spokes"])


def test_ranks_lie_on_a_log_scale():
    assert charts.rank_position(1, 10_000) == 0
    assert charts.rank_position(10_000, 10_000) == 100
    assert charts.rank_position(100, 10_000) == pytest.approx(50)
    assert charts.rank_position(None, 100) is None and charts.rank_position(3, 1) is None
    iv = charts.interval({"rank": 10, "rank_lo": 1, "rank_hi": 100, "of": 10_000})
    assert iv == {"rank": 25.0, "lo": 0.0, "hi": 50.0}
    # without a Monte Carlo the interval collapses on the rank
    assert charts.interval({"rank": 10, "rank_lo": None, "rank_hi": None, "of": 10_000}) == \
        {"rank": 25.0, "lo": 25.0, "hi": 25.0}


def test_radar_marks_an_axis_with_low_data():
    g = charts.radar({"sustainability": {"score": 60}, "digital": {"score": 0, "low_data": True},
                      "engagement": 40})
    marks = {s["axis"]: s["low_data"] for s in g["spokes"]}
    assert marks == {"sustainability": False, "digital": True, "engagement": False}
