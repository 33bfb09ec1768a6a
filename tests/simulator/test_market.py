"""The market model through the broker forms: fills, partial fills, native TP/CL, expiry,
rejections."""

from __future__ import annotations

import pytest

from sim_client import WebClient

# BBCA 9800 (tick 25, ARB 8350, ARA 11750); TLKM 2700 (tick 10); ANTM 1500 (tick 5).
SCRIPTED = {
    "seed": 7,
    "accounts": {
        "RICH": {"holdings": {"TLKM": {"lots": 10, "avg_price": 2600}}},
        "POOR": {"trading_limit": 1_000_000},
    },
    "emitens": {
        "BBCA": {
            "prev_close": 9800,
            "path": [["09:00", 9800], ["10:10", 9750], ["10:30", 9900], ["11:00", 9600]],
        },
        "TLKM": {"prev_close": 2700, "path": [["09:00", 2700], ["10:20", 2750]]},
        "ANTM": {"prev_close": 1500, "volume": 4, "path": [["09:00", 1500], ["10:10", 1490]]},
    },
}


def orders(sim, **kw):
    return sim.ledger(**kw)


def test_limit_buy_fills_when_price_reaches_it(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    kind, text = web.order("BBCA", 9750, 2)
    assert kind == "success" and text.startswith("Order 1000")
    order_id = text.split()[1]
    assert web.table("open_orders")[0]["Order ID"] == order_id
    clock.set("10:09")
    assert orders(sim)[0]["status"] == "OPEN"
    clock.set("10:10:30")
    (o,) = orders(sim)
    assert o["status"] == "MATCHED" and o["filled_lots"] == 2
    assert o["fills"] == [{"time": "2026-03-02T10:10:00.000+07:00", "lots": 2, "price": 9750}]
    assert web.table("open_orders") == []
    row = web.table("history")[0]
    assert (row["Status"], row["Filled"], row["Side"]) == ("Matched", "2", "Buy")
    assert web.table("portfolio") == [
        {"Stock": "BBCA", "Lot": "2", "Avg Price": "9750", "Last Price": "9750"}
    ]


def test_marketable_order_fills_at_once(make_sim):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9800, 1)
    assert orders(sim)[0]["status"] == "MATCHED"


def test_native_take_profit_exit_is_its_own_sell_order(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9750, 2, tp=9900, cl=9600)
    clock.set("10:45")
    buy, exit_ = orders(sim)
    assert buy["status"] == "MATCHED" and buy["tp_cl_state"] == "tp"
    assert exit_["side"] == "sell" and exit_["parent_id"] == buy["order_id"]
    assert exit_["exit_kind"] == "tp" and exit_["fills"][0]["price"] == 9900
    assert exit_["fills"][0]["time"].startswith("2026-03-02T10:30:00")
    hist = web.table("history")
    assert hist[0]["Parent"] == buy["order_id"] and hist[0]["Side"] == "Sell"
    assert web.table("portfolio") == []


def test_native_cut_loss_exit_sells_at_market_after_a_gap(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "ajaib")
    web.login()
    web.order("BBCA", 9750, 1, tp=10000, cl=9700)  # 9600 at 11:00 gaps through 9700
    clock.set("11:05")
    buy, exit_ = orders(sim)
    assert buy["tp_cl_state"] == "cl"
    assert exit_["exit_kind"] == "cl" and exit_["price"] == 9700
    assert exit_["fills"][0]["price"] == 9600 and exit_["fills"][0]["time"].endswith(
        "11:00:00.000+07:00"
    )


