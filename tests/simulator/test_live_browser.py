"""The live skins (stockbit, ajaib) in real headless Chromium: lists that keep themselves
current without a reload, #last-updated, and posts answered in place."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from sim_client import WebClient
from sim_webflow import Flow, load_selectors
from waiting import wait_for
from webwait import mark_page

pytestmark = pytest.mark.browser

SCENARIO = {"emitens": {"BBCA": {"prev_close": 9800, "path": [["09:00", 9800], ["10:30", 9700]]}}}

# The page's table as the robot reads it, plus #last-updated and the mark of this document.
READ_JS = """
const table = document.querySelector(arguments[0]);
const stamp = document.getElementById('last-updated');
return {
  rows: Array.from(table.querySelectorAll('tbody tr')).map(tr =>
      Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim())),
  updated: stamp.dataset.updated,
  failures: Number(stamp.dataset.pollFailures),
  marked: window.__webwaitOldPage === true,
};
"""


def live_flow(sim: Any, chrome: Any, broker: str = "stockbit") -> Flow:
    flow = Flow(chrome(), sim.url, load_selectors(broker))
    flow.login(f"ACC_{broker.upper()}", "demo")
    return flow


def read(flow: Flow, table: str) -> dict[str, Any]:
    return flow.d.execute_script(READ_JS, flow.sel[table])


def column(flow: Flow, data: dict[str, Any], page: str, name: str) -> list[str]:
    headers = [th.text.strip() for th in flow.d.find_elements(By.CSS_SELECTOR, "thead th")]
    i = headers.index(flow.sel["columns"][page][name])
    return [row[i] for row in data["rows"]]


def test_a_live_list_updates_in_place_when_an_order_fills(make_sim, clock, chrome):
    sim = make_sim(SCENARIO)
    flow = live_flow(sim, chrome)
    kind, _ = flow.place("BBCA", 9700, 2)
    assert kind == "success"
    flow.open("history")
    mark_page(flow.d)  # a reload would drop this mark
    before = read(flow, "order_history_table")
    assert before["updated"] == "2026-03-02T10:00:00.000+07:00"
    assert column(flow, before, "history", "status") == ["Open"]

    clock.set("10:30")  # the price comes down to 9700: the background ticker fills the order
    after = wait_for(
        lambda: (
            (d := read(flow, "order_history_table"))
            and column(flow, d, "history", "status") == ["Matched"]
            and d
        ),
        30,
        "the history row to show the fill",
    )
    assert after["marked"], "the page was reloaded"
    assert column(flow, after, "history", "filled") == ["2"]
    assert after["updated"].startswith("2026-03-02T10:30:00")
    # and the robot's own read of the page reads what a reload would show
    assert flow.orders("history")[0]["status"] == "MATCHED"


def test_last_updated_stops_while_the_list_answers_500(make_sim, clock, chrome):
    sim = make_sim()
    flow = live_flow(sim, chrome)
    web = WebClient(sim, "stockbit", "ACC_STOCKBIT")  # the same account, another session
    web.login()
    flow.open("open_orders")
    mark_page(flow.d)
    wait_for(lambda: sim.state.held_polls == 1, 30, "the page's long poll")

    sim.add_fault({"kind": "http_500", "skin": "stockbit", "page": "open_orders"})
    clock.advance(seconds=5)
    first = web.order("BBCA", 9500, 1)[1].split()[1]  # the held poll answers this change
    shown = wait_for(
        lambda: (d := read(flow, "open_orders_table")) and d["rows"] and d,
        30,
        "the first order on the page",
    )
    assert shown["updated"] == "2026-03-02T10:00:05.000+07:00"
    assert column(flow, shown, "open_orders", "order_id") == [first]
    wait_for(lambda: read(flow, "open_orders_table")["failures"] >= 1, 30, "a failed poll")

    clock.advance(seconds=5)
    second = web.order("BBCA", 9475, 1)[1].split()[1]
    # two more failures: at least one poll was sent after the second order (polls go one by one)
    seen = read(flow, "open_orders_table")["failures"]
    wait_for(
        lambda: read(flow, "open_orders_table")["failures"] >= seen + 2, 30, "more failed polls"
    )
    stale = read(flow, "open_orders_table")
    assert stale["updated"] == shown["updated"]  # no answer: no newer confirmation
    assert column(flow, stale, "open_orders", "order_id") == [first]
    assert "sim-stale" in flow.d.find_element(By.ID, "last-updated").get_attribute("class")

    sim.clear_faults()
    current = wait_for(
        lambda: (d := read(flow, "open_orders_table")) and len(d["rows"]) == 2 and d,
        30,
        "the page to catch up once the server answers again",
    )
    assert column(flow, current, "open_orders", "order_id") == [second, first]
    assert current["updated"] == "2026-03-02T10:00:10.000+07:00"
    assert current["failures"] == 0 and current["marked"]


def test_an_order_is_placed_by_fetch_and_the_form_stays(make_sim, chrome):
    sim = make_sim()
    flow = live_flow(sim, chrome)
    form = flow.sel["order_form"]
    flow.open("order")
    mark_page(flow.d)
    for css, value in ((form["stock_input"], "BBCA"), (form["price_input"], 9500)):
        flow.type(css, value)
    flow.type(form["lot_input"], 1)
    flow.find(form["submit_btn"]).click()
    kind, text = flow.toast_in_place()
    assert (kind, text) == ("success", "Order 100001 placed")

    # the same form, still filled in, places the next order: an error replaces the toast
    price = flow.find(form["price_input"])
    assert price.get_attribute("value") == "9500"
    price.clear()
    price.send_keys("9510")
    flow.find(form["submit_btn"]).click()
    wait_for(lambda: flow.present(flow.sel["toast_error"]), 30, "the error toast")
    assert not flow.present(flow.sel["toast_success"])
    assert len(flow.d.find_elements(By.CSS_SELECTOR, "[data-sim-toast]")) == 1
    assert "multiple of 25" in flow.d.find_element(By.CSS_SELECTOR, flow.sel["toast_error"]).text
    assert flow.d.execute_script("return window.__webwaitOldPage === true")
    assert [o["status"] for o in sim.ledger()] == ["OPEN", "REJECTED"]


def test_ajaib_confirmation_still_guards_the_fetch(make_sim, chrome):
    sim = make_sim()
    flow = live_flow(sim, chrome, "ajaib")
    sel, dialog = flow.sel, flow.sel["confirm_dialog"]
    flow.open("order")
    mark_page(flow.d)
    flow.type(sel["order_form"]["stock_input"], "BBCA")
    flow.type(sel["order_form"]["price_input"], 9500)
    flow.type(sel["order_form"]["lot_input"], 3)
    flow.find(sel["order_form"]["submit_btn"]).click()  # opens the dialog, places nothing
    flow.visible(dialog["dialog"])
    assert flow.find(dialog["lot"]).text == "3" and sim.ledger() == []
    flow.find("#ajaib-confirm-cancel").click()
    assert sim.ledger() == []

    flow.find(sel["order_form"]["submit_btn"]).click()
    flow.visible(dialog["dialog"])
    flow.find(dialog["confirm_btn"]).click()
    assert flow.toast_in_place() == ("success", "Order 100001 placed")
    wait_for(lambda: not flow.find(dialog["dialog"]).is_displayed(), 30, "the dialog to close")
    # the next order needs its own confirmation
    assert flow.find("#ajaib-confirmed").get_attribute("value") == "0"
    kind, text = flow.place("BBCA", 9475, 1)  # the whole flow again, through the selectors
    assert kind == "success", text
    assert [(o["lots"], o["status"]) for o in sim.ledger()] == [(3, "OPEN"), (1, "OPEN")]


def test_a_401_sends_the_live_pages_to_login(make_sim, chrome):
    sim = make_sim()
    flow = live_flow(sim, chrome)
    form = flow.sel["order_form"]
    flow.open("order")
    flow.type(form["stock_input"], "BBCA")
    flow.type(form["price_input"], 9500)
    flow.type(form["lot_input"], 1)
    sim.expire_session("stockbit")
    flow.find(form["submit_btn"]).click()
    wait_for(lambda: "/stockbit/login?next=%2Fstockbit%2Ftrade" in flow.d.current_url, 30, "login")
    flow.find(flow.sel["login_form"]["username"])
    assert sim.ledger() == []

    flow.login("ACC_STOCKBIT", "demo")
    flow.open("history")
    wait_for(lambda: sim.state.held_polls == 1, 30, "the page's long poll")
    sim.expire_session("stockbit")
    web = WebClient(sim, "stockbit", "ACC_STOCKBIT")  # a change ends the held poll
    web.login()
    web.order("BBCA", 9500, 1)
    wait_for(
        lambda: "/stockbit/login?next=%2Fstockbit%2Fhistory" in flow.d.current_url, 30, "login"
    )


def cancel_here(flow: Flow, order_id: str) -> tuple[str, str]:
    """Click the cancel button of a row of the open page (no navigation to it first)."""
    css = f"{flow.sel['open_orders_table']} tr[data-key='{order_id}'] {flow.sel['cancel_btn']}"
    flow.find(css).click()
    return flow.toast_in_place()


def test_cancel_in_place(make_sim, chrome):
    sim = make_sim()
    flow = live_flow(sim, chrome, "ajaib")
    web = WebClient(sim, "ajaib", "ACC_AJAIB")
    web.login()
    web.order("BBCA", 9500, 1)
    web.order("BBCA", 9475, 1)
    flow.open("open_orders")
    mark_page(flow.d)
    # a mark on the row that stays: the re-render must keep its element
    flow.d.execute_script(
        "document.querySelector(arguments[0] + ' tr[data-key=\"100001\"]').simKept = true;",
        flow.sel["open_orders_table"],
    )
    wait_for(lambda: sim.state.held_polls == 1, 30, "the page's long poll")
    kind, text = cancel_here(flow, "100002")
    assert (kind, text) == ("success", "Order 100002 withdrawn")
    rows = wait_for(
        lambda: (d := read(flow, "open_orders_table")) and len(d["rows"]) == 1 and d,
        30,
        "the withdrawn order to leave the list",
    )
    assert column(flow, rows, "open_orders", "order_id") == ["100001"]
    assert flow.d.execute_script(
        "return document.querySelector(arguments[0] + ' tr[data-key=\"100001\"]').simKept;",
        flow.sel["open_orders_table"],
    )
    assert [o["status"] for o in sim.ledger()] == ["OPEN", "WITHDRAWN"]
    # a row the poll adds has a working cancel button too
    web.order("BBCA", 9450, 1)
    wait_for(lambda: len(read(flow, "open_orders_table")["rows"]) == 2, 30, "the new order")
    assert cancel_here(flow, "100003") == ("success", "Order 100003 withdrawn")
    assert [o["status"] for o in sim.ledger()] == ["OPEN", "WITHDRAWN", "WITHDRAWN"]
