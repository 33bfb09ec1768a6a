"""Broker-UI faults and login behaviour: error toasts, forced rejections, latency, session expiry,
HTTP 500 windows, cookies, the IPOT PIN pad."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest

import simulator.web
from sim_client import WebClient, read


def test_error_toast_on_nth_submit_places_nothing(make_sim):
    sim = make_sim(
        {
            "faults": [
                {
                    "kind": "error_toast",
                    "skin": "stockbit",
                    "account": "ACC1",
                    "nth": 2,
                    "message": "Server sibuk",
                }
            ]
        }
    )
    web = WebClient(sim, "stockbit")
    web.login()
    assert web.order("BBCA", 9500, 1)[0] == "success"
    assert web.order("BBCA", 9500, 1) == ("error", "Server sibuk")
    assert web.order("BBCA", 9500, 1)[0] == "success"
    statuses = [(o["status"], o["visible"], o["rejected"]) for o in sim.ledger()]
    assert statuses == [("OPEN", True, False), ("ERROR", False, True), ("OPEN", True, False)]
    assert len(web.table("history")) == 2  # the failed attempt never shows in the UI


def test_error_toast_that_still_places_the_order(make_sim):
    sim = make_sim({"faults": [{"kind": "error_toast", "nth": 1, "placed": True}]})
    web = WebClient(sim, "lotus")
    web.login()
    kind, text = web.order("BBCA", 9500, 1)
    assert kind == "error" and "try again" in text
    (o,) = sim.ledger()
    assert o["status"] == "OPEN" and o["ui_error"] == text
    assert web.table("open_orders")[0]["Ref"] == o["order_id"]


def test_error_toast_is_per_account(make_sim):
    sim = make_sim({"faults": [{"kind": "error_toast", "account": "B", "nth": 1}]})
    a, b = WebClient(sim, "stockbit", "A"), WebClient(sim, "stockbit", "B")
    a.login(), b.login()
    assert a.order("BBCA", 9500, 1)[0] == "success"
    assert b.order("BBCA", 9500, 1)[0] == "error"


def test_forced_rejection(make_sim):
    sim = make_sim(
        {"faults": [{"kind": "reject", "emiten": "TLKM", "message": "Saham dalam suspensi"}]}
    )
    web = WebClient(sim, "ajaib")
    web.login()
    assert web.order("TLKM", 2700, 1) == ("error", "Order rejected: Saham dalam suspensi")
    assert web.order("BBCA", 9500, 1)[0] == "success"
    assert sim.ledger()[0]["reason"] == "Saham dalam suspensi"


def _timed(fn) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


@pytest.fixture
def ui_sleeps(monkeypatch) -> list[float]:
    """Every delay the simulated brokers' pages sleep, in order (the sleep itself still happens).

    "Not slowed" is read from here, not from the wall clock: a request without latency can take
    any time on a loaded machine, while one with latency takes at least that long anyway."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(simulator.web, "time", SimpleNamespace(sleep=sleep))
    return slept


def test_slow_ui_window(make_sim, clock, ui_sleeps):
    sim = make_sim(
        {
            "faults": [
                {
                    "kind": "latency",
                    "skin": "stockbit",
                    "seconds": 0.4,
                    "from": "10:00",
                    "until": "10:30",
                }
            ]
        }
    )
    web = WebClient(sim, "stockbit")
    assert _timed(web.login) >= 0.4
    assert _timed(lambda: web.get("open_orders")) >= 0.4
    ui_sleeps.clear()
    assert WebClient(sim, "ipot").get("login").status_code == 200
    assert ui_sleeps == []  # another skin is not slowed
    clock.set("10:30")
    assert web.get("open_orders").status_code == 200
    assert ui_sleeps == []  # the window is over


def test_server_wide_and_per_skin_latency(make_sim, ui_sleeps):
    sim = make_sim(ui_latency=0.3)
    assert _timed(lambda: WebClient(sim, "ipot").get("login")) >= 0.3
    sim.set_latency(0.0)
    sim.set_latency(0.35, skin="ajaib")
    ui_sleeps.clear()
    assert WebClient(sim, "ipot").get("login").status_code == 200
    assert ui_sleeps == []
    assert _timed(lambda: WebClient(sim, "ajaib").get("login")) >= 0.35
    assert ui_sleeps == [0.35]


def test_logged_out_pages_redirect_to_login(sim):
    web = WebClient(sim, "ipot")
    for page in ("order", "open_orders", "history", "portfolio"):
        resp = web.get(page)
        assert resp.status_code == 302
        assert resp.headers["Location"].startswith("/ipot/signin?next=")
    resp = web.http.get("/ipot/quotes?code=BBCA")
    assert resp.headers["Location"].startswith("/ipot/signin")


