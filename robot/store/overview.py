"""Reads for a person watching the day (``robot dashboard``): bounded, indexed, read-only.

The dashboard polls these every few seconds beside a live day, on a read-only connection
(``Store(path, readonly=True)``): none of them writes, and ``read_snapshot`` is a deferred read
transaction, which under WAL never takes a lock a writer waits for. Each query is bounded
(``LIMIT``) or reaches its rows through an index (see the comments), so an open page costs the
trading processes nothing they would notice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from .connection import StoreBase, marks

# The columns a person looks at (never the payload, which can be long)
TASK_COLUMNS = (
    "task_id, account, trading_date, emiten, side, price, lot, tp, cl, state, reason, "
    "last_error, attempts, lots_filled, avg_fill_price, exit_price, exit_lots, dry_run, "
    "cancel_requested, exit_order_id, created, updated"
)
EVENT_COLUMNS = (
    "seq, id, type, account, task_id, created, delivered_at, attempts, last_error, "
    "undeliverable, payload"
)
# tasks(account, trading_date) is the tasks' index: a day's tasks are found through it by
# naming every account (the DISTINCT walks that index, not the table)
DAY_TASKS = "account IN (SELECT DISTINCT account FROM tasks) AND trading_date = ?"


class OverviewRows(StoreBase):
    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """One consistent view of the file for several reads: a deferred read transaction (no
        write lock; WAL writers go on committing). Keep it short: it holds back checkpoints."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    # ---------------------------------------------------------------------------- tasks
    def day_tasks(self, day: date | str) -> list[dict]:
        """Every task of a trading day, by account then arrival."""
        return self._rows(
            f"SELECT {TASK_COLUMNS} FROM tasks WHERE {DAY_TASKS} "
            "ORDER BY account, created, task_id",
            (str(day),),
        )

    def task_row(self, task_id: str) -> dict | None:
        """One task as a person reads it (its payload decoded)."""
        row = self._row(
            f"SELECT {TASK_COLUMNS}, source, payload FROM tasks WHERE task_id = ?", (task_id,)
        )
        if row is not None:
            row["payload"] = json.loads(row["payload"] or "{}")
        return row

    def orders_of_tasks(self, task_ids: Iterable[str]) -> list[dict]:
        """The order rows of these tasks (through the orders' task index), oldest first."""
        ids = list(task_ids)
        if not ids:
            return []
        return self._rows(
            f"SELECT * FROM orders WHERE task_id IN ({marks(ids)}) ORDER BY id", tuple(ids)
        )

    def day_exits(self, day: date | str) -> list[dict]:
        """The day's tasks that ended at TP or CL, with what their realised result needs."""
        return self._rows(
            "SELECT task_id, account, emiten, state, lots_filled, avg_fill_price, exit_price, "
            f"exit_lots FROM tasks WHERE {DAY_TASKS} AND state IN ('TP_HIT', 'CL_HIT') "
            "ORDER BY account, task_id",
            (str(day),),
        )

    # --------------------------------------------------------------------------- events
    def latest_events(self, limit: int) -> list[dict]:
        """The newest events first (the primary key, read backwards)."""
        return self._events("SELECT {} FROM events ORDER BY seq DESC LIMIT ?", (limit,))

    def task_events(self, task_id: str, after_seq: int = 0) -> list[dict]:
        """A task's events in order; with ``after_seq`` only the newer ones (a range of the
        primary key: the page's polls read only what is new)."""
        return self._events(
            "SELECT {} FROM events WHERE seq > ? AND task_id = ? ORDER BY seq",
            (after_seq, task_id),
        )

    def outbox_backlog(self, limit: int) -> dict:
        """The events the task server has not accepted yet: how many, how many it refused, the
        oldest, and the first ``limit`` of them (the events_pending index)."""
        head = self._row(
            "SELECT COUNT(*) AS waiting, COALESCE(SUM(undeliverable IS NOT NULL), 0) AS refused, "
            "MIN(created) AS oldest FROM events WHERE delivered_at IS NULL"
        ) or {"waiting": 0, "refused": 0, "oldest": None}
        rows = self._events(
            "SELECT {} FROM events WHERE delivered_at IS NULL ORDER BY seq LIMIT ?", (limit,)
        )
        return {**head, "events": rows}

    def _events(self, sql: str, params: tuple) -> list[dict]:
        rows = self._rows(sql.format(EVENT_COLUMNS), params)
        for r in rows:
            r["payload"] = json.loads(r["payload"] or "{}")
        return rows

    # -------------------------------------------------------------------------- reports
    def stored_report(self, day: date | str) -> dict | None:
        """The end-of-day report the robot wrote for ``day`` (decoded), or None."""
        row = self._row("SELECT json FROM reports WHERE trading_date = ?", (str(day),))
        return json.loads(row["json"]) if row else None

    def known_days(self, limit: int) -> list[str]:
        """The trading days with a run or a report, newest first."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT trading_date FROM runs UNION SELECT trading_date FROM reports "
                "ORDER BY 1 DESC LIMIT ?",
                (limit,),
            )
        ]
