"""Words in the languages the observatory speaks: the catalogues the web pages and the
reports share.

A catalogue per language, English message -> translation, in
``citydiplomacy/web/locales/<lang>.yaml`` (the files stay beside the web templates,
which hold most of the messages; this package only reads them, so that
:mod:`citydiplomacy.reports` translates its words without importing the web). A message
missing from a catalogue shows in English. The Jinja side (``{% trans %}``, ``_()`` in
templates) is :mod:`citydiplomacy.web.i18n`.

A catalogue is added by writing its YAML file and naming its language in
:data:`LANGUAGES` (and, where the plural differs from English's, in :data:`PLURAL`).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import yaml

__all__ = ["LANGUAGES", "PLURAL", "frame_language", "catalogue", "translate", "translate_plural", "words"]

#: the languages the pages' frame and the reports are written in (English is the messages themselves)
LANGUAGES = ("en", "fr", "es", "de")

#: when a count takes the plural, by language (default: any count but 1, as in English)
PLURAL: dict[str, Callable[[int], bool]] = {"fr": lambda n: n > 1}

#: where the catalogues are, inside the package
LOCALES = ("web", "locales")


def frame_language(lang: str | None) -> str:
    """The language for a page or report asked in ``lang``: ``lang`` when there is a
    catalogue of it ("fr", "fr-CA" -> "fr"), else English."""
    base = (lang or "en").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else "en"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (English message -> translation); empty for English."""
    if lang == "en" or lang not in LANGUAGES:
        return {}
    path = resources.files("citydiplomacy").joinpath(*LOCALES, f"{lang}.yaml")
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {str(k): str(v) for k, v in data.items()}


def translate(lang: str, message: str) -> str:
    """``message`` in ``lang`` (as it is when the catalogue lacks it)."""
    return catalogue(lang).get(message, message)


def translate_plural(lang: str, singular: str, plural: str, n: int) -> str:
    many = PLURAL.get(lang, lambda k: k != 1)(n)
    return translate(lang, plural if many else singular)


def words(lang: str | None) -> tuple[str, Callable[..., str]]:
    """The language (one with a catalogue, else English) and a function translating a
    message into it and filling its ``%(name)s`` placeholders."""
    code = frame_language(lang)

    def _(message: str, **values: Any) -> str:
        text = translate(code, message)
        return text % values if values else text
    return code, _
