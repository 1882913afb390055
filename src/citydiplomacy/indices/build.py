"""Build the axis indices from the store and keep the results in it.

:func:`build_index` computes every indicator of the framework for every unit (cities with
at least ``units.min_ties`` diplomatic ties), runs the pipeline (:mod:`.pipeline`), the
Monte Carlo uncertainty analysis (:mod:`.uncertainty`), and writes, in one transaction,
each city's axis and overall scores with their rank intervals — or the reason it is not
scored — and the indicator values behind them, as a named build beside the others
(:mod:`.builds`: the first one is published, later ones when asked); its run (kind
``index``) stays in the store's import runs with the choices and counts.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from .. import countries
from ..errors import ValidationError
from ..store import Store
from ..store.schema import index_scores, index_values
from . import builds as _builds
from . import indicators as _ind
from .framework import AXES, Framework, load_framework

Progress = Callable[[str, int, int], None]

#: population bands for peer groups (upper bounds, exclusive)
BANDS = ((100_000, "under 100k"), (500_000, "100k–500k"), (1_000_000, "500k–1M"),
         (5_000_000, "1M–5M"), (float("inf"), "5M and more"))


def population_band(population: Any) -> str | None:
    if population is None or pd.isna(population):
        return None
    for bound, label in BANDS:
        if population < bound:
            return label
    return None


def region_of(country: Any) -> str | None:
    """The continent (country_converter's seven-continent grouping) of an ISO alpha-3."""
    if not isinstance(country, str):
        return None
    row = countries.coco_rows().get(country)
    return (row.get("Continent_7") or row.get("continent")) if row else None


@dataclass
class BuildReport:
    run_id: int
    framework: str
    years: list[int] | None
    units: int
    scored: int
    not_scored: dict[str, int]
    dropped_indicators: dict[str, str]
    indicators: list[str]
    weights: dict[str, float]
    axis_weights: dict[str, float]
    checks: dict[str, dict[str, float]]
    notes: list[str]
    replications: int
    seconds: float
    top: list[dict[str, Any]] = field(default_factory=list)
    #: scored cities whose coverage is under the low-data threshold, per axis and overall
    low_data: dict[str, int] = field(default_factory=dict)
    #: the framework's low-data rule (min_coverage, rank, overall, overall_coverage)
    low_data_rule: dict[str, Any] = field(default_factory=dict)
    #: the build's stable name, the name given to it, whether it is the published one,
    #: the build of the same name it replaced, the published build it displaced
    name: str = ""
    label: str | None = None
    published: bool = False
    replaced: str | None = None
    previous: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _framework(framework: Framework | str | None) -> Framework:
    return framework if isinstance(framework, Framework) else load_framework(framework)


def _universe(data: _ind.StoreData, fw: Framework,
              as_of: str | None) -> tuple[pd.Index, dict[str, str], pd.Series]:
    """The units (cities with enough ties), for every other city why it is not one, and
    the units' regions (the groups of group-mean imputation). No unit at all is an error."""
    a = data.actors
    cities = a.index[a["kind"] == fw.units.kind]
    e = _ind.edges(data, fw.units.tie_types, as_of)
    n = e[e["unit"].isin(cities)].groupby("unit").size().reindex(cities, fill_value=0)
    units = n.index[n >= fw.units.min_ties]
    need = fw.units.min_ties
    types = ", ".join(fw.units.tie_types)
    if len(units) == 0:
        raise ValidationError(f"no {fw.units.kind} has {need} or more ties of {types}: nothing to score. "
                              "Build the default data (citydip init) or import ties first", field="units")
    reason = (f"fewer than {need} diplomatic ties in the store ({types}): nothing to measure" if need > 1 else
              f"no diplomatic tie in the store ({types}): nothing to measure")
    return units, {u: reason for u in n.index[n < need]}, a["country"].reindex(units).map(region_of)


def indicator_table(store: Store, framework: Framework | str | None = None, *, as_of: str | None = None,
                    progress: Callable[[int, int], None] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """The units x indicators table of ``framework`` from the store (snapshot, or in force
    at ``as_of``) and the units' regions (the groups of group-mean imputation)."""
    fw = _framework(framework)
    data = _ind.load(store)
    units, _, groups = _universe(data, fw, as_of)
    return _ind.table(store, data, units, fw.to_indicators(), as_of, progress=progress), groups


def sensitivity(store: Store, framework: Framework | str | None = None, *, n_base: int = 256,
                seed: int | None = None) -> pd.DataFrame:
    """Variance-based (Sobol) sensitivity of the overall ranking to each choice of the
    framework's uncertainty analysis (weights, imputation, normalisation, aggregation,
    outlier treatment), on the current store: first-order and total indices."""
    from . import uncertainty

    fw = _framework(framework)
    if n_base < 8:
        raise ValidationError("n_base must be 8 or more (256 or more for stable indices)", field="n_base")
    uc = fw.uncertainty if seed is None else fw.uncertainty.model_copy(update={"seed": seed})
    X, groups = indicator_table(store, fw)
    return uncertainty.sensitivity(X, fw.to_indicators(), fw.pipeline, uc, n_base=n_base, groups=groups)


def _axis_checks(checks: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for axis, c in (checks or {}).items():
        out[axis] = {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4))
                     for k, v in c.items() if k in ("alpha", "pca_first_share")}
    return out


def data_coverage(known: pd.DataFrame, axis_of: dict[str, str], min_coverage: float,
                  exclude: bool = True, axis_weights: dict[str, float] | None = None,
                  overall: str = "min") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A city's data coverage: ``known`` (units x indicator codes, bool: the store holds
    the unit's record; context indicators left out by the caller) and each code's axis.

    Returns ``(share, entered)``: ``share`` (units x axes + ``overall``) is the share of
    an axis's indicators known, and for ``overall`` the least of the axes' shares
    (``overall="min"``) or their mean weighted as the axes are in the overall score
    (``"weighted"``, with ``axis_weights``; equal by default); ``entered`` (units x
    axes, bool) says which axes enter the unit's overall score: with ``exclude``, the
    axes whose share reaches ``min_coverage`` (all of them when none does), else all."""
    axes = list(dict.fromkeys(axis_of[c] for c in known.columns))
    k = pd.DataFrame({a: known[[c for c in known.columns if axis_of[c] == a]].sum(axis=1) for a in axes},
                     index=known.index, dtype=float)
    n = pd.Series({a: sum(axis_of[c] == a for c in known.columns) for a in axes}, dtype=float)
    share = k / n
    entered = share.ge(min_coverage - 1e-9) if exclude else pd.DataFrame(True, index=k.index, columns=axes)
    if axes:
        entered = entered.where(entered.any(axis=1), True, axis=0)
    v = pd.Series({a: float((axis_weights or {}).get(a, 1.0)) for a in axes})
    if not axes:
        share["overall"] = np.nan
    elif overall == "min":
        share["overall"] = share[axes].min(axis=1)
    else:
        share["overall"] = (share[axes] * v).sum(axis=1) / v.sum()
    return share, entered.astype(bool)


def axis_counts(axis_of: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in axis_of.values():
        out[a] = out.get(a, 0) + 1
    return out


def low_data_reason(axis: str, share: float, n: int | None, threshold: float, rule: str) -> str:
    """The sentence kept beside a low-data score (``reason`` of a scored row)."""
    if axis == "overall" or not n:
        what = f"too few indicators of an axis ({share:.0%})"
    else:
        what = f"{int(round(share * n))} of the {n} {axis} indicators ({share:.0%})"
    return (f"low data: the store holds the city's record for {what}, under the {threshold:.0%} threshold"
            + ("; rank withheld" if rule == "withhold" else ""))


def _unscored_row(run_id: int, unit: str, year: int | None, why: str) -> dict[str, Any]:
    return {"run_id": run_id, "actor_id": unit, "year": year, "axis": "overall", "score": None, "rank": None,
            "rank_median": None, "rank_lo": None, "rank_hi": None, "reason": why}


def _f(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def build_index(store: Store, framework: Framework | str | None = None, *, years: list[int] | None = None,
                replications: int | None = None, seed: int | None = None,
                progress: Progress | None = None, name: str | None = None,
                publish: bool | None = None) -> BuildReport:
    """Compute the indices of ``framework`` (a :class:`Framework`, a YAML path, or the
    shipped default) and store them as a named build (:mod:`.builds`) beside the others.

    ``years``: a panel build, scored per year (ties in force at the end of each year,
    observations of that year); the rank intervals are those of the latest year.
    ``replications``: Monte Carlo runs (default: the framework's; 0 skips the analysis).
    ``name``: a name of the build's own, besides its stable default name.
    ``publish``: True makes it the published build (what the web and the API show), False
    never, None (the default) only when no build is published yet.
    """
    from . import pipeline, steps, uncertainty

    t0 = time.perf_counter()
    fw = _framework(framework)
    uc = fw.uncertainty
    if replications is not None or seed is not None:
        uc = uc.model_copy(update={k: v for k, v in (("n", replications), ("seed", seed)) if v is not None})
    if years is not None:
        years = sorted(set(years))
        if not years or years[0] < 1900 or years[-1] > 2100:
            raise ValidationError("years must lie between 1900 and 2100, e.g. --years 2015-2025", field="years")
    if fw.pipeline.imputation == "locf" and not years:
        raise ValidationError("locf imputation carries values forward from earlier years: build a panel "
                              "with --years (e.g. 2015-2025) or choose another imputation", field="imputation")
    label = _builds.check_label(name)
    fw_label = fw.path or "shipped"
    fw_hash = _builds.framework_hash(fw)
    indicators = fw.to_indicators()
    step = (lambda name, i, n: progress(name, i, n)) if progress else (lambda *a: None)

    step("reading the store", 0, 1)
    with store.connect() as conn:
        data_version = _builds.data_version(conn)
        # a name taken by another build is an error now, not after the computation
        _builds.check_label_free(conn, label, _builds.default_name(fw_label, fw_hash, years, uc.n, uc.seed,
                                                                    data_version))
    data = _ind.load(store)
    last_as_of = f"{years[-1]}-12-31" if years else None
    units, unscored, groups = _universe(data, fw, last_as_of)

    measured: dict[int | None, _ind.MeasuredTable] = {}

    def table_at(as_of: str | None, label: str) -> pd.DataFrame:
        m = _ind.measure_table(store, data, units, indicators, as_of,
                               progress=lambda i, n: step(f"indicators {label}", i, n))
        measured[int(as_of[:4]) if as_of else None] = m
        return m.values

    results: dict[int | None, Any] = {}
    if years:
        frames = []
        for y in years:
            x = table_at(f"{y}-12-31", str(y))
            frames.append(x.rename_axis("unit").reset_index()
                          .melt(id_vars="unit", var_name="indicator", value_name="value").assign(year=y))
        long = pd.concat(frames, ignore_index=True)[["unit", "indicator", "year", "value"]]
        step("computing the scores", 0, 1)
        results.update(pipeline.compute_panel(long, indicators, fw.pipeline, groups=groups))
        main_year: int | None = years[-1]
        last = long[long["year"] == main_year]
        mc_config = fw.pipeline
        if fw.pipeline.imputation == "locf":
            # the Monte Carlo runs on the latest year as carried forward; its imputation
            # alternatives then fill what is still missing
            from .steps import impute_locf

            filled = impute_locf(long)
            last = filled[filled["year"] == main_year]
            mc_config = fw.pipeline.model_copy(update={"imputation": "none"})
        X = last.pivot(index="unit", columns="indicator", values="value").reindex(
            index=units, columns=[i.code for i in indicators])
    else:
        X = table_at(None, "")
        step("computing the scores", 0, 1)
        results[None] = pipeline.compute(X, indicators, fw.pipeline, groups=groups)
        main_year = None
        mc_config = fw.pipeline
    main = results[main_year]

    # data coverage and the low-data rule, per year: ranks withheld (or marked) where the
    # store holds the city's record for too few of an axis's indicators
    rule = fw.low_data
    coverage: dict[int | None, pd.DataFrame] = {}
    low: dict[int | None, pd.DataFrame] = {}
    entered: dict[int | None, pd.DataFrame] = {}
    for year, res in results.items():
        own = [i for i in res.indicators if not i.context]
        axis_of = {i.code: i.axis for i in own}
        obs = measured[year].observed
        if years and fw.pipeline.imputation == "locf":
            obs = obs & ~res.imputed_mask.reindex(index=obs.index, columns=obs.columns, fill_value=False)
        cov, ent = data_coverage(obs.reindex(res.scores.index)[list(axis_of)], axis_of, rule.min_coverage,
                                 exclude=rule.overall == "exclude", axis_weights=res.axis_weights.to_dict(),
                                 overall=rule.overall_coverage)
        coverage[year], entered[year] = cov, ent
        low[year] = cov.lt(rule.min_coverage - 1e-9) & cov.notna()
        axes_here = [a for a in res.axis_weights.index if a in ent.columns]
        if rule.overall == "exclude" and axes_here:
            res.scores["overall"] = steps.aggregate(res.scores[axes_here].where(ent[axes_here]),
                                                    res.axis_weights.reindex(axes_here), fw.pipeline.aggregation)
            res.ranks["overall"] = steps.rank(res.scores["overall"])
        if rule.rank == "withhold":
            for axis in res.ranks.columns:
                if axis in low[year].columns:
                    res.ranks[axis] = steps.rank(res.scores[axis].where(~low[year][axis]))
    n_ind = axis_counts({i.code: i.axis for i in main.indicators if not i.context})

    mc = None
    if uc.n > 0:
        rankable = ~low[main_year] if rule.rank == "withhold" else None
        in_overall = entered[main_year] if rule.overall == "exclude" else None
        mc = uncertainty.monte_carlo(X, indicators, mc_config, uc, groups=groups,
                                     progress=lambda i, n: step("Monte Carlo", i, n), rankable=rankable,
                                     in_overall=in_overall)

    step("writing the results", 0, 1)
    cols = list(AXES) + ["overall"]
    with store.transaction() as conn:
        run_id = store.start_run(conn, "index", fw.path or "shipped framework (data/indices/framework.yaml)")
        named = _builds.record_build(conn, run_id, framework=fw_label, fw_hash=fw_hash, years=years,
                                     options={"replications": uc.n, "seed": uc.seed}, data=data_version,
                                     label=label, publish=publish)
        score_rows: list[dict[str, Any]] = []
        value_rows: list[dict[str, Any]] = []
        for year, res in results.items():
            for axis in cols:
                if axis not in res.scores.columns:
                    continue
                s, r = res.scores[axis], res.ranks[axis]
                summ = mc.summary if (mc is not None and year == main_year) else None
                cov = coverage[year][axis] if axis in coverage[year].columns else None
                flag = low[year][axis] if axis in low[year].columns else None
                for unit in res.scores.index:
                    why = None
                    if flag is not None and flag[unit] and pd.notna(s[unit]):
                        why = low_data_reason(axis, float(cov[unit]), n_ind.get(axis, 0), rule.min_coverage,
                                              rule.rank)
                    row = {"run_id": run_id, "actor_id": unit, "year": year, "axis": axis,
                           "score": _f(s[unit]), "rank": _f(r[unit]), "reason": why,
                           "rank_median": None, "rank_lo": None, "rank_hi": None}
                    if summ is not None and unit in summ.index and r[unit] == r[unit]:
                        row.update(rank_median=_f(summ.at[unit, f"{axis}_median_rank"]),
                                   rank_lo=_f(summ.at[unit, f"{axis}_rank_lo"]),
                                   rank_hi=_f(summ.at[unit, f"{axis}_rank_hi"]))
                    score_rows.append(row)
            for unit, why in res.dropped_units.items():
                score_rows.append(_unscored_row(run_id, unit, year, why))
            # raw: what the store observed (NULL: not known); imputed: filled in by the
            # pipeline's imputation or estimated from a source's coverage
            obs = measured[year].observed.reindex(index=res.normalised.index, columns=res.raw.columns,
                                                  fill_value=False)
            raw = res.raw.reindex(index=res.normalised.index).where(obs)
            mask = res.imputed_mask.reindex(index=res.normalised.index, columns=res.normalised.columns,
                                            fill_value=False)
            mask = mask | ~obs.reindex(columns=res.normalised.columns, fill_value=False)
            for code in res.normalised.columns:
                rv, nv, iv = raw[code].to_numpy(), res.normalised[code].to_numpy(), mask[code].to_numpy()
                for k, unit in enumerate(res.normalised.index):
                    value_rows.append({"run_id": run_id, "actor_id": unit, "year": year, "indicator": code,
                                       "raw": _f(rv[k]), "value": _f(nv[k]), "imputed": bool(iv[k])})
        for unit, why in unscored.items():
            score_rows.append(_unscored_row(run_id, unit, main_year, why))
        store.insert_many(conn, index_scores, score_rows)
        store.insert_many(conn, index_values, value_rows)
        not_scored = Counter(unscored.values())
        not_scored.update(main.dropped_units.values())
        overall = main.scores["overall"].dropna()
        ranked = main.ranks["overall"].dropna()
        top = [{"id": u, "name": data.actors.at[u, "name"], "score": round(float(overall[u]), 2),
                "rank": int(ranked[u]),     # ranks are whole (method "min")
                "coverage": round(float(coverage[main_year].at[u, "overall"]), 3)}
               for u in ranked.sort_values().index[:10]]
        low_counts = {axis: int(low[main_year][axis].sum()) for axis in low[main_year].columns}
        report = BuildReport(
            run_id=run_id, framework=fw.path or "shipped", years=years, units=len(units),
            scored=int(overall.size), not_scored=dict(not_scored),
            dropped_indicators=dict(main.dropped_indicators),
            indicators=[i.code for i in main.indicators],
            weights={k: round(float(v), 4) for k, v in main.weights.items()},
            axis_weights={k: round(float(v), 4) for k, v in main.axis_weights.items()},
            checks=_axis_checks(main.checks), notes=list(main.notes),
            replications=uc.n if mc is not None else 0, seconds=0.0, top=top, low_data=low_counts,
            low_data_rule=fw.low_data.model_dump(mode="json"), **named)
        report.seconds = round(time.perf_counter() - t0, 1)
        summary = report.as_dict() | {"framework_hash": fw_hash, "data_version": data_version,
                                      "pipeline": fw.pipeline.model_dump(mode="json"),
                                      "uncertainty": uc.model_dump(mode="json"),
                                      # the median scored city's normalised value per indicator and
                                      # year ("" = the snapshot): what a city is compared with
                                      "medians": {("" if y is None else str(y)): {
                                          c: _f(v) for c, v in r.normalised.median().items()}
                                          for y, r in results.items()},
                                      "indicator_meta": {i.code: {"name": i.name, "axis": i.axis,
                                                                  "direction": i.direction, "unit": i.unit,
                                                                  "source": i.source, "context": i.context}
                                                         for i in indicators},
                                      # the rule, the kept indicators counted per axis, and how
                                      # many scored cities it marks per axis
                                      "low_data": fw.low_data.model_dump(mode="json") | {
                                          "indicators": n_ind, "cities": low_counts},
                                      # cities ranked on each axis (the others withheld or unscored)
                                      "ranked": {a: int(main.ranks[a].notna().sum()) for a in main.ranks.columns}}
        store.finish_run(conn, run_id, summary)
    return report
