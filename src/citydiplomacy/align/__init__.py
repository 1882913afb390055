"""Alignment of local texts with global frameworks: SDG goals and targets, the Paris
Agreement's articles and the three axes of city diplomacy (see docs/align.md and the
method page docs/align-method.md).

    >>> from citydiplomacy.align import align
    >>> a = align("The city will retrofit 4,000 social housing units to cut heating emissions.")
    >>> a.sdgs, a.paris                                        # doctest: +SKIP
    ([7, 11, 13], [4])
"""

from .documents import Passage, load_inputs, read_batch, read_document
from .engine import FRAMEWORKS, LEVELS, MODES, RECORD_FIELDS, Aligner, Alignment, align, aligner

__all__ = ["Aligner", "Alignment", "Passage", "align", "aligner", "load_inputs", "read_batch",
           "read_document", "FRAMEWORKS", "LEVELS", "MODES", "RECORD_FIELDS"]
