"""City-network member lists (``data/memberships/<network>.csv`` and ``.yaml``; see
``data/memberships/FORMAT.md``), resolved to places and written as ``member_of`` ties.

Each row names a city as its source writes it, its country, and optional evidence
(region, GeoNames id, coordinates) that tells namesakes apart; each row carries its own
source (page or file, licence, date). Rows are resolved with
:mod:`citydiplomacy.resolve` against the places built so far plus the smaller GeoNames
places (cities500), the subdivisions and the supplementary gazetteer of the countries
the lists name; a smaller place or a subdivision enters the store only when a row uses
it. Ambiguous and unresolved rows are reported (with their candidates), never tied.
A city already tied to the network by ``curated/city_networks.yaml`` (or twice in a
list) gets one tie: the first written.

Each network's YAML file gives its published member count, the source of that count and
whether the list is complete; they go into the network actor's ``attrs["members"]``, from
which :mod:`citydiplomacy.membership` computes the coverage shown wherever members are
shown or counted. A YAML file may also bring a network the store lacks (``new_network:``).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from importlib.resources.abc import Traversable
from typing import Any

from sqlalchemy import select, update

from ..dates import parse_partial_date
from ..errors import ValidationError
from ..membership import network_members
from ..model import Actor, Provenance, Tie
from ..store import schema
from ..vocab import Status
from .context import BuildContext, data_path, provenance_from
from .listed import check_place_cells, check_source_cells, list_files, read_rows, resolve_places, row_label

__all__ = ["HEADER", "STATUSES", "NetworkList", "read_lists", "build"]

#: The columns of a member-list CSV, in this order.
HEADER = ["city", "country", "admin1", "geonameid", "lat", "lon", "since", "until", "status", "role",
          "source_name", "source_url", "licence", "as_of", "note"]
#: Membership statuses a row may state (blank = active).
STATUSES = ("active", "suspended", "ended")
_ROLE = re.compile(r"^[a-z][a-z_ -]*$")


@dataclasses.dataclass
class NetworkList:
    """One network's member list: its YAML facts and its CSV rows (each row with its
    line number in the file, for messages)."""

    network: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    csv_name: str
    yaml_name: str


def _directory() -> Traversable:
    return data_path("memberships")


def read_lists(directory: Traversable | None = None) -> list[NetworkList]:
    """Read and check every ``<network>.yaml`` and its ``<network>.csv`` in ``directory``
    (default: the shipped ``data/memberships``). Raises :class:`ValidationError` naming
    the file, row and field of the first mistake."""
    directory = directory or _directory()
    if not directory.is_dir():
        return []
    out = []
    for lf in list_files(directory, "member list", "network, published_members, count_source and complete"):
        _check_meta(lf.meta, lf.key, lf.yaml_name)
        rows = _read_csv(lf.csv, lf.csv_name, lf.key) if lf.csv is not None else []
        out.append(NetworkList(lf.key, lf.meta, rows, lf.csv_name, lf.yaml_name))
    return out


def _check_meta(meta: dict[str, Any], network: str, fname: str) -> None:
    def need(cond: bool, field: str, message: str) -> None:
        if not cond:
            raise ValidationError(message, file=fname, field=field)

    need(isinstance(meta, dict), "network", "the file must be a mapping (network: ..., published_members: ...)")
    need(meta.get("network") == network, "network", f"must be '{network}', the file's name")
    pub = meta.get("published_members")
    need(pub is None or (isinstance(pub, int) and not isinstance(pub, bool) and pub > 0), "published_members",
         f"{pub!r} is not a positive whole number (the network's own published member count)")
    src = meta.get("count_source")
    if pub is not None:
        need(isinstance(src, dict) and src.get("url") and src.get("as_of"), "count_source",
             "give the count's source: {name, url, licence, as_of}")
        try:
            parse_partial_date(src["as_of"], field="count_source.as_of")
        except ValidationError as exc:
            raise ValidationError(exc.detail, file=fname, field="count_source.as_of") from None
    need(isinstance(meta.get("complete"), bool), "complete", "write true (the list is complete) or false")
    need(isinstance(meta.get("exact", False), bool), "exact",
         "write true when published_members is an exact count (not 'more than ...'), or leave it out")
    new = meta.get("new_network")
    if new is not None:
        need(isinstance(new, dict) and new.get("id") == network, "new_network.id", f"must be '{network}'")
        for key in ("name", "kind", "source"):
            need(bool(new.get(key)), f"new_network.{key}", "missing")
        need(new["kind"] == "city_network", "new_network.kind", "must be city_network")


def _read_csv(path: Traversable, fname: str, network: str) -> list[dict[str, Any]]:
    return read_rows(path, fname, HEADER, lambda raw, line: _check_row(raw, fname, line))


def _check_row(raw: dict[str, str | None], fname: str, line: int) -> dict[str, Any]:
    r = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    if None in raw:
        raise ValidationError("more cells than the header has columns (quote a cell with a comma)",
                              file=fname, row=line)

    def fail(field: str, message: str):
        raise ValidationError(message, file=fname, row=line, field=field)

    check_place_cells(r, fail)
    for key in ("since", "until"):
        try:
            r[key] = parse_partial_date(r[key], field=key)
        except ValidationError as exc:
            fail(key, exc.detail)
    if r["since"] and r["until"] and r["until"][:min(len(r["since"]), len(r["until"]))] \
            < r["since"][:min(len(r["since"]), len(r["until"]))]:
        fail("until", f"ends ({r['until']}) before it starts ({r['since']})")
    if r["status"] and r["status"] not in STATUSES:
        fail("status", f"'{r['status']}' is not one of {', '.join(STATUSES)} (blank = active)")
    if r["role"] and not _ROLE.match(r["role"]):
        fail("role", f"'{r['role']}' is not a role word (member, associate, observer, founding, ...)")
    check_source_cells(r, fail)
    r["line"] = line
    return r


# -- the build step ------------------------------------------------------------------------

def _new_network(ctx: BuildContext, nl: NetworkList) -> None:
    spec = nl.meta["new_network"]
    if spec["id"] in ctx.actor_ids:
        raise ValidationError(f"network '{spec['id']}' is already in the store; drop new_network",
                              file=nl.yaml_name, field="new_network.id")
    prov_id = ctx.provenance(provenance_from(spec["source"]))
    attrs = {k: spec[k] for k in ("note", "url", "seat") if spec.get(k)}
    actor = Actor.parse({"id": spec["id"], "name": spec["name"], "kind": "city_network",
                         "founded": spec.get("founded"), "axes": spec.get("axes"), "attrs": attrs},
                        file=nl.yaml_name)
    ctx.add_actors([ctx.actor_row(actor, prov_id)])
    names: dict[str | None, list[str]] = {None: [spec["name"], spec["id"]]}
    for lang, values in (spec.get("aliases") or {}).items():
        names[lang] = values if isinstance(values, list) else [values]
    ctx.add_aliases(ctx.alias_rows(actor.id, names, prov_id))
    ctx.count("membership_networks_added")


def _network_facts(ctx: BuildContext, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = ctx.conn.execute(select(schema.actors.c.id, schema.actors.c.kind, schema.actors.c.axes,
                                   schema.actors.c.attrs).where(schema.actors.c.id.in_(ids)))
    return {r.id: {"kind": r.kind, "axes": [a for a in (r.axes or "").split(",") if a],
                   "attrs": dict(r.attrs or {})} for r in rows}


def _record_count(ctx: BuildContext, nl: NetworkList, attrs: dict[str, Any]) -> None:
    meta = nl.meta
    src = meta.get("count_source") or {}
    attrs["members"] = {
        "published": meta.get("published_members"),
        "complete": meta["complete"],
        "exact": bool(meta.get("exact")) or meta["complete"],
        "count_source": {**{k: str(src[k]) for k in ("name", "url", "licence") if src.get(k)},
                         **({"as_of": parse_partial_date(src["as_of"], field="count_source.as_of")}
                            if src.get("as_of") else {})},
        "list": f"data/memberships/{nl.csv_name}",
    }
    ctx.conn.execute(update(schema.actors).where(schema.actors.c.id == nl.network).values(attrs=attrs))


def _seat_ties(ctx: BuildContext, lists: list[NetworkList], facts: dict[str, dict[str, Any]],
               seats: dict[str, Any], mapping: dict[str, str]) -> None:
    rows = []
    for nl in lists:
        res = seats.get(nl.network)
        if res is None:
            continue
        if not res.resolved:
            ctx.report.setdefault("unresolved_seats", []).append(f"{nl.network}: {nl.meta['new_network']['seat']}")
            continue
        prov_id = ctx.provenance(provenance_from(nl.meta["new_network"]["source"]))
        rows.append(ctx.tie_row(Tie(source=mapping.get(res.id, res.id), target=nl.network, type="hosts",
                                    axes=facts[nl.network]["axes"]), prov_id))
    ctx.add_ties(rows)


def build(ctx: BuildContext, directory: Traversable | None = None) -> None:
    """The build step: every member list of ``directory`` (default: the shipped
    ``data/memberships``) resolved and written; the figures go to ``ctx.report["memberships"]``."""
    lists = read_lists(directory)
    for nl in lists:
        if nl.meta.get("new_network"):
            _new_network(ctx, nl)
    facts = _network_facts(ctx, [nl.network for nl in lists])
    for nl in lists:
        if nl.network not in facts:
            raise ValidationError(f"no network '{nl.network}' in the store: add it to "
                                  "curated/city_networks.yaml or give a new_network block", file=nl.yaml_name,
                                  field="network")
        if facts[nl.network]["kind"] != "city_network":
            raise ValidationError(f"'{nl.network}' is a {facts[nl.network]['kind']}, not a city network",
                                  file=nl.yaml_name, field="network")
        _record_count(ctx, nl, facts[nl.network]["attrs"])

    all_rows = [r for nl in lists for r in nl.rows]
    seat_of = {nl.network: seat for nl in lists if (seat := (nl.meta.get("new_network") or {}).get("seat"))}
    flat, seat_results, mapping = resolve_places(ctx, all_rows, seat_of.values())
    results, i = [], 0
    for nl in lists:
        results.append(flat[i:i + len(nl.rows)])
        i += len(nl.rows)
    # the seat of a network this step adds, as curated networks have theirs (a hosts tie)
    seats = dict(zip(seat_of, seat_results))

    _seat_ties(ctx, lists, facts, seats, mapping)
    held = {(k[0], k[1]) for k in ctx._tie_keys if k[2] == "member_of"}
    report: dict[str, Any] = {}
    for nl, rs in zip(lists, results):
        ties, rules, reasons = [], Counter(), Counter()
        unresolved, ambiguous = [], {}
        merged = 0
        axes = facts[nl.network]["axes"]
        for r, res in zip(nl.rows, rs):
            label = row_label(r)
            if not res.resolved:
                reasons[res.rule or res.status] += 1
                if res.status == "ambiguous":
                    ambiguous[label] = [c.label() for c in res.candidates[:3]]
                else:
                    unresolved.append(f"{label}: {res.rule}")
                continue
            rules[res.rule] += 1
            member = mapping.get(res.id, res.id)
            if (member, nl.network) in held:
                merged += 1
                continue
            held.add((member, nl.network))
            prov_id = ctx.provenance(Provenance(source=r["source_name"], url=r["source_url"],
                                                licence=r["licence"], as_of=r["as_of"]))
            ties.append(ctx.tie_row(Tie.parse({
                "source": member, "target": nl.network, "type": "member_of", "since": r["since"],
                "until": r["until"], "status": r["status"] or Status.ACTIVE.value, "axes": axes,
                "note": r["note"] or None, "attrs": {"role": r["role"]} if r["role"] else {}},
                file=nl.csv_name), prov_id))
        written = ctx.add_ties(ties)
        meta = nl.meta
        pub = meta.get("published_members")
        figures = network_members(ctx.conn, nl.network, with_sources=False)
        report[nl.network] = {
            "rows": len(nl.rows),
            "resolved": sum(rules.values()),
            "ambiguous": sum(1 for res in rs if res.status == "ambiguous"),
            "unresolved": sum(1 for res in rs if res.status == "unresolved"),
            "ties_written": written,
            "already_held": merged,
            "members_held": figures["held"],
            "published_members": pub,
            "coverage": figures["coverage"],
            "complete": meta["complete"],
            "matched_by_rule": dict(rules.most_common()),
            "unresolved_by_reason": dict(reasons.most_common()),
            "unresolved_rows": unresolved,
            "ambiguous_rows": ambiguous,
        }
        ctx.count("membership_list_ties", written)
    ctx.report["memberships"] = report
