"""Daily start entries: 08:40 WIB on weekdays, whatever the host's time zone."""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from robot.cli import main
from robot.config import PROJECT_ROOT
from robot.schedule_entry import cron_entry, local_start, schtasks_command, task_xml

CONFIG = PROJECT_ROOT / "accounts.yaml"


def entry_line(text: str) -> str:
    return [l for l in text.splitlines() if l and not l.startswith("#") and "=" not in l][0]


def test_wib_host_gets_a_plain_entry():
    text = cron_entry(CONFIG, Path("/var/log/robot.log"), ZoneInfo("Asia/Jakarta"))
    line = entry_line(text)
    assert line.startswith("40 8 * * 1-5 ")
    assert f"-m robot.supervisor --config {CONFIG.resolve()}" in line
    assert line.endswith(">> /var/log/robot.log 2>&1")


def test_utc_host_is_converted_with_a_comment():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("UTC"), cron_tz=False)
    assert entry_line(text).startswith("40 1 * * 1,2,3,4,5 ")
    assert "08:40 WIB is 01:40 here" in text and "CRON_TZ=Asia/Jakarta" in text


def test_west_of_utc_shifts_to_the_previous_day():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("America/Los_Angeles"), cron_tz=False)
    line = entry_line(text)
    assert " * * 0,1,2,3,4 " in line                          # Sunday..Thursday evenings
    assert "previous day" in text and "daylight saving" in text


def test_cronie_gets_cron_tz():
    text = cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("UTC"), cron_tz=True)
    assert "CRON_TZ=Asia/Jakarta\n40 8 * * 1-5 " in text


def test_interpreter_is_absolute():
    line = entry_line(cron_entry(CONFIG, Path("/tmp/r.log"), ZoneInfo("Asia/Jakarta")))
    assert line.split(" && ")[1].split()[0].startswith("/")


def test_local_start_east_of_wib():
    s = local_start(ZoneInfo("Asia/Tokyo"))
    assert (s.at.hour, s.at.minute, s.day_shift) == (10, 40, 0) and not s.is_wib


def test_windows_command_and_note():
    cmd, note = schtasks_command(CONFIG, ZoneInfo("Asia/Jakarta"))
    assert cmd.startswith('schtasks /Create /TN "robot daily" ')
    assert "/SC WEEKLY /D MON,TUE,WED,THU,FRI /ST 08:40" in cmd and note is None
    cmd, note = schtasks_command(CONFIG, ZoneInfo("Europe/Amsterdam"))
    hhmm = "02:40" if "/ST 02:40" in cmd else "03:40"          # CET or CEST, by today's date
    assert f"/ST {hhmm}" in cmd
    assert note and "local time" in note and hhmm in note and "daylight saving" in note


def test_task_xml_is_well_formed():
    import xml.etree.ElementTree as ET
    root = ET.fromstring(task_xml(CONFIG, ZoneInfo("Asia/Jakarta")).split("\n", 1)[1])
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert root.find(".//t:StartBoundary", ns).text.endswith("T08:40:00")
    days = root.find(".//t:DaysOfWeek", ns)
    assert [d.tag.split("}")[1] for d in days] == ["Monday", "Tuesday", "Wednesday", "Thursday",
                                                   "Friday"]


def test_cli(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["schedule-entry", "--cron", "--tz", "Asia/Jakarta", "--config",
                             str(CONFIG)])
    assert r.exit_code == 0 and "40 8 * * 1-5" in r.output
    xml = tmp_path / "robot.xml"
    r = runner.invoke(main, ["schedule-entry", "--windows", "--tz", "UTC", "--xml", str(xml),
                             "--config", str(CONFIG)])
    assert r.exit_code == 0 and "schtasks /Create" in r.output and "REM Task Scheduler" in r.output
    assert xml.read_text(encoding="utf-16").lstrip("\ufeff").startswith("<?xml")
    assert runner.invoke(main, ["schedule-entry", "--config", str(CONFIG)]).exit_code == 2
    assert runner.invoke(main, ["schedule-entry", "--cron", "--tz", "Mars/Base",
                                "--config", str(CONFIG)]).exit_code == 2
