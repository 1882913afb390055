"""The ``citydip`` command line: thin over the library (see ``observatory.py``)."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__
from .errors import CitydipError, NotFoundError
from .observatory import Observatory
from .render import Format, emit, table

app = typer.Typer(
    name="citydip", no_args_is_help=True, add_completion=False, rich_markup_mode="markdown",
    help="The City Diplomacy Observatory: actors, ties and frameworks of city diplomacy "
         "across the macro, meso and micro layers.\n\n"
         "Example: `citydip init && citydip profile Barcelona`")
out = Console()
err = Console(stderr=True)

HOME_HELP = "Directory of the store (default: $CITYDIP_HOME or the per-user data directory)."
FORMAT_HELP = "Output: a table on the terminal, or json/csv for scripts."


class State:
    home: Optional[str] = None


state = State()


@app.callback()
def _main(home: Optional[str] = typer.Option(None, "--home", help=HOME_HELP, envvar="CITYDIP_HOME",
                                             show_envvar=True),
          version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        out.print(f"citydiplomacy {__version__}")
        raise typer.Exit()
    state.home = home


def _progress():
    """A Rich progress bar on a terminal; nothing in a pipe."""
    if not err.is_terminal:
        return None, None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), console=err, transient=True)
    task = bar.add_task("building the default dataset", total=1)

    def update(step: str, i: int, n: int) -> None:
        bar.update(task, total=n, completed=i, description=f"building: {step}")
    return bar, update


def _open(build: bool = True) -> Observatory:
    from .observatory import open as open_

    bar, update = _progress()
    if bar is None:
        return open_(home=state.home, build=build)
    with bar:
        return open_(home=state.home, build=build, progress=update)


def _fail(exc: CitydipError) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False)
    if isinstance(exc, NotFoundError) and exc.suggestions:
        err.print("closest matches: " + "; ".join(exc.suggestions), highlight=False)
    raise typer.Exit(1)


# -- init / status -----------------------------------------------------------------------

@app.command()
def init(force: bool = typer.Option(False, "--force", help="Rebuild even if the store holds data.")):
    """Build the store and fill it with the default dataset (states, organisations, city
    networks, world cities, SDGs, the Paris Agreement and the twinning network).

    Example: `citydip init --force`
    """
    try:
        obs = _open(build=False)
        bar, update = _progress()
        if bar is None:
            summary = obs.init(force=force)
        else:
            with bar:
                summary = obs.init(force=force, progress=update)
    except CitydipError as exc:
        _fail(exc)
    c = summary["counts"]
    tw = summary["report"].get("twinning", {})
    err.print(f"built the default dataset in {summary['total_seconds']:.1f} s into "
              f"{obs.store.path}: {c.get('actors', 0):,} actors, "
              f"{sum(v for k, v in c.items() if k.startswith('ties.')):,} ties; twinning: "
              f"{tw.get('ties_loaded', 0):,} ties, {tw.get('rows_resolved_both_sides', 0):,} of "
              f"{tw.get('rows', 0):,} rows resolved on both sides (see `citydip status`).",
              highlight=False)


@app.command()
def status(fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """What the store holds: actors by layer and kind, ties by type, frameworks, sources.

    Example: `citydip status --format json`
    """
    try:
        s = _open().status()
    except CitydipError as exc:
        _fail(exc)
    rows = ([{"group": "actors by layer", "key": k, "count": v} for k, v in s["actors"]["by_layer"].items()]
            + [{"group": "actors by kind", "key": k, "count": v} for k, v in s["actors"]["by_kind"].items()]
            + [{"group": "ties by type", "key": k, "count": v} for k, v in s["ties"]["by_type"].items()]
            + [{"group": f"framework {f}", "key": k, "count": v}
               for f, levels in s["frameworks"].items() for k, v in levels.items()])
    sources = ([{"what": "actors", "source": k, "count": v} for k, v in s["actors"]["by_source"].items()]
               + [{"what": "ties", "source": k, "count": v} for k, v in s["ties"]["by_source"].items()])
    emit(fmt, data=s, rows=rows, columns=["group", "key", "count"], renderables=[
        f"[bold]{s['store']}[/] (schema {s['schema']}): {s['actors']['total']:,} actors, "
        f"{s['ties']['total']:,} ties, {s['framework_items']:,} framework items",
        table(None, rows, ["group", "key", "count"]),
        table("provenance", sources, ["what", "source", "count"])])


# -- search / show / ties ----------------------------------------------------------------

SEARCH_COLUMNS = ["id", "name", "kind", "layer", "country", "admin1", "population", "match"]


@app.command()
def search(text: str = typer.Argument(..., help="A name in any language or spelling."),
           kind: Optional[str] = typer.Option(None, help="Only this kind (city, state, city_network, ...)."),
           country: Optional[str] = typer.Option(None, help="Only this country (name or ISO code)."),
           layer: Optional[str] = typer.Option(None, help="Only this layer (macro, meso, micro)."),
           limit: int = typer.Option(20, min=1, max=500, help="How many results."),
           fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Find actors by name, alias or language, ignoring accents and case; capitals and
    populous cities first.

    Example: `citydip search München --kind city`
    """
    try:
        hits = _open().search(text, kind=kind, country=country, layer=layer, limit=limit)
    except CitydipError as exc:
        _fail(exc)
    if not hits and fmt == Format.table:
        err.print(f"nothing matches '{text}'")
        raise typer.Exit(1)
    emit(fmt, data=hits, rows=hits, columns=SEARCH_COLUMNS, title=f"actors matching '{text}'")


