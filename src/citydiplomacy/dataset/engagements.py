"""The engagement register's default data: declarations and pledges that cities sign, and
events where they meet (``data/engagements/<id>.yaml`` and ``<id>.csv``; see
``data/engagements/FORMAT.md``), resolved to actors and written to ``engagements`` and
``engagement_parties``.

Each YAML file describes one engagement (its kind, title, a text in our own words, dates,
place, organisers, axes, status and source, and the published count of its signatories
with that count's source); its CSV lists the parties, one row each, with the evidence
columns of the network member lists and each row's own source. Rows are resolved with
the same machinery as the member lists (:func:`.listed.resolve_places`); ambiguous and
unresolved rows are reported with their candidates, never written.

A pledge may instead take its parties from data the build already holds:
``parties_from: covenant`` with ``commitment: CoM2020`` (``CoM2030``, ``CoM2050``,
``MayorsAdapt``) lists every signatory of the Covenant of Mayors (the JRC's open data,
built by :mod:`.covenant`) that holds that commitment, with its date of adhesion where that
date is the commitment's own (see :func:`_covenant_parties`).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from importlib.resources.abc import Traversable
from typing import Any

from sqlalchemy import func, select

from ..dates import parse_partial_date
from ..engage.model import ROLES, STATUSES, sort_keys
from ..errors import ValidationError
from ..model import Provenance
from ..store import schema
from ..store.rows import refresh_party_layers
from . import covenant
from .context import BuildContext, data_path, provenance_from
from .listed import (NON_COMMERCIAL, check_place_cells, check_source_cells, list_files, read_rows, resolve_places,
                     row_label)

__all__ = ["HEADER", "KINDS", "ROLES", "STATUSES", "COMMITMENTS", "EngagementFile", "read_engagements", "build"]

#: The columns of a party list, in this order.
HEADER = ["city", "country", "admin1", "geonameid", "lat", "lon", "role", "signed_on", "source_name", "source_url",
          "licence", "as_of", "note"]
#: Kinds of the shipped engagements (a user may add others through the register).
KINDS = ("declaration", "pledge", "event")
# Roles a party may have in a shipped list are the register's (ROLES, imported above;
# blank = signatory for a declaration or pledge, participant for an event). A council that
# endorses an appeal or a call signs it.
AXES = ("sustainability", "digital", "engagement")
#: The Covenant of Mayors' commitments (the JRC's ``commitments`` column), in the order
#: they were opened to signatories: 2008, 2014 (Mayors Adapt), 2015, 2021.
COMMITMENTS = ("CoM2020", "MayorsAdapt", "CoM2030", "CoM2050")
#: When each commitment opened to signatories (partial dates): the Covenant's launch, Mayors
#: Adapt's launch, the 2030 targets adopted in Brussels on 15 October 2015, the 2050
#: climate-neutrality commitment of 2021.
OPENED = {"CoM2020": "2008-01", "MayorsAdapt": "2014-03", "CoM2030": "2015-10", "CoM2050": "2021"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclasses.dataclass
class EngagementFile:
    """One engagement: its YAML facts and its CSV rows (each row with its line number)."""

    key: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    yaml_name: str
    csv_name: str


def _directory() -> Traversable:
    return data_path("engagements")


def read_engagements(directory: Traversable | None = None) -> list[EngagementFile]:
    """Read and check every ``<id>.yaml`` and its ``<id>.csv`` in ``directory`` (default:
    the shipped ``data/engagements``). Raises :class:`ValidationError` naming the file,
    row and field of the first mistake."""
    directory = directory or _directory()
    if not directory.is_dir():
        return []
    out = []
    for lf in list_files(directory, "party list", "id, kind, title, text, dates, source"):
        key, meta, name, csv_name = lf.key, lf.meta, lf.yaml_name, lf.csv_name
        _check_meta(meta, key, name)
        if meta.get("parties_from"):
            if lf.csv is not None:
                raise ValidationError(f"parties_from: {meta['parties_from']} takes the parties from the build; "
                                      f"remove {csv_name} or parties_from", file=name, field="parties_from")
            rows = []
        elif lf.csv is not None:
            default_role = "participant" if meta["kind"] == "event" else "signatory"
            rows = read_rows(lf.csv, csv_name, HEADER,
                             lambda raw, line, csv_name=csv_name, default_role=default_role:
                             _check_row(raw, csv_name, line, default_role))
        else:
            raise ValidationError(f"no party list: add {csv_name} (header {','.join(HEADER)})", file=name)
        out.append(EngagementFile(key, meta, rows, name, csv_name))
    return out


def _check_source(src: Any, fname: str, field: str) -> None:
    if not isinstance(src, dict) or not all(src.get(k) for k in ("name", "url", "licence", "as_of")):
        raise ValidationError("give the source as {name, url, licence, as_of}", file=fname, field=field)
    if NON_COMMERCIAL.search(str(src["licence"])):
        raise ValidationError(f"'{src['licence']}' is a non-commercial licence; such data is never shipped",
                              file=fname, field=f"{field}.licence")
    try:
        parse_partial_date(src["as_of"], field=f"{field}.as_of")
    except ValidationError as exc:
        raise ValidationError(exc.detail, file=fname, field=f"{field}.as_of") from None


def _check_meta(meta: Any, key: str, fname: str) -> None:
    def need(cond: bool, field: str, message: str) -> None:
        if not cond:
            raise ValidationError(message, file=fname, field=field)

    need(isinstance(meta, dict), "id", "the file must be a mapping (id: ..., kind: ..., title: ...)")
    need(meta.get("id") == key, "id", f"must be '{key}', the file's name")
    need(bool(_KEY.match(key)), "id", "lower-case letters, digits and dashes only")
    need(meta.get("kind") in KINDS, "kind", f"{meta.get('kind')!r} is not one of {', '.join(KINDS)}")
    for field in ("title", "text"):
        need(isinstance(meta.get(field), str) and meta[field].strip() != "", field,
             "missing: a title, and a text in your own words (one or two sentences)")
    for field in ("signed_on", "start_on", "end_on"):
        try:
            meta[field] = parse_partial_date(meta.get(field), field=field)
        except ValidationError as exc:
            raise ValidationError(exc.detail, file=fname, field=field) from None
    if meta["kind"] == "event":
        need(bool(meta.get("start_on")), "start_on", "an event needs its start date")
    else:
        need(bool(meta.get("signed_on")), "signed_on", "a declaration or pledge needs the date it was signed or opened")
    s, e = meta.get("start_on"), meta.get("end_on")
    if s and e:
        n = min(len(s), len(e))
        need(e[:n] >= s[:n], "end_on", f"ends ({e}) before it starts ({s})")
    need(meta.get("status", "active") in STATUSES, "status",
         f"{meta.get('status')!r} is not one of {', '.join(STATUSES)}")
    axes = meta.get("axes") or []
    need(isinstance(axes, list) and all(a in AXES for a in axes), "axes",
         f"a list of {', '.join(AXES)}")
    place = meta.get("place")
    need(place is None or (isinstance(place, dict) and place.get("city") and place.get("country")), "place",
         "give the place as {city, country}")
    orgs = meta.get("organisers") or []
    need(isinstance(orgs, list) and all(isinstance(o, str) for o in orgs), "organisers",
         "a list of actor ids of the store (c40, uclg, ...)")
    _check_source(meta.get("source"), fname, "source")
    pub = meta.get("published_parties")
    need(pub is None or (isinstance(pub, int) and not isinstance(pub, bool) and pub > 0), "published_parties",
         f"{pub!r} is not a positive whole number (the published count of signatories or participants)")
    if pub is not None:
        _check_source(meta.get("count_source"), fname, "count_source")
    need(isinstance(meta.get("complete", False), bool), "complete", "write true (the list is complete) or false")
    frm = meta.get("parties_from")
    if frm is not None:
        need(frm == "covenant", "parties_from", "the only source of parties in the build is 'covenant'")
        need(meta.get("commitment") in COMMITMENTS, "commitment",
             f"{meta.get('commitment')!r} is not one of {', '.join(COMMITMENTS)}")


def _check_row(raw: dict[str, str | None], fname: str, line: int, default_role: str) -> dict[str, Any]:
    if None in raw:
        raise ValidationError("more cells than the header has columns (quote a cell with a comma)",
                              file=fname, row=line)
    r = {k: (v or "").strip() for k, v in raw.items()}

    def fail(field: str, message: str):
        raise ValidationError(message, file=fname, row=line, field=field)

    check_place_cells(r, fail)
    r["role"] = r["role"] or default_role
    if r["role"] not in ROLES:
        fail("role", f"'{r['role']}' is not one of {', '.join(ROLES)}")
    try:
        r["signed_on"] = parse_partial_date(r["signed_on"], field="signed_on")
    except ValidationError as exc:
        fail("signed_on", exc.detail)
    check_source_cells(r, fail)
    r["line"] = line
    return r


# -- the build step ------------------------------------------------------------------------

def _covenant_commitments(ctx: BuildContext) -> list[tuple[str, str | None, list[str]]]:
    """(actor, adhesion, commitments in the order they opened) of every signatory the
    Covenant step tied to the Covenant, read once for all the Covenant's pledges."""
    t = schema.ties
    rows = ctx.conn.execute(select(t.c.source, t.c.since, t.c.attrs).where(
        t.c.type == "member_of", t.c.target.in_([covenant.NETWORK, covenant.GLOBAL_NETWORK])))
    out = []
    for source, since, attrs in rows:
        held = (attrs or {}).get("commitments") or []
        out.append((source, since, [c for c in COMMITMENTS if c in held]))
    return out


