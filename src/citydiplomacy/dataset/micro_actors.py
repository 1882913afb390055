"""Private actors, civil society and academia (micro layer), from
``curated/micro_actors.yaml``: the foundations, companies, NGOs, universities and
associations of municipalities that found, fund, host, run or partner the city networks,
the Covenant of Mayors and their programmes.

Each actor names its source; each of its ties (``funds``, ``founded``, ``partner_of``,
``hosts``, ``member_of``, ``supports``, ``participates_in``) names its own, with dates
where the source states them. An actor's seat city, when given, becomes a ``located_in``
tie (and ``attrs.seat``). A tie with ``from:`` starts at another actor (UCLG's
membership of the Cities Alliance). See FORMAT.md for the file's shape.
"""

from __future__ import annotations


from ..model import Actor, Tie
from ..vocab import Kind
from .context import BuildContext, load_yaml, provenance_from
from .organizations import _find_city

FILE = "micro_actors.yaml"
#: the kinds this file may hold
KINDS = (Kind.PRIVATE_ACTOR.value, Kind.CIVIL_SOCIETY.value, Kind.ACADEMIA.value)
#: the tie types an actor of this file may have (from the actor to its target)
TIE_TYPES = ("funds", "founded", "partner_of", "hosts", "member_of", "supports", "participates_in")


def build(ctx: BuildContext) -> None:
    data = load_yaml("curated", FILE)
    entries = data["actors"]
    actors, aliases, rows, pending = [], [], [], []
    for i, e in enumerate(entries, start=1):
        where = f"{FILE}, entry {i} ('{e.get('id')}')"
        if e.get("kind") not in KINDS:
            raise ValueError(f"{where}: field 'kind': '{e.get('kind')}' is not one of {', '.join(KINDS)}")
        if not (e.get("source") or {}).get("url"):
            raise ValueError(f"{where}: field 'source': every actor needs a source with a url")
        prov_id = ctx.provenance(provenance_from(e["source"]))
        attrs = {k: e[k] for k in ("note", "url") if e.get(k)}
        city = None
        if e.get("seat"):
            attrs["seat"] = e["seat"]
            city = _find_city(ctx, e["seat"])
            if city is None:
                ctx.report.setdefault("unresolved_seats", []).append(f"{e['id']}: {e['seat']}")
        actor = Actor.parse({
            "id": e["id"], "name": e["name"], "kind": e["kind"], "country": e.get("country"),
            "wikidata": e.get("wikidata"), "founded": e.get("founded"), "axes": e.get("axes"),
            "attrs": attrs}, file=FILE, row=i)
        actors.append(ctx.actor_row(actor, prov_id))
        names: dict[str | None, list[str]] = {None: [e["name"], e["id"]]}
        for lang, values in (e.get("aliases") or {}).items():
            names[lang] = values if isinstance(values, list) else [values]
        aliases.extend(ctx.alias_rows(actor.id, names, prov_id))
        if city:
            rows.append(ctx.tie_row(Tie(source=actor.id, target=city, type="located_in"), prov_id))
        if not e.get("ties"):
            raise ValueError(f"{where}: field 'ties': every actor needs at least one sourced tie")
        pending.extend((where, e, spec) for spec in e["ties"])
    ctx.add_actors(actors)
    ctx.add_aliases(aliases)
    for where, e, spec in pending:          # once every actor exists: ties among them too
        if spec.get("type") not in TIE_TYPES:
            raise ValueError(f"{where}: tie type '{spec.get('type')}' is not one of {', '.join(TIE_TYPES)}")
        if spec.get("target") not in ctx.actor_ids:
            raise ValueError(f"{where}: tie to '{spec.get('target')}', which is not an actor in the store")
        origin = spec.get("from") or e["id"]
        if origin not in ctx.actor_ids:
            raise ValueError(f"{where}: tie from '{origin}', which is not an actor in the store")
        src = spec.get("source") or e["source"]
        rows.append(ctx.tie_row(Tie.parse({
            "source": origin, "target": spec["target"], "type": spec["type"],
            "since": spec.get("since"), "until": spec.get("until"), "status": spec.get("status"),
            "axes": spec.get("axes", e.get("axes") or []), "note": spec.get("note")}, file=FILE),
            ctx.provenance(provenance_from(src))))
    ctx.add_ties(rows)
    for kind in KINDS:
        ctx.count(f"micro_actors.{kind}", sum(1 for a in actors if a["kind"] == kind))