def _tie_rows(ts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Table rows for ties, with a short reference to each distinct source."""
    sources: list[str] = []
    rows = []
    for t in ts:
        p = t["provenance"]
        label = f"{p['source']} ({p['licence']}, as of {p['as_of'] or 'n/a'})"
        if label not in sources:
            sources.append(label)
        when = "–".join(x or "" for x in (t["since"], t["until"])) if (t["since"] or t["until"]) else ""
        rows.append({**t, "arrow": "→" if t["direction"] == "out" else "←", "when": when,
                     "src": f"[{sources.index(label) + 1}]"})
    return rows, sources


def _tie_table(title: str, ts: list[dict[str, Any]]) -> list[Any]:
    rows, sources = _tie_rows(ts)
    legend = "\n".join(f"[{i}] {s}" for i, s in enumerate(sources, 1))
    return [table(title, rows, TIE_COLUMNS, TIE_HEADERS), f"[dim]sources:\n{legend}[/]" if sources else ""]


TIE_COLUMNS = ["type", "arrow", "other_name", "other", "other_layer", "other_country", "when",
               "status", "src"]
TIE_HEADERS = ["type", "", "name", "id", "layer", "country", "dates", "status", "src"]
TIE_CSV = ["source", "target", "type", "since", "until", "status", "axes", "weight", "direction",
           "other", "other_name", "other_kind", "other_layer", "other_country", "provenance"]


@app.command()
def show(actor: str = typer.Argument(..., help="An id, Wikidata QID, GeoNames id or name."),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """An actor: layer, kind, identifiers, its ties grouped by type and layer, provenance.

    Example: `citydip show "Nordic Council"`
    """
    try:
        obs = _open()
        a = obs.get(actor)
        ts = obs.ties(a["id"])
    except CitydipError as exc:
        _fail(exc)
    a["ties"] = ts
    if fmt != Format.table:
        emit(fmt, data=a, rows=[a], columns=["id", "name", "kind", "layer", "country", "lat", "lon",
                                              "population", "geonames_id", "wikidata", "admin1"])
        return
    ident = [f"id [bold]{a['id']}[/]", f"kind {a['kind']}", f"layer {a['layer']}"]
    for key, label in (("country", "country"), ("admin1", "region"), ("population", "population"),
                       ("wikidata", "Wikidata"), ("geonames_id", "GeoNames"), ("founded", "founded")):
        if a.get(key) is not None:
            v = f"{a[key]:,}" if key == "population" else a[key]
            ident.append(f"{label} {v}")
    if a.get("lat") is not None:
        ident.append(f"location {a['lat']:.4f}, {a['lon']:.4f}")
    if a["axes"]:
        ident.append("axes " + ", ".join(a["axes"]))
    p = a["provenance"]
    ident.append(f"source: {p['source']} ({p['licence']}, as of {p['as_of'] or 'n/a'}, run {p['run_id']})")
    out.print(Panel("\n".join(ident), title=a["name"], expand=False))
    if a.get("alternatives"):
        out.print("also matches: " + ", ".join(f"{x['name']} ({x['id']})" for x in a["alternatives"][:5]),
                  style="dim")
    groups: dict[tuple[str, str], int] = {}
    for t in ts:
        groups[(t["type"], t["other_layer"] or "")] = groups.get((t["type"], t["other_layer"] or ""), 0) + 1
    out.print(table("ties by type and layer", [{"type": k[0], "layer": k[1], "count": v}
                                               for k, v in sorted(groups.items())],
                    ["type", "layer", "count"]))
    title = (f"ties ({len(ts)}; the first 40 — all with `citydip ties {a['id']}`)" if len(ts) > 40
             else f"ties ({len(ts)})")
    for r in _tie_table(title, ts[:40]):
        out.print(r, highlight=False)


@app.command()
def ties(actor: str = typer.Argument(..., help="An id, Wikidata QID, GeoNames id or name."),
         type: Optional[str] = typer.Option(None, "--type", help="Only this tie type (member_of, twinned_with, ...)."),  # noqa: A002
         layer: Optional[str] = typer.Option(None, help="Only ties to actors on this layer."),
         axis: Optional[str] = typer.Option(None, help="Only ties serving this axis."),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The ties of an actor, in both directions, with their provenance.

    Example: `citydip ties Barcelona --type twinned_with --format csv`
    """
    try:
        ts = _open().ties(actor, type=type, layer=layer, axis=axis)
    except CitydipError as exc:
        _fail(exc)
    emit(fmt, data=ts, rows=ts, columns=TIE_CSV, renderables=_tie_table(f"{len(ts)} ties", ts))


# -- profile -------------------------------------------------------------------------------

@app.command()
def profile(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """A city's diplomacy profile: ties to each layer, networks per axis, twinning
    partners by country and bloc, and how it reaches the macro layer.

    Example: `citydip profile Barcelona`
    """
    try:
        p = _open().profile(city)
    except CitydipError as exc:
        _fail(exc)
    if fmt != Format.table:
        flat = [{"section": "ties_by_layer", "key": f"{layer}.{t}", "value": n}
                for layer, c in p["ties_by_layer"].items() for t, n in c.items()]
        flat += [{"section": "networks", "key": axis, "value": n["name"]}
                 for axis, ns in p["networks_by_axis"].items() for n in ns]
        flat += [{"section": "twinning_by_country", "key": k, "value": v}
                 for k, v in p["twinning"]["by_country"].items()]
        flat += [{"section": "twinning_by_bloc", "key": k, "value": v}
                 for k, v in p["twinning"]["by_bloc"].items()]
        flat += [{"section": "reach", "key": m["name"], "value": "; ".join(
            v.get("through_name", v["channel"]) for v in m["via"])} for m in p["reach"]["macro_actors"]]
        emit(fmt, data=p, rows=flat, columns=["section", "key", "value"])
        return
    a = p["actor"]
    head = [f"{a['kind']} on the {a['layer']} layer · {a['country'] or ''}"
            + (f" · {a['admin1']}" if a.get("admin1") else "")
            + (f" · population {a['population']:,}" if a.get("population") else "")]
    if p["alternatives"]:
        head.append("[dim]also matches: " + ", ".join(f"{x['name']} ({x['id']})"
                                                      for x in p["alternatives"][:4]) + "[/]")
    out.print(Panel("\n".join(head), title=f"{a['name']} ({a['id']})", expand=False))
    out.print(table("ties by layer", [{"layer": layer, "ties": ", ".join(f"{t} {n}" for t, n in c.items()) or "—"}
                                      for layer, c in p["ties_by_layer"].items()], ["layer", "ties"]))
    out.print(table("networks by axis", [{"axis": axis, "networks": ", ".join(n["name"] for n in ns) or "—"}
                                         for axis, ns in p["networks_by_axis"].items()], ["axis", "networks"]))
    tw = p["twinning"]
    out.print(f"[bold]twinning[/]: {len(tw['partners'])} partners in {len(tw['by_country'])} countries")
    out.print(table(None, [{"country": k, "partners": v} for k, v in list(tw["by_country"].items())[:12]],
                    ["country", "partners"]))
    if tw["by_bloc"]:
        out.print(table("partners by bloc (via their state's memberships)",
                        [{"bloc": k, "partners": v} for k, v in list(tw["by_bloc"].items())[:10]],
                        ["bloc", "partners"]))
    r = p["reach"]
    out.print(f"[bold]reach to the macro layer[/]: {r['count']} global institutions and blocs, "
              f"by channel {r['by_channel'] or '—'}")
    out.print(table(None, [{"macro actor": m["name"], "via": "; ".join(
        v.get("through_name", "direct") + f" ({v['tie']})" for v in m["via"])} for m in r["macro_actors"]],
        ["macro actor", "via"]))


# -- frameworks ----------------------------------------------------------------------------

@app.command()
def framework(name: str = typer.Argument("sdg", help="The framework: sdg or paris."),
              code: Optional[str] = typer.Argument(None, help="An item code: 11, 11.6, 11.6.2, 7 ..."),
              lang: str = typer.Option("en", "--lang", help="Language of the titles (en, fr, es, de, ru, ar, zh-Hans)."),
              fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Browse a global framework: SDG goals → targets → indicators, Paris articles.

    Example: `citydip framework sdg 11 --lang fr`
    """
    try:
        r = _open().framework(name, code, lang=lang)
    except CitydipError as exc:
        _fail(exc)
    renderables: list[Any] = [f"[bold]{r['name']}[/] — {', '.join(f'{n} {k}s' for k, n in r['counts'].items())}"]
    if r.get("item"):
        it = r["item"]
        renderables.append(Panel(it.get("title", ""), title=f"{it['code']} ({it['level']})", expand=False))
    renderables.append(table(None, r["children"], ["code", "title"]))
    emit(fmt, data=r, rows=r["children"], columns=["code", "level", "title", "short"], renderables=renderables)


def main() -> None:
    try:
        app()
    except CitydipError as exc:  # anything the commands did not catch themselves
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
