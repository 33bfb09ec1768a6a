"""What the operator's commands ask of a selector-driven broker: `robot login` waits for a
person to log in, `robot probe` reads every page. Neither places, changes or cancels anything.

A mixin of SelectorAdapter (adapters/generic.py), kept out of the order flow: it uses the
adapter's ``navigate``, ``url``, ``sel`` and ``driver``. The messages to the operator are
robot/interactive.py's; this side only drives the browser and returns or raises typed results.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from .base import AdapterError, PageView
from .browser import classify
from .waits import RaceTolerantWait

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

    from .tabs import Tabs

log = logging.getLogger("adapters")

# `robot login`: how long the browser must have left the login page before the logged-in marker
# is looked for on the open orders page (the page the broker lands on may lack it, and may still
# be redirecting), and how often it is looked for there at most.
LEFT_LOGIN_SETTLE_S = 1.0
LOGIN_RECHECK_S = 5.0

# Whether the person is typing into a field: `robot login` never navigates away meanwhile (a
# second login step, a one-time code, has no login form but a focused field).
TYPING_JS = """
const e = document.activeElement;
return !!e && (e.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName));
"""


class LoginWatch:
    """The looks of one `robot login` wait while a person logs in (``seen()``: logged in).

    The logged-in marker counts on whatever page shows. A broker may land on a page without it
    (a dashboard): once the login page has been left (no login form, not the login URL, nobody
    typing in a field) for LEFT_LOGIN_SETTLE_S, the open orders page, where is_session_valid
    looks too, is loaded and looked at, at most every LOGIN_RECHECK_S. Never while the login
    page shows: the person may be typing there."""

    def __init__(self, adapter) -> None:
        self.adapter = adapter
        self.left_at: float | None = None  # the login page was left at (monotonic)
        self.checked_at: float | None = None  # the open orders page was last loaded at

    def marker(self) -> bool:
        return bool(
            self.adapter.driver.find_elements(By.CSS_SELECTOR, self.adapter.sel["login_check"])
        )

    def seen(self) -> bool:
        a = self.adapter
        if self.marker():
            return True
        now = time.monotonic()
        if a.on_login_page() or a.driver.execute_script(TYPING_JS):
            self.left_at = None
            return False
        if self.left_at is None:
            self.left_at = now
            return False
        if now - self.left_at < LEFT_LOGIN_SETTLE_S or (
            self.checked_at is not None and now - self.checked_at < LOGIN_RECHECK_S
        ):
            return False
        self.checked_at = now
        log.info(
            "the login page was left for a page without the logged-in marker; looking on "
            "the open orders page"
        )
        a.navigate(a.url("open_orders"))
        return self.marker()


class OperatorPages:
    """BrokerAdapter.wait_for_login and BrokerAdapter.probe for a selector adapter."""

    if TYPE_CHECKING:  # what it uses of SelectorAdapter, which it is mixed into

        @property
        def driver(self) -> WebDriver: ...

        def url(self, key: str, **params: Any) -> str: ...

        def navigate(self, url: str) -> None: ...

        tabs: Tabs

    def wait_for_login(self, timeout: float, poll: float) -> bool:
        """Open the login page and wait until logged in (LoginWatch: on the page the broker
        lands on, or on the open orders page once the login page was left)."""
        watch = LoginWatch(self)
        try:
            # navigate() raises the typed errors itself (BrokerUnreachable names the URL); only
            # the wait below can time out; the first tab, where classic pages load
            self.tabs.show_main(self.driver)
            self.navigate(self.url("login"))
            RaceTolerantWait(self.driver, timeout, poll_frequency=poll).until(
                lambda d: watch.seen()
            )
        except TimeoutException:
            return False
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001 - a closed window is BrowserCrashed
            raise classify(exc) from None
        return True

    def probe(self, emiten: str) -> dict[str, PageView]:
        from .probe import walk  # only the operator's probe needs it, never a worker

        try:
            self.tabs.show_main(self.driver)  # it loads every page in the first tab
        except Exception as exc:  # noqa: BLE001 - a closed window is BrowserCrashed
            raise classify(exc) from None
        return walk(self, emiten)
