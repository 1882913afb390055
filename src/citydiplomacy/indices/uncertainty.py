"""How much a composite index depends on the choices made to build it.

Two analyses, after Saisana, Saltelli & Tarantola (2005) and the JRC/OECD Handbook on
Constructing Composite Indicators (2008, step 7):

* :func:`monte_carlo` (uncertainty analysis). Each of ``n`` replications draws one
  alternative of every uncertain choice -- imputation, outlier treatment, normalisation,
  aggregation -- uniformly among those listed in :class:`UncertaintyConfig`, and multiplies
  every indicator weight and every axis weight by its own factor
  ``U(1 - weight_noise, 1 + weight_noise)``. The replication's scores and ranks are
  computed; over the replications, each unit gets the median and the 5th-95th percentile
  interval of its rank (and the 5th-95th percentile interval of its score), per axis and
  overall.
* :func:`sensitivity` (sensitivity analysis). Variance-based Sobol indices (computed with
  SALib) of the *mean absolute rank shift* -- the average over units of
  ``|rank in the replication - nominal rank|`` -- with respect to five factors: the
  weights, the imputation, the normalisation, the aggregation and the outlier treatment.
  The first-order index ``S1`` of a factor is the share of the output's variance it
  explains alone, ``Var(E[Y | factor]) / Var(Y)``; the total index ``ST`` adds all its
  interactions, ``E[Var(Y | other factors)] / Var(Y)``.

The *nominal* index is :func:`citydiplomacy.indices.pipeline.compute` with the given
:class:`~citydiplomacy.indices.spec.PipelineConfig`. Screening (which units and indicators
are kept) is not an uncertain choice: every replication starts from the nominal run's
screened table, with its weights and axis weights as the centres of the noise.

Fast path. The normalised table of every (imputation, outliers, normalisation)
combination is made once with :mod:`citydiplomacy.indices.steps`; a replication then only
needs weights: a weighted arithmetic mean is a matrix product, a geometric mean is the
exponential of a matrix product with the logarithms, a harmonic mean the inverse of a
product with the reciprocals. Replications are grouped by combination and computed in
batches, so that memory stays bounded. ``engine="naive"`` runs the ``steps`` functions
for every replication instead, with the same random draws; the two give the same ranks
(tested).

Geometric and harmonic means need values > 0. As in the pipeline, a normalisation whose
scale starts at or below 0 is mapped onto (1, 100) for them; z-scores whose mean and
standard deviation make values <= 0 likely (mean < 5 sd) are rescaled to mean 100 and
sd 10 for them, and the rare value still <= 0 (10 sd below the mean) is raised to 0.01
(counted in the notes). Ranks under arithmetic aggregation do not depend on these
rescalings; scores do, so score intervals mix the scales of the alternatives drawn.

Ranks: 1 = best, ties share the best rank ("1224"). Two scores closer than 1e-12 times
the largest |score| of the replication are a tie, so that the rounding of a matrix
product cannot split two identical units.

References: M. Saisana, A. Saltelli, S. Tarantola, "Uncertainty and sensitivity analysis
techniques as tools for the quality assessment of composite indicators", J. R. Stat. Soc.
A 168(2), 307-323 (2005), doi:10.1111/j.1467-985X.2005.00350.x. A. Saltelli et al.,
"Variance based sensitivity analysis of model output. Design and estimator for the total
sensitivity index", Comput. Phys. Commun. 181(2), 259-270 (2010),
doi:10.1016/j.cpc.2009.09.018. J. Herman, W. Usher, "SALib: An open-source Python library
for Sensitivity Analysis", JOSS 2(9), 97 (2017), doi:10.21105/joss.00097.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Sequence

import numpy as np
import pandas as pd
import pydantic
from pydantic import ConfigDict, field_validator

from ..errors import ValidationError
from .spec import AGGREGATIONS, NORMALISATIONS, Indicator, PipelineConfig

__all__ = [
    "FACTORS",
    "MonteCarlo",
    "UncertaintyConfig",
    "monte_carlo",
    "sensitivity",
]

#: Imputations a replication can draw ("locf" needs a panel: it is not an alternative).
MC_IMPUTATIONS = ("none", "mean", "median", "group_mean", "regression")
#: The factors of :func:`sensitivity`, in the order of its rows.
FACTORS = ("weights", "imputation", "normalisation", "aggregation", "outliers")
#: Percentiles of the rank and score intervals.
INTERVAL = (5.0, 95.0)

_POSITIVE_SCALE = (1.0, 100.0)   # the pipeline's scale for geometric/harmonic means
_POSITIVE_ZSCORE = (100.0, 10.0)  # z-scores for geometric/harmonic means: 0 is 10 sd below
_FLOOR = 0.01                     # a value still <= 0 for a geometric/harmonic mean becomes this
_TIE = 1e-12                      # relative gap under which two scores are a tie
_SIGN = np.uint64(1 << 63)
_LOW63 = np.uint64((1 << 63) - 1)
_BATCH = 64                       # replications computed together
_THREADS = 2                      # the target machine has 2 cores


class UncertaintyConfig(pydantic.BaseModel):
    """The choices the Monte Carlo and the sensitivity analysis vary.

    Each replication draws one alternative from each list (uniformly) and multiplies each
    weight by ``U(1 - weight_noise, 1 + weight_noise)``; weights are then renormalised
    within their axis. A list of one item fixes that choice. Building one directly raises
    :class:`~citydiplomacy.errors.ValidationError` on a bad value; inside another pydantic model
    (the framework file) the same checks run as pydantic errors.
    """

    model_config = ConfigDict(extra="forbid")

    n: int = 1000
    seed: int = 0
    weight_noise: float = 0.25
    imputations: list[str] = ["mean", "group_mean", "regression"]
    normalisations: list[str] = ["minmax", "rank", "zscore"]
    aggregations: list[str] = ["arithmetic", "geometric"]
    outliers: list[bool] = [True, False]

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ValidationError(_explain(exc)) from None

    @field_validator("n")
    @classmethod
    def _n(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"n is {v}; give the number of Monte Carlo replications, at least 1 "
                             f"(1000 gives stable 5th-95th percentile intervals)")
        return v

    @field_validator("seed")
    @classmethod
    def _seed(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"seed is {v}; give a whole number >= 0")
        return v

    @field_validator("weight_noise")
    @classmethod
    def _noise(cls, v: float) -> float:
        if not (math.isfinite(v) and 0.0 <= v < 1.0):
            raise ValueError(f"weight_noise is {v:g}; give a share in [0, 1): 0.25 multiplies each "
                             f"weight by a random factor between 0.75 and 1.25, 0 keeps the weights")
        return v

    @field_validator("imputations")
    @classmethod
    def _imputations(cls, v: list[str]) -> list[str]:
        return _alternatives("imputations", v, MC_IMPUTATIONS,
                             " ('locf' applies to panels: use compute_panel)" if "locf" in v else "")

    @field_validator("normalisations")
    @classmethod
    def _normalisations(cls, v: list[str]) -> list[str]:
        return _alternatives("normalisations", v, NORMALISATIONS)

    @field_validator("aggregations")
    @classmethod
    def _aggregations(cls, v: list[str]) -> list[str]:
        return _alternatives("aggregations", v, AGGREGATIONS)

    @field_validator("outliers")
    @classmethod
    def _outliers(cls, v: list[bool]) -> list[bool]:
        return _alternatives("outliers", v, (True, False))


def _alternatives(name: str, v: list, known: Sequence, hint: str = "") -> list:
    if not v:
        raise ValueError(f"{name} is empty; list at least one alternative (one fixes the choice)")
    bad = [x for x in v if x not in known]
    if bad:
        raise ValueError(f"unknown {name[:-1]} {', '.join(repr(x) for x in bad)}{hint}; "
                         f"choose among {', '.join(str(k) for k in known)}")
    twice = sorted({str(x) for x in v if v.count(x) > 1})
    if twice:
        raise ValueError(f"{name} lists {', '.join(twice)} more than once; list each alternative once "
                         f"(they are drawn with equal probability)")
    return list(v)


def _explain(exc: pydantic.ValidationError) -> str:
    """A pydantic error as one sentence per problem, naming the setting."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "uncertainty"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = ", ".join(UncertaintyConfig.model_fields)
            parts.append(f"unknown uncertainty setting '{where}'; the settings are: {known}")
        elif err["type"].startswith("value_error"):
            parts.append(msg)
        else:
            parts.append(f"uncertainty setting {where}: {msg} (got {err['input']!r})")
    return "; ".join(parts)


