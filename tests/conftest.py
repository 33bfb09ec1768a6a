"""Settings and fixtures for every test. Helpers live in uniquely named modules (waiting.py,
statedb.py, configs.py, e2e.py): a test folder's own conftest.py would shadow this one for
``from conftest import``."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from configs import write_config
from event_contract import check_db

if TYPE_CHECKING:
    from test_supervisor import Run

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach for the network


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """configs.write_config into this test's tmp_path:
    ``make_config(["A1"], {"poll_interval_ms": 2000})`` -> tmp_path / "accounts.yaml"."""
    return functools.partial(write_config, tmp_path)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """The supervisor runs a test starts (test_supervisor.Run), killed at its end; every event they
    wrote must match its schema (LOGIN_REQUIRED, WORKER_CRASHED, WORKER_RESTARTED, WORKER_FATAL,
    EOD_REPORT, ...)."""
    started: list[Run] = []
    yield started
    for r in started:
        r.kill()
    for r in started:
        check_db(r.root / "state.db")
