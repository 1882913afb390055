"""Importer for any table (CSV, TSV, Excel, Parquet) with a column mapping: actors,
ties (e.g. a network's member list: one column of names and a fixed target),
observations (actor, indicator, year, value, unit) or initiatives (actor, title, text,
...; aligned with the SDGs and the Paris Agreement when written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from .. import countries
from ..errors import ValidationError
from ..limits import LimitExceeded, check_deadline
from ..model import Actor, Initiative, Observation, Tie
from ..store.schema import frameworks
from ..text import slugify
from . import register
from .base import Plan, Problem, ReviewRow
from .readers import read_table
from .resolving import StoreResolver, resolve_any
from .resolving import actor_exists as _exists
from .twinning import provenance_for

FIELDS = {
    "actors": ["name", "kind", "id", "country", "lat", "lon", "population", "wikidata", "geonames_id",
               "admin1", "founded", "axes"],
    "ties": ["source", "country", "target", "type", "since", "until", "status", "axes", "weight"],
    "observations": ["actor", "country", "indicator", "year", "value", "unit"],
    "initiatives": ["actor", "country", "title", "text", "axes", "since", "until", "status", "partners"],
}
REQUIRED = {"actors": ["name"], "ties": ["source"], "observations": ["actor", "year", "value"],
            "initiatives": ["actor", "title"]}
KINDS = ", ".join(FIELDS)


@register("table", "any table with --map: actors, ties (e.g. member lists), observations or initiatives")
def import_table(store, source, *, as_: str = "ties", mapping: dict[str, str] | None = None,
                 fixed: dict[str, Any] | None = None, encoding: str = "utf-8", sheet: str | None = None,
                 source_name: str | None = None, licence: str | None = None, as_of: str | None = None,
                 url: str | None = None, max_bytes: int | None = None) -> Plan:
    """``mapping`` maps our fields to the file's columns (``{"source": "City",
    "country": "Country"}``); ``fixed`` gives values for the whole file (``{"target":
    "c40", "type": "member_of"}``)."""
    mapping, fixed = dict(mapping or {}), dict(fixed or {})
    check_options(as_, mapping, fixed)
    kw = {"max_bytes": max_bytes} if max_bytes else {}
    table = read_table(source, encoding=encoding, sheet=sheet, **kw)
    table.require(list(mapping.values()))
    path = Path(source)
    plan = Plan(importer="table", source=str(path),
                provenance=provenance_for(path, source_name, licence, as_of, url),
                options={"as": as_, "mapping": mapping, "fixed": fixed})
    plan.rows_read = len(table.rows) + len(table.problems)
    for p in table.problems:
        plan.problems.append(Problem(file=str(path), **p))

    def value(row: dict[str, str], field: str) -> Any:
        if field in mapping:
            return row[mapping[field]] or None
        return fixed.get(field)

    cells = [value(row, "country") or "" for _, row in table.rows]
    sr = StoreResolver(store, [c for c in cells if c])
    name_field = {"ties": "source", "observations": "actor", "actors": "name", "initiatives": "actor"}[as_]
    if as_ == "ties":
        _check_target(store, fixed, mapping)
        plan.options["tie"] = {"type": fixed.get("type"), "source_field": mapping["source"],
                               "target": fixed.get("target"), "target_field": mapping.get("target"),
                               "target_type": _target_type(store, fixed.get("target"))}
    plan.options["country_fields"] = {mapping[name_field]: mapping.get("country", "")}
    towns: set[str] = set()
    for rowno, row in table.rows:
        check_deadline(file=str(path))
        try:
            if as_ == "actors":
                _actor_row(store, sr, plan, row, rowno, value, path)
                continue
            name = value(row, name_field) or ""
            res = resolve_any(store, sr, name, value(row, "country"))
            if not res.resolved:
                plan.problem_from(res, row=rowno, field_name=mapping[name_field], file=str(path))
                plan.review.append(ReviewRow(row=rowno, fields=row, ends={mapping[name_field]: None},
                                             candidates={mapping[name_field]: [c.id for c in res.candidates[:5]]},
                                             reasons={mapping[name_field]: f"{res.status}: {res.rule}"}))
                continue
            plan.count_resolution(res)
            if sr.is_provisional(res.id):
                towns.add(res.id)
            if as_ == "ties":
                target = value(row, "target")
                tgt = resolve_any(store, sr, target or "", None) if "target" in mapping else None
                if tgt is not None and not tgt.resolved:
                    plan.problem_from(tgt, row=rowno, field_name=mapping["target"], file=str(path))
                    continue
                plan.ties.append((Tie.parse({
                    "source": res.id, "target": tgt.id if tgt else target, "type": value(row, "type"),
                    "since": value(row, "since"), "until": value(row, "until"),
                    "status": value(row, "status"), "axes": value(row, "axes"),
                    "weight": value(row, "weight")}, row=rowno, file=str(path)),
                    plan.options["tie"]["target_type"]))
            elif as_ == "initiatives":
                partners = value(row, "partners")
                plan.initiatives.append(Initiative.parse({
                    "actor": res.id, "title": value(row, "title") or "", "text": value(row, "text") or "",
                    "axes": value(row, "axes"), "since": value(row, "since"), "until": value(row, "until"),
                    "status": value(row, "status"),
                    "partners": [x.strip() for x in partners.split(";") if x.strip()] if partners else []},
                    row=rowno, file=str(path)))
            else:
                plan.observations.append(Observation.parse({
                    "actor": res.id, "indicator": value(row, "indicator"), "year": value(row, "year"),
                    "value": value(row, "value"), "unit": value(row, "unit")}, row=rowno, file=str(path)))
        except LimitExceeded:
            raise                       # the whole import stops, not this row
        except ValidationError as exc:
            plan.problems.append(Problem(row=rowno, field=exc.field, file=str(path), reason=exc.detail))
    plan.towns = sorted(towns | set(plan.towns))
    sr.finish_plan(plan)
    return plan


def check_options(as_: str, mapping: dict[str, str], fixed: dict[str, Any]) -> None:
    """The options of a table import, checked before its file is read (the web checks
    them before it queues the import): the kind of rows, the fields mapped and fixed."""
    if as_ not in FIELDS:
        raise ValidationError(f"unknown table kind '{as_}'; use {KINDS}", field="as")
    unknown = [k for k in list(mapping) + list(fixed) if k not in FIELDS[as_]]
    if unknown:
        raise ValidationError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} for "
                              f"{as_}; use: {', '.join(FIELDS[as_])}", field="map")
    missing = [f for f in REQUIRED[as_] if f not in mapping]
    if missing:
        raise ValidationError(f"map the column(s) for {', '.join(missing)}, e.g. --map {missing[0]}=Name",
                              field="map")


def _target_type(store, target: str | None) -> str:
    if not target:
        return "actor"
    with store.connect() as conn:
        return "framework" if conn.execute(select(frameworks.c.id).where(frameworks.c.id == target)).first() \
            else "actor"


def _check_target(store, fixed: dict[str, Any], mapping: dict[str, str]) -> None:
    if "type" not in fixed and "type" not in mapping:
        raise ValidationError("say which tie each row is: --type member_of (or map a type column)", field="type")
    if "target" not in fixed and "target" not in mapping:
        raise ValidationError("say where the ties go: --target c40 (or map a target column)", field="target")
    target = fixed.get("target")
    if target and not _exists(store, target) and _target_type(store, target) != "framework":
        from ..actors import closest_names

        raise ValidationError(f"no actor '{target}' in the store; closest: "
                              f"{'; '.join(closest_names(store, target)) or 'none'}", field="target")


def _actor_row(store, sr, plan: Plan, row, rowno: int, value, path: Path) -> None:
    name = value(row, "name") or ""
    kind = value(row, "kind")
    if not kind:
        raise ValidationError("no kind; map a kind column or give --kind", field="kind", row=rowno)
    if kind == "city":
        res = sr.resolve(name, value(row, "country"))
        if res.resolved:
            plan.count_resolution(res)
            if sr.is_provisional(res.id):
                plan.towns.append(res.id)
            return
        if res.candidates:
            plan.problem_from(res, row=rowno, field_name="name", file=str(path))
            return
    data = {k: value(row, k) for k in FIELDS["actors"] if value(row, k) is not None}
    if data.get("country"):
        c = countries.lookup_name(data["country"])
        if c is None:
            raise ValidationError(f"'{data['country']}' is not a country name or code", field="country",
                                  row=rowno)
        data["country"] = c.alpha3
    actor_id = data.get("id") or slugify(f"{name}-{(data.get('country') or '').lower()}".strip("-"))
    if _exists(store, actor_id):
        plan.matched["id"] += 1
        return
    actor = Actor.parse(data | {"id": actor_id}, row=rowno, file=str(path))
    plan.actors.append((actor, {}, plan.provenance))
