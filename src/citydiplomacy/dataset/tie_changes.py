"""Curated changes to the ties the build makes: partnerships suspended or ended (those
with Russian and Belarusian cities since 2022, among others), the dates twinnings were
signed, memberships that ended — each with the public source that says so
(``data/curated/tie_changes.yaml``; its format is in ``data/curated/FORMAT.md``).

Runs after the twinning step. Twinning pairs are named as the twinning list names them
(``{name, country}``) and found through the places the twinning step resolved; other
ties by actor ids. An entry that matches no tie is an error naming the entry, so the
file cannot rot silently: a pair the build does not have is added only when the entry
says ``add: true`` (and then with the change's source as its provenance).

A changed tie keeps its provenance (the list it came from) and gains, in ``attrs``:
``changes`` (each change with its source: name, URL, licence, as-of date and what the
source says) and, for a suspension, ``suspended_since`` (see :mod:`citydiplomacy.tiestate`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, or_, select, update

from ..dates import parse_partial_date
from ..errors import ValidationError
from ..model import Tie
from ..store import rows as store_rows
from ..store.schema import ties
from ..vocab import SYMMETRIC_TIES, TieType
from .context import BuildContext, load_yaml, provenance_from

FILE = "curated/tie_changes.yaml"
#: the statuses an entry may set
STATUSES = ("suspended", "ended", "active", "dormant")
#: the fields an entry may change
FIELDS = ("status", "since", "until", "suspended_since")
_KEYS = {"cities", "actors", "type", "add", "source", "note", *FIELDS}


def build(ctx: BuildContext) -> None:
    ctx.report["tie_changes"] = apply_changes(ctx, load_yaml(*FILE.split("/")), file=FILE)


def apply_changes(ctx: BuildContext, doc: Any, *, file: str = FILE) -> dict[str, Any]:
    """Apply the entries of ``doc`` (the YAML document: ``{changes: [...]}``) to the ties
    built so far; return the counts for the build report. A bad or unmatched entry is a
    :class:`ValidationError` naming ``file``, the entry and what to do."""
    entries = (doc or {}).get("changes") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValidationError("expected a mapping with a list 'changes:'", file=file)
    counts: Counter[str] = Counter()
    touched: set[int] = set()
    for n, entry in enumerate(entries, start=1):
        change = _parse(entry, n, file)
        tie_id = _apply(ctx, change, n, file)
        touched.add(tie_id)
        counts["entries"] += 1
        counts["added" if change["add"] else "changed"] += 1
        for f in FIELDS:
            if change["fields"].get(f):
                counts[f"{f}={change['fields'][f]}" if f == "status" else f"{f} set"] += 1
    ctx.count("tie_changes", counts["entries"])
    states = Counter(r.status for r in ctx.conn.execute(
        select(ties.c.status).where(ties.c.id.in_(sorted(touched)))))
    return {"entries": counts["entries"], "ties_changed": len(touched), "ties_added": counts["added"],
            "ties_by_status": dict(sorted(states.items())),
            "fields_set": {k: v for k, v in sorted(counts.items()) if k.startswith(("status=", "since", "until",
                                                                                     "suspended"))}}


def _parse(entry: Any, n: int, file: str) -> dict[str, Any]:
    def fail(message: str, field: str | None = None):
        raise ValidationError(f"entry {n} ({_label(entry)}): {message}", file=file, field=field)

    if not isinstance(entry, dict):
        fail("each entry is a mapping with 'cities' or 'actors', what changed and a 'source'")
    unknown = set(entry) - _KEYS
    if unknown:
        fail(f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_KEYS))}")
    if ("cities" in entry) == ("actors" in entry):
        fail("give either 'cities' (two {name, country}) or 'actors' (two actor ids)", "cities")
    ends = entry.get("cities") or entry.get("actors")
    if not isinstance(ends, list) or len(ends) != 2:
        fail("name exactly two ends", "cities" if "cities" in entry else "actors")
    if "cities" in entry and not all(isinstance(e, dict) and e.get("name") and e.get("country") for e in ends):
        fail("each city is {name: ..., country: ...}, as the twinning list names it", "cities")
    try:
        type_ = TieType(entry.get("type", "twinned_with")).value
    except ValueError:
        fail(f"unknown tie type '{entry.get('type')}'", "type")
    fields: dict[str, str] = {}
    for f in FIELDS:
        if entry.get(f) is None:
            continue
        if f == "status":
            if entry[f] not in STATUSES:
                fail(f"status '{entry[f]}' is not one of {', '.join(STATUSES)}", f)
            fields[f] = entry[f]
        else:
            try:
                fields[f] = parse_partial_date(entry[f], field=f)
            except ValidationError as exc:
                fail(exc.detail, f)
    if not fields:
        fail(f"say what changed: one of {', '.join(FIELDS)}")
    if "suspended_since" in fields and fields.get("status") not in ("suspended", "ended"):
        fail("'suspended_since' goes with status suspended (or ended, for a tie suspended then ended)",
             "suspended_since")
    if fields.get("status") == "ended" and "until" not in fields:
        fail("an ended tie needs 'until', the last date the source says it was in force "
             "(or the date it ended)", "until")
    source = entry.get("source")
    if not isinstance(source, dict) or not all(source.get(k) for k in ("url", "as_of", "says")):
        fail("'source' needs url, as_of and says (what the source says changed)", "source")
    try:
        prov = provenance_from(source)
    except Exception as exc:  # a bad date or URL in the source
        fail(f"bad source: {exc}", "source")
    return {"ends": ends, "by": "cities" if "cities" in entry else "actors", "type": type_,
            "fields": fields, "add": bool(entry.get("add")), "source": source, "prov": prov,
            "label": _label(entry)}


def _label(entry: Any) -> str:
    if not isinstance(entry, dict):
        return repr(entry)[:60]
    ends = entry.get("cities") or entry.get("actors") or []
    names = [f"{e.get('name')}, {e.get('country')}" if isinstance(e, dict) else str(e) for e in ends]
    return " – ".join(names) or "no ends"


def _ends(ctx: BuildContext, change: dict[str, Any], n: int, file: str) -> list[set[str]]:
    if change["by"] == "actors":
        out = []
        for aid in change["ends"]:
            if aid not in ctx.actor_ids:
                raise ValidationError(f"entry {n} ({change['label']}): no actor '{aid}' in the store",
                                      file=file, field="actors")
            out.append({aid})
        return out
    if ctx.place_lookup is None:
        raise ValidationError(f"entry {n} ({change['label']}): cities are found through the twinning "
                              "step, which has not run", file=file, field="cities")
    out = []
    for end in change["ends"]:
        ids, reason = ctx.place_lookup(str(end["name"]), str(end["country"]))
        if not ids:
            raise ValidationError(f"entry {n} ({change['label']}): '{end['name']}, {end['country']}' is not "
                                  f"a place of the build ({reason}); name it as the twinning list does",
                                  file=file, field="cities")
        out.append(ids)
    return out


def _apply(ctx: BuildContext, change: dict[str, Any], n: int, file: str) -> int:
    a, b = _ends(ctx, change, n, file)
    symmetric = TieType(change["type"]) in SYMMETRIC_TIES
    pairs = [(x, y) for x in a for y in b if x != y]
    cond = or_(*(and_(ties.c.source == x, ties.c.target == y) for x, y in pairs),
               *((and_(ties.c.source == y, ties.c.target == x) for x, y in pairs) if symmetric else ()))
    found = ctx.conn.execute(select(ties).where(ties.c.type == change["type"], cond)).all() if pairs else []
    where = f"entry {n} ({change['label']})"
    if change["add"]:
        if found:
            raise ValidationError(f"{where}: says 'add: true' but the build already has this "
                                  f"{change['type']} tie; remove 'add'", file=file, field="add")
        if len(a) != 1 or len(b) != 1:
            raise ValidationError(f"{where}: a name stands for several places ({sorted(a | b)}); "
                                  "name the ends by 'actors' ids", file=file)
        return _add(ctx, change, next(iter(a)), next(iter(b)), where, file)
    if not found:
        raise ValidationError(f"{where}: matches no {change['type']} tie of the build; check the names "
                              "against the twinning list, or add the tie with 'add: true' and its source",
                              file=file)
    if len(found) > 1:
        raise ValidationError(f"{where}: matches {len(found)} ties ({', '.join(f'{r.source}–{r.target}' for r in found)}); "
                              "name the ends by 'actors' ids", file=file)
    row = found[0]
    fields = change["fields"]
    values = {f: fields[f] for f in ("status", "since", "until") if f in fields}
    attrs = dict(row.attrs or {})
    if "suspended_since" in fields:
        attrs["suspended_since"] = fields["suspended_since"]
    attrs["changes"] = [*attrs.get("changes", []), _record(change)]
    merged = {"source": row.source, "target": row.target, "type": row.type, "since": row.since,
              "until": row.until, "status": row.status, **values}
    try:
        Tie.parse(merged)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.detail}", file=file) from None
    if "since" in values:
        old = (row.source, row.target, row.type, row.since or "")
        ctx._tie_keys.discard(old)
        ctx._tie_keys.add((row.source, row.target, row.type, values["since"]))
    ctx.conn.execute(update(ties).where(ties.c.id == row.id).values(**values, attrs=attrs))
    return row.id


def _add(ctx: BuildContext, change: dict[str, Any], a: str, b: str, where: str, file: str) -> int:
    fields = change["fields"]
    attrs = {"changes": [_record(change)]}
    if "suspended_since" in fields:
        attrs["suspended_since"] = fields["suspended_since"]
    try:
        tie = Tie.parse({"source": a, "target": b, "type": change["type"], "axes": ["engagement"],
                         **{f: fields[f] for f in ("status", "since", "until") if f in fields}, "attrs": attrs})
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.detail}", file=file) from None
    row = ctx.tie_row(tie, ctx.provenance(change["prov"]))
    if row is None:
        raise ValidationError(f"{where}: the same tie is added twice", file=file)
    ctx.add_ties([row])
    key = store_rows.tie_key(tie)
    return ctx.conn.execute(select(ties.c.id).where(
        ties.c.source == key[0], ties.c.target == key[1], ties.c.type == key[2])).scalars().first()


def _record(change: dict[str, Any]) -> dict[str, Any]:
    """One change with its source, as kept in the tie's ``attrs.changes``."""
    p, s = change["prov"], change["source"]
    return {**change["fields"], "source": p.source, "url": p.url, "licence": p.licence, "as_of": p.as_of,
            "says": s["says"], **({"added": True} if change["add"] else {})}
