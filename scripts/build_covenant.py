"""Derive ``src/citydiplomacy/data/covenant/signatories.csv`` from the JRC's workbook of
Covenant of Mayors signatories (Global Covenant of Mayors — MyCovenant, 5th release,
January 2024, CC BY 4.0; see ``../shared/data/gcom/SOURCE.md``).

What changes (and is said in the shipped SOURCE.md):

- the columns the build needs are kept; the mayor's name (personal data we do not need),
  ``country_name``, ``action_plan_expected`` and ``group_profile`` (kept as ``is_group``)
  are dropped or recoded; ``name_is_mayor`` says that a row's name is its mayor's (a
  person, not a place: the words of the two cells are the same);
- "-" and "null" (missing) become an empty cell; country codes are upper-cased; the one numeric
  adhesion type (``1``, the first of the metadata's enumeration) becomes "individual",
  the others ``individual``, ``group_option_1`` (committing individually) and
  ``group_option_2`` (committing collectively); the four commitment flags become one
  ``commitments`` cell (``CoM2020;CoM2030;CoM2050;MayorsAdapt``); dates become ISO dates;
  coordinates written with a decimal comma ("10,219287") are read as numbers and all are
  rounded to 5 decimals (about a metre);
- a member's ``group_id`` that names a Southern-neighbourhood group without its
  ``_med`` suffix ("18372" for the group row "18372_med") is written as the group row's id;
- ``coordinates`` says what the coordinates are worth (docs/data.md): ``ok``; ``missing``;
  ``invalid`` (outside the globe's ranges); ``coarse`` (a whole degree of latitude or
  longitude: a point rounded by up to ~55 km); ``shared`` (the same point given to :data:`SHARED_NAMES` or more
  signatories of different names — a geocoder's country or regional centre, such as Italy's
  42.63843, 12.67430 for 24 groups, not the town's own coordinates).

Run by a developer when the JRC publishes a new release (openpyxl is in the ``test``
extra; nothing is downloaded at run time):

    python scripts/build_covenant.py ../shared/data/gcom/gcom_mycovenant_2024_df1_signatories.xlsx
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/covenant/signatories.csv"
SHEET = "1"
#: A point shared by this many signatories of different names is not their own.
SHARED_NAMES = 3
COLUMNS = ["organisation_id", "gcom_id", "name", "country", "population", "lat", "lon", "coordinates",
           "is_group", "group_id", "group_name", "adhesion", "status", "since", "commitments",
           "coordinator", "supporter", "name_is_mayor"]
ADHESION = {
    "as an individual signatory": "individual",
    "as a group of signatories committing individually (joint seap - option 1)": "group_option_1",
    "as a group of signatories committing collectively (joint seap - option 2)": "group_option_2",
    # the metadata enumerates the types 1) individual, 2) option 1, 3) option 2
    "1": "individual", "2": "group_option_1", "3": "group_option_2",
}
COMMITMENTS = (("commitment_CoM2020_flag", "CoM2020"), ("commitment_CoM2030_flag", "CoM2030"),
               ("commitment_CoM2050_flag", "CoM2050"), ("commitment_mayoradapt_flag", "MayorsAdapt"))
STATUS = {"published": "published", "on_hold": "on_hold", "on-hold": "on_hold"}


class WorkbookError(ValueError):
    """The workbook is not the JRC's signatories table as we know it."""


def missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "-", "null"))


def text(value: Any) -> str:
    """A cell as text: "" for missing, whitespace collapsed."""
    return "" if missing(value) else " ".join(str(value).split())


def number(value: Any, *, row: int, field: str) -> float | None:
    if missing(value):
        return None
    if isinstance(value, str) and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")          # a decimal comma ("10,219287")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise WorkbookError(f"row {row}, {field}: '{value}' is not a number") from None


