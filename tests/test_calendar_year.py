"""A year without the exchange's list (2027 as of 2026-11-30): the provisional fallback, the user's
copy of the exchange's list (settings.calendar_file), and the provisional mark wherever the
calendar shows: `robot calendar`, `robot check`, the supervisor's start line and the EOD report.

Expected 2027 dates are written out from /work/shared/reference/idx-market-rules.md ("2027 (as
known on 2026-11-30)"); the collective-leave days come from the holidays package, which the
reference does not list, so those are read from the package and only their use is checked here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import holidays
import pytest
from click.testing import CliRunner

from configs import write_config
from robot import cli
from robot.calendar import (
    HOLIDAYS,
    NONE,
    USER,
    Calendar,
    Phase,
    YearList,
    closure_reason,
    count_trading_days,
    is_trading_day,
    phase_at,
    trading_days,
)
from robot.clock import WIB
from robot.config import load_config
from robot.eod import build_report
from robot.errors import ConfigError
from robot.report import SEED_KEYS, DayFacts, assemble, render_table
from robot.store import Store

# The reference's 2027 public holidays that fall on weekdays, and IDX's own year-end closure.
PUBLIC_2027_WEEKDAYS = [
    date(2027, m, d)
    for m, d in [
        (1, 1),
        (1, 5),
        (3, 8),
        (3, 10),
        (3, 11),
        (3, 26),
        (5, 6),
        (5, 17),
        (5, 20),
        (6, 1),
        (8, 17),
    ]
]
PUBLIC_2027_WEEKENDS = [
    date(2027, m, d) for m, d in [(2, 6), (3, 28), (5, 1), (6, 6), (8, 15), (12, 25), (12, 26)]
]
YEAR_END_2027 = date(2027, 12, 31)
WEEKDAYS_2027 = 261  # 2027 starts on a Friday: 52 weeks and one Friday

GOOD_CONFIG = """\
settings:
  operating_hours: {start: "08:45", end: "16:15"}
  eod_report_time: "16:00"
accounts:
  - {id: ACC_001, broker: stockbit, profile_path: profiles/ACC_001, enabled: true}
"""

# A stand-in for the exchange's 2027 list (made up for the test: 5 January is *not* closed here,
# while the provisional list closes it for Isra' Mi'raj).
USER_2027 = """\
# the exchange's 2027 list, copied by hand
2027:
  source: "IDX announcement TEST-2027"
  trading_days: 257
  closures:
    2027-01-01: "New Year's Day"
    2027-03-26: "Good Friday"
    2027-08-17: "Independence Day"
    2027-12-24: "Christmas (joint holiday)"
