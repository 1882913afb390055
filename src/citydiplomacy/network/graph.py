"""The graph of the store as an igraph graph, with NetworkX interop.

Vertices are actors (and frameworks that ties point at); edges are ties. Vertex
attributes: ``name`` (the actor id), ``label``, ``kind``, ``layer``, ``country``, ``lat``,
``lon``, ``population``, ``axes`` (comma-separated). Edge attributes: ``type``, ``since``,
``until``, ``status``, ``suspended_since`` (a suspension's date, see
:mod:`citydiplomacy.tiestate`), ``axes``, ``weight`` (1.0 when the tie has none), ``source_name``
and ``licence`` (provenance). The graph is directed as the ties are; symmetric ties
(``twinned_with``, ``partner_of``) appear once, and measures treat them as undirected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

import igraph as ig
from sqlalchemy import select

from .. import countries
from ..errors import ValidationError
from ..store import Store
from ..store.schema import actors, frameworks, provenance, ties
from ..tiestate import in_force, in_force_clause
from ..vocab import Axis, Layer, TieType, choices

VERTEX_ATTRS = ("label", "kind", "layer", "country", "lat", "lon", "population", "axes")
EDGE_ATTRS = ("type", "since", "until", "status", "suspended_since", "axes", "weight", "source_name", "licence")


def _check(values: Iterable[str] | None, enum, what: str) -> list[str] | None:
    if not values:
        return None
    out = []
    for v in values:
        try:
            out.append(enum(v).value)
        except ValueError:
            raise ValidationError(f"unknown {what} '{v}'; choose from: {choices(enum)}", field=what) from None
    return out


@dataclass
class DiplomacyGraph:
    """An igraph graph of (part of) the store, with the filters that made it."""

    g: ig.Graph
    filters: dict[str, Any] = field(default_factory=dict)
    #: where results computed on this graph are kept (:class:`~.cache.GraphResults`), or None
    results: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def ids(self) -> list[str]:
        """Actor ids in vertex order (read once: the graph is not changed after it is built)."""
        return self.g.vs["name"]

    def index(self, actor_id: str) -> int:
        try:
            return self.g.vs.find(name=actor_id).index
        except (ValueError, KeyError):
            raise ValidationError(f"'{actor_id}' is not in this graph (check the filters)",
                                  field="actor") from None

    def undirected(self, weights: str | None = "weight") -> ig.Graph:
        """The undirected simple graph: reciprocal and parallel ties merged into one edge,
        self-loops dropped; the edge attribute ``weights`` (if given) is summed and every
        other edge attribute dropped. The measures and projections work on this graph."""
        combine = {weights: "sum"} if weights else "ignore"
        g = self.g
        u = g.as_undirected(mode="collapse", combine_edges=combine) if g.is_directed() else g.copy()
        if not u.is_simple():
            u.simplify(multiple=True, loops=True, combine_edges=combine)
        return u

    def layer(self, layer: str) -> "DiplomacyGraph":
        """The subgraph induced by the actors of one layer (macro, meso, micro)."""
        keep = [v.index for v in self.g.vs if v["layer"] == layer]
        return DiplomacyGraph(self.g.induced_subgraph(keep), {**self.filters, "layer": [layer]})

    def engaged(self) -> "DiplomacyGraph":
        """The ties derived from the engagement register alone (``co_signed``, ``met_at``,
        ``engaged_with``; see :mod:`.engaged`) and the actors they join."""
        from .engaged import ENGAGEMENT_TIES

        keep = self.g.es.select(type_in=ENGAGEMENT_TIES) if self.g.ecount() else []
        return DiplomacyGraph(self.g.subgraph_edges(keep, delete_vertices=True),
                              {**self.filters, "scope": "engagement"})

    def scope(self, scope: str) -> "DiplomacyGraph":
        """The graph a measure's scope names: ``all`` (this graph), ``engagement``
        (:meth:`engaged`) or a layer (:meth:`layer`)."""
        if scope == "all":
            return self
        return self.engaged() if scope == "engagement" else self.layer(scope)

    def multiplex(self) -> dict[str, ig.Graph]:
        """One graph per tie type over the same vertex set (the multiplex view)."""
        out = {}
        for t in sorted(set(self.g.es["type"])) if self.g.ecount() else []:
            out[t] = self.g.subgraph_edges(self.g.es.select(type_eq=t), delete_vertices=False)
        return out

    def to_networkx(self):
        """A NetworkX multigraph with the same nodes, edges and attributes (``None``
        values left out): a ``MultiDiGraph``, or a ``MultiGraph`` for an undirected graph
        such as a projection."""
        import networkx as nx

        g = self.g
        G = (nx.MultiDiGraph if g.is_directed() else nx.MultiGraph)(
            **{k: v for k, v in self.filters.items() if v is not None})
        names = g.vs["name"]
        for v in g.vs:
            G.add_node(names[v.index], **{a: x for a, x in v.attributes().items()
                                          if a != "name" and x is not None})
        for e in g.es:
            G.add_edge(names[e.source], names[e.target],
                       **{a: x for a, x in e.attributes().items() if x is not None})
        return G


def _shared(values: list) -> list:
    """The values with equal strings made one object: a graph kept on disk
    (:mod:`.cache`) is then 8 MB rather than 18 and reads in half the time."""
    seen: dict = {}
    return [v if v is None else seen.setdefault(v, v) for v in values]


def build_graph(store: Store, *, layers: Iterable[str] | None = None,
                tie_types: Iterable[str] | None = None, axes: Iterable[str] | None = None,
                country: str | None = None, bloc: str | None = None, as_of: str | None = None,
                include_frameworks: bool = False, include_ended: bool = False,
                engagements: bool = False, max_parties: int | None = None) -> DiplomacyGraph:
    """The graph of the store's actors and ties, filtered:

    - ``layers``: keep actors on these layers; ``tie_types``: keep ties of these types;
    - ``axes``: keep ties serving one of these axes;
    - ``country`` (name or code) / ``bloc`` (an actor id such as ``eu``): keep actors of
      that country / of the bloc's member states, plus everything they tie to;
    - ``as_of``: keep ties in force at that date (``since``, ``until`` and a suspension's
      date; see :mod:`citydiplomacy.tiestate`); without it, keep the ties in force now
      (active or dormant: never suspended, ended or proposed ones) unless ``include_ended``;
    - ``engagements``: add the ties derived from the engagement register (``co_signed``,
      ``met_at``, ``engaged_with``; see :mod:`.engaged`), which are never stored; naming
      one of them in ``tie_types`` adds that one alone. Off by default: the graph is then
      the stored ties' as before. ``max_parties``: engagements with more parties are left
      out of the projection (default :data:`.engaged.MAX_PARTIES`).
    """
    from ..dates import parse_partial_date
    from .engaged import ENGAGEMENT_TIES, MAX_PARTIES, add_engagement_ties

    layers = _check(layers, Layer, "layer")
    asked = list(tie_types or ())
    stored_asked = [t for t in asked if t not in ENGAGEMENT_TIES]
    derived = [t for t in ENGAGEMENT_TIES if t in asked] or (list(ENGAGEMENT_TIES) if engagements else [])
    # no types: every stored type; only derived types: no stored tie
    tie_types = None if not asked else _check(stored_asked, TieType, "type") or []
    axes = _check(axes, Axis, "axis")
    as_of = parse_partial_date(as_of, field="as_of") if as_of else None
    with store.connect() as conn:
        a_stmt = select(actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country,
                        actors.c.lat, actors.c.lon, actors.c.population, actors.c.axes)
        if layers:
            a_stmt = a_stmt.where(actors.c.layer.in_(layers))
        # plain tuples, read column by column: a row's attribute by name costs more than
        # the query (the default data: 50,000 actors, 95,000 ties)
        node_rows = [tuple(r) for r in conn.execute(a_stmt).all()]
        t_stmt = select(ties.c.source, ties.c.target, ties.c.target_type, ties.c.type, ties.c.since,
                        ties.c.until, ties.c.status, ties.c.axes, ties.c.weight,
                        ties.c.attrs["suspended_since"].as_string().label("suspended_since"),
                        ties.c.provenance_id)
        if tie_types is not None:
            t_stmt = t_stmt.where(ties.c.type.in_(tie_types))
        edges = [tuple(r) for r in conn.execute(t_stmt.order_by(ties.c.id)).all()]
        prov = {r[0]: (r[1], r[2]) for r in conn.execute(select(provenance.c.id, provenance.c.source,
                                                                 provenance.c.licence))}
        fw_names = {r.id: (r.name or {}).get("en", r.id) for r in conn.execute(select(frameworks.c.id, frameworks.c.name))}
        nodes = {r[0]: i for i, r in enumerate(node_rows)}
        seeds = None
        if country or bloc:
            seeds = set()
            if country:
                c = countries.lookup_name(country)
                if c is None:
                    raise ValidationError(f"'{country}' is not a country name or ISO code", field="country")
                seeds |= {r[0] for r in node_rows if r[4] == c.alpha3}
            if bloc:
                members = {r.source for r in conn.execute(select(ties.c.source).where(
                    ties.c.target == bloc, ties.c.type == "member_of", in_force_clause(ties.c.status)))}
                if not members:
                    raise ValidationError(f"'{bloc}' has no member states in the store", field="bloc")
                member_countries = {node_rows[nodes[m]][4] for m in members
                                    if m in nodes and node_rows[nodes[m]][2] == "state"}
                seeds |= {r[0] for r in node_rows if r[4] in member_countries} | {bloc}
    # (source, target, target_type, type, since, until, status, axes, weight, suspended_since, provenance)
    now_in_force = {s: in_force(s) for s in {e[6] for e in edges}}
    kept = []
    for e in edges:
        if as_of:
            if not in_force(e[6], e[4], e[5], as_of, suspended_since=e[9]):
                continue
        elif not include_ended and not now_in_force[e[6]]:
            continue
        if axes and not set((e[7] or "").split(",")) & set(axes):
            continue
        if e[0] not in nodes:
            continue
        if e[2] == "framework":
            if not include_frameworks:
                continue
        elif e[1] not in nodes:
            continue
        if seeds is not None and e[0] not in seeds and e[1] not in seeds:
            continue
        kept.append(e)
    if seeds is not None:
        used = seeds | {e[0] for e in kept} | {e[1] for e in kept}
        rows = [r for r in node_rows if r[0] in used]
    else:
        rows = node_rows
    fw_targets = sorted({e[1] for e in kept if e[2] == "framework"})
    g = ig.Graph(directed=True)
    g.add_vertices(len(rows) + len(fw_targets))
    n_fw = len(fw_targets)
    (ids, labels, kinds, vlayers, vcountries, lats, lons, pops, vaxes) = (
        (list(c) for c in zip(*rows)) if rows else ([] for _ in range(9)))
    names = ids + fw_targets
    g.vs["name"] = names
    g.vs["label"] = labels + [fw_names.get(f, f) for f in fw_targets]
    g.vs["kind"] = _shared(kinds + ["framework"] * n_fw)
    g.vs["layer"] = _shared(vlayers + ["macro"] * n_fw)
    g.vs["country"] = _shared(vcountries + [None] * n_fw)
    g.vs["lat"] = lats + [None] * n_fw
    g.vs["lon"] = lons + [None] * n_fw
    g.vs["population"] = pops + [None] * n_fw
    g.vs["axes"] = _shared([a or "" for a in vaxes] + [""] * n_fw)
    pos = {n: i for i, n in enumerate(names)}
    g.add_edges([(pos[e[0]], pos[e[1]]) for e in kept])
    if kept:
        (_, _, _, etypes, since, until, status, eaxes, weight, susp, prov_ids) = zip(*kept)
    else:
        etypes = since = until = status = eaxes = weight = susp = prov_ids = ()
    g.es["type"] = _shared(etypes)
    g.es["since"] = _shared(since)
    g.es["until"] = _shared(until)
    g.es["status"] = _shared(status)
    g.es["suspended_since"] = _shared(susp)
    g.es["axes"] = _shared([a or "" for a in eaxes])
    g.es["weight"] = [float(w) if w is not None else 1.0 for w in weight]
    sources = [prov.get(i, (None, None)) for i in prov_ids]
    g.es["source_name"] = _shared([x[0] for x in sources])
    g.es["licence"] = _shared([x[1] for x in sources])
    filters = {"layers": layers, "tie_types": tie_types, "axes": axes, "country": country, "bloc": bloc,
               "as_of": as_of}
    dg = DiplomacyGraph(g, filters)
    if derived:
        if tie_types is not None:
            filters["tie_types"] = tie_types + derived
        add_engagement_ties(dg, store, derived, nodes={r[0]: r for r in node_rows}, as_of=as_of, include_ended=include_ended, axes=axes,
                            seeds=seeds, max_parties=MAX_PARTIES if max_parties is None else max_parties)
    return dg
