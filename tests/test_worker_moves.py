"""The worker lifecycle table against every path a worker takes (robot/worker.py), and a worker
refusing a move the table does not list. The paths themselves run for real in test_supervisor.py
and test_engine_e2e.py (real processes), where an unlisted move now fails the worker."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime
from itertools import pairwise

import pytest

from robot.clock import WIB
from robot.config import load_config
from robot.errors import IllegalMove
from robot.lifecycle import WorkerState as S, can_move, check_move
from robot.store import Store

PATHS = {
    "a whole day": [
        None,
        S.INIT,
        S.IDLE,
        S.SETUP,
        S.CHECK_SESSION,
        S.READY,
        S.PULL_TASKS,
        S.TRADING,
        S.EOD_REPORT,
        S.IDLE,
        S.STOPPED,
    ],
    "restarted mid-day": [None, S.INIT, S.SETUP, S.CHECK_SESSION, S.READY, S.PULL_TASKS, S.TRADING],
    "restarted during the close": [
        None,
        S.INIT,
        S.SETUP,
        S.CHECK_SESSION,
        S.READY,
        S.EOD_REPORT,
        S.IDLE,
    ],
    "restarted after its day was settled": [None, S.INIT, S.IDLE],
    "a login by hand": [S.SETUP, S.CHECK_SESSION, S.WAIT_LOGIN, S.READY, S.PULL_TASKS, S.TRADING],
    "nobody logged in": [S.CHECK_SESSION, S.WAIT_LOGIN, S.EOD_REPORT],
    "the session lost while trading": [
        S.TRADING,
        S.CHECK_SESSION,
        S.READY,
        S.PULL_TASKS,
        S.TRADING,
    ],
    "the browser died while waiting for a login": [
        S.TRADING,
        S.CHECK_SESSION,
        S.WAIT_LOGIN,
        S.CHECK_SESSION,
        S.READY,
    ],
    "the browser died during the check": [S.TRADING, S.CHECK_SESSION, S.CHECK_SESSION, S.READY],
    "the broker never answered": [S.SETUP, S.CHECK_SESSION, S.EOD_REPORT, S.IDLE],
    "the Grid node stayed down": [S.INIT, S.SETUP, S.EOD_REPORT, S.IDLE],
    "the browser lost at the close": [S.TRADING, S.EOD_REPORT, S.IDLE],
}
# a stop request can come in any state a worker process is in
WORKER_STATES = [s for s in S if s not in (S.STOPPED, S.FATAL)]


@pytest.mark.parametrize("name", PATHS)
def test_every_path_a_worker_takes_is_allowed(name):
    path = PATHS[name]
    for frm, to in pairwise(path):
        check_move("ACC", frm, to)


@pytest.mark.parametrize("state", WORKER_STATES, ids=lambda s: s.value)
def test_a_stop_is_allowed_from_any_state_a_worker_is_in(state):
    assert can_move(state, S.STOPPED)


@pytest.mark.parametrize(
    "frm, to",
    [
        (S.IDLE, S.TRADING),
        (S.SETUP, S.TRADING),
        (S.READY, S.IDLE),
        (S.TRADING, S.READY),
        (S.EOD_REPORT, S.TRADING),
        (S.STOPPED, S.TRADING),
        (None, S.TRADING),
        (S.TRADING, S.TRADING),
    ],
)
def test_moves_outside_the_lifecycle_are_refused(frm, to):
    with pytest.raises(
        IllegalMove, match=f"worker ACC: {frm.value if frm else None} -> {to.value}"
    ):
        check_move("ACC", frm, to)


class StillClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime(2026, 11, 25, 10, 30, tzinfo=WIB)

    def spec(self) -> str:
        return "real"


def test_a_worker_refuses_a_move_outside_the_lifecycle_and_records_nothing(tmp_path):
    from robot.worker import Worker

    (tmp_path / "fake.json").write_text("{}")
    (tmp_path / "accounts.yaml").write_text(
        json.dumps(
            {
                "settings": {"operating_hours": {"start": "08:45", "end": "16:15"}},
                "brokers": {
                    "fake": {
                        "adapter": "fake",
                        "selectors": "fake.json",
                        "base_url": "http://127.0.0.1:9",
                    }
                },
                "accounts": [
                    {"id": "W1", "broker": "fake", "profile_path": "profiles/W1", "enabled": True}
                ],
            }
        )
    )
    cfg = load_config(tmp_path / "accounts.yaml")
    store = Store(cfg.settings.state_db)
    run_id = store.start_run(StillClock().now().date(), StillClock().now(), 1, "h", "c", "real")
    store.close()
    ctl_recv, ctl_send = multiprocessing.Pipe(duplex=False)
    hb_recv, hb_send = multiprocessing.Pipe(duplex=False)
    worker = Worker(
        cfg, cfg.account("W1"), StillClock(), StillClock().now().date(), run_id, ctl_recv, hb_send
    )
    try:
        worker.enter(S.INIT, "started")
        with pytest.raises(IllegalMove, match="worker W1: INIT -> TRADING"):
            worker.enter(S.TRADING, "a bug")
        assert worker.state == S.INIT
        assert worker.store.worker("W1")["state"] == "INIT"
        assert [
            r["to_state"]
            for r in worker.store.query("SELECT to_state FROM worker_transitions ORDER BY id")
        ] == ["INIT"]
        worker.enter(S.SETUP, "starting the browser")
        assert worker.store.worker("W1")["state"] == "SETUP"
    finally:
        ctl_send.close()
        for conn in (ctl_recv, hb_recv, hb_send):
            conn.close()
        worker.store.close()
