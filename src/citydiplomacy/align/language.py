"""Which language a text is in: a fast function-word count for the common cases, and
Lingua (a well-tested n-gram detector) when the count is not clear."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from itertools import repeat

from ..errors import ValidationError

SUPPORTED = ("en", "fr", "es", "de")

# The most frequent function words of each language (short, closed lists).
_FUNCTION_WORDS = {
    "en": "the of and to in is that for with on are as by this be from at which have its was will".split(),
    "fr": "le la les des du de et est une un pour dans que qui sur par au aux avec sont ce cette".split(),
    "es": "el la los las del de y en que por para con una un es se al su como sus".split(),
    "de": "der die das und ist nicht ein eine mit den dem des auf für von zu im sich werden wird".split(),
    "it": "il di che e la per una sono del della gli con non nel alla".split(),
    "pt": "o os de que e do da em um uma para com não no na dos das".split(),
    "nl": "de het een van en in is dat op te zijn voor met niet".split(),
}
# only the words of a single language count ("de", "in", "la" belong to several)
_WORD_LANGS: dict[str, set[str]] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _w in _words:
        _WORD_LANGS.setdefault(_w, set()).add(_lang)
_WORD_LANG = {w: next(iter(ls)) for w, ls in _WORD_LANGS.items() if len(ls) == 1}
_STRIP = ".,;:!?()\"'«»"

_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian",
          "pt": "Portuguese", "nl": "Dutch"}


#: below this many characters Lingua needs its high-accuracy models (every n-gram size,
#: about 265 MB, loaded the first time a short text needs them); longer texts are told
#: apart as well by its trigram models alone (about 20 MB), as Lingua's authors document.
#: Measured on 934 passages of 120 to 300 characters from the SDG texts in seven languages:
#: both modes gave the same language for every one.
SHORT_TEXT = 120


@lru_cache(maxsize=2)
def _lingua(accurate: bool = False):
    from lingua import Language, LanguageDetectorBuilder
    langs = [Language.ENGLISH, Language.FRENCH, Language.SPANISH, Language.GERMAN, Language.ITALIAN,
             Language.PORTUGUESE, Language.DUTCH, Language.POLISH, Language.RUSSIAN, Language.ARABIC,
             Language.CHINESE, Language.JAPANESE, Language.TURKISH, Language.SWEDISH]
    builder = LanguageDetectorBuilder.from_languages(*langs)
    return (builder if accurate else builder.with_low_accuracy_mode()).build()


#: a text whose language the function words do not settle: detecting it loads Lingua's
#: trigram models of every Latin-script language (other scripts need no model)
_WARM_SAMPLE = ("Una ciutat amb molts parcs, places i carrers per a tothom, "
                "on cada barri té el seu mercat i la seva biblioteca oberta")


def warm_up() -> None:
    """Load Lingua's trigram models now (about 20 MB, a fraction of a second) rather than in
    the first long text that needs them. The high-accuracy models of short texts (about
    265 MB, 3.5–9 s with the interpreter held on 2 busy cores) load on first need only:
    warming them made every web worker 280 MB larger."""
    _lingua().compute_language_confidence_values(_WARM_SAMPLE)


def detect(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, confidence)`` of the language of ``text``.

    Counts function words found in one language's list only first: when one language has
    at least four and three times the next, that is the answer (two suffice when no other
    language has any). Otherwise Lingua decides among 14 languages (its trigram models for a
    text of :data:`SHORT_TEXT` characters or more, all its models for a shorter one)."""
    # a function word has no punctuation, so a word is one when its stripped form is
    # (map and Counter keep the loop in C; languages keep the order they first appear in)
    counts = Counter(map(_WORD_LANG.get, map(str.strip, text.lower().split()[:400], repeat(_STRIP))))
    counts.pop(None, None)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if ranked and ((ranked[0][1] >= 4 and (len(ranked) == 1 or ranked[0][1] >= 3 * ranked[1][1]))
                   or (ranked[0][1] >= 2 and len(ranked) == 1)):
        return ranked[0][0], 1.0
    short = len(text) < SHORT_TEXT
    if short and len(ranked) == 1:
        # one function word of a single language, and the trigram models agree: two
        # independent signals, enough to spare loading the 265 MB of the accurate models
        # (seconds) for a one-line text ("Bus lanes and social housing cut emissions.")
        values = _lingua(False).compute_language_confidence_values(text[:2000])
        if values and values[0].language.iso_code_639_1.name.lower() == ranked[0][0]:
            return ranked[0][0], float(values[0].value)
    values = _lingua(short).compute_language_confidence_values(text[:2000])
    if not values:
        return "und", 0.0
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def language_name(code: str) -> str:
    return _NAMES.get(code, code)


def resolve_language(text: str, lang: str = "auto") -> str:
    """The language to align ``text`` in: ``lang`` itself, or the detected one; raises a
    :class:`ValidationError` naming the language when it is not supported."""
    if lang != "auto":
        if lang not in SUPPORTED:
            raise ValidationError(f"language '{lang}' is not supported; use auto, {', '.join(SUPPORTED)}",
                                  field="lang")
        return lang
    code, _conf = detect(text)
    if code not in SUPPORTED:
        raise ValidationError(
            f"the text looks {language_name(code)} ({code}), which alignment does not support; "
            f"supported: {', '.join(SUPPORTED)} (pass --lang to force one)", field="lang")
    return code
