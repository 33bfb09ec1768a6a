"""A worker whose supervisor was SIGKILLed never clicks (real processes, the fake broker).

The worker is held by a fault point between its order intent and the submit click (a FIFO it
blocks on: no sleeps, no race), the supervisor is SIGKILLed, then the worker is let go. It must
settle the intent as never sent and leave the task PENDING, and the next supervisor's worker
sends the order once.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psutil
import pytest

from test_supervisor import Run, no_profile_processes, write_config
from waiting import wait_for

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX FIFO")

TASK = {
    "task_id": "O1",
    "account": "ORPHAN",
    "emiten": "BBCA",
    "side": "buy",
    "price": 1000,
    "lot": 1,
    "tp": 1100,
    "cl": 950,
}


def book(root: Path) -> list[dict]:
    path = root / "profiles" / "ORPHAN" / "fake_broker.json"
    return json.loads(path.read_text()) if path.exists() else []


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def release(fifo: Path) -> None:
    """Let the held worker go on: open its FIFO for writing (it has it open for reading) and
    close it, which ends its read."""
    fd = os.open(fifo, os.O_WRONLY)
    os.close(fd)


def test_a_worker_orphaned_between_intent_and_click_never_clicks(tmp_path, runs, monkeypatch):
    write_config(tmp_path, ["ORPHAN"])
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([TASK]))
    fifo, reached = tmp_path / "hold.fifo", tmp_path / "hold-reached"
    os.mkfifo(fifo)
    monkeypatch.setenv("ROBOT_FAULT_POINT", "after_intent")
    monkeypatch.setenv("ROBOT_FAULT_ONCE", str(reached))  # the next worker is not held
    monkeypatch.setenv("ROBOT_FAULT_HOLD", str(fifo))
    run = Run(tmp_path, "--tasks", str(tasks), speed=60, start="09:00")
    runs.append(run)
    wait_for(reached.exists, 60, "the worker held between its intent and the click")
    (intent,) = run.rows("SELECT * FROM orders WHERE task_id = 'O1'")
    assert intent["status"] == "INTENT"
    worker = run.worker("ORPHAN")["pid"]

    os.kill(run.proc.pid, signal.SIGKILL)  # the supervisor dies, no clean-up
    run.proc.wait(10)
    assert not gone(worker), "the worker should outlive its supervisor until released"
    release(fifo)
    wait_for(lambda: gone(worker), 60, "the orphaned worker to stop by itself")

    assert book(tmp_path) == [], "an orphaned worker clicked submit"
    (intent,) = run.rows("SELECT * FROM orders WHERE task_id = 'O1'")
    assert intent["status"] == "NOT_SENT" and intent["click_at"] is None
    assert f"the supervisor (pid {run.proc.pid}) is gone" in intent["error"]
    assert run.rows("SELECT state FROM tasks WHERE task_id = 'O1'")[0]["state"] == "PENDING"
    assert no_profile_processes(tmp_path, ["ORPHAN"])  # it closed its browser too
    log = (tmp_path / "logs" / "ORPHAN.log").read_text()
    assert "was never clicked: not clicking: the supervisor" in log

    again = Run(tmp_path, speed=60, start="09:30")  # the next day's start, same db
    runs.append(again)
    wait_for(
        lambda: again.rows("SELECT 1 FROM tasks WHERE task_id = 'O1' AND state = 'OPEN'"),
        60,
        "the next supervisor's worker to place O1",
    )
    assert len(book(tmp_path)) == 1  # once
    statuses = [r["status"] for r in again.rows("SELECT status FROM orders ORDER BY id")]
    assert statuses == ["NOT_SENT", "OPEN"]
    again.proc.send_signal(signal.SIGTERM)
    assert again.finish(30)[0] == 0
