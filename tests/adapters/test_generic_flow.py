"""The selector-driven flow (stockbit skin) in real headless Chromium against the simulator."""

from __future__ import annotations

import time

import pytest

from adapter_helpers import (
    below,
    crash_browser,
    profile_processes,
)
from adapters.base import (
    BrokerRejected,
    BrowserCrashed,
    OrderRequest,
    OrderStatus,
    SessionExpired,
    Side,
)
from adapters.browser import Browser, ProfileBusy

pytestmark = pytest.mark.browser

ACC = "SB_FLOW"
SKIN = "stockbit"


def pinned(env, emiten: str) -> int:
    """Pin an emiten's price for the rest of the test (clear_faults unpins it)."""
    price = env.sim.quote(emiten)
    env.sim.set_price(emiten, price)
    return price


def new_orders(env, before: list[dict]) -> list[dict]:
    seen = {o["order_id"] for o in before}
    return [o for o in env.ledger(ACC) if o["order_id"] not in seen]


# ------------------------------------------------------------------------------------ session
def test_session_logged_out_then_logged_in(env, started):
    started.driver.delete_all_cookies()  # the broker forgets us: a logged-out browser
    assert started.is_session_valid() is False
    started.login(ACC, "demo")
    assert started.is_session_valid() is True


def test_login_with_a_wrong_password_is_refused(env, started):
    started.driver.delete_all_cookies()
    with pytest.raises(BrokerRejected, match="Invalid username or password"):
        started.login(ACC, "not-the-password")
    assert started.is_session_valid() is False


def test_session_expired_by_the_broker(env, sb):
    assert sb.is_session_valid() is True
    assert env.sim.expire_session(SKIN, ACC) >= 1
    assert sb.is_session_valid() is False
    with pytest.raises(SessionExpired):
        sb.get_open_orders()
    before = env.ledger(ACC)
    calls = env.calls(ACC)
    with pytest.raises(SessionExpired):
        sb.submit_order(OrderRequest("BBCA", Side.BUY, 9000, 1), calls.before)
    assert calls.names == [] and new_orders(env, before) == []


# ------------------------------------------------------------------------------------- submit
def test_submit_success_calls_back_once_each_in_order(env, sb):
    price = pinned(env, "BBRI")
    before = env.ledger(ACC)
    calls = env.calls(ACC)
    result = sb.submit_order(
        OrderRequest("BBRI", Side.BUY, price, 3), calls.before, after_click=calls.after
    )
    (order,) = new_orders(env, before)
    assert result.message == f"Order {order['order_id']} placed"
    assert result.order_id == order["order_id"] and result.dry_run is False
    assert calls.names == ["before_click", "after_click"]
    # before_click ran while the order did not exist yet. after_click runs once the click has
    # returned, which is not always after the form's POST reached the broker (WebDriver's click
    # does not wait for the navigation it starts): at most the one order by then, never two.
    assert calls.events[0] == ("before_click", len(before))
    assert calls.events[1][1] in (len(before), len(before) + 1)
    assert (order["emiten"], order["side"], order["price"], order["lots"], order["status"]) == (
        "BBRI",
        "buy",
        price,
        3,
        "MATCHED",
    )


def test_a_long_action_reports_progress_between_its_page_loads(env, sb, monkeypatch):
    """The worker's heartbeat rides on these: many page loads on a loaded machine are progress,
    not a hang (a single stuck command still shows as one)."""
    ticks = []
    monkeypatch.setattr(sb, "progress", lambda: ticks.append(len(env.ledger(ACC))))
    price = pinned(env, "BBRI")
    before = env.ledger(ACC)
    sb.submit_order(OrderRequest("BBRI", Side.BUY, price, 1), lambda: None)
    assert len(ticks) >= 4  # around the page load and between the steps
    assert ticks[0] == len(before)  # the first before anything was sent
    assert len(new_orders(env, before)) == 1


