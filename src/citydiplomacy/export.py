"""Exporting the store (or a filtered part of it) with provenance, in formats other tools
read: a Frictionless Data Package (CSV + ``datapackage.json``), plain CSV, Parquet, JSON.

A data package written here is what the ``datapackage`` importer reads, so a store
round-trips: export, import into a fresh store, export again gives the same files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select

from . import __version__
from .errors import ValidationError
from .store import Store
from .store.schema import (actors, aliases, framework_items, framework_titles, frameworks,
                           observations, provenance, ties)

FORMATS = ("datapackage", "csv", "parquet", "json")

ACTOR_COLUMNS = ["id", "name", "kind", "layer", "country", "lat", "lon", "population", "geonames_id",
                 "wikidata", "admin1", "founded", "axes", "attrs", "provenance_id",
                 "provenance_source", "provenance_licence", "provenance_as_of"]
TIE_COLUMNS = ["source", "target", "type", "since", "until", "status", "target_type", "axes", "weight",
               "note", "attrs", "provenance_id", "provenance_source", "provenance_url", "provenance_licence",
               "provenance_as_of", "provenance_run"]
ALIAS_COLUMNS = ["actor_id", "name", "lang", "provenance_id"]
PROVENANCE_COLUMNS = ["id", "source", "url", "licence", "as_of", "note", "run_id"]
FRAMEWORK_COLUMNS = ["id", "name", "attrs", "provenance_id"]
ITEM_COLUMNS = ["code", "framework", "level", "parent", "ordinal", "attrs", "provenance_id"]
TITLE_COLUMNS = ["code", "lang", "title", "short"]
OBSERVATION_COLUMNS = ["actor_id", "indicator", "year", "value", "unit", "provenance_id"]

TYPES = {"lat": "number", "lon": "number", "population": "integer", "geonames_id": "integer",
         "founded": "integer", "weight": "number", "provenance_id": "integer", "run_id": "integer",
         "provenance_run": "integer", "id": "string", "ordinal": "integer", "year": "integer",
         "value": "number", "attrs": "object", "name": "string"}


def collect(store: Store, *, kind: str | None = None, country: str | None = None,
            layer: str | None = None, tie_type: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows to export: actors matching the filters, every tie touching them (of
    ``tie_type``), the actors at the other end, their aliases, the frameworks, and the
    provenance records all of these point at."""
    from .actors import filter_actors

    with store.connect() as conn:
        a_stmt = filter_actors(select(actors), kind=kind, layer=layer, country=country)
        filtered = bool(kind or layer or country)
        actor_rows = {r.id: dict(r._mapping) for r in conn.execute(a_stmt)}
        t_stmt = select(ties)
        if tie_type:
            t_stmt = t_stmt.where(ties.c.type == tie_type)
        tie_rows = [dict(r._mapping) for r in conn.execute(t_stmt.order_by(ties.c.id))]
        if filtered:
            tie_rows = [t for t in tie_rows if t["source"] in actor_rows or t["target"] in actor_rows]
            ends = {t["source"] for t in tie_rows} | {t["target"] for t in tie_rows if t["target_type"] == "actor"}
            missing = ends - set(actor_rows)
            for chunk in _chunks(sorted(missing), 500):
                for r in conn.execute(select(actors).where(actors.c.id.in_(chunk))):
                    actor_rows[r.id] = dict(r._mapping)
        alias_rows = [dict(r._mapping) for r in conn.execute(select(aliases).order_by(aliases.c.id))
                      if r.actor_id in actor_rows]
        fw_rows = [dict(r._mapping) for r in conn.execute(select(frameworks).order_by(frameworks.c.id))]
        item_rows = [dict(r._mapping) for r in conn.execute(select(framework_items).order_by(framework_items.c.code))]
        title_rows = [dict(r._mapping) for r in conn.execute(
            select(framework_titles).order_by(framework_titles.c.code, framework_titles.c.lang))]
        obs_rows = [dict(r._mapping) for r in conn.execute(select(observations).order_by(observations.c.id))
                    if r.actor_id in actor_rows]
        prov = {r.id: dict(r._mapping) for r in conn.execute(select(provenance))}
    used = ({r["provenance_id"] for r in actor_rows.values()} | {r["provenance_id"] for r in tie_rows}
            | {r["provenance_id"] for r in alias_rows} | {r["provenance_id"] for r in fw_rows}
            | {r["provenance_id"] for r in item_rows} | {r["provenance_id"] for r in obs_rows})
    for r in actor_rows.values():
        p = prov[r["provenance_id"]]
        r.update(provenance_source=p["source"], provenance_licence=p["licence"], provenance_as_of=p["as_of"])
    for r in tie_rows:
        p = prov[r["provenance_id"]]
        r.update(provenance_source=p["source"], provenance_url=p["url"], provenance_licence=p["licence"],
                 provenance_as_of=p["as_of"], provenance_run=p["run_id"])
    return {
        "actors": sorted(actor_rows.values(), key=lambda r: r["id"]),
        "aliases": alias_rows, "ties": tie_rows,
        "provenance": [prov[i] for i in sorted(used)],
        "frameworks": fw_rows, "framework_items": item_rows, "framework_titles": title_rows,
        "observations": obs_rows,
    }


