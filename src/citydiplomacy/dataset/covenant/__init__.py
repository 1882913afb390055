"""The Covenant of Mayors' signatories, from the JRC's open data (MyCovenant, 5th release,
January 2024, CC BY 4.0; ``data/covenant/signatories.csv``, derived by
``scripts/build_covenant.py``).

Every signatory is located with :mod:`.locate` and tied ``member_of`` the Covenant with
its date of adhesion (``since``), its status (``published`` → active, ``on_hold`` →
suspended) and, in the tie's ``attrs``, its commitments, ``gcom_id`` and group. A joint
signatory (a group) becomes a ``region`` actor of its own whose municipalities are tied
``member_of`` it; a group that only names its municipalities ("Alkmaar, Bergen,
Castricum, …") is split into them. A municipality no gazetteer holds becomes a city
actor from the JRC's row when its coordinates can be trusted; a signatory that is a body
of several municipalities ("Rennes Métropole", "Unione dei Comuni …") a ``region``
actor. Coordinators and supporters become actors (:mod:`.bodies`) with ``coordinates``
and ``supports`` ties. What is not sure is reported, never guessed: docs/data.md
("Covenant of Mayors") gives the method and the figures.

Which network a row joins: the Covenant of Mayors – Europe (``covenant-of-mayors-eu``)
for the signatories of the European Commission's Covenant and its regional chapters for
the East and the South, all of which report on MyCovenant; the Global Covenant of Mayors
(``gcom``) itself for the few signatories elsewhere (the Americas, Bangladesh) whose
regional covenants are not the Commission's.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import median
from typing import Any, Iterable

from rapidfuzz import fuzz

from ... import countries
from ...model import Actor, Provenance, Tie
from ...resolve import Resolution, Resolver, geonames, name_variants, subdivisions, supplement, with_territories
from ...resolve import Place, districts
from ...resolve.gazetteer import distance_km
from ...resolve.names import split_name
from ...text import normalize, slugify
from .. import cities
from ..context import BuildContext, data_path
from . import bodies
from .locate import GROUP_KM, REGION_KM, Entry, Locator
from .names import group_parts, is_body_of_municipalities, place_name, place_names

__all__ = ["PROVENANCE", "NETWORK", "GLOBAL_NETWORK", "Signatory", "read_signatories", "chapter", "build"]

PROVENANCE = Provenance(
    source="JRC — Global Covenant of Mayors: MyCovenant signatories (df1), 5th release, January 2024 "
           "(Baldi, Franco, Melica, Treville, Bertoldi 2024)",
    url="https://data.jrc.ec.europa.eu/dataset?q=GCoM+MyCovenant",
    licence="CC BY 4.0", as_of="2024-01",
    note="© European Union, European Commission Joint Research Centre; derived by scripts/build_covenant.py "
         "(data/covenant/signatories.csv: mayors' names dropped, missing values and codes cleaned); "
         "names resolved by citydiplomacy.resolve")

NETWORK = "covenant-of-mayors-eu"
GLOBAL_NETWORK = "gcom"
#: The Covenant's chapter for the Eastern Partnership and Central Asia ("CoM East").
EAST = frozenset({"AM", "AZ", "BY", "GE", "MD", "UA", "KZ", "KG", "TJ", "UZ", "TM"})
#: The chapter for the Southern Neighbourhood ("CoM South"; its rows' ids end in ``_med``).
SOUTH = frozenset({"DZ", "EG", "IL", "JO", "LB", "LY", "MA", "PS", "SY", "TN"})
#: A row left unresolved by these rules may become a new city from the JRC's row.
NEW_CITY_RULES = frozenset({"no_match", "fuzzy_unsure", "coordinates_disagree", "ambiguous", "composite_name"})
#: A new city is not made where a known place of a related name lies within this
#: distance (see :func:`.locate.related_names`): it may be that place.
GUARD_KM = 2.0
#: Two new cities of one country this close with alike names are one place.
SAME_NEW_KM = 3.0
AXES = ["sustainability"]


@dataclass
class Signatory:
    """One row of ``signatories.csv``."""

    organisation_id: str
    gcom_id: str
    name: str
    country: str
    population: int | None
    lat: float | None
    lon: float | None
    coordinates: str
    is_group: bool
    group_id: str
    group_name: str
    adhesion: str
    status: str
    since: str
    commitments: list[str]
    coordinator: str
    supporter: str
    name_is_mayor: bool = False

    @classmethod
    def from_row(cls, r: dict[str, str]) -> "Signatory":
        return cls(
            organisation_id=r["organisation_id"], gcom_id=r["gcom_id"], name=r["name"], country=r["country"],
            population=int(r["population"]) if r["population"] else None,
            lat=float(r["lat"]) if r["lat"] else None, lon=float(r["lon"]) if r["lon"] else None,
            coordinates=r["coordinates"], is_group=r["is_group"] == "1", group_id=r["group_id"],
            group_name=r["group_name"], adhesion=r["adhesion"], status=r["status"], since=r["since"],
            commitments=[c for c in r["commitments"].split(";") if c], coordinator=r["coordinator"],
            supporter=r["supporter"], name_is_mayor=r.get("name_is_mayor") == "1")

    def entry(self) -> Entry:
        return Entry(self.name, self.country, self.lat, self.lon, self.coordinates, self.population)


def read_signatories(path=None) -> list[Signatory]:
    """The shipped signatories (or those of a CSV with the same columns at ``path``)."""
    src = path if path is not None else data_path("covenant", "signatories.csv")
    with src.open(encoding="utf-8", newline="") as fh:
        return [Signatory.from_row(r) for r in csv.DictReader(fh)]


@lru_cache(maxsize=1)
def _continents() -> dict[str, str]:
    with open(geonames.data_file("countries.json"), encoding="utf-8") as fh:
        return {cc: c["continentcode"] for cc, c in json.load(fh).items()}


def chapter(s: Signatory) -> str | None:
    """The Covenant's chapter a signatory belongs to ("Europe", "East", "South"), or None
    for a signatory of another regional covenant of the Global Covenant."""
    if s.organisation_id.endswith("_med") or s.country in SOUTH:
        return "South"
    if s.country in EAST:
        return "East"
    if _continents().get(s.country) == "EU" or s.country in ("TR", "CY", "XK"):
        return "Europe"
    return None


# -- the build ---------------------------------------------------------------------------


@dataclass
class Located:
    """An entry located: a signatory's row (``part`` None) or a name of a group's list."""

    sig: Signatory
    entry: Entry
    res: Resolution
    part: str | None = None
    listed: bool = True          # a part of an explicit (comma) list
    actor: str | None = None     # the actor in the store, once decided
    outcome: str = ""            # resolved, new_city, new_body, ambiguous, unresolved


@dataclass
class _State:
    ctx: BuildContext
    prov_id: int
    sigs: list[Signatory]
    located: list[Located] = field(default_factory=list)
    group_actor: dict[str, str] = field(default_factory=dict)     # group id -> actor id
    new_cities: list[dict[str, Any]] = field(default_factory=list)
    new_bodies: int = 0
    membership_ties: int = 0
    aliases_added: int = 0
    membership_status: dict[str, int] = field(default_factory=dict)
    bodies_report: dict[str, dict[str, int]] = field(default_factory=dict)


def build(ctx: BuildContext, *, signatories: list[Signatory] | None = None) -> None:
    """Add the Covenant's signatories, groups, coordinators and supporters to the store
    (see the module docstring); the report goes to ``ctx.report["covenant"]``."""
    sigs = signatories if signatories is not None else read_signatories()
    st = _State(ctx, ctx.provenance(PROVENANCE), sigs)
    missing = [n for n in (NETWORK, GLOBAL_NETWORK) if n not in ctx.actor_ids]
    if missing:
        raise ValueError(f"the Covenant needs the networks {', '.join(missing)} (curated city_networks.yaml)")
    locator = _locate(st)
    _decide(st, locator)
    mapping = _materialise(st)
    _write_new_actors(st, locator)
    for loc in st.located:
        if loc.actor is None and loc.res.resolved:
            loc.actor = mapping.get(loc.res.id, loc.res.id)
    _write_groups(st)
    _write_aliases(st)
    _write_memberships(st)
    _write_bodies(st, locator)
    _report(st)


def _locate(st: _State) -> Locator:
    """Locate every row that is not a group, and every name of a group's list that none
    of the group's own rows names; then the names of lists left unsure again, near the
    group's other municipalities."""
    gz = st.ctx.gazetteer
    members: dict[str, set[str]] = defaultdict(set)
    for s in st.sigs:
        if s.group_id:
            members[s.group_id].add(normalize(place_name(s.name)[0]))
    entries: list[tuple[Signatory, Entry, str | None, bool]] = []
    for s in st.sigs:
        if not s.is_group:
            entries.append((s, s.entry(), None, True))
            continue
        parts, explicit = group_parts(s.name)
        for part in parts:
            norm = normalize(place_name(part)[0])
            if not any(norm == m or fuzz.ratio(norm, m) >= 90 for m in members[s.organisation_id]):
                entries.append((s, Entry(part, s.country), part, explicit))
    ccs = with_territories({s.country for s in st.sigs})
    wanted: set[str] = set()
    for _, e, _, _ in entries:
        for name, _ in place_names(e.name):
            for piece in [name, *split_name(name)]:
                wanted.update(v for v, _ in name_variants(piece))
    geonames.extend_gazetteer(gz, ccs, wanted)
    subdivisions.extend_gazetteer(gz, ccs)
    supplement.extend_gazetteer(gz, ccs, wanted)
    locator = Locator(Resolver(gz), ccs)
    for s, e, part, explicit in entries:
        st.located.append(Located(s, e, locator.locate(e), part, explicit))
    _locate_parts_again(st, locator)
    # a name split at dashes or "e"/"y" is a list only if every part is a place
    by_group: dict[str, list[Located]] = defaultdict(list)
    for loc in st.located:
        if loc.part is not None and not loc.listed:
            by_group[loc.sig.organisation_id].append(loc)
    dropped = {gid for gid, locs in by_group.items() if not all(loc.res.resolved for loc in locs)}
    st.located = [loc for loc in st.located if not (loc.part is not None and loc.sig.organisation_id in dropped)]
    locator.commit()
    return locator


