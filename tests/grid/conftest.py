"""The Grid tests' fixture: the jar and Java, from scripts/install-grid, once per test session;
the tests skip, with the script's own words, only when it cannot install them here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from robot.config import PROJECT_ROOT
from robot.grid import jar_path


@pytest.fixture(scope="session")
def grid_installed() -> Path:
    """scripts/install-grid (idempotent: a verified jar is kept); the jar's path."""
    try:
        done = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "install-grid")],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"scripts/install-grid could not run here: {exc}")
    if done.returncode != 0:
        pytest.skip(
            "scripts/install-grid could not install Java or the Selenium server jar here:"
            f" {done.stderr.strip()[-500:]}"
        )
    jar = jar_path()
    assert jar.is_file(), done.stderr
    return jar
