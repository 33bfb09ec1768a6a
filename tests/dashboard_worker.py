"""An account's worker applying a person's requests, as robot/worker.py does between two engine
steps: a real Engine on its own connection over the browserless fake broker (adapters/fake.py),
on a thread (a uniquely named module: the dashboard's Flask and browser tests share it)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from adapters.fake import FakeAdapter
from dashboard_day import T0
from robot.config import Account, Settings
from robot.engine import Engine
from robot.resolve import apply_resolves
from robot.store import Store
from simulator.testing import ManualClock


@contextlib.contextmanager
def playing_worker(root: Path, account_id: str) -> Iterator[list]:
    """Apply ``account_id``'s resolve requests as they come, until the block ends; yields the
    outcomes so far. The fake broker's book (under root/profiles) is empty unless a test
    wrote one."""
    stop = threading.Event()
    outcomes: list = []
    errors: list[BaseException] = []

    def work() -> None:
        store = Store(root / "state.db")
        clock = ManualClock("2026-03-02 10:00")
        account = Account(id=account_id, broker="fake", profile_path=root / "profiles" / account_id)
        settings = Settings(state_db=root / "state.db", reconcile_grace_s=30)
        adapter = FakeAdapter(account, None, settings, clock)
        try:
            adapter.start()
            engine = Engine(store, adapter, account, settings, clock, T0.date())
            while not stop.is_set():
                outcomes.extend(apply_resolves(engine))
                stop.wait(0.05)  # a worker's poll interval, shortened
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            adapter.close()
            store.close()

    thread = threading.Thread(target=work, name=f"worker-{account_id}")
    thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        thread.join(60)
    if errors:
        raise errors[0]
