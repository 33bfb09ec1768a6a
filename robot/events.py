"""The event types the robot reports: one name each, and where each one's JSON Schema lives.

This is the registry: ``Store.add_event`` refuses a type that is not listed here, so an event
cannot be sent without being documented. Each type has the JSON Schema (draft 2020-12) of its
payload in ``robot/schemas/events/<TYPE>.json`` and every event shares the envelope in
``robot/schemas/event.json``; both ship with the package, docs/PROTOCOL.md embeds them, and the
tests check that the names here and the files there are the same set and that what the robot
really sends matches the files (see tests/event_contract.py).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from . import schema

# --- task intake (robot/tasks.py) --------------------------------------------------------------
TASK_ACCEPTED = "TASK_ACCEPTED"
TASK_REJECTED = "TASK_REJECTED"
TASK_CANCEL_REQUESTED = "TASK_CANCEL_REQUESTED"
TASK_CONFLICT = "TASK_CONFLICT"
# --- the order engine (robot/engine.py), most through Engine.move ------------------------------
ORDER_SUBMITTED = "ORDER_SUBMITTED"
PARTIAL_FILL = "PARTIAL_FILL"
FILLED = "FILLED"
TP_HIT = "TP_HIT"
CL_HIT = "CL_HIT"
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"
TASK_FAILED = "TASK_FAILED"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
EXIT_REJECTED = "EXIT_REJECTED"
NATIVE_EXIT_NOT_SEEN = "NATIVE_EXIT_NOT_SEEN"
DRY_RUN = "DRY_RUN"
# --- an account's worker (robot/worker.py) -----------------------------------------------------
LOGIN_REQUIRED = "LOGIN_REQUIRED"
# --- the supervisor (robot/supervisor.py) ------------------------------------------------------
WORKER_CRASHED = "WORKER_CRASHED"
WORKER_RESTARTED = "WORKER_RESTARTED"
WORKER_FATAL = "WORKER_FATAL"
# --- a person's requests (robot/resolve.py) ----------------------------------------------------
TASK_RESOLVED = "TASK_RESOLVED"
ACCOUNT_REENABLED = "ACCOUNT_REENABLED"
# --- end of day (robot/eod.py) -----------------------------------------------------------------
EOD_REPORT = "EOD_REPORT"

# The order of this tuple is the order of docs/PROTOCOL.md's table and schemas.
EVENT_TYPES: tuple[str, ...] = (
    TASK_ACCEPTED,
    TASK_REJECTED,
    TASK_CANCEL_REQUESTED,
    TASK_CONFLICT,
    ORDER_SUBMITTED,
    PARTIAL_FILL,
    FILLED,
    TP_HIT,
    CL_HIT,
    EXPIRED,
    CANCELLED,
    TASK_FAILED,
    OUTCOME_UNKNOWN,
    EXIT_REJECTED,
    NATIVE_EXIT_NOT_SEEN,
    DRY_RUN,
    LOGIN_REQUIRED,
    WORKER_CRASHED,
    WORKER_RESTARTED,
    WORKER_FATAL,
    TASK_RESOLVED,
    ACCOUNT_REENABLED,
    EOD_REPORT,
)
_REGISTERED = frozenset(EVENT_TYPES)

# How urgently each type needs a person: the default level of the notification channels
# (settings.notifications, robot/notify.py). "on": a person should act now (a phone rings);
# "silent": worth reading, no sound (Telegram's disable_notification); "off": the task server and
# the end-of-day report carry it.
ON, SILENT, OFF = "on", "silent", "off"
LEVELS = (ON, SILENT, OFF)
DEFAULT_LEVELS: dict[str, str] = {
    # a person must act
    OUTCOME_UNKNOWN: ON,
    LOGIN_REQUIRED: ON,
    WORKER_FATAL: ON,
    EOD_REPORT: ON,
    # a position whose broker-native exit the robot could not see when the price got there
    NATIVE_EXIT_NOT_SEEN: ON,
    # worth knowing, no sound
    FILLED: SILENT,
    TP_HIT: SILENT,
    CL_HIT: SILENT,
    TASK_FAILED: SILENT,
    TASK_CONFLICT: SILENT,
    # the day's routine: the task server and the report carry them
    TASK_ACCEPTED: OFF,
    TASK_CANCEL_REQUESTED: OFF,
    ORDER_SUBMITTED: OFF,
    PARTIAL_FILL: OFF,
    EXPIRED: OFF,
    CANCELLED: OFF,
    DRY_RUN: OFF,
    WORKER_CRASHED: OFF,
    WORKER_RESTARTED: OFF,
    # a person did it: the dashboard and the report show it
    TASK_RESOLVED: OFF,
    ACCOUNT_REENABLED: OFF,
    # off because they can repeat: an emulated exit the broker keeps refusing is tried again on
    # every poll, and a task without a task_id is refused again on every pull. A channel is
    # ordered, so a flood of these would queue a later OUTCOME_UNKNOWN behind it.
    EXIT_REJECTED: OFF,
    TASK_REJECTED: OFF,
}


def default_level(type_: str) -> str:
    """The built-in notification level of a type."""
    return DEFAULT_LEVELS[type_]


class UnknownEventType(ValueError):
    """An event type with no schema: a programming error, refused before anything is stored."""


def check_type(type_: str) -> None:
    if type_ not in _REGISTERED:
        raise UnknownEventType(
            f"event type {type_!r} is not registered in robot/events.py (every type needs a "
            f"payload schema in robot/schemas/events/{type_}.json and a line in "
            f"docs/PROTOCOL.md: `python -m robot.protocol --write`)"
        )


def _schemas_dir():
    return resources.files("robot") / "schemas"


def schema_files() -> list[str]:
    """The types that have a payload schema file (for the registry test)."""
    return sorted(
        p.name[: -len(".json")]
        for p in (_schemas_dir() / "events").iterdir()
        if p.name.endswith(".json")
    )


def envelope_schema() -> dict[str, Any]:
    """The schema every event object matches (id, type, account, time, task_id, payload)."""
    return schema.load("event.json")


def payload_schema(type_: str) -> dict[str, Any]:
    """The schema of one registered type's payload (UnknownEventType for any other name)."""
    check_type(type_)
    return schema.load(f"events/{type_}.json")
