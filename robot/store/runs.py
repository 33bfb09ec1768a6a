"""Runs and what each trading day leaves: supervisor runs, each broker's history at the close
(``eod_snapshots``) and the end-of-day report (``reports``)."""

from __future__ import annotations

import json
from datetime import date, datetime

from ..clock import iso
from .connection import StoreBase


class RunRows(StoreBase):
    # ------------------------------------------------------------------------------- runs
    def start_run(
        self, day: date | str, at: datetime, pid: int, host: str, config_path: str, clock: str
    ) -> int:
        """A supervisor's run of ``day``; returns its id."""
        with self.transaction():
            return self._insert(
                "runs",
                {
                    "trading_date": str(day),
                    "started": iso(at),
                    "pid": pid,
                    "host": host,
                    "config_path": config_path,
                    "clock": clock,
                },
            )

    def interrupt_running_runs(self, at: datetime) -> None:
        """Runs still marked running when a supervisor starts: their supervisor was killed."""
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET status = 'interrupted', ended = ? WHERE status = 'running'",
                (iso(at),),
            )

    def end_run(self, run_id: int, at: datetime, status: str) -> None:
        with self.transaction():
            self.db.table("runs").update(run_id, {"ended": iso(at), "status": status})

    def latest_run(self) -> dict | None:
        return self._row("SELECT * FROM runs ORDER BY id DESC LIMIT 1")

    def running_run(self) -> dict | None:
        """The latest run still marked running (its supervisor may be dead: see robot/status)."""
        return self._row("SELECT * FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1")

    def runs_on(self, day: date | str) -> list[dict]:
        return list(self.db.table("runs").rows_where("trading_date = ?", [str(day)], order_by="id"))

    # ------------------------------------------------------------------ end of the day
    def save_eod_snapshot(
        self, account: str, day: date | str, at: datetime, orders: list[dict]
    ) -> None:
        """The broker's order history at the close (the latest read of the day is kept)."""
        with self.transaction():
            self.db.table("eod_snapshots").upsert(
                {
                    "account": account,
                    "trading_date": str(day),
                    "taken_at": iso(at),
                    "orders": json.dumps(orders),
                },
                pk=("account", "trading_date"),
            )

    def eod_snapshots(self, day: date | str) -> dict[str, list[dict]]:
        """Each account's snapshot of ``day``: the broker's rows."""
        return {
            r["account"]: json.loads(r["orders"])
            for r in self.db.table("eod_snapshots").rows_where(
                "trading_date = ?", [str(day)], select="account, orders"
            )
        }

    def save_report(self, day: str, at: datetime, path: str, report: dict) -> None:
        """The day's report (a re-run replaces it)."""
        with self.transaction():
            self.db.table("reports").upsert(
                {"trading_date": day, "created": iso(at), "path": path, "json": json.dumps(report)},
                pk="trading_date",
            )
