"""What `robot login` and `robot probe` share: one account's adapter opened by an operator.

Both take the account's profile lock (through the Browser), so neither can run while a robot
worker drives that profile. The browser work is the adapter's (``wait_for_login``, ``probe``:
adapters/operator.py); what the operator is told is decided here.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys

from adapters import create_adapter
from adapters.base import AdapterError, BrokerUnreachable, BrowserCrashed, ProfileBusy

from .chromium import is_loopback
from .clock import RealClock
from .config import SIM_DEFAULT_URL, load_config
from .errors import BadInput

POLL_S = 0.5  # how often `robot login` looks for the logged-in marker


class OperatorError(Exception):
    """A runtime failure an operator command reports in one line (exit 1)."""


def open_adapter(config_path: str, account_id: str, headless: bool, clock=None):
    """Load the config, find the account (BadInput naming it if unknown) and build its adapter
    with ``headless`` forced. The adapter is not started."""
    cfg = load_config(config_path)
    account = cfg.account(account_id)
    account = dataclasses.replace(account, headless=headless)
    return account, create_adapter(
        account, cfg.broker_of(account), cfg.settings, clock or RealClock()
    )


def start(adapter, account) -> None:
    """Start the browser, turning a held profile into a clear message."""
    try:
        adapter.start()
    except ProfileBusy:
        raise OperatorError(
            f"account {account.id}: its browser profile {account.profile_path} is "
            "in use by another process (is the robot running for this account? "
            "stop it first)"
        ) from None


def check_display(headless: bool) -> None:
    """A headed browser needs a desktop: say so at once, not after Chromium's launch timeout."""
    if headless or sys.platform in ("win32", "darwin"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise OperatorError(
            "no display to open the browser window on (DISPLAY is not set): run "
            "`robot login` in a desktop session (or over VNC / ssh -X); "
            "--headless only checks a session already saved in the profile"
        )


def wait_for_login(adapter, timeout: float, poll: float = POLL_S) -> None:
    """Open the broker's login page and wait until the logged-in marker shows.

    Raises OperatorError when the time is up or the window was closed first.
    """
    try:
        logged_in = adapter.wait_for_login(timeout, poll)
    except BrokerUnreachable as exc:
        raise OperatorError(unreachable_message(exc, adapter.broker)) from None
    except BrowserCrashed as exc:
        raise OperatorError(f"window closed before login ({exc})") from None
    if not logged_in:
        check = adapter.sel["login_check"]
        raise OperatorError(
            f"not logged in after {timeout:g} s: the logged-in marker "
            f"{check!r} never appeared (log in within --timeout, or raise it)"
        )


def unreachable_message(exc: BrokerUnreachable, broker) -> str:
    """Which URL did not answer, and what to do about it."""
    if broker.base_url == SIM_DEFAULT_URL:
        todo = (
            "this broker is the local simulator (the shipped configuration): start it first "
            "with `robot sim` in another terminal"
        )
    elif is_loopback(broker.base_url):
        todo = f"is the server at {broker.base_url} running?"
    else:
        todo = f"check this machine's network, and brokers.{broker.name}.base_url in accounts.yaml"
    return f"{exc}: {todo}"


def check_emiten(code: str) -> str:
    code = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{4}", code):
        raise BadInput(f"--emiten: {code!r} is not a 4-letter IDX code like BBCA")
    return code


__all__ = [
    "OperatorError",
    "open_adapter",
    "start",
    "check_display",
    "wait_for_login",
    "check_emiten",
    "AdapterError",
]