def test_a_forgotten_native_exit_places_nothing(make_sim, clock):
    """forget_native_exit: the broker's TP/CL watch fires and silently places no sell, the
    position stays (what the robot's NATIVE_EXIT_NOT_SEEN is for)."""
    sim = make_sim(
        {
            **SCRIPTED,
            "faults": [
                {
                    "kind": "forget_native_exit",
                    "skin": "stockbit",
                    "emiten": "BBCA",
                    "from": "10:20",
                }
            ],
        }
    )
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9750, 2, tp=9900, cl=9600)  # filled 10:10; 9900 from 10:30
    clock.set("10:45")
    (buy,) = orders(sim)
    assert buy["status"] == "MATCHED" and buy["tp_cl_state"] == "forgotten"
    assert [r["Side"] for r in web.table("history")] == ["Buy"]
    assert web.table("portfolio")[0]["Lot"] == "2"
    other = WebClient(sim, "lotus")  # another skin is not affected
    other.login()
    other.order("BBCA", 9900, 1, tp=10000, cl=9800)  # filled 10:45; 9600 at 11:00
    clock.set("11:05")
    assert orders(sim)[-1]["exit_kind"] == "cl"


def test_forced_tp_hit_from_scenario(make_sim, clock):
    sim = make_sim(
        {
            **SCRIPTED,
            "tasks": [
                {
                    "task_id": "X1",
                    "account": "ACC1",
                    "emiten": "TLKM",
                    "price": 2690,
                    "lot": 1,
                    "tp": 2800,
                    "cl": 2600,
                }
            ],
            "faults": [{"kind": "tp_hit", "task": "X1", "at": "10:40"}],
        }
    )
    web = WebClient(sim, "lotus")
    web.login()
    web.order("TLKM", 2700, 1, tp=2800, cl=2600)
    clock.set("10:39")
    assert sim.quote("TLKM") == 2750
    clock.set("10:41")
    assert sim.quote("TLKM") == 2800
    exit_ = orders(sim)[-1]
    assert exit_["exit_kind"] == "tp" and exit_["price"] == 2800
    assert web.table("history")[0]["State"] == "Filled"


def test_forced_cl_hit_from_scenario(make_sim, clock):
    sim = make_sim(
        {**SCRIPTED, "faults": [{"kind": "cl_hit", "emiten": "TLKM", "price": 2650, "at": "10:15"}]}
    )
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("TLKM", 2700, 3, tp=2800, cl=2650)
    clock.set("10:16")
    exit_ = orders(sim)[-1]
    assert (exit_["exit_kind"], exit_["lots"], exit_["fills"][0]["price"]) == ("cl", 3, 2650)


def test_partial_fill_then_expiry_keeps_the_fills(make_sim, clock):
    sim = make_sim({**SCRIPTED, "faults": [{"kind": "partial_fill", "emiten": "BBCA", "lots": 3}]})
    web = WebClient(sim, "ipot")
    web.login()
    web.unlock()
    web.order("BBCA", 9800, 10)
    (o,) = orders(sim)
    assert (o["status"], o["filled_lots"]) == ("PARTIAL", 3)
    assert web.table("open_orders")[0]["Status"] == "Partial"
    clock.set("15:59")
    assert orders(sim)[0]["status"] == "PARTIAL"
    clock.set("16:00")
    (o,) = orders(sim)
    assert (o["status"], o["filled_lots"]) == ("EXPIRED", 3)
    assert web.table("history")[0]["Status"] == "Expired"
    assert sim.holdings("ipot", "ACC1") == {"BBCA": (3, 9800)}


def test_volume_per_minute_spreads_fills(make_sim, clock):
    sim = make_sim(SCRIPTED)  # ANTM: 4 lots per minute
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("ANTM", 1500, 10)
    assert orders(sim)[0]["filled_lots"] == 4
    clock.set("10:02")
    (o,) = orders(sim)
    assert o["status"] == "MATCHED" and [f["lots"] for f in o["fills"]] == [4, 4, 2]


def test_unmatched_order_expires_at_close_and_tp_cl_lapses(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 8400, 1)  # never reached
    web.order("TLKM", 2700, 1, tp=2900, cl=2500)  # filled, exits never trigger
    clock.set("2026-03-02 16:00:01")
    never, held = orders(sim)
    assert never["status"] == "EXPIRED" and never["filled_lots"] == 0
    assert held["status"] == "MATCHED" and held["tp_cl_state"] == "lapsed"


