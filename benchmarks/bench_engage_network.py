"""What the ties derived from the engagement register cost: the graph built with and
without them, the projection alone, the metrics of the engagement scope and a dynamic
GEXF export, on a copy of a built store given a register of the size the issue asks of
the default data and more. (The GEXF export is timed on the derived ties alone: its cost
is that of any export of as many edges, ElementTree's.)

The register is made up for the measurement (never shipped): over the store's real
cities, ``--declarations`` declarations of 50 to ``--max-parties`` signatories (one at
the cap, 500), ``--events`` events of 20 to 200 participants, and ``--agreements``
two-party agreements, with dates over 2000–2024 (seed 0). The baseline is the graph of
the stored ties alone, built in the same run.

Run:  python benchmarks/bench_engage_network.py --home DIR   (DIR holds a built store)
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _report import table  # noqa: E402

from sqlalchemy import select  # noqa: E402

from citydiplomacy.engage import Engagement, Party, write_engagements  # noqa: E402
from citydiplomacy.model import Provenance  # noqa: E402
from citydiplomacy.network import build_graph  # noqa: E402
from citydiplomacy.network.engaged import engagement_pairs  # noqa: E402
from citydiplomacy.network.io import write_gexf  # noqa: E402
from citydiplomacy.network.metrics import metrics  # noqa: E402
from citydiplomacy.store import Store, schema  # noqa: E402


def timed(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def register(cities: list[str], *, declarations: int, events: int, agreements: int, max_parties: int,
             seed: int = 0) -> list[Engagement]:
    rng = random.Random(seed)

    def day() -> str:
        return f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    out = []
    for k in range(declarations):
        n = max_parties if k == 0 else rng.randint(50, max_parties)
        signed = day()
        out.append(Engagement(key=f"bench-decl-{k}", kind="declaration", title=f"Declaration {k}", signed_on=signed,
                              parties=[Party(actor=c, role="signatory", signed_on=max(signed, day()))
                                       for c in rng.sample(cities, n)]))
    for k in range(events):
        out.append(Engagement(key=f"bench-event-{k}", kind="event", title=f"Summit {k}", start_on=day(),
                              status="completed", parties=[Party(actor=c) for c in rng.sample(cities,
                                                                                              rng.randint(20, 200))]))
    for k in range(agreements):
        a, b = rng.sample(cities, 2)
        out.append(Engagement(key=f"bench-agr-{k}", kind="agreement", title=f"Memorandum {k}", signed_on=day(),
                              parties=[Party(actor=a, role="signatory"), Party(actor=b, role="signatory")]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True, help="a directory holding a built store (citydip.sqlite)")
    ap.add_argument("--declarations", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--events", type=int, default=12)
    ap.add_argument("--agreements", type=int, default=500)
    ap.add_argument("--max-parties", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "citydip.sqlite"
        shutil.copy(Path(args.home) / "citydip.sqlite", path)
        store = Store(path)
        with store.connect() as conn:
            cities = sorted(conn.execute(select(schema.actors.c.id).where(schema.actors.c.kind == "city")
                                         .limit(20_000)).scalars())
        items = register(cities, declarations=args.declarations, events=args.events, agreements=args.agreements,
                         max_parties=args.max_parties)
        links = sum(len(e.parties) for e in items)
        t = time.perf_counter()
        write_engagements(store, items, Provenance(source="benchmark register (made up)", licence="CC0"),
                          mode="light")
        write_s = time.perf_counter() - t
        r = args.repeat
        base_s, base = timed(lambda: build_graph(store), r)
        pairs_s, (pairs, _) = timed(lambda: engagement_pairs(store), r)
        with_s, dg = timed(lambda: build_graph(store, engagements=True), r)
        asof_s, _ = timed(lambda: build_graph(store, engagements=True, as_of="2010"), r)
        met_s, _ = timed(lambda: metrics(dg, scopes=["engagement"], measures=["degree", "pagerank"]), repeat=1)
        engaged = dg.engaged()
        gexf_s, _ = timed(lambda: write_gexf(engaged, Path(tmp) / "e.gexf"), repeat=1)
        size = (Path(tmp) / "e.gexf").stat().st_size
        store.close()
    derived = dg.g.ecount() - base.g.ecount()
    table(f"derived ties of a register of {len(items):,} engagements, {links:,} actor–engagement links "
          f"(written in {write_s:.1f} s with light alignment)",
          ["step", "seconds", "edges", "vs baseline"],
          [["graph of the stored ties (baseline)", f"{base_s:.2f}", f"{base.g.ecount():,}", "1.0×"],
           ["projection alone (engagement_pairs)", f"{pairs_s:.2f}", f"{len(pairs['a']):,} pairs", "—"],
           ["graph with engagements", f"{with_s:.2f}", f"{dg.g.ecount():,} (+{derived:,})",
            f"{with_s / base_s:.1f}×"],
           ["graph with engagements --as-of 2010", f"{asof_s:.2f}", "", f"{asof_s / base_s:.1f}×"],
           ["metrics degree+pagerank, scope engagement", f"{met_s:.2f}", "", "—"],
           ["dynamic GEXF export of the derived ties (dg.engaged())", f"{gexf_s:.2f}",
            f"{engaged.g.ecount():,}, {size / 1e6:.0f} MB", "—"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
