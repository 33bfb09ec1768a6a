"""WIB clocks: the real one, the accelerated one and its spec, and sleep_until.

Wall time is faked by replacing the ``time`` module that robot.clock sees, so nothing here waits on
the real clock for synchronisation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time as real_time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

import robot.clock as clock_mod
from robot.clock import (
    WIB,
    AcceleratedClock,
    RealClock,
    clock_from_spec,
    iso,
    sleep_until,
    to_wib,
    today_wib,
    wall_seconds,
)

SEVEN_HOURS = timedelta(hours=7)
START = datetime(2026, 1, 5, 8, 30, tzinfo=WIB)


class FakeTime:
    """Stands in for the ``time`` module inside robot.clock: time() is set by hand, sleep()
    advances it."""

    def __init__(self, now: float):
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch):
    fake = FakeTime(1_767_571_200.25)
    monkeypatch.setattr(clock_mod, "time", SimpleNamespace(time=fake.time, sleep=fake.sleep))
    return fake


# --- conversions ----------------------------------------------------------------------------


def test_to_wib_takes_naive_as_wib_and_converts_aware():
    naive = datetime(2026, 1, 5, 9, 0)
    assert to_wib(naive) == datetime(2026, 1, 5, 9, 0, tzinfo=WIB)
    assert to_wib(naive).utcoffset() == SEVEN_HOURS
    converted = to_wib(datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
    assert (converted.hour, converted.minute, converted.utcoffset()) == (9, 0, SEVEN_HOURS)


@pytest.mark.parametrize(
    "dt, expected",
    [
        (datetime(2026, 1, 5, 9, 0, tzinfo=WIB), "2026-01-05T09:00:00.000+07:00"),
        (datetime(2026, 1, 5, 2, 0, tzinfo=UTC), "2026-01-05T09:00:00.000+07:00"),
        (datetime(2026, 1, 5, 9, 0), "2026-01-05T09:00:00.000+07:00"),
        (datetime(2026, 1, 5, 9, 0, 1, 123_999, tzinfo=WIB), "2026-01-05T09:00:01.123+07:00"),
        # 20:00 UTC on 5 Jan is already 6 Jan in Jakarta.
        (datetime(2026, 1, 5, 20, 0, tzinfo=UTC), "2026-01-06T03:00:00.000+07:00"),
    ],
)
def test_iso_format(dt, expected):
    assert iso(dt) == expected


# --- RealClock ------------------------------------------------------------------------------


def test_real_clock_is_wib_and_current():
    clock = RealClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert now.utcoffset() == SEVEN_HOURS
    assert before <= now <= after
    assert clock.speed == 1.0
    assert clock.spec() == "real"
    assert isinstance(clock_from_spec("real"), RealClock)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00", iso(now))


def test_real_clock_ignores_the_process_time_zone():
    code = (
        "import json, time\n"
        "from robot.clock import RealClock, iso\n"
        "before = time.time()\n"
        "now = RealClock().now()\n"
        "after = time.time()\n"
        "print(json.dumps({'iso': iso(now), 'offset': now.utcoffset().total_seconds(),\n"
        "                  'epoch': now.timestamp(), 'before': before, 'after': after,\n"
        "                  'local_offset': time.strftime('%z', time.localtime(before))}))\n"
    )
    env = dict(os.environ, TZ="America/New_York")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(out.stdout)
    # The child really runs in New York time (so the test would catch a local-time clock) ...
    assert got["local_offset"] in ("-0500", "-0400")
    # ... yet the robot's clock reads WIB, at the right instant.
    assert got["offset"] == 7 * 3600
    assert got["iso"].endswith("+07:00")
    assert got["before"] <= got["epoch"] <= got["after"]


# --- AcceleratedClock -----------------------------------------------------------------------


def test_accelerated_clock_starts_at_start(fake_time):
    clock = AcceleratedClock.starting(START, 60)
    assert clock.anchor == fake_time.now
    assert clock.speed == 60.0 and isinstance(clock.speed, float)
    assert clock.now() == START


@pytest.mark.parametrize(
    "speed, wall, sim",
    [
        (1, 10.0, timedelta(seconds=10)),
        (60, 10.0, timedelta(minutes=10)),
        (60, 0.5, timedelta(seconds=30)),
        (600, 45.0, timedelta(hours=7, minutes=30)),
        (0.5, 10.0, timedelta(seconds=5)),
    ],
)
def test_accelerated_clock_speed_scaling(fake_time, speed, wall, sim):
    clock = AcceleratedClock.starting(START, speed)
    fake_time.now += wall
    assert clock.now() == START + sim
    assert clock.now().utcoffset() == SEVEN_HOURS


def test_accelerated_clock_takes_naive_start_as_wib_and_converts_aware(fake_time):
    assert AcceleratedClock.starting(datetime(2026, 1, 5, 8, 30), 10).now() == START
    utc_start = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
    now = AcceleratedClock.starting(utc_start, 10).now()
    assert now == START and now.hour == 8 and now.utcoffset() == SEVEN_HOURS


@pytest.mark.parametrize("speed", [0, -1, -0.5])
def test_accelerated_clock_rejects_non_positive_speed(speed):
    with pytest.raises(ValueError):
        AcceleratedClock.starting(START, speed)


@pytest.mark.parametrize(
    "start, speed",
    [
        (START, 60),
        (datetime(2026, 1, 9, 11, 29, 59, 987_654, tzinfo=WIB), 7.3),
        (datetime(2026, 1, 5, 1, 30, tzinfo=UTC), 0.25),
        (datetime(2026, 3, 25, 15, 55), 1234.5678),
    ],
)
def test_spec_round_trip_gives_the_same_now(fake_time, start, speed):
    clock = AcceleratedClock.starting(start, speed)
    fake_time.now += 12.345
    restored = clock_from_spec(clock.spec())
    assert isinstance(restored, AcceleratedClock)
    assert restored.speed == clock.speed
    assert restored.anchor == clock.anchor
    assert restored.start == clock.start
    # Same wall instant -> same simulated instant (float arithmetic may differ by a microsecond).
    assert abs(restored.now() - clock.now()) <= timedelta(milliseconds=1)
    assert restored.now().utcoffset() == SEVEN_HOURS
    assert iso(restored.now()) == iso(clock.now())
    fake_time.now += 100.0
    assert abs(restored.now() - clock.now()) <= timedelta(milliseconds=1)


def test_spec_round_trip_in_another_process():
    """A child process rebuilding the clock from the spec reads the same simulated time."""
    clock = AcceleratedClock.starting(START, 60)
    code = (
        "import json, sys, time\n"
        "from robot.clock import clock_from_spec\n"
        "c = clock_from_spec(sys.argv[1])\n"
        "t = time.time()\n"
        "now = c.now()\n"
        "offset = now.utcoffset().total_seconds()\n"
        "print(json.dumps({'wall': t, 'now': now.isoformat(), 'offset': offset}))\n"
    )
    env = dict(os.environ, TZ="America/New_York")
    out = subprocess.run(
        [sys.executable, "-c", code, clock.spec()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(out.stdout)
    child_now = datetime.fromisoformat(got["now"])
    # What this process's clock read at the wall instant the child sampled time.time(); the child
    # read now() just after, at 60x speed, so allow a small forward slack.
    expected = START + timedelta(seconds=(got["wall"] - clock.anchor) * 60)
    assert got["offset"] == 7 * 3600
    assert timedelta(0) <= child_now - expected <= timedelta(seconds=5)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "accel|2026-01-05T08:30:00+07:00|60.0",
        "fast|2026-01-05T08:30:00+07:00|60.0|1.0",
        "accel|not-a-date|60.0|1.0",
        "accel|2026-01-05T08:30:00|x|1.0",
    ],
)
def test_clock_from_spec_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        clock_from_spec(spec)


def test_wall_seconds():
    assert wall_seconds(RealClock(), 30) == 30
    clock = AcceleratedClock(START, 60.0, 0.0)
    assert wall_seconds(clock, 600) == 10
    assert wall_seconds(clock, -5) == 0


def test_today_wib_uses_the_wib_date(fake_time):
    # 17:30 UTC on 5 Jan is 00:30 on 6 Jan in Jakarta.
    clock = AcceleratedClock.starting(datetime(2026, 1, 5, 17, 30, tzinfo=UTC), 1)
    assert today_wib(clock) == date(2026, 1, 6)


# --- sleep_until ----------------------------------------------------------------------------


def test_sleep_until_returns_false_promptly_when_stop_is_set():
    stop = threading.Event()
    stop.set()
    t0 = real_time.monotonic()
    # A step cap of an hour: if the set event were not honoured this call would block for it.
    assert (
        sleep_until(RealClock(), RealClock().now() + timedelta(hours=1), stop, max_wall_step=3600)
        is False
    )
    assert real_time.monotonic() - t0 < 1.0


def test_sleep_until_returns_false_promptly_on_an_accelerated_clock():
    stop = threading.Event()
    stop.set()
    clock = AcceleratedClock.starting(START, 60)
    t0 = real_time.monotonic()
    assert sleep_until(clock, START + timedelta(hours=8), stop, max_wall_step=3600) is False
    assert real_time.monotonic() - t0 < 1.0


@pytest.mark.parametrize("stop", [None, threading.Event()], ids=["no-stop", "unset-stop"])
def test_sleep_until_returns_true_when_target_already_past(stop):
    clock = RealClock()
    t0 = real_time.monotonic()
    assert sleep_until(clock, clock.now() - timedelta(seconds=1), stop, max_wall_step=3600) is True
    assert real_time.monotonic() - t0 < 1.0


def test_sleep_until_target_exactly_now_returns_true_without_sleeping(fake_time):
    clock = AcceleratedClock.starting(START, 60)
    assert sleep_until(clock, START) is True
    assert fake_time.sleeps == []


def test_sleep_until_steps_in_wall_seconds_capped_by_max_step(fake_time):
    clock = AcceleratedClock.starting(START, 60)
    # 5 simulated minutes at 60x are 5 wall seconds, taken in steps of at most 1 s.
    assert sleep_until(clock, START + timedelta(minutes=5)) is True
    assert fake_time.sleeps == pytest.approx([1.0] * 5)
    assert clock.now() >= START + timedelta(minutes=5)


def test_sleep_until_single_step_when_cap_is_large(fake_time):
    clock = AcceleratedClock.starting(START, 60)
    assert sleep_until(clock, START + timedelta(minutes=5), max_wall_step=60) is True
    assert fake_time.sleeps == pytest.approx([5.0])


def test_sleep_until_follows_a_clock_that_jumps(fake_time):
    clock = AcceleratedClock.starting(START, 1)

    class JumpingStop:
        """A stop event never set; its first wait sees the wall clock jump 100 s forward."""

        def __init__(self):
            self.waits: list[float] = []

        def wait(self, timeout):
            self.waits.append(timeout)
            fake_time.now += timeout + (100 if len(self.waits) == 1 else 0)
            return False

    stop = JumpingStop()
    assert sleep_until(clock, START + timedelta(seconds=103), stop, max_wall_step=1) is True
    assert stop.waits == pytest.approx([1.0, 1.0, 1.0])


def test_sleep_until_stops_when_stop_is_set_midway(fake_time):
    clock = AcceleratedClock.starting(START, 60)

    class StopAfter:
        """Reports 'set' on the third wait, advancing fake time as a real wait would."""

        def __init__(self):
            self.waits = 0

        def wait(self, timeout):
            self.waits += 1
            fake_time.now += timeout
            return self.waits >= 3

    stop = StopAfter()
    assert sleep_until(clock, START + timedelta(hours=1), stop) is False
    assert stop.waits == 3
    assert fake_time.sleeps == []  # with a stop event it never calls time.sleep
