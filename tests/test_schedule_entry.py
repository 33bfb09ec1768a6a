"""Daily start entries: 08:40 WIB on weekdays, whatever the host's time zone, and each one runs
as printed: the cron line is executed by `sh -c` in an empty environment, the Windows XML is
checked against the Task Scheduler schema's required elements."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from configs import write_config
from robot.cli import main
from robot.config import PROJECT_ROOT
from robot.errors import BadInput
from robot.schedule_entry import cron_entry, local_start, schtasks_command, task_xml, windows_target

CONFIG = PROJECT_ROOT / "accounts.yaml"
NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
WIN = windows_target(CONFIG, r"C:\robot", r"PC01\trader")


def entry_line(text: str) -> str:
    return [
        ln
        for ln in text.splitlines()
        if ln and not ln.startswith("#") and "=" not in ln.split(" ", 1)[0]
    ][0]


def command_of(line: str) -> str:
    """What cron hands to /bin/sh: the line after its five time fields."""
    return line.split(" ", 5)[5]


def test_wib_host_gets_a_plain_entry():
    text = cron_entry(CONFIG, Path("/var/log/robot.log"), ZoneInfo("Asia/Jakarta"))
    line = entry_line(text)
    assert line.startswith("40 8 * * 1-5 ")
    assert f"-m robot.supervisor --config {CONFIG.resolve()}" in line
    assert line.endswith(">> /var/log/robot.log 2>&1")
    assert "mkdir -p /var/log &&" in line


def test_utc_host_is_converted_with_a_comment():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("UTC"), cron_tz=False)
    assert entry_line(text).startswith("40 1 * * 1,2,3,4,5 ")
    assert "08:40 WIB is 01:40 here" in text and "CRON_TZ=Asia/Jakarta" in text


def test_west_of_utc_shifts_to_the_previous_day():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("America/Los_Angeles"), cron_tz=False)
    line = entry_line(text)
    assert " * * 0,1,2,3,4 " in line  # Sunday..Thursday evenings
    assert "previous day" in text and "daylight saving" in text


def test_cronie_gets_cron_tz():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("UTC"), cron_tz=True)
    assert "CRON_TZ=Asia/Jakarta\n40 8 * * 1-5 " in text
    assert "every line after it" in text


def test_interpreter_is_absolute():
    line = entry_line(cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("Asia/Jakarta")))
    assert line.split(" && ")[2].split()[0].startswith("/")


def test_paths_with_spaces_and_quotes_are_quoted(tmp_path):
    folder = tmp_path / "my robot's day"
    line = entry_line(
        cron_entry(folder / "accounts.yaml", folder / "logs" / "cron.log", ZoneInfo("Asia/Jakarta"))
    )
    assert "'\"'\"'" in line  # the apostrophe, quoted for sh
    assert f" {folder}" not in line  # never a bare path with a space


def test_percent_in_a_path_is_refused(tmp_path):
    with pytest.raises(BadInput, match="cron treats as a line break"):
        cron_entry(tmp_path / "100%" / "accounts.yaml", tmp_path / "x.log", ZoneInfo("UTC"))


def test_local_start_east_of_wib():
    s = local_start(ZoneInfo("Asia/Tokyo"))
    assert (s.at.hour, s.at.minute, s.day_shift) == (10, 40, 0) and not s.is_wib


# ------------------------------------------------------------------- runs as printed (cron)


def scheduled_project(tmp_path: Path, env_text: str | None) -> Path:
    """A fresh install: a config, maybe an env file, and no logs/ folder yet."""
    root = tmp_path / "my robot"
    root.mkdir()
    write_config(
        root,
        [{"id": "ACC_X", "broker": "stockbit", "enabled": False}],
        {"task_server": {"url": "http://127.0.0.1:9", "token_env": "ROBOT_CRON_TOKEN"}},
    )
    if env_text is not None:
        (root / ".env").write_text(env_text)
        (root / ".env").chmod(0o600)
    return root


def printed_cron_command(root: Path) -> str:
    result = CliRunner().invoke(
        main,
        [
            "schedule-entry",
            "--cron",
            "--tz",
            "Asia/Jakarta",
            "--config",
            str(root / "accounts.yaml"),
        ],
        env={"ROBOT_CRON_TOKEN": None},
    )
    assert result.exit_code == 0, result.output
    return command_of(entry_line(result.stdout))


def run_like_cron(command: str) -> subprocess.CompletedProcess:
    # cron runs the line with /bin/sh and (almost) no environment; env -i gives none at all
    return subprocess.run(
        ["env", "-i", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def test_cron_command_runs_as_printed_in_an_empty_environment(tmp_path):
    root = scheduled_project(tmp_path, "ROBOT_CRON_TOKEN=from-the-env-file\n")
    proc = run_like_cron(printed_cron_command(root))
    log = (root / "logs" / "cron.log").read_text()
    assert proc.returncode == 0, log
    assert f"secrets: env file {root / '.env'}" in log
    assert "nothing to do" in log  # a closure, or no enabled account
    assert "from-the-env-file" not in log


def test_cron_command_without_its_secret_says_which_and_exits_2(tmp_path):
    root = scheduled_project(tmp_path, None)
    proc = run_like_cron(printed_cron_command(root))
    log = (root / "logs" / "cron.log").read_text()
    assert proc.returncode == 2, log
    assert "ROBOT_CRON_TOKEN is not set" in log and "Traceback" not in log


def test_schedule_entry_warns_about_a_secret_only_in_this_shell(tmp_path):
    root = scheduled_project(tmp_path, None)
    result = CliRunner().invoke(
        main,
        ["schedule-entry", "--cron", "--config", str(root / "accounts.yaml")],
        env={"ROBOT_CRON_TOKEN": "only-in-this-shell"},
    )
    assert result.exit_code == 0
    assert "ROBOT_CRON_TOKEN is not in" in result.stderr and "no shell environment" in result.stderr
    assert "only-in-this-shell" not in result.output


# ------------------------------------------------------------------------------- Windows
def test_windows_command_and_notes():
    cmd, notes = schtasks_command(WIN, ZoneInfo("Asia/Jakarta"))
    assert cmd.startswith('schtasks /Create /TN "robot daily" ')
    assert "/SC WEEKLY /D MON,TUE,WED,THU,FRI /ST 08:40" in cmd
    assert '/RU "PC01\\trader" /NP' in cmd
    assert (
        r"\"C:\robot\.venv\Scripts\python.exe\" -m robot.supervisor "
        r"--config \"C:\robot\accounts.yaml\"" in cmd
    )
    assert any("generated for a Windows machine with robot in C:\\robot" in n for n in notes)
    cmd, notes = schtasks_command(WIN, ZoneInfo("Europe/Amsterdam"))
    hhmm = "02:40" if "/ST 02:40" in cmd else "03:40"  # CET or CEST, by today's date
    assert f"/ST {hhmm}" in cmd
    assert any("local time" in n and hhmm in n and "daylight saving" in n for n in notes)


def test_windows_entry_elsewhere_needs_the_windows_paths():
    if os.name == "nt":
        pytest.skip("on Windows the interpreter and config of this machine are used")
    with pytest.raises(BadInput, match="--windows-dir and --windows-user"):
        windows_target(CONFIG)
    with pytest.raises(BadInput, match="not an absolute Windows path"):
        windows_target(CONFIG, "/home/me/robot", "PC01\\trader")


def test_windows_entry_never_mixes_in_this_hosts_paths():
    root = ET.fromstring(task_xml(WIN, ZoneInfo("Asia/Jakarta")).split("\n", 1)[1])
    exe = root.find(f"{NS}Actions/{NS}Exec")
    for field in ("Command", "Arguments", "WorkingDirectory"):
        text = exe.findtext(f"{NS}{field}")
        assert "C:\\robot" in text and "/" not in text.replace("-m robot.supervisor", ""), text


# The Task Scheduler schema (taskschd's task.xsd): the rules of the elements the entry uses.
LOGON_TYPES = {
    "S4U",
    "Password",
    "InteractiveToken",
    "InteractiveTokenOrPassword",
    "Group",
    "ServiceAccount",
}
RUN_LEVELS = {"LeastPrivilege", "HighestAvailable"}
SETTINGS_CHILDREN = {
    "AllowStartOnDemand",
    "RestartOnFailure",
    "MultipleInstancesPolicy",
    "DisallowStartIfOnBatteries",
    "StopIfGoingOnBatteries",
    "AllowHardTerminate",
    "StartWhenAvailable",
    "NetworkProfileName",
    "RunOnlyIfNetworkAvailable",
    "WakeToRun",
    "Enabled",
    "Hidden",
    "DeleteExpiredTaskAfter",
    "IdleSettings",
    "NetworkSettings",
    "ExecutionTimeLimit",
    "Priority",
    "RunOnlyIfIdle",
    "UseUnifiedSchedulingEngine",
    "DisallowStartOnRemoteAppSession",
    "MaintenanceSettings",
    "Volatile",
}
TASK_CHILDREN = {"RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"}


def schema_problems(root: ET.Element) -> list[str]:
    """Every way the document breaks the rules of task.xsd that apply to it."""
    out = []
    if root.tag != f"{NS}Task":
        return [f"root is {root.tag}, not Task in the task namespace"]
    children = [c.tag.removeprefix(NS) for c in root]
    out += [f"unknown Task child {c}" for c in children if c not in TASK_CHILDREN]
    out += [f"Task child {c} appears twice" for c in TASK_CHILDREN if children.count(c) > 1]
    if not root.get("version", "").replace(".", "").isdigit():
        out.append("Task/@version is not a version number")
    actions = root.find(f"{NS}Actions")
    if actions is None or not list(actions):
        return out + ["Actions is required and needs at least one action"]
    principal_ids = {p.get("id") for p in root.iterfind(f"{NS}Principals/{NS}Principal")}
    if actions.get("Context") and actions.get("Context") not in principal_ids:
        out.append("Actions/@Context names no Principal/@id (keyref ContextKeyRef)")
    for exe in actions.iterfind(f"{NS}Exec"):
        if not (exe.findtext(f"{NS}Command") or "").strip():
            out.append("Exec needs a Command")
    for p in root.iterfind(f"{NS}Principals/{NS}Principal"):
        if p.findtext(f"{NS}LogonType") not in LOGON_TYPES:
            out.append(f"Principal LogonType {p.findtext(f'{NS}LogonType')!r} is not allowed")
        if p.find(f"{NS}RunLevel") is not None and p.findtext(f"{NS}RunLevel") not in RUN_LEVELS:
            out.append("Principal RunLevel is not allowed")
        if p.find(f"{NS}UserId") is None and p.find(f"{NS}GroupId") is None:
            out.append("Principal needs a UserId or GroupId")
    for trigger in root.iterfind(f"{NS}Triggers/{NS}CalendarTrigger"):
        try:
            datetime.fromisoformat(trigger.findtext(f"{NS}StartBoundary") or "")
        except ValueError:
            out.append("CalendarTrigger needs a StartBoundary dateTime")
        schedules = [c for c in trigger if c.tag.removeprefix(NS).startswith("ScheduleBy")]
        if len(schedules) != 1:
            out.append("CalendarTrigger needs exactly one ScheduleBy* element")
        for week in trigger.iterfind(f"{NS}ScheduleByWeek"):
            if week.find(f"{NS}DaysOfWeek") is None or not list(week.find(f"{NS}DaysOfWeek")):
                out.append("ScheduleByWeek needs DaysOfWeek")
    for s in root.iterfind(f"{NS}Settings"):
        out += [
            f"unknown Settings child {c.tag}"
            for c in s
            if c.tag.removeprefix(NS) not in SETTINGS_CHILDREN
        ]
    return out


def test_task_xml_keeps_the_task_scheduler_schema():
    root = ET.fromstring(task_xml(WIN, ZoneInfo("Asia/Jakarta")).split("\n", 1)[1])
    assert schema_problems(root) == []
    assert root.find(f".//{NS}StartBoundary").text.endswith("T08:40:00")
    assert [d.tag.removeprefix(NS) for d in root.find(f".//{NS}DaysOfWeek")] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
    ]
    principal = root.find(f"{NS}Principals/{NS}Principal")
    assert principal.findtext(f"{NS}LogonType") == "S4U"  # logged on or not
    assert principal.findtext(f"{NS}UserId") == "PC01\\trader"
    assert root.findtext(f".//{NS}Command") == r"C:\robot\.venv\Scripts\python.exe"
    assert root.findtext(f".//{NS}WorkingDirectory") == r"C:\robot"


def test_the_schema_check_catches_what_it_should():
    broken = (
        task_xml(WIN)
        .split("\n", 1)[1]
        .replace('Context="Author"', 'Context="Nobody"')
        .replace("<LogonType>S4U</LogonType>", "<LogonType>Whenever</LogonType>")
    )
    assert len(schema_problems(ET.fromstring(broken))) == 2


def test_cli_writes_utf16_xml(tmp_path):
    xml_path = tmp_path / "robot.xml"
    r = CliRunner().invoke(
        main,
        [
            "schedule-entry",
            "--windows",
            "--config",
            str(CONFIG),
            "--windows-dir",
            r"D:\trading\robot",
            "--windows-user",
            r"PC01\trader",
            "--xml",
            str(xml_path),
        ],
    )
    assert r.exit_code == 0, r.output
    text = xml_path.read_text(encoding="utf-16")
    assert schema_problems(ET.fromstring(text.split("\n", 1)[1])) == []
    assert r"D:\trading\robot\.venv\Scripts\python.exe" in text
    assert f'schtasks /Create /XML "{xml_path}"' in r.output


def test_cli(tmp_path):
    r = CliRunner().invoke(
        main, ["schedule-entry", "--cron", "--tz", "Asia/Jakarta", "--config", str(CONFIG)]
    )
    assert r.exit_code == 0 and "40 8 * * 1-5" in r.output
