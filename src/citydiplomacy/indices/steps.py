"""The steps of a composite indicator, each a pure function on a table.

A table ``X`` is a :class:`pandas.DataFrame` whose index holds the unit ids (cities) and
whose columns hold indicator codes, float64, NaN where a value is missing. No function
changes its input; each returns new objects. Every computation is vectorised over units
(loops run over indicators or axes only), so the Monte Carlo of
:mod:`citydiplomacy.indices.uncertainty` can call them on 25,000 units.

The steps follow the JRC/OECD *Handbook on Constructing Composite Indicators* (OECD,
2008) and their implementation in the R package COINr (Becker et al., 2022, JOSS 7(78),
4567); docs/indices-method.md explains each option and when to choose it.

- :func:`screen` — drop indicators, then units, under a data-coverage threshold
- :func:`impute`, :func:`impute_locf` — fill gaps (never touching an observed value)
- :func:`treat_outliers` — winsorise or log-transform skewed, heavy-tailed indicators
- :func:`normalise` — min-max, z-score, rank, goalposts, distance to target
- :func:`weights` — equal, expert, PCA-based, balanced contributions
- :func:`aggregate`, :func:`rank` — weighted means and competition ranks
- :func:`correlations`, :func:`cronbach_alpha`, :func:`pca` — multivariate checks
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import ValidationError
from .spec import AGGREGATIONS, IMPUTATIONS, NORMALISATIONS, WEIGHTINGS, Indicator

__all__ = [
    "PCA",
    "Imputed",
    "Screening",
    "Treated",
    "aggregate",
    "correlations",
    "cronbach_alpha",
    "impute",
    "impute_locf",
    "normalise",
    "pca",
    "rank",
    "screen",
    "treat_outliers",
    "weights",
]

#: Tolerance for comparing a coverage share with its threshold (3/10 vs 0.3).
_EPS = 1e-12


# --- helpers ---------------------------------------------------------------------------


def _numeric(X: pd.DataFrame, what: str = "X") -> pd.DataFrame:
    """``X`` as a new float64 frame (a ValidationError if it is not a table of numbers)."""
    if not isinstance(X, pd.DataFrame):
        raise ValidationError(f"{what} must be a pandas DataFrame (units x indicators), "
                              f"not {type(X).__name__}")
    if X.columns.has_duplicates:
        dup = X.columns[X.columns.duplicated()].unique().tolist()
        raise ValidationError(f"{what} has duplicate indicator columns {dup}; give each indicator one column")
    bad = [c for c in X.columns
           if not (pd.api.types.is_numeric_dtype(X[c]) or X[c].isna().all())
           or pd.api.types.is_bool_dtype(X[c])]
    if bad:
        raise ValidationError(f"indicator column(s) {bad} of {what} are not numeric; convert them to numbers "
                              f"(NaN for missing)")
    return X.astype(np.float64)


def _choice(method: str, choices: Sequence[str], step: str) -> str:
    if method not in choices:
        raise ValidationError(f"unknown {step} method {method!r}; choose one of {', '.join(choices)}")
    return method


def _pct(share: float) -> str:
    """0.5 -> '50%', 0.125 -> '12.5%'."""
    v = round(share * 100, 1)
    return f"{v:g}%"


def _skew_kurt(v: np.ndarray) -> tuple[float, float]:
    """Unbiased skewness and excess kurtosis of the values ``v`` (no NaN); NaN where
    undefined (fewer than 3 or 4 values, or no variation)."""
    n = v.size
    if n < 3 or v.max() == v.min():
        return math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        s = float(stats.skew(v, bias=False))
        k = float(stats.kurtosis(v, fisher=True, bias=False)) if n >= 4 else math.nan
    return s, k


def _nan_reduce(fn, V: np.ndarray, **kw) -> np.ndarray:
    """A nan-aware numpy reduction without the all-NaN column warning."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(V, axis=0, **kw)


# --- screening ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Screening:
    """The screened table and, for each dropped unit or indicator, why it was dropped."""

    X: pd.DataFrame
    dropped_units: dict[str, str]
    dropped_indicators: dict[str, str]