COLUMNS = {"actors": ACTOR_COLUMNS, "aliases": ALIAS_COLUMNS, "ties": TIE_COLUMNS,
           "provenance": PROVENANCE_COLUMNS, "frameworks": FRAMEWORK_COLUMNS,
           "framework_items": ITEM_COLUMNS, "framework_titles": TITLE_COLUMNS,
           "observations": OBSERVATION_COLUMNS}


def export_store(store: Store, out: str | Path, *, fmt: str = "datapackage", **filters) -> dict[str, int]:
    """Write the store (or the part the filters select) to the directory ``out``;
    returns the number of rows per table."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format '{fmt}'; use one of: {', '.join(FORMATS)}", field="format")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError("exists and is not a directory", file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    data = collect(store, **filters)
    if fmt in ("datapackage", "csv"):
        for name, rows in data.items():
            _write_csv(out / f"{name}.csv", rows, COLUMNS[name])
        if fmt == "datapackage":
            (out / "datapackage.json").write_text(json.dumps(_descriptor(data), indent=2, ensure_ascii=False) + "\n",
                                                  encoding="utf-8")
    elif fmt == "json":
        for name, rows in data.items():
            (out / f"{name}.json").write_text(json.dumps([{c: r.get(c) for c in COLUMNS[name]} for r in rows],
                                                         ensure_ascii=False, indent=1, default=str) + "\n",
                                              encoding="utf-8")
    else:
        _write_parquet(out, data)
    return {k: len(v) for k, v in data.items()}


def _cell(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return "" if v is None else v


def _write_csv(path: Path, rows: Iterable[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])


def _write_parquet(out: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValidationError("Parquet export needs pyarrow: pip install 'citydiplomacy[tables]'",
                              field="format") from None
    for name, rows in data.items():
        cols = COLUMNS[name]
        table = pa.table({c: [(_cell(r.get(c)) if isinstance(r.get(c), (dict, list)) else r.get(c)) for r in rows]
                          for c in cols})
        pq.write_table(table, out / f"{name}.parquet")


def _descriptor(data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    licences = sorted({p["licence"] for p in data["provenance"]})
    return {
        "profile": "tabular-data-package",
        "name": "citydiplomacy-export",
        "title": "City Diplomacy Observatory — export",
        "created_by": f"citydiplomacy {__version__}",
        "licenses": [{"name": lic} for lic in licences],
        "description": "Actors, ties, frameworks and observations with provenance; each row's "
                       "provenance_id points at provenance.csv (source, licence, as-of date, run).",
        "resources": [{
            "name": name, "path": f"{name}.csv", "profile": "tabular-data-resource", "format": "csv",
            "encoding": "utf-8",
            "schema": {"fields": [{"name": c, "type": TYPES.get(c, "string")} for c in COLUMNS[name]]},
        } for name in data],
    }


def _chunks(seq: list, n: int):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
