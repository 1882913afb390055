"""Initiatives: a city's local actions (a plan, a programme, a project), stored with
provenance and aligned with the SDGs and the Paris Agreement when written; the profile
shows their coverage per goal and article, and the gaps.

Initiatives come in through ``citydip initiative add`` (one) or ``citydip initiative
import`` (a table; the ``table`` importer with ``as_="initiatives"``), both atomic."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import delete, insert, select, update

from .actors import resolve_actor
from .errors import ValidationError
from .ingest.base import Plan
from .model import Initiative, Provenance
from .store import Store, schema

#: alignments at or above this score are stored (the reported items and near misses)
STORE_FLOOR = 0.2


def alignment_text(ini: Any) -> str:
    """What an initiative is aligned on: its title and its description."""
    title, text = ini.title.strip(), (ini.text or "").strip()
    if not text:
        return title
    return text if text.startswith(title) else f"{title}. {text}"


def alignment_rows(inis: Sequence[Initiative], *, mode: str = "auto") -> list[tuple[list[dict[str, Any]], str | None]]:
    """Align initiatives with the SDGs and the Paris Agreement: for each, the alignment
    rows to store (without their ``initiative_id``) and the axes its text was aligned to
    (comma-separated; None when none). Computed before an import takes the write lock."""
    from .align.records import alignment_rows as rows_of

    return rows_of([alignment_text(ini) for ini in inis], mode=mode)


def write_alignments(conn, changed: Sequence[tuple[int, Initiative]], *, mode: str = "auto") -> int:
    """Align the initiatives ``changed`` ((row id, initiative) pairs) and replace their
    stored alignments; returns the number of alignment rows written. An initiative
    without axes of its own gets the axes its text was aligned to."""
    a_t, i_t = schema.alignments, schema.initiatives
    n = 0
    for (row_id, ini), (rows, axes) in zip(changed, alignment_rows([ini for _, ini in changed], mode=mode)):
        conn.execute(delete(a_t).where(a_t.c.initiative_id == row_id))
        if rows:
            conn.execute(insert(a_t), [{**r, "initiative_id": row_id} for r in rows])
            n += len(rows)
        if not ini.axes and axes:
            conn.execute(update(i_t).where(i_t.c.id == row_id).values(axes=axes))
    return n


def plan_one(store: Store, actor: str, title: str, text: str = "", *, since: str | None = None,
             until: str | None = None, status: str | None = None, axes: Any = None,
             partners: Sequence[str] = (), source: str | None = None, licence: str | None = None,
             url: str | None = None, as_of: str | None = None) -> Plan:
    """A plan adding (or updating) one initiative of ``actor`` (any reference)."""
    found = resolve_actor(store, actor)
    ini = Initiative.parse({"actor": found["id"], "title": title, "text": text, "since": since, "until": until,
                            "status": status, "axes": axes, "partners": list(partners)})
    if not source:
        raise ValidationError("say where the initiative is described (--source, e.g. the council decision "
                              "or web page), so the fact keeps its provenance", field="source")
    prov = Provenance.parse({"source": source, "url": url, "licence": licence or "not stated",
                             "as_of": as_of, "note": None if licence else "licence not stated"})
    plan = Plan(importer="initiative", source=source, provenance=prov, rows_read=1)
    plan.initiatives.append(ini)
    return plan


def list_initiatives(store: Store, actor_id: str) -> list[dict[str, Any]]:
    """The initiatives of an actor with their aligned goals, targets and articles."""
    i_t, a_t, p_t = schema.initiatives, schema.alignments, schema.provenance
    with store.connect() as conn:
        rows = conn.execute(select(i_t, p_t.c.source, p_t.c.licence, p_t.c.as_of)
                            .join(p_t, p_t.c.id == i_t.c.provenance_id)
                            .where(i_t.c.actor_id == actor_id).order_by(i_t.c.since, i_t.c.title)).all()
        al = conn.execute(select(a_t).where(a_t.c.initiative_id.in_([r.id for r in rows]))).all() if rows else []
    by_ini: dict[int, list] = {}
    for a in al:
        by_ini.setdefault(a.initiative_id, []).append(a)
    out = []
    for r in rows:
        items = sorted(by_ini.get(r.id, []), key=lambda a: a.item_code)
        goals = sorted({int(a.item_code[4:]) for a in items if a.item_code.startswith("sdg:") and "." not in a.item_code})
        out.append({
            "id": r.id, "title": r.title, "text": r.text, "since": r.since, "until": r.until, "status": r.status,
            "axes": [x for x in (r.axes or "").split(",") if x], "partners": r.partners or [],
            "sdgs": goals,
            "targets": [a.item_code[4:] for a in items if a.item_code.startswith("sdg:") and "." in a.item_code],
            "paris": sorted(int(a.item_code[6:]) for a in items if a.item_code.startswith("paris:")),
            "scores": {a.item_code: round(a.score, 3) for a in items},
            "method": items[0].method if items else None,
            "provenance": {"source": r.source, "licence": r.licence, "as_of": r.as_of}})
    return out


def coverage(initiatives: list[dict[str, Any]]) -> dict[str, Any]:
    """How many initiatives serve each SDG and Paris article, and the gaps (goals and
    operative articles no initiative serves)."""
    from .vocab import PARIS_OPERATIVE_ARTICLES

    by_sdg = {g: sum(1 for i in initiatives if g in i["sdgs"]) for g in range(1, 18)}
    articles = list(PARIS_OPERATIVE_ARTICLES)
    by_paris = {a: sum(1 for i in initiatives if a in i["paris"]) for a in articles}
    return {"count": len(initiatives), "by_sdg": by_sdg, "by_paris": by_paris,
            "sdg_gaps": [g for g, n in by_sdg.items() if n == 0],
            "paris_gaps": [a for a, n in by_paris.items() if n == 0]}
