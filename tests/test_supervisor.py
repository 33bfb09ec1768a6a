"""The supervisor and its worker processes, with the fake adapter (real processes, real SQLite).

Each test runs `python -m robot.supervisor` as a child process on an accelerated clock and
observes it only through what an operator has: state.db, `robot status`, exit codes and the
process table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

import configs
import statedb
from robot import proctree
from waiting import wait_for

SPEED = 1200  # a whole 08:00-16:15 day in about 25 s
ALL_STATES = {
    "INIT",
    "IDLE",
    "SETUP",
    "CHECK_SESSION",
    "READY",
    "WAIT_LOGIN",
    "PULL_TASKS",
    "TRADING",
    "EOD_REPORT",
    "STOPPED",
}


def write_config(root: Path, accounts: list[str], **settings) -> Path:
    """Accounts on the fake broker, with fast heartbeats and restarts (``hang``: the hang
    timeout)."""
    restart = settings.pop(
        "restart",
        {
            "backoff_initial_s": 0.2,
            "backoff_max_s": 1,
            "min_uptime_s": 1,
            "flap_max": 5,
            "flap_window_s": 600,
        },
    )
    return configs.write_config(
        root,
        accounts,
        {
            "operating_hours": {"start": "08:45", "end": "16:15"},
            "eod_report_time": "16:00",
            "poll_interval_ms": 60000,
            "heartbeat_interval_s": 0.3,
            "hang_timeout_s": settings.pop("hang", 20),
            "restart": restart,
            "browser": {"launch_stagger_s": 0},
            **settings,
        },
    )


def behave(root: Path, account: str, **behaviour) -> None:
    profile = root / "profiles" / account
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "fake_behaviour.json").write_text(json.dumps(behaviour))


class Run:
    """A supervisor child process and read-only looks into its state.db."""

    def __init__(
        self,
        root: Path,
        *args: str,
        start: str = "08:00",
        speed: float = SPEED,
        day: str = "2026-11-25",
    ):
        self.root = root
        cmd = [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(root / "accounts.yaml"),
            "--date",
            day,
            "--clock-speed",
            str(speed),
            "--clock-start",
            start,
            *args,
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.ps = psutil.Process(self.proc.pid)

    def rows(self, sql: str, params=()) -> list[dict]:
        return statedb.rows(self.root / "state.db", sql, params)

    def worker(self, account: str) -> dict:
        rows = self.rows("SELECT * FROM workers WHERE account = ?", (account,))
        return rows[0] if rows else {}

    def states(self, account: str) -> list[str]:
        return [
            r["to_state"]
            for r in self.rows(
                "SELECT to_state FROM worker_transitions WHERE account = ? ORDER BY id", (account,)
            )
        ]

    def events(self, type_: str) -> list[dict]:
        return self.rows("SELECT * FROM events WHERE type = ? ORDER BY seq", (type_,))

    def wait_state(self, account: str, state: str, timeout: float = 60, **extra) -> dict:
        def check():
            w = self.worker(account)
            return (
                w
                if w.get("state") == state and all(w.get(k) == v for k, v in extra.items())
                else None
            )

        return wait_for(check, timeout, f"{account} in {state} {extra or ''}")

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out

    def descendants(self) -> list[psutil.Process]:
        try:
            return self.ps.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill(self) -> None:
        if self.proc.poll() is None:
            for p in self.descendants():
                p.kill()
            self.proc.kill()
            self.proc.wait(10)


def fake_driver(profile: Path) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        if f"--fake-driver-of={profile.resolve()}" in (p.info["cmdline"] or []):
            out.append(p)
    return out


def no_profile_processes(root: Path, accounts: list[str]) -> bool:
    return all(not proctree.profile_processes(root / "profiles" / a) for a in accounts)


def test_accelerated_day_goes_through_every_lifecycle_state(tmp_path, runs):
    accounts = ["A1", "A2", "A3"]
    write_config(tmp_path, accounts)
    behave(tmp_path, "A3", session_valid=False)  # A3 must wait for a login
    run = Run(tmp_path)
    runs.append(run)
    run.wait_state("A3", "WAIT_LOGIN")
    wait_for(lambda: run.events("LOGIN_REQUIRED"), 30, "LOGIN_REQUIRED event")
    behave(tmp_path, "A3", session_valid=True)  # the human logs in
    run.wait_state("A3", "TRADING")
    code, out = run.finish()
    assert code == 0, out
    for a in accounts:
        seen = run.states(a)
        assert seen[0] == "INIT" and seen[-1] == "STOPPED", seen
        assert {
            "IDLE",
            "SETUP",
            "CHECK_SESSION",
            "READY",
            "PULL_TASKS",
            "TRADING",
            "EOD_REPORT",
        } <= set(seen), (a, seen)
    assert set(run.states("A3")) == ALL_STATES
    assert len(run.events("LOGIN_REQUIRED")) == 1  # once, however long it polled
    # every transition is stamped with the simulated WIB time and a reason
    t = run.rows(
        "SELECT at, reason FROM worker_transitions WHERE account = 'A1' AND to_state = 'EOD_REPORT'"
    )[0]
    # at 1200x a busy machine's half second is ten simulated minutes: "from 16:00" is the rule
    assert "2026-11-25T16:00" <= t["at"] < "2026-11-25T17" and t["at"].endswith("+07:00")
    assert t["reason"]
    assert (tmp_path / "logs" / "A1.log").read_text().count("state ") >= 8
    assert run.rows("SELECT status FROM runs")[0]["status"] == "done"
    assert no_profile_processes(tmp_path, accounts)


def test_sigkill_of_a_worker_restarts_it_and_the_day_completes(tmp_path, runs):
    accounts = ["A1", "A2"]
    write_config(tmp_path, accounts)
    run = Run(tmp_path)
    runs.append(run)
    victim = run.wait_state("A1", "TRADING")
    other_pid = run.wait_state("A2", "TRADING")["pid"]
    stand_in = proctree.profile_processes(tmp_path / "profiles" / "A1")
    assert stand_in, "the fake browser of A1 should be running"
    driver = fake_driver(tmp_path / "profiles" / "A1")
    assert driver, "the fake driver of A1 should be running"
    os.kill(victim["pid"], signal.SIGKILL)
    restarted = wait_for(
        lambda: (
            (w := run.worker("A1"))
            and w["restarts"] == 1
            and w["state"] == "TRADING"
            and w["pid"] != victim["pid"]
            and w
        ),
        60,
        "A1 restarted and trading again",
    )
    assert run.worker("A2")["pid"] == other_pid  # the other worker was not disturbed
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in stand_in)
    # the driver was re-parented away and named no profile: its process group still ended it
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in driver)
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot",
            "status",
            "--config",
            str(tmp_path / "accounts.yaml"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    data = json.loads(status.stdout)
    a1 = next(r for r in data["accounts"] if r["account"] == "A1")
    assert a1["restarts_today"] == 1 and a1["pid"] == restarted["pid"]
    assert "exited with code -9" in a1["last_error"]
    code, out = run.finish()
    assert code == 0, out
    assert [e["account"] for e in run.events("WORKER_CRASHED")] == ["A1"]
    assert [e["account"] for e in run.events("WORKER_RESTARTED")] == ["A1"]
    assert "EOD_REPORT" in run.states("A1")
    assert no_profile_processes(tmp_path, accounts)


def test_flapping_account_goes_fatal_and_the_others_keep_running(tmp_path, runs):
    write_config(
        tmp_path,
        ["GOOD", "BAD"],
        restart={
            "backoff_initial_s": 0.1,
            "backoff_max_s": 1,
            "min_uptime_s": 5,
            "flap_max": 2,
            "flap_window_s": 600,
        },
    )
    behave(tmp_path, "BAD", crash_on_start=True)
    run = Run(tmp_path)
    runs.append(run)
    fatal = run.wait_state("BAD", "FATAL")
    assert "3 failures within 600 s" in fatal["fatal_reason"]
    assert len(run.events("WORKER_FATAL")) == 1
    assert len(run.events("WORKER_CRASHED")) == 2 and len(run.events("WORKER_RESTARTED")) == 2
    run.wait_state("GOOD", "TRADING")
    text = subprocess.run(
        [sys.executable, "-m", "robot", "status", "--config", str(tmp_path / "accounts.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "FATAL" in text and "3 failures within 600 s" in text
    code, out = run.finish()
    assert code == 0, out
    assert run.worker("BAD")["state"] == "FATAL"  # never revived automatically today
    assert "EOD_REPORT" in run.states("GOOD")


def test_a_browser_launch_slower_than_the_hang_timeout_is_no_hang(tmp_path, runs):
    """Twenty Chromium starts on two cores each take many times the hang timeout: a worker
    blocked in its launch keeps beating (up to settings.browser.launch_timeout_s)."""
    write_config(tmp_path, ["S1"], hang=5, browser={"launch_stagger_s": 0, "launch_timeout_s": 60})
    behave(tmp_path, "S1", slow_start_s=12)  # the launch blocks 2.4 hang timeouts
    run = Run(tmp_path, speed=300)
    runs.append(run)
    run.wait_state("S1", "TRADING", timeout=90)
    assert run.events("WORKER_CRASHED") == []
    assert run.worker("S1")["restarts"] == 0
    run.kill()


def test_a_launch_stuck_past_its_launch_timeout_is_killed_as_a_hang(tmp_path, runs):
    write_config(tmp_path, ["S2"], hang=5, browser={"launch_stagger_s": 0, "launch_timeout_s": 5})
    behave(tmp_path, "S2", slow_start_s=3600)  # never comes back by itself
    run = Run(tmp_path, speed=300)
    runs.append(run)
    crash = wait_for(lambda: run.events("WORKER_CRASHED"), 90, "stuck launch detected")[0]
    assert "hung: no heartbeat" in json.loads(crash["payload"])["reason"]
    behave(tmp_path, "S2")  # the next launch is quick
    wait_for(
        lambda: (w := run.worker("S2")) and w["restarts"] >= 1 and w["state"] == "TRADING",
        90,
        "S2 TRADING after its restart",
    )
    run.kill()


def test_hung_worker_is_killed_with_its_tree_and_restarted(tmp_path, runs):
    write_config(tmp_path, ["H1"], hang=5)
    run = Run(tmp_path, speed=300)
    runs.append(run)
    before = run.wait_state("H1", "TRADING")
    stand_in = proctree.profile_processes(tmp_path / "profiles" / "H1")
    behave(tmp_path, "H1", hang=True)  # the next poll never returns
    crash = wait_for(lambda: run.events("WORKER_CRASHED"), 60, "hang detected")[0]
    assert "hung: no heartbeat" in json.loads(crash["payload"])["reason"]
    assert (
        not psutil.pid_exists(before["pid"])
        or psutil.Process(before["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in stand_in)
    behave(tmp_path, "H1")  # healthy again
    wait_for(
        lambda: (w := run.worker("H1")) and w["restarts"] >= 1 and w["state"] == "TRADING",
        60,
        "H1 back in TRADING",
    )
    run.kill()


def test_sigterm_stops_everything_and_leaves_no_process(tmp_path, runs):
    accounts = ["T1", "T2", "T3"]
    write_config(tmp_path, accounts)
    run = Run(tmp_path, speed=60, start="08:44")
    runs.append(run)
    for a in accounts:
        run.wait_state(a, "TRADING")
    family = run.descendants()
    assert len(family) >= 6  # 3 workers + 3 stand-in browsers
    run.proc.send_signal(signal.SIGTERM)
    code, out = run.finish(timeout=15)  # the promise: within 15 s
    assert code == 0, out
    gone, alive = psutil.wait_procs(family, timeout=1)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    for a in accounts:
        assert run.worker(a)["state"] == "STOPPED"
    assert run.rows("SELECT status FROM runs")[0]["status"] == "interrupted"
    assert no_profile_processes(tmp_path, accounts)


def test_robot_stop_ends_a_running_day_cleanly(tmp_path, runs):
    """What an operator does to a day started by cron: `robot stop` from another shell."""
    accounts = ["T1", "T2"]
    write_config(tmp_path, accounts)
    run = Run(tmp_path, speed=60, start="08:44")
    runs.append(run)
    for a in accounts:
        run.wait_state(a, "TRADING")
    family = run.descendants()
    stop = subprocess.run(
        [sys.executable, "-m", "robot", "stop", "--config", str(tmp_path / "accounts.yaml")],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert f"supervisor pid {run.proc.pid}" in stop.stdout and "stopped" in stop.stdout
    code, out = run.finish(timeout=15)
    assert code == 0, out
    assert "stop requested by `robot stop`" in out
    gone, alive = psutil.wait_procs(family, timeout=1)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    assert run.rows("SELECT status FROM runs")[0]["status"] == "interrupted"
    assert all(run.worker(a)["state"] == "STOPPED" for a in accounts)
    assert not (tmp_path / "state.db.stop").exists()
    again = subprocess.run(
        [sys.executable, "-m", "robot", "stop", "--config", str(tmp_path / "accounts.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0 and "no day is running" in again.stdout


def test_second_supervisor_on_the_same_state_db_refuses(tmp_path, runs):
    write_config(tmp_path, ["S1"])
    first = Run(tmp_path, speed=60, start="08:44")
    runs.append(first)
    first.wait_state("S1", "TRADING")
    second = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(tmp_path / "accounts.yaml"),
            "--date",
            "2026-11-25",
            "--clock-speed",
            "60",
            "--clock-start",
            "09:00",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert "another supervisor is already running" in second.stderr
    assert first.proc.poll() is None and first.worker("S1")["state"] == "TRADING"


def test_killed_supervisor_leaves_orphans_that_the_next_start_cleans_up(tmp_path, runs):
    accounts = ["K1", "K2"]
    write_config(tmp_path, accounts)
    run = Run(tmp_path, speed=60, start="09:00")
    runs.append(run)
    for a in accounts:
        run.wait_state(a, "TRADING")
    family = run.descendants()
    workers = [run.worker(a)["pid"] for a in accounts]
    os.kill(run.proc.pid, signal.SIGKILL)  # no clean-up from the supervisor
    os.kill(workers[0], signal.SIGKILL)  # and one worker dies with it
    run.proc.wait(10)
    orphans = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert orphans, "a SIGKILLed supervisor should leave processes behind"
    again = Run(tmp_path, speed=60, start="10:00")
    runs.append(again)
    for a in accounts:
        again.wait_state(a, "TRADING", run_id=2)
    _, still = psutil.wait_procs(orphans, timeout=5)
    assert not still, still
    assert again.rows("SELECT status FROM runs WHERE id = 1")[0]["status"] == "interrupted"
    again.proc.send_signal(signal.SIGTERM)
    assert again.finish(15)[0] == 0
    assert no_profile_processes(tmp_path, accounts)


def test_restart_mid_day_resumes_trading_without_idle(tmp_path, runs):
    write_config(tmp_path, ["M1"])
    run = Run(tmp_path, speed=60, start="10:30")
    runs.append(run)
    run.wait_state("M1", "TRADING")
    assert "IDLE" not in run.states("M1")  # straight through to TRADING
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(15)[0] == 0


def test_a_browser_dying_while_a_lost_session_is_checked_is_relaunched_in_place(tmp_path, runs):
    """The session expires mid-day and the browser dies while the worker waits for a login: the
    worker relaunches it and checks again, as after any crash; it does not crash itself."""
    write_config(tmp_path, ["S1"])
    run = Run(tmp_path, speed=60, start="10:30")
    runs.append(run)
    run.wait_state("S1", "TRADING")
    behave(tmp_path, "S1", expired=True, session_valid=False)
    run.wait_state("S1", "WAIT_LOGIN")
    profile = tmp_path / "profiles" / "S1"
    (browser,) = proctree.profile_processes(profile)
    browser.kill()
    log = tmp_path / "logs" / "S1.log"
    wait_for(lambda: "browser crashed" in log.read_text(), 30, "the worker to see the crash")
    wait_for(
        lambda: [p for p in proctree.profile_processes(profile) if p.pid != browser.pid],
        30,
        "a relaunched browser",
    )
    behave(tmp_path, "S1")  # logged in again
    wait_for(
        lambda: run.states("S1")[-1:] == ["TRADING"] and "WAIT_LOGIN" in run.states("S1"),
        30,
        "S1 trading again",
    )
    assert not run.events("WORKER_CRASHED") and run.worker("S1")["restarts"] == 0
    assert run.states("S1")[-3:] == ["READY", "PULL_TASKS", "TRADING"]
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(15)[0] == 0


def test_non_trading_day_exits_zero_at_once(tmp_path):
    write_config(tmp_path, ["N1"])
    for day, why in (("2026-12-25", "Christmas Day"), ("2026-11-28", "Saturday")):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "robot.supervisor",
                "--config",
                str(tmp_path / "accounts.yaml"),
                "--date",
                day,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0
        assert f"{day} is not an IDX trading day" in proc.stderr and why in proc.stderr
    assert not (tmp_path / "state.db").exists()  # nothing was started


def test_bad_options_exit_2(tmp_path):
    write_config(tmp_path, ["B1"])
    for args in (
        ["--date", "2026-02-30"],
        ["--clock-start", "25:00"],
        ["--clock-speed", "0"],
        ["--config", str(tmp_path / "missing.yaml")],
    ):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "robot.supervisor",
                "--config",
                str(tmp_path / "accounts.yaml"),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
