"""Bring a register in and take it out: a table (CSV, TSV, Excel) with ``--map``, and
iCalendar (``.ics``); export to CSV (the columns the import reads: a round trip gives the
same register) and to iCalendar (each engagement an event; its review or renewal date and
its open follow-ups events of their own, with UIDs that stay the same from one export to
the next).

Imports are atomic (any bad row: every problem reported, nothing written) and idempotent
(the same file twice: the second run changes nothing)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _io
import re
from pathlib import Path
from typing import Any, Iterable

from ..errors import ValidationError
from ..ingest.base import Problem, Report
from ..limits import LimitExceeded, check_deadline
from ..store import Store
from .model import DEFAULT_ROLE, KINDS, ROLES, Engagement
from .register import ImportRejected, engagement_of_row, write_engagements

__all__ = ["COLUMNS", "FIELDS", "import_engagements", "read_rows", "read_ics", "export_csv", "export_ics",
           "format_parties", "parse_parties"]

#: the columns of an export, which an import reads without --map
COLUMNS = ["key", "kind", "title", "text", "status", "signed_on", "start_on", "end_on", "review_on", "place",
           "place_id", "axes", "parties", "outcomes", "documents", "followups", "tie"]
#: every field a column may be mapped to: the columns above, and a single partner per row
#: (partner, partner_country, partner_role) for a city's own log
FIELDS = COLUMNS + ["partner", "partner_country", "partner_role"]
_SEP = re.compile(r"\s*;\s*")
_PARTY = re.compile(r"^(?P<ref>.*?)\s*\((?P<role>[a-z]+)(?:,\s*(?P<date>[0-9-]+))?\)$")
_DOC = re.compile(r"^(?P<title>.*?)\s*<(?P<url>[^<>]+)>$")
_FOLLOW = re.compile(r"^(?P<text>.*?)\s*\((?P<inner>(?:due [0-9-]+|open|done|dropped|done on [0-9-]+)"
                     r"(?:,\s*(?:due [0-9-]+|open|done|dropped|done on [0-9-]+))*)\)$")
_EXCEL_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00$")
ICS_DOMAIN = "citydiplomacy"
X = "X-CITYDIP-"


# -- cells ---------------------------------------------------------------------------------------

def format_parties(parties: Iterable[dict[str, Any]]) -> str:
    """``barcelona-es (signatory); lyon-fr (signatory, 2021-03-04)``."""
    out = []
    for p in parties:
        inner = p["role"] + (f", {p['signed_on']}" if p.get("signed_on") else "")
        out.append(f"{p.get('id') or p.get('actor')} ({inner})")
    return "; ".join(out)


def parse_parties(cell: str) -> list[tuple[str, str | None, str | None]]:
    """(name or id, role or None, signed_on or None) of each party in a cell."""
    out = []
    for part in _SEP.split(cell or ""):
        if not part:
            continue
        m = _PARTY.match(part)
        if m and m.group("role") in ROLES:
            out.append((m.group("ref").strip(), m.group("role"), m.group("date")))
        else:
            out.append((part.strip(), None, None))
    return out


def _format_documents(docs: Iterable[dict[str, Any]]) -> str:
    return "; ".join(f"{d['title']} <{d['url']}>" if d.get("url") else d["title"] for d in docs)


def _parse_documents(cell: str) -> list[dict[str, Any]]:
    out = []
    for part in _SEP.split(cell or ""):
        if not part:
            continue
        m = _DOC.match(part)
        if m:
            out.append({"title": m.group("title").strip() or m.group("url"), "url": m.group("url").strip()})
        elif re.match(r"^https?://", part):
            out.append({"title": part, "url": part})
        else:
            out.append({"title": part})
    return out


def _format_followups(fs: Iterable[dict[str, Any]]) -> str:
    out = []
    for f in fs:
        inner = ([f"due {f['due_on']}"] if f.get("due_on") else []) + [f["status"]] + \
            ([f"done on {f['done_on']}"] if f.get("done_on") else [])
        out.append(f"{f['text']} ({', '.join(inner)})")
    return "; ".join(out)


def _parse_followups(cell: str) -> list[dict[str, Any]]:
    out = []
    for part in _SEP.split(cell or ""):
        if not part:
            continue
        m = _FOLLOW.match(part)
        if not m:
            out.append({"text": part})
            continue
        f: dict[str, Any] = {"text": m.group("text").strip()}
        for bit in re.split(r",\s*", m.group("inner")):
            if bit.startswith("due "):
                f["due_on"] = bit[4:]
            elif bit.startswith("done on "):
                f["done_on"] = bit[8:]
            else:
                f["status"] = bit
        out.append(f)
    return out


def _date_cell(v: str | None) -> str | None:
    if not v:
        return None
    m = _EXCEL_DAY.match(v)
    return m.group(1) if m else v


# -- rows to engagements -----------------------------------------------------------------------

class _Rows:
    """Turns rows of fields into engagements, resolving party names like every import
    (ids, the resolver's cities, exact names of other actors) and collecting problems."""

    def __init__(self, store: Store, file: str, *, actor: str | None = None, actor_role: str | None = None,
                 kind: str | None = None, country_cells: Iterable[str] = ()):
        self.store, self.file = store, file
        self._countries = [c for c in country_cells if c]
        self._sr = None
        self._extended = False
        self._ids: dict[str, bool] = {}
        self._found: dict[tuple[str, str | None], Any] = {}
        self.problems: list[Problem] = []
        self.items: list[Engagement] = []
        self.matched: dict[str, int] = {}
        self.kind = kind
        self.actor = None
        self.actor_role = actor_role
        if actor:
            from ..actors import resolve_actor

            self.actor = resolve_actor(store, actor)["id"]

    @property
    def sr(self):
        """The resolver over the store's actors, built when a name is not an actor id (an
        export's rows need none)."""
        if self._sr is None:
            from ..ingest.resolving import StoreResolver

            self._sr = StoreResolver(self.store)
        return self._sr

    def _resolution(self, name: str, country: str | None):
        """A party must be an actor of the store, so a name is first resolved among the
        store's actors; only a name that does not resolve there is tried again with the
        smaller GeoNames places and subdivisions of the file's countries, for the
        candidates and the reason the error gives (an import of a city's log need not load
        the gazetteers of fifty countries to find fifty capitals)."""
        from ..ingest.resolving import resolve_any

        key = (name, country)
        if key not in self._found:
            res = resolve_any(self.store, self.sr, name, country)
            if not res.resolved and not self._extended and self._countries:
                self.sr.extend(self._countries)
                self._extended = True
                res = resolve_any(self.store, self.sr, name, country)
            self._found[key] = res
        return self._found[key]

    def resolve(self, name: str, country: str | None, *, row: int, field: str) -> str | None:
        from ..ingest.resolving import actor_exists, is_provisional

        if name not in self._ids:
            self._ids[name] = bool(name) and actor_exists(self.store, name)
        if self._ids[name]:
            self.matched["id"] = self.matched.get("id", 0) + 1
            return name
        res = self._resolution(name, country)
        if res.resolved and not is_provisional(res.id):
            self.matched[res.rule] = self.matched.get(res.rule, 0) + 1
            return res.id
        if res.resolved:
            reason = (f"'{name}' is a place the store does not hold yet ({res.id}); add it first "
                      "(citydip import table --as actors) or write the id of an actor of the store")
            self.problems.append(Problem(row=row, field=field, file=self.file, kind="unresolved", value=name,
                                         reason=reason))
            return None
        reason = res.evidence.get("reason") or res.rule or res.status
        hint = "write one of the candidates' ids" if res.candidates else \
            "check the spelling, write the actor's id, or add the actor first (citydip actor add)"
        self.problems.append(Problem(row=row, field=field, file=self.file, kind=res.status, value=name,
                                     reason=f"no single actor matches '{name}' ({reason}); {hint}",
                                     candidates=[c.label() for c in res.candidates[:5]]))
        return None

    def add(self, row: int, f: dict[str, Any]) -> None:
        """One row of fields (FIELDS; cells as text)."""
        check_deadline(file=self.file)
        before = len(self.problems)
        kind = (f.get("kind") or self.kind or "").strip().lower()
        default_role = DEFAULT_ROLE.get(kind, "participant")
        parties: list[dict[str, Any]] = []
        if self.actor:
            parties.append({"actor": self.actor, "role": self.actor_role or default_role})
        field_parties = "parties"
        for ref, role, signed in parse_parties(f.get("parties") or ""):
            found = self.resolve(ref, None, row=row, field=f.get("_col_parties") or field_parties)
            if found:
                parties.append({"actor": found, "role": role or default_role, "signed_on": signed})
        if f.get("partner"):
            found = self.resolve(f["partner"], f.get("partner_country"), row=row,
                                 field=f.get("_col_partner") or "partner")
            if found:
                parties.append({"actor": found, "role": f.get("partner_role") or default_role})
        # the same actor in the same role twice (the city's own row names it too): once
        uniq, seen = [], set()
        for p in parties:
            if (p["actor"], p["role"]) not in seen:
                seen.add((p["actor"], p["role"]))
                uniq.append(p)
        data = {"key": f.get("key") or None, "kind": kind, "title": f.get("title") or "",
                "text": f.get("text") or "", "status": f.get("status") or None,
                "signed_on": _date_cell(f.get("signed_on")), "start_on": _date_cell(f.get("start_on")),
                "end_on": _date_cell(f.get("end_on")), "review_on": _date_cell(f.get("review_on")),
                "place": f.get("place") or None, "place_id": f.get("place_id") or None,
                "axes": f.get("axes") or None, "outcomes": f.get("outcomes") or None, "parties": uniq,
                "documents": _parse_documents(f.get("documents") or ""),
                "followups": _parse_followups(f.get("followups") or ""), "tie": f.get("tie") or None}
        if f.get("_attrs"):
            data["attrs"] = f["_attrs"]
        if not data["title"]:
            self.problems.append(Problem(row=row, field=f.get("_col_title") or "title", file=self.file,
                                         reason="no title; every engagement needs one"))
            return
        try:
            e = engagement_of_row(data, row=row, file=self.file)
        except ValidationError as exc:
            self.problems.append(Problem(row=row, field=f.get(f"_col_{exc.field}") or exc.field, file=self.file,
                                         reason=exc.detail))
            return
        if len(self.problems) == before:
            self.items.append(e)


def read_rows(store: Store, path: str | Path, *, mapping: dict[str, str] | None = None, actor: str | None = None,
              actor_role: str | None = None, kind: str | None = None, sheet: str | None = None,
              encoding: str = "utf-8") -> tuple[list[Engagement], list[Problem], int, dict[str, int]]:
    """Read a table of engagements: (engagements, problems, rows read, names matched by
    rule). Columns named like :data:`COLUMNS` are read as they are; ``mapping`` maps
    fields to other columns (``{"title": "Subject", "start_on": "Date"}``). ``actor``:
    a party of every row (the city whose log this is, in ``actor_role``, default the
    kind's); ``kind``: the kind of rows without one."""
    from ..ingest.readers import read_table

    mapping = dict(mapping or {})
    unknown = [k for k in mapping if k not in FIELDS]
    if unknown:
        raise ValidationError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; map "
                              f"columns to: {', '.join(FIELDS)}", field="map")
    table = read_table(path, encoding=encoding, sheet=sheet)
    table.require(list(mapping.values()))
    cols = {f: f for f in FIELDS if f in table.columns}
    cols.update(mapping)
    if "title" not in cols:
        raise ValidationError(f"no title column; the file has columns: {', '.join(table.columns)}. "
                              "Map one, e.g. --map title=Subject", file=str(path), field="map")
    if "kind" not in cols and not kind:
        raise ValidationError("no kind column; map one (--map kind=Type) or give the kind of every row "
                              f"(--kind visit; one of {', '.join(KINDS)} or a word of your own)",
                              file=str(path), field="map")
    if "parties" not in cols and "partner" not in cols and not actor:
        raise ValidationError("no parties: map a parties or partner column (--map partner=City), or name the "
                              "city whose log this is (--actor Barcelona)", file=str(path), field="map")
    file = str(path)
    rows = _Rows(store, file, actor=actor, actor_role=actor_role, kind=kind,
                 country_cells=[r.get(cols["partner_country"], "") for _, r in table.rows]
                 if "partner_country" in cols else ())
    for p in table.problems:
        rows.problems.append(Problem(file=file, **p))
    for rowno, r in table.rows:
        try:
            f = {field: (r.get(col) or "").strip() for field, col in cols.items()}
            f.update({f"_col_{field}": col for field, col in cols.items()})
            rows.add(rowno, f)
        except LimitExceeded:
            raise
    return rows.items, rows.problems, len(table.rows) + len(table.problems), rows.matched


