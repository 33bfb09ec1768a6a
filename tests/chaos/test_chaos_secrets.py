"""Chaos: secrets and exposure, after a real (short, accelerated) day on the simulator.

One day is run for the module: the demo scenario from 08:50 WIB at 100x, three accounts on three
brokers in headless Chromium, with a distinctive login password and IPOT trading PIN, stopped
(SIGTERM) as soon as every broker was logged into, the PIN typed and events delivered; its
end-of-day report is then rebuilt with `robot report --json`. Then:

- the task-server token, the PIN, the password and every broker session cookie value the
  simulator ever issued appear nowhere the robot writes: logs/, state.db (its raw bytes, -wal and
  -shm included, and every value read back through SQL), reports/ and the report, the
  supervisor's output, and the events the task server received. The profiles may hold the
  session cookie (Chromium keeps it there, encrypted) but never the token, PIN or password, in
  UTF-8 or UTF-16;
- every socket the robot's process tree listened on (chromedriver, Chromium's DevTools) and the
  simulator's server are bound to loopback, and the simulator refuses a connection made to this
  machine's other addresses; `robot sim` offers no way to bind elsewhere;
- the profile folders the workers created are private (0700) on POSIX.

The `chaos`-marked variant runs the whole demo day (08:30-16:15, about four minutes).
"""

from __future__ import annotations

import inspect
import ipaddress
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

import statedb
from e2e import TOKEN, SimDay
from waiting import wait_for

pytestmark = pytest.mark.browser

PASSWORD = "Pw7xQchaosZ3kL9v"  # distinctive: cannot occur by chance in any output
PIN = "80417263"  # no order id (100001...), price or time looks like it
# Stopped as soon as every secret was used (about 20 s on an idle machine); the long window is
# only the margin for a loaded one (15:50 is 4 minutes away at 100x)
SHORT = {"start": "08:50", "speed": 100}
FULL = {"start": "08:30", "speed": 150}


@dataclass
class Finished:
    day: SimDay
    code: int
    output: str
    cookies: set[str]
    sessions: list = field(default_factory=list)  # the simulator's
    listening: set[tuple[str, int, str]] = field(default_factory=set)  # (ip, port, process)
    report: str = ""  # `robot report --json`


