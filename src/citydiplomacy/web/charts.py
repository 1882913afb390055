"""Geometry of the small server-rendered SVG charts of the index results: a radar of the
axis scores and ranks with their intervals on a log scale. Pure functions, used as Jinja
globals; the SVG is written by the templates (``_index.html``), so the charts need no
script and no asset. The same charts as files to download (SVG, PNG, drawn with
matplotlib in the same Okabe–Ito colours): :mod:`citydiplomacy.reports.charts`."""

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


def columns(counts: dict[str, int], *, width: float = 640.0, height: float = 110.0, pad: float = 18.0,
            most_labels: int = 8) -> dict[str, Any] | None:
    """A column per year of ``counts`` (year -> how many; keys that are not years, such as
    "undated", are left out) over the whole span, empty years included, in a box of
    ``width`` by ``height``: each column's x, y, width and height, and the year labels
    (at most ``most_labels``, every 1, 2, 5, 10, 20, 25, 50 or 100 years). None when no
    key is a year."""
    years = {int(k): int(v) for k, v in counts.items() if str(k).isdigit() and v}
    if not years:
        return None
    lo, hi = min(years), max(years)
    n = hi - lo + 1
    step = (width - 2 * pad) / n
    top = max(years.values())
    plot = height - 2 * pad
    bars = []
    for y, v in sorted(years.items()):
        h = max(plot * v / top, 1.0)
        bars.append({"year": y, "n": v, "x": round(pad + (y - lo) * step + step * 0.1, 1),
                     "w": round(max(step * 0.8, 0.8), 1), "y": round(pad + plot - h, 1), "h": round(h, 1)})
    every = next((k for k in (1, 2, 5, 10, 20, 25, 50, 100) if n / k <= most_labels), 100)
    first = lo + (-lo) % every
    ticks = [{"year": y, "x": round(pad + (y - lo + 0.5) * step, 1)} for y in range(first, hi + 1, every)]
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "base": round(pad + plot, 1),
            "top": top, "from": lo, "to": hi}
