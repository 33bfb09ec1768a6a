"""What needs a person: resolving a task whose outcome is unknown, and re-enabling a FATAL account.

A person (`robot resolve`, `robot restart`, or the dashboard's buttons) never changes the trading
state directly: they write a *request* (a row of ``operator_requests``, docs/STATE.md), checked
here for what can be checked without the broker (exit 2, nothing written, on bad input). The
process that owns the state applies it, once:

- a resolve, by the account's worker between two engine steps, against the broker's lists read
  at that moment (open orders and history): ``--placed X`` is refused unless the broker shows X
  with the task's emiten, side, price and lot, and X is no other order's; ``--not-placed`` is
  refused while the broker shows an order like the task's that the robot has not claimed (the
  person is told which: "use --placed X"). Adopted, the order is tracked like one confirmed by
  read-back (fills, TP/CL). With ``--retry`` the task goes back to PENDING, but the next attempt
  is held for reconcile_grace_s and, before it is placed, both lists are read again: an order
  like the first one that shows up late is adopted as this attempt instead of placing another
  (Engine.adopt_late_order). Without a running worker the request waits for the next one.
- a restart, by the supervisor: the account leaves FATAL, its restart backoff and flap count
  start afresh, and its worker is started again.

Every decision is recorded in the request row (done or refused, with a sentence for a person) and
every applied action as an event (TASK_RESOLVED, ACCOUNT_REENABLED) saying who asked and when;
the end-of-day report lists the day's requests. Nothing here clicks: the only order this module
can cause is a PENDING task's next attempt, which the engine places only after reading that no
order of the task is at the broker.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.base import BrokerOrder

from . import events
from .clock import RealClock
from .orders import OrderState as O, TaskState as T
from .store import Store
from .store.requests import DONE, PENDING, REFUSED

if TYPE_CHECKING:
    from .engine import Engine

RESOLVE, RESTART = "resolve", "restart"
PLACED, NOT_PLACED, RETRY = "placed", "not_placed", "retry"
POLL_S = 0.2  # how often wait_outcome reads the request row


@dataclass(frozen=True)
class RequestOutcome:
    request_id: int
    status: str  # "pending" | "done" | "refused"
    message: str  # what happened / why refused, for a person


# ------------------------------------------------------------------------------ requests
def request_resolve(
    store: Store,
    task_id: str,
    *,
    placed: str | None = None,
    not_placed: bool = False,
    retry: bool = False,
    who: str,
    force: bool = False,
) -> int:
    """Write a resolve request for a task whose outcome is unknown; its id. ValueError, and
    nothing written, when the request cannot make sense (see check_resolve). ``force`` marks a
    --not-placed the CLI applies itself, without the broker, when no supervisor runs
    (apply_forced)."""
    task = check_resolve(store, task_id, placed, not_placed, retry, force)
    action = PLACED if placed is not None else (RETRY if retry else NOT_PLACED)
    return store.add_request(
        RESOLVE,
        action,
        task["account"],
        task["trading_date"],
        _who(who),
        RealClock().now(),
        task_id=task_id,
        broker_order_id=placed.strip() if placed is not None else None,
        forced=force,
    )


def check_resolve(
    store: Store,
    task_id: str,
    placed: str | None,
    not_placed: bool,
    retry: bool,
    force: bool = False,
) -> dict:
    """The task, when a resolve request for it makes sense; ValueError naming what is wrong."""
    if (placed is not None) == not_placed:
        raise ValueError("say either --placed BROKER_ORDER_ID or --not-placed (exactly one)")
    if retry and not not_placed:
        raise ValueError("--retry goes with --not-placed only")
    if force and (not not_placed or retry):
        raise ValueError(
            "--force goes with --not-placed only, without --retry: a retry or an adoption needs "
            "the account's worker to read the broker first"
        )
    if placed is not None and not placed.strip():
        raise ValueError("--placed needs the broker's order id (it is empty)")
    task = store.task(task_id)
    if task is None:
        raise ValueError(f"no task {task_id!r} in {store.path}")
    if task["state"] != T.OUTCOME_UNKNOWN:
        raise ValueError(
            f"task {task_id} is {task['state']}, not OUTCOME_UNKNOWN: nothing to resolve"
            + _exit_hint(store, task_id)
        )
    if unknown_entry(store, task_id) is None:
        raise ValueError(f"task {task_id} has no entry order of unknown outcome to resolve")
    if placed is not None:
        owner = store.task_of_broker_order(task["account"], placed.strip())
        if owner is not None:
            raise ValueError(
                f"order {placed.strip()} of {task['account']} is already the robot's "
                f"(task {owner}): it cannot be this task's too"
            )
    pending = store.pending_request_of_task(task_id)
    if pending is not None:
        raise ValueError(
            f"request #{pending['id']} ({pending['action']}, by {pending['who']} at "
            f"{pending['requested_at']}) for task {task_id} is still pending: wait for it"
        )
    return task


def _exit_hint(store: Store, task_id: str) -> str:
    unknown_exit = [
        o
        for o in store.orders_of(task_id)
        if o["purpose"] != "entry" and o["status"] == O.UNKNOWN.value
    ]
    if unknown_exit:
        return (
            f" (its {unknown_exit[-1]['purpose']} sell has an unknown outcome: check it at the "
            f"broker by hand; resolving an exit order is not supported)"
        )
    return ""


def request_restart(store: Store, account_id: str, *, who: str) -> int:
    """Write a request to re-enable a FATAL account for the rest of its day; its id. ValueError,
    and nothing written, for an unknown account or one that is not FATAL."""
    row = store.worker(account_id)
    if row is None:
        known = ", ".join(w["account"] for w in store.workers()) or "none yet"
        raise ValueError(f"unknown account {account_id!r} (accounts in {store.path}: {known})")
    if row["state"] != "FATAL":
        raise ValueError(
            f"account {account_id} is {row['state']} (since {row['since']}), not FATAL: "
            f"nothing to re-enable"
        )
    pending = store.pending_restart_of(account_id)
    if pending is not None:
        raise ValueError(
            f"request #{pending['id']} to re-enable {account_id} (by {pending['who']}) is still "
            f"pending"
        )
    day = row["restarts_date"] or str(row["since"])[:10]
    return store.add_request(RESTART, RESTART, account_id, day, _who(who), RealClock().now())


def _who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise ValueError("who made the request must be said (the OS user, or 'dashboard')")
    return who


# ------------------------------------------------------------------------------- outcomes
def outcome(store: Store, request_id: int) -> RequestOutcome:
    row = store.operator_request(request_id)
    if row is None:
        raise LookupError(f"no request #{request_id} in {store.path}")
    if row["status"] == PENDING:
        return RequestOutcome(request_id, PENDING, why_pending(store, row))
    return RequestOutcome(request_id, row["status"], row["message"] or "")


def wait_outcome(store: Store, request_id: int, timeout_s: float) -> RequestOutcome:
    """The request's outcome once decided, or its pending outcome when ``timeout_s`` is over."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = outcome(store, request_id)
        if result.status != PENDING or time.monotonic() >= deadline:
            return result
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def why_pending(store: Store, row: dict) -> str:
    """Who will apply a pending request, and when, in a sentence."""
    from .status import supervisor_alive

    run = store.running_run()
    alive = supervisor_alive(run)[0] if run is not None else False
    head = f"pending (request #{row['id']})"
    if alive is False:
        who = "the account's worker" if row["kind"] == RESOLVE else "the supervisor"
        return (
            f"{head}: no supervisor is running on {store.path}; {who} applies it when the robot "
            f"runs again"
            + (" (after reading the broker's lists)" if row["kind"] == RESOLVE else "")
        )
    if row["kind"] == RESTART:
        return f"{head}: the supervisor has not picked it up yet; it does within a second"
    worker = store.worker(row["account"]) or {}
    state = worker.get("state") or "not started"
    if run is not None and str(run["trading_date"]) != row["trading_date"]:
        return (
            f"{head}: the running day is {run['trading_date']}, the task's is "
            f"{row['trading_date']}: no worker of this run reads the broker for it"
        )
    if state == "TRADING":
        return f"{head}: {row['account']}'s worker applies it between two polls of the broker"
    return (
        f"{head}: {row['account']}'s worker is {state} (since {worker.get('since')}); it applies "
        f"the request, after reading the broker's lists, when it trades again"
        + (" (`robot restart` re-enables a FATAL account)" if state == "FATAL" else "")
    )


