"""Importer for Wikidata SPARQL query results (W3C SPARQL 1.1 JSON results format):
twinning (P190), memberships (P463) and actor lists (to fill Wikidata ids).

``--from-file results.json`` loads saved results (offline; tests use recorded files);
``--query NAME`` runs a shipped query (``data/wikidata/NAME.rq``) against the public
endpoint when online.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .. import __version__, limits
from ..errors import CitydipError, ValidationError
from ..model import Provenance, Tie
from ..resolve import Resolution
from ..store.schema import actors
from ..text import parse_id_number
from . import register
from .base import Plan, Problem
from .readers import read_json
from .resolving import StoreResolver, resolve_any

ENDPOINT = "https://query.wikidata.org/sparql"
QUERIES = ("twinning", "memberships", "cities", "organizations")
ENTITY = "http://www.wikidata.org/entity/"


def shipped_query(name: str, **params: str) -> str:
    if name not in QUERIES:
        raise ValidationError(f"no shipped query '{name}'; choose one of: {', '.join(QUERIES)}", field="query")
    text = resources.files("citydiplomacy").joinpath("data", "wikidata", f"{name}.rq").read_text(encoding="utf-8")
    for k, v in params.items():
        text = text.replace("{" + k.upper() + "}", v)
    return text


def fetch(query: str, *, endpoint: str = ENDPOINT, timeout: float = 120.0) -> dict[str, Any]:
    """Run ``query`` on a SPARQL endpoint; a clear error when it cannot be reached."""
    url = endpoint + "?" + urllib.parse.urlencode({"query": query, "format": "json"})
    req = urllib.request.Request(url, headers={
        "Accept": "application/sparql-results+json",
        "User-Agent": f"citydiplomacy/{__version__} (City Diplomacy Observatory)"})
    lim = limits.current()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read(lim.markup_bytes + 1 if lim.markup_bytes is not None else -1)
        if lim.markup_bytes is not None and len(raw) > lim.markup_bytes:
            raise limits.exceeded(lim, "markup_bytes", found="the endpoint's answer is larger than "
                                  f"{limits.size(lim.markup_bytes)}", file=endpoint,
                                  advice="narrow the query (e.g. by country)")
        return json.loads(raw.decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise CitydipError(f"cannot reach the SPARQL endpoint {endpoint} ({exc}); when offline, run the "
                           "query elsewhere, save the JSON results and use --from-file") from None
    except json.JSONDecodeError:
        raise CitydipError(f"the endpoint {endpoint} did not answer with JSON results") from None


def load_results(path: str | Path) -> dict[str, Any]:
    """Saved SPARQL JSON results, within the limits in force (its size, then its rows)."""
    lim = limits.current()
    data = read_json(path, what="SPARQL JSON results", limits=lim)
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) \
            or not isinstance(data["results"].get("bindings"), list):
        raise ValidationError("not SPARQL JSON results: expected {\"head\": ..., \"results\": "
                              "{\"bindings\": [...]}}", file=str(path))
    n = len(data["results"]["bindings"])
    if lim.rows is not None and n > lim.rows:
        raise limits.exceeded(lim, "rows", found=f"the results have {n:,} rows", file=str(path),
                              advice="run the query in parts (e.g. by country) and import each file")
    return data


def _value(binding: dict[str, Any], var: str) -> str | None:
    cell = binding.get(var)
    if not cell:
        return None
    v = cell.get("value")
    if cell.get("type") == "uri" and v and v.startswith(ENTITY):
        return v[len(ENTITY):]
    return v


@register("wikidata", "Wikidata SPARQL JSON results: twinning (P190), memberships (P463), city lists")
def import_wikidata(store, source=None, *, query: str | None = None, org: str | None = None,
                    endpoint: str = ENDPOINT, max_bytes: int | None = None) -> Plan:
    """``source`` is a results file; without it, ``query`` (a shipped query name) is run
    online. The kind of result is told by its variables."""
    if source:
        data, where = load_results(source), str(source)
    elif query:
        params = {"org": org} if org else {}
        if query == "organizations":
            params["names"] = " ".join(json.dumps(n) + "@en" for n in _unidentified_names(store))
        if query == "memberships" and not org:
            raise ValidationError("the memberships query needs --org QID (e.g. --org Q458)", field="org")
        data, where = fetch(shipped_query(query, **params), endpoint=endpoint), f"{endpoint} ({query})"
    else:
        raise ValidationError("give a results file (--from-file) or a query (--query twinning)", field="source")
    vars_ = set(data.get("head", {}).get("vars", []))
    bindings = data["results"]["bindings"]
    prov = Provenance(source=f"Wikidata SPARQL results ({Path(where).name if source else query})",
                      url=where if source else endpoint, licence="CC0 1.0")
    if {"item", "partner"} <= vars_:
        kind = "twinning"
    elif {"member", "org"} <= vars_:
        kind = "memberships"
    elif "item" in vars_:
        kind = "actors"
    else:
        raise ValidationError(f"unrecognised result variables {sorted(vars_)}; expected item/partner "
                              "(twinning), member/org (memberships) or item (an actor list)", file=where)
    plan = Plan(importer="wikidata", source=where, provenance=prov, options={"kind": kind})
    plan.rows_read = len(bindings)
    cells = [_value(b, v) or "" for b in bindings for v in ("itemCountry", "partnerCountry", "memberCountry")]
    sr = StoreResolver(store, [c for c in cells if c])
    qids = _qid_index(store)
    towns: set[str] = set()

    def resolve(b: dict, prefix: str) -> Resolution:
        qid, label = _value(b, prefix), _value(b, f"{prefix}Label") or ""
        if qid in qids:
            return Resolution({"name": label}, "resolved", qids[qid], 1.0, "identifier", {"wikidata": qid})
        gid = _value(b, f"{prefix}Geonames")
        if not gid and not _value(b, f"{prefix}Country"):
            # no place identifiers: an organisation or network, by exact name
            return resolve_any(store, sr, label, None)
        res = sr.resolve(label, _value(b, f"{prefix}Country"),
                         geonames_id=parse_id_number(gid) if gid else None)
        if res.resolved and sr.is_provisional(res.id):
            towns.add(res.id)
        return res

    for i, b in enumerate(bindings, start=1):
        limits.check_deadline(file=where)
        if kind == "actors":
            res = resolve(b, "item")
            qid = _value(b, "item")
            if res.resolved and not sr.is_provisional(res.id):
                plan.count_resolution(res)
                plan.updates.append((res.id, {"wikidata": qid}))
            elif not res.resolved:
                plan.problem_from(res, row=i, field_name="item", file=where)
            continue
        a, z = ("item", "partner") if kind == "twinning" else ("member", "org")
        ends = {}
        for var in (a, z):
            res = resolve(b, var)
            ends[var] = res.id if res.resolved else None
            if res.resolved:
                plan.count_resolution(res)
            else:
                plan.problem_from(res, row=i, field_name=var, file=where)
        if None in ends.values():
            continue
        if ends[a] == ends[z]:
            plan.problems.append(Problem(row=i, field=z, file=where, reason="both ends are the same actor"))
            continue
        tie_type = "twinned_with" if kind == "twinning" else "member_of"
        plan.ties.append((Tie(source=ends[a], target=ends[z], type=tie_type,
                              axes=["engagement"] if kind == "twinning" else []), "actor"))
    plan.towns = sorted(towns)
    sr.finish_plan(plan)
    return plan


def _qid_index(store) -> dict[str, str]:
    with store.connect() as conn:
        return {r.wikidata: r.id for r in conn.execute(
            select(actors.c.id, actors.c.wikidata).where(actors.c.wikidata.is_not(None)))}


def _unidentified_names(store) -> list[str]:
    """Names of the store's non-place actors that have no Wikidata id yet."""
    with store.connect() as conn:
        return [r.name for r in conn.execute(select(actors.c.name).where(
            actors.c.wikidata.is_(None), actors.c.kind.not_in(["city", "state", "region"])).order_by(actors.c.name))]