def _locate_parts_again(st: _State, locator: Locator) -> None:
    """Names of a group's list weighed against the group's other municipalities: one
    unsure on its own, or found more than :data:`~.locate.GROUP_KM` away from the centre
    (the median point) of the others (the Huelva group's "Lucena" is not Lucena in Córdoba, 200 km off), is
    located again with that centre as its coordinates."""
    points: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for i, loc in enumerate(st.located):
        if not loc.res.resolved:
            continue
        gid = loc.sig.organisation_id if loc.part is not None else loc.sig.group_id
        p = locator.place(loc.res.id)
        if gid and p.lat is not None:
            points[gid].append((str(i), p.lat, p.lon))
    for i, loc in enumerate(st.located):
        others = [(lat, lon) for j, lat, lon in points.get(loc.sig.organisation_id, ()) if j != str(i)]
        if loc.part is None or not others:
            continue
        lat, lon = median(p[0] for p in others), median(p[1] for p in others)   # one stray place moves it little
        if loc.res.resolved:
            p = locator.place(loc.res.id)
            if p.lat is None or distance_km(p, Place("?", "", "", lat=lat, lon=lon)) <= GROUP_KM:
                continue
        again = locator.locate(Entry(loc.part, loc.sig.country, lat, lon, "group"))
        if again.resolved or loc.res.resolved:
            loc.res = again


