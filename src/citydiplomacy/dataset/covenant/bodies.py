"""The Covenant's coordinators and supporters, as the JRC's rows name them.

A *coordinator* is a public authority that guides and supports signatories: a region, a
province, a metropolitan body, a ministry, a national energy agency. A *supporter* is a
not-for-profit body that promotes the Covenant among its members: an association of
municipalities, an energy agency, a network (Climate Alliance, Energy Cities, Eurocities).

Each name is matched, in order, to

1. an actor the store already holds, by its name or an alias (exactly, after
   normalisation), under the name's plain variants ("ICLEI - Local Governments for
   Sustainability, European Secretariat" → "ICLEI - Local Governments for Sustainability";
   "Polish Network Energie Cités (PNEC)" → "PNEC");
2. for a coordinator, the subdivision its name governs ("Region of Piemonte",
   "Provincia di Brescia", "Diputació de València", "Lviv Regional State Administration",
   "Xunta de Galicia - Conselleria de ..."), an ISO 3166-2 region of its signatories'
   country; or the state, for a national ministry;
3. otherwise a new actor named as the JRC names it: ``region`` for a body of local
   governments (an intermunicipal association, a metropolitan or island council),
   ``private_actor`` for a company, ``civil_society`` for the rest (associations,
   agencies, funds — the vocabulary has no kind of its own for a public agency).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from sqlalchemy import select

from ... import countries
from ...resolve import Gazetteer
from ...resolve.names import designation_keys
from ...resolve import subdivisions
from ...store import schema
from ...text import normalize
from .names import is_body_of_municipalities

__all__ = ["BODY_KINDS", "BodyIndex", "name_variants_of", "coordinator_subdivision", "is_ministry", "new_kind",
           "main_country"]

#: Kinds a coordinator or supporter may already be in the store as (not towns).
BODY_KINDS = ("city_network", "civil_society", "international_organization", "regional_organization",
              "private_actor", "academia", "geopolitical_bloc", "region")


def name_variants_of(name: str) -> list[str]:
    """The name and its plain variants: before " - " or a comma, without a bracket or the
    acronym inside it ("Polish Network Energie Cités (PNEC)"; not "(València)", which
    says where), either side of a sentence break ("Consejería de ... . Junta de
    Andalucía") or a slash."""
    out = [name]
    m = re.match(r"^(.*?)\s*\(([^)]*)\)\s*(.*)$", name)
    if m:
        out.append(f"{m.group(1)} {m.group(3)}".strip())
        if re.fullmatch(r"[A-Z][A-Z.&-]{1,9}", m.group(2).strip()):
            out.append(m.group(2).strip())
    for sep in (" - ", " – ", ", ", ". ", " / "):
        if sep in name:
            head, _, tail = name.partition(sep)
            out += [head, tail] if sep in (". ", " / ") else [head]
    return list(dict.fromkeys(v.strip() for v in out if v and v.strip()))


def _key(name: str) -> str:
    """A name's key for finding a body: normalised, without "the" ("Union of Baltic
    Cities" is the Union of the Baltic Cities)."""
    return " ".join(w for w in normalize(name).split() if w != "the")


class BodyIndex:
    """The store's actors that may be a coordinator or supporter, by the keys of their
    names and aliases (built once per build from the connection)."""

    def __init__(self, conn, kinds: Iterable[str] = BODY_KINDS):
        a, al = schema.actors, schema.aliases
        self.ids: dict[str, set[str]] = {}
        for actor_id, norm in conn.execute(select(al.c.actor_id, al.c.norm).join(a, a.c.id == al.c.actor_id)
                                           .where(a.c.kind.in_(list(kinds)))):
            self.ids.setdefault(_key(norm), set()).add(actor_id)

    def add(self, actor_id: str, names: Iterable[str]) -> None:
        for name in names:
            self.ids.setdefault(_key(name), set()).add(actor_id)

    def find(self, names: Iterable[str]) -> str | None:
        """The one actor that carries one of ``names``, trying them in order."""
        for name in names:
            key = _key(name)
            if len(key) < 3:
                continue
            ids = self.ids.get(key, set())
            if len(ids) == 1:
                return next(iter(ids))
        return None


#: How a coordinator's name says which subdivision it governs: patterns whose group 1 is
#: the subdivision's name, and the kind of subdivision they mean.
_REGION, _PROVINCE = "region", "province"
_GOVERNS = [
    (re.compile(p, re.IGNORECASE), level) for p, level in (
        (r"^(?:region of|regione|région|region|regional government of)\s+(.+)$", _REGION),
        (r"^(.+?)\s+(?:region|regional state administration|regional council|regional government|"
         r"county council|county|kraj|samospravny kraj)$", _REGION),
        (r"^(?:county council of|county council)\s+(.+)$", _REGION),
        (r"^(?:province of|provincia di|provincia autonoma di|provincie|provincia de|province de|"
         r"provinz|diputacio de|diputacion provincial de|diputacion de|diputacion of|deputation of|"
         r"conseil general de l|conseil general du|conseil general de la|conseil general des|"
         r"citta metropolitana di)\s+(.+)$", _PROVINCE),
        (r"^(.+?)\s+(?:province|county council)$", _PROVINCE),
        (r"^(?:gobierno de|xunta de|junta de|generalitat|govern de|gobierno vasco|"
         r"urzad marszalkowski wojewodztwa)\s+(.+?)(?:\s+w\s+\S+)?$", _REGION),
        (r"^(.+?)\s+government$", _REGION),
    )]
#: Subdivision types (pycountry's, normalised) that fit each level; a name of several
#: subdivisions is settled by them.
_TYPES = {
    _REGION: ("region", "autonomous community", "autonomous region", "oblast", "county", "voivodship",
              "voivodeship", "administrative region", "metropolitan region", "autonomous republic",
              "state", "land", "federal district", "capital city", "city"),
    _PROVINCE: ("province", "metropolitan city", "autonomous province", "free municipal consortium",
                "metropolitan department", "department", "metropolitan collectivity with special status",
                "county", "district", "oblast"),
}
#: Words of a name that are not part of the subdivision's name.
_NOISE = re.compile(r"\b(?:department of energy|svem|capitale)\b", re.IGNORECASE)
#: A national ministry (recorded as its state).
_MINISTRY = re.compile(r"\b(?:ministry|ministero|ministerio|ministere|ministerstvo|ministerie|ministerium)\b",
                       re.IGNORECASE)


def is_ministry(name: str) -> bool:
    return bool(_MINISTRY.search(normalize(name)))


def coordinator_subdivision(gz: Gazetteer, name: str, cc: str) -> str | None:
    """The gazetteer id of the ISO 3166-2 subdivision of country ``cc`` that a
    coordinator's name says it governs, or None."""
    for variant in name_variants_of(name):
        text = " ".join(_NOISE.sub(" ", normalize(variant)).split())
        for pattern, level in _GOVERNS:
            m = pattern.match(text)
            if not m:
                continue
            found = _subdivision(gz, m.group(1).strip(), cc, level)
            if found:
                return found
    return None


def _core_keys(core: str) -> list[str]:
    """Keys a subdivision may be indexed under for the name a coordinator gives it:
    the name, and the adjective or the full form its own language uses ("Lviv" →
    "lvivska" oblast, "Kosicky" → "kosicky kraj", "Poltava" → "poltavska")."""
    keys = list(designation_keys(core))
    if len(core) >= 4 and " " not in core:
        keys += [core + "ska", core + "a", core[:-1] + "ska", core[:-2] + "ka", core[:-2] + "ska",
                 core + " kraj", core + " oblast"]
    return list(dict.fromkeys(keys))


def _iso(gz: Gazetteer, key: str, cc: str) -> list[str]:
    return [i for i in dict.fromkeys(gz.region_by_name.get((key, cc), ()))
            if (gz.places[i].code or "").startswith(f"{cc}-") and not subdivisions.is_second_level(gz.places[i].code)]


def _subdivision(gz: Gazetteer, core: str, cc: str, level: str) -> str | None:
    ids: list[str] = []
    for key in _core_keys(core):
        ids = _iso(gz, key, cc)
        if ids:
            break
    if not ids:
        # "Province of Milan": the subdivision bears the city's name in its own language
        for pid in gz.by_name.get((normalize(core), cc), ()):
            ids = list(dict.fromkeys(i for n in gz._names_of.get(pid, []) for i in _iso(gz, n, cc)))
            if ids:
                break
    if len(ids) <= 1:
        return ids[0] if ids else None
    types = _TYPES[level]
    fit = [i for i in ids if normalize(subdivisions.records().get(gz.places[i].code, {}).get("type", "")) in types]
    if len(fit) > 1:        # a province before the region of the same name when the name says province
        ranked = [i for t in types for i in fit
                  if normalize(subdivisions.records()[gz.places[i].code]["type"]) == t]
        return ranked[0]
    return fit[0] if fit else None


_COMPANY = re.compile(r"\b(?:llc|ltd|jsc|s a|sa|s r l|srl|sp z o o|mbh|gmbh|d o o|nonprofit llc|nonprofit ltd)\b")
_ASSOCIATION = re.compile(r"\b(?:association|associazione|associacao|asociacion|associration|union of|federation|"
                          r"federacion|alliance|network|xarxa|red|congress|conference|convention|chamber|fund|"
                          r"agency|agencia|agenzia|agence|agentia|foundation|fondazione|fundatia|stowarzyszenie|"
                          r"egyesulet|szovetseg|institute|centre|center|trust)\b")
_REGIONAL_BODY = re.compile(r"\b(?:intercommunale|intercommunal|metropol\w*|metropole|metropolitana|cabildo|"
                            r"consell insular|consejo insular|consell de|region|regio|agglomeration|"
                            r"comunidade intermunicipal|autorita di ambito|communaute)\b")


def new_kind(name: str) -> str:
    """The kind of a new coordinator or supporter actor (see the module docstring): a
    company, an association or agency, a body of local governments."""
    n = normalize(name)
    if _COMPANY.search(n):
        return "private_actor"
    if _ASSOCIATION.search(n):
        return "civil_society"
    if is_body_of_municipalities(name) or _REGIONAL_BODY.search(n):
        return "region"
    return "civil_society"


def main_country(ccs: Counter) -> str | None:
    """The country of a body whose signatories are (nearly) all in one country."""
    if not ccs:
        return None
    cc, n = ccs.most_common(1)[0]
    return cc if n >= 0.9 * sum(ccs.values()) and countries.lookup_code(cc) else None
