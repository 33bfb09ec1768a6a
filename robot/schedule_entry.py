"""Daily start entries for cron and Windows Task Scheduler: 08:40 WIB, whatever the host's zone.

The supervisor itself exits at once on weekends and IDX closures, so a weekday entry is safe.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from .clock import WIB

START_WIB = time(8, 40)
DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass(frozen=True)
class LocalStart:
    at: time
    day_shift: int           # -1: the previous local day, +1: the next
    zone: str
    offset_hours: float
    has_dst: bool

    @property
    def is_wib(self) -> bool:
        return self.offset_hours == 7 and not self.has_dst


def local_start(zone: ZoneInfo | None, on: date | None = None) -> LocalStart:
    """08:40 WIB expressed in ``zone`` (this host's zone when None)."""
    on = on or datetime.now(WIB).date()
    wib = datetime.combine(on, START_WIB, WIB)
    local = wib.astimezone(zone) if zone else wib.astimezone()
    name = getattr(zone, "key", None) or local.tzname() or "local"
    offset = local.utcoffset().total_seconds() / 3600
    jan, jul = (datetime(on.year, m, 1, 12, tzinfo=zone) if zone else
                datetime(on.year, m, 1, 12).astimezone() for m in (1, 7))
    return LocalStart(local.time().replace(second=0, microsecond=0),
                      (local.date() - wib.date()).days, name, offset,
                      jan.utcoffset() != jul.utcoffset())


def command_line(config: Path, python: str | None = None, windows: bool = False) -> str:
    py = python or sys.executable
    if windows:
        return f'"{py}" -m robot.supervisor --config "{config}"'
    return f"{py} -m robot.supervisor --config {config}"


def cron_entry(config: Path, log_file: Path, zone: ZoneInfo | None = None,
               python: str | None = None, cron_tz: bool | None = None) -> str:
    config, log_file = config.resolve(), log_file.resolve()
    cmd = f"cd {config.parent} && {command_line(config, python)} >> {log_file} 2>&1"
    start = local_start(zone)
    if cron_tz is None:
        cron_tz = shutil.which("crond") is not None and shutil.which("cron") is None  # cronie
    lines = ["# robot: start the trading day at 08:40 WIB on weekdays (it exits by itself on",
             "# weekends and IDX closures, so a weekday entry is safe)"]
    if start.is_wib:
        lines.append(f"40 8 * * 1-5 {cmd}")
    elif cron_tz:
        lines += ["CRON_TZ=Asia/Jakarta", f"40 8 * * 1-5 {cmd}"]
    else:
        days = ",".join(str((d + start.day_shift) % 7) for d in range(1, 6))
        lines.append(f"# this host is on {start.zone} (UTC{start.offset_hours:+g}); 08:40 WIB is "
                     f"{start.at:%H:%M} here" + (" on the previous day" if start.day_shift < 0
                                                  else " on the next day" if start.day_shift > 0
                                                  else ""))
        if start.has_dst:
            lines.append("# WARNING: this zone has daylight saving time: re-check this entry when "
                         "the clocks change (WIB has none), or use a cron that knows CRON_TZ")
        lines.append(f"# with cronie, instead: CRON_TZ=Asia/Jakarta and 40 8 * * 1-5")
        lines.append(f"{start.at.minute} {start.at.hour} * * {days} {cmd}")
    return "\n".join(lines)


def schtasks_command(config: Path, zone: ZoneInfo | None = None, python: str | None = None,
                     name: str = "robot daily") -> tuple[str, str | None]:
    """The `schtasks /Create` line, and a note when the machine is not on WIB."""
    start = local_start(zone)
    days = ",".join(DAYS[(d + start.day_shift) % 7] for d in range(5))
    tr = command_line(config.resolve(), python or _windows_python(), windows=True).replace('"', '\\"')
    cmd = (f'schtasks /Create /TN "{name}" /TR "{tr}" /SC WEEKLY /D {days} '
           f'/ST {start.at:%H:%M} /F')
    note = None
    if not start.is_wib:
        note = (f"Task Scheduler uses the machine's local time. On {start.zone} "
                f"(UTC{start.offset_hours:+g}) 08:40 WIB is {start.at:%H:%M}"
                + (", and this zone has daylight saving time: re-check after the clocks change"
                   if start.has_dst else "") + ".")
    return cmd, note


def _windows_python() -> str:
    return sys.executable if sys.platform == "win32" else r"C:\robot\.venv\Scripts\python.exe"


def task_xml(config: Path, zone: ZoneInfo | None = None, python: str | None = None) -> str:
    """Task Scheduler XML (schtasks /Create /XML file /TN "robot daily")."""
    start = local_start(zone)
    days = "".join(f"<{d}/>" for d in (["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                         "Saturday", "Sunday"][(i + start.day_shift) % 7]
                                        for i in range(5)))
    config = config.resolve()
    py = python or _windows_python()
    boundary = f"2026-01-01T{start.at:%H:%M}:00"
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>robot: one IDX trading day, 08:40 WIB on weekdays</Description></RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{boundary}</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByWeek><DaysOfWeek>{days}</DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>
    </CalendarTrigger>
  </Triggers>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <ExecutionTimeLimit>PT10H</ExecutionTimeLimit>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(py)}</Command>
      <Arguments>-m robot.supervisor --config "{escape(str(config))}"</Arguments>
      <WorkingDirectory>{escape(str(config.parent))}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""
