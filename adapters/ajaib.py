"""Ajaib: native TP/CL behind an "auto order" toggle, and a confirmation dialog that repeats lot
and price before the order is placed (checked against what we meant to send)."""

from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from .base import AdapterError, OrderRequest, SelectorMissing, Side
from .generic import FillPlan, SelectorAdapter
from .numbers import parse_int
from .pagejs import DIALOG_JS


class AjaibAdapter(SelectorAdapter):
    STEPS = SelectorAdapter.STEPS | {"auto_order", "confirm"}
    _confirm_btn = None  # the dialog's confirm button, as step_submit found it

    def fill_plan(self, order: OrderRequest) -> FillPlan:
        """The toggle set as the order needs it and TP/CL typed, in the one fill."""
        plan = super().fill_plan(order)
        wanted = order.side == Side.BUY and (order.tp is not None or order.cl is not None)
        plan.fields["auto_order_toggle"] = self.sel["auto_order_toggle"]
        plan.toggles["auto_order_toggle"] = wanted
        if wanted:
            for key, value in (("tp_input", order.tp), ("cl_input", order.cl)):
                if value is not None and key in plan.cleared:
                    plan.cleared.remove(key)
                    plan.typed.append((key, str(value)))
        return plan

    def step_auto_order(self, order: OrderRequest) -> None:
        if self._plan is not None and "auto_order_toggle" in self._plan.toggles:
            return  # the fill set the toggle and typed TP/CL (fill_plan)
        self._auto_order_by_steps(order)

    def _auto_order_by_steps(self, order: OrderRequest) -> None:
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
        """The first button only opens the review dialog; nothing is placed yet. The dialog is
        read in one script (DIALOG_JS) once it shows."""
        super().step_submit(order)
        box = self.sel["confirm_dialog"]
        texts = {k: box[k] for k in ("lot", "price") if box.get(k)}
        try:
            seen = self.wait().until(
                lambda d: d.execute_script(DIALOG_JS, box["dialog"], texts, box["confirm_btn"])
            )
        except TimeoutException:
            raise AdapterError("the confirmation dialog did not open") from None
        # Checked before the engine records the click: a mismatch means nothing was placed.
        for key, expected in (("lot", order.lot), ("price", order.price)):
            if key not in texts:
                continue
            shown = seen["texts"][key]
            if shown is None:
                raise SelectorMissing(f"confirm_dialog.{key}", texts[key], self.driver.current_url)
            if parse_int(shown, self.fmt) != expected:
                raise AdapterError(
                    f"the confirmation shows {key} {shown!r}, not {expected}: not confirming"
                )
        self._confirm_btn = seen["confirm"]

    def step_confirm(self, order: OrderRequest) -> None:
        button = getattr(self, "_confirm_btn", None)
        self._confirm_btn = None
        if button is None:
            button = self.find(
                "confirm_dialog.confirm_btn", self.sel["confirm_dialog"]["confirm_btn"]
            )
        button.click()


ADAPTER = AjaibAdapter
