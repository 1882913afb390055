"""An opt-in pytest plugin: the CPU seconds of each test's setup, call and teardown (this
process and the child processes it waited for: the CLI runs, the import jobs), and of each
module, printed after the run.

On a machine shared with other work, wall-clock durations (``--durations``) mostly measure
the load; CPU seconds change far less with it, so they compare two runs of the same tests
(before and after a change) fairly. Use it from the repository's root:

    PYTHONPATH=src:tests python -m pytest -p no:randomly -p cputime tests/test_engage*.py

``CITYDIP_CPUTIME_TOP`` sets how many phases are listed (25 by default). Threads of this
process (a uvicorn server, a job) count for the test that runs meanwhile; a browser's
processes count when it closes."""

from __future__ import annotations

import os
import resource
import time

import pytest

_rows: list[tuple[float, float, str, str]] = []
_start: dict[str, float] = {}


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(phase: str, item):
    cpu, wall = _cpu(), time.perf_counter()
    yield
    _rows.append((_cpu() - cpu, time.perf_counter() - wall, phase, item.nodeid))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _timed("setup", item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _timed("call", item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _timed("teardown", item)


def pytest_sessionstart(session):
    _start.update(cpu=_cpu(), wall=time.perf_counter())


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    top = int(os.environ.get("CITYDIP_CPUTIME_TOP", "25"))
    cpu, wall = _cpu() - _start["cpu"], time.perf_counter() - _start["wall"]
    tr.write_sep("=", "CPU seconds (this process and its waited-for children)")
    tr.write_line(f"{cpu:9.1f} cpu {wall:9.1f} wall  the run (load average {os.getloadavg()[0]:.1f})")
    modules: dict[str, list[float]] = {}
    for c, w, _, nodeid in _rows:
        m = modules.setdefault(nodeid.split("::")[0], [0.0, 0.0])
        m[0] += c
        m[1] += w
    for name, (c, w) in sorted(modules.items(), key=lambda kv: -kv[1][0]):
        tr.write_line(f"{c:9.1f} cpu {w:9.1f} wall  {name}")
    tr.write_line("")
    for c, w, phase, nodeid in sorted(_rows, reverse=True)[:top]:
        tr.write_line(f"{c:9.1f} cpu {w:9.1f} wall  {phase:8s} {nodeid}")
