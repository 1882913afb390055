"""A city's diplomacy profile: its ties to each layer, its networks per axis, its
twinning partners by country and bloc, how it reaches the macro layer, its activity in
the engagement register, and its coverage of the SDGs and the Paris Agreement through
its initiatives and its engagements."""

from __future__ import annotations

import threading
import weakref
from collections import Counter, namedtuple
from typing import Any

from sqlalchemy import Connection, bindparam, exists, select

from .actors import actor_statement, count_ties, read_actor, read_ties, resolve_actor
from .membership import network_members
from .store import Store
from .store.schema import actors, import_runs, initiatives, ties
from .tiestate import IN_FORCE, in_force_clause
from .vocab import SYMMETRIC_TIES, Axis, Layer

#: Tie types that lead "upward", from an actor to a body it belongs or answers to.
UPWARD = ("member_of", "participates_in", "located_in", "party_to", "signatory_of", "partner_of")
#: Kinds counted as blocs when grouping twinning partners by their state's memberships.
BLOC_KINDS = ("geopolitical_bloc", "regional_organization")

#: (from, tie type, to, to's name, kind, layer): one upward step
Step = namedtuple("Step", "origin type other name kind layer")

#: upward tie types followed from the source, and (symmetric ties) from the target
_UP_OUT = UPWARD + ("hosts",)
_UP_IN = tuple(t.value for t in SYMMETRIC_TIES if t.value in UPWARD)
#: the ties a profile lists (networks, twinning partners, upward steps), from the actor
#: and to it; the others are only counted
_LISTED_OUT = tuple(sorted(set(_UP_OUT) | {"member_of", "twinned_with"}))
_LISTED_IN = tuple(sorted(set(_UP_IN) | {"member_of", "twinned_with"}))


def build_profile(store: Store, ref: str, *, graph=None, dormant_years: int = 5) -> dict[str, Any]:
    """The diplomacy profile of the actor ``ref`` names (a city, typically). With
    ``graph`` (the store's :class:`~citydiplomacy.network.DiplomacyGraph`), it also
    holds the network section: centrality ranks, brokerage roles and reach.

    ``activity`` is the engagement register's view of the actor
    (:func:`citydiplomacy.engage.views.activity`: engagements by year, kind and axis, its
    most active partners, its twinning and partnership ties with no engagement in
    ``dormant_years`` years); ``coverage``, the SDGs and Paris articles its initiatives and
    its engagements serve, each goal or article with what serves it.

    Ties are counted in the store and only those the profile shows are read (a state has
    thousands of cities located in it); what many cities share — their state's blocs and
    macro reach, their networks' axes — is kept between calls (:class:`SharedFacts`), so a
    city's profile is four or five small queries."""
    with store.connect() as conn:
        actor = read_actor(conn, ref, with_aliases=False, statement=_PROFILE_ACTOR)
        if actor is None:
            shared = _shared(store, conn)
            actor = resolve_actor(store, ref, prefer_kind="city")
            has_initiatives = conn.execute(_HAS_INITIATIVES, {"actor_id": actor["id"]}).first() is not None
        else:
            shared = _shared_at(store, (actor.pop("data_run") or 0, actor.pop("data_run_at") or ""))
            has_initiatives = bool(actor.pop("has_initiatives"))
            actor["alternatives"] = []
        aid = actor["id"]
        counts = count_ties(conn, aid)
        by_layer = {layer.value: dict(sorted(counts.get(layer.value, {}).items())) for layer in Layer}
        all_ties = read_ties(conn, aid, out_types=_LISTED_OUT, in_types=_LISTED_IN)

        networks = [t for t in all_ties if t["type"] == "member_of" and t["other_kind"] == "city_network"]
        network_axes = shared.axes_of(conn, [t["other"] for t in networks])
        per_axis: dict[str, list[dict[str, str]]] = {a.value: [] for a in Axis}
        for t in networks:
            for axis in network_axes.get(t["other"]) or []:
                per_axis[axis].append({"id": t["other"], "name": t["other_name"], "status": t["status"],
                                       "since": t["since"]})

        twinning = [t for t in all_ties if t["type"] == "twinned_with"]
        partners = [t for t in twinning if t["state"] in IN_FORCE]
        not_in_force = [t for t in twinning if t["state"] not in IN_FORCE]
        by_country = Counter(t["other_country"] or "?" for t in partners)
        blocs = shared.blocs_of_states(conn, [c.lower() for c in by_country if c != "?"])
        by_bloc: Counter = Counter()
        for country, n in by_country.items():
            for bloc in blocs.get(country.lower()) or []:
                by_bloc[bloc] += n

        reach = _macro_reach(conn, shared, _steps_in(all_ties))
        members = (network_members(conn, aid, actor.get("attrs"), with_sources=False)
                   if actor["kind"] == "city_network" else None)

    return {
        "actor": {k: actor[k] for k in ("id", "name", "kind", "layer", "country", "population",
                                         "admin1", "lat", "lon", "wikidata", "geonames_id",
                                         "attrs", "provenance")},
        "alternatives": [{"id": a["id"], "name": a["name"], "country": a["country"]}
                         for a in actor.get("alternatives", [])],
        "ties_by_layer": by_layer,
        "networks_by_axis": per_axis,
        "twinning": {
            "partners": sorted(({"id": t["other"], "name": t["other_name"], "country": t["other_country"]}
                                for t in partners), key=lambda p: (p["country"] or "", p["name"] or "", p["id"])),
            "by_country": dict(by_country.most_common()),
            "by_bloc": dict(by_bloc.most_common()),
            # suspended and ended partnerships: shown as such, never counted above
            "not_in_force": sorted((_tie_summary(t) for t in not_in_force),
                                   key=lambda p: (p["status"], p["country"] or "", p["name"] or "")),
        },
        "reach": reach,
        "initiatives": (inits := _initiatives(store, aid if has_initiatives else None)),
        "activity": _activity(store, aid, dormant_years),
        "coverage": coverage_of(inits["items"], engagement_alignments(store, aid)),
        **({"members": members} if members is not None else {}),
        **({"network": network_section(graph, aid, actor["kind"])} if graph is not None else {}),
    }


