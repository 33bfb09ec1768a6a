"""The ledger: every order the simulated brokers saw, the ground truth tests count duplicates in.

Accepted orders, broker rejections (``rejected``) and UI errors that placed nothing (status ERROR,
``visible`` False: they never show in the broker's tables) all get an entry. Passwords and PINs
never reach this module.

``ledger_outcome`` and ``compare_with_ledger`` read the ledger's rows (``Order.to_json``, what
``SimServer.ledger()`` returns): the one judgement of what a task's outcome is at the broker,
used by the demo at run time and by the end-to-end tests and benchmarks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from robot.clock import iso

OPEN, PARTIAL, MATCHED = "OPEN", "PARTIAL", "MATCHED"
WITHDRAWN, REJECTED, EXPIRED, ERROR = "WITHDRAWN", "REJECTED", "EXPIRED", "ERROR"
LIVE = (OPEN, PARTIAL)
STATUSES = (OPEN, PARTIAL, MATCHED, WITHDRAWN, REJECTED, EXPIRED, ERROR)


@dataclass
class Fill:
    time: datetime
    lots: int
    price: int

    def to_json(self) -> dict[str, Any]:
        return {"time": iso(self.time), "lots": self.lots, "price": self.price}


@dataclass
class Order:
    order_id: str
    account: str
    skin: str
    emiten: str
    side: str  # "buy" | "sell"
    price: int | None
    lots: int | None
    time: datetime
    status: str
    tp: int | None = None
    cl: int | None = None
    parent_id: str | None = None  # native TP/CL exits point at their buy
    exit_kind: str | None = None  # "tp" | "cl" for native exits
    reason: str | None = None  # the broker's rejection / error text
    ui_error: str | None = None  # an error toast shown although the order was placed
    visible: bool = True
    fills: list[Fill] = field(default_factory=list)
    fill_cap: int | None = None  # scenario partial_fill / no_fill: most lots that may fill
    tp_cl_state: str | None = None  # pending, armed, tp, cl, lapsed, cancelled, forgotten
    updated_at: datetime | None = None

    @property
    def filled_lots(self) -> int:
        return sum(f.lots for f in self.fills)

    @property
    def remaining(self) -> int:
        return (self.lots or 0) - self.filled_lots

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def rejected(self) -> bool:
        return self.status in (REJECTED, ERROR)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "account": self.account,
            "broker": self.skin,
            "emiten": self.emiten,
            "side": self.side,
            "price": self.price,
            "lots": self.lots,
            "time": iso(self.time),
            "status": self.status,
            "filled_lots": self.filled_lots,
            "fills": [f.to_json() for f in self.fills],
            "tp": self.tp,
            "cl": self.cl,
            "parent_id": self.parent_id,
            "exit_kind": self.exit_kind,
            "rejected": self.rejected,
            "reason": self.reason,
            "ui_error": self.ui_error,
            "visible": self.visible,
            "tp_cl_state": self.tp_cl_state,
            "updated_at": iso(self.updated_at or self.time),
        }


class Ledger:
    """Orders by id, in entry order. Not thread-safe: the server's lock guards it."""

    def __init__(self, first_id: int = 100001) -> None:
        self._ids = itertools.count(first_id)
        self.orders: dict[str, Order] = {}

    def next_id(self) -> str:
        return str(next(self._ids))

    def add(self, order: Order) -> Order:
        self.orders[order.order_id] = order
        return order

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def live(self) -> list[Order]:
        return [o for o in self.orders.values() if o.live]

    def armed(self) -> list[Order]:
        return [o for o in self.orders.values() if o.tp_cl_state == "armed"]

    def of(self, skin: str, account: str) -> list[Order]:
        return [o for o in self.orders.values() if o.skin == skin and o.account == account]

    def select(self, account: str | None = None, skin: str | None = None) -> Iterable[Order]:
        return (
            o
            for o in self.orders.values()
            if (account is None or o.account == account) and (skin is None or o.skin == skin)
        )

    def to_json(self, account: str | None = None, skin: str | None = None) -> list[dict[str, Any]]:
        return [o.to_json() for o in self.select(account, skin)]


# ---------------------------------------------------------------- judging from the ledger's rows
def ledger_outcome(buy: dict, ledger: list[dict]) -> str:
    """The outcome the broker's ledger shows for one accepted buy order (the ground truth for
    its task): TP_HIT or CL_HIT when a sell of it matched, else FILLED, EXPIRED_UNMATCHED or the
    buy's own status."""
    exits = [
        o
        for o in ledger
        if o["side"] == "sell"
        and o["account"] == buy["account"]
        and o["emiten"] == buy["emiten"]
        and o["status"] == MATCHED
        and o.get("parent_id") in (None, buy["order_id"])
    ]
    if exits:
        return "TP_HIT" if exits[0]["price"] > buy["price"] else "CL_HIT"
    if buy["status"] == MATCHED:
        return "FILLED"
    if buy["status"] in (EXPIRED, WITHDRAWN):
        return "EXPIRED_UNMATCHED"
    return buy["status"]


def compare_with_ledger(
    tasks: list[dict], orders: list[dict], ledger: list[dict], report: dict
) -> list[str]:
    """Every disagreement between the robot's outcome per task and the broker's ledger."""
    problems = []
    by_id = {o["order_id"]: o for o in ledger}
    accepted_buys = [o for o in ledger if o["side"] == "buy" and not o["rejected"]]
    counts: dict[tuple, int] = {}
    for o in accepted_buys:
        same = (o["account"], o["emiten"], o["price"], o["lots"])
        counts[same] = counts.get(same, 0) + 1
    for same, n in counts.items():
        if n > 1:
            problems.append(f"{n} orders at the broker for {same}: a duplicate")
    claimed = set()
    for t in tasks:
        entry = next(
            (
                o
                for o in orders
                if o["task_id"] == t["task_id"] and o["purpose"] == "entry" and o["broker_order_id"]
            ),
            None,
        )
        buy = by_id.get(entry["broker_order_id"]) if entry else None
        if buy is None or buy["rejected"]:
            if t["state"] not in ("FAILED", "CANCELLED", "DRY_RUN", "OUTCOME_UNKNOWN"):
                problems.append(f"task {t['task_id']} is {t['state']} but the broker has no order")
            continue
        claimed.add(buy["order_id"])
        outcome = ledger_outcome(buy, ledger)
        if outcome != t["state"]:
            problems.append(f"task {t['task_id']}: robot says {t['state']}, ledger says {outcome}")
        if buy["filled_lots"] != t["lots_filled"]:
            problems.append(
                f"task {t['task_id']}: robot has {t['lots_filled']} lots filled, "
                f"ledger {buy['filled_lots']}"
            )
    for o in accepted_buys:
        if o["order_id"] not in claimed:
            problems.append(
                f"ledger order {o['order_id']} ({o['account']} {o['emiten']}) belongs to no task"
            )
    s = report["summary"]
    for key, state in (
        ("tp_hit", "TP_HIT"),
        ("cl_hit", "CL_HIT"),
        ("expired_unmatched", "EXPIRED_UNMATCHED"),
    ):
        from_ledger = sum(1 for o in accepted_buys if ledger_outcome(o, ledger) == state)
        if s[key] != from_ledger:
            problems.append(f"report {key} = {s[key]}, ledger shows {from_ledger}")
    return problems
