"""Global frameworks: the SDGs (17 goals, 169 targets, the global indicators) in every
language shipped in ``data/sdg``, and the Paris Agreement's 29 articles, with the
states (and the EU) that are party to it as ``party_to`` ties (ended where a withdrawal
took effect) and the states that signed it without becoming parties as ``signatory_of``
ties."""

from __future__ import annotations

from typing import Any

from ..model import FrameworkItem, Provenance, Tie
from ..shipped import SDG_LANGS, sdg_texts  # noqa: F401 (align reads them without the store)
from ..store import schema
from .context import BuildContext, load_yaml, provenance_from

SDG_PROVENANCE = Provenance(
    source="UN SDG goals, targets and indicators (A/RES/70/1 and the global indicator "
           "framework), via open-sdg sdg-translations commit 0cda5858",
    url="https://github.com/open-sdg/sdg-translations", licence="MIT (repository); UN texts",
    as_of="2025-08-19")


def _ordinal(code: str) -> int:
    # 11.6.2 -> sortable number; lettered targets (11.a) sort after numbered ones
    parts = code.split(":")[1].split(".")
    n = 0
    for p in parts + ["0"] * (3 - len(parts)):
        n = n * 100 + (int(p) if p.isdigit() else 50 + ord(p) - ord("a"))
    return n


def _add_framework(ctx: BuildContext, fid: str, name: dict[str, str], prov_id: int,
                   items: list[FrameworkItem], attrs: dict[str, Any] | None = None) -> None:
    ctx.conn.execute(schema.frameworks.insert().values(id=fid, name=name, attrs=attrs,
                                                       provenance_id=prov_id))
    ctx.framework_ids.add(fid)
    ctx.store.insert_many(ctx.conn, schema.framework_items, [
        {"code": it.code, "framework": fid, "level": it.level, "parent": it.parent,
         "ordinal": it.ordinal, "attrs": it.attrs or None, "provenance_id": prov_id}
        for it in items])
    titles = []
    for it in items:
        for lang, title in it.titles.items():
            titles.append({"code": it.code, "lang": lang, "title": title,
                           "short": it.short.get(lang)})
    ctx.store.insert_many(ctx.conn, schema.framework_titles, titles)
    ctx.framework_ids.update(it.code for it in items)
    for it in items:
        ctx.count(f"framework.{fid}.{it.level}")


def build_sdg(ctx: BuildContext) -> None:
    prov_id = ctx.provenance(SDG_PROVENANCE)
    items = []
    for code, by_lang in sdg_texts().items():
        depth = code.count(".")
        level = ("goal", "target", "indicator")[depth]
        parent = code.rsplit(".", 1)[0] if depth else None
        items.append(FrameworkItem(
            code=code, framework="sdg", level=level, parent=parent, ordinal=_ordinal(code),
            titles={lang: t["title"] for lang, t in by_lang.items() if "title" in t},
            short={lang: t["short"] for lang, t in by_lang.items() if "short" in t}))
    items.sort(key=lambda it: it.ordinal)
    _add_framework(ctx, "sdg", {"en": "Sustainable Development Goals",
                                "fr": "Objectifs de développement durable",
                                "es": "Objetivos de Desarrollo Sostenible",
                                "de": "Ziele für nachhaltige Entwicklung"},
                   prov_id, items, {"languages": list(SDG_LANGS)})


def build_paris(ctx: BuildContext) -> None:
    data = load_yaml("curated", "paris_agreement.yaml")
    fw = data["framework"]
    prov_id = ctx.provenance(provenance_from(fw["source"]))
    items = [FrameworkItem(
        code=it["code"], framework="paris", level="article", ordinal=int(it["number"]),
        titles=it["title"], short={},
        attrs={"theme": it.get("theme"), "axes": it.get("axes", []),
               "summary": it.get("summary", {})}) for it in data["items"]]
    _add_framework(ctx, "paris", fw["name"], prov_id, items)
    parties = data["parties"]
    party_prov = ctx.provenance(provenance_from(parties["source"]))
    rows = []
    for entry in parties.get("states", []):
        entry = entry if isinstance(entry, dict) else {"state": entry}
        rows.append(_paris_tie(ctx, entry["state"].lower(), "party_to", entry, party_prov))
    for org in parties.get("organizations", []):
        if org in ctx.actor_ids:
            rows.append(_paris_tie(ctx, org, "party_to", {}, party_prov))
    for entry in parties.get("signatories", []):
        entry = entry if isinstance(entry, dict) else {"state": entry}
        rows.append(_paris_tie(ctx, entry["state"].lower(), "signatory_of", entry, party_prov))
    ctx.add_ties(rows)


def _paris_tie(ctx: BuildContext, actor_id: str, type_: str, entry: dict[str, Any], prov_id: int):
    if actor_id not in ctx.actor_ids:
        raise ValueError(f"paris_agreement.yaml names '{actor_id}', which is not an actor")
    tie = Tie.parse({"source": actor_id, "target": "paris", "type": type_,
                     "since": entry.get("since"), "until": entry.get("until"),
                     "status": entry.get("status"), "axes": ["sustainability"],
                     "note": entry.get("note")})
    return ctx.tie_row(tie, prov_id, target_type="framework")
