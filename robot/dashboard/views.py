"""What each page shows, read from state.db through the Store's named reads (no SQL here).

Every function takes an open read-only Store and returns plain data (dicts and lists) that the
templates render and the JSON endpoints return as they are.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from ..clock import RealClock, clock_from_spec
from ..eod import build_report
from ..orders import TaskState
from ..status import collect
from ..store import Store

EVENTS_SHOWN = 50
OUTBOX_SHOWN = 20
DAYS_LISTED = 30
# what stands out: a person must act
NEEDS_LOGIN = "WAIT_LOGIN"
FATAL = "FATAL"
UNKNOWN = TaskState.OUTCOME_UNKNOWN.value
ALL_STATES = [s.value for s in TaskState]


@dataclass(frozen=True)
class ConfigAccount:
    """An account of accounts.yaml (shown even before its worker first ran)."""

    id: str
    broker: str
    enabled: bool


def pick_day(store: Store, requested: str | None) -> str:
    """The day asked for (checked), else the latest run's, else the latest task's, else today."""
    if requested:
        return date.fromisoformat(requested).isoformat()  # ValueError on a bad date
    run = store.latest_run()
    if run:
        return run["trading_date"]
    return store.latest_task_day() or RealClock().now().date().isoformat()


def overview(
    store: Store,
    accounts: list[ConfigAccount],
    day: str,
    account_filter: str = "",
    state_filter: str = "",
) -> dict:
    """The main page: run, accounts, the day's tasks (filtered), events, outbox, alerts."""
    with store.read_snapshot():
        status = collect(store)
        tasks = store.day_tasks(day)
        orders = store.orders_of_tasks(t["task_id"] for t in tasks)
        events = store.latest_events(EVENTS_SHOWN)
        outbox = store.outbox_backlog(OUTBOX_SHOWN)
    account_rows = _accounts(status["accounts"], accounts, tasks)
    _attach_orders(tasks, orders)
    shown = [
        t
        for t in tasks
        if (not account_filter or t["account"] == account_filter)
        and (not state_filter or t["state"] == state_filter)
    ]
    return {
        "day": day,
        "now": status["now"],
        "run": status["run"],
        "accounts": account_rows,
        "attention": _attention(account_rows, tasks),
        "tasks": shown,
        "tasks_total": len(tasks),
        "filter": {"account": account_filter, "state": state_filter},
        "filter_choices": {
            "accounts": sorted(
                {a["account"] for a in account_rows} | {t["account"] for t in tasks}
            ),
            "states": ALL_STATES,
        },
        "events": [_event_view(e) for e in events],
        "outbox": {**outbox, "events": [_event_view(e) for e in outbox["events"]]},
    }


def task_page(store: Store, task_id: str, after_seq: int = 0) -> dict | None:
    """One task: its row, its orders, and its events after ``after_seq`` in order."""
    with store.read_snapshot():
        task = store.task_row(task_id)
        if task is None:
            return None
        orders = store.orders_of_tasks([task_id])
        events = store.task_events(task_id, after_seq)
        worker = store.worker(task["account"])
        pending = store.pending_request_of_task(task_id)
    task["orders"] = orders
    task["result_rp"] = realised(task)
    # what robot/resolve.py settles: a task whose entry's outcome is unknown; an exit sell of
    # unknown outcome is for a person to check at the broker (the page says so)
    task["needs_person"] = task["state"] == UNKNOWN
    task["unknown_exit"] = next(
        (o["purpose"] for o in orders if o["purpose"] != "entry" and o["status"] == "UNKNOWN"),
        None,
    )
    return {
        "task": task,
        "worker": worker,
        "pending_request": pending,
        "timeline": [_event_view(e) for e in events],
        "last_seq": max([after_seq] + [e["seq"] for e in events]),
    }


def report_page(store: Store, config, day: str) -> dict:
    """A day's end-of-day report (the stored one, else built now from state.db, read-only) and
    the realised result of its TP/CL exits per account."""
    with store.read_snapshot():
        stored = store.stored_report(day)
        report = stored or _build(store, config, day)
        exits = store.day_exits(day)
        days = store.known_days(DAYS_LISTED)
    return {
        "day": day,
        "stored": stored is not None,
        "report": report,
        "results": results_per_account(exits),
        "days": days,
    }


def realised(task: dict) -> int | None:
    """Rupiah gained or lost by a task's exit, before fees; None without both prices."""
    if task.get("exit_price") is None or task.get("avg_fill_price") is None:
        return None
    return (task["exit_price"] - task["avg_fill_price"]) * (task.get("exit_lots") or 0) * 100