def test_no_fill_fault(make_sim, clock):
    sim = make_sim({**SCRIPTED, "faults": [{"kind": "no_fill", "account": "ACC1"}]})
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9800, 1)
    assert orders(sim)[0]["status"] == "OPEN"


@pytest.mark.parametrize(
    "form, reason",
    [
        (("BBCA", 9810, 1), "Invalid price 9810: price must be a multiple of 25"),
        (("BBCA", 9800, 0), "Invalid lot 0"),
        (("BBCA", 9800, 50001), "Invalid lot 50001"),
        (("BBCA", 11775, 1), "above the auto rejection limit (ARA 11750)"),
        (("BBCA", 8325, 1), "below the auto rejection limit (ARB 8350)"),
        (("XXXX", 100, 1), "Stock XXXX not found"),
        (("BBCA", "abc", 1), "Invalid price"),
        (("BBCA", 9800, 1, 9700, None), "Take profit 9700 must be higher"),
        (("BBCA", 9800, 1, None, 9900), "Cut loss 9900 must be lower"),
    ],
)
def test_rejections_show_the_broker_error(make_sim, form, reason):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    kind, text = web.order(*form)
    assert kind == "error" and text.startswith("Order rejected:") and reason in text
    (o,) = orders(sim)
    assert o["status"] == "REJECTED" and o["rejected"] and reason in o["reason"]
    assert web.table("history")[0]["Status"] == "Rejected"


@pytest.mark.parametrize(
    "when, message",
    [
        ("12:30", "Market is closed for the lunch break"),
        ("15:51", "Market is closed for new orders (pre closing)"),
        ("17:00", "Market is closed"),
    ],
)
def test_orders_outside_hours_are_rejected(make_sim, clock, when, message):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "ajaib")
    web.login()
    clock.set(when)
    kind, text = web.order("BBCA", 9800, 1)
    assert kind == "error" and message in text


def test_pre_opening_orders_wait_for_the_open(make_sim):
    from simulator.testing import ManualClock

    early = ManualClock("2026-03-02 08:50")
    sim = make_sim(SCRIPTED, clock=early)
    web = WebClient(sim, "stockbit")
    web.login()
    assert web.order("BBCA", 9800, 1)[0] == "success"
    assert orders(sim)[0]["status"] == "OPEN"
    early.set("09:00")
    assert orders(sim)[0]["status"] == "MATCHED"


def test_weekend_is_closed(make_sim):
    from simulator.testing import ManualClock

    sim = make_sim(SCRIPTED, clock=ManualClock("2026-03-07 10:00"))  # Saturday
    web = WebClient(sim, "stockbit")
    web.login()
    assert web.order("BBCA", 9800, 1) == ("error", "Order rejected: Market is closed")


def test_selling_more_than_held_is_rejected_and_held_lots_can_be_sold(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "ipot", account="RICH")
    web.login()
    web.unlock()
    assert web.table("portfolio")[0]["Lot"] == "10"
    kind, text = web.order("TLKM", 2750, 11, side="sell")
    assert kind == "error" and "Insufficient shares: 10 lot(s)" in text
    assert web.order("TLKM", 2750, 6, side="sell")[0] == "success"
    kind, text = web.order("TLKM", 2750, 5, side="sell")  # 6 already on sale
    assert "Insufficient shares: 4 lot(s)" in text
    clock.set("10:20")
    sell = [o for o in orders(sim) if o["status"] == "MATCHED"]
    assert sell[0]["side"] == "sell" and sell[0]["filled_lots"] == 6
    assert sim.holdings("ipot", "RICH") == {"TLKM": (4, 2600)}
    assert web.table("history")[0]["B/S"] in ("S", "B")


