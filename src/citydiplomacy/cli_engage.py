"""``citydip engage``: the engagement register — add one, import a log (CSV, Excel,
iCalendar), export it (CSV, iCalendar), list with filters, show one, an actor's timeline,
what is due, an actor's activity (thin over :mod:`citydiplomacy.engage`)."""

from __future__ import annotations

from typing import Any, Optional

import typer
from rich.markup import escape

from .errors import CitydipError
from .render import FORMAT_HELP, Format, emit, plural, table

engage_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="The engagement register: agreements, visits, events, declarations and joint projects, with their "
         "parties, dates, status, documents and follow-ups, aligned with the SDGs and the Paris Agreement; "
         "see docs/engage.md.\n\n"
         "Example: `citydip engage import log.xlsx --actor Barcelona --map title=Subject && citydip engage due --days 90`")

FMT = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)
MODE = typer.Option("auto", "--mode", help="Alignment: light (words only, fast), hybrid (with the MiniLM "
                                           "model) or auto (hybrid when the model is installed).")
LIST_COLUMNS = ["key", "date", "kind", "title", "status", "parties", "axes"]


def _ctx():
    from .cli import _fail, _open, err, out

    return _open, _fail, out, err


def _date(e: dict[str, Any]) -> str:
    d = e.get("start_on") or e.get("signed_on") or ""
    if e.get("end_on") and e["end_on"] != d:
        d = f"{d}–{e['end_on']}" if d else f"–{e['end_on']}"
    return d


def _flat(e: dict[str, Any]) -> dict[str, Any]:
    return {**e, "date": _date(e), "axes": ", ".join(e["axes"]),
            "parties": "; ".join(f"{p['name']} ({p['role']})" for p in e["parties"])}


def _bar():
    """A Rich progress bar on a terminal (standard error), nothing in a pipe: a context
    manager that listens to the library's progress reports."""
    from contextlib import contextmanager, nullcontext

    from . import progress

    _, _, _, err = _ctx()
    if not err.is_terminal:
        return nullcontext()

    @contextmanager
    def shown():
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                       TimeElapsedColumn(), console=err, transient=True)
        task = bar.add_task("reading", total=None)

        def update(phase: str, done, total) -> None:
            bar.update(task, description=phase, completed=done or 0, total=total)
        with bar, progress.listening(update):
            yield
    return shown()


def _report(rep, fmt: Format, what: str) -> None:
    from .cli import _print_report

    _print_report(rep, fmt, what)


