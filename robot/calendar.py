"""The IDX trading calendar and intraday phases (pure: the closure list is package data).

Facts from IDX Rule II-A (Kep-00003/BEI/04-2025) and the 2026 calendar (Peng-00171/BEI.POP/09-2025);
see docs and ``data/idx_calendar.yaml``. Phases are half-open intervals [start, next start) in WIB.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Iterable

import yaml

from .clock import WIB, to_wib


class Phase(str, enum.Enum):
    CLOSED = "closed"                                  # before 08:45 and after 16:15, or no trading
    PRE_OPENING = "pre_opening"                        # order entry, call auction
    PRE_OPENING_NO_CANCEL = "pre_opening_no_cancel"    # new orders yes, amend/withdraw no
    PRE_OPENING_MATCHING = "pre_opening_matching"      # no entry, no amend, withdraw allowed
    SESSION_1 = "session_1"
    LUNCH_BREAK = "lunch_break"
    SESSION_2 = "session_2"
    PRE_CLOSING = "pre_closing"                        # order entry for the closing auction
    PRE_CLOSING_NO_CANCEL = "pre_closing_no_cancel"    # 15:56: no amend/withdraw
    PRE_CLOSING_RANDOM_CLOSE = "pre_closing_random_close"  # 15:58: the auction may close any second
    PRE_CLOSING_MATCHING = "pre_closing_matching"
    POST_CLOSING = "post_closing"                      # trades at the closing price only

    @property
    def is_continuous(self) -> bool:
        """Continuous matching against the order book."""
        return self in (Phase.SESSION_1, Phase.SESSION_2)


# What the robot allows itself in each phase. Pre-closing entry is legal at IDX, but an order sent
# into the closing auction cannot get its TP/CL managed before the close, so the robot does not.
_SUBMIT = {Phase.PRE_OPENING, Phase.PRE_OPENING_NO_CANCEL, Phase.SESSION_1, Phase.SESSION_2}
_WITHDRAW = {Phase.PRE_OPENING, Phase.PRE_OPENING_MATCHING, Phase.SESSION_1, Phase.SESSION_2,
             Phase.PRE_CLOSING}
_AMEND = {Phase.PRE_OPENING, Phase.SESSION_1, Phase.SESSION_2, Phase.PRE_CLOSING}


def can_submit(phase: Phase) -> bool:
    return phase in _SUBMIT


def can_withdraw(phase: Phase) -> bool:
    return phase in _WITHDRAW


def can_amend(phase: Phase) -> bool:
    return phase in _AMEND


@dataclass(frozen=True)
class PhaseSpan:
    phase: Phase
    start: datetime
    end: datetime  # exclusive

    def __contains__(self, dt: datetime) -> bool:
        return self.start <= dt < self.end


def _t(hhmm: str) -> time:
    h, m = hhmm.split(":")
    return time(int(h), int(m))


# (phase, start) for Monday-Thursday and Friday; each phase ends where the next starts.
_MON_THU = [
    (Phase.PRE_OPENING, "08:45"), (Phase.PRE_OPENING_NO_CANCEL, "08:56"),
    (Phase.PRE_OPENING_MATCHING, "08:58"), (Phase.SESSION_1, "09:00"),
    (Phase.LUNCH_BREAK, "12:00"), (Phase.SESSION_2, "13:30"), (Phase.PRE_CLOSING, "15:50"),
    (Phase.PRE_CLOSING_NO_CANCEL, "15:56"), (Phase.PRE_CLOSING_RANDOM_CLOSE, "15:58"),
    (Phase.PRE_CLOSING_MATCHING, "16:00"), (Phase.POST_CLOSING, "16:02"), (Phase.CLOSED, "16:15"),
]
_FRIDAY = [(p, {"12:00": "11:30", "13:30": "14:00"}.get(s, s)) for p, s in _MON_THU]


@lru_cache(maxsize=None)
def _closures() -> dict[int, dict]:
    text = resources.files("robot").joinpath("data/idx_calendar.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {int(year): {"source": body["source"], "trading_days": body.get("trading_days"),
                        "closures": {d: str(n) for d, n in body["closures"].items()}}
            for year, body in raw.items()}


def known_years() -> list[int]:
    return sorted(_closures())


def closure_reason(day: date, extra_holidays: Iterable[date] = ()) -> str | None:
    """Why the regular market is closed on ``day``, or None on a trading day."""
    if day.weekday() == 5:
        return "Saturday"
    if day.weekday() == 6:
        return "Sunday"
    if day in set(extra_holidays):
        return "extra closure from settings.extra_holidays"
    year = _closures().get(day.year)
    if year and day in year["closures"]:
        return f"IDX closure: {year['closures'][day]}"
    return None


def is_trading_day(day: date, extra_holidays: Iterable[date] = ()) -> bool:
    return closure_reason(day, extra_holidays) is None


def trading_days(year: int, extra_holidays: Iterable[date] = ()) -> list[date]:
    extra = set(extra_holidays)
    d, out = date(year, 1, 1), []
    while d.year == year:
        if is_trading_day(d, extra):
            out.append(d)
        d += timedelta(days=1)
    return out


def day_phases(day: date) -> list[PhaseSpan]:
    """The phases of a trading day from the pre-opening to the end of post-closing (16:15)."""
    table = _FRIDAY if day.weekday() == 4 else _MON_THU
    spans = []
    for (phase, start), (_, end) in zip(table, table[1:]):
        spans.append(PhaseSpan(phase, datetime.combine(day, _t(start), WIB),
                               datetime.combine(day, _t(end), WIB)))
    return spans


def phase_at(dt: datetime, extra_holidays: Iterable[date] = ()) -> Phase:
    dt = to_wib(dt)
    if not is_trading_day(dt.date(), extra_holidays):
        return Phase.CLOSED
    for span in day_phases(dt.date()):
        if dt in span:
            return span.phase
    return Phase.CLOSED


def next_change(dt: datetime) -> datetime | None:
    """When the phase after ``dt`` starts on the same day, or None after the last one."""
    dt = to_wib(dt)
    for span in day_phases(dt.date()):
        if span.start > dt:
            return span.start
        if dt in span:
            return span.end
    return None


def market_open(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), WIB)


def market_close(day: date) -> datetime:
    """End of continuous trading for the robot's purposes: the pre-closing starts (15:50)."""
    return datetime.combine(day, time(15, 50), WIB)
