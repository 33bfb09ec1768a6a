"""A person resolves what the robot cannot: `robot resolve` and `robot restart` (robot/resolve.py).

Real processes throughout: a supervisor with its workers on the fake broker (adapters/fake.py,
whose ledger fake_broker.json is the broker's truth), and the `robot` CLI as a person runs it. An
order whose confirmation is lost (``lost_submit``) makes the task OUTCOME_UNKNOWN; the test then
plays the person and the broker (an order that shows up late is a ledger row whose ``hidden``
flag the test clears). Every test checks the ledger: never two orders for one task.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from event_contract import check_db
from robot.clock import WIB
from robot.orders import TaskState
from robot.resolve import request_restart
from robot.store import Store
from test_supervisor import Run, behave, write_config
from waiting import wait_for

TASK = {
    "task_id": "R1",
    "account": "A1",
    "emiten": "BBCA",
    "side": "buy",
    "price": 1000,
    "lot": 1,
    "tp": 1100,
    "cl": 950,
}


def robot(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The `robot` command as a person runs it, on the test's config."""
    return subprocess.run(
        [sys.executable, "-m", "robot", *args, "--config", str(root / "accounts.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
    )


def ledger_path(root: Path, account: str = "A1") -> Path:
    return root / "profiles" / account / "fake_broker.json"


def ledger(root: Path, account: str = "A1") -> list[dict]:
    path = ledger_path(root, account)
    return json.loads(path.read_text()) if path.exists() else []


def edit_ledger(root: Path, order_id: str, **changes) -> None:
    """The broker changes one of its rows (shows it late, fills it...)."""
    rows = ledger(root)
    (row,) = [r for r in rows if r["order_id"] == order_id]
    row.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del row[key]
    ledger_path(root).write_text(json.dumps(rows))


def add_to_ledger(root: Path, row: dict) -> None:
    rows = ledger(root)
    rows.append(row)
    ledger_path(root).write_text(json.dumps(rows))


def robot_buys(root: Path) -> list[dict]:
    return [r for r in ledger(root) if r["side"] == "buy" and not r["order_id"].startswith("M")]


def start_day(root: Path, runs: list, **settings) -> Run:
    write_config(root, ["A1"], poll_interval_ms=30000, **settings)
    behave(root, "A1", lost_submit=True)  # the first submit's confirmation is lost
    tasks = root / "tasks.json"
    tasks.write_text(json.dumps([TASK]))
    run = Run(root, "--tasks", str(tasks), speed=60, start="09:00")
    runs.append(run)
    return run


def task_state(run: Run, task_id: str = "R1") -> str | None:
    rows = run.rows("SELECT state FROM tasks WHERE task_id = ?", (task_id,))
    return rows[0]["state"] if rows else None


def wait_task(run: Run, state: str, timeout: float = 60) -> None:
    wait_for(lambda: task_state(run) == state, timeout, f"task R1 {state}")


def requests(run: Run) -> list[dict]:
    return run.rows("SELECT * FROM operator_requests ORDER BY id")


def test_resolve_against_a_running_worker(tmp_path, runs):
    run = start_day(tmp_path, runs)
    wait_task(run, "OUTCOME_UNKNOWN")
    behave(tmp_path, "A1")  # the broker behaves from now on
    (lost,) = robot_buys(tmp_path)
    assert lost["hidden"], "the lost order is in the broker's ledger, not in its lists"

    # bad input: exit 2, a message naming what is wrong, nothing written
    for args, says in [
        (("resolve", "R1", "--placed", "1000", "--not-placed"), "exactly one"),
        (("resolve", "NOPE", "--not-placed"), "no task 'NOPE'"),
        (("resolve", "R1", "--retry", "--placed", "1000"), "--retry goes with --not-placed"),
        (("restart", "A1"), "not FATAL"),
        (("restart", "ZZ"), "unknown account 'ZZ'"),
    ]:
        done = robot(tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert says in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    assert requests(run) == []

    # an id the broker does not show is refused by the worker, after reading the broker
    done = robot(tmp_path, "resolve", "R1", "--placed", "9999")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the broker does not show order 9999" in done.stderr

    # the broker shows the order at last, stamped an hour early (its clock is off): the robot's
    # matcher never takes an order entered before its intent, a person can
    intent = run.rows("SELECT intent_at FROM orders WHERE task_id = 'R1'")[0]["intent_at"]
    early = (datetime.fromisoformat(intent) - timedelta(hours=1)).isoformat()
    edit_ledger(tmp_path, lost["order_id"], hidden=None, time=early)
    # ... beside somebody's manual order of another size
    add_to_ledger(
        tmp_path,
        {
            "order_id": "M1",
            "emiten": "BBCA",
            "side": "buy",
            "price": 1000,
            "lot": 5,
            "filled": 0,
            "status": "OPEN",
            "time": early,
        },
    )
    done = robot(tmp_path, "resolve", "R1", "--not-placed", "--retry")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"the broker shows order {lost['order_id']} matching this task "
        f"(BBCA buy 1 lot @ 1000); use --placed {lost['order_id']}" in done.stderr
    )
    done = robot(tmp_path, "resolve", "R1", "--placed", "M1")
    assert done.returncode == 1 and "order M1 at the broker is BBCA buy 5 lot @ 1000" in done.stderr
    assert task_state(run) == "OUTCOME_UNKNOWN"

    done = robot(tmp_path, "resolve", "R1", "--placed", lost["order_id"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"done: order {lost['order_id']} (BBCA buy 1 lot @ 1000, OPEN)")
    assert task_state(run) == "OPEN"
    (row,) = run.rows("SELECT * FROM orders WHERE task_id = 'R1'")
    assert row["status"] == "OPEN" and row["broker_order_id"] == lost["order_id"]

    # adopted, it is watched like any order: its fill, then the broker's own take-profit sell
    edit_ledger(tmp_path, lost["order_id"], status="MATCHED", filled=1)
    wait_task(run, "FILLED")
    add_to_ledger(
        tmp_path,
        {
            "order_id": "1100",
            "emiten": "BBCA",
            "side": "sell",
            "price": 1100,
            "lot": 1,
            "filled": 1,
            "status": "MATCHED",
            "time": intent,
        },
    )
    wait_task(run, "TP_HIT")

    assert len(robot_buys(tmp_path)) == 1  # the robot placed one order, ever
    (resolved,) = run.events("TASK_RESOLVED")
    payload = json.loads(resolved["payload"])
    assert payload["who"] == getpass.getuser() and payload["action"] == "placed"
    assert payload["order_id"] == lost["order_id"] and payload["requested_at"].endswith("+07:00")
    submitted = [json.loads(e["payload"]) for e in run.events("ORDER_SUBMITTED")]
    assert [s["adopted"] for s in submitted] == [True]
    statuses = [(r["action"], r["status"]) for r in requests(run)]
    assert statuses == [
        ("placed", "refused"),
        ("retry", "refused"),
        ("placed", "refused"),
        ("placed", "done"),
    ]

    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(60)[0] == 0
    report = robot(tmp_path, "report", "--json", "--date", "2026-11-25")
    actions = json.loads(report.stdout)["operator_actions"]
    assert [(a["action"], a["status"]) for a in actions] == statuses
    assert actions[-1]["who"] == getpass.getuser() and actions[-1]["order_id"] == "1000"
    assert "Operator actions:" in robot(tmp_path, "report", "--date", "2026-11-25").stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a POSIX FIFO")
def test_a_request_waits_for_a_restarted_worker_and_a_late_order_is_adopted_not_doubled(
    tmp_path, runs, monkeypatch
):
    """The account goes FATAL with a task in OUTCOME_UNKNOWN; `--not-placed --retry` waits
    (exit 3) until `robot restart` brings its worker back, which checks the broker and applies
    it. The lost order then shows up late, while the retry is due: the worker adopts it and
    places no second one. The worker is held right before its look at the broker (a FIFO: no
    race) while the order shows up."""
    fifo, reached = tmp_path / "hold.fifo", tmp_path / "hold-reached"
    os.mkfifo(fifo)
    monkeypatch.setenv("ROBOT_FAULT_POINT", "before_late_check")
    monkeypatch.setenv("ROBOT_FAULT_ONCE", str(reached))
    monkeypatch.setenv("ROBOT_FAULT_HOLD", str(fifo))
    run = start_day(
        tmp_path,
        runs,
        restart={
            "backoff_initial_s": 0.1,
            "backoff_max_s": 1,
            "min_uptime_s": 60,
            "flap_max": 1,
            "flap_window_s": 600,
        },
    )
    wait_task(run, "OUTCOME_UNKNOWN")
    (lost,) = robot_buys(tmp_path)
    behave(tmp_path, "A1", crash_on_start=True)
    os.kill(run.worker("A1")["pid"], signal.SIGKILL)
    run.wait_state("A1", "FATAL")

    done = robot(tmp_path, "resolve", "R1", "--not-placed", "--retry", "--wait", "1")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "pending (request #1)" in done.stdout and "A1's worker is FATAL" in done.stdout
    assert "`robot restart` re-enables" in done.stdout
    assert [r["status"] for r in requests(run)] == ["pending"]
    assert task_state(run) == "OUTCOME_UNKNOWN"

    behave(tmp_path, "A1")
    done = robot(tmp_path, "restart", "A1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("done: A1 re-enabled (was FATAL: ")
    wait_for(lambda: [r["status"] for r in requests(run)] == ["done", "done"], 60, "both applied")
    assert task_state(run) == "PENDING"  # nothing at the broker when the worker looked

    wait_for(reached.exists, 60, "the retry's look at the broker")
    edit_ledger(tmp_path, lost["order_id"], hidden=None)  # the first order shows up, late
    fd = os.open(fifo, os.O_WRONLY)  # let the worker look
    os.close(fd)
    wait_task(run, "OPEN")

    assert len(robot_buys(tmp_path)) == 1, ledger(tmp_path)  # adopted, never placed twice
    rows = run.rows("SELECT status, click_at, broker_order_id FROM orders ORDER BY id")
    assert [(r["status"], r["broker_order_id"]) for r in rows] == [
        ("NOT_SENT", None),
        ("OPEN", lost["order_id"]),
    ]
    assert rows[1]["click_at"] is None  # adopted with no click
    (enabled,) = run.events("ACCOUNT_REENABLED")
    assert json.loads(enabled["payload"])["who"] == getpass.getuser()
    (resolved,) = run.events("TASK_RESOLVED")
    assert json.loads(resolved["payload"])["action"] == "retry"
    assert run.worker("A1")["restarts"] >= 1
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(60)[0] == 0


def test_a_request_made_while_the_worker_restarts_is_applied_by_the_next_one(tmp_path, runs):
    """The worker crashes and is restarted again and again (its browser will not start) while
    the person resolves: the request waits (exit 3), and the first worker that trades again
    checks it against the broker and applies it."""
    run = start_day(
        tmp_path,
        runs,
        restart={
            "backoff_initial_s": 0.2,
            "backoff_max_s": 1,
            "min_uptime_s": 60,
            "flap_max": 50,
            "flap_window_s": 600,
        },
    )
    wait_task(run, "OUTCOME_UNKNOWN")
    (lost,) = robot_buys(tmp_path)
    intent = run.rows("SELECT intent_at FROM orders WHERE task_id = 'R1'")[0]["intent_at"]
    early = (datetime.fromisoformat(intent) - timedelta(hours=1)).isoformat()
    edit_ledger(tmp_path, lost["order_id"], hidden=None, time=early)  # listed, not matchable
    behave(tmp_path, "A1", crash_on_start=True)
    os.kill(run.worker("A1")["pid"], signal.SIGKILL)
    wait_for(lambda: run.events("WORKER_RESTARTED"), 60, "the worker restarting")

    done = robot(tmp_path, "resolve", "R1", "--placed", lost["order_id"], "--wait", "1")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "A1's worker is" in done.stdout and "when it trades again" in done.stdout
    assert task_state(run) == "OUTCOME_UNKNOWN"

    behave(tmp_path, "A1")  # the browser starts again
    wait_task(run, "OPEN")
    (req,) = requests(run)
    assert req["status"] == "done" and req["decided_by"].startswith("worker ")
    assert len(robot_buys(tmp_path)) == 1
    (row,) = run.rows("SELECT * FROM orders WHERE task_id = 'R1'")
    assert row["broker_order_id"] == lost["order_id"] and row["status"] == "OPEN"
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(60)[0] == 0


def test_after_the_close_a_request_is_still_checked_against_the_broker(tmp_path, runs):
    """The day's settling leaves the task OUTCOME_UNKNOWN; the worker, idle with its browser
    until the end of the hours, still checks a request against the broker's history. A retry
    is refused: no order can be placed any more."""
    run = start_day(tmp_path, runs, eod_report_time="09:10")
    wait_task(run, "OUTCOME_UNKNOWN")
    wait_for(
        lambda: run.rows(
            "SELECT 1 FROM worker_transitions WHERE account = 'A1' AND from_state = 'EOD_REPORT'"
        ),
        60,
        "the day settled",
    )
    assert task_state(run) == "OUTCOME_UNKNOWN"
    (lost,) = robot_buys(tmp_path)
    edit_ledger(tmp_path, lost["order_id"], hidden=None, status="EXPIRED")  # found, expired

    done = robot(tmp_path, "resolve", "R1", "--not-placed", "--retry")
    assert done.returncode == 1 and "the day's trading is over" in done.stderr, done.stderr
    done = robot(tmp_path, "resolve", "R1", "--placed", lost["order_id"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert task_state(run) == "EXPIRED_UNMATCHED"
    assert len(robot_buys(tmp_path)) == 1
    run.proc.send_signal(signal.SIGTERM)
    assert run.finish(60)[0] == 0


def seed_unknown(root: Path, task_id: str) -> None:
    """A task in OUTCOME_UNKNOWN, as a day that ended with it leaves state.db."""
    at = datetime(2026, 11, 25, 9, 5, tzinfo=WIB)
    store = Store(root / "state.db")
    try:
        store.insert_task(
            {
                "task_id": task_id,
                "account": "A1",
                "trading_date": "2026-11-25",
                "emiten": "BBRI",
                "side": "buy",
                "price": 4000,
                "lot": 2,
                "source": "file:tasks.json",
                "payload": "{}",
                "payload_hash": task_id,
                "state": "PENDING",
                "created": at.isoformat(),
                "updated": at.isoformat(),
            }
        )
        order_id, _ = store.insert_intent(
            task_id, "A1", "entry", "buy", "BBRI", 4000, 2, None, None, at, False
        )
        store.move_task(task_id, TaskState.SUBMITTING, at)
        store.mark_clicked(order_id, at)
        store.mark_unknown(order_id, "clicked, but not found at the broker")
        store.move_task(task_id, TaskState.OUTCOME_UNKNOWN, at)
    finally:
        store.close()


def test_without_a_supervisor_requests_wait_and_force_records_not_placed(tmp_path):
    write_config(tmp_path, ["A1"])
    seed_unknown(tmp_path, "U1")
    seed_unknown(tmp_path, "U2")
    db = tmp_path / "state.db"

    done = robot(tmp_path, "resolve", "U1", "--not-placed", "--retry", "--force")
    assert done.returncode == 2 and "--force goes with --not-placed only" in done.stderr
    done = robot(tmp_path, "resolve", "U2", "--placed", "77", "--wait", "0")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "no supervisor is running" in done.stdout and "after reading the broker" in done.stdout
    done = robot(tmp_path, "resolve", "U2", "--not-placed")
    assert done.returncode == 2 and "request #1 (placed" in done.stderr  # one at a time

    done = robot(tmp_path, "resolve", "U1", "--not-placed", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "without reading the broker" in done.stdout
    store = Store(db, readonly=True)
    try:
        task = store.task("U1") or {}
        assert task["state"] == "FAILED" and "not placed" in task["reason"]
        assert [o["status"] for o in store.orders_of("U1")] == ["NOT_SENT"]
        types = [e["type"] for e in store.query("SELECT type FROM events ORDER BY seq")]
        assert types == ["TASK_RESOLVED", "TASK_FAILED"]
        assert [(r["task_id"], r["status"]) for r in store.requests_on("2026-11-25")] == [
            ("U2", "pending"),
            ("U1", "done"),
        ]
    finally:
        store.close()
    done = robot(tmp_path, "resolve", "U1", "--not-placed")
    assert done.returncode == 2 and "task U1 is FAILED, not OUTCOME_UNKNOWN" in done.stderr
    assert check_db(db) == {"TASK_RESOLVED", "TASK_FAILED"}  # each matches its schema


def test_a_version_3_state_db_migrates_to_4_with_an_empty_requests_table(tmp_path):
    import sqlite3

    from robot.store import MIGRATIONS, _split_sql

    raw = sqlite3.connect(tmp_path / "state.db")
    for script in MIGRATIONS[:3]:
        for statement in _split_sql(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 3")
    raw.commit()
    raw.close()
    store = Store(tmp_path / "state.db")
    try:
        assert store.version == 4
        assert store.requests_on("2026-11-25") == []
        with pytest.raises(ValueError, match="unknown account 'A1'"):
            request_restart(store, "A1", who="ops")
    finally:
        store.close()
