"""A city's diplomacy profile: its ties to each layer, its networks per axis, its
twinning partners by country and bloc, and how it reaches the macro layer."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select

from .actors import list_ties, resolve_actor
from .store import Store
from .store.schema import actors, ties
from .vocab import SYMMETRIC_TIES, Axis, Layer

#: Tie types that lead "upward", from an actor to a body it belongs or answers to.
UPWARD = ("member_of", "participates_in", "located_in", "signatory_of", "partner_of")
#: Kinds counted as blocs when grouping twinning partners by their state's memberships.
BLOC_KINDS = ("geopolitical_bloc", "regional_organization")


def build_profile(store: Store, ref: str, *, graph=None) -> dict[str, Any]:
    """The diplomacy profile of the actor ``ref`` names (a city, typically). With
    ``graph`` (the store's :class:`~citydiplomacy.network.DiplomacyGraph`), it also
    holds the network section: centrality ranks, brokerage roles and reach."""
    actor = resolve_actor(store, ref, prefer_kind="city")
    aid = actor["id"]
    all_ties = list_ties(store, aid)

    by_layer: dict[str, Counter] = {layer.value: Counter() for layer in Layer}
    for t in all_ties:
        if t["other_layer"]:
            by_layer[t["other_layer"]][t["type"]] += 1

    networks = [t for t in all_ties if t["type"] == "member_of" and t["other_kind"] == "city_network"]
    network_axes = _axes_of(store, [t["other"] for t in networks])
    per_axis: dict[str, list[dict[str, str]]] = {a.value: [] for a in Axis}
    for t in networks:
        for axis in network_axes.get(t["other"], []):
            per_axis[axis].append({"id": t["other"], "name": t["other_name"], "status": t["status"]})

    partners = [t for t in all_ties if t["type"] == "twinned_with"]
    by_country = Counter(t["other_country"] or "?" for t in partners)
    blocs = _blocs_of_states(store, {c.lower() for c in by_country if c != "?"})
    by_bloc: Counter = Counter()
    for country, n in by_country.items():
        for bloc in blocs.get(country.lower(), []):
            by_bloc[bloc] += n

    return {
        "actor": {k: actor[k] for k in ("id", "name", "kind", "layer", "country", "population",
                                         "admin1", "lat", "lon", "wikidata", "geonames_id",
                                         "attrs", "provenance")},
        "alternatives": [{"id": a["id"], "name": a["name"], "country": a["country"]}
                         for a in actor.get("alternatives", [])],
        "ties_by_layer": {layer: dict(c) for layer, c in by_layer.items()},
        "networks_by_axis": per_axis,
        "twinning": {
            "partners": sorted(({"id": t["other"], "name": t["other_name"], "country": t["other_country"]}
                                for t in partners), key=lambda p: (p["country"] or "", p["name"] or "")),
            "by_country": dict(by_country.most_common()),
            "by_bloc": dict(by_bloc.most_common()),
        },
        "reach": macro_reach(store, aid),
        "initiatives": _initiatives(store, aid),
        **({"network": network_section(graph, aid, actor["kind"])} if graph is not None else {}),
    }


def _initiatives(store: Store, actor_id: str) -> dict[str, Any]:
    """The actor's initiatives and their coverage of the SDGs and Paris articles."""
    from .initiatives import coverage, list_initiatives

    items = list_initiatives(store, actor_id)
    return {**coverage(items), "items": [{k: i[k] for k in ("id", "title", "since", "status", "sdgs",
                                                            "targets", "paris", "axes")} for i in items]}


def network_section(dg, actor_id: str, kind: str) -> dict[str, Any]:
    """An actor's standing in the graph: its degree and PageRank with their ranks among
    actors of its kind, its Gould–Fernandez brokerage roles between layers, and its
    reach to the macro layer with its vertical-integration score and rank."""
    from .network import brokerage, centrality, reach

    same_kind = [v["name"] for v in dg.g.vs if v["kind"] == kind]
    out: dict[str, Any] = {"among": f"{len(same_kind):,} actors of kind {kind}"}
    for name, values in (("degree", centrality.degree(dg)), ("pagerank", centrality.pagerank(dg))):
        mine = values.get(actor_id, 0.0)
        rank = 1 + sum(1 for i in same_kind if values.get(i, 0.0) > mine)
        out[name] = {"value": mine, "rank": rank}
    roles = next((r for r in brokerage.brokerage(dg, group="layer") if r["id"] == actor_id), None)
    out["brokerage"] = {k: roles[k] for k in brokerage.ROLES + ("total",)} if roles else {}
    routes = reach.reach(dg, actor_id, max_depth=3)
    out["reach"] = {"macro_actors_within_3": len(routes),
                    "nearest": [{"name": r["name"], "distance": r["distance"],
                                 "path": r.get("path_labels", [])} for r in routes[:5]]}
    if kind == "city":
        ranked = reach.vertical_integration_all(dg)   # highest score first
        for i, r in enumerate(ranked, start=1):
            if r["id"] == actor_id:
                rank = 1 + sum(1 for x in ranked[:i] if x["score"] > r["score"])
                out["vertical_integration"] = {"value": r["score"], "rank": rank, "of": len(ranked)}
                break
    return out


def _axes_of(store: Store, ids: list[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    with store.connect() as conn:
        rows = conn.execute(select(actors.c.id, actors.c.axes).where(actors.c.id.in_(ids)))
        return {r.id: [a for a in (r.axes or "").split(",") if a] or ["engagement"] for r in rows}


def _blocs_of_states(store: Store, states: set[str]) -> dict[str, list[str]]:
    """state id -> names of the blocs and regional bodies it is an active member of."""
    if not states:
        return {}
    out: dict[str, list[str]] = defaultdict(list)
    with store.connect() as conn:
        rows = conn.execute(
            select(ties.c.source, actors.c.name)
            .join(actors, actors.c.id == ties.c.target)
            .where(ties.c.source.in_(states), ties.c.type == "member_of",
                   ties.c.status == "active", actors.c.kind.in_(BLOC_KINDS)))
        for r in rows:
            out[r.source].append(r.name)
    return out


def _upward(conn, sources: list[str], *, macro_only: bool = False):
    """(from, tie type, to, to's name, kind, layer) for the upward ties of ``sources``;
    symmetric ties (partner_of) count from either end."""
    rows = []
    for mine, theirs, types in ((ties.c.source, ties.c.target, UPWARD + ("hosts",)),
                                (ties.c.target, ties.c.source, tuple(t.value for t in SYMMETRIC_TIES
                                                                     if t.value in UPWARD))):
        stmt = (select(mine.label("origin"), ties.c.type, theirs.label("other"), actors.c.name,
                       actors.c.kind, actors.c.layer)
                .join(actors, actors.c.id == theirs)
                .where(mine.in_(sources), ties.c.type.in_(types), ties.c.status != "ended"))
        if macro_only:
            stmt = stmt.where(actors.c.layer == "macro")
        rows.extend(conn.execute(stmt).all())
    return rows


def macro_reach(store: Store, actor_id: str) -> dict[str, Any]:
    """How an actor reaches macro-layer actors within two upward steps.

    A route is ``actor → macro`` (direct), or ``actor → X → macro`` where X is its state
    (``located_in``), a network or body it belongs to, or a body it hosts. Returns the
    macro actors reached with the intermediaries of each route, and counts by channel.
    """
    with store.connect() as conn:
        steps = {r.other: r for r in _upward(conn, [actor_id])}
        reached: dict[str, dict[str, Any]] = {}
        for r in steps.values():
            if r.layer == "macro":
                reached.setdefault(r.other, {"id": r.other, "name": r.name, "via": []})["via"].append(
                    {"channel": "direct", "tie": r.type})
        middle = [k for k, r in steps.items() if r.layer != "macro"]
        if middle:
            for r in _upward(conn, middle, macro_only=True):
                via = steps[r.origin]
                if via.type == "hosts" and via.kind == "city_network":
                    channel = "hosted network"
                else:
                    channel = {"state": "state", "city_network": "network"}.get(via.kind, via.kind)
                entry = reached.setdefault(r.other, {"id": r.other, "name": r.name, "via": []})
                entry["via"].append({"channel": channel, "through": r.origin,
                                     "through_name": via.name, "tie": r.type})
    channels = Counter(v["channel"] for m in reached.values() for v in m["via"])
    intermediaries = {v["through"] for m in reached.values() for v in m["via"] if "through" in v}
    return {"macro_actors": sorted(reached.values(), key=lambda m: m["name"]),
            "count": len(reached), "by_channel": dict(channels),
            "intermediaries": sorted(intermediaries)}
