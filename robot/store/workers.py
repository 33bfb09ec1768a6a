"""Workers: each account's current lifecycle state (``workers``) and its history
(``worker_transitions``), written together; plus what the supervisor notes about each worker."""

from __future__ import annotations

import json
from datetime import date, datetime

from ..clock import iso
from .connection import StoreBase


class WorkerRows(StoreBase):
    # ------------------------------------------------------------------------------ reads
    def worker(self, account: str) -> dict | None:
        return self._row("SELECT * FROM workers WHERE account = ?", (account,))

    def workers(self) -> list[dict]:
        """Every account's worker row, by account."""
        return list(self.db.table("workers").rows_where(order_by="account"))

    def eod_settled(self, account: str, day: date | str) -> bool:
        """Whether the account's worker finished its end-of-day settling on ``day``."""
        return (
            self._value(
                "SELECT 1 FROM worker_transitions WHERE account = ? AND "
                "from_state = 'EOD_REPORT' AND to_state = 'IDLE' AND "
                "substr(at, 1, 10) = ?",
                (account, str(day)),
            )
            is not None
        )

    def accounts_settled_on(self, day: date | str) -> set[str]:
        return {
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT account FROM worker_transitions WHERE "
                "from_state = 'EOD_REPORT' AND to_state = 'IDLE' AND substr(at, 1, 10) = ?",
                (str(day),),
            )
        }

    # ----------------------------------------------------------------------------- writes
    def set_worker_state(
        self,
        account: str,
        broker: str,
        state: str,
        at: datetime,
        reason: str | None = None,
        pid: int | None = None,
        run_id: int | None = None,
    ) -> str | None:
        """Record a lifecycle transition; returns the previous state."""
        ts = iso(at)
        with self.transaction() as c:
            previous = self._value("SELECT state FROM workers WHERE account = ?", (account,))
            if previous is not None:
                c.execute(
                    "UPDATE workers SET state = ?, since = ?, reason = ?, pid = COALESCE(?, pid),"
                    " heartbeat = ?, run_id = COALESCE(?, run_id), broker = ? WHERE account = ?",
                    (state, ts, reason, pid, ts, run_id, broker, account),
                )
            else:
                self.db.table("workers").insert(
                    {
                        "account": account,
                        "broker": broker,
                        "state": state,
                        "since": ts,
                        "reason": reason,
                        "pid": pid,
                        "heartbeat": ts,
                        "run_id": run_id,
                    }
                )
            self.db.table("worker_transitions").insert(
                {
                    "account": account,
                    "from_state": previous,
                    "to_state": state,
                    "at": ts,
                    "reason": reason,
                    "pid": pid,
                    "run_id": run_id,
                }
            )
        return previous

    def beat(self, account: str, at: datetime) -> None:
        """The worker's heartbeat (plain SQL: every worker writes it every few seconds)."""
        with self.transaction() as c:
            c.execute("UPDATE workers SET heartbeat = ? WHERE account = ?", (iso(at), account))

    def note_worker_process(self, account: str, pid_created: float, node: str | None) -> None:
        """The worker process's start time (pid reuse guard) and its Grid node, at INIT."""
        self._set_worker(account, pid_created=pid_created, node=node)

    def note_worker_children(self, account: str, pids: list[int]) -> None:
        """The driver and browser processes a worker started (killed with it)."""
        self._set_worker(account, child_pids=json.dumps(pids))

    def note_worker_error(self, account: str, error: str) -> None:
        self._set_worker(account, last_error=error)

    def set_restarts(self, account: str, restarts: int, day: date | str) -> None:
        """The supervisor's restart count of the account for ``day``."""
        self._set_worker(account, restarts=restarts, restarts_date=str(day))

    def note_fatal(self, account: str, reason: str, day: date | str) -> None:
        """Given up on for ``day`` (the state itself is set by set_worker_state)."""
        self._set_worker(account, fatal_reason=reason, last_error=reason, restarts_date=str(day))

    def _set_worker(self, account: str, **cols) -> None:
        # plain SQL rather than sqlite-utils' update, which raises for a missing row: a worker
        # that died before it reached INIT has none, and noting its error must not fail
        sets = ", ".join(f"{k} = ?" for k in cols)
        with self.transaction() as c:
            c.execute(f"UPDATE workers SET {sets} WHERE account = ?", (*cols.values(), account))
