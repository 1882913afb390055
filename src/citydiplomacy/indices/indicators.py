"""Indicators computed from the store, one function per kind of measure.

An indicator of the framework (``data/indices/framework.yaml``) names a measure kind and
its parameters, e.g. ``{kind: networks, axis: digital}``. :data:`MEASURES` maps each kind
to a function ``(data, units, params, as_of) -> pandas.Series`` indexed by the unit ids;
adding a kind of measure means adding one function here (and a line in the method page).

Everything is read once (:func:`load`) and computed with pandas, never one query per city:
the default dataset's 40,000 cities take about a second.

"Not known" is not "zero". Every measure returns NaN for a city the store holds no
record of that kind for, and a number only where the record exists: twinning counts for a
city with at least one twinning tie in the store (in force or not), initiative counts for
a city with initiatives, an observation where one was imported. Two sources enumerate
their whole population, so their absence is a known zero: the seats of the international
bodies (every body of the store has its host recorded: ``hosts`` ties, ``absent: zero``)
and a complete network member list (C40's, the JRC's list of Covenant signatories).
Network memberships are counted with the lists' coverage (:mod:`citydiplomacy.membership`):
a city listed by none of the networks of an indicator, where some list is partial, is not
known; its value is *estimated* (the expected memberships given the members each list
misses) and flagged, as imputation would be. :func:`measure_table` returns the values
(estimates filled in), what was observed, and what was estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import select

from ..errors import ValidationError
from ..profile import BLOC_KINDS, UPWARD  # the same upward ties and blocs as the profile
from ..store import Store
from ..store import schema
from ..store.schema import actors, alignments, initiatives, observations, ties
from ..tiestate import in_force_mask
from ..vocab import SYMMETRIC_TIES

SYMMETRIC = tuple(t.value for t in SYMMETRIC_TIES)
#: networks whose member_of ties carry ``commitments`` (read by the ``commitments`` measure)
_COMMITMENT_NETWORKS = ("covenant-of-mayors-eu", "gcom")
#: member lists taken as complete although the network actor does not say so: the JRC's
#: list of the Covenant's signatories is the Covenant's own register (see docs/data.md)
COMPLETE_LISTS = ("covenant-of-mayors-eu",)


@dataclass
class StoreData:
    """The store's actors, ties, initiatives, alignments and observations as tables."""

    actors: pd.DataFrame        # index id: name, kind, layer, country, population, axes
    ties: pd.DataFrame          # source, target, target_type, type, since, until, status, axes
    initiatives: pd.DataFrame   # id, actor_id, axes, since, until, status
    alignments: pd.DataFrame    # initiative_id, item_code, score
    observations: pd.DataFrame  # actor_id, indicator, year, value, unit
    networks: pd.DataFrame | None = None    # index id: published, complete (the networks' member facts)
    commitments: pd.DataFrame | None = None  # source, target, status, since, until, commitments (list)
    #: actor_id, engagement, kind, role, since, until, status, axes, complete: one row per party
    engagements: pd.DataFrame | None = None
    _graphs: dict | None = None
    #: per-run memos of :func:`edges` and :func:`recorded` (several indicators share them)
    _memo: dict = field(default_factory=dict)

    def graph(self, store: Store, types: tuple[str, ...], as_of: str | None):
        """The network graph of ``types`` (cached per run)."""
        from ..network import build_graph

        if self._graphs is None:
            self._graphs = {}
        key = (types, as_of)
        if key not in self._graphs:
            self._graphs[key] = build_graph(store, tie_types=list(types), as_of=as_of)
        return self._graphs[key]


