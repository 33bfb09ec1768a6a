"""Worker lifecycle states and the pure decisions around them (no I/O).

INIT -> IDLE -> SETUP -> CHECK_SESSION -> READY | WAIT_LOGIN -> PULL_TASKS -> TRADING -> EOD_REPORT
-> IDLE, exactly as the design card has it; the supervisor adds STOPPED (a deliberate stop) and
FATAL (given up on for the day) to what it records. A worker refuses any move ALLOWED does not
list (check_move raises IllegalMove): a wrong move is a bug to see in the tests, not a log line.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time

from .clock import WIB
from .errors import IllegalMove


class WorkerState(enum.StrEnum):
    INIT = "INIT"
    IDLE = "IDLE"
    SETUP = "SETUP"
    CHECK_SESSION = "CHECK_SESSION"
    READY = "READY"
    WAIT_LOGIN = "WAIT_LOGIN"
    PULL_TASKS = "PULL_TASKS"
    TRADING = "TRADING"
    EOD_REPORT = "EOD_REPORT"
    STOPPED = "STOPPED"
    FATAL = "FATAL"


ALLOWED = {
    None: {WorkerState.INIT},
    WorkerState.INIT: {WorkerState.IDLE, WorkerState.SETUP, WorkerState.STOPPED},
    WorkerState.IDLE: {WorkerState.SETUP, WorkerState.STOPPED, WorkerState.EOD_REPORT},
    # SETUP -> EOD_REPORT: no browser could be started before the end of the day (its Grid node
    # stayed down); the day is settled from the state store
    WorkerState.SETUP: {WorkerState.CHECK_SESSION, WorkerState.EOD_REPORT, WorkerState.STOPPED},
    # CHECK_SESSION -> EOD_REPORT: the broker's site did not answer until the end of the day;
    # CHECK_SESSION -> CHECK_SESSION: the browser died during a check of a lost session, was
    # relaunched in place, and the next poll checks again
    WorkerState.CHECK_SESSION: {
        WorkerState.READY,
        WorkerState.WAIT_LOGIN,
        WorkerState.EOD_REPORT,
        WorkerState.CHECK_SESSION,
        WorkerState.STOPPED,
    },
    # WAIT_LOGIN -> CHECK_SESSION: the browser died while waiting and the check starts again
    WorkerState.WAIT_LOGIN: {
        WorkerState.READY,
        WorkerState.CHECK_SESSION,
        WorkerState.EOD_REPORT,
        WorkerState.STOPPED,
    },
    WorkerState.READY: {WorkerState.PULL_TASKS, WorkerState.EOD_REPORT, WorkerState.STOPPED},
    WorkerState.PULL_TASKS: {WorkerState.TRADING, WorkerState.EOD_REPORT, WorkerState.STOPPED},
    WorkerState.TRADING: {WorkerState.EOD_REPORT, WorkerState.CHECK_SESSION, WorkerState.STOPPED},
    WorkerState.EOD_REPORT: {WorkerState.IDLE, WorkerState.STOPPED},
    WorkerState.STOPPED: {WorkerState.INIT},
    WorkerState.FATAL: {WorkerState.INIT},
}


def can_move(frm: WorkerState | None, to: WorkerState) -> bool:
    """Whether a transition is part of the lifecycle (a fresh process may always start at INIT)."""
    return to == WorkerState.INIT or to in ALLOWED.get(frm, set())


def check_move(account: str, frm: WorkerState | None, to: WorkerState) -> None:
    if not can_move(frm, to):
        raise IllegalMove(
            f"worker {account}: {frm.value if frm else None} -> {to.value} is not a lifecycle move"
        )


@dataclass(frozen=True)
class DaySchedule:
    """The robot's schedule for one trading day, in WIB."""

    day: date
    start: datetime  # 08:45 setup and login check
    eod: datetime  # 16:00 end-of-day report
    end: datetime  # 16:15 done

    @classmethod
    def for_day(cls, day: date, start: time, eod: time, end: time) -> DaySchedule:
        def at(t: time) -> datetime:
            return datetime.combine(day, t, WIB)

        return cls(day, at(start), at(eod), at(end))

    def stage(self, now: datetime) -> str:
        """before | trading | eod | after: where a (re)started worker must resume."""
        if now < self.start:
            return "before"
        if now < self.eod:
            return "trading"
        if now < self.end:
            return "eod"
        return "after"


@dataclass
class RestartTracker:
    """Capped exponential backoff and flapping detection for one account (pure: times are given).

    Every unexpected exit counts; one within ``flap_window_s`` of ``flap_max`` others makes the
    account FATAL for the day. A worker that had stayed up ``min_uptime_s`` is restarted at once;
    the backoff then doubles per consecutive quick failure. A deliberate stop is never recorded
    here.
    """

    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    flap_max: int = 5
    flap_window_s: float = 600.0
    min_uptime_s: float = 10.0
    failures: list[float] = field(default_factory=list)
    consecutive: int = 0

    def on_exit(self, now: float, uptime_s: float) -> float | None:
        """Record an unexpected exit; returns the delay before restarting, or None for FATAL."""
        self.failures = [t for t in self.failures if now - t < self.flap_window_s] + [now]
        if len(self.failures) > self.flap_max:
            return None
        if uptime_s >= self.min_uptime_s:
            # it ran well and died once: back at once, its orders are unwatched meanwhile
            # (bench/recovery.py); a repeat within min_uptime_s starts the doubling
            self.consecutive = 0
            return 0.0
        self.consecutive += 1
        return min(self.backoff_initial_s * 2 ** (self.consecutive - 1), self.backoff_max_s)
