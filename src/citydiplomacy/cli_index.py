"""``citydip index``: the axis indices — build them from the store, show a city's scores
with their uncertainty, rank cities, measure which choice moves the ranking, export
(thin over :mod:`citydiplomacy.indices`)."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.panel import Panel

from .errors import CitydipError
from .render import FORMAT_HELP, Format, emit, number, plural, table

index_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Composite indices of the three axes (sustainability, digital, engagement) with rank "
         "intervals from a Monte Carlo over the method's choices; see docs/indices.md.\n\n"
         "Example: `citydip index build && citydip index show Barcelona`")

AXIS_HELP = "sustainability, digital, engagement or overall."
BUILD_HELP = "A build by its name (see `citydip index builds`); default: the published one."


def _ctx():
    from .cli import _fail, _open, err, out

    return _open, _fail, out, err


def _years(text: Optional[str]) -> list[int] | None:
    from .indices.builds import parse_years

    return parse_years(text)


def _bar():
    """A Rich progress bar on a terminal, nothing in a pipe: (bar, callback)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    _, _, _, err = _ctx()
    if not err.is_terminal:
        return None, None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn(), console=err, transient=True)
    task = bar.add_task("index", total=1)

    def update(step: str, i: int, n: int) -> None:
        bar.update(task, total=max(n, 1), completed=i, description=step)
    return bar, update


def _rank_text(a: dict[str, Any]) -> str:
    if a.get("rank") is None:
        return "withheld: low data" if a.get("low_data") else "—"
    text = f"{a['rank']:,}"
    if a.get("rank_lo") is not None:
        text += f" ({a['rank_lo']:,}–{a['rank_hi']:,})"
    return text + (f" of {a['of']:,}" if a.get("of") else "")


def _bar_text(score: float | None, width: int = 10) -> str:
    if score is None:
        return ""
    n = max(0, min(width, round(score / 100 * width)))
    return "█" * n + "·" * (width - n)


def _interval_text(a: dict[str, Any], width: int = 20) -> str:
    """The rank and its interval on a log scale from 1 (left) to the number ranked."""
    import math

    if a.get("rank") is None or not a.get("of"):
        return ""
    top = math.log(max(a["of"], 2))

    def pos(r: float) -> int:
        return min(width - 1, int(math.log(max(r, 1)) / top * (width - 1)))
    line = ["·"] * width
    if a.get("rank_lo") is not None:
        for k in range(pos(a["rank_lo"]), pos(a["rank_hi"]) + 1):
            line[k] = "─"
        line[pos(a["rank_lo"])], line[pos(a["rank_hi"])] = "├", "┤"
    line[pos(a["rank"])] = "●"
    return "".join(line)


def index_renderables(r: dict[str, Any]) -> list[Any]:
    """Score bars and rank intervals of a city's index results (also used by
    ``citydip profile``)."""
    rows = [{"axis": a, "score": f"{v['score']:.1f}" if v["score"] is not None else "—",
             "bar": _bar_text(v["score"]), "rank (5–95%)": _rank_text({**v, "of": v.get("of")}),
             "data coverage": _coverage_text(v), "rank, log scale": _interval_text(v)}
            for a, v in r["axes"].items()]
    return [table("scores 0–100; ranks among the cities ranked on each axis; data coverage: the share of "
                  "the axis's indicators the store holds the city's record for", rows,
                  ["axis", "score", "bar", "rank (5–95%)", "data coverage", "rank, log scale"])]


def _coverage_text(a: dict[str, Any]) -> str:
    """"75%", or "25% · low data" under the build's threshold."""
    if a.get("coverage") is None:
        return "—"
    return f"{a['coverage']:.0%}" + (" · low data" if a.get("low_data") else "")


