"""``citydip jobs`` without a queue: the store's in-process jobs (``jobs/`` beside it).
A job submitted or retried from the command line runs there and then; a failed one keeps
its error and is retried with the same arguments and id. (On the real queue, RQ on Redis:
test_jobs_queue.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import loadgen
from conftest import copy_store, db_env


@pytest.fixture
def home(built_home, tmp_path) -> Path:
    h = tmp_path / "home"
    copy_store(built_home, h)
    return h


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**loadgen.env(), **db_env(home)}
    env.pop("CITYDIP_QUEUE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "citydiplomacy", *args], env=env, capture_output=True, text=True,
                          timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


def test_a_failed_job_is_listed_with_its_error_and_retried_to_success(home, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the export's folder should be")
    proc = cli(home, "jobs", "submit", "export", f"out={blocker}", "fmt=csv", "country=AD", "--format", "json")
    assert proc.returncode == 1
    job = json.loads(proc.stdout)
    assert job["status"] == "failed" and job["attempts"] == 1
    assert job["error"]["detail"] == "exists and is not a directory" and job["error"]["file"] == str(blocker)
    assert "args" not in job and "pid" not in job
    assert (home / "jobs" / job["id"] / "job.json").exists()

    listed = json.loads(cli(home, "jobs", "list", "--format", "json").stdout)
    assert [(j["id"], j["task"], j["status"]) for j in listed] == [(job["id"], "export", "failed")]
    shown = cli(home, "jobs", "show", job["id"])
    assert "failed" in shown.stdout and "exists and is not a directory" in shown.stdout

    blocker.unlink()
    proc = cli(home, "jobs", "retry", job["id"], "--format", "json")
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout)
    assert done["id"] == job["id"] and done["status"] == "succeeded" and done["attempts"] == 2
    assert done["result"]["counts"]["actors"] > 0 and (blocker / "actors.csv").exists()
    again = cli(home, "jobs", "retry", job["id"])
    assert again.returncode == 1 and "only a failed or cancelled job can be retried" in again.stderr


@pytest.mark.parametrize("args,message", [
    (("jobs", "show", "nope-not-a-job"), "no job 'nope-not-a-job'"),
    (("jobs", "submit", "bake-a-cake"), "no task 'bake-a-cake'; use one of: align, export, import, index-build, recommend"),
    (("jobs", "submit", "export", "out"), "'out' is not KEY=VALUE"),
    (("jobs", "cancel", "nope-not-a-job"), "no job 'nope-not-a-job'"),
])
def test_mistakes_get_a_clear_message(home, args, message):
    proc = cli(home, *args)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", [("worker",), ("jobs",), ("jobs", "list"), ("jobs", "show"), ("jobs", "cancel"),
                                     ("jobs", "retry"), ("jobs", "submit")])
def test_every_jobs_command_has_help_with_an_example(tmp_path, command):
    proc = cli(tmp_path, *command, "--help")
    assert proc.returncode == 0 and "Example" in proc.stdout and "citydip " in proc.stdout


def test_a_bulk_alignment_runs_as_a_job_and_loads_into_the_store(home, tmp_path):
    """The ``align`` task: a folder aligned on a local Dask cluster of one worker into a
    Parquet dataset, then loaded into the store for the city; an unknown city fails the
    job before anything is aligned, with the suggestions."""
    from corpusgen import make_corpus

    corpus = tmp_path / "corpus"
    make_corpus(corpus, 3, paragraphs=2, formats=("txt", "md"))
    out = tmp_path / "results.parquet"
    bad = cli(home, "jobs", "submit", "align", f"folder={corpus}", f"out={out}", "city=Lyonnn-nowhere",
              "--format", "json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["status"] == "failed" and not out.exists()

    proc = cli(home, "jobs", "submit", "align", f"folder={corpus}", f"out={out}", "mode=light", "workers=1",
               "city=Lyon", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["status"] == "succeeded" and job["task"] == "align"
    res = job["result"]
    assert res["documents"] == 3 and res["aligned"] == 3 and res["failed"] == []
    assert res["stored"]["actor"] == "lyon-fr" and res["stored"]["added"] == 3
    again = cli(home, "jobs", "submit", "align", f"folder={corpus}", f"out={out}", "mode=light", "workers=1",
                "city=Lyon", "--format", "json")
    res2 = json.loads(again.stdout)["result"]
    assert res2["already_done"] == 3 and res2["stored"]["added"] == 0 and res2["stored"]["unchanged"] == 3
