"""Bulk alignment throughput: documents per second on a Dask LocalCluster of 1 and of 2
worker processes (one thread each), on the same corpus, beside the baseline of the same
documents aligned one after the other in this process; the speed-up of 2 workers over 1
and the figure per worker from which docs/bulk-align.md extrapolates cluster sizes.

The corpus is built from the labelled texts of tests/data/align (tests/corpusgen.py):
documents of 6 paragraphs (about 420 words), in turn .txt, .md, .html, .pdf and .docx.
Documents per second count from the moment the workers hold the model to the last
partition written (the cluster's start and the model's load, paid once per worker, are
shown apart as "start s"). "CPU s" is the CPU time the worker processes (for the
baseline, this process) used meanwhile, Dask's own work included; "task CPU s" that of
the tasks alone (reading and aligning), and "docs per task CPU-s" the documents one
dedicated core aligns per second: the per-worker figure that holds when other work
shares the machine, from which docs/bulk-align.md extrapolates cluster sizes.

    python benchmarks/bench_bulk_align.py                    # 40 documents, default mode
    python benchmarks/bench_bulk_align.py --docs 100 --mode light
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import table  # noqa: E402
from corpusgen import make_corpus  # noqa: E402

from citydiplomacy.align import Aligner  # noqa: E402
from citydiplomacy.align.bulk import (BulkSettings, _file_id, align_corpus, document_rows,  # noqa: E402
                                      list_corpus, warm)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--paragraphs", type=int, default=6)
    ap.add_argument("--mode", default="auto", choices=["auto", "hybrid", "light"])
    ap.add_argument("--workers", default="1,2", help="worker counts to run, comma-separated")
    args = ap.parse_args()
    mode = Aligner(args.mode).mode
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        make_corpus(corpus, args.docs, paragraphs=args.paragraphs)
        docs = list_corpus(corpus)
        print(f"{len(docs)} documents of {args.paragraphs} paragraphs, mode {mode}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f} at the start")

        # baseline: the same documents one after the other in this process, one torch thread
        warm(mode, 1)
        settings = BulkSettings(mode=mode)
        t0, c0 = time.perf_counter(), time.process_time()
        for p in docs:
            rel, doc_id = _file_id(corpus, p)
            document_rows(corpus, rel, doc_id, settings)
        base, base_cpu = time.perf_counter() - t0, time.process_time() - c0
        rows = [["in-process (baseline)", "–", f"{len(docs)}", "–", f"{base:.1f}", f"{len(docs) / base:.2f}", "–",
                 f"{len(docs) / base:.2f}", f"{base_cpu:.1f}", f"{base_cpu:.1f}", f"{len(docs) / base_cpu:.2f}"]]
        one = None
        for w in [int(x) for x in args.workers.split(",")]:
            out = Path(tmp) / f"out-{w}.parquet"
            rep = align_corpus(corpus, out, mode=args.mode, workers=w)
            assert rep.aligned == len(docs) and not rep.failed, rep.failed
            rate = rep.docs_per_second
            one = one or rate
            rows.append([f"LocalCluster, {w} worker{'s' if w > 1 else ''}", f"{w}", f"{rep.aligned}",
                         f"{rep.seconds - rep.align_seconds:.1f}", f"{rep.align_seconds:.1f}", f"{rate:.2f}",
                         f"{rate / one:.2f}×", f"{rate / w:.2f}", f"{rep.cpu_seconds:.1f}",
                         f"{rep.task_cpu_seconds:.1f}", f"{rep.docs_per_task_cpu_second:.2f}"])
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    table(f"Bulk alignment ({mode}): documents per second", ["run", "workers", "documents", "start s", "align s",
                                                          "docs/s", "speed-up vs 1 worker", "docs/s per worker",
                                                          "CPU s", "task CPU s", "docs per task CPU-s"],
          rows)


if __name__ == "__main__":
    main()
