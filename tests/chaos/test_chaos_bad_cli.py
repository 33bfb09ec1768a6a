"""Chaos, bad input: command-line arguments.

Each malformed invocation exits 2 with a message naming the problem, prints no traceback and
starts nothing (no state.db, logs, profiles or browser appear in the working folder). Most go
through click's test runner; a few run the real program to check real exit codes and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from robot.cli import main
from robot.store import Store

ACCOUNTS = [("ACC_001", "stockbit")]
SETTINGS = {"operating_hours": {"start": "08:45", "end": "16:15"}, "eod_report_time": "16:00"}

# name -> (arguments; "{cfg}" is a valid accounts.yaml without a state.db; fragment of stderr)
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "run: impossible --date": (
        ["run", "--config", "{cfg}", "--date", "2026-02-30"],
        "--date: '2026-02-30' is not a date YYYY-MM-DD",
    ),
    "run: --date in words": (
        ["run", "--config", "{cfg}", "--date", "tomorrow"],
        "--date: 'tomorrow' is not a date",
    ),
    "run: --clock-start 25:00": (
        ["run", "--config", "{cfg}", "--clock-start", "25:00"],
        "--clock-start: '25:00' is not a time HH:MM",
    ),
    "run: --clock-start without minutes": (
        ["run", "--config", "{cfg}", "--clock-start", "9"],
        "--clock-start: '9' is not a time HH:MM",
    ),
    "run: --clock-speed 0": (
        ["run", "--config", "{cfg}", "--clock-speed", "0"],
        "Invalid value for '--clock-speed'",
    ),
    "run: --clock-speed negative": (
        ["run", "--config", "{cfg}", "--clock-speed", "-5"],
        "Invalid value for '--clock-speed'",
    ),
    "run: --clock-speed in words": (
        ["run", "--config", "{cfg}", "--clock-speed", "fast"],
        "'fast' is not a valid float",
    ),
    "run: unknown option": (["run", "--config", "{cfg}", "--turbo"], "--turbo"),
    "run: --driver firefox": (
        ["run", "--demo", "--driver", "firefox"],
        "Invalid value for '--driver'",
    ),
    "run: --tasks without a file": (
        ["run", "--config", "{cfg}", "--tasks"],
        "Option '--tasks' requires an argument",
    ),
    "run: missing config": (["run", "--config", "{dir}/nope.yaml"], "nope.yaml: file not found"),
    "run: bad hidden --clock-spec": (
        ["run", "--config", "{cfg}", "--clock-spec", "warp"],
        "--clock-spec:",
    ),
    "unknown command": (["trade-now"], "No such command 'trade-now'"),
    "calendar: neither option": (["calendar"], "give exactly one of --year YYYY or --date"),
    "calendar: both options": (
        ["calendar", "--year", "2026", "--date", "2026-03-02"],
        "give exactly one of --year YYYY or --date",
    ),
    # 1999 now gets the provisional list from the holidays package; 1900 has no data at all
    "calendar: unknown year": (["calendar", "--year", "1900"], "no IDX closure list for 1900"),
    "calendar: year in words": (["calendar", "--year", "next"], "'next' is not a valid integer"),
    "calendar: impossible date": (
        ["calendar", "--date", "2026-13-01"],
        "'2026-13-01' is not a date YYYY-MM-DD",
    ),
    "status without a state.db": (["status", "--config", "{cfg}"], "no state database at"),
    "status --json without a state.db": (
        ["status", "--config", "{cfg}", "--json"],
        "the robot has not run yet",
    ),
    "report without a state.db": (["report", "--config", "{cfg}"], "no state database at"),
    "resolve without a state.db": (
        ["resolve", "T1", "--not-placed", "--config", "{cfg}"],
        "no state database at",
    ),
    "resolve: no id after --placed": (["resolve", "T1", "--placed"], "requires an argument"),
    "restart without a state.db": (["restart", "ACC_001", "--config", "{cfg}"], "no state"),
    "report --date without a state.db": (
        ["report", "--config", "{cfg}", "--date", "2026-03-02"],
        "no state database at",
    ),
    "login: unknown account": (
        ["login", "NOBODY", "--config", "{cfg}"],
        "no account with id 'NOBODY'",
    ),
    "login: --timeout 0": (
        ["login", "ACC_001", "--config", "{cfg}", "--timeout", "0"],
        "Invalid value for '--timeout'",
    ),
    "probe: unknown account": (
        ["probe", "NOBODY", "--config", "{cfg}"],
        "no account with id 'NOBODY'",
    ),
    "probe: bad --emiten": (
        ["probe", "ACC_001", "--config", "{cfg}", "--emiten", "BB CA"],
        "--emiten: 'BB CA' is not a 4-letter IDX code",
    ),
    "schedule-entry: unknown --tz": (
        ["schedule-entry", "--config", "{cfg}", "--cron", "--tz", "Mars/Olympus_Mons"],
        "--tz: unknown time zone",
    ),
    "schedule-entry: --tz a path": (
        ["schedule-entry", "--config", "{cfg}", "--cron", "--tz", "../../etc/passwd"],
        "--tz: unknown time zone",
    ),
    "schedule-entry: neither --cron nor --windows": (
        ["schedule-entry", "--config", "{cfg}"],
        "give --cron or --windows",
    ),
    "check: config is a folder": (["check", "--config", "{dir}"], "is a directory"),
    "sim: port out of range": (["sim", "--port", "70000"], "Invalid value for '--port'"),
    "sim: another host": (["sim", "--host", "0.0.0.0"], "--host"),
    "sim: impossible --date": (
        ["sim", "--port", "0", "--date", "2026-02-30"],
        "'2026-02-30' is not a date",
    ),
    "sim: bad --clock-start": (
        ["sim", "--port", "0", "--clock-start", "99:99"],
        "--clock-start: '99:99' is not a time HH:MM",
    ),
    "sim: no token": (
        ["sim", "--port", "0", "--token-env", "CHAOS_NO_SUCH_VARIABLE"],
        "set the task server token in $CHAOS_NO_SUCH_VARIABLE",
    ),
}


@pytest.fixture
def workdir(tmp_path, monkeypatch, make_config):
    make_config(ACCOUNTS, SETTINGS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHAOS_NO_SUCH_VARIABLE", raising=False)
    return tmp_path


def argv(args: list[str], root: Path) -> list[str]:
    return [
        a.replace("{cfg}", str(root / "accounts.yaml")).replace("{dir}", str(root)) for a in args
    ]


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_bad_arguments_exit_2_with_a_message(workdir, name):
    args, fragment = CLI_CASES[name]
    result = CliRunner().invoke(main, argv(args, workdir))
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert fragment in result.stderr, result.stderr
    assert "error" in result.stderr.lower() and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert sorted(p.name for p in workdir.iterdir()) == ["accounts.yaml"]  # nothing started


def test_report_bad_date_with_a_state_db(workdir):
    Store(workdir / "state.db").close()
    result = CliRunner().invoke(
        main, ["report", "--config", str(workdir / "accounts.yaml"), "--date", "03/02/2026"]
    )
    assert result.exit_code == 2 and "'03/02/2026' is not a date YYYY-MM-DD" in result.stderr
    result = CliRunner().invoke(main, ["report", "--config", str(workdir / "accounts.yaml")])
    assert result.exit_code == 2 and "state.db holds no tasks yet; give --date" in result.stderr


# The real program: (argv after `python -m`, fragment of stderr)
SUBPROCESS_CASES = {
    "supervisor: impossible --date": (
        ["robot.supervisor", "--config", "{cfg}", "--date", "2026-02-30"],
        "--date: '2026-02-30' is not a date",
    ),
    "robot run: --clock-speed 0": (
        ["robot", "run", "--config", "{cfg}", "--clock-speed", "0"],
        "Invalid value for '--clock-speed'",
    ),
    "robot calendar: neither option": (["robot", "calendar"], "give exactly one of"),
    "robot status without a state.db": (
        ["robot", "status", "--config", "{cfg}"],
        "no state database at",
    ),
    "robot login: unknown account": (
        ["robot", "login", "NOBODY", "--config", "{cfg}"],
        "no account with id 'NOBODY'",
    ),
    "robot schedule-entry: bad --tz": (
        ["robot", "schedule-entry", "--config", "{cfg}", "--cron", "--tz", "Nowhere/City"],
        "--tz: unknown time zone",
    ),
    "robot sim: unknown scenario": (
        ["robot", "sim", "--port", "0", "--scenario", "no-such-day"],
        "no-such-day",
    ),
}


def test_bad_arguments_real_exit_codes(tmp_path, make_config):
    make_config(ACCOUNTS, SETTINGS)
    env = dict(os.environ, ROBOT_TASK_TOKEN="chaos-token")
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", *argv(args, tmp_path)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _) in SUBPROCESS_CASES.items()
    }
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            fragment = SUBPROCESS_CASES[name][1]
            assert proc.returncode == 2, (name, proc.returncode, out, err)
            assert fragment in err and "Traceback" not in err + out, (name, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.yaml"]