def load(store: Store) -> StoreData:
    """Read what the measures need, in five queries."""
    def frame(conn, stmt, columns) -> pd.DataFrame:
        return pd.DataFrame(conn.execute(stmt).all(), columns=columns)

    with store.connect() as conn:
        a = frame(conn, select(actors.c.id, actors.c.name, actors.c.kind, actors.c.layer, actors.c.country,
                               actors.c.population, actors.c.axes),
                  ["id", "name", "kind", "layer", "country", "population", "axes"]).set_index("id")
        t = frame(conn, select(ties.c.source, ties.c.target, ties.c.target_type, ties.c.type, ties.c.since,
                               ties.c.until, ties.c.status, ties.c.axes,
                               ties.c.attrs["suspended_since"].as_string()),
                  ["source", "target", "target_type", "type", "since", "until", "status", "axes",
                   "suspended_since"])
        i = frame(conn, select(initiatives.c.id, initiatives.c.actor_id, initiatives.c.axes, initiatives.c.since,
                               initiatives.c.until, initiatives.c.status),
                  ["id", "actor_id", "axes", "since", "until", "status"])
        al = frame(conn, select(alignments.c.initiative_id, alignments.c.item_code, alignments.c.score),
                   ["initiative_id", "item_code", "score"])
        o = frame(conn, select(observations.c.actor_id, observations.c.indicator, observations.c.year,
                               observations.c.value, observations.c.unit),
                  ["actor_id", "indicator", "year", "value", "unit"])
        nets = conn.execute(select(actors.c.id, actors.c.attrs).where(actors.c.kind == "city_network")).all()
        # the attrs of member_of ties that carry commitments (the Covenant of Mayors')
        com = frame(conn, select(ties.c.source, ties.c.target, ties.c.status, ties.c.since, ties.c.until,
                                 ties.c.attrs).where(ties.c.type == "member_of",
                                                     ties.c.target.in_(_COMMITMENT_NETWORKS)),
                    ["source", "target", "status", "since", "until", "attrs"])
    a["axes"] = a["axes"].fillna("")
    t["axes"] = t["axes"].fillna("")
    n = pd.DataFrame([{"id": k, "published": ((v or {}).get("members") or {}).get("published"),
                       "complete": bool(((v or {}).get("members") or {}).get("complete"))} for k, v in nets],
                     columns=["id", "published", "complete"]).set_index("id")
    com["commitments"] = com["attrs"].map(lambda v: list((v or {}).get("commitments") or []))
    return StoreData(a, t, i, al, o, n, com.drop(columns="attrs"), engagements=load_engagements(store))


def load_engagements(store: Store) -> pd.DataFrame:
    """One row per party of an engagement of the register: ``actor_id``, ``engagement``
    (its key), ``kind``, ``role``, ``since``, ``until``, ``status`` (as a tie's, see
    :func:`citydiplomacy.network.engaged.tie_status`), ``axes``, ``complete`` (the
    engagement's party list is its source's whole list: ``attrs.complete``) and
    ``mirrored`` (its parties are read from another list of the store, ``attrs.parties_from``:
    the Covenant of Mayors' commitments)."""
    from ..network.engaged import tie_status

    E, P = schema.engagements, schema.engagement_parties
    with store.connect() as conn:
        rows = conn.execute(select(P.c.actor_id, E.c.key, E.c.kind, P.c.role, P.c.signed_on, E.c.signed_on,
                                   E.c.start_on, E.c.end_on, E.c.status, E.c.axes, E.c.attrs)
                            .join(E, E.c.id == P.c.engagement_id)).all()
    out = []
    for r in rows:
        status, until = tie_status(r.kind, r.status, r.end_on)
        since = (r[4] if r.kind == "declaration" and r[4] else None) or r.start_on or r[5]
        attrs = r.attrs or {}
        out.append((r.actor_id, r.key, r.kind, r.role, since, until, status, r.axes or "",
                    bool(attrs.get("complete")), bool(attrs.get("parties_from"))))
    return pd.DataFrame(out, columns=["actor_id", "engagement", "kind", "role", "since", "until", "status", "axes",
                                      "complete", "mirrored"])


# -- helpers -------------------------------------------------------------------------------

def active(frame: pd.DataFrame, as_of: str | None) -> pd.Series:
    """Which rows (ties or initiatives) are in force at ``as_of`` (a partial ISO date);
    without ``as_of``, the ones in force now (active or dormant: never suspended, ended or
    proposed). The rule is :mod:`citydiplomacy.tiestate`'s."""
    return in_force_mask(frame, as_of)


def _has_axis(axes: pd.Series, axis: str | None) -> pd.Series:
    if not axis:
        return pd.Series(True, index=axes.index)
    return axes.fillna("").str.split(",").apply(lambda xs: axis in xs)


def edges(data: StoreData, types: list[str], as_of: str | None) -> pd.DataFrame:
    """(unit, other) pairs of the active ties of ``types``, both ways for symmetric types
    (computed once per run and ``types``; do not modify the frame returned)."""
    key = ("edges", tuple(sorted(types)), as_of)
    if key not in data._memo:
        data._memo[key] = _edges(data, types, as_of)
    return data._memo[key]


