"""Record the light mode's results on a fixed set of texts (``light_golden.jsonl.gz``), so that
a faster light path can be checked to give the same answers (tests/test_align_light_golden.py).

The texts: every fr/es/de text of the test split and every sixth English one (by id),
40 paragraphs of 100 words glued from the English test texts as benchmarks/bench_align.py
glues them, and a few edge cases. Each is aligned in light mode with the language
detected, every second one with it given, and every fifth at goal level and with the SDGs
only. Stored per case: the record, the language and error, and the
unrounded probabilities of every goal, article and axis (12 significant digits).

    PYTHONPATH=src python tests/data/align/make_light_golden.py    # rewrites the file

Run it only when the light mode's answers are meant to change (a new lexicon, a refit).
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "light_golden.jsonl.gz"

EDGE = [
    ("edge-empty", "   "),
    ("edge-italian", "La città ha approvato un piano per il trasporto pubblico e le piste ciclabili "
                     "in tutti i quartieri."),
    ("edge-unicode", "Zürich's CO₂ plan: 2,000 social-housing units, Fernwärme and bus lanes — heatwave shelters."),
    ("edge-short", "Bus lanes and 2,000 social housing units cut commuting emissions."),
    ("edge-nothing", "The committee met on Tuesday and approved the minutes of the previous meeting."),
]


def texts() -> list[dict]:
    rows = []
    for path in sorted(HERE.glob("labelled_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    test = sorted((r for r in rows if r["split"] == "test"), key=lambda r: r["id"])
    en = [r for r in test if r["lang"] == "en"]
    out = [{"id": r["id"], "text": r["text"], "lang": r["lang"]} for r in test if r["lang"] != "en"]
    out += [{"id": r["id"], "text": r["text"], "lang": "en"} for r in en[::6]]
    rnd = random.Random(0)
    pool = [r["text"] for r in en]
    for i in range(40):
        parts, k = [], 0
        while k < 100:
            t = rnd.choice(pool)
            parts.append(t)
            k += len(t.split())
        out.append({"id": f"para-{i:02d}", "text": " ".join(" ".join(parts).split()[:100]), "lang": "en"})
    out += [{"id": i, "text": t, "lang": "en"} for i, t in EDGE]
    return out


def cases() -> list[dict]:
    """(texts, settings) of every case, in order: a case is one ``align_many`` call."""
    ts = texts()
    return [{"texts": ts, "lang": "auto", "level": "target", "frameworks": ["sdg", "paris"]},
            {"texts": ts[::2], "lang": "given", "level": "target", "frameworks": ["sdg", "paris"]},
            {"texts": ts[::5], "lang": "auto", "level": "goal", "frameworks": ["sdg", "paris"]},
            {"texts": ts[1::5], "lang": "given", "level": "target", "frameworks": ["sdg"]}]


def run(al, case: dict) -> list[dict]:
    from citydiplomacy.align import Passage
    by_lang: dict[str, list[int]] = {}
    for i, t in enumerate(case["texts"]):
        by_lang.setdefault(t["lang"] if case["lang"] == "given" else "auto", []).append(i)
    results: dict[int, dict] = {}
    for lang, idx in by_lang.items():
        passages = [Passage(id=case["texts"][i]["id"], text=case["texts"][i]["text"]) for i in idx]
        aligned = al.align_many(passages, lang=lang, level=case["level"], frameworks=case["frameworks"])
        prepared = [t for t in al.prepare(passages, lang) if not hasattr(t, "record")]
        probs = {kind: al.probs_many(prepared, kind) for kind in ("sdg",)}
        extra = [{"climate": p["sdg:13"], "sdg_max": max(v for k, v in p.items() if k != "sdg:17"),
                  "sdg17": p["sdg:17"]} for p in probs["sdg"]]
        probs["paris"] = al.probs_many(prepared, "paris", extra)
        probs["axes"] = al.probs_many(prepared, "axes", extra)
        j = 0
        for i, a in zip(idx, aligned):
            row = {"id": a.id, "lang": a.lang, "error": a.error, "record": a.record()}
            if not a.error:
                row["probs"] = {kind: {k: float(f"{v:.12g}") for k, v in probs[kind][j].items()}
                                for kind in probs}
                j += 1
            results[i] = row
    return [results[i] for i in range(len(case["texts"]))]


def main() -> None:
    from citydiplomacy.align import Aligner
    al = Aligner("light")
    lines = [json.dumps({"case": n, **row}, ensure_ascii=False, sort_keys=True)
             for n, case in enumerate(cases()) for row in run(al, case)]
    with OUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))     # mtime 0: the same bytes each run
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
