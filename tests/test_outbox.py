"""The event outbox against the simulator's real task server over HTTP: delivery in seq order,
outages, 5xx, slow answers, redelivery after a crash, an event the server refuses, a wrong
token, no task server at all, and the wire form the protocol specifies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from robot.clock import WIB, iso
from robot.config import TaskServer
from robot.outbox import BACKOFF_MAX_S, BATCH, Outbox, wire_form
from robot.protocol import validate_event
from robot.store import Store
from simulator.testing import ManualClock, running_simulator
from waiting import wait_for

TOKEN = "test-token"
TOKEN_ENV = "ROBOT_OUTBOX_TEST_TOKEN"
AT = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)


class Mono:
    """An injected monotonic clock: backoff is checked without waiting for it."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


@pytest.fixture
def sim():
    with running_simulator(clock=ManualClock("2026-03-02 10:00"), token=TOKEN) as s:
        yield s


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


@pytest.fixture
def mono():
    return Mono()


def outbox(store, sim, mono, timeout_s: float = 2.0) -> Outbox:
    server = TaskServer(url=sim.url, token_env=TOKEN_ENV, timeout_s=timeout_s)
    return Outbox(store, server, ManualClock("2026-03-02 10:05"), monotonic=mono)


def accepted(price: int) -> dict:
    """A TASK_ACCEPTED payload as its schema describes it (the task server checks it)."""
    return {
        "emiten": "BBCA",
        "price": price,
        "lot": 1,
        "tp": None,
        "cl": None,
        "source": "server:test",
    }


def seed(store: Store, n: int, start: int = 0) -> list[str]:
    """n events alternating between two accounts (and one robot-wide event every fifth)."""
    ids = []
    for i in range(start, start + n):
        account = None if i % 5 == 4 else ("ACC_A" if i % 2 else "ACC_B")
        ids.append(
            store.add_event(
                "TASK_ACCEPTED",
                account,
                accepted(9000 + i),
                AT + timedelta(seconds=i),
                task_id=f"T{i}",
                event_id=f"ev-{i:04d}",
            )
        )
    return ids


def rows(store: Store) -> list[dict]:
    return store.query("SELECT * FROM events ORDER BY seq")


def server_ids(sim) -> list[str]:
    return [e["id"] for e in sim.events()]


def assert_stored_once_in_order(sim, ids: list[str]) -> None:
    got = server_ids(sim)
    assert len(got) == len(set(got)), f"an id stored twice: {got}"
    assert got == ids


# --- the happy path ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [7, 2 * BATCH + 13])  # one batch; several batches
def test_delivers_in_seq_order_once_and_marks_delivered(store, sim, token, mono, n):
    ids = seed(store, n)
    ob = outbox(store, sim, mono)
    assert ob.due()
    assert ob.deliver() == n
    for r in rows(store):
        assert r["delivered_at"] == "2026-03-02T10:05:00.000+07:00"
        assert r["attempts"] == 1 and r["last_error"] is None and r["undeliverable"] is None
    assert_stored_once_in_order(sim, ids)
    assert sim.duplicate_event_deliveries == 0
    # each account's events reach the server in the order the robot wrote them
    stored = sim.events()
    for account in ("ACC_A", "ACC_B", "robot"):
        mine = [e["id"] for e in stored if e["account"] == account]
        assert mine and mine == [
            r["id"] for r in rows(store) if (r["account"] or "robot") == account
        ]
    # what the server stored is the row as the protocol spells it
    first = stored[0]
    assert first["payload"] == accepted(9000)
    assert (
        first["time"] == iso(AT) and first["task_id"] == "T0" and first["type"] == "TASK_ACCEPTED"
    )
    # nothing pending: another call posts nothing
    assert ob.deliver() == 0
    assert len(sim.events()) == n and sim.duplicate_event_deliveries == 0


# --- the server is down -----------------------------------------------------------------------