def _edges(data: StoreData, types: list[str], as_of: str | None) -> pd.DataFrame:
    t = data.ties[data.ties["type"].isin(types) & (data.ties["target_type"] == "actor")]
    t = t[active(t, as_of)]
    out = [t[["source", "target"]].rename(columns={"source": "unit", "target": "other"})]
    sym = t[t["type"].isin(SYMMETRIC)]
    if not sym.empty:
        out.append(sym[["target", "source"]].rename(columns={"target": "unit", "source": "other"}))
    e = pd.concat(out, ignore_index=True)
    return e[e["unit"] != e["other"]].drop_duplicates()


def _count(pairs: pd.DataFrame, units: pd.Index, column: str = "other") -> pd.Series:
    n = pairs.dropna(subset=[column]).drop_duplicates(["unit", column]).groupby("unit").size()
    return n.reindex(units, fill_value=0).astype(float)


def _member(values, wanted) -> np.ndarray:
    """Which of ``values`` are in ``wanted``, by a Python set (pandas' ``isin`` on Arrow
    strings converts every value, about 50 ms a call on the default data)."""
    wanted = wanted if isinstance(wanted, (set, frozenset)) else set(wanted)
    return np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))


def recorded(data: StoreData, types: list[str], units: pd.Index) -> pd.Index:
    """The units with at least one tie of ``types`` in the store, in force or not, at any
    date: those the store has a record of that kind for."""
    key = ("recorded", tuple(sorted(types)))
    ends = data._memo.get(key)
    if ends is None:
        t = data.ties[data.ties["type"].isin(types) & (data.ties["target_type"] == "actor")]
        ends = set(t["source"])
        if any(x in SYMMETRIC for x in types):
            ends |= set(t.loc[t["type"].isin(SYMMETRIC), "target"])
        data._memo[key] = ends
    return units[_member(units, ends)]


def _known(values: pd.Series, known: pd.Index) -> pd.Series:
    """``values`` where the unit has a record, NaN elsewhere (not known, not zero)."""
    return values.where(_member(values.index, known))


def _state_blocs(data: StoreData, as_of: str | None) -> pd.DataFrame:
    """(country, bloc) for every state's active membership of a bloc."""
    a = data.actors
    t = data.ties[(data.ties["type"] == "member_of") & active(data.ties, as_of)]
    t = t[t["source"].map(a["kind"]).eq("state") & t["target"].map(a["kind"]).isin(BLOC_KINDS)]
    return pd.DataFrame({"country": t["source"].map(a["country"]).to_numpy(), "bloc": t["target"].to_numpy()})


def _network_ids(data: StoreData, params: Mapping[str, Any]) -> pd.Index:
    a = data.actors
    nets = a[a["kind"] == "city_network"]
    if params.get("ids"):
        wanted = list(params["ids"])
        unknown = [n for n in wanted if n not in a.index]
        if unknown:
            raise ValidationError(f"network {', '.join(unknown)} is not in the store; "
                                  "list networks with: citydip search --kind city_network ''",
                                  field="measure.ids")
        nets = a.loc[wanted]
    return nets.index[_has_axis(nets["axes"], params.get("axis")).to_numpy()]


# -- the measures ----------------------------------------------------------------------------

def _absent(params: Mapping[str, Any]) -> str:
    absent = params.get("absent", "missing")
    if absent not in ("missing", "zero"):
        raise ValidationError(f"absent '{absent}' is not missing or zero", field="measure.absent")
    return absent


