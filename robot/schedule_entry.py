"""Daily start entries for cron and Windows Task Scheduler: 08:40 WIB, whatever the host's zone.

The supervisor itself exits at once on weekends and IDX closures, so a weekday entry is safe.
Every entry must run as printed on a fresh install: cron and Task Scheduler start it with no
environment of the user's shell (the robot reads its secrets from the env file beside the
config), in no particular folder, and before the robot has ever created its log folder.
"""

from __future__ import annotations

import ntpath
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from .clock import WIB
from .errors import BadInput

START_WIB = time(8, 40)
DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TASK_NAME = "robot daily"
TASK_DESCRIPTION = "robot: one IDX trading day, 08:40 WIB on weekdays"


@dataclass(frozen=True)
class LocalStart:
    at: time
    day_shift: int  # -1: the previous local day, +1: the next
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
    offset_delta = local.utcoffset()
    assert offset_delta is not None  # astimezone() gives an aware datetime
    offset = offset_delta.total_seconds() / 3600
    jan, jul = (
        datetime(on.year, m, 1, 12, tzinfo=zone)
        if zone
        else datetime(on.year, m, 1, 12).astimezone()
        for m in (1, 7)
    )
    return LocalStart(
        local.time().replace(second=0, microsecond=0),
        (local.date() - wib.date()).days,
        name,
        offset,
        jan.utcoffset() != jul.utcoffset(),
    )


# -------------------------------------------------------------------------------------- cron
def cron_command(config: Path, log_file: Path, python: str | None = None) -> str:
    """The shell command of the cron entry: every path absolute and quoted, the log folder made
    before the redirection needs it."""
    config, log_file = config.resolve(), log_file.resolve()
    py = python or sys.executable
    for what, value in (
        ("the config", str(config)),
        ("the log file", str(log_file)),
        ("the interpreter", py),
    ):
        if "%" in value:
            # cron turns an unescaped % into a newline, and escaping it breaks `sh -c` use
            raise BadInput(
                f"{what} path {value!r} contains '%', which cron treats as a line "
                "break: move it to a path without '%'"
            )
    q = shlex.quote
    return (
        f"cd {q(str(config.parent))} && mkdir -p {q(str(log_file.parent))} && "
        f"{q(py)} -m robot.supervisor --config {q(str(config))} >> {q(str(log_file))} 2>&1"
    )


