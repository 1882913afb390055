"""Bounded work: the limits' presets and settings, every reader stopping at a limit while
it streams (decompression bombs, millions of rows), the deadline, and the faces — the API
(413/503/429 with a body naming the limit), the HTML pages and the CLI (exit 1, no
traceback). Memory and time are measured in a subprocess on the probe's inputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import citydiplomacy
from citydiplomacy import accounts, limits
from citydiplomacy.align import read_batch, read_document
from citydiplomacy.errors import CitydipError, ValidationError
from citydiplomacy.ingest.readers import check_zip, iter_json_lines, read_table
from citydiplomacy.ingest.wikidata import load_results
from citydiplomacy.limits import LimitExceeded, LimitSettingError, limits_for
from citydiplomacy.web.app import create_app
from citydiplomacy.web.limiting import HeavyGate

sys.path.insert(0, str(Path(__file__).parent))
import bombs  # noqa: E402
from pdfgen import write_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(citydiplomacy.__file__).resolve().parents[1]
PROBLEM = "application/problem+json"
#: the budget of one worker (the issue's "done": no reader or request above 500 MB or 30 s)
WORKER_MB = 500
WORKER_SECONDS = 30


@pytest.fixture(autouse=True)
def _no_limit_settings(monkeypatch):
    for var in [v for v in os.environ if v.startswith(limits.ENV_PREFIX)]:
        monkeypatch.delenv(var)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """The probe's inputs, made once: a .docx of 196 MB unpacked (~700 KB), an .xlsx of
    1M rows (~700 KB), a Parquet file of 3M rows (~40 KB), a plain zip of 300 MB of
    zeros (~300 KB), and a CSV of 1M rows (~30 MB)."""
    d = tmp_path_factory.mktemp("probe")
    return {"docx": bombs.docx_bomb(d / "bomb.docx", 196),
            "xlsx": bombs.xlsx_rows(d / "million.xlsx", 1_000_000),
            "xlsx_undeclared": bombs.xlsx_rows(d / "undeclared.xlsx", 1_000_000, dimension=False),
            "parquet": bombs.parquet_rows(d / "rows.parquet", 3_000_000),
            "zip": bombs.zip_bomb(d / "zeros.zip", 300),
            "csv": bombs.csv_rows(d / "million.csv", 1_000_000)}


def unbounded(lim, **keep):
    """``lim`` with the size checks lifted, but for those in ``keep``."""
    names = ("file_bytes", "unpacked_bytes", "compression_ratio", "zip_members", "rows", "columns", "cells",
             "field_chars", "paragraphs", "pages", "text_chars", "markup_bytes", "seconds")
    return replace(lim, **{**{n: None for n in names}, **keep})


# -- presets and settings ---------------------------------------------------------------------------

def test_the_presets_order_the_channels_anonymous_tightest_cli_most_generous():
    anon, editor, cli = (limits_for(c) for c in ("anonymous", "editor", "cli"))
    assert (anon.channel, editor.channel, cli.channel) == ("anonymous", "editor", "cli")

    def at_most(a, b):
        return b is None or (a is not None and a <= b)
    for name in limits.NAMES:
        assert at_most(getattr(anon, name), getattr(editor, name)), name
        assert at_most(getattr(editor, name), getattr(cli, name)), name
    assert anon.paragraphs < editor.paragraphs and anon.file_bytes < editor.file_bytes
    assert anon.seconds == 30 and cli.seconds is None
    with pytest.raises(ValueError, match="unknown channel"):
        limits_for("robot")


def test_environment_overrides_every_channel_or_one(monkeypatch):
    monkeypatch.setenv("CITYDIP_LIMIT_ROWS", "1_000")
    monkeypatch.setenv("CITYDIP_LIMIT_ANONYMOUS_ROWS", "10")
    monkeypatch.setenv("CITYDIP_LIMIT_EDITOR_FILE_BYTES", "5MB")
    monkeypatch.setenv("CITYDIP_LIMIT_CLI_SECONDS", "2.5")
    monkeypatch.setenv("CITYDIP_LIMIT_CLI_PAGES", "none")
    assert limits_for("anonymous").rows == 10          # the channel's own setting wins
    assert limits_for("editor").rows == limits_for("cli").rows == 1000
    assert limits_for("editor").file_bytes == 5 * 2**20
    assert limits_for("anonymous").file_bytes == limits.DEFAULTS["anonymous"].file_bytes
    assert limits_for("cli").seconds == 2.5 and limits_for("cli").pages is None
    limits.check_settings()


@pytest.mark.parametrize("var, value, message", [
    ("CITYDIP_LIMIT_ROWS", "lots", "CITYDIP_LIMIT_ROWS='lots' is not a whole number"),
    ("CITYDIP_LIMIT_ROWS", "0", "must be more than 0"),
    ("CITYDIP_LIMIT_EDITOR_FILE_BYTES", "12 parsecs", "is not a size"),
    ("CITYDIP_LIMIT_ANONYMOUS_SECONDS", "-3", "must be more than 0"),
    ("CITYDIP_LIMIT_COMPRESSION_RATIO", "inf", "is not a number"),
])
def test_a_setting_that_cannot_be_read_is_a_clear_error(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(LimitSettingError, match=re.escape(message)):
        limits.check_settings()
    with pytest.raises(CitydipError):
        create_app(obs=_empty_observatory_cached(), secret="x")


def test_a_misspelt_setting_is_refused_not_ignored(monkeypatch):
    monkeypatch.setenv("CITYDIP_LIMIT_EDITOR_ROW", "10")
    with pytest.raises(LimitSettingError, match="CITYDIP_LIMIT_EDITOR_ROW names no limit"):
        limits.check_settings()


def test_the_docs_list_every_limit_with_its_defaults_and_variables():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0] in limits.NAMES:
            rows[cells[0]] = cells
    assert set(rows) == set(limits.NAMES)
    described = {c: limits.describe(limits.DEFAULTS[c]) for c in limits.CHANNELS}
    for name, cells in rows.items():
        assert cells[1] == f"CITYDIP_LIMIT_[CHANNEL_]{name.upper()}", name
        assert cells[2:5] == [described[c][name] for c in ("anonymous", "editor", "cli")], name
    assert "CITYDIP_LIMIT_HEAVY_REQUESTS" in text and f"{limits.HEAVY_REQUESTS}" in text


def test_the_message_names_the_file_the_limit_its_value_and_what_to_do(probe):
    lim = limits_for("anonymous")
    with pytest.raises(LimitExceeded) as info:
        read_document(probe["docx"], limits=lim)
    exc = info.value
    assert exc.limit == "unpacked_bytes" and exc.value == lim.unpacked_bytes and exc.status == 413
    assert exc.setting == "CITYDIP_LIMIT_ANONYMOUS_UNPACKED_BYTES"
    text = str(exc)
    assert text.startswith(f"file {probe['docx']}: the Word document unpacks to 196")
    assert "the limit is 64 MB" in text and "split it" in text and "CITYDIP_LIMIT_ANONYMOUS_UNPACKED_BYTES" in text
    assert isinstance(exc, ValidationError)


# -- the readers -------------------------------------------------------------------------------------

def test_a_docx_bomb_is_refused_from_its_zip_directory(probe):
    with pytest.raises(LimitExceeded) as info:
        read_document(probe["docx"], limits=limits_for("editor"))
    assert info.value.limit == "compression_ratio" and "word/document.xml" in str(info.value)


def test_a_docx_stops_at_the_paragraph_limit_while_streaming(probe):
    lim = unbounded(limits_for("editor"), paragraphs=1_000)
    t = time.perf_counter()
    with pytest.raises(LimitExceeded, match="more than 1,000 paragraphs") as info:
        read_document(probe["docx"], limits=lim)
    assert info.value.limit == "paragraphs" and time.perf_counter() - t < 5
    with pytest.raises(LimitExceeded, match="characters of text"):
        read_document(probe["docx"], limits=unbounded(lim, text_chars=5_000))


def test_a_docx_within_the_limits_is_read_as_python_docx_reads_it(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("Housing", level=1)
    p = d.add_paragraph("The city will retrofit 4,000 social housing units\tto cut heating emissions.")
    p.add_run(" After a break.").add_break()
    p.add_run("And the text goes on after the line break.")
    d.add_table(rows=1, cols=1).cell(0, 0).text = "inside a table cell there are words"
    d.add_paragraph("Under it, bus lanes and cycle paths for the whole city.")
    d.save(tmp_path / "plan.docx")
    got = [(x.ref, x.text) for x in read_document(tmp_path / "plan.docx", limits=limits_for("anonymous"))]
    assert got == [("§ Housing ¶1", "The city will retrofit 4,000 social housing units\tto cut heating "
                                    "emissions. After a break.\nAnd the text goes on after the line break."),
                   ("§ Housing ¶2", "Under it, bus lanes and cycle paths for the whole city.")]


def test_an_xlsx_of_a_million_rows_is_refused_before_openpyxl_reads_it(probe):
    with pytest.raises(LimitExceeded) as info:
        read_table(probe["xlsx"], limits=limits_for("editor"))
    assert info.value.limit == "compression_ratio"
    lim = unbounded(limits_for("editor"), rows=100_000)
    t = time.perf_counter()
    with pytest.raises(LimitExceeded, match="declares 1,000,000 rows") as info:
        read_table(probe["xlsx"], limits=lim)
    assert info.value.limit == "rows" and time.perf_counter() - t < 5


def test_an_xlsx_without_a_declared_size_stops_at_the_row_limit(probe):
    lim = unbounded(limits_for("editor"), rows=2_000)
    with pytest.raises(LimitExceeded, match="more than 2,000 rows"):
        read_table(probe["xlsx_undeclared"], limits=lim)
    with pytest.raises(LimitExceeded, match="more than 4,000 cells"):
        read_table(probe["xlsx_undeclared"], limits=unbounded(lim, cells=4_000))


def test_an_xlsx_within_the_limits_reads_as_before(tmp_path):
    f = bombs.xlsx_rows(tmp_path / "t.xlsx", 3)
    t = read_table(f, limits=limits_for("anonymous"))
    assert t.columns == ["city1", "country1", "city2", "country2"]
    assert [r for _, r in t.rows][0] == {"city1": "Lyon", "country1": "FR", "city2": "Frankfurt am Main",
                                         "country2": "DE"}
    with pytest.raises(ValidationError, match="no sheet 'Sheet9'; the workbook has: twins"):
        read_table(f, sheet="Sheet9")


def test_a_parquet_file_is_refused_from_its_footer(probe):
    t = time.perf_counter()
    with pytest.raises(LimitExceeded, match="has 3,000,000 rows") as info:
        read_table(probe["parquet"], limits=limits_for("editor"))
    assert info.value.limit == "rows" and time.perf_counter() - t < 5
    with pytest.raises(LimitExceeded, match="cells"):
        read_table(probe["parquet"], limits=unbounded(limits_for("editor"), cells=1_000_000))


def test_a_parquet_file_within_the_limits_is_read_in_batches(tmp_path):
    t = read_table(bombs.parquet_rows(tmp_path / "small.parquet", 5_000), limits=limits_for("editor"))
    assert len(t.rows) == 5_000 and t.rows[0] == (2, {"city1": "Lyon", "country1": "FR",
                                                      "city2": "Frankfurt am Main", "country2": "DE"})


def test_a_plain_zip_bomb_is_refused_whatever_its_name(probe, tmp_path):
    with pytest.raises(LimitExceeded) as info:
        check_zip(probe["zip"], limits=limits_for("cli"))
    assert info.value.limit == "compression_ratio"
    with pytest.raises(LimitExceeded, match="unpacks to 300 MB") as info:
        check_zip(probe["zip"], limits=limits_for("editor"), what="archive")
    for suffix, read in ((".xlsx", read_table), (".docx", read_document)):
        disguised = tmp_path / f"zeros{suffix}"
        disguised.write_bytes(probe["zip"].read_bytes())
        with pytest.raises(LimitExceeded):
            read(disguised, limits=limits_for("editor"))


def test_a_zip_of_many_members_is_refused_before_its_directory_is_loaded(tmp_path):
    import zipfile

    f = tmp_path / "many.xlsx"
    with zipfile.ZipFile(f, "w") as z:
        for i in range(60):
            z.writestr(f"x/{i}.xml", "<a/>")
    with pytest.raises(LimitExceeded, match="holds 60 files"):
        read_table(f, limits=replace(limits_for("editor"), zip_members=50))


def test_a_csv_is_streamed_and_stops_at_the_row_and_cell_limits(probe, tmp_path):
    with pytest.raises(LimitExceeded, match="more than 100,000 rows") as info:
        read_table(probe["csv"], limits=limits_for("editor"))
    assert info.value.file == str(probe["csv"])
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(100)) + "\n" + ("x," * 99 + "x\n") * 200, encoding="utf-8")
    with pytest.raises(LimitExceeded, match="more than 10,000 cells"):
        read_table(wide, limits=replace(limits_for("editor"), cells=10_000))
    with pytest.raises(LimitExceeded, match="the header has 100 columns"):
        read_table(wide, limits=replace(limits_for("editor"), columns=50))
    with pytest.raises(LimitExceeded, match=r"the file is 29\.\d MB; the limit is 1 MB"):
        read_table(probe["csv"], limits=replace(limits_for("editor"), file_bytes=2**20))


def test_a_csv_keeps_its_line_numbers_encoding_errors_and_long_fields(tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes(b"\n\nname,note\nLyon,ok\nBonn," + b"y" * 50 + b"\nGraz,caf\xe9\n")
    with pytest.raises(ValidationError, match=r"not valid utf-8 \(byte \d+, line 6\)"):
        read_table(f)
    f.write_bytes(b"\n\nname,note\nLyon,ok\nBonn," + b"y" * 50 + b"\n")
    t = read_table(f, limits=replace(limits_for("editor"), field_chars=20))
    assert t.rows == [(4, {"name": "Lyon", "note": "ok"})]
    assert t.problems == [{"row": 5, "field": "note", "reason": "the field is longer than 20 characters"}]


def test_json_results_and_json_lines_are_held_to_the_limits(tmp_path):
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": [{}] * 50}}))
    with limits.applied(replace(limits_for("cli"), rows=10)):
        with pytest.raises(LimitExceeded, match="the results have 50 rows"):
            load_results(results)
    with limits.applied(replace(limits_for("cli"), markup_bytes=100)):
        with pytest.raises(LimitExceeded, match="markup_bytes|document parsed whole"):
            load_results(results)
    lines = tmp_path / "r.jsonl"
    lines.write_text("".join(json.dumps({"n": i}) + "\n" for i in range(30)))
    with pytest.raises(LimitExceeded, match="more than 10 lines"):
        list(iter_json_lines(lines, limits=replace(limits_for("cli"), rows=10)))
    assert len(list(iter_json_lines(lines))) == 30


def test_a_batch_of_texts_stops_at_the_row_and_character_limits(tmp_path):
    f = tmp_path / "texts.jsonl"
    f.write_text("".join(json.dumps({"id": i, "text": f"Bus lanes number {i} cut emissions."}) + "\n"
                         for i in range(500)), encoding="utf-8")
    assert len(read_batch(f)) == 500
    with pytest.raises(LimitExceeded, match="more than 100 texts"):
        read_batch(f, limits=replace(limits_for("cli"), rows=100))
    with pytest.raises(LimitExceeded, match="more than 1,000 characters"):
        read_batch(f, limits=replace(limits_for("cli"), text_chars=1_000))


def test_a_pdf_is_refused_by_its_page_count_before_extraction(tmp_path):
    pdf = write_pdf(tmp_path / "plan.pdf", [["The city will build bus lanes on every avenue of the centre."]] * 5)
    assert len(read_document(pdf, limits=limits_for("anonymous"))) == 5
    with pytest.raises(LimitExceeded, match="the PDF has 5 pages") as info:
        read_document(pdf, limits=replace(limits_for("anonymous"), pages=3))
    assert info.value.setting == "CITYDIP_LIMIT_ANONYMOUS_PAGES"


def test_html_and_text_are_parsed_whole_only_within_their_size(tmp_path):
    html = tmp_path / "page.html"
    html.write_text("<p>Bus lanes and cycle paths cut the emissions of commuting.</p>" * 200, encoding="utf-8")
    assert len(read_document(html, limits=limits_for("anonymous"))) == 200
    with pytest.raises(LimitExceeded, match="the document is 12 KB"):
        read_document(html, limits=replace(limits_for("anonymous"), markup_bytes=10_000))
    with pytest.raises(LimitExceeded, match="more than 50 paragraphs"):
        read_document(html, limits=replace(limits_for("anonymous"), paragraphs=50))


# -- the deadline --------------------------------------------------------------------------------------

def test_the_deadline_stops_a_read_with_a_clear_error(probe):
    lim = replace(limits_for("editor"), seconds=0.05)
    with limits.applied(lim):
        time.sleep(0.06)
        with pytest.raises(LimitExceeded) as info:
            read_table(probe["csv"], limits=lim)
    exc = info.value
    assert exc.limit == "seconds" and exc.status == 503 and exc.setting == "CITYDIP_LIMIT_EDITOR_SECONDS"
    assert "ran out of time and was stopped; the limit is 0.05 s" in str(exc)
    limits.check_deadline()                   # the deadline ended with its block


def test_an_inner_deadline_never_extends_an_outer_one():
    with limits.deadline(0.01):
        with limits.deadline(60):
            time.sleep(0.02)
            with pytest.raises(LimitExceeded, match="the limit is 0.01 s .seconds of work for the command line"):
                limits.check_deadline()
    with limits.deadline(60):
        with limits.deadline(0.01):
            time.sleep(0.02)
            with pytest.raises(LimitExceeded):
                limits.check_deadline()
        limits.check_deadline()


def test_the_deadline_stops_the_aligner_between_batches():
    from citydiplomacy.align import Aligner, Passage

    passages = [Passage(id=str(i), text="Bus lanes cut emissions of commuting.") for i in range(200)]
    with limits.deadline(0.001):
        time.sleep(0.01)
        with pytest.raises(LimitExceeded, match="ran out of time"):
            Aligner("light").align_many(passages)


def test_a_lock_is_awaited_no_longer_than_the_deadline():
    lock = threading.Lock()
    lock.acquire()
    try:
        t = time.perf_counter()
        with limits.deadline(0.1):
            with pytest.raises(LimitExceeded):
                with limits.holding(lock):
                    pass
        assert time.perf_counter() - t < 2
    finally:
        lock.release()


def test_an_import_stopped_by_its_deadline_changes_nothing(tmp_path, monkeypatch):
    obs = citydiplomacy.open(path=tmp_path / "s.sqlite", build=False)
    try:
        f = tmp_path / "networks.csv"
        f.write_text("name,kind\n" + "".join(f"Network {i},city_network\n" for i in range(300)), encoding="utf-8")
        from citydiplomacy.ingest import apply as apply_module

        real = apply_module.check_deadline
        calls = []

        def slow_writes(**kw):          # the writes take their time: the deadline passes among them
            calls.append(1)
            if len(calls) == 100:
                time.sleep(2.5)
            real(**kw)
        monkeypatch.setattr(apply_module, "check_deadline", slow_writes)
        with pytest.raises(LimitExceeded, match="ran out of time and was stopped; the limit is 2 s"):
            obs.import_("table", str(f), as_="actors", mapping={"name": "name", "kind": "kind"},
                        limits=replace(limits_for("editor"), seconds=2))
        assert len(calls) >= 100 and obs.is_empty()          # stopped among the writes, rolled back
        rep = obs.import_("table", str(f), as_="actors", mapping={"name": "name", "kind": "kind"}, limits="editor")
        assert rep.created.get("actors") == 300
    finally:
        obs.close()


# -- bounded memory and time, in a subprocess -------------------------------------------------------

#: the peak memory of the process itself: VmHWM of /proc/self/status (ru_maxrss of a child
#: started by fork or vfork carries its parent's peak across exec on Linux), else ru_maxrss
PEAK_MB = """
def peak_mb():
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

