"""The end-of-day report, assembled as a pure function over the day's state (no I/O).

The seed's shape is kept exactly: ``event``, ``date``, ``robot_uptime``, ``summary`` with its five
counts, ``unmatched_details`` and ``failed_details``. Everything else the robot knows goes in
separate keys (``holding_details``, ``other_outcomes``, ``per_account``, ``reconciliation``,
``exits_not_seen``, ``operator_actions``, ``calendar``), so a consumer of the seed's format never
sees a field change its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SEED_KEYS = ("event", "date", "robot_uptime", "summary", "unmatched_details", "failed_details")
SUMMARY_KEYS = ("total_tasks", "tp_hit", "cl_hit", "expired_unmatched", "failed")
UNSETTLED = ("PENDING", "SUBMITTING", "OPEN", "PARTIAL")
BROKER_LIVE = ("OPEN", "PARTIAL")  # still in the broker's book
ROBOT_LIVE = ("CONFIRMED", "OPEN", "PARTIAL")  # an order row the robot holds as live
BROKER_DONE = ("MATCHED", "WITHDRAWN", "REJECTED", "EXPIRED")


@dataclass(frozen=True)
class AccountView:
    """What the report needs to know of one account."""

    account: str
    broker: str
    state: str | None = None  # the worker's last state (FATAL, STOPPED, ...)
    fatal_reason: str | None = None
    restarts: int = 0
    settled: bool = True  # the worker ran its end-of-day settling
    broker_orders: list[dict] | None = None  # the broker's history at the close, if read


@dataclass(frozen=True)
class DayFacts:
    date: str
    uptime_s: float
    tasks: list[dict]  # rows of the tasks table
    orders: list[dict]  # rows of the orders table
    accounts: list[AccountView] = field(default_factory=list)
    # every account's broker the robot knows, also of accounts not in ``accounts`` (a disabled
    # account whose tasks were refused still names its broker in the details)
    brokers: dict[str, str] = field(default_factory=dict)
    # the day's closure list: {"year", "provisional", "origin", "source"} (YearList.as_report);
    # a provisional year's "trading day" may be an exchange closure nobody listed yet
    calendar: dict | None = None
    # the day's NATIVE_EXIT_NOT_SEEN events: {"account", "task_id", "payload"}
    exits_not_seen: list[dict] = field(default_factory=list)
    # the day's requests of a person (rows of operator_requests: robot/resolve.py)
    requests: list[dict] = field(default_factory=list)


def uptime_text(seconds: float) -> str:
    """Like the seed's example: 7h30m (minutes always, hours when there are any)."""
    minutes = max(0, int(seconds // 60))
    h, m = divmod(minutes, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m"


def assemble(facts: DayFacts) -> dict:
    accounts = {a.account: a for a in facts.accounts}
    broker_of = {**facts.brokers, **{a.account: a.broker for a in facts.accounts}}
    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    summary["total_tasks"] = len(facts.tasks)
    unmatched, failed, holding = [], [], []
    not_seen = {e["task_id"]: e["payload"] for e in facts.exits_not_seen}
    other = {"holding": 0, "cancelled": 0, "dry_run": 0, "outcome_unknown": 0, "unsettled": 0}
    per_account: dict[str, dict] = {}
    for t in sorted(facts.tasks, key=lambda t: (t["account"], t["task_id"])):
        acc = accounts.get(t["account"])
        broker = broker_of.get(t["account"], "?")
        pa = per_account.setdefault(
            t["account"],
            {
                "broker": broker,
                "tasks": 0,
                "tp_hit": 0,
                "cl_hit": 0,
                "expired_unmatched": 0,
                "failed": 0,
                "holding": 0,
            },
        )
        pa["tasks"] += 1
        state = t["state"]
        if state == "TP_HIT":
            summary["tp_hit"] += 1
            pa["tp_hit"] += 1
        elif state == "CL_HIT":
            summary["cl_hit"] += 1
            pa["cl_hit"] += 1
        elif state == "EXPIRED_UNMATCHED":
            summary["expired_unmatched"] += 1
            pa["expired_unmatched"] += 1
            unmatched.append(
                {
                    "account": t["account"],
                    "broker": broker,
                    "emiten": t["emiten"],
                    "reason": t["reason"] or "unmatched at the close",
                    "buy_price": t["price"],
                    "lot_requested": t["lot"],
                    "lot_filled": t["lots_filled"],
                }
            )
        elif state == "FILLED":
            other["holding"] += 1
            pa["holding"] += 1
            holding.append(
                {
                    "account": t["account"],
                    "broker": broker,
                    "emiten": t["emiten"],
                    "task_id": t["task_id"],
                    "buy_price": t["avg_fill_price"] or t["price"],
                    "lots": t["lots_filled"],
                    "tp": t["tp"],
                    "cl": t["cl"],
                    "reason": _holding_reason(not_seen.get(t["task_id"])),
                }
            )
        elif state == "CANCELLED":
            other["cancelled"] += 1
        elif state == "DRY_RUN":
            other["dry_run"] += 1
        else:
            reason, error = _failure(t, acc)
            if state == "OUTCOME_UNKNOWN":
                other["outcome_unknown"] += 1
            elif state in UNSETTLED:
                other["unsettled"] += 1
            summary["failed"] += 1
            pa["failed"] += 1
            failed.append(
                {
                    "account": t["account"],
                    "broker": broker,
                    "emiten": t["emiten"],
                    "reason": reason,
                    "last_error": error,
                }
            )
    for a in facts.accounts:
        pa = per_account.setdefault(
            a.account,
            {
                "broker": a.broker,
                "tasks": 0,
                "tp_hit": 0,
                "cl_hit": 0,
                "expired_unmatched": 0,
                "failed": 0,
                "holding": 0,
            },
        )
        pa.update({"worker_state": a.state, "restarts": a.restarts, "settled_at_close": a.settled})
        if a.fatal_reason:
            pa["fatal_reason"] = a.fatal_reason
    report = {
        "event": "EOD_REPORT",
        "date": facts.date,
        "robot_uptime": uptime_text(facts.uptime_s),
        "summary": summary,
        "unmatched_details": unmatched,
        "failed_details": failed,
        "holding_details": holding,
        "other_outcomes": other,
        "per_account": dict(sorted(per_account.items())),
        "reconciliation": reconcile(facts),
        "exits_not_seen": _exits_not_seen(facts, broker_of),
        "operator_actions": [_operator_action(r) for r in facts.requests],
    }
    if facts.calendar is not None:
        report["calendar"] = dict(facts.calendar)
    return report


def _holding_reason(alert: dict | None) -> str:
    if alert is None:
        return "filled; neither TP nor CL reached today"
    word = "take-profit" if alert.get("purpose") == "tp" else "cut-loss"
    return (
        f"filled; the price reached its {word} {alert.get('level')} (last "
        f"{alert.get('last_price')}) but no exit order of the broker's was seen: check the "
        f"position at the broker"
    )


def _operator_action(r: dict) -> dict:
    """One request of a person (`robot resolve`, `robot restart`, the dashboard) and its fate."""
    return {
        "request_id": r["id"],
        "action": r["action"],
        "account": r["account"],
        "task_id": r["task_id"],
        "order_id": r["broker_order_id"],
        "who": r["who"],
        "requested_at": r["requested_at"],
        "status": r["status"],
        "decided_at": r["decided_at"],
        "message": r["message"],
        "forced": bool(r["forced"]),
    }


def _exits_not_seen(facts: DayFacts, broker_of: dict[str, str]) -> list[dict]:
    """Native TP/CL levels the price reached without an exit order the robot could see."""
    state = {t["task_id"]: t for t in facts.tasks}
    out = []
    for e in sorted(facts.exits_not_seen, key=lambda e: (e["account"], e["task_id"] or "")):
        p, t = e["payload"], state.get(e["task_id"]) or {}
        out.append(
            {
                "account": e["account"],
                "broker": broker_of.get(e["account"], "?"),
                "task_id": e["task_id"],
                "emiten": p.get("emiten"),
                "purpose": p.get("purpose"),
                "level": p.get("level"),
                "last_price": p.get("last_price"),
                "seen_at": p.get("seen_at"),
                "state": t.get("state"),
                "note": "the robot did not sell by itself; "
                + (
                    "the task ended " + t["state"]
                    if t.get("state") not in (None, "FILLED")
                    else "still held at the close"
                ),
            }
        )
    return out


def _failure(t: dict, acc: AccountView | None) -> tuple[str, str | None]:
    state = t["state"]
    if state == "OUTCOME_UNKNOWN":
        return (
            "order outcome unknown: clicked but never seen at the broker; check by hand",
            t["last_error"],
        )
    if state in UNSETTLED:
        why = "not settled at the close"
        if acc is not None and acc.fatal_reason:
            why += f": account FATAL ({acc.fatal_reason})"
        elif acc is not None and not acc.settled:
            why += ": the account's worker did not reach its end-of-day settling"
        return f"{why}; last known state {state}", t["last_error"]
    return t["reason"] or "failed", t["last_error"]


def reconcile(facts: DayFacts) -> dict:
    """Cross-check the robot's orders with each broker's history at the close."""
    mismatches: list[dict] = []
    checked, unchecked = [], []
    for a in facts.accounts:
        if a.broker_orders is None:
            unchecked.append(
                {"account": a.account, "reason": "no broker history read at the close"}
            )
            continue
        checked.append(a.account)
        tasks = {t["task_id"]: t for t in facts.tasks if t["account"] == a.account}
        ours = {
            o["broker_order_id"]: o
            for o in facts.orders
            if o["account"] == a.account and o["broker_order_id"]
        }
        theirs = {str(o["order_id"]): o for o in a.broker_orders}
        rejected = [
            o
            for o in facts.orders
            if o["account"] == a.account and o["status"] == "REJECTED" and not o["broker_order_id"]
        ]
        for oid, b in sorted(theirs.items()):
            if oid not in ours and b.get("status") == "REJECTED" and _take_rejection(rejected, b):
                continue  # the robot recorded this rejection from the broker's error toast
            if oid not in ours:
                mismatches.append(
                    {
                        "account": a.account,
                        "kind": "unknown_to_robot",
                        "order_id": oid,
                        "broker": _brief(b),
                        "note": "an order the robot did not place or did not record",
                    }
                )
                continue
            mine = ours[oid]
            said = _robot_status(mine, tasks.get(mine["task_id"]))
            expired_open = (
                said in ("EXPIRED", "EXPIRED_UNMATCHED") and b.get("status") in BROKER_LIVE
            )
            if not expired_open and mine["lots_filled"] != b.get("filled", 0):
                mismatches.append(
                    {
                        "account": a.account,
                        "kind": "fill_mismatch",
                        "order_id": oid,
                        "robot_lots_filled": mine["lots_filled"],
                        "broker_lots_filled": b.get("filled", 0),
                    }
                )
            elif expired_open or (said in ROBOT_LIVE and b.get("status") in BROKER_DONE):
                mismatches.append(_status_mismatch(a.account, oid, mine, said, b, expired_open))
        for oid, o in sorted(ours.items()):
            if oid not in theirs:
                mismatches.append(
                    {
                        "account": a.account,
                        "kind": "missing_at_broker",
                        "order_id": oid,
                        "task_id": o["task_id"],
                        "note": "recorded by the robot, absent from the broker's history",
                    }
                )
    return {
        "checked_accounts": checked,
        "unchecked_accounts": unchecked,
        "mismatches": mismatches,
        "ok": not mismatches and not unchecked,
    }


def _robot_status(order: dict, task: dict | None) -> str:
    """What the robot reports of one order: its row's status, or EXPIRED_UNMATCHED for a buy
    whose task the close settled as expired while the row still holds the last status read."""
    if (
        order.get("purpose", "entry") == "entry"
        and order["status"] in ROBOT_LIVE
        and task is not None
        and task["state"] == "EXPIRED_UNMATCHED"
    ):
        return "EXPIRED_UNMATCHED"
    return order["status"]


def _status_mismatch(
    account: str, oid: str, mine: dict, said: str, b: dict, expired_open: bool
) -> dict:
    note = (
        "the robot reports it expired, the broker still lists it in its book: it may still "
        "fill; check it and withdraw it by hand"
        if expired_open
        else "the robot holds it as live, the broker's history says it is done"
    )
    return {
        "account": account,
        "kind": "status_mismatch",
        "order_id": oid,
        "task_id": mine["task_id"],
        "robot_status": said,
        "broker_status": b.get("status"),
        "robot_lots_filled": mine["lots_filled"],
        "broker_lots_filled": b.get("filled", 0),
        "note": note,
    }


def _take_rejection(rejected: list[dict], b: dict) -> bool:
    for o in rejected:
        if (o["emiten"], o["side"], o["price"], o["lot"]) == (
            b.get("emiten"),
            b.get("side"),
            b.get("price"),
            b.get("lot"),
        ):
            rejected.remove(o)
            return True
    return False


def _brief(o: dict) -> dict:
    return {k: o.get(k) for k in ("emiten", "side", "price", "lot", "filled", "status")}


def render_table(report: dict) -> str:
    """A readable summary for the terminal and the log."""
    s = report["summary"]
    lines = [
        f"End-of-day report {report['date']} (uptime {report['robot_uptime']})",
        f"  tasks {s['total_tasks']}: TP hit {s['tp_hit']}, CL hit {s['cl_hit']}, "
        f"expired/unmatched {s['expired_unmatched']}, failed {s['failed']}, "
        f"holding {report['other_outcomes']['holding']}",
    ]
    cal = report.get("calendar")
    if cal:
        lines.append(
            f"  IDX calendar {cal['year']}: "
            + ("PROVISIONAL (no exchange list yet): " if cal["provisional"] else "")
            + cal["source"]
        )
    header = (
        f"  {'account':<16}{'broker':<10}{'tasks':>6}{'TP':>4}{'CL':>4}{'exp':>5}{'fail':>5}"
        f"{'hold':>5}  worker"
    )
    lines.append(header)
    for acc, pa in report["per_account"].items():
        lines.append(
            f"  {acc:<16}{pa['broker']:<10}{pa['tasks']:>6}{pa['tp_hit']:>4}"
            f"{pa['cl_hit']:>4}{pa['expired_unmatched']:>5}{pa['failed']:>5}"
            f"{pa['holding']:>5}  {pa.get('worker_state') or '-'}"
            f"{' (restarts ' + str(pa['restarts']) + ')' if pa.get('restarts') else ''}"
        )
    for title, key, fmt in (
        (
            "Unmatched",
            "unmatched_details",
            lambda d: (
                f"{d['account']} {d['emiten']} @{d['buy_price']} "
                f"{d['lot_filled']}/{d['lot_requested']} lot: {d['reason']}"
            ),
        ),
        (
            "Failed",
            "failed_details",
            lambda d: (
                f"{d['account']} {d['emiten']}: {d['reason']}"
                + (f" ({d['last_error']})" if d["last_error"] else "")
            ),
        ),
        (
            "Holding",
            "holding_details",
            lambda d: f"{d['account']} {d['emiten']} {d['lots']} lot @{d['buy_price']}",
        ),
    ):
        if report.get(key):
            lines.append(f"  {title}:")
            lines += [f"    - {fmt(d)}" for d in report[key]]
    rec = report["reconciliation"]
    lines.append(
        f"  Reconciliation with the brokers: "
        f"{'OK' if rec['ok'] else str(len(rec['mismatches'])) + ' mismatch(es)'}"
        + (
            f", not checked: {', '.join(u['account'] for u in rec['unchecked_accounts'])}"
            if rec["unchecked_accounts"]
            else ""
        )
    )
    for m in rec["mismatches"]:
        detail = (
            f" (robot {m['robot_status']}, broker {m['broker_status']})"
            if m["kind"] == "status_mismatch"
            else ""
        )
        lines.append(f"    - {m['account']} {m['kind']} order {m['order_id']}{detail}")
    if report.get("exits_not_seen"):
        lines.append("  Native TP/CL reached, no exit order seen (check at the broker):")
        lines += [
            f"    - {d['account']} {d['emiten']} {d['purpose'].upper()} {d['level']} "
            f"(last {d['last_price']}): {d['note']}"
            for d in report["exits_not_seen"]
        ]
    if report.get("operator_actions"):
        lines.append("  Operator actions:")
        lines += [
            f"    - #{a['request_id']} {a['requested_at'][11:19]} {a['who']}: {a['action']} "
            f"{a['task_id'] or a['account']}"
            + (f" order {a['order_id']}" if a["order_id"] else "")
            + f" -> {a['status']}"
            + (f": {a['message']}" if a["message"] else "")
            for a in report["operator_actions"]
        ]
    return "\n".join(lines)
