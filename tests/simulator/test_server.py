"""The server object: serve() for the CLI, the background ticker, a real accelerated clock."""

from __future__ import annotations

import threading
from datetime import datetime

import requests

from robot.clock import WIB, AcceleratedClock
from sim_client import WebClient
from simulator.server import SimServer, serve
from waiting import wait_for


def test_serve_prints_the_urls_and_stops(clock):
    lines: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=serve,
        kwargs={
            "port": 0,
            "scenario": "demo",
            "clock": clock,
            "token": "tok",
            "ui_latency": 0.0,
            "out": lines.append,
            "ready": ready,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    assert ready.wait(10)
    text = "\n".join(lines)
    assert "scenario demo" in text and "token tok" in text and "password demo" in text
    login = next(line.split()[1] for line in lines if line.strip().startswith("ipot"))
    assert login.startswith("http://127.0.0.1:") and login.endswith("/ipot/signin")
    assert requests.get(login, timeout=5).status_code == 200
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def test_background_ticker_runs_native_exits_without_requests(make_sim, clock):
    sim = make_sim(
        {"emitens": {"BBCA": {"prev_close": 9800, "path": [["09:00", 9800], ["10:30", 9900]]}}}
    )
    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9800, 1, tp=9900, cl=9700)
    clock.set("10:31")  # nobody asks the server anything now
    ledger = sim.state.ledger  # read without syncing: only the ticker moves it
    wait_for(
        lambda: len(ledger.orders) == 2 and ledger.armed() == [],
        10,
        "the ticker to run the native exit",
        interval=0.02,
    )
    exit_order = list(ledger.orders.values())[1]
    assert exit_order.exit_kind == "tp"


def test_with_an_accelerated_clock():
    clock = AcceleratedClock.starting(datetime(2026, 3, 2, 10, 0, tzinfo=WIB), speed=1200)
    sim = SimServer(clock=clock, scenario=None, token="t").start()
    try:
        sim.set_price("BBCA", 9800)
        web = WebClient(sim, "lotus")
        web.login()
        assert web.order("BBCA", 9775, 1)[0] == "success"
        assert sim.ledger()[0]["status"] == "OPEN"
        sim.add_fault({"kind": "price", "emiten": "BBCA", "price": 9775, "at": "10:05"})
        wait_for(lambda: sim.ledger()[0]["status"] == "MATCHED", 10, "the fill", interval=0.02)
        assert sim.ledger()[0]["fills"][0]["time"] >= "2026-03-02T10:05"
    finally:
        sim.stop()


def test_restart_keeps_sessions(sim):
    http = requests.Session()
    http.post(f"{sim.url}/stockbit/login", data={"username": "A", "password": "demo"}, timeout=5)
    sim.stop()
    sim.start()
    page = http.get(f"{sim.url}/stockbit/portfolio", timeout=5)
    assert page.status_code == 200 and 'id="user-profile"' in page.text
