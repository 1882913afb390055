"""Speed of the engagement register (issue 18): listing and filtering 100,000 engagements
through the API, and importing 10,000 rows with their alignment (light mode).

1. **Listing.** A copy of the built store gets 100,000 engagements (each with two or three
   parties among the 3,000 most prominent cities and the city networks; kinds, statuses,
   axes and dates drawn at random with a fixed seed), written straight into the tables in
   one transaction with the sort keys every writer stores (``engage.model.sort_keys``) —
   the listing is measured, not the writing. Each scenario then asks
   ``GET /api/v1/engagements`` ``--requests`` times through FastAPI's test client (the
   whole request: routing, validation, the library, JSON), with the API's response cache
   emptied before every request, so every answer is computed. The baseline is the first
   page of the unfiltered register. Target: p95 under 100 ms. Wall and CPU milliseconds
   are both given: on a shared machine the wall time includes the waits for a core.
2. **Import.** A city's log of 10,000 rows (``tests/data/make_engagements_500.py``'s
   generator, 10,000 rows) imported from CSV with ``--map``, names resolved, every new
   engagement aligned in light mode and written; baseline: the same file again (read and
   resolved, nothing to align or write). Target: under 30 s. Wall and CPU seconds are both
   given: on a shared machine the wall time includes the waits for a core.

Run: python benchmarks/bench_engage.py [--home DIR] [--requests 100]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import citydiplomacy

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "data"))
from _report import table  # noqa: E402

N = 100_000
KINDS = ["agreement", "visit", "event", "declaration", "project"]
STATUSES = ["planned", "active", "completed", "suspended", "ended"]
AXES = ["sustainability", "digital", "engagement", "sustainability,engagement", "digital,engagement", ""]
WORDS = ["climate", "mobility", "housing", "digital rights", "culture", "water", "trade", "migration", "youth",
         "energy", "waste", "health"]


def populate(store, n: int = N, seed: int = 18) -> dict[str, str]:
    """Write ``n`` engagements with their parties straight into the tables; returns a few
    ids the scenarios filter on."""
    from sqlalchemy import func, insert, select

    from citydiplomacy.engage.model import sort_keys
    from citydiplomacy.model import Provenance
    from citydiplomacy.store import schema
    from citydiplomacy.store.rows import refresh_party_layers

    rng = random.Random(seed)
    a = schema.actors
    with store.connect() as conn:
        cities = [r.id for r in conn.execute(select(a.c.id).where(a.c.kind == "city")
                                             .order_by(a.c.importance.desc()).limit(3000))]
        networks = [r.id for r in conn.execute(select(a.c.id).where(a.c.kind == "city_network"))]
    # the 100th city takes part in a tenth as many engagements as the first (Zipf-like)
    weights = [1 / (rank + 10) for rank in range(len(cities))]
    with store.transaction() as conn:
        run = store.start_run(conn, "benchmark", "bench_engage")
        prov = store.add_provenance(conn, Provenance(source="bench_engage (generated)", licence="none"), run)
        start_id = (conn.execute(select(func.max(schema.engagements.c.id))).scalar() or 0) + 1
        eng, parties = [], []
        for i in range(n):
            kind = rng.choice(KINDS)
            y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
            day = f"{y}-{m:02d}-{d:02d}"
            w = rng.choice(WORDS)
            eng.append({"id": start_id + i, "key": f"bench-{i:06d}", "kind": kind,
                        "title": f"{kind.capitalize()} on {w} #{i}", "text": f"Cooperation on {w}.",
                        "signed_on": day if kind in ("agreement", "declaration") else None,
                        "start_on": None if kind in ("agreement", "declaration") else day,
                        "end_on": f"{y + rng.randint(0, 5)}" if rng.random() < 0.3 else None,
                        "review_on": f"{y + 3}-{m:02d}" if kind == "agreement" else None,
                        "status": rng.choice(STATUSES), "axes": rng.choice(AXES), "attrs": None,
                        "provenance_id": prov, "updated_at": "2026-01-01T00:00:00+00:00"})
            eng[-1].update(sort_keys(eng[-1]))
            # a few large cities take part in many engagements (like a real register)
            k = rng.choice([2, 2, 3])
            who = set(rng.choices(cities, weights, k=k))
            if kind in ("event", "declaration") and networks and rng.random() < 0.5:
                who.add(rng.choice(networks))
            for actor in who:
                parties.append({"engagement_id": start_id + i, "actor_id": actor, "role": "participant",
                                "provenance_id": prov})
        for i in range(0, len(eng), 10_000):
            conn.execute(insert(schema.engagements), eng[i:i + 10_000])
        for i in range(0, len(parties), 20_000):
            conn.execute(insert(schema.engagement_parties), parties[i:i + 20_000])
        refresh_party_layers(conn, range(start_id, start_id + n))
        store.finish_run(conn, run, {"engagements": n})
        conn.exec_driver_sql("ANALYZE")
    from collections import Counter

    n_of = Counter(p["actor_id"] for p in parties)
    return {"big": n_of.most_common(1)[0][0], "small": cities[1500]}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def listing(store_path: Path, ids: dict[str, str], requests: int) -> list[list[str]]:
    from fastapi.testclient import TestClient

    from citydiplomacy.web import create_app

    app = create_app(path=store_path, secret="bench")
    scenarios = [
        ("baseline: first page, no filter", {}),
        ("kind + status", {"kind": "agreement", "status": "active"}),
        ("axis + date range", {"axis": "digital", "from": "2015", "to": "2020"}),
        ("actor (the busiest city)", {"actor": ids["big"]}),
        ("actor + partner country", {"actor": ids["big"], "country": "FRA"}),
        ("a small city", {"actor": ids["small"]}),
        ("layer + kind, by title", {"layer": "micro", "kind": "event", "sort": "title"}),
        ("text query", {"q": "housing #4"}),
        ("page 1,000 (offset 49,950)", {"offset": 49_950}),
    ]
    rows = []
    with TestClient(app) as client:
        client.get("/api/v1/engagements", params={"limit": 1})           # warm the imports
        for name, params in scenarios:
            times, cpus, total = [], [], None
            for i in range(requests):
                app.state.cache.clear()
                p = {"limit": 50, **params}
                if "offset" not in params and i % 2:
                    p["offset"] = 50 * (i % 10)
                t, c = time.perf_counter(), time.process_time()
                r = client.get("/api/v1/engagements", params=p)
                times.append((time.perf_counter() - t) * 1000)
                cpus.append((time.process_time() - c) * 1000)
                assert r.status_code == 200, r.text
                total = r.json()["total"]
            rows.append([name, f"{total:,}", f"{statistics.median(times):.1f}", f"{percentile(times, 0.95):.1f}",
                         f"{statistics.median(cpus):.1f}", f"{percentile(cpus, 0.95):.1f}",
                         "yes" if percentile(times, 0.95) < 100 else "no"])
    app.state.obs.close()
    return rows


def importing(home: Path, tmp: Path) -> list[list[str]]:
    import make_engagements_500 as gen

    from citydiplomacy.engage.io import import_engagements
    from citydiplomacy.store import Store

    path = tmp / "log_10000.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(gen.HEADER)
        w.writerows(gen.rows(10_000, seed=7))
    mapping = {"key": "Reference", "kind": "Type", "title": "Title", "text": "Description", "partner": "Partner",
               "partner_country": "Partner country", "signed_on": "Signed", "start_on": "Start", "end_on": "End",
               "review_on": "Review", "place": "Place", "status": "Status", "documents": "Documents",
               "followups": "Follow-ups", "tie": "Tie"}
    copy = tmp / "import"
    copy.mkdir()
    shutil.copy(home / "citydip.sqlite", copy / "citydip.sqlite")
    store = Store(copy / "citydip.sqlite")
    rows = []
    for label in ("10,000 new rows, aligned (light) and written", "baseline: the same file again (unchanged)"):
        w0, c0 = time.perf_counter(), time.process_time()
        rep = import_engagements(store, path, mapping=mapping, actor="Barcelona", mode="light")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        done = rep.created.get("engagements", 0) or rep.unchanged.get("engagements", 0)
        rows.append([label, f"{done:,}", f"{rep.created.get('alignments', 0):,}", f"{wall:.1f}", f"{cpu:.1f}",
                     "yes" if wall < 30 else "no"])
    store.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", help="A home whose store holds the default dataset (built if missing).")
    ap.add_argument("--requests", type=int, default=100, help="Requests per listing scenario.")
    args = ap.parse_args()
    obs = citydiplomacy.open(home=args.home)
    source = Path(obs.store.path)
    obs.close()
    with tempfile.TemporaryDirectory(prefix="bench-engage-") as tmp_:
        tmp = Path(tmp_)
        (tmp / "list").mkdir()
        shutil.copy(source, tmp / "list" / "citydip.sqlite")
        from citydiplomacy.store import Store

        store = Store(tmp / "list" / "citydip.sqlite")
        t = time.perf_counter()
        ids = populate(store)
        store.close()
        print(f"wrote {N:,} engagements in {time.perf_counter() - t:.1f} s "
              f"({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores)")
        table(f"GET /api/v1/engagements over {N:,} engagements ({args.requests} requests each, cache emptied "
              "before every request; ms; CPU: the process's CPU time per request)",
              ["scenario", "total", "p50", "p95", "CPU p50", "CPU p95", "p95 < 100 ms"],
              listing(tmp / "list" / "citydip.sqlite", ids, args.requests))
        print(f"load average after the listings: {os.getloadavg()[0]:.1f}")
        table("Importing a city's log from CSV (seconds)",
              ["run", "engagements", "alignments", "wall", "CPU", "wall < 30 s"], importing(source.parent, tmp))


if __name__ == "__main__":
    main()
