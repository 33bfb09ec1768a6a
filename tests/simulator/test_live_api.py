"""The JSON endpoints of the live skins (simulator/live.py), over real HTTP where the server's
threads matter: the order and cancel posts, the lists' long poll, and what enters every page
(UI latency, HTTP 500 faults, the session) applied to them."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests

import simulator.web
from sim_client import WebClient, read
from simulator.skins import SKINS
from waiting import wait_for


def order_form(spec_name: str, emiten: str, price: int, lot: int) -> dict[str, str]:
    f = SKINS[spec_name].fields
    data = {f["stock"]: emiten, f["price"]: str(price), f["lot"]: str(lot)}
    if "confirmed" in f:
        data[f["confirmed"]] = "1"
    return data


def logged_in(sim: Any, skin: str, account: str) -> requests.Session:
    """A real HTTP client holding a session cookie of (skin, account)."""
    http = requests.Session()
    user, password = SKINS[skin].login_fields
    resp = http.post(
        f"{sim.url}{SKINS[skin].path('login')}",
        data={user: account, password: "demo"},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.url.endswith(SKINS[skin].path("order"))
    return http


class HeldPoll:
    """A long poll in a thread of its own; ``answer`` once the server answered."""

    def __init__(self, http: requests.Session, url: str) -> None:
        self.answer: dict | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(http, url), daemon=True)
        self.thread.start()

    def _run(self, http: requests.Session, url: str) -> None:
        try:
            self.answer = http.get(url, timeout=60).json()
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            self.error = exc


@pytest.mark.parametrize("skin", ["stockbit", "ajaib"])
def test_order_and_cancel_answer_the_classic_toasts_as_json(sim, skin):
    web = WebClient(sim, skin)
    web.login()
    api = f"/{skin}/api"
    resp = web.http.post(f"{api}/order", data=order_form(skin, "BBCA", 9500, 1))
    assert resp.status_code == 200
    assert resp.get_json() == {"ok": True, "toast": "success", "message": "Order 100001 placed"}
    bad = web.http.post(f"{api}/order", data=order_form(skin, "BBCA", 9510, 1)).get_json()
    assert bad["toast"] == "error" and "multiple of 25" in bad["message"]
    # the same text as the classic form's toast for the same mistake
    assert web.order("BBCA", 9510, 1) == ("error", bad["message"])
    assert web.http.post(f"{api}/cancel/100001").get_json() == {
        "ok": True,
        "toast": "success",
        "message": "Order 100001 withdrawn",
    }
    again = web.http.post(f"{api}/cancel/100001").get_json()
    assert again["toast"] == "error" and "withdrawn" in again["message"]
    statuses = [o["status"] for o in sim.ledger()]
    assert statuses == ["WITHDRAWN", "REJECTED", "REJECTED"]


def test_ajaib_api_refuses_an_unconfirmed_order(sim):
    web = WebClient(sim, "ajaib")
    web.login()
    data = order_form("ajaib", "BBCA", 9500, 1)
    del data["confirmed"]
    answer = web.http.post("/ajaib/api/order", data=data).get_json()
    assert answer == {
        "ok": False,
        "toast": "error",
        "message": "Silakan konfirmasi pesanan terlebih dahulu",
    }
    assert sim.ledger() == []


def test_logged_out_api_answers_401_with_the_login_page(sim):
    web = WebClient(sim, "stockbit")
    resp = web.http.post("/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 1))
    assert resp.status_code == 401 and resp.get_json()["login"] == "/stockbit/login"
    assert web.http.get("/stockbit/api/lists/open_orders").status_code == 401
    web.login()
    assert sim.expire_session("stockbit") == 1
    assert web.http.post("/stockbit/api/cancel/100001").status_code == 401
    assert sim.ledger() == []


def test_classic_skins_have_no_api(sim):
    for skin in ("ipot", "lotus", "melati"):
        web = WebClient(sim, skin)
        web.login()
        assert web.http.get(f"/{skin}/api/lists/history").status_code == 404
        html = web.get("history").get_data(as_text=True)
        assert "last-updated" not in html and "data-sim-list" not in html


def test_list_rows_read_exactly_like_the_server_rendered_table(make_sim, clock):
    holdings = {"TLKM": {"lots": 10, "avg_price": 2600}}
    sim = make_sim({"accounts": {"ACC1": {"holdings": holdings}}})
    sim.set_price("BBCA", 9500)
    web = WebClient(sim, "ajaib")
    web.login()
    web.order("BBCA", 9500, 2, tp=9700, cl=9300)
    web.order("BBCA", 9400, 1)
    clock.set("10:05")
    sim.set_price("BBCA", 9700)  # the native TP sells: an exit with a parent
    clock.set("10:06")
    for page in ("open_orders", "history", "portfolio"):
        answer = web.http.get(f"/ajaib/api/lists/{page}").get_json()
        html = read(web.get(page).get_data(as_text=True))
        table = html.tables[SKINS["ajaib"].table_ids[page]]
        pairs = zip(table["rows"], answer["rows"], strict=True)
        cells = [row[: len(r["cells"])] for row, r in pairs]
        assert cells == [r["cells"] for r in answer["rows"]] and cells, page
    history = web.http.get("/ajaib/api/lists/history").get_json()["rows"]
    assert [r["cells"][-1] for r in history] == ["100001", "", ""]  # the exit's parent


def test_page_and_first_poll_agree_on_the_version(sim):
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9500, 1)
    html = web.get("open_orders").get_data(as_text=True)
    version = int(html.split('data-version="')[1].split('"')[0])
    updated = html.split('data-updated="')[1].split('"')[0]
    assert updated == "2026-03-02T10:00:00.000+07:00"
    sim.state.long_poll_wall_s = 0.05  # nothing will change: answer "unchanged" soon
    answer = web.http.get(f"/stockbit/api/lists/open_orders?since={version}").get_json()
    assert answer["changed"] is False and "rows" not in answer
    assert answer["version"] == version and answer["updated"] == updated
    assert answer["updated_text"] == "Last updated 10:00:00 WIB"


def test_every_order_change_bumps_the_version(make_sim, clock):
    sim = make_sim({"faults": [{"kind": "partial_fill", "emiten": "TLKM", "lots": 1}]})
    web = WebClient(sim, "stockbit")
    web.login()

    def version() -> int:
        return web.http.get("/stockbit/api/lists/history").get_json()["version"]

    seen = [version()]
    sim.set_price("TLKM", 2700)
    web.order("TLKM", 2700, 3)  # submit + a partial fill of 1 lot at once
    seen.append(version())
    web.cancel("100001")
    seen.append(version())
    web.order("BBCA", 9000, 1)
    seen.append(version())
    web.order("BBCA", 8900, 1)
    seen.append(version())
    sim.set_price("BBCA", 9000)
    clock.set("10:02")  # 100002 fills
    seen.append(version())
    clock.set("16:01")  # 100003 expires
    seen.append(version())
    assert seen == sorted(set(seen)), seen
    statuses = [o["status"] for o in sim.ledger()]
    assert statuses == ["WITHDRAWN", "MATCHED", "EXPIRED"]
    other = WebClient(sim, "stockbit", "OTHER")
    other.login()
    assert other.http.get("/stockbit/api/lists/history").get_json()["version"] == 0


def test_api_endpoints_get_the_pages_latency_and_faults(sim, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(
        simulator.web, "time", SimpleNamespace(sleep=lambda s: (slept.append(s), time.sleep(s)))
    )
    web = WebClient(sim, "stockbit")
    web.login()
    sim.set_latency(0.2, skin="stockbit")
    slept.clear()
    web.http.post("/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 1))
    web.http.get("/stockbit/api/lists/open_orders")
    web.http.post("/stockbit/api/cancel/100001")
    assert slept == [0.2, 0.2, 0.2]
    sim.set_latency(0.0, skin="stockbit")
    sim.add_fault({"kind": "http_500", "skin": "stockbit", "page": "order"})
    resp = web.http.post("/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 1))
    assert resp.status_code == 500 and resp.is_json
    assert len(sim.ledger()) == 1  # nothing placed behind the 500
    assert web.http.get("/stockbit/api/lists/open_orders").status_code == 200
    sim.add_fault({"kind": "http_500", "skin": "stockbit", "page": "history"})
    assert web.http.get("/stockbit/api/lists/history").status_code == 500


def test_a_held_poll_blocks_nobody(sim):
    mine = logged_in(sim, "stockbit", "ACC1")
    version = mine.get(f"{sim.url}/stockbit/api/lists/open_orders", timeout=10).json()["version"]
    poll = HeldPoll(mine, f"{sim.url}/stockbit/api/lists/open_orders?since={version}")
    wait_for(lambda: sim.state.held_polls == 1, 10, "the poll to be held")
    other = logged_in(sim, "stockbit", "ACC2")  # another account, other pages, an order
    assert other.get(f"{sim.url}/stockbit/orders", timeout=10).status_code == 200
    placed = other.post(
        f"{sim.url}/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 1), timeout=10
    ).json()
    assert placed["ok"] and poll.thread.is_alive() and poll.answer is None
    assert mine.get(f"{sim.url}/stockbit/history", timeout=10).status_code == 200  # same account
    assert poll.answer is None  # nothing of ACC1's changed: still held
    mine.post(
        f"{sim.url}/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 2), timeout=10
    )
    wait_for(lambda: poll.answer is not None, 10, "the held poll's answer")
    assert poll.answer is not None and poll.answer["changed"]
    assert [r["cells"][5] for r in poll.answer["rows"]] == ["2"]


def test_stopping_the_server_ends_held_polls_at_once(sim):
    sim.state.long_poll_wall_s = sim.state.long_poll_sim_s = 3600.0  # only a stop ends it
    http = logged_in(sim, "ajaib", "ACC1")
    poll = HeldPoll(http, f"{sim.url}/ajaib/api/lists/history?since=0")
    wait_for(lambda: sim.state.held_polls == 1, 10, "the poll to be held")
    sim.stop()
    wait_for(lambda: not poll.thread.is_alive(), 30, "the held poll to end")
    wait_for(lambda: sim.state.held_polls == 0, 30, "the server to let go of the poll")
    sim.start()  # serving again: polls are held again
    poll = HeldPoll(http, f"{sim.url}/ajaib/api/lists/history?since=0")
    wait_for(lambda: sim.state.held_polls == 1, 10, "a poll held after the restart")
    sim.stop()
    wait_for(lambda: not poll.thread.is_alive(), 30, "the second held poll to end")


def test_the_hold_is_bounded_on_the_simulators_clock():
    """Under an accelerated clock a poll answers "unchanged" within long_poll_sim_s of the
    simulator's time, so a page stays confirmed often enough for a robot on that clock."""
    from datetime import datetime

    from robot.clock import WIB, AcceleratedClock
    from simulator.server import SimServer

    clock = AcceleratedClock.starting(datetime(2026, 3, 2, 10, 0, tzinfo=WIB), speed=3600)
    sim = SimServer(clock=clock, scenario=None, token="t").start()
    try:
        http = logged_in(sim, "stockbit", "ACC1")
        url = f"{sim.url}/stockbit/api/lists/open_orders"
        version = http.get(url, timeout=10).json()["version"]
        # 15 simulated seconds are 4 ms of wall time here: answered well before the 10 s hold
        answer = http.get(f"{url}?since={version}", timeout=5).json()
        assert answer["changed"] is False
    finally:
        sim.stop()


