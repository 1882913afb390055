"""The city diplomacy profile report: a city's ties by layer, its networks by axis with
their coverage, its twinning map, its ego network, its reach to the macro layer, its
axis scores with rank intervals, its activity over time, its SDG and Paris coverage and
gaps, and the partners recommended to it — each figure with its source.

Every number comes from the library's own sections (:meth:`Observatory.profile
<citydiplomacy.observatory.Observatory.profile>`, :func:`citydiplomacy.geo.map_ties`,
:func:`citydiplomacy.network.ego.ego_view`, :func:`citydiplomacy.indices.results.show`,
:func:`citydiplomacy.recommend.recommend_partners`); this module only arranges them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import CitydipError
from .document import Report, Section, Table, words
from .figures import Chart, bars, columns_by_year, ego_graph, rank_intervals, world_lines

__all__ = ["profile_report"]

AXES = ("sustainability", "digital", "engagement")
LAYERS = ("macro", "meso", "micro")


def profile_report(obs, ref: str, *, lang: str = "en", partners: bool | None = None,
                   build: str | None = None) -> Report:
    """The profile report of the city (or any actor) ``ref`` names, in ``lang`` (en, fr,
    es, de). ``partners``: recommend partners (True: fit the models if they are not yet,
    tens of seconds; None: only when they are already fitted; False: never). ``build``:
    the index build whose scores it shows (default: the published one).

    An unknown ``ref`` raises :class:`~citydiplomacy.errors.NotFoundError` with the
    closest names."""
    code, _ = words(lang)
    p = obs.profile(ref, network=True, build=build)
    a = p["actor"]
    aid, name = a["id"], a["name"]
    store_ties = obs.ties(aid)
    sources = _sources(store_ties)
    rep = Report(kind="profile", title=_("Diplomacy profile: %(name)s", name=name),
                 subtitle=_place(a), lang=code, sources=sources)
    rep.facts = _facts(p, _)
    tie_source = _("the store's ties of %(name)s (%(n)s sources, listed at the end)", name=name, n=len(sources))

    rep.sections.append(_ties_section(p, _, tie_source))
    rep.sections.append(_networks_section(obs, p, _))
    rep.sections.append(_twinning_section(obs, p, _, tie_source))
    rep.sections.append(_ego_section(obs, aid, name, _))
    rep.sections.append(_reach_section(p, _))
    rep.sections.append(_index_section(obs, aid, name, _, build))
    rep.sections.append(_activity_section(p, _))
    rep.sections.append(_coverage_section(p, _, code))
    rep.sections.append(_partners_section(obs, aid, name, _, partners))
    rep.sections.append(_sources_section(rep, _))
    return rep


def _place(a: dict[str, Any]) -> str:
    from ..countries import lookup_code

    country = lookup_code(a["country"]) if a.get("country") else None
    bits = [a.get("admin1"), country.name if country else a.get("country")]
    return ", ".join(b for b in bits if b)


def _facts(p: dict[str, Any], _) -> list[tuple[str, str]]:
    a = p["actor"]
    tw = p["twinning"]
    nets = {n["id"] for ns in p["networks_by_axis"].values() for n in ns}
    out = [(_("population"), f"{a['population']:,}" if a.get("population") else "—"),
           (_("twinning partners in force"), str(len(tw["partners"]))),
           (_("city networks"), str(len(nets))),
           (_("global institutions reached"), str(p["reach"]["count"])),
           (_("engagements in the register"), str(p["activity"]["count"]))]
    return out


def _sources(ties_: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct sources of the actor's ties, most used first."""
    count: Counter = Counter()
    info: dict[str, dict[str, Any]] = {}
    for t in ties_:
        prov = t.get("provenance") or {}
        key = prov.get("source")
        if not key:
            continue
        count[key] += 1
        info.setdefault(key, {"source": key, "licence": prov.get("licence"), "url": prov.get("url"),
                              "as_of": prov.get("as_of")})
    return [{**info[k], "ties": n} for k, n in count.most_common()]


def _ties_section(p, _, source: str) -> Section:
    by_layer = p["ties_by_layer"]
    types = sorted({t for layer in by_layer.values() for t in layer})
    labels = [_(layer) for layer in LAYERS]
    series = {t.replace("_", " "): [by_layer.get(layer, {}).get(t, 0) for layer in LAYERS] for t in types}
    total = sum(sum(v.values()) for v in by_layer.values())
    alt = _("Ties of %(name)s by layer: ", name=p["actor"]["name"]) + "; ".join(
        f"{_(layer)} {sum(by_layer.get(layer, {}).values())}" for layer in LAYERS) + "."
    chart = Chart("ties-by-layer", _("Ties by layer and type"), alt, source,
                  bars(labels, series, xlabel=_("ties")), size=(6.3, 2.2))
    rows = [[_(layer), t.replace("_", " "), n] for layer in LAYERS for t, n in by_layer.get(layer, {}).items()]
    return Section("ties", _("Ties by layer"),
                   [_("%(name)s has %(n)s ties in the store: the global (macro), regional and national (meso) "
                      "and local (micro) layers of diplomacy.", name=p["actor"]["name"], n=total)],
                   charts=[chart], tables=[Table([_("layer"), _("tie type"), _("ties")], rows, source=source,
                                                 numeric={2})])


