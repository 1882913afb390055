"""The charts the web pages draw, as figures to download (SVG, PNG): the same data, from
the same library functions, drawn with matplotlib by :mod:`.figures` in the same
colours (Okabe–Ito), each with its title, text alternative and source, in en, fr, es
or de.

An actor's charts (:data:`ACTOR_CHARTS`, :func:`actor_chart`), as its page shows them:

- ``axis-scores``: the radar of its axis scores (:func:`citydiplomacy.indices.stored.brief`);
- ``axis-ranks``: each axis's rank with its 5–95% interval (the same);
- ``tie-map``: its ties on a world map (:func:`citydiplomacy.geo.map_ties`);
- ``ego-network``: its ego network as laid out for the page (:func:`citydiplomacy.network.ego.ego_view`);
- ``activity-by-year``: its engagements by year (:func:`citydiplomacy.engage.views.timeline`;
  with a ``partner``, the pair's; with a ``kind``, that kind's), as on its page and its timeline.

The site's charts (:data:`SITE_CHARTS`, :func:`site_chart`):

- ``world-map``: the home page's world map (:func:`citydiplomacy.geo.world_map`);
- ``ties-by-type``: the home page's ties by type (:meth:`Observatory.status`);
- ``index-ranks``: the ranks and intervals of the cities the indices page lists
  (:meth:`Observatory.index_rank`, with the page's filters).

Unknown charts and actors raise :class:`~citydiplomacy.errors.NotFoundError`; a chart
with nothing to draw (an actor with no engagement, a city not scored) raises it too,
saying why.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import NotFoundError
from ..i18n import words
from .figures import (Chart, bars, columns_by_year, ego_graph, radar, rank_intervals, world_lines,
                      world_overview)

__all__ = ["ACTOR_CHARTS", "SITE_CHARTS", "actor_chart", "site_chart"]

AXES = ("sustainability", "digital", "engagement")
ACTOR_CHARTS = ("axis-scores", "axis-ranks", "tie-map", "ego-network", "activity-by-year")
SITE_CHARTS = ("world-map", "ties-by-type", "index-ranks")


def _unknown(name: str, names: tuple[str, ...], what: str) -> NotFoundError:
    return NotFoundError(f"no chart '{name}' {what}; the charts are: {', '.join(names)}")


def actor_chart(obs, ref: str, name: str, *, lang: str = "en", build: str | None = None,
                partner: str | None = None, kind: str | None = None, graph=None) -> Chart:
    """The chart ``name`` (one of :data:`ACTOR_CHARTS`) of the actor ``ref`` names, in
    ``lang``. ``build``: the index build of the axis charts (default: the published one);
    ``partner``, ``kind``: the engagements ``activity-by-year`` counts; ``graph``: the
    store's graph (a server passes the one it shares)."""
    if name not in ACTOR_CHARTS:
        raise _unknown(name, ACTOR_CHARTS, "of an actor")
    actor = obs.get(ref)
    _lang, _ = words(lang)
    make = {"axis-scores": _axis_scores, "axis-ranks": _axis_ranks, "tie-map": _tie_map,
            "ego-network": _ego_network, "activity-by-year": _activity}[name]
    return make(obs, actor, _, build=build, partner=partner, kind=kind, graph=graph)


def _index(obs, actor: dict[str, Any], _, build: str | None) -> dict[str, Any]:
    from ..indices.stored import brief

    if build is not None:
        from ..indices.builds import build_run

        with obs.store.connect() as conn:
            build_run(conn, build)          # an unknown build: NotFoundError naming the builds
    ix = brief(obs.store, actor["id"], build)
    if not ix or not ix.get("scored"):
        why = (ix or {}).get("reason") or _("no index has been built, or it does not score this actor")
        raise NotFoundError(_("No index scores: %(why)s", why=why))
    return ix


