"""The command line, run as a user runs it: real `citydip` processes on a real store."""

import csv
from pathlib import Path
import io
import json
import subprocess
import sys

import pytest

from conftest import db_env


def citydip(*args, env, check=True):
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"citydip {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def test_status_json_has_the_documented_shape(cli_env):
    data = json.loads(citydip("status", "--format", "json", env=cli_env).stdout)
    assert set(data["actors"]["by_layer"]) == {"macro", "meso", "micro"}
    assert data["actors"]["by_kind"]["state"] >= 190
    assert data["ties"]["by_type"]["twinned_with"] >= 15000
    assert data["frameworks"]["sdg"]["goals"] == 17
    assert data["frameworks"]["sdg"]["targets"] == 169
    assert data["frameworks"]["sdg"]["indicators"] > 200


def test_status_table(cli_env):
    out = citydip("status", env=cli_env).stdout
    assert "actors by layer" in out and "twinned_with" in out and "citydip status --sources" in out
    assert "sources" in citydip("status", "--sources", env=cli_env).stdout


def test_search_json_records(cli_env):
    data = json.loads(citydip("search", "Munchen", "--format", "json", env=cli_env).stdout)
    assert data[0]["id"] == "munich-de"
    assert {"id", "name", "kind", "layer", "country"} <= set(data[0])


def test_search_csv(cli_env):
    rows = list(csv.DictReader(io.StringIO(
        citydip("search", "Barcelona", "--kind", "city", "--format", "csv", env=cli_env).stdout)))
    assert rows[0]["id"] == "barcelona-es" and rows[0]["country"] == "ESP"


def test_resolve_answers_with_evidence_or_candidates(cli_env):
    data = json.loads(citydip("resolve", "Muenchen", "--country", "Deutschland", "-f", "json", env=cli_env).stdout)
    assert (data["status"], data["id"], data["in_store"]) == ("resolved", "munich-de", True)
    assert data["rule"] == "unique_alias" and data["evidence"]["matched"] == "muenchen"
    town = json.loads(citydip("resolve", "Zams", "--country", "AT", "-f", "json", env=cli_env).stdout)
    assert town["in_store"] is False and town["geonames_id"] == 2760749     # nothing written
    amb = citydip("resolve", "Springfield", "--country", "United States", env=cli_env, check=False)
    assert amb.returncode == 1 and "candidates" in amb.stdout and "Missouri" in amb.stdout
    bad = citydip("resolve", " ", env=cli_env, check=False)
    assert bad.returncode != 0 and "give a name" in bad.stderr and "Traceback" not in bad.stderr


def test_show_table_and_json(cli_env):
    out = citydip("show", "München", env=cli_env).stdout
    assert "munich-de" in out and "twinned_with" in out and "sources:" in out
    data = json.loads(citydip("show", "eu", "--format", "json", env=cli_env).stdout)
    assert data["kind"] == "geopolitical_bloc" and data["provenance"]["url"]
    assert any(t["type"] == "member_of" and t["other"] == "fra" for t in data["ties"])


def test_ties_csv_has_provenance(cli_env):
    rows = list(csv.DictReader(io.StringIO(citydip(
        "ties", "Barcelona", "--type", "twinned_with", "--format", "csv", env=cli_env).stdout)))
    assert rows and all(r["type"] == "twinned_with" for r in rows)
    assert json.loads(rows[0]["provenance"])["licence"] == "CC BY-SA 4.0"


def test_profile_table_and_json(cli_env):
    out = citydip("profile", "Barcelona", env=cli_env).stdout
    for part in ("ties by layer", "networks by axis", "twinning", "reach to the macro layer"):
        assert part in out
    data = json.loads(citydip("profile", "Barcelona", "--format", "json", env=cli_env).stdout)
    assert data["actor"]["id"] == "barcelona-es"


def test_framework_command(cli_env):
    out = citydip("framework", "sdg", "11.6", "--lang", "fr", env=cli_env).stdout
    assert "sdg:11.6.2" in out
    data = json.loads(citydip("framework", "paris", "--format", "json", env=cli_env).stdout)
    assert len(data["children"]) == 29


@pytest.mark.parametrize("args,message", [
    (["show", "Nowhereville-on-Sea"], "no actor matches 'Nowhereville-on-Sea'"),
    (["profile", "Barcelonaa"], "closest matches"),
    (["ties", "Barcelona", "--type", "loves"], "unknown type 'loves'"),
    (["search", "x", "--kind", "town"], "unknown kind 'town'"),
    (["framework", "kyoto"], "no framework 'kyoto'"),
    (["framework", "sdg", "--lang", "xx"], "no 'xx' titles"),
])
def test_user_mistakes_exit_non_zero_with_a_message(cli_env, args, message):
    proc = citydip(*args, env=cli_env, check=False)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.sqlite_only     # a damaged SQLite file (CITYDIP_DATABASE_URL would name the store instead)
