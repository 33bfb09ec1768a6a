"""Task and order lifecycles, pure (robot/orders.py): the tables of allowed moves.

The store enforces both tables (robot/store/tasks.py), so every move the engine makes in
test_engine.py and test_engine_e2e.py is also checked there; here the tables themselves.
"""

from __future__ import annotations

import pytest

from adapters.base import OrderStatus
from robot.errors import IllegalMove
from robot.orders import (
    BROKER_SEEN,
    ORDER_AT_BROKER,
    ORDER_LIVE,
    ORDER_MOVES,
    ORDER_UNCONFIRMED,
    OrderState as O,
    TaskState as T,
    can_move_order,
    check_move,
    check_order_move,
)

FINAL = {O.MATCHED, O.WITHDRAWN, O.REJECTED, O.EXPIRED, O.NOT_SENT, O.DRY_RUN}
BROKER = [O.of(s) for s in OrderStatus]

# Every status change the engine makes (robot/engine.py), with where it makes it.
ENGINE_MOVES = [
    (O.INTENT, O.CLICKED),  # place(): before_click, right before the click
    (O.INTENT, O.NOT_SENT),  # the click withheld; reconcile: never clicked, not found
    (O.INTENT, O.DRY_RUN),  # a dry run stops before the click
    (O.INTENT, O.REJECTED),  # refused before the final click (a wrong trading PIN)
    (O.CLICKED, O.UNKNOWN),  # not found after the grace, or at the close
    (O.UNKNOWN, O.NOT_SENT),  # resubmit_unknown: settled so that it is sent again
    *[(O.INTENT, b) for b in BROKER],  # reconcile adopts an intent found at the broker
    *[(O.CLICKED, b) for b in BROKER],  # the read-back after the toast, or reconcile
    *[(O.UNKNOWN, b) for b in BROKER],  # a late read-back
    *[(live, b) for live in (O.CONFIRMED, O.OPEN, O.PARTIAL) for b in BROKER],  # each poll
]


@pytest.mark.parametrize("frm, to", ENGINE_MOVES, ids=lambda s: s.value)
def test_every_move_the_engine_makes_is_allowed(frm, to):
    assert can_move_order(frm, to)
    check_order_move(1, frm, to)


@pytest.mark.parametrize("frm", sorted(FINAL), ids=lambda s: s.value)
def test_nothing_leaves_a_final_status(frm):
    assert frm.terminal
    for to in O:
        if to != frm:
            with pytest.raises(IllegalMove, match=f"order 7: {frm.value} -> {to.value}"):
                check_order_move(7, frm, to)


@pytest.mark.parametrize(
    "frm, to",
    [
        (O.CLICKED, O.INTENT),
        (O.UNKNOWN, O.CLICKED),
        (O.OPEN, O.CLICKED),
        (O.CLICKED, O.NOT_SENT),  # a click happened: only a read-back or UNKNOWN settles it
        (O.OPEN, O.UNKNOWN),
        (O.PARTIAL, O.NOT_SENT),
        (O.CLICKED, O.DRY_RUN),
        (O.OPEN, O.INTENT),
    ],
    ids=lambda s: s.value,
)
def test_moves_the_engine_never_makes_are_refused(frm, to):
    assert not can_move_order(frm, to)
    with pytest.raises(IllegalMove):
        check_order_move(3, frm, to)


def test_the_table_is_exactly_the_engine_moves():
    """Nothing allowed that the engine does not do, except CONFIRMED (documented in STATE.md,
    recorded by no adapter today) as a read-back target."""
    listed = {(frm, to) for frm, tos in ORDER_MOVES.items() for to in tos if frm != to}
    confirmed = {(frm, O.CONFIRMED) for frm in (O.INTENT, O.CLICKED, O.UNKNOWN)}
    assert listed - confirmed == {m for m in ENGINE_MOVES if m[0] != m[1]}


def test_staying_in_a_status_is_no_move():
    for s in O:
        check_order_move(1, s, s)  # e.g. OPEN with more lots filled, UNKNOWN at the close


def test_the_row_status_families():
    assert set(BROKER) == BROKER_SEEN and set(O) == BROKER_SEEN | {
        O.INTENT,
        O.CLICKED,
        O.CONFIRMED,
        O.UNKNOWN,
        O.NOT_SENT,
        O.DRY_RUN,
    }
    assert set(ORDER_UNCONFIRMED) | set(ORDER_AT_BROKER) == set(ORDER_LIVE)
    assert not set(ORDER_LIVE) & FINAL
    assert "OPEN" in ORDER_LIVE  # rows hold text: the enum compares equal to it


def test_task_moves_are_checked_the_same_way():
    check_move("T1", T.PENDING, T.SUBMITTING)
    check_move("T1", T.PARTIAL, T.PARTIAL)
    with pytest.raises(IllegalMove, match="task T1: FILLED -> PENDING"):
        check_move("T1", T.FILLED, T.PENDING)
