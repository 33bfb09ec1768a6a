"""Test helpers: a settable clock, the simulator in a background thread, a headless Chromium.

from simulator.testing import ManualClock, running_simulator

clock = ManualClock("2026-03-02 10:00")
with running_simulator(scenario="demo", clock=clock) as sim:
    ...                         # sim.url, sim.broker_url("ipot"), sim.ledger(), ...
    clock.set("10:30")          # the market catches up on the next request (or sim.step())
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from robot.clock import WIB, to_wib

from .scenario import Scenario
from .server import SimServer

DEFAULT_DAY = date(2026, 3, 2)  # a Monday and an IDX trading day


class ManualClock:
    """A WIB clock that only moves when told to. Thread-safe; ``speed`` is nominal."""

    speed = 1.0

    def __init__(self, start: datetime | str = "10:00") -> None:
        self._lock = threading.Lock()
        self._now = self._parse(start, DEFAULT_DAY)

    @staticmethod
    def _parse(when: datetime | str, day: date) -> datetime:
        if isinstance(when, datetime):
            return to_wib(when)
        text = when.strip()
        if len(text) <= 8:  # "HH:MM" or "HH:MM:SS" on the current day
            return datetime.combine(day, time.fromisoformat(text), WIB)
        return to_wib(datetime.fromisoformat(text))

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime | str, back: bool = False) -> datetime:
        """Jump to ``when`` (a datetime, an ISO string, or "HH:MM[:SS]" today). Never backwards
        (a simulator's market cannot undo what it did) unless ``back``: a test without a
        simulator may start its day anywhere."""
        with self._lock:
            target = self._parse(when, self._now.date())
            if target < self._now and not back:
                raise ValueError(f"a ManualClock does not go back ({target} < {self._now})")
            self._now = target
            return target

    def advance(self, seconds: float = 0, minutes: float = 0) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, minutes=minutes)
            return self._now

    def spec(self) -> str:
        """Not rebuildable by clock_from_spec: a manual clock lives in one process only."""
        return f"manual|{self.now().isoformat()}"


@contextmanager
def running_simulator(
    scenario: str | dict | Scenario | None = None,
    clock: Any = None,
    token: str = "test-token",
    password: str | None = None,
    ui_latency: float | None = 0.0,
    port: int = 0,
) -> Iterator[SimServer]:
    """The whole simulator on a free 127.0.0.1 port (or ``port``), stopped on exit.

    ``clock`` defaults to a ManualClock at 10:00 on a trading Monday. UI latency defaults to 0
    whatever the scenario says; pass ``ui_latency=None`` to use the scenario's.
    """
    server = SimServer(
        clock=clock or ManualClock(),
        scenario=scenario,
        token=token,
        password=password,
        ui_latency=ui_latency,
        port=port,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chrome_options(profile_dir: str | Path, headless: bool = True) -> Any:
    """Options for the system Chromium: offline, no first-run noise, loopback only."""
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    opts.binary_location = CHROMIUM
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile_dir}",
        "--window-size=1280,900",
    ]
    if headless:
        flags.insert(0, "--headless=new")
    for flag in flags:
        opts.add_argument(flag)
    return opts


def start_chrome(profile_dir: str | Path, headless: bool = True) -> Any:
    """A plain Selenium Chrome on the system Chromium/chromedriver; never downloads anything."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try the network
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=chrome_options(profile_dir, headless)
    )
    driver.set_page_load_timeout(30)
    return driver