"""


def wib(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), WIB)


def joint_2027_weekdays() -> set[date]:
    joint = holidays.country_holidays("ID", years=2027, categories=("government",))
    return {d for d in joint if d.weekday() < 5}


def config_with(
    tmp_path: Path, settings: str = "", calendar: str | None = None, name: str = "idx-calendar.yaml"
) -> Path:
    if calendar is not None:
        (tmp_path / name).write_bytes(
            calendar.encode("utf-8") if isinstance(calendar, str) else calendar
        )
    text = GOOD_CONFIG.replace(
        '  eod_report_time: "16:00"\n', '  eod_report_time: "16:00"\n' + settings
    )
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the provisional fallback ---------------------------------------------------------------


def test_new_year_2027_is_a_provisional_closure():
    reason = closure_reason(date(2027, 1, 1))
    assert reason == "IDX closure (provisional, holidays package): New Year's Day"
    assert not is_trading_day(date(2027, 1, 1))
    assert phase_at(wib(date(2027, 1, 1), "10:00")) is Phase.CLOSED
    assert phase_at(wib(date(2027, 1, 4), "10:00")) is Phase.SESSION_1  # a Monday
    listed = Calendar().year(2027)
    assert listed.provisional and listed.origin == HOLIDAYS
    assert "holidays" in listed.source and "31 December" in listed.source


def test_provisional_2027_is_public_holidays_joint_leave_and_year_end():
    listed = Calendar().year(2027)
    joint = joint_2027_weekdays()
    assert joint, "holidays>=0.109 knows the 2027 collective leave (SKB 3 Menteri)"
    assert set(listed.closures) == set(PUBLIC_2027_WEEKDAYS) | joint | {YEAR_END_2027}
    assert all(d.weekday() < 5 for d in listed.closures)
    assert not set(PUBLIC_2027_WEEKENDS) & set(listed.closures)
    assert listed.closures[YEAR_END_2027] == "Exchange holiday (year-end, IDX only)"
    assert "estimated" in listed.closures[date(2027, 3, 10)]  # Eid al-Fitr: lunar
    assert f"{len(joint)} collective-leave day(s) (cuti bersama)" in listed.source
    days = trading_days(2027)
    assert (
        len(days)
        == WEEKDAYS_2027 - len(listed.closures)
        == count_trading_days(2027, listed.closures)
    )
    assert date(2027, 1, 1) not in days and date(2027, 1, 4) in days


def test_a_year_without_collective_leave_says_so():
    listed = Calendar().year(2030)
    assert listed.provisional
    if not set(holidays.country_holidays("ID", years=2030, categories=("government",))):
        assert "no collective leave (cuti bersama) known yet" in listed.source


def test_a_year_beyond_the_package_is_weekends_only_and_provisional():
    listed = Calendar().year(1900)
    assert listed.origin == NONE and listed.provisional and not listed.closures
    assert closure_reason(date(1900, 1, 1)) is None  # a Monday


def test_the_packaged_2026_list_is_not_provisional():
    listed = Calendar().year(2026)
    assert not listed.provisional and "Peng-00171" in listed.source
    assert listed.as_report() == {
        "year": 2026,
        "provisional": False,
        "origin": "exchange",
        "source": listed.source,
    }
    assert closure_reason(date(2026, 1, 1)) == "IDX closure: New Year's Day"


# --- robot calendar ------------------------------------------------------------------------


def run_cli(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def test_calendar_year_2027_lists_trading_days_with_the_provisional_mark(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no accounts.yaml: packaged lists only
    result = run_cli("calendar", "--year", "2027")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# IDX calendar 2027 (PROVISIONAL, holidays package): holidays ")
    days = [date.fromisoformat(x) for x in lines[1:]]
    assert days == trading_days(2027)
    assert date(2027, 1, 1) not in days and YEAR_END_2027 not in days
    assert date(2027, 1, 4) in days


def test_calendar_date_marks_a_provisional_year(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    closed = run_cli("calendar", "--date", "2027-01-01")
    assert closed.exit_code == 0, closed.output
    assert closed.stdout.splitlines()[0] == (
        "2027-01-01 (Friday): no trading - IDX closure "
        "(provisional, holidays package): New Year's Day"
    )
    assert "IDX calendar 2027 (PROVISIONAL, holidays package)" in closed.stdout
    open_day = run_cli("calendar", "--date", "2027-01-04")
    assert open_day.exit_code == 0, open_day.output
    assert "session_1" in open_day.stdout
    assert open_day.stdout.splitlines()[-1].startswith("  IDX calendar 2027 (PROVISIONAL")
    known = run_cli("calendar", "--date", "2026-03-02")
    assert "session_1" in known.stdout and "PROVISIONAL" not in known.stdout


def test_calendar_honours_extra_holidays_of_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = config_with(tmp_path, "  extra_holidays: [2026-03-02]\n")
    result = run_cli("calendar", "--config", str(config), "--date", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert "no trading - extra closure from settings.extra_holidays" in result.stdout
    year = run_cli("calendar", "--config", str(config), "--year", "2026")
    assert len(year.stdout.splitlines()) == 238 and "2026-03-02" not in year.stdout
    # without --config, ./accounts.yaml counts when it exists ...
    assert "extra closure" in run_cli("calendar", "--date", "2026-03-02").stdout
    # ... and without one the packaged lists still answer
    config.unlink()
    plain = run_cli("calendar", "--year", "2026")
    assert plain.exit_code == 0 and len(plain.stdout.splitlines()) == 239


def test_calendar_with_a_bad_config_exits_2(tmp_path):
    config = config_with(tmp_path, "  extra_holidays: [2026-13-01]\n")
    result = run_cli("calendar", "--config", str(config), "--date", "2026-03-02")
    assert result.exit_code == 2
    assert (
        "settings.extra_holidays[0]: must be a date YYYY-MM-DD, got '2026-13-01'" in result.stderr
    )
    missing = run_cli("calendar", "--config", str(tmp_path / "nope.yaml"), "--year", "2026")
    assert missing.exit_code == 2 and "nope.yaml: file not found" in missing.stderr
    assert "Traceback" not in result.output + missing.output


# --- the user's copy of the exchange's list --------------------------------------------------


def test_a_user_list_for_2027_overrides_and_is_not_provisional(tmp_path, monkeypatch):
    config = config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n", USER_2027)
    monkeypatch.chdir("/")  # a relative path is the config's folder's
    cfg = load_config(config)
    assert cfg.settings.calendar_file == tmp_path / "idx-calendar.yaml"
    cal = cfg.settings.calendar
    listed = cal.year(2027)
    assert listed.origin == USER and not listed.provisional
    assert listed.source == "IDX announcement TEST-2027" and listed.trading_days == 257
    assert cal.closure_reason(date(2027, 1, 1)) == "IDX closure: New Year's Day"
    assert cal.closure_reason(date(2027, 1, 5)) is None  # provisional list closes it
    assert closure_reason(date(2027, 1, 5)) is not None
    assert len(cal.trading_days(2027)) == 257
    assert cal.year(2026) == Calendar().year(2026)  # other years unchanged
    assert cal.warnings(date(2026, 12, 1)) == [] and cal.warnings(date(2027, 6, 1)) == []
    result = run_cli("calendar", "--config", str(config), "--year", "2027")
    assert result.exit_code == 0, result.output
    assert not result.stdout.startswith("#") and "2027-01-05" in result.stdout.splitlines()
    assert len(result.stdout.splitlines()) == 257


def test_a_user_list_can_replace_a_packaged_year(tmp_path):
    text = "2026:\n  source: corrected list\n  closures:\n    2026-01-01: New Year's Day\n"
    cfg = load_config(config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n", text))
    cal = cfg.settings.calendar
    assert cal.year(2026).origin == USER and len(cal.trading_days(2026)) == 260
    assert cal.closure_reason(date(2026, 8, 17)) is None


def test_extra_holidays_still_apply_over_a_user_list(tmp_path):
    cfg = load_config(
        config_with(
            tmp_path,
            "  calendar_file: idx-calendar.yaml\n  extra_holidays: [2027-01-04]\n",
            USER_2027,
        )
    )
    assert (
        cfg.settings.calendar.closure_reason(date(2027, 1, 4))
        == "extra closure from settings.extra_holidays"
    )


# name -> (calendar file text or bytes, [fragments of one problem], line in the calendar file
# or None when the problem is located at accounts.yaml's settings.calendar_file)
BAD_FILES: dict[str, tuple[str | bytes, list[str], int | None]] = {
    "not YAML": ("2027:\n  source: x\n  closures: {2027-01-01: a\n", ["is not valid YAML"], 4),
    "empty": ("# nothing yet\n", ["is empty: list at least one year"], None),
    "a list at the top": ("- 2027-01-01\n", ["must map each year to its list"], 1),
    "not UTF-8": (b"2027:\n  source: \xff\n", ["is not UTF-8 text"], 2),
    "a month 13": (
        USER_2027.replace("2027-03-26", "2027-13-26"),
        ["2027.closures.2027-13-26: '2027-13-26' is not a date YYYY-MM-DD"],
        7,
    ),
    "30 February": (
        USER_2027.replace("2027-03-26", "2027-02-30"),
        ["2027.closures.2027-02-30: '2027-02-30' is not a date"],
        7,
    ),
    "words for a date": (
        USER_2027.replace("2027-03-26", "good friday"),
        ["'good friday' is not a date YYYY-MM-DD"],
        7,
    ),
    "a date and time": (
        USER_2027.replace("2027-03-26", "2027-03-26 09:00"),
        ["is not a date YYYY-MM-DD"],
        7,
    ),
    "date in the wrong year": (
        USER_2027.replace("2027-08-17", "2028-08-17"),
        ["2027.closures.2028-08-17: 2028-08-17 is listed under 2027: move it to 2028's section"],
        8,
    ),
    "a weekend closure": (
        USER_2027.replace("2027-12-24", "2027-12-25"),
        ["2027.closures.2027-12-25: 2027-12-25 is a Saturday", "mistyped weekday closure"],
        9,
    ),
    "no name": (USER_2027.replace('"Good Friday"', '""'), ["the closure needs a name"], 7),
    "duplicate date": (USER_2027.replace("2027-03-26", "2027-01-01"), ["duplicate key"], 7),
    "trading_days wrong": (
        USER_2027.replace("257", "258"),
        ["2027.trading_days: says 258, but 2027 has 257 weekdays"],
        4,
    ),
    "trading_days in words": (
        USER_2027.replace("257", "many"),
        ["2027.trading_days: must be a whole number of days"],
        4,
    ),
    "no source": (
        USER_2027.replace('  source: "IDX announcement TEST-2027"\n', ""),
        ["2027: needs 'source'"],
        2,
    ),
    "no closures": ("2027:\n  source: x\n", ["2027: needs 'closures'"], 1),
    "closures a list": (
        "2027:\n  source: x\n  closures: [2027-01-01]\n",
        ["2027.closures: must be a mapping of date to name"],
        3,
    ),
    "misspelt key": (
        USER_2027.replace("closures:", "closure:"),
        ["2027.closure: unknown key (did you mean 'closures'?)"],
        5,
    ),
    "year in words": ("next:\n  source: x\n  closures: {}\n", ["a year must be a whole number"], 1),
    "two-digit year": ("27:\n  source: x\n  closures: {}\n", ["got 27"], 1),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_calendar_file_names_file_line_and_key(tmp_path, name):
    text, fragments, line = BAD_FILES[name]
    config = config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n", text)
    with pytest.raises(ConfigError) as info:
        load_config(config)
    found = [str(p) for p in info.value.problems]
    where = (
        f"{tmp_path / 'idx-calendar.yaml'}:{line}:"
        if line
        else f"{config}:4:3: settings.calendar_file: calendar file {tmp_path / 'idx-calendar.yaml'}"
    )
    hits = [p for p in found if p.startswith(where) and all(f in p for f in fragments)]
    assert hits, f"{where} {fragments} not in:\n" + "\n".join(found)


@pytest.mark.parametrize("name", ["missing", "folder"])
def test_calendar_file_that_is_not_a_file(tmp_path, name):
    if name == "folder":
        (tmp_path / "idx-calendar.yaml").mkdir()
    config = config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n")
    with pytest.raises(ConfigError) as info:
        load_config(config)
    text = str(info.value)
    assert f"{config}:4:3: settings.calendar_file: " in text
    assert ("calendar file not found: " if name == "missing" else "is a directory") in text
    assert str(tmp_path / "idx-calendar.yaml") in text


@pytest.mark.skipif(
    os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file"
)
def test_unreadable_calendar_file(tmp_path):
    config = config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n", USER_2027)
    (tmp_path / "idx-calendar.yaml").chmod(0)
    with pytest.raises(
        ConfigError, match="settings.calendar_file: calendar file .* cannot be read"
    ):
        load_config(config)


def test_calendar_file_must_be_a_string(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"accounts.yaml:4:3: settings.calendar_file: must be a "
        r"non-empty string",
    ):
        load_config(config_with(tmp_path, "  calendar_file: [a, b]\n"))


def test_robot_check_exits_2_on_a_bad_calendar_file(tmp_path):
    config = config_with(
        tmp_path,
        "  calendar_file: idx-calendar.yaml\n",
        USER_2027.replace("2027-12-24", "2027-12-25"),
    )
    result = run_cli("check", "--config", str(config))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        "idx-calendar.yaml:9:5: 2027.closures.2027-12-25: 2027-12-25 is a Saturday" in result.stderr
    )


# --- the December warning -------------------------------------------------------------------


def warned(cal: Calendar, today: date) -> list[int]:
    """The years ``today``'s warnings name as provisional."""
    return [
        int(re.match(r"the IDX calendar for (\d{4}) is provisional \(", w).group(1))
        for w in cal.warnings(today)
    ]


