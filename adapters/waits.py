"""Browser waits that survive a navigation: the one copy, for the adapters and the tests.

While a click's navigation (a form's submit, a login, a PIN) tears the old document down,
chromedriver can fail a command that touches it: an element of the old page is stale, or the
DevTools call behind the command finds its node or its JavaScript context gone and chromedriver
reports ``unknown error: unhandled inspector error: {"code":-32000,"message":"Node with given id
does not belong to the document"}``. That is "the page changed under this command", never a
verdict: a wait takes it as "not yet, look again" (a plain WebDriverException, so Selenium's
``ignored_exceptions`` cannot catch it by class). Any other WebDriver error still fails the wait.

    RaceTolerantWait(driver, timeout, poll).until(condition)   # what every adapter wait uses
    WebDriverWait(driver, t).until(settled(condition))           # the same for a plain wait
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")

# What chromedriver says when a command raced a navigation (lower case; messages vary by version).
NAVIGATION_RACES = (
    "does not belong to the document",  # the node is in the document being replaced
    "execution context was destroyed",  # a script ran while its page went away
    "cannot find context with specified id",
    "inspected target navigated or closed",
    "no node with given id",
    "document unloaded while waiting for result",  # an async script whose page went away
)


def is_navigation_race(exc: BaseException) -> bool:
    """A WebDriver failure that means "the page changed under this command", nothing worse."""
    if isinstance(exc, StaleElementReferenceException):
        return True
    text = (getattr(exc, "msg", None) or str(exc)).lower()
    return isinstance(exc, WebDriverException) and any(m in text for m in NAVIGATION_RACES)


def settled(condition: Callable[..., T]) -> Callable[..., T | bool]:
    """``condition`` for ``WebDriverWait.until``, reading False (look again) instead of failing
    when a navigation races it."""

    def check(driver) -> T | bool:
        try:
            return condition(driver)
        except WebDriverException as exc:
            if is_navigation_race(exc):
                return False
            raise

    return check


class RaceTolerantWait(WebDriverWait):
    """A WebDriverWait whose conditions read a navigation race as "not yet"."""

    def until(self, method, message: str = ""):
        return super().until(settled(method), message)