def test_login_sets_a_persistent_cookie_and_returns_to_next(sim):
    web = WebClient(sim, "stockbit")
    resp = web.http.post(
        "/stockbit/login?next=/stockbit/history", data={"username": "ACC1", "password": "demo"}
    )
    assert resp.status_code == 303 and resp.headers["Location"] == "/stockbit/history"
    cookie = resp.headers["Set-Cookie"]
    assert "Max-Age=" in cookie and "Expires=" in cookie and "Path=/stockbit" in cookie
    assert "HttpOnly" in cookie
    html = web.get("history").get_data(as_text=True)
    assert 'id="user-profile"' in html and "ACC1" in html


def test_wrong_password_shows_the_error(make_sim):
    sim = make_sim(password="s3cret")
    web = WebClient(sim, "ajaib")
    html = web.login(password="demo").get_data(as_text=True)
    assert "ajaib-form-error" in html and "data-account=" not in html
    assert web.login(password="s3cret").status_code == 303


def test_open_redirects_are_refused(sim):
    web = WebClient(sim, "stockbit")
    resp = web.http.post(
        "/stockbit/login?next=//evil.example/x", data={"username": "ACC1", "password": "demo"}
    )
    assert resp.headers["Location"] == "/stockbit/trade"


def test_session_expiry_by_scenario(make_sim, clock):
    sim = make_sim(
        {"faults": [{"kind": "session_expiry", "skin": "lotus", "account": "ACC1", "at": "10:30"}]}
    )
    web, other = WebClient(sim, "lotus"), WebClient(sim, "lotus", "ACC2")
    web.login(), other.login()
    assert web.get("order").status_code == 200
    clock.set("10:30")
    assert web.get("order").status_code == 302
    assert other.get("order").status_code == 200
    web.login()  # a new session after the expiry is fine
    assert web.get("order").status_code == 200


def test_expire_session_control(sim):
    web = WebClient(sim, "ipot")
    web.login()
    web.unlock()
    assert sim.expire_session("ipot", "ACC1") == 1
    assert web.get("order").status_code == 302
    web.login()
    assert "ipot-pin-pad" in web.get("order").get_data(as_text=True)  # the PIN again


def test_http_500_window_on_one_page(make_sim, clock):
    sim = make_sim(
        {
            "faults": [
                {
                    "kind": "http_500",
                    "skin": "stockbit",
                    "page": "open_orders",
                    "from": "10:00",
                    "until": "10:05",
                }
            ]
        }
    )
    web = WebClient(sim, "stockbit")
    web.login()
    resp = web.get("open_orders")
    assert resp.status_code == 500 and "user-profile" not in resp.get_data(as_text=True)
    assert web.get("history").status_code == 200
    clock.set("10:05")
    assert web.get("open_orders").status_code == 200


def test_http_500_injected_at_runtime(sim):
    web = WebClient(sim, "ajaib")
    sim.add_fault({"kind": "http_500", "skin": "ajaib"})
    assert web.get("login").status_code == 500
    sim.clear_faults()
    assert web.get("login").status_code == 200


def test_ipot_pin_pad(sim):
    web = WebClient(sim, "ipot")
    web.login()
    layouts = set()
    for _ in range(6):
        html = web.get("order").get_data(as_text=True)
        assert "ipot-code" not in html  # no order form before the PIN
        layouts.add(tuple(re.findall(r'class="pin-key">(\d)<', html)))
    assert all(sorted(layout) == list("0123456789") for layout in layouts)
    assert len(layouts) > 1  # shuffled each time
    kind, _ = web.order("BBCA", 9500, 1)  # posting past the pad is refused
    assert kind == "error" and sim.ledger() == []
    web.unlock("000000")
    html = web.get("order").get_data(as_text=True)
    assert "PIN salah" in html and "ipot-pin-pad" in html
    web.unlock("123456")
    assert "ipot-code" in web.get("order").get_data(as_text=True)
    assert web.order("BBCA", 9500, 1)[0] == "success"
    assert "123456" not in str(sim.ledger())


def test_pin_from_scenario_account(make_sim):
    sim = make_sim({"accounts": {"ACC1": {"broker": "ipot", "pin": "9911"}}})
    web = WebClient(sim, "ipot")
    web.login()
    web.unlock("123456")
    assert "ipot-pin-pad" in web.get("order").get_data(as_text=True)
    web.unlock("9911")
    assert "ipot-code" in web.get("order").get_data(as_text=True)


def test_toasts_are_shown_once(sim):
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9500, 1)
    assert read(web.get("order").get_data(as_text=True)).toasts == []


def test_index_page_lists_the_brokers(sim):
    html = sim.app.test_client().get("/").get_data(as_text=True)
    for path in ("/stockbit/login", "/ipot/signin", "/ajaib/masuk", "/lotus/signin"):
        assert path in html