def _problems(exc, fmt: Format) -> None:
    """An import that found bad rows: every problem, then exit 1 (nothing was written)."""
    _, _, out, err = _ctx()
    rep = exc.report
    if fmt == Format.json:
        emit(fmt, data={**rep.as_dict(), "written": False})
    elif fmt == Format.csv:
        emit(fmt, data=None, rows=[{**p.as_dict(), "candidates": "; ".join(p.candidates)} for p in rep.problems],
             columns=["kind", "file", "row", "field", "value", "reason", "candidates"])
    else:
        rows = [{**p.as_dict(), "candidates": "; ".join(p.candidates[:3])} for p in rep.problems[:50]]
        err.print(table(f"problems ({len(rep.problems)}; first 50 — all with --format csv)", rows,
                        ["row", "field", "value", "reason", "candidates"]), highlight=False)
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@engage_app.command("add")
def add(kind: str = typer.Option(..., "--kind", help="agreement, visit, event, declaration, pledge, project, or a "
                                                     "lower-case word of your own."),
        title: str = typer.Option(..., "--title", help="Short title."),
        party: list[str] = typer.Option([], "--party", help="A party: a name or id, optionally with its role "
                                                            "in brackets, e.g. 'Lyon (host)'. Repeatable."),
        text: str = typer.Option("", "--text", help="What it is about (aligned with the SDGs and Paris)."),
        signed: Optional[str] = typer.Option(None, "--signed", help="Signing date (YYYY, YYYY-MM or YYYY-MM-DD)."),
        start: Optional[str] = typer.Option(None, "--start", help="Start date."),
        end: Optional[str] = typer.Option(None, "--end", help="End date."),
        review: Optional[str] = typer.Option(None, "--review", help="Next review or renewal date."),
        place: Optional[str] = typer.Option(None, "--place", help="Where it took place."),
        status: Optional[str] = typer.Option(None, "--status", help="planned, active (default), completed, "
                                                                    "suspended or ended."),
        axes: Optional[str] = typer.Option(None, "--axes", help="Axes, comma-separated (default: those its "
                                                                "text aligns to)."),
        outcomes: Optional[str] = typer.Option(None, "--outcomes", help="What came of it."),
        document: list[str] = typer.Option([], "--document", help="A document: 'Title <https://...>' or a URL. "
                                                                  "Repeatable."),
        followup: list[str] = typer.Option([], "--followup", help="A follow-up: 'Report to council (due "
                                                                  "2027-03-01, open)'. Repeatable."),
        establishes: Optional[str] = typer.Option(None, "--establishes", help="The tie this agreement "
                                                                              "establishes between its two "
                                                                              "parties: twinned_with or partner_of."),
        renews: Optional[str] = typer.Option(None, "--renews", help="The tie it renews."),
        ends: Optional[str] = typer.Option(None, "--ends", help="The tie it ends."),
        key: Optional[str] = typer.Option(None, "--key", help="Your reference (default: derived from kind, "
                                                              "title, date and parties). The same key updates."),
        source: str = typer.Option(..., "--source", help="Where it is documented (decision, minutes, web "
                                                         "page): its provenance."),
        url: Optional[str] = typer.Option(None, "--url", help="Address of the source."),
        licence: Optional[str] = typer.Option(None, "--licence", help="Licence of the source."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Date the source describes."),
        mode: str = MODE, dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; "
                                                                                "change nothing."),
        fmt: Format = FMT):
    """Add one engagement (or update the one with the same key), align it, and link the
    tie it establishes, renews or ends.

    Example: `citydip engage add --kind agreement --title "Memorandum on urban mobility" --party Barcelona
    --party Lyon --signed 2019-05-08 --review 2027-05 --establishes partner_of --source "Council decision 2019/114"`
    """
    from .engage.io import _parse_documents, _parse_followups, parse_parties

    _open, _fail, _, _ = _ctx()
    ties = [(e, t) for e, t in (("establishes", establishes), ("renews", renews), ("ends", ends)) if t]
    if len(ties) > 1:
        _fail(CitydipError("give one of --establishes, --renews, --ends"))
    data = {"key": key, "kind": kind, "title": title, "text": text, "signed_on": signed, "start_on": start,
            "end_on": end, "review_on": review, "place": place, "status": status, "axes": axes,
            "outcomes": outcomes,
            "parties": [{"actor": ref, "role": role, "signed_on": d} for p in party
                        for ref, role, d in parse_parties(p)],
            "documents": [d for x in document for d in _parse_documents(x)],
            "followups": [f for x in followup for f in _parse_followups(x)],
            "tie": f"{ties[0][0]} {ties[0][1]}" if ties else None}
    try:
        from .engage import add_engagement

        obs = _open()
        with _bar():
            rep = add_engagement(obs.store, data, source=source, url=url, licence=licence, as_of=as_of,
                                 mode=mode, dry_run=dry_run)
    except CitydipError as exc:
        _fail(exc)
    _report(rep, fmt, "engagement")
    if fmt == Format.table:
        _ctx()[2].print(f"key: {rep.actor}", highlight=False, markup=False)


@engage_app.command("import")
def import_(file: str = typer.Argument(..., help="A CSV, TSV or Excel (.xlsx) file, or an iCalendar (.ics) file."),
            map_: list[str] = typer.Option([], "--map", help="FIELD=COLUMN, repeatable: key, kind, title, text, "
                                                             "status, signed_on, start_on, end_on, review_on, "
                                                             "place, axes, parties, partner, partner_country, "
                                                             "partner_role, outcomes, documents, followups, tie. "
                                                             "Columns named like the fields need no --map."),
            actor: Optional[str] = typer.Option(None, "--actor", help="The city whose log this is: a party of "
                                                                      "every row."),
            actor_role: Optional[str] = typer.Option(None, "--actor-role", help="Its role (default: the kind's: "
                                                                                "signatory, participant, partner)."),
            kind: Optional[str] = typer.Option(None, "--kind", help="The kind of rows without one (an .ics: of "
                                                                    "every event; default event)."),
            sheet: Optional[str] = typer.Option(None, "--sheet", help="Excel sheet (default: the first)."),
            encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of a CSV file."),
            source: Optional[str] = typer.Option(None, "--source", help="Name of the source, for provenance "
                                                                        "(default: the file name)."),
            licence: Optional[str] = typer.Option(None, "--licence", help="Licence of the data."),
            as_of: Optional[str] = typer.Option(None, "--as-of", help="Date the data describes."),
            mode: str = MODE, dry_run: bool = typer.Option(False, "--dry-run", help="Check and report; write nothing."),
            fmt: Format = FMT):
    """Import an engagement log: every party resolved to an actor, every row checked, the
    new and changed engagements aligned — all written or, if any row is wrong, none (each
    problem reported with its row and field). Importing the same file again changes nothing.

    Example: `citydip engage import log.xlsx --actor Barcelona --map key=Ref --map kind=Type --map title=Subject
    --map partner=City --map partner_country=Country --map start_on=Date`
    """
    from .cli import _pairs
    from .engage import ImportRejected
    from .engage.io import import_engagements

    _open, _fail, _, _ = _ctx()
    try:
        from . import limits
        from .cli import _cli_limits

        obs = _open()
        with limits.applied(_cli_limits()), _bar():
            rep = import_engagements(obs.store, file, mapping=_pairs(map_, "--map"), actor=actor,
                                     actor_role=actor_role, kind=kind, sheet=sheet, encoding=encoding,
                                     source_name=source, licence=licence, as_of=as_of, mode=mode, dry_run=dry_run)
    except ImportRejected as exc:
        _problems(exc, fmt)
    except CitydipError as exc:
        _fail(exc)
    _report(rep, fmt, "engagement")


