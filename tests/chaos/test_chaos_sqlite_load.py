"""Chaos: state.db under load. 20 processes (spawn) write tasks, orders and events through
robot.store.Store at once, the way workers do, on a file none of them has created yet.

Zero "database is locked" (every sqlite3 error is caught and counted: there must be none at all),
zero lost rows (what the processes say they committed is exactly what the file holds, per
process), every INTENT marked CLICKED, and PRAGMA integrity_check ok.

CI runs 10 s; `scripts/test -m chaos` runs the 60 s version.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import sqlite3
import time
from pathlib import Path

import pytest

from chaos_sqlite_worker import hammer

PROCESSES = 20


def run_load(db: Path, seconds: float) -> dict:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=hammer, args=(i, str(db), seconds, barrier, results), name=f"chaos-sqlite-{i}"
        )
        for i in range(PROCESSES)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    reports = []
    try:
        for _ in procs:
            reports.append(results.get(timeout=seconds + 180))
    except queue.Empty:
        pytest.fail(
            f"only {len(reports)} of {PROCESSES} writers reported; exit codes "
            f"{[p.exitcode for p in procs]}"
        )
    finally:
        for p in procs:
            p.join(30)
            if p.exitcode is None:
                p.kill()
                p.join(10)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    return {
        "reports": sorted(reports, key=lambda r: r["index"]),
        "wall_s": time.monotonic() - started,
    }


def check(db: Path, outcome: dict) -> dict:
    reports = outcome["reports"]
    errors = [e for r in reports for e in r["errors"]]
    locked = [e for e in errors if "locked" in e or "busy" in e]
    totals = {k: sum(r["counts"][k] for r in reports) for k in reports[0]["counts"]}
    summary = {
        "processes": len(reports),
        "errors": len(errors),
        "locked": len(locked),
        "wall_s": round(outcome["wall_s"], 1),
        **totals,
    }
    print(f"\nsqlite load: {summary}")
    assert not locked, locked[:5]
    assert not errors, errors[:5]
    assert totals["transactions"] > PROCESSES * 5, summary  # the load really happened
    assert all(r["counts"]["tasks"] > 0 for r in reports), "a writer never got a turn"
    conn = sqlite3.connect(db)
    try:
        held = {
            "tasks": conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0],
            "orders": conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
            "clicked": conn.execute(
                "SELECT COUNT(*) FROM orders WHERE status = 'CLICKED'"
            ).fetchone()[0],
            "events": conn.execute("SELECT COUNT(*) FROM events").fetchone()[0],
        }
        assert held == {k: totals[k] for k in held}, (held, totals)
        per_account = dict(conn.execute("SELECT account, COUNT(*) FROM tasks GROUP BY account"))
        assert per_account == {f"ACC_{r['index']:02d}": r["counts"]["tasks"] for r in reports}
        assert (
            conn.execute("SELECT COUNT(*) FROM orders WHERE status = 'INTENT'").fetchone()[0] == 0
        )
        # events are in commit order: each order's intent event (TASK_ACCEPTED here) precedes its
        # click event (ORDER_SUBMITTED here)
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM events a JOIN events b ON a.task_id = b.task_id "
                "WHERE a.type = 'TASK_ACCEPTED' AND b.type = 'ORDER_SUBMITTED' AND a.seq > b.seq"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    return summary


def test_twenty_writers_ten_seconds(tmp_path):
    db = tmp_path / "state.db"
    check(db, run_load(db, 10.0))


@pytest.mark.chaos
@pytest.mark.timeout(900)
def test_twenty_writers_sixty_seconds(tmp_path):
    db = tmp_path / "state.db"
    check(db, run_load(db, 60.0))