@index_app.command("build")
def build(config: Optional[str] = typer.Option(None, "--config", help="A framework YAML file (default: the "
                                                                      "shipped one; see `citydip index framework`)."),
          years: Optional[str] = typer.Option(None, "--years", help="Score each year of a range (panel), "
                                                                    "e.g. 2015-2025; default: the current snapshot."),
          replications: Optional[int] = typer.Option(None, "--replications", "-n", min=0,
                                                     help="Monte Carlo replications (default: the framework's, "
                                                          "1000; 0 skips the uncertainty analysis)."),
          seed: Optional[int] = typer.Option(None, "--seed", help="Random seed of the Monte Carlo."),
          name: Optional[str] = typer.Option(None, "--name", help="A name of your own for the build (letters, "
                                                                 "digits, . _ -), besides its stable name."),
          publish: Optional[bool] = typer.Option(None, "--publish/--no-publish",
                                                 help="Make it the published build, what the web and the API "
                                                      "show (default: only the store's first build is)."),
          fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Compute every indicator of the framework from the store, build the three axis
    scores and the overall score with rank intervals, and store them as a named build
    beside the earlier ones. The build is named after its framework (and the hash of its
    content), years, options and the store's data version; a build of the same name is
    replaced. Only the store's first build is published unless you say `--publish`.
    Cities without enough data are listed with the reason.

    Example: `citydip index build --years 2015-2025 --name panel --publish`
    """
    _open, _fail, out, _ = _ctx()
    try:
        obs = _open()
        bar, update = _bar()
        kwargs = dict(years=_years(years), replications=replications, seed=seed, name=name, publish=publish)
        if bar is None:
            rep = obs.build_index(config, **kwargs)
        else:
            with bar:
                rep = obs.build_index(config, progress=update, **kwargs)
        shown = rep.name if rep.published else obs.index_build()["name"]
    except CitydipError as exc:
        _fail(exc)
    d = rep.as_dict()
    rows = [{"what": "units (cities with ties)", "count": rep.units}, {"what": "scored", "count": rep.scored}]
    rows += [{"what": f"not scored: {why}", "count": n} for why, n in rep.not_scored.items()]
    rows += [{"what": f"low data on {axis} (rank {'withheld' if rep.low_data_rule.get('rank') == 'withhold' else 'marked'})",
              "count": n} for axis, n in rep.low_data.items()]
    ref = escape(rep.label or rep.name)
    if rep.published:
        state = "[green]published[/]: the web and the API show it" + (
            f" (instead of {escape(rep.previous)})" if rep.previous else "")
    else:
        state = (f"[yellow]not published[/]: the web and the API show {escape(shown)}\n"
                 f"publish it with: citydip index publish {ref}")
    emit(fmt, data=d, rows=rows, columns=["what", "count"], renderables=[
        f"[bold]index built[/]: {escape(rep.name)}" + (f" ({escape(rep.label)})" if rep.label else "")
        + (", replacing the build of the same name" if rep.replaced else ""), state,
        f"run {rep.run_id}, {rep.seconds} s, {plural(rep.replications, 'Monte Carlo replication')}"
        f"{', years ' + years if years else ''}\nread it with: citydip index show CITY --build {ref}",
        table(None, rows, ["what", "count"]),
        table("indicators kept (weight within the axis)",
              [{"indicator": k, "weight": v} for k, v in rep.weights.items()], ["indicator", "weight"]),
        table("indicators dropped", [{"indicator": k, "why": v} for k, v in rep.dropped_indicators.items()],
              ["indicator", "why"]) if rep.dropped_indicators else "",
        table("top 10 overall", [{**t, "data coverage": f"{t['coverage']:.0%}"} for t in rep.top],
              ["rank", "name", "score", "data coverage"]),
        *(f"[dim]note: {escape(n)}[/]" for n in rep.notes)])


@index_app.command("show")
def show(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
         build_name: Optional[str] = typer.Option(None, "--build", help=BUILD_HELP),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """A city's axis scores and overall score, with its rank and rank interval (5th–95th
    percentile over the Monte Carlo), its rank in its peer groups (population band,
    region, blocs), and the indicators behind its strengths and weaknesses.

    Example: `citydip index show Lyon`
    """
    _open, _fail, out, _ = _ctx()
    try:
        r = _open().index_show(city, build=build_name)
    except CitydipError as exc:
        _fail(exc)
    if not r["scored"]:
        if fmt == Format.table:
            out.print(f"[bold]{escape(r['name'])}[/] ({r['id']}) is not scored: {escape(r['reason'])}")
        else:
            emit(fmt, data=r, rows=[{"id": r["id"], "scored": False, "reason": r["reason"]}],
                 columns=["id", "scored", "reason"])
        return
    flat = [{"axis": a, **v} for a, v in r["axes"].items()]
    if fmt != Format.table:
        emit(fmt, data=r, rows=flat, columns=["axis", "score", "rank", "rank_lo", "rank_hi", "rank_median", "of",
                                              "coverage", "low_data"])
        return
    out.print(Panel(f"build {escape(r['build_label'] or r['build'])}"
                    + (" (published)" if r["published"] else " (not published)")
                    + f" · run {r['run']} built {r['built_at'][:16]} · framework {r['framework']} · "
                    f"{plural(r['replications'], 'Monte Carlo replication')}" + (f" · year {r['year']}" if r["year"] else ""),
                    title=f"{r['name']} ({r['id']})", expand=False))
    for x in index_renderables(r):
        out.print(x)
    if r["peers"]:
        peer_rows = [{"peer group": f"{p['group']}: {p['name']}", "cities": p["size"],
                      **{a: (f"{number(p[a]['rank'])} of {number(p[a]['of'])}" if p[a]["rank"] is not None
                             else "withheld")
                         for a in ("sustainability", "digital", "engagement", "overall") if a in p}}
                     for p in r["peers"]]
        out.print(table("rank among peers", peer_rows, ["peer group", "cities", "sustainability", "digital",
                                                        "engagement", "overall"]))
    d = r["drivers"]
    for title, key in (("strengths: where it stands highest among the scored cities", "strengths"),
                       ("weaknesses: where it stands lowest", "weaknesses")):
        if d[key]:
            out.print(table(title,
                            [{"indicator": x["name"], "axis": x["axis"],
                              "value": _num(x["raw"]) + (" (imputed)" if x["imputed"] else ""),
                              "among the": f"top {_pct(x['top_share'])}"}
                             for x in d[key]], ["indicator", "axis", "value", "among the"]))
    unknown = [x["name"] for x in d["indicators"] if not x.get("known", True) and not x.get("context")]
    if unknown:
        out.print(f"[dim]not in the store for {escape(r['name'])} (imputed or estimated, not counted as its "
                  f"data): {escape('; '.join(unknown))}[/]")
    context = [f"{x['name']} {_num(x['raw'])}" for x in d["indicators"] if x.get("context")]
    if context:
        out.print(f"[dim]context (its state's facts, not the city's): {escape('; '.join(context))}[/]")
    if r.get("series"):
        years = sorted({y for s in r["series"].values() for y in s})
        out.print(table("scores by year", [{"axis": a, **{str(y): f"{s.get(y, float('nan')):.1f}" for y in years}}
                                           for a, s in r["series"].items()], ["axis"] + [str(y) for y in years]))


def _pct(share: float) -> str:
    return f"{share:.2%}" if share < 0.001 else f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def _num(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.3g}"


@index_app.command("rank")
def rank(axis: str = typer.Option("overall", "--axis", help=AXIS_HELP),
         region: Optional[str] = typer.Option(None, "--region", help="A continent: Europe, Asia, Africa, "
                                                                    "North America, South America, Oceania."),
         bloc: Optional[str] = typer.Option(None, "--bloc", help="Cities of a bloc's member states (e.g. eu, asean)."),
         country: Optional[str] = typer.Option(None, "--country", help="Cities of one country (name or ISO code)."),
         band: Optional[str] = typer.Option(None, "--band", help="A population band, e.g. '1M–5M'."),
         year: Optional[int] = typer.Option(None, "--year", help="A year of a panel build (default: the latest)."),
         top: int = typer.Option(20, "--top", min=1, max=100_000, help="How many cities."),
         low_data: bool = typer.Option(False, "--low-data", help="Also list the cities whose rank is withheld "
                                                                 "for low data (after the ranked ones, by score, "
                                                                 "without a rank)."),
         build_name: Optional[str] = typer.Option(None, "--build", help=BUILD_HELP),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Cities ranked on an axis, best first, with their global rank and its interval and
    their data coverage on the axis (the share of its indicators the store holds the
    city's record for). A city under the framework's low-data threshold has its rank
    withheld (or marked "low data"; see docs/indices.md).

    Example: `citydip index rank --axis digital --bloc eu --top 10`
    """
    _open, _fail, out, _ = _ctx()
    try:
        r = _open().index_rank(axis=axis, region=region, bloc=bloc, country=country, band=band, year=year, top=top,
                               low_data=low_data, build=build_name)
    except CitydipError as exc:
        _fail(exc)
    rows = [{**x, "rank (5–95%)": _rank_text({**x, "of": r["of"]})} for x in r["rows"]]
    rows = [{**x, "data coverage": _coverage_text(x)} for x in rows]
    rule = r["low_data_rule"]
    # with --low-data the count includes the cities whose rank is withheld
    withheld = (f"; {number(r['withheld'])} {'of them' if low_data else 'more'} with their rank withheld for low "
                f"data (under {rule['min_coverage']:.0%} data coverage){'' if low_data else ': --low-data lists them'}"
                if r["withheld"] else "")
    emit(fmt, data=r, rows=r["rows"], columns=["position", "id", "name", "country", "score", "rank", "rank_lo",
                                               "rank_hi", "coverage", "low_data"],
         renderables=[f"[bold]{axis}[/] · {escape(r['selection'])} · {plural(r['count'], 'city', 'cities')}"
                      + (f" · {r['year']}" if r["year"] else "")
                      + f" · build {escape(r['build_label'] or r['build'])}"
                      + ("" if r["published"] else " (not published)") + escape(withheld),
                      table(None, rows, ["position", "name", "country", "score", "rank (5–95%)", "data coverage"])])


