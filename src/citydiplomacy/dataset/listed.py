"""Places named in the rows of a curated list (a network's members, a declaration's
signatories, an event's participants): the checks every such row passes, and their
resolution to actors of the store.

A row names a place as its source writes it (``city``), its ``country``, and optional
evidence that tells namesakes apart (``admin1``, ``geonameid``, ``lat``/``lon``); it
carries its own source (``source_name``, ``source_url``, ``licence``, ``as_of``). The
build steps that read such lists (:mod:`.memberships`, :mod:`.engagements`) share these
checks and :func:`resolve_places`, which resolves the rows with
:mod:`citydiplomacy.resolve` against the places built so far plus the smaller GeoNames
places, the subdivisions and the supplementary gazetteer of the countries named, and
writes the smaller places and subdivisions that a resolved row uses.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from importlib.resources.abc import Traversable
from typing import Any, Callable, Iterable, Iterator, NoReturn

import yaml

from .. import countries
from ..dates import parse_partial_date
from ..errors import ValidationError
from ..resolve import Resolution, Resolver, districts, geonames, name_variants, split_name, subdivisions, supplement
from ..resolve import with_territories
from . import cities
from .context import BuildContext

__all__ = ["NON_COMMERCIAL", "SOURCE_COLUMNS", "ListFile", "check_place_cells", "check_source_cells", "list_files",
           "read_rows", "region_hint", "resolve_places", "row_label"]

#: Licences never shipped (the project's rule: no non-commercial data).
NON_COMMERCIAL = re.compile(r"\bNC\b|non[- ]?commercial", re.I)
#: The columns that name a row's own source.
SOURCE_COLUMNS = ("source_name", "source_url", "licence", "as_of")

Fail = Callable[[str, str], NoReturn]
#: libyaml's safe loader where PyYAML has it (five times faster than the pure-Python one)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclasses.dataclass
class ListFile:
    """One curated list as it lies in its folder: ``<key>.yaml`` (read: ``meta``) and, when
    there is one, ``<key>.csv`` (``csv``, not read yet)."""

    key: str
    meta: Any
    yaml_name: str
    csv_name: str
    csv: Traversable | None


def list_files(directory: Traversable, what: str, holds: str) -> Iterator[ListFile]:
    """Every ``<key>.yaml`` of ``directory`` in name order, its YAML read, with its
    ``<key>.csv`` if there is one. A CSV without its YAML file, or a YAML file that does not
    parse, raises :class:`ValidationError` naming the file (``what`` names such a CSV, "member
    list"; ``holds`` says what its YAML file holds)."""
    files = {f.name: f for f in directory.iterdir()}
    orphans = sorted(n for n in files if n.endswith(".csv") and f"{n[:-4]}.yaml" not in files)
    if orphans:
        raise ValidationError(f"{what} without its YAML file ({orphans[0][:-4]}.yaml): add one with {holds}",
                              file=orphans[0])
    for name in sorted(files):
        if not name.endswith(".yaml"):
            continue
        key = name[:-5]
        try:
            with files[name].open(encoding="utf-8") as fh:
                meta = yaml.load(fh, Loader=_YAML_LOADER) or {}
        except yaml.YAMLError as exc:
            raise ValidationError(f"not valid YAML: {exc}".splitlines()[0], file=name) from None
        yield ListFile(key, meta, name, f"{key}.csv", files.get(f"{key}.csv"))


def check_place_cells(r: dict[str, Any], fail: Fail) -> None:
    """Check and normalise a row's place cells in place: ``city`` given, ``country`` an ISO
    code (read as alpha-2), ``geonameid`` digits, ``lat``/``lon`` numbers in range (both or
    neither). ``fail(field, message)`` raises."""
    if not r["city"]:
        fail("city", "empty: give the place's name as the source writes it")
    country = countries.lookup_code(r["country"])
    if country is None:
        fail("country", f"'{r['country']}' is not an ISO 3166-1 alpha-2 code (e.g. DE, US)")
    r["country"] = country.alpha2
    if r["geonameid"] and not r["geonameid"].isdigit():
        fail("geonameid", f"'{r['geonameid']}' is not a GeoNames id (digits only)")
    for key, bound in (("lat", 90), ("lon", 180)):
        if r[key]:
            try:
                v = float(r[key])
            except ValueError:
                fail(key, f"'{r[key]}' is not a number")
            if not -bound <= v <= bound:
                fail(key, f"{v} is outside -{bound}..{bound}")
            r[key] = v
        else:
            r[key] = None
    if (r["lat"] is None) != (r["lon"] is None):
        fail("lon" if r["lon"] is None else "lat", "give both coordinates or neither")


def check_source_cells(r: dict[str, Any], fail: Fail) -> None:
    """Every row names its own source, with a licence that is not non-commercial and an
    ``as_of`` partial date (normalised in place)."""
    for key in SOURCE_COLUMNS:
        if not r[key]:
            fail(key, "every row names its own source: source_name, source_url, licence and as_of")
    if NON_COMMERCIAL.search(r["licence"]):
        fail("licence", f"'{r['licence']}' is a non-commercial licence; such data is never shipped")
    try:
        r["as_of"] = parse_partial_date(r["as_of"], field="as_of")
    except ValidationError as exc:
        fail("as_of", exc.detail)


def row_label(r: dict[str, Any]) -> str:
    """A row as the build's report names it: "Frankfurt (DE, Hesse), line 12"."""
    return f"{r['city']} ({r['country']}{', ' + r['admin1'] if r.get('admin1') else ''}), line {r['line']}"


def region_hint(row: dict[str, Any]) -> str | None:
    """The row's region as a name: a GeoNames admin1 code ("CA", "07") or an ISO 3166-2
    code ("US-CA", "QC" in Canada) becomes the division's name."""
    text = row.get("admin1") or ""
    if not text:
        return None
    code = text.split("-", 1)[1] if text.upper().startswith(f"{row['country']}-") else text
    if len(code) <= 3:
        name = (geonames.admin1_names().get((row["country"], code.upper()))
                or subdivisions.records().get(f"{row['country']}-{code.upper()}", {}).get("name"))
        if name:
            return name
    return text


def _add_identified(ctx: BuildContext, rows: list[dict[str, Any]]) -> None:
    """Rows that give a GeoNames id the gazetteer lacks: add that place (cities500) as a
    provisional place, so that the id decides."""
    gz = ctx.gazetteer
    wanted = {int(r["geonameid"]) for r in rows if r.get("geonameid")} - set(gz.by_geonames)
    if not wanted:
        return
    records = geonames.load_records("cities500.json")
    for gid in wanted:
        rec = records.get(str(gid))
        if rec is not None:
            gz.add(geonames.place_from_record(rec, f"{geonames.PROVISIONAL}{gid}", in_store=False),
                   [rec["name"], *rec.get("alternatenames", [])])


def _promote(ctx: BuildContext, mapping: dict[str, str]) -> None:
    """Places written by a step answer to their store ids from then on (later steps
    resolve against the same gazetteer)."""
    gz = ctx.gazetteer
    for pid, actor_id in mapping.items():
        place = gz.places.get(pid)
        if place is None:
            continue
        if actor_id in gz.places:          # already known under its store id
            gz.remove([pid])
            continue
        names = list(gz._names_of.get(pid, ()))
        keys = [k for k, v in gz.districts.items() if v == pid]
        gz.remove([pid])
        gz.add(dataclasses.replace(place, id=actor_id, in_store=True), names, normalized=True)
        for k in keys:
            gz.districts[k] = actor_id


def resolve_places(ctx: BuildContext, rows: list[dict[str, Any]],
                   extra: Iterable[dict[str, Any]] = ()) -> tuple[list[Resolution], list[Resolution], dict[str, str]]:
    """Resolve ``rows`` (checked by :func:`check_place_cells`) and the plain places of
    ``extra`` (mappings ``{city, country}``: a network's seat, an event's place); write the
    provisional places a resolved one uses. Returns the resolutions of the rows and of
    ``extra`` (same order) and ``{provisional id: actor id}`` for the places written:
    a resolved row's actor is ``mapping.get(res.id, res.id)``."""
    extra = list(extra)
    gz = ctx.gazetteer
    before = set(gz.places)
    ccs = with_territories({r["country"] for r in rows}
                           | {c.alpha2 for s in extra if (c := countries.lookup_code(str(s.get("country", ""))))})
    wanted = {v for name in [*(r["city"] for r in rows), *(s.get("city", "") for s in extra)]
              for part in [name, *split_name(name)] for v, _ in name_variants(part)}
    geonames.extend_gazetteer(gz, ccs, wanted)
    subdivisions.extend_gazetteer(gz, ccs)
    supplement.extend_gazetteer(gz, ccs, wanted)
    _add_identified(ctx, rows)
    resolver = Resolver(gz)
    cache: dict[tuple, Resolution] = {}

    def resolve(r: dict[str, Any]) -> Resolution:
        key = (r["city"], r["country"], r.get("admin1"), r.get("geonameid"), r.get("lat"), r.get("lon"))
        if key not in cache:
            cache[key] = resolver.resolve(r["city"], r["country"], region=region_hint(r), lat=r.get("lat"),
                                          lon=r.get("lon"),
                                          geonames_id=int(r["geonameid"]) if r.get("geonameid") else None)
        return cache[key]

    results = [resolve(r) for r in rows]
    extras = [resolver.resolve(s.get("city", ""), s.get("country")) for s in extra]
    used = {res.id for res in [*results, *extras] if res.resolved}
    used |= {districts.record(gz, e)["city"] for e in used if districts.is_provisional(e)}
    mapping = {**cities.materialise(ctx, used), **cities.materialise_regions(ctx, used),
               **cities.materialise_supplement(ctx, used)}
    mapping.update(cities.materialise_districts(ctx, used, mapping, ctx.provenance(geonames.provenance())))
    _promote(ctx, mapping)
    # provisional places this step added and did not use leave the gazetteer as they came
    gz.remove([p for p in set(gz.places) - before if not gz.places[p].in_store])
    return results, extras, mapping


def read_rows(path: Traversable, fname: str, header: list[str],
              check: Callable[[dict[str, str | None], int], dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a list's CSV (UTF-8, exactly ``header``), each checked by
    ``check(raw, line)``; a wrong header raises naming the file and row 1."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != header:
            raise ValidationError(f"the header must be exactly: {','.join(header)}", file=fname, row=1)
        return [check(raw, line) for line, raw in enumerate(reader, start=2)]
