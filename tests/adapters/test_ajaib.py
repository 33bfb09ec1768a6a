"""Ajaib: native TP/CL behind the auto-order toggle, and the confirmation dialog check."""

from __future__ import annotations

import pytest

from adapter_helpers import ensure_logged_in
from adapters.base import AdapterError, OrderRequest, Side

pytestmark = pytest.mark.browser

ACC = "AJ_FLOW"
SET_VALUE_JS = """
const el = document.querySelector(arguments[0]);
el.value = arguments[1];
el.dispatchEvent(new Event('input', {bubbles: true}));
"""


@pytest.fixture(scope="module")
def started(env):
    with env.started("ajaib", ACC) as adapter:
        yield adapter


@pytest.fixture
def ajaib(env, started):
    ensure_logged_in(started)
    yield started
    env.sim.clear_faults()


def test_tp_and_cl_reach_the_broker_through_the_toggle(env, ajaib):
    price = env.sim.quote("BBCA")
    env.sim.set_price("BBCA", price)
    before = len(env.ledger(ACC))
    calls = env.calls(ACC)
    tp, cl = price + 300, price - 300
    result = ajaib.submit_order(
        OrderRequest("BBCA", Side.BUY, price, 2, tp=tp, cl=cl),
        calls.before,
        after_click=calls.after,
    )
    (order,) = env.ledger(ACC)[before:]
    assert result.order_id == order["order_id"]
    assert (order["tp"], order["cl"], order["lots"], order["price"]) == (tp, cl, 2, price)
    assert order["tp_cl_state"] == "armed"  # filled, exits watched by the broker
    # the final click is the dialog's confirm button: before_click saw no order yet. after_click
    # runs once the click has returned, and the live page's confirm posts with fetch, which
    # the click does not wait for: at most the one order by then, never two.
    assert calls.names == ["before_click", "after_click"]
    assert calls.events[0] == ("before_click", before)
    assert calls.events[1][1] in (before, before + 1)


def test_without_tp_cl_the_toggle_stays_off(env, ajaib):
    price = env.sim.quote("BBRI")
    before = len(env.ledger(ACC))
    ajaib.submit_order(OrderRequest("BBRI", Side.BUY, price, 1), lambda: None)
    (order,) = env.ledger(ACC)[before:]
    assert (order["tp"], order["cl"], order["tp_cl_state"]) == (None, None, None)


@pytest.mark.parametrize("field, shift", [("lot_input", 1), ("price_input", 25)])
def test_the_confirmation_refuses_what_we_did_not_mean(env, ajaib, monkeypatch, field, shift):
    """The page changes a field between our typing and the review (a script, a fat finger): the
    dialog then shows other numbers than the order, and nothing may be confirmed."""
    price = env.sim.quote("TLKM")
    order = OrderRequest("TLKM", Side.BUY, price, 3)
    original = ajaib.step_fill
    selector = ajaib.sel["order_form"][field]

    def tampered_fill(o):
        original(o)
        value = o.lot + shift if field == "lot_input" else o.price + shift
        ajaib.driver.execute_script(SET_VALUE_JS, selector, str(value))

    monkeypatch.setattr(ajaib, "step_fill", tampered_fill)
    before = len(env.ledger(ACC))
    calls = env.calls(ACC)
    with pytest.raises(AdapterError, match="not confirming") as err:
        ajaib.submit_order(order, calls.before, after_click=calls.after)
    shown = order.lot + shift if field == "lot_input" else order.price + shift
    assert f"{shown!r}".strip("'") in str(err.value)
    assert calls.names == []  # the order click never happened
    assert len(env.ledger(ACC)) == before
    dialog = ajaib.driver.find_element("css selector", ajaib.sel["confirm_dialog"]["dialog"])
    assert dialog.is_displayed()  # left open, unconfirmed


def test_probe_sees_dialog_and_toggle_without_using_them(env, ajaib):
    from robot.probe import FOUND, probe_account

    before = len(env.ledger(ACC))
    report = probe_account(ajaib, ACC, "BBCA")
    checks = {c.key: c for c in report.checks}
    for key in (
        "confirm_dialog.dialog",
        "confirm_dialog.confirm_btn",
        "confirm_dialog.lot",
        "auto_order_toggle",
        "order_form.tp_input",
        "order_form.submit_btn",
    ):
        assert checks[key].status == FOUND, key
    assert report.ok, report.render_text()
    assert len(env.ledger(ACC)) == before
    # the walk ended elsewhere; on the order page the dialog is closed and the toggle off
    ajaib.driver.get(ajaib.url("order"))
    find = ajaib.driver.find_element
    assert not find("css selector", ajaib.sel["confirm_dialog"]["dialog"]).is_displayed()
    assert not find("css selector", ajaib.sel["auto_order_toggle"]).is_selected()
