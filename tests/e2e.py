"""End-to-end harness: the simulator in this process, the robot's supervisor as a child process,
both on the same accelerated clock, real headless Chromium in between.

Assertions are made from the simulator's ledger and the task server's events (the ground truth),
and from state.db the way an operator would read it.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import statedb
from configs import write_config
from robot.clock import WIB, AcceleratedClock
from simulator.scenario import DEFAULT_PIN, Scenario, load_scenario, parse_scenario
from simulator.server import SimServer

TOKEN = "e2e-token"
PASSWORD = "demo"
DEMO_DAY = date(2026, 3, 2)
DEMO_ACCOUNTS = [("ACC_STOCKBIT", "stockbit"), ("ACC_IPOT", "ipot"), ("ACC_AJAIB", "ajaib")]


@dataclass
class SimDay:
    root: Path
    scenario: str | object = "demo"
    day: date = DEMO_DAY
    start: str = "08:40"
    speed: float = 150.0
    accounts: list = field(default_factory=lambda: list(DEMO_ACCOUNTS))
    settings: dict = field(default_factory=dict)
    driver: str = "selenium"
    env: dict = field(default_factory=dict)
    password: str = PASSWORD  # the brokers' login password (E2E_PASSWORD)
    pin: str | None = None  # every account's trading PIN (E2E_PIN); None: the scenario's

    def __post_init__(self):
        hh, mm = self.start.split(":")
        self.clock = AcceleratedClock.starting(
            datetime.combine(self.day, time(int(hh), int(mm)), WIB), self.speed
        )
        scenario = self.scenario
        if self.pin is not None:
            if not isinstance(scenario, Scenario):
                scenario = (
                    parse_scenario(scenario)
                    if isinstance(scenario, dict)
                    else load_scenario(scenario)
                )
            scenario = dataclasses.replace(
                scenario,
                accounts={
                    name: dataclasses.replace(spec, pin=self.pin)
                    for name, spec in scenario.accounts.items()
                },
            )
        self.sim = SimServer(
            clock=self.clock, scenario=scenario, token=TOKEN, password=self.password, ui_latency=0.0
        ).start()
        self.config = self.write_config()
        self.proc: subprocess.Popen | None = None

    def write_config(self) -> Path:
        s = {
            "operating_hours": {"start": "08:45", "end": "16:15"},
            "eod_report_time": "16:00",
            "poll_interval_ms": 2000,
            "heartbeat_interval_s": 1,
            "hang_timeout_s": 60,
            "task_pull_interval_s": 60,
            "reconcile_grace_s": 30,
            "restart": {
                "backoff_initial_s": 0.5,
                "backoff_max_s": 2,
                "min_uptime_s": 2,
                "flap_max": 20,
                "flap_window_s": 600,
            },
            "task_server": {"url": self.sim.url, "token_env": "E2E_TOKEN"},
            "browser": {"driver": self.driver, "launch_stagger_s": 0.5},
        }
        s.update(self.settings)
        return write_config(
            self.root,
            [
                {"id": a, "broker": b, "password_env": "E2E_PASSWORD", "pin_env": "E2E_PIN"}
                for a, b in self.accounts
            ],
            s,
            base_url=self.sim.url,
        )

    # ----------------------------------------------------------------------------- running
    def robot_env(self) -> dict:
        env = dict(
            os.environ,
            E2E_TOKEN=TOKEN,
            E2E_PASSWORD=self.password,
            E2E_PIN=self.pin or DEFAULT_PIN,
            SE_OFFLINE="true",
        )
        env.update(self.env)
        return env

    def start_robot(self, *args: str) -> subprocess.Popen:
        cmd = [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(self.config),
            "--date",
            self.day.isoformat(),
            "--clock-spec",
            self.clock.spec(),
            *args,
        ]
        # a file, not a pipe: nobody has to keep reading it for the robot to keep running
        self.out_path = self.root / "supervisor.out"
        with open(self.out_path, "a") as out:
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=self.robot_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )
        return self.proc

    def output(self) -> str:
        return self.out_path.read_text() if self.out_path.exists() else ""

    def finish(self, timeout: float = 600) -> tuple[int, str]:
        self.proc.wait(timeout=timeout)
        return self.proc.returncode, self.output()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            import psutil

            for p in psutil.Process(self.proc.pid).children(recursive=True):
                p.kill()
            self.proc.kill()
            self.proc.wait(10)
        self.sim.stop()

    # ------------------------------------------------------------------------------ looking
    def rows(self, sql: str, params=()) -> list[dict]:
        return statedb.rows(self.root / "state.db", sql, params)

    def tasks(self) -> dict[str, dict]:
        return {r["task_id"]: r for r in self.rows("SELECT * FROM tasks")}

    def ledger(self) -> list[dict]:
        return self.sim.ledger()

    def check_event_contract(self) -> set[str]:
        """Every event the task server received, and every one in state.db (delivered or not),
        matches its type's schema strictly, and the server refused none. Returns the types the
        robot wrote."""
        from event_contract import check_db, check_events

        # received_at is the simulator's own note on what it stored, not part of the event
        received = [{k: v for k, v in e.items() if k != "received_at"} for e in self.sim.events()]
        check_events(received)
        delivered = {
            r["id"] for r in self.rows("SELECT id FROM events WHERE delivered_at IS NOT NULL")
        }
        assert delivered and delivered <= {e["id"] for e in received}
        refused = self.rows(
            "SELECT type, undeliverable FROM events WHERE undeliverable IS NOT NULL"
        )
        assert not refused, f"events the task server refused: {refused}"
        return check_db(self.root / "state.db")

    def entries(self, account: str, emiten: str) -> list[dict]:
        """Buy orders the broker accepted for this account and emiten (rejections excluded)."""
        return [
            o
            for o in self.ledger()
            if o["account"] == account
            and o["emiten"] == emiten
            and o["side"] == "buy"
            and not o["rejected"]
        ]
