"""`robot status` on a run whose supervisor is dead, alive, or on another host.

A run row says `running` until its supervisor says otherwise; a SIGKILLed supervisor never does.
The status command checks the recorded pid on this host (a real process, spawned and killed
here) and does not take a dead run's old heartbeats for live ones.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import psutil

from robot.clock import WIB, AcceleratedClock, iso
from robot.status import collect, render
from robot.store import Store


def dead_pid() -> int:
    """The pid of a process that ran on this host and is gone (reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(30)
    return child.pid


def record_run(
    db: Path, pid: int, started: datetime, clock: str = "real", host: str | None = None
) -> None:
    store = Store(db)
    try:
        with store.transaction() as c:
            c.execute(
                "INSERT INTO runs (trading_date, started, pid, host, config_path, clock, "
                "status) VALUES (?, ?, ?, ?, 'accounts.yaml', ?, 'running')",
                (
                    started.date().isoformat(),
                    iso(started),
                    pid,
                    host or socket.gethostname(),
                    clock,
                ),
            )
            store.set_worker_state("A1", "fake", "TRADING", started, "trading", 99999, 1)
            c.execute("UPDATE workers SET heartbeat = ? WHERE account = 'A1'", (iso(started),))
    finally:
        store.close()


def status_of(db: Path) -> dict:
    store = Store(db, readonly=True)
    try:
        return collect(store)
    finally:
        store.close()


def test_a_run_whose_supervisor_was_killed_is_reported_dead(tmp_path, make_config):
    config = make_config(["A1"])
    pid = dead_pid()
    record_run(tmp_path / "state.db", pid, datetime.now(WIB) - timedelta(minutes=5))
    out = subprocess.run(
        [sys.executable, "-m", "robot", "status", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["run"]["status"] == "dead"
    assert data["run"]["supervisor"]["alive"] is False
    assert f"supervisor pid {pid} is gone" in data["run"]["supervisor"]["detail"]
    (a1,) = data["accounts"]
    assert a1["heartbeat_age_s"] is None  # no age as if the run were live
    text = subprocess.run(
        [sys.executable, "-m", "robot", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert f"dead (supervisor pid {pid} is gone; the next start cleans up)" in text


def test_a_reused_pid_is_not_taken_for_the_supervisor(tmp_path):
    """The pid is alive, but its process started after the run began: pid reuse."""
    later = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        started = datetime.fromtimestamp(psutil.Process(later.pid).create_time(), WIB) - timedelta(
            hours=1
        )
        record_run(tmp_path / "state.db", later.pid, started)
        data = status_of(tmp_path / "state.db")
    finally:
        later.communicate(timeout=30)
    assert data["run"]["status"] == "dead"
    assert "started after the run began" in data["run"]["supervisor"]["detail"]
    assert data["accounts"][0]["heartbeat_age_s"] is None


def test_a_live_supervisor_is_running_with_heartbeat_ages(tmp_path):
    me = psutil.Process()
    started = datetime.fromtimestamp(me.create_time() + 1, WIB)  # this process is "it"
    record_run(tmp_path / "state.db", me.pid, started)
    data = status_of(tmp_path / "state.db")
    assert data["run"]["status"] == "running"
    assert data["run"]["supervisor"]["alive"] is True
    assert data["accounts"][0]["heartbeat_age_s"] is not None
    assert render(data).splitlines()[0].endswith(f"running (started {iso(started)})")


def test_an_accelerated_run_is_checked_against_its_wall_clock_start(tmp_path):
    """In a simulation `started` is simulated time (hours away from the wall clock): the
    pid-reuse check converts it back with the run's clock spec."""
    me = psutil.Process()
    clock = AcceleratedClock(datetime(2026, 3, 2, 8, 40, tzinfo=WIB), 150.0, me.create_time() + 1)
    started = clock.start + timedelta(seconds=30)  # 0.2 s after the anchor
    record_run(tmp_path / "state.db", me.pid, started, clock=clock.spec())
    data = status_of(tmp_path / "state.db")
    assert data["run"]["status"] == "running" and data["run"]["supervisor"]["alive"] is True


def test_a_run_on_another_host_cannot_be_checked_and_says_so(tmp_path):
    record_run(tmp_path / "state.db", dead_pid(), datetime.now(WIB), host="elsewhere.example")
    data = status_of(tmp_path / "state.db")
    assert data["run"]["status"] == "running"
    assert data["run"]["supervisor"]["alive"] is None
    assert "host elsewhere.example" in data["run"]["supervisor"]["detail"]
    assert "cannot be checked from here" in render(data).splitlines()[0]