def _index_source(ix: dict[str, Any], _) -> str:
    return _("index build '%(build)s' (%(date)s), %(n)s Monte Carlo replications; method: docs/indices-method.md",
             build=ix.get("build_label") or ix.get("build"), date=str(ix.get("built_at") or "")[:10],
             n=ix.get("replications"))


def _axis_scores(obs, actor, _, *, build, **_kw) -> Chart:
    ix = _index(obs, actor, _, build)
    axes = [(_(a), (ix["axes"].get(a) or {}).get("score"), bool((ix["axes"].get(a) or {}).get("low_data")))
            for a in AXES]
    alt = _("Axis scores of %(name)s, from 0 to 100: ", name=actor["name"]) + "; ".join(
        f"{label} {score:.0f}" + (" (" + _("low data") + ")" if low else "") if score is not None else f"{label} —"
        for label, score, low in axes) + "."
    return Chart("axis-scores", _("Axis scores"), alt, _index_source(ix, _), radar(axes), size=(4.2, 3.6))


def _axis_ranks(obs, actor, _, *, build, **_kw) -> Chart:
    ix = _index(obs, actor, _, build)
    axes = [(_(k), ix["axes"][k]) for k in (*AXES, "overall") if k in ix["axes"]]
    alt = _("Ranks of %(name)s with their 5–95%% intervals: ", name=actor["name"]) + "; ".join(
        f"{k} {a.get('rank') or '—'} ({a.get('rank_lo') or '—'}–{a.get('rank_hi') or '—'}) / {a.get('of')}"
        for k, a in axes) + "."
    return Chart("axis-ranks", _("Axis ranks with their intervals"), alt, _index_source(ix, _),
                 rank_intervals(axes, xlabel=_("rank (log scale)")), size=(6.3, 1.9))


def _tie_map(obs, actor, _, **_kw) -> Chart:
    from ..geo import map_ties

    geo = map_ties(obs.store, actor["id"])
    origin = None
    points = {}
    for f in geo["features"]:
        if f["geometry"]["type"] == "Point":
            points[f["id"]] = f["geometry"]["coordinates"]
            if f["properties"].get("role") == "actor":
                origin = tuple(f["geometry"]["coordinates"])
    partners, seen = [], set()
    for f in geo["features"]:
        if f["geometry"]["type"] != "LineString":
            continue
        pr = f["properties"]
        lon, lat = points.get(pr["other"], (None, None))
        live = pr.get("status") not in ("suspended", "ended")
        key = (pr["other"], live)
        if key in seen:
            continue
        seen.add(key)
        partners.append({"name": pr["other_name"], "lon": lon, "lat": lat, "in_force": live})
    live = sum(1 for p in partners if p["in_force"])
    alt = _("World map of the ties of %(name)s: %(n)s places tied to it (%(m)s in force, the others suspended or "
            "ended, dashed); %(k)s of its %(t)s ties have a place on the map.", name=actor["name"],
            n=len(partners), m=live, k=geo["mapped"], t=geo["ties"])
    source = _("the store's ties of %(name)s", name=actor["name"]) + "; " + \
        _("country outlines: Natural Earth (public domain)")
    return Chart("tie-map", _("Ties on the map"), alt, source, world_lines(origin, partners), size=(6.3, 3.4))


def _ego_network(obs, actor, _, *, graph=None, **_kw) -> Chart:
    from ..network.ego import ego_view

    view = ego_view(graph if graph is not None else obs.graph(), actor["id"])
    s = view["summary"]
    kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in s["by_kind"].items())
    alt = _("The ego network of %(name)s: %(actors)s actors and %(ties)s ties among them within one step (%(kinds)s).",
            name=actor["name"], actors=s["actors"], ties=s["ties"], kinds=kinds)
    return Chart("ego-network", _("Ego network"), alt, _("the store's graph (every tie in force)"),
                 ego_graph(view), size=(6.3, 4.6))


