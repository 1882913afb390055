"""What a list's order says about its names.

Lists of pairs scraped from web pages keep the pages' order: Wikipedia's list of US
sister cities, for one, is split by state, so "Columbus" between Atlanta and Macon is
Columbus, Georgia, and the "Columbus" between Carmel and Evansville is Columbus, Indiana.
A name that is ambiguous on its own can be settled by the region of its neighbours —
but only in a list that really is ordered by region, which is measured, not assumed.

Two steps, both applied only to names the resolver found ambiguous between places of the
same name (never to a name it resolved, never to a fuzzy or composite name):

1. **Section.** The list's first column (the page's own city) is read as a sequence of
   entries per country cell. A country's section counts as ordered by region when, of
   its neighbouring resolved entries, at least :data:`ORDERED_SHARE` share their
   first-level region (US list: 0.62; alphabetical lists such as China's: under 0.1). In
   such a section an ambiguous entry is settled when it stands between two resolved
   entries of the same region (the nearest on each side, looking past at most
   :data:`SKIP` unresolved ones) and exactly one of its candidates lies in that region
   (rule ``list_context``). An entry at the edge of a section is left alone: "Jackson"
   between Winona, Minnesota and St. Louis, Missouri is in neither.
2. **Reciprocity.** Each city's page lists its partners, so a pair often appears twice,
   once in each order. A partner name left ambiguous in one row takes the place settled
   for it in a row where it is the page's city and its partner is the same place
   (rule ``reciprocal``): "Genoa – Columbus" follows "Columbus [Ohio section] – Genoa".
3. **The same pair, plainly and qualified.** A pair listed twice — on one page, or once
   on each partner's page — is often written once plainly and once with a qualifier:
   Gyumri's page names "Halle", Halle's own page is "Halle (Saale)"; Karlovy Vary's page
   names "Kusatsu", the Japanese list "Kusatsu, Gunma". Every mention of a name beside
   the same partner then takes the place the qualified mentions agree on (rule
   ``same_pair``), provided that place has the plain name too: the qualified one decides,
   and a partner does not keep both the right twin and a namesake. Mentions qualified
   differently ("St. Cloud, Florida" and "St. Cloud, Minnesota" beside Saint-Cloud) that
   resolve to different places leave the plain one as it is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Sequence

from .. import countries
from ..text import normalize
from .gazetteer import Resolution
from .names import qualified
from .resolver import Resolver

__all__ = ["ORDERED_SHARE", "SKIP", "MIN_PAIRS", "settle_rows", "section_order"]

#: Share of neighbouring resolved entries in the same region for a section to count as
#: ordered by region.
ORDERED_SHARE = 0.5
#: Unresolved entries looked past to find the nearest resolved neighbour on each side.
SKIP = 3
#: A section needs at least this many neighbouring resolved pairs to be measured at all.
MIN_PAIRS = 10

Key = tuple[str, str]


def _runs(rows: Sequence[tuple[Key, Key]]) -> list[tuple[Key, list[int]]]:
    """Consecutive rows with the same first name: (key, row indexes)."""
    out: list[tuple[Key, list[int]]] = []
    for i, (first, _) in enumerate(rows):
        if out and out[-1][0] == first:
            out[-1][1].append(i)
        else:
            out.append((first, [i]))
    return out


def section_order(regions: Sequence[str | None]) -> float | None:
    """Share of neighbouring resolved entries that share their region (None: too few)."""
    known = [r for r in regions if r]
    pairs = list(zip(known, known[1:]))
    if len(pairs) < MIN_PAIRS:
        return None
    return sum(a == b for a, b in pairs) / len(pairs)


def _nearest_region(regions: list[str | None], start: int, step: int) -> str | None:
    """The region of the nearest resolved entry from ``start`` in direction ``step``,
    looking past at most :data:`SKIP` unresolved entries."""
    i = start
    while 0 <= i < len(regions) and abs(i - start) <= SKIP:
        if regions[i]:
            return regions[i]
        i += step
    return None


def settle_rows(resolver: Resolver, rows: Sequence[tuple[Key, Key]],
                base: dict[Key, Resolution]) -> tuple[list[list[Resolution]], Counter[str]]:
    """Per row, the resolutions of its two names: ``base[key]`` (one resolution per
    distinct name), settled by the list's order where that is ambiguous (see the module
    docstring). Returns the rows' resolutions and counts of what was settled."""
    places = resolver.gz.places
    out = [[base[a], base[b]] for a, b in rows]
    counts: Counter[str] = Counter()
    runs = _runs(rows)
    by_cell: dict[str, list[int]] = {}
    for r, (key, _) in enumerate(runs):
        by_cell.setdefault(key[1], []).append(r)
    settled_first: dict[tuple[Key, str], Resolution] = {}   # (name, its partner's place)
    for cell, run_ids in by_cell.items():
        regions = [places[base[runs[r][0]].id].admin1 if base[runs[r][0]].resolved else None
                   for r in run_ids]
        share = section_order(regions)
        if share is None or share < ORDERED_SHARE:
            continue
        for pos, r in enumerate(run_ids):
            key, idx = runs[r]
            res = base[key]
            if res.status != "ambiguous" or res.rule != "ambiguous":
                continue
            region = _nearest_region(regions, pos - 1, -1)
            if not region or region != _nearest_region(regions, pos + 1, 1):
                continue
            got = resolver.refine(res, region, evidence={"list_section": cell,
                                                         "section_order": round(share, 2)})
            if not got.resolved:
                continue
            counts["list_context"] += 1
            for i in idx:
                out[i][0] = got
                if out[i][1].resolved:
                    settled_first[(key, out[i][1].id)] = got
    for i, (a, b) in enumerate(rows):
        res, partner = out[i][1], out[i][0]
        if res.status == "ambiguous" and partner.resolved and (b, partner.id) in settled_first:
            got = settled_first[(b, partner.id)]
            out[i][1] = replace(got, query=res.query, rule="reciprocal", score=got.score,
                                evidence={**got.evidence, "reciprocal_of": f"{b[0]} – {a[0]}"})
            counts["reciprocal"] += 1
    counts["same_pair"] = _same_pair(resolver, rows, out)
    if not counts["same_pair"]:
        del counts["same_pair"]
    return out, counts


