"""`robot resolve` end to end: simulator + supervisor + worker + real headless Chromium.

A task the robot left in OUTCOME_UNKNOWN (seeded in state.db as a day that ended with it would
leave it) whose order the broker lists under a time the robot's matcher cannot accept: only a
person can say that it is this task's order. The worker checks what the person says against the
broker's pages, read through Chromium, then follows the adopted order to its fill and the broker's
own take-profit. The simulator's ledger is the truth: one buy order, never two.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from e2e import PASSWORD, SimDay
from robot.orders import TaskState
from robot.store import Store
from simulator.ledger import ledger_outcome
from simulator.skins import SKINS
from waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ACCOUNT = "ACC_STOCKBIT"
SCENARIO = {
    "name": "resolve",
    "description": "one account, no task served: the person's order fills at 09:00, TP at 10:00",
    "seed": 7,
    "accounts": {ACCOUNT: {"broker": "stockbit"}},
    "emitens": {
        "BBCA": {"prev_close": 9800, "path": [["08:45", 9800], ["09:00", 9750], ["10:00", 9900]]}
    },
    "tasks": [],
}


def place_by_hand(day: SimDay) -> dict:
    """The order as a person (or the robot's lost click) entered it on the broker's web page."""
    spec = SKINS["stockbit"]
    http = day.sim.app.test_client()
    user_field, pass_field = spec.login_fields
    http.post(spec.path("login"), data={user_field: ACCOUNT, pass_field: PASSWORD})
    f = spec.fields
    data = {f["stock"]: "BBCA", f["price"]: "9750", f["lot"]: "3"}
    if "tp" in f:
        data |= {f["tp"]: "9900", f["cl"]: "9600"}
        if "auto" in f:
            data[f["auto"]] = "on"
    if "confirmed" in f:
        data[f["confirmed"]] = "1"
    http.post(spec.path("order"), data=data, follow_redirects=True)
    (entry,) = day.entries(ACCOUNT, "BBCA")
    return entry


def seed_unknown(day: SimDay, intent_at: datetime) -> None:
    store = Store(day.root / "state.db")
    try:
        store.insert_task(
            {
                "task_id": "K1",
                "account": ACCOUNT,
                "trading_date": day.day.isoformat(),
                "emiten": "BBCA",
                "side": "buy",
                "price": 9750,
                "lot": 3,
                "tp": 9900,
                "cl": 9600,
                "source": "file:tasks.json",
                "payload": "{}",
                "payload_hash": "K1",
                "state": "PENDING",
                "created": intent_at.isoformat(),
                "updated": intent_at.isoformat(),
            }
        )
        order_id, _ = store.insert_intent(
            "K1", ACCOUNT, "entry", "buy", "BBCA", 9750, 3, 9900, 9600, intent_at, False
        )
        store.move_task("K1", TaskState.SUBMITTING, intent_at)
        store.mark_clicked(order_id, intent_at)
        store.mark_unknown(order_id, "clicked, but not found at the broker after a second read")
        store.move_task("K1", TaskState.OUTCOME_UNKNOWN, intent_at)
    finally:
        store.close()


def robot(day: SimDay, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "robot", *args, "--config", str(day.config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=day.root,
        env=day.robot_env(),
    )


def test_a_person_resolves_an_unknown_outcome_and_the_robot_follows_the_order(tmp_path):
    day = SimDay(
        tmp_path,
        scenario=SCENARIO,
        speed=30,  # 08:55-10:20 in about three minutes: room for a slow Chromium start
        start="08:55",
        accounts=[(ACCOUNT, "stockbit")],
        settings={
            "operating_hours": {"start": "08:45", "end": "10:20"},
            "eod_report_time": "10:15",
        },
    )
    try:
        entry = place_by_hand(day)
        # the robot's intent is recorded ten minutes after the broker's time for the order (a
        # broker clock that is off): its matcher never takes an order entered before an intent
        seed_unknown(day, day.clock.now() + timedelta(minutes=10))
        day.start_robot()
        wait_for(
            lambda: day.rows("SELECT 1 FROM workers WHERE state = 'TRADING'"),
            300,
            "the worker trading",
        )
        oid = entry["order_id"]
        done = robot(day, "resolve", "K1", "--not-placed", "--wait", "240")
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"the broker shows order {oid} matching this task" in done.stderr
        assert day.tasks()["K1"]["state"] == "OUTCOME_UNKNOWN"

        done = robot(day, "resolve", "K1", "--placed", oid, "--wait", "240")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"order {oid} (BBCA buy 3 lot @ 9750" in done.stdout

        code, out = day.finish()
        assert code == 0, out[-3000:]
        (buy,) = day.entries(ACCOUNT, "BBCA")  # one order at the broker, ever
        task = day.tasks()["K1"]
        assert task["state"] == "TP_HIT" == ledger_outcome(buy, day.ledger()), task
        report = json.loads(
            robot(day, "report", "--json", "--date", day.day.isoformat()).stdout or "{}"
        )
        actions = [(a["action"], a["status"]) for a in report["operator_actions"]]
        assert actions == [("not_placed", "refused"), ("placed", "done")]
        (resolved,) = day.rows("SELECT payload FROM events WHERE type = 'TASK_RESOLVED'")
        assert json.loads(resolved["payload"])["order_id"] == oid
    finally:
        day.stop()