def import_engagements(store: Store, path: str | Path, *, mapping: dict[str, str] | None = None,
                       actor: str | None = None, actor_role: str | None = None, kind: str | None = None,
                       sheet: str | None = None, encoding: str = "utf-8", source_name: str | None = None,
                       licence: str | None = None, as_of: str | None = None, url: str | None = None,
                       mode: str = "auto", dry_run: bool = False) -> Report:
    """Import a register from a table (CSV, TSV, Excel) or an iCalendar file (``.ics``),
    atomically: when any row is bad (a malformed date, an end before a start, an unknown
    party, a missing column) every problem is reported, :class:`ImportRejected` raised and
    nothing written. The same file twice: the second run changes nothing."""
    from ..ingest.twinning import provenance_for

    p = Path(path)
    if p.suffix.lower() in (".ics", ".ical", ".ifb", ".icalendar"):
        items, problems, n, matched = read_ics(store, p, actor=actor, actor_role=actor_role, kind=kind)
        importer = "engage-ics"
    else:
        items, problems, n, matched = read_rows(store, p, mapping=mapping, actor=actor, actor_role=actor_role,
                                                kind=kind, sheet=sheet, encoding=encoding)
        importer = "engage"
    prov = provenance_for(p, source_name, licence, as_of, url)
    try:
        report = write_engagements(store, items, prov, importer=importer, source=str(p), mode=mode,
                                   dry_run=dry_run, problems=problems, rows_read=n)
    except ImportRejected as exc:
        exc.report.matched = matched
        raise
    report.matched = matched
    return report


