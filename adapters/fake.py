"""A broker without a browser, for supervisor tests and rehearsals of the process machinery.

It behaves like a tiny broker (orders persist in the profile folder, so they survive a worker
restart like a real broker's would) and starts one stand-in "browser" process carrying
``--user-data-dir=<profile>`` on its command line, so orphan clean-up is exercised for real.
Behaviour is steered by ``<profile>/fake_behaviour.json``: ``{"session_valid": false}`` makes the
session look logged out; ``{"hang": true}`` makes every poll block (hang detection);
``{"slow_start_s": 8}`` makes starting the browser block that long (a launch storm);
``{"crash_on_start": true}`` kills the worker process as the browser starts (flapping);
``{"expired": true}`` makes every order-list read and submit find the login page (a session
that expires mid-day). A broker that shows less: ``{"times": false}`` lists orders without their
time, ``{"toast_ids": false}`` answers a submit with a toast naming no order id;
``{"prices": {"BBCA": 1100}}`` sets a stock's last price (default 1000). An order whose
confirmation is lost: ``{"lost_submit": true}`` books the order but hides it (``"hidden": true``
on its row: the lists do not show it) and times out instead of showing a toast; a test makes it
show up late by clearing the row's flag (the broker's ledger, fake_broker.json, keeps it). A
broker that answers an order it placed with an error toast: ``{"error_toast_placed": "Server
busy, try again"}`` books the order and raises BrokerRejected with that (retryable) text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from .base import (
    ActionTimeout,
    BrokerAdapter,
    BrokerOrder,
    BrokerRejected,
    BrowserCrashed,
    OrderRequest,
    OrderStatus,
    Position,
    SessionExpired,
    Side,
    SubmitResult,
)

STAND_IN = "import time\nwhile True:\n    time.sleep(3600)\n"


class FakeAdapter(BrokerAdapter):
    native_tp_cl = True

    def __init__(self, account, broker, settings, clock):
        self.account, self.clock = account, clock
        self.profile = Path(account.profile_path)
        self.proc: subprocess.Popen | None = None
        self.driver: subprocess.Popen | None = None  # the stand-in chromedriver
        self._hang = threading.Event()

    # ------------------------------------------------------------------------------ process
    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            return
        self.profile.mkdir(parents=True, exist_ok=True)
        if self._behaviour().get("crash_on_start"):
            import os

            os._exit(3)
        slow = self._behaviour().get("slow_start_s")
        if slow:  # a launch on a loaded machine: one blocking call, no heartbeat from the loop
            threading.Event().wait(float(slow))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", STAND_IN, f"--user-data-dir={self.profile.resolve()}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # a stand-in "chromedriver": nothing on its command line names the profile and its pid
        # is not reported, like a driver started just before its worker was killed
        self.driver = subprocess.Popen(
            [sys.executable, "-c", STAND_IN, f"--fake-driver-of={self.profile.resolve()}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def close(self) -> None:
        for proc in (self.proc, self.driver):
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(10)
        self.proc = self.driver = None

    def process_ids(self) -> list[int]:
        return [self.proc.pid] if self.proc else []

    # ----------------------------------------------------------------------------- behaviour
    def _behaviour(self) -> dict:
        try:
            return json.loads((self.profile / "fake_behaviour.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _check_alive(self) -> None:
        if not self.proc or self.proc.poll() is not None:
            raise BrowserCrashed("the stand-in browser process is gone")
        if self._behaviour().get("hang"):
            threading.Event().wait()  # block forever, like a wedged WebDriver call

    def _book_path(self) -> Path:
        return self.profile / "fake_broker.json"

    def _book(self) -> list[dict]:
        try:
            return json.loads(self._book_path().read_text())
        except (FileNotFoundError, ValueError):
            return []

    def _save(self, book: list[dict]) -> None:
        tmp = self._book_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(book))
        tmp.replace(self._book_path())

    # ----------------------------------------------------------------------------- interface
    def is_session_valid(self) -> bool:
        self._check_alive()
        return self._behaviour().get("session_valid", True)

    def submit_order(
        self,
        order: OrderRequest,
        before_click: Callable[[], None],
        dry_run: bool = False,
        after_click: Callable[[], None] | None = None,
    ) -> SubmitResult:
        self._check_session()
        if dry_run:
            return SubmitResult("dry run: not submitted", None, dry_run=True)
        before_click()
        book = self._book()
        order_id = str(1000 + len(book))
        lost = bool(self._behaviour().get("lost_submit"))
        book.append(
            {
                "order_id": order_id,
                "emiten": order.emiten,
                "side": order.side.value,
                "price": order.price,
                "lot": order.lot,
                "filled": 0,
                "status": "OPEN",
                "time": self.clock.now().isoformat(),
                **({"hidden": True} if lost else {}),
            }
        )
        self._save(book)
        if after_click:
            after_click()
        if lost:
            raise ActionTimeout("the fake broker showed no toast (lost_submit)")
        error = self._behaviour().get("error_toast_placed")
        if error:
            raise BrokerRejected(error, retryable=True)
        if self._behaviour().get("toast_ids", True) is False:
            return SubmitResult("Order placed", None)
        return SubmitResult(f"Order {order_id} placed", order_id)

    def cancel_order(self, order_id: str) -> str:
        self._check_alive()
        book = self._book()
        for row in book:
            if row["order_id"] == order_id and row["status"] in ("OPEN", "PARTIAL"):
                row["status"] = "WITHDRAWN"
        self._save(book)
        return f"Order {order_id} withdrawn"

    def _orders(self) -> list[BrokerOrder]:
        from datetime import datetime

        times = self._behaviour().get("times", True) is not False
        return [
            BrokerOrder(
                r["order_id"],
                r["emiten"],
                Side(r["side"]),
                r["price"],
                r["lot"],
                r["filled"],
                OrderStatus(r["status"]),
                datetime.fromisoformat(r["time"]) if times else None,
            )
            for r in self._book()
            if not r.get("hidden")
        ]

    def _check_session(self) -> None:
        self._check_alive()
        if self._behaviour().get("expired"):
            raise SessionExpired("the fake broker shows its login page")

    def get_open_orders(self) -> list[BrokerOrder]:
        self._check_session()
        return [o for o in self._orders() if o.status.is_live]

    def get_order_history(self) -> list[BrokerOrder]:
        self._check_session()
        return self._orders()

    def get_portfolio(self) -> list[Position]:
        self._check_alive()
        return []

    def last_price(self, emiten: str) -> int:
        self._check_alive()
        return int((self._behaviour().get("prices") or {}).get(emiten, 1000))


ADAPTER = FakeAdapter
