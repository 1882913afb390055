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

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from .. import limits
from ..shipped import data_path
from ..errors import ValidationError
from . import semantic
from .catalog import AXES, GOALS, PARIS_ARTICLES, Catalog, catalog, content_stems
from .documents import Passage, sentences
from .language import SUPPORTED, resolve_language
from .lexicon import Hit, Lexicon, default_lexicon, tokenize

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

    def design(self, keys: Sequence[str], cols: dict[str, Any]) -> np.ndarray:
        n = len(keys)
        out = []
        for f in self.features:
            base, _, item = f.partition("@")
            col = cols[base]
            col = np.full(n, float(col)) if np.ndim(col) == 0 else np.asarray(col, dtype=np.float64)
            if item:
                col = col * np.array([k == item for k in keys], dtype=np.float64)
            out.append(col)
        return np.column_stack(out) if out else np.zeros((n, 0))

    def prob(self, keys: Sequence[str], cols: dict[str, Any]) -> np.ndarray:
        X = self.design(keys, cols)
        z = X @ np.asarray(self.coef, dtype=np.float64) + self.intercept
        if self.item_intercepts:
            z = z + np.array([self.item_intercepts.get(k, 0.0) for k in keys])
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


@dataclass
class _Text:
    passage: Passage
    lang: str
    tokens: list
    hits: list[Hit]
    by_key: dict[str, dict[str, list[Hit]]]      # key -> strength -> hits (one per distinct term)
    emb: np.ndarray | None = None
    sims: np.ndarray | None = None                # similarity with every framework text
    stems: set[str] | None = None
    sup: dict[str, np.ndarray] | None = None      # supervised head logits, by kind


def _group(hits: list[Hit]) -> dict[str, dict[str, list[Hit]]]:
    out: dict[str, dict[str, list[Hit]]] = {}
    seen: set[tuple[str, str]] = set()
    for h in hits:
        k = (h.term.key, h.term.text)
        if k in seen:
            continue
        seen.add(k)
        out.setdefault(h.term.key, {}).setdefault(h.term.strength, []).append(h)
    return out