@index_app.command("sensitivity")
def sensitivity(config: Optional[str] = typer.Option(None, "--config", help="A framework YAML file."),
                n_base: int = typer.Option(256, "--n-base", min=8, help="Base sample of the Sobol design ("
                                                                        "a power of two; runs = n_base × (2 × factors + 2))."),
                seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
                fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Which choice moves the ranking most: variance-based (Sobol) first-order and total
    sensitivity indices of the overall ranking to the weights, imputation, normalisation,
    aggregation and outlier treatment (SALib).

    Example: `citydip index sensitivity --n-base 256`
    """
    _open, _fail, out, _ = _ctx()
    try:
        df = _open().index_sensitivity(config, n_base=n_base, seed=seed)
    except CitydipError as exc:
        _fail(exc)
    rows = df.to_dict("records")
    emit(fmt, data=rows, rows=rows, columns=list(df.columns), renderables=[
        table("Sobol indices of the mean absolute rank shift (overall ranking)", rows, list(df.columns)),
        "[dim]S1: the share of the ranking's variance due to the choice alone; ST: with its interactions.[/]"])


@index_app.command("export")
def export(out_dir: str = typer.Option(..., "--out", help="Directory to write into (created if needed)."),
           fmt: str = typer.Option("csv", "--format", "-f", help="csv, json or parquet."),
           build_name: Optional[str] = typer.Option(None, "--build", help=BUILD_HELP)):
    """Write the published build (or the one named with --build): index_scores (scores, ranks and intervals per city, or why
    it is not scored), index_values (each indicator, raw and normalised) and
    index_run.json (the framework and every choice: the figures' provenance).

    Example: `citydip index export --out results/`
    """
    _open, _fail, out, _ = _ctx()
    try:
        written = _open().index_export(out_dir, fmt=fmt, build=build_name)
    except CitydipError as exc:
        _fail(exc)
    for name, n in written.items():
        out.print(f"wrote {name} ({plural(n, 'row')})" if name.endswith(fmt) else f"wrote {name}")


@index_app.command("builds")
def builds(fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The builds of the indices, newest first: each one's name (and the name given to
    it), whether it is the published one (what the web and the API show), its framework
    and the hash of its content, years, options, the store's data version it read, when
    it was built and how many cities it scored.

    Example: `citydip index builds`
    """
    _open, _fail, out, _ = _ctx()
    try:
        rows = _open().index_builds()
    except CitydipError as exc:
        _fail(exc)
    flat = [{"published": "yes" if b["published"] else "", "name": b["name"], "label": b["label"] or "",
             "framework": b["framework"], "framework_hash": (b["framework_hash"] or "")[:12],
             "years": b["years"] or "snapshot", "replications": b["options"].get("replications"),
             "seed": b["options"].get("seed"), "data_version": b["data_version"], "built_at": b["built_at"],
             "scored": b["scored"]} for b in rows]
    if not rows and fmt == Format.table:
        out.print("no index has been built in this store yet: run citydip index build")
        return
    # the name holds the framework, its hash, the years, replications, seed and data version
    shown = [{"": "●" if r["published"] else "",
              "build": (f"{r['label']}\n" if r["label"] else "") + r["name"],
              "built (UTC)": r["built_at"][:16].replace("T", " "), "scored": f"{r['scored']:,}" if r["scored"] else "–"}
             for r in flat]
    emit(fmt, data=rows, rows=flat, columns=list(flat[0]) if flat else ["name"], renderables=[
        table(f"{plural(len(rows), 'index build')} (● published)", shown,
              ["", "build", "built (UTC)", "scored"]),
        "[dim]publish another with: citydip index publish NAME\nread one with: --build NAME[/]"])


@index_app.command("publish")
def publish(build_name: str = typer.Argument(..., metavar="NAME", help="The build's name or the name given to it."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Make a build the published one: what the web pages, the actor pages and the API
    show by default. The switch is written to the audit log (who, from which build to
    which, through the command line).

    Example: `citydip index publish panel`
    """
    _open, _fail, out, _ = _ctx()
    try:
        r = _open().index_publish(build_name)
    except CitydipError as exc:
        _fail(exc)
    text = (f"[bold]published[/] {escape(r['name'])}" + (f" (before: {escape(r['previous'])})" if r["previous"]
                                                          else "")
            if r["changed"] else f"{escape(r['name'])} is already the published build; nothing changed")
    emit(fmt, data=r, rows=[r], columns=["name", "label", "previous", "changed"], renderables=[text])


@index_app.command("remove")
def remove(build_name: str = typer.Argument(..., metavar="NAME", help="The build's name or the name given to it."),
           fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Delete a build and its results (not the published one: publish another first).

    Example: `citydip index remove shipped-1a2b3c4d-snapshot-n100-s0-d57`
    """
    _open, _fail, out, _ = _ctx()
    try:
        r = _open().index_remove(build_name)
    except CitydipError as exc:
        _fail(exc)
    emit(fmt, data=r, rows=[r], columns=["name", "label"], renderables=[f"removed {escape(r['name'])}"])


@index_app.command("framework")
def framework():
    """Print the shipped indicator framework (YAML) to copy and edit.

    Example: `citydip index framework > my-framework.yaml`
    """
    from .indices.framework import default_text

    sys.stdout.write(default_text())