def _decide(st: _State, locator: Locator) -> None:
    """Resolved rows keep their place; a body of municipalities becomes a region actor; a
    municipality no gazetteer holds, with coordinates to trust, a new city — unless a
    place of a related name lies at its point (it may be that place); the rest is
    reported."""
    for loc in st.located:
        s, res = loc.sig, loc.res
        if res.resolved:
            loc.outcome = "resolved"
        elif loc.part is None and s.name_is_mayor:
            loc.outcome, res.rule = "unresolved", "name_is_mayor"
            res.evidence["reason"] = "the row's name is its mayor's, not a place's"
        elif loc.part is None and is_body_of_municipalities(s.name):
            loc.outcome = "new_body"
        elif loc.part is None and s.coordinates == "ok" and res.rule in NEW_CITY_RULES:
            near = locator.related(place_name(s.name)[0], s.lat, s.lon, GUARD_KM)
            if not near:
                loc.outcome = "new_city"
            else:
                loc.outcome = "ambiguous"
                p = near[0][1]
                res.rule = "related_name_at_point"
                res.evidence["reason"] = (f"{p.name} (pop {int(p.population):,}) lies {near[0][0]:.1f} km away: "
                                          "the same place, or a part of it?")
        else:
            loc.outcome = "ambiguous" if res.status == "ambiguous" else "unresolved"
            if loc.part is None and s.coordinates != "ok" and res.rule in NEW_CITY_RULES:
                res.evidence["reason"] = (f"{res.evidence.get('reason', 'no place of that name')}; its coordinates "
                                          f"({s.coordinates}) cannot place a new one")


