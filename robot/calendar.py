"""The IDX trading calendar and intraday phases (pure: the closure lists are data, read once).

Facts from IDX Rule II-A (Kep-00003/BEI/04-2025) and the 2026 calendar (Peng-00171/BEI.POP/09-2025);
see docs/CALENDAR.md and ``data/idx_calendar.yaml``. Phases are half-open intervals
[start, next start) in WIB.

A year's closures come from the user's copy of the exchange's list (settings.calendar_file), else
the exchange's list shipped here, else a *provisional* list from the ``holidays`` package (public
holidays and known collective leave) plus IDX's 31 December closure. A ``Calendar`` built once
from the config carries that choice and settings.extra_holidays to every call site.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from itertools import pairwise

import yaml

from .clock import WIB, to_wib


class Phase(enum.StrEnum):
    CLOSED = "closed"  # before 08:45 and after 16:15, or no trading
    PRE_OPENING = "pre_opening"  # order entry, call auction
    PRE_OPENING_NO_CANCEL = "pre_opening_no_cancel"  # new orders yes, amend/withdraw no
    PRE_OPENING_MATCHING = "pre_opening_matching"  # no entry, no amend, withdraw allowed
    SESSION_1 = "session_1"
    LUNCH_BREAK = "lunch_break"
    SESSION_2 = "session_2"
    PRE_CLOSING = "pre_closing"  # order entry for the closing auction
    PRE_CLOSING_NO_CANCEL = "pre_closing_no_cancel"  # 15:56: no amend/withdraw
    PRE_CLOSING_RANDOM_CLOSE = "pre_closing_random_close"  # 15:58: the auction may close any second
    PRE_CLOSING_MATCHING = "pre_closing_matching"
    POST_CLOSING = "post_closing"  # trades at the closing price only

    @property
    def is_continuous(self) -> bool:
        """Continuous matching against the order book."""
        return self in (Phase.SESSION_1, Phase.SESSION_2)


# What the robot allows itself in each phase. Pre-closing entry is legal at IDX, but an order sent
# into the closing auction cannot get its TP/CL managed before the close, so the robot does not.
_SUBMIT = {Phase.PRE_OPENING, Phase.PRE_OPENING_NO_CANCEL, Phase.SESSION_1, Phase.SESSION_2}
_WITHDRAW = {
    Phase.PRE_OPENING,
    Phase.PRE_OPENING_MATCHING,
    Phase.SESSION_1,
    Phase.SESSION_2,
    Phase.PRE_CLOSING,
}
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
    (Phase.PRE_OPENING, "08:45"),
    (Phase.PRE_OPENING_NO_CANCEL, "08:56"),
    (Phase.PRE_OPENING_MATCHING, "08:58"),
    (Phase.SESSION_1, "09:00"),
    (Phase.LUNCH_BREAK, "12:00"),
    (Phase.SESSION_2, "13:30"),
    (Phase.PRE_CLOSING, "15:50"),
    (Phase.PRE_CLOSING_NO_CANCEL, "15:56"),
    (Phase.PRE_CLOSING_RANDOM_CLOSE, "15:58"),
    (Phase.PRE_CLOSING_MATCHING, "16:00"),
    (Phase.POST_CLOSING, "16:02"),
    (Phase.CLOSED, "16:15"),
]
_FRIDAY = [(p, {"12:00": "11:30", "13:30": "14:00"}.get(s, s)) for p, s in _MON_THU]


# ------------------------------------------------------------------------------- closure lists
YEAR_END_CLOSURE = "Exchange holiday (year-end, IDX only)"
PACKAGED, USER, HOLIDAYS, NONE = "exchange", "user", "holidays", "none"  # YearList.origin


@dataclass(frozen=True)
class YearList:
    """One year's closures besides Saturdays and Sundays, and where they come from.

    ``origin`` is PACKAGED (the exchange's announcement shipped in data/idx_calendar.yaml), USER
    (the exchange's list as the user copied it into settings.calendar_file), HOLIDAYS (no
    exchange list: Indonesia's holidays from the ``holidays`` package plus IDX's year-end closure)
    or NONE (nothing known: weekends only). The last two are provisional."""

    year: int
    source: str
    closures: dict[date, str] = field(default_factory=dict, hash=False)
    trading_days: int | None = None  # the count the source states, when it states one
    origin: str = PACKAGED

    @property
    def provisional(self) -> bool:
        return self.origin in (HOLIDAYS, NONE)

    @property
    def short_source(self) -> str:
        return {
            PACKAGED: "packaged IDX list",
            USER: "settings.calendar_file",
            HOLIDAYS: "holidays package",
            NONE: "no list, weekends only",
        }[self.origin]

    def describe(self) -> str:
        """One line for logs and reports: the year, PROVISIONAL when it is, and the source."""
        mark = "PROVISIONAL, " if self.provisional else ""
        return f"IDX calendar {self.year} ({mark}{self.short_source}): {self.source}"

    def as_report(self) -> dict:
        return {
            "year": self.year,
            "provisional": self.provisional,
            "origin": self.origin,
            "source": self.source,
        }


def count_trading_days(year: int, closures: Iterable[date]) -> int:
    """Weekdays of ``year`` that are not in ``closures`` (what an exchange list's count means)."""
    closed = set(closures)
    d, n = date(year, 1, 1), 0
    while d.year == year:
        n += d.weekday() < 5 and d not in closed
        d += timedelta(days=1)
    return n


@cache
def _packaged() -> dict[int, YearList]:
    text = resources.files("robot").joinpath("data/idx_calendar.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {
        int(year): YearList(
            int(year),
            body["source"],
            {d: str(n) for d, n in body["closures"].items()},
            body.get("trading_days"),
            PACKAGED,
        )
        for year, body in raw.items()
    }


@cache
def _fallback(year: int) -> YearList:
    """A provisional list for a year without the exchange's: Indonesia's public holidays and the
    collective leave (cuti bersama) the package knows -- the exchange closes on both, as in every
    list it published -- on weekdays, plus the exchange's own 31 December closure."""
    import holidays  # imported only when a year has no exchange list

    country = holidays.Indonesia
    if not country.start_year <= year <= country.end_year:
        return YearList(
            year,
            f"no IDX closure list for {year} and the holidays package has no "
            "Indonesian holidays for it: only weekends and "
            "settings.extra_holidays are known closures",
            {},
            None,
            NONE,
        )
    public = holidays.country_holidays("ID", years=year, categories=("public",), language="en_US")
    joint = holidays.country_holidays(
        "ID", years=year, categories=("government",), language="en_US"
    )
    closures: dict[date, str] = {}
    for d, name in sorted([*public.items(), *joint.items()]):
        if d.weekday() < 5:
            closures[d] = f"{closures[d]}; {name}" if d in closures else name
    year_end = date(year, 12, 31)
    if year_end.weekday() < 5:
        closures[year_end] = (
            f"{closures[year_end]}; {YEAR_END_CLOSURE}"
            if year_end in closures
            else YEAR_END_CLOSURE
        )
    leave = sum(1 for d in joint if d.weekday() < 5)
    estimated = any("estimated" in n for n in closures.values())
    source = (
        f"holidays {holidays.__version__}: Indonesian public holidays"
        + (
            f" and {leave} collective-leave day(s) (cuti bersama)"
            if leave
            else ", no collective leave (cuti bersama) known yet (IDX usually closes on it too)"
        )
        + ("; lunar dates estimated" if estimated else "")
        + "; plus IDX's year-end closure on 31 December"
    )
    return YearList(year, source, closures, None, HOLIDAYS)


def known_years() -> list[int]:
    """Years with the exchange's list shipped in the package."""
    return sorted(_packaged())


@dataclass(frozen=True)
class Calendar:
    """The closure calendar the robot uses: per year the user's list (settings.calendar_file),
    else the packaged exchange list, else the provisional fallback; plus settings.extra_holidays.

    Built once from the config (``Settings.calendar``); every lookup after that is in memory."""

    user_years: tuple[YearList, ...] = ()
    extra_holidays: frozenset[date] = frozenset()
    # user_years by year, set by __post_init__ (not a constructor argument; not compared)
    _user: dict[int, YearList] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "_user", {y.year: y for y in self.user_years})

    def year(self, year: int) -> YearList:
        return self._user.get(year) or _packaged().get(year) or _fallback(year)

    def closure_reason(self, day: date) -> str | None:
        """Why the regular market is closed on ``day``, or None on a trading day."""
        if day.weekday() == 5:
            return "Saturday"
        if day.weekday() == 6:
            return "Sunday"
        if day in self.extra_holidays:
            return "extra closure from settings.extra_holidays"
        listed = self.year(day.year)
        name = listed.closures.get(day)
        if name is None:
            return None
        if listed.provisional:
            return f"IDX closure (provisional, {listed.short_source}): {name}"
        return f"IDX closure: {name}"

    def is_trading_day(self, day: date) -> bool:
        return self.closure_reason(day) is None

    def trading_days(self, year: int) -> list[date]:
        d, out = date(year, 1, 1), []
        while d.year == year:
            if self.is_trading_day(d):
                out.append(d)
            d += timedelta(days=1)
        return out

    def phase_at(self, dt: datetime) -> Phase:
        dt = to_wib(dt)
        if not self.is_trading_day(dt.date()):
            return Phase.CLOSED
        for span in day_phases(dt.date()):
            if dt in span:
                return span.phase
        return Phase.CLOSED

    def warnings(self, today: date) -> list[str]:
        """What `robot check` warns about on ``today`` (WIB): a provisional current year, and
        from December on a provisional next year, so the exchange's list is in place in time."""
        years = [today.year] + ([today.year + 1] if today.month == 12 else [])
        return [
            f"the IDX calendar for {y} is provisional ({self.year(y).short_source}); drop the "
            "exchange's list into settings.calendar_file when IDX publishes it"
            for y in years
            if self.year(y).provisional
        ]


# The module-level functions: the packaged lists and the fallback, plus the given extra closures
# (the simulator, tests and callers without a config).
def closure_reason(day: date, extra_holidays: Iterable[date] = ()) -> str | None:
    """Why the regular market is closed on ``day``, or None on a trading day."""
    return Calendar(extra_holidays=frozenset(extra_holidays)).closure_reason(day)


def is_trading_day(day: date, extra_holidays: Iterable[date] = ()) -> bool:
    return closure_reason(day, extra_holidays) is None


def trading_days(year: int, extra_holidays: Iterable[date] = ()) -> list[date]:
    return Calendar(extra_holidays=frozenset(extra_holidays)).trading_days(year)


def day_phases(day: date) -> list[PhaseSpan]:
    """The phases of a trading day from the pre-opening to the end of post-closing (16:15)."""
    table = _FRIDAY if day.weekday() == 4 else _MON_THU
    spans = []
    for (phase, start), (_, end) in pairwise(table):
        spans.append(
            PhaseSpan(
                phase, datetime.combine(day, _t(start), WIB), datetime.combine(day, _t(end), WIB)
            )
        )
    return spans


def phase_at(dt: datetime, extra_holidays: Iterable[date] = ()) -> Phase:
    return Calendar(extra_holidays=frozenset(extra_holidays)).phase_at(dt)


def next_change(dt: datetime) -> datetime | None:
    """When the phase after ``dt`` starts on the same day, or None after the last one."""
    dt = to_wib(dt)
    for span in day_phases(dt.date()):
        if span.start > dt:
            return span.start
        if dt in span:
            return span.end
    return None


def trading_seconds(start: datetime, end: datetime) -> float:
    """Seconds of continuous trading (the two sessions) between ``start`` and ``end`` on
    ``start``'s day: a wait that only the market's trading can end, breaks left out."""
    start, end = to_wib(start), to_wib(end)
    total = 0.0
    for span in day_phases(start.date()):
        if span.phase.is_continuous:
            lo, hi = max(start, span.start), min(end, span.end)
            total += max(0.0, (hi - lo).total_seconds())
    return total


def market_open(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), WIB)


def market_close(day: date) -> datetime:
    """End of continuous trading for the robot's purposes: the pre-closing starts (15:50)."""
    return datetime.combine(day, time(15, 50), WIB)
