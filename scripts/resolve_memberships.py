"""How well do the member lists in data/memberships/ resolve to places?

Builds a gazetteer from GeoNames (cities500, only the names the lists use), the
subdivisions and the supplementary places, as the dataset build does for the twinning
list, and resolves every row with :class:`citydiplomacy.resolve.Resolver` using the row's
evidence (admin1, geonameid, lat/lon). Prints the resolved share per network and, with
``--show``, the rows that did not resolve. A development aid: the build step that loads
these files does its own resolution.

Usage::

    PYTHONPATH=src python scripts/resolve_memberships.py            # share per network
    PYTHONPATH=src python scripts/resolve_memberships.py --show ubc # and ubc's failures
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from citydiplomacy.resolve import geonames, subdivisions, supplement
from citydiplomacy.resolve import (
    Gazetteer,
    Resolver,
    name_variants,
    split_name,
    with_territories,
)

MEMBERSHIPS = Path(__file__).resolve().parents[1] / "src" / "citydiplomacy" / "data" / "memberships"


def read(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            out[path.stem] = list(csv.DictReader(fh))
    return out


def resolver_for(lists: dict[str, list[dict[str, str]]]) -> Resolver:
    rows = [r for rs in lists.values() for r in rs]
    ccs = with_territories({r["country"] for r in rows})
    wanted = {v for r in rows for part in [r["city"], *split_name(r["city"])] for v, _ in name_variants(part)}
    # the places a row names by GeoNames id are wanted too (a row's id is its strongest evidence)
    records = geonames.load_records("cities500.json")
    wanted |= {v for r in rows if r["geonameid"] in records
               for v, _ in name_variants(records[r["geonameid"]]["name"])}
    gz = Gazetteer()
    geonames.extend_gazetteer(gz, ccs, wanted)
    subdivisions.extend_gazetteer(gz, ccs)
    supplement.extend_gazetteer(gz, ccs, wanted)
    return Resolver(gz)


def resolve_row(resolver: Resolver, row: dict[str, str]):
    lat = float(row["lat"]) if row["lat"] else None
    lon = float(row["lon"]) if row["lon"] else None
    gid = int(row["geonameid"]) if row["geonameid"] else None
    return resolver.resolve(row["city"], row["country"], region=row["admin1"] or None, lat=lat, lon=lon,
                            geonames_id=gid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: PYTHONPATH=src python scripts/resolve_memberships.py --show owhc")
    parser.add_argument("--dir", type=Path, default=MEMBERSHIPS)
    parser.add_argument("--show", nargs="*", default=[], help="networks whose unresolved rows to list")
    args = parser.parse_args(argv)
    lists = {k: v for k, v in read(args.dir).items() if v}
    resolver = resolver_for(lists)
    total = ok = 0
    for network, rows in lists.items():
        results = [resolve_row(resolver, r) for r in rows]
        n_ok = sum(res.resolved for res in results)
        total += len(rows)
        ok += n_ok
        print(f"{network:40} {n_ok:5}/{len(rows):<5} {n_ok / len(rows):6.1%}")
        if network in args.show:
            for r, res in zip(rows, results):
                if not res.resolved:
                    print(f"    {r['city']} ({r['country']}{', ' + r['admin1'] if r['admin1'] else ''}): "
                          f"{res.status}, {res.rule}")
    if total:
        print(f"{'total':40} {ok:5}/{total:<5} {ok / total:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
