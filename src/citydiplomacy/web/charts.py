"""Geometry of the small server-rendered SVG charts of the index results: a radar of the
axis scores and ranks with their intervals on a log scale. Pure functions, used as Jinja
globals; the SVG is written by the templates (``_index.html``), so the charts need no
script and no asset."""

from __future__ import annotations

import math
from typing import Any

AXES = ("sustainability", "digital", "engagement")


def radar(scores: dict[str, Any], *, size: float = 220.0, pad: float = 40.0) -> dict[str, Any]:
    """Points of a radar chart of ``scores`` (axis -> {"score": 0..100} or a number) in a
    square of ``size`` plus ``pad`` on each side: the data polygon, the grid rings (25,
    50, 75, 100) and each axis's spoke end and label anchor (with its ``low_data`` mark,
    when the scores carry one)."""
    r = size / 2
    c = pad + r
    n = len(AXES)

    def point(k: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * k / n
        return (round(c + r * value / 100 * math.cos(angle), 1), round(c + r * value / 100 * math.sin(angle), 1))

    def value_of(axis: str) -> float:
        v = scores.get(axis)
        v = v.get("score") if isinstance(v, dict) else v
        return max(0.0, min(100.0, float(v))) if v is not None else 0.0

    poly = [point(k, value_of(a)) for k, a in enumerate(AXES)]
    rings = [" ".join(f"{x},{y}" for x, y in (point(k, level) for k in range(n))) for level in (25, 50, 75, 100)]
    spokes = []
    for k, a in enumerate(AXES):
        x, y = point(k, 100)
        # labels centred on their vertex: above the top one, below the others
        v = scores.get(a)
        spokes.append({"axis": a, "x": x, "y": y, "lx": x, "ly": round(y - 12 if y < c else y + 22, 1),
                       "anchor": "middle", "score": value_of(a),
                       "low_data": bool(v.get("low_data")) if isinstance(v, dict) else False})
    return {"width": round(2 * c, 1), "height": round(2 * c, 1), "cx": c, "cy": c,
            "polygon": " ".join(f"{x},{y}" for x, y in poly), "points": poly, "rings": rings, "spokes": spokes}


def rank_position(rank: Any, of: Any) -> float | None:
    """Where ``rank`` lies on a log scale from 1 (0%) to ``of`` (100%)."""
    if rank is None or not of or of < 2:
        return None
    return round(100 * math.log(max(float(rank), 1.0)) / math.log(float(of)), 2)


def interval(a: dict[str, Any]) -> dict[str, Any] | None:
    """Positions (in % of the plot's width, log scale) of a rank and its interval."""
    of = a.get("of")
    mid = rank_position(a.get("rank"), of)
    if mid is None:
        return None
    lo = rank_position(a.get("rank_lo"), of)
    hi = rank_position(a.get("rank_hi"), of)
    return {"rank": mid, "lo": lo if lo is not None else mid, "hi": hi if hi is not None else mid}