def _networks_section(obs, p, _) -> Section:
    from ..membership import network_members

    per_axis = p["networks_by_axis"]
    nets: dict[str, dict[str, Any]] = {}
    for axis in AXES:
        for n in per_axis.get(axis, []):
            nets.setdefault(n["id"], {**n, "axes": []})["axes"].append(_(axis))
    with obs.store.connect() as conn:
        for nid, n in nets.items():
            n["coverage"] = network_members(conn, nid, with_sources=False)
    source = _("memberships in the store, each with its source; coverage: members held against the "
               "network's published count")
    chart = Chart("networks-by-axis", _("City networks by axis"),
                  _("Networks of %(name)s by axis: ", name=p["actor"]["name"]) +
                  "; ".join(f"{_(a)} {len(per_axis.get(a, []))}" for a in AXES) + ".", source,
                  bars([_(a) for a in AXES], {_("networks"): [len(per_axis.get(a, [])) for a in AXES]},
                       xlabel=_("networks")), size=(6.3, 1.6))
    rows = []
    for n in sorted(nets.values(), key=lambda n: n["name"]):
        cov = n["coverage"]
        rows.append([n["name"], ", ".join(n["axes"]), _(n.get("status") or "active"), n.get("since") or "—",
                     _("%(held)s of %(published)s held", held=cov.get("held"), published=cov.get("published") or "?")
                     if cov.get("published") else _("%(held)s held", held=cov.get("held"))])
    return Section("networks", _("Networks by axis"),
                   [_("The city networks %(name)s is a member of, by the axis of city diplomacy each works on, and "
                      "how much of each network's membership the store holds (its coverage).",
                      name=p["actor"]["name"])],
                   charts=[chart], tables=[Table([_("network"), _("axes"), _("status"), _("since"), _("coverage")],
                                                 rows, source=source)])


def _twinning_section(obs, p, _, source: str) -> Section:
    from ..geo import map_ties

    aid, name = p["actor"]["id"], p["actor"]["name"]
    geo = map_ties(obs.store, aid, type="twinned_with")
    origin = None
    partners = []
    for f in geo["features"]:
        pr = f["properties"]
        if f["geometry"]["type"] == "Point" and pr.get("role") == "actor":
            origin = tuple(f["geometry"]["coordinates"])
    points = {f["id"]: f["geometry"]["coordinates"] for f in geo["features"] if f["geometry"]["type"] == "Point"}
    for f in geo["features"]:
        if f["geometry"]["type"] != "LineString":
            continue
        pr = f["properties"]
        lon, lat = points.get(pr["other"], (None, None))
        partners.append({"name": pr["other_name"], "lon": lon, "lat": lat,
                         "in_force": pr["status"] not in ("suspended", "ended")})
    tw = p["twinning"]
    live = len(tw["partners"])
    dead = len(tw["not_in_force"])
    alt = _("World map of the twinning ties of %(name)s: %(n)s partners in force, %(m)s suspended or ended "
            "(dashed); %(k)s of them placed on the map.", name=name, n=live, m=dead, k=geo["mapped"])
    chart = Chart("twinning-map", _("Twinning partners"), alt,
                  source + "; " + _("country outlines: Natural Earth (public domain)"),
                  world_lines(origin, partners), size=(6.3, 3.4))
    rows = [[t["name"], t.get("country") or "—", _("in force")] for t in tw["partners"]]
    rows += [[t["name"], t.get("country") or "—", _(t.get("status") or "ended") +
              (f" ({t['suspended_since']})" if t.get("suspended_since") else "")] for t in tw["not_in_force"]]
    by_bloc = [[b, n] for b, n in list(tw["by_bloc"].items())[:8]]
    tables = [Table([_("partner"), _("country"), _("status")], rows, source=source)]
    if by_bloc:
        tables.append(Table([_("bloc"), _("partners")], by_bloc, caption=_("Partners by their state's blocs"),
                            source=source, numeric={1}))
    return Section("twinning", _("Twinning map"),
                   [_("%(name)s is twinned with %(n)s cities and regions; %(m)s twinnings are suspended or ended.",
                      name=name, n=live, m=dead)], charts=[chart], tables=tables)