def _covenant_parties(signatories: list[tuple[str, str | None, list[str]]], commitment: str) -> list[dict[str, Any]]:
    """The Covenant's signatories (as the Covenant step tied them) that hold ``commitment``.

    The JRC's data give one date per signatory, its adhesion: the date of the first
    commitment it made. It is the party's date when ``commitment`` is the earliest the
    signatory holds and the adhesion is not older than the commitment itself (a signatory of
    2012 listed with the 2030 commitment alone moved to it later, at a date the data do not
    give). Otherwise the party has no date (``signed_on`` empty, the adhesion in ``attrs``)."""
    opened = OPENED[commitment]
    out = []
    for source, since, held in signatories:
        if commitment not in held:
            continue
        first = held[0] == commitment and bool(since) and since[:len(opened)] >= opened
        out.append({"actor": source, "signed_on": since if first else None,
                    "attrs": {"adhesion": since} if not first and since else {}})
    return out


def _resolve_places_of(ctx: BuildContext, files: list[EngagementFile]):
    rows = [r for ef in files for r in ef.rows]
    places = [ef.meta["place"] for ef in files if ef.meta.get("place")]
    flat, place_results, mapping = resolve_places(ctx, rows, places)
    results, i = {}, 0
    for ef in files:
        results[ef.key] = flat[i:i + len(ef.rows)]
        i += len(ef.rows)
    it = iter(place_results)
    place_of = {ef.key: next(it) for ef in files if ef.meta.get("place")}
    return results, place_of, mapping