def _lexical(t: _Text, keys: Sequence[str], *, with_targets: bool = False) -> np.ndarray:
    """(len(keys), 4): log counts of strong, weak and (for goals) target terms, and the
    item's share of the lexical mass of the text among ``keys``."""
    rows = np.zeros((len(keys), 4))
    pos = {k: i for i, k in enumerate(keys)}
    for key, group in t.by_key.items():
        i = pos.get(key)
        if i is not None:
            rows[i, 0] = len(group.get("strong", ()))
            rows[i, 1] = len(group.get("weak", ()))
        elif with_targets and "target" in group:
            i = pos.get(key.split(".")[0])
            if i is not None:
                rows[i, 2] += len(group["target"])
    mass = rows[:, 0] + WEAK_WEIGHT * rows[:, 1] + TARGET_WEIGHT * rows[:, 2]
    total = mass.sum()
    if total > 0:
        rows[:, 3] = mass / total
    rows[:, :3] = np.log1p(rows[:, :3])
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
        tokens = tokenize(p.text)
        hits = self.lexicon.find(tokens, code)
        return _Text(p, code, tokens, hits, _group(hits))

    def _align_chunk(self, chunk: Sequence[Passage], lang: str, level: str,
                     frameworks: Sequence[str]) -> list[Alignment]:
        prepared = self.prepare(chunk, lang)
        texts = [t for t in prepared if isinstance(t, _Text)]
        sdg = self.probs_many(texts, "sdg")
        extra = [{"climate": p["sdg:13"], "sdg_max": max(v for k, v in p.items() if k != "sdg:17"),
                  "sdg17": p["sdg:17"]} for p in sdg]
        par = self.probs_many(texts, "paris", extra) if "paris" in frameworks else [None] * len(texts)
        axes = self.probs_many(texts, "axes", extra)
        decided = iter(self._decide(t, level, frameworks, s, p, x) for t, s, p, x in zip(texts, sdg, par, axes))
        return [item if isinstance(item, Alignment) else next(decided) for item in prepared]

    def prepare(self, chunk: Sequence[Passage], lang: str) -> list[_Text | Alignment]:
        """Each passage with its language, terms found and (hybrid) its similarity to
        every framework text; or an :class:`Alignment` carrying the error."""
        prepared = [self._prepare(p, lang) for p in chunk]
        texts = [t for t in prepared if isinstance(t, _Text)]
        if self.mode == "hybrid" and texts:
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

    def features(self, t: _Text, kind: str) -> tuple[list[str], np.ndarray]:
        """The feature rows of one text for ``kind`` (sdg, paris or axes): the item codes
        and a matrix with the columns named by the model's ``features``."""
        if kind == "sdg":
            keys = list(GOALS)
            lex = _lexical(t, keys, with_targets=True)
        elif kind == "paris":
            keys = list(PARIS_ARTICLES)
            lex = _lexical(t, keys)
        else:
            keys = [f"axis:{a}" for a in AXES]
            lex = _lexical(t, keys)
        cols = {"strong": lex[:, 0], "weak": lex[:, 1], "target": lex[:, 2], "share": lex[:, 3]}
        if t.emb is not None:
            if kind == "sdg":
                sims = np.array([self._sim(t, self.cat.anchors_of[g]).max() for g in keys])
            else:
                sims = self._sim(t, keys)
            sem = _semantic(sims)
            cols.update({"sem": sem[:, 0], "sem_z": sem[:, 1], "sem_top": sem[:, 2]})
            cols["sup"] = t.sup[kind] if t.sup and kind in t.sup else np.zeros(len(keys))
        return keys, cols

    def _probs(self, t: _Text, kind: str, extra: dict[str, Any] | None = None) -> dict[str, float]:
        return self.probs_many([t], kind, [extra] if extra else None)[0]

    def probs_many(self, texts: Sequence[_Text], kind: str,
                   extra: Sequence[dict[str, Any]] | None = None) -> list[dict[str, float]]:
        """The calibrated probability of every item of ``kind`` for each text (one
        matrix product for the whole batch)."""
        if not texts:
            return []
        model = self.models[kind]
        keys: list[str] = []
        cols: dict[str, list] = {}
        for i, t in enumerate(texts):
            k, c = self.features(t, kind)
            if extra:
                c.update(extra[i])
            for f in model.features:
                base = f.partition("@")[0]
                v = c[base]
                cols.setdefault(base, []).append(np.full(len(k), float(v)) if np.ndim(v) == 0 else v)
            keys = k
        flat = {f: np.concatenate(v) for f, v in cols.items()}
        p = model.prob(keys * len(texts), flat).reshape(len(texts), len(keys))
        return [dict(zip(keys, row.tolist())) for row in p]

    def _decide(self, t: _Text, level: str, frameworks: Sequence[str], sdg_p: dict[str, float],
                par_p: dict[str, float] | None, ax_p: dict[str, float]) -> Alignment:
        a = Alignment(id=t.passage.id, lang=t.lang, ref=t.passage.ref, method=self.method)
        scores: dict[str, dict[str, float]] = {}
        if "sdg" in frameworks:
            thr = self.models["sdg"].threshold
            goals = [k for k, p in sorted(sdg_p.items(), key=lambda kv: -kv[1]) if p >= thr]
            a.sdgs = sorted(int(k[4:]) for k in goals)
            scores["sdg"] = {k[4:]: round(p, 3) for k, p in sdg_p.items() if p >= SCORE_FLOOR}
            if level == "target":
                tscores = {}
                for g in sorted(goals, key=lambda k: int(k[4:])):
                    for code, s in self._targets(t, g, sdg_p[g]):
                        tscores[code] = s
                a.targets = list(tscores)
                scores["targets"] = {c[4:]: round(s, 3) for c, s in tscores.items()}
                a.targets = [c[4:] for c in tscores]
        if par_p is not None:
            thr = self.models["paris"].threshold
            a.paris = sorted(int(k[6:]) for k, p in par_p.items() if p >= thr)
            scores["paris"] = {k[6:]: round(p, 3) for k, p in par_p.items() if p >= SCORE_FLOOR}
        thr = self.models["axes"].threshold
        a.axes = [k[5:] for k, p in ax_p.items() if p >= thr]
        scores["axes"] = {k[5:]: round(p, 3) for k, p in ax_p.items() if p >= SCORE_FLOOR}
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
        lex = [len(t.by_key.get(c, {}).get("target", ())) for c in codes]
        if t.emb is not None:
            sim = self._sim(t, codes).tolist()
            score = [s + 0.08 * n for s, n in zip(sim, lex)]
            temp = 0.03
        else:
            if t.stems is None:
                t.stems = content_stems(t.tokens)
            stems = t.stems
            idf = self.cat.stem_idf.get(t.lang) or self.cat.stem_idf["en"]
            tstems = self.cat.target_stems.get(t.lang) or self.cat.target_stems["en"]
            score = [n + 0.25 * sum(idf.get(w, 0.0) for w in stems & tstems.get(c, set()))
                     for c, n in zip(codes, lex)]
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
        for key in items:
            group = t.by_key.get(key, {})
            hits = group.get("strong", []) + group.get("target", []) + group.get("weak", [])
            for h in hits[:MAX_EVIDENCE]:
                ev.append({"item": key, "via": "term", "text": text[h.start:h.end], "span": [h.start, h.end],
                           "term": h.term.text, "strength": h.term.strength,
                           "matched": self.cat.title(key, t.lang), **({"ref": t.passage.ref} if t.passage.ref else {})})
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
                           "matched_item": code, **({"ref": t.passage.ref} if t.passage.ref else {})})
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