def test_an_aborted_poll_lets_go_of_its_thread(sim):
    """A page that navigates away aborts its poll: the server stops holding it long before the
    end of the hold, so a robot that loads pages leaves no pile of waiting threads."""
    sim.state.long_poll_wall_s = sim.state.long_poll_sim_s = 3600.0
    http = logged_in(sim, "stockbit", "ACC1")
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as conn:
        conn.sendall(
            b"GET /stockbit/api/lists/history?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Cookie: {cookie}\r\n\r\n".encode()
        )
        wait_for(lambda: sim.state.held_polls == 1, 10, "the poll to be held")
    wait_for(lambda: sim.state.held_polls == 0, 30, "the aborted poll to be let go")


def test_a_request_log_on_the_app_counts_the_api_requests(clock):
    """What the benchmarks count as broker requests (an after_request hook on SimServer.app)
    sees every API answer: posts, polls, and the 500s and 401s too."""
    from simulator.server import SimServer

    sim = SimServer(clock=clock, scenario=None, token="t")  # not started: a hook goes on first
    seen: list[tuple[str, str, int]] = []

    @sim.app.after_request
    def record(resp: Any) -> Any:
        from flask import request

        seen.append((request.method, request.path, resp.status_code))
        return resp

    web = WebClient(sim, "stockbit")
    assert web.http.get("/stockbit/api/lists/history").status_code == 401
    web.login()
    seen.clear()
    web.http.post("/stockbit/api/order", data=order_form("stockbit", "BBCA", 9500, 1))
    web.http.get("/stockbit/api/lists/history")
    web.http.post("/stockbit/api/cancel/100001")
    sim.add_fault({"kind": "http_500", "skin": "stockbit", "page": "history"})
    web.http.get("/stockbit/api/lists/history")
    assert seen == [
        ("POST", "/stockbit/api/order", 200),
        ("GET", "/stockbit/api/lists/history", 200),
        ("POST", "/stockbit/api/cancel/100001", 200),
        ("GET", "/stockbit/api/lists/history", 500),
    ]