def screen(X: pd.DataFrame, *, min_unit_coverage: float, min_indicator_coverage: float,
           drop_constant: bool = True) -> Screening:
    """Drop indicators, then units, that observe too little of the table.

    An indicator is dropped when the share of units observing it is under
    ``min_indicator_coverage``, or (``drop_constant``) when its observed values do not
    vary. Then a unit is dropped when the share of the *kept* indicators it observes is
    under ``min_unit_coverage``. Shares are in [0, 1]; a share equal to the threshold
    passes. Each reason is a sentence, e.g. "observes 2 of 12 indicators (17%), under the
    50% threshold".
    """
    X = _numeric(X)
    for name, v in (("min_unit_coverage", min_unit_coverage),
                    ("min_indicator_coverage", min_indicator_coverage)):
        if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
            raise ValidationError(f"{name} is {v!r}; give a share between 0 and 1 (0.5 = half)")
    obs = X.notna().to_numpy()
    n_units, n_ind = obs.shape

    n_seen = obs.sum(axis=0)
    ind_share = n_seen / n_units if n_units else np.zeros(n_ind)
    distinct = X.nunique(dropna=True).to_numpy()
    dropped_ind: dict[str, str] = {}
    for j, code in enumerate(X.columns):
        if ind_share[j] < min_indicator_coverage - _EPS:
            dropped_ind[code] = (f"observed for {n_seen[j]} of {n_units} units ({_pct(ind_share[j])}), "
                                 f"under the {_pct(min_indicator_coverage)} threshold")
        elif drop_constant and distinct[j] <= 1:
            if n_seen[j] == 0:
                dropped_ind[code] = "has no observed value"
            else:
                value = X[code].dropna().iloc[0]
                dropped_ind[code] = (f"does not vary: all {n_seen[j]} observed values are {value:g}, "
                                     f"so it cannot tell units apart")
    keep_ind = np.array([c not in dropped_ind for c in X.columns], dtype=bool)

    k = int(keep_ind.sum())
    n_obs_unit = obs[:, keep_ind].sum(axis=1)
    unit_share = n_obs_unit / k if k else np.zeros(n_units)
    drop_unit = unit_share < min_unit_coverage - _EPS if k else np.ones(n_units, dtype=bool)
    dropped_units: dict[str, str] = {}
    thr = _pct(min_unit_coverage)
    for i in np.flatnonzero(drop_unit):  # only the dropped units, to write their reasons
        if k:
            dropped_units[X.index[i]] = (f"observes {n_obs_unit[i]} of {k} indicators "
                                         f"({_pct(unit_share[i])}), under the {thr} threshold")
        else:
            dropped_units[X.index[i]] = "no indicator passed screening"
    out = X.loc[~drop_unit, keep_ind]
    return Screening(X=out, dropped_units=dropped_units, dropped_indicators=dropped_ind)


# --- imputation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Imputed:
    """The imputed table, a boolean frame marking the cells that were filled, and notes."""

    X: pd.DataFrame
    mask: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def impute(X: pd.DataFrame, method: str, *, groups: pd.Series | None = None) -> Imputed:
    """Fill the missing cells of ``X``; an observed value is never changed (bit for bit).

    - ``none``: nothing is filled.
    - ``mean`` / ``median``: the mean / median of the column's observed values.
    - ``group_mean``: the mean of the column's observed values among the units of the
      same group (``groups`` maps unit id -> group label); where the group observes none
      (or the unit has no group), the column mean, and a note says so.
    - ``regression``: for each column j with gaps, an ordinary least-squares fit with
      intercept of x_j on all the other columns (those mean-imputed), on the units that
      observe j; the gaps get the fitted values. With fewer observing units than
      coefficients the column mean is used instead (noted).

    ``locf`` needs years: use :func:`impute_locf` on the long panel table. A column with
    no observed value stays missing (noted). ``mask`` is True where a cell was filled.
    """
    _choice(method, IMPUTATIONS, "imputation")
    X = _numeric(X)
    if method == "locf":
        raise ValidationError("locf (last observation carried forward) fills a year from earlier years: "
                              "use impute_locf on the long table (unit, indicator, year, value), or "
                              "pipeline.compute_panel; for a single-year table choose another imputation")
    V = X.to_numpy(dtype=np.float64, copy=True)
    gaps = np.isnan(V)
    notes: list[str] = []
    empty = ~(~gaps).any(axis=0)
    for j in np.flatnonzero(empty & gaps.any(axis=0)):
        if method != "none":
            notes.append(f"'{X.columns[j]}' has no observed value: its gaps stay missing")

    if method in ("mean", "median"):
        fill = _nan_reduce(np.nanmean if method == "mean" else np.nanmedian, V)
        V = np.where(gaps, fill[None, :], V)
    elif method == "group_mean":
        V = _group_mean(X, V, gaps, groups, notes)
    elif method == "regression":
        V = _regression(X, V, gaps, notes)

    out = pd.DataFrame(V, index=X.index, columns=X.columns)
    mask = pd.DataFrame(gaps & ~np.isnan(V), index=X.index, columns=X.columns)
    n = int(mask.to_numpy().sum())
    if method != "none" and n:
        n_cols = int(mask.to_numpy().any(axis=0).sum())
        notes.insert(0, f"{method} imputation filled {n} missing value(s) in {n_cols} indicator(s)")
    return Imputed(X=out, mask=mask, notes=notes)


