"""Task intake: validation and storage of the day's tasks, whatever their source.

A task is validated before it is stored: the protocol's schema, a known and enabled account, the
IDX rules and the account's risk limits. An invalid task is stored FAILED with every reason and
reported; it never reaches a browser. Tasks are deduplicated by ``task_id``; a changed task under
the same id is a reported conflict, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from . import rules
from .clock import iso
from .config import Config
from .errors import BadInput, Problem
from .orders import TaskState
from .protocol import validate_task
from .store import Store

log = logging.getLogger("robot.tasks")
LIVE_TASK_STATES = (
    TaskState.PENDING,
    TaskState.SUBMITTING,
    TaskState.OPEN,
    TaskState.PARTIAL,
    TaskState.OUTCOME_UNKNOWN,
)
SQL_INTEGERS = range(-(2**63), 2**63)  # what an INTEGER column can hold
MAX_DEPTH, MAX_VALUES = 50, 100_000  # a task (file) is small; past this it is malformed


@dataclass(frozen=True)
class Intake:
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    conflicts: int = 0
    cancels: int = 0

    def __add__(self, other: Intake) -> Intake:
        return Intake(
            *(a + b for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True))
        )


def payload_hash(task: dict) -> str:
    """Identity of a task's content; notes and cancel flags do not change what is ordered."""
    core = {k: task.get(k) for k in ("account", "emiten", "side", "price", "lot", "tp", "cl")}
    return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]


def problems_with(task: Any, cfg: Config, store: Store, day: date) -> list[str]:
    """Every reason this task cannot be placed (empty when it can)."""
    reasons = validate_task(task)
    if reasons or not isinstance(task, dict):
        return reasons or ["a task must be a JSON object"]
    if task.get("date") not in (None, day.isoformat()):
        reasons.append(f"date {task['date']!r} is not the trading day {day.isoformat()}")
    account = next((a for a in cfg.accounts if a.id == task["account"]), None)
    if account is None:
        reasons.append(f"account {task['account']!r} is not in {cfg.path.name}")
    elif not account.enabled:
        reasons.append(f"account {task['account']!r} is disabled")
    reasons += rules.validate_order(
        task["price"], task["lot"], task.get("tp"), task.get("cl"), task.get("prev_close")
    )
    if account is not None and not reasons:
        reasons += limit_problems(task, account, store, day)
    return reasons


def limit_problems(task: dict, account, store: Store, day: date) -> list[str]:
    lim = account.limits
    value = task["price"] * task["lot"] * rules.LOT_SHARES
    out = []
    if lim.allowed_emiten is not None and task["emiten"] not in lim.allowed_emiten:
        out.append(
            f"limit allowed_emiten: {task['emiten']} is not in {', '.join(lim.allowed_emiten)}"
        )
    if lim.max_order_value is not None and value > lim.max_order_value:
        out.append(
            f"limit max_order_value: order value Rp{value:,} exceeds Rp{lim.max_order_value:,}"
        )
    if lim.max_daily_buy_value is not None:
        used = store.committed_buy_value(account.id, day)
        if used + value > lim.max_daily_buy_value:
            out.append(
                f"limit max_daily_buy_value: Rp{used:,} already today + Rp{value:,} exceeds "
                f"Rp{lim.max_daily_buy_value:,}"
            )
    if lim.max_open_orders is not None:
        live = store.count_tasks(day, account.id, LIVE_TASK_STATES)
        if live >= lim.max_open_orders:
            out.append(f"limit max_open_orders: {live} open already (limit {lim.max_open_orders})")
    return out


def ingest(
    store: Store, cfg: Config, tasks: list[Any], source: str, day: date, now: datetime
) -> Intake:
    """Store each task once (PENDING, or FAILED with its reasons); report conflicts."""
    total = Intake()
    for raw in tasks:
        total = total + ingest_one(store, cfg, raw, source, day, now)
    return total