@dataclass
class MonteCarlo:
    """The result of :func:`monte_carlo`.

    ``summary``: one row per scored unit (the units the nominal run kept); for each axis
    and ``overall`` the columns ``{axis}_nominal_rank``, ``{axis}_median_rank``,
    ``{axis}_rank_lo``, ``{axis}_rank_hi`` (5th and 95th percentiles of the replications'
    ranks, taken as ranks that occurred: the lower and the higher order statistic) and
    ``{axis}_score_lo``, ``{axis}_score_hi`` (5th and 95th percentiles of the scores,
    interpolated). A unit never ranked (no score in any replication) has NaN.
    ``ranks``: the overall rank of every unit in every replication, ``n x units`` int32,
    columns in the order of ``summary.index``; 0 means "not ranked in that replication".
    ``choices``: one row per replication, the alternative drawn for each choice.
    """

    summary: pd.DataFrame
    ranks: np.ndarray
    choices: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    nominal: Any = None  # the pipeline's IndexResult of the nominal configuration


# ---------------------------------------------------------------------------------------
# Set-up shared by both analyses


@dataclass
class _Setup:
    """The nominal run and what every replication starts from."""

    nominal: Any
    X: pd.DataFrame                      # screened table, kept indicators in ``codes`` order
    indicators: list[Indicator]
    codes: list[str]
    axes: list[str]
    axis_cols: list[np.ndarray]          # column positions of each axis's indicators
    base_w: np.ndarray                   # nominal indicator weights, (p,)
    base_v: np.ndarray                   # nominal axis weights, (n_axes,)
    alternatives: dict[str, list]        # imputation / outliers / normalisation / aggregation
    config: PipelineConfig
    groups: pd.Series | None
    notes: list[str]
    #: per level (axes, then overall): the units that may be ranked (None: all)
    rankable: list[np.ndarray | None] | None = None
    #: per axis: the units whose axis score enters their overall score (None: all)
    in_overall: list[np.ndarray | None] | None = None

    @property
    def levels(self) -> list[str]:
        return [*self.axes, "overall"]

    def ranked(self, S: np.ndarray, level: int) -> np.ndarray:
        """``S`` (b x units) with the scores of the units that may not be ranked at
        ``level`` set to NaN: the others are ranked among themselves."""
        mask = self.rankable[level] if self.rankable else None
        if mask is None or mask.all():
            return S
        S = S.copy()
        S[:, ~mask] = np.nan
        return S