READ = PEAK_MB + """
import json, sys, time
t = time.perf_counter()
from pathlib import Path
from citydiplomacy import limits
from citydiplomacy.align import read_document
from citydiplomacy.ingest.readers import read_table
path, channel = Path(sys.argv[1]), sys.argv[2]
lim = limits.limits_for(channel)
try:
    (read_document if path.suffix == ".docx" else read_table)(path, limits=lim)
    got = None
except limits.LimitExceeded as exc:
    got = exc.limit
print(json.dumps({"limit": got, "seconds": time.perf_counter() - t, "mb": peak_mb()}))
"""


def _measure(path: Path, channel: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", READ, str(path), channel], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})}, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name, channel, limit", [
    ("docx", "anonymous", "unpacked_bytes"), ("docx", "editor", "compression_ratio"),
    ("xlsx", "editor", "compression_ratio"), ("parquet", "editor", "rows"), ("csv", "editor", "rows")])
def test_the_probe_inputs_are_refused_in_bounded_memory_and_time(probe, name, channel, limit):
    got = _measure(probe[name], channel)
    assert got["limit"] == limit
    assert got["mb"] < WORKER_MB and got["seconds"] < WORKER_SECONDS, got


def test_streaming_to_the_limit_stays_far_below_the_unpacked_size(probe):
    """With the zip checks lifted, the docx bomb (200 MB unpacked) is parsed as a stream
    up to the paragraph limit: memory stays far below what it unpacks to."""
    got = _measure(probe["docx"], "editor", {"CITYDIP_LIMIT_EDITOR_UNPACKED_BYTES": "none",
                                             "CITYDIP_LIMIT_EDITOR_COMPRESSION_RATIO": "none",
                                             "CITYDIP_LIMIT_EDITOR_PARAGRAPHS": "100000"})
    assert got["limit"] == "paragraphs" and got["mb"] < 200 and got["seconds"] < WORKER_SECONDS, got


