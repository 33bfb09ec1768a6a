"""Intraday price paths on the IDX tick grid: seeded random walks or scripted points.

Pure functions of (seed, date, emiten, minute): the same scenario gives the same prices whatever
the request pattern, in every process. Prices only move during continuous sessions and never
leave the day's ARB..ARA band.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time
from functools import lru_cache
from itertools import pairwise

from robot import rules
from robot.calendar import Phase, day_phases, is_trading_day

from .scenario import EmitenSpec, PricePath

# Previous closes of a small default universe, so tests and ad-hoc orders need no scenario.
DEFAULT_UNIVERSE: dict[str, int] = {
    "BBCA": 9800,
    "BBRI": 4200,
    "BMRI": 6000,
    "BBNI": 4500,
    "TLKM": 2700,
    "ASII": 5100,
    "UNVR": 1900,
    "ICBP": 11000,
    "INDF": 6500,
    "KLBF": 1500,
    "ANTM": 1500,
    "ADRO": 2500,
    "PGAS": 1600,
    "MDKA": 2300,
    "GOTO": 70,
    "BRIS": 2800,
    "AMMN": 8000,
    "CPIN": 4800,
}
DEFAULT_VOLUME = 5000  # lots per minute and side, unless the scenario says otherwise
MINUTES_PER_DAY = 24 * 60


def floor_minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def _minute_of(t: time) -> int:
    return t.hour * 60 + t.minute


@lru_cache(maxsize=64)
def _continuous_minutes(day: date) -> frozenset[int]:
    """Minutes of the day (0..1439) that fall in a continuous session."""
    if not is_trading_day(day):
        return frozenset()
    out: set[int] = set()
    for span in day_phases(day):
        if span.phase in (Phase.SESSION_1, Phase.SESSION_2):
            out.update(range(_minute_of(span.start.time()), _minute_of(span.end.time())))
    return frozenset(out)


@lru_cache(maxsize=512)
def random_walk(seed: int, day: date, code: str, prev_close: int) -> tuple[int, ...]:
    """The price at each minute of ``day``: a +-1 tick walk during continuous sessions."""
    rng = random.Random(f"{seed}|{day.isoformat()}|{code}")
    arb, ara = rules.price_limits(prev_close)
    moving = _continuous_minutes(day)
    price, out = prev_close, []
    for minute in range(MINUTES_PER_DAY):
        if minute in moving:
            step = rng.choices((-1, 0, 1), weights=(3, 4, 3))[0]
            price = min(max(rules.add_ticks(price, step), arb), ara)
        out.append(price)
    return tuple(out)


def scripted(path: PricePath, prev_close: int, t: time) -> int:
    """The scripted price at ``t``: prev_close before the first point, then hold or step."""
    points = path.points
    if t < points[0][0]:
        return prev_close
    for (t0, p0), (t1, p1) in pairwise(points):
        if t0 <= t < t1:
            if path.mode == "hold" or p0 == p1:
                return p0
            return _step_between(
                p0, p1, _minute_of(t) - _minute_of(t0), _minute_of(t1) - _minute_of(t0)
            )
    return points[-1][1]


def _step_between(p0: int, p1: int, elapsed: int, total: int) -> int:
    """Walk the grid from p0 toward p1 in equal tick steps over ``total`` minutes."""
    n = rules.ticks_between(min(p0, p1), max(p0, p1))
    k = n * elapsed // total
    return rules.add_ticks(p0, k if p1 > p0 else -k)


class PriceModel:
    """Prices of every known emiten; scenario emitens override the default universe."""

    def __init__(self, seed: int, emitens: dict[str, EmitenSpec]) -> None:
        self.seed = seed
        self.specs: dict[str, EmitenSpec] = {
            code: EmitenSpec(code, prev) for code, prev in DEFAULT_UNIVERSE.items()
        }
        self.specs.update(emitens)

    def known(self, code: str) -> bool:
        return code in self.specs

    def add(self, spec: EmitenSpec) -> None:
        self.specs[spec.code] = spec

    def prev_close(self, code: str) -> int:
        return self.specs[code].prev_close

    def limits(self, code: str) -> tuple[int, int]:
        return rules.price_limits(self.prev_close(code))

    def volume(self, code: str) -> int:
        v = self.specs[code].volume
        return DEFAULT_VOLUME if v is None else v

    def base_price(self, code: str, dt: datetime) -> int:
        """The path's price during the minute containing ``dt`` (WIB)."""
        spec = self.specs[code]
        if spec.path is not None:
            return scripted(spec.path, spec.prev_close, floor_minute(dt).time())
        walk = random_walk(self.seed, dt.date(), code, spec.prev_close)
        return walk[_minute_of(dt.time())]
