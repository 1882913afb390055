"""``citydip engage``: import a city's log, list with filters, show, timeline, due, export;
at 80 columns on a terminal and whole in a pipe; bad input a clear error and exit 1; the
writes in the audit log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from test_cli import citydip
from test_cli_output import fits, on_terminal
from conftest import copy_store, store_env

LOG = Path(__file__).parent / "data" / "engagements_500.xlsx"
MAP = ["--map", "key=Reference", "--map", "kind=Type", "--map", "title=Title", "--map", "text=Description",
       "--map", "partner=Partner", "--map", "partner_country=Partner country", "--map", "signed_on=Signed",
       "--map", "start_on=Start", "--map", "end_on=End", "--map", "review_on=Review", "--map", "place=Place",
       "--map", "status=Status", "--map", "documents=Documents", "--map", "followups=Follow-ups",
       "--map", "tie=Tie"]


@pytest.fixture(scope="module")
def env(built_home, tmp_path_factory):
    """A home with a copy of the built store, Barcelona's log imported through the CLI."""
    home = tmp_path_factory.mktemp("engage-cli")
    copy_store(built_home, home)
    e = store_env(home)
    r = citydip("engage", "import", str(LOG), "--actor", "Barcelona", "--mode", "light", *MAP, "-f", "json", env=e)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["created"]["engagements"] == 500
    return e


def test_import_again_changes_nothing_and_is_audited(env):
    r = citydip("engage", "import", str(LOG), "--actor", "Barcelona", "--mode", "light", *MAP, env=env)
    assert r.returncode == 0, r.stderr
    assert "unchanged engagements" in r.stdout and "store changed: no" in r.stdout
    audit = citydip("audit", "--format", "json", env=env)
    entries = json.loads(audit.stdout)
    entries = entries["items"] if isinstance(entries, dict) else entries
    assert any(a["action"] == "import.apply" and "engagements_500.xlsx" in a["target"] and a["channel"] == "cli"
               for a in entries)


def test_list_at_80_columns_and_in_a_pipe(env):
    out = on_terminal("engage", "list", "--actor", "Barcelona", "--country", "France", "--limit", "20", env=env)
    fits(out)
    assert "of" in out and "engagements" in out and "BCN-" in out
    pipe = citydip("engage", "list", "--actor", "Barcelona", "--country", "France", "--limit", "0", "-f", "csv",
                   env=env)
    csv.field_size_limit(2**31 - 1)     # a shipped pledge lists thousands of parties in one cell
    rows = list(csv.DictReader(io.StringIO(pipe.stdout)))
    data = json.loads(citydip("engage", "list", "--actor", "Barcelona", "--country", "France", "--limit", "0",
                              "-f", "json", env=env).stdout)
    assert len(rows) == data["total"] == len(data["items"]) > 0
    assert all("Barcelona" in r["parties"] for r in rows)
    assert all(any(p["country"] == "FRA" for p in e["parties"]) for e in data["items"])
    kinds = json.loads(citydip("engage", "list", "--kind", "visit,event", "--limit", "0", "-f", "json",
                               env=env).stdout)
    assert {e["kind"] for e in kinds["items"]} == {"visit", "event"}


def test_due_90_days(env):
    out = on_terminal("engage", "due", "--days", "90", "--today", "2026-12-06", env=env)
    fits(out)
    assert "due from 2026-12-06 to 2027-03-06" in out
    data = json.loads(citydip("engage", "due", "--days", "90", "--today", "2026-12-06", "-f", "json",
                              env=env).stdout)
    assert data["count"] > 0 and all("2026-12-06" <= i["due_on"][:10] <= "2027-03-06" or len(i["due_on"]) < 10
                                     for i in data["items"])
    pipe = citydip("engage", "due", "--days", "90", "--today", "2026-12-06", "-f", "csv", env=env)
    assert len(list(csv.DictReader(io.StringIO(pipe.stdout)))) == data["count"]


def test_show_timeline_activity(env):
    out = on_terminal("engage", "show", "BCN-0001", env=env)
    fits(out)
    assert "Chicago" in out and "establishes" in out
    tl = on_terminal("engage", "timeline", "Barcelona", "--partner", "Lyon", env=env)
    fits(tl)
    assert "Barcelona and Lyon" in tl
    act = on_terminal("engage", "activity", "Barcelona", env=env)
    fits(act)
    assert "most active partners" in act and "dormant ties" in act


def test_export_csv_and_ics(env, tmp_path):
    r = citydip("engage", "export", "--out", str(tmp_path / "bcn.csv"), "--actor", "Barcelona", env=env)
    # the log's 500 and the shipped declarations and pledges Barcelona signed (a pledge of
    # the Covenant lists thousands of parties in one cell)
    held = json.loads(citydip("engage", "list", "--actor", "Barcelona", "--limit", "1", "-f", "json",
                              env=env).stdout)["total"]
    assert held > 500
    assert r.returncode == 0 and "wrote" in r.stderr and f"{held:,} rows" in r.stderr, r.stderr
    r = citydip("engage", "export", "--out", str(tmp_path / "bcn.ics"), env=env)
    assert r.returncode == 0 and (tmp_path / "bcn.ics").read_text().startswith("BEGIN:VCALENDAR")
    bad = citydip("engage", "export", "--out", str(tmp_path / "bcn.pdf"), env=env, check=False)
    assert bad.returncode == 1 and ".csv or .ics" in bad.stderr


def test_add_and_errors(env, tmp_path):
    r = citydip("engage", "add", "--kind", "visit", "--title", "Mayor's visit to Lyon", "--party", "Barcelona (visitor)",
                "--party", "Lyon (host)", "--start", "2026-10-12", "--source", "Press release 2026-10-13",
                "--mode", "light", "-f", "json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["created"]["engagements"] == 1
    unknown = citydip("engage", "add", "--kind", "visit", "--title", "x", "--party", "Barcelonna",
                      "--source", "s", env=env, check=False)
    assert unknown.returncode == 1 and "no actor matches 'Barcelonna'" in unknown.stderr
    assert "closest matches" in unknown.stderr and "Traceback" not in unknown.stderr
    backwards = citydip("engage", "add", "--kind", "visit", "--title", "x", "--party", "Lyon", "--start", "2026",
                        "--end", "2025", "--source", "s", env=env, check=False)
    assert backwards.returncode == 1 and "end_on" in backwards.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("key,kind,title,start_on,parties\nb1,visit,Fine,2020,Lyon\nb2,visit,Bad,2020-02-31,Lyon\n"
                   "b3,visit,Who,2020,Atlantisville\n", encoding="utf-8")
    before = json.loads(citydip("engage", "list", "--limit", "1", "-f", "json", env=env).stdout)["total"]
    r = citydip("engage", "import", str(bad), "--actor", "Barcelona", env=env, check=False)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "2 rows could not be read, nothing was written" in r.stderr and "bad.csv" in r.stderr
    assert "February 2020 has 29 days" in r.stderr and "Atlantisville" in r.stderr
    assert json.loads(citydip("engage", "list", "--limit", "1", "-f", "json", env=env).stdout)["total"] == before


@pytest.mark.parametrize("command", ["add", "import", "export", "list", "show", "timeline", "due", "activity",
                                     "delete"])
def test_help_has_an_example(env, command):
    r = citydip("engage", command, "--help", env={**env, "COLUMNS": "200"})
    assert r.returncode == 0 and "Example: citydip engage" in r.stdout.replace("`", "")
