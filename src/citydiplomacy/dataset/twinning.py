"""The twinning network from Wikipedia's lists of twin towns and sister cities
(``data/twinning/twin_cities_raw.csv``, CC BY-SA 4.0), resolved to city actors.

Resolution here is deliberately strict — only what resolves *exactly* is loaded:

1. the country cell resolves to one country ("England" → GB; "Brandenburg, Germany"
   → DE with the region hint "Brandenburg");
2. the city name, normalised (accents, case, script), equals the name or an alternate
   name of a GeoNames place in that country (places of 15,000+ first, then smaller
   places from cities500);
3. if several places match, the tie is broken only by unambiguous evidence, in this
   order: the region hint names the place's region; exactly one candidate carries the
   name as its main name; one candidate is the capital; one candidate has at least
   ``DOMINANCE`` times the population of the next (a twin partner called "Frankfurt"
   is Frankfurt am Main, not a village). Otherwise the name is *ambiguous*.

Everything else is reported (in the import run's summary), never guessed. Rows
naming the same pair twice (each city's page lists the other) load once.
"""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any

from ..countries import parse_place
from ..model import Provenance, Tie
from ..text import normalize
from . import cities
from .context import BuildContext, data_path

DOMINANCE = 5.0

TWINNING_PROVENANCE = Provenance(
    source="Wikipedia — Lists of twin towns and sister cities (81 pages), scraped "
           "early 2026 (Hekman/twincities, twin_cities_raw.csv, commit 84ebdec2)",
    url="https://en.wikipedia.org/wiki/Lists_of_twin_towns_and_sister_cities",
    licence="CC BY-SA 4.0", as_of="2026-01-01",
    note="names resolved to GeoNames places by exact (normalised) name within the country")


def read_rows() -> list[dict[str, str]]:
    with data_path("twinning", "twin_cities_raw.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _key(name: str, country_cell: str) -> tuple[str, str, str] | None:
    country, region = parse_place(country_cell)
    if country is None or not name.strip():
        return None
    return normalize(name), country.alpha2, normalize(region) if region else ""


def resolve_exact(ctx: BuildContext, key: tuple[str, str, str]) -> tuple[str | None, str]:
    """(actor id or None, rule or reason) for a (name, ISO2, region hint) key."""
    norm, cc, region = key
    ids = ctx.city_index.get((norm, cc))
    if not ids:
        return None, "no_match"
    ids = list(dict.fromkeys(ids))
    if len(ids) == 1:
        return ids[0], "unique_name"
    info = ctx.city_info
    if region:
        hit = [i for i in ids if info[i]["admin1"] == region or info[i]["norm"] == region]
        if len(hit) == 1:
            return hit[0], "region_hint"
    main = [i for i in ids if info[i]["norm"] == norm]
    if len(main) == 1:
        return main[0], "main_name"
    pool = main or ids
    capital = [i for i in pool if info[i]["capital"]]
    if len(capital) == 1:
        return capital[0], "capital"
    ranked = sorted(pool, key=lambda i: -info[i]["population"])
    if info[ranked[0]]["population"] >= DOMINANCE * max(info[ranked[1]]["population"], 1):
        return ranked[0], "dominant_population"
    return None, "ambiguous"


def build(ctx: BuildContext) -> None:
    rows = read_rows()
    keys = set()
    for row in rows:
        for side in ("1", "2"):
            k = _key(row[f"city{side}"], row[f"country{side}"])
            if k:
                keys.add(k)
    # places below 15,000 inhabitants that the list names: add them from cities500
    missing = {(n, cc) for n, cc, _ in keys if (n, cc) not in ctx.city_index}
    towns = cities.prepare_towns(ctx, missing)

    resolved: dict[tuple[str, str, str], tuple[str | None, str]] = {
        k: resolve_exact(ctx, k) for k in keys}
    prov_id = ctx.provenance(TWINNING_PROVENANCE)
    rules: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    unresolved: dict[str, int] = {}
    ties = []
    for row in rows:
        ends = []
        for side in ("1", "2"):
            k = _key(row[f"city{side}"], row[f"country{side}"])
            actor, rule = resolved.get(k, (None, "bad_country")) if k else (None, "bad_country")
            ends.append(actor)
            if actor is None:
                problems[rule] += 1
                label = f"{row[f'city{side}']} ({row[f'country{side}']}): {rule}"
                unresolved[label] = unresolved.get(label, 0) + 1
            else:
                rules[rule] += 1
        if None in ends:
            continue
        if ends[0] == ends[1]:
            problems["same_place"] += 1
            continue
        ties.append(ctx.tie_row(Tie(source=ends[0], target=ends[1], type="twinned_with",
                                    axes=["engagement"]), prov_id))
    # only the smaller places that a loaded tie names enter the store
    used = {end for t in ties if t for end in (t["source"], t["target"])}
    kept = cities.insert_cities(ctx, towns, used)
    cities.discard_cities(ctx, set(towns) - set(kept))
    ctx.count("towns", len(kept))
    loaded = ctx.add_ties(ties)
    resolved_rows = sum(1 for row in rows if all(
        (k := _key(row[f"city{s}"], row[f"country{s}"])) and resolved.get(k, (None,))[0]
        for s in ("1", "2")))
    ctx.report["twinning"] = {
        "rows": len(rows),
        "rows_resolved_both_sides": resolved_rows,
        "ties_loaded": loaded,
        "distinct_names": len(keys),
        "names_resolved": sum(1 for v in resolved.values() if v[0]),
        "matched_by_rule": dict(rules),
        "unresolved_by_reason": dict(problems),
        "unresolved_names": dict(sorted(unresolved.items(), key=lambda kv: -kv[1])),
    }