# -- the API and the pages -------------------------------------------------------------------------------

_CACHE: dict[str, object] = {}


def _empty_observatory_cached():
    """An Observatory on a store with one actor (no default dataset: alignment and the
    refusals need none)."""
    if "obs" not in _CACHE:
        import tempfile

        d = Path(tempfile.mkdtemp(prefix="citydip-limits-"))
        obs = citydiplomacy.open(path=d / "citydip.sqlite", build=False)
        obs.add_actor("Eurocities", "city_network", source="https://eurocities.eu")
        _CACHE["obs"], _CACHE["home"] = obs, d
    return _CACHE["obs"]


@pytest.fixture(scope="module")
def app():
    obs = _empty_observatory_cached()
    app = create_app(obs=obs, secret="limits")
    if accounts.get_user(obs.store, "eddie") is None:
        accounts.add_user(obs.store, "eddie", "correct horse battery", "editor")
    app.state.token = accounts.create_token(obs.store, accounts.get_user(obs.store, "eddie"), "limits")[1]
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def editor(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.state.token}"}


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return r.json()


def test_the_api_refuses_the_docx_bomb_of_an_anonymous_visitor_with_413(client, probe):
    r = client.post("/api/v1/align/document", data={"mode": "light"},
                    files={"file": ("plan.docx", probe["docx"].read_bytes())})
    body = problem(r, 413)
    assert body["limit"] == "unpacked_bytes" and body["setting"] == "CITYDIP_LIMIT_ANONYMOUS_UNPACKED_BYTES"
    assert body["file"] == "plan.docx" and body["limit_value"] == 64 * 2**20
    assert "the limit is 64 MB" in body["detail"] and "tmp" not in body["detail"]


