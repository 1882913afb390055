"""Reports people read, print and hand on: the alignment report of a set of documents
(:func:`align_report`) and the diplomacy profile report of a city
(:func:`profile_report`), as HTML or PDF (:func:`write_report`), their figures as SVG and
PNG (:mod:`.figures`); the charts of the web pages as SVG and PNG files (:mod:`.charts`).
See docs/reports.md.

    >>> import citydiplomacy
    >>> from citydiplomacy.reports import profile_report, write_report
    >>> obs = citydiplomacy.open()                                        # doctest: +SKIP
    >>> write_report(profile_report(obs, "Barcelona", lang="fr"), "barcelona.pdf")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["align_report", "profile_report", "write_report", "to_html", "to_pdf", "Report", "Chart"]

_HOME = {"align_report": "alignment", "profile_report": "profile", "write_report": "render", "to_html": "render",
         "to_pdf": "render", "Report": "document", "Chart": "figures"}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