def test_native_tp_cl_reach_the_broker(env, sb):
    price = pinned(env, "BMRI")
    before = env.ledger(ACC)
    tp, cl = price + 250, price - 250
    sb.submit_order(OrderRequest("BMRI", Side.BUY, price, 1, tp=tp, cl=cl), lambda: None)
    (order,) = new_orders(env, before)
    assert (order["tp"], order["cl"], order["tp_cl_state"]) == (tp, cl, "armed")


def test_submit_off_tick_price_is_rejected_with_the_brokers_words(env, sb):
    price = pinned(env, "BBCA")
    before = env.ledger(ACC)
    calls = env.calls(ACC)
    with pytest.raises(BrokerRejected) as err:
        sb.submit_order(
            OrderRequest("BBCA", Side.BUY, price + 1, 1), calls.before, after_click=calls.after
        )
    assert err.value.text == (
        f"Order rejected: Invalid price {price + 1}: price must be a multiple of 25"
    )
    assert err.value.retryable is False
    assert calls.names == ["before_click", "after_click"]  # the click did happen
    (entry,) = new_orders(env, before)
    assert entry["status"] == "REJECTED"  # nothing accepted
    assert env.accepted(ACC) == [o for o in before if o["status"] in ("OPEN", "PARTIAL", "MATCHED")]


def test_submit_with_a_forced_error_toast(env, sb):
    env.sim.add_fault(
        {
            "kind": "error_toast",
            "skin": SKIN,
            "account": ACC,
            "message": "Server sibuk, silakan coba lagi",
        }
    )
    price = pinned(env, "TLKM")
    before = env.ledger(ACC)
    calls = env.calls(ACC)
    with pytest.raises(BrokerRejected) as err:
        sb.submit_order(OrderRequest("TLKM", Side.BUY, price, 1), calls.before)
    assert err.value.text == "Server sibuk, silakan coba lagi"
    assert err.value.retryable is True  # "coba lagi": try again
    assert calls.names == ["before_click"]
    (entry,) = new_orders(env, before)
    assert (entry["status"], entry["visible"]) == ("ERROR", False)


def test_dry_run_fills_the_form_but_never_clicks(env, sb):
    price = pinned(env, "ASII")
    before = env.ledger(ACC)
    calls = env.calls(ACC)
    result = sb.submit_order(
        OrderRequest("ASII", Side.BUY, price, 2),
        calls.before,
        dry_run=True,
        after_click=calls.after,
    )
    assert result.dry_run is True and result.order_id is None
    assert calls.names == []
    assert new_orders(env, before) == []
    form = sb.sel["order_form"]
    value = sb.driver.find_element("css selector", form["stock_input"]).get_attribute("value")
    assert value == "ASII"  # the form was filled


# ---------------------------------------------------------------------------- cancel, tables
def test_cancel_an_open_order(env, sb):
    price = pinned(env, "UNVR")
    result = sb.submit_order(OrderRequest("UNVR", Side.BUY, below(price), 2), lambda: None)
    oid = result.order_id
    assert oid in [o.order_id for o in sb.get_open_orders()]
    text = sb.cancel_order(oid)
    assert text == f"Order {oid} withdrawn"
    (entry,) = [o for o in env.ledger(ACC) if o["order_id"] == oid]
    assert entry["status"] == "WITHDRAWN"
    assert oid not in [o.order_id for o in sb.get_open_orders()]
    with pytest.raises(BrokerRejected, match="not in the open orders"):
        sb.cancel_order(oid)


def test_partial_fill_is_read_from_the_tables(env, sb):
    env.sim.add_fault(
        {"kind": "partial_fill", "skin": SKIN, "account": ACC, "emiten": "KLBF", "lots": 2}
    )
    price = pinned(env, "KLBF")
    result = sb.submit_order(OrderRequest("KLBF", Side.BUY, price, 5), lambda: None)
    (row,) = [o for o in sb.get_open_orders() if o.order_id == result.order_id]
    assert (row.emiten, row.side, row.price, row.lot) == ("KLBF", Side.BUY, price, 5)
    assert (row.filled, row.status) == (2, OrderStatus.PARTIAL)
    assert row.filled < row.lot
    assert row.time is not None and row.time.strftime("%H:%M") == env.clock.now().strftime("%H:%M")
    (hist,) = [o for o in sb.get_order_history() if o.order_id == result.order_id]
    assert (hist.filled, hist.status) == (2, OrderStatus.PARTIAL)


