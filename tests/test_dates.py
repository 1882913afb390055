import datetime as dt

import pytest

from citydiplomacy.dates import check_order, parse_partial_date
from citydiplomacy.errors import ValidationError


@pytest.mark.parametrize("value,expected", [
    ("1957", "1957"), (1957, "1957"), ("1957-3", "1957-03"), ("1957-03-25", "1957-03-25"),
    (dt.date(2016, 11, 4), "2016-11-04"), ("2024-02-29", "2024-02-29"), (None, None), ("", None),
])
def test_partial_dates(value, expected):
    assert parse_partial_date(value) == expected


@pytest.mark.parametrize("value,message", [
    ("2031-02-30", "February 2031 has 28 days"),
    ("2023-02-29", "February 2023 has 28 days"),
    ("2020-13", "months run from 01 to 12"),
    ("20200", "not a date"),
    ("next year", "not a date"),
    (True, "not a date"),
])
def test_bad_dates_name_the_problem(value, message):
    with pytest.raises(ValidationError, match=message) as info:
        parse_partial_date(value, field="since")
    assert info.value.field == "since"


def test_order_compares_at_common_precision():
    check_order("2015", "2015-06")
    with pytest.raises(ValidationError, match="before it starts"):
        check_order("2016-03", "2015")
