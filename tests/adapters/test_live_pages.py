"""Live pages (stockbit's selectors list them): a tab per page, read without a load while current,
reloaded when another URL shows, the data is old, or the tab is gone; and the order form filled
by a script (fill: "script"). Real headless Chromium against the simulator's live skin."""

from __future__ import annotations

import json

import pytest

from adapter_helpers import SELECTORS, above, below, ensure_logged_in
from adapters.base import OrderRequest, Side

pytestmark = pytest.mark.browser

ACC = "SB_LIVE"
SKIN = "stockbit"


class Commands:
    """The WebDriver commands an adapter sends (its real driver's execute, recorded)."""

    def __init__(self, adapter, monkeypatch):
        self.names: list[str] = []
        execute = adapter.driver.execute

        def recording(command, *a, **kw):
            self.names.append(command)
            return execute(command, *a, **kw)

        monkeypatch.setattr(adapter.driver, "execute", recording)

    def loads(self) -> int:
        return self.names.count("get")


def open_ids(adapter) -> set[str]:
    return {o.order_id for o in adapter.get_open_orders()}


def test_a_current_live_list_is_read_in_one_script_without_a_load(env, sb, monkeypatch):
    price = env.sim.quote("BBRI")
    open_ids(sb)  # the tab exists and was read
    result = sb.submit_order(OrderRequest("BBRI", Side.BUY, below(price), 1), lambda: None)
    commands = Commands(sb, monkeypatch)
    assert result.order_id in open_ids(sb)  # the page's own poll brought the new row
    assert commands.loads() == 0
    commands.names.clear()
    assert result.order_id in open_ids(sb)
    assert commands.names == ["executeScript"] or commands.names == ["w3cExecuteScript"]


def test_the_order_form_tab_is_reused_for_the_next_order(env, sb, monkeypatch):
    price = env.sim.quote("BMRI")
    sb.submit_order(OrderRequest("BMRI", Side.BUY, below(price), 1), lambda: None)
    commands = Commands(sb, monkeypatch)
    before = len(env.ledger(ACC))
    result = sb.submit_order(OrderRequest("BMRI", Side.BUY, below(price, 12), 2), lambda: None)
    (order,) = env.ledger(ACC)[before:]
    assert result.order_id == order["order_id"]  # its own toast, not the earlier order's
    assert (order["price"], order["lots"]) == (below(price, 12), 2)
    assert commands.loads() == 0
    assert commands.names.count("actions") == 1  # every field typed in one perform()


def test_a_tab_showing_another_page_is_reloaded(env, sb):
    open_ids(sb)
    sb.driver.get(env.url + "/stockbit/trade")  # something navigated the open orders tab away
    price = env.sim.quote("TLKM")
    oid = sb.submit_order(OrderRequest("TLKM", Side.BUY, below(price), 1), lambda: None).order_id
    assert oid in open_ids(sb)


def test_old_data_is_reloaded(env, sb, monkeypatch):
    """#last-updated older than max_age_s on the robot's clock: the page is not trusted."""
    open_ids(sb)
    commands = Commands(sb, monkeypatch)
    open_ids(sb)
    assert commands.loads() == 0
    env.clock.advance(seconds=sb.tabs.max_age.total_seconds() + 5)  # the page's stamp is now old
    commands.names.clear()
    open_ids(sb)
    assert commands.loads() == 1


def test_a_closed_tab_is_opened_again(env, sb):
    open_ids(sb)
    sb.driver.close()  # the open orders tab (the active one) is gone
    price = env.sim.quote("ASII")
    oid = sb.submit_order(OrderRequest("ASII", Side.BUY, below(price), 1), lambda: None).order_id
    assert oid in open_ids(sb)


def test_the_form_filled_by_a_script(env, tmp_path, monkeypatch):
    data = json.loads(SELECTORS[SKIN].read_text())
    data["fill"] = "script"
    path = tmp_path / "stockbit-script.json"
    path.write_text(json.dumps(data))
    with env.started(SKIN, "SB_SCRIPT", selectors=path) as adapter:
        ensure_logged_in(adapter)
        price = env.sim.quote("UNVR")
        env.sim.set_price("UNVR", price)
        commands = Commands(adapter, monkeypatch)
        before = len(env.ledger("SB_SCRIPT"))
        tp, cl = above(price), below(price)
        adapter.submit_order(OrderRequest("UNVR", Side.BUY, price, 2, tp=tp, cl=cl), lambda: None)
        (order,) = env.ledger("SB_SCRIPT")[before:]
        assert (order["emiten"], order["price"], order["lots"]) == ("UNVR", price, 2)
        assert (order["tp"], order["cl"]) == (tp, cl)
        # the next order has no TP/CL: the live form must not keep the last one's
        adapter.submit_order(OrderRequest("UNVR", Side.BUY, below(price, 5), 1), lambda: None)
        (second,) = env.ledger("SB_SCRIPT")[before + 1 :]
        assert (second["tp"], second["cl"]) == (None, None)
        assert commands.names.count("actions") == 0  # no key events: the script set them


def test_a_live_page_without_a_last_updated_element_is_reloaded_when_unchanged_too_long(
    env, tmp_path, monkeypatch
):
    """No time on the page: a change since the last read shows it is live; rows unchanged for
    max_age_s (the robot's clock) are not trusted, and the page is reloaded."""
    data = json.loads(SELECTORS[SKIN].read_text())
    del data["live"]["last_updated"]
    path = tmp_path / "stockbit-no-stamp.json"
    path.write_text(json.dumps(data))
    with env.started(SKIN, "SB_NOSTAMP", selectors=path) as adapter:
        ensure_logged_in(adapter)
        open_ids(adapter)
        price = env.sim.quote("BBNI")
        oid = adapter.submit_order(
            OrderRequest("BBNI", Side.BUY, below(price), 1), lambda: None
        ).order_id  # (its order tab is loaded now, the first time)
        commands = Commands(adapter, monkeypatch)
        assert oid in open_ids(adapter)  # the new row: the page is live
        open_ids(adapter)
        assert commands.loads() == 0
        env.clock.advance(seconds=adapter.tabs.max_age.total_seconds() + 5)
        assert oid in open_ids(adapter)
        assert commands.loads() == 1  # unchanged for longer than max_age_s: reloaded
