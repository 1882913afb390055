"""The table behind ``citydip network metrics``: centrality per scope plus the multiplex
participation coefficient, ranked."""

from __future__ import annotations

from typing import Any

from ..errors import CitydipError, ValidationError
from . import centrality, multiplex
from .graph import DiplomacyGraph

__all__ = ["metrics"]

SORTABLE = ("degree", "pagerank", "betweenness", "eigenvector", "closeness", "participation")


def metrics(dg: DiplomacyGraph, *, sort: str = "pagerank", sample: int | None = None
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(every row of :func:`centrality.compute` — overall and per layer — with the
    actor's ``participation`` coefficient across tie types, and the overall rows sorted by
    ``sort``, highest first). Participation is None when the graph has one tie type."""
    if sort not in SORTABLE:
        raise ValidationError(f"cannot sort by '{sort}'; use {', '.join(SORTABLE)}", field="sort")
    rows = centrality.compute(dg, per_layer=True, sample=sample)
    try:
        part = {r["id"]: r["participation"] for r in multiplex.participation_coefficient(dg)}
    except CitydipError:      # fewer than two tie types: no multiplex to speak of
        part = {}
    for r in rows:
        r["participation"] = part.get(r["id"])
    overall = sorted((r for r in rows if r.get("scope") == "all"), key=lambda r: -(r.get(sort) or 0))
    return rows, overall