# -------------------------------------------------------------------- applying (worker)
def apply_resolves(engine: Engine, after_close: bool = False) -> list[RequestOutcome]:
    """Decide the account's pending resolve requests against the broker (the worker calls it
    between engine steps; broker errors propagate and leave the request pending). After the
    close (``after_close``) a retry is refused: no attempt could be placed any more."""
    return [
        _apply_resolve(engine, req, after_close)
        for req in engine.store.pending_requests(RESOLVE, engine.account.id)
    ]


def _apply_resolve(engine: Engine, req: dict, after_close: bool) -> RequestOutcome:
    store, task_id = engine.store, req["task_id"]
    if req["trading_date"] != engine.day.isoformat():
        return _decide(
            engine,
            req,
            REFUSED,
            f"task {task_id} is of {req['trading_date']}; today's ({engine.day}) broker lists "
            f"cannot show its order",
        )
    task = store.task(task_id) or {}
    row = unknown_entry(store, task_id)
    if task.get("state") != T.OUTCOME_UNKNOWN or row is None:
        return _decide(engine, req, *_moved_on(store, task, req))
    if after_close and req["action"] == RETRY:
        return _decide(
            engine,
            req,
            REFUSED,
            "the day's trading is over: a retry could not be placed; use --not-placed",
        )
    view = engine.read_broker(history=True)
    if req["action"] == PLACED:
        return _placed(engine, req, task, row, view.orders)
    return _not_placed(engine, req, task, row, view.orders)


