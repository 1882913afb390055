"""Answers at the speed of a question: the interactive commands, timed from the shell,
and the network questions against the old path, timed in one process.

Prints three tables:

1. Each command run as a user runs it (``python -m citydiplomacy ...``, a new process
   each time): median wall time and CPU time over ``--repeat`` runs, against the targets
   of issue 17 (1.5 s for show, ties, profile, search, network reach; ``network metrics
   --top N`` 5 s cold, 1.5 s warm). *Cold* is right after a write (the results kept
   beside the store are gone: the cache directory is removed); *warm* is the next run.
   Bytecode is cached as for an installed package (``PYTHONPYCACHEPREFIX`` in a temporary
   directory), even where ``PYTHONDONTWRITEBYTECODE`` is set.
2. The same questions through the library in this process: the old path (the whole
   graph built, exact betweenness over four scopes, every actor's brokerage and vertical
   integration for one profile) against the new one, cold and warm, with the ratios.
3. The import time of the command line (``python -X importtime``), largest packages.

Run:  python benchmarks/bench_speed.py --home DIR [--repeat 3]   (DIR holds a built store)
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import table  # noqa: E402

import citydiplomacy  # noqa: E402
from citydiplomacy.network import brokerage, build_graph, centrality, reach  # noqa: E402
from citydiplomacy.network.cache import result_cache  # noqa: E402
from citydiplomacy.network.metrics import metrics  # noqa: E402
from citydiplomacy.profile import network_section  # noqa: E402

TARGET_QUERY_S = 1.5
TARGET_METRICS_COLD_S = 5.0
TARGET_METRICS_WARM_S = 1.5
CITY = "Barcelona"


def run_cli(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one ``citydip`` run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"citydip {' '.join(args)} failed:\n{proc.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def clear_cache(obs) -> None:
    cache = result_cache(obs.store)
    if cache is not None and cache.directory.exists():
        shutil.rmtree(cache.directory)


def shell_table(obs, env: dict[str, str], repeat: int) -> None:
    cases = [
        (["show", CITY], "", TARGET_QUERY_S),
        (["ties", CITY], "", TARGET_QUERY_S),
        (["search", CITY], "", TARGET_QUERY_S),
        (["profile", CITY, "--no-network"], "", TARGET_QUERY_S),
        (["profile", CITY], "cold", None),
        (["profile", CITY], "warm", TARGET_QUERY_S),
        (["network", "reach", CITY], "cold", None),
        (["network", "reach", CITY], "warm", TARGET_QUERY_S),
        (["network", "metrics", "--type", "twinned_with", "--top", "5"], "cold", TARGET_METRICS_COLD_S),
        (["network", "metrics", "--type", "twinned_with", "--top", "5"], "warm", TARGET_METRICS_WARM_S),
        (["network", "metrics", "--top", "5"], "cold", TARGET_METRICS_COLD_S),
        (["network", "metrics", "--top", "5"], "warm", TARGET_METRICS_WARM_S),
    ]
    rows = []
    for args, state, target in cases:
        walls, cpus = [], []
        for _ in range(repeat):
            if state == "cold":
                clear_cache(obs)
            elif state == "warm":
                run_cli(args, env)      # make sure what it keeps is there
            wall, cpu = run_cli(args, env)
            walls.append(wall)
            cpus.append(cpu)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        rows.append([f"`citydip {' '.join(args)}`", state or "—", f"{wall:.2f} s", f"{cpu:.2f} s",
                     f"{target:g} s" if target else "—",
                     ("yes" if wall <= target else "**no**") if target else "—",
                     ("yes" if cpu <= target else "**no**") if target else "—"])
    load = os.getloadavg()[0]
    table(f"From the shell (median of {repeat}; wall and CPU time of the process; load average {load:.1f} "
          f"on {os.cpu_count()} CPUs: with other jobs running, wall time is CPU time plus the wait for a core)",
          ["command", "cache", "wall", "CPU", "target", "met (wall)", "met (CPU)"], rows)


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def old_network_section(dg, actor_id: str, kind: str) -> dict:
    """The profile's network section before: every actor's measures, then one row."""
    same_kind = [v["name"] for v in dg.g.vs if v["kind"] == kind]
    out = {}
    for name, values in (("degree", centrality.degree(dg)), ("pagerank", centrality.pagerank(dg))):
        mine = values.get(actor_id, 0.0)
        out[name] = {"value": mine, "rank": 1 + sum(1 for i in same_kind if values.get(i, 0.0) > mine)}
    out["brokerage"] = next(r for r in brokerage.brokerage(dg, group="layer") if r["id"] == actor_id)
    out["reach"] = reach.reach(dg, actor_id, max_depth=3)
    if kind == "city":
        ranked = reach.vertical_integration_all(dg)
        out["vi"] = next(r for r in ranked if r["id"] == actor_id)
    return out


def library_table(home: Path, skip_old_full: bool) -> None:
    def fresh():
        return citydiplomacy.open(home=home, build=False)

    obs = fresh()
    actor = obs.get(CITY)["id"]
    questions = []

    # network metrics --type twinned_with --top 5
    def old_metrics(tie_types):
        dg = build_graph(obs.store, tie_types=tie_types)
        return metrics(dg, sample=None, scopes=None)        # exact, four scopes, no cache

    def new_metrics(tie_types):
        return metrics(fresh().graph(tie_types=tie_types), scopes=["all"])   # sample="auto"

    for label, types in (("metrics, twinning graph", ["twinned_with"]), ("metrics, whole graph", None)):
        if types is None and skip_old_full:
            old = None
        else:
            old, _ = timed(lambda: old_metrics(types))
        clear_cache(obs)
        cold, _ = timed(lambda: new_metrics(types))
        warm, _ = timed(lambda: new_metrics(types), 3)
        questions.append((label, old, cold, warm))

    # profile Barcelona (its network section; the rest is unchanged)
    def old_profile():
        dg = build_graph(obs.store)
        return old_network_section(dg, actor, "city")

    def new_profile():
        return network_section(fresh().graph(), actor, "city")

    old, _ = timed(old_profile)
    clear_cache(obs)
    cold, _ = timed(new_profile)
    warm, _ = timed(new_profile, 3)
    questions.append(("profile's network section", old, cold, warm))

    # network reach Barcelona
    def old_reach():
        dg = build_graph(obs.store)
        return reach.reach(dg, actor, max_depth=3), reach.vertical_integration(dg, actor)

    def new_reach():
        dg = fresh().graph()
        return reach.reach(dg, actor, max_depth=3), reach.vertical_integration(dg, actor)

    old, _ = timed(old_reach)
    clear_cache(obs)
    cold, _ = timed(new_reach)
    warm, _ = timed(new_reach, 3)
    questions.append(("network reach", old, cold, warm))

    def fmt(x):
        return "—" if x is None else f"{x:.2f} s"

    def ratio(a, b):
        return "—" if a is None else f"{a / b:.1f}×"

    table("Through the library, in this process (old path against new; ratio = old / new)",
          ["question", "old path", "new, cold", "new, warm", "old / cold", "old / warm"],
          [[q, fmt(o), fmt(c), fmt(w), ratio(o, c), ratio(o, w)] for q, o, c, w in questions])


def import_table(env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import citydiplomacy.cli"], env=env,
                          capture_output=True, text=True)
    rows, total = [], None
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if not m:
            continue
        cumulative, name = int(m.group(2)), m.group(4)
        if name == "citydiplomacy.cli":
            total = cumulative
        # each package where it is first imported (its own line), and our modules
        if "." not in name and name != "citydiplomacy" or name.count(".") == 1 and name.startswith("citydiplomacy."):
            rows.append((cumulative, name))
    rows.sort(reverse=True)
    walls = [run_cli(["--help"], env)[0] for _ in range(3)]
    print(f"\n`citydip --help`: {statistics.median(walls):.2f} s wall (median of 3)")
    table(f"Import of the command line: {total / 1e6:.2f} s (python -X importtime; cumulative)" if total
          else "Import of the command line", ["module", "cumulative"],
          [[f"`{name}`", f"{c / 1e3:.0f} ms"] for c, name in rows[:12]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", required=True, help="a home directory holding a built store")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--imports-only", action="store_true", help="print the import table only")
    ap.add_argument("--skip-old-full", action="store_true",
                    help="leave out the old path's exact betweenness of the whole graph (minutes)")
    args = ap.parse_args()
    home = Path(args.home)
    obs = citydiplomacy.open(home=home, build=False)
    with tempfile.TemporaryDirectory(prefix="citydip-bytecode-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(CITYDIP_HOME=str(home), PYTHONPYCACHEPREFIX=pycache, COLUMNS="100")
        run_cli(["--help"], env)                                  # write the bytecode once
        if args.imports_only:
            import_table(env)
            return
        print(f"# bench_speed: {home}, {os.cpu_count()} CPUs, load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        shell_table(obs, env, args.repeat)
        library_table(home, args.skip_old_full)
        import_table(env)


if __name__ == "__main__":
    main()
