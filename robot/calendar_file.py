"""settings.calendar_file: the user's copy of the exchange's closure lists, read and checked.

The file has the shape of robot/data/idx_calendar.yaml (docs/CALENDAR.md)::

    2027:
      source: "IDX announcement Peng-.../BEI.POP/..-2026"
      trading_days: 241            # optional: checked against the weekdays minus the closures
      closures:
        2027-01-01: "New Year's Day"

A year listed here replaces the packaged list or the provisional fallback for that year. Every
problem is reported with the file, line and key, together with accounts.yaml's own problems, so
a wrong list stops the robot before the day starts rather than trading on a holiday.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .calendar import USER, YearList, count_trading_days
from .errors import ConfigError
from .located import Located, read_yaml

YEAR_KEYS = ("source", "trading_days", "closures")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # a year outside this is a typo (27 for 2027)
EXAMPLE = '2027: {source: "IDX announcement Peng-...", closures: {2027-01-01: "New Year\'s Day"}}'


def load_calendar_file(owner: Located, path: Path) -> tuple[YearList, ...]:
    """The years in ``path``; problems go to ``owner`` (accounts.yaml's), which names the setting
    when the file cannot be read at all and the calendar file's line otherwise."""
    at = ("settings", "calendar_file")
    if path.is_dir():
        owner.add(at, f"{path} is a directory, not a calendar file")
        return ()
    if not path.exists():
        owner.add(
            at,
            f"calendar file not found: {path} (a relative path is taken from the "
            "folder of accounts.yaml)",
        )
        return ()
    try:
        doc, raw = read_yaml(path, f"is empty: list at least one year, e.g. {EXAMPLE}")
    except ConfigError as exc:
        for p in exc.problems:
            if p.line is None:  # unreadable as a whole: say so at the setting that names it
                owner.add(at, f"calendar file {path}: {p.message}")
            else:
                owner.problems.append(p)
        return ()
    years = _years(doc, raw)
    owner.problems.extend(doc.problems)
    return years


def _years(doc: Located, raw: Any) -> tuple[YearList, ...]:
    if not isinstance(raw, dict):
        doc.add((), f"must map each year to its list, e.g. {EXAMPLE}; got {type(raw).__name__}")
        return ()
    out = []
    for year, body in raw.items():
        listed = _year(doc, year, body)
        if listed is not None:
            out.append(listed)
    return tuple(out)


def _add(doc: Located, at: tuple, message: str) -> None:
    """A problem at the key path ``at`` (real keys, for the line), shown as plain text: a year
    is not a list index and a date is shown as YYYY-MM-DD."""
    shown = tuple(k.isoformat() if isinstance(k, date) else str(k) for k in at)
    doc.add(shown, message, at=at)


def _year(doc: Located, year: Any, body: Any) -> YearList | None:
    if isinstance(year, bool) or not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        _add(doc, (year,), f"a year must be a whole number such as 2027, got {year!r}")
        return None
    if not isinstance(body, dict):
        _add(
            doc,
            (year,),
            "must be a mapping with 'source', 'closures' and optionally "
            f"'trading_days', got {type(body).__name__}",
        )
        return None
    for key in body:
        if key not in YEAR_KEYS:
            hint = difflib.get_close_matches(str(key), YEAR_KEYS, n=1)
            _add(
                doc,
                (year, key),
                "unknown key"
                + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else f"; known keys: {', '.join(YEAR_KEYS)}"
                ),
            )
    source = _source(doc, year, body)
    closures, clean = _closures(doc, year, body)
    trading_days = _trading_days(doc, year, body, closures if clean else None)
    if source is None or closures is None or trading_days is False:
        return None
    return YearList(year, source, closures, trading_days or None, USER)


def _source(doc: Located, year: int, body: dict) -> str | None:
    if "source" not in body:
        _add(
            doc,
            (year,),
            "needs 'source': the exchange's announcement the list comes from "
            '(e.g. "IDX announcement Peng-00171/BEI.POP/09-2025")',
        )
        return None
    if not isinstance(body["source"], str) or not body["source"].strip():
        _add(doc, (year, "source"), f"must be a non-empty string, got {body['source']!r}")
        return None
    return body["source"].strip()


def _closures(doc: Located, year: int, body: dict) -> tuple[dict[date, str] | None, bool]:
    """The year's closures and whether every entry was valid."""
    if "closures" not in body:
        _add(
            doc,
            (year,),
            "needs 'closures': a mapping of date to name, e.g. 2027-01-01: \"New Year's Day\"",
        )
        return None, False
    raw = body["closures"]
    if not isinstance(raw, dict):
        _add(
            doc,
            (year, "closures"),
            f'must be a mapping of date to name (YYYY-MM-DD: "name"), got {type(raw).__name__}',
        )
        return None, False
    out: dict[date, str] = {}
    for day, name in raw.items():
        err = _closure_problem(year, day, name)
        if err:
            _add(doc, (year, "closures", day), err)
        else:
            out[day] = name.strip()
    return out, len(out) == len(raw)


def _closure_problem(year: int, day: Any, name: Any) -> str | None:
    if isinstance(day, datetime) or not isinstance(day, date):
        return f"{day!r} is not a date YYYY-MM-DD"
    if day.year != year:
        return f"{day.isoformat()} is listed under {year}: move it to {day.year}'s section"
    if day.weekday() >= 5:
        # the market is closed anyway, so this is most likely a weekday closure mistyped, which
        # would leave the real closure a trading day (and an order booked for the next day)
        return (
            f"{day.isoformat()} is a {day:%A}: the market never trades on weekends, so a "
            "weekend date is most likely a mistyped weekday closure; list weekday closures "
            "only"
        )
    if not isinstance(name, str) or not name.strip():
        return f'the closure needs a name, e.g. "New Year\'s Day", got {name!r}'
    return None


def _trading_days(
    doc: Located, year: int, body: dict, closures: dict[date, str] | None
) -> int | None | bool:
    """The stated count (None when not given), or False when it is wrong. It is compared with the
    computed count only when every closure was valid, so one typo gives one message."""
    if "trading_days" not in body:
        return None
    n = body["trading_days"]
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 366:
        _add(doc, (year, "trading_days"), f"must be a whole number of days, got {n!r}")
        return False
    if closures is not None:
        computed = count_trading_days(year, closures)
        if computed != n:
            _add(
                doc,
                (year, "trading_days"),
                f"says {n}, but {year} has {computed} weekdays that are not listed closures: "
                "a closure is missing, extra or mistyped (or the count is)",
            )
            return False
    return n
