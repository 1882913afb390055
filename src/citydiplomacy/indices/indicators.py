"""Indicators computed from the store, one function per kind of measure.

An indicator of the framework (``data/indices/framework.yaml``) names a measure kind and
its parameters, e.g. ``{kind: networks, axis: digital}``. :data:`MEASURES` maps each kind
to a function ``(data, units, params, as_of) -> pandas.Series`` indexed by the unit ids;
adding a kind of measure means adding one function here (and a line in the method page).

Everything is read once (:func:`load`) and computed with pandas, never one query per city:
the default dataset's 40,000 cities take about a second.

A count taken from ties is an observation: a city with no twinning tie in the store gets
0 twinning partners. A measure that needs data a city may simply not have reported —
its initiatives, an imported observation series — is missing (NaN) for a city without
that data, not 0: screening and imputation then decide what to do, visibly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import select

from ..errors import ValidationError
from ..profile import BLOC_KINDS, UPWARD  # the same upward ties and blocs as the profile
from ..store import Store
from ..store.schema import actors, alignments, initiatives, observations, ties
from ..tiestate import in_force_mask
from ..vocab import SYMMETRIC_TIES

SYMMETRIC = tuple(t.value for t in SYMMETRIC_TIES)


@dataclass
class StoreData:
    """The store's actors, ties, initiatives, alignments and observations as tables."""

    actors: pd.DataFrame        # index id: name, kind, layer, country, population, axes
    ties: pd.DataFrame          # source, target, target_type, type, since, until, status, axes
    initiatives: pd.DataFrame   # id, actor_id, axes, since, until, status
    alignments: pd.DataFrame    # initiative_id, item_code, score
    observations: pd.DataFrame  # actor_id, indicator, year, value, unit
    _graphs: dict | None = None

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
    a["axes"] = a["axes"].fillna("")
    t["axes"] = t["axes"].fillna("")
    return StoreData(a, t, i, al, o)


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
    """(unit, other) pairs of the active ties of ``types``, both ways for symmetric types."""
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

def m_ties(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Ties of ``type`` (one or a list). ``count``: ``partners`` (distinct other ends,
    default), ``countries`` (distinct countries of the other ends, other than the unit's
    own) or ``blocs`` (distinct blocs those foreign countries belong to)."""
    types = params.get("type") or "twinned_with"
    types = [types] if isinstance(types, str) else list(types)
    e = edges(data, types, as_of)
    e = e[e["unit"].isin(units)]
    what = params.get("count", "partners")
    if what == "partners":
        return _count(e, units)
    country = data.actors["country"]
    e = e.assign(country=e["other"].map(country).to_numpy(), own=e["unit"].map(country).to_numpy())
    foreign = e[e["country"].notna() & (e["country"] != e["own"])]
    if what == "countries":
        return _count(foreign, units, "country")
    if what == "blocs":
        sb = _state_blocs(data, as_of)
        return _count(foreign.merge(sb, on="country"), units, "bloc")
    raise ValidationError(f"count '{what}' is not one of partners, countries, blocs", field="measure.count")


def m_networks(data: StoreData, units: pd.Index, params: Mapping[str, Any], as_of: str | None) -> pd.Series:
    """Memberships of city networks: all, those serving ``axis``, or the listed ``ids``."""
    nets = _network_ids(data, params)
    e = edges(data, ["member_of"], as_of)
    return _count(e[e["unit"].isin(units) & e["other"].isin(nets)], units)


def m_partners_in_networks(data: StoreData, units: pd.Index, params: Mapping[str, Any],
                           as_of: str | None) -> pd.Series:
    """Twinning partners that are themselves members of networks serving ``axis`` (or of
    the listed ``ids``): how much a city's partners expose it to that axis's practice."""
    nets = _network_ids(data, params)
    members = edges(data, ["member_of"], as_of)
    members = set(members.loc[members["other"].isin(nets), "unit"])
    e = edges(data, ["twinned_with"], as_of)
    return _count(e[e["unit"].isin(units) & e["other"].isin(members)], units)


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
    return pd.Series({r["id"]: r[role] for r in rows}, dtype=float).reindex(units, fill_value=0.0)


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
    "initiatives": m_initiatives,
    "coverage": m_coverage,
    "observation": m_observation,
}
NEEDS_STORE = frozenset({"centrality", "brokerage"})


def measure(store: Store, data: StoreData, units: pd.Index, spec: Mapping[str, Any],
            as_of: str | None = None, *, code: str = "") -> pd.Series:
    """One indicator's values for ``units`` from its ``measure`` mapping."""
    spec = dict(spec or {})
    kind = spec.pop("kind", None)
    if kind not in MEASURES:
        raise ValidationError(f"indicator '{code}': measure kind '{kind}' is not one of "
                              f"{', '.join(sorted(MEASURES))}", field="measure.kind")
    fn = MEASURES[kind]
    values = fn(data, units, spec, as_of, store=store) if kind in NEEDS_STORE else fn(data, units, spec, as_of)
    return values.rename(code)


def table(store: Store, data: StoreData, units: pd.Index, indicators, as_of: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The units x indicators table of every indicator (units as index, codes as columns)."""
    cols = {}
    for k, ind in enumerate(indicators):
        cols[ind.code] = measure(store, data, units, ind.measure or {}, as_of, code=ind.code)
        if progress:
            progress(k + 1, len(indicators))
    return pd.DataFrame(cols, index=units, dtype=float)
