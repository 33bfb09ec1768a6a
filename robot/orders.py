"""Task and order lifecycles (pure: no I/O). The engine may only make the moves listed here.

A task is one user intention: buy ``lot`` lots of ``emiten`` at ``price``, then take profit at
``tp`` or cut the loss at ``cl``. Each attempt to place an order for it is one row in ``orders``.
"""
from __future__ import annotations

import enum

from adapters.base import OrderStatus


class TaskState(str, enum.Enum):
    PENDING = "PENDING"                    # accepted, waiting for a phase that allows orders
    SUBMITTING = "SUBMITTING"              # an intent is committed; the order is being placed
    OPEN = "OPEN"                          # confirmed in the broker's open orders
    PARTIAL = "PARTIAL"                    # some lots filled
    FILLED = "FILLED"                      # every lot filled; holding until TP or CL
    TP_HIT = "TP_HIT"
    CL_HIT = "CL_HIT"
    EXPIRED_UNMATCHED = "EXPIRED_UNMATCHED"  # day order withdrawn at the close (lots_filled says how much)
    FAILED = "FAILED"                      # reason + last_error; never reached a fill
    CANCELLED = "CANCELLED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"    # may or may not be at the broker: not resent
    DRY_RUN = "DRY_RUN"                    # everything but the submit click

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = {TaskState.TP_HIT, TaskState.CL_HIT, TaskState.EXPIRED_UNMATCHED, TaskState.FAILED,
            TaskState.CANCELLED, TaskState.DRY_RUN}
# FILLED is not terminal during the day (an exit may still come); at the close a FILLED task
# without an exit is reported as holding. OUTCOME_UNKNOWN waits for a human or a late read-back.

T = TaskState
MOVES: dict[TaskState, set[TaskState]] = {
    T.PENDING: {T.SUBMITTING, T.FAILED, T.CANCELLED, T.EXPIRED_UNMATCHED},
    T.SUBMITTING: {T.PENDING, T.OPEN, T.PARTIAL, T.FILLED, T.FAILED, T.OUTCOME_UNKNOWN,
                   T.DRY_RUN, T.CANCELLED, T.EXPIRED_UNMATCHED},
    T.OPEN: {T.PARTIAL, T.FILLED, T.CANCELLED, T.EXPIRED_UNMATCHED, T.FAILED},
    T.PARTIAL: {T.PARTIAL, T.FILLED, T.CANCELLED, T.EXPIRED_UNMATCHED},
    T.FILLED: {T.TP_HIT, T.CL_HIT},
    T.OUTCOME_UNKNOWN: {T.OPEN, T.PARTIAL, T.FILLED, T.FAILED, T.PENDING, T.EXPIRED_UNMATCHED,
                        T.CANCELLED},
}


def can_move(frm: TaskState, to: TaskState) -> bool:
    return to in MOVES.get(frm, set())


class IllegalMove(Exception):
    pass


def check_move(task_id: str, frm: TaskState, to: TaskState) -> None:
    if frm != to and not can_move(frm, to):
        raise IllegalMove(f"task {task_id}: {frm.value} -> {to.value} is not a lifecycle move")


def entry_state(status: OrderStatus, filled: int, lot: int) -> TaskState | None:
    """The task state an entry order's broker status implies (None: decided elsewhere)."""
    if status == OrderStatus.MATCHED or filled >= lot:
        return T.FILLED
    if status == OrderStatus.PARTIAL or (status == OrderStatus.OPEN and filled > 0):
        return T.PARTIAL
    if status == OrderStatus.OPEN:
        return T.OPEN
    if status in (OrderStatus.EXPIRED, OrderStatus.WITHDRAWN):
        return None   # expired at the close, or cancelled: the caller knows which it asked for
    if status == OrderStatus.REJECTED:
        return T.FAILED
    return None


# Order rows: what the robot knows about one attempt.
ORDER_LIVE = ("INTENT", "CLICKED", "CONFIRMED", "OPEN", "PARTIAL", "UNKNOWN")
ORDER_UNCONFIRMED = ("INTENT", "CLICKED", "UNKNOWN")
