"""Everything a running simulator knows, behind one lock.

The HTTP layer (broker skins and task server) and the Python control API both go through this
object. Every access takes ``lock`` and first brings the market up to the clock (``sync``), so
results only depend on the clock. Wall-clock sleeps (UI latency, slow task server) happen outside
the lock.

Live pages long-poll here: ``wait_for_change`` holds a request, lock released, until the
account's orders version moves, the hold is over or the server stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from robot.clock import Clock, to_wib

from .faults import Faults
from .ledger import Ledger
from .market import Market
from .scenario import DEFAULT_PIN, Scenario
from .sessions import SessionStore
from .taskbook import EventLog, TaskBook

# A long poll answers "unchanged" after this long (wall seconds) or after this long on the
# simulator's clock, whichever is first: under an accelerated clock a page must still confirm
# that it is current often enough for a robot that measures its age on that clock.
LONG_POLL_WALL_S = 10.0
LONG_POLL_SIM_S = 15.0
# How often a held poll looks whether its client went away (a page that navigated elsewhere
# aborts its poll): the thread is let go within this long instead of at the end of the hold.
CLIENT_CHECK_S = 1.0

DEFAULT_PASSWORD = "demo"
DEFAULT_TOKEN = "sim-token"


class SimState:
    def __init__(
        self,
        clock: Clock,
        scenario: Scenario,
        token: str = DEFAULT_TOKEN,
        password: str | None = None,
        ui_latency: float | None = None,
    ) -> None:
        self.lock = threading.RLock()
        # Notified (lock held) on every change a live page could show, and when serving stops.
        self.changed = threading.Condition(self.lock)
        self.serving = 0  # bumped by SimServer.stop(): held long polls end at once
        self.polls_open = True  # False while stopped: a poll that slips in is not held
        self.held_polls = 0  # long polls waiting right now (tests look at it)
        self.long_poll_wall_s = LONG_POLL_WALL_S
        self.long_poll_sim_s = LONG_POLL_SIM_S
        self.clock = clock
        self.scenario = scenario
        self.token = token
        # Precedence: explicit server argument, then the scenario, then the default.
        self.password = password or scenario.password or DEFAULT_PASSWORD
        base_latency = ui_latency if ui_latency is not None else scenario.ui_latency
        self.latencies: dict[str | None, float] = {None: float(base_latency)}
        start = self.now()
        self.ledger = Ledger()
        self.faults = Faults(scenario.faults)
        self.market = Market(scenario, self.ledger, self.faults, start)
        self.market.on_change = self.changed.notify_all
        self.sessions = SessionStore()
        self.tasks = TaskBook(scenario.date or start.date())
        for task in scenario.tasks:
            self.tasks.add(task)
        self.events = EventLog()

    def now(self) -> datetime:
        return to_wib(self.clock.now())

    def sync(self) -> datetime:
        """Bring the market up to the clock; call with the lock held. Returns the time used."""
        now = self.now()
        self.market.advance(now)
        return now

    def pin_for(self, account: str) -> str:
        spec = self.scenario.accounts.get(account)
        return spec.pin if spec is not None else DEFAULT_PIN

    def latency(self, skin: str, account: str | None, now: datetime) -> float:
        base = self.latencies.get(skin, self.latencies[None])
        return max(base, self.faults.latency(skin, account, now))

    def version(self, skin: str, account: str, page: str) -> int:
        """What a live page's long poll compares (lock held). The portfolio's last prices move
        with the market minute: its version adds the minute to the orders version, so it
        changes when either does."""
        orders = self.market.versions[(skin, account)]
        return orders + self.market.minute_index() if page == "portfolio" else orders

    def wait_for_change(
        self,
        skin: str,
        account: str,
        page: str,
        since: int | None,
        client_gone: Callable[[], bool] = lambda: False,
    ) -> int:
        """Hold until the page's version differs from ``since``, the hold is over, serving
        stops or ``client_gone()`` (the page navigated away: its poll was aborted); call with the
        lock held (it is released while waiting). Returns the version."""
        hold = min(self.long_poll_wall_s, self.long_poll_sim_s / max(self.clock.speed, 1e-9))
        deadline = time.monotonic() + hold
        serving = self.serving

        def done() -> bool:
            return (
                self.version(skin, account, page) != since
                or self.serving != serving
                or not self.polls_open
            )

        self.held_polls += 1
        try:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0 or client_gone():
                    break
                self.changed.wait(min(left, CLIENT_CHECK_S))
        finally:
            self.held_polls -= 1
        return self.version(skin, account, page)

    def stop_polls(self) -> None:
        """End every held long poll now, and hold none until ``open_polls`` (serving stops)."""
        with self.lock:
            self.serving += 1
            self.polls_open = False
            self.changed.notify_all()

    def open_polls(self) -> None:
        with self.lock:
            self.polls_open = True
