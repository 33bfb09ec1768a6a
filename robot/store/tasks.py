"""Tasks and their orders: what the robot was asked to do, and every attempt to do it.

A task's state changes only through ``move_task`` and an order row's status only through the
order moves below, each checked against its table in robot/orders.py (IllegalMove otherwise) in
the transaction that writes it. The engine's reads on every poll are plain SQL (see
connection.py); writes go through sqlite-utils' table helpers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from adapters.base import BrokerOrder

from ..clock import iso
from ..orders import (
    ORDER_AT_BROKER,
    ORDER_UNCONFIRMED,
    OrderState,
    TaskState,
    check_move,
    check_order_move,
)
from .connection import StoreBase, marks

Day = date | str  # a trading day: a date, or its ISO text (str() of either is the text)


class TaskRows(StoreBase):
    # ------------------------------------------------------------------------------ reads
    def task(self, task_id: str) -> dict | None:
        return self._row("SELECT * FROM tasks WHERE task_id = ?", (task_id,))

    def tasks_of(self, account: str, day: Day, *states: TaskState) -> list[dict]:
        """An account's tasks of the day in these states, oldest first (read on every poll)."""
        return self._rows(
            f"SELECT * FROM tasks WHERE account = ? AND trading_date = ? AND "
            f"state IN ({marks(states)}) ORDER BY created, task_id",
            (account, str(day), *[s.value for s in states]),
        )

    def tasks_on(self, day: Day | None) -> list[dict]:
        """Every task of a trading day (None: of every day)."""
        if day is None:
            return list(self.db.table("tasks").rows_where())
        return list(self.db.table("tasks").rows_where("trading_date = ?", [str(day)]))

    def count_tasks(
        self, day: Day, account: str | None = None, states: Iterable[TaskState] = ()
    ) -> int:
        """Tasks of a day, of one account if given, in these states if given."""
        where, args = ["trading_date = ?"], [str(day)]
        if account is not None:
            where.append("account = ?")
            args.append(account)
        values = [s.value for s in states]
        if values:
            where.append(f"state IN ({marks(values)})")
            args += values
        return self.db.table("tasks").count_where(" AND ".join(where), args)

    def committed_buy_value(self, account: str, day: Day) -> int:
        """Rupiah of the day's tasks of an account that are not FAILED or CANCELLED (the
        max_daily_buy_value limit)."""
        return self._value(
            "SELECT COALESCE(SUM(price * lot * 100), 0) FROM tasks WHERE "
            "account = ? AND trading_date = ? AND state NOT IN (?, ?)",
            (account, str(day), TaskState.FAILED.value, TaskState.CANCELLED.value),
        )

    def latest_task_day(self) -> str | None:
        return self._value("SELECT MAX(trading_date) FROM tasks")

    def task_counts(self, account: str, day: Day) -> dict:
        """How an account's day is going: tasks working (open), with fills, TP and CL hits."""
        return (
            self._row(
                "SELECT SUM(state IN ('OPEN', 'PARTIAL', 'SUBMITTING')) AS open, "
                "SUM(lots_filled > 0) AS fills, SUM(state = 'TP_HIT') AS tp, "
                "SUM(state = 'CL_HIT') AS cl FROM tasks WHERE account = ? AND trading_date = ?",
                (account, str(day)),
            )
            or {}
        )

    # ----------------------------------------------------------------------------- writes
    def insert_task(self, row: dict) -> None:
        """A task as taken in (task intake decides its state and columns)."""
        with self.transaction():
            self.db.table("tasks").insert(row)

    def move_task(self, task_id: str, to: TaskState, at: datetime, **cols) -> dict:
        """Change a task's state, checked against the task lifecycle, with other columns of the
        change. Returns the row before the move (its ``state`` and ``emiten``). Call inside the
        transaction that writes the change's event."""
        with self.transaction():
            before = self._row("SELECT state, emiten FROM tasks WHERE task_id = ?", (task_id,))
            if before is None:
                raise LookupError(f"no task {task_id} in the store")
            check_move(task_id, TaskState(before["state"]), to)
            self.db.table("tasks").update(task_id, {"state": to.value, "updated": iso(at), **cols})
        return before

    def count_entry_attempt(self, task_id: str) -> None:
        """One more entry submission (``attempts`` bounds max_retry; a TP/CL sell is no retry)."""
        with self.transaction() as c:
            c.execute("UPDATE tasks SET attempts = attempts + 1 WHERE task_id = ?", (task_id,))

    def note_task_error(self, task_id: str, error: str) -> None:
        with self.transaction():
            self.db.table("tasks").update(task_id, {"last_error": error})

    def request_cancel(self, task_id: str, at: datetime) -> None:
        """The task server asked to withdraw this task (the engine acts on it)."""
        with self.transaction():
            self.db.table("tasks").update(task_id, {"cancel_requested": 1, "updated": iso(at)})


