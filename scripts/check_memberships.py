"""Check the city-network member lists in ``src/citydiplomacy/data/memberships/``.

Each network has two files, named by its id in ``data/curated/city_networks.yaml``:

* ``<id>.csv`` — one member city a row, header::

      city,country,admin1,geonameid,lat,lon,since,until,status,role,
      source_name,source_url,licence,as_of,note

* ``<id>.yaml`` — ``network``, ``published_members`` (the network's own published
  count; optional, as in FORMAT.md), ``count_source`` ({name, url, licence, as_of}; with the
  count) and ``complete`` (true/false).

The check: the header is exactly the one above; ``country`` is an ISO 3166-1 alpha-2 code
(pycountry, plus XK for Kosovo); dates are partial ISO dates (YYYY, YYYY-MM, YYYY-MM-DD)
and ``since`` is not after ``until``; ``status`` is blank, ``suspended`` or ``ended``;
``geonameid`` is an integer and ``lat``/``lon`` are coordinates; every row names its own
source (source_name, an http(s) source_url, licence, as_of); no city appears twice in a
network (same name, country and admin1); the network id is one the curated file knows;
and the YAML side file is present and well formed. A network whose list is marked
complete must have as many rows as its published count.

Usage::

    python scripts/check_memberships.py            # check every file, print rows per network
    python scripts/check_memberships.py --dir DIR  # another folder

Exits 1 (after listing every problem, each with file, row and field) when a check fails.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import pycountry
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "citydiplomacy" / "data"
MEMBERSHIPS = DATA / "memberships"
NETWORKS_YAML = DATA / "curated" / "city_networks.yaml"

HEADER = ["city", "country", "admin1", "geonameid", "lat", "lon", "since", "until", "status",
          "role", "source_name", "source_url", "licence", "as_of", "note"]
STATUSES = {"", "suspended", "ended"}
DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
EXTRA_COUNTRIES = {"XK"}  # Kosovo: user-assigned code in wide use (GeoNames, EU)


def country_codes() -> set[str]:
    return {c.alpha_2 for c in pycountry.countries} | EXTRA_COUNTRIES


def network_ids(path: Path = NETWORKS_YAML, folder: Path = MEMBERSHIPS) -> set[str]:
    """The networks of city_networks.yaml, and those a member list brings (``new_network``)."""
    with path.open(encoding="utf-8") as fh:
        ids = {n["id"] for n in yaml.safe_load(fh)["networks"]}
    for meta_path in folder.glob("*.yaml"):
        with meta_path.open(encoding="utf-8") as fh:
            new = (yaml.safe_load(fh) or {}).get("new_network")
        if isinstance(new, dict) and new.get("id"):
            ids.add(new["id"])
    return ids


def _date_ok(value: str) -> bool:
    return not value or bool(DATE.match(value))


def _number(value: str, lo: float, hi: float) -> bool:
    try:
        return lo <= float(value) <= hi
    except ValueError:
        return False


def check_csv(path: Path, codes: set[str]) -> tuple[int, list[str]]:
    """Check one member list; return (rows, problems)."""
    problems: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != HEADER:
            return 0, [f"{path.name}: header must be {','.join(HEADER)} (found {header})"]
        seen: dict[tuple[str, str, str], int] = {}
        n = 0
        for lineno, cells in enumerate(reader, start=2):
            n += 1
            where = f"{path.name} row {lineno}"
            if len(cells) != len(HEADER):
                problems.append(f"{where}: {len(cells)} fields, expected {len(HEADER)}")
                continue
            row = dict(zip(HEADER, cells))
            if not row["city"].strip() or row["city"] != row["city"].strip():
                problems.append(f"{where}, city: empty or padded with spaces ({row['city']!r})")
            if row["country"] not in codes:
                problems.append(f"{where}, country: {row['country']!r} is not an ISO 3166-1 "
                                "alpha-2 code")
            if row["geonameid"] and not row["geonameid"].isdigit():
                problems.append(f"{where}, geonameid: {row['geonameid']!r} is not a number")
            if bool(row["lat"]) != bool(row["lon"]):
                problems.append(f"{where}, lat/lon: give both or neither")
            elif row["lat"] and not (_number(row["lat"], -90, 90) and _number(row["lon"], -180, 180)):
                problems.append(f"{where}, lat/lon: not coordinates ({row['lat']}, {row['lon']})")
            for field in ("since", "until", "as_of"):
                if not _date_ok(row[field]):
                    problems.append(f"{where}, {field}: {row[field]!r} is not a date "
                                    "(YYYY, YYYY-MM or YYYY-MM-DD)")
            if row["since"] and row["until"] and _date_ok(row["since"]) and _date_ok(row["until"]) \
                    and row["since"] > row["until"]:
                problems.append(f"{where}, since/until: {row['since']} is after {row['until']}")
            if row["status"] not in STATUSES:
                problems.append(f"{where}, status: {row['status']!r} is not blank, suspended or "
                                "ended")
            if row["until"] and row["status"] != "ended":
                problems.append(f"{where}, until: only a former member (status ended) has until")
            for field in ("source_name", "source_url", "licence", "as_of"):
                if not row[field].strip():
                    problems.append(f"{where}, {field}: every row names its own source "
                                    f"({field} is empty)")
            if row["source_url"] and not row["source_url"].startswith(("http://", "https://")):
                problems.append(f"{where}, source_url: {row['source_url']!r} is not an http(s) URL")
            if "non-commercial" in row["licence"].lower() or re.search(r"\bNC\b", row["licence"]):
                problems.append(f"{where}, licence: {row['licence']!r} is non-commercial")
            # a city may be listed again by another source (corroboration: the loader keeps the
            # first row's tie); the same city twice from the same page is a mistake
            key = (row["city"].casefold(), row["country"], row["admin1"].casefold(), row["source_url"])
            if key in seen:
                problems.append(f"{where}, city: {row['city']} ({row['country']}"
                                f"{', ' + row['admin1'] if row['admin1'] else ''}) already on row "
                                f"{seen[key]}")
            else:
                seen[key] = lineno
    return n, problems


def check_yaml(path: Path, network: str) -> tuple[dict, list[str]]:
    where = path.name
    if not path.exists():
        return {}, [f"{where}: missing (each <id>.csv needs its <id>.yaml)"]
    try:
        with path.open(encoding="utf-8") as fh:
            meta = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        return {}, [f"{where}: not valid YAML ({exc})"]
    problems = []
    if meta.get("network") != network:
        problems.append(f"{where}, network: {meta.get('network')!r}, expected {network!r}")
    count = meta.get("published_members")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        problems.append(f"{where}, published_members: {count!r} is not a whole number")
    src = meta.get("count_source")
    if count is None and src is None:
        pass   # no published count (FORMAT.md: optional); coverage is then not shown
    elif not isinstance(src, dict):
        problems.append(f"{where}, count_source: a mapping of name, url, licence, as_of")
    else:
        for key in ("name", "url", "licence", "as_of"):
            if not str(src.get(key) or "").strip():
                problems.append(f"{where}, count_source.{key}: empty")
        if src.get("as_of") and not _date_ok(str(src["as_of"])):
            problems.append(f"{where}, count_source.as_of: {src['as_of']!r} is not a date")
    if not isinstance(meta.get("complete"), bool):
        problems.append(f"{where}, complete: true or false")
    return meta, problems


def check_dir(folder: Path = MEMBERSHIPS, ids: set[str] | None = None) -> tuple[dict[str, int], list[str]]:
    """Check every member list in ``folder``; return (rows per network, problems)."""
    ids = network_ids() if ids is None else ids
    codes = country_codes()
    rows: dict[str, int] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.csv")):
        network = path.stem
        if network not in ids:
            problems.append(f"{path.name}: {network!r} is not a network id of "
                            f"{NETWORKS_YAML.name}")
        n, found = check_csv(path, codes)
        rows[network] = n
        problems += found
        meta, found = check_yaml(path.with_suffix(".yaml"), network)
        problems += found
        if meta.get("complete") is True and isinstance(meta.get("published_members"), int) \
                and n < meta["published_members"]:
            problems.append(f"{path.stem}.yaml, complete: true, but the list has {n} rows for "
                            f"{meta['published_members']} published members")
    for path in sorted(folder.glob("*.yaml")):
        if not path.with_suffix(".csv").exists():      # a published count without a list
            meta, found = check_yaml(path, path.stem)
            problems += found
            if path.stem not in ids:
                problems.append(f"{path.name}: {path.stem!r} is not a network id of {NETWORKS_YAML.name}")
    return rows, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="example: python scripts/check_memberships.py")
    parser.add_argument("--dir", type=Path, default=MEMBERSHIPS, help="folder of member lists")
    args = parser.parse_args(argv)
    rows, problems = check_dir(args.dir)
    for network, n in sorted(rows.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{network:40} {n:6}")
    print(f"{'total':40} {sum(rows.values()):6}  ({len(rows)} networks, "
          f"{sum(1 for n in rows.values() if n >= 50)} with 50 or more)")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