def build(ctx: BuildContext, directory: Traversable | None = None) -> None:
    """The build step: every engagement of ``directory`` (default: the shipped
    ``data/engagements``) with its parties resolved and written; the figures go to
    ``ctx.report["engagements"]``."""
    files = read_engagements(directory)
    if not files:
        return
    for ef in files:
        for org in ef.meta.get("organisers") or []:
            if org not in ctx.actor_ids:
                raise ValidationError(f"no actor '{org}' in the store: name an organisation of the store "
                                      "(citydip search) or add it to the curated data", file=ef.yaml_name,
                                      field="organisers")
    results, place_of, mapping = _resolve_places_of(ctx, files)

    eng_rows = []
    for ef in files:
        m = ef.meta
        place = m.get("place")
        res = place_of.get(ef.key)
        attrs = {k: m[k] for k in ("published_parties", "complete", "organisers", "parties_from", "commitment", "note")
                 if m.get(k) is not None}
        if m.get("count_source"):
            attrs["count_source"] = {k: str(v) for k, v in m["count_source"].items()}
        attrs["list"] = f"data/engagements/{ef.csv_name if not m.get('parties_from') else ef.yaml_name}"
        eng_rows.append({
            "key": ef.key, "kind": m["kind"], "title": m["title"].strip(), "text": " ".join(m["text"].split()),
            "signed_on": m.get("signed_on"), "start_on": m.get("start_on"), "end_on": m.get("end_on"),
            "place_id": mapping.get(res.id, res.id) if res is not None and res.resolved else None,
            "place": f"{place['city']}, {place['country']}" if place else None,
            "status": m.get("status", "active"), "axes": ",".join(m.get("axes") or []),
            "attrs": attrs, "provenance_id": ctx.provenance(provenance_from(m["source"])),
        })
    eng_rows = [{**r, **sort_keys(r)} for r in eng_rows]
    ctx.store.insert_many(ctx.conn, schema.engagements, eng_rows)
    e = schema.engagements
    ids = dict(ctx.conn.execute(select(e.c.key, e.c.id).where(e.c.key.in_([ef.key for ef in files]))).all())
    ctx.count("engagements", len(eng_rows))

    cov_prov = ctx.provenance(covenant.PROVENANCE)
    signatories = _covenant_commitments(ctx) if any(ef.meta.get("parties_from") for ef in files) else []
    party_rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    for ef in files:
        eid, m = ids[ef.key], ef.meta
        first = len(party_rows)
        seen: set[tuple[str, str]] = set()
        written = 0
        rules, reasons = Counter(), Counter()
        unresolved, ambiguous = [], {}
        src_prov = ctx.provenance(provenance_from(m["source"]))
        for org in m.get("organisers") or []:
            seen.add((org, "organiser"))
            party_rows.append({"engagement_id": eid, "actor_id": org, "role": "organiser", "signed_on": None,
                               "attrs": None, "provenance_id": src_prov})
        if m.get("parties_from") == "covenant":
            for p in _covenant_parties(signatories, m["commitment"]):
                seen.add((p["actor"], "signatory"))
                party_rows.append({"engagement_id": eid, "actor_id": p["actor"], "role": "signatory",
                                   "signed_on": p["signed_on"], "attrs": p["attrs"] or None,
                                   "provenance_id": cov_prov})
                written += 1
            rows_n = resolved = written
        else:
            for r, res in zip(ef.rows, results[ef.key]):
                if not res.resolved:
                    reasons[res.rule or res.status] += 1
                    if res.status == "ambiguous":
                        ambiguous[row_label(r)] = [c.label() for c in res.candidates[:3]]
                    else:
                        unresolved.append(f"{row_label(r)}: {res.rule}")
                    continue
                rules[res.rule] += 1
                actor = mapping.get(res.id, res.id)
                if (actor, r["role"]) in seen:
                    continue
                seen.add((actor, r["role"]))
                prov = ctx.provenance(Provenance(source=r["source_name"], url=r["source_url"],
                                                 licence=r["licence"], as_of=r["as_of"]))
                attrs = {"name": r["city"], **({"note": r["note"]} if r["note"] else {})}
                party_rows.append({"engagement_id": eid, "actor_id": actor, "role": r["role"],
                                   "signed_on": r["signed_on"], "attrs": attrs, "provenance_id": prov})
                written += 1
            rows_n, resolved = len(ef.rows), sum(rules.values())
        parties = party_rows[first:]
        kinds = _kinds(ctx, {p["actor_id"] for p in parties})
        report[ef.key] = {
            "kind": m["kind"], "title": m["title"], "rows": rows_n, "resolved": resolved,
            "ambiguous": sum(1 for res in results[ef.key] if res.status == "ambiguous"),
            "unresolved": sum(1 for res in results[ef.key] if res.status == "unresolved"),
            "parties_written": written,
            "cities": sum(1 for p in parties if kinds.get(p["actor_id"]) == "city"),
            "published_parties": m.get("published_parties"), "complete": bool(m.get("complete")),
            "matched_by_rule": dict(rules.most_common()),
            "unresolved_by_reason": dict(reasons.most_common()),
            "unresolved_rows": unresolved, "ambiguous_rows": ambiguous,
        }
    ctx.store.insert_many(ctx.conn, schema.engagement_parties, party_rows)
    refresh_party_layers(ctx.conn, ids.values())
    ctx.count("engagement_parties", len(party_rows))
    ctx.report["engagements"] = report


def _kinds(ctx: BuildContext, ids: set[str]) -> dict[str, str]:
    a, out, ids_ = schema.actors, {}, sorted(ids)
    for i in range(0, len(ids_), 500):
        out.update(ctx.conn.execute(select(a.c.id, a.c.kind).where(a.c.id.in_(ids_[i:i + 500]))).all())
    return out


def party_counts(conn) -> dict[str, int]:
    """Engagements by kind and city–engagement links in a store (the figures the docs and
    tests quote)."""
    e, p, a = schema.engagements, schema.engagement_parties, schema.actors
    kinds = dict(conn.execute(select(e.c.kind, func.count()).group_by(e.c.kind)).all())
    links = conn.execute(select(func.count()).select_from(p.join(a, a.c.id == p.c.actor_id))
                         .where(a.c.kind == "city")).scalar()
    return {**{f"kind.{k}": v for k, v in kinds.items()}, "city_links": links}