def test_history_statuses_map_to_the_enum(env, sb):
    price = pinned(env, "ICBP")
    ids = {}
    ids["MATCHED"] = sb.submit_order(
        OrderRequest("ICBP", Side.BUY, price, 1), lambda: None
    ).order_id
    ids["OPEN"] = sb.submit_order(
        OrderRequest("ICBP", Side.BUY, below(price), 1), lambda: None
    ).order_id
    ids["WITHDRAWN"] = sb.submit_order(
        OrderRequest("ICBP", Side.BUY, below(price), 2), lambda: None
    ).order_id
    sb.cancel_order(ids["WITHDRAWN"])
    before = env.ledger(ACC)
    with pytest.raises(BrokerRejected):
        sb.submit_order(OrderRequest("ICBP", Side.SELL, price, 500), lambda: None)  # holds 1
    (rejected,) = new_orders(env, before)
    ids["REJECTED"] = rejected["order_id"]
    env.sim.add_fault(
        {"kind": "partial_fill", "skin": SKIN, "account": ACC, "emiten": "ICBP", "lots": 1}
    )
    ids["PARTIAL"] = sb.submit_order(
        OrderRequest("ICBP", Side.BUY, price, 3), lambda: None
    ).order_id
    history = {o.order_id: o for o in sb.get_order_history()}
    ledger = {o["order_id"]: o for o in env.ledger(ACC)}
    for status, oid in ids.items():
        assert history[oid].status == OrderStatus(status), status
        assert ledger[oid]["status"] == status
        assert history[oid].filled == ledger[oid]["filled_lots"]
    assert history[ids["REJECTED"]].side == Side.SELL
    assert set(history) == {o["order_id"] for o in env.ledger(ACC) if o["visible"]}


def test_portfolio_positions_match_the_broker(env, sb):
    price = pinned(env, "INDF")
    sb.submit_order(OrderRequest("INDF", Side.BUY, price, 4), lambda: None)
    positions = {p.emiten: p for p in sb.get_portfolio()}
    holdings = env.sim.holdings(SKIN, ACC)
    assert holdings["INDF"] == (4, price)
    assert {e: (p.lot, p.avg_price) for e, p in positions.items()} == holdings
    assert positions["INDF"].last_price == price


def test_last_price(env, sb):
    price = pinned(env, "PGAS")
    assert sb.last_price("PGAS") == price
    env.sim.clear_faults()
    env.sim.set_price("PGAS", price + 10)
    assert sb.last_price("PGAS") == price + 10


def test_an_unknown_stock_is_rejected(env, sb):
    with pytest.raises(BrokerRejected, match="Stock ZZZZ not found"):
        sb.submit_order(OrderRequest("ZZZZ", Side.BUY, 1000, 1), lambda: None)


# ------------------------------------------------------------------------------ browser layer
def test_a_second_browser_on_the_same_profile_is_refused_at_once(env, sb):
    other = Browser("intruder", sb.account.profile_path, sb.settings.browser, env.url)
    t0 = time.monotonic()
    with pytest.raises(ProfileBusy, match="in use"):
        other.start()
    assert time.monotonic() - t0 < 1.0
    assert other.driver is None
    assert sb.is_session_valid() is True  # the first one is undisturbed


def test_browser_crash_is_classified_and_the_profile_recovers(env, sb):
    profile = sb.account.profile_path
    # a clean restart writes the session cookie to the profile (Chromium flushes on close)
    sb.close()
    sb.start()
    assert sb.is_session_valid() is True
    assert crash_browser(profile) > 0
    with pytest.raises(BrowserCrashed):
        sb.get_open_orders()
    sb.close()
    assert profile_processes(profile) == []
    sb.start()
    assert sb.is_session_valid() is True  # still logged in
    assert isinstance(sb.get_open_orders(), list)
