"""The figures of the reports and the web pages, drawn on the server with matplotlib
(the Agg canvas: no display, no browser) and written as SVG and PNG.

Each figure is a :class:`Chart`: its ``name``, a ``title``, a text alternative (``alt``,
what a screen reader says, and what the report prints under the figure for those who do
not see it) and its ``source`` (where its data come from). Colours are colour-blind safe:
the Okabe–Ito palette for categories (Okabe & Ito 2008, "Color Universal Design") and
``cividis`` for the heatmaps (Nuñez, Anderton & Renslow 2018, doi:10.1371/journal.pone.0199239),
which reads the same to people with colour-vision deficiency and in grey print.

The figure functions take the sections the library already computes (a profile, an
alignment summary) and only draw them.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

__all__ = ["Chart", "OKABE_ITO", "LAYER_COLOURS", "FORMATS", "bars", "heatmap", "world_lines", "world_overview",
           "ego_graph", "rank_intervals", "radar", "columns_by_year", "have_matplotlib"]

#: Okabe & Ito's eight colours, black last (orange, sky blue, bluish green, yellow, blue,
#: vermillion, reddish purple, black)
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
#: the colour of each layer, on the web pages (map dots, ego network, legends: app.css,
#: map.js, graph.js) and in the figures: Okabe–Ito hues
LAYER_COLOURS = {"macro": "#CC79A7", "meso": "#0072B2", "micro": "#D55E00", "framework": "#009E73"}
#: the sequential shade of the countries on the world maps (few ties -> many), as map.js draws it
COUNTRY_SHADE = ("#F7ECD6", "#C47840")
FORMATS = ("svg", "png")
#: the heatmaps' colour map (perceptually uniform, colour-vision-deficiency safe)
HEATMAP = "cividis"
FONT = "DejaVu Sans"


def have_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _matplotlib():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - the reports extra installs it
        from ..errors import ValidationError
        raise ValidationError("figures need matplotlib: pip install 'citydiplomacy[reports]'") from None
    matplotlib.rcParams.update({"font.family": FONT, "font.size": 9, "svg.fonttype": "none",
                                "axes.spines.top": False, "axes.spines.right": False,
                                "svg.hashsalt": "citydiplomacy"})
    from matplotlib.figure import Figure
    return Figure


@dataclass
class Chart:
    """One figure: drawn once by ``draw`` (a function of a matplotlib ``Figure``), written
    as SVG or PNG on demand (and kept)."""

    name: str
    title: str
    alt: str
    source: str
    draw: Callable[[Any], None] = field(repr=False)
    size: tuple[float, float] = (6.3, 3.0)
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)
    _figure: Any = field(default=None, repr=False)

    def figure(self):
        if self._figure is None:
            Figure = _matplotlib()
            fig = Figure(figsize=self.size, layout="constrained")
            self.draw(fig)
            self._figure = fig
        return self._figure

    def render(self, fmt: str = "svg", *, dpi: int = 160) -> bytes:
        """The figure as ``svg`` or ``png`` bytes (a PNG at ``dpi``)."""
        if fmt not in FORMATS:
            from ..errors import ValidationError
            raise ValidationError(f"unknown figure format '{fmt}'; use svg or png", field="format")
        key = f"{fmt}:{dpi}"
        if key not in self._cache:
            buf = io.BytesIO()
            # no date: the same figure gives the same file
            meta = ({"Title": self.title, "Date": None} if fmt == "svg" else
                    {"Title": self.title, "Description": self.alt, "Software": "citydiplomacy (matplotlib)"})
            self.figure().savefig(buf, format=fmt, dpi=dpi, metadata=meta)
            data = buf.getvalue()
            if fmt == "svg":
                data = _accessible_svg(data, self.title, self.alt)
            self._cache[key] = data
        return self._cache[key]

    def svg_inline(self) -> str:
        """The SVG without its XML prolog, to be placed in an HTML page."""
        text = self.render("svg").decode("utf-8")
        return text[text.index("<svg"):]


def _accessible_svg(data: bytes, title: str, alt: str) -> bytes:
    """The SVG with ``role="img"``, a ``<title>`` and a ``<desc>`` that screen readers read."""
    from xml.sax.saxutils import escape

    text = data.decode("utf-8")
    i = text.index("<svg")
    j = text.index(">", i)
    head = text[i:j]
    if 'role="img"' not in head:
        head += ' role="img" aria-labelledby="t d"'
    extra = f"<title id=\"t\">{escape(title)}</title><desc id=\"d\">{escape(alt)}</desc>"
    return (text[:i] + head + ">" + extra + text[j + 1:]).encode("utf-8")


# ---------------------------------------------------------------------------------------
# the kinds of figure


def bars(labels: list[str], series: dict[str, list[float]], *, horizontal: bool = True,
         xlabel: str = "", stacked: bool = True) -> Callable[[Any], None]:
    """Bars of one or several ``series`` (name -> a value per label), stacked, each
    series in its Okabe–Ito colour, with a legend when there is more than one."""
    def draw(fig):
        ax = fig.subplots()
        n = len(labels)
        pos = list(range(n))
        base = [0.0] * n
        width = 0.7 if stacked else 0.8 / max(len(series), 1)
        for k, (name, values) in enumerate(series.items()):
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            if stacked:
                args = dict(color=colour, label=name)
                if horizontal:
                    ax.barh(pos, values, height=width, left=base, **args)
                else:
                    ax.bar(pos, values, width=width, bottom=base, **args)
                base = [b + v for b, v in zip(base, values)]
            else:
                shifted = [p - 0.4 + width * (k + 0.5) for p in pos]
                (ax.barh if horizontal else ax.bar)(shifted, values, width if not horizontal else width,
                                                    color=colour, label=name)
        if horizontal:
            ax.set_yticks(pos, labels)
            ax.invert_yaxis()
            ax.set_xlabel(xlabel)
            ax.xaxis.get_major_locator().set_params(integer=True)
        else:
            ax.set_xticks(pos, labels, rotation=0 if n <= 20 else 90)
            ax.set_ylabel(xlabel)
            ax.yaxis.get_major_locator().set_params(integer=True)
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=8, loc="best")
    return draw


def heatmap(rows: list[str], cols: list[str], values: list[list[float | None]], *, label: str = "",
            fmt: str = "{:.0%}", vmax: float | None = None) -> Callable[[Any], None]:
    """A heatmap of ``values`` (one list per row) in cividis, each cell's value written in
    it (in black or white, whichever reads better on its colour); ``None`` cells are blank."""
    def draw(fig):
        import numpy as np

        ax = fig.subplots()
        arr = np.array([[np.nan if v is None else float(v) for v in r] for r in values], dtype=float)
        top = vmax if vmax is not None else (np.nanmax(arr) if np.isfinite(arr).any() else 1.0) or 1.0
        im = ax.imshow(arr, cmap=HEATMAP, vmin=0, vmax=top, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(cols)), cols, rotation=30 if max((len(c) for c in cols), default=0) > 6 else 0,
                      ha="right" if max((len(c) for c in cols), default=0) > 6 else "center")
        ax.set_yticks(range(len(rows)), rows)
        ax.tick_params(length=0)
        for s in ax.spines.values():
            s.set_visible(False)
        small = len(rows) * len(cols) <= 400
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                v = arr[i, j]
                if np.isnan(v) or not small:
                    continue
                light = v / top < 0.55
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=6.5,
                        color="white" if light else "black")
        cb = fig.colorbar(im, ax=ax, shrink=0.8, pad=0.01)
        cb.set_label(label)
        cb.ax.tick_params(labelsize=7)
    return draw


@lru_cache(maxsize=1)
def _country_rings() -> list[tuple[str, list[tuple[float, float]]]]:
    """The country outlines of Natural Earth 1:110m (public domain), from the TopoJSON file
    the web map ships (world-atlas 2.0.2): each ring of every country as (its ISO
    numeric code, lon/lat list)."""
    path = resources.files("citydiplomacy").joinpath("web", "static", "vendor", "world-atlas", "countries-110m.json")
    try:
        topo = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pragma: no cover - shipped with the package
        return []
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(indices: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for k in indices:
            pts = arcs[k] if k >= 0 else arcs[~k][::-1]
            out.extend(pts if not out else pts[1:])
        # a ring crossing the antimeridian (Russia, Fiji) made continuous, as map.js does:
        # no band across the whole map
        for i in range(1, len(out)):
            d = out[i][0] - out[i - 1][0]
            if d > 180:
                out[i] = (out[i][0] - 360, out[i][1])
            elif d < -180:
                out[i] = (out[i][0] + 360, out[i][1])
        return out

    rings = []
    for geom in topo["objects"]["countries"]["geometries"]:
        polys = geom.get("arcs") or []
        if geom.get("type") == "Polygon":
            polys = [polys]
        for poly in polys:
            rings.extend((str(geom.get("id") or ""), ring(r)) for r in poly)
    return rings


def _countries() -> list[list[tuple[float, float]]]:
    """The rings of every country (see :func:`_country_rings`)."""
    return [r for _, r in _country_rings()]


def world_lines(origin: tuple[float, float] | None, partners: list[dict[str, Any]], *,
                labels: int = 12) -> Callable[[Any], None]:
    """A world map (plate carrée) with the country outlines of Natural Earth, a line from
    ``origin`` (lon, lat) to each partner (``lon``, ``lat``, ``name``, ``in_force``): ties in
    force solid blue, suspended or ended ones dashed vermillion; the ``labels`` nearest
    partners named. The view is cropped to the points, with a margin."""
    def draw(fig):
        from matplotlib.collections import LineCollection, PolyCollection

        ax = fig.subplots()
        rings = _countries()
        if rings:
            ax.add_collection(PolyCollection(rings, facecolor="#EEEEEE", edgecolor="#BBBBBB", linewidth=0.4))
        for lon in range(-180, 181, 30):
            ax.axvline(lon, color="#DDDDDD", linewidth=0.3, zorder=0)
        for lat in range(-90, 91, 30):
            ax.axhline(lat, color="#DDDDDD", linewidth=0.3, zorder=0)
        pts = [(p["lon"], p["lat"]) for p in partners if p.get("lon") is not None]
        if origin:
            live = [[origin, (p["lon"], p["lat"])] for p in partners if p.get("lon") is not None and p["in_force"]]
            dead = [[origin, (p["lon"], p["lat"])] for p in partners if p.get("lon") is not None and not p["in_force"]]
            ax.add_collection(LineCollection(live, colors=OKABE_ITO[4], linewidths=0.8, alpha=0.8))
            ax.add_collection(LineCollection(dead, colors=OKABE_ITO[5], linewidths=0.8, linestyles="dashed"))
            ax.plot([origin[0]], [origin[1]], marker="*", markersize=11, color=OKABE_ITO[0],
                    markeredgecolor="black", zorder=5)
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=12, color=OKABE_ITO[4], edgecolors="white",
                       linewidths=0.4, zorder=4)
        allx = [p[0] for p in pts] + ([origin[0]] if origin else [])
        ally = [p[1] for p in pts] + ([origin[1]] if origin else [])
        if allx:
            pad = 12
            x0, x1 = max(min(allx) - pad, -180), min(max(allx) + pad, 180)
            y0, y1 = max(min(ally) - pad, -90), min(max(ally) + pad, 90)
            # keep the aspect of the plate carrée within a wide frame
            w, h = x1 - x0, y1 - y0
            if w < 2 * h:
                mid = (x0 + x1) / 2
                x0, x1 = max(mid - h, -180), min(mid + h, 180)
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            if origin:
                near = sorted((p for p in partners if p.get("lon") is not None),
                              key=lambda p: math.hypot(p["lon"] - origin[0], p["lat"] - origin[1]))
                for p in sorted(near, key=lambda p: -abs(p["lon"] - origin[0]))[:labels]:
                    ax.annotate(p["name"], (p["lon"], p["lat"]), fontsize=6.5, xytext=(3, 2),
                                textcoords="offset points")
        else:
            ax.set_xlim(-180, 180)
            ax.set_ylim(-60, 85)
        ax.set_aspect("equal")
        ax.set_xlabel("longitude (°)")
        ax.set_ylabel("latitude (°)")
    return draw


#: the colour of each kind of actor (kept for callers; the ego network is coloured by layer, as on the web)
KIND_COLOURS = {"city": OKABE_ITO[4], "city_network": OKABE_ITO[0], "state": OKABE_ITO[2],
                "region": OKABE_ITO[1], "geopolitical_bloc": OKABE_ITO[5], "regional_organization": OKABE_ITO[6],
                "global_institution": OKABE_ITO[7]}


#: the shape of each kind of actor in the ego network, as graph.js draws them (● city,
#: ◆ network, ■ state or region, ▲ organisation or bloc)
KIND_MARKERS = {"city": "o", "city_network": "D", "state": "s", "region": "s"}


def ego_graph(view: dict[str, Any]) -> Callable[[Any], None]:
    """The ego network as :func:`citydiplomacy.network.ego.ego_view` lays it out: its
    nodes at their places, coloured by layer and shaped by kind as the web page draws them
    (Okabe–Ito, :data:`LAYER_COLOURS`, :data:`KIND_MARKERS`), group nodes as dashed rings, the ties as grey lines, the
    labels the layout placed."""
    def draw(fig):
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        ax = fig.subplots()
        nodes = {n["id"]: n for n in view["nodes"]}
        segs = [[(nodes[e["source"]]["x"], -nodes[e["source"]]["y"]), (nodes[e["target"]]["x"], -nodes[e["target"]]["y"])]
                for e in view["edges"] if e["source"] in nodes and e["target"] in nodes]
        ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.4, alpha=0.6, zorder=1))
        layers = []
        for n in view["nodes"]:
            layer = n.get("layer") or "micro"
            colour = LAYER_COLOURS.get(layer, "#777777")
            if layer not in layers:
                layers.append(layer)
            size = (n.get("r") or 6) ** 2 * (1.6 if n.get("ego") else 0.9)
            if n.get("group"):
                ax.scatter([n["x"]], [-n["y"]], s=size, facecolors="white", edgecolors=colour, linewidths=1.0,
                           linestyles="dashed", zorder=3)
            else:       # the shape is the kind, as on the page: colour is not the only mark
                ax.scatter([n["x"]], [-n["y"]], s=size, color=colour, marker=KIND_MARKERS.get(n["kind"], "^"),
                           edgecolors="black" if n.get("ego") else "white", linewidths=0.6, zorder=3)
            box = n.get("label_box")
            if box:     # where the layout placed the label: its box (top-left corner, y down) and anchor
                anchor = box.get("anchor") or "start"
                x = box["x"] + {"start": 0.0, "middle": box["w"] / 2, "end": box["w"]}.get(anchor, 0.0)
                ax.text(x, -box["y"] - box["h"] / 2, n.get("label") or n["name"], fontsize=6, va="center",
                        ha={"start": "left", "middle": "center", "end": "right"}.get(anchor, "left"),
                        fontweight="bold" if n.get("ego") else "normal", zorder=4)
        bounds = view.get("bounds") or []
        if len(bounds) == 4:        # the layout's box, labels included: x0, y0, x1, y1 (y down)
            x0, y0, x1, y1 = bounds
            ax.set_xlim(x0, x1)
            ax.set_ylim(-y1, -y0)
        else:
            ax.autoscale()
            ax.margins(0.12)
        ax.set_aspect("equal")
        ax.axis("off")
        order = [x for x in LAYER_COLOURS if x in layers]
        handles = [Line2D([], [], marker="o", linestyle="", color=LAYER_COLOURS[x], label=x) for x in order]
        ax.legend(handles=handles, frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=min(len(handles), 4))
    return draw


def rank_intervals(axes: list[tuple[str, dict[str, Any]]], *, xlabel: str = "rank") -> Callable[[Any], None]:
    """Each axis's rank (a dot) and its 5–95% interval (a bar) on a log scale from 1 to
    the number ranked (``axes``: label -> {rank, rank_lo, rank_hi, of})."""
    def draw(fig):
        ax = fig.subplots()
        shown = [(k, a) for k, a in axes if a.get("rank")]
        for i, (label, a) in enumerate(shown):
            lo, hi = a.get("rank_lo") or a["rank"], a.get("rank_hi") or a["rank"]
            ax.plot([lo, hi], [i, i], color=OKABE_ITO[4], linewidth=5, alpha=0.45, solid_capstyle="round")
            ax.plot([a["rank"]], [i], marker="o", color=OKABE_ITO[5], markersize=6)
            ax.annotate(f"{a['rank']} ({lo}–{hi}) / {a.get('of') or '?'}", (hi, i), xytext=(6, -3),
                        textcoords="offset points", fontsize=7)
        top = max([a.get("of") or 1 for _, a in shown] + [10])
        ax.set_xscale("log")
        ax.set_xlim(0.8, top * 1.6)
        ax.set_yticks(range(len(shown)), [k for k, _ in shown])
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
    return draw


def columns_by_year(counts: dict[str, int], *, ylabel: str = "") -> Callable[[Any], None]:
    """A column per year (empty years included) of ``counts`` (year -> how many; keys
    that are not years are left out)."""
    def draw(fig):
        ax = fig.subplots()
        years = {int(k): int(v) for k, v in counts.items() if str(k).isdigit()}
        if years:
            lo, hi = min(years), max(years)
            xs = list(range(lo, hi + 1))
            ax.bar(xs, [years.get(x, 0) for x in xs], color=OKABE_ITO[4], width=0.8)
        ax.set_ylabel(ylabel)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.xaxis.get_major_locator().set_params(integer=True)
    return draw


def radar(axes: list[tuple[str, float | None, bool]], *, top: float = 100.0) -> Callable[[Any], None]:
    """A radar of the axis scores (``axes``: label, score 0..``top`` or None, low-data
    mark), as the actor page draws it: grid rings at a quarter, half, three quarters and
    the whole, the scores' polygon in Okabe–Ito blue; a low-data axis's label in italics
    with a question mark."""
    def draw(fig):
        n = len(axes)
        ax = fig.add_subplot(projection="polar")
        ax.set_theta_offset(math.pi / 2)       # the first axis at the top, the others clockwise
        ax.set_theta_direction(-1)
        angles = [2 * math.pi * k / n for k in range(n)]
        values = [max(0.0, min(top, float(v))) if v is not None else 0.0 for _, v, _l in axes]
        ax.fill(angles + angles[:1], values + values[:1], color=OKABE_ITO[4], alpha=0.18)
        ax.plot(angles + angles[:1], values + values[:1], color=OKABE_ITO[4], linewidth=2)
        ax.plot(angles, values, "o", color=OKABE_ITO[4], markersize=4)
        ax.set_ylim(0, top)
        rings = [top / 4, top / 2, 3 * top / 4, top]
        ax.set_yticks(rings, [f"{r:.0f}" for r in rings[:3]] + [""], fontsize=6.5, color="#525A63")
        ax.set_xticks(angles, [f"{label} {value:.0f}" + ("?" if low else "") for (label, _v, low), value
                               in zip(axes, values)])
        for tick, (_label, _v, low) in zip(ax.get_xticklabels(), axes):
            if low:
                tick.set_fontstyle("italic")
                tick.set_color("#525A63")
        ax.grid(color="#D5DAE0")
        ax.spines["polar"].set_color("#D5DAE0")
    return draw


def world_overview(actors: list[list[Any]], ties: list[list[int]], countries: dict[str, int], *,
                   labels: int = 0) -> Callable[[Any], None]:
    """The home page's world map (:func:`citydiplomacy.geo.world_map`): countries shaded by
    their ties (log scale, light to dark, as map.js shades them), the ties among the most
    connected actors as thin lines, the actors as dots coloured by layer and sized by their
    ties, the ``labels`` most connected named (none by default: the text alternative names them)."""
    def draw(fig):
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.colors import LinearSegmentedColormap
        from matplotlib.lines import Line2D

        ax = fig.subplots()
        rings = [(cid, r) for cid, r in _country_rings() if cid != "010"]     # no Antarctica
        top = max(countries.values(), default=1) or 1
        shade = LinearSegmentedColormap.from_list("ties", list(COUNTRY_SHADE))

        def colour(cid: str):
            n = countries.get(cid) or countries.get(cid.lstrip("0")) or 0
            return "#F7F4EC" if not n else shade(math.log1p(n) / math.log1p(top))
        if rings:
            ax.add_collection(PolyCollection([r for _, r in rings], facecolors=[colour(c) for c, _ in rings],
                                             edgecolor="#A39B87", linewidth=0.3))
        segs = [[(actors[i][2], actors[i][3]), (actors[j][2], actors[j][3])] for i, j, *_t in ties
                if i < len(actors) and j < len(actors)]
        ax.add_collection(LineCollection(segs, colors=OKABE_ITO[4], linewidths=0.3, alpha=0.25, zorder=2))
        most = max((a[4] or 0 for a in actors), default=1) or 1
        order = sorted(actors, key=lambda a: a[4] or 0)
        ax.scatter([a[2] for a in order], [a[3] for a in order],
                   s=[4 + 60 * math.sqrt((a[4] or 0) / most) for a in order],
                   c=[LAYER_COLOURS.get(a[6], LAYER_COLOURS["micro"]) for a in order], edgecolors="white",
                   linewidths=0.3, alpha=0.9, zorder=3)
        for a in sorted(actors, key=lambda a: -(a[4] or 0))[:labels]:
            ax.annotate(a[1], (a[2], a[3]), fontsize=6, xytext=(3, 2), textcoords="offset points", zorder=4)
        ax.set_xlim(-170, 180)
        ax.set_ylim(-58, 84)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_visible(False)
        layers = [x for x in ("macro", "meso", "micro") if any(a[6] == x for a in actors)]
        handles = [Line2D([], [], marker="o", linestyle="", color=LAYER_COLOURS[x], label=x) for x in layers]
        if handles:
            ax.legend(handles=handles, frameon=False, fontsize=7, loc="lower left")
    return draw
