"""Writing a :class:`~citydiplomacy.reports.document.Report` out: one Jinja2 template and
one stylesheet for the screen and for print; HTML with the figures as inline SVG (text a
screen reader and a search find), PDF through WeasyPrint (A4, page numbers, a table of
contents with page numbers) with the figures as PNG.

WeasyPrint needs Pango (``libpango-1.0-0``, ``libpangoft2-1.0-0``, ``libharfbuzz0b`` on
Debian); it is in the ``reports`` extra. Without it, a PDF is refused with a message
saying what to install, and HTML still works."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

from ..errors import ValidationError
from .document import Report

__all__ = ["to_html", "to_pdf", "write_report", "stylesheet", "FORMATS", "pdf_available"]

FORMATS = ("html", "pdf")
#: the resolution of the figures in a PDF (dots per inch): sharp in print, a few MB at most
PDF_DPI = 150


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["format_words"] = lambda text, **kw: text % kw
    return env


@lru_cache(maxsize=2)
def _template_text(name: str) -> str:
    return resources.files("citydiplomacy").joinpath("reports", "templates", name).read_text(encoding="utf-8")


def to_html(report: Report, *, pdf: bool = False, chart_url: Callable[[str, str], str] | None = None,
            css_href: str | None = None) -> str:
    """The report as one HTML page (styles and figures inside it: no other file is
    needed). ``pdf``: the variant WeasyPrint lays out (figures as PNG); ``chart_url``:
    (name, format) -> the address of a figure's SVG or PNG, to offer them for download;
    ``css_href``: link the stylesheet there, and show the figures as SVG images (a page
    served under a Content-Security-Policy that allows no inline style)."""
    from .document import words

    _lang, _ = words(report.lang)
    numbers = {c.name: i for i, c in enumerate(report.charts().values(), 1)}

    def png(chart) -> str:
        return "data:image/png;base64," + base64.b64encode(chart.render("png", dpi=PDF_DPI)).decode("ascii")

    def svg_src(chart) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(chart.render("svg")).decode("ascii")

    tpl = _env().from_string(_template_text("report.html"))
    return tpl.render(report=report, css=None if css_href else _template_text("report.css"), css_href=css_href,
                      pdf=pdf, png=png, svg_src=svg_src,
                      figno=lambda c: numbers[c.name], chart_url=chart_url, _=_)


def stylesheet() -> str:
    """The reports' stylesheet (screen and print)."""
    return _template_text("report.css")


def pdf_available() -> str | None:
    """None when WeasyPrint can write PDF here, else what to install."""
    import importlib

    try:
        importlib.import_module("weasyprint")
    except ImportError:
        return "writing PDF needs WeasyPrint: pip install 'citydiplomacy[reports]'"
    except OSError as exc:      # its system libraries (Pango) are missing
        return (f"writing PDF needs the Pango libraries ({exc}); on Debian: apt-get install libpango-1.0-0 "
                "libpangoft2-1.0-0 libharfbuzz0b")
    return None


def to_pdf(report: Report) -> bytes:
    """The report as a PDF (A4)."""
    missing = pdf_available()
    if missing:
        raise ValidationError(missing, field="format")
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    html = to_html(report, pdf=True)
    return HTML(string=html, base_url=None).write_pdf(
        pdf_identifier=None, uncompressed_pdf=False, custom_metadata=True) or b""


def write_report(report: Report, out: str | os.PathLike, *, fmt: str | None = None) -> Path:
    """Write ``report`` to ``out``, as HTML or PDF by ``fmt`` or by the file's suffix;
    the file appears whole or not at all (written beside it, then renamed)."""
    path = Path(out)
    fmt = (fmt or path.suffix.lower().lstrip(".") or "").replace("htm", "html").replace("htmll", "html")
    if fmt not in FORMATS:
        raise ValidationError(f"cannot write a report as '{path.suffix or fmt}'; name the file .html or .pdf",
                              field="out", file=str(path))
    if not path.parent.exists():
        raise ValidationError("the folder does not exist; create it or choose another", field="out",
                              file=str(path.parent))
    data = to_pdf(report) if fmt == "pdf" else to_html(report).encode("utf-8")
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
