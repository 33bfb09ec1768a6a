"""The market model: order entry checks, minute-by-minute limit matching, native TP/CL, expiry.

Time only moves forward in whole simulated minutes. ``advance(now)`` processes every minute start
up to ``now`` in order, so the outcome depends on the clock alone, not on how often anyone asks.
An order takes part in the minute it was entered in (immediately, against that minute's price
and leftover volume) and in every later minute start. Fills are at the order's limit price; a
cut-loss exit sells at the market price when the price gapped below the cut-loss. Not
thread-safe: the server's lock guards every call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from robot import rules
from robot.calendar import Phase, can_submit, can_withdraw, phase_at
from robot.clock import WIB, to_wib

from .faults import Faults
from .ledger import ERROR, EXPIRED, MATCHED, OPEN, PARTIAL, REJECTED, WITHDRAWN, Fill, Ledger, Order
from .prices import PriceModel, floor_minute
from .scenario import EmitenSpec, Scenario

CLOSE = time(16, 0)  # day orders expire here; native TP/CL watches lapse
DEFAULT_ERROR_TOAST = "Service temporarily unavailable, please try again"
DEFAULT_REJECT = "Order rejected by the exchange"


@dataclass
class OrderRequest:
    """What a broker form submitted, already parsed; ``parse_error`` if a field was unreadable."""

    emiten: str
    side: str  # "buy" | "sell"
    price: int | None
    lots: int | None
    tp: int | None = None
    cl: int | None = None
    parse_error: str | None = None


@dataclass
class Outcome:
    ok: bool  # success toast (True) or error toast (False)
    message: str
    order: Order | None = None


@dataclass
class Position:
    lots: int
    avg_price: int


@dataclass
class Portfolio:
    holdings: dict[str, Position] = field(default_factory=dict)
    cash: int | None = None  # None: no trading limit


@dataclass(frozen=True)
class Quote:
    emiten: str
    last: int
    prev_close: int
    arb: int
    ara: int


def close_of(dt: datetime) -> datetime:
    return datetime.combine(dt.date(), CLOSE, WIB)


def _closed_message(phase: Phase) -> str:
    if phase is Phase.LUNCH_BREAK:
        return "Market is closed for the lunch break"
    if phase is Phase.CLOSED:
        return "Market is closed"
    return f"Market is closed for new orders ({phase.value.replace('_', ' ')})"


class Market:
    def __init__(self, scenario: Scenario, ledger: Ledger, faults: Faults, start: datetime) -> None:
        self.scenario = scenario
        self.prices = PriceModel(scenario.seed, scenario.emitens)
        self.ledger = ledger
        self.faults = faults
        self.cursor = floor_minute(to_wib(start))
        self.portfolios: dict[tuple[str, str], Portfolio] = {}
        self.active: dict[str, Order] = {}  # live orders and armed TP/CL parents
        self.armed_at: dict[str, datetime] = {}
        self.volume_left: dict[tuple[str, datetime, str], int] = {}
        self.submits: Counter[tuple[str, str]] = Counter()
        # What a live page's long poll waits on: per (skin, account), bumped by every change of
        # that account's orders (submit, fill, partial fill, cancel, expiry, native exit).
        self.versions: Counter[tuple[str, str]] = Counter()
        # Called (lock held) after any change a page could show: an order of any account, or
        # a new market minute (the portfolio's last prices). The state wakes long polls with it.
        self.on_change: Callable[[], None] | None = None

    def _changed(self, order: Order) -> None:
        self.versions[(order.skin, order.account)] += 1
        if self.on_change is not None:
            self.on_change()

    def _minute_passed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def minute_index(self) -> int:
        """Whole minutes since the epoch at the market's cursor: moves with the last prices."""
        return int(self.cursor.timestamp()) // 60

    # -- prices ----------------------------------------------------------------------------------

    def add_emiten(self, code: str, prev_close: int, volume: int | None = None) -> None:
        self.prices.add(EmitenSpec(code, prev_close, volume))

    def last_price(self, code: str, dt: datetime) -> int:
        override = self.faults.price_override(code, dt)
        return override if override is not None else self.prices.base_price(code, dt)

    def quote(self, code: str, now: datetime) -> Quote | None:
        if not self.prices.known(code):
            return None
        arb, ara = self.prices.limits(code)
        return Quote(code, self.last_price(code, now), self.prices.prev_close(code), arb, ara)

    # -- time ------------------------------------------------------------------------------------

    def advance(self, now: datetime) -> None:
        """Process every minute start after the cursor up to ``now``."""
        target = floor_minute(to_wib(now))
        if self.cursor >= target:
            return
        while self.cursor < target:
            if not self.active:
                self.cursor = target  # nothing can change: skip idle stretches at once
                break
            self.cursor += timedelta(minutes=1)
            self._tick(self.cursor)
        self._minute_passed()

    def _tick(self, t: datetime) -> None:
        self._expire(t)
        if not phase_at(t).is_continuous:
            return
        self.volume_left = {k: v for k, v in self.volume_left.items() if k[1] >= t}
        for order in sorted(self.active.values(), key=lambda o: (o.time, int(o.order_id))):
            if order.live and order.time < t:
                self._match(order, t, t)
        for order in list(self.active.values()):
            if order.tp_cl_state == "armed" and self.armed_at[order.order_id] < t:
                self._check_exit(order, t)

    def _expire(self, t: datetime) -> None:
        for order in list(self.active.values()):
            if t < close_of(order.time):
                continue
            if order.live:
                order.status = EXPIRED
                if order.tp_cl_state == "pending":
                    order.tp_cl_state = "cancelled"
            elif order.tp_cl_state == "armed":
                order.tp_cl_state = "lapsed"
            order.updated_at = t
            self.active.pop(order.order_id, None)
            self._changed(order)

    # -- matching --------------------------------------------------------------------------------

    def _match(self, order: Order, minute: datetime, when: datetime) -> None:
        assert order.price is not None
        price = self.last_price(order.emiten, minute)
        crosses = price <= order.price if order.side == "buy" else price >= order.price
        if not crosses:
            return
        key = (order.emiten, minute, order.side)
        avail = self.volume_left.get(key, self.prices.volume(order.emiten))
        qty = min(order.remaining, avail)
        if order.fill_cap is not None:
            qty = min(qty, order.fill_cap - order.filled_lots)
        if qty <= 0:
            return
        self.volume_left[key] = avail - qty
        self._fill(order, qty, order.price, when)

    def _fill(self, order: Order, lots: int, price: int, when: datetime) -> None:
        order.fills.append(Fill(when, lots, price))
        order.updated_at = when
        order.status = MATCHED if order.remaining == 0 else PARTIAL
        self._book(order, lots, price)
        self._changed(order)
        if order.status != MATCHED:
            return
        if order.tp_cl_state == "pending":
            order.tp_cl_state = "armed"
            self.armed_at[order.order_id] = when
        else:
            self.active.pop(order.order_id, None)

    def _book(self, order: Order, lots: int, price: int) -> None:
        pf = self.portfolio(order.skin, order.account)
        value = lots * rules.LOT_SHARES * price
        pos = pf.holdings.get(order.emiten)
        if order.side == "buy":
            if pos is None:
                pf.holdings[order.emiten] = Position(lots, price)
            else:
                total = pos.lots + lots
                pos.avg_price = round((pos.lots * pos.avg_price + lots * price) / total)
                pos.lots = total
            if pf.cash is not None:
                pf.cash -= value
        else:
            if pos is not None:
                pos.lots -= lots
                if pos.lots <= 0:
                    del pf.holdings[order.emiten]
            if pf.cash is not None:
                pf.cash += value

    def _check_exit(self, buy: Order, t: datetime) -> None:
        """Native TP/CL: a sell at TP, or at the market when the price fell to the CL."""
        price = self.last_price(buy.emiten, t)
        if buy.tp is not None and price >= buy.tp:
            kind, limit, fill_price = "tp", buy.tp, buy.tp
        elif buy.cl is not None and price <= buy.cl:
            kind, limit, fill_price = "cl", buy.cl, price
        else:
            return
        self.active.pop(buy.order_id, None)
        buy.updated_at = t
        self._changed(buy)
        if self.faults.forgets_exit(buy.skin, buy.account, buy.emiten, t):
            buy.tp_cl_state = "forgotten"  # the broker's watch fires and places nothing
            return
        lots = min(buy.lots or 0, self.free_lots(buy.skin, buy.account, buy.emiten))
        buy.tp_cl_state = kind if lots > 0 else "cancelled"  # sold by hand meanwhile
        if lots <= 0:
            return
        exit_order = Order(
            self.ledger.next_id(),
            buy.account,
            buy.skin,
            buy.emiten,
            "sell",
            limit,
            lots,
            t,
            OPEN,
            parent_id=buy.order_id,
            exit_kind=kind,
        )
        self.ledger.add(exit_order)
        self._fill(exit_order, lots, fill_price, t)

    # -- accounts --------------------------------------------------------------------------------

    def portfolio(self, skin: str, account: str) -> Portfolio:
        key = (skin, account)
        if key not in self.portfolios:
            spec = self.scenario.accounts.get(account)
            pf = Portfolio()
            if spec is not None and spec.broker in (None, skin):
                pf.holdings = {c: Position(h.lots, h.avg_price) for c, h in spec.holdings.items()}
                pf.cash = spec.trading_limit
            self.portfolios[key] = pf
        return self.portfolios[key]

    def free_lots(self, skin: str, account: str, code: str) -> int:
        pos = self.portfolio(skin, account).holdings.get(code)
        held = pos.lots if pos else 0
        selling = sum(
            o.remaining
            for o in self.active.values()
            if o.live
            and o.side == "sell"
            and o.skin == skin
            and o.account == account
            and o.emiten == code
        )
        return held - selling

    def buying_power(self, skin: str, account: str) -> int | None:
        cash = self.portfolio(skin, account).cash
        if cash is None:
            return None
        reserved = sum(
            o.remaining * rules.LOT_SHARES * (o.price or 0)
            for o in self.active.values()
            if o.live and o.side == "buy" and o.skin == skin and o.account == account
        )
        return cash - reserved

    # -- order entry -----------------------------------------------------------------------------

    def submit(
        self, skin: str, account: str, req: OrderRequest, now: datetime, native_tp_cl: bool
    ) -> Outcome:
        now = to_wib(now)
        self.advance(now)
        self.submits[(skin, account)] += 1
        fault = self.faults.submit_fault(
            skin, account, req.emiten, self.submits[(skin, account)], now
        )
        ui_error = None
        if fault is not None and fault.kind == "error_toast":
            message = fault.message or DEFAULT_ERROR_TOAST
            if not fault.placed:
                self._record(skin, account, req, now, ERROR, message, visible=False)
                return Outcome(False, message)
            ui_error = message  # the nasty one: error shown, order placed anyway
        if not native_tp_cl:
            req.tp = req.cl = None  # no such fields on this broker's form
        reason = self._rejection(skin, account, req, now)
        if reason is None and fault is not None and fault.kind == "reject":
            reason = fault.message or DEFAULT_REJECT
        if reason is not None:
            order = self._record(skin, account, req, now, REJECTED, reason)
            return Outcome(False, f"Order rejected: {reason}", order)
        order = self._record(skin, account, req, now, OPEN, None, ui_error=ui_error)
        order.fill_cap = self.faults.fill_cap(skin, account, req.emiten, now)
        if req.side == "buy" and (req.tp is not None or req.cl is not None):
            order.tp_cl_state = "pending"
        self.active[order.order_id] = order
        if phase_at(now).is_continuous:
            self._match(order, floor_minute(now), now)
        if ui_error is not None:
            return Outcome(False, ui_error, order)
        return Outcome(True, f"Order {order.order_id} placed", order)

    def _record(
        self,
        skin: str,
        account: str,
        req: OrderRequest,
        now: datetime,
        status: str,
        reason: str | None,
        visible: bool = True,
        ui_error: str | None = None,
    ) -> Order:
        order = Order(
            self.ledger.next_id(),
            account,
            skin,
            req.emiten,
            req.side,
            req.price,
            req.lots,
            now,
            status,
            tp=req.tp,
            cl=req.cl,
            reason=reason,
            ui_error=ui_error,
            visible=visible,
        )
        self.ledger.add(order)
        self._changed(order)
        return order

    def _rejection(self, skin: str, account: str, req: OrderRequest, now: datetime) -> str | None:
        phase = phase_at(now)
        if not can_submit(phase):
            return _closed_message(phase)
        if req.parse_error:
            return req.parse_error
        if not req.emiten or not self.prices.known(req.emiten):
            return f"Stock {req.emiten or '(empty)'} not found"
        assert req.price is not None and req.lots is not None
        return (
            self._price_lot_rejection(req)
            or self._tp_cl_rejection(req)
            or self._funds_rejection(skin, account, req)
        )

    def _price_lot_rejection(self, req: OrderRequest) -> str | None:
        price, lots = req.price, req.lots
        assert price is not None and lots is not None
        if not rules.MIN_LOTS <= lots <= rules.MAX_LOTS:
            return f"Invalid lot {lots}: must be between {rules.MIN_LOTS} and {rules.MAX_LOTS:,}"
        if price < rules.MIN_PRICE:
            return f"Invalid price {price}: minimum price is {rules.MIN_PRICE}"
        if not rules.on_tick(price):
            return f"Invalid price {price}: price must be a multiple of {rules.tick_size(price)}"
        arb, ara = self.prices.limits(req.emiten)
        if price > ara:
            return f"Price {price} is above the auto rejection limit (ARA {ara})"
        if price < arb:
            return f"Price {price} is below the auto rejection limit (ARB {arb})"
        return None

    def _tp_cl_rejection(self, req: OrderRequest) -> str | None:
        if req.side != "buy":
            return None
        assert req.price is not None
        arb, ara = self.prices.limits(req.emiten)
        if req.tp is not None:
            if req.tp <= req.price:
                return f"Take profit {req.tp} must be higher than the order price {req.price}"
            if not rules.on_tick(req.tp) or req.tp > ara:
                return f"Invalid take profit price {req.tp}"
        if req.cl is not None:
            if req.cl >= req.price:
                return f"Cut loss {req.cl} must be lower than the order price {req.price}"
            if req.cl < rules.MIN_PRICE or not rules.on_tick(req.cl) or req.cl < arb:
                return f"Invalid cut loss price {req.cl}"
        return None

    def _funds_rejection(self, skin: str, account: str, req: OrderRequest) -> str | None:
        assert req.price is not None and req.lots is not None
        if req.side == "sell":
            free = self.free_lots(skin, account, req.emiten)
            if req.lots > free:
                return (
                    f"Insufficient shares: {max(free, 0)} lot(s) of {req.emiten} available to sell"
                )
            return None
        power = self.buying_power(skin, account)
        if power is not None and req.lots * rules.LOT_SHARES * req.price > power:
            return "Insufficient trading limit"
        return None

    def cancel(self, skin: str, account: str, order_id: str, now: datetime) -> Outcome:
        now = to_wib(now)
        self.advance(now)
        order = self.ledger.get(order_id)
        if order is None or order.skin != skin or order.account != account or not order.visible:
            return Outcome(False, f"Order {order_id} not found")
        if not order.live:
            return Outcome(
                False, f"Order {order_id} cannot be withdrawn: it is {order.status.lower()}", order
            )
        if not can_withdraw(phase_at(now)):
            return Outcome(False, "Market is closed: orders cannot be withdrawn now", order)
        order.status = WITHDRAWN
        order.updated_at = now
        if order.tp_cl_state == "pending":
            order.tp_cl_state = "cancelled"
        self.active.pop(order.order_id, None)
        self._changed(order)
        return Outcome(True, f"Order {order_id} withdrawn", order)

    # -- views -----------------------------------------------------------------------------------

    def open_orders(self, skin: str, account: str) -> list[Order]:
        rows = [o for o in self.ledger.of(skin, account) if o.live and o.visible]
        return sorted(rows, key=lambda o: int(o.order_id), reverse=True)

    def history(self, skin: str, account: str, now: datetime) -> list[Order]:
        day = to_wib(now).date()
        rows = [o for o in self.ledger.of(skin, account) if o.visible and o.time.date() == day]
        return sorted(rows, key=lambda o: int(o.order_id), reverse=True)

    def holdings(self, skin: str, account: str, now: datetime) -> list[tuple[str, Position, int]]:
        pf = self.portfolio(skin, account)
        return [
            (code, pos, self.last_price(code, now) if self.prices.known(code) else pos.avg_price)
            for code, pos in sorted(pf.holdings.items())
        ]
