"""Importer for Frictionless Data Packages as written by ``citydip export``
(``datapackage.json`` + actors, aliases, ties, provenance, frameworks, observations CSVs),
so that a store round-trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..limits import LimitExceeded, check_deadline
from ..model import Actor, Observation, Provenance, Tie
from . import register
from .base import Plan, Problem
from .readers import read_json, read_table

REQUIRED = ("actors", "ties", "provenance")


def _json(value: str, default: Any = None) -> Any:
    if value in ("", None):
        return default
    return json.loads(value)


def _none(value: str) -> str | None:
    return value if value != "" else None


@register("datapackage", "a Frictionless Data Package (datapackage.json), as citydip export writes")
def import_datapackage(store, source, *, encoding: str = "utf-8", max_bytes: int | None = None) -> Plan:
    root = Path(source)
    descriptor = root / "datapackage.json" if root.is_dir() else root
    if not descriptor.exists():
        raise ValidationError("no datapackage.json here; give the package's directory or descriptor",
                              file=str(root))
    meta = read_json(descriptor, what="valid JSON (datapackage.json)")
    if not isinstance(meta, dict):
        raise ValidationError("datapackage.json must hold an object with \"resources\"", file=str(descriptor))
    resources = {r.get("name"): r for r in meta.get("resources", []) if isinstance(r, dict)}
    missing = [r for r in REQUIRED if r not in resources]
    if missing:
        raise ValidationError(f"the package lacks the resource(s) {', '.join(missing)}", file=str(descriptor))
    base = descriptor.parent

    def table(name: str):
        if name not in resources:
            return None
        return read_table(base / resources[name]["path"], encoding=encoding, allow_empty=True)

    prov_table = table("provenance")
    provs: dict[str, Provenance] = {}
    for rowno, r in prov_table.rows:
        provs[r["id"]] = Provenance.parse({"source": r["source"], "url": _none(r["url"]),
                                           "licence": r["licence"], "as_of": _none(r["as_of"]),
                                           "note": _none(r["note"])}, row=rowno, file=str(prov_table.path))
    plan = Plan(importer="datapackage", source=str(descriptor),
                provenance=Provenance(source=meta.get("title") or descriptor.parent.name,
                                      url=str(descriptor), licence=", ".join(
                                          lic.get("name", "") for lic in meta.get("licenses", [])) or "not stated"))

    def prov_of(r: dict, rowno: int, path) -> Provenance:
        p = provs.get(r.get("provenance_id", ""))
        if p is None:
            raise ValidationError(f"provenance_id '{r.get('provenance_id')}' is not in provenance.csv",
                                  field="provenance_id", row=rowno, file=str(path))
        return p

    alias_table = table("aliases")
    if alias_table:
        for rowno, r in alias_table.rows:
            plan.aliases.append((r["actor_id"], r["name"], _none(r["lang"]), prov_of(r, rowno, alias_table.path)))
    fw_table, item_table, title_table = table("frameworks"), table("framework_items"), table("framework_titles")
    if fw_table:
        items = [r for _, r in item_table.rows] if item_table else []
        titles = [r for _, r in title_table.rows] if title_table else []
        for rowno, r in fw_table.rows:
            fw_items = [{"code": i["code"], "framework": i["framework"], "level": i["level"],
                         "parent": _none(i["parent"]), "ordinal": int(i["ordinal"] or 0),
                         "attrs": _json(i["attrs"])} for i in items if i["framework"] == r["id"]]
            codes = {i["code"] for i in fw_items}
            fw_titles = [{"code": t["code"], "lang": t["lang"], "title": t["title"], "short": _none(t["short"])}
                         for t in titles if t["code"] in codes]
            plan.frameworks.append(({"id": r["id"], "name": _json(r["name"], {}), "attrs": _json(r["attrs"])},
                                    fw_items, fw_titles, prov_of(r, rowno, fw_table.path)))
    actor_table = table("actors")
    for rowno, r in actor_table.rows:
        check_deadline(file=str(descriptor))
        try:
            actor = Actor.parse({
                "id": r["id"], "name": r["name"], "kind": r["kind"], "layer": r["layer"],
                "country": _none(r["country"]), "lat": _none(r["lat"]), "lon": _none(r["lon"]),
                "population": _none(r["population"]), "geonames_id": _none(r["geonames_id"]),
                "wikidata": _none(r["wikidata"]), "admin1": _none(r["admin1"]),
                "founded": _none(r["founded"]), "axes": r["axes"], "attrs": _json(r["attrs"], {})},
                row=rowno, file=str(actor_table.path))
            plan.actors.append((actor, None, prov_of(r, rowno, actor_table.path)))
        except LimitExceeded:
            raise
        except ValidationError as exc:
            plan.problems.append(Problem(row=rowno, field=exc.field, file=str(actor_table.path), reason=exc.detail))
    tie_table = table("ties")
    for rowno, r in tie_table.rows:
        check_deadline(file=str(descriptor))
        try:
            tie = Tie.parse({"source": r["source"], "target": r["target"], "type": r["type"],
                             "since": _none(r["since"]), "until": _none(r["until"]), "status": r["status"],
                             "axes": r["axes"], "weight": _none(r["weight"]), "note": _none(r["note"]),
                             "attrs": _json(r.get("attrs"), {})},
                            row=rowno, file=str(tie_table.path))
            plan.ties.append((tie, r.get("target_type") or "actor", prov_of(r, rowno, tie_table.path)))
        except LimitExceeded:
            raise
        except ValidationError as exc:
            plan.problems.append(Problem(row=rowno, field=exc.field, file=str(tie_table.path), reason=exc.detail))
    obs_table = table("observations")
    if obs_table:
        for rowno, r in obs_table.rows:
            plan.observations.append(Observation.parse({
                "actor": r["actor_id"], "indicator": r["indicator"], "year": r["year"], "value": r["value"],
                "unit": _none(r["unit"])}, row=rowno, file=str(obs_table.path)))
    plan.rows_read = len(actor_table.rows) + len(tie_table.rows)
    return plan
