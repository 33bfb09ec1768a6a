"""A broker defined only by a selectors file and an accounts.yaml entry (adapter: generic)."""

from __future__ import annotations

import pytest

from adapter_helpers import ROOT, below
from adapters import create_adapter
from adapters.base import BrokerRejected, OrderRequest, OrderStatus, Side
from adapters.generic import SelectorAdapter
from configs import write_config
from robot.config import load_config

pytestmark = pytest.mark.browser

ACC = "LOTUS_1"


def write_lotus_config(env, tmp_path) -> str:
    """The fourth broker is nothing but this entry and its selectors file."""
    return str(
        write_config(
            tmp_path,
            [(ACC, "lotus")],
            {
                "state_db": str(tmp_path / "state.db"),
                "action_timeout_s": 10,
                "browser": {"driver": "selenium", "launch_stagger_s": 0, "headless": True},
            },
            brokers={
                "lotus": {
                    "adapter": "generic",
                    "selectors": str(ROOT / "tests" / "simulator" / "lotus.json"),
                    "base_url": env.url,
                }
            },
        )
    )


def test_a_fourth_broker_needs_no_code(env, tmp_path):
    sim, clock = env.sim, env.clock
    cfg = load_config(write_lotus_config(env, tmp_path))
    account = cfg.account(ACC)
    broker = cfg.broker_of(account)
    assert (broker.name, broker.adapter, broker.base_url) == ("lotus", "generic", env.url)
    assert account.profile_path == (tmp_path / "profiles" / ACC).resolve()
    adapter = create_adapter(account, broker, cfg.settings, clock)
    assert type(adapter) is SelectorAdapter
    assert adapter.native_tp_cl is True
    adapter.start()
    try:
        assert adapter.is_session_valid() is False
        adapter.login(ACC, "demo")
        assert adapter.is_session_valid() is True

        price = sim.quote("BBCA")
        sim.set_price("BBCA", price)
        assert adapter.last_price("BBCA") == price

        bought = adapter.submit_order(
            OrderRequest("BBCA", Side.BUY, price, 3, tp=price + 500, cl=price - 500), lambda: None
        )
        working = adapter.submit_order(
            OrderRequest("BBCA", Side.BUY, below(price), 1), lambda: None
        )
        withdrawn = adapter.submit_order(
            OrderRequest("BBCA", Side.BUY, below(price), 2), lambda: None
        )
        sim.add_fault(
            {"kind": "partial_fill", "skin": "lotus", "account": ACC, "emiten": "TLKM", "lots": 1}
        )
        tlkm = sim.quote("TLKM")
        sim.set_price("TLKM", tlkm)
        partial = adapter.submit_order(OrderRequest("TLKM", Side.BUY, tlkm, 4), lambda: None)
        sold = adapter.submit_order(OrderRequest("BBCA", Side.SELL, price, 1), lambda: None)
        with pytest.raises(BrokerRejected, match="Insufficient shares"):
            adapter.submit_order(
                OrderRequest("BBRI", Side.SELL, sim.quote("BBRI"), 5), lambda: None
            )
        refused = sim.ledger(account=ACC)[-1]["order_id"]

        open_rows = {o.order_id: o for o in adapter.get_open_orders()}
        assert set(open_rows) == {working.order_id, withdrawn.order_id, partial.order_id}
        assert (open_rows[partial.order_id].filled, open_rows[partial.order_id].status) == (
            1,
            OrderStatus.PARTIAL,
        )
        assert adapter.cancel_order(withdrawn.order_id) == f"Order {withdrawn.order_id} withdrawn"

        ledger = {o["order_id"]: o for o in sim.ledger(account=ACC)}
        assert (ledger[bought.order_id]["tp"], ledger[bought.order_id]["cl"]) == (
            price + 500,
            price - 500,
        )
        assert ledger[sold.order_id]["side"] == "sell"
        history = {o.order_id: o for o in adapter.get_order_history()}
        expected = {
            bought.order_id: OrderStatus.MATCHED,
            working.order_id: OrderStatus.OPEN,
            withdrawn.order_id: OrderStatus.WITHDRAWN,
            partial.order_id: OrderStatus.PARTIAL,
            sold.order_id: OrderStatus.MATCHED,
            refused: OrderStatus.REJECTED,
        }
        assert {k: history[k].status for k in expected} == expected
        assert {k: ledger[k]["status"] for k in expected} == {
            k: v.value for k, v in expected.items()
        }
        assert history[sold.order_id].side == Side.SELL

        positions = {p.emiten: (p.lot, p.avg_price) for p in adapter.get_portfolio()}
        assert positions == sim.holdings("lotus", ACC)
        assert positions["BBCA"] == (2, price) and positions["TLKM"] == (1, tlkm)

        clock.set("16:01")  # the close: day orders still working lapse
        sim.step()
        history = {o.order_id: o.status for o in adapter.get_order_history()}
        assert history[working.order_id] == OrderStatus.EXPIRED
        assert history[partial.order_id] == OrderStatus.EXPIRED
        assert history[bought.order_id] == OrderStatus.MATCHED
        assert adapter.get_open_orders() == []
    finally:
        adapter.close()