def _materialise(st: _State) -> dict[str, str]:
    """Write the provisional places (small towns, subdivisions, supplementary places,
    districts of cities) that a resolved row uses; return {place id: actor id}."""
    ctx = st.ctx
    used = {loc.res.id for loc in st.located if loc.outcome == "resolved"}
    used |= {districts.record(ctx.gazetteer, e)["city"] for e in used if districts.is_provisional(e)}
    mapping = {**cities.materialise(ctx, used), **cities.materialise_regions(ctx, used),
               **cities.materialise_supplement(ctx, used)}
    mapping.update(cities.materialise_districts(ctx, used, mapping, st.prov_id))
    return mapping


def _title(name: str) -> str:
    """A name written in capitals ("VILLAR DEL ARZOBISPO") in the usual case."""
    if not name.isupper():
        return name
    small = {"de", "del", "della", "delle", "dei", "di", "da", "do", "dos", "das", "du", "des", "la", "las",
             "los", "le", "les", "el", "en", "sul", "sulla", "y", "i", "e"}
    words = name.lower().split()
    return " ".join(w if i and w in small else w[:1].upper() + w[1:] for i, w in enumerate(words))


def _free_id(ctx: BuildContext, base: str, fallback: str) -> str:
    if base not in ctx.actor_ids:
        return base
    if fallback not in ctx.actor_ids:
        return fallback
    n = 2
    while f"{fallback}-{n}" in ctx.actor_ids:
        n += 1
    return f"{fallback}-{n}"


