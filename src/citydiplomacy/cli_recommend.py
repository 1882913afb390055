"""``citydip recommend``: partner cities for a city, networks for a city, members for a
network, each with its reasons (thin over :mod:`citydiplomacy.recommend`)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, Optional

import typer
from rich.markup import escape

from .errors import CitydipError
from .render import FORMAT_HELP, Format, emit, plural, table

recommend_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Recommendations with their reasons: partner cities for a city, networks for a city, "
         "members for a network (see docs/recommend.md for the method and how good it is).\n\n"
         "Example: `citydip recommend partners Munich --theme 11.6 --top 10`")

THEME_HELP = ("A theme: an SDG goal or target (11, 11.6), a Paris article (paris:7), an axis "
              "(sustainability, digital, engagement) or a few words ('urban heat').")
COLUMNS = ["rank", "id", "name", "country", "score", "why"]


def _ctx():
    from .cli import _fail, _open, err, out

    return _open, _fail, out, err


def _run(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    _open, _fail, _, err = _ctx()
    status = (err.status("recommending (after a change to the store the models are fitted first: about a minute)")
              if err.is_terminal else nullcontext())
    try:
        with status:
            return fn()
    except CitydipError as exc:
        _fail(exc)
        raise   # unreachable: _fail exits


def _emit(r: dict[str, Any], fmt: Format, title: str) -> None:
    rows = [{k: x.get(k) for k in COLUMNS} for x in r["results"]]
    head = f"[bold]{escape(title)}[/] · {plural(r['candidates'], 'candidate')} · {escape(r['method'])}"
    if r.get("theme"):
        head += f"\ntheme: {escape(r['theme']['label'])}"
    renderables: list[Any] = [head]
    if r.get("message"):
        renderables.append(f"[yellow]{escape(r['message'])}[/]")
    renderables.append(table(None, rows, ["rank", "name", "country", "score", "why"]))
    emit(fmt, data=r, rows=rows, columns=COLUMNS, renderables=renderables)


def _split(values: Optional[list[str]]) -> list[str] | None:
    out = [v.strip() for x in values or [] for v in x.split(",") if v.strip()]
    return out or None


@recommend_app.command("partners")
def partners(city: str = typer.Argument(..., help="A city: id, name or Wikidata QID."),
             theme: Optional[str] = typer.Option(None, "--theme", help=THEME_HELP),
             country: Optional[list[str]] = typer.Option(None, "--country", help="Only partners in these countries "
                                                         "(names or ISO codes; repeat or comma-separate)."),
             bloc: Optional[list[str]] = typer.Option(None, "--bloc", help="Only partners in a bloc's member states "
                                                      "(e.g. eu, asean; repeatable)."),
             layer: Optional[list[str]] = typer.Option(None, "--layer", help="Only partners on these layers."),
             kind: Optional[list[str]] = typer.Option(None, "--kind", help="city or region."),
             band: Optional[list[str]] = typer.Option(None, "--band", help="Population band: small (< 50,000), "
                                                      "medium (< 250,000), large (< 1 million), metropolis."),
             max_km: Optional[float] = typer.Option(None, "--max-km", help="Only partners within this distance."),
             include_existing: bool = typer.Option(False, "--include-existing",
                                                   help="Also list the city's current partners."),
             top: int = typer.Option(20, "--top", min=1, max=200, help="How many."),
             fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Candidate partner cities for CITY, best first, each with the reasons in words and
    figures (shared networks, common partners, distance, country history, theme). A city
    without ties gets recommendations from its profile, and a message saying so.

    Examples: `citydip recommend partners Munich --theme 11.6`;
    `citydip recommend partners Lyon --bloc eu --band large --top 10 --format csv`
    """
    _open = _ctx()[0]
    r = _run(lambda: _open().recommend_partners(
        city, theme=theme, countries=_split(country), blocs=_split(bloc), layers=_split(layer), kinds=_split(kind),
        band=_split(band), max_km=max_km, exclude_existing=not include_existing, top=top))
    _emit(r, fmt, f"Partners for {r['actor']['name']}")


@recommend_app.command("networks")
def networks(city: str = typer.Argument(..., help="A city: id, name or Wikidata QID."),
             theme: Optional[str] = typer.Option(None, "--theme", help=THEME_HELP),
             top: int = typer.Option(10, "--top", min=1, max=200, help="How many."),
             fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """City networks CITY could join, best first, with the reasons (its partners that are
    members, members in its country and nearby, networks whose members also join).

    Example: `citydip recommend networks Bologna --theme digital`
    """
    _open = _ctx()[0]
    r = _run(lambda: _open().recommend_networks(city, theme=theme, top=top))
    _emit(r, fmt, f"Networks for {r['actor']['name']}")


@recommend_app.command("members")
def members(network: str = typer.Argument(..., help="A city network: id or name (e.g. c40, iclei)."),
            theme: Optional[str] = typer.Option(None, "--theme", help=THEME_HELP),
            country: Optional[list[str]] = typer.Option(None, "--country", help="Only cities in these countries."),
            bloc: Optional[list[str]] = typer.Option(None, "--bloc", help="Only cities in a bloc's member states."),
            kind: Optional[list[str]] = typer.Option(None, "--kind", help="city or region."),
            band: Optional[list[str]] = typer.Option(None, "--band", help="Population band (small, medium, large, "
                                                     "metropolis)."),
            top: int = typer.Option(20, "--top", min=1, max=200, help="How many."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Cities a city network could recruit, best first, with the reasons.

    Example: `citydip recommend members c40 --band metropolis --top 10`
    """
    _open = _ctx()[0]
    r = _run(lambda: _open().recommend_members(network, theme=theme, countries=_split(country), blocs=_split(bloc),
                                               kinds=_split(kind), band=_split(band), top=top))
    _emit(r, fmt, f"Members for {r['actor']['name']}")
