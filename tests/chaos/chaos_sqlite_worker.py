"""One writer process of the SQLite load test (test_chaos_sqlite_load.py).

It does what a worker does on every order, through robot.store.Store: a task row, an order INTENT
and its event in one transaction, then the order marked CLICKED with its own event in a second,
plus now and then the supervisor's kind of read. Every sqlite3 error is caught and reported, and
every row is counted only once its transaction committed. Event types must be registered ones
(Store.add_event refuses others): TASK_ACCEPTED stands for the intent's event and ORDER_SUBMITTED
for the click's; their payloads are not the real ones, as this is about SQLite, not the protocol.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

INSERT_TASK = (
    "INSERT INTO tasks (task_id, account, trading_date, emiten, side, price, lot, tp, cl, source,"
    " payload, payload_hash, state, created, updated)"
    " VALUES (?, ?, '2026-03-02', 'BBCA', 'buy', 9750, 1, 9900, 9600, 'chaos', ?, ?, 'SUBMITTING',"
    " ?, ?)"
)
INSERT_INTENT = (
    "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price, lot, tp, cl,"
    " intent_at, status) VALUES (?, ?, 'entry', 1, 'buy', 'BBCA', 9750, 1, 9900, 9600, ?, 'INTENT')"
)


def hammer(index: int, db_path: str, seconds: float, barrier, results) -> None:
    from robot.store import Store

    account = f"ACC_{index:02d}"
    counts = {"tasks": 0, "orders": 0, "clicked": 0, "events": 0, "transactions": 0, "reads": 0}
    errors: list[str] = []
    barrier.wait()  # every process starts together, on a fresh file
    try:
        store = Store(db_path)  # concurrent opens: the WAL switch and the migration
    except sqlite3.Error as exc:
        results.put({"index": index, "counts": counts, "errors": [f"open: {exc}"]})
        return
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        task_id = f"{account}-{n}"
        now = datetime.now(UTC).isoformat()
        try:
            with store.transaction() as c:
                c.execute(INSERT_TASK, (task_id, account, json.dumps({"n": n}), f"h{n}", now, now))
                order_id = c.execute(INSERT_INTENT, (task_id, account, now)).lastrowid
                store.add_event("TASK_ACCEPTED", account, {"order": order_id}, now, task_id=task_id)
        except sqlite3.Error as exc:
            errors.append(f"intent {task_id}: {type(exc).__name__}: {exc}")
            continue
        counts["tasks"] += 1
        counts["orders"] += 1
        counts["events"] += 1
        counts["transactions"] += 1
        try:
            with store.transaction() as c:
                changed = c.execute(
                    "UPDATE orders SET status = 'CLICKED', click_at = ? "
                    "WHERE id = ? AND status = 'INTENT'",
                    (now, order_id),
                ).rowcount
                store.add_event(
                    "ORDER_SUBMITTED", account, {"order": order_id}, now, task_id=task_id
                )
        except sqlite3.Error as exc:
            errors.append(f"click {task_id}: {type(exc).__name__}: {exc}")
            continue
        counts["clicked"] += changed
        counts["events"] += 1
        counts["transactions"] += 1
        if n % 10 == 0:  # the supervisor's and `robot status`'s kind of read
            try:
                store.one("SELECT COUNT(*) AS n FROM v_open_orders WHERE account = ?", (account,))
                counts["reads"] += 1
            except sqlite3.Error as exc:
                errors.append(f"read: {type(exc).__name__}: {exc}")
    store.close()
    results.put({"index": index, "counts": counts, "errors": errors})
