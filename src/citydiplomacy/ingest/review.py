"""The review round-trip: unsure rows go to a CSV a person can correct, and come back
with ``citydip import review FILE``.

Each line of the review file is one unsure name in one input row:
``importer, file, row, field, name, country, status, reason, candidates, choice, context``.
A person writes an actor id into ``choice`` (one of the candidates, any other id, or
``skip``); ``context`` (JSON) carries what is needed to finish the row: the tie it
belongs to, the ends already resolved, the provenance of the original import, and the
import itself (``original``: its importer, file, the file's SHA-256, its options, and
whether it was a dry run).

What the review writes depends on that import:

- it was **applied**: its clean rows are in the store; the review writes the rows
  finished in the file, nothing else;
- it was a **dry run**: nothing of it is in the store, so the review runs it again on the
  same file (the file must still be there, unchanged) and writes its rows that resolved
  cleanly together with the finished ones, in one transaction — what people expect after
  ``import ... --dry-run --review FILE`` and ``import review FILE``.

The report's ``notes`` say which of the two happened. A review file that cannot be
followed — a missing column, a ``context`` that is not the one written, a ``choice`` that
names no actor, an original file gone or changed — stops the run with an error naming
the file, row and field; nothing is written.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..limits import check_deadline
from ..model import Provenance, Tie
from . import register
from .base import Plan, Problem
from .readers import read_table
from .resolving import actor_exists, is_provisional

COLUMNS = ["importer", "file", "row", "field", "name", "country", "status", "reason",
           "candidates", "choice", "context"]


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a file (hex): how a review knows its original file is unchanged."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def original_of(importer: str, source: Any, options: dict[str, Any], *,
                dry_run: bool) -> dict[str, Any] | None:
    """What a review file keeps of the import that wrote it (``context["original"]``);
    None when its source is no file."""
    path = Path(source).resolve()
    if not path.is_file():
        return None
    return {"importer": importer, "file": str(path), "sha256": file_digest(path), "dry_run": dry_run,
            "options": json.loads(json.dumps(options, default=str))}


def write_review(path: str | Path, plan: Plan, original: dict[str, Any] | None = None) -> Path:
    """Write the plan's unsure rows to ``path`` (CSV, UTF-8); ``original``: the import
    that made the plan (:func:`original_of`)."""
    path = Path(path)
    tie = plan.options.get("tie", {})
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in plan.review:
            context = {"tie": tie, "ends": r.ends, "fields": r.fields,
                       "provenance": plan.provenance.model_dump(),
                       **({"original": original} if original else {})}
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


def _lines(store, table, path: Path) -> list[tuple[int, dict[str, str], dict[str, Any]]]:
    """The review file's lines with their context, every one checked: (line's row number,
    its cells, its context)."""
    out = []
    for rowno, line in table.rows:
        check_deadline(file=str(path))
        try:
            ctx = json.loads(line["context"])
            if not isinstance(ctx, dict) or not isinstance(ctx.get("ends"), dict) or "provenance" not in ctx:
                raise ValueError
        except ValueError:
            raise ValidationError("the context column is not the one the import wrote; do not edit it "
                                  "(write the review file again with --review)", file=str(path), row=rowno,
                                  field="context") from None
        choice = line["choice"].strip()
        candidates = [c.strip() for c in (line.get("candidates") or "").split("|") if c.strip()]
        known = actor_exists(store, choice) or (is_provisional(choice) and choice in candidates)
        if choice and choice.lower() != "skip" and not known:
            from ..actors import closest_names

            near = closest_names(store, choice)
            raise ValidationError(f"'{choice}' is no actor id in the store; write one of the candidates, an id "
                                  f"from `citydip search`, or skip" + (f" (closest: {'; '.join(near)})" if near else ""),
                                  file=str(path), row=rowno, field="choice")
        out.append((rowno, line, ctx))
    return out


@register("review", "a corrected review file written by --review")
def import_review(store, source, *, encoding: str = "utf-8", max_bytes: int | None = None,
                  within: str | None = None) -> Plan:
    """Finish the rows of a review file whose ``choice`` a person filled in; when the
    review came from a dry run, with the import's rows that resolved cleanly (see the
    module's docstring). ``within``: a folder the original file must lie in (the web's
    uploads), else the review is refused."""
    table = read_table(source, encoding=encoding, **({"max_bytes": max_bytes} if max_bytes else {}))
    table.require(COLUMNS)
    path = Path(source)
    lines = _lines(store, table, path)
    originals = {json.dumps(ctx.get("original"), sort_keys=True) for _, _, ctx in lines}
    if len(originals) > 1:
        raise ValidationError("the lines come from different imports; review one import's file at a time",
                              file=str(path), row=lines[-1][0], field="context")
    original = lines[0][2].get("original") if lines else None
    if original and original.get("dry_run"):
        return _with_clean_rows(store, path, lines, original, within)
    plan: Plan | None = None
    groups: dict[tuple[str, str], list[tuple[int, dict, dict]]] = defaultdict(list)
    for rowno, line, ctx in lines:
        groups[(line["file"], line["row"])].append((rowno, line, ctx))
    for group in groups.values():
        ctx = group[0][2]
        if plan is None:
            plan = Plan(importer="review", source=str(path),
                        provenance=Provenance.parse({**ctx["provenance"], "note": "finished through review"}))
            plan.rows_read = 0
        plan.rows_read += len(group)
        ends = dict(ctx["ends"])
        skipped = False
        for rowno, line, _ in group:
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
    plan = plan or _empty_plan(path)
    if original:
        plan.notes.append(f"the import of {Path(original['file']).name} was applied: its rows that resolved "
                          "cleanly are in the store already; this writes the rows finished here")
    else:
        plan.notes.append("this writes the rows finished here only (the review file does not say whether its "
                          "import was applied; an import's clean rows are written by the import itself)")
    return plan


def _with_clean_rows(store, path: Path, lines, original: dict[str, Any], within: str | None) -> Plan:
    """The dry-run import run again on its file, its unsure rows finished by the choices."""
    from . import get_importer

    first = lines[0][0]
    file = Path(original["file"])
    name = file.name
    if within is not None and not file.is_absolute():
        # the API hands review files out without the server's folders: the upload is the
        # file of that name, and that content, in one of the uploads' folders
        root = Path(within)
        found = [f for f in root.glob(f"*/{glob.escape(name)}")
                 if f.is_file() and file_digest(f) == original.get("sha256")]
        file = found[0] if found else root / name
    if within is not None and not file.resolve().is_relative_to(Path(within).resolve()):
        raise ValidationError(f"the review names a file ({name}) that is not one of your uploads; review the "
                              "file the dry run wrote", file=str(path), row=first, field="file")
    shown = name if within is not None else str(file)      # the server's folders are nobody's business
    if not file.is_file():
        raise ValidationError(f"{shown} is not there any more: the review of a dry run writes that file's clean "
                              "rows too, so it reads it again. Put it back, or run the import again with "
                              "--review", file=str(path), row=first, field="file")
    if file_digest(file) != original.get("sha256"):
        raise ValidationError(f"{shown} has changed since its dry run wrote this review; run the dry run "
                              "again with --review and review the new file", file=str(path), row=first,
                              field="file")
    plan = get_importer(original["importer"])(store, str(file), **original.get("options", {}))
    clean = plan.rows_read - len({(p.file, p.row) for p in plan.problems if p.row is not None})
    chosen: dict[tuple[str, str], str] = {}
    for _, line, _ in lines:
        chosen[(str(line["row"]), line["field"])] = line["choice"].strip()
    reviewed_prov = Provenance.parse({**plan.provenance.model_dump(), "note": "finished through review"})
    tie = plan.options.get("tie") or {}
    done: set[tuple[str, str]] = set()
    finished = 0
    for r in plan.review:
        ends = dict(r.ends)
        complete = True
        for field, resolved in r.ends.items():
            if resolved:
                continue
            choice = chosen.get((str(r.row), field), "")
            if choice and choice.lower() != "skip":
                ends[field] = choice
                plan.matched["review"] += 1
                done.add((str(r.row), field))
            else:
                complete = False
                if choice:
                    done.add((str(r.row), field))       # skipped: a person's decision, not a problem
        if not (complete and tie):
            continue
        src = ends.get(tie["source_field"])
        tgt = tie.get("target") or ends.get(tie.get("target_field") or "")
        if src and tgt:
            plan.towns = sorted(set(plan.towns) | {e for e in (src, tgt) if is_provisional(e)})
            plan.ties.append((Tie.parse({"source": src, "target": tgt, "type": tie["type"],
                                         "axes": tie.get("axes", [])}), tie.get("target_type", "actor"),
                              reviewed_prov))
            finished += 1
    plan.problems = [p for p in plan.problems if (str(p.row), p.field) not in done]
    plan.review = []
    plan.importer, plan.source = "review", str(path)
    if within is not None:
        for p in plan.problems:
            if p.file == str(file):
                p.file = name
    left = len({(p.file, p.row) for p in plan.problems if p.row is not None})
    plan.notes.append(f"the import of {name} was a dry run: this writes its {clean:,} row"
                      f"{'' if clean == 1 else 's'} that resolved cleanly with the {finished:,} finished here"
                      + (f"; {left:,} row{'' if left == 1 else 's'} left out (see the problems)" if left else ""))
    return plan


def _empty_plan(path: Path) -> Plan:
    return Plan(importer="review", source=str(path),
                provenance=Provenance(source=path.name, licence="not stated"))
