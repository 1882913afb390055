"""The words of the web pages' frame — navigation, headings, buttons — in the languages
the framework browser offers the frame in.

A page chooses its frame's language (``ui_lang`` in the template's context; English by
default); the templates mark their words with Jinja2's i18n extension (``{% trans %}``,
``_("...")``), which ships with Jinja2, and take the translation from a small catalogue
per language: ``locales/<lang>.yaml``, English message -> translation. A message missing
from a catalogue shows in English; ``tests/test_web_i18n.py`` fails when a marked message
of the framework pages and the frame has no translation in one of :data:`LANGUAGES`.

A catalogue is added by writing its YAML file and naming its language in
:data:`LANGUAGES` (and, where the plural differs from English's, in :data:`PLURAL`).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import yaml
from jinja2 import Environment, pass_context

#: the languages the page frame is written in (English is the messages themselves)
LANGUAGES = ("en", "fr", "es", "de")

#: when a count takes the plural, by language (default: any count but 1, as in English)
PLURAL: dict[str, Callable[[int], bool]] = {"fr": lambda n: n > 1}


def frame_language(lang: str | None) -> str:
    """The frame's language for a page in ``lang``: ``lang`` when the frame has it
    ("fr", "fr-CA" -> "fr"), else English."""
    base = (lang or "en").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else "en"


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (English message -> translation); empty for English."""
    if lang == "en" or lang not in LANGUAGES:
        return {}
    path = resources.files("citydiplomacy").joinpath("web", "locales", f"{lang}.yaml")
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return {str(k): str(v) for k, v in data.items()}


def translate(lang: str, message: str) -> str:
    """``message`` in ``lang`` (as it is when the catalogue lacks it)."""
    return catalogue(lang).get(message, message)


def translate_plural(lang: str, singular: str, plural: str, n: int) -> str:
    many = PLURAL.get(lang, lambda k: k != 1)(n)
    return translate(lang, plural if many else singular)


def _lang(context: Any) -> str:
    return frame_language(context.get("ui_lang"))


@pass_context
def _gettext(context, message: str) -> str:
    return translate(_lang(context), message)


@pass_context
def _ngettext(context, singular: str, plural: str, n: int) -> str:
    return translate_plural(_lang(context), singular, plural, n)


def install(env: Environment) -> None:
    """Give ``env`` the i18n extension, translating into each page's ``ui_lang``."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


__all__ = ["LANGUAGES", "frame_language", "catalogue", "translate", "translate_plural", "install"]
