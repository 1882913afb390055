"""The README's Quickstart is exactly two commands, CI runs the second, and the first
works: it installs the package and shows Barcelona's profile from the default data."""

import os
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from readme_command import quickstart_commands  # noqa: E402


def test_quickstart_has_two_commands_and_ci_runs_the_second():
    run, test = quickstart_commands()
    assert "citydip init" in run and run.startswith("pip install")
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme_command.py test" in ci      # CI reads the line from the README itself
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_command.py"), "test"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == test


def test_quickstart_first_command_works(tmp_path):
    """Run the first command for real, in a new virtual environment with an empty home.
    The venv sees this interpreter's installed packages (a .pth file), so pip finds the
    dependencies without a network; the package itself is built and installed anew."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    inner = subprocess.run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    Path(inner, "_outer_site.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               CITYDIP_HOME=str(tmp_path / "home"), PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_BUILD_ISOLATION="0")  # pip reads "0" here as: no isolation
    run, _ = quickstart_commands()
    proc = subprocess.run(["bash", "-c", run], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (venv / "bin" / "citydip").exists()
    assert "Barcelona (barcelona-es)" in proc.stdout
    assert "reach to the macro layer" in proc.stdout
    assert (tmp_path / "home" / "citydip.sqlite").exists()
