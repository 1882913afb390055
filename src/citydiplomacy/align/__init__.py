"""Alignment of local texts with global frameworks: SDG goals and targets, the Paris
Agreement's articles and the three axes of city diplomacy (see docs/align.md and the
method page docs/align-method.md).

    >>> from citydiplomacy.align import align
    >>> a = align("The city will retrofit 4,000 social housing units to cut heating emissions.")
    >>> a.sdgs, a.paris                                        # doctest: +SKIP
    ([7, 11, 13], [4])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Aligner", "Alignment", "Passage", "align", "aligner", "load_inputs", "read_batch",
           "read_document", "FRAMEWORKS", "LEVELS", "MODES", "RECORD_FIELDS"]

#: where each name lives: imported when first asked for, so that reading a constant of
#: ``align.catalog`` (a profile does) does not load the engine
_HOME = {**dict.fromkeys(("Passage", "load_inputs", "read_batch", "read_document"), "documents"),
         **dict.fromkeys(("FRAMEWORKS", "LEVELS", "MODES", "RECORD_FIELDS", "Aligner", "Alignment", "align",
                          "aligner"), "engine")}

if TYPE_CHECKING:
    from .documents import Passage, load_inputs, read_batch, read_document  # noqa: F401
    from .engine import (FRAMEWORKS, LEVELS, MODES, RECORD_FIELDS, Aligner, Alignment,  # noqa: F401
                         align, aligner)


def __getattr__(name: str) -> Any:
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
