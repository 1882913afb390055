"""Alignment of texts with the SDGs (goals and targets), the Paris Agreement articles and
the three axes of city diplomacy.

Two layers feed one calibrated decision per (text, item):

- the **lexical layer** finds the curated terms of every goal, target, article and axis
  (``data/align/lexicon``) in the text's language (en, fr, es, de);
- the **semantic layer** (``mode="hybrid"``, needs the ``fast`` or ``neural`` extra) compares the
  text's MiniLM sentence embedding with the embeddings of the official goal, target and
  article texts.

A logistic model turns the features of both layers into a probability (fitted on the
development half of our labelled set, ``scripts/calibrate_align.py``; coefficients in
``data/align/calibration.json``). An item is reported when its probability reaches the
threshold stored beside the coefficients. ``mode="light"`` uses the lexical features only,
with its own fitted model. See docs/align-method.md.
"""

from __future__ import annotations

import gc
import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from .. import limits
from ..shipped import data_path
from ..errors import ValidationError
from . import semantic
from .catalog import AXES, GOALS, PARIS_ARTICLES, Catalog, catalog, word_stems
from .documents import Passage, sentences
from .language import SUPPORTED, resolve_language
from .lexicon import Hit, Lexicon, Matcher, Words, default_lexicon

FRAMEWORKS = ("sdg", "paris")
LEVELS = ("goal", "target")
MODES = ("auto", "hybrid", "light")
#: near misses with at least this probability are listed in ``scores`` too
SCORE_FLOOR = 0.2
#: at most this many targets per goal
MAX_TARGETS = 3
#: at most this many pieces of evidence per reported item
MAX_EVIDENCE = 4
WEAK_WEIGHT = 0.4
TARGET_WEIGHT = 0.5

_KEYS = {"sdg": list(GOALS), "paris": list(PARIS_ARTICLES), "axes": [f"axis:{a}" for a in AXES]}

#: the record fields of one alignment, in this order (other tools read them: keep them)
RECORD_FIELDS = ("id", "sdgs", "targets", "paris", "axes", "scores", "evidence")


@dataclass
class Alignment:
    """What a text speaks to, with a calibrated score and the evidence for each item."""

    id: str
    sdgs: list[int] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    paris: list[int] = field(default_factory=list)
    axes: list[str] = field(default_factory=list)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    lang: str | None = None
    ref: str | None = None
    method: str | None = None
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """The JSON record: exactly ``id, sdgs, targets, paris, axes, scores, evidence``
        (and ``error`` for a text that could not be aligned)."""
        out = {k: getattr(self, k) for k in RECORD_FIELDS}
        if self.error:
            out["error"] = self.error
        return out


# ---------------------------------------------------------------------------------------
# calibration


@dataclass
class Logistic:
    """A fitted logistic model: ``features`` name the columns; a feature ``f@item`` is the
    column ``f`` for that item and 0 for the others; ``item_intercepts`` shift single
    items (a goal whose terms are rarer, say)."""

    features: list[str]
    coef: list[float]
    intercept: float
    threshold: float = 0.5
    item_intercepts: dict[str, float] = field(default_factory=dict)

    def design(self, keys: Sequence[str], cols: dict[str, Any], reps: int = 1) -> np.ndarray:
        """The design matrix of ``reps`` texts whose rows are the items ``keys`` each
        (``cols`` hold ``reps * len(keys)`` values a column, or one)."""
        n = len(keys) * reps
        out = []
        for f in self.features:
            base, _, item = f.partition("@")
            col = cols[base]
            col = np.full(n, float(col)) if np.ndim(col) == 0 else np.asarray(col, dtype=np.float64)
            if item:
                col = col * np.tile(np.array([k == item for k in keys], dtype=np.float64), reps)
            out.append(col)
        return np.column_stack(out) if out else np.zeros((n, 0))

    def prob(self, keys: Sequence[str], cols: dict[str, Any], reps: int = 1) -> np.ndarray:
        X = self.design(keys, cols, reps)
        z = X @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        if self.item_intercepts:
            z = z + np.tile(np.array([self.item_intercepts.get(k, 0.0) for k in keys]), reps)
        return 1.0 / (1.0 + np.exp(-z))


