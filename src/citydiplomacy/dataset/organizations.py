"""Curated organisations: global institutions and geopolitical blocs (macro), regional
cooperation bodies (meso) and transnational city networks (micro), from
``curated/organizations.yaml`` and ``curated/city_networks.yaml``.

Each entry names its public source and an as-of date; so does each membership list.
Member states and member organisations become ``member_of`` ties, observer states
``participates_in`` ties, member cities ``member_of`` ties, and the city that hosts
the secretariat a ``hosts`` tie.
"""

from __future__ import annotations

from typing import Any

from .. import countries
from ..resolve import geonames
from ..model import Actor, Tie
from ..text import normalize
from ..vocab import Layer
from . import cities
from .context import BuildContext, load_yaml, provenance_from

FILES = (("organizations.yaml", "organizations"), ("city_networks.yaml", "networks"))


def _entries() -> list[dict[str, Any]]:
    out = []
    for fname, key in FILES:
        for entry in load_yaml("curated", fname)[key]:
            entry["_file"] = fname
            out.append(entry)
    return out


def _find_city(ctx: BuildContext, spec: dict[str, Any]) -> str | None:
    """A member or seat city: by GeoNames id, else by exact name in its country (the
    most populous place of that name)."""
    gz = ctx.gazetteer
    gid = spec.get("geonameid")
    if gid and int(gid) in gz.by_geonames and gz.places[gz.by_geonames[int(gid)]].in_store:
        return gz.by_geonames[int(gid)]
    country = countries.lookup_code(str(spec.get("country", "")))
    if country is None:
        return None
    ids = [i for i in gz.by_name.get((normalize(spec["name"]), country.alpha2), [])
           if gz.places[i].in_store]
    return max(ids, key=lambda i: gz.places[i].population) if ids else None


def build(ctx: BuildContext) -> None:
    entries = _entries()
    actors, aliases = [], []
    for e in entries:
        prov_id = ctx.provenance(provenance_from(e["source"]))
        attrs = {k: e[k] for k in ("note", "url") if e.get(k)}
        if e.get("seat"):
            attrs["seat"] = e["seat"]
        actor = Actor.parse({
            "id": e["id"], "name": e["name"], "kind": e["kind"], "layer": e.get("layer"),
            "wikidata": e.get("wikidata"), "founded": e.get("founded"), "axes": e.get("axes"),
            "attrs": attrs}, file=e["_file"])
        actors.append(ctx.actor_row(actor, prov_id))
        names: dict[str | None, list[str]] = {None: [e["name"], e["id"]]}
        for lang, values in (e.get("aliases") or {}).items():
            names[lang] = values if isinstance(values, list) else [values]
        aliases.extend(ctx.alias_rows(actor.id, names, prov_id))
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    for layer in Layer:
        ctx.count(f"organizations.{layer.value}",
                  sum(1 for a in actors if a["layer"] == layer.value))
    _add_missing_member_cities(ctx, entries)
    ties = []
    for e in entries:
        ties.extend(_membership_ties(ctx, e))
        seat = e.get("seat")
        if seat:
            city = _find_city(ctx, {"name": seat.get("city", ""), "country": seat.get("country", ""),
                                    "geonameid": seat.get("geonameid")})
            if city:
                prov_id = ctx.provenance(provenance_from(e["source"]))
                ties.append(ctx.tie_row(Tie(source=city, target=e["id"], type="hosts",
                                            axes=e.get("axes") or []), prov_id))
            else:
                ctx.report.setdefault("unresolved_seats", []).append(f"{e['id']}: {seat}")
        ties.extend(_curated_ties(ctx, e))
    ctx.add_ties(ties)


def _curated_ties(ctx: BuildContext, e: dict[str, Any]) -> list:
    """Other sourced ties of an entry (``ties:``), e.g. a network's partnership with a
    UN agency: ``{type: partner_of, target: un-habitat, source: {...}}``."""
    rows = []
    for spec in e.get("ties") or []:
        if spec["target"] not in ctx.actor_ids:
            raise ValueError(f"{e['_file']}: tie from '{e['id']}' to unknown actor '{spec['target']}'")
        prov_id = ctx.provenance(provenance_from(spec.get("source") or e["source"]))
        rows.append(ctx.tie_row(Tie.parse({
            "source": e["id"], "target": spec["target"], "type": spec["type"],
            "since": spec.get("since"), "until": spec.get("until"), "status": spec.get("status"),
            "axes": spec.get("axes", e.get("axes") or []), "note": spec.get("note")},
            file=e["_file"]), prov_id))
    return rows


def _add_missing_member_cities(ctx: BuildContext, entries: list[dict[str, Any]]) -> None:
    """Member and seat cities below 15,000 inhabitants (Kirkenes) come from GeoNames
    cities500 by id."""
    gz = ctx.gazetteer
    wanted = {str(c["geonameid"]) for e in entries
              for c in [*((e.get("members") or {}).get("cities") or []), e.get("seat") or {}]
              if c.get("geonameid") and int(c["geonameid"]) not in gz.by_geonames}
    if not wanted:
        return
    records = geonames.load_records("cities500.json")
    written = cities.insert_records(ctx, [records[g] for g in wanted if g in records],
                                    ctx.provenance(geonames.provenance()), source_file="cities500")
    ctx.count("towns", len(written))


def _membership_ties(ctx: BuildContext, e: dict[str, Any]) -> list:
    members = e.get("members") or {}
    if not members:
        return []
    prov_id = ctx.provenance(provenance_from(members.get("source") or e["source"]))
    axes = e.get("axes") or []
    rows = []

    def tie(source: str, kind: str, spec: dict[str, Any]):
        return ctx.tie_row(Tie.parse({
            "source": source, "target": e["id"], "type": kind, "since": spec.get("since"),
            "until": spec.get("until"), "status": spec.get("status"), "axes": axes,
            "note": spec.get("note")}, file=e["_file"]), prov_id)

    for key, kind in (("states", "member_of"), ("observers", "participates_in")):
        for spec in members.get(key) or []:
            spec = spec if isinstance(spec, dict) else {"state": spec}
            if spec.get("actor"):            # a state without an ISO code of its own (SADR)
                member = spec["actor"]
            else:                            # a state or a territory, by its ISO code
                member = countries.require_code(spec["state"], field=f"{e['id']}.members.{key}").alpha3.lower()
            if member not in ctx.actor_ids:
                ctx.report.setdefault("unknown_member_states", []).append(f"{e['id']}: {member.upper()}")
                continue
            rows.append(tie(member, kind, spec))
    for spec in members.get("organizations") or []:
        spec = spec if isinstance(spec, dict) else {"organization": spec}
        org = spec.get("organization") or spec.get("id")
        if org not in ctx.actor_ids:
            ctx.report.setdefault("unknown_member_organizations", []).append(f"{e['id']}: {org}")
            continue
        rows.append(tie(org, "member_of", spec))
    for spec in members.get("cities") or []:
        city = _find_city(ctx, spec)
        if city is None:
            ctx.report.setdefault("unresolved_member_cities", []).append(
                f"{e['id']}: {spec.get('name')} ({spec.get('country')})")
            continue
        rows.append(tie(city, "member_of", spec))
    return rows
