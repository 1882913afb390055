"""The table behind ``citydip network metrics``: centrality per scope plus the multiplex
participation coefficient, ranked. Only the measures and scopes asked for are computed,
and (on a graph from :meth:`Observatory.graph`) each is kept per data version."""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import CitydipError, ValidationError
from . import centrality, multiplex
from .graph import DiplomacyGraph

__all__ = ["metrics", "describe_betweenness", "SORTABLE", "COLUMNS"]

SORTABLE = ("degree", "pagerank", "betweenness", "eigenvector", "closeness", "participation")
#: the measures of the table, in column order (participation last)
COLUMNS = SORTABLE[:-1] + ("participation",)


def metrics(dg: DiplomacyGraph, *, sort: str = "pagerank", sample: int | str | None = "auto",
            measures: Iterable[str] | None = None, scopes: Iterable[str] | None = None,
            top: int | None = None) -> tuple[centrality.Rows, list[dict[str, Any]]]:
    """(the rows of :func:`centrality.compute` for ``scopes`` — default the whole graph
    and each layer — with the actor's ``participation`` coefficient across tie types,
    and the rows of scope ``all`` — or of the first scope asked for — sorted by ``sort``,
    highest first).

    ``measures``: the columns wanted (default all of :data:`COLUMNS`); ``sort`` is always
    computed. ``sample``: betweenness pivots; ``"auto"`` (default) is exact on small
    graphs and an estimate from :data:`centrality.DEFAULT_PIVOTS` pivots above
    :data:`centrality.EXACT_WORK_MAX` (see :func:`centrality.resolve_sample`); None is
    exact whatever the size. ``rows.betweenness`` says per scope which was done.
    Participation is None when the graph has one tie type.

    ``top``: only the first ``top`` rows of each scope by ``sort`` will be read. Closeness,
    the dearest measure (a search from every actor), is then computed for those rows
    alone (:func:`centrality.closeness_of`, the same values) unless it is ``sort``; the
    other rows hold None for it, and no row its rank (``closeness_rank`` None)."""
    if sort not in SORTABLE:
        raise ValidationError(f"cannot sort by '{sort}'; use {', '.join(SORTABLE)}", field="sort")
    wanted = list(COLUMNS) if measures is None else list(dict.fromkeys(measures))
    bad = [m for m in wanted if m not in SORTABLE]
    if bad:
        raise ValidationError(f"unknown measure '{bad[0]}'; choose from: {', '.join(SORTABLE)}", field="measure")
    if sort not in wanted:
        wanted.append(sort)
    central = [m for m in COLUMNS if m in wanted and m != "participation"]
    scopes = list(scopes) if scopes is not None else None
    lazy = top is not None and "closeness" in central and sort != "closeness"
    if lazy:
        central.remove("closeness")
    # with top, the rows a reader can see are among those ranked ≤ top on sort (equal
    # values share the best rank): the others are not made
    keep = top if top is not None and sort in central else None
    if central:
        rows = centrality.compute(dg, central, per_layer=True, scopes=scopes, sample=sample, top=keep)
    else:
        rows = centrality.compute(dg, ["degree"], per_layer=True, scopes=scopes)
        for r in rows:
            del r["degree"], r["degree_rank"]
    if "participation" in wanted:
        part = _participation(dg)
        for r in rows:
            r["participation"] = part.get(r["id"])
    if lazy:
        _closeness_of_top(dg, rows, sort, top)
    first = "all" if scopes is None or "all" in scopes else scopes[0]
    overall = sorted((r for r in rows if r.get("scope") == first), key=lambda r: -(r.get(sort) or 0))
    return rows, overall


def _closeness_of_top(dg: DiplomacyGraph, rows: list[dict[str, Any]], sort: str, top: int) -> None:
    """Closeness of the first ``top`` rows of each scope by ``sort`` (None for the others)."""
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        r["closeness"] = r["closeness_rank"] = None
        by_scope.setdefault(r["scope"], []).append(r)
    for scope, scope_rows in by_scope.items():
        shown = sorted(scope_rows, key=lambda r: -(r.get(sort) or 0))[:top]
        values = centrality.closeness_of(dg.scope(scope), [r["id"] for r in shown])
        for r in shown:
            r["closeness"] = values[r["id"]]


def _participation(dg: DiplomacyGraph) -> dict[str, float | None]:
    def run():
        try:
            return multiplex.participation_values(dg)
        except CitydipError:      # fewer than two tie types: no multiplex to speak of
            return ()
    values = run() if dg.results is None else dg.results.get_or_compute(("participation",), run)
    return dict(zip(dg.ids, values.tolist())) if len(values) else {}


def describe_betweenness(methods: dict[str, dict[str, Any]]) -> list[str]:
    """One line per scope saying how its betweenness was computed and its stated error."""
    lines = []
    for scope, m in methods.items():
        if m["method"] == "exact":
            lines.append(f"betweenness ({scope}): exact")
        else:
            lines.append(f"betweenness ({scope}): estimated from {m['pivots']} pivots per large component "
                         f"(seed {m['seed']}); every value within ±{m['bound']:.3g} at "
                         f"{m['confidence']:.0%}, betweenness_stderr per actor; --exact for the exact value")
    return lines
