"""The review round-trip: unsure rows go to a CSV a person can correct, and come back
with ``citydip import review FILE``.

Each line of the review file is one unsure name in one input row:
``importer, file, row, field, name, country, status, reason, candidates, choice, context``.
A person writes an actor id into ``choice`` (one of the candidates, any other id, or
``skip``); ``context`` (JSON) carries what is needed to finish the row: the tie it
belongs to, the ends already resolved, and the provenance of the original import.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from ..limits import check_deadline
from ..model import Provenance, Tie
from . import register
from .base import Plan, Problem
from .readers import read_table
from .resolving import is_provisional

COLUMNS = ["importer", "file", "row", "field", "name", "country", "status", "reason",
           "candidates", "choice", "context"]


def write_review(path: str | Path, plan: Plan) -> Path:
    """Write the plan's unsure rows to ``path`` (CSV, UTF-8)."""
    path = Path(path)
    tie = plan.options.get("tie", {})
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in plan.review:
            context = {"tie": tie, "ends": r.ends, "fields": r.fields,
                       "provenance": plan.provenance.model_dump()}
            for field, resolved in r.ends.items():
                if resolved:
                    continue
                country_field = plan.options.get("country_fields", {}).get(field, "")
                w.writerow({
                    "importer": plan.importer, "file": plan.source, "row": r.row, "field": field,
                    "name": r.fields.get(field, ""), "country": r.fields.get(country_field, ""),
                    "status": r.reasons.get(field, "unresolved").split(":")[0],
                    "reason": r.reasons.get(field, ""),
                    "candidates": " | ".join(r.candidates.get(field, [])), "choice": "",
                    "context": json.dumps(context, ensure_ascii=False)})
    return path


@register("review", "a corrected review file written by --review")
def import_review(store, source, *, encoding: str = "utf-8", max_bytes: int | None = None) -> Plan:
    """Finish the rows of a review file whose ``choice`` a person filled in."""
    table = read_table(source, encoding=encoding)
    table.require(COLUMNS)
    path = Path(source)
    groups: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
    for rowno, line in table.rows:
        groups[(line["file"], line["row"])].append((rowno, line))
    plan: Plan | None = None
    for (_, _), lines in groups.items():
        check_deadline(file=str(path))
        try:
            ctx = json.loads(lines[0][1]["context"])
        except json.JSONDecodeError:
            raise_problem = Problem(row=lines[0][0], field="context", file=str(path),
                                    reason="the context column is not valid JSON; do not edit it")
            if plan is None:
                plan = _empty_plan(path)
            plan.problems.append(raise_problem)
            continue
        if plan is None:
            plan = Plan(importer="review", source=str(path),
                        provenance=Provenance.parse({**ctx["provenance"],
                                                     "note": "finished through review"}))
            plan.rows_read = 0
        plan.rows_read += len(lines)
        ends = dict(ctx["ends"])
        skipped = False
        for rowno, line in lines:
            choice = line["choice"].strip()
            if not choice:
                plan.problems.append(Problem(row=rowno, field="choice", file=str(path), kind="unresolved",
                                             value=line["name"], reason="no choice made yet"))
                skipped = True
                continue
            if choice.lower() == "skip":
                skipped = True
                continue
            ends[line["field"]] = choice
            plan.matched["review"] += 1
        tie = ctx.get("tie") or {}
        if skipped or not tie:
            continue
        src = ends.get(tie["source_field"])
        tgt = tie.get("target") or ends.get(tie.get("target_field") or "")
        if not (src and tgt):
            continue
        plan.towns.extend(e for e in (src, tgt) if is_provisional(e))
        plan.ties.append((Tie.parse({"source": src, "target": tgt, "type": tie["type"],
                                     "axes": tie.get("axes", [])}), tie.get("target_type", "actor")))
    return plan or _empty_plan(path)


def _empty_plan(path: Path) -> Plan:
    return Plan(importer="review", source=str(path),
                provenance=Provenance(source=path.name, licence="not stated"))
