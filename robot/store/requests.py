"""A person's requests (robot/resolve.py): resolving a task whose outcome is unknown, and
re-enabling a FATAL account. The CLI (or the dashboard) writes a request; the account's worker
(resolve) or the supervisor (restart) decides it, once: a request leaves ``pending`` only through
``decide_request``, which changes nothing a second time."""

from __future__ import annotations

from datetime import date, datetime

from ..clock import iso
from .connection import StoreBase

PENDING, DONE, REFUSED = "pending", "done", "refused"


class RequestRows(StoreBase):
    # ------------------------------------------------------------------------------ reads
    def operator_request(self, request_id: int) -> dict | None:
        return self._row("SELECT * FROM operator_requests WHERE id = ?", (request_id,))

    def pending_requests(self, kind: str, account: str | None = None) -> list[dict]:
        """Undecided requests of a kind (of one account if given), oldest first. Read by every
        worker between engine steps and by the supervisor on every tick: an indexed lookup."""
        if account is None:
            return self._rows(
                "SELECT * FROM operator_requests WHERE status = ? AND kind = ? ORDER BY id",
                (PENDING, kind),
            )
        return self._rows(
            "SELECT * FROM operator_requests WHERE status = ? AND kind = ? AND account = ? "
            "ORDER BY id",
            (PENDING, kind, account),
        )

    def pending_request_of_task(self, task_id: str) -> dict | None:
        return self._row(
            "SELECT * FROM operator_requests WHERE task_id = ? AND status = ?",
            (task_id, PENDING),
        )

    def pending_restart_of(self, account: str) -> dict | None:
        return self._row(
            "SELECT * FROM operator_requests WHERE account = ? AND kind = 'restart' AND "
            "status = ? ORDER BY id LIMIT 1",
            (account, PENDING),
        )

    def requests_on(self, day: date | str) -> list[dict]:
        """Every request about a trading day, in the order they were made (the EOD report)."""
        return self._rows(
            "SELECT * FROM operator_requests WHERE trading_date = ? ORDER BY id", (str(day),)
        )

    # ----------------------------------------------------------------------------- writes
    def add_request(
        self,
        kind: str,
        action: str,
        account: str,
        day: date | str,
        who: str,
        at: datetime,
        task_id: str | None = None,
        broker_order_id: str | None = None,
        forced: bool = False,
    ) -> int:
        """A new pending request; its id."""
        with self.transaction():
            return self._insert(
                "operator_requests",
                {
                    "kind": kind,
                    "action": action,
                    "account": account,
                    "task_id": task_id,
                    "trading_date": str(day),
                    "broker_order_id": broker_order_id,
                    "forced": int(forced),
                    "who": who,
                    "requested_at": iso(at),
                    "status": PENDING,
                },
            )

    def decide_request(
        self, request_id: int, status: str, message: str, at: datetime, by: str
    ) -> bool:
        """Settle a pending request as done or refused; False when it was no longer pending
        (then nothing is changed). Call inside the transaction of what it did."""
        if status not in (DONE, REFUSED):
            raise ValueError(f"a request is decided as {DONE} or {REFUSED}, not {status!r}")
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE operator_requests SET status = ?, message = ?, decided_at = ?, "
                "decided_by = ? WHERE id = ? AND status = ?",
                (status, message, iso(at), by, request_id, PENDING),
            )
            return cur.rowcount == 1
