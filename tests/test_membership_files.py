"""The city-network member lists in data/memberships/ keep to their format
(scripts/check_memberships.py), and the check catches what it should."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import check_memberships as cm

GOOD_ROW = ("Ghent,BE,Flanders,2797656,51.05,3.72,2004,,,,UNESCO — Creative Cities,"
            "https://www.unesco.org/en/creative-cities,CC BY-SA 3.0 IGO,2025-11-01,City of Music")
GOOD_YAML = ("network: {id}\npublished_members: 2\ncomplete: false\n"
             "count_source: {{name: x, url: 'https://x.org', licence: 'facts; see url', as_of: '2025'}}\n")


def write(folder: Path, network: str, rows: list[str], meta: str | None = None) -> None:
    (folder / f"{network}.csv").write_text(",".join(cm.HEADER) + "\n" + "".join(r + "\n" for r in rows),
                                           encoding="utf-8")
    if meta is not False:
        (folder / f"{network}.yaml").write_text((meta or GOOD_YAML).format(id=network), encoding="utf-8")


def test_shipped_member_lists_pass_the_check():
    rows, problems = cm.check_dir()
    assert problems == []
    assert rows, "no member list found in data/memberships/"
    # a network whose list could not be had keeps a header-only CSV beside its published count
    assert sum(rows.values()) > 0


def test_a_good_file_passes(tmp_path):
    write(tmp_path, "uccn", [GOOD_ROW])
    assert cm.check_dir(tmp_path, ids={"uccn"}) == ({"uccn": 1}, [])


@pytest.mark.parametrize("row, field", [
    (GOOD_ROW.replace(",BE,", ",Belgium,"), "country"),
    (GOOD_ROW.replace(",2004,", ",2004-13,"), "since"),
    (GOOD_ROW.replace(",2004,,,", ",2004,2001,ended,"), "since/until"),
    (GOOD_ROW.replace(",2004,,,", ",2004,,left,"), "status"),
    (GOOD_ROW.replace(",2004,,,", ",2004,2010,,"), "until"),
    (GOOD_ROW.replace("UNESCO — Creative Cities", ""), "source_name"),
    (GOOD_ROW.replace("https://www.unesco.org/en/creative-cities", "unesco.org"), "source_url"),
    (GOOD_ROW.replace("CC BY-SA 3.0 IGO", "CC BY-NC 4.0"), "licence"),
    (GOOD_ROW.replace("2025-11-01", ""), "as_of"),
    (GOOD_ROW.replace("2797656", "x1"), "geonameid"),
    (GOOD_ROW.replace("51.05", "151.05"), "lat/lon"),
])
def test_each_bad_field_is_named(tmp_path, row, field):
    write(tmp_path, "uccn", [row])
    _, problems = cm.check_dir(tmp_path, ids={"uccn"})
    assert len(problems) == 1 and f"row 2, {field}" in problems[0], problems


def test_duplicates_unknown_networks_and_side_files(tmp_path):
    write(tmp_path, "uccn", [GOOD_ROW, GOOD_ROW.replace("City of Music", "again")])
    write(tmp_path, "nowhere", [GOOD_ROW], meta=False)
    (tmp_path / "orphan.yaml").write_text(GOOD_YAML.format(id="orphan"), encoding="utf-8")
    _, problems = cm.check_dir(tmp_path, ids={"uccn"})
    text = "\n".join(problems)
    assert "uccn.csv row 3, city: Ghent (BE, Flanders) already on row 2" in text
    assert "'nowhere' is not a network id" in text
    assert "nowhere.yaml: missing" in text
    # a published count without a list is fine, for a network the store knows
    assert "orphan.yaml: 'orphan' is not a network id" in text


def test_another_source_may_list_a_city_again(tmp_path):
    other = GOOD_ROW.replace("https://", "https://other.example/").replace("City of Music", "again")
    write(tmp_path, "uccn", [GOOD_ROW, other])
    assert cm.check_dir(tmp_path, ids={"uccn"})[1] == []


def test_a_complete_list_has_its_published_count(tmp_path):
    write(tmp_path, "uccn", [GOOD_ROW], GOOD_YAML.replace("complete: false", "complete: true"))
    _, problems = cm.check_dir(tmp_path, ids={"uccn"})
    assert problems == ["uccn.yaml, complete: true, but the list has 1 rows for 2 published members"]


def test_a_bad_header_and_a_bad_side_file(tmp_path):
    (tmp_path / "uccn.csv").write_text("city,country\nGhent,BE\n", encoding="utf-8")
    (tmp_path / "uccn.yaml").write_text("network: other\npublished_members: many\n", encoding="utf-8")
    _, problems = cm.check_dir(tmp_path, ids={"uccn"})
    text = "\n".join(problems)
    assert "uccn.csv: header must be" in text
    assert "network: 'other'" in text and "published_members: 'many'" in text
    assert "count_source" in text and "complete: true or false" in text


def test_the_command_prints_rows_and_fails_on_problems(tmp_path, capsys):
    write(tmp_path, "uccn", [GOOD_ROW.replace(",BE,", ",ZZ,")])
    assert cm.main(["--dir", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "uccn" in out.out and "problem: uccn.csv row 2, country" in out.err
