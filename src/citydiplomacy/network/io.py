"""Write a :class:`~citydiplomacy.network.graph.DiplomacyGraph` for other tools.

- GraphML (:func:`write_graphml`) — yEd, Cytoscape, igraph, NetworkX, Gephi
- GEXF 1.2 (:func:`write_gexf`) — Gephi, NetworkX; dynamic (dated ties, Gephi's timeline)
  when the graph holds ties derived from engagements
- node-link JSON (:func:`write_node_link`) — D3 and other JavaScript libraries
- GeoJSON (:func:`write_geojson`) — QGIS and other GIS: actors as points, ties as lines

Every attribute of the graph is written: on vertices ``label``, ``kind``, ``layer``,
``country``, ``lat``, ``lon``, ``population``, ``axes`` (and any other, such as the
``gnc`` of a :func:`~citydiplomacy.network.projection.membership_projection`); on edges
``type``, ``since``, ``until``, ``status``, ``suspended_since``, ``axes``, ``weight`` and the provenance
``source_name`` and ``licence``. The vertex ``name`` (the actor id) is the node id.

Missing values. GraphML and GEXF give each attribute one declared type, so a missing
value (``None``, a float NaN, or an empty string) is left out of the file rather than
written as a placeholder. NetworkX then reads the node or edge without that key; igraph
reads ``""`` for a text attribute and NaN for a numeric one. (An empty string cannot be
kept apart from a missing one anyway: NetworkX reads an empty GraphML ``<data>`` as no
value.) Node-link JSON leaves ``None`` out as :meth:`DiplomacyGraph.to_networkx` does and
keeps empty strings; GeoJSON writes ``null`` so that every feature has every column.

Types. An attribute whose values are all integers is declared ``long``, all numbers
``double``, all booleans ``boolean``; anything else is ``string``.

Parallel edges (two tie types between the same actors) are kept, each as its own edge
element. NetworkX reads such a file as a ``MultiDiGraph`` (a ``DiGraph`` when no pair
has two edges; pass ``force_multigraph=True`` to :func:`networkx.read_graphml` to always
get a multigraph); in GEXF, where edge ids are required, the id is the igraph edge index.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import ValidationError
from .graph import DiplomacyGraph

__all__ = [
    "FORMATS",
    "to_networkx",
    "write_geojson",
    "write_gexf",
    "write_graph",
    "write_graphml",
    "write_node_link",
]

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://www.gexf.net/1.2draft"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _kind_of(values: Iterable[Any]) -> str:
    """The one type of an attribute: boolean, long, double or string."""
    present = [v for v in values if not _missing(v)]
    if not present:
        return "string"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in present):
        return "long"
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present):
        return "double"
    return "string"


def _text(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "long":
        return str(int(value))
    if kind == "double":
        return repr(float(value))
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _schema(seq, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(attribute, type) for each attribute of an igraph vertex or edge sequence."""
    return [(a, _kind_of(seq[a])) for a in sorted(seq.attributes()) if a not in skip]


def _filters(dg: DiplomacyGraph) -> str:
    return json.dumps({k: v for k, v in dg.filters.items() if v is not None}, ensure_ascii=False,
                      sort_keys=True)


