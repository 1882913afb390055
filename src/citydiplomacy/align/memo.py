"""A bounded memo of per-word work on the alignment's hot path (tokenising, stems, term
look-ups): filled for a whole chunk of words at once, emptied when it grows too large."""

from __future__ import annotations

from typing import Callable, Hashable, Iterable, TypeVar

V = TypeVar("V")

#: entries a memo may hold before it is emptied (a corpus of many languages and spellings
#: would otherwise grow it without end)
LIMIT = 200_000


def fill(memo: dict[Hashable, V], keys: Iterable[Hashable], make: Callable[[Hashable], V]) -> None:
    """Add ``make(key)`` to ``memo`` for each of ``keys`` it lacks; when that would take it
    past :data:`LIMIT`, empty it first and fill it with ``keys`` alone."""
    missing = set(keys).difference(memo)
    if not missing:
        return
    if len(memo) + len(missing) > LIMIT:
        memo.clear()
        missing = set(keys)
    for k in missing:
        memo[k] = make(k)