def _group_mean(X: pd.DataFrame, V: np.ndarray, gaps: np.ndarray, groups: pd.Series | None,
                notes: list[str]) -> np.ndarray:
    if groups is None:
        raise ValidationError("group_mean imputation needs groups: pass groups=, a Series mapping each "
                              "unit id to its group (region, population band...)")
    if not isinstance(groups, pd.Series):
        groups = pd.Series(groups)
    labels = groups.reindex(X.index)
    no_group = labels.isna().to_numpy()
    codes, uniques = pd.factorize(labels, use_na_sentinel=True)
    n_groups = len(uniques)
    col_mean = _nan_reduce(np.nanmean, V)
    if n_groups:
        # group sums and counts by bincount, one column at a time (columns are few)
        has = codes >= 0
        gm = np.full((n_groups, V.shape[1]), np.nan)
        for j in range(V.shape[1]):
            ok = has & ~gaps[:, j]
            cnt = np.bincount(codes[ok], minlength=n_groups)
            tot = np.bincount(codes[ok], weights=V[ok, j], minlength=n_groups)
            with np.errstate(all="ignore"):
                gm[:, j] = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
        fill = np.where(has[:, None], gm[np.maximum(codes, 0)], np.nan)
    else:
        fill = np.full(V.shape, np.nan)
    fallback = gaps & np.isnan(fill) & ~np.isnan(col_mean)[None, :]
    fill = np.where(np.isnan(fill), col_mean[None, :], fill)
    for j in np.flatnonzero(fallback.any(axis=0)):
        rows = fallback[:, j]
        lost = sorted({str(uniques[c]) for c in codes[rows & ~no_group]})
        n_none = int((rows & no_group).sum())
        parts = []
        if lost:
            shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
            parts.append(f"group(s) {shown} observe no value")
        if n_none:
            parts.append(f"{n_none} unit(s) have no group")
        notes.append(f"'{X.columns[j]}': {'; '.join(parts)}, so {int(rows.sum())} gap(s) got the "
                     f"column mean instead of a group mean")
    return np.where(gaps, fill, V)


def _regression(X: pd.DataFrame, V: np.ndarray, gaps: np.ndarray, notes: list[str]) -> np.ndarray:
    out = V.copy()
    seen = ~gaps
    usable = seen.any(axis=0)
    col_mean = _nan_reduce(np.nanmean, V)
    Z = np.where(gaps, col_mean[None, :], V)
    idx = np.arange(V.shape[1])
    for j in np.flatnonzero(gaps.any(axis=0) & usable):
        rows = seen[:, j]
        others = usable & (idx != j)
        n_coef = 1 + int(others.sum())
        if rows.sum() < n_coef:
            out[~rows, j] = col_mean[j]
            notes.append(f"'{X.columns[j]}': only {int(rows.sum())} unit(s) observe it, fewer than the "
                         f"{n_coef} regression coefficients, so its gaps got the column mean")
            continue
        out[~rows, j] = _ols_predict(Z[rows][:, others], V[rows, j], Z[~rows][:, others])
    return out


def _ols_predict(A: np.ndarray, y: np.ndarray, new: np.ndarray) -> np.ndarray:
    """OLS with intercept of y on A, predicted at ``new``.

    Solved on centred, scaled predictors through the small k x k normal equations (a
    pseudo-inverse, so collinear or constant predictors are harmless): an SVD of the tall
    n x k matrix is 20-50 times slower on 25,000 units, and the centring and scaling keep
    the normal equations well conditioned.
    """
    mu = A.mean(axis=0)
    sd = A.std(axis=0)
    keep = sd > 0
    Ac = (A[:, keep] - mu[keep]) / sd[keep]
    ybar = y.mean()
    if not keep.any():
        return np.full(new.shape[0], ybar)
    beta = np.linalg.lstsq(Ac.T @ Ac, Ac.T @ (y - ybar), rcond=None)[0]
    return ybar + ((new[:, keep] - mu[keep]) / sd[keep]) @ beta


