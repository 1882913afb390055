"""Writers under a long import: how long an import holds the store's write lock, and the
latency and answers of logins and edits made meanwhile through a real server.

Two runs over fresh copies of the built store, in the same process and on the same
generated file (``--rows`` random pairs of the store's cities, ~7.7 MB for 200,000 rows):

- before: the import's work in one long transaction, as it was — the write lock taken
  before the rows are checked against the store one by one (a query per tie), and held
  until the commit;
- after: the import as shipped (``citydip import twinning``) — the rows checked and
  prepared from a snapshot without any lock, then written in one short transaction.

The import runs in its own process, which times its write transactions from the moment it
holds the lock to its commit.

During each import a server (``python -m citydiplomacy.web.serve``) takes ``--editors``
editors that PATCH their actors and POST ties, and a stream of logins, each every 0.1 s;
a probe process tries to take the write lock every 10 ms and records how long it could
not. Traffic goes to 127.0.0.1 only; each run stops when its import ends.

Run: python benchmarks/bench_writers.py [--home DIR] [--rows 200000] [--editors 4]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
from _report import table  # noqa: E402

#: the import run in a process that times its write transactions (from the moment the
#: lock is taken to the commit); "before": the rows checked one by one (a query per tie, as
#: the importer did before) inside the same transaction as the write
IMPORT = r"""
import sys, time
from contextlib import contextmanager
from citydiplomacy.store import db
from citydiplomacy.ingest import apply, get_importer, run_import
from citydiplomacy.ingest.base import Report
from citydiplomacy.store import Store

longest = [0.0]
plain = db.Store.transaction

@contextmanager
def timed(self, **kw):
    with plain(self, **kw) as conn:
        t0 = time.monotonic()
        yield conn
    longest[0] = max(longest[0], time.monotonic() - t0)

db.Store.transaction = timed
mode, path, csv = sys.argv[1:4]
st = Store(path)
if mode == "before":
    apply.BULK_TIES = 10 ** 12
    plan = get_importer("twinning")(st, csv, licence="CC0")
    report = Report(importer=plan.importer, source=plan.source, dry_run=False, rows_read=plan.rows_read,
                    problems=list(plan.problems))
    with st.transaction() as conn:
        changes = apply._Preparer(conn, plan, report).run()
        apply._Writer(st, conn, plan, changes, report).run()
else:
    report = run_import(st, "twinning", csv, licence="CC0")
print(longest[0])
"""


def run(mode: str, base: Path, big: Path, tmp: Path, editors: int) -> dict:
    home = tmp / mode
    home.mkdir()
    store = home / "citydip.sqlite"
    shutil.copy(base, store)
    from citydiplomacy.store import Store

    st = Store(store)
    with st.connect() as conn:
        actors = [r[0] for r in conn.exec_driver_sql(
            "SELECT id FROM actors WHERE kind = 'city' ORDER BY importance DESC LIMIT 120")]
    st.close()
    tokens = loadgen.add_accounts(store, editors)
    cmd = [sys.executable, "-c", IMPORT, mode, str(store), str(big)]
    with loadgen.server(store, tmp / f"{mode}.log") as url:
        load = loadgen.Load(url, tokens, actors, pause=0.1).start()
        t0 = time.monotonic()
        with loadgen.lock_probe(store, tmp) as lock:
            proc = subprocess.run(cmd, env=loadgen.env(), capture_output=True, text=True)
        took = time.monotonic() - t0
        load.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{mode}: the import failed: {proc.stderr[-2000:]}")
    answers = [a for a in load.answers if a.at - t0 < took]
    out = {"import": took, "lock": float(proc.stdout.split()[-1]), "unavailable": lock["longest"],
           "missing": len(loadgen.check_store(store, load))}
    for what in ("login", "edit"):
        mine = [a for a in answers if (a.what == what) or (what == "edit" and a.what in ("patch", "tie"))]
        ok = [a.seconds for a in mine if a.status in (200, 201)]
        out[what] = {"n": len(mine), "ok": len(ok), "503": sum(a.status == 503 for a in mine),
                     "500": sum(a.status >= 500 and a.status != 503 for a in mine),
                     "none": sum(a.status == 0 for a in mine),
                     "p50": loadgen.percentile([a.seconds for a in mine], 0.5),
                     "p95": loadgen.percentile([a.seconds for a in mine], 0.95),
                     "max": max((a.seconds for a in mine), default=float("nan"))}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", default=None, help="a home whose store holds the default dataset (built if empty)")
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--editors", type=int, default=4)
    a = p.parse_args()
    import citydiplomacy
    from citydiplomacy.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-writers-") as tmp:
        tmp = Path(tmp)
        home = Path(a.home) if a.home else tmp / "base"
        citydiplomacy.open(home=home).close()
        base = home / "citydip.sqlite"
        st = Store(base)
        big = loadgen.write_twinning(st, tmp / "big.csv", a.rows)
        st.close()
        print(f"{a.rows:,} rows ({big.stat().st_size / 2**20:.1f} MB); {a.editors} editors and logins, "
              f"each every 0.1 s", flush=True)
        res = {mode: run(mode, base, big, tmp, a.editors) for mode in ("before", "after")}
    b, f = res["before"], res["after"]
    rows = [["import (s)", f"{b['import']:.1f}", f"{f['import']:.1f}", f"{f['import'] / b['import']:.2f}"],
            ["the import's write transaction (s)", f"{b['lock']:.1f}", f"{f['lock']:.1f}",
             f"{f['lock'] / b['lock']:.3f}"],
            ["longest time no writer could start (s; edits queued behind the import included)",
             f"{b['unavailable']:.1f}", f"{f['unavailable']:.1f}", f"{f['unavailable'] / b['unavailable']:.3f}"]]
    for what in ("login", "edit"):
        x, y = b[what], f[what]
        rows += [[f"{what}: p50 / p95 / max (s)", f"{x['p50']:.2f} / {x['p95']:.2f} / {x['max']:.1f}",
                  f"{y['p50']:.2f} / {y['p95']:.2f} / {y['max']:.1f}",
                  f"p95 {y['p95'] / x['p95']:.2f}" if x["p95"] else ""],
                 [f"{what}: answered ok / 503 / 500 / none", f"{x['ok']} / {x['503']} / {x['500']} / {x['none']}",
                  f"{y['ok']} / {y['503']} / {y['500']} / {y['none']}", ""]]
    rows.append(["acknowledged edits missing afterwards", str(b["missing"]), str(f["missing"]), ""])
    table("Writers during a long import (before: one long transaction; after: prepared, short write)",
          ["figure", "before", "after", "after / before"], rows)


if __name__ == "__main__":
    main()
