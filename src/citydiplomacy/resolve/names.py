"""Names as lists write them: variants of one name (without a qualifier or a prefix,
German and Slavic spellings, "Saint"/"St"), the parts of a composite name ("Berlin –
Mitte"), designation words that say a name is a subdivision ("County", "Kreis",
"District Municipality"), Polish county adjectives, and the keys a district of a city is
known by. Pure functions of text: every other module of the resolver may use them."""

from __future__ import annotations

import os
import re

from ..text import normalize

DISTRICT_PREFIX = "district:"
_VOWELS = re.compile(r"[aeiouyj\W_]+")      # what transliterations of one name disagree on
NUMBERED = re.compile(r"^(.*?\S)\s+([IVXLC]+|\d{1,2})\.?$")
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


_PREFIXES = ("city of ", "town of ", "municipality of ", "landeshauptstadt ", "hansestadt ",
             "stadt ", "gmina ", "miasto ", "comune di ", "ville de ", "ciudad de ", "borough of ",
             "village of ", "county of ", "district of ")
_SUFFIXES = (" municipality", " city", " town", " village", " commune", " municipal district")
#: A parenthesised qualifier that says the name is not a city: "Pinneberg (district)".
NOT_A_CITY = frozenset({"district", "county", "province", "region", "state", "oblast", "raion",
                        "prefecture", "department", "canton", "municipality", "borough",
                        "island", "islands", "governorate", "voivodeship"})
_LOCATOR = re.compile(r"^(.+?) (?:am|an der|an den|in der|ob der|auf der|vor der|bei) \S.*$")
DASH = re.compile(r"\s+[–—-]\s+|\s*/\s*")
PAREN = re.compile(r"^(.*?)\s*\(([^)]*)\)\s*$")


def district_keys(name: str | None, number: str | None) -> list[str]:
    """The keys a district is known by within its city: its normalised name, the name's
    consonants (two transliterations of one name, "Leninsky" / "Lyeninski", are one
    district of Minsk), its number."""
    keys = [f"n:{normalize(name)}"] if name else []
    skeleton = _VOWELS.sub("", normalize(name)) if name else ""
    if len(skeleton) >= 4:
        keys.append(f"s:{skeleton}")
    if number:
        keys.append(f"#{arabic(number)}")
    return keys


