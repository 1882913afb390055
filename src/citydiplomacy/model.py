"""The domain model: actors, ties, frameworks, initiatives, observations, provenance.

Pydantic models validate everything that enters the store from a person or a file;
a failed validation becomes a :class:`~citydiplomacy.errors.ValidationError` whose
message names the field and says what is allowed.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import countries
from .dates import check_order, parse_partial_date
from .errors import ValidationError
from .vocab import KIND_LAYER, SYMMETRIC_TIES, Axis, Kind, Layer, Status, TieType, choices

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
QID = re.compile(r"^Q[1-9][0-9]*$")


def _enum(enum, value, field):
    try:
        return enum(value)
    except ValueError:
        raise ValueError(f"unknown {field} '{value}'; choose one of: {choices(enum)}") from None


def _date(value, field):
    try:
        return parse_partial_date(value, field=field)
    except ValidationError as exc:
        raise ValueError(exc.detail) from None


def _axes(value) -> list[Axis]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;| ]+", value) if v]
    return sorted({_enum(Axis, v, "axis") for v in value}, key=list(Axis).index)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_assignment=True)

    @classmethod
    def parse(cls, data: dict[str, Any], *, row: int | None = None, file: str | None = None):
        """Validate ``data``; raise :class:`ValidationError` naming the first bad field."""
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or None
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            if err["type"] == "extra_forbidden":
                msg = f"unknown field; allowed fields: {', '.join(cls.model_fields)}"
            raise ValidationError(msg, field=field, row=row, file=file) from None


class Provenance(_Model):
    """Where a fact comes from. Nothing enters the store without one."""

    source: str = Field(min_length=1, description="human-readable source name")
    url: str | None = Field(default=None, description="URL or file of the source")
    licence: str = Field(min_length=1)
    as_of: str | None = Field(default=None, description="retrieved or as-of date")
    note: str | None = None

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, v):
        return _date(v, "as_of")

#: bounds of whole numbers that come from outside: larger values are mistakes (and would
#: not fit the store's INTEGER columns, or a JavaScript number, exactly)
MAX_POPULATION = 10**11
MAX_GEONAMES_ID = 2**53


class Actor(_Model):
    """Anyone who acts in city diplomacy, on one of the three layers."""

    id: str
    name: str = Field(min_length=1)
    kind: Kind
    layer: Layer | None = Field(default=None, description="defaults to the kind's layer")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-3")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    population: int | None = Field(default=None, ge=0, le=MAX_POPULATION)
    wikidata: str | None = None
    geonames_id: int | None = Field(default=None, gt=0, le=MAX_GEONAMES_ID)
    admin1: str | None = None
    founded: int | None = Field(default=None, ge=0, le=2100)
    axes: list[Axis] = Field(default_factory=list)
    attrs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"'{v}' is not a valid id; use lowercase letters, digits and '-'")
        return v

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v):
        return _enum(Kind, v, "kind")

    @field_validator("layer", mode="before")
    @classmethod
    def _layer(cls, v):
        return None if v in (None, "") else _enum(Layer, v, "layer")

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, v):
        if v in (None, ""):
            return None
        found = countries.lookup_code(str(v))
        if found is None:
            raise ValueError(f"'{v}' is not an ISO 3166-1 country code; use e.g. ES or ESP")
        return found.alpha3

    @field_validator("wikidata")
    @classmethod
    def _qid(cls, v):
        if v is not None and not QID.match(v):
            raise ValueError(f"'{v}' is not a Wikidata id; it looks like Q1492")
        return v

    @field_validator("axes", mode="before")
    @classmethod
    def _axes(cls, v):
        return _axes(v)

    @model_validator(mode="after")
    def _defaults(self):
        if self.layer is None:
            object.__setattr__(self, "layer", KIND_LAYER[self.kind])
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class _Dated(_Model):
    """Shared validation of ``since``/``until`` dates, ``status`` and ``axes``."""

    @field_validator("since", "until", mode="before", check_fields=False)
    @classmethod
    def _date(cls, v, info):
        return _date(v, info.field_name)

    @field_validator("status", mode="before", check_fields=False)
    @classmethod
    def _status(cls, v):
        return Status.ACTIVE if v in (None, "") else _enum(Status, v, "status")

    @field_validator("axes", mode="before", check_fields=False)
    @classmethod
    def _axes(cls, v):
        return _axes(v)


class Tie(_Dated):
    """A directed, typed relation from an actor to an actor or a framework."""

    source: str
    target: str
    type: TieType
    since: str | None = None
    until: str | None = None
    status: Status = Status.ACTIVE
    axes: list[Axis] = Field(default_factory=list)
    weight: float | None = Field(default=None, ge=0)
    note: str | None = None
    #: facts of the tie that have no column (a Covenant member's commitments, its gcom_id, ...)
    attrs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v):
        return _enum(TieType, v, "tie type")

    @model_validator(mode="after")
    def _check(self):
        check_order(self.since, self.until)
        if self.source == self.target:
            raise ValueError(f"a tie needs two different ends; both are '{self.source}'")
        if self.type in SYMMETRIC_TIES and self.target < self.source:
            # symmetric ties are stored once, in a canonical direction
            src, tgt = self.target, self.source
            object.__setattr__(self, "source", src)
            object.__setattr__(self, "target", tgt)
        return self


class FrameworkItem(_Model):
    """One item of a global framework: an SDG goal, target or indicator, a Paris article."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]*:[0-9A-Za-z.]+$")
    framework: str
    level: str
    parent: str | None = None
    ordinal: int = 0
    titles: dict[str, str] = Field(default_factory=dict, description="title by language")
    short: dict[str, str] = Field(default_factory=dict, description="short title by language")
    attrs: dict[str, Any] = Field(default_factory=dict)


class Initiative(_Dated):
    """A local action of an actor, aligned later to framework items."""

    actor: str
    title: str = Field(min_length=1)
    text: str = ""
    axes: list[Axis] = Field(default_factory=list)
    since: str | None = None
    until: str | None = None
    status: Status = Status.ACTIVE
    partners: list[str] = Field(default_factory=list)


class Observation(_Model):
    """An indicator value for an actor and a year: the raw material of axis indices."""

    actor: str
    indicator: str = Field(min_length=1)
    year: int = Field(ge=1800, le=2100)
    value: float
    unit: str | None = None
