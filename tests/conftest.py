"""Settings and fixtures for every test. Helpers live in uniquely named modules (waiting.py,
statedb.py, configs.py, e2e.py): a test folder's own conftest.py would shadow this one for
``from conftest import``."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from configs import write_config

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach for the network


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """configs.write_config into this test's tmp_path:
    ``make_config(["A1"], {"poll_interval_ms": 2000})`` -> tmp_path / "accounts.yaml"."""
    return functools.partial(write_config, tmp_path)
