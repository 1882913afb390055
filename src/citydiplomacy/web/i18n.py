"""The words of the web pages' frame — navigation, headings, buttons — in the languages
the framework browser offers the frame in.

A page chooses its frame's language (``ui_lang`` in the template's context; English by
default); the templates mark their words with Jinja2's i18n extension (``{% trans %}``,
``_("...")``), which ships with Jinja2, and take the translation from the catalogues of
:mod:`citydiplomacy.i18n` (``locales/<lang>.yaml`` beside this module, English message ->
translation), the ones the reports use too. A message missing from a catalogue shows in
English; ``tests/test_web_i18n.py`` fails when a marked message of the framework pages and
the frame has no translation in one of :data:`LANGUAGES`.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, pass_context

from ..i18n import LANGUAGES, PLURAL, catalogue, frame_language, translate, translate_plural


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


__all__ = ["LANGUAGES", "PLURAL", "frame_language", "catalogue", "translate", "translate_plural", "install"]
