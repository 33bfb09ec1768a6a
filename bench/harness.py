"""BenchDay: the simulator in this process and `python -m robot.supervisor` as a child process on
the same accelerated clock (--clock-spec), as tests/e2e.py's SimDay does, plus a start time to the
second, a UI latency, the product's default timing, and a log of every broker request the
simulator answered. Standalone (not a SimDay subclass) so that test-harness changes never change
what the benchmarks measure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, time as dtime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # statedb, configs

import statedb
from common import DAY, PASSWORD, ROOT, TOKEN, install_request_log, sim_to_wall
from configs import write_config
from robot.clock import WIB, AcceleratedClock
from simulator.server import SimServer

PIN = "123456"
# The product's defaults (robot.config.Settings).
PRODUCT_TIMING = {
    "poll_interval_ms": 2000,
    "heartbeat_interval_s": 5,
    "hang_timeout_s": 60,
    "task_pull_interval_s": 30,
    "reconcile_grace_s": 5,
    "restart": {
        "backoff_initial_s": 1.0,
        "backoff_max_s": 60,
        "min_uptime_s": 10,
        "flap_max": 5,
        "flap_window_s": 600,
    },
}


class BenchDay:
    def __init__(
        self,
        root: Path,
        scenario: dict,
        speed: float,
        start: str,
        accounts: list[tuple[str, str]],
        settings: dict | None = None,
        driver: str = "uc",
        latency: float = 0.0,
        env: dict | None = None,
    ):
        self.root, self.accounts, self.driver = Path(root), accounts, driver
        self.root.mkdir(parents=True, exist_ok=True)
        self.day = DAY
        self.clock = AcceleratedClock.starting(
            datetime.combine(DAY, dtime.fromisoformat(start), WIB), speed
        )
        self.sim = SimServer(
            clock=self.clock, scenario=scenario, token=TOKEN, password=PASSWORD, ui_latency=latency
        )
        self.requests: list[dict] = []
        self.request_lock = threading.Lock()
        install_request_log(self.sim.app, self.requests, self.request_lock)
        self.sim.start()
        self.env = env or {}
        self.settings = {
            **PRODUCT_TIMING,
            "browser": {"driver": driver, "launch_stagger_s": 1.0},
            **(settings or {}),
        }
        self.config = self.write_config()
        self.proc: subprocess.Popen | None = None
        self.started_wall: float | None = None
        self.out_path = self.root / "supervisor.out"

    def write_config(self) -> Path:
        s = {
            "operating_hours": {"start": "08:45", "end": "16:15"},
            "eod_report_time": "16:00",
            "task_server": {"url": self.sim.url, "token_env": "BENCH_TOKEN"},
            **self.settings,
        }
        return write_config(
            self.root,
            [
                {"id": a, "broker": b, "password_env": "BENCH_PASSWORD", "pin_env": "BENCH_PIN"}
                for a, b in self.accounts
            ],
            s,
            base_url=self.sim.url,
        )

    def robot_env(self) -> dict[str, str]:
        """The environment of a `robot` process on this day's config (its secrets, offline)."""
        return dict(
            os.environ,
            BENCH_TOKEN=TOKEN,
            BENCH_PASSWORD=PASSWORD,
            BENCH_PIN=PIN,
            SE_OFFLINE="true",
            PYTHONPATH=str(ROOT),
            **self.env,
        )

    def start_robot(self) -> subprocess.Popen:
        env = self.robot_env()
        cmd = [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(self.config),
            "--date",
            DAY.isoformat(),
            "--clock-spec",
            self.clock.spec(),
        ]
        self.started_wall = time.time()
        with open(self.out_path, "a") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
            )
        return self.proc

    def output(self) -> str:
        return self.out_path.read_text() if self.out_path.exists() else ""

    def wall(self, at: str) -> float:
        return sim_to_wall(self.clock, at)

    def terminate(self, timeout: float = 60) -> int | None:
        """Ask the supervisor to stop (SIGTERM: workers quit their browsers) and wait."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate(30)
        if self.proc is not None and self.proc.poll() is None:
            for p in psutil.Process(self.proc.pid).children(recursive=True):
                p.kill()
            self.proc.kill()
            self.proc.wait(10)
        self.sim.stop()

    def requests_since(self, t: float) -> list[dict]:
        with self.request_lock:
            return [r for r in self.requests if r["t"] >= t]

    # ------------------------------------------------------------------------------ looking
    def rows(self, sql: str, params=()) -> list[dict]:
        return statedb.rows(self.root / "state.db", sql, params)

    def worker_pids(self) -> dict[str, int]:
        """Each running worker's pid, by account (the supervisor's workers table)."""
        return {
            r["account"]: r["pid"]
            for r in self.rows(
                "SELECT account, pid FROM workers WHERE state NOT IN "
                "('STOPPED', 'FATAL') AND pid IS NOT NULL"
            )
        }

    def worker_states(self) -> dict[str, str]:
        return {r["account"]: r["state"] for r in self.rows("SELECT account, state FROM workers")}

    def tasks(self) -> dict[str, dict]:
        return {r["task_id"]: r for r in self.rows("SELECT * FROM tasks")}

    def ledger(self) -> list[dict]:
        return self.sim.ledger()
