"""The two commands' set-up installs only what is missing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _project_with_recording_python(tmp_path: Path) -> Path:
    """A copy of the project's set-up whose `.venv/bin/python` records pip installs
    (and does not run them) and runs everything else with this Python."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then echo "$@" >> "$(dirname "$0")/pip.log"; '
        "exit 0; fi\n"
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    return tmp_path


def _installs(project: Path) -> list[str]:
    """The installs of Footfall's own extras (the client distribution is another step)."""
    log = project / ".venv" / "bin" / "pip.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if "clients/python" not in line]


def test_dev_after_test_installs_nothing_since_test_includes_embedded(tmp_path):
    project = _project_with_recording_python(tmp_path)
    setup = str(project / "scripts" / "setup")
    subprocess.run([setup, "test"], check=True)
    assert _installs(project) == ["-m pip install -q -e .[test]"]
    subprocess.run([setup, "embedded"], check=True)
    subprocess.run([setup, "test"], check=True)
    assert len(_installs(project)) == 1


def test_test_after_dev_installs_the_test_extra(tmp_path):
    project = _project_with_recording_python(tmp_path)
    setup = str(project / "scripts" / "setup")
    subprocess.run([setup, "embedded"], check=True)
    subprocess.run([setup, "test"], check=True)
    assert _installs(project) == [
        "-m pip install -q -e .[embedded]",
        "-m pip install -q -e .[test]",
    ]
