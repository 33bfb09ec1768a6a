"""The chaos day: a trading day on the simulator while processes are killed and servers misbehave.

Everything the robot promises with money is checked from the simulator's ledger and the task
server's event log, not from the robot's own view:
- zero duplicate orders per task;
- every task in a final state that matches the ledger;
- every event the robot recorded reached the task server, none stored twice;
- no orphan Chromium or chromedriver process at the end;
- the EOD report agrees with the ledger.

The bounded version runs in CI (15 worker kills); `scripts/test -m chaos` runs the full version
(100 worker kills, more accounts and tasks, undetected-chromedriver).
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from e2e import SimDay
from robot import rules
from simulator.ledger import compare_with_ledger
from simulator.prices import DEFAULT_UNIVERSE
from waiting import wait_for

pytestmark = pytest.mark.browser

EMITENS = sorted(c for c in DEFAULT_UNIVERSE if c != "GOTO")


def chaos_scenario(accounts: list[tuple[str, str]], tasks_per_account: int, seed: int) -> dict:
    rnd = random.Random(seed)
    tasks, n = [], 0
    for acc, _ in accounts:
        for code in rnd.sample(EMITENS, tasks_per_account):
            n += 1
            prev = DEFAULT_UNIVERSE[code]
            price = rules.add_ticks(prev, rnd.randint(-3, 1))
            tasks.append(
                {
                    "task_id": f"C{n:03d}",
                    "account": acc,
                    "emiten": code,
                    "side": "buy",
                    "price": price,
                    "lot": rnd.randint(1, 5),
                    "tp": rules.add_ticks(price, rnd.randint(2, 6)),
                    "cl": rules.add_ticks(price, -rnd.randint(2, 6)),
                    "available_at": f"{rnd.choice([9, 9, 10, 11, 13, 14]):02d}:"
                    f"{rnd.randint(0, 5) * 10:02d}",
                }
            )
    sb, ip, aj = (next(a for a, b in accounts if b == k) for k in ("stockbit", "ipot", "ajaib"))
    faults = [
        {"kind": "error_toast", "account": sb, "nth": 2, "message": "Server sibuk, coba lagi"},
        {"kind": "latency", "skin": "ipot", "seconds": 1.5, "from": "10:00", "until": "10:20"},
        {"kind": "session_expiry", "account": aj, "at": "11:00"},
        {
            "kind": "http_500",
            "skin": "stockbit",
            "page": "history",
            "from": "13:40",
            "until": "13:50",
        },
        {"kind": "task_server", "fault": "http_500", "from": "09:20", "until": "09:40"},
        {"kind": "task_server", "fault": "slow", "seconds": 10, "from": "10:30", "until": "10:45"},
        {"kind": "task_server", "fault": "malformed", "from": "11:10", "until": "11:20"},
        {
            "kind": "task_server",
            "fault": "http_500",
            "endpoint": "events",
            "from": "12:00",
            "until": "13:40",
        },
    ]
    return {
        "name": "chaos",
        "description": "random tasks and scripted faults",
        "seed": seed,
        "accounts": {a: {"broker": b, "pin": "123456"} for a, b in accounts},
        "tasks": tasks,
        "faults": faults,
    }


class Chaos(threading.Thread):
    """Kills workers, browsers and (once) the supervisor at random moments of the day."""

    def __init__(self, day: SimDay, worker_kills: int, browser_kills: int, seed: int):
        super().__init__(daemon=True)
        self.day, self.rnd = day, random.Random(seed)
        self.worker_kills, self.browser_kills = worker_kills, browser_kills
        self.stop = threading.Event()
        self.replacing = threading.Event()
        self.done = {
            "worker": 0,
            "browser": 0,
            "supervisor": 0,
            "task_server_down": 0,
            "task_changed": 0,
        }
        self.errors: list[str] = []

    def wall_day_s(self) -> float:
        start = self.day.clock.now()
        end = start.replace(hour=15, minute=50)
        return (end - start).total_seconds() / self.day.clock.speed

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(exc))

    def _run(self) -> None:
        plan = ["worker"] * self.worker_kills + ["browser"] * self.browser_kills
        self.rnd.shuffle(plan)
        plan.insert(len(plan) // 2, "supervisor")
        plan.insert(len(plan) // 3, "task_server_down")
        plan.insert(2 * len(plan) // 3, "task_changed")
        # random moments over the first 85 % of the trading day, in order
        span = 0.85 * self.wall_day_s()
        moments = sorted(self.rnd.uniform(0.03, 1.0) * span for _ in plan)
        begin = time.monotonic()
        for at, action in zip(moments, plan, strict=True):
            if self.stop.wait(max(0.0, begin + at - time.monotonic())):
                return
            for _ in range(60):  # a worker may be between lives: try again shortly
                if getattr(self, f"do_{action}")() is not False or self.stop.wait(0.5):
                    break

    def _robot_processes(self):
        proc = self.day.proc
        if proc is None or proc.poll() is not None:
            return []
        try:
            return psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def do_worker(self) -> None:
        rows = self.day.rows(
            "SELECT pid FROM workers WHERE state NOT IN ('STOPPED', 'FATAL') AND pid IS NOT NULL"
        )
        live = [r["pid"] for r in rows if _running(r["pid"])]
        if not live:
            return False
        try:
            os.kill(self.rnd.choice(live), signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.done["worker"] += 1

    def do_browser(self) -> None:
        procs = [
            p
            for p in self._robot_processes()
            if _name(p) in ("chromium", "chromedriver") or "chromedriver" in _name(p)
        ]
        if not procs:
            return False
        try:
            self.rnd.choice(procs).kill()
        except psutil.NoSuchProcess:
            return False
        self.done["browser"] += 1

    def do_supervisor(self) -> None:
        old = self.day.proc
        if old is None or old.poll() is not None:
            return
        self.replacing.set()
        try:
            old.kill()
            old.wait(10)
            self.done["supervisor"] += 1
            self.day.start_robot()  # the same clock, the same state.db
        finally:
            self.replacing.clear()

    def do_task_server_down(self) -> None:
        self.day.sim.stop()
        self.stop.wait(2.0)
        self.day.sim.start()
        self.done["task_server_down"] += 1

    def do_task_changed(self) -> bool:
        # a task the robot already holds: one not yet served would simply arrive changed
        known = {r["task_id"] for r in self.day.rows("SELECT task_id FROM tasks")}
        with self.day.sim.state.lock:
            task = next((t for t in self.day.sim.state.tasks._tasks if t["task_id"] in known), None)
            if task is None:
                return False  # tried again shortly
            task["lot"] = task["lot"] + 1  # same task_id, other fields
            self.done["task_changed"] += 1
            return True


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _name(p: psutil.Process) -> str:
    try:
        return p.name().lower()
    except psutil.Error:
        return ""


def leftover_browsers(root: Path) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline", "name"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
        except psutil.Error:
            continue
        if (
            str(root) in cmd
            and "chrom" in (p.info["name"] or "").lower()
            and p.status() != psutil.STATUS_ZOMBIE
        ):
            out.append(p)
    return out


def run_chaos_day(
    tmp_path: Path,
    accounts,
    tasks_per_account: int,
    worker_kills: int,
    browser_kills: int,
    speed: float,
    driver: str,
    seed: int,
) -> dict:
    scenario = chaos_scenario(accounts, tasks_per_account, seed)
    day = SimDay(
        tmp_path,
        scenario=scenario,
        speed=speed,
        start="08:30",
        accounts=accounts,
        driver=driver,
        settings={
            "hang_timeout_s": 45,
            "reconcile_grace_s": 60,
            "restart": {
                "backoff_initial_s": 0.5,
                "backoff_max_s": 2,
                "min_uptime_s": 1,
                "flap_max": 100,
                "flap_window_s": 60,
            },
        },
    )
    chaos = Chaos(day, worker_kills, browser_kills, seed)
    try:
        day.start_robot()
        chaos.start()
        while True:  # the supervisor may be replaced by chaos
            proc = day.proc
            proc.wait(timeout=1800)
            wait_for(
                lambda: not chaos.replacing.is_set(),
                120,
                "the chaos thread to finish starting the new supervisor",
                interval=0.1,
            )
            if day.proc is proc:
                break
        chaos.stop.set()
        chaos.join(30)
        assert proc.returncode == 0, day.output()[-3000:]
        assert not chaos.errors, chaos.errors
        return check(day, chaos, tmp_path)
    finally:
        chaos.stop.set()
        day.stop()


def check(day: SimDay, chaos: Chaos, root: Path) -> dict:
    ledger = day.ledger()
    tasks = day.rows("SELECT * FROM tasks")
    orders = day.rows("SELECT * FROM orders")
    report_rows = day.rows("SELECT json FROM reports")
    assert report_rows, "no EOD report"
    report = json.loads(report_rows[0]["json"])
    problems = compare_with_ledger(tasks, orders, ledger, report)
    assert not problems, problems
    # no task is left half-done: each is final, holding, or flagged for a human
    open_states = [t for t in tasks if t["state"] in ("PENDING", "SUBMITTING", "OPEN", "PARTIAL")]
    assert not open_states, open_states
    dup = {}
    for o in ledger:
        if o["side"] == "buy" and not o["rejected"]:
            key = (o["account"], o["emiten"], o["price"], o["lots"])
            dup[key] = dup.get(key, 0) + 1
    duplicates = sum(n - 1 for n in dup.values())
    assert duplicates == 0
    # every event the robot recorded reached the task server once
    ours = {r["id"] for r in day.rows("SELECT id FROM events WHERE undeliverable IS NULL")}
    theirs = [e["id"] for e in day.sim.events()]
    assert len(theirs) == len(set(theirs))
    lost = ours - set(theirs)
    assert not lost, f"{len(lost)} events never delivered"
    assert not day.rows("SELECT id FROM events WHERE undeliverable IS NOT NULL")
    _, alive = psutil.wait_procs(leftover_browsers(root), timeout=5)
    assert not alive, alive
    conflicts = day.rows("SELECT 1 FROM events WHERE type = 'TASK_CONFLICT'")
    assert chaos.done["task_changed"] == 0 or conflicts
    summary = {
        **{f"kills_{k}": v for k, v in chaos.done.items()},
        "faults": len(chaos_scenario_faults(day)),
        "tasks": len(tasks),
        "orders": len(ledger),
        "duplicates": duplicates,
        "lost_events": len(lost),
        "restarts": sum(r["restarts"] or 0 for r in day.rows("SELECT restarts FROM workers")),
        "outcome_unknown": sum(t["state"] == "OUTCOME_UNKNOWN" for t in tasks),
    }
    print("chaos summary: " + ", ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


def chaos_scenario_faults(day: SimDay) -> list:
    return list(day.sim.state.scenario.faults)


@pytest.mark.timeout(1200)
def test_chaos_day_bounded(tmp_path):
    accounts = [("CH_SB1", "stockbit"), ("CH_IP1", "ipot"), ("CH_AJ1", "ajaib")]
    summary = run_chaos_day(
        tmp_path,
        accounts,
        tasks_per_account=4,
        worker_kills=15,
        browser_kills=4,
        speed=100,
        driver="selenium",
        seed=11,
    )
    assert summary["kills_worker"] >= 15 and summary["kills_supervisor"] == 1


@pytest.mark.chaos
@pytest.mark.timeout(3600)
def test_chaos_day_full(tmp_path):
    accounts = [
        ("CH_SB1", "stockbit"),
        ("CH_IP1", "ipot"),
        ("CH_AJ1", "ajaib"),
        ("CH_SB2", "stockbit"),
    ]
    summary = run_chaos_day(
        tmp_path,
        accounts,
        tasks_per_account=8,
        worker_kills=100,
        browser_kills=20,
        speed=25,
        driver="uc",
        seed=12,
    )
    assert summary["kills_worker"] >= 100 and summary["kills_supervisor"] == 1
