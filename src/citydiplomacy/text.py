"""Name normalisation shared by search, the dataset builder and the resolver."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS = re.compile(r"[0-9]{1,19}")

#: the largest whole number the store's INTEGER columns hold (SQLite, PostgreSQL bigint)
INTEGER_MAX = 2**63 - 1


@lru_cache(maxsize=200_000)
def normalize(name: str) -> str:
    """Accent-, case- and script-insensitive key of a name.

    ``München``, ``MUNCHEN`` and ``munchen`` give ``munchen``; non-Latin scripts are
    transliterated (``Барселона`` → ``barselona``); punctuation becomes single spaces.
    """
    if not name:
        return ""
    if name.isascii():   # most names: skip Unicode normalisation and transliteration
        return _NON_ALNUM.sub(" ", name.lower()).strip()
    text = unicodedata.normalize("NFKC", name)
    text = anyascii(text).casefold()
    return _NON_ALNUM.sub(" ", text).strip()


def slugify(name: str) -> str:
    """A lowercase ASCII slug (``Saint-Étienne`` → ``saint-etienne``)."""
    return normalize(name).replace(" ", "-") or "x"


def parse_id_number(text: str) -> int | None:
    """The positive whole number ``text`` spells in ASCII digits (a GeoNames id, a token
    id), or None: for other characters (``²``, Arabic-Indic digits, a sign) and for
    numbers beyond :data:`INTEGER_MAX`, which no stored id can equal."""
    text = str(text).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= INTEGER_MAX else None
