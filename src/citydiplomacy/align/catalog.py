"""The framework texts alignment compares with: SDG goals and targets (seven languages,
from ``data/sdg``), Paris Agreement articles (``data/curated/paris_agreement.yaml``)
and the three axes of city diplomacy."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..shipped import load_yaml, sdg_texts
from ..text import normalize
from ..vocab import PARIS_OPERATIVE_ARTICLES
from . import memo

GOALS = tuple(f"sdg:{g}" for g in range(1, 18))
#: the articles alignment reports: the purpose (2), the operative articles on mitigation,
#: sinks, cooperation, adaptation, loss and damage, finance, technology, capacity-building,
#: education and awareness, transparency (4-13), and the global stocktake (14)
PARIS_ARTICLES = tuple(f"paris:{a}" for a in PARIS_OPERATIVE_ARTICLES)
AXES = ("sustainability", "digital", "engagement")

AXIS_TEXT = {
    "sustainability": "Sustainable and resilient development: putting the Sustainable Development "
                      "Goals and the Paris Agreement into local action - climate, environment, "
                      "resilience, social inclusion, health, housing and services.",
    "digital": "Digital transformation: smart city governance, e-government and digital public "
               "services, open data, artificial intelligence, data governance, digital rights and "
               "digital inclusion, cybersecurity.",
    "engagement": "International engagement: a city's partnerships abroad, twinning and sister "
                  "cities, city networks, delegations, international organisations, decentralised "
                  "development cooperation and city diplomacy.",
}

_STOP = set("""a an the and or of to in on for by with from as at into its their this that these those
be is are was were been being by all any each other such through including within between per
le la les des du de et en un une pour par dans sur aux au avec ou leur leurs ses son sa
el la los las del de y en un una para por con sus su al o que
der die das und den dem des ein eine einer eines fur von zu mit im in auf aus bei oder sowie
2030 2020 2025 ensure achieve""".split())


def content_stems(text: str | list) -> set[str]:
    """Crude language-neutral stems (first six letters) of the content words of a text
    (or of its tokens, already normalised)."""
    words = normalize(text).split() if isinstance(text, str) else [w for w, _, _ in text]
    return {w[:6] for w in words if len(w) > 3 and w not in _STOP and not w.isdigit()}


_STEM: dict[str, str] = {}


def word_stems(words: list[str]) -> set[str]:
    """:func:`content_stems` of normalised words (the same set, built in the same order;
    each word's stem is memoised)."""
    stem = _STEM
    memo.fill(stem, words, lambda w: w[:6] if len(w) > 3 and w not in _STOP and not w.isdigit() else "")
    return set(filter(None, map(stem.__getitem__, words)))


@dataclass
class Catalog:
    goal_title: dict[str, dict[str, str]]          # lang -> code -> "short: title"
    target_title: dict[str, dict[str, str]]        # lang -> code -> title
    targets_of: dict[str, list[str]]               # goal code -> target codes
    paris_title: dict[str, dict[str, str]]         # lang -> code -> title
    paris_summary: dict[str, str]                  # code -> English summary
    indicators_of: dict[str, list[str]] = field(default_factory=dict)   # goal -> indicator codes
    indicator_title: dict[str, dict[str, str]] = field(default_factory=dict)
    target_stems: dict[str, dict[str, set[str]]] = field(default_factory=dict)   # lang -> code -> stems
    stem_idf: dict[str, dict[str, float]] = field(default_factory=dict)           # lang -> stem -> idf
    _anchors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def anchors_of(self) -> dict[str, list[str]]:
        """The framework texts that stand for a goal in the semantic layer: the goal, its
        targets and its indicators."""
        if not self._anchors:
            self._anchors = {g: [g] + self.targets_of[g] + self.indicators_of[g] for g in GOALS}
        return self._anchors

    def title(self, code: str, lang: str) -> str:
        """The framework text an item is known by, in ``lang`` (English if missing)."""
        if code.startswith("axis:"):
            return AXIS_TEXT[code[5:]]
        table = (self.paris_title if code.startswith("paris:")
                 else (self.goal_title, self.target_title, self.indicator_title)[code.count(".")])
        return table.get(lang, {}).get(code) or table["en"].get(code, code)

    def semantic_texts(self, lang: str = "en") -> tuple[list[str], list[str]]:
        """(codes, texts) embedded by the semantic layer: goals, targets and indicators
        in ``lang`` (English where missing), Paris articles (title and summary) and axes."""
        codes, texts = [], []
        for g in GOALS:
            codes.append(g)
            texts.append(self.title(g, lang))
        for g in GOALS:
            for t in self.targets_of[g]:
                codes.append(t)
                texts.append(self.title(t, lang))
        for g in GOALS:
            for i in self.indicators_of[g]:
                codes.append(i)
                texts.append(self.indicator_title.get(lang, {}).get(i) or self.indicator_title["en"][i])
        for a in PARIS_ARTICLES:
            codes.append(a)
            texts.append(f"{self.paris_title['en'][a]}. {self.paris_summary.get(a, '')}")
        for axis, text in AXIS_TEXT.items():
            codes.append(f"axis:{axis}")
            texts.append(text)
        return codes, texts


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    texts = sdg_texts()
    goal_title: dict[str, dict[str, str]] = {}
    target_title: dict[str, dict[str, str]] = {}
    targets_of: dict[str, list[str]] = {g: [] for g in GOALS}
    for code, by_lang in texts.items():
        depth = code.count(".")
        if depth == 2:
            continue
        for lang, t in by_lang.items():
            if depth == 0:
                short, title = t.get("short", ""), t.get("title", "")
                goal_title.setdefault(lang, {})[code] = f"{short}: {title}" if short else title
            elif t.get("title"):
                target_title.setdefault(lang, {})[code] = t["title"]
        if depth == 1:
            targets_of[code.split(".")[0]].append(code)
    order = re.compile(r"[.:]")
    for g in targets_of:
        targets_of[g].sort(key=lambda c: [int(p) if p.isdigit() else 50 + ord(p[0]) for p in order.split(c)[1:]])
    paris = load_yaml("curated", "paris_agreement.yaml")["items"]
    paris_title: dict[str, dict[str, str]] = {}
    paris_summary: dict[str, str] = {}
    for it in paris:
        for lang, title in (it.get("title") or {}).items():
            paris_title.setdefault(lang, {})[it["code"]] = title
        paris_summary[it["code"]] = (it.get("summary") or {}).get("en", "")
    indicators_of: dict[str, list[str]] = {g: [] for g in GOALS}
    indicator_title: dict[str, dict[str, str]] = {}
    for code, by_lang in texts.items():
        if code.count(".") == 2:
            indicators_of[code.split(".")[0]].append(code)
            for lang, t in by_lang.items():
                if t.get("title"):
                    indicator_title.setdefault(lang, {})[code] = t["title"]
    cat = Catalog(goal_title, target_title, targets_of, paris_title, paris_summary,
                  indicators_of=indicators_of, indicator_title=indicator_title)
    for lang, by_code in target_title.items():
        stems = {code: content_stems(text) for code, text in by_code.items()}
        df: dict[str, int] = {}
        for s in stems.values():
            for w in s:
                df[w] = df.get(w, 0) + 1
        n = len(stems)
        cat.target_stems[lang] = stems
        cat.stem_idf[lang] = {w: math.log(n / d) for w, d in df.items()}
    return cat
