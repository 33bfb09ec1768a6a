"""`robot status`: what every account is doing, read from state.db (works with or without a run)."""
from __future__ import annotations

from datetime import datetime

from .clock import RealClock, clock_from_spec
from .store import Store

LIVE_ORDER_STATES = ("INTENT", "CLICKED", "CONFIRMED", "OPEN", "PARTIAL", "UNKNOWN")


def collect(store: Store) -> dict:
    run = store.one("SELECT * FROM runs ORDER BY id DESC LIMIT 1")
    clock = RealClock()
    if run and run["status"] == "running":
        try:
            clock = clock_from_spec(run["clock"])  # heartbeats are in the run's (maybe fast) time
        except ValueError:
            pass
    now = clock.now()
    rows = []
    marks = ",".join("?" * len(LIVE_ORDER_STATES))
    for w in store.query("SELECT * FROM workers ORDER BY account"):
        open_orders = store.one(f"SELECT COUNT(*) AS n FROM orders WHERE account = ? AND status IN "
                                f"({marks})", (w["account"], *LIVE_ORDER_STATES))["n"]
        age = None
        if w["heartbeat"] and run and run["status"] == "running":
            age = max(0.0, (now - datetime.fromisoformat(w["heartbeat"])).total_seconds())
        rows.append({
            "account": w["account"], "broker": w["broker"], "state": w["state"],
            "since": w["since"], "pid": w["pid"],
            "restarts_today": w["restarts"] if run and w["restarts_date"] == run["trading_date"] else 0,
            "last_error": w["last_error"], "fatal_reason": w["fatal_reason"],
            "open_orders": open_orders, "heartbeat_age_s": round(age, 1) if age is not None else None,
            "node": w["node"],
        })
    return {"run": run, "now": now.isoformat(), "accounts": rows}


def render(data: dict) -> str:
    run = data["run"]
    head = (f"run {run['id']} for {run['trading_date']}: {run['status']} (started {run['started']})"
            if run else "no run recorded yet")
    cols = ["account", "broker", "state", "since", "pid", "restarts_today", "open_orders",
            "heartbeat_age_s", "last_error"]
    table = [cols] + [[_cell(r[c], c) for c in cols] for r in data["accounts"]]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = [head] + ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in table]
    if not data["accounts"]:
        lines.append("(no worker has run yet)")
    return "\n".join(lines)


def _cell(value, col: str) -> str:
    if value is None:
        return "-"
    if col == "since":
        return str(value)[11:19]
    if col == "last_error":
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)