def _write_new_actors(st: _State, locator: Locator) -> None:
    """New cities (one per place, several rows may name it) and bodies of municipalities,
    from the JRC's rows, each with a ``located_in`` tie to its state."""
    ctx = st.ctx
    groups: list[list[Located]] = []
    cells: dict[tuple, list[list[Located]]] = defaultdict(list)       # rows by country and 0.1° cell
    for loc in (loc for loc in st.located if loc.outcome == "new_city"):
        s = loc.sig
        norm = normalize(place_name(s.name)[0])
        i, j = int(s.lat * 10), int(s.lon * 10)
        near = [g for di in (-1, 0, 1) for dj in (-1, 0, 1) for g in cells[(s.country, i + di, j + dj)]]
        same = next((g for g in near if _km(g[0].sig, s) <= SAME_NEW_KM
                     and fuzz.ratio(normalize(place_name(g[0].sig.name)[0]), norm) >= 80), None)
        if same is not None:
            same.append(loc)
        else:
            groups.append([loc])
            cells[(s.country, i, j)].append(groups[-1])
    actors, aliases, ties = [], [], []
    for g in groups:
        s = min((loc.sig for loc in g), key=lambda x: (x.status != "published", x.since))
        name = _title(place_name(s.name)[0])
        country = countries.lookup_code(s.country)
        actor_id = _free_id(ctx, f"{slugify(name)}-{s.country.lower()}",
                            f"{slugify(name)}-{s.country.lower()}-covenant")
        region = locator.region_near(s.lat, s.lon, s.country)
        attrs = {"from": "JRC MyCovenant signatories: a municipality that no gazetteer of ours holds",
                 "admin1_from": f"the nearest known place within {REGION_KM:g} km" if region else None,
                 "population_at_adhesion": s.population, "population_year": s.since[:4] if s.population else None,
                 "gcom_id": s.gcom_id or None}
        actor = Actor.parse({"id": actor_id, "name": name, "kind": "city", "country": country.alpha3,
                             "lat": s.lat, "lon": s.lon, "population": s.population,
                             "admin1": region,
                             "attrs": {k: v for k, v in attrs.items() if v is not None}})
        actors.append(ctx.actor_row(actor, st.prov_id))
        ctx.actor_ids.add(actor_id)
        aliases.extend(ctx.alias_rows(actor_id, [name, *(loc.sig.name for loc in g)], st.prov_id))
        ties.append(ctx.tie_row(Tie(source=actor_id, target=country.alpha3.lower(), type="located_in"),
                                st.prov_id))
        st.new_cities.append({"id": actor_id, "rows": len(g)})
        for loc in g:
            loc.actor = actor_id
    bodies_written: dict[str, str] = {}
    for loc in (loc for loc in st.located if loc.outcome == "new_body"):
        s = loc.sig
        key = f"{s.country}:{normalize(place_name(s.name)[0])}"
        if key not in bodies_written:
            name = _title(s.name)
            country = countries.lookup_code(s.country)
            base = f"{slugify(name)[:60].strip('-')}-{s.country.lower()}"
            actor_id = _free_id(ctx, base, f"{base}-covenant")
            ok = s.coordinates == "ok"
            actor = Actor.parse({
                "id": actor_id, "name": name, "kind": "region", "country": country.alpha3,
                "lat": s.lat if ok else None, "lon": s.lon if ok else None,
                "attrs": {"covenant_body": "a body of several municipalities that signed the Covenant itself",
                          "population_at_adhesion": s.population, "gcom_id": s.gcom_id or None}})
            actors.append(ctx.actor_row(actor, st.prov_id))
            ctx.actor_ids.add(actor_id)
            aliases.extend(ctx.alias_rows(actor_id, [name, s.name], st.prov_id))
            ties.append(ctx.tie_row(Tie(source=actor_id, target=country.alpha3.lower(), type="located_in"),
                                    st.prov_id))
            bodies_written[key] = actor_id
        loc.actor = bodies_written[key]
    ctx.actor_ids.difference_update(a["id"] for a in actors)      # add_actors registers them again
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.add_ties(ties)
    st.new_bodies = len(bodies_written)


def _km(a: Signatory, b: Signatory) -> float:
    return distance_km(Place("?", "", "", lat=a.lat, lon=a.lon), Place("?", "", "", lat=b.lat, lon=b.lon))


def _group_key(gid: str) -> str:
    return f"covenant-group-{slugify(gid)}"


