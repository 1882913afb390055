"""Countries: ISO 3166 codes, names and their variants.

Codes come from pycountry (ISO 3166-1). Names and their variants come from the
regular expressions of country_converter's data table (read directly: the converter
class itself fails to load under pandas 3), plus the few variants that real
twinning lists use and neither knows ("England", "Moldavia", a typo or two).
Kosovo has no ISO code; the user-assigned ``XK``/``XKX`` are used, as GeoNames and
the EU do.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

from .errors import ValidationError
from .text import normalize

#: Codes outside ISO 3166-1 that the dataset uses.
EXTRA_CODES = {"XK": ("XKX", "Kosovo")}

#: Name variants seen in real data that neither pycountry nor country_converter map.
#: Constituent countries of the UK map to GB (GeoNames files their towns under GB).
NAME_VARIANTS = {
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "great britain": "GB", "britain": "GB", "holland": "NL", "moldavia": "MD",
    "northern cyprus": "CY", "turkish republic of northern cyprus": "CY",
    "ivory coast": "CI", "cote d ivoire": "CI", "czechia": "CZ", "czech republic": "CZ",
    "georgia country": "GE", "republic of ireland": "IE", "island": "IS",
    "kazakhstah": "KZ", "madagaskar": "MG", "grece": "GR", "japa": "JP", "surinam": "SR",
    "east timor": "TL", "west bank": "PS", "gaza": "PS", "palestine": "PS",
    "federated states of micronesia": "FM", "micronesia": "FM", "kosovo": "XK",
    "taiwan": "TW", "south korea": "KR", "north korea": "KP", "russia": "RU",
    "vietnam": "VN", "laos": "LA", "syria": "SY", "iran": "IR", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "brunei": "BN",
    "congo": "CG", "democratic republic of the congo": "CD", "eswatini": "SZ",
    "cape verde": "CV", "macedonia": "MK", "north macedonia": "MK",
    "bosnia and hercegovina": "BA", "vatican": "VA", "holy see": "VA",
}


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    name: str


def _coco_table() -> list[dict[str, str]]:
    import country_converter

    path = Path(country_converter.__file__).parent / "country_data.tsv"
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@lru_cache(maxsize=1)
def coco_rows() -> dict[str, dict[str, str]]:
    """country_converter's table keyed by ISO alpha-3 (UN region, memberships, ...)."""
    return {row["ISO3"]: row for row in _coco_table() if row.get("ISO3")}


@lru_cache(maxsize=1)
def _regexes() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(row["regex"], re.IGNORECASE), row["ISO3"])
            for row in _coco_table() if row.get("regex") and row.get("ISO3")]


def lookup_code(code: str) -> Country | None:
    """A country by ISO alpha-2 or alpha-3 code (any case), or None."""
    if not code:
        return None
    code = code.strip().upper()
    for extra2, (extra3, name) in EXTRA_CODES.items():
        if code in (extra2, extra3):
            return Country(extra2, extra3, name)
    rec = None
    if len(code) == 2:
        rec = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3:
        rec = pycountry.countries.get(alpha_3=code)
    if rec is None:
        return None
    return Country(rec.alpha_2, rec.alpha_3, getattr(rec, "common_name", None) or rec.name)


def require_code(code: str, *, field: str = "country") -> Country:
    """Like :func:`lookup_code` but raise a :class:`ValidationError` naming the field."""
    found = lookup_code(code)
    if found is None:
        raise ValidationError(
            f"'{code}' is not an ISO 3166-1 country code; use a two- or three-letter "
            "code such as ES or ESP", field=field)
    return found


#: Languages whose ISO 3166 country names (pycountry's translations) are recognised.
NAME_LANGS = ("de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi", "cs", "hu",
              "ro", "ru", "uk", "tr", "el", "zh_CN", "ja", "ar")


@lru_cache(maxsize=1)
def translated_names() -> dict[str, str]:
    """Normalised country name in another language -> ISO alpha-2 ("deutschland" -> DE)."""
    import gettext

    out: dict[str, str] = {}
    for lang in NAME_LANGS:
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for rec in pycountry.countries:
            for name in (rec.name, getattr(rec, "common_name", None), getattr(rec, "official_name", None)):
                if name:
                    out.setdefault(normalize(tr.gettext(name)), rec.alpha_2)
    return out


@lru_cache(maxsize=4096)
def lookup_name(text: str) -> Country | None:
    """A country from a code, a name or a common variant ("England", "Holland",
    "Ivory Coast", "Czechia"), or None when nothing matches."""
    if not text or not text.strip():
        return None
    text = text.strip()
    if len(text) in (2, 3) and text.isalpha() and text.isupper():
        found = lookup_code(text)
        if found:
            return found
    key = normalize(text)
    if key in NAME_VARIANTS:
        return lookup_code(NAME_VARIANTS[key])
    for pattern, iso3 in _regexes():
        if pattern.search(text):
            return lookup_code(iso3)
    try:
        rec = pycountry.countries.lookup(text)
    except LookupError:
        code = translated_names().get(key)
        return lookup_code(code) if code else None
    return lookup_code(rec.alpha_2)


def parse_place(text: str) -> tuple[Country | None, str | None]:
    """Split a country cell such as ``"Brandenburg, Germany"`` or ``"England, United
    Kingdom"`` into (country, region hint). The region hint is the leading part when
    the cell names more than a country ("Brandenburg"), else None."""
    text = (text or "").strip()
    whole = lookup_name(text)
    if whole is not None and "," not in text:
        return whole, None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) >= 2:
        country = lookup_name(parts[-1])
        head = ", ".join(parts[:-1])
        head_country = lookup_name(head)
        # "Réunion, France": the head is itself a territory with its own code.
        if head_country is not None and head_country != country and normalize(head) not in NAME_VARIANTS:
            return head_country, None
        if country is not None:
            return country, head
    return whole, None