def test_a_read_only_server_refuses_it_too(probe, tmp_path):
    ro = create_app(obs=_empty_observatory_cached(), read_only=True, secret="ro")
    with TestClient(ro) as c:
        r = c.post("/api/v1/align/document", files={"file": ("plan.docx", probe["docx"].read_bytes())})
    assert problem(r, 413)["limit"] == "unpacked_bytes"


def test_an_editor_has_higher_limits_than_an_anonymous_visitor(client, app, tmp_path):
    doc = bombs.docx_paragraphs(tmp_path / "long.docx", 2_500)
    files = {"file": ("long.docx", doc.read_bytes())}
    body = problem(client.post("/api/v1/align/document", data={"mode": "light"}, files=files), 413)
    assert body["limit"] == "paragraphs" and "more than 2,000 paragraphs" in body["detail"]
    r = client.post("/api/v1/align/document", data={"mode": "light"}, files=files, headers=editor(app))
    assert r.status_code == 200, r.text
    assert r.json()["passages"] == 2_500


def test_an_import_of_a_million_rows_is_refused_at_once(client, app, probe):
    for name in ("xlsx", "parquet", "csv"):
        t = time.perf_counter()
        r = client.post("/api/v1/imports", params={"importer": "twinning", "dry_run": "true"},
                        files={"file": (probe[name].name, probe[name].read_bytes())}, headers=editor(app))
        body = problem(r, 413)
        assert body["limit"] in ("compression_ratio", "rows") and body["file"] == probe[name].name
        assert body["setting"].startswith("CITYDIP_LIMIT_EDITOR_")
        assert time.perf_counter() - t < WORKER_SECONDS


