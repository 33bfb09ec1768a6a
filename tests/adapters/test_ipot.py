"""IPOT: the trading PIN on a randomised pad, read from the environment, never logged."""

from __future__ import annotations

import logging

import pytest

from adapters.base import AdapterError, BrokerRejected, OrderRequest, OrderStatus, Side

pytestmark = pytest.mark.browser

ACC = "IPOT_PIN"
PIN = "482916"  # not the simulator's default 123456
PIN_ENV = "ROBOT_TEST_IPOT_PIN"
SCENARIO = {"accounts": {ACC: {"broker": "ipot", "pin": PIN}}}


@pytest.fixture(scope="module")
def started(env):
    with env.started("ipot", ACC, pin_env=PIN_ENV) as adapter:
        yield adapter


@pytest.fixture
def ipot(env, started, monkeypatch, caplog):
    """A fresh broker session (so the PIN pad is shown again), the PIN in the environment, and
    every log record captured at DEBUG (Selenium's wire traffic included)."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(PIN_ENV, PIN)
    env.sim.expire_session("ipot", ACC)
    started.login(ACC, "demo")
    assert pad_shown(started)
    yield started
    env.sim.clear_faults()


def pad_shown(adapter) -> bool:
    adapter.driver.get(adapter.url("order"))
    return bool(adapter.driver.find_elements("css selector", adapter.sel["pin_pad"]["container"]))


def pad_layout(adapter) -> str:
    adapter.driver.get(adapter.url("order"))
    keys = adapter.driver.find_elements("css selector", adapter.sel["pin_pad"]["key"])
    return "".join(k.text.strip() for k in keys)


def assert_never_logged(caplog, *secrets: str) -> None:
    text = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged: the check would be empty"
    for secret in secrets:
        assert secret not in text


def test_the_pad_is_randomised(env, ipot):
    layouts = {pad_layout(ipot) for _ in range(3)}
    assert all(sorted(lay) == list("0123456789") for lay in layouts)
    assert len(layouts) > 1  # the same shuffle three times: 1 in 10!^2


def test_pin_from_the_environment_unlocks_trading(env, ipot, monkeypatch, caplog):
    price = env.sim.quote("BBCA")
    before = len(env.ledger(ACC))
    calls = env.calls(ACC)
    result = ipot.submit_order(
        OrderRequest("BBCA", Side.BUY, price, 2), calls.before, after_click=calls.after
    )
    assert result.message == f"Order {result.order_id} placed"
    assert calls.names == ["before_click", "after_click"]
    (order,) = env.ledger(ACC)[before:]
    assert (order["order_id"], order["price"], order["lots"]) == (result.order_id, price, 2)
    # the session stays unlocked: the next order needs no PIN (the variable is gone)
    monkeypatch.delenv(PIN_ENV)
    second = ipot.submit_order(OrderRequest("BBCA", Side.BUY, price, 1), lambda: None)
    assert second.order_id not in (None, result.order_id)
    # Indonesian number format in the tables: 9.050 reads as 9050
    rows = {o.order_id: o for o in ipot.get_order_history()}
    assert rows[result.order_id].price == price and rows[result.order_id].lot == 2
    assert rows[result.order_id].status == OrderStatus(order["status"])
    assert ipot.last_price("BBCA") == price
    assert_never_logged(caplog, PIN)


def test_probe_checks_the_form_once_the_pin_was_entered(env, ipot):
    from robot.probe import FOUND, NOT_CHECKED, probe_account

    ipot.submit_order(OrderRequest("BBCA", Side.BUY, env.sim.quote("BBCA"), 1), lambda: None)
    report = probe_account(ipot, ACC, "BBCA")
    checks = {c.key: c for c in report.checks}
    assert checks["order_form.stock_input"].status == FOUND
    assert checks["order_form.submit_btn"].status == FOUND
    assert checks["pin_pad.container"].status == NOT_CHECKED
    assert report.ok, report.render_text()


def test_wrong_pin_is_refused(env, ipot, monkeypatch, caplog):
    wrong = "135790"
    monkeypatch.setenv(PIN_ENV, wrong)
    before = len(env.ledger(ACC))
    calls = env.calls(ACC)
    with pytest.raises(BrokerRejected) as err:
        ipot.submit_order(OrderRequest("BBCA", Side.BUY, env.sim.quote("BBCA"), 1), calls.before)
    assert "PIN refused" in str(err.value) and "PIN salah" in err.value.text
    assert calls.names == []  # the order form was never reached
    assert len(env.ledger(ACC)) == before
    assert pad_shown(ipot)  # still locked
    assert_never_logged(caplog, wrong, PIN)


def test_missing_pin_variable_names_it(env, ipot, monkeypatch, caplog):
    monkeypatch.delenv(PIN_ENV)
    before = len(env.ledger(ACC))
    calls = env.calls(ACC)
    with pytest.raises(AdapterError) as err:
        ipot.submit_order(OrderRequest("BBCA", Side.BUY, env.sim.quote("BBCA"), 1), calls.before)
    assert not isinstance(err.value, BrokerRejected)
    assert PIN_ENV in str(err.value) and ACC in str(err.value)
    assert calls.names == [] and len(env.ledger(ACC)) == before
    assert pad_shown(ipot)
    assert_never_logged(caplog, PIN)


def test_probe_reports_the_pad_without_typing(env, ipot):
    from robot.probe import FOUND, NOT_CHECKED, probe_account

    before = len(env.ledger(ACC))
    report = probe_account(ipot, ACC, "BBCA")
    checks = {c.key: c for c in report.checks}
    assert report.logged_in
    assert checks["pin_pad.container"].status == FOUND
    assert checks["pin_pad.key"].status == FOUND and checks["pin_pad.key"].count == 10
    assert checks["pin_pad.submit"].status == FOUND
    assert checks["order_form.stock_input"].status == NOT_CHECKED
    assert "PIN pad" in checks["order_form.stock_input"].note
    assert report.ok, report.render_text()
    assert pad_shown(ipot)  # nothing was typed: still locked
    assert len(env.ledger(ACC)) == before