def impute_locf(long: pd.DataFrame) -> pd.DataFrame:
    """Last observation carried forward on a panel in long form.

    ``long`` has columns ``unit``, ``indicator``, ``year``, ``value`` (one row per
    unit, indicator and year). For every year of the panel, a missing (unit, indicator,
    year) value — a NaN row or an absent row — gets the latest observed value of an
    *earlier* year of the same unit and indicator; nothing is carried backwards, so a
    gap before the first observation stays missing. Returns the rows of ``long`` plus one
    row for each absent cell that was filled, sorted by unit, indicator and year, with a
    bool column ``imputed``. Observed values are never changed.
    """
    need = ["unit", "indicator", "year", "value"]
    if not isinstance(long, pd.DataFrame):
        raise ValidationError("impute_locf needs a DataFrame with columns unit, indicator, year, value")
    missing = [c for c in need if c not in long.columns]
    if missing:
        raise ValidationError(f"the panel table lacks column(s) {missing}; it needs unit, indicator, year, value")
    keys = ["unit", "indicator", "year"]
    dup = long.duplicated(keys)
    if dup.any():
        first = long.loc[dup, keys].iloc[0].tolist()
        raise ValidationError(f"the panel has {int(dup.sum())} duplicate (unit, indicator, year) row(s), "
                              f"e.g. {tuple(first)}; keep one value per unit, indicator and year")
    try:
        values = long["value"].astype(np.float64)
    except (TypeError, ValueError):
        raise ValidationError("the panel's value column is not numeric; use numbers (NaN for missing)") from None
    frame = long.assign(value=values)
    wide = frame.pivot(index=["unit", "indicator"], columns="year", values="value")
    wide = wide.reindex(columns=sorted(wide.columns))
    filled = wide.ffill(axis=1)
    newly = wide.isna() & filled.notna()
    got = filled.stack(future_stack=True).rename("value").to_frame()
    got["imputed"] = newly.stack(future_stack=True)
    got = got[got["imputed"]]
    # keep the original rows (and any extra columns) and fill their NaN; add absent cells
    base = frame.set_index(keys)
    base["imputed"] = False
    in_base = got.index.isin(base.index)
    upd = got[in_base]
    base.loc[upd.index, "value"] = upd["value"]
    base.loc[upd.index, "imputed"] = True
    out = pd.concat([base, got[~in_base]]).reset_index()
    out["imputed"] = out["imputed"].astype(bool)
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# --- outliers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Treated:
    """The treated table and a report with one row per indicator."""

    X: pd.DataFrame
    report: pd.DataFrame


def _needs(s: float, k: float, skew_limit: float, kurtosis_limit: float) -> bool:
    return bool(abs(s) > skew_limit and k > kurtosis_limit)  # False when either is NaN


