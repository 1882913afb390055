"""Bounded work: peak memory and seconds on the probe's inputs, before and after.

The probe (issue 16) found that anyone could exhaust a worker: a 700 KB .docx that unpacks
to 196 MB took it from 246 MB to 2.19 GB for 6.5 minutes; a 700 KB .xlsx of 1M rows ran a
dry run for 445 s at 2.25 GB; a 40 KB Parquet file of 3M rows took 2.44 GB to read; a
30-40 MB CSV of 1M rows ran past 10 minutes at 2.8 GB.

For each input this prints the **before** baseline — the unbounded read the readers did
(python-docx, openpyxl over every row, ``pq.read_table(...).to_pylist()``, ``read_bytes``
and ``decode`` then every CSV row, BeautifulSoup over a whole HTML page, a zip member read
whole) — and the **after** figures:
the same file through today's readers with the channel's limits, and through the API
(FastAPI TestClient) on an empty store. Each run is its own process, whose peak memory is
its ``VmHWM`` (what ``ru_maxrss`` would say without a parent's peak carried across exec),
so the figures include Python and the imports (about 60-70 MB; 150 MB for the web app).

By default the baselines read a scaled-down copy (marked ``1/N``) and their figures are
also given extrapolated linearly to the probe's size (python-docx grows faster than
linearly, so that figure is a floor); ``--full`` reads the full inputs (minutes and GBs).

    python benchmarks/bench_limits.py            # under a minute on 2 cores
    python benchmarks/bench_limits.py --full     # the baselines on the full inputs
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

import bombs  # noqa: E402
from _report import table  # noqa: E402

PEAK = """
import json, sys, time
def peak_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
t0 = time.perf_counter()
outcome = "read"
"""

END = """
print(json.dumps({"seconds": time.perf_counter() - t0, "mb": peak_mb(), "outcome": outcome}))
"""

#: per input: the imports of the baseline (run alone, they give the interpreter's own peak),
#: then its unbounded read
BEFORE = {
    "docx": ("import docx", """
d = docx.Document(sys.argv[1])
outcome = f"{sum(1 for p in d.paragraphs if p.text.strip()):,} paragraphs"
"""),
    "xlsx": ("import openpyxl", """
wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
rows = [[("" if v is None else str(v).strip()) for v in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
outcome = f"{len(rows) - 1:,} rows"
"""),
    "parquet": ("import pyarrow.parquet as pq", """
t = pq.read_table(sys.argv[1])
data = t.to_pylist()
rows = [{c: "" if r[c] is None else str(r[c]) for c in t.column_names} for r in data]
outcome = f"{len(rows):,} rows"
"""),
    "csv": ("import csv, io\nfrom pathlib import Path", """
text = Path(sys.argv[1]).read_bytes().decode("utf-8-sig")
reader = csv.reader(io.StringIO(text, newline=""))
header = next(reader)
rows = [(n, dict(zip(header, f))) for n, f in enumerate(reader, 2)]
outcome = f"{len(rows):,} rows"
"""),
    "html": ("from bs4 import BeautifulSoup\nfrom pathlib import Path", """
soup = BeautifulSoup(Path(sys.argv[1]).read_text(encoding="utf-8"), "html.parser")
outcome = f"{len(soup.find_all('p')):,} paragraphs"
"""),
    "zip": ("import zipfile", """
z = zipfile.ZipFile(sys.argv[1])
data = z.read(z.namelist()[0])
outcome = f"{len(data) / 2**20:,.0f} MB unpacked"
"""),
}

AFTER = """
from pathlib import Path
from citydiplomacy import limits
from citydiplomacy.align import read_document
from citydiplomacy.ingest.readers import check_zip, read_table
path, channel = Path(sys.argv[1]), sys.argv[2]
lim = limits.limits_for(channel)
try:
    if path.suffix == ".zip":
        check_zip(path, limits=lim)
    elif path.suffix in (".docx", ".html", ".pdf", ".md"):
        outcome = f"{len(read_document(path, limits=lim)):,} paragraphs"
    else:
        outcome = f"{len(read_table(path, limits=lim).rows):,} rows"
except limits.LimitExceeded as exc:
    outcome = f"refused: {exc.limit}"
"""

API = """
from pathlib import Path
from fastapi.testclient import TestClient
import citydiplomacy
from citydiplomacy import accounts
from citydiplomacy.web.app import create_app
path, home = Path(sys.argv[1]), Path(sys.argv[2])
obs = citydiplomacy.open(path=home / "citydip.sqlite", build=False)
obs.add_actor("Eurocities", "city_network", source="https://eurocities.eu")
token = accounts.create_token(obs.store, accounts.add_user(obs.store, "eddie", "correct horse battery", "editor"),
                              "bench")[1]
app = create_app(obs=obs, secret="bench")
with TestClient(app) as c:
    t0 = time.perf_counter()
    if path.suffix == ".docx":
        r = c.post("/api/v1/align/document", files={"file": (path.name, path.read_bytes())})
        who = "anonymous"
    else:
        r = c.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "true"},
                   files={"file": (path.name, path.read_bytes())}, headers={"Authorization": "Bearer " + token})
        who = "editor"
    body = r.json()
    outcome = f"{who} POST: {r.status_code} {body.get('limit', '')}"
