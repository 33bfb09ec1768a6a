"""A broker whose pages show less, driven by the generic adapter from its selectors file alone.

The simulator's melati skin (tests/simulator/melati.json): the working orders list has buy
orders only and no side column (``fixed_side``), no table has a time column, the holdings have no
average price, the success toast names no order id, and a login lands on a dashboard without the
logged-in marker. Real Chromium against the simulator.
"""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from adapter_helpers import ROOT, above, below, ensure_logged_in
from adapters import create_adapter
from adapters.base import OrderRequest, OrderStatus, Side
from adapters.generic import SelectorAdapter
from robot.cli import main
from robot.config import load_config
from robot.engine import Engine
from robot.interactive import OperatorError, open_adapter, start, wait_for_login
from robot.store import Store

pytestmark = pytest.mark.browser

ACC = "MELATI_1"  # logged in through the adapter by the first test (session in its profile)
FRESH = "MELATI_2"  # never logged in
DAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def cfg(env):
    folder = env.folder / "melati"
    folder.mkdir()
    path = folder / "accounts.yaml"
    path.write_text(
        f"""
settings:
  state_db: {folder / "state.db"}
  action_timeout_s: 10
  browser: {{driver: selenium, launch_stagger_s: 0, headless: true}}
brokers:
  melati:
    adapter: generic
    selectors: {ROOT / "tests" / "simulator" / "melati.json"}
    base_url: {env.url}
accounts:
  - {{id: {ACC}, broker: melati, profile_path: profiles/{ACC}, enabled: true}}
  - {{id: {FRESH}, broker: melati, profile_path: profiles/{FRESH}, enabled: true}}
""",
        encoding="utf-8",
    )
    return path


def adapter_of(env, cfg, account_id: str) -> SelectorAdapter:
    config = load_config(str(cfg))
    account = config.account(account_id)
    adapter = create_adapter(account, config.broker_of(account), config.settings, env.clock)
    assert type(adapter) is SelectorAdapter and adapter.native_tp_cl is False
    return adapter


def test_the_generic_adapter_reads_tables_that_lack_columns(env, cfg):
    sim = env.sim
    adapter = adapter_of(env, cfg, ACC)
    adapter.start()
    try:
        assert adapter.is_session_valid() is False
        adapter.login(ACC, "demo")  # lands on the dashboard, which has no marker
        assert adapter.is_session_valid() is True

        price = sim.quote("BBCA")
        sim.set_price("BBCA", price)
        bought = adapter.submit_order(OrderRequest("BBCA", Side.BUY, price, 3), lambda: None)
        assert bought.message == "Pesanan beli BBCA 3 lot diterima"
        assert bought.order_id is None  # the toast names no order
        working = adapter.submit_order(
            OrderRequest("BBCA", Side.BUY, below(price), 1), lambda: None
        )
        sold = adapter.submit_order(OrderRequest("BBCA", Side.SELL, price, 1), lambda: None)
        resting = adapter.submit_order(
            OrderRequest("BBCA", Side.SELL, above(price), 1), lambda: None
        )
        assert all(r.order_id is None for r in (working, sold, resting))
        ids = [o["order_id"] for o in sim.ledger(account=ACC)]
        bought_id, working_id, sold_id, resting_id = ids

        # the working list shows buys only, without a side column: fixed_side says buy
        (row,) = adapter.get_open_orders()
        assert (row.order_id, row.side, row.price, row.lot, row.filled, row.status, row.time) == (
            working_id,
            Side.BUY,
            below(price),
            1,
            0,
            OrderStatus.OPEN,
            None,
        )
        # the history has a side column and no time; the resting sell is there, live
        history = {o.order_id: o for o in adapter.get_order_history()}
        assert {k: (o.side, o.status) for k, o in history.items()} == {
            bought_id: (Side.BUY, OrderStatus.MATCHED),
            working_id: (Side.BUY, OrderStatus.OPEN),
            sold_id: (Side.SELL, OrderStatus.MATCHED),
            resting_id: (Side.SELL, OrderStatus.OPEN),
        }
        assert {o.time for o in history.values()} == {None}

        (position,) = adapter.get_portfolio()  # no average price on this page
        assert (position.emiten, position.lot, position.avg_price, position.last_price) == (
            "BBCA",
            2,
            None,
            price,
        )
        assert sim.holdings("melati", ACC)["BBCA"][0] == 2

        assert adapter.cancel_order(working_id) == f"Order {working_id} withdrawn"
        assert adapter.get_open_orders() == []
    finally:
        adapter.close()  # a clean close saves the session cookie in the profile


def test_the_read_back_leaves_out_a_look_alike_listed_before_the_intent(env, cfg, tmp_path):
    """No time column and no order id in the toast: a manual order of the same fields already
    at the broker would make two candidates. It was listed in a read before the robot's intent
    was written, so the robot adopts the order its own click placed."""
    sim = env.sim
    adapter = adapter_of(env, cfg, ACC)
    adapter.start()
    store = Store(tmp_path / "state.db")
    try:
        ensure_logged_in(adapter)
        price = below(sim.quote("TLKM"))  # stays open
        adapter.submit_order(OrderRequest("TLKM", Side.BUY, price, 1), lambda: None)  # by hand
        manual = sim.ledger(account=ACC)[-1]["order_id"]
        now = "2026-03-02T09:00:00.000+07:00"
        store.insert_task(
            {
                "task_id": "M1",
                "account": ACC,
                "trading_date": DAY.isoformat(),
                "emiten": "TLKM",
                "side": "buy",
                "price": price,
                "lot": 1,
                "source": "test",
                "payload": "{}",
                "payload_hash": "h",
                "state": "PENDING",
                "created": now,
                "updated": now,
            }
        )
        config = load_config(str(cfg))
        account = config.account(ACC)
        engine = Engine(store, adapter, account, config.settings, env.clock, DAY)
        engine.step()  # reads the lists (the manual order), then places M1
        ours = sim.ledger(account=ACC)[-1]["order_id"]
        assert ours != manual
        task = store.task("M1")
        (entry,) = store.orders_of("M1")
        assert (task["state"], entry["broker_order_id"]) == ("OPEN", ours)
    finally:
        store.close()
        adapter.close()


def robot(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_robot_login_looks_for_the_marker_where_the_landing_page_lacks_it(env, cfg):
    """The saved session makes the login page redirect to the dashboard, which has no
    logged-in marker: robot login looks on the open orders page and finishes."""
    adapter = adapter_of(env, cfg, ACC)
    adapter.start()
    try:
        ensure_logged_in(adapter)  # the session robot login --headless finds in the profile
    finally:
        adapter.close()
    result = robot("login", ACC, "--config", cfg, "--headless", "--timeout", 60)
    assert result.exit_code == 0, result.output
    assert f"{ACC}: logged in to melati" in result.output


def test_robot_login_never_leaves_the_login_page_while_it_shows(env, cfg):
    account, adapter = open_adapter(str(cfg), FRESH, headless=True, clock=env.clock)
    start(adapter, account)
    try:
        with pytest.raises(OperatorError, match="not logged in after 3 s"):
            wait_for_login(adapter, timeout=3, poll=0.2)
        assert adapter.driver.current_url == adapter.url("login")
    finally:
        adapter.close()
