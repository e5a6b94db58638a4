"""bandit over the platform's code finds nothing: every finding is fixed or, where it is none
(a variable's name taken for a password, SQL built from the models' own names), marked on its
line with the reason on the line above."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_bandit_finds_nothing() -> None:
    sources = [
        *sorted(str(path) for path in ROOT.glob("services/*/src")),
        str(ROOT / "workflows/src"),
    ]
    scan = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-c", str(ROOT / "pyproject.toml"), "-r", *sources],
        capture_output=True,
        text=True,
        check=False,
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
