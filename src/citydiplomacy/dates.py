"""Partial dates (``1957``, ``1957-03``, ``1957-03-25``) as used by ties and initiatives.

Stored as ISO text so that they sort and compare as strings: ``"1957" < "1957-03"``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from .errors import ValidationError

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_partial_date(value: object, *, field: str = "date") -> str | None:
    """Validate a partial date and return its canonical text (zero-padded), or None.

    Accepts ``int`` years, ``datetime.date`` and strings ``YYYY``, ``YYYY-MM`` and
    ``YYYY-MM-DD``. Raises :class:`ValidationError` for anything else, naming the field,
    e.g. for ``2031-02-30`` ("February 2031 has 28 days").
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise ValidationError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD", field=field)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD", field=field)
    m = _PARTIAL.match(value.strip())
    if not m:
        raise ValidationError(f"'{value}' is not a date; write YYYY, YYYY-MM or YYYY-MM-DD "
                              "(e.g. 1957, 1957-03 or 1957-03-25)", field=field)
    year = int(m.group(1))
    if m.group(2) is None:
        return f"{year:04d}"
    month = int(m.group(2))
    if not 1 <= month <= 12:
        raise ValidationError(f"'{value}' has month {month}; months run from 01 to 12", field=field)
    if m.group(3) is None:
        return f"{year:04d}-{month:02d}"
    day = int(m.group(3))
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise ValidationError(
            f"'{value}' does not exist: {calendar.month_name[month]} {year} has {last} days",
            field=field)
    return f"{year:04d}-{month:02d}-{day:02d}"


def check_order(since: str | None, until: str | None) -> None:
    """Raise if ``until`` comes before ``since`` (comparing at the coarser precision)."""
    if since and until:
        n = min(len(since), len(until))
        if until[:n] < since[:n]:
            raise ValidationError(f"ends ({until}) before it starts ({since})", field="until")