def results_per_account(exits: list[dict]) -> dict[str, dict]:
    """Per account: TP and CL exits, how many have both prices, and their summed result."""
    out: dict[str, dict] = {}
    for t in exits:
        r = out.setdefault(
            t["account"], {"tp": 0, "cl": 0, "priced": 0, "unpriced": 0, "result_rp": 0}
        )
        r["tp" if t["state"] == "TP_HIT" else "cl"] += 1
        value = realised(t)
        if value is None:
            r["unpriced"] += 1
        else:
            r["priced"] += 1
            r["result_rp"] += value
    return dict(sorted(out.items()))


# ------------------------------------------------------------------------------- helpers
def _build(store: Store, config, day: str) -> dict:
    """The report as `robot report` would rebuild it, at the run's own time."""
    now = RealClock().now()
    run = store.latest_run()
    if run and run["trading_date"] == day and run["status"] == "running":
        with contextlib.suppress(ValueError):
            now = clock_from_spec(run["clock"]).now()
    elif run and run["trading_date"] == day and run["ended"]:
        now = datetime.fromisoformat(run["ended"])
    return build_report(store, config, date.fromisoformat(day), now)


def _accounts(rows: list[dict], configured: list[ConfigAccount], tasks: list[dict]) -> list[dict]:
    """The workers' rows, with configured accounts that have none yet, and the day's counts."""
    by_account = {r["account"]: dict(r) for r in rows}
    for a in configured:
        by_account.setdefault(
            a.id,
            {
                "account": a.id,
                "broker": a.broker,
                "state": None if a.enabled else "disabled",
                "since": None,
                "restarts_today": 0,
                "heartbeat_age_s": None,
                "node": None,
                "last_error": None,
                "fatal_reason": None,
                "open_orders": 0,
            },
        )
    counts: dict[str, Counter] = {}
    for t in tasks:
        counts.setdefault(t["account"], Counter())[t["state"]] += 1
    out = []
    for account in sorted(by_account):
        row = by_account[account]
        c = counts.get(account, Counter())
        row["tasks"] = sum(c.values())
        row["tp"], row["cl"], row["unknown"] = c["TP_HIT"], c["CL_HIT"], c[UNKNOWN]
        row["alert"] = _account_alert(row)
        out.append(row)
    return out


def _account_alert(row: dict) -> str | None:
    if row["state"] == NEEDS_LOGIN:
        return "LOGIN_REQUIRED"
    if row["state"] == FATAL:
        return "FATAL"
    if row.get("unknown"):
        return "OUTCOME_UNKNOWN"
    return None


def _attention(accounts: list[dict], tasks: list[dict]) -> list[dict]:
    """What needs a person now, most urgent first."""
    items = []
    for a in accounts:
        if a["state"] == NEEDS_LOGIN:
            items.append(
                {
                    "kind": "LOGIN_REQUIRED",
                    "account": a["account"],
                    "text": f"{a['account']} waits for a login: run `robot login {a['account']}`",
                }
            )
        elif a["state"] == FATAL:
            items.append(
                {
                    "kind": "FATAL",
                    "account": a["account"],
                    "text": f"{a['account']} stopped for the day: "
                    f"{a.get('fatal_reason') or a.get('last_error') or 'see its log'}",
                }
            )
    for t in tasks:
        if t["state"] == UNKNOWN:
            items.append(
                {
                    "kind": "OUTCOME_UNKNOWN",
                    "account": t["account"],
                    "task_id": t["task_id"],
                    "text": f"{t['account']} task {t['task_id']} ({t['emiten']} {t['lot']} lot @ "
                    f"{t['price']}): the order may or may not be at the broker; check by hand",
                }
            )
    return items


def _attach_orders(tasks: list[dict], orders: list[dict]) -> None:
    by_task: dict[str, list[dict]] = {}
    for o in orders:
        by_task.setdefault(o["task_id"], []).append(o)
    for t in tasks:
        t["orders"] = by_task.get(t["task_id"], [])
        t["result_rp"] = realised(t)


def _event_view(e: dict) -> dict:
    return {**e, "summary": summarise(e["type"], e["payload"])}


def summarise(type_: str, payload: dict) -> str:
    """A short line for an event: its scalar fields, the report as its date."""
    if type_ == "EOD_REPORT":
        return f"report of {payload.get('date', '?')}"
    # what the row's other columns say already, or what a person does not need at a glance
    skip = {"account", "task_id", "event_id", "type", "source", "adopted", "from"}
    parts = [
        f"{k}={v}"
        for k, v in payload.items()
        if k not in skip and isinstance(v, str | int | float | bool) and v != ""
    ]
    text = ", ".join(parts)
    return text if len(text) <= 100 else text[:97] + "..."