def _moved_on(store: Store, task: dict, req: dict) -> tuple[str, str]:
    """The task left OUTCOME_UNKNOWN before the request was applied (a late read-back found its
    order): done if that is the order the person named, refused otherwise."""
    entry: dict = next(
        (o for o in reversed(store.orders_of(task["task_id"])) if o["purpose"] == "entry"), {}
    )
    found = entry.get("broker_order_id")
    if req["action"] == PLACED and found == req["broker_order_id"]:
        return DONE, f"the robot had already found order {found} at the broker itself"
    said = f"; the robot found its order {found} at the broker" if found else ""
    return (
        REFUSED,
        f"task {task['task_id']} is {task.get('state')} now, no longer OUTCOME_UNKNOWN{said}",
    )


def _placed(
    engine: Engine, req: dict, task: dict, row: dict, shown: dict[str, BrokerOrder]
) -> RequestOutcome:
    oid = req["broker_order_id"]
    seen = shown.get(oid)
    if seen is None:
        return _decide(
            engine,
            req,
            REFUSED,
            f"the broker does not show order {oid} for {engine.account.id} (open orders and "
            f"history read just now)",
        )
    owner = engine.store.task_of_broker_order(engine.account.id, oid)
    if owner is not None:
        return _decide(engine, req, REFUSED, f"order {oid} is already the robot's (task {owner})")
    if not same_order(seen, row):
        return _decide(
            engine,
            req,
            REFUSED,
            f"order {oid} at the broker is {describe(seen)}; task {task['task_id']}'s order is "
            f"{describe(row)}",
        )
    message = (
        f"order {oid} ({describe(seen)}, {seen.status.value}) adopted for task "
        f"{task['task_id']}; the robot watches it from now on"
    )
    with engine.store.transaction():
        if not _decide_here(engine, req, DONE, message):
            return outcome(engine.store, req["id"])  # decided elsewhere: nothing adopted
        engine.adopt(row, seen)
    return RequestOutcome(req["id"], DONE, message)


def _not_placed(
    engine: Engine, req: dict, task: dict, row: dict, shown: dict[str, BrokerOrder]
) -> RequestOutcome:
    # Any unclaimed order with the task's fields, whatever its time: a person saying "not
    # placed" while one is listed would let a retry place a second
    claimed = engine.store.claimed_broker_ids(engine.account.id)
    like = sorted(
        o.order_id for o in shown.values() if o.order_id not in claimed and same_order(o, row)
    )
    if like:
        return _decide(
            engine,
            req,
            REFUSED,
            f"the broker shows order {', '.join(like)} matching this task ({describe(row)}); "
            f"use --placed {like[0]}",
        )
    retry = req["action"] == RETRY
    message = f"no order like task {task['task_id']}'s at the broker: " + (
        f"back to PENDING; the next attempt waits {engine.settings.reconcile_grace_s:g} s "
        f"and reads the broker again before it is placed"
        if retry
        else "the task fails for the day"
    )
    with engine.store.transaction():
        if not _decide_here(engine, req, DONE, message):
            return outcome(engine.store, req["id"])
        settle_not_placed(engine.store, req, task, row, engine.clock.now(), engine.move)
    if retry:
        engine.hold_retry(task["task_id"])
    return RequestOutcome(req["id"], DONE, message)


