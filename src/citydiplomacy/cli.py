"""The ``citydip`` command line: thin over the library (see ``observatory.py``)."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from . import __version__, limits
from .errors import CitydipError, NotFoundError, ValidationError
from .render import FORMAT_HELP, Format, emit, make_console, number, plural, table, text, to_csv, to_json

if TYPE_CHECKING:
    from .observatory import Observatory

app = typer.Typer(
    name="citydip", no_args_is_help=True, add_completion=False, rich_markup_mode="markdown",
    help="The City Diplomacy Observatory: actors, ties and frameworks of city diplomacy "
         "across the macro, meso and micro layers.\n\n"
         "Example: `citydip init && citydip profile Barcelona`")
out = make_console()
err = make_console(stderr=True)

HOME_HELP = "Directory of the store (default: $CITYDIP_HOME or the per-user data directory)."
DB_HELP = ("A database to use as the store instead of the SQLite file in --home, e.g. "
           "postgresql+psycopg://USER@HOST:5432/DB (docs/deploy.md).")


#: commands that never open the store: the one-text ``citydip align`` starts without
#: importing it (SQLAlchemy and the rest: see docs/align-method.md, "Speed")
STORELESS = frozenset({"align", "model"})


class State:
    home: Optional[str] = None
    db: Optional[str] = None


state = State()


@app.callback()
def _main(ctx: typer.Context,
          home: Optional[str] = typer.Option(None, "--home", help=HOME_HELP, envvar="CITYDIP_HOME",
                                             show_envvar=True),
          db: Optional[str] = typer.Option(None, "--db", help=DB_HELP, envvar="CITYDIP_DATABASE_URL",
                                           show_envvar=True, metavar="URL"),
          version: bool = typer.Option(False, "--version", help="Print the version and exit.")):
    if version:
        out.print(f"citydiplomacy {__version__}")
        raise typer.Exit()
    state.home = home
    state.db = db or None
    if ctx.invoked_subcommand in STORELESS:
        return
    # every write of this command goes to the audit log as the operating-system user, channel cli
    from .store.audit import acting_as, os_user

    ctx.with_resource(acting_as(os_user(), "cli"))


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
        return open_(home=state.home, db=state.db, build=build)
    with bar:
        return open_(home=state.home, db=state.db, build=build, progress=update)


def _cli_limits() -> limits.Limits:
    """The command line's limits (``CITYDIP_LIMIT_CLI_*``), once every limit setting is
    known to be readable."""
    limits.check_settings()
    return limits.limits_for("cli")


def _fail(exc: CitydipError) -> None:
    # soft_wrap: a message is one line, whatever the terminal width (scripts grep it)
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    if isinstance(exc, NotFoundError) and exc.suggestions:
        err.print("closest matches: " + escape("; ".join(exc.suggestions)), highlight=False, soft_wrap=True)
    raise typer.Exit(1)


# -- init / status -----------------------------------------------------------------------

@app.command()
def init(force: bool = typer.Option(False, "--force", help="Rebuild even if the store holds data."),
         db: Optional[str] = typer.Option(None, "--db", metavar="URL", help=DB_HELP + " The same as the "
                                          "global --db; the large tables are written with COPY.")):
    """Build the store and fill it with the default dataset (states, organisations, city
    networks, world cities, SDGs, the Paris Agreement, the twinning network, the
    Covenant of Mayors' signatories, and the declarations, pledges and events of the
    engagement register).

    Example: `citydip init --force`; on PostgreSQL: `citydip init --db postgresql+psycopg://citydip@localhost/citydip`
    """
    if db:
        state.db = db
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
    ms = summary["report"].get("memberships", {})
    cov = summary["report"].get("covenant", {})
    eng = summary["report"].get("engagements", {})
    tied = sum(cov.get(k, 0) for k in ("rows_resolved", "rows_new_cities", "rows_new_bodies"))
    err.print(f"built the default dataset in {summary['total_seconds']:.1f} s into "
              f"{obs.store.where}: {c.get('actors', 0):,} actors, "
              f"{sum(v for k, v in c.items() if k.startswith('ties.')):,} ties; twinning: "
              f"{tw.get('ties_loaded', 0):,} ties, {tw.get('rows_resolved_both_sides', 0):,} of "
              f"{tw.get('rows', 0):,} rows resolved on both sides; Covenant of Mayors: {tied:,} of "
              f"{cov.get('municipality_rows', 0):,} signatories tied; member lists: "
              f"{plural(sum(r['ties_written'] for r in ms.values()), 'membership')} from {plural(len(ms), 'list')}, "
              f"{(n := sum(r['ambiguous'] + r['unresolved'] for r in ms.values())):,} "
              f"row{'' if n == 1 else 's'} reported (see `citydip status`, `citydip network coverage`); "
              f"engagements: {plural(len(eng), 'declaration, pledge or event', 'declarations, pledges and events')} "
              f"with {plural(sum(r['parties_written'] for r in eng.values()), 'party', 'parties')}, "
              f"{sum(r['ambiguous'] + r['unresolved'] for r in eng.values()):,} rows reported.",
              highlight=False)


def _network_label(n: dict) -> str:
    """"Eurocities", "Covenant of Mayors … (since 2008-11-19)", "… (suspended)"."""
    notes = [f"since {n['since']}"] if n.get("since") else []
    notes += [n["status"]] if n.get("status") not in (None, "active") else []
    return n["name"] + (f" ({', '.join(notes)})" if notes else "")


@app.command()
def status(sources: bool = typer.Option(False, "--sources", help="Also list the sources behind the actors and "
                                                                 "ties (a few hundred lines)."),
           fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP + " json holds the whole "
                                                                                          "record, sources too.")):
    """What the store holds: actors by layer and kind, ties by type and status, frameworks;
    with `--sources`, the source of every actor and tie and how many each gave.

    Example: `citydip status --sources`
    """
    from .status import permission_warnings

    try:
        obs = _open()
        s = obs.status()
    except CitydipError as exc:
        _fail(exc)
    s["warnings"] = permission_warnings(obs.store.path)
    for warning in s["warnings"]:
        err.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    rows = ([{"group": "actors by layer", "key": k, "count": v} for k, v in s["actors"]["by_layer"].items()]
            + [{"group": "actors by kind", "key": k, "count": v} for k, v in s["actors"]["by_kind"].items()]
            + [{"group": "ties by type", "key": k, "count": v} for k, v in s["ties"]["by_type"].items()]
            + [{"group": "ties by status", "key": k, "count": v} for k, v in s["ties"]["by_status"].items()]
            + [{"group": f"framework {f}", "key": k, "count": v}
               for f, levels in s["frameworks"].items() for k, v in levels.items()])
    source_rows = ([{"group": "actors by source", "key": k, "count": v} for k, v in s["actors"]["by_source"].items()]
                   + [{"group": "ties by source", "key": k, "count": v} for k, v in s["ties"]["by_source"].items()])
    n_act, n_tie = len(s["actors"]["by_source"]), len(s["ties"]["by_source"])
    sources_part: list[Any] = (
        [table("sources", [{"what": r["group"].split()[0], "source": r["key"], "count": r["count"]}
                           for r in source_rows], ["what", "source", "count"])] if sources else
        [f"[dim]{plural(n_act, 'source')} of actors and {plural(n_tie, 'source')} of ties: "
         "`citydip status --sources` lists them[/]"])
    emit(fmt, data=s, rows=rows + (source_rows if sources else []), columns=["group", "key", "count"], renderables=[
        f"[bold]{escape(s['store'])}[/] (schema {s['schema']}): {plural(s['actors']['total'], 'actor')}, "
        f"{plural(s['ties']['total'], 'tie')}, {plural(s['framework_items'], 'framework item')}",
        table(None, rows, ["group", "key", "count"]), *sources_part])


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


CANDIDATE_COLUMNS = ["id", "name", "admin1", "country", "population", "score", "matched"]


@app.command()
def resolve(name: str = typer.Argument(..., help="A name as a list writes it."),
            country: Optional[str] = typer.Option(None, help="Its country: a name, an ISO code or a "
                                                              "variant (England, Holland, Ivory Coast)."),
            region: Optional[str] = typer.Option(None, help="Its region, if known (a state, a province)."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Resolve a messy name to the actor it means: the answer with its score, the rule
    that decided and the evidence, or the ranked candidates when it is not sure. Nothing
    is written. Exits 1 when the name is ambiguous or unresolved.

    Example: `citydip resolve "Budapest XI – Újbuda" --country Hungary`
    """
    try:
        r = _open().resolve(name, country, region=region)
    except CitydipError as exc:
        _fail(exc)
    if fmt != Format.table:
        emit(fmt, data=r, rows=[{**r, "evidence": json.dumps(r["evidence"], ensure_ascii=False)}],
             columns=["status", "id", "name", "kind", "country", "score", "rule", "in_store", "evidence"])
    else:
        if r["status"] == "resolved":
            where = ", ".join(x for x in (r.get("admin1"), r.get("country")) if x)
            note = "" if r["in_store"] else " [dim](not in the store yet: an import naming it adds it)[/]"
            head = (f"[bold]{escape(r['name'])}[/] ({r['id']}, {r['kind']}, {escape(where)}){note}\n"
                    f"rule {r['rule']} · score {r['score']:.2f}")
        else:
            head = f"[bold]{r['status']}[/] ({r['rule']}): {escape(str(r['evidence'].get('reason') or ''))}"
        ev = {k: v for k, v in r["evidence"].items() if k != "reason"}
        if ev:
            head += "\n[dim]evidence: " + escape("; ".join(f"{k}={text(v)}" for k, v in ev.items())) + "[/]"
        out.print(Panel(head, title=escape(name), expand=False))
        if r["candidates"] and r["status"] != "resolved":
            out.print(table("candidates", r["candidates"], CANDIDATE_COLUMNS))
    if r["status"] != "resolved":
        raise typer.Exit(1)


