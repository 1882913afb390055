"""A readable drawing of an actor's ego network, at any size.

A hub's neighbourhood (C40's hundred members, the EU's states, networks and bodies) drawn
node by node is a ring of overlapping labels. :func:`ego_view` draws it as a reader can
take it in:

1. **Aggregation.** On each ring (the actors ``d`` steps away), at most ``budget`` actors
   are drawn one by one, picked in turns from each kind (so the EU's blocs and networks are
   not crowded out by its states), the most connected first (degree in the whole graph).
   The others are drawn as *group nodes* ("+81 more cities"), one per kind, layer or
   country (``group_by``; ``"auto"`` groups by kind when the rest holds several kinds, by
   country otherwise), the smallest groups merged into one. A group is opened with
   ``expand``: each time its id is given, ``page`` more of its actors are drawn.
2. **Quotient graph.** Each actor is drawn by its own node or its group's; the ties among
   drawn nodes are merged into one edge per pair, with their count and types.
3. **Radial layout.** The ego in the middle, ring ``d`` on a circle of radius ``r_d``; ring
   1 ordered by kind (or the grouping key) then name, an outer actor at the mean angle of
   its neighbours on the ring inside.
4. **Label placement.** Labels are placed greedily, the ego's first, then the groups', then
   by importance: each tries positions outward from its node (beside, then further out
   along the ray with a leader line, then above and below) and takes the first whose box
   meets no placed label and no node. Text widths come from the metrics of DejaVu Sans,
   the font the page asks for first where the system has no other. When a label finds no
   place, the rings are widened and the pass is run again (up to ``MAX_PASSES``); a label
   still without a place is left out (``label_box`` is null: the node's name is in its
   tooltip and in the list under the drawing) and counted in ``hidden_labels``.

The result is in layout units (1 unit = 1 CSS pixel at zoom 1; labels are ``FONT`` units
high) and is what the web page draws as SVG without further computation.

Reference for the label placement: the greedy candidate-position method in J. Christensen,
J. Marks, S. Shieber (1995), An empirical study of algorithms for point-feature label
placement, *ACM Transactions on Graphics* 14(3), doi:10.1145/212332.212334.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict
from typing import Any, Iterable

from ..errors import ValidationError
from .graph import DiplomacyGraph

__all__ = ["ego_view", "text_width", "GROUP_BY", "FONT"]

#: ways to group the actors not drawn one by one
GROUP_BY = ("auto", "kind", "layer", "country")
#: label font size, in layout units
FONT = 11.0
#: how many times the rings are widened when labels do not fit
MAX_PASSES = 6
#: actors drawn one by one per ring, by distance (further rings: the last value)
BUDGET = (32, 36, 36)
#: groups per ring at most (the smallest are merged into one "other" group)
MAX_GROUPS = 8
#: actors an ``expand`` of a group adds
PAGE = 30
#: a group node lists this many of its actors at most (the most connected)
MAX_MEMBERS = 50
#: labels longer than this are cut with an ellipsis (the full name is in the tooltip and list)
MAX_LABEL = 30

# Advance widths of DejaVu Sans (Book) for ASCII 32..126, in thousandths of an em.
_WIDTHS = (318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
           636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
           575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
           611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
           278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
# ... and of DejaVu Sans Bold (the ego's and the groups' labels)
_BOLD = (348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696,
         696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821,
         837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457,
         365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
         716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838)
#: (regular, bold) widths of the punctuation labels use: middle dot, ellipsis, en and em dash
_PUNCT = {"·": (318, 380), "…": (1000, 1000), "–": (500, 500), "—": (1000, 1000), "’": (318, 380)}
_KIND_ORDER = ("international_organization", "geopolitical_bloc", "state", "regional_organization",
               "city_network", "region", "city", "private_actor", "civil_society", "academia", "framework")
_KIND_PLURAL = {"international_organization": "international organisations", "geopolitical_bloc": "blocs",
                "state": "states", "regional_organization": "regional organisations",
                "city_network": "networks", "region": "regions", "city": "cities",
                "private_actor": "private actors", "civil_society": "civil-society bodies",
                "academia": "universities", "framework": "frameworks"}


def text_width(text: str, size: float = FONT, *, bold: bool = False) -> float:
    """The width of ``text`` set in DejaVu Sans at ``size`` (an accented letter as its base
    letter, a wide East Asian character as one em, any other character as 0.65 em)."""
    table = _BOLD if bold else _WIDTHS
    total = 0
    for ch in text:
        o = ord(ch)
        if 32 <= o < 127:
            total += table[o - 32]
            continue
        if ch in _PUNCT:
            total += _PUNCT[ch][1 if bold else 0]
            continue
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1000
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        total += table[ord(base) - 32] if 32 <= ord(base) < 127 else 700
    return total / 1000 * size


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1].rstrip() + "…"


def _country_name(code: str | None) -> str:
    if not code:
        return "no country"
    from .. import countries

    found = countries.lookup_code(code)
    return found.name if found else code


def _key(v: dict[str, Any], by: str) -> str:
    if by == "kind":
        return v["kind"] or "?"
    if by == "layer":
        return v["layer"] or "?"
    return v["country"] or "?"


def _group_label(count: int, by: str, value: str, kinds: Counter) -> str:
    what = _KIND_PLURAL.get(next(iter(kinds)), "actors") if len(kinds) == 1 else "actors"
    if count == 1:
        what = {"cities": "city", "universities": "university", "bodies": "body"}.get(what, what.rstrip("s"))
        if what.endswith("civil-society bodie"):
            what = "civil-society body"
    head = f"+{count:,} more {what}"
    if value == "*" or by == "kind":
        return head
    if by == "layer":
        return f"{head} ({value})"
    return f"{head} · {_country_name(None if value == '?' else value)}"


def ego_view(dg: DiplomacyGraph, actor_id: str, *, depth: int = 1, group_by: str = "auto",
             expand: Iterable[str] = (), budget: int | None = None) -> dict[str, Any]:
    """The ego network of ``actor_id`` in ``dg``, aggregated, laid out and labelled for
    drawing (see the module's description).

    Parameters
    ----------
    dg : the graph (filtered as the drawing should be: by tie type, layer ...).
    actor_id : the ego.
    depth : rings drawn, 1 to 3.
    group_by : ``auto``, ``kind``, ``layer`` or ``country``: how the actors not drawn one
        by one are grouped.
    expand : ids of group nodes to open; an id given ``k`` times draws ``k × PAGE`` more of
        its actors.
    budget : actors drawn one by one on each ring (default :data:`BUDGET`).

    Returns
    -------
    ``{ego, depth, group_by, font, nodes, edges, bounds, summary, hidden_labels}``: each
    node ``{id, label, name, kind, layer, country, dist, x, y, r, ego, group, label_box}``
    (``group``: ``{count, by, value, expanded, members}`` for a group node, ``members`` its
    :data:`MAX_MEMBERS` most connected actors, else null; ``label_box``:
    ``{x, y, w, h, anchor, leader}`` with ``x``, ``y`` the box's top-left corner, ``anchor``
    the text anchor and ``leader`` whether a line joins node and label), each edge
    ``{source, target, count, types}``; ``summary`` counts the whole ego network
    (``actors``, the ego included, ``ties``, ``by_distance``, ``by_kind``) and what is drawn
    (``shown``: the other actors drawn one by one, ``grouped``: those in the ``groups``).
    """
    if group_by not in GROUP_BY:
        raise ValidationError(f"unknown grouping '{group_by}'; choose from: {', '.join(GROUP_BY)}",
                              field="group_by")
    if not 1 <= depth <= 3:
        raise ValidationError("depth must be 1, 2 or 3", field="depth")
    g = dg.g
    c = dg.index(actor_id)
    keep = sorted(g.neighborhood(c, order=depth, mode="all"))
    dist = [int(d) for d in g.distances(source=[c], target=keep, mode="all")[0]]
    deg = g.degree(keep)
    vs = g.vs
    info = [{"id": vs[i]["name"], "name": vs[i]["label"] or vs[i]["name"], "kind": vs[i]["kind"],
             "layer": vs[i]["layer"], "country": vs[i]["country"], "dist": dist[j], "deg": deg[j]}
            for j, i in enumerate(keep)]
    sub = g.induced_subgraph(keep)            # vertex j of sub is keep[j] (keep is sorted)
    pages = Counter(expand)

    # 1. which actors are drawn one by one, and the groups of the others, ring by ring
    display = [""] * len(info)                 # actor j -> the id of the node that draws it
    nodes: dict[str, dict[str, Any]] = {}
    rings: list[list[str]] = [[] for _ in range(depth + 1)]
    me = keep.index(c)
    ego_node = _node(info[me], 0)
    ego_node["ego"] = True
    nodes[ego_node["id"]] = ego_node
    display[me] = ego_node["id"]
    rings[0].append(ego_node["id"])
    groups_total = 0
    for d in range(1, depth + 1):
        ring = sorted((j for j in range(len(info)) if info[j]["dist"] == d),
                      key=lambda j: (-info[j]["deg"], info[j]["name"], info[j]["id"]))
        cap = budget if budget is not None else BUDGET[min(d, len(BUDGET)) - 1]
        shown, rest = _pick(ring, info, cap)
        by = group_by
        if by == "auto":
            by = "kind" if len({info[j]["kind"] for j in rest}) > 1 else "country"
        buckets: dict[str, list[int]] = defaultdict(list)
        for j in rest:
            buckets[_key(info[j], by)].append(j)
        ordered = sorted(buckets.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if len(ordered) > MAX_GROUPS:
            merged = [j for _, js in ordered[MAX_GROUPS - 1:] for j in js]
            ordered = ordered[:MAX_GROUPS - 1] + [("*", sorted(merged, key=lambda j: (-info[j]["deg"],
                                                                                       info[j]["name"])))]
        for j in shown:
            n = _node(info[j], d)
            nodes[n["id"]] = n
            display[j] = n["id"]
            rings[d].append(n["id"])
        for value, members in ordered:
            gid = f"more:{d}:{by}:{value}"
            opened = pages.get(gid, 0) * PAGE
            for j in members[:opened]:
                n = _node(info[j], d)
                nodes[n["id"]] = n
                display[j] = n["id"]
                rings[d].append(n["id"])
            members = members[opened:]
            if not members:
                continue
            if len(members) == 1:                  # a group of one is drawn as the actor
                j = members[0]
                n = _node(info[j], d)
                nodes[n["id"]] = n
                display[j] = n["id"]
                rings[d].append(n["id"])
                continue
            kinds = Counter(info[j]["kind"] for j in members)
            groups_total += 1
            nodes[gid] = {"id": gid, "name": _group_label(len(members), by, value, kinds),
                          "kind": kinds.most_common(1)[0][0] if len(kinds) == 1 else "group",
                          "layer": _common(info[j]["layer"] for j in members),
                          "country": value if by == "country" and value not in ("*", "?") else None,
                          "dist": d, "ego": False, "deg": sum(info[j]["deg"] for j in members),
                          "group": {"count": len(members), "by": by, "value": value, "expanded": opened,
                                    "members": [{"id": info[j]["id"], "name": info[j]["name"]}
                                                for j in members[:MAX_MEMBERS]]}}
            for j in members:
                display[j] = gid
            rings[d].append(gid)

    # 2. the quotient graph: one edge per pair of drawn nodes
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    types = sub.es["type"] if sub.ecount() else []
    for e, (s, t) in enumerate(sub.get_edgelist()):
        a, b = display[s], display[t]
        if a == b:
            continue
        k = (a, b) if a < b else (b, a)
        p = pairs.setdefault(k, {"source": k[0], "target": k[1], "count": 0, "types": Counter()})
        p["count"] += 1
        p["types"][types[e]] += 1
    edges = [{**p, "types": dict(p["types"].most_common())} for p in pairs.values()]

    # 3 and 4. layout and labels, widening the rings until every label has a place
    _order_rings(rings, nodes, pairs, group_by)
    scale = 1.0
    for _ in range(MAX_PASSES):
        _layout(rings, nodes, pairs, scale)
        hidden = _place_labels(nodes)
        if not hidden:
            break
        scale *= 1.2
    bounds = _bounds(nodes.values())
    for n in nodes.values():
        n.pop("deg", None)
        n.pop("angle", None)
    return {
        "ego": {k: ego_node[k] for k in ("id", "name", "kind", "layer")},
        "depth": depth, "group_by": group_by, "font": FONT,
        "nodes": list(nodes.values()), "edges": edges, "bounds": bounds, "hidden_labels": hidden,
        "summary": {"actors": len(info), "ties": sub.ecount(),
                    "by_distance": dict(sorted(Counter(dist).items())),
                    "by_kind": dict(Counter(x["kind"] for x in info).most_common()),
                    "shown": sum(1 for n in nodes.values() if not n["group"] and not n["ego"]),
                    "grouped": sum(n["group"]["count"] for n in nodes.values() if n["group"]),
                    "groups": groups_total},
    }


def _node(v: dict[str, Any], d: int) -> dict[str, Any]:
    return {"id": v["id"], "name": v["name"], "kind": v["kind"], "layer": v["layer"], "country": v["country"],
            "dist": d, "ego": False, "deg": v["deg"], "group": None}


def _common(values: Iterable[str | None]) -> str | None:
    found = set(values)
    return found.pop() if len(found) == 1 else None


def _pick(ring: list[int], info: list[dict[str, Any]], cap: int) -> tuple[list[int], list[int]]:
    """``cap`` actors of ``ring`` (sorted most connected first) taken in turns from each
    kind, and the rest; a ring that overflows ``cap`` by a handful is drawn whole."""
    if len(ring) <= cap + max(2, cap // 4):
        return ring, []
    by_kind: dict[str, list[int]] = defaultdict(list)
    for j in ring:
        by_kind[info[j]["kind"] or "?"].append(j)
    queues = sorted(by_kind.values(), key=lambda js: (-info[js[0]]["deg"], info[js[0]]["id"]))
    shown: list[int] = []
    turn = 0
    while len(shown) < cap:
        took = False
        for q in queues:
            if turn < len(q) and len(shown) < cap:
                shown.append(q[turn])
                took = True
        if not took:
            break
        turn += 1
    chosen = set(shown)
    return shown, [j for j in ring if j not in chosen]


def _sort_key(n: dict[str, Any], by: str) -> tuple:
    kind = n["kind"] if n["kind"] in _KIND_ORDER else "~"
    rank = _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)
    if n["group"] and n["group"]["by"] == "kind" and n["group"]["value"] == "*":
        rank = len(_KIND_ORDER) + 1
    country = ""
    if by == "country" or (n["group"] and n["group"]["by"] == "country"):
        country = n["country"] or "~"
    return (rank, country, 1 if n["group"] else 0, n["name"].lower())


def _order_rings(rings, nodes, pairs, by) -> None:
    """Ring 1 by kind (groups after the actors of their kind), the further rings later by
    angle (in :func:`_layout`)."""
    if len(rings) > 1:
        rings[1].sort(key=lambda i: _sort_key(nodes[i], by))


def _radius(n: dict[str, Any]) -> float:
    if n["ego"]:
        return 14.0
    if n["group"]:
        return 7.0 + 2.0 * math.log2(1 + n["group"]["count"])
    return 4.0 + min(6.0, math.log2(1 + n["deg"]))


def _layout(rings, nodes, pairs, scale: float) -> None:
    adj: dict[str, list[str]] = defaultdict(list)
    for a, b in pairs:
        adj[a].append(b)
        adj[b].append(a)
    ego = nodes[rings[0][0]]
    ego.update(x=0.0, y=0.0, r=_radius(ego), angle=0.0)
    radius = 0.0
    for d in range(1, len(rings)):
        ring = rings[d]
        if not ring:
            continue
        if d > 1:
            want = {}
            for i in ring:       # the circular mean of its neighbours' angles on the ring inside
                inside = [nodes[w]["angle"] for w in adj[i] if nodes[w]["dist"] == d - 1 and "angle" in nodes[w]]
                sx, sy = sum(math.cos(a) for a in inside), sum(math.sin(a) for a in inside)
                want[i] = math.atan2(sy, sx) if (sx or sy) else math.pi
            ring.sort(key=lambda i: (want[i], nodes[i]["name"]))
        # room for each node and a line of text between neighbours on the circle
        need = sum(2 * _radius(nodes[i]) + FONT * 0.9 for i in ring) / (2 * math.pi)
        radius = max(90.0, need) * scale if d == 1 else max(radius + 150.0 * scale, need * scale)
        start = -math.pi / 2 if d == 1 else min(want.values())
        for k, i in enumerate(ring):
            a = start + 2 * math.pi * k / len(ring)
            n = nodes[i]
            n.update(x=radius * math.cos(a), y=radius * math.sin(a), r=_radius(n), angle=a)


def _overlap(a, b, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _place_labels(nodes: dict[str, dict[str, Any]]) -> int:
    """Greedy placement (see the module's description); returns the labels left out."""
    placed: list[tuple[float, float, float, float]] = []
    discs = [(n["x"] - n["r"], n["y"] - n["r"], n["x"] + n["r"], n["y"] + n["r"], n["id"]) for n in nodes.values()]
    order = sorted(nodes.values(), key=lambda n: (not n["ego"], not n["group"], n["dist"], -n["deg"], n["name"]))
    hidden = 0
    h = FONT * 1.25
    for n in order:
        text = n["name"] if n["group"] else _short(n["name"])
        w = text_width(text, bold=n["ego"] or bool(n["group"])) + 2
        n["label"] = text
        n["label_box"] = None
        for box in _candidates(n, w, h):
            rect = box[:4]
            if any(_overlap(rect, p) for p in placed):
                continue
            if any(_overlap(rect, dsc[:4], 0.5) for dsc in discs if dsc[4] != n["id"]):
                continue
            placed.append(rect)
            n["label_box"] = {"x": round(rect[0], 1), "y": round(rect[1], 1), "w": round(w, 1), "h": round(h, 1),
                              "anchor": box[4], "leader": box[5]}
            break
        else:
            hidden += 1
    return hidden


def _candidates(n: dict[str, Any], w: float, h: float):
    """Label boxes to try for node ``n``: (x0, y0, x1, y1, text anchor, leader line)."""
    x, y, r = n["x"], n["y"], n["r"]
    if n["ego"]:
        yield (x - w / 2, y + r + 2, x + w / 2, y + r + 2 + h, "middle", False)
        yield (x - w / 2, y - r - 2 - h, x + w / 2, y - r - 2, "middle", False)
        return
    a = n["angle"]
    ca, sa = math.cos(a), math.sin(a)
    for step in range(0, 5):
        off = r + 3 + step * 14
        px, py = x + off * ca, y + off * sa
        leader = step > 0
        if ca > 0.35:
            yield (px, py - h / 2, px + w, py + h / 2, "start", leader)
        elif ca < -0.35:
            yield (px - w, py - h / 2, px, py + h / 2, "end", leader)
        elif sa < 0:                             # near the top: the label above, centred
            yield (px - w / 2, py - h, px + w / 2, py, "middle", leader)
        else:
            yield (px - w / 2, py, px + w / 2, py + h, "middle", leader)
        # beside, shifted up or down along the ring's tangent
        for side in (1, -1):
            tx, ty = px - side * sa * h, py + side * ca * h
            if ca >= 0:
                yield (tx, ty - h / 2, tx + w, ty + h / 2, "start", True)
            else:
                yield (tx - w, ty - h / 2, tx, ty + h / 2, "end", True)


def _bounds(nodes) -> list[float]:
    xs0, ys0, xs1, ys1 = [], [], [], []
    for n in nodes:
        xs0.append(n["x"] - n["r"])
        ys0.append(n["y"] - n["r"])
        xs1.append(n["x"] + n["r"])
        ys1.append(n["y"] + n["r"])
        b = n.get("label_box")
        if b:
            xs0.append(b["x"])
            ys0.append(b["y"])
            xs1.append(b["x"] + b["w"])
            ys1.append(b["y"] + b["h"])
    return [round(min(xs0) - 8, 1), round(min(ys0) - 8, 1), round(max(xs1) + 8, 1), round(max(ys1) + 8, 1)]
