"""Signatory names as the Covenant of Mayors' reporting platform holds them, read into
the name of a place (and a region hint) that the resolver can look up.

Signatories register themselves, so one municipality is written many ways: "Comune di
Bovisio Masciago", "Sint-Niklaas 2030" (a second adhesion, for the 2030 commitment),
"Frattamaggiore (NA)" (an Italian province code), "Budapest Főváros II. Kerület
Önkormányzata", "Zolochiv AC, Kharkiv region" (a Ukrainian amalgamated community),
"Primăria s. Costuleni, r-nul Ungheni", "Valbondione (duplicated)". Pure functions of
text; see docs/data.md ("Covenant of Mayors") for what is read and why.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ...resolve.names import arabic, roman
from ...text import normalize

__all__ = ["place_name", "place_names", "group_parts", "is_body_of_municipalities"]

#: A commitment year written after the name ("Lugo 2030", "MOIOLA - 2050", "Cravanzana2050").
_YEAR = re.compile(r"\s*[-–]?\s*(?:19|20)\d\d\s*$")
#: A country written after the name ("CISTERNINO (BR) ITALY", "Eilat City ISRAEL", "Tournai, BE").
_COUNTRY = re.compile(r"(?:\s*[-–,]\s*|\s+)(?:italy|israel)\s*$|,\s*be\s*$", re.IGNORECASE)
#: Parenthesised notes that say nothing about the place: bookkeeping ("duplicated",
#: "double"), what it is ("Comune", "Freguesia"), a province, county or district code or
#: name ("NA", "Jud. Timiş", "r-nul Ungheni"), an archipelago, a statistical code.
_NOTE = re.compile(
    r"\s*\((?:duplicated|double|doublet|comune|freguesia|utag|co|[a-z]{2}|aegean islands|aagen islands|\d+"
    r"|jud(?:etul|\.)?\s*[^)]*|r(?:-nul|-l|\.)\s*[^)]*)\s*\)?\s*$", re.IGNORECASE)
#: "Saint - Gilles": a dash between spaces inside one name.
_SPACED_DASH = re.compile(r"\b(Saint|Sint|San|Santa|Sankt|St|Ste|Sainte)\s+-\s+(?=\S)", re.IGNORECASE)
#: Readings tried when the first finds nothing: "Città di Collegno" is Collegno ("Città di
#: Castello" is a town of that name, found first); "Greater Irbid Municipality" is Irbid.
_ALTERNATIVE = re.compile(r"^(?:citta di|ciudad de|villa de|vila de|ville d(?:e)?|administration communale d(?:e)?|"
                          r"administration commmunale de|greater(?: al)?)\s+(.+)$")
#: A Romanian county named after the name ("Craciunelu de Jos Judetul Alba").
_JUDET = re.compile(r"\s+jude[tţț]ul\s+\S+$", re.IGNORECASE)
#: A Romanian county's code after the name ("Schitu Golești AG").
_COUNTY_CODE = re.compile(r"(?<=[a-zăâîșşțţ])\s+[A-Z]{2}$")
#: "(Rayon)": the district (raion), which the resolver looks up as a subdivision.
_RAYON = re.compile(r"\s*\((?:rayon|raion)\)\s*$", re.IGNORECASE)
_PREFIXES = (
    "comune di ", "comuni di ", "congiunto comuni di ", "gemeinde ", "marktgemeinde ", "stadt ", "ayuntamiento de ",
    "concello de ", "concello da ", "concello do ", "concello ", "ajuntament de ", "ajuntament d ",
    "municipality of ", "municipio de ", "municipio da ", "camara municipal de ", "mairie de ", "ville de ",
    "commune urbaine de ", "commune de ", "commune d ", "orasul ",
    "municipiul ", "comuna ", "obec ", "mesto ", "gmina ", "miasto ", "dimos ", "opcina ", "grad ",
    "mestna obcina ", "obcina ", "city of ", "town of ", "gemeente ", "the ", "urzad miasta i gminy ",
    "urzad gminy ", "urzad miasta ", "uat ")
#: Moldova: "Primăria orașului Cimișlia", "Primăria s. Costuleni" (the mayoralty of a town, a village).
_PRIMARIA = re.compile(r"^primaria\s+(?:orasului\s+|satului\s+|comunei\s+|municipiului\s+|s\s+|or\s+|com\s+)?")
_SUFFIXES = (
    " city territorial community", " urban territorial community", " amalgamated territorial community",
    " almalgamated community", " amalgamated community", " united territorial community",
    " united community", " territorial community", " community", " ac", " city military civil administration",
    " metropolitan municipality", " municipal council", " city council", " town council", " village council",
    " municipality", " megyei jogu varos onkormanyzata", " megyei jogu varos", " varosi onkormanyzat",
    " varos onkormanyzata", " kozseg onkormanyzata", " onkormanyzata", " onkormanyzat", " kozseg",
    " belediyesi", " atc", " amalgamated hromada", " hromada", " city", " town")
#: ", Kharkiv region", " Mykolaiv region", ", r-nul Ungheni", "Karşıyaka - İzmir": a hint.
_REGION = re.compile(r"(?:,\s*|\s+)(?:r-nul\s+|r\.\s*)?([^,]+?)\s+(?:region|oblast)\s*$|,\s*r-nul\s+(.+)$",
                     re.IGNORECASE)
#: A numbered district of Budapest or Bucharest, written a dozen ways.
_DISTRICT = (
    re.compile(r"^(budapest)\s+(?:fovaros\s+)?([ivxl]+|\d+)(?:st|nd|rd|th)?\s*(?:kerulet|district)\b", re.I),
    re.compile(r"^(budapest|bucharest)\s+(?:district\s+)?(\d+|[ivxl]+)(?:st|nd|rd|th)?(?:\s+district)?\b", re.I),
    re.compile(r"^(?:district|sector)\s+(\d+)\s+of\s+(bucharest)$", re.I),
    re.compile(r"\b([ivxl]+|\d+)(?:st|nd|rd|th)?\s+district\s+of\s+(budapest)\b", re.I),
)


#: A county or district council named in its own language: read as "<name> County" or
#: "<name> Raion", which the resolver looks up as a subdivision.
_COUNCILS = (
    (re.compile(r"^(.+?)\s+(?:varmegyei onkormanyzat|megyei onkormanyzat|megye|county government)$"), "{} County"),
    (re.compile(r"^consiliul judetean\s+(.+)$"), "{} County"),
    (re.compile(r"^consiliul raional\s+(.+)$"), "{} Raion"),
)


def _strip(text: str, words: tuple[str, ...], *, prefix: bool) -> str:
    changed = True
    while changed:
        changed = False
        for w in words:
            if prefix and text.startswith(w) and len(text) > len(w) + 2:
                text, changed = text[len(w):], True
            elif not prefix and text.endswith(w) and len(text) > len(w) + 2:
                text, changed = text[: -len(w)], True
    return text


def _district(norm: str) -> str | None:
    """"Budapest II", "Bucharest 3" for a numbered district written any of the usual ways."""
    for i, pattern in enumerate(_DISTRICT):
        m = pattern.search(norm)
        if m:
            city, number = (m.group(1), m.group(2)) if i < 2 else (m.group(2), m.group(1))
            n = arabic(number.upper()) if not number.isdigit() else int(number)
            return f"{city.title()} {roman(n) if city == 'budapest' else n}"
    return None


@lru_cache(maxsize=32_768)
def place_name(name: str) -> tuple[str, str | None]:
    """(the name of the place a signatory's name means, a region hint or None).

    >>> place_name("Comune di Bovisio Masciago")
    ('Bovisio Masciago', None)
    >>> place_name("Zolochiv AC, Kharkiv region")
    ('Zolochiv', 'Kharkiv')
    """
    text = " ".join(name.replace("&", " and ").split())
    text = _SPACED_DASH.sub(r"\1-", text)
    text = _YEAR.sub("", text)
    text = _COUNTRY.sub("", text)
    text = _NOTE.sub("", text)
    text = _RAYON.sub(" (raion)", text)
    text = _JUDET.sub("", _COUNTY_CODE.sub("", _COUNTRY.sub("", _YEAR.sub("", text)))).strip(" ,-–")
    hint = None
    m = _REGION.search(text)
    if m:
        hint = (m.group(1) or m.group(2)).strip()
        text = text[: m.start()].strip(" ,-–")
    district = _district(normalize(text))
    if district:
        return district, hint
    # "Ialoveni (raion)", "Sulaimaniya (Slemani)": the resolver reads a qualifier itself
    for pattern, form in _COUNCILS:
        c = pattern.match(normalize(text))
        if c:
            return form.format(_original_words(text.split(), c.group(1)) or c.group(1)), hint
    m = re.match(r"^(.*?\S)\s*(\([^)]*\))$", text)
    base, qualifier = (m.group(1), " " + m.group(2)) if m else (text, "")
    norm = normalize(base)
    bare = _strip(_strip(_PRIMARIA.sub("", norm), _SUFFIXES, prefix=False), _PREFIXES, prefix=True)
    if bare != norm:
        # keep the original letters of what is left (the resolver normalises them again)
        base = _original_words(base.split(), bare) or bare
    return base + qualifier, hint


@lru_cache(maxsize=32_768)
def place_names(name: str) -> tuple[tuple[str, str | None], ...]:
    """The readings of a signatory's name to try in turn: :func:`place_name`, then,
    for a name that starts with "Città di", "Ciudad de", "Greater", ..., the rest."""
    first = place_name(name)
    out = [first]
    m = _ALTERNATIVE.match(normalize(first[0]))
    if m and (not normalize(first[0]).startswith("greater") or "municipality" in normalize(name)
              or normalize(name).startswith("greater al")):
        rest = _original_words(first[0].split(), m.group(1)) or m.group(1)
        out.append((rest, first[1]))
    return tuple(out)


def _original_words(words: list[str], bare: str) -> str | None:
    """The run of ``words`` whose normalised form is ``bare`` (accents and case kept)."""
    for i in range(len(words)):
        for j in range(len(words), i, -1):
            if normalize(" ".join(words[i:j])) == bare:
                return " ".join(words[i:j])
    return None


#: Words that name a body of several municipalities rather than one: an Italian union or
#: mountain community, a French or Portuguese intermunicipal body, a Spanish mancomunidad,
#: a local action group, an association, a metropolitan authority.
_BODY = re.compile(
    r"\b(?:unione|union|comunita montana|comunita|communaute|communauté|metropole|metropolitan area|"
    r"mancomunidad|comarca|consorzio|aggregazione|associazione|association|federation|cluster|gal|lag|mas|"
    r"egyesulet|kozosseg|comunidade intermunicipal|agglomeration|agglomeration|parc naturel|intercomunale|"
    r"eurometropole|grand paris|plaine commune|area|osservatorio|isla de|illa de|greater)\b")
#: "Grand Angoulême", "GRAND CHAMBERY" (a French agglomeration; not "Grand-Bourg", a town).
_GRAND = re.compile(r"^grand\s", re.IGNORECASE)


def is_body_of_municipalities(name: str) -> bool:
    """Does the name say the signatory is a body of several municipalities ("Unione dei
    Comuni Valle del Savio", "Rennes Métropole", "Comunidade Intermunicipal do Alentejo
    Central")?"""
    return bool(_BODY.search(normalize(name)) or _GRAND.match(name.strip()))


#: Separators of the municipalities a joint signatory's name lists.
_LIST = re.compile(r"\s*,\s*|\s+[-–]\s+|\s+(?:e|y|i|and|und|et)\s+(?=[A-ZÀ-Ý])")


def group_parts(name: str) -> tuple[list[str], bool]:
    """The municipalities a group's name lists, and whether the list is explicit (commas:
    "Alkmaar, Bergen, Castricum") or only possible (dashes or "e"/"y": "Sele - Picentini",
    "Battipaglia e Montecorvino Pugliano" — a list only if every part is a place)."""
    text = _YEAR.sub("", " ".join(name.split()))
    if "(" in text or is_body_of_municipalities(text):
        return [], False
    parts = [p.strip(" .") for p in _LIST.split(text) if p and p.strip(" .")]
    if len(parts) < 2:
        return [], False
    return parts, "," in text
