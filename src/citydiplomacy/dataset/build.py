"""Building the default dataset into a store, in one transaction."""

from __future__ import annotations

import gc
import time
from typing import Callable

from ..store import Store
from ..resolve import geonames
from . import (cities, covenant, frameworks, memberships, micro_actors, organizations, states, territories,
               tie_changes, twinning)
from .context import BuildContext

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
        for i, (name, step) in enumerate(STEPS):
            if progress:
                progress(name, i, len(STEPS))
            t = time.perf_counter()
            step(ctx)
            timings[name] = round(time.perf_counter() - t, 2)
        if progress:
            progress("done", len(STEPS), len(STEPS))
        summary = {"counts": ctx.counts, "report": ctx.report, "seconds": timings,
                   "total_seconds": round(time.perf_counter() - t0, 2)}
        store.finish_run(conn, run_id, summary)
        store.analyze(conn)
    geonames.clear_caches()  # the GeoNames records and their name index are large; free them
    return summary
