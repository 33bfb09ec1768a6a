"""The order engine's rules, fast: a real SQLite store, the browserless fake broker, a set clock.

The end-to-end versions (real Chromium, the simulator, SIGKILLs) are in test_engine_e2e.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from adapters.fake import FakeAdapter
from event_contract import check_rows
from robot.clock import WIB
from robot.config import Account, Settings
from robot.engine import Engine
from robot.store import Store
from simulator.testing import ManualClock

DAY = datetime(2026, 3, 2, tzinfo=WIB).date()


@pytest.fixture
def world(tmp_path):
    store = Store(tmp_path / "state.db")
    clock = ManualClock("2026-03-02 10:00")
    account = Account(id="A1", broker="fake", profile_path=tmp_path / "profiles" / "A1")
    settings = Settings(state_db=tmp_path / "state.db", reconcile_grace_s=30, max_retry=2)
    adapter = FakeAdapter(account, None, settings, clock)
    adapter.start()
    yield store, clock, account, settings, adapter
    adapter.close()
    try:
        check_rows(store.query("SELECT * FROM events"))  # whatever a test made it send
    finally:
        store.close()


def add_task(store: Store, task_id="T1", price=1000, lot=2, tp=1100, cl=950, **extra):
    now = "2026-03-02T09:00:00.000+07:00"
    with store.transaction() as c:
        c.execute(
            "INSERT INTO tasks (task_id, account, trading_date, emiten, side, price, lot, tp,"
            " cl, source, payload, payload_hash, state, created, updated) VALUES "
            "(?, 'A1', ?, 'BBCA', 'buy', ?, ?, ?, ?, 'test', '{}', 'h', 'PENDING', ?, ?)",
            (task_id, DAY.isoformat(), price, lot, tp, cl, now, now),
        )
        for k, v in extra.items():
            c.execute(f"UPDATE tasks SET {k} = ? WHERE task_id = ?", (v, task_id))


def engine(world, **kw) -> Engine:
    store, clock, account, settings, adapter = world
    settings = replace(settings, **kw.pop("settings", {}))
    return Engine(store, adapter, account, settings, clock, DAY, **kw)


def book(adapter) -> list[dict]:
    path = Path(adapter.profile) / "fake_broker.json"
    return json.loads(path.read_text()) if path.exists() else []


def state(store, task_id="T1") -> str:
    return store.one("SELECT state FROM tasks WHERE task_id = ?", (task_id,))["state"]


def test_a_pending_task_is_placed_once_and_confirmed_by_read_back(world):
    store, clock, *_, adapter = world
    add_task(store)
    e = engine(world)
    e.step()
    e.step()
    e.step()
    assert len(book(adapter)) == 1
    assert state(store) == "OPEN"
    row = store.one("SELECT * FROM orders WHERE task_id = 'T1'")
    assert row["status"] == "OPEN" and row["broker_order_id"] == book(adapter)[0]["order_id"]
    assert row["intent_at"] <= row["click_at"] <= row["confirmed_at"]
    types = [r["type"] for r in store.query("SELECT type FROM events ORDER BY seq")]
    assert types == ["ORDER_SUBMITTED"]


def test_nothing_is_sent_in_the_lunch_break(world):
    store, clock, *_, adapter = world
    clock.set("12:30")
    add_task(store)
    engine(world).step()
    assert book(adapter) == [] and state(store) == "PENDING"


def test_dry_run_fills_the_form_but_never_clicks(world):
    store, clock, *_, adapter = world
    add_task(store)
    engine(world, dry_run=True).step()
    assert book(adapter) == []
    assert state(store) == "DRY_RUN"
    row = store.one("SELECT * FROM orders")
    assert row["status"] == "DRY_RUN" and row["click_at"] is None


def intent(store, status="INTENT", click=False, toast=None):
    now = "2026-03-02T09:59:00.000+07:00"
    with store.transaction() as c:
        c.execute(
            "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price, lot,"
            " intent_at, click_at, status, toast) VALUES ('T1', 'A1', 'entry', 1, 'buy', "
            "'BBCA', 1000, 2, ?, ?, ?, ?)",
            (now, now if click else None, status, toast),
        )
        c.execute("UPDATE tasks SET state = 'SUBMITTING', attempts = 1 WHERE task_id = 'T1'")


def test_an_intent_never_clicked_is_settled_and_sent_once(world):
    store, clock, *_, adapter = world
    add_task(store)
    intent(store, "INTENT")  # the worker died before the click
    e = engine(world)
    e.step()
    statuses = [r["status"] for r in store.query("SELECT status FROM orders ORDER BY id")]
    assert statuses[0] == "NOT_SENT" and len(book(adapter)) == 1
    e.step()
    assert len(book(adapter)) == 1 and state(store) == "OPEN"


def test_a_clicked_intent_found_at_the_broker_is_adopted_not_resent(world):
    store, clock, account, settings, adapter = world
    add_task(store)
    intent(store, "CLICKED", click=True)
    from adapters.base import OrderRequest, Side

    adapter.submit_order(OrderRequest("BBCA", Side.BUY, 1000, 2), lambda: None)  # it did land
    e = engine(world)
    e.step()
    e.step()
    assert len(book(adapter)) == 1
    assert state(store) == "OPEN"
    assert store.one("SELECT status FROM orders")["status"] == "OPEN"


@pytest.mark.parametrize("resubmit", [False, True])
def test_a_clicked_intent_not_found_becomes_unknown_and_is_not_resent(world, resubmit):
    store, clock, *_, adapter = world
    add_task(store)
    intent(store, "CLICKED", click=True)  # clicked, but the broker never got it
    e = engine(world, settings={"resubmit_unknown": resubmit})
    e.step()
    assert state(store) == "SUBMITTING"  # first miss: wait the grace period
    clock.advance(31)
    e.step()
    if not resubmit:
        assert state(store) == "OUTCOME_UNKNOWN" and book(adapter) == []
        for _ in range(3):
            clock.advance(60)
            e.step()
        assert book(adapter) == []  # never resent
        assert (
            store.one("SELECT COUNT(*) AS n FROM events WHERE type = 'OUTCOME_UNKNOWN'")["n"] == 1
        )
    else:
        e.step()
        assert len(book(adapter)) == 1  # the user opted in to a resend


def test_cancel_requested_withdraws_the_open_order(world):
    store, clock, *_, adapter = world
    add_task(store)
    e = engine(world)
    e.step()
    e.step()
    assert state(store) == "OPEN"
    with store.transaction() as c:
        c.execute("UPDATE tasks SET cancel_requested = 1")
    e.step()
    assert state(store) == "CANCELLED"
    assert book(adapter)[0]["status"] == "WITHDRAWN"


def test_cancel_before_submission_sends_nothing(world):
    store, clock, *_, adapter = world
    add_task(store, cancel_requested=1)
    engine(world).step()
    assert state(store) == "CANCELLED" and book(adapter) == []


def test_end_of_day_settles_what_is_left(world):
    store, clock, *_, adapter = world
    add_task(store, "T1")
    e = engine(world)
    e.step()
    e.step()
    clock.set("12:30")  # lunch: T2 cannot be sent before the close
    add_task(store, "T2", price=2000, tp=2100, cl=1900)
    e.step()
    clock.set("16:00")
    e.settle_eod()
    assert state(store, "T1") == "EXPIRED_UNMATCHED"  # still open at the broker at the close
    assert state(store, "T2") == "FAILED"
    snap = store.one("SELECT orders FROM eod_snapshots WHERE account = 'A1'")
    assert len(json.loads(snap["orders"])) == 1


def test_no_click_once_the_phase_closed_while_the_form_was_filled(world):
    """The step began in the pre-opening; filling the form took until 08:58 (no order entry):
    nothing is clicked, the intent is never sent, and the task goes out when session 1 opens."""
    store, clock, *_, adapter = world
    add_task(store)
    clock.set("08:57:59", back=True)  # from 10:00: before the open
    real_submit = adapter.submit_order

    def slow_submit(*args, **kwargs):
        clock.advance(2)  # the form is filled: now 08:58:01
        return real_submit(*args, **kwargs)

    adapter.submit_order = slow_submit
    eng = engine(world)
    eng.step()
    assert book(adapter) == []
    assert state(store) == "PENDING"
    (intent,) = store.query("SELECT status, click_at, error FROM orders")
    assert intent["status"] == "NOT_SENT" and intent["click_at"] is None
    assert "before the click" in intent["error"]
    adapter.submit_order = real_submit
    clock.set("09:00:05")
    eng.step()
    assert len(book(adapter)) == 1 and state(store) == "OPEN"


class Killed(BaseException):
    """Stands in for the SIGKILL a fault point sends (the end-to-end tests send the real one)."""


def _crash_at(world, point: str, monkeypatch) -> None:
    """Place T1 and let the worker die at a fault point of the submission."""
    store, clock, *_ = world
    add_task(store)

    def fault(name: str) -> None:
        if name == point:
            raise Killed(name)

    monkeypatch.setattr("robot.engine.fault_point", fault)
    with pytest.raises(Killed):
        engine(world).step()


@pytest.mark.parametrize(
    "point, expected, order_status",
    [
        ("after_intent", "FAILED", "NOT_SENT"),  # never clicked: provably not sent
        ("after_click", "OUTCOME_UNKNOWN", "UNKNOWN"),  # clicked, never read back: a human checks
    ],
)
def test_the_close_without_a_browser_settles_unconfirmed_intents(
    world, monkeypatch, point, expected, order_status
):
    """The worker died mid-submission and no browser could be had before the close (a Grid node
    down): the store-only settling gives the task an honest final state, never SUBMITTING."""
    store, clock, account, settings, adapter = world
    _crash_at(world, point, monkeypatch)
    assert state(store) == "SUBMITTING"
    clock.set("16:00")
    Engine(store, None, account, settings, clock, DAY).settle_from_store()
    assert state(store) == expected
    (order,) = store.query("SELECT status FROM orders")
    assert order["status"] == order_status
    events = [r["type"] for r in store.query("SELECT type FROM events WHERE task_id = 'T1'")]
    assert ("TASK_FAILED" if expected == "FAILED" else "OUTCOME_UNKNOWN") in events


def test_an_open_order_settled_without_a_browser_says_a_late_fill_is_not_ruled_out(world):
    store, clock, account, settings, adapter = world
    add_task(store)
    engine(world).step()
    assert state(store) == "OPEN"
    clock.set("16:00")
    Engine(store, None, account, settings, clock, DAY).settle_from_store()
    row = store.one("SELECT state, reason FROM tasks WHERE task_id = 'T1'")
    assert row["state"] == "EXPIRED_UNMATCHED" and "could not be read" in row["reason"]


def test_an_idle_account_reads_the_broker_only_now_and_then_and_sends_a_due_task_at_once(
    world, monkeypatch
):
    """Nothing of ours at the broker: no page load per poll (one every IDLE_READ_S, which also
    notices an expired session); a task that becomes due goes out without a read first; once
    an order is live, every poll reads again."""
    from robot.engine import IDLE_READ_S

    store, clock, *_, adapter = world
    reads = []
    real = adapter.get_open_orders
    monkeypatch.setattr(adapter, "get_open_orders", lambda: reads.append(clock.now()) or real())
    clock.set("08:59:50", back=True)  # from 10:00: before the open
    e = engine(world)
    e.step()  # first step: the reconciling read
    assert len(reads) == 1
    for _ in range(4):
        clock.advance(2)
        e.step()
    assert len(reads) == 1  # idle: no reads for a while
    add_task(store)
    clock.set("09:00:01")
    e.step()  # sent straight away; its read-back reads once
    assert len(book(adapter)) == 1 and state(store) == "OPEN"
    n = len(reads)
    for _ in range(3):
        clock.advance(2)
        e.step()
    assert len(reads) == n + 3  # an order is live: each poll reads
    with store.transaction() as c:  # the user withdraws T1
        c.execute("UPDATE tasks SET cancel_requested = 1 WHERE task_id = 'T1'")
    clock.advance(2)
    e.step()
    assert state(store) == "CANCELLED"
    n = len(reads)
    clock.advance(2)
    e.step()
    assert len(reads) == n  # idle again
    clock.advance(IDLE_READ_S)
    e.step()
    assert len(reads) == n + 1  # ... but it looks now and then


def test_a_rejection_that_arrives_after_order_entry_closed_waits_for_the_next_phase(world):
    """Clicked at 08:57:59, the order reached the broker in the pre-opening matching (08:58) and
    was rejected: nothing was placed, so session 1 takes the task instead of failing it."""
    from adapters.base import BrokerRejected

    store, clock, *_, adapter = world
    add_task(store)
    clock.set("08:57:59", back=True)  # from 10:00: before the open
    real_submit = adapter.submit_order

    def late(request, before_click, **kwargs):
        before_click()  # the check passes at 08:57:59 ...
        clock.advance(2)  # ... the broker answers at 08:58:01
        raise BrokerRejected("Market is closed for new orders (pre opening matching)")

    adapter.submit_order = late
    eng = engine(world)
    eng.step()
    assert state(store) == "PENDING"
    (first,) = store.query("SELECT status FROM orders")
    assert first["status"] == "REJECTED"
    adapter.submit_order = real_submit
    clock.set("09:00:05")
    eng.step()
    assert len(book(adapter)) == 1 and state(store) == "OPEN"


# --- fills and exits (the events they send are checked against their schemas by `world`) -----


def broker_sets(adapter, order_id: str, **fields) -> None:
    """The fake broker's book changes as a real broker's would (a fill, an expiry)."""
    rows = book(adapter)
    for r in rows:
        if r["order_id"] == order_id:
            r.update(fields)
    (Path(adapter.profile) / "fake_broker.json").write_text(json.dumps(rows))


def events_of(store, task_id="T1") -> list[tuple[str, dict]]:
    return [
        (r["type"], json.loads(r["payload"]))
        for r in store.query(
            "SELECT type, payload FROM events WHERE task_id = ? ORDER BY seq", (task_id,)
        )
    ]


def step_until(e: Engine, store, wanted: str, steps: int = 6) -> None:
    for _ in range(steps):
        e.step()
        if state(store) == wanted:
            return
    assert state(store) == wanted


def test_a_partial_fill_a_fill_and_a_native_take_profit_are_reported(world):
    store, clock, *_, adapter = world
    add_task(store)
    e = engine(world)
    step_until(e, store, "OPEN")
    (entry,) = book(adapter)
    broker_sets(adapter, entry["order_id"], filled=1, status="PARTIAL")
    step_until(e, store, "PARTIAL")
    broker_sets(adapter, entry["order_id"], filled=2, status="MATCHED")
    step_until(e, store, "FILLED")
    # the broker's own TP sells the position (an auto order: no parent id on this broker)
    rows = book(adapter) + [
        {
            "order_id": "9001",
            "emiten": "BBCA",
            "side": "sell",
            "price": 1100,
            "lot": 2,
            "filled": 2,
            "status": "MATCHED",
            "time": clock.now().isoformat(),
        }
    ]
    (Path(adapter.profile) / "fake_broker.json").write_text(json.dumps(rows))
    step_until(e, store, "TP_HIT")
    sent = events_of(store)
    assert [t for t, _ in sent] == ["ORDER_SUBMITTED", "PARTIAL_FILL", "FILLED", "TP_HIT"]
    assert sent[1][1]["lots_filled"] == 1 and sent[2][1]["lots"] == 2
    assert sent[3][1] == {
        "state": "TP_HIT",
        "from": "FILLED",
        "emiten": "BBCA",
        "exit_price": 1100,
        "lots": 2,
        "order_id": "9001",
        "native": True,
    }
    assert all(payload["emiten"] == "BBCA" for _, payload in sent)  # each names its stock


def _filled_on_an_emulating_broker(world, monkeypatch, sell) -> Engine:
    """T1 (cut-loss 1000, the fake's last price) fills on a broker without native TP/CL, so the
    same step places the cut-loss sell, through ``sell(request, before_click, **kw)``."""
    store, clock, *_, adapter = world
    add_task(store, price=1050, tp=1100, cl=1000)
    e = engine(world)
    e.native = False
    step_until(e, store, "OPEN")
    real = adapter.submit_order
    monkeypatch.setattr(
        adapter,
        "submit_order",
        lambda request, *a, **kw: (
            sell(request, *a, **kw) if request.side.value == "sell" else real(request, *a, **kw)
        ),
    )
    broker_sets(adapter, book(adapter)[0]["order_id"], filled=2, status="MATCHED")
    e.step()
    assert state(store) == "FILLED"
    return e


def test_a_refused_exit_sell_is_reported_and_tried_again_until_the_cut_loss_fills(
    world, monkeypatch
):
    from adapters.base import BrokerRejected

    store, clock, *_, adapter = world
    real = adapter.submit_order

    def refuse(request, *args, **kwargs):
        raise BrokerRejected("Insufficient stock balance")

    e = _filled_on_an_emulating_broker(world, monkeypatch, refuse)
    assert events_of(store)[-1] == (
        "EXIT_REJECTED",
        {"purpose": "cl", "error": "Insufficient stock balance"},
    )
    assert state(store) == "FILLED"
    monkeypatch.setattr(adapter, "submit_order", real)
    e.step()  # the cut-loss sell goes out again
    sell = next(o for o in book(adapter) if o["side"] == "sell")
    broker_sets(adapter, sell["order_id"], filled=2, status="MATCHED")
    step_until(e, store, "CL_HIT")
    assert events_of(store)[-1] == (
        "CL_HIT",
        {
            "state": "CL_HIT",
            "from": "FILLED",
            "emiten": "BBCA",
            "exit_price": 1000,
            "lots": 2,
            "order_id": sell["order_id"],
        },
    )


def test_an_exit_sell_clicked_but_never_seen_is_reported_unknown_and_not_resent(world, monkeypatch):
    from adapters.base import ActionTimeout

    store, clock, *_, adapter = world

    def lost(request, before_click, **kwargs):
        before_click()  # clicked ...
        raise ActionTimeout("no toast after the submit click")  # ... and never seen

    e = _filled_on_an_emulating_broker(world, monkeypatch, lost)
    clock.advance(31)  # past reconcile_grace_s
    e.step()
    e.step()
    unknown = [p for t, p in events_of(store) if t == "OUTCOME_UNKNOWN"]
    assert unknown == [
        {
            "purpose": "cl",
            "emiten": "BBCA",
            "price": 1000,
            "lot": 2,
            "action": "check the broker by hand; the robot will not resend",
        }
    ]
    assert state(store) == "FILLED" and [o["side"] for o in book(adapter)] == ["buy"]


def test_a_broker_rejection_fails_the_task_and_an_expiry_is_reported(world, monkeypatch):
    from adapters.base import BrokerRejected

    store, clock, *_, adapter = world
    add_task(store, "T1")
    add_task(store, "T2", price=2000, tp=2100, cl=1900)
    real = adapter.submit_order

    def refuse_t1(request, *args, **kwargs):
        if request.price == 1000:
            raise BrokerRejected("Price exceeds ARA 990")
        return real(request, *args, **kwargs)

    monkeypatch.setattr(adapter, "submit_order", refuse_t1)
    e = engine(world)
    e.step()
    e.step()
    assert state(store, "T1") == "FAILED" and state(store, "T2") == "OPEN"
    assert events_of(store, "T1")[-1] == (
        "TASK_FAILED",
        {
            "state": "FAILED",
            "from": "SUBMITTING",
            "emiten": "BBCA",
            "reason": "rejected by the broker",
            "error": "Price exceeds ARA 990",
            "attempts": 1,
        },
    )
    broker_sets(adapter, book(adapter)[0]["order_id"], status="EXPIRED")
    e.step()
    assert state(store, "T2") == "EXPIRED_UNMATCHED"
    assert events_of(store, "T2")[-1] == (
        "EXPIRED",
        {
            "state": "EXPIRED_UNMATCHED",
            "from": "OPEN",
            "emiten": "BBCA",
            "lots_filled": 0,
            "lot": 2,
            "reason": "expired unmatched at the close",
        },
    )


def fill_at_the_broker(adapter) -> None:
    """The fake broker matches every open order in full."""
    path = Path(adapter.profile) / "fake_broker.json"
    rows = json.loads(path.read_text())
    for row in rows:
        if row["status"] in ("OPEN", "PARTIAL"):
            row["status"], row["filled"] = "MATCHED", row["lot"]
    path.write_text(json.dumps(rows))


def test_an_emulated_take_profit_sell_is_not_an_entry_attempt(world):
    """tasks.attempts counts entry submissions only (it bounds max_retry of the entry): the
    robot's own TP sell of a filled task leaves it at 1."""
    store, clock, *_, adapter = world
    adapter.native_tp_cl = False  # the robot watches the price and sells (ipot)
    add_task(store, tp=1000, cl=950)  # the fake's last price is 1000: TP at once
    e = engine(world)
    e.step()
    assert state(store) == "OPEN"
    fill_at_the_broker(adapter)
    clock.advance(2)
    e.step()
    assert state(store) == "FILLED"
    sells = [o for o in book(adapter) if o["side"] == "sell"]
    assert len(sells) == 1 and sells[0]["price"] == 1000  # the TP sell was placed
    assert [o["purpose"] for o in store.query("SELECT purpose FROM orders ORDER BY id")] == [
        "entry",
        "tp",
    ]
    assert store.one("SELECT attempts FROM tasks WHERE task_id = 'T1'")["attempts"] == 1


class Verdict:
    """Stands in for the worker's may_act: None while it may click, else why not."""

    def __init__(self) -> None:
        self.why: str | None = None

    def __call__(self) -> str | None:
        return self.why


def test_a_worker_whose_supervisor_is_gone_never_clicks(world):
    """The supervisor died while the form was being filled: nothing is clicked, the intent is
    settled as never sent and the task waits, PENDING, for the next worker, which sends it once."""
    store, clock, *_, adapter = world
    add_task(store)
    verdict = Verdict()
    real_submit = adapter.submit_order

    def orphaned_while_filling(*args, **kwargs):
        verdict.why = "the supervisor (pid 4242) is gone"
        return real_submit(*args, **kwargs)

    adapter.submit_order = orphaned_while_filling
    e = engine(world, may_act=verdict)
    e.step()
    assert book(adapter) == []
    assert state(store) == "PENDING"
    (intent,) = store.query("SELECT status, click_at, error FROM orders")
    assert intent["status"] == "NOT_SENT" and intent["click_at"] is None
    assert "supervisor (pid 4242) is gone" in intent["error"]
    clock.advance(60)
    e.step()  # still orphaned: no new intent, no click
    assert book(adapter) == [] and store.one("SELECT COUNT(*) AS n FROM orders")["n"] == 1
    adapter.submit_order = real_submit
    nxt = engine(world)  # the next worker, under a live supervisor
    nxt.step()
    assert len(book(adapter)) == 1 and state(store) == "OPEN"


def test_a_click_made_before_the_supervisor_died_stays_clicked(world, monkeypatch):
    """Exactly once: the guard is asked before the click only; a click already made is kept and
    confirmed by read-back, never settled as unsent."""
    store, clock, *_, adapter = world
    add_task(store)
    verdict = Verdict()

    def fault(name: str) -> None:
        if name == "after_click":
            verdict.why = "the supervisor (pid 4242) is gone"

    monkeypatch.setattr("robot.engine.fault_point", fault)
    engine(world, may_act=verdict).step()
    assert len(book(adapter)) == 1
    (order,) = store.query("SELECT status, click_at FROM orders")
    assert order["click_at"] is not None and order["status"] == "OPEN"
    assert state(store) == "OPEN"


# --- the read-back match: toast id, times, look-alikes (docs/BROKERS.md) ----------------------


def behave(adapter, **behaviour) -> None:
    """How much the fake broker shows (adapters/fake.py): times, toast ids, prices."""
    (Path(adapter.profile) / "fake_behaviour.json").write_text(json.dumps(behaviour))


def listed(adapter, *rows: tuple[str, str]) -> None:
    """Orders at the broker: (order id, HH:MM:SS entered), each BBCA buy 2 @ 1000 (the fields of
    the `intent` helper's order), open."""
    book_rows = book(adapter) + [
        {
            "order_id": oid,
            "emiten": "BBCA",
            "side": "buy",
            "price": 1000,
            "lot": 2,
            "filled": 0,
            "status": "OPEN",
            "time": f"2026-03-02T{hhmm}+07:00",
        }
        for oid, hhmm in rows
    ]
    (Path(adapter.profile) / "fake_broker.json").write_text(json.dumps(book_rows))


def adopted(store) -> str | None:
    return store.one("SELECT broker_order_id FROM orders WHERE task_id = 'T1'")["broker_order_id"]


def test_the_toast_id_decides_after_a_crash_over_an_earlier_look_alike(world):
    """The worker died after the success toast was stored, before the read-back. A manual order
    of the same fields entered after the intent is listed too, and earlier than ours: by time
    alone it would be taken. The stored toast names ours."""
    store, clock, *_, adapter = world
    add_task(store)
    intent(store, "CLICKED", click=True, toast="Order 7002 placed")
    listed(adapter, ("7001", "09:59:20"), ("7002", "09:59:30"))
    engine(world).step()
    assert adopted(store) == "7002" and state(store) == "OPEN"
    assert len(book(adapter)) == 2  # nothing was sent


def test_a_toast_id_not_listed_yet_is_waited_for_never_replaced_by_a_look_alike(world):
    store, clock, *_, adapter = world
    add_task(store)
    intent(store, "CLICKED", click=True, toast="Order 7005 placed")
    listed(adapter, ("7001", "09:59:20"))  # someone else's, same fields
    e = engine(world)
    e.step()
    assert adopted(store) is None and state(store) == "SUBMITTING"
    clock.advance(3)
    listed(adapter, ("7005", "09:59:30"))  # ours shows up late
    e.step()
    assert adopted(store) == "7005" and state(store) == "OPEN"


def test_an_order_entered_before_the_intent_is_never_adopted(world):
    """Where the broker shows a time, a look-alike entered before the intent (beyond the clock
    slack) is someone else's (a manual order, one from earlier): the click that never arrived
    ends OUTCOME_UNKNOWN, not in that order."""
    store, clock, *_, adapter = world
    add_task(store)
    intent(store, "CLICKED", click=True)  # intent 09:59:00; died before the toast
    listed(adapter, ("7001", "09:50:00"))
    e = engine(world)
    e.step()
    clock.advance(31)
    e.step()
    assert adopted(store) is None and state(store) == "OUTCOME_UNKNOWN"
    assert len(book(adapter)) == 1


@pytest.mark.parametrize("resubmit", [False, True])
def test_without_a_time_or_a_toast_id_two_look_alikes_are_left_to_a_person(world, resubmit):
    """Neither the toast nor the broker's tables can tell two identical orders apart: the robot
    takes neither, the task ends OUTCOME_UNKNOWN, and nothing is sent again, even with
    resubmit_unknown on (one of them may well be ours)."""
    store, clock, *_, adapter = world
    behave(adapter, times=False, toast_ids=False)
    add_task(store)
    intent(store, "CLICKED", click=True, toast="Order placed")
    listed(adapter, ("7001", "09:59:20"), ("7002", "09:59:30"))
    e = engine(world, settings={"resubmit_unknown": resubmit})
    e.step()
    assert state(store) == "SUBMITTING"
    clock.advance(31)
    for _ in range(3):
        e.step()
        clock.advance(60)
    assert adopted(store) is None and state(store) == "OUTCOME_UNKNOWN"
    assert len(book(adapter)) == 2  # never resent
    row = store.one("SELECT status, error FROM orders WHERE task_id = 'T1'")
    assert row["status"] == "UNKNOWN" and "7001, 7002" in row["error"]
    (unknown,) = [p for t, p in events_of(store) if t == "OUTCOME_UNKNOWN"]
    assert "will not resend" in unknown["action"]


def test_without_a_time_or_a_toast_id_the_sole_look_alike_is_ours(world):
    store, clock, *_, adapter = world
    behave(adapter, times=False, toast_ids=False)
    add_task(store)
    engine(world).step()
    (placed,) = book(adapter)
    assert adopted(store) == placed["order_id"] and state(store) == "OPEN"


def test_a_look_alike_listed_before_the_intent_is_not_ours(world):
    """No time, no toast id, and a manual order of the same fields already at the broker: the
    read that listed it came before the intent was written, so the only candidate left is the
    order the click placed."""
    store, clock, *_, adapter = world
    behave(adapter, times=False, toast_ids=False)
    listed(adapter, ("7001", "09:00:00"))
    add_task(store)
    e = engine(world)
    e.step()  # reads the lists (7001 there), then places T1
    ours = next(o for o in book(adapter) if o["order_id"] != "7001")
    assert adopted(store) == ours["order_id"] and state(store) == "OPEN"


def test_two_unsettled_intents_of_the_same_fields_do_not_share_one_order(world):
    """Two tasks placed the same order; one click arrived. Without a time or a toast id nobody
    can say whose it is: neither task takes it."""
    store, clock, *_, adapter = world
    behave(adapter, times=False, toast_ids=False)
    add_task(store, "T1")
    add_task(store, "T2")
    with store.transaction() as c:
        for task_id in ("T1", "T2"):
            c.execute(
                "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, "
                "price, lot, intent_at, click_at, status) VALUES (?, 'A1', 'entry', 1, "
                "'buy', 'BBCA', 1000, 2, '2026-03-02T09:59:00.000+07:00', "
                "'2026-03-02T09:59:00.000+07:00', 'CLICKED')",
                (task_id,),
            )
            c.execute(
                "UPDATE tasks SET state = 'SUBMITTING', attempts = 1 WHERE task_id = ?", (task_id,)
            )
    listed(adapter, ("7001", "09:59:20"))
    e = engine(world)
    e.step()
    clock.advance(31)
    e.step()
    assert {state(store, "T1"), state(store, "T2")} == {"OUTCOME_UNKNOWN"}
    assert store.query("SELECT broker_order_id FROM orders WHERE broker_order_id IS NOT NULL") == []


# --- native TP/CL the robot cannot see ----------------------------------------------------------


def filled_natively(world, **task) -> Engine:
    """T1 (TP 1100, CL 950) bought and filled on the fake broker, which has native TP/CL."""
    store, clock, *_, adapter = world
    add_task(store, **task)
    e = engine(world)
    step_until(e, store, "OPEN")
    fill_at_the_broker(adapter)
    step_until(e, store, "FILLED")
    return e


def not_seen_events(store) -> list[dict]:
    return [p for t, p in events_of(store) if t == "NATIVE_EXIT_NOT_SEEN"]


def test_a_native_take_profit_that_never_appears_is_reported_once_and_not_sold_by_the_robot(world):
    from robot.eod import build_report

    store, clock, *_, adapter = world
    e = filled_natively(world)
    behave(adapter, prices={"BBCA": 1125})  # above the TP 1100
    clock.advance(60)  # the next price read is due
    e.step()  # the price is read: the TP is reached
    seen_at = clock.now()
    clock.advance(120)
    e.step()
    assert not_seen_events(store) == []  # within native_exit_grace_s (180)
    clock.advance(61)
    e.step()
    (event,) = not_seen_events(store)
    assert event == {
        "emiten": "BBCA",
        "purpose": "tp",
        "level": 1100,
        "last_price": 1125,
        "seen_at": seen_at.isoformat(),
        "waited_s": 181,
        "lots": 2,
        "action": "check at the broker that the take-profit order exists or sell "
        "by hand; the robot does not sell by itself on a broker with "
        "native TP/CL",
    }
    for _ in range(4):
        clock.advance(60)
        e.step()
    assert len(not_seen_events(store)) == 1  # once per task
    assert [o["side"] for o in book(adapter)] == ["buy"] and state(store) == "FILLED"
    e2 = engine(world)  # a restarted worker: still only once
    for _ in range(6):
        clock.advance(60)
        e2.step()
    assert len(not_seen_events(store)) == 1
    report = build_report(store, None, DAY, clock.now())
    (line,) = report["exits_not_seen"]
    assert (line["task_id"], line["purpose"], line["level"], line["state"]) == (
        "T1",
        "tp",
        1100,
        "FILLED",
    )
    (holding,) = report["holding_details"]
    assert "no exit order of the broker's was seen" in holding["reason"]


def test_a_native_exit_listed_within_the_grace_is_trusted(world):
    store, clock, *_, adapter = world
    e = filled_natively(world)
    behave(adapter, prices={"BBCA": 940})  # below the CL 950
    clock.advance(60)
    e.step()
    assert e.crossed  # seen, and waiting for the exit
    clock.advance(60)
    rows = book(adapter) + [
        {
            "order_id": "9001",
            "emiten": "BBCA",
            "side": "sell",
            "price": 950,
            "lot": 2,
            "filled": 2,
            "status": "MATCHED",
            "time": clock.now().isoformat(),
        }
    ]
    (Path(adapter.profile) / "fake_broker.json").write_text(json.dumps(rows))
    step_until(e, store, "CL_HIT")
    for _ in range(5):
        clock.advance(60)
        e.step()
    assert not_seen_events(store) == []


def test_the_native_watch_reads_prices_sparingly_and_only_while_trading(world, monkeypatch):
    store, clock, *_, adapter = world
    reads = []
    real = adapter.last_price
    monkeypatch.setattr(
        adapter, "last_price", lambda emiten: reads.append(clock.now()) or real(emiten)
    )
    e = filled_natively(world)
    reads.clear()
    for _ in range(30):  # 5 minutes of 10-second polls
        clock.advance(10)
        e.step()
    assert len(reads) == 5  # one per NATIVE_PRICE_EVERY_S
    clock.set("12:30")  # the lunch break: no trading, no reads
    reads.clear()
    for _ in range(10):
        clock.advance(60)
        e.step()
    assert reads == []


def test_the_grace_counts_trading_time_only(world):
    """The TP is reached at 11:58:30, just before the lunch break (12:00-13:30 on a Monday):
    the broker could not act in the break, so the grace runs on after it."""
    store, clock, *_, adapter = world
    e = filled_natively(world)
    behave(adapter, prices={"BBCA": 1100})
    clock.set("11:58:30")
    e.step()
    for hhmm in ("12:05", "13:00", "13:31"):  # 90 s + 60 s of trading
        clock.set(hhmm)
        e.step()
        assert not_seen_events(store) == [], hhmm
    clock.set("13:32")  # 90 s + 120 s: past 180 s
    e.step()
    assert len(not_seen_events(store)) == 1


# --- an error toast for an order the broker placed ----------------------------------------------


def test_an_error_toast_for_a_placed_order_is_adopted_at_the_retry_never_sent_twice(world):
    """The broker answers the click with "try again" but booked the order. The retry reads the
    broker's lists first and adopts that order instead of clicking again."""
    store, clock, *_, adapter = world
    add_task(store)
    behave(adapter, error_toast_placed="Server busy, try again")
    e = engine(world)
    e.step()
    assert state(store) == "PENDING" and len(book(adapter)) == 1  # a retry is due
    behave(adapter)  # the broker would now answer normally: a second click would place one
    clock.advance(60)
    e.step()
    e.step()
    assert len(book(adapter)) == 1, "a second order was sent"
    assert state(store) == "OPEN"
    assert (
        store.one(
            "SELECT broker_order_id FROM orders WHERE task_id = 'T1' AND status NOT IN "
            "('REJECTED', 'NOT_SENT') ORDER BY id DESC LIMIT 1"
        )["broker_order_id"]
        == book(adapter)[0]["order_id"]
    )


def test_a_retry_after_a_real_rejection_places_its_order(world):
    """A rejection the broker lists as rejected is not an order placed after all: the retry
    clicks again (the late-order check must not swallow retries)."""
    store, clock, *_, adapter = world
    add_task(store)
    behave(adapter, error_toast_placed="Server busy, try again")
    e = engine(world)
    e.step()
    rows = book(adapter)
    rows[0]["status"] = "REJECTED"
    (Path(adapter.profile) / "fake_broker.json").write_text(json.dumps(rows))
    behave(adapter)
    clock.advance(60)
    e.step()
    e.step()
    assert len(book(adapter)) == 2 and book(adapter)[1]["status"] == "OPEN"
    assert state(store) == "OPEN"
