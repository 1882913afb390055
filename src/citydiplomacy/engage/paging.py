"""Sorted pages of the register, read from an index: by offset, or after a cursor.

A sort is an ordering on a stored column (revision 0010: ``sort_date``, ``title_key``, ...)
with the engagement's id as the last key, so every order is total and stable (equal titles
keep their order from page to page). Rows without a value (undated engagements, no review
date) come last whichever way: the order is split in *segments* — the rows with a value,
then the rows without, each read from an index — rather than ordered by an expression no
index holds.

A *cursor* names the last row of a page (its sort, segment, sort value and id); the next
page is the rows after it (``(value, id) > (v, i)``: a seek in the index), so a deep page
costs what the first one does, and a row written meanwhile neither repeats nor skips one.
It is opaque to clients (URL-safe base64 of JSON)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import tuple_

from ..errors import ValidationError
from ..store import schema

__all__ = ["SORTS", "Segment", "segments", "encode_cursor", "decode_cursor", "Cursor", "first_column"]

E = schema.engagements

#: how a list may be sorted (``-`` = descending)
SORTS = ("date", "-date", "title", "-title", "kind", "status", "review", "-review", "updated", "-updated")
#: sort name -> the stored column, and whether rows may lack a value (those come last)
_COLUMNS = {"date": ("sort_date", True), "title": ("title_key", False), "kind": ("kind", False),
            "status": ("status", False), "review": ("review_on", True), "updated": ("updated_at", True)}


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the row's segment, sort value and id."""

    sort: str
    segment: int
    value: Any
    id: int


@dataclass(frozen=True)
class Segment:
    """One run of the order: the rows it holds (``where``), the column it sorts on (None:
    by id alone), and the direction."""

    number: int
    where: Any
    column: Any
    desc: bool

    def order_by(self) -> list:
        keys = ([self.column] if self.column is not None else []) + [E.c.id]
        return [k.desc() if self.desc else k.asc() for k in keys]

    def columns(self) -> list:
        """What a page query selects: the sort value (or NULL) and the id."""
        return [self.column if self.column is not None else E.c.id.label("value"), E.c.id]

    def after(self, cursor: Cursor):
        """The rows of this segment after ``cursor`` (None: all of them); only called for
        the cursor's segment and those after it."""
        if cursor.segment != self.number:
            return None
        if self.column is None:
            return E.c.id < cursor.id if self.desc else E.c.id > cursor.id
        key, at = tuple_(self.column, E.c.id), tuple_(cursor.value, cursor.id)
        return key < at if self.desc else key > at

    def value_of(self, row) -> Any:
        return row[0] if self.column is not None else None


def segments(sort: str) -> list[Segment]:
    """The segments of ``sort`` (one of :data:`SORTS`), in order."""
    if sort not in SORTS:
        raise ValidationError(f"unknown sort '{sort}'; choose one of: {', '.join(SORTS)}", field="sort")
    desc = sort.startswith("-")
    name, nullable = _COLUMNS[sort.lstrip("-")]
    col = E.c[name]
    if not nullable:
        return [Segment(0, None, col, desc)]
    return [Segment(0, col.is_not(None), col, desc), Segment(1, col.is_(None), None, desc)]


def first_column(segs: list[Segment]):
    """The column a sort orders by (its first segment's)."""
    return segs[0].column


def encode_cursor(sort: str, segment: int, value: Any, id_: int) -> str:
    """The cursor of the row (``segment``, ``value``, ``id_``) in ``sort``."""
    raw = json.dumps([sort, segment, value, id_], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> Cursor:
    """The cursor ``text`` made for ``sort``; a cursor that is not one this register gave,
    or was made for another sort, raises :class:`ValidationError`."""
    bad = ValidationError(f"'{text[:40]}' is not a cursor of this register: use the 'next_cursor' of the "
                          "previous page (with the same filters and sort), or start from the first page",
                          field="cursor")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not (isinstance(data, list) and len(data) == 4 and data[0] in SORTS and data[1] in (0, 1)
            and isinstance(data[3], int) and not isinstance(data[3], bool)
            and (data[2] is None or isinstance(data[2], str))):
        raise bad
    if data[0] != sort:
        raise ValidationError(f"the cursor was made for the sort '{data[0]}', not '{sort}': page with the sort "
                              "it was made for, or start from the first page", field="cursor")
    if data[1] >= len(segments(sort)) or (data[1] == 0) != (data[2] is not None):
        raise bad
    return Cursor(*data)
