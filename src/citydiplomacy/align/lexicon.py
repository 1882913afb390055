"""The lexical layer: curated term lists (``data/align/lexicon/*.yaml``) compiled into a
fast matcher that finds every term of a text, with the character span it covers.

A term is one or more words; a trailing ``*`` on a word matches any word that starts
with it. Text and terms are normalised the same way (:func:`citydiplomacy.text.normalize`:
lowercase, accents folded, punctuation as spaces), so ``Inégalités`` matches ``inegalit*``.
"""

from __future__ import annotations

import re
from itertools import accumulate, chain
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, NamedTuple

from ..shipped import data_path, read_yaml
from ..errors import ValidationError
from ..text import normalize
from . import memo

#: minimum letters before a ``*`` in a one-word term (one fewer inside a longer term):
#: shorter prefixes match too much
MIN_PREFIX = 4
LANGS = ("en", "fr", "es", "de")

_WORD = re.compile(r"\w+", re.UNICODE)
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_ASCII_SPLIT = re.compile(r"([a-z0-9]+)")


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
        s, e = m.span()
        for piece in _pieces(m.group()):
            out.append((piece, s, e))
    return out


#: the normalised pieces of each word of a non-ASCII text (memoised: vocabularies repeat)
_PIECES: dict[str, list[str]] = {}


def _pieces(word: str) -> list[str]:
    got = _PIECES.get(word)
    if got is None:
        got = (word.lower() if word.isascii() else normalize(word)).split()
        if len(_PIECES) > 200_000:
            _PIECES.clear()
        _PIECES[word] = got
    return got


class Words:
    """The normalised words of a text, for the matcher, and the character span of any of
    them on demand (the text is tokenised by one regular-expression pass, each distinct
    word normalised once; the offsets are found only when evidence needs them). The words
    and spans are those of :func:`tokenize`."""

    __slots__ = ("words", "_text", "_ascii", "_counts", "_starts", "_ends")

    def __init__(self, text: str):
        self._text = text
        self._starts = self._ends = self._counts = None
        self._ascii = text.isascii()
        if self._ascii:     # lowercasing ASCII keeps every offset
            # [gap, word, gap, word, ..., gap]: the words, and every offset by adding lengths
            self._text = _ASCII_SPLIT.split(text.lower())
            self.words = self._text[1::2]
            return
        raw = _WORD.findall(text)
        cache = _PIECES
        memo.fill(cache, raw, lambda w: (w.lower() if w.isascii() else normalize(w)).split())
        pieces = list(map(cache.__getitem__, raw))
        self.words = list(chain.from_iterable(pieces))
        if len(self.words) != len(raw) or min(map(len, pieces), default=1) != 1 or \
                max(map(len, pieces), default=1) != 1:
            self._counts = list(map(len, pieces))     # a word of several pieces, or of none

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Characters from the start of word ``i`` to the end of word ``j``."""
        starts = self._starts
        if starts is None:
            starts = self._spans()
        if self._ends is None:
            return starts[i], starts[j] + len(self.words[j])
        return starts[i], self._ends[j]

    def _spans(self) -> list[int]:
        if self._ascii:
            self._starts = list(accumulate(map(len, self._text)))[::2]
            return self._starts
        spans = list(map(_MATCH_SPAN, _WORD.finditer(self._text)))
        if self._counts is not None:
            spans = [sp for sp, c in zip(spans, self._counts) for _ in range(c)]
        self._starts = [s for s, _ in spans]
        self._ends = [e for _, e in spans]
        return self._starts

    def tokens(self) -> list[tuple[str, int, int]]:
        """The same as :func:`tokenize` of the text."""
        return [(w, *self.span(i, i)) for i, w in enumerate(self.words)]


_MATCH_SPAN = re.Match.span


class Matcher:
    """All terms of one language, indexed by their first word (exact or prefix)."""

    def __init__(self, terms: Iterable[Term]):
        self.exact: dict[str, list[Term]] = {}
        self.prefix: dict[str, list[Term]] = {}
        self.prefix_lengths: set[int] = set()
        self.size = 0
        self._all = list(terms)
        for t in self._all:
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
        # the fast path (find_first): terms by number; a term written twice for one item
        # (same key and text) is kept once, as the first one always fires first
        self.terms: list[Term] = []
        self.number: dict[int, int] = {}          # id(term) -> its number, for kept terms
        seen: set[tuple[str, str]] = set()
        for t in self._all:
            if (t.key, t.text) not in seen:
                seen.add((t.key, t.text))
                self.number[id(t)] = len(self.terms)
                self.terms.append(t)
        self._first: dict[str, tuple | None] = {}

    def candidates(self, word: str) -> tuple[tuple[Term, ...], dict[str, list[Term]], tuple[Term, ...]]:
        """Terms whose first word matches ``word``: one-word terms, longer terms keyed by
        their exact second word, and longer terms whose second word is a prefix
        (memoised: vocabularies repeat)."""
        cands = self._cache.get(word)
        if cands is None:
            cands = self._candidates(word)
            if len(self._cache) < 200_000:
                self._cache[word] = cands
        return cands

    def _candidates(self, word: str) -> tuple[tuple[Term, ...], dict[str, list[Term]], tuple[Term, ...]]:
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
        return single, by_second, tuple(other)

    def _first_entry(self, word: str) -> tuple | None:
        """:meth:`candidates` as term numbers, each longer term with the words it still
        needs from the second (or, keyed by the second word, the third) on; None when no
        term starts with ``word``."""
        single, by_second, other = self._candidates(word)
        num = self.number

        def rest(t: Term, k: int) -> tuple[int, tuple[tuple[bool, str], ...]]:
            return num[id(t)], tuple((True, w[:-1]) if w.endswith("*") else (False, w) for w in t.words[k:])

        single_n = tuple(num[id(t)] for t in single if id(t) in num)
        second = {w: tuple(rest(t, 2) for t in ts if id(t) in num) for w, ts in by_second.items()}
        second = {w: ts for w, ts in second.items() if ts}
        other_n = tuple(rest(t, 1) for t in other if id(t) in num)
        if not (single_n or second or other_n):
            return None
        return single_n, second, other_n

    def find_first(self, words: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
        """The first occurrence of every term in ``words`` (normalised words, as
        :class:`Words` gives them), in the order :meth:`find` finds them: the terms'
        numbers (into :attr:`terms`) and, for each, the numbers of its first and last
        word. What :func:`citydiplomacy.align.engine` needs, without building a hit per
        occurrence."""
        cache = self._first
        memo.fill(cache, words, self._first_entry)
        ids: list[int] = []
        pos: list[tuple[int, int]] = []
        seen: set[int] = set()
        n = len(words)
        for i, entry in enumerate(map(cache.__getitem__, words)):
            if entry is None:
                continue
            single, second, other = entry
            for k in single:
                if k not in seen:
                    seen.add(k)
                    ids.append(k)
                    pos.append((i, i))
            if i + 1 >= n or not (second or other):
                continue
            longer = second.get(words[i + 1]) if second else None
            for group, at in ((longer, i + 2), (other, i + 1)):
                if not group:
                    continue
                for k, need in group:
                    if k in seen:
                        continue
                    end = at + len(need)
                    if end > n:
                        continue
                    j = at
                    for prefix, w in need:
                        word = words[j]
                        if not (word.startswith(w) if prefix else word == w):
                            break
                        j += 1
                    else:
                        seen.add(k)
                        ids.append(k)
                        pos.append((i, end - 1))
        return ids, pos

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