def _tie_summary(t: dict[str, Any]) -> dict[str, Any]:
    """A partnership not in force: the partner, its status and dates, and the source
    that says so (the change's, else the tie's own)."""
    change = (t["attrs"].get("changes") or [{}])[-1]
    return {"id": t["other"], "name": t["other_name"], "country": t["other_country"],
            "status": t["status"], "since": t["since"], "until": t["until"],
            "suspended_since": t["attrs"].get("suspended_since"),
            "source": {k: change[k] for k in ("source", "url", "as_of") if change.get(k)} or
            {k: t["provenance"][k] for k in ("source", "url", "as_of")}}


def _initiatives(store: Store, actor_id: str | None) -> dict[str, Any]:
    """The actor's initiatives and their coverage of the SDGs and Paris articles (none
    when ``actor_id`` is None: most actors have none, and the empty list costs no query)."""
    from .initiatives import coverage, list_initiatives

    items = list_initiatives(store, actor_id) if actor_id is not None else []
    return {**coverage(items), "items": [{k: i[k] for k in ("id", "title", "since", "status", "sdgs",
                                                            "targets", "paris", "axes")} for i in items]}


def _activity(store: Store, actor_id: str, dormant_years: int) -> dict[str, Any]:
    from .engage.views import activity

    return activity(store, actor_id, dormant_years=dormant_years)


def engagement_alignments(store: Store, actor_id: str) -> list[dict[str, Any]]:
    """The engagements ``actor_id`` takes part in (any role) with the SDGs and Paris
    articles each is aligned with (goal- and article-level alignments, as an
    initiative's): ``{key, title, kind, date, sdgs, paris}``."""
    from .store.schema import engagement_alignments as A, engagement_parties as P, engagements as E

    with store.connect() as conn:
        rows = conn.execute(select(E.c.id, E.c.key, E.c.title, E.c.kind, E.c.start_on, E.c.signed_on, A.c.item_code)
                            .join(P, P.c.engagement_id == E.c.id).join(A, A.c.engagement_id == E.c.id, isouter=True)
                            .where(P.c.actor_id == actor_id).order_by(E.c.id)).all()
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        e = out.setdefault(r.id, {"key": r.key, "title": r.title, "kind": r.kind, "date": r.start_on or r.signed_on,
                                  "sdgs": set(), "paris": set()})
        code = r.item_code or ""
        if code.startswith("sdg:") and "." not in code:
            e["sdgs"].add(int(code[4:]))
        elif code.startswith("paris:") and "." not in code:
            e["paris"].add(int(code[6:]))
    return [{**e, "sdgs": sorted(e["sdgs"]), "paris": sorted(e["paris"])} for e in out.values()]


