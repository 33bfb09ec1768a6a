"""Fixtures for the adapter tests: the simulator in-process, adapters on real headless Chromium."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# This folder is named like the package it tests: with tests/ on sys.path it could be imported as
# a namespace package "adapters" shadowing the real one. The project root goes first.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
for _name in [n for n in list(sys.modules) if n in ("adapters", "simulator")
              or n.startswith(("adapters.", "simulator."))]:
    if getattr(sys.modules[_name], "__file__", None) is None:
        del sys.modules[_name]

os.environ.setdefault("SE_OFFLINE", "true")

import pytest  # noqa: E402

from adapter_helpers import SimEnv  # noqa: E402
from simulator.scenario import parse_scenario  # noqa: E402
from simulator.testing import ManualClock, running_simulator  # noqa: E402


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    """One simulator per module (a ManualClock at 10:00 on Monday 2026-03-02, in session 1).

    A module may set ``SCENARIO`` (a scenario dict) for its simulator.
    """
    clock = ManualClock("2026-03-02 10:00")
    scenario = getattr(request.module, "SCENARIO", None)
    if isinstance(scenario, dict):
        scenario = parse_scenario(scenario, source=request.module.__name__)
    with running_simulator(scenario=scenario, clock=clock) as sim:
        yield SimEnv(sim, clock, tmp_path_factory.mktemp("adapters"))
