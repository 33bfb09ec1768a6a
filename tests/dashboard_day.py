"""A day in state.db, written through the robot's own Store as its workers and supervisor write
it (a uniquely named module: the dashboard's Flask and browser tests share it).

Three accounts: ACC_A trading (a TP exit, a CL exit, an open order, a failed task), ACC_B
waiting for a login, ACC_C FATAL with an OUTCOME_UNKNOWN task; events, some delivered; and, with
``report=True``, the end-of-day report the supervisor would have stored.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from adapters.base import BrokerOrder, OrderStatus, Side
from robot import events
from robot.clock import WIB, AcceleratedClock
from robot.eod import build_report
from robot.orders import TaskState as T
from robot.store import Store

DAY = "2026-03-02"
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=WIB)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def write_config(root: Path) -> Path:
    """An accounts.yaml naming the day's three accounts and this state.db."""
    cfg = {
        "settings": {"state_db": str(root / "state.db"), "log_dir": str(root / "logs")},
        "accounts": [
            {"id": a, "broker": b, "profile_path": str(root / "profiles" / a), "enabled": True}
            for a, b in (("ACC_A", "stockbit"), ("ACC_B", "ipot"), ("ACC_C", "ajaib"))
        ],
    }
    path = root / "accounts.yaml"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


def add_task(store: Store, task_id: str, account: str, emiten="BBCA", price=9000, lot=2) -> None:
    store.insert_task(
        {
            "task_id": task_id,
            "account": account,
            "trading_date": DAY,
            "emiten": emiten,
            "side": "buy",
            "price": price,
            "lot": lot,
            "tp": price + 200,
            "cl": price - 200,
            "source": "server",
            "payload": json.dumps({"task_id": task_id}),
            "payload_hash": "h-" + task_id,
            "state": T.PENDING.value,
            "created": at(0).isoformat(),
            "updated": at(0).isoformat(),
        }
    )
    with store.transaction():
        store.add_event(events.TASK_ACCEPTED, account, {"emiten": emiten}, at(0), task_id=task_id)


def seen(oid: str, status: OrderStatus, filled: int, price=9000, lot=2, side=Side.BUY):
    return BrokerOrder(oid, "BBCA", side, price, lot, filled, status, at(1))


def place(store: Store, task_id: str, account: str, oid: str, status: OrderStatus, filled: int):
    """The entry order as the engine writes it: intent, click, read back."""
    with store.transaction():
        store.move_task(task_id, T.SUBMITTING, at(1))
        order_id, _ = store.insert_intent(
            task_id, account, "entry", "buy", "BBCA", 9000, 2, None, None, at(1), dry_run=False
        )
    store.mark_clicked(order_id, at(1))
    store.adopt_order(order_id, seen(oid, status, filled), at(1))
    with store.transaction():
        store.add_event(events.ORDER_SUBMITTED, account, {"order_id": oid}, at(1), task_id=task_id)
    return order_id


def exit_at(store: Store, task_id: str, account: str, oid: str, price: int, state: T) -> None:
    """A filled entry and its TP/CL sell, matched."""
    with store.transaction():
        store.move_task(task_id, T.FILLED, at(2), lots_filled=2, avg_fill_price=9000)
        order_id, _ = store.insert_intent(
            task_id,
            account,
            state.value[:2].lower(),
            "sell",
            "BBCA",
            price,
            2,
            None,
            None,
            at(3),
            dry_run=False,
        )
    store.mark_clicked(order_id, at(3))
    store.adopt_order(order_id, seen(oid, OrderStatus.MATCHED, 2, price, side=Side.SELL), at(3))
    with store.transaction():
        store.move_task(task_id, state, at(4), exit_price=price, exit_lots=2, exit_order_id=oid)
        store.add_event(state.value, account, {"price": price}, at(4), task_id=task_id)


def build_day(root: Path, report: bool = False) -> Path:
    """state.db of the day under ``root``; returns its path."""
    db = root / "state.db"
    store = Store(db)
    try:
        # a live run of this process, started now at 09:12 WIB of the day on a clock of its own
        # (a supervisor restarted mid-morning): heartbeat ages are the run's, as `robot status`
        # measures them
        clock = AcceleratedClock.starting(at(12), 1.0).spec()
        run = store.start_run(DAY, at(12), os.getpid(), socket.gethostname(), "a.yaml", clock)
        for account, broker in (("ACC_A", "stockbit"), ("ACC_B", "ipot"), ("ACC_C", "ajaib")):
            store.set_worker_state(account, broker, "INIT", at(-19), "started", 100, run)
        store.set_worker_state("ACC_A", "stockbit", "TRADING", at(-5), "trading", 101, run)
        store.set_worker_state("ACC_B", "ipot", "WAIT_LOGIN", at(-5), "logged out", 102, run)
        with store.transaction():
            store.add_event(events.LOGIN_REQUIRED, "ACC_B", {"broker": "ipot"}, at(-5))
        store.set_worker_state("ACC_C", "ajaib", "FATAL", at(10), "gave up", 103, run)
        store.beat("ACC_A", at(11.9))
        store.set_restarts("ACC_C", 3, DAY)
        store.note_fatal("ACC_C", "browser keeps crashing", DAY)

        add_task(store, "T-TP", "ACC_A")
        place(store, "T-TP", "ACC_A", "B-100", OrderStatus.MATCHED, 2)
        exit_at(store, "T-TP", "ACC_A", "B-101", 9200, T.TP_HIT)
        add_task(store, "T-CL", "ACC_A", emiten="BBRI")
        place(store, "T-CL", "ACC_A", "B-102", OrderStatus.MATCHED, 2)
        exit_at(store, "T-CL", "ACC_A", "B-103", 8900, T.CL_HIT)
        add_task(store, "T-OPEN", "ACC_A", emiten="TLKM")
        place(store, "T-OPEN", "ACC_A", "B-104", OrderStatus.OPEN, 0)
        with store.transaction():
            store.move_task("T-OPEN", T.OPEN, at(2))
        add_task(store, "T-FAIL", "ACC_A", emiten="ASII")
        with store.transaction():
            store.move_task("T-FAIL", T.FAILED, at(1), reason="max_order_value exceeded")
            store.add_event(events.TASK_FAILED, "ACC_A", {"reason": "limit"}, at(1), "T-FAIL")
        add_task(store, "T-UNK", "ACC_C", emiten="GOTO")
        unknown_order(store, "T-UNK", "ACC_C")
        add_task(store, "T-WAIT", "ACC_B", emiten="BMRI")
        delivered = [e["id"] for e in store.undelivered_events(6)]
        store.mark_delivered(delivered, at(5))
        if report:
            store.save_report(
                DAY, at(420), "reports/eod.json", build_report(store, None, T0.date(), at(420))
            )
    finally:
        store.close()
    return db


def unknown_order(store: Store, task_id: str, account: str) -> None:
    """An entry clicked and never seen at the broker: OUTCOME_UNKNOWN."""
    with store.transaction():
        store.move_task(task_id, T.SUBMITTING, at(1))
        order_id, _ = store.insert_intent(
            task_id, account, "entry", "buy", "GOTO", 9000, 2, None, None, at(1), dry_run=False
        )
    store.mark_clicked(order_id, at(1))
    with store.transaction():
        store.mark_unknown(order_id, "not found at the broker after the grace")
        store.move_task(task_id, T.OUTCOME_UNKNOWN, at(2), reason="clicked, never seen")
        store.add_event(events.OUTCOME_UNKNOWN, account, {"order_id": order_id}, at(2), task_id)