def test_insufficient_trading_limit(make_sim):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit", account="POOR")
    web.login()
    assert web.order("TLKM", 2700, 3)[0] == "success"  # 810k of 1M
    kind, text = web.order("TLKM", 2700, 1)
    assert kind == "error" and "Insufficient trading limit" in text


def test_cancel_open_order_and_refuse_cancelling_matched(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9500, 1)
    web.order("BBCA", 9800, 1)
    open_id, matched_id = (o["order_id"] for o in orders(sim))
    assert web.cancel(open_id) == ("success", f"Order {open_id} withdrawn")
    kind, text = web.cancel(matched_id)
    assert kind == "error" and "cannot be withdrawn" in text
    assert web.cancel("999999") == ("error", "Order 999999 not found")
    assert orders(sim)[0]["status"] == "WITHDRAWN"
    assert web.table("history")[1]["Status"] == "Withdrawn"


def test_cancel_refused_when_withdrawal_is_not_allowed(make_sim, clock):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9500, 1)
    clock.set("15:57")  # pre-closing, no cancel
    kind, text = web.cancel(orders(sim)[0]["order_id"])
    assert kind == "error" and "cannot be withdrawn now" in text


def test_other_accounts_orders_are_invisible(make_sim):
    sim = make_sim(SCRIPTED)
    alice, bob = WebClient(sim, "stockbit", "ALICE"), WebClient(sim, "stockbit", "BOB")
    alice.login(), bob.login()
    alice.order("BBCA", 9500, 1)
    assert bob.table("open_orders") == []
    assert bob.cancel(orders(sim)[0]["order_id"])[0] == "error"


def test_results_do_not_depend_on_the_request_pattern(make_sim):
    """Stepping minute by minute or jumping once must give the same ledger."""
    from simulator.testing import ManualClock

    def run(step_every_minute: bool) -> list[dict]:
        clk = ManualClock("2026-03-02 09:05")
        sim = make_sim({"seed": 3}, clock=clk)
        web = WebClient(sim, "stockbit")
        web.login()
        for code, price in (("BBCA", 9775), ("BBRI", 4190), ("GOTO", 69), ("ANTM", 1505)):
            web.order(
                code,
                price,
                3,
                tp=price
                + 4
                * (25 if code == "BBCA" else 10 if code == "BBRI" else 1 if code == "GOTO" else 5),
                cl=price
                - 2
                * (25 if code == "BBCA" else 10 if code == "BBRI" else 1 if code == "GOTO" else 5),
            )
        if step_every_minute:
            for _ in range(400):
                clk.advance(seconds=41)
                sim.step()
        clk.set("2026-03-02 16:30")
        return [{k: v for k, v in o.items() if k != "account"} for o in sim.ledger()]

    assert run(True) == run(False)


def test_ipot_shows_indonesian_thousands_separators(make_sim):
    sim = make_sim({"emitens": {"ICBP": {"prev_close": 12525, "path": [["09:00", 12525]]}}})
    web = WebClient(sim, "ipot")
    web.login()
    web.unlock()
    web.order("ICBP", "12.525", 1200)
    row = web.table("history")[0]
    assert row["Harga"] == "12.525" and row["Lot"] == "1.200"
    html = web.http.get("/ipot/quotes?code=ICBP").get_data(as_text=True)
    from sim_client import read

    assert read(html).ids["ipot-last"] == "12.525"


def test_ajaib_shows_shares_and_hides_tp_cl_behind_the_toggle(make_sim):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "ajaib")
    web.login()
    web.order("BBCA", 9500, 3, tp=9900, cl=9400)
    row = web.table("open_orders")[0]
    assert (row["Lot"], row["Shares"], row["Tipe"]) == ("3", "300", "Beli")
    assert orders(sim)[0]["tp"] == 9900
    # Without the toggle switched on, typed TP/CL are not part of the order.
    web.http.post(
        "/ajaib/order",
        data={
            "symbol": "BBCA",
            "limit_price": "9500",
            "qty_lot": "1",
            "tp_price": "9900",
            "sl_price": "9400",
            "confirmed": "1",
        },
    )
    assert orders(sim)[1]["tp"] is None