def test_next_years_provisional_list_is_warned_from_december():
    cal = Calendar()
    assert cal.warnings(date(2026, 11, 30)) == []
    assert cal.warnings(date(2026, 12, 1)) == [
        "the IDX calendar for 2027 is provisional (holidays package); drop the exchange's list "
        "into settings.calendar_file when IDX publishes it"
    ]
    assert cal.warnings(date(2026, 12, 31)) == cal.warnings(date(2026, 12, 1))
    # in 2027 itself, every day until the list is there
    assert warned(cal, date(2027, 3, 1)) == [2027]
    user = Calendar((YearList(2027, "IDX list", {date(2027, 1, 1): "New Year"}, None, USER),))
    assert user.warnings(date(2026, 12, 1)) == [] and user.warnings(date(2027, 3, 1)) == []
    assert warned(user, date(2027, 12, 1)) == [2028]


def test_robot_check_prints_the_warning_and_exits_0(tmp_path, monkeypatch):
    config = config_with(tmp_path)
    monkeypatch.setattr(cli, "_today", lambda: date(2026, 12, 1))
    result = run_cli("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout
    assert "warning: the IDX calendar for 2027 is provisional (holidays package)" in result.stderr
    monkeypatch.setattr(cli, "_today", lambda: date(2026, 11, 30))
    result = run_cli("check", "--config", str(config))
    assert result.exit_code == 0 and "warning" not in result.output


# --- the end-of-day report --------------------------------------------------------------------


def test_the_report_carries_the_calendar_as_a_separate_key():
    facts = DayFacts("2027-01-04", 3600, [], [], calendar=Calendar().year(2027).as_report())
    report = assemble(facts)
    assert report["calendar"]["provisional"] is True and report["calendar"]["year"] == 2027
    assert report["calendar"]["origin"] == "holidays"
    assert list(report)[: len(SEED_KEYS)] == list(SEED_KEYS)
    assert report["summary"] == assemble(DayFacts("2027-01-04", 3600, [], []))["summary"]
    text = render_table(report)
    assert "IDX calendar 2027: PROVISIONAL (no exchange list yet): holidays " in text
    known = render_table(
        assemble(DayFacts("2026-03-02", 0, [], [], calendar=Calendar().year(2026).as_report()))
    )
    assert "IDX calendar 2026: IDX announcement Peng-00171" in known
    assert "PROVISIONAL" not in known


def test_gather_takes_the_calendar_from_the_config(tmp_path):
    store = Store(tmp_path / "state.db")
    try:
        now = wib(date(2027, 1, 5), "16:00")
        plain = load_config(config_with(tmp_path))
        assert build_report(store, plain, date(2027, 1, 5), now)["calendar"]["provisional"]
        assert build_report(store, None, date(2027, 1, 5), now)["calendar"]["provisional"]
        user = load_config(config_with(tmp_path, "  calendar_file: idx-calendar.yaml\n", USER_2027))
        cal = build_report(store, user, date(2027, 1, 5), now)["calendar"]
        assert cal == {
            "year": 2027,
            "provisional": False,
            "origin": "user",
            "source": "IDX announcement TEST-2027",
        }
    finally:
        store.close()


# --- the supervisor and its workers (real processes, the browserless fake broker) ------------


def fake_config(root: Path, **settings) -> Path:
    """ACC_A on the fake broker, a short day (08:45-09:20)."""
    return write_config(
        root,
        ["ACC_A"],
        {
            "operating_hours": {"start": "08:45", "end": "09:20"},
            "eod_report_time": "09:15",
            "poll_interval_ms": 2000,
            "heartbeat_interval_s": 0.5,
            "hang_timeout_s": 30,
            "browser": {"launch_stagger_s": 0},
            **settings,
        },
    )


def supervise(root: Path, day: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(root / "accounts.yaml"),
            "--date",
            day,
            "--clock-speed",
            "90",
            "--clock-start",
            "08:50",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=root,
    )


def finish(proc: subprocess.Popen, timeout: float = 240) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
    assert proc.returncode == 0, out[-3000:]
    return out


START_LINE = re.compile(r"run \d+: trading day (\S+), 1 account\(s\), clock \S+; (.*)$", re.M)


def test_start_line_and_report_mark_a_provisional_day_and_workers_use_the_users_list(tmp_path):
    """Two whole (short) days at once. On 2027-01-04 without a list, the start line and the report
    say PROVISIONAL. On 2027-01-05, closed in the provisional list but open in the user's, the
    worker -- a spawned process that loads the config itself -- places the task's order: with
    any other calendar it would see the market closed and place nothing."""
    provisional, listed = tmp_path / "provisional", tmp_path / "listed"
    provisional.mkdir()
    listed.mkdir()
    fake_config(provisional)
    (listed / "calendars").mkdir()
    (listed / "calendars" / "idx.yaml").write_text(USER_2027)
    fake_config(listed, calendar_file="calendars/idx.yaml")
    task = {
        "task_id": "CAL1",
        "account": "ACC_A",
        "emiten": "TLKM",
        "side": "buy",
        "price": 2690,
        "lot": 3,
        "tp": 2760,
        "cl": 2650,
    }
    (listed / "tasks.json").write_text(json.dumps([task]))
    procs = [
        supervise(provisional, "2027-01-04"),
        supervise(listed, "2027-01-05", "--tasks", str(listed / "tasks.json")),
    ]
    out_provisional, out_listed = finish(procs[0]), finish(procs[1])

    log = (provisional / "logs" / "supervisor.log").read_text()
    day, calendar = START_LINE.search(log).groups()
    assert day == "2027-01-04"
    assert calendar.startswith("IDX calendar 2027 (PROVISIONAL, holidays package): holidays ")
    assert "WARNING" in log and "drop the exchange's list into settings.calendar_file" in log
    report = json.loads((provisional / "reports" / "eod-2027-01-04.json").read_text())
    assert report["calendar"]["provisional"] is True and report["calendar"]["year"] == 2027
    assert "IDX calendar 2027: PROVISIONAL" in out_provisional

    log = (listed / "logs" / "supervisor.log").read_text()
    day, calendar = START_LINE.search(log).groups()
    assert (day, calendar) == (
        "2027-01-05",
        "IDX calendar 2027 (settings.calendar_file): IDX announcement TEST-2027",
    )
    assert "PROVISIONAL" not in log
    report = json.loads((listed / "reports" / "eod-2027-01-05.json").read_text())
    assert report["calendar"] == {
        "year": 2027,
        "provisional": False,
        "origin": "user",
        "source": "IDX announcement TEST-2027",
    }
    book_file = listed / "profiles" / "ACC_A" / "fake_broker.json"
    book = json.loads(book_file.read_text()) if book_file.exists() else []  # no order: no file
    assert [(o["emiten"], o["price"], o["lot"]) for o in book if o["side"] == "buy"] == [
        ("TLKM", 2690, 3)
    ], out_listed[-3000:]


def test_a_provisional_closure_stops_the_day_at_once(tmp_path):
    fake_config(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(tmp_path / "accounts.yaml"),
            "--date",
            "2027-01-01",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "2027-01-01 is not an IDX trading day (IDX closure (provisional, holidays package): "
        "New Year's Day)" in proc.stderr
    )
    assert "IDX calendar 2027 (PROVISIONAL" in proc.stderr
    assert not (tmp_path / "state.db").exists()