def _setup(X: pd.DataFrame, indicators: Sequence[Indicator], config: PipelineConfig,
           uc: UncertaintyConfig, groups: pd.Series | None) -> _Setup:
    from . import pipeline

    if not isinstance(uc, UncertaintyConfig):
        raise ValidationError(f"uc must be an UncertaintyConfig, not {type(uc).__name__}")
    uc = UncertaintyConfig(**uc.model_dump())  # re-checks a config built with model_construct
    nominal = pipeline.compute(X, indicators, config, groups=groups)
    kept = list(nominal.indicators)
    codes = [i.code for i in kept]
    axes = [c for c in nominal.scores.columns if c != "overall"]
    if not codes or not axes:
        raise ValidationError("no indicator is left after screening; lower min_indicator_coverage or "
                              "add data, then run the uncertainty analysis again")
    position = {c: j for j, c in enumerate(codes)}
    axis_cols = [np.array([position[i.code] for i in kept if i.axis == a], dtype=np.intp) for a in axes]
    notes: list[str] = []
    imputations = list(uc.imputations)
    if groups is None and "group_mean" in imputations:
        imputations.remove("group_mean")
        notes.append("imputation 'group_mean' was left out of the alternatives: no groups were given")
        if not imputations:
            raise ValidationError("the only imputation alternative is 'group_mean', which needs groups "
                                  "(unit -> group); pass groups=... or list another imputation")
    return _Setup(
        nominal=nominal,
        X=nominal.screened[codes],
        indicators=kept,
        codes=codes,
        axes=axes,
        axis_cols=axis_cols,
        base_w=nominal.weights.reindex(codes).to_numpy(dtype=float),
        base_v=nominal.axis_weights.reindex(axes).to_numpy(dtype=float),
        alternatives={"imputation": imputations, "outliers": list(uc.outliers),
                      "normalisation": list(uc.normalisations), "aggregation": list(uc.aggregations)},
        config=config,
        groups=groups,
        notes=notes,
    )


@dataclass
class _Draws:
    """The random choices of a set of replications: indices into the alternatives, and
    the weights (renormalised per axis) and axis weights (renormalised to 1)."""

    imputation: np.ndarray
    outliers: np.ndarray
    normalisation: np.ndarray
    aggregation: np.ndarray
    W: np.ndarray     # (n, p)
    V: np.ndarray     # (n, n_axes)

    def __len__(self) -> int:
        return len(self.imputation)


def _noisy_weights(rng: np.random.Generator, s: _Setup, n: int,
                   noise: float) -> tuple[np.ndarray, np.ndarray]:
    W = s.base_w * rng.uniform(1.0 - noise, 1.0 + noise, size=(n, len(s.codes)))
    V = s.base_v * rng.uniform(1.0 - noise, 1.0 + noise, size=(n, len(s.axes)))
    for cols in s.axis_cols:
        total = W[:, cols].sum(axis=1, keepdims=True)
        W[:, cols] /= np.where(total > 0, total, 1.0)
    total = V.sum(axis=1, keepdims=True)
    V /= np.where(total > 0, total, 1.0)
    return W, V


def _draw(s: _Setup, uc: UncertaintyConfig) -> _Draws:
    rng = np.random.default_rng(uc.seed)
    pick = {name: rng.integers(0, len(s.alternatives[name]), size=uc.n)
            for name in ("imputation", "outliers", "normalisation", "aggregation")}
    W, V = _noisy_weights(rng, s, uc.n, uc.weight_noise)
    return _Draws(W=W, V=V, **pick)


def _choices(s: _Setup, d: _Draws) -> pd.DataFrame:
    out = pd.DataFrame({name: np.asarray(s.alternatives[name], dtype=object)[getattr(d, name)]
                        for name in ("imputation", "outliers", "normalisation", "aggregation")})
    out["outliers"] = out["outliers"].astype(bool)
    out.index.name = "replication"
    return out