class OrderRows(StoreBase):
    # ------------------------------------------------------------------------------ reads
    def order(self, order_id: int) -> dict | None:
        return self._row("SELECT * FROM orders WHERE id = ?", (order_id,))

    def orders_of(self, task_id: str) -> list[dict]:
        """A task's order rows, oldest first."""
        return self._rows("SELECT * FROM orders WHERE task_id = ? ORDER BY id", (task_id,))

    def orders_on(self, day: Day | None) -> list[dict]:
        """The order rows of a trading day's tasks (None: of every day)."""
        if day is None:
            return list(self.db.table("orders").rows_where())
        return self._rows(
            "SELECT o.* FROM orders o JOIN tasks t ON t.task_id = o.task_id "
            "WHERE t.trading_date = ?",
            (str(day),),
        )

    def has_orders(self, account: str, *statuses: OrderState) -> bool:
        """Whether any order row of the account has one of these statuses."""
        return (
            self._value(
                f"SELECT 1 FROM orders WHERE account = ? AND status IN ({marks(statuses)}) LIMIT 1",
                (account, *[s.value for s in statuses]),
            )
            is not None
        )

    def count_orders(self, account: str, *statuses: OrderState) -> int:
        return self.db.table("orders").count_where(
            f"account = ? AND status IN ({marks(statuses)})",
            [account, *[s.value for s in statuses]],
        )

    def orders_at_broker(self, account: str) -> list[dict]:
        """Orders confirmed at the broker and still live there: what each poll tracks."""
        return self._rows(
            f"SELECT * FROM orders WHERE account = ? AND broker_order_id IS NOT NULL"
            f" AND status IN ({marks(ORDER_AT_BROKER)})",
            (account, *[s.value for s in ORDER_AT_BROKER]),
        )

    def ids_at_broker(self, account: str) -> set[str]:
        """The broker ids of orders_at_broker (one missing from the open list: read history)."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT broker_order_id FROM orders WHERE account = ? AND "
                f"broker_order_id IS NOT NULL AND status IN ({marks(ORDER_AT_BROKER)})",
                (account, *[s.value for s in ORDER_AT_BROKER]),
            )
        }

    def claimed_broker_ids(self, account: str) -> set[str]:
        """Every broker order id already recorded for the account: never adopted twice."""
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT broker_order_id FROM orders WHERE account = ? AND "
                "broker_order_id IS NOT NULL",
                (account,),
            )
        }

    def task_of_broker_order(self, account: str, broker_order_id: str) -> str | None:
        """The task whose order row holds this broker order id, if any (never adopted twice)."""
        return self._value(
            "SELECT task_id FROM orders WHERE account = ? AND broker_order_id = ?",
            (account, broker_order_id),
        )

    def released_entries(self, task_id: str) -> list[dict]:
        """The task's entry orders that were clicked but settled as never sent (a person's
        --not-placed --retry, or resubmit_unknown) or as rejected by an error toast (a broker may
        show an error for an order it placed): such an order may still show up late."""
        return self._rows(
            "SELECT * FROM orders WHERE task_id = ? AND purpose = 'entry' AND status IN (?, ?) "
            "AND click_at IS NOT NULL ORDER BY id",
            (task_id, OrderState.NOT_SENT.value, OrderState.REJECTED.value),
        )

    def unconfirmed_orders(self, account: str) -> list[dict]:
        """INTENT, CLICKED and UNKNOWN rows: reconciled against the broker before any resend."""
        return self._rows(
            f"SELECT * FROM orders WHERE account = ? AND status IN "
            f"({marks(ORDER_UNCONFIRMED)}) ORDER BY id",
            (account, *[s.value for s in ORDER_UNCONFIRMED]),
        )

    def has_unsettled_entry(self, task_id: str) -> bool:
        """Whether the task has an entry order that may be at the broker (anything but NOT_SENT
        or REJECTED): then no new entry is placed."""
        return (
            self._value(
                "SELECT 1 FROM orders WHERE task_id = ? AND purpose = 'entry' AND "
                "status NOT IN (?, ?) LIMIT 1",
                (task_id, OrderState.NOT_SENT.value, OrderState.REJECTED.value),
            )
            is not None
        )

    # ------------------------------------------------------------------- new order rows
    def insert_intent(
        self,
        task_id: str,
        account: str,
        purpose: str,
        side: str,
        emiten: str,
        price: int,
        lot: int,
        tp: int | None,
        cl: int | None,
        at: datetime,
        dry_run: bool,
    ) -> tuple[int, int]:
        """The INTENT row of the next attempt for (task, purpose), committed before the click by
        the caller's transaction. Returns (order id, attempt)."""
        with self.transaction():
            attempt = self._next_attempt(task_id, purpose)
            order_id = self._insert(
                "orders",
                {
                    "task_id": task_id,
                    "account": account,
                    "purpose": purpose,
                    "attempt": attempt,
                    "side": side,
                    "emiten": emiten,
                    "price": price,
                    "lot": lot,
                    "tp": tp,
                    "cl": cl,
                    "intent_at": iso(at),
                    "status": OrderState.INTENT.value,
                    "dry_run": int(dry_run),
                },
            )
        return order_id, attempt

    def record_native_exit(
        self, task_id: str, account: str, purpose: str, seen: BrokerOrder, at: datetime
    ) -> None:
        """A TP/CL sell the broker placed itself (native auto order), recorded as seen."""
        now = iso(at)
        with self.transaction():
            self.db.table("orders").insert(
                {
                    "task_id": task_id,
                    "account": account,
                    "purpose": purpose,
                    "attempt": self._next_attempt(task_id, purpose),
                    "side": "sell",
                    "emiten": seen.emiten,
                    "price": seen.price,
                    "lot": seen.lot,
                    "intent_at": now,
                    "confirmed_at": now,
                    "broker_order_id": seen.order_id,
                    "status": OrderState.of(seen.status).value,
                    "lots_filled": seen.filled,
                    "last_seen": now,
                    "toast": "placed by the broker's auto order",
                }
            )

    def _next_attempt(self, task_id: str, purpose: str) -> int:
        return (
            self.db.table("orders").count_where("task_id = ? AND purpose = ?", [task_id, purpose])
            + 1
        )

    # ---------------------------------------------------------------- an order's life
    def mark_clicked(self, order_id: int, at: datetime) -> None:
        """Right before the submit click: from here on the order may be at the broker."""
        self._move_order(order_id, OrderState.CLICKED, click_at=iso(at))

    def note_toast(self, order_id: int, text: str | None, at: datetime) -> None:
        self._note_order(order_id, toast=text, toast_at=iso(at))

    def note_order_error(self, order_id: int, error: str) -> None:
        self._note_order(order_id, error=error)

    def mark_dry_run(self, order_id: int, text: str | None) -> None:
        self._move_order(order_id, OrderState.DRY_RUN, toast=text)

    def mark_rejected(self, order_id: int, text: str, at: datetime) -> None:
        """The broker's error toast (or its refusal before the final click)."""
        self._move_order(order_id, OrderState.REJECTED, error=text, toast=text, toast_at=iso(at))

    def mark_never_sent(self, order_id: int, why: str) -> None:
        """Established that it never reached the broker (or given up for a resend)."""
        self._move_order(order_id, OrderState.NOT_SENT, error=why)

    def mark_unknown(self, order_id: int, why: str) -> None:
        """Clicked, but not found at the broker: never resent by itself."""
        self._move_order(order_id, OrderState.UNKNOWN, error=why)

    def adopt_order(self, order_id: int, found: BrokerOrder, at: datetime) -> None:
        """Read back: the broker's order for this row, with its id and status."""
        now = iso(at)
        self._move_order(
            order_id,
            OrderState.of(found.status),
            broker_order_id=found.order_id,
            confirmed_at=now,
            lots_filled=found.filled,
            last_seen=now,
        )

    def record_seen(self, order_id: int, seen: BrokerOrder, at: datetime | None = None) -> None:
        """What the broker's lists show now (``last_seen`` set when ``at`` is given)."""
        cols: dict[str, Any] = {"lots_filled": seen.filled}
        if at is not None:
            cols["last_seen"] = iso(at)
        self._move_order(order_id, OrderState.of(seen.status), **cols)

    def _move_order(self, order_id: int, to: OrderState, **cols) -> None:
        """Change an order row's status, checked against the order moves, atomically."""
        with self.transaction():
            status = self._value("SELECT status FROM orders WHERE id = ?", (order_id,))
            if status is None:
                raise LookupError(f"no order {order_id} in the store")
            check_order_move(order_id, OrderState(status), to)
            self.db.table("orders").update(order_id, {"status": to.value, **cols})

    def _note_order(self, order_id: int, **cols) -> None:
        with self.transaction():
            self.db.table("orders").update(order_id, cols)