def _activity(obs, actor, _, *, partner=None, kind=None, **_kw) -> Chart:
    from ..engage.views import timeline

    data = timeline(obs.store, actor["id"], partner or None, kind=kind or None)
    years = Counter(e["date"][:4] for e in data["items"] if e.get("date"))
    if not years:
        raise NotFoundError(_("The register holds no dated engagement of %(name)s.", name=actor["name"]))
    other = data.get("partner")
    who = actor["name"] if not other else f"{actor['name']} – {other['name']}"
    alt = _("Engagements of %(name)s by year: ", name=who) + \
        "; ".join(f"{y} {n}" for y, n in sorted(years.items())) + "."
    return Chart("activity-by-year", _("Engagements by year"), alt,
                 _("the engagement register (each engagement with its source)"),
                 columns_by_year(dict(years), ylabel=_("engagements")), size=(6.3, 1.9))


def site_chart(obs, name: str, *, lang: str = "en", top: int = 800, **ranking: Any) -> Chart:
    """The site's chart ``name`` (one of :data:`SITE_CHARTS`) in ``lang``: ``top``, the
    actors on the world map; ``ranking``, the filters of ``index-ranks``
    (:meth:`Observatory.index_rank`'s arguments: axis, region, bloc, country, band, top,
    low_data, build)."""
    if name not in SITE_CHARTS:
        raise _unknown(name, SITE_CHARTS, "of the site")
    _lang, _ = words(lang)
    if name == "world-map":
        from ..geo import world_map

        data = world_map(obs.store, top)
        alt = _("World map of the %(n)s most connected actors with a location and the %(t)s ties among them; "
                "countries shaded by the ties of their cities and bodies. Most connected: %(names)s.",
                n=len(data["actors"]), t=len(data["ties"]),
                names=", ".join(f"{a[1]} ({a[4]})" for a in data["actors"][:10]))
        return Chart("world-map", _("The world map of actors and ties"), alt,
                     _("the store's ties in force") + "; " + _("country outlines: Natural Earth (public domain)"),
                     world_overview(data["actors"], data["ties"], data["countries"]), size=(7.5, 3.9))
    if name == "ties-by-type":
        by_type = obs.status()["ties"]["by_type"]
        labels = [t.replace("_", " ") for t in by_type]
        alt = _("Ties by type: ") + "; ".join(f"{t} {n:,}" for t, n in zip(labels, by_type.values())) + "."
        return Chart("ties-by-type", _("Ties by type"), alt, _("the store's ties"),
                     bars(labels, {_("ties"): list(by_type.values())}, xlabel=_("ties")),
                     size=(6.3, 0.6 + 0.25 * max(len(labels), 1)))
    return _index_ranks(obs, _, **ranking)


def _index_ranks(obs, _, *, axis: str = "overall", region: str | None = None, bloc: str | None = None,
                 country: str | None = None, band: str | None = None, top: int = 50, low_data: bool = False,
                 build: str | None = None, **_kw) -> Chart:
    r = obs.index_rank(axis=axis, region=region or None, bloc=bloc or None, country=country or None,
                       band=band or None, top=top, low_data=low_data, build=build or None)
    rows = [(f"{x['name']}", dict(x, of=r["of"])) for x in r["rows"] if x.get("rank")]
    alt = _("Ranks on %(axis)s with their 5–95%% intervals, among %(of)s cities: ", axis=_(r["axis"]), of=r["of"]) + \
        "; ".join(f"{k} {a['rank']} ({a.get('rank_lo') or '—'}–{a.get('rank_hi') or '—'})" for k, a in rows) + "."
    source = _("index build '%(build)s' (%(date)s); method: docs/indices-method.md",
               build=r.get("build_label") or r.get("build"), date=str(r.get("built_at") or "")[:10])
    return Chart("index-ranks", _("Ranks on %(axis)s with their intervals", axis=_(r["axis"])), alt, source,
                 rank_intervals(rows, xlabel=_("rank (log scale)")), size=(6.3, 0.7 + 0.22 * max(len(rows), 1)))