def _write_groups(st: _State) -> None:
    """A ``region`` actor for each group: from its own row, or, for a group the JRC lists
    only through its members' rows, from their ``group_name``."""
    ctx = st.ctx
    groups = {s.organisation_id: s for s in st.sigs if s.is_group}
    named_only = {s.group_id: s for s in st.sigs if s.group_id and s.group_id not in groups}
    actors, aliases, ties = [], [], []
    for gid in sorted(set(groups) | set(named_only)):
        g = groups.get(gid)
        s = g or named_only[gid]
        name = g.name if g else s.group_name
        country = countries.lookup_code(s.country)
        actor_id = _free_id(ctx, _group_key(g.gcom_id if g and g.gcom_id else gid), _group_key(gid))
        attrs = {"covenant_group": True, "adhesion": g.adhesion if g else None,
                 "gcom_id": (g.gcom_id or None) if g else None, "organisation_id": gid,
                 "population_at_adhesion": g.population if g else None,
                 "note": ("a joint signatory of the Covenant of Mayors: municipalities that signed together"
                          + ("" if g else "; the JRC lists its members, not the group itself"))}
        actor = Actor.parse({"id": actor_id, "name": name, "kind": "region",
                             "country": country.alpha3 if country else None,
                             "attrs": {k: v for k, v in attrs.items() if v is not None}})
        actors.append(ctx.actor_row(actor, st.prov_id))
        ctx.actor_ids.add(actor_id)
        aliases.extend(ctx.alias_rows(actor_id, [name], st.prov_id))
        if country and country.alpha3.lower() in ctx.actor_ids:
            ties.append(ctx.tie_row(Tie(source=actor_id, target=country.alpha3.lower(), type="located_in"),
                                    st.prov_id))
        st.group_actor[gid] = actor_id
    ctx.actor_ids.difference_update(a["id"] for a in actors)
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.add_ties(ties)


def _write_aliases(st: _State) -> None:
    """The name a signatory's row gives a known place, when the place does not carry it
    yet ("Masnou" for El Masnou, "Heusden-Zolder" for Heusden): one may look it up by the
    Covenant's name."""
    ctx, gz = st.ctx, st.ctx.gazetteer
    seen: set[tuple[str, str]] = set()
    rows = []
    for loc in st.located:
        if loc.outcome != "resolved" or loc.actor is None:
            continue
        name = loc.res.evidence.get("name_read") or loc.entry.name
        norm = normalize(name)
        known = gz._names_of.get(loc.actor) or [normalize(gz.places[loc.actor].name)] if loc.actor in gz.places \
            else []
        if not norm or norm in known or (loc.actor, norm) in seen:
            continue
        seen.add((loc.actor, norm))
        rows.extend(ctx.alias_rows(loc.actor, [name], st.prov_id))
    ctx.add_aliases(rows)
    st.aliases_added = len(rows)


def _status(rows: Iterable[Signatory]) -> str:
    return "active" if any(r.status == "published" for r in rows) else "suspended"


def _membership(network: str, source: str, records: list[tuple[Signatory, Signatory | None, str | None]]) -> Tie:
    """One ``member_of`` tie for all the rows that name one actor: adhesion the earliest,
    active when any row is, commitments of all; the row that speaks for it (active first,
    then earliest) gives its ``gcom_id``, the others are listed."""
    ordered = sorted(records, key=lambda r: (r[0].status != "published", r[0].since, r[0].organisation_id))
    main, group, part = ordered[0]
    attrs: dict[str, Any] = {
        "gcom_id": None if part else (main.gcom_id or None),
        "organisation_id": None if part else main.organisation_id,
        "commitments": sorted({c for r, _, _ in records for c in r.commitments}),
        "adhesion": main.adhesion, "chapter": chapter(main),
        "signatory_name": part or main.name,
        "jrc_status": main.status,
    }
    if group is not None:
        attrs.update(group=group.name if group.is_group else group.group_name,
                     group_gcom_id=(group.gcom_id or None) if group.is_group else None,
                     via="listed in the group's name" if part else "a member row of the group")
    others = [{"gcom_id": r.gcom_id or None, "name": p or r.name, "since": r.since, "status": r.status}
              for r, _, p in ordered[1:]]
    if others:
        attrs["other_rows"] = others
    return Tie(source=source, target=network, type="member_of", since=min(r.since for r, _, _ in records),
               status=_status(r for r, _, _ in records), axes=AXES,
               attrs={k: v for k, v in attrs.items() if v is not None})


