"""``citydip index``: the axis indices — build them from the store, show a city's scores
with their uncertainty, rank cities, measure which choice moves the ranking, export
(thin over :mod:`citydiplomacy.indices`)."""

from __future__ import annotations

import re
import sys
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.panel import Panel

from .errors import CitydipError, ValidationError
from .render import Format, emit, table

index_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Composite indices of the three axes (sustainability, digital, engagement) with rank "
         "intervals from a Monte Carlo over the method's choices; see docs/indices.md.\n\n"
         "Example: `citydip index build && citydip index show Barcelona`")

FORMAT_HELP = "Output: a table on the terminal, or json/csv for scripts."
AXIS_HELP = "sustainability, digital, engagement or overall."


def _ctx():
    from .cli import _fail, _open, err, out

    return _open, _fail, out, err


def _years(text: Optional[str]) -> list[int] | None:
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", text)
    if not m:
        raise ValidationError(f"'{text}' is not a year or a range of years such as 2015-2025", field="years")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if b < a:
        raise ValidationError(f"'{text}': the range ends before it starts", field="years")
    return list(range(a, b + 1))


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
          fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Compute every indicator of the framework from the store, build the three axis
    scores and the overall score with rank intervals, and store them (replacing the
    previous build). Cities without enough data are listed with the reason.

    Example: `citydip index build --replications 1000`
    """
    _open, _fail, out, _ = _ctx()
    try:
        obs = _open()
        bar, update = _bar()
        if bar is None:
            rep = obs.build_index(config, years=_years(years), replications=replications, seed=seed)
        else:
            with bar:
                rep = obs.build_index(config, years=_years(years), replications=replications, seed=seed,
                                      progress=update)
    except CitydipError as exc:
        _fail(exc)
    d = rep.as_dict()
    rows = [{"what": "units (cities with ties)", "count": rep.units}, {"what": "scored", "count": rep.scored}]
    rows += [{"what": f"not scored: {why}", "count": n} for why, n in rep.not_scored.items()]
    rows += [{"what": f"low data on {axis} (rank {'withheld' if rep.low_data_rule.get('rank') == 'withhold' else 'marked'})",
              "count": n} for axis, n in rep.low_data.items()]
    emit(fmt, data=d, rows=rows, columns=["what", "count"], renderables=[
        f"[bold]index built[/] (run {rep.run_id}, {rep.seconds} s, {rep.replications:,} Monte Carlo "
        f"replications{', years ' + years if years else ''})",
        table(None, rows, ["what", "count"]),
        table("indicators kept (weight within the axis)",
              [{"indicator": k, "weight": f"{v:.3f}"} for k, v in rep.weights.items()], ["indicator", "weight"]),
        table("indicators dropped", [{"indicator": k, "why": v} for k, v in rep.dropped_indicators.items()],
              ["indicator", "why"]) if rep.dropped_indicators else "",
        table("top 10 overall", [{**t, "data coverage": f"{t['coverage']:.0%}"} for t in rep.top],
              ["rank", "name", "score", "data coverage"]),
        *(f"[dim]note: {escape(n)}[/]" for n in rep.notes)])


@index_app.command("show")
def show(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
         fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """A city's axis scores and overall score, with its rank and rank interval (5th–95th
    percentile over the Monte Carlo), its rank in its peer groups (population band,
    region, blocs), and the indicators behind its strengths and weaknesses.

    Example: `citydip index show Lyon`
    """
    _open, _fail, out, _ = _ctx()
    try:
        r = _open().index_show(city)
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
    out.print(Panel(f"index run {r['run']} built {r['built_at'][:16]} · framework {r['framework']} · "
                    f"{r['replications']:,} Monte Carlo replications" + (f" · year {r['year']}" if r["year"] else ""),
                    title=f"{r['name']} ({r['id']})", expand=False))
    for x in index_renderables(r):
        out.print(x)
    if r["peers"]:
        peer_rows = [{"peer group": f"{p['group']}: {p['name']}", "cities": p["size"],
                      **{a: (f"{p[a]['rank']} of {p[a]['of']}" if p[a]["rank"] is not None else "withheld")
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
                               low_data=low_data)
    except CitydipError as exc:
        _fail(exc)
    rows = [{**x, "rank (5–95%)": _rank_text({**x, "of": r["of"]})} for x in r["rows"]]
    rows = [{**x, "data coverage": _coverage_text(x)} for x in rows]
    rule = r["low_data_rule"]
    withheld = (f"; {r['withheld']:,} more with their rank withheld for low data (under "
                f"{rule['min_coverage']:.0%} data coverage){'' if low_data else ': --low-data lists them'}"
                if r["withheld"] else "")
    emit(fmt, data=r, rows=r["rows"], columns=["position", "id", "name", "country", "score", "rank", "rank_lo",
                                               "rank_hi", "coverage", "low_data"],
         renderables=[f"[bold]{axis}[/] · {escape(r['selection'])} · {r['count']:,} cities"
                      + (f" · {r['year']}" if r["year"] else "") + escape(withheld),
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
    rows = [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in df.to_dict("records")]
    emit(fmt, data=rows, rows=rows, columns=list(df.columns), renderables=[
        table("Sobol indices of the mean absolute rank shift (overall ranking)", rows, list(df.columns)),
        "[dim]S1: the share of the ranking's variance due to the choice alone; ST: with its interactions.[/]"])


@index_app.command("export")
def export(out_dir: str = typer.Option(..., "--out", help="Directory to write into (created if needed)."),
           fmt: str = typer.Option("csv", "--format", "-f", help="csv, json or parquet.")):
    """Write the latest build: index_scores (scores, ranks and intervals per city, or why
    it is not scored), index_values (each indicator, raw and normalised) and
    index_run.json (the framework and every choice: the figures' provenance).

    Example: `citydip index export --out results/`
    """
    _open, _fail, out, _ = _ctx()
    try:
        written = _open().index_export(out_dir, fmt=fmt)
    except CitydipError as exc:
        _fail(exc)
    for name, n in written.items():
        out.print(f"wrote {name} ({n:,} rows)" if name.endswith(fmt) else f"wrote {name}")


@index_app.command("framework")
def framework():
    """Print the shipped indicator framework (YAML) to copy and edit.

    Example: `citydip index framework > my-framework.yaml`
    """
    from .indices.framework import default_text

    sys.stdout.write(default_text())