def _write_xml(root: ET.Element, path: str | os.PathLike) -> Path:
    ET.indent(root, space="  ")
    path = Path(path)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_graphml(dg: DiplomacyGraph, path: str | os.PathLike) -> Path:
    """Write the graph as GraphML: node ids are actor ids; edges, in igraph's order, carry no id.

    Each attribute gets one ``<key>`` (``n_<name>`` for nodes, ``e_<name>`` for edges) with
    ``attr.name`` the attribute's name; missing values are left out (see the module notes).
    The graph's filters are kept as the graph attribute ``filters`` (a JSON text).
    Read it back with ``networkx.read_graphml(path)`` or ``igraph.Graph.Read_GraphML(path)``
    (igraph puts the node id in the vertex attribute ``id``). Edge ids are optional in
    GraphML and left out: NetworkX then numbers parallel edges 0, 1, ... per pair as
    :meth:`DiplomacyGraph.to_networkx` does, and python-igraph 1.0, which fills an edge
    ``id`` attribute with vertex ids when edges have ids, reads no spurious attribute.
    Returns the path written.
    """
    g = dg.g
    ET.register_namespace("", GRAPHML_NS)
    q = lambda tag: f"{{{GRAPHML_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("graphml"))
    root.set(f"{{{XSI_NS}}}schemaLocation",
             f"{GRAPHML_NS} http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd")
    v_schema = _schema(g.vs, skip=("name",))
    e_schema = _schema(g.es)
    ET.SubElement(root, q("key"), {"id": "g_filters", "for": "graph", "attr.name": "filters",
                                   "attr.type": "string"})
    for prefix, scope, schema in (("n", "node", v_schema), ("e", "edge", e_schema)):
        for a, kind in schema:
            ET.SubElement(root, q("key"), {"id": f"{prefix}_{a}", "for": scope, "attr.name": a,
                                           "attr.type": kind})
    graph = ET.SubElement(root, q("graph"), {"id": "G",
                                            "edgedefault": "directed" if g.is_directed() else "undirected"})
    ET.SubElement(graph, q("data"), {"key": "g_filters"}).text = _filters(dg)
    names = g.vs["name"]
    for v in g.vs:
        node = ET.SubElement(graph, q("node"), {"id": str(names[v.index])})
        for a, kind in v_schema:
            if not _missing(v[a]):
                ET.SubElement(node, q("data"), {"key": f"n_{a}"}).text = _text(v[a], kind)
    for e in g.es:
        edge = ET.SubElement(graph, q("edge"), {"source": str(names[e.source]), "target": str(names[e.target])})
        for a, kind in e_schema:
            if not _missing(e[a]):
                ET.SubElement(edge, q("data"), {"key": f"e_{a}"}).text = _text(e[a], kind)
    return _write_xml(root, path)


