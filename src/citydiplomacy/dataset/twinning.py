"""The twinning network from Wikipedia's lists of twin towns and sister cities
(``data/twinning/twin_cities_raw.csv``, CC BY-SA 4.0), resolved to city actors with
:mod:`citydiplomacy.resolve`.

Every distinct (name, country) is resolved once against the places built so far plus
the smaller GeoNames places (cities500), the subdivisions (ISO 3166-2, US counties) and the
supplementary gazetteer's municipalities of the countries the list names (and their
dependent territories); a smaller place or a subdivision enters the store only when a
loaded tie uses it. Names left ambiguous between
places of one name are then settled, row by row, where the list's order says which
(:mod:`citydiplomacy.resolve.listcontext`). Names the resolver is not sure of are reported (with
their candidates) in the import run's summary, never guessed. Rows naming the same pair
twice (each city's page lists the other) load once.
"""

from __future__ import annotations

import csv
from collections import Counter

from ..resolve import districts, geonames, subdivisions, supplement
from ..countries import parse_place
from ..resolve.listcontext import settle_rows
from ..model import Provenance, Tie
from ..resolve import Resolver, name_variants, split_name, with_territories
from . import cities
from .context import BuildContext, data_path

TWINNING_PROVENANCE = Provenance(
    source="Wikipedia — Lists of twin towns and sister cities (81 pages), scraped "
           "early 2026 (Hekman/twincities, twin_cities_raw.csv, commit 84ebdec2)",
    url="https://en.wikipedia.org/wiki/Lists_of_twin_towns_and_sister_cities",
    licence="CC BY-SA 4.0", as_of="2026-01-01",
    note="names resolved to GeoNames places by citydiplomacy.resolve")


def read_rows() -> list[dict[str, str]]:
    with data_path("twinning", "twin_cities_raw.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _place_lookup(ctx: BuildContext, resolver: Resolver, rows, ends_per_row, mapping):
    """(name, country cell) -> (actor ids, reason): the places this build resolved the
    name to in the list's rows, else the resolver's answer if that place is in the store."""
    by_name: dict[tuple[str, str], set[str]] = {}
    for row, ends in zip(rows, ends_per_row):
        for s, e in zip(("1", "2"), ends):
            if e is not None:
                by_name.setdefault((row[f"city{s}"], row[f"country{s}"]), set()).add(mapping.get(e, e))

    def lookup(name: str, cell: str) -> tuple[set[str], str | None]:
        if (name, cell) in by_name:
            return by_name[(name, cell)], None
        res = resolver.resolve(name, cell)
        if not res.resolved:
            return set(), f"{res.status}: {res.evidence.get('reason') or res.rule}"
        pid = mapping.get(res.id, res.id)
        if pid not in ctx.actor_ids:
            return set(), f"resolves to {res.id}, a place no tie of the build uses (not in the store)"
        return {pid}, None
    return lookup


def build(ctx: BuildContext) -> None:
    rows = read_rows()
    sides = [(row[f"city{s}"], row[f"country{s}"]) for row in rows for s in ("1", "2")]
    pairs = set(sides)
    ccs = {c.alpha2 for _, cell in pairs if (c := parse_place(cell)[0]) is not None}
    gz = ctx.gazetteer
    # only the smaller places whose names the list uses (exactly, or a variant of them)
    wanted = {v for name, _ in pairs for part in [name, *split_name(name)] for v, _ in name_variants(part)}
    geonames.extend_gazetteer(gz, with_territories(ccs), wanted)
    subdivisions.extend_gazetteer(gz, with_territories(ccs))
    supplement.extend_gazetteer(gz, with_territories(ccs), wanted)
    resolver = Resolver(gz)
    results = resolver.resolve_many(pairs)
    keyrows = [((row["city1"], row["country1"]), (row["city2"], row["country2"])) for row in rows]
    per_row, settled = settle_rows(resolver, keyrows, results)

    prov_id = ctx.provenance(TWINNING_PROVENANCE)
    rules: Counter[str] = Counter()
    problems: Counter[str] = Counter()
    unresolved: Counter[str] = Counter()
    ends_per_row = []
    for row, row_results in zip(rows, per_row):
        ends = []
        for s, res in zip(("1", "2"), row_results):
            ends.append(res.id)
            if res.resolved:
                rules[res.rule] += 1
            else:
                problems[res.rule] += 1
                unresolved[f"{row[f'city{s}']} ({row[f'country{s}']}): {res.status}, {res.rule}"] += 1
        ends_per_row.append(ends)
    used = {e for ends in ends_per_row if None not in ends for e in ends}
    # a new district is written under its city, which may be a small town not yet written
    used |= {districts.record(gz, e)["city"] for e in used if districts.is_provisional(e)}
    mapping = {**cities.materialise(ctx, used), **cities.materialise_regions(ctx, used),
               **cities.materialise_supplement(ctx, used)}
    mapping.update(cities.materialise_districts(ctx, used, mapping, prov_id))
    ties, same = [], 0
    for ends in ends_per_row:
        if None in ends:
            continue
        a, b = (mapping.get(e, e) for e in ends)
        if a == b:
            same += 1
            continue
        ties.append(ctx.tie_row(Tie(source=a, target=b, type="twinned_with", axes=["engagement"]), prov_id))
    # provisional places left in the gazetteer are never written; the build ends here
    loaded = ctx.add_ties(ties)
    ctx.place_lookup = _place_lookup(ctx, resolver, rows, ends_per_row, mapping)
    names_ok = sum(1 for r in results.values() if r.resolved)
    ctx.report["twinning"] = {
        "rows": len(rows),
        "rows_resolved_both_sides": sum(1 for ends in ends_per_row if None not in ends),
        "ties_loaded": loaded,
        "same_place_rows": same,
        "distinct_names": len(results),
        "names_resolved": names_ok,
        "names_ambiguous": sum(1 for r in results.values() if r.status == "ambiguous"),
        "names_settled_by_list_order": dict(settled),
        "regions_loaded": sum(1 for e in used if subdivisions.is_provisional(e)),
        "districts_created": sum(1 for e in used if districts.is_provisional(e)),
        "supplement_places_loaded": sum(1 for e in used if supplement.is_provisional(e)),
        "rows_resolved_both_sides_without_new_districts": sum(
            1 for ends in ends_per_row if None not in ends and not any(map(districts.is_provisional, ends))),
        "matched_by_rule": dict(rules.most_common()),
        "unresolved_by_reason": dict(problems.most_common()),
        "unresolved_names": dict(unresolved.most_common()),
        "ambiguous_candidates": {
            f"{name} ({cell})": [c.label() for c in r.candidates[:3]]
            for (name, cell), r in sorted(results.items()) if r.status == "ambiguous"},
    }
