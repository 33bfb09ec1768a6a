"""The ledger: every order the simulated brokers saw, the ground truth tests count duplicates in.

Accepted orders, broker rejections (``rejected``) and UI errors that placed nothing (status ERROR,
``visible`` False: they never show in the broker's tables) all get an entry. Passwords and PINs
never reach this module.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

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
    side: str                        # "buy" | "sell"
    price: int | None
    lots: int | None
    time: datetime
    status: str
    tp: int | None = None
    cl: int | None = None
    parent_id: str | None = None     # native TP/CL exits point at their buy
    exit_kind: str | None = None     # "tp" | "cl" for native exits
    reason: str | None = None        # the broker's rejection / error text
    ui_error: str | None = None      # an error toast shown although the order was placed
    visible: bool = True
    fills: list[Fill] = field(default_factory=list)
    fill_cap: int | None = None      # scenario partial_fill / no_fill: most lots that may fill
    tp_cl_state: str | None = None   # pending, armed, tp, cl, lapsed, cancelled, forgotten
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
            "order_id": self.order_id, "account": self.account, "broker": self.skin,
            "emiten": self.emiten, "side": self.side, "price": self.price, "lots": self.lots,
            "time": iso(self.time), "status": self.status, "filled_lots": self.filled_lots,
            "fills": [f.to_json() for f in self.fills], "tp": self.tp, "cl": self.cl,
            "parent_id": self.parent_id, "exit_kind": self.exit_kind,
            "rejected": self.rejected, "reason": self.reason, "ui_error": self.ui_error,
            "visible": self.visible, "tp_cl_state": self.tp_cl_state,
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
        return (o for o in self.orders.values()
                if (account is None or o.account == account) and (skin is None or o.skin == skin))

    def to_json(self, account: str | None = None, skin: str | None = None) -> list[dict[str, Any]]:
        return [o.to_json() for o in self.select(account, skin)]
