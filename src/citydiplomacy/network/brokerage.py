"""Brokerage roles of Gould and Fernandez: who mediates between which groups.

A state that ties its cities (micro) to the UN (macro) mediates between layers; a city
network that ties cities of many countries mediates between countries. The five roles
say who is on each side of the mediation.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Hashable, Iterable, Mapping

import numpy as np

from ..errors import ValidationError
from ..vocab import SYMMETRIC_TIES
from .arrays import distinct
from .graph import DiplomacyGraph
from .multiplex import _layer_types

__all__ = ["brokerage", "brokerage_of", "ROLES"]

#: The five roles, in the order of Gould and Fernandez.
ROLES = ("coordinator", "consultant", "representative", "gatekeeper", "liaison")

_SYMMETRIC = {t.value for t in SYMMETRIC_TIES}


def _groups(dg: DiplomacyGraph, group: str | Mapping[str, Hashable]) -> tuple[list, np.ndarray]:
    """The group of each vertex, and group codes; an actor without a group is its own."""
    g = dg.g
    if isinstance(group, str):
        if group not in g.vs.attributes():
            raise ValidationError(f"'{group}' is not an actor attribute; use 'layer', 'country', "
                                  f"'kind' or a mapping of actor id to group", field="group")
        values = list(g.vs[group])
    else:
        values = [group.get(name) for name in g.vs["name"]]
    codes: dict[Hashable, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, val in enumerate(values):
        key = ("\0alone", i) if val is None or val == "" else val
        out[i] = codes.setdefault(key, len(codes))
    return values, out


def _arcs(dg: DiplomacyGraph, types: list[str] | None, directed: bool) -> np.ndarray:
    """The distinct arcs (a, b), a != b: directed ties as they are, symmetric ties (and,
    when not ``directed``, every tie) as two arcs."""
    g = dg.g
    if not g.ecount():
        return np.empty((0, 2), dtype=np.int64)
    edges = np.asarray(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    etypes = g.es["type"]
    keep = np.ones(len(edges), dtype=bool) if types is None else np.isin(etypes, types)
    both = np.ones(len(edges), dtype=bool) if not directed else np.isin(etypes, list(_SYMMETRIC))
    arcs = np.concatenate([edges[keep], edges[keep & both][:, ::-1]])
    arcs = arcs[arcs[:, 0] != arcs[:, 1]]
    # distinct (a, b) in (a, b) order, as one sorted key a·n + b (np.unique by rows is ~10x slower)
    n = g.vcount()
    keys = distinct(arcs[:, 0] * n + arcs[:, 1])
    return np.stack([keys // n, keys % n], axis=1)


def _role_codes(ga: np.ndarray, gv: np.ndarray, gb: np.ndarray) -> np.ndarray:
    """The role (index into :data:`ROLES`) of each two-path a -> v -> b from the groups."""
    role = np.full(len(gv), 4)
    role[(ga == gb) & (ga != gv)] = 1
    role[(ga == gv) & (gb != gv)] = 2
    role[(gb == gv) & (ga != gv)] = 3
    role[(ga == gv) & (gb == gv)] = 0
    return role


def brokerage(dg: DiplomacyGraph, *, group: str | Mapping[str, Hashable] = "layer",
              directed: bool = True, types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Gould–Fernandez brokerage: each actor's open two-paths, by the groups they join.

    A two-path a -> v -> b (a, v, b distinct) is *open* when the tie a -> b is absent:
    v mediates between a and b. With g(x) the group of x, v is a

    - **coordinator** when g(a) = g(v) = g(b) (mediation inside one group);
    - **consultant** (itinerant broker) when g(a) = g(b) != g(v);
    - **representative** when g(a) = g(v) != g(b) (v speaks for its group outward);
    - **gatekeeper** when g(b) = g(v) != g(a) (v controls entry into its group);
    - **liaison** when g(a), g(v), g(b) all differ.

    Counts are of pairs (a, b): parallel ties and ties of several types between the same
    two actors make one arc. Symmetric ties (``twinned_with``, ``partner_of``) are two
    arcs, one each way.

    Parameters
    ----------
    dg : the graph.
    group : ``"layer"`` (macro/meso/micro, the default), ``"country"``, ``"kind"`` or any
        actor attribute, or a mapping actor id -> group. An actor with no value (an
        international organisation has no country) is a group of its own.
    directed : ``True`` (default): ties keep their direction. ``False``: every tie is an
        undirected edge (two arcs) and each unordered pair {a, b} is counted once, as
        suits twinning. Without direction, a broker between its own group and another is
        as much representative as gatekeeper: such a pair adds 1/2 to each, so those two
        are equal (possibly halves) and the five roles still sum to ``total``.
    types : keep only ties of these types (default: all ties of ``dg``).

    Returns
    -------
    One row per actor, most brokerage first (then by id): ``{id, name, group,
    coordinator, consultant, representative, gatekeeper, liaison, total}``.

    Reference
    ---------
    R. V. Gould, R. M. Fernandez (1989), "Structures of mediation: a formal approach to
    brokerage in transaction networks", Sociological Methodology 19: 89–126,
    doi:10.2307/270949.
    """
    g = dg.g
    n = g.vcount()
    values, gcode = _groups(dg, group)
    arcs = _arcs(dg, _layer_types(dg, types) if types is not None else None, directed)
    src, dst = arcs[:, 0], arcs[:, 1]
    # All pairs In(v) x Out(v), classified from group counts: with i = |In|, o = |Out|
    # and c_in, c_out the members of v's own group among them, and s = sum over groups
    # of (in-neighbours of the group) x (out-neighbours of the group).
    deg_in = np.bincount(dst, minlength=n)
    deg_out = np.bincount(src, minlength=n)
    own_in = np.bincount(dst[gcode[src] == gcode[dst]], minlength=n)
    own_out = np.bincount(src[gcode[dst] == gcode[src]], minlength=n)
    c_in = Counter(zip(dst.tolist(), gcode[src].tolist()))
    same = np.zeros(n, dtype=np.int64)
    for (v, grp), k in Counter(zip(src.tolist(), gcode[dst].tolist())).items():
        same[v] += k * c_in.get((v, grp), 0)
    counts = np.zeros((n, 5), dtype=np.int64)
    counts[:, 0] = own_in * own_out
    counts[:, 1] = same - own_in * own_out
    counts[:, 2] = own_in * (deg_out - own_out)
    counts[:, 3] = (deg_in - own_in) * own_out
    counts[:, 4] = deg_in * deg_out - same - counts[:, 2] - counts[:, 3]
    # Then remove the pairs that are not open two-paths: a = b (a mutual tie v <-> a) and
    # closed triads (a -> v -> b with a -> b). Closed triads are found from each arc
    # a -> b as Out(a) ∩ In(b), iterating the smaller set: hubs are never scanned whole.
    out_sets: list[set[int]] = [set() for _ in range(n)]
    in_sets: list[set[int]] = [set() for _ in range(n)]
    for a, b in zip(src.tolist(), dst.tolist()):
        out_sets[a].add(b)
        in_sets[b].add(a)
    tv, ta, tb = [], [], []
    for a, b in zip(src.tolist(), dst.tolist()):
        if b in in_sets[a]:  # the mutual pair: a is both in- and out-neighbour of b
            tv.append(b), ta.append(a), tb.append(a)
        mid = out_sets[a] & in_sets[b]
        if mid:
            tv.extend(mid)
            ta.extend([a] * len(mid))
            tb.extend([b] * len(mid))
    if tv:
        tv_, ta_, tb_ = (np.asarray(x, dtype=np.int64) for x in (tv, ta, tb))
        roles = _role_codes(gcode[ta_], gcode[tv_], gcode[tb_])
        np.subtract.at(counts, (tv_, roles), 1)
    if directed:
        table, num = counts, int
    else:
        table, num = counts / 2, float
    rows = []
    for i, (name, label) in enumerate(zip(g.vs["name"], g.vs["label"])):
        row = {"id": name, "name": label, "group": values[i]}
        row.update({r: num(table[i, j]) for j, r in enumerate(ROLES)})
        row["total"] = num(table[i].sum())
        rows.append(row)
    rows.sort(key=lambda r: (-r["total"], r["id"]))
    return rows


