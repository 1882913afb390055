"""Knowledge-base benchmark: `init` and the main queries on the default dataset.

Prints one table: each operation's median time, its target, and its ratio against a
baseline measured in the same process:

- init: the baseline is the bare cost of reading the shipped inputs (GeoNames JSON,
  twinning CSV, SDG YAML) without building anything; the ratio says what building,
  resolving and writing the store add on top.
- search: the baseline is an unindexed scan (``LIKE '%name%'`` over every alias);
  the ratio is how much faster the indexed search is.
- show and profile: no simpler equivalent exists; the baseline is ``search`` itself.

Run:  python benchmarks/bench_kb.py [--repeat 20] [--home DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

import citydiplomacy
from citydiplomacy.resolve import geonames
from citydiplomacy.dataset import twinning
from citydiplomacy.dataset.frameworks import _sdg_texts

QUERIES = ["Barcelona", "München", "Paris", "Nairobi", "São Paulo", "Kraków", "Springfield", "Tokyo"]
TARGET_INIT_S = 30.0
TARGET_QUERY_MS = 50.0


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--home", help="use this home (built if empty) instead of a fresh temporary one")
    args = ap.parse_args()

    rows = []
    # baseline for init: reading the inputs only
    t = time.perf_counter()
    geonames.load_records("cities15000.json")
    geonames.load_records("cities500.json")
    twinning.read_rows()
    _sdg_texts()
    read_s = time.perf_counter() - t
    geonames.load_records.cache_clear()

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="citydip-bench-"))
    t = time.perf_counter()
    obs = citydiplomacy.open(home=home)
    init_s = time.perf_counter() - t
    rows.append(("init (build default dataset)", init_s * 1000, TARGET_INIT_S * 1000,
                 "read inputs only", read_s * 1000))

    def scan(q):
        with obs.store.connect() as conn:
            conn.execute(text("SELECT actor_id FROM aliases WHERE name LIKE :q"), {"q": f"%{q}%"}).all()

    for label, fn, base_label, base in (
        ("search", lambda q: obs.search(q, limit=20), "unindexed alias scan", scan),
        ("show (actor + ties)", lambda q: obs.ties(obs.get(q)["id"]), "search", lambda q: obs.search(q)),
        ("profile", lambda q: obs.profile(q), "search", lambda q: obs.search(q)),
    ):
        ours = statistics.median(timed(lambda: fn(q), args.repeat) for q in QUERIES)
        ref = statistics.median(timed(lambda: base(q), max(3, args.repeat // 4)) for q in QUERIES)
        rows.append((label, ours * 1000, TARGET_QUERY_MS, base_label, ref * 1000))

    print(f"citydiplomacy {citydiplomacy.__version__} — knowledge base on the default dataset "
          f"({obs.status()['actors']['total']:,} actors); median over {len(QUERIES)} names "
          f"x {args.repeat} runs")
    print(f"{'operation':32} {'ms':>10} {'target ms':>10} {'ok':>4}   {'baseline':24} {'base ms':>10} {'ratio':>8}")
    for label, ms, target, base_label, base_ms in rows:
        ratio = base_ms / ms if ms else float("nan")
        print(f"{label:32} {ms:10.1f} {target:10.0f} {'yes' if ms <= target else 'NO':>4}   "
              f"{base_label:24} {base_ms:10.1f} {ratio:8.2f}")
    obs.close()


if __name__ == "__main__":
    main()