def _ego_section(obs, aid: str, name: str, _) -> Section:
    from ..network.ego import ego_view

    view = ego_view(obs.graph(), aid)
    s = view["summary"]
    kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in s["by_kind"].items())
    alt = _("The ego network of %(name)s: %(actors)s actors and %(ties)s ties among them within one step (%(kinds)s).",
            name=name, actors=s["actors"], ties=s["ties"], kinds=kinds)
    chart = Chart("ego-network", _("Ego network"), alt, _("the store's graph (every tie in force)"),
                  ego_graph(view), size=(6.3, 4.6))
    return Section("ego", _("Ego network"),
                   [_("The actors %(name)s is tied to, and the ties among them.", name=name)], charts=[chart])


def _reach_section(p, _) -> Section:
    r = p["reach"]
    name = p["actor"]["name"]
    channels = list(r["by_channel"].items())
    source = _("upward ties in the store (membership, location, party to treaties)")
    chart = Chart("reach-channels", _("Reach to the macro layer, by channel"),
                  _("Global institutions %(name)s reaches: %(n)s, by channel: ", name=name, n=r["count"]) +
                  "; ".join(f"{_(c)} {n}" for c, n in channels) + ".", source,
                  bars([_(c) for c, _n in channels], {_("institutions"): [n for _c, n in channels]},
                       xlabel=_("global institutions")), size=(6.3, 1.8))
    rows = []
    for m in r["macro_actors"]:
        via = "; ".join(_(v["channel"]) + (f" ({v['through_name']})" if v.get("through_name") else "")
                        for v in m["via"][:3])
        rows.append([m["name"], via])
    paragraphs = [_("%(name)s reaches %(n)s global institutions: directly, through its state, through its "
                    "networks, or as host.", name=name, n=r["count"])]
    net = p.get("network") or {}
    tables = [Table([_("institution"), _("through")], rows, source=source)]
    if net:
        vi = net.get("vertical_integration") or {}
        rows2 = [[_("degree"), net["degree"]["value"], net["degree"]["rank"]],
                 [_("PageRank"), f"{net['pagerank']['value']:.2e}", net["pagerank"]["rank"]]]
        if vi:
            rows2.append([_("vertical integration"), f"{vi['value']:.3f}", vi.get("rank")])
        tables.append(Table([_("measure"), _("value"), _("rank")], rows2,
                            caption=_("Standing in the network, among %(among)s", among=net.get("among", "")),
                            source=_("the store's graph; method: docs/network-centrality.md"), numeric={1, 2}))
    return Section("reach", _("Reach to the macro layer"), paragraphs, charts=[chart], tables=tables)


def _index_section(obs, aid: str, name: str, _, build: str | None) -> Section:
    sec = Section("index", _("Axis scores"))
    try:
        res = obs.index_show(aid, build=build)
    except CitydipError as exc:
        sec.paragraphs.append(_("No index scores: %(why)s", why=getattr(exc, "detail", str(exc))))
        return sec
    if not res.get("scored"):
        sec.paragraphs.append(_("No index scores: %(why)s", why=res.get("reason") or ""))
        return sec
    axes = [(_(k), res["axes"][k]) for k in (*AXES, "overall") if k in res["axes"]]
    source = _("index build '%(build)s' (%(date)s), %(n)s Monte Carlo replications; method: docs/indices-method.md",
               build=res.get("build"), date=str(res.get("built_at"))[:10], n=res.get("replications"))
    alt = _("Ranks of %(name)s with their 5–95%% intervals: ", name=name) + "; ".join(
        f"{k} {a.get('rank') or '—'} ({a.get('rank_lo') or '—'}–{a.get('rank_hi') or '—'}) / {a.get('of')}"
        for k, a in axes) + "."
    sec.paragraphs.append(_("Scores from 0 to 100 on each axis; each rank comes with its interval over the choices "
                            "an index builder could have made (5th to 95th percentile)."))
    sec.charts.append(Chart("axis-ranks", _("Axis ranks with their intervals"), alt, source,
                            rank_intervals(axes, xlabel=_("rank (log scale)")), size=(6.3, 1.9)))
    rows = [[k, a.get("score") if a.get("score") is not None else "—", a.get("rank") or "—",
             f"{a.get('rank_lo') or '—'}–{a.get('rank_hi') or '—'}", a.get("of")] for k, a in axes]
    sec.tables.append(Table([_("axis"), _("score"), _("rank"), _("interval"), _("of")], rows, source=source,
                            numeric={1, 2, 4}))
    return sec