# -- iCalendar in --------------------------------------------------------------------------------

_ESC = re.compile(r"\\([\\;,nN])")


def _text(v: Any) -> str | None:
    """A property's text; an ``X-`` property (read as vUnknown) unescaped like TEXT."""
    if v is None:
        return None
    if isinstance(v, list):
        v = v[0]
    s = str(v)
    if type(v).__name__ == "vUnknown":
        s = _ESC.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), s)
    return s


def _day(prop: Any) -> dt.date | None:
    if prop is None:
        return None
    v = prop.dt
    return v.date() if isinstance(v, dt.datetime) else v


def read_ics(store: Store, path: str | Path, *, actor: str | None = None, actor_role: str | None = None,
             kind: str | None = None) -> tuple[list[Engagement], list[Problem], int, dict[str, int]]:
    """Read the events of an iCalendar file: each VEVENT is an engagement (kind
    ``event`` unless one of its CATEGORIES is a kind, or ``kind`` says otherwise; SUMMARY
    the title, DESCRIPTION the text, DTSTART and DTEND the dates, LOCATION the place, UID
    the key). Events this module exported carry the rest (parties, status, partial
    dates...) in ``X-CITYDIP-*`` properties; their review and follow-up events are read
    back as part of their engagement, not as engagements of their own."""
    from ..ingest.readers import check_file, decode

    p = check_file(path)
    file = str(p)
    try:
        import icalendar
    except ImportError:         # a dependency; only a broken installation lacks it
        raise ValidationError("reading .ics needs the icalendar package: pip install icalendar", file=file) from None
    text = decode(p.read_bytes(), p)
    try:
        cal = icalendar.Calendar.from_ical(text)
    except Exception as exc:     # the parser raises ValueError and others on malformed input
        raise ValidationError(f"this is not a readable iCalendar file ({exc}); export it again from the "
                              "calendar", file=file) from None
    rows = _Rows(store, file, actor=actor, actor_role=actor_role, kind=kind)
    n = 0
    today = dt.date.today()
    for ev in cal.walk("VEVENT"):
        n += 1
        if ev.get(X + "OF"):
            continue                      # a review or follow-up event of an exported engagement
        row = n
        f: dict[str, Any] = {}
        f["key"] = _text(ev.get(X + "KEY")) or _text(ev.get("UID")) or ""
        cats = []
        for c in ev.get("CATEGORIES") and (ev.get("CATEGORIES") if isinstance(ev.get("CATEGORIES"), list)
                                            else [ev.get("CATEGORIES")]) or []:
            cats += [str(x).strip().lower() for x in c.cats]
        f["kind"] = _text(ev.get(X + "KIND")) or next((c for c in cats if c in KINDS), None) or kind or "event"
        f["title"] = _text(ev.get("SUMMARY")) or ""
        f["text"] = _text(ev.get("DESCRIPTION")) or ""
        f["place"] = _text(ev.get("LOCATION")) or ""
        try:
            start, end = _day(ev.get("DTSTART")), _day(ev.get("DTEND"))
        except Exception:
            rows.problems.append(Problem(row=row, file=file, field="DTSTART", reason="a date that cannot be read"))
            continue
        if end is not None and start is not None and end > start and \
                not isinstance(ev.get("DTEND").dt, dt.datetime):
            end = end - dt.timedelta(days=1)        # an all-day event's DTEND is the day after
        f["start_on"] = _text(ev.get(X + "START")) if ev.get(X + "START") is not None else \
            (start.isoformat() if start else "")
        f["end_on"] = _text(ev.get(X + "END")) if ev.get(X + "END") is not None else \
            (end.isoformat() if end and end != start else "")
        for field in ("signed_on", "review_on", "status", "axes", "parties", "outcomes", "documents",
                      "followups", "tie", "place_id"):
            v = ev.get(X + field.upper().replace("_ON", "").replace("_", "-"))
            f[field] = _text(v) if v is not None else ""
        if not f["status"]:
            st = str(ev.get("STATUS") or "").upper()
            f["status"] = {"TENTATIVE": "planned", "CANCELLED": "ended"}.get(st) or \
                ("completed" if start and start < today else "planned")
        rows.add(row, f)
    if n == 0:
        raise ValidationError("the calendar holds no events (VEVENT)", file=file)
    return rows.items, rows.problems, n, rows.matched


