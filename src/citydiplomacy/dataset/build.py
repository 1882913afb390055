"""Building the default dataset into a store, in one transaction."""

from __future__ import annotations

import gc
import logging
import time
from typing import Callable

from ..store import Store
from ..resolve import geonames
from . import (cities, covenant, engagements, frameworks, memberships, micro_actors, organizations, states,
               territories, tie_changes, twinning)
from .context import BuildContext

#: the build's log: a line as it starts, one per step (what it added, its seconds), one at
#: the end; ``citydip serve`` shows them in its log (docs/web.md)
log = logging.getLogger(__name__)

#: (step name, builder) in the order they run; later steps use what earlier ones built.
STEPS: list[tuple[str, Callable[[BuildContext], None]]] = [
    ("states", states.build),
    ("territories", territories.build),
    ("cities", cities.build),
    ("organisations and city networks", organizations.build),
    # member lists before the micro actors: a list may bring a network (100 Resilient Cities)
    # that a foundation's ties point at
    ("network member lists", memberships.build),
    ("private actors and civil society", micro_actors.build),
    ("SDG framework", frameworks.build_sdg),
    ("Paris Agreement", frameworks.build_paris),
    ("twinning network", twinning.build),
    ("Covenant of Mayors signatories", covenant.build),
    ("curated changes of ties", tie_changes.build),
    # after the Covenant: its commitments are pledges of the register
    ("declarations, pledges and events", engagements.build),
]


def build_default(store: Store, *, force: bool = False,
                  progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Fill ``store`` with the default dataset and return the run's summary.

    With ``force`` the store's current contents are replaced. The whole build is one
    transaction: if any step fails, the store is left exactly as it was.
    """
    t0 = time.perf_counter()
    # The build holds millions of long-lived objects (GeoNames records, the gazetteer's
    # names) and makes few reference cycles: the cyclic collector's full passes re-scan
    # them all for nothing. Paused for the build: 42 s of CPU became 31 s, with the same
    # peak memory (benchmarks/bench_kb.py).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(store, force=force, progress=progress, t0=t0)
    finally:
        if collecting:
            gc.enable()


def _build(store: Store, *, force: bool, progress, t0: float) -> dict:
    with store.transaction() as conn:
        if force:
            store.clear(conn)
        elif not store.is_empty():
            from ..errors import CitydipError

            raise CitydipError("the store already holds data; use --force to rebuild it")
        run_id = store.start_run(conn, "default-dataset", "citydiplomacy default dataset")
        ctx = BuildContext(store=store, conn=conn, run_id=run_id)
        timings = {}
        log.info("building the default dataset into %s: %d steps", store.path or store.url, len(STEPS))
        for i, (name, step) in enumerate(STEPS):
            if progress:
                progress(name, i, len(STEPS))
            t = time.perf_counter()
            before = dict(ctx.counts)
            step(ctx)
            timings[name] = round(time.perf_counter() - t, 2)
            log.info("build step %d/%d, %s: %s in %.1f s", i + 1, len(STEPS), name,
                     describe_counts(_added(before, ctx.counts)), timings[name])
        if progress:
            progress("done", len(STEPS), len(STEPS))
        summary = {"counts": ctx.counts, "report": ctx.report, "seconds": timings,
                   "total_seconds": round(time.perf_counter() - t0, 2)}
        store.finish_run(conn, run_id, summary)
        t = time.perf_counter()
        store.analyze(conn)
        log.info("build: planner statistics in %.1f s; committing", time.perf_counter() - t)
    geonames.clear_caches()  # the GeoNames records and their name index are large; free them
    c = ctx.counts
    log.info("built the default dataset in %.1f s: %s actors, %s ties, %s aliases", time.perf_counter() - t0,
             f"{c.get('actors', 0):,}", f"{sum(v for k, v in c.items() if k.startswith('ties.')):,}",
             f"{c.get('aliases', 0):,}")
    return summary


def _added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def describe_counts(counts: dict[str, int]) -> str:
    """A step's counts (what it added to ``BuildContext.counts``) in one phrase:
    "34,006 actors, 34,006 ties (34,006 located_in), 259,310 aliases; cities 34,006"."""
    ties = {k.split(".", 1)[1]: v for k, v in counts.items() if k.startswith("ties.")}
    parts = [f"{counts['actors']:,} actors"] if counts.get("actors") else []
    if ties:
        kinds = ", ".join(f"{v:,} {k}" for k, v in sorted(ties.items(), key=lambda kv: -kv[1]))
        parts.append(f"{sum(ties.values()):,} ties ({kinds})")
    if counts.get("aliases"):
        parts.append(f"{counts['aliases']:,} aliases")
    other = [f"{k.removeprefix('framework.').replace('.', ' ').replace('_', ' ')} {v:,}"
             for k, v in counts.items() if k not in ("actors", "aliases") and not k.startswith("ties.")]
    return "; ".join(x for x in (", ".join(parts), ", ".join(other)) if x) or "nothing added"
