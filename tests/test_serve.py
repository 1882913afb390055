"""``citydip serve`` on a fresh install: the build of the store is told in the log, step by
step, when the log is not a terminal (a pipe, a file, a service manager's journal)."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from citydiplomacy.dataset.build import STEPS, describe_counts
from citydiplomacy.web.serve import build_log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_describe_counts_puts_actors_ties_and_aliases_first():
    assert describe_counts({"cities": 3, "actors": 3, "ties.located_in": 3, "ties.member_of": 1200,
                            "aliases": 1500, "framework.sdg.goal": 17}) == \
        "3 actors, 1,203 ties (1,200 member_of, 3 located_in), 1,500 aliases; cities 3, sdg goal 17"
    assert describe_counts({}) == "nothing added"


@pytest.mark.parametrize("level, shown", [("info", True), ("debug", True), ("warning", False)])
def test_build_log_shows_the_build_on_stderr_at_info(capsys, monkeypatch, level, shown):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])     # logging not configured (pytest's aside)
    log = logging.getLogger("citydiplomacy.dataset.build")
    before = log.getEffectiveLevel()
    with build_log(level):
        log.info("build step 1/11, states: 199 actors in 0.2 s")
    err = capsys.readouterr().err
    assert ("citydiplomacy: build step 1/11, states: 199 actors in 0.2 s" in err) is shown
    assert log.getEffectiveLevel() == before and not log.handlers       # as it was after the block


def test_first_serve_to_a_pipe_logs_each_build_step(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "CITYDIP_HOME": str(home),
           "CITYDIP_WEB_WARM_ALIGN": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "citydiplomacy", "serve", "--port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    lines: list[tuple[float, str]] = []
    t0 = time.monotonic()

    def read() -> None:
        for raw in proc.stderr:
            lines.append((time.monotonic() - t0, raw.decode("utf-8", "replace").rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while not any("Uvicorn running on" in text for _, text in lines):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start:\n" + "\n".join(t for _, t in lines[-40:]))
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        reader.join(timeout=10)
    text = [t for _, t in lines]
    assert text[0] == f"citydiplomacy: building the default dataset into {home / 'citydip.sqlite'}: " \
                      f"{len(STEPS)} steps"
    for i, (name, _) in enumerate(STEPS, start=1):
        step = [t for t in text if t.startswith(f"citydiplomacy: build step {i}/{len(STEPS)}, {name}: ")]
        assert len(step) == 1, (name, text)
        assert re.search(r" in \d+\.\d s$", step[0]), step[0]
    assert re.search(r"build step 3/\d+, cities: [\d,]+ actors", "\n".join(text))
    done = next(t for t in text if t.startswith("citydiplomacy: built the default dataset in "))
    assert re.fullmatch(r"citydiplomacy: built the default dataset in \d+\.\d s: [\d,]+ actors, [\d,]+ ties, "
                        r"[\d,]+ aliases", done), done
    # the steps are told as they end, not all at once when the build is over
    when = {t: s for s, t in lines}
    first = next(s for s, t in lines if "build step 1/" in t)
    assert when[done] - first > 1.0
    assert text.index(done) < next(i for i, t in enumerate(text) if "citydiplomacy: serving" in t)
    assert not any(ch in "".join(text) for ch in "━\r\x1b")              # no progress bar in a pipe
    # the example in docs/web.md is this log, but for the seconds
    seconds = re.compile(r"(?<= in )\d+\.\d(?= s)")
    told = {seconds.sub("N", t).replace(str(home), "/srv/observatory") for t in text}
    doc = (Path(__file__).parents[1] / "docs" / "web.md").read_text(encoding="utf-8")
    shown = [seconds.sub("N", x.strip()) for x in doc.splitlines()
             if x.startswith("    citydiplomacy: buil")]
    assert len(shown) >= 4 and all(x in told for x in shown), sorted(set(shown) - told)