# -- out -----------------------------------------------------------------------------------------

def _all(store: Store, filters: dict[str, Any]) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from .register import E, filter_statement, read_engagements

    f = {k: v for k, v in filters.items() if k not in ("sort", "limit", "offset")}
    with store.connect() as conn:
        ids = list(conn.execute(filter_statement(select(E.c.id), sqlite=store.is_sqlite, **f)
                                .order_by(E.c.key)).scalars())
        return read_engagements(conn, ids, full=True)


def export_rows(store: Store, **filters: Any) -> list[dict[str, str]]:
    """The register (or the engagements passing ``filters``, see
    :func:`~citydiplomacy.engage.register.list_engagements`) as rows of :data:`COLUMNS`,
    ordered by key."""
    out = []
    for e in _all(store, filters):
        given = e["attrs"].get("axes_aligned") is not True
        out.append({"key": e["key"], "kind": e["kind"], "title": e["title"], "text": e["text"] or "",
                    "status": e["status"], "signed_on": e["signed_on"] or "", "start_on": e["start_on"] or "",
                    "end_on": e["end_on"] or "", "review_on": e["review_on"] or "", "place": e["place"] or "",
                    "place_id": e["place_id"] or "", "axes": ", ".join(e["axes"]) if given else "",
                    "parties": format_parties(e["parties"]), "outcomes": e["outcomes"] or "",
                    "documents": _format_documents(e["documents"]), "followups": _format_followups(e["followups"]),
                    "tie": e["tie"] or ""})
    return out