def test_ajaib_requires_the_confirmation(make_sim):
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "ajaib")
    web.login()
    resp = web.http.post(
        "/ajaib/order",
        data={"symbol": "BBCA", "limit_price": "9500", "qty_lot": "1"},
        follow_redirects=True,
    )
    assert web.toast(resp.get_data(as_text=True))[0] == "error"
    assert orders(sim) == []


def test_quote_pages(make_sim, clock):
    sim = make_sim(SCRIPTED)
    from sim_client import read

    for skin, url, element, shown in (
        ("stockbit", "/stockbit/quote?stock=BBCA", "quote-last-price", "9800"),
        ("ipot", "/ipot/quotes?code=BBCA", "ipot-last", "9.800"),
        ("lotus", "/lotus/price/BBCA", "lt-last", "9800"),
    ):
        web = WebClient(sim, skin)
        web.login()
        assert read(web.http.get(url).get_data(as_text=True)).ids[element] == shown
    web = WebClient(sim, "ajaib")
    web.login()
    clock.set("10:10")
    assert 'class="ajaib-last-price">9750<' in web.http.get("/ajaib/saham/BBCA").get_data(
        as_text=True
    )


def test_melati_shows_less(make_sim, clock):
    """The minimal skin: a login lands on a dashboard without the logged-in marker, the working
    list has buys only and neither side nor time, sells are on a page of their own, the
    history has no time, the holdings no average price, and the toast names no order id."""
    sim = make_sim(SCRIPTED)
    web = WebClient(sim, "melati", account="RICH")  # holds 10 TLKM
    landed = web.login()
    assert landed.status_code == 303 and landed.headers["Location"].endswith("/melati/beranda")
    home = web.get("home").get_data(as_text=True)
    assert "Selamat datang" in home and "mt-akun" not in home
    assert 'id="mt-akun"' in web.get("order").get_data(as_text=True)
    assert web.get("login").headers["Location"].endswith("/melati/beranda")  # logged in
    assert web.order("TLKM", 2600, 3, side="sell") == (
        "success",
        "Pesanan jual TLKM 3 lot diterima",
    )
    assert web.order("TLKM", 2800, 2, side="sell")[0] == "success"  # rests: above 2700
    assert web.order("BBCA", 9700, 2) == ("success", "Pesanan beli BBCA 2 lot diterima")
    sold, resting, buy = orders(sim, account="RICH")
    assert web.table("open_orders") == [
        {
            "No. Pesanan": buy["order_id"],
            "Saham": "BBCA",
            "Harga": "9.700",
            "Lot": "2",
            "Terisi": "0",
            "Status": "Open",
            "": "Batal",
        }
    ]
    assert [r["No. Pesanan"] for r in web.table("other_orders")] == [resting["order_id"]]
    history = {r["No. Pesanan"]: r for r in web.table("history")}
    assert {k: (r["Jenis"], r["Status"]) for k, r in history.items()} == {
        sold["order_id"]: ("Jual", "Matched"),
        resting["order_id"]: ("Jual", "Open"),
        buy["order_id"]: ("Beli", "Open"),
    }
    assert list(history[buy["order_id"]]) == [
        "No. Pesanan",
        "Saham",
        "Jenis",
        "Harga",
        "Lot",
        "Terisi",
        "Status",
    ]  # no time
    assert web.table("portfolio") == [{"Saham": "TLKM", "Lot": "7", "Harga Pasar": "2.700"}]
    assert web.cancel(resting["order_id"]) == ("success", f"Order {resting['order_id']} withdrawn")
    assert web.table("other_orders") == []