def test_an_upload_beyond_the_file_size_is_refused_as_it_comes(client, app, monkeypatch):
    monkeypatch.setenv("CITYDIP_LIMIT_EDITOR_FILE_BYTES", "100")
    body = problem(client.post("/api/v1/imports", params={"importer": "twinning"}, headers=editor(app),
                               files={"file": ("t.csv", b"x" * 200, "text/csv")}), 413)
    assert body["limit"] == "file_bytes" and "100 bytes" in body["detail"] and body["field"] == "file"


def test_work_past_the_time_limit_is_a_503_with_retry_after(client, monkeypatch, tmp_path):
    monkeypatch.setenv("CITYDIP_LIMIT_ANONYMOUS_SECONDS", "0.001")
    doc = bombs.docx_paragraphs(tmp_path / "plan.docx", 500)
    r = client.post("/api/v1/align/document", data={"mode": "light"}, files={"file": ("plan.docx", doc.read_bytes())})
    body = problem(r, 503)
    assert body["limit"] == "seconds" and r.headers["retry-after"]
    assert body["setting"] == "CITYDIP_LIMIT_ANONYMOUS_SECONDS"


def test_heavy_requests_beyond_a_clients_share_get_429_and_beyond_the_workers_503(client, app):
    gate = app.state.heavy
    anon = limits_for("anonymous")
    text = {"text": "Bus lanes cut the emissions of commuting.", "mode": "light"}
    with gate.slot("ip:testclient", anon):          # this client already has one running
        r = client.post("/api/v1/align", json=text)
        body = problem(r, 429)
        assert r.headers["retry-after"] and body["limit"] == "concurrent"
        assert client.post("/api/v1/align", json=text, headers=editor(app)).status_code == 200
    busy = [gate.slot(f"ip:10.0.0.{i}", anon) for i in range(gate.total)]
    for s in busy:
        s.__enter__()
    try:
        r = client.post("/api/v1/align", json=text, headers=editor(app))
        assert problem(r, 503)["limit"] == "heavy_requests" and r.headers["retry-after"]
        assert client.get("/api/v1/status").status_code == 200          # light reads still answer
    finally:
        for s in busy:
            s.__exit__(None, None, None)
    assert gate.running == 0
    assert client.post("/api/v1/align", json=text).status_code == 200


