"""Territories (meso layer): every ISO 3166-1 entry that is not a state — Åland, the
Faroe Islands, Greenland, Hong Kong, French Polynesia, Montserrat, Western Sahara, ... —
and the Sahrawi Arab Democratic Republic, from ``curated/territories.yaml``.

A territory is an actor of kind ``region`` on the meso layer, with its ISO alpha-3 code
as id (as a state has), ``attrs.territory_of`` (its sovereign state, or none) and a
``located_in`` tie to that state. Member lists that name a territory by its ISO code
(the Nordic Council's Åland, Faroe Islands and Greenland; CARICOM's associate members;
APEC's Hong Kong) then load as ties like any state's, and the cities of a territory are
``located_in`` it. See docs/model.md, "Territories".
"""

from __future__ import annotations

import pycountry

from .. import countries
from ..model import Actor, Tie
from .context import BuildContext, load_yaml, provenance_from
from .states import ALIAS_LANGS, _translations, geonames_countries


def build(ctx: BuildContext) -> None:
    data = load_yaml("curated", "territories.yaml")
    prov_id = ctx.provenance(provenance_from(data["source"]))
    gn = geonames_countries()
    actors, aliases, ties = [], [], []
    for rec in data["territories"]:
        country = countries.require_code(rec["iso3"], field="territories.iso3")
        aid = country.alpha3.lower()
        pc = pycountry.countries.get(alpha_3=country.alpha3)
        sovereign = (rec.get("sovereign") or "").lower() or None
        if sovereign and sovereign not in ctx.actor_ids:
            raise ValueError(f"territories.yaml: {rec['iso3']}: sovereign '{rec['sovereign']}' is not a state")
        name = rec.get("name") or getattr(pc, "common_name", None) or country.name
        g = gn.get(country.alpha2, {})
        attrs = {"iso2": country.alpha2, "territory_of": sovereign,
                 "territory_status": rec["status"], "capital": g.get("capital") or None,
                 "note": rec.get("note")}
        actor = Actor.parse({
            "id": aid, "name": name, "kind": "region", "layer": "meso", "country": country.alpha3,
            "wikidata": rec.get("wikidata"), "population": g.get("population") or None,
            "axes": ["engagement"], "attrs": {k: v for k, v in attrs.items() if v is not None}},
            file="territories.yaml")
        actors.append(ctx.actor_row(actor, prov_id))
        names: dict[str | None, list[str]] = {None: [name, country.name, country.alpha3]}
        if pc is not None:
            names["en"] = [n for n in (pc.name, getattr(pc, "official_name", None)) if n]
            for lang in ALIAS_LANGS:
                tr = _translations(lang)
                if tr is not None:
                    names.setdefault(lang.split("_")[0], []).append(tr.gettext(pc.name))
        aliases.extend(ctx.alias_rows(aid, names, prov_id))
        if sovereign:
            ties.append(ctx.tie_row(Tie(source=aid, target=sovereign, type="located_in"), prov_id))
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.count("territories", len(actors))
    states, state_aliases = [], []
    for rec in data.get("states") or []:
        sprov = ctx.provenance(provenance_from(rec["source"]))
        actor = Actor.parse({
            "id": rec["id"], "name": rec["name"], "kind": "state", "country": rec["country"],
            "axes": ["engagement"], "attrs": {"un_status": "none", "claims": rec["country"].lower(),
                                              "note": rec.get("note")}},
            file="territories.yaml")
        states.append(ctx.actor_row(actor, sprov))
        state_aliases.extend(ctx.alias_rows(
            actor.id, {None: [rec["name"], rec["id"]], **(rec.get("aliases") or {})}, sprov))
    ctx.add_actors(states)
    ctx.add_aliases(state_aliases)
    ctx.count("states", len(states))
    ctx.add_ties(ties)