def test_corrupt_store_is_a_clear_error(tmp_path, cli_env):
    (tmp_path / "citydip.sqlite").write_text("not a database")
    env = {**cli_env, "CITYDIP_HOME": str(tmp_path)}
    proc = citydip("status", env=env, check=False)
    assert proc.returncode == 1
    assert "not an SQLite database" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["init", "status", "search", "show", "ties", "profile", "framework", "export",
                                     "migrate-store"])
def test_every_command_has_help_with_an_example(command, cli_env):
    out = citydip(command, "--help", env=cli_env).stdout
    assert "Example" in out and f"citydip {command}" in out


@pytest.mark.sqlite_only     # the home picks the SQLite file (CITYDIP_DATABASE_URL would name the store)
def test_home_option_overrides_environment(tmp_path, cli_env, built_home):
    env = {**cli_env, "CITYDIP_HOME": str(tmp_path / "elsewhere")}
    data = json.loads(citydip("--home", str(built_home), "status", "--format", "json", env=env).stdout)
    assert data["store"].startswith(str(built_home))


@pytest.fixture
def cli_work(work, cli_env):
    return {**cli_env, **db_env(work.store.home)}


def test_import_twinning_cli_dry_run_review_and_report(cli_work, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("city1,country1,city2,country2\nLyon,France,Springfield,United States\n"
                 "Munich,Germany,Kraków,Poland\n", encoding="utf-8")
    review, report = tmp_path / "review.csv", tmp_path / "report.json"
    out = citydip("import", "twinning", str(f), "--dry-run", "--review", str(review), "--report", str(report),
                  env=cli_work).stdout
    assert "dry run" in out and "ambiguous names" in out and "Springfield" in out
    assert review.exists() and json.loads(report.read_text())["created"] == {"ties": 1}
    data = json.loads(citydip("import", "twinning", str(f), "--format", "json", env=cli_work).stdout)
    assert data["created"] == {"ties": 1} and data["ambiguous"] == 1


def test_import_table_cli_and_mapping_errors(cli_work, tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("City,Country\nLyon,France\n", encoding="utf-8")
    out = citydip("import", "table", str(f), "--map", "source=City", "--map", "country=Country",
                  "--target", "energy-cities", "--type", "member_of", env=cli_work).stdout
    assert "created ties" in out
    bad = citydip("import", "table", str(f), "--map", "source=Town", "--target", "c40", "--type", "member_of",
                  env=cli_work, check=False)
    assert bad.returncode == 1 and "missing column 'Town'" in bad.stderr and "Traceback" not in bad.stderr
    bad = citydip("import", "table", str(f), "--map", "sourceCity", env=cli_work, check=False)
    assert bad.returncode == 1 and "FIELD=COLUMN" in bad.stderr


@pytest.mark.parametrize("content,message", [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    ("city1,country1,city2,country2\nK\xf6ln,Germany,Lyon,France\n".encode("latin-1"), "--encoding latin-1"),
])
def test_import_bad_files_cli(cli_work, tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    proc = citydip("import", "twinning", str(f), env=cli_work, check=False)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_import_missing_file_and_unknown_format(cli_work, tmp_path):
    proc = citydip("import", "twinning", str(tmp_path / "nope.csv"), env=cli_work, check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr
    proc = citydip("import", "excelsior", "x", env=cli_work, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr


def test_import_list_and_wikidata_from_file(cli_work):
    assert "datapackage" in citydip("import", "list", env=cli_work).stdout
    out = citydip("import", "wikidata", "--from-file", str(Path(__file__).parent / "data" / "wikidata_cities.json"),
                  env=cli_work).stdout
    assert "updated actors" in out


def test_export_cli(cli_env, tmp_path):
    proc = citydip("export", "--format", "csv", "--out", str(tmp_path / "x"), "--country", "MT", env=cli_env)
    assert "actors" in proc.stderr and (tmp_path / "x" / "ties.csv").exists()
    bad = citydip("export", "--format", "xml", "--out", str(tmp_path / "y"), env=cli_env, check=False)
    assert bad.returncode == 1 and "unknown format 'xml'" in bad.stderr


@pytest.mark.parametrize("command", ["twinning", "table", "wikidata", "datapackage", "review", "list"])
def test_import_commands_have_help_with_an_example(command, cli_env):
    out = citydip("import", command, "--help", env=cli_env).stdout
    assert "Example" in out and "citydip import" in out