def test_server_down_backs_off_keeps_order_and_delivers_everything_after_restart(
    store, sim, token, mono
):
    ids = seed(store, 5)
    ob = outbox(store, sim, mono)
    sim.stop()
    delays = []
    for attempt in range(1, 5):
        before = mono.t
        assert ob.deliver() == 0
        delays.append(ob.next_at - before)
        assert not ob.due()
        for r in rows(store):
            assert r["delivered_at"] is None and r["undeliverable"] is None
            assert r["attempts"] == attempt
            assert r["last_error"].startswith("unreachable")
        mono.t = ob.next_at - 0.01
        assert not ob.due()
        mono.t = ob.next_at
        assert ob.due()
    assert delays == [1, 2, 4, 8]
    # more events happen during the outage: they queue behind the older ones
    ids += seed(store, 3, start=5)
    sim.start()
    assert ob.deliver() == 8
    assert all(r["delivered_at"] for r in rows(store))
    assert_stored_once_in_order(sim, ids)
    assert ob.failures == 0 and ob.next_at == mono.t + 0.5


def test_backoff_is_capped(store, sim, token, mono):
    seed(store, 1)
    ob = outbox(store, sim, mono)
    sim.stop()
    for _ in range(12):
        ob.deliver()
    assert ob.next_at - mono.t == BACKOFF_MAX_S
    assert rows(store)[0]["attempts"] == 12


# --- server trouble: 5xx, slow answers, malformed answers ------------------------------------


def test_http_500_for_two_requests_then_ok(store, sim, token, mono):
    ids = seed(store, 4)
    ob = outbox(store, sim, mono)
    sim.inject_task_fault("http_500", count=2, endpoint="events")
    assert ob.deliver() == 0
    assert ob.next_at - mono.t == 1
    assert ob.deliver() == 0
    assert ob.next_at - mono.t == 2
    for r in rows(store):
        assert r["delivered_at"] is None and r["undeliverable"] is None and r["attempts"] == 2
        assert r["last_error"].startswith("HTTP 500")
    assert sim.events() == []  # a 500 stores nothing
    assert ob.deliver() == 4
    assert_stored_once_in_order(sim, ids)
    assert [r["attempts"] for r in rows(store)] == [3] * 4
    assert all(r["last_error"] is None for r in rows(store))


def test_slow_answer_is_a_failure_and_the_retry_is_harmless(store, sim, token, mono):
    ids = seed(store, 3)
    ob = outbox(store, sim, mono, timeout_s=1.0)
    sim.inject_task_fault("slow", count=1, endpoint="events", seconds=2.0)
    assert ob.deliver() == 0
    for r in rows(store):
        assert r["delivered_at"] is None and r["undeliverable"] is None
        assert "Timeout" in r["last_error"]
    assert ob.next_at > mono.t
    # the slow request goes on at the server and stores the events after the robot gave up
    wait_for(lambda: len(sim.events()) == 3, timeout=10, what="the slow request to finish")
    mono.t = ob.next_at
    assert ob.deliver() == 3
    assert all(r["delivered_at"] for r in rows(store))
    assert_stored_once_in_order(sim, ids)
    assert sim.duplicate_event_deliveries == 3


def test_malformed_200_is_retried_not_taken_as_delivered(store, sim, token, mono):
    """A 200 whose body is cut off (a crashed proxy) stored nothing: PROTOCOL.md says retry."""
    ids = seed(store, 3)
    ob = outbox(store, sim, mono)
    sim.inject_task_fault("malformed", count=1, endpoint="events")
    assert ob.deliver() == 0
    assert sim.events() == []
    for r in rows(store):
        assert r["delivered_at"] is None and r["undeliverable"] is None
        assert "malformed" in r["last_error"]
    assert ob.deliver() == 3
    assert_stored_once_in_order(sim, ids)


def test_redelivery_after_a_crash_before_marking_is_harmless(store, sim, token, mono):
    ids = seed(store, 5)
    ob = outbox(store, sim, mono)
    assert ob.deliver() == 5
    # the robot crashed after the POST but before recording delivered_at of two events
    with store.transaction() as c:
        c.execute("UPDATE events SET delivered_at = NULL WHERE id IN (?, ?)", (ids[1], ids[3]))
    assert [r["id"] for r in ob.pending()] == [ids[1], ids[3]]
    assert ob.deliver() == 2
    assert all(r["delivered_at"] for r in rows(store))
    assert_stored_once_in_order(sim, ids)
    assert sim.duplicate_event_deliveries == 2
    by_id = {r["id"]: r for r in rows(store)}
    assert by_id[ids[1]]["attempts"] == by_id[ids[3]]["attempts"] == 2
    assert by_id[ids[0]]["attempts"] == 1


