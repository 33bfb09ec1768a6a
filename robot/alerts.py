"""What a person reads on a phone: the plain-text message of one event (no I/O).

Built from the event row and its payload only. Plain text (no parse_mode) means nothing needs
escaping. Every message says what happened, where (account, task, stock), what to do when a
person must act, and ends with the time and a short event id, so a message delivered twice after
an ambiguous failure is recognisable as the same event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from .clock import WIB

TEXT_MAX = 4096  # Telegram's limit, counted in UTF-16 code units
VALUE_MAX = 300  # one payload value in a message (a TASK_CONFLICT carries whole tasks)

Lines = list[str]
Builder = Callable[[dict, dict], tuple[str, Lines]]


def text_of(row: dict) -> str:
    """The message for one events row, at most TEXT_MAX long."""
    payload = _payload(row)
    try:
        head, body = BUILDERS.get(row["type"], _generic)(row, payload)
    except (AttributeError, KeyError, TypeError, ValueError):
        # a payload of an unexpected shape must not block the channel: say it plainly
        head, body = _generic(row, payload)
    return fit([head, *body], footer(row))


def short_id(event_id: str) -> str:
    """The first block of a UUID; other ids (eod-report-<date>) whole."""
    head = event_id.split("-", 1)[0]
    return head if len(head) == 8 and len(event_id) == 36 else event_id


def footer(row: dict) -> str:
    return f"{_when(row['created'])} · event {short_id(row['id'])}"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(lines: Lines, tail: str, limit: int = TEXT_MAX) -> str:
    """Join the lines and the footer; when too long, drop whole lines from the end (the most
    important come first) and say so, and cut a single line that alone is too long."""
    full = "\n".join([*lines, tail])
    if utf16_len(full) <= limit:
        return full
    kept = list(lines)
    dropped = 0
    while kept:
        note = f"… {dropped} more line(s) cut; the whole record is in state.db"
        text = "\n".join([*kept, note, tail]) if dropped else "\n".join([*kept, tail])
        if utf16_len(text) <= limit:
            return text
        kept.pop()
        dropped += 1
    head = _cut(lines[0] if lines else "", limit - utf16_len(tail) - 1)
    return f"{head}\n{tail}"


def _cut(text: str, units: int) -> str:
    out = ""
    for ch in text:
        if utf16_len(out + ch + "…") > units:
            return out + "…"
        out += ch
    return out


def _payload(row: dict) -> dict:
    try:
        value = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    except ValueError:
        return {"payload": str(row["payload"])[:VALUE_MAX]}
    return value if isinstance(value, dict) else {"payload": value}


def _when(created: str) -> str:
    try:
        return datetime.fromisoformat(created).astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S WIB")
    except (TypeError, ValueError):
        return str(created)


def _acc(row: dict) -> str:
    return row.get("account") or "robot"


def _task(row: dict) -> str:
    return f"Task {row['task_id']}" if row.get("task_id") else "No task"


def _v(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= VALUE_MAX else text[:VALUE_MAX] + "…"


def _order(p: dict) -> str:
    """ "buy BBCA 10 lot @ 9000", as far as the payload says."""
    parts = [p.get("side", "buy"), p.get("emiten")]
    if p.get("lot") is not None:
        parts.append(f"{p['lot']} lot")
    if p.get("price") is not None:
        parts.append(f"@ {p['price']}")
    return " ".join(str(x) for x in parts if x is not None)


def _stock(p: dict) -> str:
    """ "BBCA " when the payload names the stock (every task event does)."""
    return f"{p['emiten']} " if p.get("emiten") else ""


# --------------------------------------------------------------------------- a person must act
def _outcome_unknown(row: dict, p: dict) -> tuple[str, Lines]:
    acc = _acc(row)
    if p.get("purpose") in ("tp", "cl"):
        stock = f" of {p['emiten']}" if p.get("emiten") else ""
        what = (
            f"{_task(row)}: its {'take-profit' if p['purpose'] == 'tp' else 'cut-loss'} sell"
            f"{stock}, {p.get('lot')} lot @ {p.get('price')}"
        )
    else:
        what = f"{_task(row)}: {_order(p)}"
    body = [what, "The order may or may not have reached the broker."]
    resend = "will resend" in str(p.get("action", ""))  # resubmit_unknown: true
    body.append(
        "The robot will send it again (resubmit_unknown is on)."
        if resend
        else "The robot will NOT send it again."
    )
    body.append(
        f"What to do: open {acc}'s order list at the broker and look for this order by hand."
    )
    return f"⚠️ ORDER OUTCOME UNKNOWN: {acc}", body


def _native_exit_not_seen(row: dict, p: dict) -> tuple[str, Lines]:
    acc = _acc(row)
    word = "take-profit" if p.get("purpose") == "tp" else "cut-loss"
    seen = _when(p["seen_at"]) if p.get("seen_at") else "?"
    return f"⚠️ EXIT ORDER NOT SEEN: {acc}", [
        f"{_task(row)}: {_stock(p)}{p.get('lots')} lot held; the price reached its {word} "
        f"{p.get('level')} (last {p.get('last_price')} at {seen}).",
        f"No exit order of the broker's appeared in {p.get('waited_s')} s. The robot does NOT "
        "sell by itself on this broker.",
        f"What to do: check the position and its auto order in {acc}'s account at the broker; "
        "sell by hand if the exit is missing.",
    ]


def _login_required(row: dict, p: dict) -> tuple[str, Lines]:
    acc = _acc(row)
    broker = f" ({p['broker']})" if p.get("broker") else ""
    return f"🔑 LOGIN REQUIRED: {acc}{broker}", [
        "The broker session is not logged in: this account places and watches nothing until it "
        "is. The other accounts keep trading.",
        f"What to do: on the robot's machine run: {p.get('action') or f'robot login {acc}'}",
    ]


def _worker_fatal(row: dict, p: dict) -> tuple[str, Lines]:
    acc = _acc(row)
    return f"⛔ ACCOUNT STOPPED FOR TODAY: {acc}", [
        f"Reason: {_v(p.get('reason', 'not given'))}",
        "Its orders are no longer watched by the robot (a TP/CL the robot emulates stops too).",
        f"What to do: check {acc}'s open orders at the broker by hand and read logs/{acc}.log. "
        "The next day's run starts it again.",
    ]


def _eod_report(row: dict, p: dict) -> tuple[str, Lines]:
    s = p.get("summary") or {}
    other = p.get("other_outcomes") or {}
    rec = p.get("reconciliation") or {}
    date = p.get("date", "?")
    body = [
        f"Tasks {s.get('total_tasks', 0)}: TP {s.get('tp_hit', 0)} · CL {s.get('cl_hit', 0)}"
        f" · unmatched {s.get('expired_unmatched', 0)} · failed {s.get('failed', 0)}"
        f" · holding {other.get('holding', 0)}"
    ]
    if other.get("outcome_unknown"):
        body.append(
            f"⚠️ Outcome unknown: {other['outcome_unknown']} order(s): check them at the "
            "broker by hand"
        )
    mismatches = rec.get("mismatches") or []
    unchecked = [u.get("account", "?") for u in rec.get("unchecked_accounts") or []]
    if rec.get("ok"):
        body.append("Reconciliation with the brokers: OK")
    else:
        body.append(
            f"⚠️ Reconciliation with the brokers: {len(mismatches)} mismatch(es)"
            + (f"; not checked: {', '.join(unchecked)}" if unchecked else "")
        )
    fatal = [
        f"{acc}: {pa['fatal_reason']}"
        for acc, pa in (p.get("per_account") or {}).items()
        if isinstance(pa, dict) and pa.get("fatal_reason")
    ]
    body += [f"⛔ FATAL {_v(f)}" for f in fatal]
    body.append(f"Full report: robot report --date {date}")  # above the details a cut drops
    body += _section(
        "Mismatches",
        mismatches,
        lambda m: f"{m.get('account')} {m.get('kind')} order {m.get('order_id')}",
    )
    body += _section(
        "Exit order not seen",
        p.get("exits_not_seen") or [],
        lambda d: (
            f"{d.get('account')} {d.get('emiten')} "
            f"{str(d.get('purpose')).upper()} {d.get('level')}: check it"
        ),
    )
    body += _section(
        "Failed",
        p.get("failed_details") or [],
        lambda d: f"{d.get('account')} {d.get('emiten')}: {_v(d.get('reason'))}",
    )
    body += _section(
        "Holding",
        p.get("holding_details") or [],
        lambda d: (
            f"{d.get('account')} {d.get('emiten')} {d.get('lots')} lot @ {d.get('buy_price')}"
        ),
    )
    body += _section(
        "Unmatched",
        p.get("unmatched_details") or [],
        lambda d: (
            f"{d.get('account')} {d.get('emiten')} {d.get('lot_filled')}/"
            f"{d.get('lot_requested')} lot @ {d.get('buy_price')}"
        ),
    )
    return f"📊 END OF DAY {date} (uptime {p.get('robot_uptime', '?')})", body


def _section(title: str, items: list, fmt: Callable[[dict], str]) -> Lines:
    if not items:
        return []
    return [f"{title}:"] + [f"• {fmt(d)}" for d in items if isinstance(d, dict)]


# ----------------------------------------------------------------------------- worth knowing
def _filled(row: dict, p: dict) -> tuple[str, Lines]:
    return f"🟢 FILLED: {_acc(row)}", [
        f"{_task(row)}: bought {_stock(p)}{p.get('lots')} lot @ {p.get('price')}"
        + (f" (order {p['order_id']})" if p.get("order_id") else "")
    ]


def _exit_hit(row: dict, p: dict) -> tuple[str, Lines]:
    title = "✅ TAKE-PROFIT HIT" if row["type"] == "TP_HIT" else "🔻 CUT-LOSS HIT"
    return f"{title}: {_acc(row)}", [
        f"{_task(row)}: sold {_stock(p)}{p.get('lots')} lot @ {p.get('exit_price')}"
        + (" (the broker's auto order)" if p.get("native") else "")
    ]


def _task_failed(row: dict, p: dict) -> tuple[str, Lines]:
    body = [f"{_task(row)}: {_stock(p)}{_v(p.get('reason', 'failed'))}"]
    if p.get("error"):
        body.append(f"Broker said: {_v(p['error'])}")
    if p.get("attempts"):
        body.append(f"Attempts: {p['attempts']}")
    return f"❌ TASK FAILED: {_acc(row)}", body


def _task_conflict(row: dict, p: dict) -> tuple[str, Lines]:
    return f"⚠️ TASK CHANGED UNDER THE SAME ID: {_acc(row)}", [
        f"{_task(row)} arrived again with other fields; the first version is kept.",
        "What to do: send a new order under a new task_id.",
    ]


def _task_rejected(row: dict, p: dict) -> tuple[str, Lines]:
    given = p.get("reasons")
    reasons = given if isinstance(given, list) else [given]
    return f"❌ TASK REFUSED: {_acc(row)}", [f"{_task(row)} from {p.get('source', '?')}:"] + [
        f"• {_v(r)}" for r in reasons if r
    ]


def _generic(row: dict, p: dict) -> tuple[str, Lines]:
    body = [_task(row)] if row.get("task_id") else []
    body += [f"{k}: {_v(v)}" for k, v in p.items() if k not in ("state", "from")]
    return f"ℹ️ {row['type'].replace('_', ' ')}: {_acc(row)}", body


BUILDERS: dict[str, Builder] = {
    "OUTCOME_UNKNOWN": _outcome_unknown,
    "NATIVE_EXIT_NOT_SEEN": _native_exit_not_seen,
    "LOGIN_REQUIRED": _login_required,
    "WORKER_FATAL": _worker_fatal,
    "EOD_REPORT": _eod_report,
    "FILLED": _filled,
    "TP_HIT": _exit_hit,
    "CL_HIT": _exit_hit,
    "TASK_FAILED": _task_failed,
    "TASK_CONFLICT": _task_conflict,
    "TASK_REJECTED": _task_rejected,
}
