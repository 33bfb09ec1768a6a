"""IPOT: a trading PIN on a randomised on-screen pad before the first order of a session.

The PIN comes from the environment variable the account names (``pin_env``); it is typed by
clicking the keys by their labels and is never logged or stored.
"""

from __future__ import annotations

import os

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from robot import logs

from .base import AdapterError, BrokerRejected, OrderRequest
from .generic import SelectorAdapter


class IpotAdapter(SelectorAdapter):
    STEPS = SelectorAdapter.STEPS | {"pin"}

    def _pin(self) -> str:
        name = self.account.pin_env
        pin = os.environ.get(name) if name else None
        if not pin:
            raise AdapterError(
                f"{self.account.id}: the trading PIN is needed; set the environment "
                f"variable named by pin_env ({name or 'pin_env is not set'})"
            )
        logs.register_secret(pin)
        return pin

    def step_pin(self, order: OrderRequest) -> None:
        """Unlock trading if the page asks for the PIN (once per broker session)."""
        pad = self.sel["pin_pad"]
        form = self.sel["order_form"]
        if self._form is not None:  # the order page was looked at in one script (FORM_JS)
            if self._form["state"] != "pin":
                return
        elif not self.driver.find_elements(By.CSS_SELECTOR, pad["container"]):
            return
        self._form = None  # the page changes: the fill looks at the form again
        keys = {k.text.strip(): k for k in self.driver.find_elements(By.CSS_SELECTOR, pad["key"])}
        for digit in self._pin():
            if digit not in keys:
                raise AdapterError("the PIN pad has no key for one of the PIN's characters")
            keys[digit].click()
        self.find("pin_pad.submit", pad["submit"]).click()

        def unlocked(d):
            if d.find_elements(By.CSS_SELECTOR, form["stock_input"]):
                return "ok"
            err = [
                e.text.strip()
                for e in d.find_elements(By.CSS_SELECTOR, self.sel["toast_error"])
                if e.text.strip()
            ]
            return ("err", err[0]) if err else False

        try:
            result = self.wait().until(unlocked)
        except TimeoutException:
            raise AdapterError("the order form did not appear after the PIN") from None
        if result != "ok":
            raise BrokerRejected(f"PIN refused: {result[1]}")


ADAPTER = IpotAdapter
