"""What an index is made of: the indicators and the choices of the pipeline.

:class:`Indicator` describes one column of the data table (its axis, whether higher is
better, its expert weight, goalposts or target); :class:`PipelineConfig` holds every
choice of the construction steps of :mod:`citydiplomacy.indices.steps`, with the defaults
of the JRC/OECD Handbook on Constructing Composite Indicators (2008) where it has one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic
from pydantic import ConfigDict, model_validator

from ..errors import ValidationError

__all__ = [
    "AGGREGATIONS",
    "IMPUTATIONS",
    "NORMALISATIONS",
    "WEIGHTINGS",
    "Indicator",
    "PipelineConfig",
]

#: The choices of each step, as the config and the step functions spell them.
IMPUTATIONS = ("none", "mean", "median", "group_mean", "regression", "locf")
NORMALISATIONS = ("minmax", "zscore", "rank", "goalposts", "distance_to_target")
WEIGHTINGS = ("equal", "expert", "pca", "balanced")
AGGREGATIONS = ("arithmetic", "geometric", "harmonic")

#: Normalisations whose output range is ``PipelineConfig.scale``.
SCALED = ("minmax", "rank", "goalposts", "distance_to_target")


@dataclass(frozen=True)
class Indicator:
    """One indicator: a column of the data table and how to read it.

    ``direction`` is +1 when a higher value is better, -1 when a lower value is better
    (emissions per capita). ``weight`` is the expert weight inside the axis (only used by
    the ``expert`` weighting). ``goalposts`` (low, high) are needed by the ``goalposts``
    normalisation and ``target`` by ``distance_to_target``; both are in the indicator's
    own unit. ``measure`` says how the indicator is computed from the store; the
    pipeline ignores it, as it ignores ``context`` (an indicator of the city's setting,
    such as its state's treaties, rather than of the city: labelled when shown).
    """

    code: str
    name: str
    axis: str
    direction: int = 1
    unit: str = ""
    source: str = ""
    weight: float = 1.0
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    measure: dict | None = field(default=None, hash=False)
    context: bool = False

    def __post_init__(self) -> None:
        if self.direction not in (1, -1):
            raise ValidationError(f"indicator '{self.code}': direction is {self.direction!r}; use 1 "
                                  f"(higher is better) or -1 (lower is better)")
        if not (isinstance(self.weight, (int, float)) and math.isfinite(self.weight) and self.weight >= 0):
            raise ValidationError(f"indicator '{self.code}': weight is {self.weight!r}; give a number >= 0")
        if self.goalposts is not None:
            try:
                lo, hi = (float(v) for v in self.goalposts)
            except (TypeError, ValueError):
                raise ValidationError(f"indicator '{self.code}': goalposts must be two numbers "
                                      f"(low, high), not {self.goalposts!r}") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValidationError(f"indicator '{self.code}': goalposts ({lo:g}, {hi:g}) need low < high; "
                                      f"for an indicator where lower is better keep (low, high) and set "
                                      f"direction: -1")
            object.__setattr__(self, "goalposts", (lo, hi))
        if self.target is not None and not math.isfinite(float(self.target)):
            raise ValidationError(f"indicator '{self.code}': target must be a finite number")


def _share(name: str, v: float) -> float:
    if not 0.0 <= v <= 1.0:
        raise ValidationError(f"{name} is {v:g}; give a share between 0 and 1 (0.5 = half)")
    return v


class PipelineConfig(pydantic.BaseModel):
    """Every choice of the index pipeline (see docs/indices-method.md for each one).

    Building one directly raises :class:`~citydiplomacy.errors.ValidationError` on a bad choice;
    inside another pydantic model (the framework file) the same checks run as pydantic
    errors.
    """

    model_config = ConfigDict(extra="forbid")

    min_unit_coverage: float = 0.5
    min_indicator_coverage: float = 0.1
    drop_constant: bool = True
    imputation: Literal["none", "mean", "median", "group_mean", "regression", "locf"] = "none"
    outliers: bool = True
    skew_limit: float = 2.0
    kurtosis_limit: float = 3.5
    max_winsorised: int = 5
    normalisation: Literal["minmax", "zscore", "rank", "goalposts", "distance_to_target"] = "minmax"
    scale: tuple[float, float] = (0.0, 100.0)
    zscore_mean_sd: tuple[float, float] = (0.0, 1.0)
    weighting: Literal["equal", "expert", "pca", "balanced"] = "equal"
    aggregation: Literal["arithmetic", "geometric", "harmonic"] = "arithmetic"
    axis_weights: dict[str, float] | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ValidationError(_explain(exc)) from None

    @model_validator(mode="after")
    def _check(self) -> "PipelineConfig":
        _share("min_unit_coverage", self.min_unit_coverage)
        _share("min_indicator_coverage", self.min_indicator_coverage)
        if self.skew_limit < 0 or self.kurtosis_limit < -2:
            raise ValidationError("skew_limit must be >= 0 and kurtosis_limit >= -2 (excess kurtosis); "
                                  "the Handbook's values are 2.0 and 3.5")
        if self.max_winsorised < 0:
            raise ValidationError(f"max_winsorised is {self.max_winsorised}; give 0 (always log-transform) or more")
        lo, hi = self.scale
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValidationError(f"scale ({lo:g}, {hi:g}) needs low < high, e.g. (0, 100)")
        m, s = self.zscore_mean_sd
        if not (math.isfinite(m) and math.isfinite(s) and s > 0):
            raise ValidationError(f"zscore_mean_sd ({m:g}, {s:g}) needs a finite mean and a standard "
                                  f"deviation > 0, e.g. (0, 1) or (100, 10)")
        if (self.normalisation == "zscore" and self.aggregation in ("geometric", "harmonic")
                and m < 5 * s):
            raise ValidationError(f"{self.aggregation} aggregation needs positive values, but z-scores with "
                                  f"mean {m:g} and sd {s:g} are often <= 0; set zscore_mean_sd to e.g. "
                                  f"(100, 10), or use minmax normalisation or arithmetic aggregation")
        if self.axis_weights is not None:
            bad = {k: v for k, v in self.axis_weights.items() if not (math.isfinite(v) and v >= 0)}
            if bad:
                raise ValidationError(f"axis_weights {bad} must be numbers >= 0")
            if not sum(self.axis_weights.values()) > 0:
                raise ValidationError("axis_weights must not all be zero; give each axis a weight > 0, "
                                      "or leave axis_weights out for equal weights")
        return self

    def effective_scale(self) -> tuple[float, float]:
        """The output range the normalisation really uses: geometric and harmonic means
        need values > 0, so a scale starting at or below 0 becomes (1, 100) for them."""
        if (self.aggregation in ("geometric", "harmonic") and self.normalisation in SCALED
                and self.scale[0] <= 0):
            return (1.0, 100.0)
        return (float(self.scale[0]), float(self.scale[1]))


def _explain(exc: pydantic.ValidationError) -> str:
    """A pydantic error as one sentence per problem, naming the setting."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "pipeline"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = ", ".join(PipelineConfig.model_fields)
            parts.append(f"unknown pipeline setting '{where}'; the settings are: {known}")
        elif err["type"] == "literal_error":
            parts.append(f"{where}: {err['input']!r} is not a known choice; {msg[0].lower()}{msg[1:]}")
        elif not err["loc"]:
            parts.append(msg)
        else:
            parts.append(f"{where}: {msg} (got {err['input']!r})")
    return "; ".join(parts)