def _activity_section(p, _) -> Section:
    act = p["activity"]
    name = p["actor"]["name"]
    source = _("the engagement register (each engagement with its source)")
    sec = Section("activity", _("Activity over time"),
                  [_("%(name)s takes part in %(n)s engagements of the register.", name=name, n=act["count"])])
    years = {k: v for k, v in act["by_year"].items() if str(k).isdigit()}
    if years:
        alt = _("Engagements of %(name)s by year: ", name=name) + "; ".join(f"{y} {n}" for y, n in sorted(years.items())) + "."
        sec.charts.append(Chart("activity-by-year", _("Engagements by year"), alt, source,
                                columns_by_year(years, ylabel=_("engagements")), size=(6.3, 1.9)))
    if act.get("by_kind"):
        sec.tables.append(Table([_("kind"), _("engagements")], [[_(k), n] for k, n in act["by_kind"].items()],
                                source=source, numeric={1}))
    partners = act.get("partners") or []
    if partners:
        sec.tables.append(Table([_("partner"), _("country"), _("engagements together"), _("last")],
                                [[x["name"], x.get("country") or "—", x["count"], x.get("last") or "—"]
                                 for x in partners[:10]], caption=_("Most frequent partners"), source=source,
                                numeric={2}))
    return sec


def _coverage_section(p, _, lang: str) -> Section:
    from ..align.catalog import catalog

    cov = p["coverage"]
    cat = catalog()
    name = p["actor"]["name"]
    goals = [str(g) for g in range(1, 18)]
    by = cov["by_sdg"]

    def get(g, k):
        v = by.get(g) or by.get(int(g)) or {}
        return v.get(k, 0)
    source = _("the city's initiatives and engagements, aligned with the SDGs (docs/align-method.md)")
    alt = _("SDGs served by the initiatives and engagements of %(name)s: ", name=name) + "; ".join(
        f"{g}: {get(g, 'initiatives') + get(g, 'engagements')}" for g in goals) + ". " + \
        _("Gaps: %(gaps)s.", gaps=", ".join(str(g) for g in cov["sdg_gaps"]) or "—")
    chart = Chart("sdg-coverage", _("SDG coverage"), alt, source,
                  bars([f"SDG {g}" for g in goals], {_("initiatives"): [get(g, "initiatives") for g in goals],
                                                    _("engagements"): [get(g, "engagements") for g in goals]},
                       horizontal=False, xlabel=_("initiatives and engagements")), size=(6.3, 2.2))
    gaps = [[f"SDG {g}", _short(cat.title(f"sdg:{g}", lang))] for g in cov["sdg_gaps"]]
    pgaps = ", ".join(str(a) for a in cov["paris_gaps"]) or "—"
    return Section("sdg", _("SDG coverage and gaps"),
                   [_("Which goals the %(i)s initiatives and %(e)s engagements of %(name)s serve, and which none "
                      "serves (the gaps).", i=cov["initiatives"], e=cov["engagements"], name=name),
                    _("Paris Agreement articles no initiative or engagement serves: %(gaps)s.", gaps=pgaps)],
                   charts=[chart], tables=[Table([_("goal"), _("title")], gaps, caption=_("Gaps"), source=source)]
                   if gaps else [])


def _short(title: str) -> str:
    return title.split(": ", 1)[0]


def _partners_section(obs, aid: str, name: str, _, partners: bool | None) -> Section:
    from ..recommend.engine import is_fitted

    sec = Section("partners", _("Recommended partners"))
    if partners is False:
        sec.paragraphs.append(_("Not included in this report."))
        return sec
    if partners is None and not is_fitted(obs.store):
        sec.paragraphs.append(_("Not computed for this report: the recommendation models are not fitted yet "
                                "(citydip recommend partners %(name)s fits them, then the report includes them).",
                                name=name))
        return sec
    try:
        rec = obs.recommend_partners(aid, top=10)
    except CitydipError as exc:
        sec.paragraphs.append(_("No recommendations: %(why)s", why=getattr(exc, "detail", str(exc))))
        return sec
    rows = []
    for r in rec.get("results", []):
        rows.append([r.get("name"), r.get("country") or "—", f"{r.get('score', 0):.2f}", r.get("why") or ""])
    sec.paragraphs.append(_("Cities %(name)s could partner with, from a model of how ties form in the store "
                            "(docs/recommend.md), each with its reasons.", name=name))
    sec.tables.append(Table([_("city"), _("country"), _("score"), _("why")], rows,
                            source=_("citydiplomacy.recommend, fitted on the store"), numeric={2}))
    return sec


def _sources_section(rep: Report, _) -> Section:
    rows = [[s["source"], s.get("licence") or "—", s.get("as_of") or "—", s["ties"]] for s in rep.sources]
    return Section("sources", _("Sources"),
                   [_("Every tie of this report comes from one of these sources, with its licence and date."),
                    _("Made on %(date)s by citydiplomacy from its store; the figures are drawn with matplotlib.",
                      date=rep.made)],
                   tables=[Table([_("source"), _("licence"), _("as of"), _("ties")], rows, numeric={3})])