def _tie_rows(ts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Table rows for ties, with a short reference to each distinct source (a tie whose
    status or dates a curated change set cites that change's source too)."""
    sources: list[str] = []

    def ref(label: str) -> str:
        if label not in sources:
            sources.append(label)
        return f"[{sources.index(label) + 1}]"

    rows = []
    for t in ts:
        p = t["provenance"]
        src = ref(f"{p['source']} ({p['licence']}, as of {p['as_of'] or 'n/a'})")
        for c in (t.get("attrs") or {}).get("changes") or []:
            src += " " + ref(f"{c['source']} — {c['url']} (as of {c['as_of']}): {c['says']}")
        rows.append({**t, "arrow": "→" if t["direction"] == "out" else "←", "when": _tie_dates(t),
                     "status": t.get("state") or t["status"], "src": src})
    return rows, sources


def _tie_dates(t: dict[str, Any]) -> str:
    """since–until, and the date a suspension began ("1962– · suspended 2022-02-26")."""
    when = "–".join(x or "" for x in (t["since"], t["until"])) if (t["since"] or t["until"]) else ""
    susp = (t.get("attrs") or {}).get("suspended_since")
    return " · ".join(x for x in (when, f"suspended {susp}" if susp else "") if x)


def _tie_table(title: str, ts: list[dict[str, Any]]) -> list[Any]:
    rows, sources = _tie_rows(ts)
    legend = "\n".join(f"[{i}] {s}" for i, s in enumerate(sources, 1))
    return [table(title, rows, TIE_COLUMNS, TIE_HEADERS, keep=["arrow"]),
            f"[dim]sources:\n{escape(legend)}[/]" if sources else ""]


# left out from the right on a narrow terminal: the source reference first, status and dates last
TIE_COLUMNS = ["type", "arrow", "other_name", "other", "status", "when", "other_country", "other_layer", "src"]
TIE_HEADERS = ["type", "", "name", "id", "status", "dates", "country", "layer", "src"]
TIE_CSV = ["source", "target", "type", "since", "until", "status", "suspended_since", "state", "axes", "weight",
           "direction", "other", "other_name", "other_kind", "other_layer", "other_country", "provenance",
           "status_source"]


def _tie_csv_rows(ts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ties with the suspension's date and the URL of the latest change's source as columns."""
    return [{**t, "suspended_since": t["attrs"].get("suspended_since"),
             "status_source": ((t["attrs"].get("changes") or [{}])[-1]).get("url")} for t in ts]


@app.command()
def show(actor: str = typer.Argument(..., help="An id, Wikidata QID, GeoNames id or name."),
         all_ties: bool = typer.Option(False, "--all", help="List every tie (the table lists the first 8 of "
                                                             "each type and direction; json and csv hold all)."),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """An actor: layer, kind, identifiers, provenance; its ties counted by type, direction
    and layer, then the first few of each type (all with --all, or `citydip ties`).

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
    if a.get("members"):
        out.print(_coverage_line(a["members"]), highlight=False)
    from .actors import SHOWN_PER_TYPE, group_ties

    if not ts:
        out.print("no ties in the store", highlight=False)
        return
    groups = group_ties(ts, per_type=None if all_ties else SHOWN_PER_TYPE)
    arrow = {"out": "→", "in": "←", "both": "↔"}
    out.print(table(f"ties by type ({plural(len(ts), 'tie')})",
                    [{"type": g["type"], "arrow": arrow[g["direction"]], "count": g["count"],
                      "layers": ", ".join(f"{k} {v:,}" for k, v in g["layers"].items())} for g in groups],
                    ["type", "arrow", "count", "layers"], ["type", "", "count", "layers"], keep=["arrow"]))
    shown = [t for g in groups for t in g["shown"]]
    title = (f"ties ({len(shown):,} of {len(ts):,}: the first {SHOWN_PER_TYPE} of each type)"
             if len(shown) < len(ts) else f"ties ({len(ts):,})")
    for r in _tie_table(title, shown):
        out.print(r, highlight=False)
    for g in groups:
        if g["more"]:
            out.print(f"… {g['more']:,} more {g['type']} {arrow[g['direction']]} (use --all or "
                      f"`citydip ties {a['id']} --type {g['type']}`)", highlight=False, markup=False)


@app.command()
def ties(actor: str = typer.Argument(..., help="An id, Wikidata QID, GeoNames id or name."),
         type: Optional[str] = typer.Option(None, "--type", help="Only this tie type (member_of, twinned_with, ...)."),  # noqa: A002
         layer: Optional[str] = typer.Option(None, help="Only ties to actors on this layer."),
         axis: Optional[str] = typer.Option(None, help="Only ties serving this axis."),
         as_of: Optional[str] = typer.Option(None, "--as-of",
                                             help="Only ties in force at this date (YYYY, YYYY-MM or YYYY-MM-DD): "
                                                  "a tie suspended or ended later is listed as it was then."),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The ties of an actor, in both directions, with their status, dates and provenance.
    A suspended or ended tie is listed with its status and the source that says so.

    Example: `citydip ties Glasgow --type twinned_with --as-of 2021`
    """
    try:
        ts = _open().ties(actor, type=type, layer=layer, axis=axis, as_of=as_of)
    except CitydipError as exc:
        _fail(exc)
    title = plural(len(ts), "tie") + (f" in force at {as_of}" if as_of else "")
    emit(fmt, data=ts, rows=_tie_csv_rows(ts), columns=TIE_CSV, renderables=_tie_table(title, ts))


# -- profile -------------------------------------------------------------------------------

def _print_activity(p: dict) -> None:
    """The profile's activity in the engagement register and its coverage with engagements."""
    act, cov = p["activity"], p["coverage"]
    if not act["count"]:
        out.print("[bold]engagements[/]: none recorded ([dim]citydip engage add|import[/])")
    else:
        lines = [f"{plural(act['count'], 'engagement')} · by kind {escape(text(act['by_kind']))}",
                 f"by year {escape(text(dict(list(act['by_year'].items())[-8:])))}",
                 "most active partners: " + (", ".join(f"{x['name']} ({x['count']})" for x in act["partners"][:5])
                                             or "—")]
        if cov["engagements"]:
            both = ", ".join(f"{g}×{v['initiatives']}+{v['engagements']}" for g, v in cov["by_sdg"].items()
                             if v["served_by"])
            lines.append(f"SDGs (initiatives+engagements): {both or '—'}; gaps "
                         f"{' '.join(map(str, cov['sdg_gaps'])) or 'none'}")
        out.print(Panel("\n".join(lines), title="activity in the engagement register", expand=False))
    if act["count"] and act["dormant"]:       # with no engagement recorded at all, every old tie would be
        out.print(table(f"dormant ties: {len(act['dormant']):,} of {act['ties']:,} twinnings and partnerships "
                        f"with no engagement recorded in {act['dormant_years']} years",
                        [{"partner": d["name"], "tie": d["type"], "since": d["since"] or "",
                          "last engagement": d["last_engagement"] or "never"} for d in act["dormant"][:10]],
                        ["partner", "tie", "since", "last engagement"]))


@app.command()
def profile(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
            network: bool = typer.Option(True, "--network/--no-network",
                                         help="Include centrality ranks, brokerage and reach (a few seconds the "
                                              "first time after the store changes; then kept)."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """A city's diplomacy profile: ties to each layer, networks per axis, twinning
    partners by country and bloc, how it reaches the macro layer, its activity in the
    engagement register (by year, kind and axis; most active partners; dormant
    partnerships) and its SDG coverage through initiatives and engagements.

    Example: `citydip profile Barcelona`
    """
    try:
        p = _open().profile(city, network=network)
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
        flat += [{"section": "initiatives_by_sdg", "key": g, "value": n}
                 for g, n in p["initiatives"]["by_sdg"].items()]
        flat += [{"section": "initiatives_by_paris_article", "key": a, "value": n}
                 for a, n in p["initiatives"]["by_paris"].items()]
        flat += [{"section": f"activity_by_{k}", "key": x, "value": n}
                 for k in ("year", "kind", "axis") for x, n in p["activity"][f"by_{k}"].items()]
        flat += [{"section": "dormant_ties", "key": d["name"], "value": d["last_engagement"] or "never"}
                 for d in p["activity"]["dormant"]]
        flat += [{"section": "coverage_by_sdg", "key": g, "value": f"{v['initiatives']} initiatives, "
                  f"{v['engagements']} engagements"} for g, v in p["coverage"]["by_sdg"].items()]
        flat += [{"section": "reach", "key": m["name"], "value": "; ".join(
            v.get("through_name", v["channel"]) for v in m["via"])} for m in p["reach"]["macro_actors"]]
        emit(fmt, data=p, rows=flat, columns=["section", "key", "value"])
        return
    a = p["actor"]
    attrs = a.get("attrs") or {}
    part = (f" · district of {attrs['district_of']}" if attrs.get("district_of") else
            f" · {attrs.get('subdivision_type') or 'subdivision'} {attrs['subdivision_code']}"
            if attrs.get("subdivision_code") else "")
    head = [f"{a['kind']} on the {a['layer']} layer{part} · {a['country'] or ''}"
            + (f" · {a['admin1']}" if a.get("admin1") else "")
            + (f" · population {a['population']:,}" if a.get("population") else "")]
    if p["alternatives"]:
        head.append("[dim]also matches: " + ", ".join(f"{x['name']} ({x['id']})"
                                                      for x in p["alternatives"][:4]) + "[/]")
    out.print(Panel("\n".join(head), title=f"{a['name']} ({a['id']})", expand=False))
    out.print(table("ties by layer", [{"layer": layer, "ties": ", ".join(f"{t} {n}" for t, n in c.items()) or "—"}
                                      for layer, c in p["ties_by_layer"].items()], ["layer", "ties"]))
    out.print(table("networks by axis", [{"axis": axis, "networks": ", ".join(_network_label(n) for n in ns) or "—"}
                                         for axis, ns in p["networks_by_axis"].items()], ["axis", "networks"]))
    tw = p["twinning"]
    out.print(f"[bold]twinning[/]: {plural(len(tw['partners']), 'partner')} in "
              f"{plural(len(tw['by_country']), 'country', 'countries')}")
    out.print(table(None, [{"country": k, "partners": v} for k, v in list(tw["by_country"].items())[:12]],
                    ["country", "partners"]))
    if tw["not_in_force"]:
        out.print(table(f"suspended or ended partnerships ({len(tw['not_in_force']):,}; not counted above)",
                        [{**x, "when": _tie_dates({**x, "attrs": {"suspended_since": x["suspended_since"]}}),
                          "source": f"{x['source'].get('source', '')} {x['source'].get('url') or ''}".strip()}
                         for x in tw["not_in_force"]],
                        ["name", "country", "status", "when", "source"]), highlight=False)
    if tw["by_bloc"]:
        out.print(table("partners by bloc (via their state's memberships)",
                        [{"bloc": k, "partners": v} for k, v in list(tw["by_bloc"].items())[:10]],
                        ["bloc", "partners"]))
    r = p["reach"]
    reached = plural(r["count"], "global institution or bloc", "global institutions and blocs")
    out.print(f"[bold]reach to the macro layer[/]: {reached}, by channel {escape(text(r['by_channel'])) or '—'}")
    out.print(table(None, [{"macro actor": m["name"], "via": "; ".join(
        v.get("through_name", "direct") + f" ({v['tie']})" for v in m["via"])} for m in r["macro_actors"]],
        ["macro actor", "via"]))
    ini = p["initiatives"]
    if ini["count"]:
        cov = ", ".join(f"{g}×{n}" for g, n in ini["by_sdg"].items() if n)
        par = ", ".join(f"art. {a}×{n}" for a, n in ini["by_paris"].items() if n)
        out.print(Panel(f"{plural(ini['count'], 'initiative')} · SDGs {cov or '—'}\nParis Agreement: {par or '—'}\n"
                        f"[dim]gaps — SDGs with no initiative: {' '.join(map(str, ini['sdg_gaps'])) or 'none'}; "
                        f"Paris articles: {' '.join(map(str, ini['paris_gaps'])) or 'none'}[/]",
                        title="initiatives and their coverage", expand=False))
    else:
        out.print("[bold]initiatives[/]: none recorded ([dim]citydip initiative add|import[/])")
    _print_activity(p)
    if "network" in p:
        n = p["network"]
        lines = [f"degree {number(n['degree']['value'])} (rank {number(n['degree']['rank'])}), PageRank "
                 f"{number(n['pagerank']['value'])} (rank {number(n['pagerank']['rank'])}) among {n['among']}"]
        if "vertical_integration" in n:
            vi = n["vertical_integration"]
            lines.append(f"vertical integration {number(vi['value'])} (rank {number(vi['rank'])} of "
                         f"{plural(vi['of'], 'city', 'cities')}); "
                         f"{plural(n['reach']['macro_actors_within_3'], 'macro actor')} within 3 steps")
        if n["brokerage"]:
            lines.append("brokerage between layers: " + text(n["brokerage"]))
        out.print(Panel("\n".join(lines), title="in the network", expand=False))
    if p.get("index"):
        from .cli_index import index_renderables

        ix = p["index"]
        if ix["scored"]:
            out.print(f"[bold]axis indices[/] (published build {escape(ix['build'])}; details: "
                      f"citydip index show {a['id']})")
            for x in index_renderables(ix):
                out.print(x)
        else:
            out.print(f"[bold]axis indices[/]: not scored — {escape(ix['reason'])}")


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
    renderables: list[Any] = [f"[bold]{r['name']}[/] — {', '.join(plural(n, k) for k, n in r['counts'].items())}"]
    if r.get("item"):
        it = r["item"]
        renderables.append(Panel(it.get("title", ""), title=f"{it['code']} ({it['level']})", expand=False))
    renderables.append(table(None, r["children"], ["code", "title"]))
    emit(fmt, data=r, rows=r["children"], columns=["code", "level", "title", "short"], renderables=renderables)


# -- alignment -------------------------------------------------------------------------------

class AlignFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _highlight(text: str, evidence: list[dict[str, Any]]) -> str:
    """The text with the words that carried an item in bold (Rich markup, escaped)."""
    spans = sorted({tuple(e["span"]) for e in evidence if e.get("span")})
    outp, pos = [], 0
    for s, e in spans:
        if s < pos:
            continue
        outp.append(escape(text[pos:s]) + "[bold yellow]" + escape(text[s:e]) + "[/]")
        pos = e
    outp.append(escape(text[pos:]))
    return "".join(outp)


@app.command()
def align(source: str = typer.Argument(..., help="The text itself, or a file: .txt/.csv/.jsonl of texts "
                                                 "(one per line/row, with 'id' and 'text'), or a document "
                                                 "(.pdf, .docx, .html, .md) split into paragraphs."),
          lang: str = typer.Option("auto", "--lang", help="Language: auto, en, fr, es or de."),
          level: str = typer.Option("target", "--level", help="goal, or target (goals and their likely targets)."),
          framework: str = typer.Option("sdg,paris", "--framework", help="Frameworks: sdg, paris or sdg,paris."),
          mode: str = typer.Option("auto", "--mode", help="hybrid (lexical + MiniLM model), light (lexical only), "
                                                          "or auto: hybrid when the fast or neural extra is installed."),
          document: Optional[bool] = typer.Option(None, "--document/--lines",
                                                  help="Read a .txt file as one document split into paragraphs "
                                                       "(--document) or as one text per line (--lines, default)."),
          out_file: Optional[str] = typer.Option(None, "--out", help="Write the results to this file."),
          fmt: AlignFormat = typer.Option(AlignFormat.table, "--format", "-f",
                                          help="table, json, jsonl (one record per text) or csv."),
          workers: Optional[int] = typer.Option(None, "--workers",
                                                help="A folder: the local cluster's worker processes "
                                                     "(default: the CPU cores)."),
          scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                                  help="A folder: a running Dask scheduler to use "
                                                       "(tcp://host:8786) instead of a local cluster."),
          batch: Optional[int] = typer.Option(None, "--batch",
                                              help="A folder: documents per task and per Parquet file."),
          into_store: bool = typer.Option(False, "--store",
                                          help="A folder: also load the results into the store (--home or --db), "
                                               "each document linked to --city; loading again adds nothing."),
          city: Optional[str] = typer.Option(None, "--city",
                                             help="With --store: the actor the documents are about (an id, a "
                                                  "Wikidata QID or a name)."),
          licence: Optional[str] = typer.Option(None, "--licence",
                                                help="With --store: the documents' licence, for their provenance "
                                                     "(default: the document's own terms).")):
    """Align texts with the SDGs (goals, targets), the Paris Agreement's articles and the
    three axes, with a calibrated score and the evidence (matched words and framework text).

    A folder of documents (.pdf, .docx, .html, .md, .txt, in subfolders too) is aligned
    in parallel on a Dask cluster into a Parquet dataset (`--out results.parquet`, a
    folder of partitions and a manifest); run the same command again to resume a run that
    stopped (docs/bulk-align.md).

    Example: `citydip align "Bus lanes and 2,000 new social housing units cut commuting emissions."`

    Example: `citydip align texts.jsonl --format jsonl --out aligned.jsonl`

    Example: `citydip align reports/ --out results.parquet --workers 4`

    Example: `citydip align vlr/ --out results.parquet --store --city "Bonn"`
    """
    from .align import FRAMEWORKS, Aligner, load_inputs

    frameworks = [f.strip() for f in framework.split(",") if f.strip()]
    if _is_corpus(source, out_file, workers, scheduler, batch):
        _align_corpus(source, out_file, lang=lang, level=level, frameworks=frameworks, mode=mode,
                      workers=workers, scheduler=scheduler, batch=batch,
                      store=(city, licence) if into_store else None)
        return
    if into_store or city:
        _fail(ValidationError("--store and --city load the results of a folder's alignment: give a folder and "
                              "--out results.parquet", field="store"))
    try:
        bad = [f for f in frameworks if f not in FRAMEWORKS]
        if bad or not frameworks:
            raise ValidationError(f"unknown framework '{(bad or [framework])[0]}'; use sdg, paris or sdg,paris",
                                  field="framework")
        with limits.applied(_cli_limits()):
            passages, kind = load_inputs(source, as_document=document)
            aligner = Aligner(mode)
            bar = None
            if err.is_terminal and len(passages) > 20:
                bar = Progress(TextColumn("aligning"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                               TimeElapsedColumn(), console=err, transient=True)
            if bar:
                with bar:
                    task = bar.add_task("align", total=len(passages))
                    results = aligner.align_many(passages, lang=lang, level=level, frameworks=frameworks,
                                                 progress=lambda n: bar.advance(task, n))
            else:
                results = aligner.align_many(passages, lang=lang, level=level, frameworks=frameworks)
    except CitydipError as exc:
        _fail(exc)
    failed = [r for r in results if r.error]
    if kind == "text" and failed:
        _fail(ValidationError(failed[0].error, field="text"))
    records = [{**r.record(), **({"ref": r.ref} if r.ref and kind == "document" else {})} for r in results]
    if fmt == AlignFormat.table and not out_file:
        _align_table(passages, results, kind, aligner.method)
    else:
        if fmt == AlignFormat.jsonl:
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        elif fmt == AlignFormat.json:
            body = to_json(records[0] if kind == "text" else records) + "\n"
        else:
            body = to_csv([{"id": r.id, "ref": r.ref, "lang": r.lang, "sdgs": ";".join(map(str, r.sdgs)),
                            "targets": ";".join(r.targets), "paris": ";".join(map(str, r.paris)),
                            "axes": ";".join(r.axes), "scores": r.scores, "error": r.error} for r in results],
                          ["id", "ref", "lang", "sdgs", "targets", "paris", "axes", "scores", "error"])
        if out_file:
            from pathlib import Path
            Path(out_file).write_text(body, encoding="utf-8")
            err.print(f"{len(results) - len(failed):,} of {plural(len(results), 'text')} aligned ({aligner.method}) "
                      f"→ {out_file}", highlight=False)
        else:
            sys.stdout.write(body)
    if failed:
        for r in failed[:20]:
            err.print(f"[bold red]not aligned:[/] {escape(r.ref or r.id)} (id {escape(r.id)}): {escape(r.error)}",
                      highlight=False, soft_wrap=True)
        if len(failed) > 20:
            err.print(f"... and {len(failed) - 20} more", highlight=False)
        err.print(f"{len(failed):,} of {plural(len(results), 'text')} could not be aligned; the others are in "
                  "the output",
                  highlight=False)
        raise typer.Exit(1)


def _is_corpus(source: str, out_file: Optional[str], workers, scheduler, batch) -> bool:
    """Is ``citydip align SOURCE`` a bulk alignment: a folder, a path ending in a
    separator, a Parquet output or a cluster option?"""
    import os
    from pathlib import Path

    if source.strip() and len(source) < 4096 and "\n" not in source and \
            (Path(source).is_dir() or source.endswith(("/", os.sep))):
        return True
    return bool((out_file and out_file.lower().endswith(".parquet")) or workers is not None or scheduler
                or batch is not None)


def _align_corpus(source: str, out_file: Optional[str], store: Optional[tuple] = None, **kw: Any) -> None:
    """``citydip align FOLDER --out results.parquet``: the library's bulk alignment with a
    progress bar on a terminal, a summary on standard error, exit 1 if a document failed.
    ``store`` (``--store``: the city and the licence): the results are then loaded into the
    store, the city and the store checked before anything is aligned."""
    from contextlib import ExitStack, nullcontext

    from . import progress
    from .align.bulk import align_corpus

    resources = ExitStack()
    obs = actor = None
    try:
        if not out_file:
            raise ValidationError("aligning a folder needs --out, the Parquet dataset to write "
                                  "(e.g. --out results.parquet)", field="out")
        if store is not None:
            obs, actor = _store_target(store[0], resources)
        bar = None
        if err.is_terminal:
            bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                           TimeElapsedColumn(), console=err, transient=True)
            task = bar.add_task("starting", total=None)

            def update(phase: str, done, total) -> None:
                bar.update(task, description=phase, completed=done or 0, total=total)
        with limits.applied(_cli_limits()), (bar or nullcontext()), \
                (progress.listening(update) if bar else nullcontext()):
            rep = align_corpus(source, out_file, limits=_cli_limits(), **kw)
        where = f"{rep.workers} worker{'s' if rep.workers != 1 else ''}" if rep.workers else "nothing left to do"
        err.print(f"{rep.documents:,} documents: {rep.already_done:,} done before, {rep.aligned:,} aligned now "
                  f"({rep.method}, {where}, {rep.docs_per_second:.2f} documents/s), {len(rep.failed):,} failed "
                  f"→ {out_file} ({plural(rep.partitions, 'partition')}) in {rep.seconds:.1f} s", highlight=False)
        if obs is not None:
            from .align.stored import store_results

            loaded = store_results(obs.store, out_file, actor=actor["id"], licence=store[1])
            err.print(f"into the store ({obs.store.where}), for {actor['name']} ({actor['id']}): "
                      f"{loaded.added:,} documents added, {loaded.updated:,} replaced, {loaded.unchanged:,} "
                      f"unchanged, {loaded.items:,} items (run {loaded.run_id})", highlight=False)
    except CitydipError as exc:
        _fail(exc)
    finally:
        resources.close()
    if rep.failed:
        for path, reason in rep.failed[:20]:
            err.print(f"[bold red]not aligned:[/] {escape(path)}: {escape(reason)}", highlight=False, soft_wrap=True)
        if len(rep.failed) > 20:
            err.print(f"... and {len(rep.failed) - 20} more (rows with an error in the results)", highlight=False)
        raise typer.Exit(1)


def _store_target(city: Optional[str], resources) -> tuple[Any, dict[str, Any]]:
    """For ``citydip align FOLDER --store``: the store (which must hold the default dataset:
    it is not built here) and the actor ``--city`` names, both checked before any work;
    what is written goes to the audit log as the operating-system user (channel cli)."""
    from .actors import resolve_actor
    from .errors import StoreError
    from .store.audit import acting_as, os_user

    if not city:
        raise ValidationError("--store needs --city, the actor the documents are about (an id, a QID or a name)",
                          field="city")
    obs = _open(build=False)
    resources.callback(obs.close)
    if obs.is_empty():
        raise StoreError(f"the store at {obs.store.where} is not initialised: build it with citydip init (or give "
                         "--home / --db of a built store)")
    resources.enter_context(acting_as(os_user(), "cli"))
    return obs, resolve_actor(obs.store, city, prefer_kind="city")


def _align_table(passages, results, kind: str, method: str) -> None:
    if kind == "text":
        r = results[0]
        out.print(Panel(_highlight(passages[0].text, r.evidence), title=f"text ({r.lang}, {method})", expand=False))
        rows = []
        for key, label in (("sdg", "SDG"), ("targets", "target"), ("paris", "Paris article"), ("axes", "axis")):
            reported = {"sdg": [str(g) for g in r.sdgs], "targets": r.targets,
                        "paris": [str(a) for a in r.paris], "axes": r.axes}[key]
            for code in reported:
                item = {"sdg": f"sdg:{code}", "targets": f"sdg:{code}", "paris": f"paris:{code}",
                        "axes": f"axis:{code}"}[key]
                ev = [e for e in r.evidence if e["item"] == item]
                words = ", ".join(dict.fromkeys(e["text"] for e in ev if e["via"] == "term"))
                sem = next((e for e in ev if e["via"] == "semantic"), None)
                rows.append({"item": f"{label} {code}", "score": f"{r.scores.get(key, {}).get(code, 0):.2f}",
                             "evidence": words + (f"{'; ' if words else ''}close to {sem['matched_item'].split(':', 1)[1]} "
                                                  f"({sem['similarity']:.2f})" if sem else "")})
        out.print(table(None, rows, ["item", "score", "evidence"]) if rows else "no goal, target, article or axis found")
        return
    rows = [{"id": r.id, "where": r.ref or "", "sdgs": " ".join(map(str, r.sdgs)) or "—",
             "targets": " ".join(r.targets) or "—", "paris": " ".join(map(str, r.paris)) or "—",
             "axes": ", ".join(r.axes) or "—", "note": r.error or ""} for r in results]
    out.print(table(f"{plural(len(results), 'text')} ({method})", rows,
                    ["id", "where", "sdgs", "targets", "paris", "axes", "note"]))
    from collections import Counter
    c = Counter(g for r in results for g in r.sdgs)
    if c:
        out.print("SDGs across the texts: " + ", ".join(f"{g} ×{n}" for g, n in sorted(c.items())))


# -- import / export -----------------------------------------------------------------------

import_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                         help="Bring data in, resolving every name to an actor or reporting it. Each import "
                              "applies completely or not at all; `--dry-run` shows what would change. Files are "
                              "read within the command line's limits (10,000,000 rows, 1 GB...; raise one with "
                              "e.g. `CITYDIP_LIMIT_CLI_ROWS=20000000`, see docs/import.md).\n\n"
                              "Example: `citydip import twinning twins.csv --dry-run --review review.csv`")
app.add_typer(import_app, name="import")

DRY = typer.Option(False, "--dry-run", help="Show what would change; change nothing.")
REVIEW = typer.Option(None, "--review", help="Write the unsure rows to this CSV, to correct and feed back "
                                             "with `citydip import review FILE`.")
REPORT = typer.Option(None, "--report", help="Also write the full report (JSON) to this file.")
SOURCE_NAME = typer.Option(None, "--source", help="Name of the source, for provenance (default: the file name).")
LICENCE = typer.Option(None, "--licence", help="Licence of the data, for provenance (e.g. 'CC BY 4.0').")
AS_OF = typer.Option(None, "--as-of", help="Date the data describes (YYYY, YYYY-MM or YYYY-MM-DD).")
ENCODING = typer.Option("utf-8", "--encoding", help="Text encoding of the file (utf-8, latin-1, cp1252, ...).")


def _run_import(importer: str, source: Any, *, dry_run: bool, review: Optional[str], report_path: Optional[str],
                fmt: Format, **options: Any) -> None:
    try:
        rep = _open().import_(importer, source, dry_run=dry_run, review=review, limits=_cli_limits(),
                              **options)
    except CitydipError as exc:
        _fail(exc)
    _print_report(rep, fmt, importer, report_path)


def _print_report(rep, fmt: Format, importer: str, report_path: Optional[str] = None) -> None:
    data = rep.as_dict()
    if report_path:
        from pathlib import Path

        Path(report_path).write_text(to_json(data) + "\n", encoding="utf-8")
    if fmt != Format.table:
        emit(fmt, data=data, rows=data["problems"], columns=["kind", "file", "row", "field", "value", "reason",
                                                              "candidates"])
        return
    counts = rep.counts
    verb = "would change" if rep.dry_run else "changed"
    out.print(f"[bold]{importer}[/] import of {rep.source}" + (" [yellow](dry run: nothing written)[/]"
                                                                if rep.dry_run else f" (run {rep.run_id})"))
    summary = [
        {"what": "rows read", "count": rep.rows_read},
        {"what": "rows with every name resolved", "count": rep.rows_resolved},
        *[{"what": f"matched by {k}", "count": v} for k, v in sorted(rep.matched.items(), key=lambda kv: -kv[1])],
        *[{"what": f"created {k}", "count": v} for k, v in rep.created.items()],
        *[{"what": f"updated {k}", "count": v} for k, v in rep.updated.items()],
        *[{"what": f"unchanged {k}", "count": v} for k, v in rep.unchanged.items()],
        {"what": "ties ended (no longer in this version)", "count": rep.ended},
        {"what": "ambiguous names", "count": counts["ambiguous"]},
        {"what": "unresolved names", "count": counts["unresolved"]},
        {"what": "rejected rows", "count": counts["rejected"]},
    ]
    out.print(table(None, summary, ["what", "count"]))
    if rep.problems:
        shown = [{**p.as_dict(), "candidates": "; ".join(p.candidates[:3])} for p in rep.problems[:30]]
        out.print(table(f"problems ({len(rep.problems)}; first 30 — all with --report FILE)", shown,
                        ["kind", "row", "field", "value", "reason", "candidates"]))
    if rep.review_file:
        out.print(f"unsure rows written to [bold]{rep.review_file}[/]: fill the 'choice' column with an actor "
                  f"id (or 'skip') and run `citydip import review {rep.review_file}`")
    for note in rep.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if not rep.dry_run:
        out.print(f"store {verb}: {'yes' if rep.changed else 'no (already up to date)'}")


# -- initiatives -------------------------------------------------------------------------------

initiative_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                             help="A city's initiatives (plans, programmes, projects): stored with their source, "
                                  "aligned with the SDGs and the Paris Agreement; the profile shows coverage and "
                                  "gaps.\n\nExample: `citydip initiative list Barcelona`")
app.add_typer(initiative_app, name="initiative")


@initiative_app.command("add")
def initiative_add(actor: str = typer.Argument(..., help="The city (name, id, QID or GeoNames id)."),
                   title: str = typer.Option(..., "--title", help="Short title of the initiative."),
                   text: str = typer.Option("", "--text", help="Its description (what is aligned, with the title)."),
                   since: Optional[str] = typer.Option(None, "--since", help="Start (YYYY, YYYY-MM or YYYY-MM-DD)."),
                   until: Optional[str] = typer.Option(None, "--until", help="End, if it ended."),
                   status: Optional[str] = typer.Option(None, "--status", help="active, ended, planned, ..."),
                   axes: Optional[str] = typer.Option(None, "--axes", help="Axes, comma-separated (default: "
                                                                            "those its text aligns to)."),
                   partners: list[str] = typer.Option([], "--partner", help="A partner (repeatable)."),
                   source: str = typer.Option(..., "--source", help="Where it is described (document, decision, "
                                                                     "web page): its provenance."),
                   url: Optional[str] = typer.Option(None, "--url", help="Address of the source."),
                   licence: Optional[str] = LICENCE, as_of: Optional[str] = AS_OF, dry_run: bool = DRY,
                   fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Add (or update, same city and title) one initiative, and align it.

    Example: `citydip initiative add Barcelona --title "Climate Shelters" --text "A network of 200 cooled
    public buildings protects residents during heatwaves." --since 2019 --source "Ajuntament de Barcelona"`
    """
    try:
        with limits.applied(_cli_limits()):
            rep = _open().add_initiative(actor, title, text, since=since, until=until, status=status, axes=axes,
                                         partners=partners, source=source, url=url, licence=licence, as_of=as_of,
                                         dry_run=dry_run)
    except CitydipError as exc:
        _fail(exc)
    _print_report(rep, fmt, "initiative")


@initiative_app.command("import")
def initiative_import(file: str = typer.Argument(..., help="A CSV, TSV, Excel (.xlsx) or Parquet file."),
                      map_: list[str] = typer.Option([], "--map", help="FIELD=COLUMN, repeatable: actor (required), "
                                                                       "title (required), text, country, since, "
                                                                       "until, status, axes, partners (;-separated)."),
                      sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet (default: the first)."),
                      dry_run: bool = DRY, review: Optional[str] = REVIEW, report: Optional[str] = REPORT,
                      source: Optional[str] = SOURCE_NAME, licence: Optional[str] = LICENCE,
                      as_of: Optional[str] = AS_OF, encoding: str = ENCODING,
                      fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Import a table of initiatives (one per row), resolve each city, align each text;
    atomic, with a report (the same as `citydip import table --as initiatives`).

    Example: `citydip initiative import plans.csv --map actor=City --map country=Country --map title=Title --map text=Summary`
    """
    _run_import("table", file, dry_run=dry_run, review=review, report_path=report, fmt=fmt, as_="initiatives",
                mapping=_pairs(map_, "--map"), fixed={}, sheet=sheet, source_name=source, licence=licence,
                as_of=as_of, encoding=encoding)


@initiative_app.command("list")
def initiative_list(actor: str = typer.Argument(..., help="The city (name, id, QID or GeoNames id)."),
                    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The initiatives of a city, with the goals, targets and Paris articles each serves.

    Example: `citydip initiative list Barcelona --format json`
    """
    try:
        items = _open().initiatives(actor)
    except CitydipError as exc:
        _fail(exc)
    rows = [{**i, "sdgs": " ".join(map(str, i["sdgs"])), "targets": " ".join(i["targets"]),
             "paris": " ".join(map(str, i["paris"])), "axes": ", ".join(i["axes"]),
             "source": i["provenance"]["source"]} for i in items]
    emit(fmt, data=items, rows=rows, columns=["id", "title", "since", "status", "sdgs", "targets", "paris", "axes",
                                              "source"],
         title=plural(len(items), "initiative") if items else "no initiatives recorded (add one: citydip initiative add)")


@import_app.command("twinning")
def import_twinning(file: str = typer.Argument(..., help="CSV with columns city1,country1,city2,country2."),
                    dry_run: bool = DRY, review: Optional[str] = REVIEW, report: Optional[str] = REPORT,
                    source: Optional[str] = SOURCE_NAME, licence: Optional[str] = LICENCE,
                    as_of: Optional[str] = AS_OF, encoding: str = ENCODING,
                    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Import a twinning list (one pair per row), resolving both names of each row.

    Example: `citydip import twinning twins.csv --licence "CC BY-SA 4.0" --review review.csv`
    """
    _run_import("twinning", file, dry_run=dry_run, review=review, report_path=report, fmt=fmt,
                source_name=source, licence=licence, as_of=as_of, encoding=encoding)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out_: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            _fail(CitydipError(f"{option} takes FIELD=COLUMN pairs, e.g. {option} name=City; got '{v}'"))
        k, _, col = v.partition("=")
        out_[k.strip()] = col.strip()
    return out_


@import_app.command("table")
def import_table(file: str = typer.Argument(..., help="A CSV, TSV, Excel (.xlsx) or Parquet file."),
                 as_: str = typer.Option("ties", "--as", help="What the rows are: actors, ties, observations or initiatives."),
                 map_: list[str] = typer.Option([], "--map", help="FIELD=COLUMN, repeatable: source=City country=Country ..."),
                 target: Optional[str] = typer.Option(None, "--target", help="Fixed tie target for every row (e.g. c40)."),
                 type_: Optional[str] = typer.Option(None, "--type", help="Fixed tie type (e.g. member_of)."),
                 kind: Optional[str] = typer.Option(None, "--kind", help="Fixed actor kind (for --as actors)."),
                 indicator: Optional[str] = typer.Option(None, "--indicator", help="Fixed indicator (observations)."),
                 unit: Optional[str] = typer.Option(None, "--unit", help="Fixed unit (observations)."),
                 sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet (default: the first)."),
                 dry_run: bool = DRY, review: Optional[str] = REVIEW, report: Optional[str] = REPORT,
                 source: Optional[str] = SOURCE_NAME, licence: Optional[str] = LICENCE,
                 as_of: Optional[str] = AS_OF, encoding: str = ENCODING,
                 fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Import any table with a column mapping: a network's member list, a list of actors,
    or observations (actor, indicator, year, value, unit).

    Example: `citydip import table members.csv --map source=City --map country=Country --target c40 --type member_of`
    """
    fixed = {k: v for k, v in (("target", target), ("type", type_), ("kind", kind), ("indicator", indicator),
                               ("unit", unit)) if v is not None}
    _run_import("table", file, dry_run=dry_run, review=review, report_path=report, fmt=fmt, as_=as_,
                mapping=_pairs(map_, "--map"), fixed=fixed, sheet=sheet, source_name=source, licence=licence,
                as_of=as_of, encoding=encoding)


@import_app.command("wikidata")
def import_wikidata(query: Optional[str] = typer.Option(None, "--query", help="Run a shipped query online: "
                                                        "twinning, memberships or cities."),
                    from_file: Optional[str] = typer.Option(None, "--from-file", help="Load saved SPARQL JSON results."),
                    org: Optional[str] = typer.Option(None, "--org", help="Wikidata id of the organisation (memberships)."),
                    endpoint: str = typer.Option("https://query.wikidata.org/sparql", "--endpoint",
                                                 help="SPARQL endpoint for --query."),
                    dry_run: bool = DRY, report: Optional[str] = REPORT,
                    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Import Wikidata SPARQL results: twinning (P190), memberships (P463), or a city list
    (fills the Wikidata ids of cities).

    Example: `citydip import wikidata --from-file twinning.json --dry-run`
    """
    _run_import("wikidata", from_file, dry_run=dry_run, review=None, report_path=report, fmt=fmt,
                query=query, org=org, endpoint=endpoint)


@import_app.command("datapackage")
def import_datapackage(path: str = typer.Argument(..., help="The package directory or its datapackage.json."),
                       dry_run: bool = DRY, report: Optional[str] = REPORT,
                       fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Import a Frictionless Data Package written by `citydip export`.

    Example: `citydip import datapackage export/` (into an empty store: `citydip --home DIR import ...`)
    """
    _run_import("datapackage", path, dry_run=dry_run, review=None, report_path=report, fmt=fmt)


@import_app.command("review")
def import_review(file: str = typer.Argument(..., help="A review file whose 'choice' column you filled."),
                  dry_run: bool = DRY, report: Optional[str] = REPORT,
                  fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Finish the rows of a review file: each line's 'choice' names the actor meant. When the
    review came from a `--dry-run`, the import's rows that resolved cleanly are written too
    (its file is read again: it must be unchanged); after an applied import, only the
    finished rows. A `note:` line says which.

    Example: `citydip import review review.csv`
    """
    _run_import("review", file, dry_run=dry_run, review=None, report_path=report, fmt=fmt)


@import_app.command("list")
def import_list():
    """List the registered importers.

    Example: `citydip import list`
    """
    from .ingest import importers

    out.print(table(None, [{"name": k, "reads": v} for k, v in importers().items()], ["name", "reads"]))


@app.command("export")
def export(out_dir: str = typer.Option(..., "--out", help="Directory to write into (created if needed)."),
           fmt: str = typer.Option("datapackage", "--format", "-f", help="datapackage, csv, parquet or json."),
           kind: Optional[str] = typer.Option(None, help="Only actors of this kind (and their ties)."),
           country: Optional[str] = typer.Option(None, help="Only actors of this country (and their ties)."),
           layer: Optional[str] = typer.Option(None, help="Only actors on this layer (and their ties)."),
           type_: Optional[str] = typer.Option(None, "--type", help="Only ties of this type.")):
    """Export the store, or a filtered part, with provenance columns: a Frictionless Data
    Package (CSV + datapackage.json), CSV, Parquet or JSON.

    Example: `citydip export --format datapackage --out export/ --country ES`
    """
    try:
        counts = _open().export(out_dir, fmt=fmt, kind=kind, country=country, layer=layer, tie_type=type_)
    except CitydipError as exc:
        _fail(exc)
    err.print(f"wrote {fmt} to {out_dir}: " + ", ".join(f"{n:,} {k}" for k, n in counts.items()), highlight=False)


# -- network -------------------------------------------------------------------------------

network_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                          help="Multilayer network analysis: centrality, brokerage, reach to the macro "
                               "layer, communities, ego networks, exports for Gephi, QGIS and friends.\n\n"
                               "Example: `citydip network metrics --type twinned_with --top 20`")
app.add_typer(network_app, name="network")

LAYER_OPT = typer.Option([], "--layer", help="Only actors on this layer (repeatable): macro, meso, micro.")
TYPE_OPT = typer.Option([], "--type", help="Only ties of this type (repeatable): member_of, twinned_with, ...")
AXIS_OPT = typer.Option([], "--axis", help="Only ties serving this axis (repeatable).")
ASOF_OPT = typer.Option(None, "--as-of", help="Only ties in force at this date (2015, 2015-06, ...).")
COUNTRY_OPT = typer.Option(None, "--country", help="Only actors of this country and what they tie to.")
BLOC_OPT = typer.Option(None, "--bloc", help="Only actors of the member states of this bloc (e.g. eu).")
TOP_OPT = typer.Option(20, "--top", min=1, help="How many rows (in the table, csv and json alike).")
ENGAGEMENTS_OPT = typer.Option(False, "--engagements", help="Add the ties derived from the engagement register: "
                               "co_signed, met_at, engaged_with (or name one with --type); see docs/network.md.")


def _graph(layer, type_, axis, as_of, country, bloc, engagements=False):
    return _open().graph(layers=layer or None, tie_types=type_ or None, axes=axis or None, as_of=as_of,
                         country=country, bloc=bloc, engagements=engagements or None)


@network_app.command("metrics")
def network_metrics(layer: list[str] = LAYER_OPT, type_: list[str] = TYPE_OPT, axis: list[str] = AXIS_OPT,
                    as_of: Optional[str] = ASOF_OPT, country: Optional[str] = COUNTRY_OPT,
                    bloc: Optional[str] = BLOC_OPT, top: int = TOP_OPT,
                    sort: str = typer.Option("pagerank", "--sort", help="Measure to rank by: degree, pagerank, "
                                                                        "betweenness, eigenvector, closeness or "
                                                                        "participation."),
                    sample: Optional[int] = typer.Option(None, "--sample", help="Estimate betweenness from this "
                                                         "many pivots (default: exact on small graphs, 256 pivots "
                                                         "on large ones; see docs/network-centrality.md)."),
                    exact: bool = typer.Option(False, "--exact", help="Exact betweenness whatever the graph's size "
                                               "(minutes on the whole store)."),
                    measure: list[str] = typer.Option([], "--measure", help="Only this measure (repeatable): degree, "
                                                      "pagerank, betweenness, eigenvector, closeness, participation."),
                    scope: list[str] = typer.Option(["all"], "--scope", help="The whole graph (all) or one layer's "
                                                    "subgraph: macro, meso, micro (repeatable; each: all four); "
                                                    "engagement: the ties derived from engagements alone."),
                    engagements: bool = ENGAGEMENTS_OPT,
                    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Centrality of every actor — degree, PageRank, betweenness, eigenvector, closeness —
    in the whole graph or a layer, with the multiplex participation coefficient across tie
    types. Only the measures and scopes asked for are computed, and results are kept until
    the store changes, so the next question is quick. The table, `--format csv` and
    `--format json` all hold the `--top` rows by `--sort` of each scope asked.

    Example: `citydip network metrics --type twinned_with --type member_of --top 10`, or
    `citydip network metrics --scope engagement --as-of 2020` (who is central among those
    who sign declarations and meet at events).
    """
    from .network.metrics import COLUMNS, describe_betweenness, metrics

    try:
        if exact and sample is not None:
            raise ValidationError("give --exact or --sample, not both", field="sample")
        if sort not in COLUMNS:
            raise ValidationError(f"unknown measure '{sort}' for --sort; use {', '.join(COLUMNS)}", field="sort")
        scopes = list(dict.fromkeys(x for sc in scope for x in (("all", "macro", "meso", "micro")
                                                                 if sc == "each" else (sc,))))
        wanted = list(dict.fromkeys([*measure, sort])) if measure else None
        dg = _graph(layer, type_, axis, as_of, country, bloc, engagements or "engagement" in scopes)
        pivots = None if exact else (sample if sample is not None else "auto")
        rows, _ = metrics(dg, sort=sort, sample=pivots, measures=wanted, scopes=scopes, top=top)
    except CitydipError as exc:
        _fail(exc)
    shown = []
    for sc in scopes:
        ranked = sorted((r for r in rows if r.get("scope") == sc), key=lambda r: -(r.get(sort) or 0))
        shown += ranked[:top]
    cols = ["id", "name", "kind", "layer"] + [m for m in COLUMNS if not rows or m in rows[0]]
    what = "" if scopes == ["all"] else (f" within the {scopes[0]} layer" if len(scopes) == 1 else " in each scope")
    emit(fmt, data=shown, rows=shown, columns=["scope", *cols],
         renderables=[f"{plural(dg.g.vcount(), 'actor')}, {plural(dg.g.ecount(), 'tie')}",
                      *[f"[dim]{line}[/]" for line in describe_betweenness(rows.betweenness)],
                      table(f"top {top} by {sort}{what}", shown,
                            (["scope"] if len(scopes) > 1 else []) + cols, keep=[sort])])


@network_app.command("brokers")
def network_brokers(group: str = typer.Option("layer", "--group", help="Groups: layer or country."),
                    layer: list[str] = LAYER_OPT, type_: list[str] = TYPE_OPT, axis: list[str] = AXIS_OPT,
                    as_of: Optional[str] = ASOF_OPT, country: Optional[str] = COUNTRY_OPT,
                    bloc: Optional[str] = BLOC_OPT, top: int = TOP_OPT,
                    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Gould–Fernandez brokerage: who mediates between layers (or countries) — as
    coordinator, consultant, representative, gatekeeper or liaison.

    Example: `citydip network brokers --group country --type twinned_with --top 10`
    """
    from .network import brokerage

    try:
        rows = brokerage.brokerage(_graph(layer, type_, axis, as_of, country, bloc), group=group)
    except CitydipError as exc:
        _fail(exc)
    cols = ["id", "name", "group", "coordinator", "consultant", "representative", "gatekeeper", "liaison", "total"]
    emit(fmt, data=rows[:top], rows=rows[:top], columns=cols, renderables=[
        table(f"top {top} brokers between {group}s", rows[:top], cols, keep=["total"])])


def _coverage_line(m: dict[str, Any]) -> str:
    line = f"members: [bold]{m['text']}[/]"
    if m.get("coverage") is not None:
        line += f" — coverage {m['coverage']:.0%}"
    src = m.get("count_source") or {}
    if src:
        line += f"\n  published count: {src.get('name')} ({src.get('as_of') or 'n/a'})"
    if m.get("source_count"):
        line += f"\n  members come from {m['source_count']} source{'s' if m['source_count'] != 1 else ''}" \
                " (`citydip network coverage <network>` lists them)"
    return line


@network_app.command("coverage")
def network_coverage(network: Optional[str] = typer.Argument(
                         None, help="A network (id or name); without it, every city network."),
                     fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """How much of each city network's membership the store holds: members held, the
    network's own published count, the coverage, and where the members come from.

    Example: `citydip network coverage` or `citydip network coverage "Climate Mayors"`
    """
    cols = ["id", "held", "former", "published", "coverage", "complete"]
    try:
        data = _open().coverage(network)
    except CitydipError as exc:
        _fail(exc)
    if network is None:
        rows = [{**r, "coverage": f"{r['coverage']:.1%}" if r["coverage"] is not None else "",
                 "published": r["published"] or ""} for r in data]
        emit(fmt, data=data, rows=data, columns=["name", *cols], renderables=[
            f"{plural(len(data), 'city network')}; {plural(sum(r['held'] for r in data), 'member')} held; the "
            f"published count recorded for {sum(1 for r in data if r['published']):,}",
            table(None, rows, cols)])
        return
    sources = data.get("sources", [])
    emit(fmt, data=data, rows=sources, columns=["source", "url", "as_of", "members"], renderables=[
        f"[bold]{data['name']}[/] ({data['id']})", _coverage_line(data),
        table(f"sources of its members ({data['source_count']}; the largest {len(sources)})", sources,
              ["source", "as_of", "members", "url"])])


@network_app.command("reach")
def network_reach(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
                  depth: int = typer.Option(3, "--depth", min=1, max=6, help="Longest route followed."),
                  type_: list[str] = TYPE_OPT, as_of: Optional[str] = ASOF_OPT,
                  fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """How a city reaches the macro layer: the shortest routes to each global institution
    and bloc, the intermediaries (its state, its networks), and its vertical-integration score.

    Example: `citydip network reach Barcelona --depth 2`
    """
    from .network import reach as reach_

    try:
        obs = _open()
        actor = obs.get(city)
        dg = obs.graph(tie_types=type_ or None, as_of=as_of)
        routes = reach_.reach(dg, actor["id"], max_depth=depth)
        score = reach_.vertical_integration(dg, actor["id"])
    except CitydipError as exc:
        _fail(exc)
    data = {"id": actor["id"], "name": actor["name"], "vertical_integration": score, "routes": routes}
    rows = [{**r, "path": " → ".join(r.get("path_labels", [])), "intermediaries": len(r.get("intermediaries", []))}
            for r in routes]
    emit(fmt, data=data, rows=rows, columns=["id", "name", "distance", "routes", "intermediaries", "path"],
         renderables=[f"[bold]{escape(actor['name'])}[/] reaches {plural(len(routes), 'macro actor')} within "
                      f"{plural(depth, 'step')}; vertical integration {number(score)}",
                      table(None, rows, ["name", "distance", "routes", "intermediaries", "path"])])


@network_app.command("communities")
def network_communities(weighting: str = typer.Option("shared", "--weighting", help="shared or gawc."),
                        resolution: float = typer.Option(1.0, "--resolution", help="Leiden resolution."),
                        max_members: int = typer.Option(
                            1000, "--max-members", help="Leave out networks with more member cities than this "
                            "(they link every pair of their members)."),
                        country: Optional[str] = COUNTRY_OPT, bloc: Optional[str] = BLOC_OPT, top: int = TOP_OPT,
                        fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Clusters of cities that act together: Leiden communities of the city–city projection
    of network memberships (weighted by shared networks or GaWC interlocking connectivity).

    Example: `citydip network communities --weighting gawc`
    """
    from .network import projection

    try:
        dg = _open().graph(tie_types=["member_of"], country=country, bloc=bloc)
        proj = projection.membership_projection(dg, weighting=weighting, max_members=max_members)
        com = projection.communities(proj.graph, resolution=resolution)
    except CitydipError as exc:
        _fail(exc)
    groups = [{**g_, "top": ", ".join(t["label"] for t in g_["top"]),
               "countries": ", ".join(f"{c} {n}" for c, n in g_["countries"][:4])} for g_ in com.groups]
    left_out = proj.graph.filters.get("left_out") or {}
    data = {"modularity": com.modularity, "quality": com.quality, "resolution": com.resolution,
            "count": len(com.groups), "communities": com.groups[:top], "connectivity": proj.table[:top],
            "left_out": left_out}
    note = ("; left out (more than {:,} member cities): ".format(max_members)
            + ", ".join(f"{n} ({c:,})" for n, c in left_out.items())) if left_out else ""
    emit(fmt, data=data, rows=groups[:top], columns=["community", "size", "top", "countries"], renderables=[
        f"{plural(len(com.groups), 'community', 'communities')} of {plural(proj.graph.g.vcount(), 'city', 'cities')}; "
        f"modularity {com.modularity:.3f}{note}",
        table(f"the {top} largest communities" if len(groups) > top else None, groups[:top],
              ["community", "size", "top", "countries"]),
        table(f"top {top} by network connectivity ({weighting})", proj.table[:top],
              ["id", "label", "network_count", "gnc", "gnc_relative"])])


@network_app.command("ego")
def network_ego(actor: str = typer.Argument(..., help="An actor (name, id, QID or GeoNames id)."),
                depth: int = typer.Option(2, "--depth", min=1, max=4, help="Steps from the actor."),
                type_: list[str] = TYPE_OPT, as_of: Optional[str] = ASOF_OPT,
                nodes: bool = typer.Option(False, "--nodes", help="List the actors (id, name, kind, layer, "
                                                                  "country) instead of the counts."),
                out_file: Optional[str] = typer.Option(
                    None, "--out", help="Also write it: .graphml, .gexf, .json or .geojson."),
                fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The ego network of an actor to depth k: everyone within k ties, and the ties among them
    (those in force now, or at `--as-of`): counts by layer, kind, distance and tie type, or
    with `--nodes` the actors themselves.

    Example: `citydip network ego c40 --depth 1 --out c40.gexf`
    """
    from .network import io, reach as reach_

    try:
        obs = _open()
        a = obs.get(actor)
        eg = reach_.ego(obs.graph(tie_types=type_ or None, as_of=as_of), a["id"], depth=depth)
        if out_file:
            io.write_graph(eg.graph, out_file)
    except CitydipError as exc:
        _fail(exc)
    head = (f"ego network of [bold]{escape(a['name'])}[/] to depth {depth}: {plural(eg.graph.g.vcount(), 'actor')}, "
            f"{plural(eg.graph.g.ecount(), 'tie')}" + (f"; written to {escape(out_file)}" if out_file else ""))
    if nodes:
        rows = [{"id": v["name"], "name": v["label"], "kind": v["kind"], "layer": v["layer"],
                 "country": v["country"]} for v in eg.graph.g.vs]
        emit(fmt, data=rows, rows=rows, columns=["id", "name", "kind", "layer", "country"],
             renderables=[head, table(None, rows, ["id", "name", "kind", "layer", "country"])])
        return
    groups = (("by_layer", "actors by layer"), ("by_kind", "actors by kind"),
              ("by_distance", "actors at distance"), ("by_tie_type", "ties by type"))
    rows = [{"group": label, "key": str(k), "count": n} for key, label in groups
            for k, n in (eg.summary.get(key) or {}).items()]
    emit(fmt, data=eg.summary, rows=rows, columns=["group", "key", "count"],
         renderables=[head, table(None, rows, ["group", "key", "count"])])


@network_app.command("export")
def network_export(out_file: str = typer.Option(..., "--out", help="File to write: .graphml, .gexf, .json, .geojson."),
                   fmt: Optional[str] = typer.Option(None, "--format", "-f", help="graphml, gexf, json or geojson "
                                                     "(default: from the file's extension)."),
                   layer: list[str] = LAYER_OPT, type_: list[str] = TYPE_OPT, axis: list[str] = AXIS_OPT,
                   as_of: Optional[str] = ASOF_OPT, country: Optional[str] = COUNTRY_OPT,
                   bloc: Optional[str] = BLOC_OPT, engagements: bool = ENGAGEMENTS_OPT):
    """Export the graph (or a filtered part) for Gephi (GEXF), yEd/Cytoscape (GraphML),
    D3 (node-link JSON) or QGIS (GeoJSON), with layer, kind, axes and provenance. With
    ties derived from engagements, the GEXF is dynamic: dated ties for Gephi's timeline.

    Example: `citydip network export --type twinned_with --country FR --out france.gexf`, or
    `citydip network export --engagements --layer micro --out engaged.gexf`
    """
    from .network import io

    try:
        dg = _graph(layer, type_, axis, as_of, country, bloc, engagements)
        path = io.write_graph(dg, out_file, fmt)
    except CitydipError as exc:
        _fail(exc)
    err.print(f"wrote {plural(dg.g.vcount(), 'actor')} and {plural(dg.g.ecount(), 'tie')} to {path}", highlight=False)


# -- the web observatory ------------------------------------------------------------------

@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
          port: int = typer.Option(8000, "--port", min=1, max=65535, envvar="CITYDIP_PORT", show_envvar=True,
                                   help="Port to listen on."),
          store: Optional[str] = typer.Option(None, "--store", help="The store file (default: the one in --home)."),
          workers: int = typer.Option(1, "--workers", min=1, help="Server processes (2 on a 2-core machine)."),
          read_only: bool = typer.Option(False, "--read-only", help="Public mode: anonymous visitors read; "
                                                                    "no login, no write path."),
          secure_cookies: Optional[bool] = typer.Option(None, "--secure-cookies/--no-secure-cookies",
                                                        help="Force the Secure flag on cookies (default: when "
                                                             "the request came over https)."),
          forwarded_allow_ips: Optional[str] = typer.Option(
              None, "--forwarded-allow-ips", envvar="CITYDIP_FORWARDED_ALLOW_IPS", show_envvar=True,
              help="Behind a reverse proxy: its addresses (comma-separated), whose X-Forwarded-For and "
                   "X-Forwarded-Proto are then believed. Default: none; every client is the address it "
                   "connects from (see docs/security.md)."),
          log_level: str = typer.Option("info", "--log-level", help="critical, error, warning, info or debug.")):
    """Serve the observatory on the web: pages for people, a REST API under /api/v1 (docs at
    /api/v1/docs). A fresh install gets the default dataset first. Uploads and heavy requests
    are held to limits (visitors without an account the tightest); change one with an
    environment variable such as `CITYDIP_LIMIT_ANONYMOUS_PARAGRAPHS=500` (see docs/limits.md).

    Example: `citydip serve --port 8080 --workers 2`; behind a proxy on this machine:
    `citydip serve --forwarded-allow-ips 127.0.0.1`
    """
    from .web.serve import prepare, run

    try:
        limits.check_settings()
        bar, update = _progress()
        if bar is None:
            prepare(home=state.home, path=store or state.db, log_level=log_level)
        else:
            with bar:
                prepare(home=state.home, path=store or state.db, progress=update, log_level=log_level)
        run(host=host, port=port, home=state.home, path=store or state.db, workers=workers, read_only=read_only,
            secure_cookies=secure_cookies, forwarded_allow_ips=forwarded_allow_ips, log_level=log_level)
    except CitydipError as exc:
        _fail(exc)


# -- accounts (cli_accounts.py) ------------------------------------------------------------

from .cli_accounts import audit_log, token_app, user_app  # noqa: E402

app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.command("audit")(audit_log)

# -- indices (cli_index.py) ------------------------------------------------------------------

from .cli_index import index_app  # noqa: E402

app.add_typer(index_app, name="index")

# -- the MiniLM model of the semantic layer --------------------------------------------------

model_app = typer.Typer(no_args_is_help=True, help="The MiniLM model of the alignment's semantic layer: "
                        "build its ONNX file from the installed package.\n\nExample: `citydip model build`")


@model_app.command("build")
def model_build(precision: Optional[str] = typer.Option(None, "--precision",
                                                         help="fp32 or int8 (default: the one alignment uses)."),
                force: bool = typer.Option(False, "--force", help="Rebuild even when the cached file is intact.")):
    """Build the ONNX file of all-MiniLM-L6-v2 from the installed package (no download, no
    torch) into the user cache, or check the one there; alignment does this by itself on
    first use: run it ahead, e.g. in an image build. `CITYDIP_CACHE` moves the cache.

    Example: `citydip model build --precision int8`
    """
    from .align import semantic

    try:
        path = semantic.build(precision, force=force)
    except CitydipError as exc:
        _fail(exc)
    b = semantic.backend()
    err.print(f"{path} ({path.stat().st_size / 1e6:.1f} MB) ready; alignment uses "
              f"{'-'.join(b) if b else 'no semantic backend'}", highlight=False, soft_wrap=True)


app.add_typer(model_app, name="model")

# -- recommendations (cli_recommend.py) ------------------------------------------------------

from .cli_recommend import recommend_app  # noqa: E402

app.add_typer(recommend_app, name="recommend")

# -- the engagement register (cli_engage.py) -------------------------------------------------

from .cli_engage import engage_app  # noqa: E402

app.add_typer(engage_app, name="engage")

# -- reports (cli_report.py) -------------------------------------------------------------------

from .cli_report import report_app  # noqa: E402

app.add_typer(report_app, name="report")

# -- background jobs and the queue's workers (cli_jobs.py) -----------------------------------

from .cli_jobs import jobs_app, worker  # noqa: E402

app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker)

# -- copying a store between SQLite and PostgreSQL (cli_store.py) ----------------------------

from .cli_store import migrate_store  # noqa: E402

app.command("migrate-store")(migrate_store)


def main() -> None:
    try:
        app()
    except CitydipError as exc:  # anything the commands did not catch themselves
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except Exception as exc:
        # "database is locked" outside the store's transactions; SQLAlchemy is looked up,
        # not imported: a command that never opened the store (align) cannot raise it
        sa_exc = sys.modules.get("sqlalchemy.exc")
        if sa_exc is None or not isinstance(exc, sa_exc.OperationalError):
            raise
        from .store.db import is_busy

        if not is_busy(exc):
            raise
        err.print("[bold red]error:[/] the store is busy: another process is writing; try again in a few seconds",
                  highlight=False, soft_wrap=True)
        sys.exit(1)
