"""What a skin's table pages show: the rows of open orders, history and portfolio, as cell texts.

The one copy of the cell formatting: the server-rendered page and a live page's long-poll JSON
(simulator/live.py) both take their rows from here, so a row re-rendered by the page's script
reads exactly like the same row after a reload.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from robot.clock import iso

from .ledger import Order
from .market import Market
from .skins import Column, SkinSpec

TABLE_PAGES = ("open_orders", "other_orders", "history", "portfolio")


def columns_of(spec: SkinSpec, page: str) -> tuple[Column, ...]:
    if page == "history":
        return spec.history_columns
    if page == "portfolio":
        return spec.portfolio_columns
    return spec.open_columns


def has_cancel(page: str) -> bool:
    """The live-order pages have a cancel button in each row."""
    return page in ("open_orders", "other_orders")


def cell(spec: SkinSpec, order: Order, key: str) -> str:
    values: dict[str, Callable[[], str]] = {
        "order_id": lambda: order.order_id,
        "time": lambda: order.time.strftime("%H:%M:%S"),
        "emiten": lambda: order.emiten,
        "side": lambda: spec.side_labels[order.side],
        "price": lambda: spec.fmt(order.price),
        "lot": lambda: spec.fmt(order.lots),
        "shares": lambda: spec.fmt((order.lots or 0) * 100),
        "filled": lambda: spec.fmt(order.filled_lots),
        "status": lambda: spec.status_labels.get(order.status, order.status.title()),
        "parent": lambda: order.parent_id or "",
    }
    return values[key]()


def table_rows(
    spec: SkinSpec, market: Market, page: str, account: str, now: datetime
) -> list[dict[str, Any]]:
    """The rows of a table page: ``order_id`` (the row's key: an order id, or the emiten on
    the portfolio), ``cells`` (texts in column order) and ``cancel_url``. Lock held."""
    if page == "portfolio":
        return _portfolio_rows(spec, market, account, now)
    orders = (
        market.history(spec.name, account, now)
        if page == "history"
        else market.open_orders(spec.name, account)
    )
    if page != "history" and spec.open_side:
        orders = [o for o in orders if (o.side == spec.open_side) == (page == "open_orders")]
    columns = columns_of(spec, page)
    return [
        {
            "order_id": o.order_id,
            "cells": [cell(spec, o, c.key) for c in columns],
            "cancel_url": f"{spec.path('open_orders')}/{o.order_id}/cancel",
        }
        for o in orders
    ]


def _portfolio_rows(
    spec: SkinSpec, market: Market, account: str, now: datetime
) -> list[dict[str, Any]]:
    fmt = spec.fmt
    rows = []
    for code, pos, last in market.holdings(spec.name, account, now):
        values = {
            "emiten": code,
            "lot": fmt(pos.lots),
            "shares": fmt(pos.lots * 100),
            "avg_price": fmt(pos.avg_price),
            "last_price": fmt(last),
        }
        rows.append(
            {
                "order_id": code,
                "cancel_url": "",
                "cells": [values[c.key] for c in spec.portfolio_columns],
            }
        )
    return rows


def updated_text(spec: SkinSpec, now: datetime) -> str:
    """The human half of a live page's ``#last-updated`` (at load and on every poll answer)."""
    return f"{spec.updated_label} {now.strftime('%H:%M:%S')} WIB"


def updated_iso(now: datetime) -> str:
    """``data-updated`` of ``#last-updated``: the simulator's clock, ISO 8601 with the offset."""
    return iso(now)
