"""Browsing global frameworks: SDG goals → targets → indicators, Paris articles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from .errors import NotFoundError, ValidationError
from .store import Store
from .store.schema import framework_items, framework_titles, frameworks


def list_frameworks(store: Store) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(frameworks.c.id, frameworks.c.name).order_by(frameworks.c.id))]


def _code(framework: str, code: str | None) -> str | None:
    if code is None or code == "":
        return None
    code = code.strip()
    return code if ":" in code else f"{framework}:{code}"


def browse(store: Store, framework: str, code: str | None = None, *, lang: str = "en") -> dict[str, Any]:
    """A framework (its top-level items) or one item with its children, titled in
    ``lang`` (falling back to English where a translation is missing)."""
    with store.connect() as conn:
        fw = conn.execute(select(frameworks).where(frameworks.c.id == framework)).first()
        if fw is None:
            known = ", ".join(r.id for r in conn.execute(select(frameworks.c.id)))
            raise NotFoundError(f"no framework '{framework}'; known frameworks: {known}")
        langs = {r.lang for r in conn.execute(
            select(framework_titles.c.lang).distinct()
            .join(framework_items, framework_items.c.code == framework_titles.c.code)
            .where(framework_items.c.framework == framework))}
        if lang not in langs:
            raise ValidationError(f"no '{lang}' titles for {framework}; available: "
                                  f"{', '.join(sorted(langs))}", field="lang")
        full = _code(framework, code)
        item = None
        if full is not None:
            item = conn.execute(select(framework_items).where(
                framework_items.c.code == full, framework_items.c.framework == framework)).first()
            if item is None:
                raise NotFoundError(f"no item '{code}' in {framework}; try 'citydip framework "
                                    f"{framework}' to list its items")
        parent_clause = (framework_items.c.parent == full) if full else (framework_items.c.parent.is_(None))
        children = conn.execute(select(framework_items).where(
            framework_items.c.framework == framework, parent_clause)
            .order_by(framework_items.c.ordinal)).all()
        codes = [c.code for c in children] + ([full] if full else [])
        titles = _titles(conn, codes, lang)
        counts = _level_counts(conn, framework)
    result: dict[str, Any] = {"framework": framework, "name": fw.name.get(lang) or fw.name.get("en"),
                              "lang": lang, "languages": sorted(langs), "counts": counts}
    if item is not None:
        result["item"] = {"code": item.code, "level": item.level, "parent": item.parent,
                          **titles.get(item.code, {}), "attrs": item.attrs or {}}
    result["children"] = [{"code": c.code, "level": c.level, **titles.get(c.code, {})}
                          for c in children]
    return result


def _level_counts(conn, framework: str) -> dict[str, int]:
    return {r.level: r.n for r in conn.execute(
        select(framework_items.c.level, func.count().label("n"))
        .where(framework_items.c.framework == framework).group_by(framework_items.c.level))}


def _titles(conn, codes: list[str], lang: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    rows = conn.execute(select(framework_titles).where(
        framework_titles.c.code.in_(codes), framework_titles.c.lang.in_([lang, "en"])))
    for r in rows:
        if r.lang == lang or r.code not in out:
            out[r.code] = {"title": r.title, **({"short": r.short} if r.short else {})}
    return out
