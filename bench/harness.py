"""BenchDay: tests/e2e.py's SimDay (simulator in this process, `python -m robot.supervisor` as a
child on the same accelerated clock) with a start time to the second, a UI latency, and a log of
every broker request the simulator answered."""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, time as dtime

from common import install_request_log, sim_to_wall
from e2e import TOKEN, SimDay
from robot.clock import WIB, AcceleratedClock
from simulator.server import SimServer

# The product's defaults (robot.config.Settings) where SimDay shortens them for tests.
PRODUCT_TIMING = {
    "poll_interval_ms": 2000, "heartbeat_interval_s": 5, "hang_timeout_s": 60,
    "task_pull_interval_s": 30, "reconcile_grace_s": 5,
    "restart": {"backoff_initial_s": 1.0, "backoff_max_s": 60, "min_uptime_s": 10,
                "flap_max": 5, "flap_window_s": 600},
}


@dataclass
class BenchDay(SimDay):
    latency: float = 0.0

    def __post_init__(self):
        t = dtime.fromisoformat(self.start)
        self.clock = AcceleratedClock.starting(datetime.combine(self.day, t, WIB), self.speed)
        self.sim = SimServer(clock=self.clock, scenario=self.scenario, token=TOKEN,
                             password=self.password, ui_latency=self.latency)
        self.requests: list[dict] = []
        self.request_lock = threading.Lock()
        install_request_log(self.sim.app, self.requests, self.request_lock)
        self.sim.start()
        self.config = self.write_config()
        self.proc = None
        self.started_wall: float | None = None

    def write_config(self):
        self.settings = {**PRODUCT_TIMING, **self.settings}
        return super().write_config()

    def start_robot(self, *args: str):
        self.started_wall = time.time()
        return super().start_robot(*args)

    def wall(self, at: str) -> float:
        return sim_to_wall(self.clock, at)

    def terminate(self, timeout: float = 60) -> int | None:
        """Ask the supervisor to stop (SIGTERM: workers quit their browsers) and wait."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except Exception:  # noqa: BLE001
            return None

    def requests_since(self, t: float) -> list[dict]:
        with self.request_lock:
            return [r for r in self.requests if r["t"] >= t]