def _first_day(partial: str) -> date:
    parts = [int(x) for x in partial.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def _last_day(partial: str) -> date:
    """The last day a partial date can mean (``2020`` → 2020-12-31): a tie ``until`` 2020
    is in force through 2020 (see :mod:`citydiplomacy.tiestate`)."""
    parts = [int(x) for x in partial.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        y, m = parts
        return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
    return date(parts[0], 12, 31)


def _spell(since: Any, until: Any) -> dict[str, str]:
    out = {}
    if not _missing(since):
        out["start"] = _first_day(str(since)).isoformat()
    if not _missing(until):
        out["end"] = _last_day(str(until)).isoformat()
    return out


def weight_steps(timeline: list) -> list[tuple[date | None, date | None, float]]:
    """A derived tie's weight over time from its ``timeline`` (``[since, until, weight]``
    per engagement; see :mod:`.engaged`): (start, end, weight) intervals, inclusive, the
    first without a start when an engagement is undated, the last without an end."""
    spans = [(_first_day(a) if a else None, _last_day(b) if b else None, float(w)) for a, b, w in timeline]
    points = sorted({p for a, b, _ in spans for p in (a, b + timedelta(days=1) if b else None) if p is not None})
    steps = []
    undated = sum(w for a, b, w in spans if a is None and (b is None or not points or b >= points[0]))
    if undated and points:
        steps.append((None, points[0] - timedelta(days=1), undated))
    elif undated:
        steps.append((None, None, undated))
    for k, p in enumerate(points):
        w = sum(x for a, b, x in spans if (a is None or a <= p) and (b is None or b >= p))
        if w:
            steps.append((p, points[k + 1] - timedelta(days=1) if k + 1 < len(points) else None, w))
    return steps


def write_gexf(dg: DiplomacyGraph, path: str | os.PathLike, *, dynamic: bool | None = None) -> Path:
    """Write the graph as GEXF 1.2, the format Gephi opens natively.

    ``label`` becomes the node's GEXF label and ``weight`` the edge's GEXF weight; every
    other attribute is a declared ``<attribute>`` whose title is the attribute's name
    (so the tie type is the edge column ``type``, not GEXF's edge direction). Missing
    values are left out (see the module notes). Read it back with
    ``networkx.read_gexf(path)``, which also reports each edge's GEXF id as ``id``.

    ``dynamic`` (default: when the graph holds ties derived from engagements, see
    :mod:`.engaged`): a dynamic graph for Gephi's timeline — each edge spans its ``since``
    to its ``until`` (GEXF ``start``/``end``, dates; a partial date from its first day to
    its last), and each derived tie has the dynamic attribute ``weight_over_time``: its
    weight as engagements begin and end (:func:`weight_steps`).
    Returns the path written.
    """
    g = dg.g
    e_attrs = g.es.attributes()
    if dynamic is None:
        dynamic = "engagements" in e_attrs and any(not _missing(t) for t in g.es["engagements"])
    ET.register_namespace("", GEXF_NS)
    q = lambda tag: f"{{{GEXF_NS}}}{tag}"  # noqa: E731
    root = ET.Element(q("gexf"), {"version": "1.2"})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{GEXF_NS} http://www.gexf.net/1.2draft/gexf.xsd")
    meta = ET.SubElement(root, q("meta"), {"lastmodifieddate": date.today().isoformat()})
    ET.SubElement(meta, q("creator")).text = "citydiplomacy"
    ET.SubElement(meta, q("description")).text = f"City Diplomacy Observatory graph; filters {_filters(dg)}"
    graph = ET.SubElement(root, q("graph"), {"mode": "dynamic" if dynamic else "static",
                                            "defaultedgetype": "directed" if g.is_directed() else "undirected"})
    if dynamic:
        graph.set("timeformat", "date")
    v_schema = _schema(g.vs, skip=("name", "label"))
    e_schema = _schema(g.es, skip=("weight", "label"))
    for scope, schema in (("node", v_schema), ("edge", e_schema)):
        attrs = ET.SubElement(graph, q("attributes"), {"class": scope, "mode": "static"})
        for i, (a, kind) in enumerate(schema):
            ET.SubElement(attrs, q("attribute"), {"id": str(i), "title": a, "type": kind})
    moving = str(len(e_schema))      # the id of the dynamic weight
    if dynamic:
        attrs = ET.SubElement(graph, q("attributes"), {"class": "edge", "mode": "dynamic"})
        ET.SubElement(attrs, q("attribute"), {"id": moving, "title": "weight_over_time", "type": "double"})

    def attvalues(parent: ET.Element, item, schema, steps=()) -> None:
        values = [(str(i), _text(item[a], kind)) for i, (a, kind) in enumerate(schema) if not _missing(item[a])]
        if values or steps:
            holder = ET.SubElement(parent, q("attvalues"))
            for key, text in values:
                ET.SubElement(holder, q("attvalue"), {"for": key, "value": text})
            for start, end, w in steps:
                el = ET.SubElement(holder, q("attvalue"), {"for": moving, "value": repr(float(w))})
                if start is not None:
                    el.set("start", start.isoformat())
                if end is not None:
                    el.set("end", end.isoformat())

    names = g.vs["name"]
    has_label = "label" in g.vs.attributes()
    nodes = ET.SubElement(graph, q("nodes"))
    for v in g.vs:
        node = ET.SubElement(nodes, q("node"), {"id": str(names[v.index])})
        if has_label and not _missing(v["label"]):
            node.set("label", str(v["label"]))
        attvalues(node, v, v_schema)
    edges = ET.SubElement(graph, q("edges"))
    timed = dynamic and "since" in e_attrs
    for e in g.es:
        edge = ET.SubElement(edges, q("edge"), {"id": str(e.index), "source": str(names[e.source]),
                                                "target": str(names[e.target])})
        if "weight" in e_attrs and not _missing(e["weight"]):
            edge.set("weight", repr(float(e["weight"])))
        if "label" in e_attrs and not _missing(e["label"]):
            edge.set("label", str(e["label"]))
        if timed:
            for k, v in _spell(e["since"], e["until"] if "until" in e_attrs else None).items():
                edge.set(k, v)
        steps = ()
        if dynamic and "engagements" in e_attrs and not _missing(e["engagements"]):   # a derived tie
            timeline = e["timeline"] if "timeline" in e_attrs else None
            steps = weight_steps(json.loads(timeline) if not _missing(timeline) else
                                 [[e["since"], e["until"], e["weight"]]])
        attvalues(edge, e, e_schema, steps)
    return _write_xml(root, path)


def to_networkx(dg: DiplomacyGraph):
    """The graph as a NetworkX multigraph (see :meth:`DiplomacyGraph.to_networkx`)."""
    return dg.to_networkx()


def write_node_link(dg: DiplomacyGraph, path: str | os.PathLike) -> Path:
    """Write node-link JSON as :func:`networkx.node_link_data` produces it (edges under
    ``"edges"``, multigraph edge keys under ``"key"``), the shape D3 force layouts use.

    Read it back with ``networkx.node_link_graph(json.load(f), edges="edges")``.
    Returns the path written.
    """
    import networkx as nx

    data = nx.node_link_data(to_networkx(dg), edges="edges")
    path = Path(path)
    path.write_text(json.dumps(data, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return path


def _coords(v) -> list[float] | None:
    lat, lon = v["lat"], v["lon"]
    if _missing(lat) or _missing(lon):
        return None
    return [float(lon), float(lat)]


def _json_value(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


NODE_PROPERTIES = ("kind", "layer", "country", "population", "axes")
EDGE_PROPERTIES = ("type", "since", "until", "status", "suspended_since", "axes", "weight", "source_name",
                   "licence")


def write_geojson(dg: DiplomacyGraph, path: str | os.PathLike) -> Path:
    """Write a GeoJSON FeatureCollection (RFC 7946, WGS 84 longitude/latitude).

    - a ``Point`` per actor with coordinates; properties ``id`` (actor id), ``name``
      (label), ``kind``, ``layer``, ``country``, ``population``, ``axes``;
    - a ``LineString`` per tie whose two ends have coordinates, drawn as a straight line
      from source to target; properties ``id`` (edge index), ``source``, ``target``
      (actor ids), ``type``, ``since``, ``until``, ``status``, ``suspended_since``, ``axes``, ``weight``,
      ``source_name``, ``licence``.

    Actors without coordinates (states, organisations, networks) and their ties are
    left out. Missing values are ``null``. Returns the path written.
    """
    g = dg.g
    v_attrs, e_attrs = set(g.vs.attributes()), set(g.es.attributes())
    names = g.vs["name"]
    labels = g.vs["label"] if "label" in v_attrs else names
    coords = [_coords(v) for v in g.vs] if {"lat", "lon"} <= v_attrs else [None] * g.vcount()
    features = []
    for v in g.vs:
        if coords[v.index] is None:
            continue
        props = {"id": names[v.index], "name": labels[v.index]}
        props.update({a: _json_value(v[a]) if a in v_attrs else None for a in NODE_PROPERTIES})
        features.append({"type": "Feature", "id": names[v.index],
                         "geometry": {"type": "Point", "coordinates": coords[v.index]},
                         "properties": props})
    for e in g.es:
        a, b = coords[e.source], coords[e.target]
        if a is None or b is None:
            continue
        props = {"id": e.index, "source": names[e.source], "target": names[e.target]}
        props.update({k: _json_value(e[k]) if k in e_attrs else None for k in EDGE_PROPERTIES})
        features.append({"type": "Feature", "id": f"e{e.index}",
                         "geometry": {"type": "LineString", "coordinates": [a, b]},
                         "properties": props})
    collection = {"type": "FeatureCollection", "features": features}
    path = Path(path)
    path.write_text(json.dumps(collection, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return path


FORMATS: dict[str, Callable[[DiplomacyGraph, str | os.PathLike], Path]] = {
    "graphml": write_graphml,
    "gexf": write_gexf,
    "json": write_node_link,
    "geojson": write_geojson,
}
"""The writers by format name; add a format by adding an entry."""


def write_graph(dg: DiplomacyGraph, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write ``dg`` to ``path`` in ``fmt`` (one of :data:`FORMATS`: graphml, gexf, json,
    geojson); without ``fmt`` the file's extension decides. Returns the path written."""
    if fmt is None:
        fmt = Path(path).suffix.lstrip(".").lower()
        if not fmt:
            raise ValidationError(f"cannot tell the format of '{path}'; give one of: {', '.join(FORMATS)}",
                                  field="format")
    writer = FORMATS.get(fmt.lower())
    if writer is None:
        raise ValidationError(f"unknown graph format '{fmt}'; choose from: {', '.join(FORMATS)}",
                              field="format")
    return writer(dg, path)