def coverage_of(initiatives: list[dict[str, Any]], engagements: list[dict[str, Any]]) -> dict[str, Any]:
    """The SDGs (1–17) and operative Paris articles served by the actor's initiatives
    and engagements together: per goal and article, how many of each serve it and which
    (``served_by``: ``{"source": "initiative"|"engagement", "id"|"key", "title"}``), and
    the gaps (served by neither)."""
    from .align.catalog import PARIS_ARTICLES

    articles = [int(a.split(":")[1]) for a in PARIS_ARTICLES]

    def table(field: str, codes: list[int]) -> dict[int, dict[str, Any]]:
        out = {}
        for c in codes:
            ini = [{"source": "initiative", "id": i["id"], "title": i["title"]} for i in initiatives if c in i[field]]
            eng = [{"source": "engagement", "key": e["key"], "title": e["title"]} for e in engagements
                   if c in e[field]]
            out[c] = {"initiatives": len(ini), "engagements": len(eng), "served_by": ini + eng}
        return out

    by_sdg, by_paris = table("sdgs", list(range(1, 18))), table("paris", articles)
    return {"initiatives": len(initiatives), "engagements": len(engagements),
            "by_sdg": by_sdg, "by_paris": by_paris,
            "sdg_gaps": [g for g, v in by_sdg.items() if not v["served_by"]],
            "paris_gaps": [a for a, v in by_paris.items() if not v["served_by"]]}


def network_section(dg, actor_id: str, kind: str) -> dict[str, Any]:
    """An actor's standing in the graph: its degree and PageRank with their ranks among
    actors of its kind, its Gould–Fernandez brokerage roles between layers, and its
    reach to the macro layer with its vertical-integration score and rank.

    What is the actor's own (brokerage, routes) is computed from its surroundings; what
    ranks it among all (degree, PageRank, every city's vertical integration) is computed
    once per data version and kept with the graph (``dg.results``)."""
    import numpy as np

    from .network import brokerage, reach

    v = dg.index(actor_id)
    kinds = np.asarray(dg.g.vs["kind"], dtype=object)
    same_kind = kinds == kind
    n = int(same_kind.sum())
    out: dict[str, Any] = {"among": f"{n:,} actor{'' if n == 1 else 's'} of kind {kind}"}
    for name in ("degree", "pagerank"):
        values = _standing_column(dg, name)
        out[name] = {"value": values[v].item(), "rank": rank_among(values, same_kind, v)}
    roles = brokerage.brokerage_of(dg, actor_id, group="layer")
    out["brokerage"] = {k: roles[k] for k in brokerage.ROLES + ("total",)}
    routes = reach.reach(dg, actor_id, max_depth=3)
    out["reach"] = {"macro_actors_within_3": len(routes),
                    "nearest": [{"name": r["name"], "distance": r["distance"],
                                 "path": r.get("path_labels", [])} for r in routes[:5]]}
    if kind == "city":
        scores = _standing_column(dg, "vertical_integration")     # every city's score, by vertex
        cities = ~np.isnan(scores)
        out["vertical_integration"] = {"value": float(scores[v]), "rank": rank_among(scores, cities, v),
                                       "of": int(cities.sum())}
    return out


