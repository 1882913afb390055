"""Importer for twinning lists in the shape of Wikipedia's lists of twin towns:
``city1,country1,city2,country2`` (one pair per row, names as people write them)."""

from __future__ import annotations

from pathlib import Path

from .. import progress
from ..limits import check_deadline
from ..resolve.listcontext import settle_rows
from ..model import Provenance, Tie
from ..resolve import Resolution
from . import register
from .base import Plan, Problem, ReviewRow
from .readers import read_table
from .resolving import StoreResolver


class _EmptyAware(dict):
    """Resolutions by (name, country); an empty name has none (reported per row)."""

    def __missing__(self, key):
        return Resolution({"name": key[0], "country": key[1]}, "unresolved", rule="empty_name",
                          evidence={"reason": "no name"})

COLUMNS = ["city1", "country1", "city2", "country2"]


def provenance_for(path: Path, source_name: str | None, licence: str | None, as_of: str | None,
                   url: str | None = None) -> Provenance:
    return Provenance.parse({"source": source_name or path.name, "url": url or str(path),
                             "licence": licence or "not stated", "as_of": as_of,
                             "note": None if licence else "licence not stated at import"})


@register("twinning", "twinning lists: columns city1,country1,city2,country2")
def import_twinning(store, source, *, encoding: str = "utf-8", source_name: str | None = None,
                    licence: str | None = None, as_of: str | None = None, url: str | None = None,
                    supersede: bool = True, max_bytes: int | None = None) -> Plan:
    """Each row becomes a ``twinned_with`` tie when both names resolve; the others are
    reported (ambiguous ones with candidates) and can be finished through review.
    With ``supersede`` (default), ties of an earlier version of the same source that
    this version no longer lists are ended, not deleted."""
    kw = {"max_bytes": max_bytes} if max_bytes else {}
    progress.report("reading the file")
    table = read_table(source, encoding=encoding, **kw)
    table.require(COLUMNS)
    path = Path(source)
    plan = Plan(importer="twinning", source=str(path),
                provenance=provenance_for(path, source_name, licence, as_of, url),
                supersedes=("twinned_with",) if supersede else (),
                options={"source_name": source_name, "licence": licence, "as_of": as_of})
    plan.rows_read = len(table.rows) + len(table.problems)
    for p in table.problems:
        plan.problems.append(Problem(file=str(path), **p))
    cells = [row[c] for _, row in table.rows for c in ("country1", "country2")]
    progress.report("loading the places of the countries named", 0, len(table.rows))
    resolver = StoreResolver(store, cells)
    keyrows = [((row["city1"], row["country1"]), (row["city2"], row["country2"])) for _, row in table.rows]
    names = {key for pair in keyrows for key in pair if key[0]}
    progress.report(f"resolving {len(names):,} distinct names", 0, len(table.rows))
    base = resolver.resolve_many(names)
    progress.report("settling each row's names", 0, len(table.rows))
    per_row, _ = settle_rows(resolver.resolver, keyrows, _EmptyAware(base))
    towns: set[str] = set()
    for n, ((rowno, row), row_results) in enumerate(zip(table.rows, per_row)):
        if n % 5000 == 0:
            progress.report("building the ties", n, len(table.rows))
        check_deadline(file=str(path))
        ends, cands, reasons = {}, {}, {}
        for side, res in zip(("1", "2"), row_results):
            field = f"city{side}"
            if not row[field]:
                plan.problems.append(Problem(row=rowno, field=field, file=str(path), reason="empty name"))
                ends[field] = None
                continue
            if res.resolved:
                plan.count_resolution(res)
                ends[field] = res.id
            else:
                plan.problem_from(res, row=rowno, field_name=field, file=str(path))
                ends[field] = None
                cands[field] = [c.id for c in res.candidates[:5]]
                reasons[field] = f"{res.status}: {res.evidence.get('reason') or res.rule}"
        if all(ends.values()):
            if ends["city1"] == ends["city2"]:
                plan.problems.append(Problem(row=rowno, field="city2", file=str(path),
                                             reason="both names resolve to the same place"))
                continue
            plan.ties.append((Tie(source=ends["city1"], target=ends["city2"], type="twinned_with",
                                  axes=["engagement"]), "actor"))
            towns.update(e for e in ends.values() if resolver.is_provisional(e))
        elif any(f in cands for f in ends) or any(ends.values()):
            plan.review.append(ReviewRow(row=rowno, fields=row, ends=ends, candidates=cands,
                                         reasons=reasons))
    plan.towns = sorted(towns)
    resolver.finish_plan(plan)
    plan.options["tie"] = {"type": "twinned_with", "source_field": "city1", "target_field": "city2",
                           "axes": ["engagement"]}
    plan.options["country_fields"] = {"city1": "country1", "city2": "country2"}
    return plan
