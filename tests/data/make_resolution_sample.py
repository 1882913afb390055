"""Draw the 400 (name, country) pairs of the entity-resolution evaluation set.

Every side of every row of the Wikipedia twinning list (city1/country1 and
city2/country2) is a (name, country) pair as written in the list. The distinct pairs
are sorted (so the draw does not depend on file order or set iteration) and 400 are
drawn with ``random.Random(20261128).sample``. This script only samples; the labels
in ``resolution_labels.csv`` were decided by hand (see ``resolution_labels.md``).

Usage: python tests/data/make_resolution_sample.py [RAW_CSV] > sample.csv
"""

from __future__ import annotations

import csv
import random
import sys

RAW = "/work/shared/data/twinning/twin_cities_raw.csv"
SEED = 20261128
SIZE = 400


def distinct_pairs(path: str) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            pairs.add((row["city1"], row["country1"]))
            pairs.add((row["city2"], row["country2"]))
    return sorted(pairs)


def sample(path: str = RAW) -> list[tuple[str, str]]:
    return random.Random(SEED).sample(distinct_pairs(path), SIZE)


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else RAW
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["name", "country"])
    writer.writerows(sample(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