def flag(value: Any, *, row: int, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise WorkbookError(f"row {row}, {field}: '{value}' is not TRUE or FALSE")


def iso_date(value: Any, *, row: int) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise WorkbookError(f"row {row}, date_of_adhesion: '{value}' is not a date")


def clean_row(raw: dict[str, Any], row: int) -> dict[str, Any]:
    """One workbook row as the shipped CSV's columns (``coordinates`` provisional: ok,
    missing, invalid or coarse; :func:`flag_shared` adds ``shared``)."""
    adhesion = ADHESION.get(text(raw["adhesion_type"]).lower())
    if adhesion is None:
        raise WorkbookError(f"row {row}, adhesion_type: unknown value '{raw['adhesion_type']}'")
    status = STATUS.get(text(raw["signatory_status"]).lower())
    if status is None:
        raise WorkbookError(f"row {row}, signatory_status: unknown value '{raw['signatory_status']}'")
    lat = number(raw["organisation_latitude"], row=row, field="organisation_latitude")
    lon = number(raw["organisation_longitude"], row=row, field="organisation_longitude")
    if lat is None or lon is None:
        quality, lat, lon = "missing", None, None
    elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
        quality = "invalid"
    elif lat == int(lat) or lon == int(lon):
        quality = "coarse"
    else:
        quality = "ok"
    population = number(raw["population_adhesion"], row=row, field="population_adhesion")
    name, mayor = text(raw["organisation_name"]), text(raw.get("mayor"))
    return {
        "organisation_id": text(raw["organisation_id"]),
        "gcom_id": text(raw["gcom_id"]),
        "name": text(raw["organisation_name"]),
        "country": text(raw["country_code"]).upper(),
        "population": int(population) if population is not None and population > 0 else "",
        "lat": "" if lat is None else round(lat, 5),
        "lon": "" if lon is None else round(lon, 5),
        "coordinates": quality,
        "is_group": 1 if flag(raw["group_profile"], row=row, field="group_profile") else 0,
        "group_id": text(raw["group_organisation_id"]),
        "group_name": text(raw["group_name"]),
        "adhesion": adhesion,
        "status": status,
        "since": iso_date(raw["date_of_adhesion"], row=row),
        "commitments": ";".join(label for col, label in COMMITMENTS if flag(raw[col], row=row, field=col)),
        "coordinator": text(raw["coordinator_name"]),
        "supporter": text(raw["supporter_name"]),
        # the name cell holds the mayor's name ("Pergő Margit" for the mayor Margit Pergő):
        # the mayor's name itself is not kept, only that the row names a person
        "name_is_mayor": 1 if mayor and sorted(name.casefold().split()) == sorted(mayor.casefold().split()) else 0,
    }


_YEAR = re.compile(r"\s*-?\s*20\d\d$")
_COMUNE = re.compile(r"^comune di\s+")


def name_key(name: str) -> str:
    """A signatory's name for telling signatories apart: without case, a commitment year
    ("Calendasco 2030") or "Comune di" ("Comune di Feisoglio")."""
    return _COMUNE.sub("", _YEAR.sub("", name.casefold()))


def flag_shared(rows: list[dict[str, Any]]) -> Counter:
    """Mark as ``shared`` the coordinates that :data:`SHARED_NAMES` or more signatories of
    different names carry (a group and its lead town often share a point: that is one
    place); return {point: how many names} for those points."""
    names: dict[tuple, set[str]] = defaultdict(set)
    for r in rows:
        if r["coordinates"] == "ok":
            names[(r["lat"], r["lon"])].add(name_key(r["name"]))
    shared = Counter({p: len(n) for p, n in names.items() if len(n) >= SHARED_NAMES})
    for r in rows:
        if r["coordinates"] == "ok" and (r["lat"], r["lon"]) in shared:
            r["coordinates"] = "shared"
    return shared


def link_groups(rows: list[dict[str, Any]]) -> int:
    """Point members at their group's row where the workbook drops the ``_med`` suffix of a
    Southern-neighbourhood group's id; return how many members were re-pointed."""
    ids = {r["organisation_id"] for r in rows}
    n = 0
    for r in rows:
        gid = r["group_id"]
        if gid and gid not in ids and f"{gid}_med" in ids:
            r["group_id"] = f"{gid}_med"
            n += 1
    return n


def read_workbook(path: Path | str) -> list[dict[str, Any]]:
    """The data sheet's rows as dicts of raw cell values."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    if SHEET not in wb.sheetnames:
        raise WorkbookError(f"{path}: no sheet '{SHEET}' (sheets: {', '.join(wb.sheetnames)})")
    it = wb[SHEET].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it)]
    needed = {"organisation_id", "organisation_name", "coordinator_name", "supporter_name", "country_code",
              "population_adhesion", "organisation_latitude", "organisation_longitude", "group_organisation_id",
              "group_name", "adhesion_type", "signatory_status", "date_of_adhesion", "group_profile", "gcom_id",
              *(c for c, _ in COMMITMENTS)}
    lacking = sorted(needed - set(header))
    if lacking:
        raise WorkbookError(f"{path}: sheet '{SHEET}' lacks the columns {', '.join(lacking)}")
    return [dict(zip(header, values)) for values in it if any(v is not None for v in values)]


def convert(raw_rows: Iterable[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Clean rows (first data row is row 2, as a spreadsheet numbers it) and a summary."""
    rows = [clean_row(raw, i) for i, raw in enumerate(raw_rows, start=2)]
    shared = flag_shared(rows)
    relinked = link_groups(rows)
    summary = {"rows": len(rows), "countries": len({r["country"] for r in rows}),
               "coordinates": dict(Counter(r["coordinates"] for r in rows).most_common()),
               "shared_points": {f"{lat}, {lon}": n for (lat, lon), n in shared.most_common()},
               "group_ids_relinked": relinked}
    return rows, summary


def write_csv(rows: list[dict[str, Any]], path: Path = OUT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        rows, summary = convert(read_workbook(argv[0]))
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_csv(rows)
    print(f"wrote {summary['rows']} signatories ({summary['countries']} countries) to {OUT}", file=sys.stderr)
    print(f"coordinates: {summary['coordinates']}; shared points: {summary['shared_points']}; "
          f"group ids re-linked: {summary['group_ids_relinked']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