"""


def run(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", PEAK + code + END, *map(str, args)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})})
    if out.returncode != 0:
        return {"seconds": float("nan"), "mb": float("nan"), "outcome": "failed: " + out.stderr.strip()[-200:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(r: dict) -> str:
    return f"{r['mb']:,.0f} MB, {r['seconds']:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="read the full inputs for the baselines (minutes, GBs)")
    args = ap.parse_args()
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
        d = Path(tmp)
        # (name, label, full input, baseline input, its fraction of the full one)
        cases = []
        k = 1 if args.full else None
        full = bombs.docx_bomb(d / "bomb.docx", 196)
        small = full if args.full else bombs.docx_bomb(d / "bomb-small.docx", 196 / 40)
        cases.append(("docx", "docx bomb, 196 MB unpacked", full, small, k or 40, ("anonymous", "editor")))
        full = bombs.xlsx_rows(d / "million.xlsx", 1_000_000)
        small = full if args.full else bombs.xlsx_rows(d / "million-small.xlsx", 1_000_000 // 80)
        cases.append(("xlsx", "xlsx, 1M rows", full, small, k or 80, ("editor",)))
        full = bombs.parquet_rows(d / "rows.parquet", 3_000_000)
        small = full if args.full else bombs.parquet_rows(d / "rows-small.parquet", 3_000_000 // 20)
        cases.append(("parquet", "Parquet, 3M rows", full, small, k or 20, ("editor",)))
        full = bombs.csv_rows(d / "million.csv", 1_000_000)
        small = full if args.full else bombs.csv_rows(d / "million-small.csv", 1_000_000 // 10)
        cases.append(("csv", "CSV, 1M rows", full, small, k or 10, ("editor",)))
        full = bombs.html_page(d / "page.html", 19)
        small = full if args.full else bombs.html_page(d / "page-small.html", 19 / 20)
        cases.append(("html", "HTML page, 19 MB", full, small, k or 20, ("anonymous", "editor")))
        full = bombs.zip_bomb(d / "zeros.zip", 300)
        cases.append(("zip", "zip bomb, 300 MB unpacked", full, full, 1, ("editor",)))

        rows = []
        for name, label, full, small, n, channels in cases:
            imports, work = BEFORE[name]
            base = run(imports)
            before = run(imports + "\n" + work, small)
            grown = base["mb"] + (before["mb"] - base["mb"]) * n
            scale = f" (1/{n}: {before['outcome']})" if n > 1 else f" ({before['outcome']})"
            extrapolated = f"≥ {grown:,.0f} MB, {before['seconds'] * n:,.0f} s" if n > 1 else fmt(before)
            after = {c: run(AFTER, full, c) for c in channels}
            worst = max(after.values(), key=lambda r: r["mb"])
            rows.append([f"{label} ({full.stat().st_size / 1024:,.0f} KB)", fmt(before) + scale, extrapolated,
                         "; ".join(f"{c}: {fmt(r)}, {r['outcome']}" for c, r in after.items()),
                         f"{grown / worst['mb']:,.0f}× less memory"])
        table("Readers: before (unbounded, as the readers did) and after (today's readers, by channel)",
              ["input", "before, measured", "before, at full size", "after", "ratio"], rows)

        api_rows = []
        for name, label, full, *_ in cases:
            if name not in ("docx", "xlsx", "parquet", "csv"):
                continue
            home = d / f"home-{name}"
            home.mkdir()
            r = run(API, full, home)
            api_rows.append([label, fmt(r), r["outcome"]])
        table("Through the API (a worker: FastAPI app, empty store; peak includes the app, ~150 MB)",
              ["input", "after: peak, seconds", "answer"], api_rows)
    print(f"\n(total {time.perf_counter() - t_all:.0f} s)")


if __name__ == "__main__":
    main()
