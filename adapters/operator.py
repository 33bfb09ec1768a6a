"""What the operator's commands ask of a selector-driven broker: `robot login` waits for a
person to log in, `robot probe` reads every page. Neither places, changes or cancels anything.

A mixin of SelectorAdapter (adapters/generic.py), kept out of the order flow: it uses the
adapter's ``navigate``, ``url``, ``sel`` and ``driver``. The messages to the operator are
robot/interactive.py's; this side only drives the browser and returns or raises typed results.
"""
from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .base import AdapterError, PageView
from .browser import classify


class OperatorPages:
    """BrokerAdapter.wait_for_login and BrokerAdapter.probe for a selector adapter."""

    def wait_for_login(self, timeout: float, poll: float) -> bool:
        check = self.sel["login_check"]
        try:
            # navigate() raises the typed errors itself (BrokerUnreachable names the URL); only
            # the wait below can time out
            self.navigate(self.url("login"))
            WebDriverWait(self.driver, timeout, poll_frequency=poll).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, check))
        except TimeoutException:
            return False
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001 - a closed window is BrowserCrashed
            raise classify(exc) from None
        return True

    def probe(self, emiten: str) -> dict[str, PageView]:
        from .probe import walk     # only the operator's probe needs it, never a worker
        return walk(self, emiten)
