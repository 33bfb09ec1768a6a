"""Every skin in real headless Chromium, driven only through its selectors file."""

from __future__ import annotations

import re

import pytest

from sim_webflow import Flow, load_selectors

pytestmark = pytest.mark.browser

SCENARIO = {"emitens": {"BBCA": {"prev_close": 9800, "path": [["09:00", 9800], ["10:30", 9700]]}}}


def order_id(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, f"no order id in toast {text!r}"
    return match.group(1)


@pytest.mark.parametrize("broker", ["stockbit", "ipot", "ajaib", "lotus"])
def test_login_order_fill_cancel(make_sim, clock, chrome, broker):
    sim = make_sim(SCENARIO)
    sel = load_selectors(broker)
    account = f"ACC_{broker.upper()}"
    flow = Flow(chrome(), sim.url, sel)
    flow.open("history")
    assert flow.on_login_page()  # logged out: redirected to the login page
    flow.login(account, "demo")

    native = sel["native_tp_cl"]
    kind, text = flow.place(
        "BBCA", 9700, 2, tp=9900 if native else None, cl=9600 if native else None, pin="123456"
    )
    assert kind == "success", text
    filled_id = order_id(text)
    kind, text = flow.place("BBCA", 9500, 1, pin="123456")
    assert kind == "success", text
    open_id = order_id(text)
    rows = {r["order_id"]: r for r in flow.orders("open_orders")}
    assert set(rows) == {filled_id, open_id}
    assert (
        rows[filled_id]["status"],
        rows[filled_id]["price"],
        rows[filled_id]["lot"],
        rows[filled_id]["side"],
    ) == ("OPEN", 9700, 2, "buy")
    assert flow.quote("BBCA") == 9800

    clock.set("10:30")  # the price comes down to 9700
    history = {r["order_id"]: r for r in flow.orders("history")}
    assert (history[filled_id]["status"], history[filled_id]["filled"]) == ("MATCHED", 2)
    (holding,) = flow.table("portfolio")
    assert holding["emiten"] == "BBCA" and flow.number(holding["lot"]) == 2
    assert flow.number(holding["avg_price"]) == 9700

    kind, text = flow.cancel(open_id)
    assert kind == "success" and open_id in text
    assert {r["order_id"]: r["status"] for r in flow.orders("history")}[open_id] == "WITHDRAWN"

    kind, text = flow.place("BBCA", 9710, 1, pin="123456")  # off the 25-rupiah tick
    assert kind == "error" and "multiple of 25" in text

    # Sells of held lots (how the robot emulates TP/CL where the broker has none).
    kind, text = flow.place("BBCA", 9700, 3, side="sell", pin="123456")
    assert kind == "error" and "Insufficient shares" in text
    kind, text = flow.place("BBCA", 9700, 2, side="sell", pin="123456")
    assert kind == "success", text
    sell_id = order_id(text)
    assert flow.table("portfolio") == []

    ledger = {o["order_id"]: o for o in sim.ledger()}
    assert {o["account"] for o in ledger.values()} == {account}
    assert ledger[filled_id]["status"] == "MATCHED"
    assert (ledger[filled_id]["tp"], ledger[filled_id]["cl"]) == (
        (9900, 9600) if native else (None, None)
    )
    assert ledger[open_id]["status"] == "WITHDRAWN"
    assert (ledger[sell_id]["side"], ledger[sell_id]["status"]) == ("sell", "MATCHED")
    assert sum(o["status"] == "REJECTED" for o in ledger.values()) == 2


def test_session_survives_a_browser_restart(make_sim, chrome, tmp_path):
    sim = make_sim()
    sel = load_selectors("stockbit")
    profile = tmp_path / "persistent-profile"
    first = chrome(profile)
    Flow(first, sim.url, sel).login("ACC_STOCKBIT", "demo")
    first.quit()
    second = Flow(chrome(profile), sim.url, sel)
    second.open("portfolio")
    assert second.find(sel["login_check"]).text.startswith("ACC_STOCKBIT")


def test_session_expiry_redirects_to_login(make_sim, clock, chrome):
    sim = make_sim(
        {
            "faults": [
                {"kind": "session_expiry", "skin": "ajaib", "account": "ACC_AJAIB", "at": "10:30"}
            ]
        }
    )
    flow = Flow(chrome(), sim.url, load_selectors("ajaib"))
    flow.login("ACC_AJAIB", "demo")
    flow.open("portfolio")
    assert flow.logged_in()
    clock.set("10:30")
    flow.open("portfolio")
    flow.find(flow.sel["login_form"]["username"])
    assert not flow.logged_in() and "/ajaib/masuk?next=" in flow.d.current_url
    flow.login("ACC_AJAIB", "demo")  # logging in again works
    assert flow.logged_in()
