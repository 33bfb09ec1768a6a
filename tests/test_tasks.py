"""Task intake's reports, fast: what ingest() tells the task server about the tasks it gets.

Accepted, refused (stored FAILED, or not even storable), a cancel asked for, a task_id served
again with other fields: each is one event, and every event the intake writes matches its
schema strictly (the ``intake`` fixture checks them all at the end of each test).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from event_contract import check_rows
from robot.clock import WIB
from robot.config import load_config
from robot.store import Store
from robot.tasks import ingest

DAY = date(2026, 3, 2)
NOW = datetime.combine(DAY, time(8, 50), WIB)
SOURCE = "server:http://127.0.0.1:8700"
TASK = {
    "task_id": "T1",
    "account": "ACC_A",
    "emiten": "BBCA",
    "side": "buy",
    "price": 9750,
    "lot": 2,
    "tp": 9900,
    "cl": None,
}


@pytest.fixture
def intake(tmp_path, make_config):
    cfg = load_config(
        make_config(["ACC_A"], {"operating_hours": {"start": "08:45", "end": "16:15"}})
    )
    store = Store(tmp_path / "state.db")
    yield cfg, store
    try:
        check_rows(store.query("SELECT * FROM events"))
    finally:
        store.close()


def events(store: Store) -> list[tuple[str | None, str | None, str, dict]]:
    return [
        (r["account"], r["task_id"], r["type"], json.loads(r["payload"]))
        for r in store.query("SELECT * FROM events ORDER BY seq")
    ]


def test_an_accepted_task_is_reported_with_its_order(intake):
    cfg, store = intake
    assert ingest(store, cfg, [TASK], SOURCE, DAY, NOW).accepted == 1
    assert events(store) == [
        (
            "ACC_A",
            "T1",
            "TASK_ACCEPTED",
            {"emiten": "BBCA", "price": 9750, "lot": 2, "tp": 9900, "cl": None, "source": SOURCE},
        )
    ]


def test_a_refused_task_is_reported_with_every_reason(intake):
    cfg, store = intake
    bad = {**TASK, "price": 9755, "tp": 9700}  # off the tick grid, TP below
    assert ingest(store, cfg, [bad], SOURCE, DAY, NOW).rejected == 1
    ((account, task_id, type_, payload),) = events(store)
    assert (account, task_id, type_) == ("ACC_A", "T1", "TASK_REJECTED")
    assert set(payload) == {"reasons", "source"} and len(payload["reasons"]) == 2
    assert ingest(store, cfg, [bad], SOURCE, DAY, NOW).duplicates == 1  # once, not per pull
    assert len(events(store)) == 1


def test_a_task_that_cannot_be_stored_is_reported_with_what_was_received(intake):
    cfg, store = intake
    nameless = {k: v for k, v in TASK.items() if k != "task_id"}
    deep: list = []
    for _ in range(60):  # past tasks.MAX_DEPTH
        deep = [deep]
    assert (
        ingest(
            store, cfg, [nameless, {**TASK, "task_id": "T2", "note": deep}], SOURCE, DAY, NOW
        ).rejected
        == 2
    )
    (no_id, too_deep) = events(store)
    assert no_id == (
        None,
        None,
        "TASK_REJECTED",
        {"task": nameless, "source": SOURCE, "reasons": ["task_id: missing or not a string"]},
    )
    assert too_deep[:3] == (None, None, "TASK_REJECTED") and set(too_deep[3]) == {
        "source",
        "reasons",
    }


def test_a_cancel_is_reported_once(intake):
    cfg, store = intake
    ingest(store, cfg, [TASK], SOURCE, DAY, NOW)
    assert ingest(store, cfg, [{**TASK, "cancel": True}], SOURCE, DAY, NOW).cancels == 1
    assert ingest(store, cfg, [{**TASK, "cancel": True}], SOURCE, DAY, NOW).duplicates == 1
    assert [e[2:] for e in events(store)][1:] == [("TASK_CANCEL_REQUESTED", {"source": SOURCE})]


def test_a_changed_task_under_the_same_id_is_a_conflict_reported_once_per_version(intake):
    cfg, store = intake
    ingest(store, cfg, [TASK], SOURCE, DAY, NOW)
    changed = {**TASK, "price": 9800}
    for _ in range(2):
        assert ingest(store, cfg, [changed], SOURCE, DAY, NOW).conflicts == 1
    ingest(store, cfg, [{**TASK, "lot": 3}], SOURCE, DAY, NOW)
    conflicts = [e[3] for e in events(store) if e[2] == "TASK_CONFLICT"]
    assert [c["received"] for c in conflicts] == [changed, {**TASK, "lot": 3}]
    assert conflicts[0]["kept"] == TASK and conflicts[0]["source"] == SOURCE
    assert store.one("SELECT price FROM tasks WHERE task_id = 'T1'")["price"] == 9750
