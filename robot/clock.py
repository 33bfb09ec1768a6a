"""Time in WIB (Asia/Jakarta), real or accelerated.

Every schedule decision in the robot, its workers and the simulated broker asks a Clock, never
``datetime.now()``. An accelerated clock is fully described by a short spec string (start, speed,
wall-clock anchor), so a parent process hands the spec to its children and every process derives
the same simulated time without talking to the others.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def to_wib(dt: datetime) -> datetime:
    """An aware datetime in WIB; a naive one is taken to be WIB already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=WIB)
    return dt.astimezone(WIB)


def iso(dt: datetime) -> str:
    """ISO-8601 with the +07:00 offset, the one format times are stored in."""
    return to_wib(dt).isoformat(timespec="milliseconds")


class Clock(Protocol):
    @property
    def speed(self) -> float:
        """Simulated seconds per wall second."""
        ...

    def now(self) -> datetime: ...

    def spec(self) -> str: ...


class RealClock:
    """The host's time, converted to WIB whatever the host's own zone is."""

    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(WIB)

    def spec(self) -> str:
        return "real"


@dataclass(frozen=True)
class AcceleratedClock:
    """Simulated WIB time: ``start`` at wall time ``anchor`` (epoch seconds), ``speed`` times
    faster."""

    start: datetime
    speed: float
    anchor: float

    @classmethod
    def starting(cls, start: datetime, speed: float) -> AcceleratedClock:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        return cls(to_wib(start), float(speed), time.time())

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.anchor) * self.speed)

    def spec(self) -> str:
        return f"accel|{self.start.isoformat()}|{self.speed!r}|{self.anchor!r}"


def clock_from_spec(spec: str) -> Clock:
    """Rebuild the clock another process described with ``Clock.spec()``."""
    if spec == "real":
        return RealClock()
    kind, start, speed, anchor = spec.split("|")
    if kind != "accel":
        raise ValueError(f"unknown clock spec {spec!r}")
    return AcceleratedClock(datetime.fromisoformat(start), float(speed), float(anchor))


def make_clock(day: date, speed: float | None, start: str | None) -> Clock:
    """The real clock, or an accelerated one starting at ``day`` ``start`` (HH:MM) WIB (the
    options --clock-speed and --clock-start of `robot run` and `robot sim`)."""
    if speed is None and start is None:
        return RealClock()
    hh, mm = (start or "08:40").split(":")
    begin = datetime.combine(day, dtime(int(hh), int(mm)), WIB)
    return AcceleratedClock.starting(begin, speed or 1.0)


def wall_seconds(clock: Clock, sim_seconds: float) -> float:
    """How long ``sim_seconds`` of the clock's time last on the wall."""
    return max(0.0, sim_seconds / clock.speed)


def sleep_until(
    clock: Clock, when: datetime, stop: threading.Event | None = None, max_wall_step: float = 1.0
) -> bool:
    """Wait until the clock reads ``when``. Returns False when ``stop`` was set first.

    Waits in short wall-clock steps so a stop request is honoured promptly and a clock that is
    re-read (NTP step, accelerated clock) is followed.
    """
    while True:
        remaining = (when - clock.now()).total_seconds()
        if remaining <= 0:
            return True
        step = min(wall_seconds(clock, remaining), max_wall_step)
        if stop is not None:
            if stop.wait(step):
                return False
        else:
            time.sleep(step)


def today_wib(clock: Clock) -> date:
    return clock.now().date()