def brokerage_of(dg: DiplomacyGraph, actor_id: str, *, group: str | Mapping[str, Hashable] = "layer",
                 directed: bool = True, types: Iterable[str] | None = None) -> dict[str, Any]:
    """The row of :func:`brokerage` for one actor: the same definition and counts, from
    its in- and out-neighbours and the arcs between them, without every actor's.

    Returns ``{id, name, group, coordinator, consultant, representative, gatekeeper,
    liaison, total}``."""
    v = dg.index(actor_id)
    n = dg.g.vcount()
    values, gcode = _groups(dg, group)
    arcs = _arcs(dg, _layer_types(dg, types) if types is not None else None, directed)
    src, dst = arcs[:, 0], arcs[:, 1]
    ins, outs = src[dst == v], dst[src == v]
    gv = gcode[v]

    def by_role(ga: np.ndarray, gb: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        if not len(ga):
            return np.zeros(5)
        return np.bincount(_role_codes(ga, np.full(len(ga), gv), gb), weights=weights, minlength=5)

    # every pair In(v) x Out(v), by the groups of its ends ...
    ga, ca = np.unique(gcode[ins], return_counts=True)
    gb, cb = np.unique(gcode[outs], return_counts=True)
    counts = by_role(np.repeat(ga, len(gb)), np.tile(gb, len(ga)), np.outer(ca, cb).ravel().astype(float))
    # ... less the pairs that are not open two-paths: a = b, and a -> b tied
    both = np.intersect1d(ins, outs)
    counts -= by_role(gcode[both], gcode[both])
    in_mask = np.zeros(n, dtype=bool)
    out_mask = np.zeros(n, dtype=bool)
    in_mask[ins] = True
    out_mask[outs] = True
    closed = in_mask[src] & out_mask[dst]
    counts -= by_role(gcode[src[closed]], gcode[dst[closed]])
    counts = np.rint(counts).astype(np.int64)
    table, num = (counts, int) if directed else (counts / 2, float)
    row = {"id": actor_id, "name": dg.g.vs[v]["label"], "group": values[v]}
    row.update({r: num(table[j]) for j, r in enumerate(ROLES)})
    row["total"] = num(table.sum())
    return row
