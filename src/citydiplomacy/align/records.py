"""Alignment rows to store for records written with a text (an initiative, an
engagement): the SDG goals and targets and the Paris articles a text serves, with score,
method and evidence, and the axes it was aligned to. Computed before a write takes the
store's lock."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["alignment_rows"]


def alignment_rows(texts: Sequence[str], *, mode: str = "auto") -> list[tuple[list[dict[str, Any]], str | None]]:
    """For each text, the alignment rows to store (``item_code``, ``score``, ``method``,
    ``evidence``; without the record's id) and the axes it was aligned to
    (comma-separated; None when none). ``mode``: light, hybrid or auto (see
    :func:`citydiplomacy.align.aligner`)."""
    from . import Passage, aligner

    if not texts:
        return []
    al = aligner(mode)
    passages = [Passage(id=str(n), text=t) for n, t in enumerate(texts)]
    out: list[tuple[list[dict[str, Any]], str | None]] = []
    for res in al.align_many(passages, lang="auto"):
        if res.error:
            out.append(([], None))
            continue
        rows = []
        for code in [f"sdg:{g}" for g in res.sdgs] + [f"sdg:{t}" for t in res.targets] + \
                [f"paris:{p}" for p in res.paris]:
            fw, c = code.split(":")
            score = res.scores.get("targets" if "." in c else fw, {}).get(c, 0.0)
            rows.append({"item_code": code, "score": score, "method": res.method,
                         "evidence": [e for e in res.evidence if e["item"] == code] or None})
        out.append((rows, ",".join(res.axes) if res.axes else None))
    return out