#: used only when no calibration file is shipped (a fresh checkout before fitting)
_DEFAULT = {
    "light": {"features": ["strong", "weak", "target", "share"], "coef": [2.5, 1.0, 0.8, 2.0], "intercept": -3.0},
    "hybrid": {"features": ["strong", "weak", "target", "share", "sem", "sem_z", "sem_top"],
               "coef": [2.0, 0.8, 0.6, 1.5, 8.0, 0.6, 0.5], "intercept": -7.0},
}

#: the candidate features of each kind of item, by mode (what calibration may fit)
FEATURES = {
    ("sdg", "light"): ["strong", "weak", "target", "share"],
    ("sdg", "hybrid"): ["strong", "weak", "target", "share", "sem", "sem_z", "sup"],
    ("paris", "light"): ["strong", "weak", "share", "climate"],
    ("paris", "hybrid"): ["strong", "weak", "share", "climate", "sem", "sem_z", "sup"],
    ("axes", "light"): ["strong", "weak", "sdg_max@axis:sustainability", "sdg17@axis:engagement"],
    ("axes", "hybrid"): ["strong", "weak", "sem", "sup", "sdg_max@axis:sustainability", "sdg17@axis:engagement"],
}


@lru_cache(maxsize=1)
def calibration() -> dict[str, Any]:
    path = data_path("align", "calibration.json")
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


