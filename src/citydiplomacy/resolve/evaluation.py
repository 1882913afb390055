"""Scoring a resolver against hand labels (``tests/data/resolution_labels.csv`` and any
file of the same shape: ``name, country, geonameid, label_note[, subdivision]``).

A label is a GeoNames id (a populated place), a subdivision code (ISO 3166-2,
``US-FIPS-<code>`` for a US county, ``district:<GeoNames id of the city>`` for a part of
a city that no gazetteer holds (``district:supplement:<id>`` when the city itself is a
supplementary place), or ``supplement:<id>`` for a municipality only the
supplementary gazetteer lists; several codes of one entity are separated by ``|``), or
neither (``NONE``: nothing a careful person would
pick). An answer is correct when it is the labelled place or subdivision; any answer to a
``NONE`` label is wrong. Precision = correct / answered; recall = correct / labelled.
"""

from __future__ import annotations

from typing import Callable, Iterable

from .gazetteer import Gazetteer
from .resolver import Resolver

__all__ = ["Answer", "evaluate", "resolver_answer"]

#: ("place", GeoNames id) or ("subdivision", code), or None for no answer.
Answer = tuple[str, object] | None


def resolver_answer(resolver: Resolver, gz: Gazetteer) -> Callable[[str, str], Answer]:
    def answer(name: str, country: str) -> Answer:
        res = resolver.resolve(name, country)
        if not res.resolved:
            return None
        p = gz.places[res.id]
        if p.parent:                             # a district of a city that no gazetteer holds
            city = gz.places[p.parent]           # (its city a GeoNames place, or a supplementary one)
            return ("subdivision", f"district:{city.geonames_id or city.code}")
        if p.code and p.code.startswith("supplement:"):   # a place only the supplementary gazetteer has
            return ("subdivision", p.code)
        return ("subdivision", p.code) if p.kind == "region" else ("place", p.geonames_id)
    return answer


def evaluate(labels: Iterable[dict[str, str]], answer: Callable[[str, str], Answer]) -> dict:
    """Precision and recall, on places only (the original task: subdivision answers count
    as wrong there) and on places and subdivisions together."""
    labels = list(labels)
    places = sum(1 for r in labels if r.get("geonameid"))
    subs = sum(1 for r in labels if r.get("subdivision"))
    answered = answered_places = correct_places = correct_subs = 0
    wrong = []
    for r in labels:
        got = answer(r["name"], r["country"])
        if got is None:
            continue
        answered += 1
        kind, value = got
        if kind == "place":
            answered_places += 1
        if kind == "place" and r.get("geonameid") and int(r["geonameid"]) == value:
            correct_places += 1
        elif kind == "subdivision" and r.get("subdivision") and value in r["subdivision"].split("|"):
            correct_subs += 1
        else:
            wrong.append((r["name"], r["country"], r.get("geonameid") or r.get("subdivision") or "NONE", value))
    correct = correct_places + correct_subs
    return {
        "resolved": answered, "correct": correct, "wrong": len(wrong),
        "precision": correct / answered if answered else 0.0,
        "recall": correct / (places + subs) if places + subs else 0.0,
        "places": {"resolved": answered_places, "correct": correct_places,
                   "precision": correct_places / answered_places if answered_places else 0.0,
                   "recall": correct_places / places if places else 0.0},
        "subdivisions": {"labelled": subs, "correct": correct_subs,
                         "answered": answered - answered_places},
        "wrong_examples": wrong,
    }
