"""Knowledge-base benchmark: `init` and the main queries on the default dataset.

Prints one table: each operation's median time, its target, and its ratio against a
baseline measured in the same process:

- init: the baseline is the bare cost of reading the shipped inputs (GeoNames JSON,
  twinning CSV, Covenant of Mayors CSV, SDG YAML) without building anything; the ratio
  says what building, resolving and writing the store add on top. The build's own
  seconds per step (wall clock and CPU) follow the table.
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
from citydiplomacy.dataset import build as build_module, covenant, twinning
from citydiplomacy.dataset.frameworks import sdg_texts

QUERIES = ["Barcelona", "München", "Paris", "Nairobi", "São Paulo", "Kraków", "Springfield", "Tokyo"]
TARGET_INIT_S = 45.0
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
    covenant.read_signatories()
    sdg_texts()
    read_s = time.perf_counter() - t
    geonames.load_records.cache_clear()
    sdg_texts.cache_clear()

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="citydip-bench-"))
    cpu: dict[str, float] = {}

    def step_timed(name, step):
        def run(ctx):
            c = time.process_time()
            step(ctx)
            cpu[name] = time.process_time() - c
        return run

    steps = build_module.STEPS
    build_module.STEPS = [(name, step_timed(name, step)) for name, step in steps]
    t, c = time.perf_counter(), time.process_time()
    obs = citydiplomacy.open(home=home)
    init_s, init_cpu = time.perf_counter() - t, time.process_time() - c
    build_module.STEPS = steps
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
    if cpu:
        wall = _step_seconds(obs)
        print(f"\n{'build step':40} {'wall s':>8} {'cpu s':>8}")
        for name, _ in steps:
            print(f"{name:40} {wall.get(name, float('nan')):8.2f} {cpu.get(name, float('nan')):8.2f}")
        print(f"{'init, all of it':40} {init_s:8.2f} {init_cpu:8.2f}   (cpu: this process's CPU time, which "
              "stays put when other jobs share the cores)")
    obs.close()


def _step_seconds(obs) -> dict[str, float]:
    """Seconds per build step, as the build recorded them in its run's summary."""
    from sqlalchemy import select

    from citydiplomacy.store.schema import import_runs

    with obs.store.connect() as conn:
        summary = conn.execute(select(import_runs.c.summary).where(import_runs.c.kind == "default-dataset")
                               .order_by(import_runs.c.id.desc())).scalar()
    return (summary or {}).get("seconds", {})


if __name__ == "__main__":
    main()
