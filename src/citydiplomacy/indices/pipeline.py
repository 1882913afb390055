"""The composite-index pipeline: screening to ranks, every intermediate table kept.

:func:`compute` runs the steps of :mod:`citydiplomacy.indices.steps` in the order of the
JRC/OECD Handbook — screen, impute, treat outliers, normalise, weight, aggregate each
axis, aggregate the axes into ``overall`` — and returns an :class:`IndexResult` holding
the table after each step, so that every choice can be inspected and its effect seen.
:func:`compute_panel` does the same for every year of a panel.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ValidationError
from . import steps
from .spec import Indicator, PipelineConfig

__all__ = ["IndexResult", "compute", "compute_panel"]


@dataclass
class IndexResult:
    """Everything one run of the pipeline produced.

    ``raw`` is the table of the framework's indicators as given; ``screened``,
    ``imputed``, ``treated`` and ``normalised`` are the table after each step (kept units
    and indicators only). ``scores`` and ``ranks`` have one row per kept unit and one
    column per axis plus ``overall``. ``dropped_units`` and ``dropped_indicators`` say
    why each was left out; ``checks`` holds, per axis, Cronbach's alpha, the share of
    variance of the first principal component and the indicators' correlations; ``notes``
    lists every automatic decision (fallbacks, changed scale, skipped steps).
    """

    raw: pd.DataFrame
    screened: pd.DataFrame
    imputed: pd.DataFrame
    treated: pd.DataFrame
    normalised: pd.DataFrame
    imputed_mask: pd.DataFrame
    outlier_report: pd.DataFrame
    weights: pd.Series
    axis_weights: pd.Series
    scores: pd.DataFrame
    ranks: pd.DataFrame
    dropped_units: dict[str, str]
    dropped_indicators: dict[str, str]
    checks: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    config: PipelineConfig = field(default_factory=PipelineConfig)
    indicators: list[Indicator] = field(default_factory=list)


def _check_indicators(X: pd.DataFrame, indicators: Sequence[Indicator]) -> list[Indicator]:
    inds = list(indicators)
    if not inds:
        raise ValidationError("no indicator given; the framework needs at least one indicator")
    bad = [i for i in inds if not isinstance(i, Indicator)]
    if bad:
        raise ValidationError(f"indicators must be Indicator objects, got {type(bad[0]).__name__}")
    steps._axes(X, inds)  # the same checks as the steps: codes unique, columns present
    return inds


def _axis_weights(config: PipelineConfig, all_axes: list[str], kept_axes: list[str],
                  notes: list[str]) -> pd.Series:
    if config.axis_weights is None:
        return pd.Series(1.0 / len(kept_axes), index=pd.Index(kept_axes, name="axis"), name="weight")
    given = dict(config.axis_weights)
    unknown = [a for a in given if a not in all_axes]
    if unknown:
        raise ValidationError(f"axis_weights name axes {unknown} that no indicator has; the axes are "
                              f"{', '.join(all_axes)}")
    absent = [a for a in kept_axes if a not in given]
    if absent:
        raise ValidationError(f"axis_weights give no weight to axis {', '.join(absent)}; give every axis a "
                              f"weight, or leave axis_weights out for equal weights")
    lost = [a for a in given if a not in kept_axes]
    if lost:
        notes.append(f"axis {', '.join(lost)} lost all its indicators in screening: its weight is "
                     f"shared among the other axes")
    w = pd.Series([given[a] for a in kept_axes], index=pd.Index(kept_axes, name="axis"),
                  name="weight", dtype=np.float64)
    if not w.sum() > 0:
        raise ValidationError(f"the axes left after screening ({', '.join(kept_axes)}) all have weight 0")
    return w / w.sum()


def compute(X: pd.DataFrame, indicators: Sequence[Indicator], config: PipelineConfig, *,
            groups: pd.Series | None = None) -> IndexResult:
    """Scores and ranks of every unit of ``X`` on each axis and overall.

    ``X``: units x indicator codes (other columns are ignored); ``indicators``: the
    framework; ``config``: the choices; ``groups``: unit -> group label, for
    ``group_mean`` imputation. A ValidationError says what to fix when a choice cannot work
    on these data (nothing left after screening, non-positive values under a geometric
    mean...).
    """
    if not isinstance(config, PipelineConfig):
        raise ValidationError("config must be a PipelineConfig")
    X = steps._numeric(X)
    inds = _check_indicators(X, indicators)
    notes: list[str] = []
    raw = X[[i.code for i in inds]]
    if config.imputation == "locf":
        raise ValidationError("locf imputation carries values from earlier years: call compute_panel with "
                              "the long table (unit, indicator, year, value), or choose another imputation")

    scr = steps.screen(raw, min_unit_coverage=config.min_unit_coverage,
                       min_indicator_coverage=config.min_indicator_coverage,
                       drop_constant=config.drop_constant)
    if scr.X.shape[1] == 0:
        reasons = "; ".join(f"{c}: {r}" for c, r in list(scr.dropped_indicators.items())[:5])
        raise ValidationError(f"no indicator passed screening ({reasons}); lower min_indicator_coverage "
                              f"or add data")
    if scr.X.shape[0] == 0:
        raise ValidationError(f"no unit passed screening: none observes {config.min_unit_coverage:.0%} of "
                              f"the {scr.X.shape[1]} kept indicators; lower min_unit_coverage or add data")
    kept = [i for i in inds if i.code in scr.X.columns]
    all_axes = list(dict.fromkeys(i.axis for i in inds))
    kept_axes = list(dict.fromkeys(i.axis for i in kept))
    for axis in all_axes:
        if axis not in kept_axes:
            notes.append(f"axis '{axis}' has no indicator left after screening: it gets no score")

    imp = steps.impute(scr.X, config.imputation, groups=groups)
    notes.extend(imp.notes)

    method = config.normalisation
    if not config.outliers:
        treated = steps.treat_outliers(imp.X, skew_limit=np.inf)  # the report, without treatment
    elif method in ("goalposts", "distance_to_target"):
        treated = steps.treat_outliers(imp.X, skew_limit=np.inf)
        notes.append(f"outlier treatment skipped: {method} works in the indicators' own units "
                     f"(a log transform would break the goalposts or targets), and its clipping "
                     f"already bounds extreme values")
    else:
        treated = steps.treat_outliers(imp.X, skew_limit=config.skew_limit,
                                       kurtosis_limit=config.kurtosis_limit,
                                       max_winsorised=config.max_winsorised)
        rep = treated.report
        for code, row in rep[rep["action"] != "none"].iterrows():
            how = (f"winsorised ({row['n_winsorised']} step(s), {row['n_changed']} value(s))"
                   if row["action"] == "winsorised" else "log-transformed (winsorising did not suffice)")
            notes.append(f"outliers: '{code}' {how}: skew {row['skew_before']:.2f} -> "
                         f"{row['skew_after']:.2f}, kurtosis {row['kurtosis_before']:.2f} -> "
                         f"{row['kurtosis_after']:.2f}")

    scale = config.effective_scale()
    if scale != tuple(float(v) for v in config.scale):
        notes.append(f"{config.aggregation} aggregation needs values > 0: normalised to the scale "
                     f"(1, 100) instead of {tuple(config.scale)}")
    norm = steps.normalise(
        treated.X, method, directions={i.code: i.direction for i in kept}, scale=scale,
        zscore_mean_sd=config.zscore_mean_sd,
        goalposts={i.code: i.goalposts for i in kept} if method == "goalposts" else None,
        targets={i.code: i.target for i in kept} if method == "distance_to_target" else None)

    w = steps.weights(norm, kept, config.weighting, notes=notes)
    scores = {}
    checks: dict[str, dict[str, Any]] = {}
    for axis in kept_axes:
        codes = [i.code for i in kept if i.axis == axis]
        scores[axis] = steps.aggregate(norm[codes], w[codes], config.aggregation)
        part = norm[codes]
        checks[axis] = {"alpha": steps.cronbach_alpha(part),
                        "pca_first_share": float(steps.pca(part).explained_variance_ratio[0]),
                        "correlations": steps.correlations(part)}
    aw = _axis_weights(config, all_axes, kept_axes, notes)
    table = pd.DataFrame(scores, index=norm.index)
    table["overall"] = steps.aggregate(table[kept_axes], aw, config.aggregation)
    ranks = table.apply(steps.rank)
    return IndexResult(
        raw=raw, screened=scr.X, imputed=imp.X, treated=treated.X, normalised=norm,
        imputed_mask=imp.mask, outlier_report=treated.report, weights=w, axis_weights=aw,
        scores=table, ranks=ranks, dropped_units=scr.dropped_units,
        dropped_indicators=scr.dropped_indicators, checks=checks, notes=notes, config=config,
        indicators=kept)


def compute_panel(long: pd.DataFrame, indicators: Sequence[Indicator], config: PipelineConfig, *,
                  groups: pd.Series | None = None) -> dict[int, IndexResult]:
    """:func:`compute` for every year of a panel in long form (columns unit, indicator,
    year, value); returns {year: IndexResult}.

    With ``config.imputation == "locf"`` the whole panel is first filled by
    :func:`steps.impute_locf` (a value is carried forward from earlier years, never
    backwards), then each year is screened and scored without further imputation; its
    ``imputed_mask`` marks the carried values and ``raw`` holds the year as observed.
    Other imputations are applied within each year. Every unit of the panel appears in
    every year, so a unit without data in a year is listed in that year's
    ``dropped_units``. Rows whose indicator is not in the framework are ignored.
    """
    if not isinstance(config, PipelineConfig):
        raise ValidationError("config must be a PipelineConfig")
    need = ["unit", "indicator", "year", "value"]
    if not isinstance(long, pd.DataFrame) or any(c not in long.columns for c in need):
        raise ValidationError("compute_panel needs a DataFrame with columns unit, indicator, year, value")
    codes = [i.code for i in indicators]
    long = long[long["indicator"].isin(codes)]
    if long.empty:
        raise ValidationError(f"the panel has no row for the framework's indicators {codes[:10]}")
    locf = config.imputation == "locf"
    filled = steps.impute_locf(long) if locf else long.assign(imputed=False)
    per_year_config = config.model_copy(update={"imputation": "none"}) if locf else config
    units = pd.Index(pd.unique(long["unit"]), name=None)
    years = sorted(pd.unique(filled["year"]).tolist())

    def wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        t = frame.pivot(index="unit", columns="indicator", values=column)
        t = t.reindex(index=units, columns=codes)
        t.columns.name = None
        t.index.name = None
        return t

    out: dict[int, IndexResult] = {}
    for year in years:
        rows = filled[filled["year"] == year]
        table = wide(rows, "value").astype(np.float64)
        try:
            res = compute(table, indicators, per_year_config, groups=groups)
        except ValidationError as exc:
            raise ValidationError(f"year {year}: {exc}") from None
        if locf:
            carried = wide(rows, "imputed").fillna(False).astype(bool)
            observed = rows.assign(value=rows["value"].where(~rows["imputed"].astype(bool)))
            mask = carried.loc[res.screened.index, res.screened.columns]
            n = int(mask.to_numpy().sum())
            notes = ([f"locf imputation carried {n} value(s) forward from earlier years"] if n else [])
            res = dataclasses.replace(res, raw=wide(observed, "value").astype(np.float64)
                                      [[i.code for i in indicators]],
                                      imputed_mask=mask, config=config, notes=notes + res.notes)
        out[int(year)] = res
    return out
