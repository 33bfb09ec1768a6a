"""`robot status`: what every account is doing, read from state.db (works with or without a run)."""

from __future__ import annotations

import contextlib
import socket
from datetime import datetime

import psutil

from .clock import AcceleratedClock, Clock, RealClock, clock_from_spec
from .orders import ORDER_LIVE
from .store import Store

# psutil's process start times and the wall clock differ by clock-tick rounding and boot-time
# drift; a pid whose process started later than this after the run began is another process
START_SLACK_S = 2.0


def supervisor_alive(run: dict) -> tuple[bool | None, str]:
    """Whether a run's supervisor process still runs: True, False, or None when this host
    cannot tell (the run was recorded on another machine), with a sentence saying why.

    A SIGKILLed supervisor leaves its run `running`. On this host its pid is checked: gone, a
    zombie, or reused by a process started after the run began (pids are recycled) means dead."""
    host, pid = run.get("host"), run.get("pid")
    here = socket.gethostname()
    if host and host != here:
        return None, f"recorded on host {host}: its supervisor cannot be checked from here ({here})"
    if not pid:
        return None, "no supervisor pid recorded"
    gone = f"supervisor pid {pid} is gone; the next start cleans up"
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False, gone
        created = proc.create_time()
    except psutil.NoSuchProcess:
        return False, gone
    except psutil.AccessDenied:
        return True, f"supervisor pid {pid} is running (another user's process)"
    began = _wall_start(run)
    if began is not None and created > began + START_SLACK_S:
        return False, (
            f"supervisor pid {pid} is gone (pid {pid} is now a process started after "
            f"the run began); the next start cleans up"
        )
    return True, f"supervisor pid {pid} is running"


def _wall_start(run: dict) -> float | None:
    """When the run began in wall-clock epoch seconds (`started` is in the run's own clock,
    simulated in an accelerated run), or None when the row cannot say."""
    try:
        started = datetime.fromisoformat(run["started"])
        clock = clock_from_spec(run["clock"] or "real")
    except (TypeError, ValueError):
        return None
    if isinstance(clock, AcceleratedClock):
        return clock.anchor + (started - clock.start).total_seconds() / clock.speed
    return started.timestamp()


def collect(store: Store, hub_url: str | None = None) -> dict:
    """Every worker's row; with a Selenium Grid hub, also the hub's view of each account's node
    (the hub being down is reported, never raised). A run recorded as running whose supervisor
    is dead is reported with status "dead" (run.supervisor says why) and no heartbeat ages."""
    run = store.latest_run()
    clock: Clock = RealClock()
    if run and run["status"] == "running":
        alive, detail = supervisor_alive(run)
        run = {
            **run,
            "supervisor": {
                "pid": run["pid"],
                "host": run["host"],
                "alive": alive,
                "detail": detail,
            },
        }
        if alive is False:
            run.update(status="dead", recorded_status="running")
    if run and run["status"] == "running":
        with contextlib.suppress(ValueError):
            clock = clock_from_spec(run["clock"])  # heartbeats are in the run's (maybe fast) time
    now = clock.now()
    rows = []
    for w in store.workers():
        open_orders = store.count_orders(w["account"], *ORDER_LIVE)
        age = None
        if w["heartbeat"] and run and run["status"] == "running":
            age = max(0.0, (now - datetime.fromisoformat(w["heartbeat"])).total_seconds())
        rows.append(
            {
                "account": w["account"],
                "broker": w["broker"],
                "state": w["state"],
                "since": w["since"],
                "pid": w["pid"],
                "restarts_today": w["restarts"]
                if run and w["restarts_date"] == run["trading_date"]
                else 0,
                "last_error": w["last_error"],
                "fatal_reason": w["fatal_reason"],
                "open_orders": open_orders,
                "heartbeat_age_s": round(age, 1) if age is not None else None,
                "node": w["node"],
            }
        )
    data = {"run": run, "now": now.isoformat(), "accounts": rows}
    if hub_url:
        from .grid import hub_status, node_health

        grid = hub_status(hub_url)
        health = node_health(grid)
        for r in rows:
            if r["node"]:
                r["node_health"] = health.get(r["node"], "MISSING" if grid["reachable"] else "?")
        data["grid"] = grid
    return data


def render(data: dict) -> str:
    run = data["run"]
    head = (
        f"run {run['id']} for {run['trading_date']}: {_run_status(run)} (started {run['started']})"
        if run
        else "no run recorded yet"
    )
    cols = [
        "account",
        "broker",
        "state",
        "since",
        "pid",
        "restarts_today",
        "open_orders",
        "heartbeat_age_s",
        "last_error",
    ]
    if any(r.get("node") for r in data["accounts"]) or data.get("grid"):
        cols.insert(2, "node")
    table = [cols] + [
        [_cell(_node_cell(r) if c == "node" else r[c], c) for c in cols] for r in data["accounts"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = [head] + [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    if not data["accounts"]:
        lines.append("(no worker has run yet)")
    grid = data.get("grid")
    if grid:
        if not grid["reachable"]:
            lines.append(f"grid hub {grid['hub']}: {grid['error']}")
        else:
            lines.append(
                f"grid hub {grid['hub']}: {'ready' if grid['ready'] else 'not ready'}, "
                f"{len(grid['nodes'])} node(s)"
            )
            for n in grid["nodes"]:
                busy = ", ".join(sorted(n["sessions"])) or "none"
                lines.append(
                    f"  {n['name'] or '(untagged)'} {n['availability']} at {n['uri']}: "
                    f"accounts {', '.join(n['accounts'])}; sessions {busy}"
                )
    return "\n".join(lines)


def _run_status(run: dict) -> str:
    """The run's status, with why when its supervisor is dead or cannot be checked."""
    supervisor = run.get("supervisor") or {}
    if supervisor.get("alive") is not True and supervisor.get("detail"):
        return f"{run['status']} ({supervisor['detail']})"
    return run["status"]


def _node_cell(row: dict) -> str | None:
    if not row.get("node"):
        return None
    health = row.get("node_health")
    return f"{row['node']} ({health})" if health else row["node"]


def _cell(value, col: str) -> str:
    if value is None:
        return "-"
    if col == "since":
        return str(value)[11:19]
    if col == "last_error":
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)
