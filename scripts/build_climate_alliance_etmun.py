"""Build, for your own use, Climate Alliance member rows from the ETMUN database: an opt-in
tool, never part of the default build or of the package's data.

The ETMUN database of transnational municipal networks (Paul Gourdon, UMR Géographie-cités;
member cities collected in 2015 "mainly on the websites of the associations", the Climate
Alliance list updated in 2019) is copied in the public repository
pgourdongeo/Chap3_LocationalAnalysis, file ``ETMUN/DataSource/MembersETMUNGeocode.csv``
(semicolon-separated; one row per membership: ``Full_Name``, ``CountryCode``,
``Pop_collect``, ``Entity``, ``Year_of_Joining``, ``Network_Name``, ``MembershipCode``, and
geocoded coordinates). That repository states NO licence: the compilation is all rights
reserved (and may be protected by the EU database right), so citydiplomacy does not ship
these rows. Use this script only with the author's licence, or for private use where the
law allows it. It takes the facts only — which municipality the network listed, its
country, the year it joined — never the file's coordinates; each row cites the file at
its commit and its ETMUN row id in its note ("ETMUN row A…").

What this script changes, and why (each change is said in the row's note):
- the file's abbreviations are written out ("Hainburg a.d. Donau" -> "Hainburg an der
  Donau"), "St. " as "Sankt " where GeoNames knows only the long form, and a bilingual
  South Tyrolean name ("Bozen/Bolzano") is given by its first form;
- three country codes the file gets wrong (Lendava and Gornji Grad written SL, Sierra Leone,
  for Slovenia; Batumi written GA, Gabon, for Georgia) are corrected;
- namesakes are told apart by the state whose town has the population the file gives
  (``ADMIN1``);
- members that are not municipalities (dioceses, associations, agencies: entity "Other"),
  an Amt ("Region Beeskow"), a duplicate row with a misspelt name ("Hallstadt", Austria,
  at Hallstatt's point) and an ambiguous pair ("Leopoldsdorf / Breitstetten") are left out.

Usage (nothing is downloaded; bring your own copy of the file):
    python scripts/build_climate_alliance_etmun.py MembersETMUNGeocode.csv --out my-climate-alliance.csv [--from A4439]
    python scripts/build_climate_alliance_etmun.py MembersETMUNGeocode.csv --out my.csv --merge src/citydiplomacy/data/memberships/climate-alliance.csv

``--out`` is required and must be a path outside the package's data folder. The output is
a member list in the format of ``memberships/FORMAT.md`` (same header). With ``--merge
FILE`` the rows of FILE that are not ETMUN rows come first (e.g. the shipped
climate-alliance.csv), so the output can replace that file in a local checkout before
``citydip init``. ``--from`` keeps the rows whose ETMUN id is at least the one given (the
file lists the members by population, smallest first; A4439 is about 2,500 inhabitants).
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = ROOT / "src" / "citydiplomacy" / "data"


def _package_data_folders() -> list[Path]:
    """The package data folders the rows must never be written into: this checkout's, and
    that of the citydiplomacy an interpreter imports (an installed copy, in site-packages)."""
    folders = [PACKAGE_DATA.resolve()]
    try:
        import importlib.util

        spec = importlib.util.find_spec("citydiplomacy")
        if spec is not None and spec.origin:
            folders.append((Path(spec.origin).parent / "data").resolve())
    except (ImportError, ValueError):
        pass
    return folders
HEADER = ["city", "country", "admin1", "geonameid", "lat", "lon", "since", "until", "status", "role",
          "source_name", "source_url", "licence", "as_of", "note"]
SOURCE_NAME = ("Climate Alliance — member list with years of joining, as collected from the network's "
               "website for the ETMUN database of transnational municipal networks (P. Gourdon, "
               "UMR Géographie-cités; collected 2015, updated 2019)")
SOURCE_URL = ("https://github.com/pgourdongeo/Chap3_LocationalAnalysis/blob/"
              "f48bc2919f1c08254c0892cfb8432c2cb12022db/ETMUN/DataSource/MembersETMUNGeocode.csv")
MARK = "ETMUN row "

#: the file's abbreviation -> the name written out
FIX = {
    "Luftenberg a.d. Donau": "Luftenberg an der Donau",
    "Hainburg a.d. Donau": "Hainburg an der Donau",
    "Waidhofen a/d Ybbs": "Waidhofen an der Ybbs",
    "Pullach i. Isartal": "Pullach im Isartal",
    "Murnau a. Staffelsee": "Murnau am Staffelsee",
    "Lindenberg i. Allgäu": "Lindenberg im Allgäu",
    "Micheldorf in OÖ": "Micheldorf in Oberösterreich",
    "Bad St. Leonhard/Lavanthal": "Bad Sankt Leonhard im Lavanttal",
    "Mosciano S. Angelo": "Mosciano Sant'Angelo",
    "Comune di Ledro": "Ledro",
    "Weilheim i. OB": "Weilheim in Oberbayern",
    "Überlingen / Bodensee": "Überlingen",
    "Limburg a.d.Lahn": "Limburg an der Lahn",
    "Buchholz i.d.N.": "Buchholz in der Nordheide",
    "Neumarkt i.d.OPf.": "Neumarkt in der Oberpfalz",
    "Rottweil a.N.": "Rottweil",
    "Lauf a.d. Pegnitz": "Lauf an der Pegnitz",
    "Bad Homburg v.d.Höhe": "Bad Homburg vor der Höhe",
    "Gronau (Westf.)": "Gronau (Westfalen)",
    "Tirgu-Mures": "Târgu Mureș",
    "Schwedt/Oder": "Schwedt/Oder",
    "Nienburg/Weser": "Nienburg/Weser",
    "Lahr/Schwarzwald": "Lahr/Schwarzwald",
    "Bühl/Baden": "Bühl",
    "Sonnberg i.M.": "Sonnberg im Mühlkreis",
    "St. Wolfgang i.S.": "St. Wolfgang im Salzkammergut",
    "Haslach a.d. Mühl": "Haslach an der Mühl",
    "Kirchbach i.d. Steiermark": "Kirchbach in Steiermark",
    "Rasen Antholz/Rasun Anterselva": "Rasen-Antholz",
}
#: names GeoNames holds only as "Sankt …"
SANKT = {"St. Georgen an der Gusen", "St. Martin im Mühlkreis", "St. Paul im Lavanttal",
         "St. Margarethen an der Raab", "St. Marien", "St. Peter in der Au", "St. Florian", "St. Andrä-Wördern",
         "St. Pankraz", "St. Veit im Innkreis", "St. Gerold", "St. Georgen bei Obernberg am Inn",
         "St. Ulrich im Mühlkreis", "St. Nikola an der Donau", "St. Stefan am Walde",
         "St. Marienkirchen am Hausruck", "St. Thomas am Blasenstein", "St. Ulrich bei Steyr",
         "St. Martin im Sulmtal"}
COUNTRY_FIX = {"A4949": ("SI", "written SL (Sierra Leone) in the file; Lendava is in Slovenia"),
               "A4476": ("SI", "written SL (Sierra Leone) in the file; Gornji Grad is in Slovenia"),
               "A5412": ("GE", "written GA (Gabon) in the file; Batumi is in Georgia")}
#: namesakes told apart by the population the file gives beside the name
ADMIN1 = {"A4591": "DE-BY", "A4796": "AT-3", "A4986": "DE-HE", "A5019": "DE-BY", "A5106": "DE-NW",
          "A5163": "DE-HE", "A5249": "DE-HE", "A5273": "DE-NW", "A5284": "DE-NW", "A5302": "DE-NW",
          "A5161": "DE-BY", "A5326": "DE-NI", "A4756": "AT-3", "A4755": "AT-4", "A5000": "DE-HE"}
SKIP = {"A5250": "an Amt, not a municipality", "A5564": "duplicate of Hallstatt (A5563), misspelt",
        "A4454": "names two places"}


def _code_number(code: str) -> int:
    return int(code.lstrip("A") or 0)


def convert(text: str, start: str = "A4439") -> list[dict[str, str]]:
    """The member-list rows for the Climate Alliance municipalities of the ETMUN file's
    ``text`` whose row id is at least ``start``."""
    out = []
    for r in csv.DictReader(io.StringIO(text), delimiter=";"):
        code = (r.get("MembershipCode") or "").strip()
        if (r.get("Network_Name") or "").strip() != "Climate Alliance" or not code:
            continue
        if (r.get("EntitySimplified") or "").strip() != "Municipality" or code in SKIP:
            continue
        if _code_number(code) < _code_number(start):
            continue
        name = r["Full_Name"].strip()
        country = r["CountryCode"].strip()
        year = (r.get("Year_of_Joining") or "").strip()
        year = "" if year in ("NA", "") else year
        notes = [MARK + code]
        city = FIX.get(name, name)
        if name in SANKT:
            city = "Sankt " + name[4:]
        if name not in FIX and city == name and "/" in name:
            city = name.split("/")[0].strip()
        if city != name:
            notes.append(f"the file writes {name}")
        if code in COUNTRY_FIX:
            country, why = COUNTRY_FIX[code]
            notes.append(why)
        admin1 = ADMIN1.get(code, "")
        if admin1:
            notes.append(f"state {admin1} from the population the file gives")
        out.append({"city": city, "country": country, "admin1": admin1, "since": year,
                    "source_name": SOURCE_NAME, "source_url": SOURCE_URL, "licence": "facts; see url",
                    "as_of": "2019", "note": "; ".join(notes)})
    return out


def rewrite(rows: list[dict[str, str]], target: Path, merge: Path | None = None) -> None:
    """Write ``rows`` to ``target`` as a member list; with ``merge``, that file's rows that
    are not ETMUN rows come first (its header line included)."""
    header = ",".join(HEADER) + "\n"
    kept = [header]
    if merge is not None:
        kept = [line for line in merge.read_text(encoding="utf-8").splitlines(keepends=True)
                if MARK + "A" not in line]
        if kept and not kept[-1].endswith("\n"):
            kept[-1] += "\n"
    buf = io.StringIO()
    w = csv.DictWriter(buf, HEADER, lineterminator="\n")
    for r in rows:
        w.writerow({k: r.get(k, "") for k in HEADER})
    target.write_text("".join(kept) + buf.getvalue(), encoding="utf-8")


def _take(argv: list[str], flag: str) -> str | None:
    if flag not in argv:
        return None
    i = argv.index(flag)
    if i + 1 >= len(argv):
        raise SystemExit(f"error: {flag} needs a value")
    value = argv[i + 1]
    del argv[i:i + 2]
    return value


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    argv = list(argv)
    start = _take(argv, "--from") or "A4439"
    out = _take(argv, "--out")
    merge = _take(argv, "--merge")
    if out is None or len(argv) != 1:
        print("error: give the ETMUN file and --out PATH (see --help)", file=sys.stderr)
        return 2
    target = Path(out).resolve()
    if any(target.is_relative_to(d) for d in _package_data_folders()):
        print(f"error: --out {out}: these rows are not shipped (the source states no licence); "
              "write them outside the package's data folder", file=sys.stderr)
        return 2
    source = Path(argv[0])
    if not source.is_file():
        print(f"error: {source}: no such file", file=sys.stderr)
        return 2
    if merge is not None and not Path(merge).is_file():
        print(f"error: --merge {merge}: no such file", file=sys.stderr)
        return 2
    rows = convert(source.read_text(encoding="utf-8"), start)
    rewrite(rows, target, Path(merge) if merge else None)
    print(f"{len(rows)} Climate Alliance rows written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