def _same_pair(resolver: Resolver, rows: Sequence[tuple[Key, Key]], out: list[list[Resolution]]) -> int:
    """Step 3 (see the module docstring): mentions of one name beside one partner, plain
    and qualified, take the place the qualified ones agree on. Returns how many
    mentions changed."""
    cells: dict[str, str | None] = {}

    def country(cell: str) -> str | None:
        if cell not in cells:
            c, _ = countries.parse_place(cell)
            cells[cell] = c.alpha2 if c else None
        return cells[cell]

    groups: dict[tuple[str, str, str], list[tuple[int, int, str | None]]] = {}
    for i, pair in enumerate(rows):
        for side in (0, 1):
            partner = out[i][1 - side]
            name, cell = pair[side]
            cc = country(cell) if name else None
            if not partner.resolved or cc is None:
                continue
            base, qualifier = qualified(name)
            groups.setdefault((partner.id, normalize(base), cc), []).append((i, side, qualifier))
    changed = 0
    for (_, base, cc), mentions in groups.items():
        if all(q for _, _, q in mentions):
            continue
        decided = {out[i][side].id for i, side, q in mentions if q and out[i][side].resolved}
        if not decided:
            changed += _unsettle_plain(resolver, out, mentions)
            continue
        if len(decided) != 1:
            continue
        place = decided.pop()
        if place not in resolver.gz.by_name.get((base, cc), ()) and \
                place not in resolver.gz.region_by_name.get((base, cc), ()):
            continue                     # the qualified place does not carry the plain name
        source = next(out[i][side] for i, side, q in mentions if q and out[i][side].id == place)
        for i, side, q in mentions:
            res = out[i][side]
            if q or res.id == place:
                continue
            out[i][side] = replace(source, query=res.query, rule="same_pair", score=min(source.score, 0.9),
                                   evidence={**source.evidence, "qualified_as": source.query.get("name"),
                                             "partner": rows[i][1 - side][0], "was": res.id or res.rule})
            changed += 1
    return changed


def _unsettle_plain(resolver: Resolver, out: list[list[Resolution]], mentions) -> int:
    """The qualified mentions name a region or county and found no place of the name in it
    ("Bayside, New South Wales": GeoNames knows only Victoria's Bayside) or could not tell
    which ("Wellington, Somerset"): a plain mention beside the same partner that was
    answered with a place outside that region, or that cannot be told apart either, goes to
    review too (rule ``same_pair_unsettled``)."""
    qualified_res = [(out[i][side], q) for i, side, q in mentions if q]
    if any(r.rule not in ("qualifier_disagrees", "qualifier_unsettled") for r, _ in qualified_res):
        return 0
    changed = 0
    for i, side, q in mentions:
        res = out[i][side]
        if q or not res.resolved:
            continue
        place = resolver.gz.places[res.id]
        against = [(r, qq) for r, qq in qualified_res
                   if resolver.hint_regions(normalize(qq), place.cc)[1] in ("region", "county")
                   and (r.rule == "qualifier_unsettled" or not resolver.consistent(place, normalize(qq)))]
        if not against:
            continue
        r, _ = against[0]
        how = "no place of this name matches" if r.rule == "qualifier_disagrees" else "cannot be told apart"
        out[i][side] = Resolution(res.query, "ambiguous", None, 0.6, "same_pair_unsettled",
                                  {**res.evidence, "qualified_as": r.query.get("name"), "was": res.id,
                                   "reason": f"the same partner names it '{r.query.get('name')}', which {how}"},
                                  r.candidates or res.candidates)
        changed += 1
    return changed
