"""Fixtures for the simulator's own tests: a manual clock, a running simulator, Chromium."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# tests/conftest.py puts tests/ on sys.path, where this very directory (tests/simulator, no
# __init__.py) looks like a namespace package named "simulator" that shadows the real one. Put the
# project root first and forget a namespace import made by mistake before we got here.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if getattr(sys.modules.get("simulator"), "__file__", "") is None:
    for _name in [n for n in sys.modules if n == "simulator" or n.startswith("simulator.")]:
        del sys.modules[_name]

from simulator.scenario import Scenario, parse_scenario  # noqa: E402 - after the fix above
from simulator.server import SimServer  # noqa: E402 - after the fix above
from simulator.testing import ManualClock, running_simulator, start_chrome  # noqa: E402 - as above


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock("2026-03-02 10:00")  # a Monday, in session 1


@pytest.fixture
def make_sim(clock: ManualClock) -> Iterator[Callable[..., SimServer]]:
    """Start simulators on demand (scenario dict, name or path); all are stopped afterwards."""
    servers: list[Any] = []

    def make(scenario: dict | str | Scenario | None = None, **kw: Any) -> SimServer:
        if isinstance(scenario, dict):
            scenario = parse_scenario(scenario, source="test")
        cm = running_simulator(scenario=scenario, clock=kw.pop("clock", clock), **kw)
        servers.append(cm)
        return cm.__enter__()

    yield make
    for cm in reversed(servers):
        cm.__exit__(None, None, None)


@pytest.fixture
def sim(make_sim: Callable[..., SimServer]) -> SimServer:
    return make_sim()


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start headless Chromium drivers (optionally on a given profile); all quit afterwards."""
    drivers: list[Any] = []

    def start(profile: Path | None = None) -> Any:
        driver = start_chrome(profile or tmp_path / f"profile{len(drivers)}")
        drivers.append(driver)
        return driver

    yield start
    for d in drivers:
        with contextlib.suppress(Exception):  # one that will not quit must not keep the rest
            d.quit()
