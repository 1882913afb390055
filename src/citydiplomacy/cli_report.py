"""``citydip report``: the alignment report of a set of documents and the diplomacy
profile report of a city, as HTML or PDF (thin over :mod:`citydiplomacy.reports`)."""

from __future__ import annotations

from contextlib import nullcontext
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from .errors import CitydipError

report_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Reports to read, print and hand on, as HTML or PDF (A4, page numbers, contents): the alignment "
         "report of a city's documents, and a city's diplomacy profile (see docs/reports.md).\n\n"
         "Example: `citydip report profile Barcelona --out barcelona.pdf --lang fr`")


class Lang(str, Enum):
    en = "en"
    fr = "fr"
    es = "es"
    de = "de"


class Mode(str, Enum):
    auto = "auto"
    hybrid = "hybrid"
    light = "light"


def _ctx():
    from .cli import _fail, _open, err, out

    return _open, _fail, out, err


def _check_out(out_path: Path) -> None:
    from .errors import ValidationError

    if out_path.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise ValidationError(f"cannot write a report as '{out_path.suffix or out_path.name}'; name the file "
                              ".html or .pdf", field="out", file=str(out_path))


@report_app.command("align")
def align(files: list[Path] = typer.Argument(..., help="The documents: PDF, DOCX, HTML, Markdown or text."),
          out_path: Path = typer.Option(..., "--out", "-o", help="The report's file: .html or .pdf."),
          city: Optional[str] = typer.Option(None, "--city", help="The city whose documents they are: adds the "
                                             "comparison with its initiatives, engagements and peers."),
          lang: Lang = typer.Option(Lang.en, "--lang", help="The report's language."),
          mode: Mode = typer.Option(Mode.auto, "--mode", help="hybrid (terms + MiniLM), light (terms only), "
                                    "auto (hybrid when installed)."),
          doc_lang: str = typer.Option("auto", "--doc-lang", help="The documents' language (auto, en, fr, es, de).")):
    """The alignment report of FILES: coverage of the SDG goals, targets and Paris articles
    as heatmaps, the strongest passages per goal with their pages, the gaps, the comparison
    with the city's register and its peers, and the method with its measured accuracy.

    Example: `citydip report align vlr-2025.pdf plan-clima.pdf --city Barcelona --out vlr-report.pdf`
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from . import limits
    from .cli import _cli_limits
    from .reports import align_report, write_report

    _open, _fail, out, err = _ctx()
    try:
        _check_out(out_path)
        obs = _open()
        bar = (Progress(SpinnerColumn(), TextColumn("aligning: {task.completed} paragraphs"), TimeElapsedColumn(),
                        console=err, transient=True) if err.is_terminal else None)
        with limits.applied(_cli_limits()), (bar or nullcontext()):
            task = bar.add_task("align", total=None) if bar else None
            rep = align_report(obs, [str(f) for f in files], city=city, lang=lang.value, mode=mode.value,
                               doc_lang=doc_lang, progress=(lambda n: bar.advance(task, n)) if bar else None)
        status = err.status("writing the report") if err.is_terminal else nullcontext()
        with status:
            path = write_report(rep, out_path)
    except CitydipError as exc:
        _fail(exc)
        return
    out.print(f"wrote {escape(str(path))}: {len(rep.sections)} sections, {len(rep.charts())} figures")


@report_app.command("profile")
def profile(city: str = typer.Argument(..., help="A city (name, id, QID or GeoNames id)."),
            out_path: Path = typer.Option(..., "--out", "-o", help="The report's file: .pdf or .html."),
            lang: Lang = typer.Option(Lang.en, "--lang", help="The report's language."),
            partners: Optional[bool] = typer.Option(None, "--partners/--no-partners",
                                                    help="Recommend partners (default: when the models are "
                                                    "already fitted; --partners fits them, about a minute)."),
            build: Optional[str] = typer.Option(None, "--build", help="The index build whose scores it shows "
                                                "(default: the published one).")):
    """The diplomacy profile report of CITY: ties by layer, networks by axis with their
    coverage, twinning map, ego network, reach to the macro layer, axis scores with rank
    intervals, activity over time, SDG coverage and gaps, recommended partners — each
    figure with its source.

    Example: `citydip report profile Barcelona --out barcelona.pdf --lang es`
    """
    from .reports import profile_report, write_report

    _open, _fail, out, err = _ctx()
    try:
        _check_out(out_path)
        obs = _open()
        status = err.status("making the report") if err.is_terminal else nullcontext()
        with status:
            rep = profile_report(obs, city, lang=lang.value, partners=partners, build=build)
            path = write_report(rep, out_path)
    except CitydipError as exc:
        _fail(exc)
        return
    out.print(f"wrote {escape(str(path))}: {len(rep.sections)} sections, {len(rep.charts())} figures")
