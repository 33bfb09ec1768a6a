"""The event types the robot writes to the outbox, and how urgently each one needs a person.

One catalog, so that the configuration can refuse a misspelt type (``settings.notifications``),
the notifier knows what to send by default, and a test can check that every type the code writes
is listed here.
"""
from __future__ import annotations

ON, SILENT, OFF = "on", "silent", "off"
LEVELS = (ON, SILENT, OFF)

# type -> (default notification level, what it means). "on": a person should act now (a phone
# rings); "silent": worth reading, no sound (Telegram's disable_notification); "off": the task
# server and the end-of-day report carry it.
EVENT_TYPES: dict[str, tuple[str, str]] = {
    # a person must act
    "OUTCOME_UNKNOWN": (ON, "an order may or may not have reached the broker; check by hand"),
    "LOGIN_REQUIRED": (ON, "an account's broker session needs a manual login"),
    "WORKER_FATAL": (ON, "an account kept failing and is stopped for the day"),
    "EOD_REPORT": (ON, "the end-of-day report"),
    # worth knowing, no sound
    "FILLED": (SILENT, "an entry order was fully filled"),
    "TP_HIT": (SILENT, "a position was sold at take-profit"),
    "CL_HIT": (SILENT, "a position was sold at cut-loss"),
    "TASK_FAILED": (SILENT, "a task ended without a fill (rejected, refused by a limit, retries)"),
    "TASK_CONFLICT": (SILENT, "a task id arrived again with other fields"),
    # the day's routine: the task server and the report carry them
    "TASK_ACCEPTED": (OFF, "a task was validated and stored"),
    "TASK_CANCEL_REQUESTED": (OFF, "the task server asked to withdraw a task"),
    "ORDER_SUBMITTED": (OFF, "an entry order was confirmed at the broker"),
    "PARTIAL_FILL": (OFF, "an entry order was partly filled"),
    "EXPIRED": (OFF, "an entry order ended unmatched at the close"),
    "CANCELLED": (OFF, "a task was withdrawn on request"),
    "DRY_RUN": (OFF, "dry run: the order form was filled, submit not clicked"),
    "WORKER_CRASHED": (OFF, "a worker process died; it is restarted automatically"),
    "WORKER_RESTARTED": (OFF, "a worker process was restarted"),
    # off because they can repeat: an emulated exit the broker keeps refusing is tried again on
    # every poll, and a task without a task_id is refused again on every pull. A channel is
    # ordered, so a flood of these would queue a later OUTCOME_UNKNOWN behind it.
    "EXIT_REJECTED": (OFF, "the broker refused a take-profit or cut-loss sell (may repeat every "
                           "poll)"),
    "TASK_REJECTED": (OFF, "a task from the task server or a file was invalid (may repeat every "
                           "pull)"),
}


def default_level(type_: str) -> str:
    """The built-in level of a type; a type the catalog does not know yet is sent silently."""
    return EVENT_TYPES.get(type_, (SILENT, ""))[0]
