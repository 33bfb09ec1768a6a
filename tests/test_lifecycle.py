"""Pure lifecycle rules: the day's stages, allowed transitions, backoff and flapping."""

from datetime import date, datetime, time

import pytest

from robot.clock import WIB
from robot.lifecycle import DaySchedule, RestartTracker, WorkerState as S, can_move

DAY = date(2026, 11, 25)
SCHED = DaySchedule.for_day(DAY, time(8, 45), time(16, 0), time(16, 15))


@pytest.mark.parametrize(
    "hhmm, stage",
    [
        ((8, 44, 59), "before"),
        ((8, 45, 0), "trading"),
        ((10, 30, 0), "trading"),
        ((15, 59, 59), "trading"),
        ((16, 0, 0), "eod"),
        ((16, 14, 59), "eod"),
        ((16, 15, 0), "after"),
    ],
)
def test_stage_for_a_restart_time(hhmm, stage):
    assert SCHED.stage(datetime(2026, 11, 25, *hhmm, tzinfo=WIB)) == stage


def test_the_design_cards_path_is_allowed():
    path = [
        S.INIT,
        S.IDLE,
        S.SETUP,
        S.CHECK_SESSION,
        S.WAIT_LOGIN,
        S.READY,
        S.PULL_TASKS,
        S.TRADING,
        S.EOD_REPORT,
        S.IDLE,
        S.STOPPED,
    ]
    prev = None
    for state in path:
        assert can_move(prev, state), (prev, state)
        prev = state


def test_illegal_transitions():
    assert not can_move(S.IDLE, S.TRADING)
    assert not can_move(S.SETUP, S.TRADING)
    assert not can_move(S.READY, S.IDLE)
    assert can_move(S.TRADING, S.INIT)  # a fresh process always starts at INIT


def test_backoff_doubles_and_caps():
    t = RestartTracker(
        backoff_initial_s=1, backoff_max_s=60, flap_max=100, flap_window_s=600, min_uptime_s=10
    )
    delays = [t.on_exit(now=i, uptime_s=0.5) for i in range(9)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_backoff_resets_after_a_stable_run():
    t = RestartTracker(backoff_initial_s=1, backoff_max_s=60, flap_max=100, min_uptime_s=10)
    assert t.on_exit(0, 0.1) == 1
    assert t.on_exit(1, 0.1) == 2
    assert t.on_exit(100, 50) == 0  # it had run well: restarted at once
    assert t.on_exit(101, 0.1) == 1  # a quick failure after that: the doubling again


def test_flapping_is_fatal_within_the_window_only():
    t = RestartTracker(flap_max=5, flap_window_s=600)
    assert all(t.on_exit(i * 10, 1) is not None for i in range(5))
    assert t.on_exit(60, 1) is None  # the sixth failure within ten minutes


def test_slow_crash_loop_is_caught_over_minutes():
    # a browser dying 20 s after each launch: a 1-second window (circus) would never notice
    t = RestartTracker(flap_max=5, flap_window_s=600, min_uptime_s=10)
    now, results = 0.0, []
    for _ in range(6):
        now += 20
        results.append(t.on_exit(now, 20))
    assert results[-1] is None and all(r is not None for r in results[:-1])


def test_failures_outside_the_window_are_forgotten():
    t = RestartTracker(flap_max=2, flap_window_s=100)
    assert t.on_exit(0, 1) is not None
    assert t.on_exit(50, 1) is not None
    assert t.on_exit(160, 1) is not None  # the first two are older than the window


def test_the_poll_after_order_entry_opens_comes_at_once():
    from datetime import datetime, timedelta

    from robot.clock import WIB
    from robot.worker import PHASE_WAKE_MARGIN_S, next_poll_at

    def at(hms: str) -> datetime:
        return datetime.combine(
            datetime(2026, 3, 2).date(), datetime.strptime(hms, "%H:%M:%S").time(), WIB
        )

    eod = at("16:00:00")
    margin = timedelta(seconds=PHASE_WAKE_MARGIN_S)
    assert next_poll_at(at("08:59:59"), 2.0, eod) == at("09:00:00") + margin  # the open
    assert next_poll_at(at("13:29:59"), 2.0, eod) == at("13:30:00") + margin  # after lunch
    assert next_poll_at(at("08:59:57"), 2.0, eod) == at("08:59:59")  # interval first
    assert next_poll_at(at("10:00:00"), 2.0, eod) == at("10:00:02")  # in session
    assert next_poll_at(at("11:59:59"), 2.0, eod) == at("12:00:01")  # no entry at lunch
    assert next_poll_at(at("15:59:59"), 2.0, eod) == eod  # never past EOD
