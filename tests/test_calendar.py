"""The IDX trading calendar (2026 closures) and the intraday phases.

Expected values come from docs (/work/shared/reference/idx-market-rules.md): IDX Rule II-A
(Kep-00003/BEI/04-2025) for the hours and Peng-00171/BEI.POP/09-2025 for the 2026 closures. They
are written out here rather than derived from the module's own tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml

from robot.calendar import (
    Phase,
    can_amend,
    can_submit,
    can_withdraw,
    closure_reason,
    day_phases,
    is_trading_day,
    known_years,
    market_close,
    market_open,
    next_change,
    phase_at,
    trading_days,
)
from robot.clock import WIB

CLOSURES_2026 = [
    date(2026, m, d)
    for m, d in [
        (1, 1),
        (1, 16),
        (2, 16),
        (2, 17),
        (3, 18),
        (3, 19),
        (3, 20),
        (3, 23),
        (3, 24),
        (4, 3),
        (5, 1),
        (5, 14),
        (5, 15),
        (5, 27),
        (5, 28),
        (6, 1),
        (6, 16),
        (8, 17),
        (8, 25),
        (12, 24),
        (12, 25),
        (12, 31),
    ]
]
MONTHLY_2026 = [20, 18, 17, 21, 16, 20, 23, 19, 22, 22, 21, 20]

MONDAY, THURSDAY, FRIDAY = date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 9)
MON_THU = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7), date(2026, 1, 8)]


def wib(day: date, hhmmss: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmmss), WIB)


# --- the closure calendar -------------------------------------------------------------------


def test_reference_list_is_22_weekdays():
    assert len(CLOSURES_2026) == len(set(CLOSURES_2026)) == 22
    assert all(d.weekday() < 5 for d in CLOSURES_2026)


def test_data_file_lists_exactly_the_reference_closures():
    text = resources.files("robot").joinpath("data/idx_calendar.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    assert 2026 in raw
    assert set(raw[2026]["closures"]) == set(CLOSURES_2026)
    assert raw[2026]["trading_days"] == 239
    assert "Peng-00171" in raw[2026]["source"]
    assert 2026 in known_years()


def test_239_trading_days_in_2026():
    days = trading_days(2026)
    assert len(days) == 239
    assert days == sorted(set(days))
    assert all(d.year == 2026 and d.weekday() < 5 for d in days)
    assert not set(days) & set(CLOSURES_2026)


def test_monthly_trading_day_counts_2026():
    counts = Counter(d.month for d in trading_days(2026))
    assert [counts[m] for m in range(1, 13)] == MONTHLY_2026


@pytest.mark.parametrize("day", CLOSURES_2026, ids=str)
def test_each_2026_closure_is_closed_with_a_reason(day):
    assert not is_trading_day(day)
    reason = closure_reason(day)
    assert reason is not None and reason.startswith("IDX closure: ")
    assert len(reason) > len("IDX closure: ")
    assert phase_at(wib(day, "10:00:00")) is Phase.CLOSED


def test_specific_closure_reasons():
    assert "New Year" in closure_reason(date(2026, 1, 1))
    assert "Independence" in closure_reason(date(2026, 8, 17))
    assert "IDX only" in closure_reason(date(2026, 12, 31))


def test_ordinary_weekdays_are_trading_days():
    for day in [date(2026, 1, 2), MONDAY, FRIDAY, date(2026, 3, 25), date(2026, 12, 30)]:
        assert is_trading_day(day)
        assert closure_reason(day) is None


@pytest.mark.parametrize(
    "day, reason",
    [
        (date(2026, 1, 3), "Saturday"),
        (date(2026, 1, 4), "Sunday"),
        (date(2026, 3, 21), "Saturday"),  # Eid al-Fitr falls on a Saturday: the weekend wins
        (date(2026, 4, 5), "Sunday"),  # Easter Sunday
        (date(2026, 5, 31), "Sunday"),  # Vesak Day
        (date(2027, 1, 2), "Saturday"),  # weekends close the market in years without data too
    ],
)
def test_weekend_reasons(day, reason):
    assert closure_reason(day) == reason
    assert not is_trading_day(day)
    assert phase_at(wib(day, "10:00:00")) is Phase.CLOSED


def test_extra_holidays():
    extra = [MONDAY]
    assert is_trading_day(MONDAY)
    assert not is_trading_day(MONDAY, extra)
    assert "extra" in closure_reason(MONDAY, extra)
    assert closure_reason(date(2026, 1, 6), extra) is None
    days = trading_days(2026, extra)
    assert len(days) == 238 and MONDAY not in days
    assert phase_at(wib(MONDAY, "10:00:00"), extra) is Phase.CLOSED
    assert phase_at(wib(MONDAY, "10:00:00")) is Phase.SESSION_1


def test_extra_holidays_accept_a_one_shot_iterable():
    assert len(trading_days(2026, iter([MONDAY, THURSDAY]))) == 237
    assert not is_trading_day(MONDAY, (d for d in [MONDAY]))


def test_extra_holiday_on_a_weekend_or_existing_closure_changes_nothing():
    extra = [date(2026, 1, 3), date(2026, 1, 1)]
    assert len(trading_days(2026, extra)) == 239
    assert closure_reason(date(2026, 1, 3), extra) == "Saturday"


# --- cross-check with the `holidays` package ---------------------------------------------------


def test_cross_check_with_holidays_package():
    package = holidays.country_holidays("ID", years=2026, categories=("government", "public"))
    package_weekdays = {d for d in package if d.weekday() < 5}
    idx = set(CLOSURES_2026)

    # 31 December is an exchange-only closure (IDX's year-end holiday); it is not a national or
    # government holiday, so the package cannot know it. Every other IDX closure is in the package.
    assert idx - package_weekdays == {date(2026, 12, 31)}

    # Weekday package holidays that are not IDX closures. With holidays 0.109 there are none (the
    # package's other 2026 dates -- Eid al-Fitr 21/22 Mar, Easter 5 Apr, Vesak 31 May -- fall on
    # weekends). If a package update adds one, this fails so someone checks it against IDX.
    assert package_weekdays - idx == set()


# --- phases ---------------------------------------------------------------------------------

# (start, phase) from the reference; each phase lasts until the next start.
EXPECTED_MON_THU = [
    ("08:45:00", Phase.PRE_OPENING),
    ("08:56:00", Phase.PRE_OPENING_NO_CANCEL),
    ("08:58:00", Phase.PRE_OPENING_MATCHING),
    ("09:00:00", Phase.SESSION_1),
    ("12:00:00", Phase.LUNCH_BREAK),
    ("13:30:00", Phase.SESSION_2),
    ("15:50:00", Phase.PRE_CLOSING),
    ("15:56:00", Phase.PRE_CLOSING_NO_CANCEL),
    ("15:58:00", Phase.PRE_CLOSING_RANDOM_CLOSE),
    ("16:00:00", Phase.PRE_CLOSING_MATCHING),
    ("16:02:00", Phase.POST_CLOSING),
    ("16:15:00", Phase.CLOSED),
]
EXPECTED_FRIDAY = [
    ("08:45:00", Phase.PRE_OPENING),
    ("08:56:00", Phase.PRE_OPENING_NO_CANCEL),
    ("08:58:00", Phase.PRE_OPENING_MATCHING),
    ("09:00:00", Phase.SESSION_1),
    ("11:30:00", Phase.LUNCH_BREAK),
    ("14:00:00", Phase.SESSION_2),
    ("15:50:00", Phase.PRE_CLOSING),
    ("15:56:00", Phase.PRE_CLOSING_NO_CANCEL),
    ("15:58:00", Phase.PRE_CLOSING_RANDOM_CLOSE),
    ("16:00:00", Phase.PRE_CLOSING_MATCHING),
    ("16:02:00", Phase.POST_CLOSING),
    ("16:15:00", Phase.CLOSED),
]


def _boundary_cases(table):
    """At each start the new phase; one second and one microsecond before it the previous one."""
    cases, previous = [], Phase.CLOSED
    for start, phase in table:
        t = time.fromisoformat(start)
        at = datetime.combine(date.min, t)
        cases.append((start, phase))
        cases.append(((at - timedelta(seconds=1)).time().isoformat(), previous))
        cases.append(((at - timedelta(microseconds=1)).time().isoformat(), previous))
        previous = phase
    return cases


@pytest.mark.parametrize("day", MON_THU, ids=str)
@pytest.mark.parametrize("hhmmss, phase", _boundary_cases(EXPECTED_MON_THU))
def test_phase_boundaries_monday_to_thursday(day, hhmmss, phase):
    assert phase_at(wib(day, hhmmss)) is phase


@pytest.mark.parametrize("hhmmss, phase", _boundary_cases(EXPECTED_FRIDAY))
def test_phase_boundaries_friday(hhmmss, phase):
    assert phase_at(wib(FRIDAY, hhmmss)) is phase


@pytest.mark.parametrize(
    "hhmmss, mon_thu, friday",
    [
        ("00:00:00", Phase.CLOSED, Phase.CLOSED),
        ("08:55:59", Phase.PRE_OPENING, Phase.PRE_OPENING),
        ("08:56:00", Phase.PRE_OPENING_NO_CANCEL, Phase.PRE_OPENING_NO_CANCEL),
        ("11:29:59", Phase.SESSION_1, Phase.SESSION_1),
        ("11:30:00", Phase.SESSION_1, Phase.LUNCH_BREAK),
        ("11:59:59", Phase.SESSION_1, Phase.LUNCH_BREAK),
        ("12:00:00", Phase.LUNCH_BREAK, Phase.LUNCH_BREAK),
        ("13:29:59", Phase.LUNCH_BREAK, Phase.LUNCH_BREAK),
        ("13:30:00", Phase.SESSION_2, Phase.LUNCH_BREAK),
        ("13:59:59", Phase.SESSION_2, Phase.LUNCH_BREAK),
        ("14:00:00", Phase.SESSION_2, Phase.SESSION_2),
        ("15:49:59", Phase.SESSION_2, Phase.SESSION_2),
        ("15:50:00", Phase.PRE_CLOSING, Phase.PRE_CLOSING),
        ("16:14:59", Phase.POST_CLOSING, Phase.POST_CLOSING),
        ("16:15:00", Phase.CLOSED, Phase.CLOSED),
        ("23:59:59", Phase.CLOSED, Phase.CLOSED),
    ],
)
def test_friday_differs_only_around_lunch(hhmmss, mon_thu, friday):
    assert phase_at(wib(THURSDAY, hhmmss)) is mon_thu
    assert phase_at(wib(FRIDAY, hhmmss)) is friday


@pytest.mark.parametrize(
    "day, table", [(MONDAY, EXPECTED_MON_THU), (FRIDAY, EXPECTED_FRIDAY)], ids=["mon", "fri"]
)
def test_day_phases_are_contiguous_and_match_the_reference(day, table):
    spans = day_phases(day)
    expected = [(wib(day, s), wib(day, e), p) for (s, p), (e, _) in pairwise(table)]
    assert [(s.start, s.end, s.phase) for s in spans] == expected
    for a, b in pairwise(spans):
        assert a.end == b.start
    first, last = spans[0], spans[-1]
    assert wib(day, "08:45:00") in first and wib(day, "08:44:59") not in first
    assert wib(day, "16:14:59") in last and wib(day, "16:15:00") not in last


def test_phase_at_converts_other_timezones():
    utc = UTC
    assert phase_at(datetime(2026, 1, 5, 2, 0, tzinfo=utc)) is Phase.SESSION_1  # 09:00 WIB
    assert phase_at(datetime(2026, 1, 5, 1, 59, 59, tzinfo=utc)) is Phase.PRE_OPENING_MATCHING
    assert phase_at(datetime(2026, 1, 5, 1, 44, 59, tzinfo=utc)) is Phase.CLOSED  # 08:44:59
    assert phase_at(datetime(2026, 1, 5, 1, 45, tzinfo=utc)) is Phase.PRE_OPENING
    assert phase_at(datetime(2026, 1, 5, 9, 14, 59, tzinfo=utc)) is Phase.POST_CLOSING
    assert phase_at(datetime(2026, 1, 5, 9, 15, tzinfo=utc)) is Phase.CLOSED
    # 04:45 UTC = 11:45 WIB: trading on Thursday, lunch on Friday.
    assert phase_at(datetime(2026, 1, 8, 4, 45, tzinfo=utc)) is Phase.SESSION_1
    assert phase_at(datetime(2026, 1, 9, 4, 45, tzinfo=utc)) is Phase.LUNCH_BREAK


def test_phase_at_uses_the_wib_date_not_the_local_date():
    ny = ZoneInfo("America/New_York")
    # Sunday 4 Jan 21:00 in New York is Monday 5 Jan 09:00 in Jakarta.
    assert phase_at(datetime(2026, 1, 4, 21, 0, tzinfo=ny)) is Phase.SESSION_1
    # Friday 9 Jan 21:00 in New York is Saturday 10 Jan 09:00 in Jakarta.
    assert phase_at(datetime(2026, 1, 9, 21, 0, tzinfo=ny)) is Phase.CLOSED
    # Wednesday 31 Dec 2025 21:00 in New York is New Year's Day 09:00 in Jakarta.
    assert phase_at(datetime(2025, 12, 31, 21, 0, tzinfo=ny)) is Phase.CLOSED
    # Monday 5 Jan 08:45 in Jakarta is Sunday 4 Jan 20:45 in New York: open, not a weekend.
    assert phase_at(datetime(2026, 1, 4, 20, 44, 59, tzinfo=ny)) is Phase.CLOSED
    assert phase_at(datetime(2026, 1, 4, 20, 45, tzinfo=ny)) is Phase.PRE_OPENING


def test_phase_at_takes_naive_datetimes_as_wib():
    assert phase_at(datetime(2026, 1, 5, 9, 0)) is Phase.SESSION_1
    assert phase_at(datetime(2026, 1, 5, 8, 44, 59)) is Phase.CLOSED


# --- what the robot may do in each phase ----------------------------------------------------

# phase: (submit, withdraw, amend)
PERMISSIONS = {
    Phase.CLOSED: (False, False, False),
    Phase.PRE_OPENING: (True, True, True),
    # 08:56-08:57:59: new orders allowed, amend and withdraw rejected by IDX.
    Phase.PRE_OPENING_NO_CANCEL: (True, False, False),
    # 08:58-08:59:59: no entry, no amend, withdraw allowed.
    Phase.PRE_OPENING_MATCHING: (False, True, False),
    Phase.SESSION_1: (True, True, True),
    # No matching over lunch; the robot sends nothing to the exchange then.
    Phase.LUNCH_BREAK: (False, False, False),
    Phase.SESSION_2: (True, True, True),
    # Entry into the closing auction is legal at IDX but the robot cannot manage TP/CL after it,
    # so it does not submit; amend/withdraw remain allowed until 15:56.
    Phase.PRE_CLOSING: (False, True, True),
    Phase.PRE_CLOSING_NO_CANCEL: (False, False, False),
    Phase.PRE_CLOSING_RANDOM_CLOSE: (False, False, False),
    Phase.PRE_CLOSING_MATCHING: (False, False, False),
    Phase.POST_CLOSING: (False, False, False),
}


def test_permission_table_covers_every_phase():
    assert set(PERMISSIONS) == set(Phase)


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_permissions_per_phase(phase):
    submit, withdraw, amend = PERMISSIONS[phase]
    assert can_submit(phase) is submit
    assert can_withdraw(phase) is withdraw
    assert can_amend(phase) is amend


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_only_sessions_are_continuous(phase):
    assert phase.is_continuous is (phase in (Phase.SESSION_1, Phase.SESSION_2))


@pytest.mark.parametrize(
    "day, hhmmss, submit",
    [
        (MONDAY, "08:44:59", False),
        (MONDAY, "08:45:00", True),
        (MONDAY, "08:57:59", True),
        (MONDAY, "08:58:00", False),
        (MONDAY, "09:00:00", True),
        (MONDAY, "11:59:59", True),
        (MONDAY, "12:00:00", False),
        (MONDAY, "13:30:00", True),
        (MONDAY, "15:49:59", True),
        (MONDAY, "15:50:00", False),
        (MONDAY, "15:58:30", False),
        (MONDAY, "16:05:00", False),
        (FRIDAY, "11:30:00", False),
        (FRIDAY, "13:59:59", False),
        (FRIDAY, "14:00:00", True),
        (date(2026, 1, 1), "10:00:00", False),
        (date(2026, 1, 3), "10:00:00", False),
    ],
)
def test_can_submit_at_wall_times(day, hhmmss, submit):
    assert can_submit(phase_at(wib(day, hhmmss))) is submit


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dt, expected",
    [
        (wib(MONDAY, "08:00:00"), wib(MONDAY, "08:45:00")),
        (wib(MONDAY, "08:45:00"), wib(MONDAY, "08:56:00")),
        (wib(MONDAY, "08:50:00"), wib(MONDAY, "08:56:00")),
        (wib(MONDAY, "09:00:00"), wib(MONDAY, "12:00:00")),
        (wib(FRIDAY, "11:00:00"), wib(FRIDAY, "11:30:00")),
        (wib(FRIDAY, "11:30:00"), wib(FRIDAY, "14:00:00")),
        (wib(MONDAY, "16:14:59"), wib(MONDAY, "16:15:00")),
        (wib(MONDAY, "16:15:00"), None),
        (datetime(2026, 1, 5, 2, 0, tzinfo=UTC), wib(MONDAY, "12:00:00")),
    ],
)
def test_next_change(dt, expected):
    assert next_change(dt) == expected


def test_market_open_and_close():
    assert market_open(MONDAY) == wib(MONDAY, "09:00:00")
    assert market_close(MONDAY) == wib(MONDAY, "15:50:00")
    assert market_open(MONDAY).utcoffset() == timedelta(hours=7)
    assert phase_at(market_open(FRIDAY)) is Phase.SESSION_1
    assert phase_at(market_close(FRIDAY)) is Phase.PRE_CLOSING


def test_trading_seconds_leave_the_breaks_out():
    from robot.calendar import trading_seconds

    monday, friday = date(2026, 3, 2), date(2026, 3, 6)

    def at(day, hhmm):
        return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), WIB)

    assert trading_seconds(at(monday, "10:00"), at(monday, "10:03")) == 180
    assert trading_seconds(at(monday, "11:58"), at(monday, "13:32")) == 240  # lunch left out
    assert trading_seconds(at(friday, "11:28"), at(friday, "14:01")) == 180  # Friday's break
    assert trading_seconds(at(monday, "08:45"), at(monday, "09:00")) == 0  # pre-opening
    assert trading_seconds(at(monday, "15:49"), at(monday, "16:10")) == 60  # pre-closing out
    assert trading_seconds(at(monday, "10:05"), at(monday, "10:00")) == 0
