"""Composite-index benchmark: the Monte Carlo uncertainty analysis and the Sobol
sensitivity analysis of ``citydiplomacy.indices.uncertainty`` on a generated table.

The table (seeded): ``--units`` units x ``--indicators`` indicators spread over the three
axes (10 each by default), mixing the shapes real city indicators have -- skewed counts
with many zeros (ties, memberships), log-normal magnitudes where lower is better
(emissions per capita), shares in [0, 1] and roughly normal scores -- with ``--missing``
of the cells blank at random, and 20 groups (regions) for group-mean imputation.

The nominal index is the shipped framework's choice (mean imputation, outlier treatment,
min-max, equal weights, arithmetic mean); the uncertainty analysis uses the default
:class:`UncertaintyConfig`: imputation mean / group mean / regression, outlier treatment
on / off, min-max / rank / z-score, arithmetic / geometric mean, weights x U(0.75, 1.25)
-- 36 combinations.

Prints one table, timing in the same process
(a) the fast path (``monte_carlo``): every combination's normalised table made once,
    replications as matrix products, batched; ``--replications`` replications;
(b) the naive path (``engine="naive"``: the ``steps`` functions run for every
    replication) on ``--naive-replications`` replications, scaled to ``--replications``
    (its set-up once, plus the time per replication measured between the progress
    calls); the ratio naive / fast is the speed-up;
(c) the fast path on the naive run's replications (same draws): its ranks must be
    identical, replication by replication;
(d) ``sensitivity`` at ``--n-base`` (n_base x (factors + 2) runs).
Target: (a) under 60 s on 2 cores. CPU time counts all threads: on a busy machine it is
the steadier figure (the load average is printed). Peak memory is the process's maximum
resident set.

Run:  python benchmarks/bench_indices.py [--units 25000] [--indicators 30] [--replications 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

from citydiplomacy.indices.spec import Indicator, PipelineConfig
from citydiplomacy.indices.uncertainty import UncertaintyConfig, monte_carlo, sensitivity

from _report import table  # noqa: E402  (benchmarks/, run as a script)

TARGET_S = 60.0
AXES = ("sustainability", "digital", "engagement")


CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], label: str = "") -> tuple[float, Any]:
    """Wall time of ``fn()`` (and its CPU time, all threads, in ``CPU[label]``)."""
    c, t = os.times(), time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t
    e = os.times()
    CPU[label] = (e.user - c.user) + (e.system - c.system)
    return wall, out


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def generate(units: int, indicators: int, missing: float, seed: int = 0
             ) -> tuple[pd.DataFrame, list[Indicator], pd.Series]:
    """A seeded table of ``units`` x ``indicators`` (round robin over the three axes),
    its indicators and the units' groups.

    Indicators of an axis share a latent level (itself correlated across axes, as real
    city indicators are: a large, internationally active city scores high on most of
    them), z = 0.7 axis + 0.7 noise, axis = 0.6 overall + 0.8 noise; z is then shaped as
    counts, magnitudes, shares or scores.
    """
    rng = np.random.default_rng(seed)
    overall = rng.standard_normal(units)
    level = {a: 0.6 * overall + 0.8 * rng.standard_normal(units) for a in AXES}
    cols: dict[str, np.ndarray] = {}
    inds: list[Indicator] = []
    for j in range(indicators):
        axis = AXES[j % 3]
        z = 0.7 * level[axis] + 0.7 * rng.standard_normal(units)
        kind = (j // 3) % 4
        direction = 1
        if kind == 0:    # counts: ties, memberships -- many zeros, a long tail
            v = rng.poisson(np.exp(1.2 * z)).astype(float)
        elif kind == 1:  # magnitudes where lower is better (emissions per capita)
            v = np.exp(1.5 - 0.8 * z)
            direction = -1
        elif kind == 2:  # shares (SDG coverage of initiatives)
            v = 1.0 / (1.0 + np.exp(-(z - 1.0)))
        else:            # scores (e-government)
            v = 60.0 + 15.0 * z
        v[rng.random(units) < missing] = np.nan
        code = f"{axis[:3]}_{j // 3:02d}"
        cols[code] = v
        inds.append(Indicator(code=code, name=code, axis=axis, direction=direction))
    X = pd.DataFrame(cols, index=[f"u{i:06d}" for i in range(units)])
    groups = pd.Series(rng.integers(0, 20, units).astype(str), index=X.index)
    return X, inds, groups


def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=25_000, help="units (cities) in the generated table")
    ap.add_argument("--indicators", type=int, default=30, help="indicators, spread over the three axes")
    ap.add_argument("--replications", type=int, default=1000,
                    help="Monte Carlo replications of the fast path")
    ap.add_argument("--naive-replications", type=int, default=20,
                    help="replications of the naive path (its time is scaled to --replications)")
    ap.add_argument("--n-base", type=int, default=256, help="Sobol base sample of the sensitivity analysis")
    ap.add_argument("--missing", type=float, default=0.10, help="share of blank cells")
    ap.add_argument("--seed", type=int, default=0, help="seed of the table and of the Monte Carlo")
    args = ap.parse_args()

    print(f"generating {args.units:,} units x {args.indicators} indicators ({args.missing:.0%} missing, "
          f"seed {args.seed}) ...", flush=True)
    X, inds, groups = generate(args.units, args.indicators, args.missing, args.seed)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    config = PipelineConfig(imputation="mean")
    uc = UncertaintyConfig(n=args.replications, seed=args.seed)
    uc_naive = uc.model_copy(update={"n": args.naive_replications})
    n, k = args.replications, args.naive_replications

    print(f"fast path, {n} replications ...", flush=True)
    t_fast, mc = timed(lambda: monte_carlo(X, inds, config, uc, groups=groups), "fast")
    print(f"naive path, {k} replications ...", flush=True)
    stamps: list[float] = []

    def stamp(done: int, total: int) -> None:
        stamps.append(time.perf_counter())

    t_naive, naive = timed(lambda: monte_carlo(X, inds, config, uc_naive, groups=groups, engine="naive",
                                               progress=stamp), "naive")
    # the naive run's own set-up (the nominal pipeline) is paid once: scale its replications only
    per_replication = (stamps[-1] - stamps[0]) / (k - 1) if k > 1 else t_naive
    t_same, same = timed(lambda: monte_carlo(X, inds, config, uc_naive, groups=groups), "same")
    identical = np.array_equal(same.ranks, naive.ranks)
    print(f"sensitivity, n_base {args.n_base} ...", flush=True)
    t_sens, si = timed(lambda: sensitivity(X, inds, config, uc, n_base=args.n_base, groups=groups), "sens")

    naive_scaled = t_naive + per_replication * (n - k)
    ok = t_fast < TARGET_S
    width = mc.summary["overall_rank_hi"] - mc.summary["overall_rank_lo"]
    rows = [
        [f"**fast path (monte_carlo), {n} replications**", str(n), f"**{fmt(t_fast)}**",
         fmt(CPU["fast"]), f"{n / t_fast:.1f}", f"target < {TARGET_S:.0f} s{'' if ok else ' (MISSED)'}; "
         f"median width of the overall 90 % rank interval: {width.median():.0f} ranks"],
        [f"naive path (steps.* per replication), {k} replications", str(k), fmt(t_naive),
         fmt(CPU["naive"]), f"{1 / per_replication:.2f}",
         f"{fmt(per_replication)} per replication; scaled to {n}: {fmt(naive_scaled)}"],
        ["**naive / fast**", "—", f"**{naive_scaled / t_fast:.0f}×**", "—", "—",
         f"the naive path scaled to {n} replications, over the fast path"],
        [f"fast path on the naive run's {k} replications", str(k), fmt(t_same), fmt(CPU["same"]),
         f"{k / t_same:.1f}", f"ranks identical to the naive path: {'yes' if identical else 'NO'} "
         f"(time includes the nominal pipeline run and the tables' set-up)"],
        [f"sensitivity (Sobol, n_base {args.n_base})", str(si.attrs["runs"]), fmt(t_sens),
         fmt(CPU["sens"]), f"{si.attrs['runs'] / t_sens:.1f}",
         "ST: " + ", ".join(f"{r.factor} {r.ST:.2f}" for r in si.itertuples())],
    ]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table(f"{args.units:,} units x {args.indicators} indicators, {cores} cores (load average "
          f"{load_before:.1f} before, {load:.1f} after); peak memory {peak_gib():.2f} GiB",
          ["run", "replications", "wall time", "CPU time", "replications / s", "note"], rows)


if __name__ == "__main__":
    main()