@lru_cache(maxsize=1)
def load_heads() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The supervised heads of the semantic layer: per kind, one logistic model per item
    on the MiniLM embedding (``W`` items × 384, ``b``), fitted by
    ``scripts/calibrate_align.py``; rows in the order of GOALS, PARIS_ARTICLES, AXES."""
    path = data_path("align", "heads.npz")
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        z = np.load(fh)
        return {kind: (z[f"{kind}_W"].astype(np.float32), z[f"{kind}_b"].astype(np.float32))
                for kind in ("sdg", "paris", "axes") if f"{kind}_W" in z.files}


def _model(kind: str, mode: str) -> Logistic:
    spec = calibration().get(kind, {}).get(mode) or _DEFAULT[mode]
    return Logistic(spec["features"], spec["coef"], spec["intercept"], spec.get("threshold", 0.5),
                    spec.get("item_intercepts", {}))


# ---------------------------------------------------------------------------------------
# features


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector while the texts of a chunk are matched and
    decided (at most 256 texts, milliseconds; not while the model runs): that work
    allocates many short-lived containers, which made the collector run dozens of times a
    chunk and scan every long-lived object (the lexicon, the results so far) — about 30% of
    the light mode's time. Nothing it makes is cyclic garbage: reference counting frees it
    all. The collector resumes after (unless it was off already) and catches up."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Text:
    """One passage being aligned: its language, its words and the first occurrence of
    every term found in them (as term numbers of the language's matcher); the hits with
    their character spans are made only when asked for (evidence, targets)."""

    __slots__ = ("passage", "lang", "words", "ids", "pos", "matcher", "emb", "sims", "stems", "sup",
                 "tcounts", "_by_key")

    def __init__(self, passage: Passage, lang: str, words: Words, matcher: Matcher | None):
        self.passage, self.lang, self.words, self.matcher = passage, lang, words, matcher
        self.ids, self.pos = matcher.find_first(words.words) if matcher else ([], [])
        self.emb: np.ndarray | None = None
        self.sims: np.ndarray | None = None          # similarity with every framework text
        self.stems: set[str] | None = None
        self.sup: dict[str, np.ndarray] | None = None  # supervised head logits, by kind
        self.tcounts: np.ndarray | None = None         # target terms found, by target (a chunk's)
        self._by_key: dict[str, dict[str, list[Hit]]] | None = None

    @property
    def tokens(self) -> list[tuple[str, int, int]]:
        return self.words.tokens()

    @property
    def hits(self) -> list[Hit]:
        """Every occurrence of every term (as :meth:`Lexicon.find` gives them)."""
        return self.matcher.find(self.tokens) if self.matcher else []

    @property
    def by_key(self) -> dict[str, dict[str, list[Hit]]]:
        """key -> strength -> hits, one per distinct term (its first occurrence)."""
        if self._by_key is None:
            self._by_key = self.hits_by_key(None)
        return self._by_key

    def hits_by_key(self, keys: set[str] | None) -> dict[str, dict[str, list[Hit]]]:
        """:attr:`by_key` for the items ``keys`` only (all when None)."""
        if self._by_key is not None or not self.matcher:
            return self._by_key or {}
        out: dict[str, dict[str, list[Hit]]] = {}
        terms, span = self.matcher.terms, self.words.span
        for k, (i, j) in zip(self.ids, self.pos):
            t = terms[k]
            if keys is not None and t.key not in keys:
                continue
            s, e = span(i, j)
            group = out.get(t.key)
            if group is None:
                group = out[t.key] = {}
            hits = group.get(t.strength)
            if hits is None:
                group[t.strength] = [Hit(t, s, e)]
            else:
                hits.append(Hit(t, s, e))
        return out


_STRENGTH_COL = {"strong": 0, "weak": 1}


def _term_columns(matcher: Matcher, keys: Sequence[str], with_targets: bool) -> np.ndarray:
    """For every term of ``matcher``: ``item * 3 + column`` of the count it adds to among
    ``keys`` (column 0 strong, 1 weak, 2 a target term of the goal ``item``), or -1."""
    pos = {k: i for i, k in enumerate(keys)}
    out = np.full(len(matcher.terms), -1, dtype=np.int64)
    for n, t in enumerate(matcher.terms):
        i = pos.get(t.key)
        if i is not None:
            col = _STRENGTH_COL.get(t.strength)
            if col is not None:
                out[n] = 3 * i + col
        elif with_targets and t.strength == "target":
            i = pos.get(t.key.split(".")[0])
            if i is not None:
                out[n] = 3 * i + 2
    return out


def _lexical_many(texts: Sequence[_Text], keys: Sequence[str], columns: Callable[[Matcher], np.ndarray]
                  ) -> np.ndarray:
    """(len(texts), len(keys), 4): log counts of strong, weak and (for goals) target terms
    of each text, and the item's share of the lexical mass of the text among ``keys``."""
    n, k = len(texts), len(keys)
    flat: list[np.ndarray] = []
    for r, t in enumerate(texts):
        if t.ids:
            cols = columns(t.matcher)[t.ids]
            flat.append(cols[cols >= 0] + r * 3 * k)
    idx = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
    counts = np.bincount(idx, minlength=n * 3 * k).reshape(n, k, 3).astype(np.float64)
    rows = np.zeros((n, k, 4))
    rows[:, :, :3] = counts
    mass = rows[:, :, 0] + WEAK_WEIGHT * rows[:, :, 1] + TARGET_WEIGHT * rows[:, :, 2]
    total = mass.sum(axis=1)
    some = total > 0
    rows[some, :, 3] = mass[some] / total[some, None]
    rows[:, :, :3] = np.log1p(rows[:, :, :3])
    return rows


def _semantic(sims: np.ndarray) -> np.ndarray:
    """(n, 3): similarity, its z-score among the n items, and 1 for the most similar."""
    sd = sims.std()
    z = (sims - sims.mean()) / sd if sd > 0 else np.zeros_like(sims)
    top = (sims == sims.max()).astype(float)
    return np.column_stack([sims, z, top])


class Aligner:
    """Aligns texts; reuse one aligner for many texts (it holds the model and the
    framework embeddings).

    ``mode``: ``hybrid`` (lexical + MiniLM), ``light`` (lexical only) or ``auto``
    (hybrid when the ``fast`` or ``neural`` extra is installed)."""

    def __init__(self, mode: str = "auto", *, lexicon: Lexicon | None = None, cat: Catalog | None = None):
        if mode not in MODES:
            raise ValidationError(f"unknown mode '{mode}'; use {', '.join(MODES)}", field="mode")
        if mode == "auto":
            mode = "hybrid" if semantic.available() else "light"
        elif mode == "hybrid" and not semantic.available():
            raise ValidationError(semantic.missing_message(), field="mode")
        self.mode = mode
        self.lexicon = lexicon or default_lexicon()
        self.cat = cat or catalog()
        self._fw: dict[str, tuple[dict[str, int], np.ndarray]] = {}
        self._idx: dict[tuple, np.ndarray] = {}
        self._term_cols: dict[tuple[Matcher, str], np.ndarray] = {}
        self._names = {kind: [k.partition(":")[2] for k in keys] for kind, keys in _KEYS.items()}
        self._target_order = [c for g in GOALS for c in self.cat.targets_of[g]]
        self._target_slice: dict[str, tuple[int, int]] = {}
        for g in GOALS:
            lo = self._target_order.index(self.cat.targets_of[g][0]) if self.cat.targets_of[g] else 0
            self._target_slice[g] = (lo, lo + len(self.cat.targets_of[g]))
        self.models = {k: _model(k, mode) for k in ("sdg", "paris", "axes")}

    @property
    def method(self) -> str:
        return "lexical+minilm" if self.mode == "hybrid" else "lexical"

    # -- framework embeddings -------------------------------------------------------------

    def _framework(self, lang: str) -> tuple[dict[str, int], np.ndarray]:
        """Codes and unit embeddings of the framework texts in ``lang`` (goal and target
        texts exist in every supported language; English where one is missing)."""
        if lang not in self._fw:
            codes, texts = self.cat.semantic_texts(lang)
            self._fw[lang] = ({c: i for i, c in enumerate(codes)}, semantic.encode_cached(texts))
        return self._fw[lang]

    def _sim(self, t: _Text, codes: Sequence[str]) -> np.ndarray:
        """Cosine similarities of the text with the framework items ``codes``."""
        index, _ = self._framework(t.lang)
        key = (t.lang, tuple(codes))
        idx = self._idx.get(key)
        if idx is None:
            idx = self._idx[key] = np.array([index[c] for c in codes])
        return t.sims[idx]

    # -- public API -------------------------------------------------------------------------

    def align(self, text: str, *, lang: str = "auto", level: str = "target",
              frameworks: Sequence[str] = FRAMEWORKS, id: str = "text") -> Alignment:
        """Align one text; an unalignable text raises :class:`ValidationError`."""
        from .documents import check_text
        check_text(text)
        out = self.align_many([Passage(id=id, text=text)], lang=lang, level=level, frameworks=frameworks)[0]
        if out.error:
            raise ValidationError(out.error, field="text")
        return out

    def align_many(self, passages: Sequence[Passage], *, lang: str = "auto", level: str = "target",
                   frameworks: Sequence[str] = FRAMEWORKS,
                   progress: Callable[[int], None] | None = None,
                   batch: int = 256) -> list[Alignment]:
        """Align every passage; a passage that cannot be aligned (empty, unsupported
        language, ...) gets an :class:`Alignment` with ``error`` set, the others go on."""
        if level not in LEVELS:
            raise ValidationError(f"unknown level '{level}'; use goal or target", field="level")
        bad = [f for f in frameworks if f not in FRAMEWORKS]
        if bad:
            raise ValidationError(f"unknown framework '{bad[0]}'; use sdg, paris or both", field="framework")
        if lang != "auto" and lang not in SUPPORTED:
            raise ValidationError(f"language '{lang}' is not supported; use auto, {', '.join(SUPPORTED)}",
                                  field="lang")
        results: list[Alignment] = []
        if limits.remaining() is not None:
            batch = min(batch, 64)       # under a deadline, check it every few seconds at most
        for start in range(0, len(passages), batch):
            limits.check_deadline()
            chunk = passages[start:start + batch]
            results.extend(self._align_chunk(chunk, lang, level, frameworks))
            if progress:
                progress(len(chunk))
        return results

    # -- internals --------------------------------------------------------------------------

    def _prepare(self, p: Passage, lang: str) -> _Text | Alignment:
        if p.error:
            return Alignment(id=p.id, ref=p.ref, error=p.error)
        if not p.text or not p.text.strip():
            return Alignment(id=p.id, ref=p.ref, error="empty text")
        try:
            code = resolve_language(p.text, lang)
        except ValidationError as exc:
            return Alignment(id=p.id, ref=p.ref, error=exc.detail)
        return _Text(p, code, Words(p.text), self.lexicon.matchers.get(code))

    def _align_chunk(self, chunk: Sequence[Passage], lang: str, level: str,
                     frameworks: Sequence[str]) -> list[Alignment]:
        prepared = self.prepare(chunk, lang)
        texts = [t for t in prepared if isinstance(t, _Text)]
        if not texts:
            return list(prepared)
        with _collector_paused():
            keys, sdg = self._prob_array(texts, "sdg")
            extra = {"climate": sdg[:, keys.index("sdg:13")], "sdg17": sdg[:, keys.index("sdg:17")],
                     "sdg_max": sdg[:, [i for i, k in enumerate(keys) if k != "sdg:17"]].max(axis=1)}
            rows = {"sdg": sdg.tolist()}
            for kind in ("paris", "axes"):
                if kind == "axes" or kind in frameworks:
                    rows[kind] = self._prob_array(texts, kind, extra)[1].tolist()
            if "sdg" in frameworks and level == "target":
                counts = self._target_counts(texts)
                for t, row in zip(texts, counts):
                    t.tcounts = row
            par = rows.get("paris") or [None] * len(texts)
            decided = iter([self._decide(t, level, frameworks, s, p, x)
                            for t, s, p, x in zip(texts, rows["sdg"], par, rows["axes"])])
            return [item if isinstance(item, Alignment) else next(decided) for item in prepared]

    def _target_counts(self, texts: Sequence[_Text]) -> np.ndarray:
        """(texts, targets): the target terms found of every SDG target, in the order of
        :attr:`_target_order` (the goals' targets one goal after the other)."""
        order = self._target_order
        k = len(order)

        def columns(m: Matcher) -> np.ndarray:
            cols = self._term_cols.get((m, "targets"))
            if cols is None:
                pos = {c: i for i, c in enumerate(order)}
                cols = np.array([pos.get(t.key, -1) if t.strength == "target" else -1 for t in m.terms],
                                dtype=np.int64)
                self._term_cols[(m, "targets")] = cols
            return cols
        flat = []
        for r, t in enumerate(texts):
            if t.ids:
                c = columns(t.matcher)[t.ids]
                flat.append(c[c >= 0] + r * k)
        idx = np.concatenate(flat) if flat else np.zeros(0, dtype=np.int64)
        return np.bincount(idx, minlength=len(texts) * k).reshape(len(texts), k)

    def prepare(self, chunk: Sequence[Passage], lang: str) -> list[_Text | Alignment]:
        """Each passage with its language, terms found and (hybrid) its similarity to
        every framework text; or an :class:`Alignment` carrying the error."""
        with _collector_paused():
            prepared = [self._prepare(p, lang) for p in chunk]
        texts = [t for t in prepared if isinstance(t, _Text)]
        if self.mode == "hybrid" and texts:       # the model runs with the collector on
            emb = semantic.encode([t.passage.text for t in texts])
            for lang in {t.lang for t in texts}:
                rows = [i for i, t in enumerate(texts) if t.lang == lang]
                sims = emb[rows] @ self._framework(lang)[1].T
                for i, row in zip(rows, sims):
                    texts[i].emb, texts[i].sims = emb[i], row
            heads = load_heads()
            if heads:
                logits = {kind: emb @ W.T + b for kind, (W, b) in heads.items()}
                for i, t in enumerate(texts):
                    t.sup = {kind: z[i] for kind, z in logits.items()}
        return prepared

    def _keys(self, kind: str) -> list[str]:
        """The items of ``kind``: the 17 goals, the Paris articles or the three axes."""
        return _KEYS[kind]

    def _columns(self, kind: str) -> Callable[[Matcher], np.ndarray]:
        """The term columns (:func:`_term_columns`) of ``kind``, per matcher, made once."""
        keys = self._keys(kind)

        def get(m: Matcher) -> np.ndarray:
            cols = self._term_cols.get((m, kind))
            if cols is None:
                cols = self._term_cols[(m, kind)] = _term_columns(m, keys, kind == "sdg")
            return cols
        return get

    def features(self, t: _Text, kind: str) -> tuple[list[str], dict[str, Any]]:
        """The feature rows of one text for ``kind`` (sdg, paris or axes): the item codes
        and the columns named by the model's ``features``."""
        keys, cols = self.features_many([t], kind)
        return keys, {f: c[0] for f, c in cols.items()}

    def features_many(self, texts: Sequence[_Text], kind: str) -> tuple[list[str], dict[str, np.ndarray]]:
        """The item codes of ``kind`` and each feature column as a (texts, items) array."""
        keys = self._keys(kind)
        lex = _lexical_many(texts, keys, self._columns(kind))
        cols: dict[str, np.ndarray] = {"strong": lex[:, :, 0], "weak": lex[:, :, 1], "target": lex[:, :, 2],
                                       "share": lex[:, :, 3]}
        with_emb = sum(t.emb is not None for t in texts)
        if with_emb:
            if with_emb < len(texts):
                raise ValueError("features_many: some texts have an embedding and others not")
            sem, sup = [], []
            for t in texts:
                if kind == "sdg":
                    sims = np.array([self._sim(t, self.cat.anchors_of[g]).max() for g in keys])
                else:
                    sims = self._sim(t, keys)
                sem.append(_semantic(sims))
                sup.append(t.sup[kind] if t.sup and kind in t.sup else np.zeros(len(keys)))
            S = np.stack(sem)
            cols.update({"sem": S[:, :, 0], "sem_z": S[:, :, 1], "sem_top": S[:, :, 2], "sup": np.stack(sup)})
        return list(keys), cols

    def _probs(self, t: _Text, kind: str, extra: dict[str, Any] | None = None) -> dict[str, float]:
        return self.probs_many([t], kind, [extra] if extra else None)[0]

    def probs_many(self, texts: Sequence[_Text], kind: str,
                   extra: Sequence[dict[str, Any]] | None = None) -> list[dict[str, float]]:
        """The calibrated probability of every item of ``kind`` for each text (one
        matrix product for the whole batch)."""
        if not texts:
            return []
        cols = None
        if extra:
            cols = {f: np.array([e[f] for e in extra], dtype=np.float64) for f in extra[0]}
        keys, p = self._prob_array(texts, kind, cols)
        return [dict(zip(keys, row)) for row in p.tolist()]

    def _prob_array(self, texts: Sequence[_Text], kind: str, extra: dict[str, np.ndarray] | None = None
                    ) -> tuple[list[str], np.ndarray]:
        """(item codes, (texts, items) probabilities); ``extra`` holds per-text features
        (one value a text)."""
        model = self.models[kind]
        keys, cols = self.features_many(texts, kind)
        n, k = len(texts), len(keys)
        flat: dict[str, np.ndarray] = {}
        for f in model.features:
            base = f.partition("@")[0]
            if base in flat:
                continue
            if extra is not None and base in extra:
                flat[base] = np.repeat(extra[base], k)
            else:
                flat[base] = np.ascontiguousarray(cols[base], dtype=np.float64).reshape(n * k)
        return keys, model.prob(keys, flat, reps=n).reshape(n, k)

    def _decide(self, t: _Text, level: str, frameworks: Sequence[str], sdg_p: list[float],
                par_p: list[float] | None, ax_p: list[float]) -> Alignment:
        """The record of one text from its probabilities (in the order of :meth:`_keys`)."""
        a = Alignment(id=t.passage.id, lang=t.lang, ref=t.passage.ref, method=self.method)
        scores: dict[str, dict[str, float]] = {}
        if "sdg" in frameworks:
            keys, names = self._keys("sdg"), self._names["sdg"]
            thr = self.models["sdg"].threshold
            goals = [i for i, p in enumerate(sdg_p) if p >= thr]
            a.sdgs = sorted(int(names[i]) for i in goals)
            scores["sdg"] = {names[i]: round(p, 3) for i, p in enumerate(sdg_p) if p >= SCORE_FLOOR}
            if level == "target":
                tscores = {}
                for i in sorted(goals, key=lambda i: int(names[i])):
                    for code, s in self._targets(t, keys[i], sdg_p[i]):
                        tscores[code] = s
                scores["targets"] = {c[4:]: round(s, 3) for c, s in tscores.items()}
                a.targets = [c[4:] for c in tscores]
        if par_p is not None:
            names = self._names["paris"]
            thr = self.models["paris"].threshold
            a.paris = sorted(int(names[i]) for i, p in enumerate(par_p) if p >= thr)
            scores["paris"] = {names[i]: round(p, 3) for i, p in enumerate(par_p) if p >= SCORE_FLOOR}
        names = self._names["axes"]
        thr = self.models["axes"].threshold
        a.axes = [names[i] for i, p in enumerate(ax_p) if p >= thr]
        scores["axes"] = {names[i]: round(p, 3) for i, p in enumerate(ax_p) if p >= SCORE_FLOOR}
        a.scores = scores
        a.evidence = self._evidence(t, a)
        return a

    def _targets(self, t: _Text, goal: str, p_goal: float) -> list[tuple[str, float]]:
        """The likely targets of a reported goal: its target terms found, and (hybrid) the
        similarity with each target's text or (light) the weighted words shared with it;
        a softmax over the goal's targets shares the goal's probability among them."""
        codes = self.cat.targets_of[goal]
        if not codes:
            return []
        if t.tcounts is not None:
            lo, hi = self._target_slice[goal]
            lex = t.tcounts[lo:hi].tolist()
        else:
            by_key = t.by_key
            lex = [len(by_key[c].get("target", ())) if c in by_key else 0 for c in codes]
        if t.emb is not None:
            sim = self._sim(t, codes).tolist()
            score = [s + 0.08 * n for s, n in zip(sim, lex)]
            temp = 0.03
        else:
            if t.stems is None:
                t.stems = word_stems(t.words.words)
            stems = t.stems
            idf = self.cat.stem_idf.get(t.lang) or self.cat.stem_idf["en"]
            tstems = self.cat.target_stems.get(t.lang) or self.cat.target_stems["en"]
            score = []
            for c, n in zip(codes, lex):
                common = stems & tstems[c] if c in tstems else None
                score.append(n + 0.25 * (sum(idf.get(w, 0.0) for w in common) if common else 0))
            temp = 0.5
        top = max(score)
        if top <= 0:
            return []
        share = [math.exp((x - top) / temp) for x in score]
        total = sum(share)
        order = sorted(range(len(codes)), key=lambda i: -share[i])
        out = []
        for i in order[:MAX_TARGETS]:
            if out and share[i] < 0.5 * share[order[0]]:
                break
            out.append((codes[i], p_goal * share[i] / total))
        return out

    def _evidence(self, t: _Text, a: Alignment) -> list[dict[str, Any]]:
        items = [f"sdg:{g}" for g in a.sdgs] + [f"sdg:{c}" for c in a.targets] + \
                [f"paris:{n}" for n in a.paris] + [f"axis:{x}" for x in a.axes]
        text = t.passage.text
        ev: list[dict[str, Any]] = []
        sents = None
        by_key = t.hits_by_key(set(items))
        ref = {"ref": t.passage.ref} if t.passage.ref else {}
        for key in items:
            group = by_key.get(key, {})
            hits = group.get("strong", []) + group.get("target", []) + group.get("weak", [])
            if hits:
                matched = self.cat.title(key, t.lang)
            for h in hits[:MAX_EVIDENCE]:
                ev.append({"item": key, "via": "term", "text": text[h.start:h.end], "span": [h.start, h.end],
                           "term": h.term.text, "strength": h.term.strength, "matched": matched, **ref})
            if t.emb is not None and not key.startswith("axis:"):
                if sents is None:
                    sents = sentences(text) or [text]
                code = key
                if key.count(".") == 0 and key.startswith("sdg:") and self.cat.targets_of.get(key):
                    tcodes = self.cat.targets_of[key]
                    code = tcodes[int(np.argmax(self._sim(t, tcodes)))]
                sim = float(self._sim(t, [code])[0])
                best = max(sents, key=lambda s: sum(1 for h in hits if h.start >= text.find(s) and
                                                    h.end <= text.find(s) + len(s)))
                ev.append({"item": key, "via": "semantic", "similarity": round(sim, 3),
                           "text": best[:400], "matched": self.cat.title(code, "en"),
                           "matched_item": code, **ref})
        return ev


def warm_up() -> None:
    """Load what every alignment needs — the lexicon, the framework catalogue, the language
    detector's models, the fitted models of the default aligner and, with the ONNX
    backend, the MiniLM session and the English framework embeddings — so that the first
    text aligned does not wait for them (the torch backend's model still loads with the
    first text that needs it). A ``serve`` worker or a job worker keeps them for its life."""
    from .language import warm_up as warm_language

    default_lexicon()
    catalog()
    warm_language()
    al = aligner("auto")
    b = semantic.backend()
    if al.mode == "hybrid" and b and b[0] == "onnx":
        semantic.warm_up()
        al._framework("en")


@lru_cache(maxsize=4)
def aligner(mode: str = "auto") -> Aligner:
    """A shared :class:`Aligner` per mode (the model and embeddings load once)."""
    return Aligner(mode)


def align(text: str, **kw) -> Alignment:
    """Align one text with the shared aligner (``mode`` picks it; see :class:`Aligner`)."""
    mode = kw.pop("mode", "auto")
    return aligner(mode).align(text, **kw)
