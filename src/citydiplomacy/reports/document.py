"""What a report is made of, before it is written out: sections of paragraphs, figures
(:class:`~citydiplomacy.reports.figures.Chart`) and tables, each figure and table with
its source. One structure for both reports, written to HTML or PDF by
:mod:`citydiplomacy.reports.render`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..i18n import LANGUAGES, words
from .figures import Chart

__all__ = ["Report", "Section", "Table", "LANGUAGES", "words"]


@dataclass
class Table:
    """Rows of cells under ``columns``, with a ``caption`` and the ``source`` of its data."""

    columns: list[str]
    rows: list[list[Any]]
    caption: str = ""
    source: str = ""
    numeric: set[int] = field(default_factory=set)


@dataclass
class Section:
    """One chapter of a report: an ``id`` (its anchor), a ``title`` and what it holds, in
    order: paragraphs, then figures, then tables."""

    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """A whole report: its ``kind`` (``profile`` or ``align``), title, subtitle, language,
    sections, the sources it draws on and when it was made."""

    kind: str
    title: str
    subtitle: str
    lang: str
    sections: list[Section] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    made: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    facts: list[tuple[str, str]] = field(default_factory=list)

    def charts(self) -> dict[str, Chart]:
        """Every figure of the report by its name."""
        return {c.name: c for s in self.sections for c in s.charts}

    def text(self) -> str:
        """The report's words (titles, paragraphs, captions, table cells) as plain text:
        what a search or a test reads."""
        parts = [self.title, self.subtitle]
        for s in self.sections:
            parts += [s.title, *s.paragraphs, *s.notes]
            for c in s.charts:
                parts += [c.title, c.alt, c.source]
            for t in s.tables:
                parts += [t.caption, " ".join(t.columns), *(" ".join(str(x) for x in r) for r in t.rows)]
        return "\n".join(p for p in parts if p)