def _filters(kind, status, axis, actor, partner, country, layer, date_from, date_to, q) -> dict[str, Any]:
    """Resolve the references a person typed to the ids the library filters on."""
    from . import countries
    from .actors import resolve_actor
    from .errors import ValidationError

    _open, _, _, _ = _ctx()
    obs = _open()
    f: dict[str, Any] = {"kind": kind, "status": status, "axis": axis, "layer": layer, "date_from": date_from,
                         "date_to": date_to, "q": q}
    if actor:
        f["actor"] = resolve_actor(obs.store, actor)["id"]
    if partner:
        f["partner"] = resolve_actor(obs.store, partner)["id"]
    if country:
        c = countries.lookup_name(country) or countries.lookup_code(country)
        if c is None:
            raise ValidationError(f"'{country}' is not a country name or code", field="country")
        f["country"] = c.alpha3
    return f


KIND_O = typer.Option(None, "--kind", help="Kinds, comma-separated (agreement, visit, event, declaration, pledge, project).")
STATUS_O = typer.Option(None, "--status", help="Statuses, comma-separated (planned, active, completed, suspended, "
                                               "ended).")
AXIS_O = typer.Option(None, "--axis", help="sustainability, digital or engagement.")
ACTOR_O = typer.Option(None, "--actor", help="Engagements this actor takes part in (name or id).")
PARTNER_O = typer.Option(None, "--partner", help="With --actor: only those with this partner too.")
COUNTRY_O = typer.Option(None, "--country", help="Some party (with --actor: some partner) is of this country.")
LAYER_O = typer.Option(None, "--layer", help="Some party (with --actor: some partner) is on this layer: macro, "
                                             "meso, micro.")
FROM_O = typer.Option(None, "--from", help="Running or happening on or after this date (YYYY[-MM[-DD]]).")
TO_O = typer.Option(None, "--to", help="Starting on or before this date.")
Q_O = typer.Option(None, "--q", help="Words in the title, text or place.")


@engage_app.command("list")
def list_(kind: Optional[str] = KIND_O, status: Optional[str] = STATUS_O, axis: Optional[str] = AXIS_O,
          actor: Optional[str] = ACTOR_O, partner: Optional[str] = PARTNER_O, country: Optional[str] = COUNTRY_O,
          layer: Optional[str] = LAYER_O, date_from: Optional[str] = FROM_O, date_to: Optional[str] = TO_O,
          q: Optional[str] = Q_O,
          sort: str = typer.Option("-date", "--sort", help="date, -date, title, -title, kind, status, review, "
                                                           "-review, updated, -updated."),
          limit: int = typer.Option(50, "--limit", help="How many to show (0: all)."),
          offset: int = typer.Option(0, "--offset", help="Skip this many first."),
          cursor: Optional[str] = typer.Option(None, "--cursor", help="The next page after a previous one: the "
                                                                      "cursor it printed (same filters and sort)."),
          fmt: Format = FMT):
    """The register, filtered and sorted; the total is given with the page shown, and the
    cursor of the next page (``--cursor``: read with a seek, however deep).

    Example: `citydip engage list --actor Barcelona --kind agreement --status active --country FR`
    """
    from .engage import list_engagements

    _open, _fail, out, _ = _ctx()
    try:
        f = _filters(kind, status, axis, actor, partner, country, layer, date_from, date_to, q)
        res = list_engagements(_open().store, sort=sort, limit=limit or None, offset=offset, cursor=cursor, **f)
    except CitydipError as exc:
        _fail(exc)
    rows = [_flat(e) for e in res["items"]]
    first = res["offset"]
    shown = f"{first + 1:,}–{first + len(rows):,} of " if rows and len(rows) < res["total"] else ""
    more = f" (next page: --cursor {res['next_cursor']})" if res["next_cursor"] else ""
    emit(fmt, data=res, rows=rows, columns=LIST_COLUMNS,
         title=f"{shown}{plural(res['total'], 'engagement')}{more}" if res["total"] else
         "no engagements match (add some: citydip engage add / import)")