def rank_among(values, among, v: int) -> int:
    """The rank of vertex ``v``'s value among the vertices ``among`` (a mask): 1 + how
    many are higher. Values equal to 12 significant digits (of the largest) are equal, as
    in :func:`citydiplomacy.network.centrality.compute`: a solver's round-off (PageRank's
    sums run in varying order) does not reorder actors of equal standing."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    top = np.nanmax(np.abs(x[among])) if among.any() else 0.0
    if top > 0:
        x = np.round(x / top, 12)
    return 1 + int((x[among] > x[v]).sum())


def _standing_column(dg, name: str):
    """One value per vertex of ``dg.g``: ``degree``, ``pagerank`` (the definitions of
    :mod:`citydiplomacy.network.centrality`) or ``vertical_integration`` (of each city;
    NaN for other actors), kept per data version with the graph."""
    import numpy as np

    from .network import centrality, reach

    def run():
        if name == "vertical_integration":
            scores = reach.vertical_integration_scores(dg, max_depth=2)
            return np.where(np.asarray(dg.g.vs["kind"], dtype=object) == "city", scores, np.nan)
        values = (centrality.degree if name == "degree" else centrality.pagerank)(dg)
        return np.asarray([values[i] for i in dg.ids])

    return run() if dg.results is None else dg.results.get_or_compute(("profile", name), run)


# -- facts shared by many profiles ----------------------------------------------------------

def _upward_statement(mine, theirs, types, *, macro_only: bool):
    stmt = (select(mine.label("origin"), ties.c.type, theirs.label("other"), actors.c.name,
                   actors.c.kind, actors.c.layer)
            .join(actors, actors.c.id == theirs)
            .where(mine.in_(bindparam("ids", expanding=True)), ties.c.type.in_(types), in_force_clause(ties.c.status)))
    return stmt.where(actors.c.layer == "macro") if macro_only else stmt


# built once: a statement built per call costs more than the query it runs
_UPWARD = {macro_only: (_upward_statement(ties.c.source, ties.c.target, _UP_OUT, macro_only=macro_only),
                        _upward_statement(ties.c.target, ties.c.source, _UP_IN, macro_only=macro_only))
           for macro_only in (False, True)}
_AXES = select(actors.c.id, actors.c.axes).where(actors.c.id.in_(bindparam("ids", expanding=True)))
_BLOCS = (select(ties.c.source, actors.c.name)
          .join(actors, actors.c.id == ties.c.target)
          .where(ties.c.source.in_(bindparam("ids", expanding=True)), ties.c.type == "member_of",
                 in_force_clause(ties.c.status), actors.c.kind.in_(BLOC_KINDS)))
_HAS_INITIATIVES = select(initiatives.c.id).where(initiatives.c.actor_id == bindparam("actor_id")).limit(1)
_LATEST_RUN = select(import_runs.c.id, import_runs.c.started_at).order_by(import_runs.c.id.desc()).limit(1)
#: the actor, the store's data version and whether the actor has initiatives, in one query
_PROFILE_ACTOR = actor_statement(
    select(import_runs.c.id).order_by(import_runs.c.id.desc()).limit(1).scalar_subquery().label("data_run"),
    select(import_runs.c.started_at).order_by(import_runs.c.id.desc()).limit(1).scalar_subquery()
    .label("data_run_at"),
    exists().where(initiatives.c.actor_id == actors.c.id).label("has_initiatives"))


class SharedFacts:
    """Facts that many profiles share, kept for one version of the store's data: the
    blocs of a state, the axes of a network, the macro actors a state or a network
    leads to. Every city of a country asks the same of its state, so the second asks
    nothing of the store. A write to the store is an import run, which changes the
    version (:func:`_shared`) and so drops these."""

    #: the most facts kept of each sort (there are a few thousand states, networks and bodies)
    MAX_ITEMS = 100_000

    def __init__(self, version: tuple):
        self.version = version
        self._axes: dict[str, list[str] | None] = {}
        self._blocs: dict[str, list[str]] = {}
        self._upward: dict[str, tuple[list[Step], list[Step]]] = {}

    def axes_of(self, conn: Connection, ids: list[str]) -> dict[str, list[str] | None]:
        """actor id -> its axes (``engagement`` when it names none; None: no such actor)."""
        missing = sorted({i for i in ids if i not in self._axes})
        found: dict[str, list[str] | None] = dict.fromkeys(missing)
        if missing:
            found.update({r.id: [a for a in (r.axes or "").split(",") if a] or ["engagement"]
                          for r in conn.execute(_AXES, {"ids": missing})})
            self._keep(self._axes, found)
        return {i: found[i] if i in found else self._axes[i] for i in ids}

    def blocs_of_states(self, conn: Connection, states: list[str]) -> dict[str, list[str]]:
        """state id -> names of the blocs and regional bodies it is an active member of."""
        missing = sorted({s for s in states if s not in self._blocs})
        found: dict[str, list[str]] = {s: [] for s in missing}
        if missing:
            for r in conn.execute(_BLOCS, {"ids": missing}):
                found[r.source].append(r.name)
            self._keep(self._blocs, found)
        return {s: found[s] if s in found else self._blocs[s] for s in states}

    def upward_to_macro(self, conn: Connection, origins: list[str]) -> list[Step]:
        """The upward steps from ``origins`` to macro-layer actors: ties from each, then
        symmetric ties to each."""
        origins = sorted(set(origins))
        missing = [o for o in origins if o not in self._upward]
        found: dict[str, tuple[list[Step], list[Step]]] = {o: ([], []) for o in missing}
        if missing:
            for side, stmt in enumerate(_UPWARD[True]):
                for r in conn.execute(stmt, {"ids": missing}):
                    found[r.origin][side].append(Step(*r))
            self._keep(self._upward, found)
        known = [found[o] if o in found else self._upward[o] for o in origins]
        return [s for out, _ in known for s in out] + [s for _, inn in known for s in inn]

    def _keep(self, cache: dict, items: dict) -> None:
        # nothing is ever removed while the version holds (a reader may be between its
        # check and its read); past MAX_ITEMS new facts are simply not kept
        if len(cache) + len(items) <= self.MAX_ITEMS:
            cache.update(items)


_SHARED: "weakref.WeakKeyDictionary[Store, SharedFacts]" = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _shared(store: Store, conn: Connection) -> SharedFacts:
    """The shared facts of ``store`` at its current data version (its latest import run)."""
    row = conn.execute(_LATEST_RUN).first()
    return _shared_at(store, (row.id, row.started_at) if row else (0, ""))


def _shared_at(store: Store, version: tuple) -> SharedFacts:
    """The shared facts of ``store`` at ``version`` (those of another version are dropped)."""
    with _SHARED_LOCK:
        facts = _SHARED.get(store)
        if facts is None or facts.version != version:
            facts = _SHARED[store] = SharedFacts(version)
    return facts


# -- reach ---------------------------------------------------------------------------------------

def _steps_in(all_ties: list[dict[str, Any]]) -> list[Step]:
    """The upward steps among an actor's ties (as :func:`~citydiplomacy.actors.list_ties`
    gives them): ties to an actor, in force, of an upward type from the actor, or of a
    symmetric upward type either way."""
    out, inn = [], []
    for t in all_ties:
        if t["target_type"] != "actor" or t["other_kind"] is None or t["state"] not in IN_FORCE:
            continue
        step = Step(t["source"] if t["direction"] == "out" else t["target"], t["type"], t["other"],
                    t["other_name"], t["other_kind"], t["other_layer"])
        if t["direction"] == "out" and t["type"] in _UP_OUT:
            out.append(step)
        elif t["direction"] == "in" and t["type"] in _UP_IN:
            inn.append(step)
    return out + inn


def macro_reach(store: Store, actor_id: str) -> dict[str, Any]:
    """How an actor reaches macro-layer actors within two upward steps.

    A route is ``actor → macro`` (direct), or ``actor → X → macro`` where X is its state
    (``located_in``), a network or body it belongs to, or a body it hosts. Returns the
    macro actors reached with the intermediaries of each route, and counts by channel.
    """
    with store.connect() as conn:
        shared = _shared(store, conn)
        first = []
        for stmt in _UPWARD[False]:
            first.extend(Step(*r) for r in conn.execute(stmt, {"ids": [actor_id]}))
        return _macro_reach(conn, shared, first)


#: the order routes and counts by channel are given in: the actor's own, then through its
#: state, its networks, the networks it hosts, then any other kind of intermediary
_CHANNEL_ORDER = {"direct": 0, "state": 1, "network": 2, "hosted network": 3}


def _channel_key(channel: str) -> tuple[int, str]:
    return _CHANNEL_ORDER.get(channel, len(_CHANNEL_ORDER)), channel


def _macro_reach(conn: Connection, shared: SharedFacts, first: list[Step]) -> dict[str, Any]:
    """:func:`macro_reach` from the actor's own upward steps ``first``."""
    # in a fixed order, so that the answer does not depend on the order the rows came in
    # (PostgreSQL and SQLite return unordered rows differently): the same as a fresh read
    steps = {r.other: r for r in sorted(first, key=lambda s: (s.other, s.type, s.origin))}
    reached: dict[str, dict[str, Any]] = {}
    for r in steps.values():
        if r.layer == "macro":
            reached.setdefault(r.other, {"id": r.other, "name": r.name, "via": []})["via"].append(
                {"channel": "direct", "tie": r.type})
    middle = [k for k, r in steps.items() if r.layer != "macro"]
    if middle:
        for r in shared.upward_to_macro(conn, middle):
            via = steps[r.origin]
            if via.type == "hosts" and via.kind == "city_network":
                channel = "hosted network"
            else:
                channel = {"state": "state", "city_network": "network"}.get(via.kind, via.kind)
            entry = reached.setdefault(r.other, {"id": r.other, "name": r.name, "via": []})
            entry["via"].append({"channel": channel, "through": r.origin,
                                 "through_name": via.name, "tie": r.type})
    for m in reached.values():
        m["via"].sort(key=lambda v: (*_channel_key(v["channel"]), v.get("through", ""), v["tie"]))
    counted = Counter(v["channel"] for m in reached.values() for v in m["via"])
    channels = {c: counted[c] for c in sorted(counted, key=_channel_key)}
    intermediaries = {v["through"] for m in reached.values() for v in m["via"] if "through" in v}
    return {"macro_actors": sorted(reached.values(), key=lambda m: (m["name"], m["id"])),
            "count": len(reached), "by_channel": channels,
            "intermediaries": sorted(intermediaries)}
