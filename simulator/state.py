"""Everything a running simulator knows, behind one lock.

The HTTP layer (broker skins and task server) and the Python control API both go through this
object. Every access takes ``lock`` and first brings the market up to the clock (``sync``), so
results only depend on the clock. Wall-clock sleeps (UI latency, slow task server) happen outside
the lock.
"""

from __future__ import annotations

import threading
from datetime import datetime

from robot.clock import Clock, to_wib

from .faults import Faults
from .ledger import Ledger
from .market import Market
from .scenario import DEFAULT_PIN, Scenario
from .sessions import SessionStore
from .taskbook import EventLog, TaskBook

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
