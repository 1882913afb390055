"""Member-list benchmark: what the "network member lists" build step costs in `init`.

Builds the default dataset twice into fresh stores, in the same process: once as
shipped, and once with the member-list step reading no rows (the baseline: the networks
the lists add are still made, since later steps tie to them). Times are CPU seconds of
this process (``time.process_time``), so that other work on a shared machine does not
blur them; wall-clock seconds are printed beside. The table gives each step's time in
both builds, the whole build against its target (45 s on 2 cores) and the ratio of the
two builds; then the per-network figures of the build's report. The member-list step
shares the GeoNames name index with the twinning step, so its net cost is the
difference of the totals, not its own line.

Run:  python benchmarks/bench_memberships.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import citydiplomacy
from citydiplomacy.dataset import build, memberships

TARGET_INIT_S = 45.0


def timed_build(skip: str | None = None) -> tuple[dict, dict[str, tuple[float, float]], float]:
    """Build into a fresh store; return the summary, {step: (cpu s, wall s)} and the total CPU s."""
    steps = list(build.STEPS)
    times: dict[str, tuple[float, float]] = {}

    def timed(name, fn):
        def run(ctx):
            c, w = time.process_time(), time.perf_counter()
            fn(ctx)
            times[name] = (time.process_time() - c, time.perf_counter() - w)
        return run

    def without_rows(ctx):
        # the baseline keeps the networks the lists add (later steps tie to them: the
        # funders of 100 Resilient Cities) but reads no member rows
        with tempfile.TemporaryDirectory() as folder:
            src = memberships._directory()
            for item in src.iterdir():
                if item.name.endswith(".yaml"):
                    (Path(folder) / item.name).write_text(item.read_text(encoding="utf-8"), encoding="utf-8")
                    (Path(folder) / item.name.replace(".yaml", ".csv")).write_text(
                        ",".join(memberships.HEADER) + "\n", encoding="utf-8")
            memberships.build(ctx, Path(folder))

    build.STEPS[:] = [(n, timed(n, without_rows if n == skip else f)) for n, f in steps]
    try:
        with tempfile.TemporaryDirectory() as home:
            c = time.process_time()
            obs = citydiplomacy.open(home=home, build=False)
            summary = obs.init()
            total = time.process_time() - c
            obs.close()
    finally:
        build.STEPS[:] = steps
    return summary, times, total


def main() -> None:
    t = time.perf_counter()
    lists = memberships.read_lists()
    read_ms = (time.perf_counter() - t) * 1000
    rows = sum(len(nl.rows) for nl in lists)

    summary, times, total = timed_build()
    _, base_times, base_total = timed_build(skip="network member lists")
    print(f"{len(lists)} member lists, {rows:,} rows (read and checked in {read_ms:.0f} ms)\n")
    print("| operation | CPU time | wall time | target | baseline: build without member rows | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| init (whole build) | {total:.1f} s | {summary['total_seconds']:.1f} s | {TARGET_INIT_S:.0f} s | "
          f"{base_total:.1f} s | {total / base_total:.2f} |")
    for name, (cpu, wall) in times.items():
        base = base_times.get(name)
        print(f"| step: {name} | {cpu:.2f} s | {wall:.2f} s | | {f'{base[0]:.2f} s' if base else '–'} | |")
    print("\n| network | rows | resolved | ambiguous | unresolved | ties written | members held | published | coverage |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for net, r in sorted(summary["report"]["memberships"].items()):
        cov = f"{r['coverage']:.1%}" if r["coverage"] is not None else "–"
        print(f"| {net} | {r['rows']} | {r['resolved']} | {r['ambiguous']} | {r['unresolved']} | "
              f"{r['ties_written']} | {r['members_held']} | {r['published_members'] or '–'} | {cov} |")


if __name__ == "__main__":
    main()