# --- the server refuses an event --------------------------------------------------------------


def test_an_invalid_event_is_undeliverable_and_the_others_go_through_in_order(
    store, sim, token, mono
):
    good = seed(store, 2)
    with store.transaction() as c:  # payload must be a JSON object: a list breaks the schema
        c.execute(
            "INSERT INTO events (id, type, account, task_id, created, payload) VALUES "
            "('ev-bad', 'order_placed', 'ACC_A', NULL, ?, '[1, 2]')",
            (iso(AT),),
        )
    good += seed(store, 2, start=2)
    ob = outbox(store, sim, mono)
    assert ob.deliver() == 4
    assert_stored_once_in_order(sim, good)
    by_id = {r["id"]: r for r in rows(store)}
    bad = by_id.pop("ev-bad")
    assert bad["delivered_at"] is None and bad["attempts"] == 1
    assert bad["undeliverable"].startswith("HTTP 400")
    assert "payload: expected object" in bad["undeliverable"]
    assert all(r["delivered_at"] and r["undeliverable"] is None for r in by_id.values())
    # a refused event is not retried, and it does not hold up later ones
    assert ob.pending() == []
    late = seed(store, 1, start=10)
    assert ob.deliver() == 1
    assert_stored_once_in_order(sim, good + late)
    assert store.one("SELECT attempts FROM events WHERE id = 'ev-bad'")["attempts"] == 1
    assert ob.failures == 0


@pytest.mark.parametrize("env", ["wrong-token", None])
def test_wrong_or_missing_token_is_retried_later_not_undeliverable(
    store, sim, mono, monkeypatch, env
):
    if env is None:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(TOKEN_ENV, env)
    ids = seed(store, 3)
    ob = outbox(store, sim, mono)
    assert ob.deliver() == 0
    assert ob.deliver() == 0
    for r in rows(store):
        assert r["undeliverable"] is None and r["delivered_at"] is None and r["attempts"] == 2
        assert r["last_error"].startswith("HTTP 401")
    assert ob.next_at - mono.t == 2 and not ob.due()
    assert sim.events() == []
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # the operator fixes the token: nothing was lost
    mono.t = ob.next_at
    assert ob.deliver() == 3
    assert_stored_once_in_order(sim, ids)


# --- no task server ---------------------------------------------------------------------------


def test_no_task_server_is_a_no_op(store, mono):
    seed(store, 3)
    ob = Outbox(store, None, ManualClock("2026-03-02 10:05"), monotonic=mono)
    assert not ob.due()
    assert ob.deliver() == 0
    assert [(r["delivered_at"], r["attempts"], r["last_error"]) for r in rows(store)] == [
        (None, 0, None)
    ] * 3
    assert len(ob.pending()) == 3


# --- the wire form ----------------------------------------------------------------------------


def test_wire_form_matches_the_event_schema(store):
    filled = {
        "state": "FILLED",
        "from": "OPEN",
        "emiten": "BBCA",
        "order_id": "100001",
        "lots": 2,
        "price": 9750,
    }
    store.add_event("FILLED", "ACC_A", filled, AT, task_id="T1", event_id="e-1")
    store.add_event(
        "TASK_REJECTED",
        None,
        {
            "source": "server:test",
            "task": {"x": [1, 2]},
            "reasons": ["task_id: missing or not a string"],
        },
        AT,
        event_id="e-2",
    )
    forms = [wire_form(r) for r in rows(store)]
    for f in forms:
        assert validate_event(f, strict=True) == [], f
    assert forms[0] == {
        "id": "e-1",
        "type": "FILLED",
        "account": "ACC_A",
        "time": "2026-03-02T10:00:00.000+07:00",
        "task_id": "T1",
        "payload": filled,
    }
    assert forms[1]["account"] == "robot" and forms[1]["task_id"] is None
    json.dumps(forms)  # what is posted is plain JSON
    # and the validator does catch a broken row, so the checks above mean something
    broken = dict(rows(store)[0], payload="[1]")
    assert validate_event(wire_form(broken)) == ["payload: expected object, got [1]"]
    no_lots = dict(rows(store)[0], payload=json.dumps({**filled, "lots": None}))
    assert validate_event(wire_form(no_lots)) == [
        "payload.lots: expected integer, got null (FILLED event)"
    ]