def m_ties(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Ties of ``type`` (one or a list). ``count``: ``partners`` (distinct other ends,
    default), ``countries`` (distinct countries of the other ends, other than the unit's
    own) or ``blocs`` (distinct blocs those foreign countries belong to). ``absent``:
    ``missing`` (default: NaN for a unit with no tie of ``type`` in the store at all) or
    ``zero`` (the source lists every such tie, so no tie means none)."""
    types = params.get("type") or "twinned_with"
    types = [types] if isinstance(types, str) else list(types)
    absent = _absent(params)
    e = edges(data, types, as_of)
    e = e[e["unit"].isin(units)]
    what = params.get("count", "partners")
    if what == "partners":
        out = _count(e, units)
    else:
        country = data.actors["country"]
        e = e.assign(country=e["other"].map(country).to_numpy(), own=e["unit"].map(country).to_numpy())
        foreign = e[e["country"].notna() & (e["country"] != e["own"])]
        if what == "countries":
            out = _count(foreign, units, "country")
        elif what == "blocs":
            sb = _state_blocs(data, as_of)
            out = _count(foreign.merge(sb, on="country"), units, "bloc")
        else:
            raise ValidationError(f"count '{what}' is not one of partners, countries, blocs",
                                  field="measure.count")
    return out if absent == "zero" else _known(out, recorded(data, types, units))


@dataclass
class Measured:
    """A measure's result: ``values`` (NaN: not known) and, for the units not known, an
    ``estimate`` the source's own coverage supports (None: nothing to estimate from)."""

    values: pd.Series
    estimate: pd.Series | None = None


def network_chances(data: StoreData, nets: pd.Index, units: pd.Index, as_of: str | None,
                    complete: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per network of ``nets``: its members in force among the units (``held``), its
    published member count, whether its list is complete, and ``chance``: how likely a
    unit it does not list is a member all the same, ``(published - held) / (units -
    held)`` in [0, 1] (0 for a complete list, NaN when the network's count is unknown)."""
    e = edges(data, ["member_of"], as_of)
    e = e[e["other"].isin(nets) & e["unit"].isin(units)]
    held = e.groupby("other")["unit"].nunique().reindex(nets, fill_value=0)
    facts = (data.networks if data.networks is not None else pd.DataFrame(columns=["published", "complete"]))
    facts = facts.reindex(nets)
    published = pd.to_numeric(facts["published"], errors="coerce")
    whole = facts["complete"].fillna(False).astype(bool) | nets.isin(list(COMPLETE_LISTS) + list(complete))
    whole = whole | (published.notna() & (held >= published))
    chance = ((published - held) / max(len(units), 1)).clip(0, 1)
    chance = chance.where(~whole, 0.0)
    return pd.DataFrame({"held": held, "published": published, "complete": whole, "chance": chance})


def m_networks(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> Measured:
    """Memberships of city networks (all, those serving ``axis``, or the listed ``ids``),
    adjusted by the lists' coverage: a listed membership in force counts 1, each other
    network of the set counts the chance that a city it does not list is a member (see
    :func:`network_chances`; 0 for a complete list). Known for a unit listed by a network
    of the set (in force or not) or when every list of the set is complete; otherwise
    NaN, with the same sum as the estimate. ``complete``: more network ids whose lists
    are taken as complete."""
    nets = _network_ids(data, params)
    facts = network_chances(data, nets, units, as_of, tuple(params.get("complete") or ()))
    e = edges(data, ["member_of"], as_of)
    e = e[e["unit"].isin(units) & e["other"].isin(nets)].drop_duplicates(["unit", "other"])
    listed = _count(e, units)
    chances = facts["chance"].fillna(0.0)
    got = e.assign(c=e["other"].map(chances)).groupby("unit")["c"].sum().reindex(units, fill_value=0.0)
    value = listed + (float(chances.sum()) - got)
    if bool(facts["complete"].all()):
        return Measured(value)
    t = data.ties[(data.ties["type"] == "member_of") & data.ties["target"].isin(nets)]
    known = units[_member(units, set(t["source"]))]
    return Measured(_known(value, known), value.where(~_member(value.index, known)))


def m_commitments(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """The commitments a unit has made as a signatory of ``network`` (default: the
    Covenant of Mayors – Europe): the distinct commitments (CoM2020, CoM2030, CoM2050,
    Mayors Adapt) of its memberships in force; 0 for a signatory whose membership is
    suspended or ended (its commitments are on hold). The signatories' list is complete,
    so a unit of a country where the network has signatories and that is not one has
    made none (0); elsewhere it is not known (NaN: the network does not work there)."""
    network = params.get("network", "covenant-of-mayors-eu")
    if network not in _COMMITMENT_NETWORKS:
        raise ValidationError(f"network '{network}' carries no commitments; use one of "
                              f"{', '.join(_COMMITMENT_NETWORKS)}", field="measure.network")
    c = data.commitments if data.commitments is not None else pd.DataFrame(
        columns=["source", "target", "status", "since", "until", "commitments"])
    c = c[(c["target"] == network) & c["source"].isin(units)]
    now = c[active(c, as_of)] if not c.empty else c
    n = (now.explode("commitments").dropna(subset=["commitments"]).drop_duplicates(["source", "commitments"])
         .groupby("source").size())
    out = n.reindex(units, fill_value=0).astype(float)
    country = data.actors["country"].reindex(units)
    scope = set(country.reindex(c["source"].unique()).dropna())
    signatories = set(c["source"])
    in_scope = _member(country, scope) | _member(units, signatories)
    return out.where(in_scope)


def m_partners_in_networks(data: StoreData, units: pd.Index, params: Mapping[str, Any],
                           as_of: str | None) -> pd.Series:
    """Twinning partners that are themselves members of networks serving ``axis`` (or of
    the listed ``ids``): how much a city's partners expose it to that axis's practice."""
    nets = _network_ids(data, params)
    members = edges(data, ["member_of"], as_of)
    members = set(members.loc[members["other"].isin(nets), "unit"])
    e = edges(data, ["twinned_with"], as_of)
    out = _count(e[e["unit"].isin(units) & e["other"].isin(members)], units)
    return _known(out, recorded(data, ["twinned_with"], units))


def m_macro_reach(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Distinct macro-layer actors reached within two upward steps (directly, or through
    the unit's state, networks or hosted bodies), as the profile's macro reach."""
    layer = data.actors["layer"]
    t = data.ties[(data.ties["target_type"] == "actor") & active(data.ties, as_of)]
    up = t[t["type"].isin(UPWARD + ("hosts",))][["source", "target"]]
    sym = t[t["type"].isin([s for s in SYMMETRIC if s in UPWARD])][["target", "source"]]
    sym.columns = ["source", "target"]
    steps = pd.concat([up, sym], ignore_index=True).drop_duplicates()
    first = steps[steps["source"].isin(units)]
    macro = steps[steps["target"].map(layer).eq("macro")]
    direct = first[first["target"].map(layer).eq("macro")].rename(columns={"source": "unit", "target": "other"})
    middle = first[~first["target"].map(layer).eq("macro")].rename(columns={"source": "unit", "target": "via"})
    second = middle.merge(macro.rename(columns={"source": "via", "target": "other"}), on="via")
    return _count(pd.concat([direct, second[["unit", "other"]]], ignore_index=True), units)


def m_centrality(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None,
                 *, store: Store) -> pd.Series:
    """A network centrality (``measure``: pagerank, degree, eigenvector, closeness,
    betweenness) on the graph of tie ``types``; see docs/network-centrality.md. PageRank
    is given relative to the average actor of the graph (its value times the number of
    actors: 1 = average)."""
    from ..network import centrality

    types = tuple(params.get("types") or ("twinned_with", "member_of"))
    name = params.get("measure", "pagerank")
    functions = {"pagerank": centrality.pagerank, "degree": centrality.degree,
                 "eigenvector": centrality.eigenvector, "closeness": centrality.closeness}
    dg = data.graph(store, types, as_of)
    if name == "pagerank":
        # relative to the average actor (1 = average): PageRank's raw values shrink with
        # the graph's size, which would make them unreadable and log transforms void
        n = dg.g.vcount()
        return pd.Series({k: v * n for k, v in centrality.pagerank(dg).items()}, dtype=float).reindex(
            units, fill_value=0.0)
    if name == "betweenness":
        values = centrality.betweenness(dg, sample=params.get("sample", 2000), seed=0)
    elif name in functions:
        values = functions[name](dg)
    else:
        raise ValidationError(f"centrality '{name}' is not one of pagerank, degree, eigenvector, closeness, "
                              "betweenness", field="measure.measure")
    return pd.Series(dict(values), dtype=float).reindex(units, fill_value=0.0)


def m_brokerage(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None,
                *, store: Store) -> pd.Series:
    """Gould–Fernandez brokerage (``role``: total, or one of coordinator, consultant,
    representative, gatekeeper, liaison) between groups (``group``: country, layer),
    on the undirected graph of tie ``types``."""
    from ..network.brokerage import brokerage

    types = tuple(params.get("types") or ("twinned_with",))
    role = params.get("role", "total")
    rows = brokerage(data.graph(store, types, as_of), group=params.get("group", "country"), directed=False)
    out = pd.Series({r["id"]: r[role] for r in rows}, dtype=float).reindex(units, fill_value=0.0)
    return _known(out, recorded(data, list(types), units))


def m_engagements(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Engagements of the register a unit takes part in (``kinds``: engagement kinds,
    default all; ``axis``; ``roles``: only parties in these roles, default every role but
    ``organiser``), in force at ``as_of`` by the ties' rule (a declaration signed, an
    event attended stay a fact from their date; an agreement or a project is in force
    from its start to its end; see :mod:`citydiplomacy.network.engaged`); ``years``: only
    those dated within that many years before ``as_of`` (or now). Engagements whose
    parties mirror another list of the store (the Covenant of Mayors' commitments, which
    ``commitments`` and ``networks`` already count) are left out unless ``mirrored: true``.

    Not known is not zero. A unit that is a party to an engagement of the set (in force
    or not, at any date) has a record of that kind: its count is known. A unit listed by
    none is known only where every engagement of the set says it did not take part: the
    engagement's party list is complete (``attrs.complete``) and the unit's country is one
    where the engagement has parties (a complete list of one country's councils says
    nothing of another country's cities). Elsewhere it is NaN."""
    e = data.engagements
    if e is None or e.empty:
        return pd.Series(np.nan, index=units, dtype=float)
    kinds = params.get("kinds")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    roles = params.get("roles")
    sel = e[e["kind"].isin(kinds)] if kinds else e
    if not params.get("mirrored"):
        sel = sel[~sel["mirrored"]]
    sel = sel[sel["role"].isin(list(roles))] if roles else sel[sel["role"] != "organiser"]
    if params.get("axis"):
        sel = sel[_has_axis(sel["axes"], params["axis"]).to_numpy()]
    listed = sel[sel["actor_id"].isin(units)]
    now = listed[active(listed, as_of)] if not listed.empty else listed
    years = params.get("years")
    if years is not None and not now.empty:
        import datetime as dt

        ref = as_of or dt.date.today().isoformat()
        floor = f"{int(ref[:4]) - int(years):04d}{ref[4:]}"
        # a partial date counts when it may fall within: "2014" is within ten years of 2024-06
        within = now["since"].fillna("").map(lambda d: bool(d) and d >= floor[:len(d)])
        now = now[within.to_numpy(dtype=bool)]
    out = now.drop_duplicates(["actor_id", "engagement"]).groupby("actor_id").size().reindex(units, fill_value=0)
    out = out.astype(float)
    known = _member(units, set(listed["actor_id"]))
    if not sel.empty:
        country = data.actors["country"]
        sel_c = sel.assign(country=sel["actor_id"].map(country).to_numpy())
        scope = sel_c.groupby("engagement").agg(complete=("complete", "max"),
                                                countries=("country", lambda c: set(c.dropna())))
        unit_country = country.reindex(units).to_numpy()
        if bool(scope["complete"].all()):
            covered = np.ones(len(units), dtype=bool)
            for countries in scope["countries"]:
                covered &= np.fromiter((c in countries for c in unit_country), dtype=bool, count=len(units))
            known |= covered
    return out.where(known)


def m_state_tie(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """1 when the unit's state has an active tie of ``type`` to ``target`` (e.g. is a
    party to the Paris Agreement), else 0; NaN for a unit without a country."""
    t = data.ties[(data.ties["type"] == params.get("type", "party_to")) & active(data.ties, as_of)]
    if params.get("target"):
        t = t[t["target"] == params["target"]]
    states = data.actors.loc[data.actors.index.intersection(t["source"])]
    yes = set(states.loc[states["kind"] == "state", "country"].dropna())
    country = data.actors["country"].reindex(units)
    return country.map(lambda c: np.nan if pd.isna(c) else float(c in yes)).astype(float)


def _initiatives_of(data: StoreData, units: pd.Index, as_of: str | None) -> pd.DataFrame:
    i = data.initiatives
    return i[i["actor_id"].isin(units) & active(i, as_of)]


def m_initiatives(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Initiatives serving ``axis`` (all without it); NaN for a unit with no initiative
    recorded at all (unknown, not zero)."""
    i = _initiatives_of(data, units, as_of)
    reporting = set(i["actor_id"])
    sel = i[_has_axis(i["axes"], params.get("axis")).to_numpy()] if not i.empty else i
    n = sel.groupby("actor_id").size().reindex(units, fill_value=0).astype(float)
    return n.where(n.index.isin(reporting))


def m_coverage(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Distinct SDGs (``framework: sdg``) or Paris articles (``paris``) the unit's
    initiatives are aligned with; NaN for a unit with no initiative."""
    framework = params.get("framework", "sdg")
    if framework not in ("sdg", "paris"):
        raise ValidationError(f"framework '{framework}' is not sdg or paris", field="measure.framework")
    i = _initiatives_of(data, units, as_of)
    al = data.alignments
    al = al[al["item_code"].str.startswith(framework + ":") & ~al["item_code"].str.contains(r"\.")]
    al = al[al["score"] >= float(params.get("min_score", 0.5))]
    pairs = i[["id", "actor_id"]].merge(al, left_on="id", right_on="initiative_id")
    n = pairs.drop_duplicates(["actor_id", "item_code"]).groupby("actor_id").size()
    n = n.reindex(units, fill_value=0).astype(float)
    return n.where(n.index.isin(set(i["actor_id"])))


def m_observation(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """An imported observation series (``indicator``): the value of the year of
    ``as_of``, or the latest year when no ``as_of`` is given. NaN where not observed."""
    name = params.get("indicator")
    o = data.observations[(data.observations["indicator"] == name) & data.observations["actor_id"].isin(units)]
    if as_of is not None:
        o = o[o["year"] == int(as_of[:4])]
    o = o.sort_values("year").drop_duplicates("actor_id", keep="last")
    return o.set_index("actor_id")["value"].astype(float).reindex(units)


#: measure kind -> function; the ones taking ``store`` build a network graph.
MEASURES: dict[str, Callable[..., pd.Series]] = {
    "ties": m_ties,
    "networks": m_networks,
    "partners_in_networks": m_partners_in_networks,
    "macro_reach": m_macro_reach,
    "centrality": m_centrality,
    "brokerage": m_brokerage,
    "state_tie": m_state_tie,
    "engagements": m_engagements,
    "commitments": m_commitments,
    "initiatives": m_initiatives,
    "coverage": m_coverage,
    "observation": m_observation,
}
NEEDS_STORE = frozenset({"centrality", "brokerage"})
#: measure kinds about the unit's state, not the unit: allowed only as labelled context
#: indicators (``context: true`` in the framework)
CONTEXT_KINDS = frozenset({"state_tie"})


def measure(store: Store, data: StoreData, units: pd.Index, spec: Mapping[str, Any],
            as_of: str | None = None, *, code: str = "") -> Measured:
    """One indicator's values for ``units`` from its ``measure`` mapping (NaN: not
    known) and the estimate of the units not known, where the measure has one."""
    spec = dict(spec or {})
    kind = spec.pop("kind", None)
    if kind not in MEASURES:
        raise ValidationError(f"indicator '{code}': measure kind '{kind}' is not one of "
                              f"{', '.join(sorted(MEASURES))}", field="measure.kind")
    fn = MEASURES[kind]
    got = fn(data, units, spec, as_of, store=store) if kind in NEEDS_STORE else fn(data, units, spec, as_of)
    if not isinstance(got, Measured):
        got = Measured(got)
    got.values = got.values.rename(code)
    return got


@dataclass
class MeasuredTable:
    """The units x indicators table: ``values`` (estimates filled in; NaN: not known and
    not estimated), ``observed`` (the store holds the unit's record of that kind) and
    ``estimated`` (filled in from the source's coverage)."""

    values: pd.DataFrame
    observed: pd.DataFrame
    estimated: pd.DataFrame


def measure_table(store: Store, data: StoreData, units: pd.Index, indicators, as_of: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> MeasuredTable:
    """Every indicator of the framework for ``units``, with what is observed and what
    is estimated."""
    vals, est = {}, {}
    for k, ind in enumerate(indicators):
        got = measure(store, data, units, ind.measure or {}, as_of, code=ind.code)
        vals[ind.code] = got.values
        est[ind.code] = (got.estimate.reindex(units) if got.estimate is not None
                         else pd.Series(np.nan, index=units))
        if progress:
            progress(k + 1, len(indicators))
    raw = pd.DataFrame(vals, index=units, dtype=float)
    estimate = pd.DataFrame(est, index=units, dtype=float)
    observed = raw.notna()
    estimated = ~observed & estimate.notna()
    return MeasuredTable(raw.where(observed, estimate), observed, estimated)


def table(store: Store, data: StoreData, units: pd.Index, indicators, as_of: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The units x indicators table of every indicator (units as index, codes as
    columns): observed values, and the estimates of the units not known where a measure
    has them (see :func:`measure_table`)."""
    return measure_table(store, data, units, indicators, as_of, progress).values