def json_safe(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """``value`` as plain JSON data that can always be stored and logged: YAML-only types (dates,
    sets, bytes) and non-string keys become text, and lone surrogates (legal in JSON escapes,
    refused by SQLite and UTF-8 logs) become visible escapes. ValueError past MAX_DEPTH levels or
    MAX_VALUES values (YAML aliases can make a small file expand enormously, or refer to itself)."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise ValueError(f"more than {MAX_VALUES} values or {MAX_DEPTH} levels of nesting")
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {
            json_safe(k if isinstance(k, str) else str(k), budget, depth + 1): json_safe(
                v, budget, depth + 1
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [json_safe(v, budget, depth + 1) for v in value]
    return json_safe(
        value.isoformat() if isinstance(value, (date, datetime)) else str(value), budget, depth + 1
    )


def ingest_one(
    store: Store, cfg: Config, raw: Any, source: str, day: date, now: datetime
) -> Intake:
    try:
        raw = json_safe(raw)
    except ValueError as exc:
        store.add_event("TASK_REJECTED", None, {"source": source, "reasons": [f"task: {exc}"]}, now)
        log.warning("rejected a malformed task from %s: %s", source, exc)
        return Intake(rejected=1)
    task_id = raw.get("task_id") if isinstance(raw, dict) else None
    if not isinstance(task_id, str) or not task_id:
        # Without an id the task cannot be stored or deduplicated; report it and move on.
        store.add_event(
            "TASK_REJECTED",
            None,
            {"task": raw, "source": source, "reasons": ["task_id: missing or not a string"]},
            now,
        )
        log.warning("rejected a task without task_id from %s", source)
        return Intake(rejected=1)
    with store.transaction():
        existing = store.task(task_id)
        if existing is not None:
            return _seen_again(store, existing, raw, source, now)
        reasons = problems_with(raw, cfg, store, day)
        account = raw.get("account") if isinstance(raw.get("account"), str) else "?"
        ints = {
            k: raw.get(k)
            if isinstance(raw.get(k), int)
            and not isinstance(raw.get(k), bool)
            and raw.get(k) in SQL_INTEGERS
            else None
            for k in ("price", "lot", "tp", "cl")
        }
        state = TaskState.FAILED if reasons else TaskState.PENDING
        dry = any(a.id == account and a.dry_run for a in cfg.accounts)
        store.insert_task(
            {
                "task_id": task_id,
                "account": account,
                "trading_date": day.isoformat(),
                "emiten": str(raw.get("emiten", "?")),
                "side": str(raw.get("side", "buy")),
                **ints,
                "source": source,
                "payload": json.dumps(raw, sort_keys=True, default=str),
                "payload_hash": payload_hash(raw),
                "state": state.value,
                "reason": "; ".join(reasons) or None,
                "dry_run": int(dry),
                "created": iso(now),
                "updated": iso(now),
            }
        )
        if reasons:
            store.add_event(
                "TASK_REJECTED",
                account,
                {"reasons": reasons, "source": source},
                now,
                task_id=task_id,
            )
            log.warning("task %s rejected: %s", task_id, "; ".join(reasons))
            return Intake(rejected=1)
        store.add_event(
            "TASK_ACCEPTED",
            account,
            {
                "emiten": raw["emiten"],
                "price": raw["price"],
                "lot": raw["lot"],
                "tp": raw.get("tp"),
                "cl": raw.get("cl"),
                "source": source,
            },
            now,
            task_id=task_id,
        )
        log.info(
            "task %s accepted for %s: buy %s %d lot @ %d",
            task_id,
            account,
            raw["emiten"],
            raw["lot"],
            raw["price"],
        )
        return Intake(accepted=1)


def _seen_again(store: Store, existing: dict, raw: dict, source: str, now: datetime) -> Intake:
    if raw.get("cancel") is True:
        if existing["state"] in LIVE_TASK_STATES and not existing.get("cancel_requested"):
            store.request_cancel(existing["task_id"], now)
            store.add_event(
                "TASK_CANCEL_REQUESTED",
                existing["account"],
                {"source": source},
                now,
                task_id=existing["task_id"],
            )
            return Intake(cancels=1)
        return Intake(duplicates=1)
    if payload_hash(raw) == existing["payload_hash"]:
        return Intake(duplicates=1)
    if not store.conflict_reported(existing["task_id"], payload_hash(raw)):
        # report each distinct changed version once, not on every pull
        store.add_event(
            "TASK_CONFLICT",
            existing["account"],
            {
                "source": source,
                "kept": json.loads(existing["payload"]),
                "received": raw,
                "received_hash": payload_hash(raw),
                "reason": "a task with this task_id was already accepted with other fields; "
                "the first version is kept (use a new task_id for a new order)",
            },
            now,
            task_id=existing["task_id"],
        )
        log.warning(
            "task %s changed under the same id: kept the first version", existing["task_id"]
        )
    return Intake(conflicts=1)


# ------------------------------------------------------------------------------ local files
def load_task_file(path: str | Path) -> list[Any]:
    """Tasks from a YAML or JSON file: a list, or {tasks: [...]}. Unreadable -> BadInput (exit
    2)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(Problem(str(path), "", "tasks file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(Problem(str(path), "", f"cannot be read: {exc}")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BadInput(
            Problem(
                str(path),
                "",
                f"is neither valid YAML nor JSON: {getattr(exc, 'problem', exc)}",
                mark.line + 1 if mark else None,
            )
        ) from None
    try:
        data = json_safe(data)
    except ValueError as exc:
        raise BadInput(
            Problem(str(path), "", f"is too large or nested too deeply: {exc}")
        ) from None
    if isinstance(data, dict) and "tasks" in data:
        data = data["tasks"]
    if not isinstance(data, list):
        raise BadInput(Problem(str(path), "tasks", "must be a list of tasks (or {tasks: [...]})"))
    for i, task in enumerate(data):
        if not isinstance(task, dict):
            raise BadInput(Problem(str(path), f"tasks[{i}]", "each task must be a mapping"))
    return data
