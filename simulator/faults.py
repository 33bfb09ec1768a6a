"""Fault lookups: which scripted or injected fault applies to a request, order or minute.

Scenario faults use simulated-time windows (HH:MM, every day); faults injected at runtime may be
pinned to one day. Task-server faults injected by tests use wall-clock durations and/or a request
count instead, since a test's manual clock does not move on its own.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from datetime import datetime

from .scenario import Fault


@dataclass
class TaskFaultInjection:
    fault: str  # http_500 | slow | malformed
    endpoint: str  # tasks | events | all
    until_wall: float | None  # time.monotonic() deadline; None: until the count runs out
    remaining: int | None  # requests left to hit; None: unlimited within the window
    seconds: float  # delay for "slow"

    def live(self, now_wall: float) -> bool:
        if self.until_wall is not None and now_wall >= self.until_wall:
            return False
        return self.remaining is None or self.remaining > 0


class Faults:
    """All faults of a running server. Guarded by the server's lock."""

    def __init__(self, faults: tuple[Fault, ...] = ()) -> None:
        self.scripted: list[Fault] = list(faults)
        self.runtime: list[Fault] = []
        self.task_injections: list[TaskFaultInjection] = []

    def all(self) -> list[Fault]:
        return self.scripted + self.runtime

    def of_kind(self, kind: str, dt: datetime) -> list[Fault]:
        return [f for f in self.all() if f.kind == kind and f.active(dt)]

    def clear_runtime(self) -> None:
        self.runtime.clear()
        self.task_injections.clear()

    # -- broker UI -----------------------------------------------------------------------------

    def latency(self, skin: str, account: str | None, dt: datetime) -> float:
        # A logged-out request has no account: only account-less windows slow it down.
        hits = [
            f.seconds or 0.0
            for f in self.of_kind("latency", dt)
            if f.skin in (None, skin) and f.account in (None, account)
        ]
        return max(hits, default=0.0)

    def page_error(self, skin: str, page: str, dt: datetime) -> bool:
        return any(
            f.skin in (None, skin) and f.page in (None, page) for f in self.of_kind("http_500", dt)
        )

    def session_expiries(self, skin: str, account: str) -> list[Fault]:
        return [
            f
            for f in self.all()
            if f.kind == "session_expiry" and f.matches(skin=skin, account=account)
        ]

    def submit_fault(
        self, skin: str, account: str, emiten: str, nth: int, dt: datetime
    ) -> Fault | None:
        """An error toast or forced rejection for the nth submit of (skin, account)."""
        for kind in ("error_toast", "reject"):
            for f in self.of_kind(kind, dt):
                if f.matches(skin, account, emiten or None) and f.nth in (None, nth):
                    return f
        return None

    # -- market --------------------------------------------------------------------------------

    def fill_cap(self, skin: str, account: str, emiten: str, dt: datetime) -> int | None:
        """Most lots an order entered now may fill (no_fill: 0), or None for no cap."""
        caps = [0 for f in self.of_kind("no_fill", dt) if f.matches(skin, account, emiten)]
        caps += [
            f.lots or 0
            for f in self.of_kind("partial_fill", dt)
            if f.matches(skin, account, emiten)
        ]
        return min(caps) if caps else None

    def forgets_exit(self, skin: str, account: str, emiten: str, dt: datetime) -> bool:
        """A native TP/CL that would trigger now silently places nothing (forget_native_exit)."""
        return any(f.matches(skin, account, emiten) for f in self.of_kind("forget_native_exit", dt))

    def price_override(self, emiten: str, dt: datetime) -> int | None:
        hits = [
            f.price
            for f in self.all()
            if f.kind in ("price", "tp_hit", "cl_hit") and f.emiten == emiten and f.active(dt)
        ]
        return hits[-1] if hits else None

    # -- task server ---------------------------------------------------------------------------

    def task_fault(self, endpoint: str, dt: datetime) -> tuple[str, float] | None:
        """(fault, seconds) to apply to this task-server request, consuming injected counts."""
        now_wall = _time.monotonic()
        self.task_injections = [i for i in self.task_injections if i.live(now_wall)]
        for inj in self.task_injections:
            if inj.endpoint in ("all", endpoint):
                if inj.remaining is not None:
                    inj.remaining -= 1
                return inj.fault, inj.seconds
        for f in self.of_kind("task_server", dt):
            if f.endpoint in ("all", endpoint):
                return f.fault or "http_500", f.seconds if f.seconds is not None else 5.0
        return None