def treat_outliers(X: pd.DataFrame, *, skew_limit: float = 2.0, kurtosis_limit: float = 3.5,
                   max_winsorised: int = 5) -> Treated:
    """Winsorise, or failing that log-transform, the indicators with outliers.

    An indicator needs treatment when |skewness| > ``skew_limit`` and excess kurtosis >
    ``kurtosis_limit`` (the Handbook's and COINr's rule, 2.0 and 3.5). It is winsorised
    one step at a time on the side of its (current) skew: with positive skew the largest
    value(s) are set to the next lower distinct value (ties move together), with negative
    skew the smallest to the next higher one; the test is repeated after each step, and at
    most ``max_winsorised`` values (points, as COINr's ``winmax``) may be moved in all. A
    step that would move more (tied extremes count one each) is not taken: winsorising
    is meant for a few outlying points, and moving a whole tied block — the 1s of a count
    where most units have 0 — would erase the indicator. If the test still fails, the winsorisation
    is undone and the indicator log-transformed instead: ``log(x - min + 1)`` for positive
    skew, ``-log(max - x + 1)`` for negative skew (order is kept). NaN stays NaN.

    The report's columns: skew_before, kurtosis_before, action ("none", "winsorised",
    "log"), n_winsorised (steps taken), n_changed (values changed), skew_after,
    kurtosis_after. Skewness and kurtosis are the unbiased sample statistics.
    """
    X = _numeric(X)
    if max_winsorised < 0:
        raise ValidationError(f"max_winsorised is {max_winsorised}; give 0 (always log-transform) or more")
    V = X.to_numpy(dtype=np.float64, copy=True)
    rows = []
    for j in range(V.shape[1]):
        col = V[:, j]
        seen = ~np.isnan(col)
        v = col[seen]
        s0, k0 = _skew_kurt(v)
        action, steps, changed, s, k = "none", 0, 0, s0, k0
        if _needs(s0, k0, skew_limit, kurtosis_limit):
            w = v.copy()
            moved = 0
            while _needs(s, k, skew_limit, kurtosis_limit):
                extreme = w.max() if s > 0 else w.min()
                rest = w[w < extreme] if s > 0 else w[w > extreme]
                at = w == extreme
                # a budget of points, not of steps: tied extremes all count, so that a
                # zero-inflated count (most cities 0) is never winsorised into a constant
                if not rest.size or moved + int(at.sum()) > max_winsorised:
                    break
                w[at] = rest.max() if s > 0 else rest.min()
                moved += int(at.sum())
                steps += 1
                s, k = _skew_kurt(w)
            if not _needs(s, k, skew_limit, kurtosis_limit):
                action, changed = "winsorised", int((w != v).sum())
                col[seen] = w
            else:
                action, steps = "log", 0
                w = np.log1p(v - v.min()) if s0 > 0 else -np.log1p(v.max() - v)
                changed = int((w != v).sum())
                col[seen] = w
                s, k = _skew_kurt(w)
        rows.append({"skew_before": s0, "kurtosis_before": k0, "action": action,
                     "n_winsorised": steps, "n_changed": changed,
                     "skew_after": s, "kurtosis_after": k})
    report = pd.DataFrame(rows, index=pd.Index(X.columns, name="indicator"),
                          columns=["skew_before", "kurtosis_before", "action", "n_winsorised",
                                   "n_changed", "skew_after", "kurtosis_after"])
    report = report.astype({"n_winsorised": np.int64, "n_changed": np.int64})
    return Treated(X=pd.DataFrame(V, index=X.index, columns=X.columns), report=report)


# --- normalisation -----------------------------------------------------------------------


def _per_column(X: pd.DataFrame, mapping: Mapping | None, what: str, method: str) -> list:
    missing = [c for c in X.columns if mapping is None or c not in mapping or mapping[c] is None]
    if missing:
        raise ValidationError(f"{method} normalisation needs {what} for every indicator; missing for "
                              f"{', '.join(map(str, missing))} (set them in the framework file)")
    return [mapping[c] for c in X.columns]