def roman(n: int) -> str:
    out = ""
    for value, letters in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"),
                           (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def arabic(number: str) -> int:
    if number.isdigit():
        return int(number)
    values = [_ROMAN[c] for c in number.upper()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def district_id(parent: str, name: str | None, number: str | None) -> str:
    """The provisional id of a new district: ``district:<city id>|<name>|<number>``."""
    return f"{DISTRICT_PREFIX}{parent}|{name or ''}|{arabic(number) if number else ''}"


def parse_district_id(place_id: str) -> tuple[str, str | None, int | None]:
    """(city id, name, number) of a provisional district id."""
    parent, name, number = place_id[len(DISTRICT_PREFIX):].rsplit("|", 2)
    return parent, name or None, int(number) if number else None


#: (Tiachiv / Tyachiv): elsewhere these letters are just letters (Hoengseong, Korea).
GERMAN_SPELLING = frozenset({"DE", "AT", "CH", "LI", "LU", "BE", "IT"})
SLAVIC_SPELLING = frozenset({"UA", "BY", "RU", "KZ", "MD", "KG"})


def without_prefix(norm: str) -> str:
    """A normalised name without a leading "City of", "Gmina", "Landeshauptstadt"..."""
    for p in _PREFIXES:
        if norm.startswith(p) and len(norm) > len(p):
            return norm[len(p):]
    return norm


def name_variants(name: str, cc: str | None = None) -> list[tuple[str, str]]:
    """(normalised variant, how) for a raw name, most literal first. Spelling variants
    that belong to some languages only are tried in their countries (all of them when
    ``cc`` is None)."""
    out: list[tuple[str, str]] = []

    def add(text: str, how: str) -> None:
        n = normalize(text)
        if n and n not in [v for v, _ in out]:
            out.append((n, how))

    add(name, "name")
    m = PAREN.match(name)
    base = m.group(1) if m else name
    if m:
        add(base, "without_qualifier")
    n = normalize(base)
    for p in _PREFIXES:
        if n.startswith(p):
            add(n[len(p):], "without_prefix")
    for s in _SUFFIXES:
        if n.endswith(s) and len(n) > len(s) + 2:
            add(n[: -len(s)], "without_suffix")
    if n.startswith("bad "):
        add(n[4:], "without_prefix")
    german = re.sub(r"(?<=[a-z])(ae|oe|ue)", lambda mm: mm.group(1)[0], n)
    if german != n and (cc is None or cc in GERMAN_SPELLING):
        add(german, "transliteration")
    # Ukrainian and Belarusian romanisations write ia/iu/ie where GeoNames often has ya/yu/ye
    slavic = re.sub(r"(?<=[a-z])i([aue])", r"y\1", n)
    if slavic != n and (cc is None or cc in SLAVIC_SPELLING):
        add(slavic, "transliteration")
    # "Weiden in der Oberpfalz", "Rottenburg am Neckar": the town without its river or
    # neighbour (not "im <valley>": "Affoltern im Emmental" is not Zürich's Affoltern)
    locator = _LOCATOR.match(n)
    if locator:
        add(locator.group(1), "without_locator")
    add(n.replace("saint ", "st ").replace("sankt ", "st "), "saint")
    add(re.sub(r"\bst\b\.?\s*", "saint ", n), "saint")
    return out


def qualified(name: str) -> tuple[str, str | None]:
    """(the name, its qualifier) of a name qualified in brackets or after a comma —
    "Halle (Saale)" → ("Halle", "Saale"), "Kusatsu, Gunma" → ("Kusatsu", "Gunma") — or
    (name, None). A qualifier that only says what kind of entity it is ("Świdnica (rural
    gmina)", "Pinneberg (district)") is part of the name, not a qualifier."""
    m = PAREN.match(name)
    base, qualifier = (m.group(1), m.group(2)) if m else (name, None)
    if not m and name.count(",") == 1:
        base, qualifier = (x.strip() for x in name.split(","))
    if not qualifier or is_kind_qualifier(qualifier) or normalize(qualifier) in NOT_A_CITY:
        return name, None
    return base.strip(), qualifier.strip()


def split_name(name: str) -> list[str]:
    """The parts of a composite name: "Berlin – Mitte" → [Berlin, Mitte]; "Esch (Haaren)"
    → [Esch, Haaren]; "Suzhou, Jiangsu" → [Suzhou, Jiangsu]."""
    parts = [p.strip() for p in DASH.split(name) if p.strip()]
    out = []
    for p in parts:
        m = PAREN.match(p)
        out.extend([m.group(1), m.group(2)] if m else [x.strip() for x in p.split(",") if x.strip()])
    return out if len(out) > 1 else []



#: Words that say a name is a subdivision, not a town (matched on normalised names).
DESIGNATIONS = (
    "county", "county of", "district municipality", "city municipality", "municipality of",
    "municipality", "district", "district of", "borough", "borough of", "london borough of", "royal borough of",
    "metropolitan borough of", "city and county of", "province of", "province", "prefecture",
    "region", "oblast", "raion", "rayon", "governorate", "voivodeship", "department",
    "parish", "shire", "kommune", "kommunia", "kommuneqarfik", "novads", "vald", "lan",
    "rural municipality", "urban municipality", "municipal district", "council", "landkreis", "kreis",
)
_DESIGNATION = re.compile(r"\b(" + "|".join(sorted(map(re.escape, DESIGNATIONS), key=len, reverse=True))
                          + r")\b")


#: Words that name the kind of a region, not the region ("Jiangsu Sheng", "Shiga
#: Prefecture", "Basra Governorate", "Utenos apskritis"): left out when a qualifier is
#: compared with a region's name.
REGION_WORDS = frozenset({
    "province", "provincia", "region", "regione", "state", "county", "prefecture", "sheng", "shi",
    "voivodeship", "oblast", "oblasti", "oblysy", "qalasy", "rayon", "rajons", "raion", "apskritis",
    "governorate", "muhafazat", "department", "departement", "departamento", "district", "changwat",
    "kraj", "opstina", "mayorality", "land", "canton", "autonomous", "of", "the"})


_ARTICLES = frozenset({"d", "de", "du", "des", "di", "del", "della", "la", "le", "l"})


def bare_region(name: str) -> str:
    """A region's name without the words for its kind, normalised: "Jiangsu Sheng" →
    "jiangsu", "Shiga Prefecture" → "shiga", "Departement d'Ille-et-Vilaine" → "ille et
    vilaine"."""
    words = normalize(name).split()
    while len(words) > 1 and (words[0] in REGION_WORDS or words[0] in _ARTICLES):
        words = words[1:]
    return " ".join(w for w in words if w not in REGION_WORDS) or " ".join(words)


#: Words of a qualifier that says what kind of entity a name is, not where it lies:
#: "Świdnica (rural gmina)", "Arras (communauté)", "Trittau (Amt)", "Zengőalja (microregion)".
KIND_WORDS = frozenset({
    "rural", "urban", "gmina", "communaute", "intercommunality", "communaute d agglomeration", "amt",
    "samtgemeinde", "verbandsgemeinde", "microregion", "local", "government", "city", "town", "village",
    "commune", "municipality", "municipal", "parish", "district", "county", "borough", "council"})


def is_kind_qualifier(qualifier: str) -> bool:
    """Does a qualifier only say what kind of entity the name is ("rural gmina",
    "communauté", "local government district")?"""
    words = normalize(qualifier).split()
    return bool(words) and all(w in KIND_WORDS for w in words)


def is_designated(name: str) -> bool:
    """Does a name carry a designation ("Maui County", "County Mayo", "Pinneberg
    (district)")?"""
    return bool(_DESIGNATION.search(normalize(name)))


def designation_keys(name: str) -> list[str]:
    """Normalised keys of a name: itself, then without designation words
    ("Maui County" → ["maui county", "maui"])."""
    n = normalize(name)
    out = [n]
    bare = " ".join(_DESIGNATION.sub(" ", n).split())
    if bare and bare not in out:
        out.append(bare)
    return out


#: A Polish county (powiat) is named by an adjective of its seat: "Kętrzyn County" is
#: "powiat kętrzyński", "Wejherowo County" "powiat wejherowski".
_POWIAT = "powiat "
_ADJECTIVE_END = re.compile(r"(?:an|en|in|yn)?(?:ski|cki|dzki)$")


def powiat_key(name: str) -> str | None:
    """The seat a Polish county's English or Polish name is formed from ("Kętrzyn County",
    "Powiat Kętrzyn" → "ketrzyn"), or None when the name is not a county's."""
    n = normalize(name)
    if n.endswith(" county"):
        return n[: -len(" county")].strip() or None
    if n.startswith(_POWIAT):
        return n[len(_POWIAT):].strip() or None
    return None


def seat_match(seat: str, powiat: str) -> int:
    """How well the normalised GeoNames name ``powiat`` ("powiat ketrzynski") fits the
    county of ``seat`` ("ketrzyn"): the letters the adjective's stem and the seat's first
    word share, when they share all but their last three and at least four ("sanok" /
    "sanocki", "radomsko" / "radomszczanski"; not "kolo" / "kolobrzeski"); else 0."""
    if not powiat.startswith(_POWIAT):
        return 0
    stem = _ADJECTIVE_END.sub("", powiat[len(_POWIAT):].split()[0])
    word = seat.split()[0]
    common = len(os.path.commonprefix([word, stem]))
    return common if common >= max(4, len(word) - 3, len(stem) - 3) else 0
