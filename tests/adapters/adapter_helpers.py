"""Helpers of the adapter tests: the simulator environment, adapters on it, prices, processes.

A module of its own, imported by this unique name; the ``env`` fixture that builds a SimEnv lives
in tests/adapters/conftest.py (test modules never ``from conftest import``: every test folder's
conftest.py is a module named ``conftest``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil

from adapters import create_adapter
from adapters.base import BrokerAdapter
from robot import rules
from robot.config import Account, BrokerDef, BrowserSettings, Settings
from waiting import wait_for

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach the network

ROOT = Path(__file__).resolve().parents[2]
SELECTORS = {
    "stockbit": ROOT / "selectors" / "stockbit.json",
    "ipot": ROOT / "selectors" / "ipot.json",
    "ajaib": ROOT / "selectors" / "ajaib.json",
    "lotus": ROOT / "tests" / "simulator" / "lotus.json",
    "melati": ROOT / "tests" / "simulator" / "melati.json",
}
ADAPTER_MODULES = {
    "stockbit": "adapters.stockbit",
    "ipot": "adapters.ipot",
    "ajaib": "adapters.ajaib",
    "lotus": "generic",
    "melati": "generic",
}
ACCEPTED = ("OPEN", "PARTIAL", "MATCHED")
PASSWORD = "demo"


def profile_processes(profile: Path) -> list[psutil.Process]:
    """Live (not zombie) processes started with --user-data-dir=<profile>."""
    marker = f"--user-data-dir={profile}"
    out = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if (
                marker in (proc.info["cmdline"] or [])
                and proc.info["status"] != psutil.STATUS_ZOMBIE
            ):
                out.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return out


def crash_browser(profile: Path) -> int:
    """Kill -9 every Chromium process of a profile, as a crash would; returns how many."""
    procs = profile_processes(profile)
    victims = {p.pid: p for proc in procs for p in [proc, *proc.children(recursive=True)]}
    for p in victims.values():
        with suppress(psutil.NoSuchProcess):
            p.kill()

    def gone() -> bool:
        for p in victims.values():
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    return False
            except psutil.NoSuchProcess:
                continue
        return True

    wait_for(gone, 15, "the killed Chromium processes to exit")
    return len(victims)


def settings_for(folder: Path) -> Settings:
    return Settings(
        state_db=folder / "state.db",
        browser=BrowserSettings(driver="selenium", launch_stagger_s=0),
        action_timeout_s=10,
    )


class Calls:
    """Records the submit callbacks, and what the ledger held when each was called."""

    def __init__(self, sim, account: str):
        self.sim, self.account = sim, account
        self.events: list[tuple[str, int]] = []

    def _record(self, name: str) -> None:
        self.events.append((name, len(self.sim.ledger(account=self.account))))

    def before(self) -> None:
        self._record("before_click")

    def after(self) -> None:
        self._record("after_click")

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.events]


@dataclass
class SimEnv:
    sim: object
    clock: object
    folder: Path

    @property
    def url(self) -> str:
        return self.sim.url

    def adapter(
        self, skin: str, account_id: str, pin_env: str | None = None, selectors: Path | None = None
    ) -> BrokerAdapter:
        account = Account(
            id=account_id,
            broker=skin,
            profile_path=self.folder / f"profile-{account_id}",
            headless=True,
            pin_env=pin_env,
        )
        broker = BrokerDef(skin, ADAPTER_MODULES[skin], selectors or SELECTORS[skin], self.url)
        return create_adapter(account, broker, settings_for(self.folder), self.clock)

    @contextmanager
    def started(self, *args, **kwargs) -> Iterator[BrokerAdapter]:
        adapter = self.adapter(*args, **kwargs)
        adapter.start()
        try:
            yield adapter
        finally:
            adapter.close()

    def ledger(self, account: str) -> list[dict]:
        return self.sim.ledger(account=account)

    def accepted(self, account: str) -> list[dict]:
        return [o for o in self.ledger(account) if o["status"] in ACCEPTED]

    def calls(self, account: str) -> Calls:
        return Calls(self.sim, account)


def ensure_logged_in(adapter: BrokerAdapter) -> None:
    if not adapter.is_session_valid():
        adapter.login(adapter.account.id, PASSWORD)


def below(price: int, ticks: int = 10) -> int:
    """A buy limit this many ticks under the market: stays open."""
    return rules.add_ticks(price, -ticks)


def above(price: int, ticks: int = 10) -> int:
    return rules.add_ticks(price, ticks)
