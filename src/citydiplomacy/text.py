"""Name normalisation shared by search, the dataset builder and the resolver."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


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