def _write_memberships(st: _State) -> None:
    """``member_of`` the Covenant for every located municipality, body and group, and
    ``member_of`` its group for every municipality of a group."""
    ctx = st.ctx
    groups = {s.organisation_id: s for s in st.sigs if s.is_group}
    per_actor: dict[tuple[str, str], list] = defaultdict(list)
    in_group: dict[tuple[str, str], list[Signatory]] = defaultdict(list)
    for loc in st.located:
        if loc.actor is None:
            continue
        s = loc.sig
        network = NETWORK if chapter(s) else GLOBAL_NETWORK
        if loc.part is not None:                       # a name of a group's list
            per_actor[(loc.actor, network)].append((s, s, loc.part))
            in_group[(loc.actor, s.organisation_id)].append(s)
            continue
        group = groups.get(s.group_id) if s.group_id else None
        if s.group_id and group is None:               # a group known by its members only
            group = s
        per_actor[(loc.actor, network)].append((s, group, None))
        if s.group_id:
            in_group[(loc.actor, s.group_id)].append(s)
    for g in groups.values():
        network = NETWORK if chapter(g) else GLOBAL_NETWORK
        per_actor[(st.group_actor[g.organisation_id], network)].append((g, None, None))
    memberships = [_membership(network, actor, records) for (actor, network), records in sorted(per_actor.items())]
    st.membership_status = dict(Counter(f"{t.target} {t.status.value}" for t in memberships).most_common())
    ties = [ctx.tie_row(t, st.prov_id) for t in memberships]
    for (actor, gid), rows in sorted(in_group.items()):
        group_actor = st.group_actor[gid]
        if actor == group_actor:
            continue
        ties.append(ctx.tie_row(Tie(
            source=actor, target=group_actor, type="member_of", since=min(r.since for r in rows),
            status=_status(rows), axes=AXES,
            attrs={"role": "a municipality of a joint signatory of the Covenant of Mayors"}), st.prov_id))
    ctx.add_ties(ties)
    st.membership_ties = len(per_actor)


def _write_bodies(st: _State, locator: Locator) -> None:
    """Coordinators and supporters: found or made (see :mod:`.bodies`), tied to the
    signatories they coordinate or support."""
    ctx = st.ctx
    targets: dict[str, dict[str, set[str]]] = {"coordinator": defaultdict(set), "supporter": defaultdict(set)}
    ccs: dict[str, Counter] = defaultdict(Counter)
    signatory_actor: dict[str, str] = {}
    for loc in st.located:
        if loc.actor and loc.part is None:
            signatory_actor[loc.sig.organisation_id] = loc.actor
    for gid, actor in st.group_actor.items():
        signatory_actor.setdefault(gid, actor)
    for s in st.sigs:
        actor = signatory_actor.get(s.organisation_id)
        for role in ("coordinator", "supporter"):
            name = getattr(s, role)
            if name:
                ccs[(role, name)][s.country] += 1
                if actor:
                    targets[role][name].add(actor)
    report: dict[str, Counter] = {"coordinator": Counter(), "supporter": Counter()}
    index = bodies.BodyIndex(ctx.conn)
    actors, aliases, ties = [], [], []
    for role, tie_type in (("coordinator", "coordinates"), ("supporter", "supports")):
        names = sorted({name for (r, name) in ccs if r == role})
        for name in names:
            cc = bodies.main_country(ccs[(role, name)])
            actor_id, how = _find_body(st, index, role, name, cc)
            if actor_id is None:
                kind = bodies.new_kind(name)
                country = countries.lookup_code(cc) if cc else None
                base = f"{slugify(name)[:60].strip('-')}" + (f"-{cc.lower()}" if cc else "")
                actor_id = _free_id(ctx, base, f"{base}-covenant-{role}")
                actor = Actor.parse({"id": actor_id, "name": name, "kind": kind,
                                     "country": country.alpha3 if country else None,
                                     "attrs": {"covenant_role": role}})
                actors.append(ctx.actor_row(actor, st.prov_id))
                ctx.actor_ids.add(actor_id)
                aliases.extend(ctx.alias_rows(actor_id, [name], st.prov_id))
                index.add(actor_id, [name])
                how = f"new_{kind}"
            report[role][how] += 1
            attrs = {role: name} if how != "same_name" else {}
            for target in sorted(targets[role][name]):
                if target != actor_id:
                    ties.append(ctx.tie_row(Tie(source=actor_id, target=target, type=tie_type, axes=AXES,
                                                attrs=attrs), st.prov_id))
    ctx.actor_ids.difference_update(a["id"] for a in actors)
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    ctx.add_ties(ties)
    st.bodies_report = {role: dict(c.most_common()) for role, c in report.items()}


