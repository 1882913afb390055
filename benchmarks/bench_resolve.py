"""Entity-resolution benchmark: quality on the hand-labelled twinning sample, and speed
on every distinct name of the raw twinning list.

Quality: ``tests/data/resolution_labels.csv`` holds 400 (name, country) pairs drawn at
random from the raw twinning list and labelled by hand with a GeoNames id or NONE (see
``tests/data/resolution_labels.md``). Precision = correct / resolved; recall = correct /
labelled with an id. Targets: precision >= 0.97, recall >= 0.90. Beside them, the 228
qualified and namesake names of ``tests/data/resolution_namesakes.csv`` (names with a
qualifier, names of states and provinces, namesakes of a regional capital; target:
precision >= 0.99).

Speed: resolving all distinct (name, country) pairs of the 26,114 rows (target: under 60
s for the whole list on 2 cores), in names per second; then the share of rows resolved on
both sides (target: 90%), with and without new districts of cities.

Baseline, run in the same process: strict exact matching (a name that equals exactly one
place's name or alias in the country), the rule the first default dataset used.

Run: python benchmarks/bench_resolve.py [--home DIR]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import citydiplomacy
from citydiplomacy.resolve import geonames, subdivisions, supplement
from citydiplomacy.countries import parse_place
from citydiplomacy.dataset.twinning import read_rows
from citydiplomacy.resolve.evaluation import evaluate, resolver_answer
from citydiplomacy.resolve.listcontext import settle_rows
from citydiplomacy.resolve import Gazetteer, Resolver
from citydiplomacy.text import normalize

LABELS = Path(__file__).resolve().parents[1] / "tests" / "data" / "resolution_labels.csv"
#: 228 qualified and namesake names (tests/data/resolution_namesakes.md): precision >= 0.99.
NAMESAKES = LABELS.with_name("resolution_namesakes.csv")


def strict_exact(gz: Gazetteer, name: str, country: str):
    c, _ = parse_place(country)
    if c is None:
        return None
    ids = list(dict.fromkeys(gz.by_name.get((normalize(name), c.alpha2), [])))
    return ids[0] if len(ids) == 1 else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", help="store home (default: the default home; built if empty)")
    ap.add_argument("--show-errors", action="store_true")
    args = ap.parse_args()
    obs = citydiplomacy.open(home=args.home)
    with LABELS.open(encoding="utf-8") as fh:
        labels = list(csv.DictReader(fh))
    with NAMESAKES.open(encoding="utf-8") as fh:
        namesakes = list(csv.DictReader(fh))

    t = time.perf_counter()
    gz = Gazetteer.from_store(obs.store)
    load_store = time.perf_counter() - t
    t = time.perf_counter()
    geonames.extend_gazetteer(gz)
    load_geonames = time.perf_counter() - t
    t = time.perf_counter()
    subdivisions.extend_gazetteer(gz)
    load_subdivisions = time.perf_counter() - t
    t = time.perf_counter()
    supplement.extend_gazetteer(gz)
    load_supplement = time.perf_counter() - t
    resolver = Resolver(gz)
    ours = resolver_answer(resolver, gz)

    def baseline(name, country):
        pid = strict_exact(gz, name, country)
        return ("place", gz.places[pid].geonames_id) if pid else None

    q_ours, q_base = evaluate(labels, ours), evaluate(labels, baseline)
    n_ours, n_base = evaluate(namesakes, ours), evaluate(namesakes, baseline)

    raw = read_rows()
    pairs = sorted({(row[f"city{s}"], row[f"country{s}"]) for row in raw for s in "12"})
    t = time.perf_counter()
    by_pair = resolver.resolve_many(pairs)
    results = list(by_pair.values())
    resolve_s = time.perf_counter() - t
    t = time.perf_counter()
    keyrows = [((r["city1"], r["country1"]), (r["city2"], r["country2"])) for r in raw]
    per_row, _ = settle_rows(resolver, keyrows, by_pair)
    context_s = time.perf_counter() - t
    both = [ends for ends in per_row if all(e.resolved for e in ends)]
    # a district of a city that no gazetteer holds: new here, or written by an earlier build
    without_new = [ends for ends in both if not any(gz.places[e.id].parent for e in ends)]
    t = time.perf_counter()
    for n, c in pairs:
        strict_exact(gz, n, c)
    base_s = time.perf_counter() - t
    share = sum(r.resolved for r in results) / len(results)

    n_places = sum(1 for r in labels if r["geonameid"])
    n_subs = sum(1 for r in labels if r.get("subdivision"))
    print(f"resolution on {len(labels)} hand-labelled twinning names "
          f"({n_places} with a GeoNames id, {n_subs} with a subdivision code)")
    print(f"{'method':34} {'resolved':>9} {'correct':>8} {'wrong':>6} {'precision':>10} {'recall':>8}")
    for label, q in (("ours: places and subdivisions", q_ours), ("ours: places only", None),
                     ("baseline: strict exact", q_base)):
        if q is None:
            p = q_ours["places"]
            print(f"{label:34} {p['resolved']:9d} {p['correct']:8d} {p['resolved'] - p['correct']:6d} "
                  f"{p['precision']:10.3f} {p['recall']:8.3f}")
            continue
        print(f"{label:34} {q['resolved']:9d} {q['correct']:8d} {q['wrong']:6d} "
              f"{q['precision']:10.3f} {q['recall']:8.3f}")
    sub = q_ours["subdivisions"]
    print(f"subdivision answers: {sub['answered']}, correct {sub['correct']} of {sub['labelled']} labelled")
    print(f"targets: precision >= 0.970 {'yes' if q_ours['precision'] >= 0.97 else 'NO'}, "
          f"recall >= 0.900 {'yes' if q_ours['recall'] >= 0.90 else 'NO'}")
    print()
    print(f"resolution on {len(namesakes)} hand-labelled qualified and namesake names")
    print(f"{'method':34} {'resolved':>9} {'correct':>8} {'wrong':>6} {'precision':>10} {'recall':>8}")
    for label, q in (("ours: places and subdivisions", n_ours), ("baseline: strict exact", n_base)):
        print(f"{label:34} {q['resolved']:9d} {q['correct']:8d} {q['wrong']:6d} "
              f"{q['precision']:10.3f} {q['recall']:8.3f}")
    print(f"target: precision >= 0.990 {'yes' if n_ours['precision'] >= 0.99 else 'NO'}")
    print()
    print(f"speed on {len(pairs):,} distinct (name, country) pairs of the raw twinning list")
    print(f"{'step':34} {'seconds':>8} {'names/s':>10}")
    print(f"{'load gazetteer from store':34} {load_store:8.2f}")
    print(f"{'add GeoNames cities500':34} {load_geonames:8.2f}")
    print(f"{'add subdivisions':34} {load_subdivisions:8.2f}")
    print(f"{'add the supplementary gazetteer':34} {load_supplement:8.2f}")
    print(f"{'resolve (ours)':34} {resolve_s:8.2f} {len(pairs) / resolve_s:10,.0f}")
    print(f"{'settle by the list order':34} {context_s:8.2f}")
    print(f"{'resolve (baseline strict exact)':34} {base_s:8.2f} {len(pairs) / base_s:10,.0f}")
    total = load_store + load_geonames + load_subdivisions + load_supplement + resolve_s + context_s
    print(f"{'total (target < 60 s)':34} {total:8.2f}   {'yes' if total < 60 else 'NO'}; "
          f"{share:.1%} of distinct names resolved")
    print()
    print(f"rows of the raw list resolved on both sides (target >= 90%): {len(both):,} of {len(raw):,} "
          f"({len(both) / len(raw):.1%}); without new districts {len(without_new):,} "
          f"({len(without_new) / len(raw):.1%})")
    if args.show_errors:
        for w in q_ours["wrong_examples"] + n_ours["wrong_examples"]:
            print("wrong:", w)


if __name__ == "__main__":
    main()
