"""The task server over real HTTP: auth, tasks over the day, events idempotency, faults,
restarts."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from simulator import protocol

TASKS = {
    "date": "2026-03-02",
    "tasks": [
        {
            "task_id": "A",
            "account": "ACC1",
            "emiten": "BBCA",
            "price": 9750,
            "lot": 1,
            "tp": 9900,
            "cl": 9600,
            "available_at": "09:00",
        },
        {
            "task_id": "B",
            "account": "ACC2",
            "emiten": "TLKM",
            "price": 2690,
            "lot": 2,
            "tp": None,
            "cl": None,
            "available_at": "10:30",
            "note": "later",
        },
        {
            "task_id": "C",
            "account": "ACC1",
            "emiten": "GOTO",
            "price": 69,
            "lot": 10,
            "tp": 74,
            "cl": 66,
            "prev_close": 70,
        },
    ],
}


def auth(sim) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.token}"}


def event(i: int | str, **kw) -> dict:
    return {
        "id": f"ev-{i}",
        "type": "order_placed",
        "account": "ACC1",
        "time": "2026-03-02T10:00:00+07:00",
        "payload": {"order_id": "100001"},
        **kw,
    }


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("POST", "/api/events"),
        ("GET", "/api/events"),
        ("POST", "/api/_control/clear_faults"),
    ],
)
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dGVzdA==", "test-token"])
def test_wrong_or_missing_token_is_401(sim, method, path, header):
    headers = {"Authorization": header} if header else {}
    resp = requests.request(method, sim.url + path, headers=headers, json={}, timeout=5)
    assert resp.status_code == 401
    assert resp.json() == {"error": "missing or invalid bearer token"}
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_tasks_appear_at_available_at(make_sim, clock):
    sim = make_sim(TASKS)

    def get(**p):
        return requests.get(f"{sim.task_url}/tasks", params=p, headers=auth(sim), timeout=5)

    body = get(date="2026-03-02").json()
    assert body["date"] == "2026-03-02"
    assert [t["task_id"] for t in body["tasks"]] == ["C", "A"]
    assert body["tasks"][1] == {
        "task_id": "A",
        "account": "ACC1",
        "emiten": "BBCA",
        "side": "buy",
        "price": 9750,
        "lot": 1,
        "tp": 9900,
        "cl": 9600,
        "date": "2026-03-02",
    }
    assert not protocol.validate_task_list(body)
    clock.set("10:30")
    assert [t["task_id"] for t in get().json()["tasks"]] == ["C", "A", "B"]  # default: today
    assert get(date="2026-03-03").json()["tasks"] == []  # future
    clock.set("2026-03-03 08:00")
    assert len(get(date="2026-03-02").json()["tasks"]) == 3  # past: all
    resp = get(date="02-03-2026")
    assert resp.status_code == 400 and "date" in resp.json()["error"]


def test_tasks_can_be_added_at_runtime(sim, clock):
    url = f"{sim.task_url}/tasks"
    new = {
        "task_id": "N1",
        "account": "ACC1",
        "emiten": "ZZZZ",
        "side": "buy",
        "price": 500,
        "lot": 1,
        "tp": 520,
        "cl": 490,
        "available_at": "10:15",
    }
    assert requests.post(url, json=new, headers=auth(sim), timeout=5).status_code == 201
    assert requests.get(url, headers=auth(sim), timeout=5).json()["tasks"] == []
    clock.set("10:15")
    (task,) = requests.get(url, headers=auth(sim), timeout=5).json()["tasks"]
    assert task["task_id"] == "N1"
    assert 425 <= sim.quote("ZZZZ") <= 625  # an unknown emiten became tradable (prev close 500)
    again = requests.post(url, json=new, headers=auth(sim), timeout=5)
    assert again.status_code == 409
    bad = requests.post(
        url + "?validate=1",
        json=[{**new, "task_id": "N2"}, {**new, "task_id": "N3", "lot": 0}],
        headers=auth(sim),
        timeout=5,
    )
    assert bad.status_code == 400 and "lot" in bad.json()["error"]
    sim.add_task(task_id="N4", account="ACC2", emiten="BBCA", price=9800, lot=1, tp=None, cl=None)
    served = requests.get(url, headers=auth(sim), timeout=5).json()["tasks"]
    assert [t["task_id"] for t in served] == ["N4", "N1"]  # all or nothing: no N2


def test_broken_tasks_can_be_served_on_purpose(sim):
    url = f"{sim.task_url}/tasks"
    broken = {"task_id": "X", "account": "ACC1", "emiten": "BBCA", "price": 9755, "lot": 0}
    assert requests.post(url, json=broken, headers=auth(sim), timeout=5).status_code == 201
    sim.add_task({"task_id": "Y", "emiten": "bbca", "lot": "two"})
    tasks = requests.get(url, headers=auth(sim), timeout=5).json()["tasks"]
    assert tasks == [
        {**broken, "date": "2026-03-02"},
        {"task_id": "Y", "emiten": "bbca", "lot": "two", "date": "2026-03-02"},
    ]
    no_id = requests.post(url, json={"emiten": "BBCA"}, headers=auth(sim), timeout=5)
    assert no_id.status_code == 400 and "task_id" in no_id.json()["error"]
    with pytest.raises(ValueError, match="lot"):
        sim.add_task(
            {"task_id": "Z", "account": "A", "emiten": "BBCA", "price": 9750, "lot": 0},
            validate=True,
        )


def test_tasks_can_be_cancelled(make_sim, clock):
    sim = make_sim(
        {
            "tasks": [
                {"task_id": "A", "account": "ACC1", "emiten": "BBCA", "price": 9750, "lot": 1},
                {
                    "task_id": "B",
                    "account": "ACC1",
                    "emiten": "BBCA",
                    "price": 9700,
                    "lot": 1,
                    "cancel_at": "10:20",
                },
            ]
        }
    )
    url = f"{sim.task_url}/tasks"

    def cancelled():
        tasks = requests.get(url, headers=auth(sim), timeout=5).json()["tasks"]
        return {t["task_id"]: t.get("cancel") for t in tasks}

    assert cancelled() == {"A": None, "B": None}
    resp = requests.post(f"{url}/A/cancel", headers=auth(sim), timeout=5)
    assert resp.status_code == 200 and resp.json() == {"task_id": "A", "cancel": True}
    assert cancelled() == {"A": True, "B": None}
    clock.set("10:20")
    assert cancelled() == {"A": True, "B": True}
    assert requests.post(f"{url}/Z/cancel", headers=auth(sim), timeout=5).status_code == 404
    assert requests.post(f"{url}/A/cancel", timeout=5).status_code == 401


def test_events_are_idempotent_by_id(sim):
    url = f"{sim.task_url}/events"
    first = requests.post(url, json=event(1), headers=auth(sim), timeout=5)
    assert first.status_code == 200 and first.json() == {"id": "ev-1", "duplicate": False}
    again = requests.post(url, json=event(1), headers=auth(sim), timeout=5)
    assert again.status_code == 200 and again.json() == {"id": "ev-1", "duplicate": True}
    batch = requests.post(url, json=[event(1), event(2), event(3)], headers=auth(sim), timeout=5)
    assert batch.json()["accepted"] == 2 and batch.json()["duplicates"] == 1
    listed = requests.get(url, headers=auth(sim), timeout=5).json()
    assert [e["id"] for e in listed["events"]] == ["ev-1", "ev-2", "ev-3"]
    assert listed["duplicate_deliveries"] == 2 == sim.duplicate_event_deliveries
    assert "received_at" in listed["events"][0]


@pytest.mark.parametrize(
    "body, message",
    [
        ("{not json", "body is not valid JSON"),
        ('"hello"', "expected an event object or a list"),
        (
            json.dumps({k: v for k, v in event(1).items() if k != "type"}),
            "type: missing required key",
        ),
        (json.dumps(event(1, time="10:00")), "time: '10:00' is not a valid date-time"),
        (json.dumps(event(1, time="2026-03-02T10:00:00")), "is not a valid date-time"),
        (json.dumps(event(1, payload=[1])), "payload: expected object"),
        (json.dumps([event(1), {"id": 5}]), "[1].id: expected string"),
        # a registered type's payload is checked against that type's schema
        (
            json.dumps(
                [
                    event(1),
                    event(
                        2,
                        type="FILLED",
                        payload={"state": "FILLED", "from": "OPEN", "lots": 2, "price": 9750},
                    ),
                ]
            ),
            "[1].payload.order_id: missing required key (FILLED event)",
        ),
        (
            json.dumps(event(1, type="WORKER_FATAL", payload={"reason": None})),
            "payload.reason: expected string, got null (WORKER_FATAL event)",
        ),
    ],
)
def test_bad_events_are_400_and_store_nothing(sim, body, message):
    resp = requests.post(f"{sim.task_url}/events", data=body, headers=auth(sim), timeout=5)
    assert resp.status_code == 400 and message in resp.json()["error"]
    assert sim.events() == []


def test_unknown_keys_and_types_are_stored(sim):
    """Consumers ignore what they do not know: a payload key no schema declares, or a type a
    newer robot may send, is stored (the tests check the robot's own events strictly)."""
    fatal = event(1, type="WORKER_FATAL", payload={"reason": "5 failures", "extra": 1})
    resp = requests.post(
        f"{sim.task_url}/events",
        json=[fatal, event(2, type="NEW_THING")],
        headers=auth(sim),
        timeout=5,
    )
    assert resp.status_code == 200 and resp.json()["accepted"] == 2
    assert [e["type"] for e in sim.events()] == ["WORKER_FATAL", "NEW_THING"]


@pytest.mark.parametrize("kind", ["http_500", "malformed"])
def test_injected_task_faults_by_count(sim, kind):
    sim.inject_task_fault(kind, count=2)
    url = f"{sim.task_url}/tasks"
    for _ in range(2):
        resp = requests.get(url, headers=auth(sim), timeout=5)
        if kind == "http_500":
            assert resp.status_code == 500
        else:
            assert resp.status_code == 200
            with pytest.raises(ValueError):
                resp.json()
    assert requests.get(url, headers=auth(sim), timeout=5).json()["tasks"] == []


def test_injected_slow_task_server_by_duration(sim):
    # a window far longer than the two requests take even on a loaded machine: with 0.8 s, a
    # first request slowed by load past 0.8 s left the second one a fast server (no Timeout)
    sim.inject_task_fault("slow", duration=30, seconds=0.4)
    url = f"{sim.task_url}/tasks"
    start = time.monotonic()
    assert requests.get(url, headers=auth(sim), timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.4
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=auth(sim), timeout=0.1)


def test_event_endpoint_500_stores_nothing(sim):
    sim.inject_task_fault("http_500", count=1, endpoint="events")
    url = f"{sim.task_url}/events"
    assert requests.post(url, json=event(1), headers=auth(sim), timeout=5).status_code == 500
    assert sim.events() == []
    assert (
        requests.post(url, json=event(1), headers=auth(sim), timeout=5).json()["duplicate"] is False
    )
    assert requests.get(f"{sim.task_url}/tasks", headers=auth(sim), timeout=5).status_code == 200


def test_scenario_task_server_fault_window(make_sim, clock):
    sim = make_sim(
        {
            "faults": [
                {
                    "kind": "task_server",
                    "fault": "http_500",
                    "endpoint": "all",
                    "from": "10:00",
                    "until": "10:10",
                }
            ]
        }
    )
    url = f"{sim.task_url}/tasks"
    assert requests.get(url, headers=auth(sim), timeout=5).status_code == 500
    assert (
        requests.post(
            f"{sim.task_url}/events", json=event(1), headers=auth(sim), timeout=5
        ).status_code
        == 500
    )
    clock.set("10:10")
    assert requests.get(url, headers=auth(sim), timeout=5).status_code == 200


def test_control_api_over_http(sim):
    url = f"{sim.url}/api/_control"
    resp = requests.post(
        f"{url}/task_fault", json={"kind": "http_500", "count": 1}, headers=auth(sim), timeout=5
    )
    assert resp.json() == {"ok": True}
    assert requests.get(f"{sim.task_url}/tasks", headers=auth(sim), timeout=5).status_code == 500
    resp = requests.post(
        f"{url}/price", json={"emiten": "BBCA", "price": 9825}, headers=auth(sim), timeout=5
    )
    assert resp.status_code == 200 and sim.quote("BBCA") == 9825
    bad = requests.post(
        f"{url}/price", json={"emiten": "BBCA", "price": 9826}, headers=auth(sim), timeout=5
    )
    assert bad.status_code == 400 and "tick" in bad.json()["error"]
    bad = requests.post(f"{url}/fault", json={"kind": "latency"}, headers=auth(sim), timeout=5)
    assert bad.status_code == 400 and "seconds" in bad.json()["error"]
    assert requests.post(f"{url}/nope", headers=auth(sim), timeout=5).status_code == 400


def test_ledger_endpoint(sim):
    from sim_client import WebClient

    web = WebClient(sim, "stockbit")
    web.login()
    web.order("BBCA", 9000, 1)
    body = requests.get(f"{sim.url}/api/ledger", timeout=5).json()
    assert [o["account"] for o in body["orders"]] == ["ACC1"]
    assert requests.get(f"{sim.url}/api/ledger?broker=ipot", timeout=5).json()["orders"] == []
    health = requests.get(f"{sim.url}/api/health", timeout=5).json()
    assert health["ok"] is True and health["time"].startswith("2026-03-02T10:00")


def test_stop_and_start_on_the_same_port_keeps_state(sim):
    url = f"{sim.task_url}/events"
    keepalive = requests.Session()
    assert keepalive.post(url, json=event(1), headers=auth(sim), timeout=5).status_code == 200
    port = sim.port
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        keepalive.post(url, json=event(2), headers=auth(sim), timeout=2)  # cut, not served
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    sim.start()
    assert sim.port == port
    assert keepalive.post(url, json=event(1), headers=auth(sim), timeout=5).json()["duplicate"]
    assert [e["id"] for e in sim.events()] == ["ev-1"]
