"""A broker-native take-profit that the broker forgets: the robot reports it and sells nothing.

The order engine with the generic adapter on the lotus skin (native TP/CL) in real Chromium; the
simulator's forget_native_exit fault makes the broker's watch fire and place no sell.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from adapter_helpers import ROOT, ensure_logged_in
from adapters import create_adapter
from robot import rules
from robot.config import load_config
from robot.engine import Engine
from robot.store import Store

pytestmark = pytest.mark.browser

ACC = "LOTUS_W"
DAY = date(2026, 3, 2)


def test_a_forgotten_native_take_profit_is_reported_and_not_sold_by_the_robot(env, tmp_path):
    sim, clock = env.sim, env.clock
    path = tmp_path / "accounts.yaml"
    path.write_text(
        f"""
settings:
  state_db: {tmp_path / "state.db"}
  action_timeout_s: 10
  native_exit_grace_s: 120
  browser: {{driver: selenium, launch_stagger_s: 0, headless: true}}
brokers:
  lotus: {{adapter: generic, selectors: '{ROOT / "tests" / "simulator" / "lotus.json"}',
          base_url: '{env.url}'}}
accounts:
  - {{id: {ACC}, broker: lotus, profile_path: profiles/{ACC}, enabled: true}}
""",
        encoding="utf-8",
    )
    cfg = load_config(str(path))
    account = cfg.account(ACC)
    adapter = create_adapter(account, cfg.broker_of(account), cfg.settings, clock)
    store = Store(tmp_path / "state.db")
    adapter.start()
    try:
        ensure_logged_in(adapter)
        price = sim.quote("BBCA")
        sim.set_price("BBCA", price)
        tp, cl = rules.add_ticks(price, 4), rules.add_ticks(price, -4)
        now = "2026-03-02T09:00:00.000+07:00"
        store.insert_task(
            {
                "task_id": "W1",
                "account": ACC,
                "trading_date": DAY.isoformat(),
                "emiten": "BBCA",
                "side": "buy",
                "price": price,
                "lot": 1,
                "tp": tp,
                "cl": cl,
                "source": "test",
                "payload": "{}",
                "payload_hash": "h",
                "state": "PENDING",
                "created": now,
                "updated": now,
            }
        )
        sim.add_fault({"kind": "forget_native_exit", "skin": "lotus", "account": ACC})
        engine = Engine(store, adapter, account, cfg.settings, clock, DAY)
        engine.step()  # placed; marketable: filled at once
        assert store.task("W1")["state"] == "FILLED"
        sim.set_price("BBCA", tp)  # from this minute on: the TP is reached
        clock.advance(minutes=1)
        engine.step()  # the price read sees the TP
        (buy,) = sim.ledger(account=ACC)
        assert buy["tp_cl_state"] == "forgotten"  # the broker's watch placed nothing
        assert [e["type"] for e in store.query("SELECT type FROM events")].count(
            "NATIVE_EXIT_NOT_SEEN"
        ) == 0
        clock.advance(minutes=3)  # past native_exit_grace_s
        engine.step()
        (event,) = store.query("SELECT payload FROM events WHERE type = 'NATIVE_EXIT_NOT_SEEN'")
        payload = json.loads(event["payload"])
        assert (payload["purpose"], payload["level"], payload["last_price"], payload["lots"]) == (
            "tp",
            tp,
            tp,
            1,
        )
        assert [o["side"] for o in sim.ledger(account=ACC)] == ["buy"]  # the robot sold nothing
        assert store.task("W1")["state"] == "FILLED"
    finally:
        store.close()
        adapter.close()