def cron_entry(
    config: Path,
    log_file: Path,
    zone: ZoneInfo | None = None,
    python: str | None = None,
    cron_tz: bool | None = None,
) -> str:
    cmd = cron_command(config, log_file, python)
    start = local_start(zone)
    if cron_tz is None:
        cron_tz = shutil.which("crond") is not None and shutil.which("cron") is None  # cronie
    lines = [
        "# robot: start the trading day at 08:40 WIB on weekdays (it exits by itself on",
        "# weekends and IDX closures, so a weekday entry is safe). Secrets come from the env",
        f"# file beside {config.resolve().name} (.env, chmod 600): cron passes no environment.",
    ]
    if start.is_wib:
        lines.append(f"40 8 * * 1-5 {cmd}")
    elif cron_tz:
        lines += [
            "# CRON_TZ applies to every line after it: keep these two lines last",
            "CRON_TZ=Asia/Jakarta",
            f"40 8 * * 1-5 {cmd}",
        ]
    else:
        days = ",".join(str((d + start.day_shift) % 7) for d in range(1, 6))
        lines.append(
            f"# this host is on {start.zone} (UTC{start.offset_hours:+g}); 08:40 WIB is "
            f"{start.at:%H:%M} here"
            + (
                " on the previous day"
                if start.day_shift < 0
                else " on the next day"
                if start.day_shift > 0
                else ""
            )
        )
        if start.has_dst:
            lines.append(
                "# WARNING: this zone has daylight saving time: re-check this entry when "
                "the clocks change (WIB has none), or use a cron that knows CRON_TZ"
            )
        lines.append("# with cronie, instead: CRON_TZ=Asia/Jakarta and 40 8 * * 1-5")
        lines.append(f"{start.at.minute} {start.at.hour} * * {days} {cmd}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- Windows
@dataclass(frozen=True)
class WindowsTarget:
    """What the Windows entry runs, as the Windows machine sees it."""

    python: str  # ...\.venv\Scripts\python.exe
    config: str  # ...\accounts.yaml
    workdir: str  # the config's folder
    user: str  # DOMAIN\user the task runs as
    generated_here: bool  # False: generated on another OS from --windows-dir/--windows-user


def windows_target(
    config: Path, windows_dir: str | None = None, windows_user: str | None = None
) -> WindowsTarget:
    """On Windows: this interpreter, config and user. Elsewhere the paths of the Windows machine
    cannot be guessed: ``windows_dir`` (where robot is installed there) and ``windows_user`` are
    required, so the entry never mixes this host's paths with Windows ones."""
    if sys.platform == "win32" and windows_dir is None:
        user = windows_user or "\\".join(
            filter(None, (os.environ.get("USERDOMAIN"), os.environ.get("USERNAME")))
        )
        if not user:
            raise BadInput("--windows-user: cannot tell who runs the task (USERNAME is not set)")
        config = config.resolve()
        return WindowsTarget(sys.executable, str(config), str(config.parent), user, True)
    if not windows_dir or not windows_user:
        missing = [
            opt
            for opt, value in (("--windows-dir", windows_dir), ("--windows-user", windows_user))
            if not value
        ]
        raise BadInput(
            f"this is not Windows: give {' and '.join(missing)} (the folder robot is "
            "installed in on the Windows machine, e.g. C:\\robot, holding .venv and "
            "accounts.yaml, and the account the task runs as, e.g. PC01\\trader)"
        )
    if not ntpath.isabs(windows_dir) or not ntpath.splitdrive(windows_dir)[0]:
        raise BadInput(
            f"--windows-dir: {windows_dir!r} is not an absolute Windows path such as C:\\robot"
        )
    folder = windows_dir.rstrip("\\/")
    return WindowsTarget(
        ntpath.join(folder, ".venv", "Scripts", "python.exe"),
        ntpath.join(folder, config.name),
        folder,
        windows_user,
        False,
    )


def schtasks_command(
    target: WindowsTarget, zone: ZoneInfo | None = None, name: str = TASK_NAME
) -> tuple[str, list[str]]:
    """The `schtasks /Create` line, and notes for the person who runs it."""
    start = local_start(zone)
    days = ",".join(DAYS[(d + start.day_shift) % 7] for d in range(5))
    tr = f'"{target.python}" -m robot.supervisor --config "{target.config}"'.replace('"', '\\"')
    # /RU with /NP: runs whether the user is logged on or not, with no password stored (S4U)
    cmd = (
        f'schtasks /Create /TN "{name}" /TR "{tr}" /SC WEEKLY /D {days} '
        f'/ST {start.at:%H:%M} /RU "{target.user}" /NP /F'
    )
    notes = []
    if not target.generated_here:
        notes.append(
            f"generated for a Windows machine with robot in {target.workdir} "
            f"(interpreter {target.python}), running as {target.user}"
        )
    notes.append(
        "runs whether or not the user is logged on (no password stored); create it "
        "from an elevated prompt if schtasks refuses. Secrets come from the .env file "
        f"in {target.workdir}: Task Scheduler passes no environment of your own"
    )
    if not start.is_wib:
        notes.append(
            f"Task Scheduler uses the machine's local time. On {start.zone} "
            f"(UTC{start.offset_hours:+g}) 08:40 WIB is {start.at:%H:%M}"
            + (
                ", and this zone has daylight saving time: re-check after the clocks change"
                if start.has_dst
                else ""
            )
            + "."
        )
    return cmd, notes


def task_xml(target: WindowsTarget, zone: ZoneInfo | None = None) -> str:
    """Task Scheduler XML (schtasks /Create /XML file /TN "robot daily")."""
    start = local_start(zone)
    days = "".join(f"<{DAY_NAMES[(i + start.day_shift) % 7]}/>" for i in range(5))
    boundary = f"2026-01-01T{start.at:%H:%M}:00"
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>{TASK_DESCRIPTION}</Description></RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{boundary}</StartBoundary>
      <Enabled>true</Enabled>
      <ScheduleByWeek><DaysOfWeek>{days}</DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{escape(target.user)}</UserId>
      <LogonType>S4U</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
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
      <Command>{escape(target.python)}</Command>
      <Arguments>-m robot.supervisor --config "{escape(target.config)}"</Arguments>
      <WorkingDirectory>{escape(target.workdir)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""