def _listening(pid: int) -> set[tuple[str, int, str]]:
    """Every listening inet socket of a process tree (the robot starts no server of its own;
    chromedriver and Chromium's DevTools do)."""
    found = set()
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return found
    for p in procs:
        try:
            for c in p.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    found.add((c.laddr.ip, c.laddr.port, p.name()))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def run_day(root: Path, stop_when_used: bool, **kw) -> Finished:
    """Run a day; with ``stop_when_used``, stop it (SIGTERM, a clean stop) as soon as every
    secret has been used, then rebuild its report with `robot report`: a loaded machine may take
    a minute to start three browsers, and then no fixed accelerated window is long enough."""
    day = SimDay(root, scenario="demo", driver="selenium", password=PASSWORD, pin=PIN, **kw)
    finished = Finished(day, -1, "", set())
    sessions = day.sim.state.sessions
    issue = sessions.create

    def create(*args, **kwargs):  # remember every session (cookie) ever issued
        session = issue(*args, **kwargs)
        finished.cookies.add(session.token)
        finished.sessions.append(session)
        return session

    sessions.create = create
    done = threading.Event()
    try:
        proc = day.start_robot()

        def watch() -> None:  # sampling what listens, until the day ends
            while not done.is_set():
                finished.listening |= _listening(proc.pid)
                done.wait(0.3)

        watcher = threading.Thread(target=watch, name="listen-watch", daemon=True)
        watcher.start()
        if stop_when_used:
            wait_for(
                lambda: secrets_used(finished) and proc.poll() is None,
                600,
                "logins on every broker, the IPOT PIN and delivered events",
            )
            proc.send_signal(signal.SIGTERM)
        finished.code, finished.output = day.finish(timeout=1500)
        done.set()
        watcher.join(10)
        report = subprocess.run(
            [
                sys.executable,
                "-m",
                "robot",
                "report",
                "--config",
                str(day.config),
                "--date",
                day.day.isoformat(),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=root,
        )
        assert report.returncode == 0, report.stderr
        finished.report = report.stdout
    except BaseException:
        done.set()
        day.stop()
        raise
    return finished


def secrets_used(f: Finished) -> bool:
    """Every broker logged in (a cookie each), the PIN unlocked IPOT's pad, events delivered."""
    skins = {s.skin for s in f.sessions}
    return (
        {"stockbit", "ipot", "ajaib"} <= skins
        and any(s.skin == "ipot" and s.pin_unlocked for s in f.sessions)
        and bool(f.day.sim.events())
    )


@pytest.fixture(scope="module")
def short_day(tmp_path_factory):
    finished = run_day(tmp_path_factory.mktemp("secrets"), stop_when_used=True, **SHORT)
    try:
        yield finished
    finally:
        finished.day.stop()


# ------------------------------------------------------------------------------------ checks
def secrets_of(f: Finished) -> dict[str, str]:
    return {"task server token": TOKEN, "trading PIN": PIN, "login password": PASSWORD}


def check_the_day_used_every_secret(f: Finished) -> None:
    """Otherwise the rest proves nothing: logins, the PIN pad and the task server all happened."""
    assert f.code == 0, f.output[-3000:]
    assert secrets_used(f) and len(f.cookies) >= 3, f.sessions
    assert f.day.tasks(), "no task was pulled with the token"
    assert list((f.day.root / "logs").glob("*.log"))
    assert json.loads(f.report)["summary"], f.report


def _variants(value: str) -> list[bytes]:
    return [value.encode("utf-8"), value.encode("utf-16-le")]


def _db_text(db: Path) -> str:
    """Every value of every table, read back through SQLite (a long text can straddle pages)."""
    tables = [
        r["name"] for r in statedb.rows(db, "SELECT name FROM sqlite_master WHERE type='table'")
    ]
    return "\n".join(
        repr(tuple(row.values()))
        for t in tables
        for row in statedb.rows(db, f'SELECT * FROM "{t}"')
    )


def check_no_secret_outside_the_profiles(f: Finished) -> None:
    root = f.day.root
    profiles = root / "profiles"
    wanted = secrets_of(f) | {f"session cookie {c[:6]}...": c for c in f.cookies}
    files = [p for p in root.rglob("*") if p.is_file() and profiles not in p.parents]
    names = {p.relative_to(root).as_posix() for p in files}
    assert {"state.db", "accounts.yaml"} <= names, names
    assert any(n.startswith("logs/") for n in names)
    leaks = []
    for path in files:
        data = path.read_bytes()
        leaks += [
            (what, path.name)
            for what, value in wanted.items()
            if any(v in data for v in _variants(value))
        ]
    text = {
        "state.db (SQL)": _db_text(root / "state.db"),
        "supervisor output": f.output,
        "end-of-day report": f.report,
        "events received": json.dumps(f.day.sim.events(), ensure_ascii=False),
    }
    for where, body in text.items():
        leaks += [(what, where) for what, value in wanted.items() if value in body]
    assert not leaks, leaks


def check_profiles_hold_no_token_pin_or_password(f: Finished) -> None:
    profiles = f.day.root / "profiles"
    files = [p for p in profiles.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(files) > 20, "the profiles look empty"
    leaks = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        leaks += [
            (what, str(path.relative_to(profiles)))
            for what, value in secrets_of(f).items()
            if any(v in data for v in _variants(value))
        ]
    assert not leaks, leaks


def check_everything_listens_on_loopback(f: Finished) -> None:
    assert f.listening, "no listening socket was ever seen: the sampling proves nothing"
    outside = [s for s in f.listening if not ipaddress.ip_address(s[0]).is_loopback]
    assert not outside, outside


def check_profiles_are_private(f: Finished) -> None:
    if os.name != "posix":
        return
    for account, _ in f.day.accounts:
        mode = stat.S_IMODE((f.day.root / "profiles" / account).stat().st_mode)
        assert mode == 0o700, f"{account}: profile mode {oct(mode)}"


# ------------------------------------------------------------------------------------- tests
def test_the_short_day_used_every_secret(short_day):
    check_the_day_used_every_secret(short_day)


def test_no_secret_in_logs_state_reports_output_or_events(short_day):
    check_no_secret_outside_the_profiles(short_day)


def test_profiles_hold_no_token_pin_or_password(short_day):
    check_profiles_hold_no_token_pin_or_password(short_day)


def test_the_robots_processes_listen_on_loopback_only(short_day):
    check_everything_listens_on_loopback(short_day)


def test_worker_created_profiles_are_0700(short_day):
    check_profiles_are_private(short_day)


def test_simulator_binds_loopback_and_refuses_other_addresses(short_day):
    sim = short_day.day.sim
    sim.start()  # stopped only at module teardown
    host, port = sim._httpd.socket.getsockname()[:2]
    assert host == "127.0.0.1" and sim.url.startswith("http://127.0.0.1:")
    others = [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not ipaddress.ip_address(a.address).is_loopback
    ]
    for address in others:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # ... while loopback answers


def test_robot_sim_offers_no_other_host():
    from robot.cli import main
    from simulator.server import HOST, serve

    assert HOST == "127.0.0.1"
    assert not {"host", "bind", "address"} & set(inspect.signature(serve).parameters)
    sim_help = CliRunner().invoke(main, ["sim", "--help"]).output
    assert "127.0.0.1" in sim_help and "--host" not in sim_help and "--bind" not in sim_help
    for option in ("--host", "--bind", "--listen"):
        result = CliRunner().invoke(main, ["sim", option, "0.0.0.0"])
        assert result.exit_code == 2 and "No such option" in result.stderr


@pytest.mark.chaos
@pytest.mark.timeout(1800)
def test_a_whole_demo_day_leaks_nothing(tmp_path):
    finished = run_day(tmp_path, stop_when_used=False, **FULL)
    try:
        check_the_day_used_every_secret(finished)
        assert list((tmp_path / "reports").iterdir()), "the day wrote no report"
        check_no_secret_outside_the_profiles(finished)
        check_profiles_hold_no_token_pin_or_password(finished)
        check_everything_listens_on_loopback(finished)
        check_profiles_are_private(finished)
    finally:
        finished.day.stop()


def test_the_leak_check_finds_planted_secrets(short_day, tmp_path):
    """The negative control: the same check on a copy of the day with a PIN in a log line, the
    password (UTF-16) in state.db's -wal and a cookie in the report must fail, naming each."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(short_day.day.root, copy, ignore=shutil.ignore_patterns("profiles", "*.lock"))
    log = next((copy / "logs").glob("*.log"))
    log.write_text(log.read_text() + f"oops pin={PIN[:4]} {PIN}\n")
    (copy / "state.db-wal").write_bytes(PASSWORD.encode("utf-16-le"))
    cookie = sorted(short_day.cookies)[0]
    planted = Finished(
        SimDay.__new__(SimDay),
        0,
        short_day.output,
        short_day.cookies,
        report=short_day.report + cookie,
    )
    planted.day.root = copy
    planted.day.sim = short_day.day.sim
    with pytest.raises(AssertionError) as info:
        check_no_secret_outside_the_profiles(planted)
    found = str(info.value)
    assert f"('trading PIN', '{log.name}')" in found
    assert "('login password', 'state.db-wal')" in found
    assert f"('session cookie {cookie[:6]}...', 'end-of-day report')" in found