def normalise(X: pd.DataFrame, method: str, *, directions: Mapping[str, int],
              scale: tuple[float, float] = (0.0, 100.0),
              zscore_mean_sd: tuple[float, float] = (0.0, 1.0),
              goalposts: Mapping[str, tuple] | None = None,
              targets: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Bring every indicator to a common scale where higher is better.

    An indicator of direction -1 is negated first. With (lo, hi) = ``scale``:

    - ``minmax``: lo + (hi - lo) (x - min) / (max - min)
    - ``zscore``: m + s (x - mean) / sd, (m, s) = ``zscore_mean_sd``, sd with ddof=1
    - ``rank``: lo + (hi - lo) (r - 1) / (n - 1), r the rank (1 = lowest, ties averaged)
      among the n observed values; with n = 1 the value gets hi
    - ``goalposts``: lo + (hi - lo) clip((x - g_lo) / (g_hi - g_lo), 0, 1) with
      ``goalposts[code]`` = (g_lo, g_hi); for direction -1, (g_hi - x) / (g_hi - g_lo)
    - ``distance_to_target``: lo + (hi - lo) clip((x - min) / (t - min), 0, 1) with
      ``targets[code]`` = t; for direction -1, (max - x) / (max - t). When every observed
      value already meets the target (t <= min, or t >= max for direction -1) all get hi.

    A column without variation maps to the middle of the scale (except with goalposts,
    which do not depend on the data). NaN stays NaN.
    """
    _choice(method, NORMALISATIONS, "normalisation")
    X = _numeric(X)
    d = np.array(_per_column(X, directions, "a direction (1 or -1)", method), dtype=float)
    bad = [c for c, v in zip(X.columns, d) if v not in (1.0, -1.0)]
    if bad:
        raise ValidationError(f"direction must be 1 or -1; check {', '.join(map(str, bad))}")
    lo, hi = (float(v) for v in scale)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValidationError(f"scale ({lo:g}, {hi:g}) needs low < high, e.g. (0, 100)")
    V = X.to_numpy(dtype=np.float64, copy=True)
    seen = ~np.isnan(V)
    mn = _nan_reduce(np.nanmin, V)
    mx = _nan_reduce(np.nanmax, V)
    constant = mn == mx  # False for an all-NaN column (NaN == NaN)

    with np.errstate(all="ignore"):
        if method == "minmax":
            u = np.where(d > 0, V - mn, mx - V) / (mx - mn)
        elif method == "zscore":
            m, s = (float(v) for v in zscore_mean_sd)
            if not (math.isfinite(m) and math.isfinite(s) and s > 0):
                raise ValidationError(f"zscore_mean_sd ({m:g}, {s:g}) needs a standard deviation > 0")
            mean = _nan_reduce(np.nanmean, V)
            sd = _nan_reduce(np.nanstd, V, ddof=1)
            z = d * (V - mean) / sd
            out = np.where(constant[None, :] & seen, m, m + s * z)
            return pd.DataFrame(out, index=X.index, columns=X.columns)
        elif method == "rank":
            r = pd.DataFrame(V * d, index=X.index, columns=X.columns).rank(
                method="average", na_option="keep").to_numpy()
            n = seen.sum(axis=0).astype(float)
            u = np.where(n > 1, (r - 1) / (n - 1), 1.0)
            constant = constant & (n > 1)  # a single value goes to the top of the scale
        elif method == "goalposts":
            gp = _per_column(X, goalposts, "goalposts (low, high)", method)
            g = np.array([_goalpost(c, p) for c, p in zip(X.columns, gp)], dtype=float).reshape(-1, 2)
            glo, ghi = g[:, 0], g[:, 1]
            u = np.clip(np.where(d > 0, V - glo, ghi - V) / (ghi - glo), 0.0, 1.0)
            constant = np.zeros_like(constant)
        else:  # distance_to_target
            t = np.array(_per_column(X, targets, "a target", method), dtype=float)
            if not np.isfinite(t).all():
                raise ValidationError("targets must be finite numbers")
            num = np.where(d > 0, V - mn, mx - V)
            den = np.where(d > 0, t - mn, mx - t)
            u = np.where(den > 0, np.clip(num / den, 0.0, 1.0), 1.0)
    u = np.where(constant[None, :], 0.5, u)
    out = np.where(seen, lo + (hi - lo) * u, np.nan)
    return pd.DataFrame(out, index=X.index, columns=X.columns)


def _goalpost(code: str, p) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in p)
    except (TypeError, ValueError):
        raise ValidationError(f"goalposts of '{code}' must be two numbers (low, high), not {p!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValidationError(f"goalposts of '{code}' ({a:g}, {b:g}) need low < high; for lower-is-better "
                              f"keep (low, high) and set direction -1")
    return a, b


# --- weighting ---------------------------------------------------------------------------


def _axes(X: pd.DataFrame, indicators: Sequence[Indicator]) -> dict[str, list[str]]:
    """Indicator codes by axis, in order of first appearance; checks they are in X."""
    codes = [i.code for i in indicators]
    seen: set[str] = set()
    dup = sorted({c for c in codes if c in seen or seen.add(c)})
    if dup:
        raise ValidationError(f"indicator code(s) {dup} appear more than once; give each indicator its own code")
    missing = [c for c in codes if c not in X.columns]
    if missing:
        raise ValidationError(f"indicator(s) {missing} are not columns of the data table (its columns: "
                              f"{list(X.columns)[:20]}); compute them first or remove them from the framework")
    by_axis: dict[str, list[str]] = {}
    for ind in indicators:
        by_axis.setdefault(ind.axis, []).append(ind.code)
    return by_axis


def _complete(X: pd.DataFrame) -> np.ndarray:
    return X.dropna(how="any").to_numpy(dtype=np.float64)


def weights(X_norm: pd.DataFrame, indicators: Sequence[Indicator], method: str, *,
            notes: list[str] | None = None) -> pd.Series:
    """Indicator weights, summing to 1 within each axis (index: indicator code).

    - ``equal``: 1/k for the k indicators of the axis.
    - ``expert``: each :attr:`Indicator.weight`, divided by the axis total.
    - ``pca``: the squared loadings of the first principal component of the correlation
      matrix of the axis's indicators (complete rows), renormalised — the share of that
      component's variance each indicator carries. One indicator -> 1.0; fewer than 3
      complete rows or an indicator without variation -> equal weights (noted).
    - ``balanced``: weights (each >= 0.01) that make the indicators' Pearson correlations
      with the axis aggregate (weighted arithmetic mean, complete rows) as equal as
      possible: the variance of those correlations is minimised by SLSQP from equal
      weights (deterministic). Same fallback as ``pca``.

    Messages about fallbacks are appended to ``notes`` when it is given (and kept in
    ``result.attrs["notes"]``).
    """
    _choice(method, WEIGHTINGS, "weighting")
    X_norm = _numeric(X_norm, "X_norm")
    by_axis = _axes(X_norm, indicators)
    given = {i.code: float(i.weight) for i in indicators}
    said: list[str] = []
    out: dict[str, float] = {}
    for axis, codes in by_axis.items():
        k = len(codes)
        w = np.full(k, 1.0 / k)
        if method == "expert":
            raw = np.array([given[c] for c in codes])
            if not (np.isfinite(raw).all() and (raw >= 0).all() and raw.sum() > 0):
                raise ValidationError(f"expert weights of axis '{axis}' ({dict(zip(codes, raw))}) must be >= 0 "
                                      f"and not all zero; set each indicator's weight")
            w = raw / raw.sum()
        elif method in ("pca", "balanced") and k > 1:
            Z = _complete(X_norm[codes])
            sd = Z.std(axis=0, ddof=1) if len(Z) > 1 else np.zeros(k)
            if len(Z) < 3:
                said.append(f"{method} weights of axis '{axis}': only {len(Z)} unit(s) observe all its "
                            f"indicators (3 needed), so its weights are equal")
            elif not (sd > 0).all():
                flat = [c for c, v in zip(codes, sd) if not v > 0]
                said.append(f"{method} weights of axis '{axis}': {', '.join(flat)} do(es) not vary over "
                            f"the units that observe all indicators, so its weights are equal")
            elif method == "pca":
                vec = np.linalg.eigh(np.corrcoef(Z, rowvar=False))[1][:, -1]
                w = vec ** 2 / (vec ** 2).sum()
            else:
                w = _balanced(np.cov(Z, rowvar=False))
        out.update(zip(codes, w))
    result = pd.Series(out, name="weight", dtype=np.float64)
    result = result.reindex([i.code for i in indicators])
    result.index.name = "indicator"
    if notes is not None:
        notes.extend(said)
    result.attrs["notes"] = said
    return result


def _corr_with_aggregate(w: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Pearson correlation of each indicator with sum_j w_j x_j, from the covariance C."""
    cw = C @ w
    return cw / np.sqrt(np.diag(C) * (w @ cw))


def _balanced(C: np.ndarray) -> np.ndarray:
    k = C.shape[0]
    floor = min(0.01, 1.0 / k)
    start = np.full(k, 1.0 / k)

    def spread(w: np.ndarray) -> float:
        return float(np.var(_corr_with_aggregate(w, C)))

    if spread(start) < 1e-14:
        return start
    res = optimize.minimize(spread, start, method="SLSQP", bounds=[(floor, 1.0)] * k,
                            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
                            options={"ftol": 1e-14, "maxiter": 500})
    w = np.clip(res.x, floor, 1.0)
    w = w / w.sum()
    return w if spread(w) <= spread(start) else start


# --- aggregation and ranking -------------------------------------------------------------


def aggregate(X_norm: pd.DataFrame, weights: pd.Series, method: str) -> pd.Series:
    """The weighted mean of each unit's indicators (the columns named in ``weights``).

    - ``arithmetic``: sum(w x) / sum(w)
    - ``geometric``: exp(sum(w ln x) / sum(w)); needs every value > 0
    - ``harmonic``: sum(w) / sum(w / x); needs every value > 0

    A missing cell is skipped together with its weight (the others are re-normalised);
    a unit with no value gets NaN. A value <= 0 under geometric or harmonic aggregation
    is a :class:`~citydiplomacy.errors.ValidationError` naming the unit and indicator.
    """
    _choice(method, AGGREGATIONS, "aggregation")
    X_norm = _numeric(X_norm, "X_norm")
    if not isinstance(weights, pd.Series):
        raise ValidationError("weights must be a pandas Series indexed by indicator code")
    codes = list(weights.index)
    missing = [c for c in codes if c not in X_norm.columns]
    if missing:
        raise ValidationError(f"weighted indicator(s) {missing} are not columns of the table")
    w = weights.to_numpy(dtype=np.float64)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ValidationError(f"weights must be >= 0 with a sum > 0; got {weights.to_dict()}")
    V = X_norm[codes].to_numpy(dtype=np.float64)
    seen = ~np.isnan(V)
    W = np.where(seen, w[None, :], 0.0)
    if method != "arithmetic":
        bad = seen & (W > 0) & (V <= 0)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            more = int(bad.sum()) - 1
            raise ValidationError(
                f"{method} aggregation needs values > 0, but unit '{X_norm.index[i]}' has "
                f"{V[i, j]:g} for '{codes[j]}'" + (f" (and {more} more cell(s))" if more else "")
                + "; normalise to a positive scale such as (1, 100), or use arithmetic aggregation")
    sw = W.sum(axis=1)
    V0 = np.where(seen, V, 1.0)
    with np.errstate(all="ignore"):
        if method == "arithmetic":
            s = (W * np.where(seen, V, 0.0)).sum(axis=1) / sw
        elif method == "geometric":
            s = np.exp((W * np.log(V0)).sum(axis=1) / sw)
        else:
            s = sw / (W / V0).sum(axis=1)
    s = np.where(sw > 0, s, np.nan)
    return pd.Series(s, index=X_norm.index, name="score", dtype=np.float64)


def rank(scores: pd.Series) -> pd.Series:
    """Competition ranks ("1224"): 1 = highest score, ties share the best rank among
    them, NaN score -> NaN rank. Floats, same index."""
    if not isinstance(scores, pd.Series):
        raise ValidationError("rank needs a pandas Series of scores")
    return scores.astype(np.float64).rank(ascending=False, method="min",
                                          na_option="keep").astype(np.float64)


# --- multivariate checks -----------------------------------------------------------------


def correlations(X: pd.DataFrame, method: str = "pearson") -> pd.DataFrame:
    """Pairwise correlations of the indicators (each pair over the units observing both)."""
    _choice(method, ("pearson", "spearman"), "correlation")
    return _numeric(X).corr(method=method)


def cronbach_alpha(X: pd.DataFrame) -> float:
    """Cronbach's alpha over complete rows: k/(k-1) (1 - sum var_i / var(sum_i x_i)),
    variances with ddof=1. NaN with fewer than 2 indicators or 2 complete rows, or when
    the row totals do not vary."""
    Z = _complete(_numeric(X))
    n, k = Z.shape
    if k < 2 or n < 2:
        return math.nan
    total = Z.sum(axis=1).var(ddof=1)
    if not total > 0:
        return math.nan
    return float(k / (k - 1) * (1.0 - Z.var(axis=0, ddof=1).sum() / total))


@dataclass(frozen=True)
class PCA:
    """Principal components of the correlation matrix.

    ``explained_variance_ratio``: each component's share of the total variance
    (eigenvalue / k), largest first; ``loadings``: indicator x component (PC1, PC2...),
    eigenvector x sqrt(eigenvalue), i.e. the correlation of the indicator with the
    component, signed so that each column sums to >= 0; ``eigenvalues``; ``n``: the
    number of complete rows used.
    """

    explained_variance_ratio: np.ndarray
    loadings: pd.DataFrame
    eigenvalues: np.ndarray
    n: int


def pca(X: pd.DataFrame) -> PCA:
    """PCA of the correlation matrix of ``X`` over its complete rows. Where it is not
    defined (fewer than 2 complete rows, or an indicator without variation there) every
    number is NaN."""
    X = _numeric(X)
    Z = _complete(X)
    n, k = Z.shape
    names = [f"PC{i + 1}" for i in range(k)]
    if n < 2 or k == 0 or not (Z.std(axis=0, ddof=1) > 0).all():
        nan = np.full(k, np.nan)
        return PCA(nan, pd.DataFrame(np.nan, index=X.columns, columns=names), nan.copy(), n)
    R = np.atleast_2d(np.corrcoef(Z, rowvar=False))
    vals, vecs = np.linalg.eigh(R)
    order = np.argsort(vals)[::-1]
    vals = np.clip(vals[order], 0.0, None)
    vecs = vecs[:, order]
    vecs = vecs * np.where(vecs.sum(axis=0) < 0, -1.0, 1.0)[None, :]
    load = pd.DataFrame(vecs * np.sqrt(vals)[None, :], index=X.columns, columns=names)
    return PCA(vals / vals.sum(), load, vals, n)
