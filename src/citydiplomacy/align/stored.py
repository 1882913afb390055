"""The results of a bulk alignment (:mod:`citydiplomacy.align.bulk`) loaded into the store:
each document of the corpus linked to the actor it is about, with the SDG goals and targets
and the Paris Agreement's articles it serves (score, paragraphs, share, place, evidence)
and the axes it was aligned to, each document with its provenance (the source file, the
results folder, the as-of date of the alignment, the run that loaded it).

Loading is one transaction (all the documents or none) and idempotent: a document is keyed
by the actor and its bulk id (a hash of its path and bytes), so loading the same results
again — or the results of a run that was resumed — adds nothing; a document whose rows
changed (aligned again with another method into the same folder) is replaced, never
doubled. See docs/bulk-align.md, "Into the store".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .. import progress
from ..errors import StoreError, ValidationError

__all__ = ["StoreReport", "store_results", "aligned_documents", "DEFAULT_LICENCE", "RUN_KIND"]

#: the licence recorded when none is given: the documents are the authors' (a city's report)
DEFAULT_LICENCE = "the document's own terms (see the source file)"
#: the kind of the import run that loads a results folder
RUN_KIND = "align-store"


@dataclass
class StoreReport:
    """What a load did: the documents of the results, those added, replaced (their rows
    changed) and unchanged, the items written, and the run that recorded it."""

    actor: str
    results: str
    documents: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    items: int = 0
    failed: int = 0
    run_id: int | None = None
    unknown_items: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"actor": self.actor, "results": self.results, "documents": self.documents, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged, "items": self.items, "failed": self.failed,
                "run_id": self.run_id}


def _manifest(out: Path) -> dict[str, Any]:
    from .bulk import FORMAT, MANIFEST

    if not out.is_dir():
        raise ValidationError("no such results folder; run citydip align FOLDER --out RESULTS first", file=str(out))
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValidationError(f"not a folder of citydip bulk alignment results ({FORMAT}: {MANIFEST} is missing "
                              "or unreadable)", file=str(out))
    return manifest


def _documents(table) -> dict[str, dict[str, Any]]:
    """The results' rows grouped by document: its facts, its axes, its framework items."""
    docs: dict[str, dict[str, Any]] = {}
    for r in table.to_pylist():
        d = docs.setdefault(r["document_id"], {"document_id": r["document_id"], "path": r["path"], "lang": r["lang"],
                                               "method": r["method"], "n_passages": r["n_passages"],
                                               "error": r["error"], "axes": [], "items": []})
        item = r["item"]
        if not item:
            continue
        if r["framework"] == "axis":
            d["axes"].append(item.split(":", 1)[1])
        else:
            evidence = json.loads(r["evidence"]) if r["evidence"] else None
            d["items"].append({"item_code": item, "score": float(r["score"] or 0.0), "passages": r["passages"],
                               "share": r["share"], "ref": r["ref"], "evidence": evidence})
    for d in docs.values():
        d["axes"] = ",".join(sorted(set(d["axes"])))
        d["items"].sort(key=lambda i: i["item_code"])
        d["digest"] = hashlib.sha256(json.dumps({k: d[k] for k in ("path", "lang", "method", "n_passages", "error",
                                                                    "axes", "items")},
                                                sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return docs


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def store_results(store, out: str | Path, *, actor: str, licence: str | None = None,
                  corpus: str | Path | None = None) -> StoreReport:
    """Load the bulk alignment results in the folder ``out`` into ``store``, each document
    linked to ``actor`` (an id, a QID or a name; :class:`~citydiplomacy.errors.NotFoundError`
    with suggestions when none matches), with ``licence`` (default: the document's own
    terms) in each document's provenance; ``corpus``: the folder the documents were read
    from (default: the one the manifest records). One transaction; loading the same
    results again changes nothing (see the module's docstring). Returns a
    :class:`StoreReport`; the load is an import run, in the audit log when someone acts
    (:func:`~citydiplomacy.store.audit.acting_as`)."""
    from sqlalchemy import delete, insert, select, update

    from ..actors import resolve_actor
    from ..model import Provenance
    from ..store import schema
    from .bulk import read_results

    out = Path(out)
    manifest = _manifest(out)
    with store.snapshot() as conn:
        if conn.execute(select(schema.framework_items.c.code).limit(1)).first() is None:
            raise StoreError(f"the store at {store.where} holds no "
                             "frameworks: build it first with citydip init")
    who = resolve_actor(store, actor, prefer_kind="city")
    report = StoreReport(actor=who["id"], results=str(out))
    progress.report("reading the results", 0, 1)
    docs = _documents(read_results(out))
    report.documents = len(docs)
    report.failed = sum(1 for d in docs.values() if d["error"])
    codes = sorted({i["item_code"] for d in docs.values() for i in d["items"]})
    with store.snapshot() as conn:
        known = {c for chunk in _chunks(codes) for c in conn.execute(
            select(schema.framework_items.c.code).where(schema.framework_items.c.code.in_(chunk))).scalars()}
    missing = [c for c in codes if c not in known]
    if missing:
        raise ValidationError(f"the results name framework items the store does not hold ({', '.join(missing[:5])}); "
                              "build the store's frameworks with citydip init", file=str(out))
    root = Path(corpus) if corpus is not None else Path(manifest.get("corpus") or ".")
    as_of = str(manifest.get("updated") or manifest.get("created") or "")[:10] or None
    method = manifest.get("method") or "?"
    settings = manifest.get("settings") or {}
    note = (f"citydip align ({method}, level {settings.get('level', '?')}, "
            f"{','.join(settings.get('frameworks') or [])}); results {out.resolve()}")
    ad, items = schema.aligned_documents, schema.aligned_document_items
    ids = sorted(docs)
    with store.transaction() as conn:
        run_id = store.start_run(conn, RUN_KIND, str(out.resolve()))
        report.run_id = run_id
        have: dict[str, tuple[int, str]] = {}
        for chunk in _chunks(ids):
            for row in conn.execute(select(ad.c.id, ad.c.document_id, ad.c.digest)
                                    .where(ad.c.actor_id == who["id"], ad.c.document_id.in_(chunk))):
                have[row.document_id] = (row.id, row.digest)
        new_items: list[dict[str, Any]] = []
        for n, doc_id in enumerate(ids, 1):
            d = docs[doc_id]
            old = have.get(doc_id)
            if old is not None and old[1] == d["digest"]:
                report.unchanged += 1
                continue
            prov = store.add_provenance(conn, Provenance(
                source=f"{d['path']} (bulk alignment)", url=str(root / d["path"]),
                licence=licence or DEFAULT_LICENCE, as_of=as_of, note=note), run_id)
            values = {"path": d["path"], "lang": d["lang"], "method": d["method"], "n_passages": d["n_passages"],
                      "error": d["error"], "axes": d["axes"], "digest": d["digest"], "provenance_id": prov}
            if old is None:
                pk = conn.execute(insert(ad).values(actor_id=who["id"], document_id=doc_id, **values)
                                  ).inserted_primary_key[0]
                report.added += 1
            else:
                pk = old[0]
                conn.execute(delete(items).where(items.c.document_id == pk))
                conn.execute(update(ad).where(ad.c.id == pk).values(**values))
                report.updated += 1
            new_items.extend({"document_id": pk, **i} for i in d["items"])
            if n % 200 == 0:
                progress.report("loading into the store", n, len(ids))
        report.items = store.insert_many(conn, items, new_items) if new_items else 0
        progress.report("loading into the store", len(ids), len(ids))
        store.finish_run(conn, run_id, {"action": "align.store", **report.as_dict()})
    return report


def aligned_documents(store, actor: str) -> list[dict[str, Any]]:
    """The documents loaded for ``actor`` (an id, a QID or a name), by path, each with its
    items (code, score, paragraphs, share, place) and its provenance (source, file, as-of)."""
    from sqlalchemy import select

    from ..actors import resolve_actor
    from ..store import schema

    who = resolve_actor(store, actor)
    ad, it, pv = schema.aligned_documents, schema.aligned_document_items, schema.provenance
    with store.snapshot() as conn:
        rows = conn.execute(select(ad, pv.c.source, pv.c.url, pv.c.as_of, pv.c.run_id, pv.c.licence)
                            .join(pv, pv.c.id == ad.c.provenance_id)
                            .where(ad.c.actor_id == who["id"]).order_by(ad.c.path)).mappings().all()
        found = {r["id"]: {**dict(r), "items": []} for r in rows}
        if found:
            for chunk in _chunks([str(k) for k in found]):
                for i in conn.execute(select(it.c.document_id, it.c.item_code, it.c.score, it.c.passages, it.c.share,
                                             it.c.ref).where(it.c.document_id.in_([int(k) for k in chunk]))
                                      .order_by(it.c.document_id, it.c.item_code)).mappings():
                    found[i["document_id"]]["items"].append({k: i[k] for k in ("item_code", "score", "passages",
                                                                                "share", "ref")})
    return list(found.values())