@engage_app.command("show")
def show(key: str = typer.Argument(..., help="The engagement's key (see `citydip engage list`)."),
         fmt: Format = FMT):
    """One engagement: its parties, dates, documents, follow-ups, alignment and ties.

    Example: `citydip engage show BCN-0001`
    """
    from .engage import get_engagement

    _open, _fail, out, _ = _ctx()
    try:
        e = get_engagement(_open().store, key)
    except CitydipError as exc:
        _fail(exc)
    fields = [{"field": k, "value": v} for k, v in (
        ("key", e["key"]), ("kind", e["kind"]), ("title", e["title"]), ("status", e["status"]),
        ("signed", e["signed_on"]), ("start", e["start_on"]), ("end", e["end_on"]), ("review", e["review_on"]),
        ("place", e["place"]), ("axes", ", ".join(e["axes"])), ("tie", e["tie"]), ("text", e["text"]),
        ("outcomes", e["outcomes"]), ("SDGs", " ".join(map(str, e["sdgs"]))), ("targets", " ".join(e["targets"])),
        ("Paris articles", " ".join(map(str, e["paris"]))),
        ("source", e["provenance"]["source"] + (f" ({e['provenance']['licence']})"
                                                 if e["provenance"]["licence"] else ""))) if v]
    rend = [table(e["title"], fields, ["field", "value"])]
    if e["parties"]:
        rend.append(table("parties", e["parties"], ["name", "id", "role", "signed_on", "country"]))
    if e["documents"]:
        rend.append(table("documents", e["documents"], ["title", "url"]))
    if e["followups"]:
        rend.append(table("follow-ups", e["followups"], ["text", "due_on", "status", "done_on"]))
    if e["ties"]:
        rend.append(table("ties", e["ties"], ["effect", "type", "source", "target", "since", "until", "status"]))
    emit(fmt, data=e, rows=fields, columns=["field", "value"], renderables=rend, console=out)


@engage_app.command("timeline")
def timeline(actor: str = typer.Argument(..., help="An actor (name, id, QID or GeoNames id)."),
             partner: Optional[str] = typer.Option(None, "--partner", help="Only the engagements with this partner."),
             kind: Optional[str] = KIND_O, fmt: Format = FMT):
    """An actor's engagements in date order (with one partner: the pair's).

    Example: `citydip engage timeline Barcelona --partner Lyon`
    """
    from .engage import timeline as timeline_

    _open, _fail, out, _ = _ctx()
    try:
        res = timeline_(_open().store, actor, partner, kind=kind)
    except CitydipError as exc:
        _fail(exc)
    rows = [_flat(e) for e in res["items"]]
    who = res["actor"]["name"] + (f" and {res['partner']['name']}" if res["partner"] else "")
    emit(fmt, data=res, rows=rows, columns=["date", "kind", "title", "status", "parties", "key"],
         title=f"{who}: {plural(res['count'], 'engagement')}" if res["count"] else f"{who}: no engagements recorded")


@engage_app.command("due")
def due(days: int = typer.Option(90, "--days", help="How many days ahead."),
        actor: Optional[str] = typer.Option(None, "--actor", help="Only this actor's engagements."),
        today: Optional[str] = typer.Option(None, "--today", help="Count from this day (YYYY-MM-DD; default: today)."),
        overdue: bool = typer.Option(False, "--overdue", help="Also list open follow-ups whose date has passed."),
        fmt: Format = FMT):
    """What is up for review or renewal, and the open follow-ups due, in the next N days
    (with --overdue, the open follow-ups already late too).

    Example: `citydip engage due --days 90 --actor Barcelona`
    """
    from .engage import due as due_

    _open, _fail, out, _ = _ctx()
    try:
        res = due_(_open().store, days, today=today, actor=actor, overdue=overdue)
    except CitydipError as exc:
        _fail(exc)
    rows = [{**i, "what": i["what"] + (" (overdue)" if i["overdue"] else ""),
             "parties": "; ".join(p["name"] for p in i["parties"])} for i in res["items"]]
    emit(fmt, data=res, rows=rows, columns=["due_on", "what", "text", "parties", "key"],
         title=f"due from {res['today']} to {res['until']}: {plural(res['count'], 'item')}" if res["count"]
         else f"nothing due from {res['today']} to {res['until']}")


