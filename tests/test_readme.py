"""The README's Quickstart is exactly two commands, CI runs the second, and the first
works: it installs the package, builds the default data and serves the observatory."""

import json
import os
import signal
import site
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from readme_command import quickstart_commands  # noqa: E402


def test_quickstart_has_two_commands_and_ci_runs_the_second():
    run, test = quickstart_commands()
    assert "citydip serve" in run and run.startswith("pip install")
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py test" in ci      # CI reads the line from the README itself
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_command.py"), "test"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read()


def test_quickstart_first_command_works(tmp_path):
    """Run the first command for real, in a new virtual environment with an empty home:
    it must install the package, build the store and serve the observatory (on a free
    port given by CITYDIP_PORT, the --port option's environment variable). The venv sees
    this interpreter's installed packages (a .pth file), so pip finds the dependencies
    without a network; the package itself is built and installed anew."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    inner = subprocess.run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(inner, "_outer_site.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               CITYDIP_HOME=str(tmp_path / "home"), CITYDIP_PORT=str(port), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_BUILD_ISOLATION="0")  # pip reads "0" here as: no isolation
    run, _ = quickstart_commands()
    log = (tmp_path / "out.log").open("w")
    proc = subprocess.Popen(["bash", "-c", run], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 900
        while True:
            assert proc.poll() is None, (tmp_path / "out.log").read_text()[-3000:]
            try:
                status, body = _get(base + "/")
                break
            except OSError:
                assert time.time() < deadline, "the observatory did not come up in 15 minutes"
                time.sleep(1)
        assert status == 200 and b"Barcelona" in _get(base + "/search?q=Barcelona")[1]
        status, body = _get(base + "/api/v1/actors/barcelona-es/profile")
        profile = json.loads(body)
        assert profile["actor"]["name"] == "Barcelona" and profile["reach"]["count"] > 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    assert (venv / "bin" / "citydip").exists()
    assert (tmp_path / "home" / "citydip.sqlite").exists()
