"""Faults of the browser's processes during a real day: simulator + supervisor + worker + Chromium
with undetected-chromedriver (the default driver), the ledger as ground truth.

- chromedriver SIGKILLed while the account trades: the worker relaunches its browser in place
  (no worker crash, nothing counted toward FATAL), reconciles, and the task ends as the ledger
  says, with exactly one order;
- a worker SIGKILLed after it imported undetected-chromedriver: the supervisor exits without
  multiprocessing's "leaked semaphore" warning.
"""

from __future__ import annotations

import json

import psutil
import pytest
import yaml

from e2e import SimDay
from robot import proctree
from simulator.ledger import ledger_outcome
from test_engine_e2e import FAULT_SCENARIO
from waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

ACC = "ACC_STOCKBIT"
SETTINGS = {
    "operating_hours": {"start": "08:45", "end": "10:20"},
    "eod_report_time": "10:15",
    "reconcile_grace_s": 30,
}


@pytest.fixture
def day(tmp_path):
    made: list[SimDay] = []

    def make(**env) -> SimDay:
        scenario = tmp_path / "one-order.yaml"
        scenario.write_text(yaml.safe_dump(FAULT_SCENARIO))
        d = SimDay(
            tmp_path,
            scenario=str(scenario),
            speed=150,
            start="08:55",
            accounts=[(ACC, "stockbit")],
            driver="uc",
            settings=SETTINGS,
            env=env,
        )
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


def check_one_order(d: SimDay) -> None:
    buys = d.entries(ACC, "BBCA")
    assert len(buys) == 1, buys  # exactly once, from the ledger
    task = d.tasks()["K1"]
    assert task["state"] == "TP_HIT" == ledger_outcome(buys[0], d.ledger()), task
    assert not d.rows("SELECT * FROM orders WHERE status IN ('INTENT', 'CLICKED', 'UNKNOWN')")


def test_a_chromedriver_killed_while_trading_is_relaunched_in_place(day):
    d = day()
    d.start_robot()
    wait_for(
        lambda: d.rows("SELECT 1 FROM tasks WHERE task_id = 'K1' AND state IN ('OPEN', 'FILLED')"),
        300,
        "K1 at the broker",
    )
    worker = d.rows("SELECT pid, child_pids FROM workers WHERE account = ?", (ACC,))[0]
    driver = psutil.Process(json.loads(worker["child_pids"])[0])
    assert "chromedriver" in driver.name(), driver.name()
    driver.kill()  # the worker's next command fails
    relaunched = wait_for(
        lambda: (
            (r := d.rows("SELECT child_pids FROM workers WHERE account = ?", (ACC,)))
            and r[0]["child_pids"] != worker["child_pids"]
            and r[0]
        ),
        300,
        "the browser relaunched with a new chromedriver",
    )
    assert driver.pid not in json.loads(relaunched["child_pids"])
    code, out = d.finish()
    assert code == 0, out[-3000:]
    assert d.rows("SELECT * FROM events WHERE type = 'WORKER_CRASHED'") == []
    assert d.rows("SELECT restarts FROM workers WHERE account = ?", (ACC,))[0]["restarts"] == 0
    pids = {
        r["pid"] for r in d.rows("SELECT pid FROM worker_transitions WHERE account = ?", (ACC,))
    }
    assert pids == {worker["pid"]}  # the same worker all day
    log = (d.root / "logs" / f"{ACC}.log").read_text()
    assert "relaunching (1 in a row)" in log and "ERROR robot.worker BrowserCrashed: " in log
    check_one_order(d)
    assert proctree.profile_processes(d.root / "profiles" / ACC) == []


def test_a_killed_uc_worker_leaves_no_leaked_semaphore_at_the_supervisors_exit(day, tmp_path):
    marker = tmp_path / "fault-fired"
    d = day(ROBOT_FAULT_POINT="after_readback", ROBOT_FAULT_ONCE=str(marker))
    d.start_robot()
    code, out = d.finish()
    assert code == 0, out[-3000:]
    assert marker.exists(), "the worker was never killed"
    assert len(d.rows("SELECT * FROM events WHERE type = 'WORKER_CRASHED'")) == 1
    assert "leaked" not in out, out[-3000:]
    check_one_order(d)
