"""A SIGKILLed chromedriver is a crashed browser, with either driver, in real headless Chromium.

Selenium's client then fails on its own transport (urllib3's MaxRetryError, ProtocolError, ...),
not with a WebDriverException: every adapter call must still raise BrowserCrashed, which the
worker answers by relaunching in place, and the profile must come back logged in.
"""

from __future__ import annotations

import dataclasses

import psutil
import pytest

from adapter_helpers import below, ensure_logged_in, profile_processes
from adapters.base import BrowserCrashed, OrderRequest, Side
from waiting import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(params=["selenium", "uc"])
def adapter(env, request):
    driver = request.param
    adapter = env.adapter("stockbit", f"DK_{driver.upper()}")
    adapter.browser.settings = dataclasses.replace(adapter.browser.settings, driver=driver)
    adapter.start()
    try:
        ensure_logged_in(adapter)
        yield adapter
    finally:
        adapter.close()


def kill_chromedriver(adapter) -> None:
    """SIGKILL the adapter's chromedriver (its browser stays up, as it does in real life)."""
    proc = psutil.Process(adapter.process_ids()[0])
    assert "chromedriver" in proc.name(), proc.name()
    proc.kill()

    def gone() -> bool:
        try:
            return proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(gone, 15, "the killed chromedriver to exit")


def test_every_call_after_a_chromedriver_kill_raises_browser_crashed(env, adapter):
    # a clean restart writes the fresh session cookie to the profile (Chromium writes cookies
    # on close and every few tens of seconds; a browser ended without Browser.close, as here,
    # keeps only what was written: a login made hours before a crash, not seconds)
    adapter.close()
    adapter.start()
    kill_chromedriver(adapter)
    for call in (
        adapter.get_open_orders,
        adapter.get_order_history,
        adapter.is_session_valid,
        lambda: adapter.last_price("BBCA"),
        adapter.get_portfolio,
        lambda: adapter.cancel_order("100001"),
    ):
        with pytest.raises(BrowserCrashed):
            call()
    adapter.close()  # what the worker's relaunch does first
    assert profile_processes(adapter.account.profile_path) == []
    adapter.start()
    assert adapter.is_session_valid() is True  # the profile is still logged in
    assert isinstance(adapter.get_open_orders(), list)


def test_a_chromedriver_killed_before_the_click_raises_browser_crashed_and_places_nothing(
    env, adapter
):
    account = adapter.account.id
    before = env.ledger(account)
    clicked = []
    with pytest.raises(BrowserCrashed):
        adapter.submit_order(
            OrderRequest("BBCA", Side.BUY, below(env.sim.quote("BBCA")), 1),
            lambda: kill_chromedriver(adapter),
            after_click=lambda: clicked.append(True),
        )
    assert clicked == []
    assert env.ledger(account) == before