# ---------------------------------------------------------------------------------------
# The steps of one combination (shared by the fast and the naive path)


class _Tables:
    """Imputed and treated tables, each made once with ``steps`` (``cache=False`` makes
    them afresh at every call, for the naive path), and the normalised table of a
    combination."""

    def __init__(self, s: _Setup, *, cache: bool = True):
        self.s = s
        self.cache = cache
        self._imputed: dict[str, pd.DataFrame] = {}
        self._treated: dict[str, pd.DataFrame] = {}
        self._floored: dict[str, int] = {}
        ind = s.indicators
        self.directions = {i.code: i.direction for i in ind}
        self.goalposts = {i.code: i.goalposts for i in ind if i.goalposts is not None}
        self.targets = {i.code: i.target for i in ind if i.target is not None}

    def imputed(self, method: str) -> pd.DataFrame:
        from . import steps

        if not self.cache or method not in self._imputed:
            X = steps.impute(self.s.X, method, groups=self.s.groups).X
            if not self.cache:
                return X
            self._imputed[method] = X
        return self._imputed[method]

    def treated(self, method: str, outliers: bool) -> pd.DataFrame:
        from . import steps

        if not outliers:
            return self.imputed(method)
        if not self.cache or method not in self._treated:
            c = self.s.config
            X = steps.treat_outliers(self.imputed(method), skew_limit=c.skew_limit,
                                     kurtosis_limit=c.kurtosis_limit, max_winsorised=c.max_winsorised).X
            if not self.cache:
                return X
            self._treated[method] = X
        return self._treated[method]

    def normalised(self, method: str, outliers: bool, norm: str, aggregation: str) -> pd.DataFrame:
        """The normalised table of a combination; for geometric and harmonic means made
        positive (module docstring)."""
        from . import steps

        c = self.s.config
        if norm in ("goalposts", "distance_to_target"):
            outliers = False  # as the pipeline: these work in the indicators' own units
        positive = aggregation != "arithmetic"
        scale, mean_sd = tuple(c.scale), tuple(c.zscore_mean_sd)
        if positive and norm == "zscore" and mean_sd[0] < 5 * mean_sd[1]:
            mean_sd = _POSITIVE_ZSCORE
        elif positive and norm != "zscore" and scale[0] <= 0:
            scale = _POSITIVE_SCALE
        Xn = steps.normalise(self.treated(method, outliers), norm, directions=self.directions,
                             scale=scale, zscore_mean_sd=mean_sd, goalposts=self.goalposts,
                             targets=self.targets)
        if positive:
            low = Xn.to_numpy() <= 0
            if low.any():
                where = f"{norm} after imputation '{method}'{' and outlier treatment' if outliers else ''}"
                self._floored[where] = int(low.sum())
                Xn = Xn.mask(low, _FLOOR)
        return Xn

    def notes(self) -> list[str]:
        return [f"{k}: {v} value(s) <= 0 were raised to {_FLOOR} for the geometric/harmonic mean"
                for k, v in sorted(self._floored.items())]


@dataclass
class _Matrices:
    """One combination ready for matrix aggregation: per axis, the transposed
    (indicators x units) table of values (arithmetic), logarithms (geometric) or
    reciprocals (harmonic) with missing cells as 0, and the observed mask (None when the
    axis has no missing cell)."""

    values: list[np.ndarray]
    observed: list[np.ndarray | None]

    @property
    def complete(self) -> bool:
        return all(o is None for o in self.observed)


def _matrices(Xn: pd.DataFrame, s: _Setup, aggregation: str) -> _Matrices:
    V = Xn[s.codes].to_numpy(dtype=np.float64)
    seen = ~np.isnan(V)
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregation == "geometric":
            V = np.log(V)
        elif aggregation == "harmonic":
            V = 1.0 / V
    V = np.where(seen, V, 0.0)
    values, observed = [], []
    for cols in s.axis_cols:
        values.append(np.ascontiguousarray(V[:, cols].T))
        m = seen[:, cols]
        observed.append(None if m.all() else np.ascontiguousarray(m.T, dtype=np.float64))
    return _Matrices(values, observed)