@engage_app.command("activity")
def activity(actor: str = typer.Argument(..., help="An actor (name, id, QID or GeoNames id)."),
             dormant_years: int = typer.Option(5, "--dormant-years", help="A tie with no engagement in this many "
                                                                          "years is dormant."),
             fmt: Format = FMT):
    """An actor's activity: engagements by year, kind and axis, its most active partners,
    and its dormant twinnings and partnerships.

    Example: `citydip engage activity Barcelona --dormant-years 5`
    """
    from .engage import activity as activity_

    _open, _fail, out, _ = _ctx()
    try:
        res = activity_(_open().store, actor, dormant_years=dormant_years)
    except CitydipError as exc:
        _fail(exc)
    years = [{"year": y, "engagements": n} for y, n in res["by_year"].items()]
    rend = [table(f"{res['actor']['name']}: {plural(res['count'], 'engagement')}", years, ["year", "engagements"]),
            table("by kind", [{"kind": k, "engagements": n} for k, n in res["by_kind"].items()], ["kind", "engagements"]),
            table("most active partners", res["partners"], ["name", "id", "count", "last"]),
            table(f"dormant ties ({len(res['dormant'])} of {res['ties']}: no engagement in "
                  f"{res['dormant_years']} years)", res["dormant"][:30], ["name", "type", "since", "last_engagement"])]
    emit(fmt, data=res, rows=res["dormant"], columns=["partner", "name", "type", "since", "last_engagement"],
         renderables=rend, console=out)


@engage_app.command("export")
def export(out_file: str = typer.Option(..., "--out", help="File to write: .csv (the columns import reads) or .ics."),
           kind: Optional[str] = KIND_O, status: Optional[str] = STATUS_O, axis: Optional[str] = AXIS_O,
           actor: Optional[str] = ACTOR_O, partner: Optional[str] = PARTNER_O, country: Optional[str] = COUNTRY_O,
           layer: Optional[str] = LAYER_O, date_from: Optional[str] = FROM_O, date_to: Optional[str] = TO_O,
           q: Optional[str] = Q_O):
    """Export the register (or what the filters keep) to CSV — importing it gives the same
    register — or to iCalendar: each engagement an event, its review date and open
    follow-ups events of their own.

    Example: `citydip engage export --out barcelona.ics --actor Barcelona`
    """
    from pathlib import Path

    from .engage.io import csv_text, export_ics, export_rows

    _open, _fail, out, err = _ctx()
    suffix = Path(out_file).suffix.lower()
    if suffix not in (".csv", ".ics"):
        _fail(CitydipError(f"write to a .csv or .ics file, not '{out_file}'"))
    try:
        f = _filters(kind, status, axis, actor, partner, country, layer, date_from, date_to, q)
        store = _open().store
        if suffix == ".ics":
            n = export_ics(store, out_file, **f).count("BEGIN:VEVENT")
        else:
            rows = export_rows(store, **f)
            Path(out_file).write_text(csv_text(rows), encoding="utf-8")
            n = len(rows)
    except OSError as exc:
        _fail(CitydipError(f"cannot write {out_file}: {exc.strerror}"))
    except CitydipError as exc:
        _fail(exc)
    err.print(f"wrote {out_file} ({plural(n, 'event' if suffix == '.ics' else 'row')})", highlight=False)


@engage_app.command("delete")
def delete(key: str = typer.Argument(..., help="The engagement's key."),
           fmt: Format = FMT):
    """Delete one engagement (the ties it established stay, without its key).

    Example: `citydip engage delete BCN-0001`
    """
    from .engage import delete_engagement

    _open, _fail, out, _ = _ctx()
    try:
        res = delete_engagement(_open().store, key)
    except CitydipError as exc:
        _fail(exc)
    emit(fmt, data=res, rows=[res], columns=["key", "title", "deleted"], title="deleted")