def test_the_gate_counts_per_client_and_in_all():
    gate = HeavyGate(2)
    lim = replace(limits_for("editor"), concurrent=1)
    with gate.slot("a", lim):
        with pytest.raises(Exception, match="Too many requests"):
            with gate.slot("a", lim):
                pass
        with gate.slot("b", lim):
            with pytest.raises(Exception, match="Server busy"):
                with gate.slot("c", lim):
                    pass
    assert gate.running == 0


def test_the_align_page_shows_the_limit_to_an_anonymous_visitor(client, probe):
    r = client.post("/align", data={"mode": "light"}, files={"document": ("plan.docx", probe["docx"].read_bytes())})
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]
    assert "CITYDIP_LIMIT_ANONYMOUS_UNPACKED_BYTES" in r.text and "64 MB" in r.text


API_MEMORY = PEAK_MB + """
import json, sys, time
from pathlib import Path
from fastapi.testclient import TestClient
import citydiplomacy
from citydiplomacy import accounts
from citydiplomacy.web.app import create_app
home, docx, xlsx = map(Path, sys.argv[1:4])
obs = citydiplomacy.open(path=home / "citydip.sqlite", build=False)
obs.add_actor("Eurocities", "city_network", source="https://eurocities.eu")
user = accounts.add_user(obs.store, "eddie", "correct horse battery", "editor")
token = accounts.create_token(obs.store, user, "m")[1]
app = create_app(obs=obs, secret="m")
out = {}
with TestClient(app) as c:
    base = peak_mb()
    t = time.perf_counter()
    r1 = c.post("/api/v1/align/document", files={"file": ("bomb.docx", docx.read_bytes())})
    r2 = c.post("/api/v1/imports", params={"importer": "twinning"}, files={"file": ("m.xlsx", xlsx.read_bytes())},
                headers={"Authorization": "Bearer " + token})
    out = {"statuses": [r1.status_code, r2.status_code], "seconds": time.perf_counter() - t, "base_mb": base,
           "mb": peak_mb()}
print(json.dumps(out))
"""