def csv_text(rows: list[dict[str, str]]) -> str:
    """Rows of :func:`export_rows` as CSV text (the columns the import reads)."""
    buf = _io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def export_csv(store: Store, dest: str | Path | None = None, **filters: Any) -> str:
    """Write the register as CSV (to ``dest``, and return the text)."""
    text = csv_text(export_rows(store, **filters))
    if dest is not None:
        Path(dest).write_text(text, encoding="utf-8")
    return text


def _first(partial: str) -> dt.date:
    from .views import first_day

    return first_day(partial)


def _uid(key: str, what: str | None = None) -> str:
    return f"{key}{'/' + what if what else ''}@{ICS_DOMAIN}"


def export_ics(store: Store, dest: str | Path | None = None, **filters: Any) -> str:
    """Write the register as iCalendar (to ``dest``, and return the text): each dated
    engagement an all-day event (categories: its kind; the rest in ``X-CITYDIP-*``
    properties, so that importing the file gives the same register), its review or
    renewal date and its open follow-ups events of their own. UIDs are made from the
    keys, stable from one export to the next; DTSTAMP is the engagement's last change."""
    from icalendar import Calendar, Event, vText

    cal = Calendar()
    cal.add("prodid", "-//citydiplomacy//engagement register//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Engagements")
    skipped = 0
    for e in _all(store, filters):
        day = e["start_on"] or e["signed_on"] or e["end_on"]
        stamp = dt.datetime.fromisoformat(e["updated_at"]) if e["updated_at"] else dt.datetime(2000, 1, 1,
                                                                                              tzinfo=dt.timezone.utc)
        if not day:
            skipped += 1
            continue
        ev = Event()
        ev.add("uid", _uid(e["key"]))
        ev.add("dtstamp", stamp)
        ev.add("summary", e["title"])
        if e["text"]:
            ev.add("description", e["text"])
        start = _first(day)
        ev.add("dtstart", start)
        if e["end_on"] and e["end_on"] != day:
            ev.add("dtend", max(_first(e["end_on"]), start) + dt.timedelta(days=1))
        if e["place"]:
            ev.add("location", e["place"])
        ev.add("categories", [e["kind"]])
        ev.add("status", {"planned": "TENTATIVE", "ended": "CANCELLED", "suspended": "TENTATIVE"}.get(
            e["status"], "CONFIRMED"))
        xs = {"KEY": e["key"], "KIND": e["kind"], "STATUS": e["status"], "START": e["start_on"] or "",
              "END": e["end_on"] or "", "SIGNED": e["signed_on"], "REVIEW": e["review_on"],
              "AXES": ", ".join(e["axes"]) if e["attrs"].get("axes_aligned") is not True else None,
              "PARTIES": format_parties(e["parties"]), "OUTCOMES": e["outcomes"],
              "DOCUMENTS": _format_documents(e["documents"]), "FOLLOWUPS": _format_followups(e["followups"]),
              "TIE": e["tie"], "PLACE-ID": e["place_id"]}
        for k, v in xs.items():
            if v is not None and (v != "" or k in ("START", "END")):
                ev.add(X + k, vText(v))
        cal.add_component(ev)
        parties = ", ".join(p["name"] for p in e["parties"])
        if e["review_on"] and e["status"] not in ("ended", "completed"):
            r = Event()
            r.add("uid", _uid(e["key"], "review"))
            r.add("dtstamp", stamp)
            r.add("summary", f"Review or renewal: {e['title']}")
            r.add("description", f"{e['kind']} with {parties}" if parties else e["kind"])
            r.add("dtstart", _first(e["review_on"]))
            r.add("categories", ["review"])
            r.add(X + "OF", vText(e["key"]))
            cal.add_component(r)
        for f in e["followups"]:
            if f["status"] != "open" or not f["due_on"]:
                continue
            h = hashlib.sha1(f["text"].encode("utf-8")).hexdigest()[:10]
            r = Event()
            r.add("uid", _uid(e["key"], f"followup-{h}"))
            r.add("dtstamp", stamp)
            r.add("summary", f"Follow-up: {f['text']}")
            r.add("description", f"after: {e['title']}")
            r.add("dtstart", _first(f["due_on"]))
            r.add("categories", ["follow-up"])
            r.add(X + "OF", vText(e["key"]))
            cal.add_component(r)
    text = cal.to_ical().decode("utf-8")
    if dest is not None:
        Path(dest).write_bytes(text.encode("utf-8"))
    return text
