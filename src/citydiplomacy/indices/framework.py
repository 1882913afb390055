"""The indicator framework: which units are scored, which indicators each axis has and how
each is computed, and the pipeline's and the uncertainty analysis's choices — one YAML
file (``data/indices/framework.yaml`` by default) that users can copy and edit."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticError, field_validator, model_validator

from ..errors import ValidationError
from ..vocab import Axis, TieType
from .indicators import CONTEXT_KINDS, MEASURES
from .spec import Indicator, PipelineConfig
from .uncertainty import UncertaintyConfig

AXES = tuple(a.value for a in Axis)


class UnitsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = "city"
    min_ties: int = Field(1, ge=0)
    tie_types: list[str] = ["twinned_with", "member_of", "hosts", "partner_of", "participates_in"]

    @field_validator("tie_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        known = {t.value for t in TieType}
        bad = [t for t in v if t not in known]
        if bad:
            raise ValueError(f"unknown tie type {', '.join(bad)}; known: {', '.join(sorted(known))}")
        return v


class IndicatorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    axis: Literal["sustainability", "digital", "engagement"]
    direction: Literal[1, -1] = 1
    unit: str = ""
    source: str
    weight: float = Field(1.0, gt=0)
    goalposts: tuple[float, float] | None = None
    target: float | None = None
    #: a context indicator describes the city's setting (its state's facts), not the city:
    #: labelled so wherever it is shown, never a strength or weakness, outside data coverage
    context: bool = False
    measure: dict[str, Any]

    @field_validator("measure")
    @classmethod
    def _kind(cls, v: dict[str, Any]) -> dict[str, Any]:
        if v.get("kind") not in MEASURES:
            raise ValueError(f"measure kind '{v.get('kind')}' is not one of {', '.join(sorted(MEASURES))}")
        return v

    @model_validator(mode="after")
    def _context(self) -> "IndicatorSpec":
        kind = self.measure.get("kind")
        if kind in CONTEXT_KINDS and not self.context:
            raise ValueError(f"measure kind '{kind}' describes the city's state, not the city: set "
                             f"context: true to keep it as a labelled context indicator")
        return self

    def indicator(self) -> Indicator:
        return Indicator(code=self.code, name=self.name, axis=self.axis, direction=self.direction,
                         unit=self.unit, source=self.source, weight=self.weight, goalposts=self.goalposts,
                         target=self.target, context=self.context, measure=dict(self.measure))


class LowDataSpec(BaseModel):
    """When a city's rank on an axis is withheld or marked "low data": its data coverage
    on the axis (the share of the axis's indicators the store holds the city's record
    for; context indicators aside) is under ``min_coverage``."""

    model_config = ConfigDict(extra="forbid")
    min_coverage: float = Field(0.6, ge=0.0, le=1.0)
    #: withhold: no rank (nor interval) on that axis, the others ranked among themselves;
    #: mark: ranked among all, with the mark
    rank: Literal["withhold", "mark"] = "withhold"
    #: exclude: an axis the city has low data on is left out of its overall score (the
    #: other axes' weights renormalised), as a missing indicator is left out of an axis
    overall: Literal["exclude", "include"] = "exclude"
    #: the overall's data coverage: ``min``, its least covered axis's (an overall rank
    #: only for a city known on every axis); ``weighted``, the axes' coverages weighted
    #: as the axes are in the overall
    overall_coverage: Literal["min", "weighted"] = "min"


class Framework(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "City diplomacy axes"
    version: int = 1
    units: UnitsSpec = UnitsSpec()
    pipeline: PipelineConfig = PipelineConfig()
    uncertainty: UncertaintyConfig = UncertaintyConfig()
    low_data: LowDataSpec = LowDataSpec()
    indicators: list[IndicatorSpec]
    #: where it was read from (set by :func:`load_framework`)
    path: str | None = None

    @field_validator("indicators")
    @classmethod
    def _unique(cls, v: list[IndicatorSpec]) -> list[IndicatorSpec]:
        seen: set[str] = set()
        for ind in v:
            if ind.code in seen:
                raise ValueError(f"indicator code '{ind.code}' appears twice")
            seen.add(ind.code)
        if not v:
            raise ValueError("the framework has no indicator")
        return v

    def to_indicators(self) -> list[Indicator]:
        return [i.indicator() for i in self.indicators]


def default_text() -> str:
    """The shipped framework's YAML text (to copy and edit)."""
    return resources.files("citydiplomacy").joinpath("data/indices/framework.yaml").read_text(encoding="utf-8")


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_framework(path: str | Path | None = None) -> Framework:
    """The framework of ``path`` (a YAML file), or the shipped default. Every mistake is
    a :class:`ValidationError` naming the file and the field."""
    name = str(path) if path else "the shipped framework"
    if path is None:
        text = default_text()
    else:
        p = Path(path)
        if not p.is_file():
            raise ValidationError(f"no such file; copy the default with: citydip index framework > {p.name}",
                                  file=str(path))
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValidationError("is not UTF-8 text: save the YAML file as UTF-8", file=str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise ValidationError(f"is not valid YAML ({getattr(exc, 'problem', exc)})", file=name, row=row) from None
    if not isinstance(raw, dict):
        raise ValidationError("must be a YAML mapping with 'indicators' (see citydip index framework)", file=name)
    try:
        fw = Framework.model_validate(raw)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = _where(first["loc"])
        code = ""
        if first["loc"][:1] == ("indicators",) and len(first["loc"]) > 1 and isinstance(first["loc"][1], int):
            try:
                code = f" (indicator '{raw['indicators'][first['loc'][1]].get('code')}')"
            except (AttributeError, IndexError, TypeError):
                code = ""
        msg = first["msg"].removeprefix("Value error, ")
        raise ValidationError(f"{msg}{code}", file=name, field=where) from None
    fw.path = str(path) if path else None
    return fw
