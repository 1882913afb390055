"""Fit the alignment engine on the training and development texts, and write
``src/citydiplomacy/data/align/calibration.json`` (and, for hybrid mode, ``heads.npz``).

What is fitted (see docs/align-method.md):

1. **Supervised heads** (hybrid mode): for every SDG, Paris article and axis, a
   logistic regression (L2, class-balanced, scikit-learn) on the MiniLM embedding of the
   text, one-vs-rest. Saved as ``heads.npz``.
2. **Fusion** (both modes): for each kind of item, a logistic regression on the features
   of the lexical and semantic layers of every (text, item) pair, with one intercept per
   item (shrunk by the penalty). In hybrid mode the head's logit is a feature; it is taken
   **out of fold** (5 folds) so that the fusion never sees a head's answer on a text the
   head was trained on.
3. **Threshold**: the probability from which an SDG is reported, chosen to maximise the
   mean per-SDG accuracy of the (text, focus SDG, label) pairs, out of fold, on a grid
   from 0.10 to 0.70.

Data: ``tests/data/align/train_*.jsonl`` and the ``dev`` split of ``labelled_*.jsonl``.
The ``test`` split is never read here; benchmarks/bench_align.py reports on it.

    python scripts/calibrate_align.py            # both modes (hybrid needs the neural extra)
    python scripts/calibrate_align.py --mode light
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citydiplomacy.align import Passage  # noqa: E402
from citydiplomacy.align.catalog import AXES, GOALS, PARIS_ARTICLES  # noqa: E402
from citydiplomacy.align.engine import FEATURES, Aligner, Logistic  # noqa: E402

DATA = ROOT / "src" / "citydiplomacy" / "data" / "align"
LABELLED = ROOT / "tests" / "data" / "align"
KINDS = {"sdg": list(GOALS), "paris": list(PARIS_ARTICLES), "axes": [f"axis:{a}" for a in AXES]}
FOLDS = 5


def load_fitting() -> list[dict]:
    """The training texts and the dev split (never the test split)."""
    rows = []
    for path in sorted(LABELLED.glob("train_*.jsonl")) + sorted(LABELLED.glob("labelled_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r["split"] in ("train", "dev"):
                    rows.append(r)
    return rows


def truth(r: dict, kind: str) -> set[str]:
    return {"sdg": {f"sdg:{g}" for g in r["sdgs"]}, "paris": {f"paris:{a}" for a in r["paris"]},
            "axes": {f"axis:{a}" for a in r["axes"]}}[kind]


def labels(rows: list[dict], kind: str) -> np.ndarray:
    return np.array([[k in truth(r, kind) for k in KINDS[kind]] for r in rows], dtype=int)


def fit_heads(E: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    W = np.zeros((Y.shape[1], E.shape[1]), dtype=np.float32)
    b = np.full(Y.shape[1], -5.0, dtype=np.float32)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.sum() >= 3 and (len(y) - y.sum()) >= 3:
            lr = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced").fit(E, y)
            W[j], b[j] = lr.coef_[0], lr.intercept_[0]
    return W, b


def out_of_fold(E: np.ndarray, Y: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import KFold
    Z = np.zeros(Y.shape, dtype=np.float32)
    for tr, te in KFold(FOLDS, shuffle=True, random_state=0).split(E):
        W, b = fit_heads(E[tr], Y[tr])
        Z[te] = E[te] @ W.T + b
    return Z


def fit_fusion(X: np.ndarray, y: np.ndarray, keys: list[str], features: list[str], C: float) -> Logistic:
    from sklearn.linear_model import LogisticRegression
    items = sorted(set(keys))
    onehot = np.array([[k == it for it in items] for k in keys], dtype=float)
    lr = LogisticRegression(C=C, max_iter=5000).fit(np.hstack([X, onehot]), y)
    coef, nf = lr.coef_[0], X.shape[1]
    return Logistic(features=features, coef=[round(float(c), 5) for c in coef[:nf]],
                    intercept=round(float(lr.intercept_[0]), 5),
                    item_intercepts={it: round(float(c), 5) for it, c in zip(items, coef[nf:])})


def design(al: Aligner, texts, rows, kind: str, features: list[str]):
    X, y, keys = [], [], []
    probe = Logistic(features, [0.0] * len(features), 0.0)
    extra = None
    if kind != "sdg":
        sdg = al.probs_many(texts, "sdg")
        extra = [{"climate": p["sdg:13"], "sdg_max": max(v for k, v in p.items() if k != "sdg:17"),
                  "sdg17": p["sdg:17"]} for p in sdg]
    for i, (t, r) in enumerate(zip(texts, rows)):
        k, cols = al.features(t, kind)
        if extra:
            cols.update(extra[i])
        X.append(probe.design(k, cols))
        y.extend(int(key in truth(r, kind)) for key in k)
        keys.extend(k)
    return np.vstack(X), np.array(y), keys


def mean_pair_accuracy(P: list[dict[str, float]], rows: list[dict], thr: float) -> float:
    acc: dict[int, list[bool]] = {}
    for p, r in zip(P, rows):
        acc.setdefault(r["focus_sdg"], []).append((p[f"sdg:{r['focus_sdg']}"] >= thr) == bool(r["label"]))
    return float(np.mean([np.mean(v) for v in acc.values()]))


def calibrate(mode: str, rows: list[dict], C: float) -> tuple[dict, dict | None]:
    al = Aligner(mode)
    texts = []
    for r in rows:        # each text in its own language, as labelled
        texts += al.prepare([Passage(id=r["id"], text=r["text"])], r["lang"])
    heads = None
    if mode == "hybrid":
        E = np.stack([t.emb for t in texts])
        oof = {kind: out_of_fold(E, labels(rows, kind)) for kind in KINDS}
        for i, t in enumerate(texts):
            t.sup = {kind: z[i] for kind, z in oof.items()}
        heads = {kind: fit_heads(E, labels(rows, kind)) for kind in KINDS}
    out = {}
    for kind in KINDS:
        feats = FEATURES[(kind, mode)]
        X, y, keys = design(al, texts, rows, kind, feats)
        model = fit_fusion(X, y, keys, feats, C)
        al.models[kind] = model
        if kind == "sdg":
            P = al.probs_many(texts, "sdg")
            grid = np.round(np.arange(0.10, 0.701, 0.025), 3)
            scores = [mean_pair_accuracy(P, rows, g) for g in grid]
            model.threshold = float(grid[int(np.argmax(scores))])
            print(f"  {mode}: mean per-SDG pair accuracy {max(scores):.3f} on the fitting texts "
                  f"(heads out of fold) at threshold {model.threshold}")
        out[kind] = {"features": model.features, "coef": model.coef, "intercept": model.intercept,
                     "threshold": model.threshold, "item_intercepts": model.item_intercepts,
                     "fitted_on": {"texts": len(rows), "pairs": int(len(y)), "positives": int(y.sum())}}
    return out, heads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["light", "hybrid", "both"], default="both")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 penalty of the fusion")
    args = ap.parse_args()
    rows = load_fitting()
    if not rows:
        sys.exit("no training or dev rows in tests/data/align/")
    langs = sorted({r["lang"] for r in rows})
    print(f"fitting texts: {len(rows)} ({', '.join(langs)})")
    path = DATA / "calibration.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    modes = ["light", "hybrid"] if args.mode == "both" else [args.mode]
    for mode in modes:
        fitted, heads = calibrate(mode, rows, args.C)
        for kind, spec in fitted.items():
            current.setdefault(kind, {})[mode] = spec
        if heads:
            np.savez_compressed(DATA / "heads.npz", **{f"{k}_{n}": a for k, (W, b) in heads.items()
                                                       for n, a in (("W", W), ("b", b))})
            print(f"wrote {(DATA / 'heads.npz').relative_to(ROOT)}")
    current["about"] = {
        "what": "calibration of the alignment engine (see docs/align-method.md)",
        "fitted": dt.date.today().isoformat(), "by": "scripts/calibrate_align.py",
        "data": "tests/data/align: train_*.jsonl and the dev split of labelled_*.jsonl",
        "texts": len(rows), "languages": langs, "C": args.C,
        "items": {k: v for k, v in KINDS.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
