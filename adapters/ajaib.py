"""Ajaib: native TP/CL behind an "auto order" toggle, and a confirmation dialog that repeats lot
and price before the order is placed (checked against what we meant to send)."""

from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from .base import AdapterError, OrderRequest, Side
from .generic import SelectorAdapter
from .numbers import parse_int


class AjaibAdapter(SelectorAdapter):
    STEPS = SelectorAdapter.STEPS | {"auto_order", "confirm"}

    def step_auto_order(self, order: OrderRequest) -> None:
        """The auto-order toggle on only when there is a TP or CL to fill, off otherwise (a live
        order page keeps the toggle as the last order left it)."""
        wanted = order.side == Side.BUY and (order.tp is not None or order.cl is not None)
        toggle = self.find("auto_order_toggle", self.sel["auto_order_toggle"])
        if toggle.is_selected() != wanted:
            toggle.click()
        if not wanted:
            return
        tp_sel = self.sel["order_form"]["tp_input"]
        self.wait().until(lambda d: d.find_element(By.CSS_SELECTOR, tp_sel).is_displayed())
        self.fill_tp_cl(order)

    def step_submit(self, order: OrderRequest) -> None:
        """The first button only opens the review dialog; nothing is placed yet."""
        super().step_submit(order)
        dialog = self.sel["confirm_dialog"]["dialog"]
        try:
            self.wait().until(lambda d: d.find_element(By.CSS_SELECTOR, dialog).is_displayed())
        except TimeoutException:
            raise AdapterError("the confirmation dialog did not open") from None
        # Checked before the engine records the click: a mismatch means nothing was placed.
        box = self.sel["confirm_dialog"]
        for key, expected in (("lot", order.lot), ("price", order.price)):
            if box.get(key):
                shown = self.find(f"confirm_dialog.{key}", box[key]).text
                if parse_int(shown, self.fmt) != expected:
                    raise AdapterError(
                        f"the confirmation shows {key} {shown!r}, not {expected}: not confirming"
                    )

    def step_confirm(self, order: OrderRequest) -> None:
        self.find("confirm_dialog.confirm_btn", self.sel["confirm_dialog"]["confirm_btn"]).click()


ADAPTER = AjaibAdapter
