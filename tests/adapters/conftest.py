"""The adapter tests' fixtures; their helpers are in adapter_helpers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapter_helpers import SimEnv, ensure_logged_in
from simulator.scenario import parse_scenario
from simulator.testing import ManualClock, running_simulator


@pytest.fixture(scope="module")
def env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SimEnv]:
    """One simulator per module (a ManualClock at 10:00 on Monday 2026-03-02, in session 1).

    A module may set ``SCENARIO`` (a scenario dict) for its simulator.
    """
    clock = ManualClock("2026-03-02 10:00")
    scenario = getattr(request.module, "SCENARIO", None)
    if isinstance(scenario, dict):
        scenario = parse_scenario(scenario, source=request.module.__name__)
    with running_simulator(scenario=scenario, clock=clock) as sim:
        yield SimEnv(sim, clock, tmp_path_factory.mktemp("adapters"))


@pytest.fixture(scope="module")
def started(env, request):
    """The module's adapter (its SKIN and ACC), started once for the module."""
    with env.started(request.module.SKIN, request.module.ACC) as adapter:
        yield adapter


@pytest.fixture
def sb(env, started):
    """The module's adapter, logged in; runtime faults are dropped after each test."""
    ensure_logged_in(started)
    yield started
    env.sim.clear_faults()
