"""Shared test helpers: waiting on conditions (never on the wall clock) and process hygiene."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable, TypeVar

import pytest

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach for the network

T = TypeVar("T")
_tick = threading.Event()  # never set: wait() is a pause that reads as one


def wait_for(predicate: Callable[[], T], timeout: float = 30.0, what: str = "condition",
             interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        _tick.wait(interval)  # the pause between two looks at the condition
