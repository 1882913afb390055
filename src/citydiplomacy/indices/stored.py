"""The stored index results that a profile shows: light (SQLAlchemy only, no pandas), as
every profile request reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from ..store import Store
from ..store.schema import import_runs, index_scores, index_values
from .builds import build_run

AXES_ALL = ("sustainability", "digital", "engagement", "overall")


def _main_year(summary: dict[str, Any]) -> int | None:
    years = summary.get("years")
    return years[-1] if years else None


def _i(v: Any) -> int | None:
    return None if v is None or v != v else int(round(v))


#: statements built once: a profile request runs them, and building a SQLAlchemy
#: expression costs more than the SQLite query itself
_SUMMARY = select(import_runs.c.summary).where(import_runs.c.id == bindparam("run"))
_ROWS = select(index_scores.c.axis, index_scores.c.year, index_scores.c.score, index_scores.c.rank,
               index_scores.c.rank_lo, index_scores.c.rank_hi, index_scores.c.rank_median,
               index_scores.c.reason).where(index_scores.c.run_id == bindparam("run"),
                                            index_scores.c.actor_id == bindparam("actor"))
_KNOWN = select(index_values.c.indicator, index_values.c.raw.is_not(None), index_values.c.year).where(
    index_values.c.run_id == bindparam("run"), index_values.c.actor_id == bindparam("actor"))
#: the few figures of a build's summary that a profile needs, by store, run id and time
#: (a finished run's summary never changes; ids alone repeat across stores and rebuilds)
_RUN_FACTS: dict[tuple, dict[str, Any]] = {}


def _facts(conn, store: Store, run) -> dict[str, Any]:
    key = (str(store.path or store.url), run.id, run.finished_at)
    facts = _RUN_FACTS.get(key)
    if facts is None:
        summary = conn.execute(_SUMMARY, {"run": run.id}).scalar() or {}
        meta = summary.get("indicator_meta", {})
        facts = {"year": _main_year(summary), "replications": summary.get("replications", 0),
                 "scored": summary.get("scored", 0), "ranked": summary.get("ranked") or {},
                 "axis_of": {c: meta.get(c, {}).get("axis") for c in summary.get("indicators", [])
                             if not meta.get(c, {}).get("context")},
                 "rule": summary.get("low_data") or {}, "axis_weights": summary.get("axis_weights") or {}}
        if len(_RUN_FACTS) > 64:
            _RUN_FACTS.clear()
        _RUN_FACTS[key] = facts
    return facts


def coverage_of(known: dict[str, bool], facts: dict[str, Any]) -> dict[str, float | None]:
    """One city's data coverage per axis and overall from ``known`` (indicator code ->
    the store holds its record), as :func:`citydiplomacy.indices.build.data_coverage`
    computes it for every city (without pandas: a profile request reads it)."""
    axis_of, rule = facts["axis_of"], facts["rule"]
    axes = list(dict.fromkeys(axis_of.values()))
    share = {}
    for a in axes:
        codes = [c for c, x in axis_of.items() if x == a]
        share[a] = sum(bool(known.get(c)) for c in codes) / len(codes)
    if not axes:
        return {"overall": None}
    if rule.get("overall_coverage", "weighted") == "min":
        share["overall"] = min(share[a] for a in axes)
    else:
        w = {a: float(facts["axis_weights"].get(a, 1.0)) for a in axes}
        share["overall"] = sum(share[a] * w[a] for a in axes) / sum(w.values())
    return share


def brief(store: Store, actor_id: str, build: str | None = None) -> dict[str, Any] | None:
    """A city's scores, rank intervals and data coverage from the published build (or the
    build named ``build``), for its profile (three small queries); None when no index has
    been built."""
    with store.connect() as conn:
        run = build_run(conn, build)
        if run is None:
            return None
        facts = _facts(conn, store, run)
        year = facts["year"]
        rows = [r for r in conn.execute(_ROWS, {"run": run.id, "actor": actor_id}) if r.year == year]
        known = {r[0]: bool(r[1]) for r in conn.execute(_KNOWN, {"run": run.id, "actor": actor_id})
                 if r[2] == year}
    share = coverage_of(known, facts) if known else {}
    threshold = float(facts["rule"].get("min_coverage", 0.0))
    base = {"run": run.id, "built_at": run.finished_at, "year": year, "replications": facts["replications"],
            "build": run.name, "build_label": run.label, "published": bool(run.published)}
    overall = [r for r in rows if r.axis == "overall"]
    if not overall:
        return base | {"scored": False, "reason": "not a unit of the index (only cities are scored)"}
    if overall[0].score is None:
        return base | {"scored": False, "reason": overall[0].reason}
    n = facts["scored"]
    def cov(axis: str) -> dict[str, Any]:
        v = share.get(axis)
        return {"coverage": None if v is None else round(v, 3),
                "low_data": v is not None and v < threshold - 1e-9}
    return base | {"scored": True, "low_data_rule": facts["rule"], "axes": {
        r.axis: {"score": round(r.score, 2) if r.score is not None else None, "rank": _i(r.rank),
                 "rank_lo": _i(r.rank_lo), "rank_hi": _i(r.rank_hi), "rank_median": _i(r.rank_median),
                 "of": facts["ranked"].get(r.axis, n),
                 **cov(r.axis), "note": r.reason}
        for r in sorted(rows, key=lambda r: AXES_ALL.index(r.axis))}}
