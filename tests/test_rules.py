"""IDX price and quantity rules: tick bands, the grid, ARA/ARB limits and order validation.

Expected values are computed by hand from docs (/work/shared/reference/idx-market-rules.md):
tick < 200 -> 1, 200-499 -> 2, 500-1,999 -> 5, 2,000-4,999 -> 10, >= 5,000 -> 25; ARA +35 % for a
previous close of 50-200, +25 % for >200-5,000, +20 % above 5,000; ARB -15 %; limits snapped inward
to the grid and never below Rp50.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings, strategies as st

from robot.rules import (
    ARB_PCT,
    LOT_SHARES,
    MAX_LOTS,
    MIN_LOTS,
    MIN_PRICE,
    add_ticks,
    on_tick,
    price_limits,
    snap_down,
    snap_up,
    tick_size,
    ticks_between,
    validate_order,
)


def test_constants_match_the_reference():
    assert LOT_SHARES == 100
    assert (MIN_LOTS, MAX_LOTS) == (1, 50_000)
    assert MIN_PRICE == 50
    assert ARB_PCT == 15


# --- tick bands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price, tick",
    [
        (0, 1),
        (1, 1),
        (49, 1),
        (50, 1),
        (199, 1),
        (200, 2),
        (201, 2),
        (499, 2),
        (500, 5),
        (501, 5),
        (1995, 5),
        (1999, 5),
        (2000, 10),
        (2001, 10),
        (4990, 10),
        (4999, 10),
        (5000, 25),
        (5001, 25),
        (100_000, 25),
    ],
)
def test_tick_size_at_every_band_boundary(price, tick):
    assert tick_size(price) == tick


def test_tick_size_rejects_negative_prices():
    with pytest.raises(ValueError):
        tick_size(-1)


@pytest.mark.parametrize(
    "price, expected",
    [
        (0, False),
        (1, True),
        (49, True),
        (50, True),
        (199, True),
        (200, True),
        (201, False),
        (202, True),
        (498, True),
        (499, False),
        (500, True),
        (502, False),
        (505, True),
        (1995, True),
        (1998, False),
        (1999, False),
        (2000, True),
        (2005, False),
        (2010, True),
        (4990, True),
        (4995, False),
        (4999, False),
        (5000, True),
        (5010, False),
        (5020, False),
        (5025, True),
        (5050, True),
    ],
)
def test_on_tick(price, expected):
    assert on_tick(price) is expected


# --- snapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price, down, up",
    [
        (1, 1, 1),
        (49, 49, 49),
        (50, 50, 50),
        (199, 199, 199),
        (200, 200, 200),
        (201, 200, 202),
        (202, 202, 202),
        (499, 498, 500),  # 499 is in the 2-tick band; its upper neighbour starts the 5 band
        (500, 500, 500),
        (501, 500, 505),
        (504, 500, 505),
        (1995, 1995, 1995),
        (1996, 1995, 2000),
        (1999, 1995, 2000),
        (2000, 2000, 2000),
        (2001, 2000, 2010),
        (2009, 2000, 2010),
        (4990, 4990, 4990),
        (4991, 4990, 5000),
        (4999, 4990, 5000),
        (5000, 5000, 5000),
        (5001, 5000, 5025),
        (5024, 5000, 5025),
        (5026, 5025, 5050),
    ],
)
def test_snap_down_and_up_on_integers(price, down, up):
    assert snap_down(price) == down
    assert snap_up(price) == up


@pytest.mark.parametrize(
    "price, down, up",
    [
        (Fraction(1, 3), 0, 1),
        (Fraction(399, 2), 199, 200),  # 199.5
        (Fraction(401, 2), 200, 202),  # 200.5
        (Fraction(999, 2), 498, 500),  # 499.5
        (Fraction(1001, 2), 500, 505),  # 500.5
        (Fraction(9999, 2), 4990, 5000),  # 4999.5
        (Fraction(10001, 2), 5000, 5025),  # 5000.5
    ],
)
def test_snap_down_and_up_on_fractions(price, down, up):
    assert snap_down(price) == down
    assert snap_up(price) == up


# --- moving along the grid -------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, n, end",
    [
        (500, 0, 500),
        (199, 1, 200),
        (198, 3, 202),  # 198 -> 199 -> 200 -> 202
        (498, 1, 500),
        (496, 3, 505),  # 496 -> 498 -> 500 -> 505
        (1995, 1, 2000),
        (1990, 3, 2010),  # 1990 -> 1995 -> 2000 -> 2010
        (4990, 1, 5000),
        (4980, 4, 5050),  # 4980 -> 4990 -> 5000 -> 5025 -> 5050
        (49, 1, 50),
        (50, -1, 49),
    ],
)
def test_add_ticks_up_across_band_boundaries(start, n, end):
    assert add_ticks(start, n) == end
    assert add_ticks(end, -n) == start


@pytest.mark.parametrize(
    "start, n, end",
    [
        (200, -1, 199),
        (202, -3, 198),  # 202 -> 200 -> 199 -> 198
        (500, -1, 498),
        (505, -3, 496),
        (2000, -1, 1995),
        (2010, -3, 1990),
        (5000, -1, 4990),
        (5050, -4, 4980),
    ],
)
def test_add_ticks_down_across_band_boundaries(start, n, end):
    assert add_ticks(start, n) == end
    assert add_ticks(end, -n) == start


@pytest.mark.parametrize(
    "low, high, n",
    [
        (200, 200, 0),
        (199, 200, 1),
        (198, 202, 3),
        (498, 500, 1),
        (200, 500, 150),
        (498, 2000, 301),
        (4990, 5050, 3),
    ],
)
def test_ticks_between(low, high, n):
    assert ticks_between(low, high) == n
    assert add_ticks(low, n) == high


# --- ARA / ARB ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prev_close, arb, ara",
    [
        # prev close 50-200: ARA +35 %
        (50, 50, 67),  # ARB 42.5 -> floor at the minimum price 50; ARA 67.5 -> 67
        (58, 50, 78),  # ARB 49.3 -> snapped up to 50; ARA 78.3 -> 78
        (59, 51, 79),  # ARB 50.15 -> 51 (inward = up); ARA 79.65 -> 79 (inward = down)
        (148, 126, 199),  # ARA 199.8 -> 199
        (149, 127, 200),  # ARA 201.15 lies in the 2-tick band -> 200
        (199, 170, 268),  # ARB 169.15 -> 170; ARA 268.65 -> 268
        (200, 170, 270),  # 200 is still in the +35 % band: ARA exactly 270
        # prev close >200-5,000: ARA +25 %
        (201, 171, 250),  # ARB 170.85 -> 171; ARA 251.25 -> 250 (2-tick grid)
        (202, 172, 252),  # ARB 171.7 -> 172; ARA 252.5 -> 252
        (500, 426, 625),  # ARB 425 is off the 2-tick grid -> 426
        (1995, 1700, 2490),  # ARB 1695.75 -> 1700 (5-tick); ARA 2493.75 -> 2490 (10-tick)
        (2000, 1700, 2500),
        (2350, 2000, 2930),  # ARB 1997.5 -> 2000; ARA 2937.5 -> 2930
        (4000, 3400, 5000),
        (4010, 3410, 5000),  # ARB 3408.5 -> 3410; ARA 5012.5 -> 5000 (25-tick grid)
        (4990, 4250, 6225),  # ARB 4241.5 -> 4250; ARA 6237.5 -> 6225
        (5000, 4250, 6250),  # 5,000 is still in the +25 % band
        # prev close >5,000: ARA +20 %
        (5001, 4260, 6000),  # ARB 4250.85 -> 4260; ARA 6001.2 -> 6000
        (5025, 4280, 6025),  # ARB 4271.25 -> 4280; ARA 6030 -> 6025
    ],
)
def test_price_limits_hand_computed(prev_close, arb, ara):
    assert price_limits(prev_close) == (arb, ara)


@pytest.mark.parametrize("prev_close", [0, -1])
def test_price_limits_reject_non_positive_previous_close(prev_close):
    with pytest.raises(ValueError):
        price_limits(prev_close)


# --- validate_order -------------------------------------------------------------------------


def _matching(reasons: list[str], *words: str) -> list[str]:
    return [r for r in reasons if all(w in r for w in words)]


def _assert_reasons(reasons: list[str], *expected: tuple[str, ...]) -> None:
    """Exactly one reason per expected word-tuple, and no other reasons."""
    assert len(reasons) == len(expected), reasons
    for words in expected:
        assert len(_matching(reasons, *words)) == 1, (words, reasons)


def test_valid_order_has_no_reasons():
    assert validate_order(1000, 10) == []
    assert validate_order(1000, 10, tp=1005, cl=995, prev_close=1000) == []
    assert validate_order(1000, 10, tp=1250, cl=850, prev_close=1000) == []  # tp at ARA, cl at ARB
    assert validate_order(850, 1, prev_close=1000) == []  # price at ARB
    assert validate_order(1250, MAX_LOTS, prev_close=1000) == []  # price at ARA
    assert validate_order(MIN_PRICE, MIN_LOTS, tp=51) == []


def test_every_reason_is_reported_at_once():
    reasons = validate_order(503, 0, tp=503, cl=503, prev_close=1000)  # limits 850 .. 1250
    _assert_reasons(
        reasons,
        ("price 503", "off the tick grid", "500", "505"),
        ("lot 0", "outside"),
        ("tp 503", "must be above"),
        ("cl 503", "must be below"),
        ("price 503", "outside today's limits", "850", "1250"),
        ("cl 503", "below ARB 850"),
    )


def test_tp_above_ara_and_cl_below_arb_are_reported_together_with_lot():
    reasons = validate_order(1000, 50_001, tp=1255, cl=845, prev_close=1000)
    _assert_reasons(
        reasons,
        ("lot 50001", "outside"),
        ("tp 1255", "above ARA 1250"),
        ("cl 845", "below ARB 850"),
    )


def test_price_above_ara_and_below_arb():
    _assert_reasons(validate_order(1255, 1, prev_close=1000), ("price 1255", "outside today's"))
    _assert_reasons(validate_order(845, 1, prev_close=1000), ("price 845", "outside today's"))


def test_off_tick_tp_and_cl():
    reasons = validate_order(1000, 1, tp=1002, cl=998)
    _assert_reasons(reasons, ("tp 1002", "off the tick grid"), ("cl 998", "off the tick grid"))


@pytest.mark.parametrize(
    "lot, ok", [(-1, False), (0, False), (1, True), (50_000, True), (50_001, False)]
)
def test_lot_bounds(lot, ok):
    reasons = validate_order(1000, lot)
    if ok:
        assert reasons == []
    else:
        _assert_reasons(reasons, (f"lot {lot}", "outside 1..50000"))


def test_tp_equal_to_price_and_cl_equal_to_price_are_rejected():
    _assert_reasons(validate_order(1000, 1, tp=1000), ("tp 1000", "must be above"))
    _assert_reasons(validate_order(1000, 1, cl=1000), ("cl 1000", "must be below"))
    _assert_reasons(validate_order(1000, 1, tp=995), ("tp 995", "must be above"))
    _assert_reasons(validate_order(1000, 1, cl=1005), ("cl 1005", "must be below"))


def test_price_and_cl_below_the_minimum_price():
    _assert_reasons(validate_order(49, 1), ("price 49", "below the minimum price 50"))
    _assert_reasons(validate_order(60, 1, cl=49), ("cl 49", "below the minimum price 50"))


def test_negative_prices_give_reasons_instead_of_raising():
    # Regression: a negative tp above a negative price used to reach tick_size(tp) and raise.
    reasons = validate_order(-5, 1, tp=-3, cl=-7)
    _assert_reasons(
        reasons,
        ("price -5", "below the minimum price"),
        ("tp -3", "below the minimum price"),
        ("cl -7", "below the minimum price"),
    )


def test_non_integer_types_are_each_reported():
    reasons = validate_order(1000.0, "1", tp=Fraction(1005), cl=True)
    _assert_reasons(
        reasons,
        ("price", "whole number", "1000.0"),
        ("lot", "whole number", "'1'"),
        ("tp", "whole number", "Fraction"),
        ("cl", "whole number", "True"),
    )


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"price": True, "lot": 1}, "price"),
        ({"price": 1000, "lot": True}, "lot"),  # True == 1, but a bool is not a lot count
        ({"price": 1000, "lot": 1, "tp": True}, "tp"),
        ({"price": 1000, "lot": 1, "cl": False}, "cl"),
    ],
)
def test_bools_are_not_whole_numbers(kwargs, field):
    _assert_reasons(validate_order(**kwargs), (field, "must be a whole number"))


def test_float_lot_that_equals_an_integer_is_still_rejected():
    _assert_reasons(validate_order(1000, 1.0), ("lot", "whole number"))


# --- properties -----------------------------------------------------------------------------

grid_prices = st.integers(min_value=1, max_value=200_000).map(snap_down)
tradable_prev_close = st.integers(min_value=MIN_PRICE, max_value=200_000).map(snap_down)


@given(st.integers(min_value=1, max_value=200_000))
def test_snapped_integers_are_on_tick_and_bracket_the_price(p):
    down, up = snap_down(p), snap_up(p)
    assert on_tick(down) and on_tick(up)
    assert down <= p <= up
    if on_tick(p):
        assert down == p == up


@given(st.fractions(min_value=1, max_value=200_000))
def test_snapped_fractions_are_on_tick_and_tight(x):
    down, up = snap_down(x), snap_up(x)
    assert on_tick(down) and on_tick(up)
    assert down <= x <= up
    # Tight: no grid price lies strictly between the snapped value and x.
    assert add_ticks(down, 1) > x
    if up > 1:
        assert add_ticks(up, -1) < x


@settings(deadline=None)
@given(
    st.integers(min_value=MIN_PRICE, max_value=200_000).map(snap_down),
    st.integers(min_value=-40, max_value=40),
)
def test_add_ticks_round_trips_on_the_grid(p, n):
    moved = add_ticks(p, n)
    assert on_tick(moved)
    assert add_ticks(moved, -n) == p
    if n >= 0:
        assert ticks_between(p, moved) == n
    else:
        assert ticks_between(moved, p) == -n


@settings(deadline=None)
@given(tradable_prev_close)
def test_price_limits_are_on_tick_inward_and_contain_the_previous_close(prev):
    arb, ara = price_limits(prev)
    pct = 35 if prev <= 200 else 25 if prev <= 5000 else 20
    exact_ara = Fraction(prev * (100 + pct), 100)
    exact_arb = Fraction(prev * (100 - ARB_PCT), 100)
    assert on_tick(arb) and on_tick(ara)
    assert arb >= MIN_PRICE
    assert arb <= prev <= ara
    # Inward and as wide as possible: one tick further out would cross the exact limit.
    assert ara <= exact_ara < add_ticks(ara, 1)
    assert arb >= exact_arb
    assert arb == MIN_PRICE or add_ticks(arb, -1) < exact_arb


@settings(deadline=None)
@given(tradable_prev_close, st.data())
def test_grid_price_inside_limits_with_tp_cl_one_tick_away_validates(prev, data):
    arb, ara = price_limits(prev)
    n = ticks_between(arb, ara)
    assume(n >= 2)
    price = add_ticks(arb, data.draw(st.integers(min_value=1, max_value=n - 1)))
    lot = data.draw(st.integers(min_value=MIN_LOTS, max_value=MAX_LOTS))
    tp, cl = add_ticks(price, 1), add_ticks(price, -1)
    assert arb <= cl < price < tp <= ara
    assert validate_order(price, lot, tp=tp, cl=cl, prev_close=prev) == []


@given(st.integers(min_value=200, max_value=200_000).map(snap_down))
def test_one_unit_off_the_grid_is_rejected_where_tick_exceeds_one(p):
    assert tick_size(p) > 1
    off = [p + 1] + ([p - 1] if p != 200 else [])  # 199 is on the 1-tick grid below 200
    for q in off:
        assert not on_tick(q)
        reasons = validate_order(q, 1)
        _assert_reasons(reasons, (f"price {q}", "off the tick grid"))
