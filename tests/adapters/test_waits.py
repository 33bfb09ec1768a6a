"""Every adapter wait reads "the page changed under this look" as "not yet" (adapters/waits.py):
chromedriver's inspector error and stale elements, raised while a click's navigation replaces the
page, made a successful login or submit look failed on a loaded machine."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)

from adapters.waits import RaceTolerantWait, is_navigation_race

INSPECTOR = (
    'unknown error: unhandled inspector error: {"code":-32000,"message":"Node with '
    'given id does not belong to the document"}'
)


def looks(*outcomes):
    """A condition that raises or returns each of ``outcomes`` in turn."""
    it = iter(outcomes)

    def condition(_driver):
        value = next(it)
        if isinstance(value, BaseException):
            raise value
        return value

    return condition


@pytest.mark.parametrize(
    "exc",
    [
        WebDriverException(INSPECTOR),
        StaleElementReferenceException("stale element reference"),
        WebDriverException(
            "javascript error: Execution context was destroyed, most likely because of a navigation"
        ),
    ],
)
def test_a_navigation_race_is_looked_at_again(exc):
    assert is_navigation_race(exc)
    wait = RaceTolerantWait(object(), timeout=5, poll_frequency=0.01)
    assert wait.until(looks(exc, exc, "toast")) == "toast"


def test_any_other_webdriver_error_still_fails_the_wait_at_once():
    broken = WebDriverException("invalid session id")
    assert not is_navigation_race(broken)
    with pytest.raises(WebDriverException, match="invalid session id"):
        RaceTolerantWait(object(), timeout=5, poll_frequency=0.01).until(looks(broken, "never"))


def test_selenium_own_ignored_exception_is_still_ignored_and_the_timeout_kept():
    missing = NoSuchElementException("no such element")
    wait = RaceTolerantWait(object(), timeout=5, poll_frequency=0.01)
    assert wait.until(looks(missing, "found")) == "found"
    with pytest.raises(TimeoutException):
        RaceTolerantWait(object(), timeout=0.05, poll_frequency=0.01).until(lambda d: False)


def test_every_adapter_wait_is_race_tolerant(tmp_path):
    """The selector adapter's own wait() is the tolerant one (every login, toast, PIN and field
    wait goes through it)."""
    from adapter_helpers import ADAPTER_MODULES, SELECTORS, settings_for
    from adapters import create_adapter
    from robot.config import Account, BrokerDef
    from simulator.testing import ManualClock

    account = Account(id="ACC_W", broker="stockbit", profile_path=tmp_path / "p")
    adapter = create_adapter(
        account,
        BrokerDef(
            "stockbit", ADAPTER_MODULES["stockbit"], SELECTORS["stockbit"], "http://127.0.0.1:9"
        ),
        settings_for(tmp_path),
        ManualClock("2026-03-02 10:00"),
    )
    adapter.browser.driver = object()  # not started: only the wait's type is looked at
    assert isinstance(adapter.wait(), RaceTolerantWait)