def settle_not_placed(store: Store, req: dict, task: dict, row: dict, now: datetime, move) -> None:
    """The unknown order is settled as never sent; the task fails, or waits PENDING (retry).
    ``move`` is Engine.move or its stand-in (apply_forced); call inside the transaction."""
    who = f"{req['who']} (request #{req['id']})"
    store.mark_never_sent(row["id"], f"not at the broker, said {who}")
    if req["action"] == RETRY:
        move(task["task_id"], T.PENDING, None)
        return
    why = f"not placed at the broker, said {who}"
    move(
        task["task_id"],
        T.FAILED,
        events.TASK_FAILED,
        {"reason": "not placed (resolved by a person)", "error": why},
        reason="not placed (resolved by a person)",
        last_error=why,
    )


def _decide(engine: Engine, req: dict, status: str, message: str) -> RequestOutcome:
    _decide_here(engine, req, status, message)
    return outcome(engine.store, req["id"])


def _decide_here(engine: Engine, req: dict, status: str, message: str) -> bool:
    return decide(engine.store, req, status, message, engine.clock.now(), f"worker {os.getpid()}")


def decide(store: Store, req: dict, status: str, message: str, at: datetime, by: str) -> bool:
    """Settle a request, with its event when it was done (one transaction); False when another
    process decided it first (then nothing is written)."""
    with store.transaction():
        if not store.decide_request(req["id"], status, message, at, by):
            return False
        if status == DONE:
            _record(store, req, message, at)
    return True


def _record(store: Store, req: dict, message: str, at: datetime) -> None:
    payload = {
        "request_id": req["id"],
        "action": req["action"],
        "who": req["who"],
        "requested_at": req["requested_at"],
        "message": message,
    }
    if req["kind"] == RESTART:
        store.add_event(events.ACCOUNT_REENABLED, req["account"], payload, at)
        return
    task = store.task(req["task_id"]) or {}
    payload |= {"emiten": task.get("emiten"), "forced": bool(req["forced"])}
    if req["broker_order_id"]:
        payload["order_id"] = req["broker_order_id"]
    store.add_event(events.TASK_RESOLVED, req["account"], payload, at, task_id=req["task_id"])


# --------------------------------------------------------------------- applying (others)
def apply_forced(store: Store, request_id: int, at: datetime) -> RequestOutcome:
    """A --not-placed --force request, applied by the CLI itself while no supervisor runs (the
    caller holds the supervisor's lock): the task fails for the day without the broker being
    read. It can cause no order: a FAILED task is never placed."""
    req = store.operator_request(request_id)
    if req is None or req["status"] != PENDING:
        raise LookupError(f"request #{request_id} is not pending")
    task = store.task(req["task_id"]) or {}
    row = unknown_entry(store, req["task_id"])
    if task.get("state") != T.OUTCOME_UNKNOWN or row is None:
        with store.transaction():
            store.decide_request(request_id, REFUSED, "no longer OUTCOME_UNKNOWN", at, "cli")
        return RequestOutcome(request_id, REFUSED, "the task is no longer OUTCOME_UNKNOWN")

    def move(task_id: str, to: T, event: str | None, payload: dict | None = None, **cols):
        before = store.move_task(task_id, to, at, **cols)
        if event:
            store.add_event(
                event,
                req["account"],
                {"state": to.value, "from": before["state"], "emiten": before["emiten"]}
                | (payload or {}),
                at,
                task_id=task_id,
            )

    message = (
        f"recorded without reading the broker (--force, no supervisor running): task "
        f"{req['task_id']} fails for the day"
    )
    with store.transaction():
        if decide(store, req, DONE, message, at, f"cli {os.getpid()}"):
            settle_not_placed(store, req, task, row, at, move)
    return RequestOutcome(request_id, DONE, message)


# -------------------------------------------------------------------------------- helpers
def unknown_entry(store: Store, task_id: str) -> dict | None:
    """The task's entry order of unknown outcome (the one a resolve settles), if any."""
    return next(
        (
            o
            for o in reversed(store.orders_of(task_id))
            if o["purpose"] == "entry" and o["status"] == O.UNKNOWN.value
        ),
        None,
    )


def same_order(o: BrokerOrder, row: dict) -> bool:
    return (o.emiten, o.side.value, o.price, o.lot) == (
        row["emiten"],
        row["side"],
        row["price"],
        row["lot"],
    )


def describe(o: BrokerOrder | dict) -> str:
    if isinstance(o, BrokerOrder):
        return f"{o.emiten} {o.side.value} {o.lot} lot @ {o.price}"
    return f"{o['emiten']} {o['side']} {o['lot']} lot @ {o['price']}"
