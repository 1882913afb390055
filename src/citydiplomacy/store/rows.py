"""Rows of the store's tables from model objects (shared by the dataset build and imports)."""

from __future__ import annotations

from typing import Any

from ..model import Actor, Initiative, Observation, Tie
from ..text import normalize

#: Search-ranking importance by kind for actors that have no population (see search.py).
KIND_IMPORTANCE = {"international_organization": 1e9, "geopolitical_bloc": 1e9,
                   "regional_organization": 5e8, "city_network": 2e8}


def importance_of(actor: Actor) -> float:
    if actor.kind.value == "state":
        return 100.0 * float(actor.population or 1_000_000)
    if actor.kind.value in KIND_IMPORTANCE:
        return KIND_IMPORTANCE[actor.kind.value]
    pop = float(actor.population or 0)
    return pop * (10.0 if actor.attrs.get("capital") else 1.0)


def actor_row(actor: Actor, prov_id: int, importance: float | None = None) -> dict[str, Any]:
    row = actor.model_dump()
    row.update(axes=",".join(a.value for a in actor.axes), kind=actor.kind.value,
               layer=actor.layer.value, attrs=row["attrs"] or None, provenance_id=prov_id,
               importance=importance_of(actor) if importance is None else importance)
    return row


def alias_rows(actor_id: str, names: dict[str | None, list[str]] | list[str], prov_id: int,
               skip: set[str] | None = None) -> list[dict[str, Any]]:
    """One alias row per distinct normalised name (and not in ``skip``)."""
    if isinstance(names, list):
        names = {None: names}
    seen: set[str] = set(skip or ())
    rows = []
    for lang, values in names.items():
        for name in values or []:
            norm = normalize(name)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            rows.append({"actor_id": actor_id, "name": name, "norm": norm, "lang": lang,
                         "provenance_id": prov_id})
    return rows


def tie_key(tie: Tie) -> tuple[str, str, str, str]:
    return tie.source, tie.target, tie.type.value, tie.since or ""


def tie_row(tie: Tie, prov_id: int, target_type: str = "actor") -> dict[str, Any]:
    row = tie.model_dump()
    row.update(type=tie.type.value, status=tie.status.value, axes=",".join(a.value for a in tie.axes),
               target_type=target_type, provenance_id=prov_id, attrs=row["attrs"] or None)
    return row


def observation_row(obs: Observation, prov_id: int) -> dict[str, Any]:
    return {"actor_id": obs.actor, "indicator": obs.indicator, "year": obs.year, "value": obs.value,
            "unit": obs.unit, "provenance_id": prov_id}


def initiative_row(ini: Initiative, prov_id: int) -> dict[str, Any]:
    return {"actor_id": ini.actor, "title": ini.title, "text": ini.text,
            "axes": ",".join(a.value for a in ini.axes), "since": ini.since, "until": ini.until,
            "status": ini.status.value, "partners": ini.partners or None, "provenance_id": prov_id}


#: the bit of each layer in ``engagements.party_layers`` (revision 0010)
LAYER_BITS = {"macro": 1, "meso": 2, "micro": 4}


def party_layers_expr():
    """The layers of an engagement's parties as bits (:data:`LAYER_BITS`), an SQL
    expression correlated to ``engagements`` that SQLite and PostgreSQL both run."""
    from sqlalchemy import case, literal, select

    from . import schema

    e, p, a = schema.engagements, schema.engagement_parties, schema.actors
    total = None
    for layer, bit in LAYER_BITS.items():
        has = select(literal(1)).select_from(p).join(a, a.c.id == p.c.actor_id).where(
            p.c.engagement_id == e.c.id, a.c.layer == layer).correlate(e).exists()
        term = case((has, bit), else_=0)
        total = term if total is None else total + term
    return total


def refresh_party_layers(conn, ids=None) -> None:
    """Store the layers of the parties of the engagements ``ids`` (None: of all) with
    them, after their parties were written. An actor's layer follows its kind, which no
    edit changes (``editing.EDITABLE``): parties are the only thing that moves it."""
    from sqlalchemy import update

    from . import schema

    e = schema.engagements
    if ids is None:
        conn.execute(update(e).values(party_layers=party_layers_expr()))
        return
    ids = list(ids)
    for i in range(0, len(ids), 500):
        conn.execute(update(e).where(e.c.id.in_(ids[i:i + 500])).values(party_layers=party_layers_expr()))
