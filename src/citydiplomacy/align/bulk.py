"""Bulk alignment: every document of a folder (PDF, DOCX, HTML, Markdown, plain text)
aligned in parallel on a Dask cluster — a local one by default, or a running scheduler —
and written as a Parquet dataset that a killed run resumes without duplicates.

The output folder (``results.parquet``) holds one Parquet file per batch of documents
(``part-<hash>.parquet``, each written to a hidden temporary file and renamed, so a file
that exists is complete) and ``_manifest.json`` (the settings and the counts). A run
lists the documents done in the partitions already there and aligns only the others.

One row per document and framework item reported (``sdg:11``, ``sdg:11.6``,
``paris:7``, ``axis:sustainability``): the document's score for the item is the highest
calibrated score of its paragraphs that report it; a document with nothing found, or
that could not be read, has one row with no item (and the ``error``). See
docs/bulk-align.md for the schema and the choice of Dask.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .. import limits as _limits
from .. import progress
from ..errors import CitydipError, ValidationError
from .documents import DOCUMENT_SUFFIXES

__all__ = ["BulkSettings", "CorpusReport", "align_corpus", "list_corpus", "document_id", "document_rows",
           "align_batch", "done_documents", "read_results", "COLUMNS", "MANIFEST", "FORMAT"]

#: the manifest's name inside the output folder (a leading underscore: Parquet readers skip it)
MANIFEST = "_manifest.json"
#: the layout version written in the manifest
FORMAT = "citydip-bulk-align/1"
#: the columns of every partition, in this order
COLUMNS = ("document_id", "path", "item", "framework", "level", "score", "passages", "share", "ref",
           "evidence", "lang", "method", "n_passages", "error")

_FW_ORDER = {"sdg": 0, "paris": 1, "axis": 2}
_LEVEL_ORDER = {"goal": 0, "target": 1, "article": 2, "axis": 3}


def _missing_dask() -> ValidationError:
    return ValidationError("aligning a folder needs Dask and pyarrow: pip install 'citydiplomacy[cluster]'",
                           field="source")


def _schema():
    import pyarrow as pa

    return pa.schema([("document_id", pa.string()), ("path", pa.string()), ("item", pa.string()),
                      ("framework", pa.string()), ("level", pa.string()), ("score", pa.float64()),
                      ("passages", pa.int32()), ("share", pa.float64()), ("ref", pa.string()),
                      ("evidence", pa.string()), ("lang", pa.string()), ("method", pa.string()),
                      ("n_passages", pa.int32()), ("error", pa.string())])


@dataclass(frozen=True)
class BulkSettings:
    """What every document of a run is aligned with (the manifest records it; a run
    refuses to add to results made with other settings)."""

    mode: str = "light"                     # hybrid or light (auto is resolved before)
    level: str = "target"
    frameworks: tuple[str, ...] = ("sdg", "paris")
    lang: str = "auto"
    limits: _limits.Limits | None = None

    def key(self) -> dict[str, Any]:
        return {"mode": self.mode, "level": self.level, "frameworks": list(self.frameworks), "lang": self.lang}


@dataclass
class CorpusReport:
    """What a run did: documents found, already done, aligned now, failed (path and
    reason), partitions and rows written, and its timing."""

    corpus: str
    out: str
    method: str
    documents: int = 0
    already_done: int = 0
    aligned: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    partitions: int = 0
    rows: int = 0
    workers: int = 0
    seconds: float = 0.0                    # the whole run, cluster start included
    align_seconds: float = 0.0              # from the workers being ready to the last partition
    cpu_seconds: float = 0.0                # the workers' CPU time over align_seconds, all together
    task_cpu_seconds: float = 0.0           # the CPU time of the tasks alone (reading and aligning)

    @property
    def docs_per_second(self) -> float:
        return self.aligned / self.align_seconds if self.align_seconds > 0 else 0.0

    @property
    def docs_per_cpu_second(self) -> float:
        """Documents per second of the workers' CPU time (tasks and Dask's own work)."""
        return self.aligned / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def docs_per_task_cpu_second(self) -> float:
        """Documents per second of the tasks' CPU time: the throughput of one dedicated
        core, whatever else shares the machine."""
        return self.aligned / self.task_cpu_seconds if self.task_cpu_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"corpus": self.corpus, "out": self.out, "method": self.method, "documents": self.documents,
                "already_done": self.already_done, "aligned": self.aligned,
                "failed": [{"path": p, "error": e} for p, e in self.failed], "partitions": self.partitions,
                "rows": self.rows, "workers": self.workers, "seconds": round(self.seconds, 3),
                "align_seconds": round(self.align_seconds, 3), "docs_per_second": round(self.docs_per_second, 3),
                "cpu_seconds": round(self.cpu_seconds, 3), "docs_per_cpu_second": round(self.docs_per_cpu_second, 3),
                "task_cpu_seconds": round(self.task_cpu_seconds, 3)}


# ---------------------------------------------------------------------------------------
# the corpus


def list_corpus(folder: str | Path) -> list[Path]:
    """The documents of ``folder`` and its subfolders (by suffix: .pdf, .docx, .html,
    .htm, .md, .txt; hidden files and folders left out), sorted by their path relative
    to the folder."""
    root = Path(folder)
    if not root.exists():
        raise ValidationError("no such folder; give the folder that holds the documents to align", file=str(root))
    if not root.is_dir():
        raise ValidationError("is not a folder; to align one document, give it without --out *.parquet, "
                              "--workers or --scheduler", file=str(root))
    docs = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or p.suffix.lower() not in DOCUMENT_SUFFIXES:
            continue
        if p.is_file():
            docs.append(p)
    if not docs:
        raise ValidationError(f"no documents ({', '.join(sorted(DOCUMENT_SUFFIXES))}) in the folder or its "
                              "subfolders", file=str(root))
    return sorted(docs, key=lambda p: p.relative_to(root).as_posix())


def document_id(rel_path: str, content: bytes) -> str:
    """A document's stable id: the first 16 hex digits of SHA-256 over its path
    (relative to the corpus folder, with /) and its bytes — the same file in the same
    place has the same id in every run; an edited file is a new document."""
    h = hashlib.sha256(rel_path.encode("utf-8"))
    h.update(b"\0")
    h.update(content)
    return h.hexdigest()[:16]


def _file_id(root: Path, path: Path) -> tuple[str, str]:
    rel = path.relative_to(root).as_posix()
    h = hashlib.sha256(rel.encode("utf-8"))
    h.update(b"\0")
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ValidationError(f"cannot be read ({exc.strerror or exc}); check its permissions",
                              file=str(path)) from None
    return rel, h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# one document -> rows (runs on a worker, or in-process)


def _item_parts(code: str) -> tuple[str, str]:
    fw, c = code.split(":", 1)
    if fw == "sdg":
        return "sdg", "target" if "." in c else "goal"
    return ("paris", "article") if fw == "paris" else ("axis", "axis")


def _sort_key(code: str) -> tuple:
    fw, level = _item_parts(code)
    c = code.split(":", 1)[1]
    num = tuple(int(x) if x.isdigit() else 1000 for x in c.split(".")) if fw != "axis" else ()
    return (_FW_ORDER[fw], _LEVEL_ORDER[level], num, c)


def _row(doc_id: str, rel: str, method: str | None, **kw: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(document_id=doc_id, path=rel, method=method, **kw)
    return row


def document_rows(root: str | Path, rel: str, doc_id: str, settings: BulkSettings) -> list[dict[str, Any]]:
    """The result rows of one document (see the module's docstring): read it, align its
    paragraphs with the shared aligner of ``settings.mode`` (loaded once per process),
    and keep each item's best paragraph. A document that cannot be read or aligned gives
    one row with its ``error``."""
    from .documents import read_document
    from .engine import aligner

    al = aligner(settings.mode)
    path = Path(root) / rel
    try:
        with _limits.applied(settings.limits or _limits.current()):
            passages = read_document(path, limits=settings.limits)
            results = al.align_many(passages, lang=settings.lang, level=settings.level,
                                    frameworks=settings.frameworks)
    except CitydipError as exc:
        return [_row(doc_id, rel, al.method, error=getattr(exc, "detail", None) or str(exc))]
    except Exception as exc:   # noqa: BLE001 - one odd file must not stop a run of thousands
        return [_row(doc_id, rel, al.method, error=f"could not be read ({exc.__class__.__name__}: {exc})")]
    ok = [r for r in results if not r.error]
    if not ok:
        return [_row(doc_id, rel, al.method, n_passages=len(results),
                     error=f"no paragraph could be aligned ({results[0].error if results else 'none found'})")]
    langs: dict[str, int] = {}
    for r in ok:
        langs[r.lang] = langs.get(r.lang, 0) + 1
    lang = max(sorted(langs), key=lambda k: langs[k])
    best: dict[str, tuple[float, Any]] = {}
    count: dict[str, int] = {}
    for r in ok:
        reported = [(f"sdg:{g}", r.scores.get("sdg", {}).get(str(g))) for g in r.sdgs] + \
                   [(f"sdg:{t}", r.scores.get("targets", {}).get(t)) for t in r.targets] + \
                   [(f"paris:{a}", r.scores.get("paris", {}).get(str(a))) for a in r.paris] + \
                   [(f"axis:{x}", r.scores.get("axes", {}).get(x)) for x in r.axes]
        for code, score in reported:
            score = float(score or 0.0)
            count[code] = count.get(code, 0) + 1
            if code not in best or score > best[code][0]:
                best[code] = (score, r)
    if not best:
        return [_row(doc_id, rel, al.method, lang=lang, n_passages=len(results))]
    rows = []
    for code in sorted(best, key=_sort_key):
        score, r = best[code]
        fw, level = _item_parts(code)
        ev = [e for e in r.evidence if e.get("item") == code]
        rows.append(_row(doc_id, rel, al.method, item=code, framework=fw, level=level, score=score,
                         passages=count[code], share=round(count[code] / len(ok), 4), ref=r.ref,
                         evidence=json.dumps(ev, ensure_ascii=False) if ev else None, lang=lang,
                         n_passages=len(results)))
    return rows


def align_batch(root: str, docs: Sequence[tuple[str, str]],
                settings: BulkSettings) -> tuple[list[dict[str, Any]], float]:
    """The rows of a batch of documents ``(relative path, id)`` and the CPU time the
    task took (its thread's: torch runs on it, held to one thread): the task a worker runs."""
    t0 = time.thread_time()
    out: list[dict[str, Any]] = []
    for rel, doc_id in docs:
        out.extend(document_rows(root, rel, doc_id, settings))
    return out, time.thread_time() - t0


def warm(mode: str, threads: int | None = None) -> None:
    """Load the aligner of ``mode`` (and, hybrid, the MiniLM model and the English
    framework embeddings; other languages' load with their first text) in this process,
    once; hold the model to ``threads`` CPU threads (one Dask worker thread: one model
    thread, so workers do not fight for the cores)."""
    from . import semantic
    from .engine import aligner
    from .language import warm_up as warm_language

    warm_language()
    al = aligner(mode)
    if al.mode == "hybrid":
        if threads:
            semantic.set_threads(threads)
        semantic.warm_up()                    # the ONNX session and tokenizer
        if (semantic.backend() or ("", ""))[0] == "torch":
            semantic.sentence_transformer()
        al._framework("en")


# ---------------------------------------------------------------------------------------
# the output folder


def _prepare_out(out: Path, settings: BulkSettings, corpus: Path, method: str) -> dict[str, Any]:
    if out.exists() and not out.is_dir():
        raise ValidationError("exists and is not a folder; --out names the folder of the Parquet dataset "
                              "(e.g. results.parquet): give a new name", file=str(out))
    manifest_path = out / MANIFEST
    if out.is_dir():
        entries = [p for p in out.iterdir()]
        if manifest_path.is_file():
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ValidationError(f"the manifest cannot be read ({exc}); delete the folder to start again",
                                      file=str(manifest_path)) from None
            if manifest.get("format") != FORMAT:
                raise ValidationError(f"not a folder of citydip bulk alignment results ({FORMAT}); "
                                      "give another --out", file=str(out))
            if manifest.get("settings") != settings.key():
                theirs = " ".join(f"--{'framework' if k == 'frameworks' else k} "
                                  f"{','.join(v) if isinstance(v, list) else v}"
                                  for k, v in (manifest.get("settings") or {}).items())
                raise ValidationError(f"holds results aligned with other settings ({theirs}); resume with "
                                      "those, or give another --out", file=str(out))
            for p in entries:              # temporary files of a run that was killed
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    p.unlink(missing_ok=True)
            return manifest
        if entries:
            raise ValidationError("is a folder that holds other files; --out needs a new or empty folder",
                                  file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest = {"format": FORMAT, "corpus": str(corpus), "method": method, "settings": settings.key(),
                "columns": list(COLUMNS), "created": now}
    _write_json(manifest_path, manifest)
    return manifest


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def done_documents(out: str | Path) -> dict[str, str]:
    """The documents already in the results folder ``out``: id -> the partition file
    that holds it (only whole partitions exist: each was renamed into place when written)."""
    import pyarrow.parquet as pq

    done: dict[str, str] = {}
    for part in sorted(Path(out).glob("part-*.parquet")):
        try:
            ids = pq.read_table(part, columns=["document_id"]).column("document_id").to_pylist()
        except Exception as exc:   # noqa: BLE001 - pyarrow raises several kinds for a damaged file
            raise ValidationError(f"a partition cannot be read ({exc.__class__.__name__}); delete it and run "
                                  "again (its documents are aligned anew)", file=str(part)) from None
        for i in ids:
            done.setdefault(i, part.name)
    return done


def _write_partition(out: Path, rows: list[dict[str, Any]]) -> str:
    """Write ``rows`` (whole documents) as one partition, atomically: a hidden temporary
    file, flushed to disk, then renamed to ``part-<hash of its document ids>.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = sorted({r["document_id"] for r in rows})
    name = "part-" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16] + ".parquet"
    table = pa.Table.from_pylist(rows, schema=_schema())
    tmp = out / f".{name}.tmp"
    with tmp.open("wb") as fh:
        pq.write_table(table, fh, compression="zstd")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out / name)
    return name


def read_results(out: str | Path):
    """The results folder as one pyarrow Table (every partition; the manifest and
    temporary files left out), rows ordered by path and item."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = sorted(Path(out).glob("part-*.parquet"))
    if not parts:
        return pa.Table.from_pylist([], schema=_schema())
    return pa.concat_tables([pq.read_table(p, schema=_schema()) for p in parts])


# ---------------------------------------------------------------------------------------
# the run


def _batches(todo: Sequence[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for i in range(0, len(todo), size):
        yield list(todo[i:i + size])


def align_corpus(folder: str | Path, out: str | Path, *, mode: str = "auto", level: str = "target",
                 frameworks: Iterable[str] = ("sdg", "paris"), lang: str = "auto", workers: int | None = None,
                 scheduler: str | None = None, batch: int | None = None,
                 limits: _limits.Limits | None = None) -> CorpusReport:
    """Align every document of ``folder`` on a Dask cluster and write the results to the
    Parquet dataset folder ``out``, resuming a run that stopped.

    ``workers``: the size of the local cluster started for the run (default: the CPU
    cores; one thread each); ``scheduler``: the address of a running scheduler
    (``tcp://host:8786``) to use instead — its workers must see ``folder`` at the same
    path and have citydiplomacy installed. ``batch``: documents per task and per
    partition (default: enough batches for four per worker, at most 16 documents each).
    Progress is reported through :mod:`citydiplomacy.progress`."""
    from .engine import FRAMEWORKS, LEVELS, MODES, Aligner
    from .language import SUPPORTED

    started = time.perf_counter()
    import importlib.util

    if any(importlib.util.find_spec(m) is None for m in ("distributed", "pyarrow")):
        raise _missing_dask()
    fws = tuple(f for f in FRAMEWORKS if f in set(frameworks))
    bad = [f for f in frameworks if f not in FRAMEWORKS]
    if bad or not fws:
        raise ValidationError(f"unknown framework '{(bad or [''])[0]}'; use sdg, paris or sdg,paris",
                              field="framework")
    if level not in LEVELS:
        raise ValidationError(f"unknown level '{level}'; use goal or target", field="level")
    if lang != "auto" and lang not in SUPPORTED:
        raise ValidationError(f"language '{lang}' is not supported; use auto, {', '.join(SUPPORTED)}",
                              field="lang")
    if mode not in MODES:
        raise ValidationError(f"unknown mode '{mode}'; use {', '.join(MODES)}", field="mode")
    if workers is not None and workers < 1:
        raise ValidationError("give at least 1 worker", field="workers")
    if batch is not None and batch < 1:
        raise ValidationError("give at least 1 document per batch", field="batch")
    root = Path(folder).resolve() if Path(folder).exists() else Path(folder)
    docs = list_corpus(root)
    probe = Aligner(mode)                  # resolves auto, and says what is missing for hybrid
    settings = BulkSettings(mode=probe.mode, level=level, frameworks=fws, lang=lang, limits=limits)
    out = Path(out)
    manifest = _prepare_out(out, settings, root, probe.method)
    report = CorpusReport(corpus=str(root), out=str(out), method=probe.method, documents=len(docs))
    progress.report("reading the documents", 0, len(docs))
    ids = []
    for n, p in enumerate(docs, 1):
        ids.append(_file_id(root, p))
        if n % 256 == 0:
            progress.report("reading the documents", n, len(docs))
    done = done_documents(out)
    todo = [(rel, i) for rel, i in ids if i not in done]
    report.already_done = len(ids) - len(todo)
    failed_before = _failed(out, {i for _, i in ids} & set(done)) if done else []
    if todo:
        _run(report, root, out, todo, settings, workers=workers, scheduler=scheduler, batch=batch)
    report.failed = sorted(failed_before + report.failed)
    parts = list(out.glob("part-*.parquet"))
    report.partitions = len(parts)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_json(out / MANIFEST, {**manifest, "updated": now, "status": "complete", "documents": len(ids),
                                 "aligned": len(ids) - len(report.failed), "failed": len(report.failed),
                                 "partitions": len(parts), "last_run": report.as_dict()})
    report.seconds = time.perf_counter() - started
    return report


def _failed(out: Path, ids: set[str]) -> list[tuple[str, str]]:
    """Documents of earlier runs that could not be aligned (path, reason)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    found = []
    for part in sorted(out.glob("part-*.parquet")):
        t = pq.read_table(part, columns=["document_id", "path", "error"])
        t = t.filter(pc.is_valid(t.column("error")))
        found += [(p, e) for i, p, e in zip(t.column("document_id").to_pylist(), t.column("path").to_pylist(),
                                             t.column("error").to_pylist()) if i in ids]
    return found


def _run(report: CorpusReport, root: Path, out: Path, todo: list[tuple[str, str]], settings: BulkSettings, *,
         workers: int | None, scheduler: str | None, batch: int | None) -> None:
    from . import cluster

    with cluster.connect(workers=workers, scheduler=scheduler) as client:
        n_workers = cluster.worker_threads(client)
        report.workers = n_workers
        progress.report("loading the model on the workers", 0, len(todo))
        cluster.prepare_workers(client, settings.mode)
        size = batch or max(1, min(16, -(-len(todo) // (4 * n_workers))))
        t0, cpu0 = time.perf_counter(), cluster.worker_cpu_seconds(client)
        done = 0
        progress.report("aligning documents", 0, len(todo))
        for rows, cpu in cluster.run_batches(client, str(root), list(_batches(todo, size)), settings,
                                        in_flight=2 * n_workers):
            _write_partition(out, rows)
            report.task_cpu_seconds += cpu
            docs = {r["document_id"] for r in rows}
            done += len(docs)
            report.rows += len(rows)
            report.failed.extend((r["path"], r["error"]) for r in rows if r["error"])
            progress.report("aligning documents", done, len(todo))
        report.aligned = done - len(report.failed)
        report.align_seconds = time.perf_counter() - t0
        report.cpu_seconds = cluster.worker_cpu_seconds(client) - cpu0
