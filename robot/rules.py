"""IDX price and quantity rules (pure functions, integer rupiah, integer lots).

Tick sizes: Kep-00023/BEI/04-2016. ARA/ARB: asymmetric limits in force since 8 April 2025.
"""

from __future__ import annotations

from fractions import Fraction

LOT_SHARES = 100
MIN_LOTS = 1
MAX_LOTS = 50_000
MIN_PRICE = 50  # main, development and new economy boards
# No IDX share trades near this; above it a price is a typo, and price x lot x 100 must stay within
# SQLite's 64-bit integers (a larger Python int cannot even be stored).
MAX_PRICE = 1_000_000_000

# (lower bound inclusive, tick) from the top band down
_TICK_BANDS = [(5000, 25), (2000, 10), (500, 5), (200, 2), (0, 1)]


def tick_size(price: int) -> int:
    """The tick of the band the price itself falls in (499 -> 2, 500 -> 5)."""
    for lower, tick in _TICK_BANDS:
        if price >= lower:
            return tick
    raise ValueError(f"price must be non-negative, got {price}")


def on_tick(price: int) -> bool:
    return price > 0 and price % tick_size(price) == 0


def snap_down(price: Fraction | int) -> int:
    """The highest price on the tick grid at or below ``price``."""
    p = int(price)  # floor for positive values
    return p - p % tick_size(p)


def snap_up(price: Fraction | int) -> int:
    """The lowest price on the tick grid at or above ``price``."""
    p = -(-Fraction(price).numerator // Fraction(price).denominator)  # ceil
    rem = p % tick_size(p)
    return p if rem == 0 else p + tick_size(p) - rem


def ticks_between(low: int, high: int) -> int:
    """How many ticks separate two grid prices (low <= high)."""
    n, p = 0, low
    while p < high:
        p += tick_size(p)
        n += 1
    return n


def add_ticks(price: int, n: int) -> int:
    """Move ``n`` ticks up (n > 0) or down (n < 0) along the grid."""
    p = price
    for _ in range(abs(n)):
        if n > 0:
            p += tick_size(p)
        else:
            p -= tick_size(p - 1)
    return p


def _ara_pct(prev_close: int) -> int:
    if prev_close <= 200:
        return 35
    if prev_close <= 5000:
        return 25
    return 20


ARB_PCT = 15


def price_limits(prev_close: int) -> tuple[int, int]:
    """(ARB, ARA): the lowest and highest price accepted today, snapped inward to the grid."""
    if prev_close < 1:
        raise ValueError(f"previous close must be positive, got {prev_close}")
    ara = snap_down(Fraction(prev_close * (100 + _ara_pct(prev_close)), 100))
    arb = snap_up(Fraction(prev_close * (100 - ARB_PCT), 100))
    return max(arb, MIN_PRICE), ara


def validate_order(
    price: int,
    lot: int,
    tp: int | None = None,
    cl: int | None = None,
    prev_close: int | None = None,
) -> list[str]:
    """Every reason a buy order with optional take-profit and cut-loss is invalid; [] if valid."""
    reasons: list[str] = []
    for name, value in (("price", price), ("lot", lot), ("tp", tp), ("cl", cl)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            reasons.append(f"{name} must be a whole number, got {value!r}")
    if reasons:
        return reasons
    for name, value in (("price", price), ("tp", tp), ("cl", cl), ("prev_close", prev_close)):
        if value is not None and value > MAX_PRICE:
            reasons.append(f"{name} {value} is above the maximum price {MAX_PRICE:,}")
    if prev_close is not None and prev_close > MAX_PRICE:
        prev_close = None
    if price < MIN_PRICE:
        reasons.append(f"price {price} is below the minimum price {MIN_PRICE}")
    elif not on_tick(price):
        reasons.append(
            f"price {price} is off the tick grid (tick {tick_size(price)} in its band; "
            f"nearest {snap_down(price)} or {snap_up(price)})"
        )
    if not MIN_LOTS <= lot <= MAX_LOTS:
        reasons.append(f"lot {lot} is outside {MIN_LOTS}..{MAX_LOTS}")
    if tp is not None:
        if tp <= price:
            reasons.append(f"tp {tp} must be above price {price}")
        elif tp < MIN_PRICE:
            reasons.append(f"tp {tp} is below the minimum price {MIN_PRICE}")
        elif not on_tick(tp):
            reasons.append(f"tp {tp} is off the tick grid (tick {tick_size(tp)})")
    if cl is not None:
        if cl >= price:
            reasons.append(f"cl {cl} must be below price {price}")
        elif cl < MIN_PRICE:
            reasons.append(f"cl {cl} is below the minimum price {MIN_PRICE}")
        elif not on_tick(cl):
            reasons.append(f"cl {cl} is off the tick grid (tick {tick_size(cl)})")
    if prev_close is not None:
        arb, ara = price_limits(prev_close)
        if not arb <= price <= ara:
            reasons.append(
                f"price {price} is outside today's limits ARB {arb} .. ARA {ara} "
                f"(previous close {prev_close})"
            )
        if tp is not None and tp > ara:
            reasons.append(f"tp {tp} is above ARA {ara}: it cannot fill today")
        if cl is not None and cl < arb:
            reasons.append(f"cl {cl} is below ARB {arb}: it cannot trigger today")
    return reasons
