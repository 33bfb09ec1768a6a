"""Task and order lifecycles (pure: no I/O). The engine may only make the moves listed here.

A task is one user intention: buy ``lot`` lots of ``emiten`` at ``price``, then take profit at
``tp`` or cut the loss at ``cl``. Each attempt to place an order for it is one row in ``orders``,
whose ``status`` (an OrderState) has its own table of moves; the store refuses any other.
"""

from __future__ import annotations

import enum

from adapters.base import OrderStatus

from .errors import IllegalMove


class TaskState(enum.StrEnum):
    PENDING = "PENDING"  # accepted, waiting for a phase that allows orders
    SUBMITTING = "SUBMITTING"  # an intent is committed; the order is being placed
    OPEN = "OPEN"  # confirmed in the broker's open orders
    PARTIAL = "PARTIAL"  # some lots filled
    FILLED = "FILLED"  # every lot filled; holding until TP or CL
    TP_HIT = "TP_HIT"
    CL_HIT = "CL_HIT"
    EXPIRED_UNMATCHED = (
        "EXPIRED_UNMATCHED"  # day order withdrawn at the close (lots_filled says how much)
    )
    FAILED = "FAILED"  # reason + last_error; never reached a fill
    CANCELLED = "CANCELLED"
    OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"  # may or may not be at the broker: not resent
    DRY_RUN = "DRY_RUN"  # everything but the submit click

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = {
    TaskState.TP_HIT,
    TaskState.CL_HIT,
    TaskState.EXPIRED_UNMATCHED,
    TaskState.FAILED,
    TaskState.CANCELLED,
    TaskState.DRY_RUN,
}
# FILLED is not terminal during the day (an exit may still come); at the close a FILLED task
# without an exit is reported as holding. OUTCOME_UNKNOWN waits for a human or a late read-back.

T = TaskState
MOVES: dict[TaskState, set[TaskState]] = {
    T.PENDING: {T.SUBMITTING, T.FAILED, T.CANCELLED, T.EXPIRED_UNMATCHED},
    T.SUBMITTING: {
        T.PENDING,
        T.OPEN,
        T.PARTIAL,
        T.FILLED,
        T.FAILED,
        T.OUTCOME_UNKNOWN,
        T.DRY_RUN,
        T.CANCELLED,
        T.EXPIRED_UNMATCHED,
    },
    T.OPEN: {T.PARTIAL, T.FILLED, T.CANCELLED, T.EXPIRED_UNMATCHED, T.FAILED},
    T.PARTIAL: {T.PARTIAL, T.FILLED, T.CANCELLED, T.EXPIRED_UNMATCHED},
    T.FILLED: {T.TP_HIT, T.CL_HIT},
    T.OUTCOME_UNKNOWN: {
        T.OPEN,
        T.PARTIAL,
        T.FILLED,
        T.FAILED,
        T.PENDING,
        T.EXPIRED_UNMATCHED,
        T.CANCELLED,
    },
}


def can_move(frm: TaskState, to: TaskState) -> bool:
    return to in MOVES.get(frm, set())


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
        return None  # expired at the close, or cancelled: the caller knows which it asked for
    if status == OrderStatus.REJECTED:
        return T.FAILED
    return None


# ------------------------------------------------------------------------------ order rows
class OrderState(enum.StrEnum):
    """What the robot knows about one order attempt (``orders.status``, docs/STATE.md). The
    broker's own statuses (adapters.base.OrderStatus) are a subset, recorded as read back."""

    INTENT = "INTENT"  # committed before the submit click; no click recorded yet
    CLICKED = "CLICKED"  # recorded right before the click; not yet read back
    CONFIRMED = "CONFIRMED"  # found at the broker (read-back records the broker's status)
    OPEN = "OPEN"  # --- the broker's statuses, as read back ---
    PARTIAL = "PARTIAL"
    MATCHED = "MATCHED"
    WITHDRAWN = "WITHDRAWN"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  # ---
    UNKNOWN = "UNKNOWN"  # may or may not be at the broker: never resent by itself
    NOT_SENT = "NOT_SENT"  # established that it never reached the broker
    DRY_RUN = "DRY_RUN"  # the form was filled, the submit never clicked

    @classmethod
    def of(cls, status: OrderStatus) -> OrderState:
        """The row status recording what the broker showed."""
        return cls(status.value)

    @property
    def terminal(self) -> bool:
        return not ORDER_MOVES.get(self)


O = OrderState  # noqa: E741 - the state tables' short name, as T is TaskState's
BROKER_SEEN = {O.of(s) for s in OrderStatus}  # what a read-back or a poll can record
ORDER_MOVES: dict[OrderState, set[OrderState]] = {
    # the click is recorded before it is made; a check right before it withholds the click
    # (NOT_SENT); a dry run stops before it; a refusal before the final click (a wrong trading
    # PIN) is the broker's REJECTED; an intent found at the broker by reconciliation is adopted
    O.INTENT: {O.CLICKED, O.NOT_SENT, O.DRY_RUN, O.CONFIRMED} | BROKER_SEEN,
    # read back (the broker's status, REJECTED included: an error toast), or not found after
    # the grace: UNKNOWN
    O.CLICKED: {O.CONFIRMED, O.UNKNOWN} | BROKER_SEEN,
    # a late read-back adopts it; resubmit_unknown settles it as never sent to send it again
    O.UNKNOWN: {O.CONFIRMED, O.NOT_SENT} | BROKER_SEEN,
    # at the broker: each poll records what the broker shows, whatever it is (the broker is
    # the truth about its own book, e.g. an OPEN row with fills after a PARTIAL one)
    O.CONFIRMED: set(BROKER_SEEN),
    O.OPEN: set(BROKER_SEEN),
    O.PARTIAL: set(BROKER_SEEN),
    # MATCHED, WITHDRAWN, REJECTED, EXPIRED, NOT_SENT and DRY_RUN are final: no move out
}
ORDER_LIVE = (O.INTENT, O.CLICKED, O.CONFIRMED, O.OPEN, O.PARTIAL, O.UNKNOWN)  # v_open_orders
ORDER_UNCONFIRMED = (O.INTENT, O.CLICKED, O.UNKNOWN)  # to reconcile before a resend
ORDER_AT_BROKER = (O.CONFIRMED, O.OPEN, O.PARTIAL)  # live at the broker, id known


def can_move_order(frm: OrderState, to: OrderState) -> bool:
    return to in ORDER_MOVES.get(frm, set())


def check_order_move(order_id: int, frm: OrderState, to: OrderState) -> None:
    """Refuse a status change the table does not list (staying in a status is no move)."""
    if frm != to and not can_move_order(frm, to):
        raise IllegalMove(f"order {order_id}: {frm.value} -> {to.value} is not an order move")
