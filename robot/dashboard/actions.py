"""The dashboard's buttons: a person's requests, handed to robot/resolve.py as they are.

The dashboard decides nothing itself: it records the request through
``robot.resolve.request_resolve`` / ``request_restart`` (who="dashboard"), waits a few seconds
for the worker or the supervisor to act on it (``wait_outcome``), and shows what it said. Those
requests are the only writes the dashboard makes, each in its own short connection; the pages
themselves read through a read-only one.

Without robot/resolve.py in this installation the buttons say the action is not available.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..store import Store

WHO = "dashboard"
RESOLVE_CHOICES = ("placed", "not-placed", "not-placed-retry")


@dataclass(frozen=True)
class ActionResult:
    """What a button did, for the page: ``status`` is the request's (pending, done, refused),
    or ``invalid`` when the input was refused before any request, or ``unavailable``."""

    status: str
    message: str
    request_id: int | None = None


def resolve_module() -> ModuleType | None:
    """robot.resolve, or None where this installation has none (the buttons then say so)."""
    try:
        return importlib.import_module("robot.resolve")
    except ModuleNotFoundError:
        return None


def available() -> bool:
    return resolve_module() is not None


def resolve_task(
    db: Path, task_id: str, choice: str, broker_order_id: str, wait_s: float
) -> ActionResult:
    """`robot resolve TASK_ID --placed ID | --not-placed [--retry]`, from the task's page."""
    if choice not in RESOLVE_CHOICES:
        return ActionResult("invalid", f"unknown choice {choice!r}")
    placed = broker_order_id.strip() if choice == "placed" else None
    if choice == "placed" and not placed:
        return ActionResult("invalid", "give the broker's order id you found at the broker")
    return _request(
        db,
        lambda mod, store: mod.request_resolve(
            store,
            task_id,
            placed=placed,
            not_placed=choice != "placed",
            retry=choice == "not-placed-retry",
            who=WHO,
        ),
        wait_s,
    )


def restart_account(db: Path, account: str, wait_s: float) -> ActionResult:
    """`robot restart ACCOUNT`, from the accounts table (a FATAL account)."""
    return _request(db, lambda mod, store: mod.request_restart(store, account, who=WHO), wait_s)


def _request(db: Path, make, wait_s: float) -> ActionResult:
    mod = resolve_module()
    if mod is None:
        return ActionResult(
            "unavailable", "not available: this robot has no resolve/restart requests yet"
        )
    store = Store(db)
    try:
        try:
            request_id = make(mod, store)
        except ValueError as exc:  # the request itself was refused (bad id, wrong state)
            return ActionResult("refused", str(exc))
        outcome = mod.wait_outcome(store, request_id, wait_s)
    finally:
        store.close()
    message = outcome.message
    if outcome.status == "pending" and not message:
        message = "pending: the worker will apply it when it runs"
    return ActionResult(outcome.status, message, request_id)
