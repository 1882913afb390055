"""The stored index results that a profile shows: light (SQLAlchemy only, no pandas), as
every profile request reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..store import Store
from ..store.schema import import_runs, index_scores

AXES_ALL = ("sustainability", "digital", "engagement", "overall")


def _main_year(summary: dict[str, Any]) -> int | None:
    years = summary.get("years")
    return years[-1] if years else None


def _i(v: Any) -> int | None:
    return None if v is None or v != v else int(round(v))


def brief(store: Store, actor_id: str) -> dict[str, Any] | None:
    """A city's scores and rank intervals from the latest build, for its profile (two
    small queries); None when no index has been built."""
    with store.connect() as conn:
        run = conn.execute(select(import_runs.c.id, import_runs.c.finished_at, import_runs.c.summary)
                           .where(import_runs.c.kind == "index", import_runs.c.status == "ok")
                           .order_by(import_runs.c.id.desc()).limit(1)).first()
        if run is None:
            return None
        summary = run.summary or {}
        year = _main_year(summary)
        rows = conn.execute(select(index_scores).where(
            index_scores.c.run_id == run.id, index_scores.c.actor_id == actor_id,
            index_scores.c.year.is_(None) if year is None else index_scores.c.year == year)).all()
    base = {"run": run.id, "built_at": run.finished_at, "year": year, "replications": summary.get("replications", 0)}
    overall = [r for r in rows if r.axis == "overall"]
    if not overall:
        return base | {"scored": False, "reason": "not a unit of the index (only cities are scored)"}
    if overall[0].score is None:
        return base | {"scored": False, "reason": overall[0].reason}
    n = summary.get("scored", 0)
    return base | {"scored": True, "axes": {
        r.axis: {"score": round(r.score, 2) if r.score is not None else None, "rank": _i(r.rank),
                 "rank_lo": _i(r.rank_lo), "rank_hi": _i(r.rank_hi), "rank_median": _i(r.rank_median), "of": n}
        for r in sorted(rows, key=lambda r: AXES_ALL.index(r.axis))}}