def _mean_of(num: np.ndarray, den: np.ndarray, aggregation: str, complete: bool) -> np.ndarray:
    """Weighted means from ``num`` = sum of w t(x) and ``den`` = sum of w over the
    observed cells, t the transform of :func:`_matrices` (``num`` is overwritten).
    Nothing observed (den = 0) gives NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregation == "arithmetic":
            out = np.divide(num, den, out=num)
        elif aggregation == "geometric":
            out = np.exp(np.divide(num, den, out=num), out=num)
        else:
            out = np.divide(den, num, out=num)
    if not complete:
        out[~(np.broadcast_to(den, out.shape) > 0)] = np.nan
    return out


def _scores_fast(m: _Matrices, s: _Setup, W: np.ndarray, V: np.ndarray, aggregation: str) -> list[np.ndarray]:
    """Scores of a batch of replications of one combination: one (b x units) array per
    axis, then overall."""
    out = []
    for a, cols in enumerate(s.axis_cols):
        Wa = W[:, cols]
        num = Wa @ m.values[a]
        obs = m.observed[a]
        den = Wa.sum(axis=1, keepdims=True) if obs is None else Wa @ obs
        out.append(_mean_of(num, den, aggregation, obs is None))
    # overall: the same mean over the axis scores, skipping an axis without a score (or
    # one left out of the unit's overall: low data)
    masks = s.in_overall or [None] * len(out)
    complete = m.complete and all(k is None for k in masks)
    num = np.zeros_like(out[0])
    den = np.zeros((len(V), 1)) if complete else np.zeros_like(out[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for a, S in enumerate(out):
            T = S if aggregation == "arithmetic" else np.log(S) if aggregation == "geometric" else 1.0 / S
            w = V[:, a:a + 1]
            if complete:
                num += w * T
                den += w
            else:
                seen = ~np.isnan(S)
                if masks[a] is not None:
                    seen &= masks[a][None, :]
                num += np.where(seen, w * T, 0.0)
                den += w * seen
    out.append(_mean_of(num, den, aggregation, complete))
    return out


def _rank_rows(S: np.ndarray) -> np.ndarray:
    """Competition ranks ("1224", 1 = highest) of each row of ``S``; 0 for NaN.

    Sorting is the costly part. Rather than ``argsort`` the scores, each one becomes an
    order-preserving 64-bit key (IEEE bits, negatives flipped) whose lowest bits are
    replaced by the unit's position, and the keys are sorted as plain integers: about
    three times faster than ``argsort`` on the floats (the whole ranking twice as fast
    with many ties or NaN). Two
    different scores sharing a key once their low bits are dropped (closer than about
    1e-11 relative) may come out in position order: such a row is sorted again with
    ``argsort``.
    """
    b, u = S.shape
    if u == 0:
        return np.zeros((b, 0), dtype=np.int32)
    neg = np.negative(S)
    neg += 0.0                                   # -0.0 -> +0.0: one key for zero
    x = neg.view(np.uint64)
    key = (x >> np.uint64(63)) * _LOW63          # negative: flip every bit; else the sign
    key |= _SIGN
    key ^= x
    nan = np.isnan(neg)
    has_nan = bool(nan.any())
    if has_nan:
        key[nan] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)  # last
    bits = max(1, (u - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    key &= ~low
    key |= np.arange(u, dtype=np.uint64)
    key.sort(axis=1)
    order = (key & low).view(np.int64)
    srt = np.take_along_axis(neg, order, axis=1)
    with np.errstate(invalid="ignore"):
        gap = np.diff(srt, axis=1)
        for r in np.flatnonzero((gap < 0).any(axis=1)):
            order[r] = np.argsort(neg[r])
            srt[r] = neg[r, order[r]]
            gap[r] = np.diff(srt[r])
    n_valid = u - nan.sum(axis=1) if has_nan else np.full(b, u)
    last = srt[np.arange(b), np.maximum(n_valid - 1, 0)]
    top = np.fmax(np.abs(srt[:, 0]), np.abs(last))  # the largest |score| of the row
    top = np.where(np.isnan(top), 0.0, top)[:, None]
    start = np.ones((b, u), dtype=bool)
    with np.errstate(invalid="ignore"):
        np.greater(gap, _TIE * top, out=start[:, 1:])
    r = np.where(start, np.arange(1, u + 1, dtype=np.int32), np.int32(0))
    np.maximum.accumulate(r, axis=1, out=r)
    if has_nan:
        r[np.take_along_axis(nan, order, axis=1)] = 0
    ranks = np.empty_like(r)
    np.put_along_axis(ranks, order, r, axis=1)
    return ranks


# ---------------------------------------------------------------------------------------
# Running replications


def _groups_of(d: _Draws, s: _Setup) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """Replications grouped by combination (imputation, outliers, normalisation,
    aggregation), in a fixed order."""
    ks = [len(s.alternatives[k]) for k in ("imputation", "outliers", "normalisation", "aggregation")]
    code = ((d.imputation * ks[1] + d.outliers) * ks[2] + d.normalisation) * ks[3] + d.aggregation
    out = []
    for c in np.unique(code):
        idx = np.flatnonzero(code == c)
        j = int(idx[0])
        out.append(((int(d.imputation[j]), int(d.outliers[j]), int(d.normalisation[j]),
                     int(d.aggregation[j])), idx))
    return out


def _in_order(pool: ThreadPoolExecutor, fn: Callable, items: Sequence, window: int = 4):
    """``fn`` over ``items`` on the pool, results yielded in order, at most ``window``
    tasks ahead (bounds the memory held by finished results)."""
    pending: list = []
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.pop(0).result()
    for f in pending:
        yield f.result()


def _run_fast(s: _Setup, d: _Draws, tables: _Tables, sink: Callable[[int, np.ndarray, list, list], None],
              *, overall_only: bool, progress: Callable[[int, int], None] | None) -> None:
    """Compute every replication of ``d`` and hand each batch to ``sink(slot,
    replications, scores, ranks)`` (per-level lists of (b x units) arrays).

    The imputed and treated tables are made first; then each combination is a task --
    normalise, build its matrices, score and rank its replications in batches -- and two
    tasks run at a time. NumPy releases the GIL in its arithmetic and matrix products but
    (NumPy 2.4, measured) not in its sorts, so the ranking, the largest cost, stays
    mostly serial; the second thread overlaps the rest with it.

    Batches are numbered by ``slot``, the position of their first replication in the
    order of computation: slots ``slot .. slot + b - 1`` belong to that batch alone, so
    ``sink`` (called from the worker threads) can write them without a lock.
    ``progress`` is called from this thread, after each combination.
    """
    alt = s.alternatives
    groups = _groups_of(d, s)
    offsets = np.concatenate([[0], np.cumsum([len(idx) for _key, idx in groups])])

    def job(g: int) -> int:
        (i, o, k, a), idx = groups[g]
        agg = alt["aggregation"][a]
        m = _matrices(tables.normalised(alt["imputation"][i], alt["outliers"][o],
                                        alt["normalisation"][k], agg), s, agg)
        for start in range(0, len(idx), _BATCH):
            chunk = idx[start:start + _BATCH]
            scores = _scores_fast(m, s, d.W[chunk], d.V[chunk], agg)
            levels = list(range(len(s.levels)))
            if overall_only:
                scores, levels = scores[-1:], levels[-1:]
            sink(int(offsets[g]) + start, chunk, scores,
                 [_rank_rows(s.ranked(S, lv)) for S, lv in zip(scores, levels)])
        return len(idx)

    done, total = 0, len(d)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        used = {(alt["imputation"][i], alt["outliers"][o] and alt["normalisation"][k] not in
                 ("goalposts", "distance_to_target")) for (i, o, k, _a), _idx in groups}
        list(pool.map(tables.imputed, sorted({m for m, _o in used})))
        list(pool.map(lambda m: tables.treated(m, True), sorted({m for m, o in used if o})))
        for n_done in _in_order(pool, job, range(len(groups))):
            done += n_done
            if progress is not None:
                progress(done, total)


def _run_naive(s: _Setup, d: _Draws, sink: Callable, *, overall_only: bool,
               progress: Callable[[int, int], None] | None) -> list[str]:
    """Every replication through the ``steps`` functions, nothing reused (the reference
    the fast path is tested against, and the benchmark's baseline)."""
    from . import steps

    tables = _Tables(s, cache=False)
    alt = s.alternatives
    for r in range(len(d)):
        method, outliers, norm, agg = (alt["imputation"][d.imputation[r]], alt["outliers"][d.outliers[r]],
                                       alt["normalisation"][d.normalisation[r]],
                                       alt["aggregation"][d.aggregation[r]])
        Xn = tables.normalised(method, outliers, norm, agg)
        w = pd.Series(d.W[r], index=s.codes)
        axis_scores = {a: steps.aggregate(Xn[[s.codes[j] for j in cols]], w.iloc[cols], agg)
                       for a, cols in zip(s.axes, s.axis_cols)}
        frame = pd.DataFrame(axis_scores)
        for a, mask in zip(s.axes, s.in_overall or []):
            if mask is not None:
                frame[a] = frame[a].where(pd.Series(mask, index=s.X.index).reindex(frame.index))
        overall = steps.aggregate(frame, pd.Series(d.V[r], index=s.axes), agg)
        levels = [overall] if overall_only else [*axis_scores.values(), overall]
        numbers = [len(s.levels) - 1] if overall_only else list(range(len(s.levels)))
        scores = [lv.reindex(s.X.index).to_numpy(dtype=float)[None, :] for lv in levels]
        ranks = [steps.rank(pd.Series(s.ranked(S, k)[0], index=s.X.index)).fillna(0).to_numpy()
                 .astype(np.int32)[None, :] for S, k in zip(scores, numbers)]
        sink(r, np.array([r]), scores, ranks)
        if progress is not None:
            progress(r + 1, len(d))
    return tables.notes()


def _order_stats(A: np.ndarray, wanted: Sequence[tuple[float, str]]) -> list[np.ndarray]:
    """Percentiles of each column of ``A`` (which is sorted in place) over its valid
    entries (ranks > 0, scores not NaN): one array per ``(q, method)`` of ``wanted``,
    ``method`` as NumPy's 'lower', 'higher' or 'linear'. NaN for a column without a
    valid entry."""
    if A.dtype.kind == "i":
        valid = A > 0
        A[~valid] = np.iinfo(A.dtype).max
    else:
        valid = ~np.isnan(A)
    count = valid.sum(axis=0)
    del valid
    A.sort(axis=0)
    cols = np.arange(A.shape[1])
    out = []
    for q, method in wanted:
        h = (np.maximum(count, 1) - 1) * (q / 100.0)
        lo, hi = np.floor(h).astype(np.intp), np.ceil(h).astype(np.intp)
        a, b = A[lo, cols].astype(float), A[hi, cols].astype(float)
        v = a if method == "lower" else b if method == "higher" else a + (h - lo) * (b - a)
        v[count == 0] = np.nan
        out.append(v)
    return out


# ---------------------------------------------------------------------------------------
# Public functions


def monte_carlo(X: pd.DataFrame, indicators: Sequence[Indicator], config: PipelineConfig,
                uc: UncertaintyConfig, *, groups: pd.Series | None = None,
                progress: Callable[[int, int], None] | None = None,
                engine: Literal["fast", "naive"] = "fast",
                rankable: pd.DataFrame | None = None, in_overall: pd.DataFrame | None = None) -> MonteCarlo:
    """Rank intervals of every unit under ``uc.n`` random constructions of the index.

    Each replication draws an imputation, an outlier treatment, a normalisation and an
    aggregation (uniformly among ``uc``'s alternatives) and noisy weights: every
    indicator weight and every axis weight times ``U(1 - uc.weight_noise, 1 +
    uc.weight_noise)``, renormalised. ``group_mean`` is left out (noted) when ``groups``
    is None. Deterministic for a given ``uc.seed``.

    ``progress(done, total)``, if given, is called as replications complete (after each
    combination of choices: 36 times with the default alternatives; after each
    replication with the naive engine).
    ``engine="naive"`` runs the ``steps`` functions for every replication (slow; the
    reference the fast path is tested against) with the same draws.

    ``rankable`` (units x levels, bool; a level missing: all): the units each axis and
    ``overall`` ranks, the others taking no rank there (the "low data" rule's
    ``withhold``): ranks and intervals are among the rankable units. ``in_overall``
    (units x axes, bool): whether a unit's axis score enters its overall score (the
    low-data rule leaves out an axis the unit has too little data on).

    Returns a :class:`MonteCarlo`. Raises :class:`~citydiplomacy.errors.ValidationError` for a
    bad configuration (and whatever the nominal pipeline raises).
    """
    if engine not in ("fast", "naive"):
        raise ValidationError(f"engine is {engine!r}; use 'fast' or 'naive'")
    s = _setup(X, indicators, config, uc, groups)
    if in_overall is not None:
        s.in_overall = [in_overall[a].reindex(s.X.index, fill_value=True).to_numpy(dtype=bool)
                        if a in in_overall.columns else None for a in s.axes]
    if rankable is not None:
        s.rankable = [rankable[lv].reindex(s.X.index, fill_value=False).to_numpy(dtype=bool)
                      if lv in rankable.columns else None for lv in s.levels]
    d = _draw(s, uc)
    units = s.X.index
    n, u = uc.n, len(units)
    # rows in the order the replications are computed (slots); `replication` maps back
    ranks = [np.empty((n, u), dtype=np.int32) for _ in s.levels]
    scores = [np.empty((n, u), dtype=np.float32) for _ in s.levels]
    replication = np.empty(n, dtype=np.intp)

    def sink(slot: int, idx: np.ndarray, sc: list[np.ndarray], rk: list[np.ndarray]) -> None:
        rows = slice(slot, slot + len(idx))
        replication[rows] = idx
        for level in range(len(s.levels)):
            scores[level][rows] = sc[level]
            ranks[level][rows] = rk[level]

    if engine == "fast":
        tables = _Tables(s)
        _run_fast(s, d, tables, sink, overall_only=False, progress=progress)
        notes = tables.notes()
    else:
        notes = _run_naive(s, d, sink, overall_only=False, progress=progress)
    overall = np.empty_like(ranks[-1])
    overall[replication] = ranks[-1]

    rank_stats = [(INTERVAL[0], "lower"), (50.0, "linear"), (INTERVAL[1], "higher")]
    score_stats = [(INTERVAL[0], "linear"), (INTERVAL[1], "linear")]
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:  # (sorts in place)
        rank_q = list(pool.map(lambda R: _order_stats(R, rank_stats), ranks))
        score_q = list(pool.map(lambda S: _order_stats(S, score_stats), scores))
    columns: dict[str, np.ndarray] = {}
    for level, name in enumerate(s.levels):
        nominal = s.nominal.ranks[name].reindex(units).to_numpy(dtype=float)
        if s.rankable and s.rankable[level] is not None:
            nominal = s.ranked(s.nominal.scores[name].reindex(units).to_numpy(dtype=float)[None, :], level)[0]
            nominal = pd.Series(nominal).rank(ascending=False, method="min").to_numpy(dtype=float)
        (lo, median, hi), (score_lo, score_hi) = rank_q[level], score_q[level]
        columns |= {f"{name}_nominal_rank": nominal, f"{name}_median_rank": median,
                    f"{name}_rank_lo": lo, f"{name}_rank_hi": hi,
                    f"{name}_score_lo": score_lo, f"{name}_score_hi": score_hi}
    summary = pd.DataFrame(columns, index=units)
    return MonteCarlo(summary=summary, ranks=overall, choices=_choices(s, d),
                      notes=[*s.notes, *notes], nominal=s.nominal)


def sensitivity(X: pd.DataFrame, indicators: Sequence[Indicator], config: PipelineConfig,
                uc: UncertaintyConfig, *, n_base: int = 256, groups: pd.Series | None = None) -> pd.DataFrame:
    """Sobol sensitivity indices of the overall ranking to each choice of the index.

    Factors (:data:`FACTORS`): ``weights`` -- one of ``n_base`` noisy weight sets drawn
    beforehand as in :func:`monte_carlo`, picked by a uniform factor ``u`` as set
    ``floor(u * n_base)``; ``imputation``, ``normalisation``, ``aggregation``,
    ``outliers`` -- alternative ``floor(u * k)`` of the ``k`` listed in ``uc``. The
    output is the mean absolute rank shift ``Y = mean over units |rank - nominal
    rank|`` of the overall ranking (units ranked in both). SALib draws
    ``n_base * (D + 2)`` Saltelli samples of the ``D`` factors that vary (Sobol'
    sequence, scrambled with ``uc.seed``) and estimates first-order and total indices
    (Saltelli et al. 2010; 95 % confidence by bootstrap). A factor with one alternative
    (or the weights when ``weight_noise`` is 0) cannot move the ranking: its indices are
    0. When no factor moves the ranking at all, every index is 0.

    Returns a DataFrame with columns ``factor, S1, S1_conf, ST, ST_conf``, one row per
    factor; ``attrs`` holds ``runs`` (evaluations), ``mean_rank_shift`` (the mean of
    ``Y``) and ``notes``. Deterministic for a given ``uc.seed``.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if isinstance(n_base, bool) or not isinstance(n_base, (int, np.integer)) or n_base < 2 \
            or n_base & (n_base - 1):
        raise ValidationError(f"n_base is {n_base!r}; give a power of two of at least 2 (256 is usual): "
                              f"Sobol' sequences keep their balance only at powers of two")
    s = _setup(X, indicators, config, uc, groups)
    rng = np.random.default_rng(uc.seed)
    W_set, V_set = _noisy_weights(rng, s, int(n_base), uc.weight_noise)
    sizes = {"weights": int(n_base) if uc.weight_noise > 0 else 1,
             **{name: len(s.alternatives[key]) for name, key in
                [("imputation", "imputation"), ("normalisation", "normalisation"),
                 ("aggregation", "aggregation"), ("outliers", "outliers")]}}
    varying = [f for f in FACTORS if sizes[f] > 1]
    rows = {f: (0.0, 0.0, 0.0, 0.0) for f in FACTORS}
    attrs: dict[str, Any] = {"runs": 0, "mean_rank_shift": 0.0, "notes": list(s.notes)}
    if varying:
        problem = {"num_vars": len(varying), "names": varying, "bounds": [[0.0, 1.0]] * len(varying)}
        U = sobol_sample.sample(problem, int(n_base), calc_second_order=False, scramble=True, seed=uc.seed)
        pick = {f: np.zeros(len(U), dtype=np.intp) for f in FACTORS}
        for j, f in enumerate(varying):
            pick[f] = np.minimum((U[:, j] * sizes[f]).astype(np.intp), sizes[f] - 1)
        d = _Draws(imputation=pick["imputation"], outliers=pick["outliers"],
                   normalisation=pick["normalisation"], aggregation=pick["aggregation"],
                   W=W_set[pick["weights"]], V=V_set[pick["weights"]])
        nominal = s.nominal.ranks["overall"].reindex(s.X.index).to_numpy(dtype=float)
        ranked = ~np.isnan(nominal)
        Y = np.zeros(len(d))

        def sink(_slot: int, idx: np.ndarray, _scores: list[np.ndarray], ranks: list[np.ndarray]) -> None:
            R = ranks[-1][:, ranked]
            shift = np.abs(R - nominal[ranked])
            ok = R > 0
            Y[idx] = (shift * ok).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)

        tables = _Tables(s)
        _run_fast(s, d, tables, sink, overall_only=True, progress=None)
        attrs |= {"runs": len(d), "mean_rank_shift": float(Y.mean()),
                  "notes": [*attrs["notes"], *tables.notes()]}
        if np.ptp(Y) > 0:
            # SALib ignores a seed of 0 (it tests `if seed:`) and then draws its bootstrap
            # from NumPy's global state: never pass it 0
            Si = sobol_analyze.analyze(problem, Y, calc_second_order=False, num_resamples=100,
                                       conf_level=0.95, seed=uc.seed + 1)
            for j, f in enumerate(varying):
                rows[f] = (float(Si["S1"][j]), float(Si["S1_conf"][j]), float(Si["ST"][j]),
                           float(Si["ST_conf"][j]))
        else:
            attrs["notes"].append("no choice moved the overall ranking: every index is 0")
    out = pd.DataFrame([(f, *rows[f]) for f in FACTORS], columns=["factor", "S1", "S1_conf", "ST", "ST_conf"])
    out.attrs.update(attrs)
    return out