def test_a_worker_answers_the_probe_in_bounded_memory_and_time(probe, tmp_path):
    out = subprocess.run([sys.executable, "-c", API_MEMORY, str(tmp_path), str(probe["docx"]), str(probe["xlsx"])],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=180)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["statuses"] == [413, 413]
    assert got["mb"] < WORKER_MB and got["mb"] - got["base_mb"] < 100 and got["seconds"] < WORKER_SECONDS, got


# -- the CLI -----------------------------------------------------------------------------------------------

def citydip(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    _empty_observatory_cached()
    full = {**os.environ, "PYTHONPATH": str(SRC), "CITYDIP_HOME": str(_CACHE["home"]), **(env or {})}
    return subprocess.run([sys.executable, "-m", "citydiplomacy", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_the_cli_refuses_a_bomb_with_exit_1_and_no_traceback(probe):
    r = citydip("align", str(_disguised(probe)), "--mode", "light")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "compression ratio for the command line" in r.stderr and "CITYDIP_LIMIT_CLI_COMPRESSION_RATIO" in r.stderr


def _disguised(probe) -> Path:
    f = probe["zip"].with_name("zeros.docx")
    if not f.exists():
        f.write_bytes(probe["zip"].read_bytes())
    return f


def test_the_cli_import_stops_at_a_limit_set_in_the_environment(probe):
    r = citydip("import", "twinning", str(probe["csv"]), "--dry-run", env={"CITYDIP_LIMIT_CLI_ROWS": "1000"})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "more than 1,000 rows" in r.stderr and "CITYDIP_LIMIT_CLI_ROWS" in r.stderr


def test_the_cli_names_a_bad_setting(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("Bus lanes cut emissions.\n")
    r = citydip("align", str(f), "--mode", "light", env={"CITYDIP_LIMIT_CLI_ROWS": "many"})
    assert r.returncode == 1 and "Traceback" not in r.stderr and "CITYDIP_LIMIT_CLI_ROWS='many'" in r.stderr