def _find_body(st: _State, index: bodies.BodyIndex, role: str, name: str,
               cc: str | None) -> tuple[str | None, str]:
    """An actor of the store for a coordinator or supporter, and how it was found."""
    ctx = st.ctx
    found = index.find(bodies.name_variants_of(name))
    if found:
        return found, "same_name"
    if role == "coordinator" and cc:
        if bodies.is_ministry(name):
            state = countries.lookup_code(cc).alpha3.lower()
            if state in ctx.actor_ids:
                return state, "state"
        pid = bodies.coordinator_subdivision(ctx.gazetteer, name, cc)
        if pid is not None:
            mapping = cities.materialise_regions(ctx, [pid]) if subdivisions.is_provisional(pid) else {}
            return mapping.get(pid, pid), "subdivision"
    return None, ""


def _report(st: _State) -> None:
    """The figures of docs/data.md ("Covenant of Mayors")."""
    rows = [loc for loc in st.located if loc.part is None]
    parts = [loc for loc in st.located if loc.part is not None]
    by_outcome = Counter(loc.outcome for loc in rows)
    rules = Counter(loc.res.rule for loc in rows if loc.outcome == "resolved")
    problems = Counter(loc.res.rule for loc in rows if loc.outcome in ("ambiguous", "unresolved"))
    by_2019 = [loc for loc in rows if loc.sig.since <= "2019-12-31"]
    st.ctx.report["covenant"] = {
        "rows": len(st.sigs),
        "rows_by_adhesion": dict(Counter(s.adhesion for s in st.sigs).most_common()),
        "group_rows": sum(1 for s in st.sigs if s.is_group),
        "rows_by_status": dict(Counter(s.status for s in st.sigs).most_common()),
        "coordinates": dict(Counter(s.coordinates for s in st.sigs).most_common()),
        "municipality_rows": len(rows),
        "names_in_group_lists": len(parts),
        "names_in_group_lists_resolved": sum(1 for loc in parts if loc.outcome == "resolved"),
        "rows_resolved": by_outcome["resolved"],
        "rows_new_cities": by_outcome["new_city"],
        "rows_new_bodies": by_outcome["new_body"],
        "rows_ambiguous": by_outcome["ambiguous"],
        "rows_unresolved": by_outcome["unresolved"],
        "rows_by_2019": len(by_2019),
        "rows_by_2019_tied": sum(1 for loc in by_2019 if loc.outcome in ("resolved", "new_city", "new_body")),
        "resolved_by_rule": dict(rules.most_common()),
        "coordinates_read": dict(Counter(loc.res.evidence.get("coordinates_read") for loc in rows
                                         if loc.outcome == "resolved" and loc.res.evidence.get("coordinates_read"))),
        "not_tied_by_reason": dict(problems.most_common()),
        "new_cities": len(st.new_cities),
        "new_bodies": st.new_bodies,
        "groups": len(st.group_actor),
        "membership_ties": st.membership_ties,
        "aliases_added": st.aliases_added,
        "membership_ties_by_network_and_status": st.membership_status,
        "coordinators": st.bodies_report["coordinator"],
        "supporters": st.bodies_report["supporter"],
        "not_tied": {f"{loc.sig.name} ({loc.sig.country}, {loc.sig.gcom_id or loc.sig.organisation_id})":
                     f"{loc.outcome}: {loc.res.rule}; {loc.res.evidence.get('reason', '')}".strip("; ")
                     for loc in rows if loc.outcome in ("ambiguous", "unresolved")},
        "group_names_not_tied": {f"{loc.part} ({loc.sig.name})": f"{loc.res.status}: {loc.res.rule}"
                                 for loc in parts if loc.outcome != "resolved"},
    }
