"""The lexical layer: curated term lists (``data/align/lexicon/*.yaml``) compiled into a
fast matcher that finds every term of a text, with the character span it covers.

A term is one or more words; a trailing ``*`` on a word matches any word that starts
with it. Text and terms are normalised the same way (:func:`citydiplomacy.text.normalize`:
lowercase, accents folded, punctuation as spaces), so ``Inégalités`` matches ``inegalit*``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

from ..shipped import data_path, read_yaml
from ..errors import ValidationError
from ..text import normalize

#: minimum letters before a ``*`` in a one-word term (one fewer inside a longer term):
#: shorter prefixes match too much
MIN_PREFIX = 4
LANGS = ("en", "fr", "es", "de")

_WORD = re.compile(r"\w+", re.UNICODE)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Term:
    """A term of the lexicon: the framework item it points to and how strongly."""

    key: str            # "sdg:11", "sdg:11.6", "paris:7", "axis:digital"
    strength: str       # "strong" | "weak" | "target"
    text: str           # the term as written in the lexicon
    lang: str
    words: tuple[str, ...]   # normalised words; a word ending in * is a prefix


class Hit(NamedTuple):
    term: Term
    start: int          # character span in the original text
    end: int


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """Normalised words of ``text`` with the character span each came from."""
    if text.isascii():     # lowercasing ASCII keeps every offset: one pass
        return [(m.group(), m.start(), m.end()) for m in _ASCII_WORD.finditer(text.lower())]
    out: list[tuple[str, int, int]] = []
    for m in _WORD.finditer(text):
        word = m.group()
        norm = word.lower() if word.isascii() else normalize(word)
        for piece in norm.split():
            out.append((piece, m.start(), m.end()))
    return out


class Matcher:
    """All terms of one language, indexed by their first word (exact or prefix)."""

    def __init__(self, terms: Iterable[Term]):
        self.exact: dict[str, list[Term]] = {}
        self.prefix: dict[str, list[Term]] = {}
        self.prefix_lengths: set[int] = set()
        self.size = 0
        for t in terms:
            first = t.words[0]
            if first.endswith("*"):
                p = first[:-1]
                self.prefix.setdefault(p, []).append(t)
                self.prefix_lengths.add(len(p))
            else:
                self.exact.setdefault(first, []).append(t)
            self.size += 1
        self.lengths = sorted(self.prefix_lengths)
        self._cache: dict[str, tuple[Term, ...]] = {}

    def candidates(self, word: str) -> tuple[tuple[Term, ...], dict[str, list[Term]], tuple[Term, ...]]:
        """Terms whose first word matches ``word``: one-word terms, longer terms keyed by
        their exact second word, and longer terms whose second word is a prefix
        (memoised: vocabularies repeat)."""
        cands = self._cache.get(word)
        if cands is None:
            found = list(self.exact.get(word, ()))
            for k in self.lengths:
                if k > len(word):
                    break
                found.extend(self.prefix.get(word[:k], ()))
            single = tuple(t for t in found if len(t.words) == 1)
            by_second: dict[str, list[Term]] = {}
            other = []
            for t in found:
                if len(t.words) > 1:
                    if t.words[1].endswith("*"):
                        other.append(t)
                    else:
                        by_second.setdefault(t.words[1], []).append(t)
            cands = (single, by_second, tuple(other))
            if len(self._cache) < 200_000:
                self._cache[word] = cands
        return cands

    def find(self, tokens: list[tuple[str, int, int]]) -> list[Hit]:
        hits: list[Hit] = []
        words = [w for w, _, _ in tokens]
        n = len(words)
        candidates = self.candidates
        for i, w in enumerate(words):
            single, by_second, other = candidates(w)
            for t in single:
                hits.append(Hit(t, tokens[i][1], tokens[i][2]))
            if i + 1 >= n or not (by_second or other):
                continue
            longer = by_second.get(words[i + 1], ())
            for t in (*longer, *other):
                m = len(t.words)
                if i + m > n:
                    continue
                if all(_word_matches(t.words[j], words[i + j]) for j in range(1, m)):
                    hits.append(Hit(t, tokens[i][1], tokens[i + m - 1][2]))
        return hits


def _word_matches(pattern: str, word: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern


def compile_term(key: str, strength: str, text: str, lang: str, *, where: str) -> Term | None:
    words = tuple(normalize(w) + ("*" if w.endswith("*") else "") for w in str(text).split())
    words = tuple(w for w in words if w.strip("*"))
    if not words:
        return None
    shortest = MIN_PREFIX if len(words) == 1 else MIN_PREFIX - 1   # "greenhouse gas*" is specific enough
    for w in words:
        if w.endswith("*") and len(w) - 1 < shortest:
            raise ValidationError(f"term '{text}' has a prefix shorter than {shortest} letters; "
                                  "write the word out or a longer prefix", field=where)
    # a normalised word may itself hold spaces (e.g. 'e-government' -> 'e government')
    flat: list[str] = []
    for w in words:
        star = w.endswith("*")
        parts = w.rstrip("*").split()
        flat.extend(parts[:-1] + [parts[-1] + ("*" if star else "")])
    return Term(key=key, strength=strength, text=str(text), lang=lang, words=tuple(flat))


@dataclass
class Lexicon:
    """Every term, by language, plus the lexicon's own metadata."""

    terms: dict[str, list[Term]]
    matchers: dict[str, Matcher]

    def find(self, text_or_tokens: str | list, lang: str) -> list[Hit]:
        tokens = tokenize(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        matcher = self.matchers.get(lang)
        return matcher.find(tokens) if matcher else []

    def count(self, key_prefix: str = "") -> dict[str, int]:
        return {lang: sum(1 for t in ts if t.key.startswith(key_prefix)) for lang, ts in self.terms.items()}


def _goal_section(raw: dict[str, Any], framework: str, file: str) -> Iterable[Term]:
    for item, spec in (raw or {}).items():
        key = f"{framework}:{item}"
        for strength in ("strong", "weak"):
            for lang, words in ((spec or {}).get(strength) or {}).items():
                for w in words or []:
                    t = compile_term(key, strength, w, lang, where=f"{file} {framework} {item} {strength} {lang}")
                    if t:
                        yield t


def load_lexicon(goals: dict[str, Any], targets: dict[str, Any] | None = None, *,
                 files: tuple[str, str] = ("goals.yaml", "targets.yaml")) -> Lexicon:
    terms: list[Term] = []
    terms += _goal_section(goals.get("sdg"), "sdg", files[0])
    terms += _goal_section(goals.get("paris"), "paris", files[0])
    terms += _goal_section(goals.get("axes"), "axis", files[0])
    for code, spec in ((targets or {}).get("targets") or {}).items():
        for lang, words in (spec or {}).items():
            for w in words or []:
                t = compile_term(f"sdg:{code}", "target", w, lang, where=f"{files[1]} {code} {lang}")
                if t:
                    terms.append(t)
    by_lang: dict[str, list[Term]] = {}
    for t in terms:
        by_lang.setdefault(t.lang, []).append(t)
    return Lexicon(terms=by_lang, matchers={lang: Matcher(ts) for lang, ts in by_lang.items()})


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lexicon (``data/align/lexicon/goals.yaml`` and ``targets.yaml``)."""
    def read(name: str) -> dict[str, Any]:
        path = data_path("align", "lexicon", name)
        if not path.is_file():
            return {}
        with path.open(encoding="utf-8") as fh:
            return read_yaml(fh) or {}
    return load_lexicon(read("goals.yaml"), read("targets.yaml"))
