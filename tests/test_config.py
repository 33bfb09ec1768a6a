"""accounts.yaml validation: the shipped file passes; each broken variant fails with exit 2 and a
message that names the file, the line and the key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from robot.cli import main
from robot.config import PROJECT_ROOT, load_config
from robot.errors import ConfigError

GOOD = """\
settings:
  operating_hours: {start: "08:45", end: "16:15"}
  eod_report_time: "16:00"
  poll_interval_ms: 2000
  task_server: {url: "http://127.0.0.1:8700", token_env: ROBOT_TASK_TOKEN}
accounts:
  - id: ACC_001
    broker: stockbit
    profile_path: profiles/ACC_001
    enabled: true
  - id: ACC_002
    broker: ipot
    profile_path: profiles/ACC_002
    enabled: false
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "accounts.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_shipped_accounts_yaml_is_valid():
    cfg = load_config(PROJECT_ROOT / "accounts.yaml")
    assert cfg.enabled_accounts
    assert cfg.settings.task_server.token_env == "ROBOT_TASK_TOKEN"


SHIPPED_ENV = {
    "ROBOT_TASK_TOKEN": "t0ken-x",
    "ROBOT_SIM_PASSWORD": "demo",
    "ROBOT_PIN_ACC_IPOT": "123456",
}


def test_robot_check_accepts_shipped_file_and_summarises(monkeypatch):
    for name, value in SHIPPED_ENV.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["check", "--config", str(PROJECT_ROOT / "accounts.yaml")])
    assert result.exit_code == 0, result.output
    assert "stockbit: 1 enabled (ACC_STOCKBIT)" in result.output
    assert "ipot: 1 enabled (ACC_IPOT)" in result.output


def test_shipped_config_and_simulator_default_scenario_agree():
    """`robot sim` (scenario demo) and the shipped accounts.yaml rehearse a day together: the
    same account ids on the same brokers, and the example env file names every variable."""
    from simulator.scenario import load_scenario

    cfg = load_config(PROJECT_ROOT / "accounts.yaml")
    scenario = load_scenario("demo")
    assert {(a.id, a.broker) for a in cfg.enabled_accounts} == {
        (name, spec.broker) for name, spec in scenario.accounts.items()
    }
    example = (PROJECT_ROOT / "env.example").read_text()
    assert {ref.name for ref in cfg.env_refs} <= set(re.findall(r"^([A-Z_]+)=", example, re.M))


def test_good_config_types(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert [a.id for a in cfg.enabled_accounts] == ["ACC_001"]
    acc = cfg.account("ACC_001")
    assert acc.profile_path == (tmp_path / "profiles/ACC_001").resolve()
    assert cfg.settings.state_db == tmp_path / "state.db"
    assert cfg.broker_of(acc).selectors.name == "stockbit.json"
    assert cfg.settings.start.hour == 8 and cfg.settings.start.minute == 45


BROKEN = {
    "misspelt key": (
        GOOD.replace("    enabled: true", "    enabeld: true"),
        ["accounts[0].enabeld: unknown key (did you mean 'enabled'?)", ":10:"],
    ),
    "duplicate id": (
        GOOD.replace("id: ACC_002", "id: ACC_001"),
        ["accounts[1].id: duplicate account id 'ACC_001'"],
    ),
    "shared profile": (
        GOOD.replace("profiles/ACC_002", "profiles/ACC_001"),
        ["accounts[1].profile_path:", "already the profile of account 'ACC_001'"],
    ),
    "unknown broker": (
        GOOD.replace("broker: ipot", "broker: ipott"),
        ["accounts[1].broker: unknown broker 'ipott' (did you mean 'ipot'?)"],
    ),
    "missing selectors": (
        GOOD + "brokers:\n  lotus: {adapter: generic, selectors: nope.json, "
        "base_url: 'http://127.0.0.1:1'}\n",
        ["brokers.lotus.selectors: selectors file for broker 'lotus' not found"],
    ),
    "malformed time": (
        GOOD.replace('start: "08:45"', 'start: "8.45"'),
        ['settings.operating_hours.start: must be a time "HH:MM"'],
    ),
    "unquoted sexagesimal time": (
        GOOD.replace('eod_report_time: "16:00"', "eod_report_time: 16:00"),
        ['settings.eod_report_time: must be a quoted "HH:MM" time', 'write "16:00"'],
    ),
    "start after end": (
        GOOD.replace('start: "08:45"', 'start: "16:30"'),
        ["settings.operating_hours: start 16:30 must be before end 16:15"],
    ),
    "eod outside hours": (
        GOOD.replace('eod_report_time: "16:00"', 'eod_report_time: "16:20"'),
        ["settings.eod_report_time: 16:20 is outside the operating hours"],
    ),
    "poll too fast": (
        GOOD.replace("poll_interval_ms: 2000", "poll_interval_ms: 100"),
        ["settings.poll_interval_ms: must be within 200..60000, got 100"],
    ),
    "poll too slow": (
        GOOD.replace("poll_interval_ms: 2000", "poll_interval_ms: 60001"),
        ["settings.poll_interval_ms: must be within 200..60000"],
    ),
    "not yaml": ("settings: [unclosed\naccounts: {\n", ["is not valid YAML"]),
    "empty file": ("", ["is empty"]),
    "only a comment": ("# nothing\n", ["is empty"]),
    "a list at top": ("- 1\n- 2\n", ["must be a mapping with 'settings' and 'accounts'"]),
    "token in config": (
        GOOD.replace("token_env: ROBOT_TASK_TOKEN", "token_env: 'abc-123 secret'"),
        ["settings.task_server.token_env: must be the NAME of an environment variable"],
    ),
    "enabled not bool": (
        GOOD.replace("enabled: true", "enabled: yes please"),
        ["accounts[0].enabled: must be true or false"],
    ),
    "missing profile": (
        GOOD.replace("    profile_path: profiles/ACC_001\n", ""),
        ["accounts[0]: account 'ACC_001' is missing profile_path"],
    ),
    "no accounts": ("settings: {}\n", ["accounts: is missing"]),
    "unknown top key": (
        GOOD + "acounts: []\n",
        ["acounts: unknown top-level key (did you mean 'accounts'?)"],
    ),
    "duplicate key": (
        GOOD.replace("    enabled: false", "    enabled: false\n    enabled: true"),
        ["accounts[1].enabled: duplicate key"],
    ),
    "bad timezone": (
        "settings:\n  timezone: UTC\n" + GOOD.split("settings:\n", 1)[1],
        ["settings.timezone: must be one of Asia/Jakarta"],
    ),
    "bad extra holiday": (
        GOOD.replace(
            "  poll_interval_ms: 2000", "  poll_interval_ms: 2000\n  extra_holidays: [2026-13-01]"
        ),
        ["settings.extra_holidays[0]: must be a date YYYY-MM-DD, got '2026-13-01'", ":5:20:"],
    ),
    "bad limit": (
        GOOD.replace("    enabled: false", "    enabled: false\n    limits: {max_open_orders: 0}"),
        ["accounts[1].limits.max_open_orders: must be at least 1, got 0"],
    ),
    "bad driver": (
        GOOD.replace("settings:\n", "settings:\n  browser: {driver: chrome}\n"),
        ["settings.browser.driver: must be one of uc, selenium, got 'chrome'"],
    ),
    "headless-shell asked for a window": (
        GOOD.replace(
            "settings:\n", "settings:\n  browser: {flavor: headless-shell, headless: false}\n"
        ),
        ["settings.browser.flavor: headless-shell has no window"],
    ),
    "headless-shell and one account with a window": (
        GOOD.replace("settings:\n", "settings:\n  browser: {flavor: headless-shell}\n").replace(
            "    enabled: true", "    enabled: true\n    headless: false"
        ),
        ["accounts[0].headless: account 'ACC_001' asks for a window"],
    ),
    "headless-shell on Selenium Grid": (
        GOOD.replace(
            "settings:\n",
            "settings:\n  browser: {flavor: headless-shell, remote_url: 'http://127.0.0.1:4444'}\n",
        ).replace("    enabled: true", "    enabled: true\n    node: n1"),
        ["settings.browser.flavor: headless-shell is for browsers on this machine"],
    ),
    "lowercase emiten": (
        GOOD.replace(
            "    enabled: true", "    enabled: true\n    limits: {allowed_emiten: [BBCA, bbri]}"
        ),
        [
            "accounts[0].limits.allowed_emiten[1]: 'bbri' is not an IDX stock code",
            "(did you mean 'BBRI'?)",
            ":11:37:",
        ],
    ),
    "not an emiten": (
        GOOD.replace(
            "    enabled: true", "    enabled: true\n    limits: {allowed_emiten: [BBCA1]}"
        ),
        ["accounts[0].limits.allowed_emiten[0]: 'BBCA1' is not an IDX stock code"],
    ),
    "ipot without pin_env": (
        GOOD.replace("    enabled: false", "    enabled: true"),
        ["accounts[1]: account 'ACC_002' needs 'pin_env'", ":11:", "pin_env: ROBOT_PIN_ACC_002"],
    ),
    "env_file missing": (
        GOOD.replace(
            "  poll_interval_ms: 2000", "  poll_interval_ms: 2000\n  env_file: secrets.env"
        ),
        ["settings.env_file:", "secrets.env not found"],
    ),
}

NOTIFY = GOOD.replace(
    "  poll_interval_ms: 2000\n",
    """\
  poll_interval_ms: 2000
  notifications:
    telegram:
      token_env: ROBOT_TELEGRAM_TOKEN
      chat_id: "123456789"
      api_url: http://127.0.0.1:8081
      events: {OUTCOME_UNKNOWN: on, TP_HIT: silent, FILLED: off}
    webhook:
      url: https://example.internal/robot-hook
      header_env: {Authorization: ROBOT_WEBHOOK_AUTH}
      events: {WORKER_CRASHED: on, TASK_FAILED: off}
""",
)


def notify_variant(old: str, new: str) -> str:
    assert old in NOTIFY, old
    return NOTIFY.replace(old, new)


BROKEN.update(
    {
        "unknown event type": (
            notify_variant("TP_HIT: silent", "TP_HTI: silent"),
            [
                "settings.notifications.telegram.events.TP_HTI: unknown event type "
                "'TP_HTI' (did you mean 'TP_HIT'?)",
                ":10:37:",
            ],
        ),
        "bad level": (
            notify_variant("TP_HIT: silent", "TP_HIT: loud"),
            [
                "settings.notifications.telegram.events.TP_HIT: must be on, silent or off, "
                "got 'loud'"
            ],
        ),
        "silent webhook": (
            notify_variant("WORKER_CRASHED: on", "WORKER_CRASHED: silent"),
            [
                "settings.notifications.webhook.events.WORKER_CRASHED: must be on or off",
                "a webhook has no silent delivery",
            ],
        ),
        "telegram token in the file": (
            notify_variant("token_env: ROBOT_TELEGRAM_TOKEN", "token_env: '123:AAH-secret'"),
            [
                "settings.notifications.telegram.token_env: must be the NAME of an environment "
                "variable"
            ],
        ),
        "telegram without chat": (
            notify_variant('      chat_id: "123456789"\n', ""),
            ["settings.notifications.telegram: needs chat_id"],
        ),
        "bad chat id": (
            notify_variant('chat_id: "123456789"', "chat_id: my friends"),
            ["settings.notifications.telegram.chat_id: must be a Telegram chat id"],
        ),
        "misspelt telegram key": (
            notify_variant("api_url:", "api_ur:"),
            ["settings.notifications.telegram.api_ur: unknown key (did you mean 'api_url'?)"],
        ),
        "header value not a variable": (
            notify_variant("Authorization: ROBOT_WEBHOOK_AUTH", "Authorization: Bearer abc"),
            [
                "settings.notifications.webhook.header_env.Authorization: must be the NAME of an "
                "environment variable"
            ],
        ),
        "reserved header": (
            notify_variant("Authorization: ROBOT_WEBHOOK_AUTH", "Idempotency-Key: ROBOT_X"),
            [
                "settings.notifications.webhook.header_env.Idempotency-Key: "
                "Idempotency-Key is set by the robot itself"
            ],
        ),
        "webhook url and url_env": (
            notify_variant(
                "      url: https://example.internal/robot-hook\n",
                "      url: https://example.internal/robot-hook\n      url_env: HOOK\n",
            ),
            ["settings.notifications.webhook: needs exactly one of url (the address) or url_env"],
        ),
        "webhook url not http": (
            notify_variant("url: https://example.internal/robot-hook", "url: example.internal"),
            ["settings.notifications.webhook.url: must be an http(s) URL"],
        ),
        "pacing out of range": (
            notify_variant("      api_url:", "      min_interval_s: -1\n      api_url:"),
            ["settings.notifications.telegram.min_interval_s: must be within"],
        ),
    }
)


def test_notification_settings(tmp_path):
    n = load_config(write(tmp_path, NOTIFY)).settings.notifications
    t, w = n.telegram, n.webhook
    assert (t.token_env, t.chat_id, t.api_url, t.pace_s) == (
        "ROBOT_TELEGRAM_TOKEN",
        "123456789",
        "http://127.0.0.1:8081",
        1.0,
    )
    # YAML reads a bare on/off as true/false: both mean the level
    assert [t.level(x) for x in ("OUTCOME_UNKNOWN", "TP_HIT", "FILLED")] == ["on", "silent", "off"]
    assert t.level("WORKER_FATAL") == "on" and t.level("TASK_ACCEPTED") == "off"  # defaults
    assert (w.url, w.header_env) == (
        "https://example.internal/robot-hook",
        (("Authorization", "ROBOT_WEBHOOK_AUTH"),),
    )
    assert w.level("WORKER_CRASHED") == "on" and w.level("TASK_FAILED") == "off"
    assert w.level("TP_HIT") == "on"  # silent by default: posted all the same
    every = load_config(write(tmp_path, NOTIFY.replace("TASK_FAILED: off", "default: off")))
    assert every.settings.notifications.webhook.level("OUTCOME_UNKNOWN") == "off"
    numeric = load_config(write(tmp_path, NOTIFY.replace('"123456789"', "-1001234567890")))
    group = numeric.settings.notifications.telegram
    assert group.chat_id == "-1001234567890" and group.pace_s == 3.0  # 20 a minute to a group
    assert load_config(write(tmp_path, GOOD)).settings.notifications.telegram is None


def test_robot_check_names_the_notification_channels_without_secrets(tmp_path):
    result = CliRunner().invoke(
        main,
        ["check", "--config", str(write(tmp_path, NOTIFY))],
        env={"ROBOT_TELEGRAM_TOKEN": "123:abc", "ROBOT_WEBHOOK_AUTH": "x", "ROBOT_TASK_TOKEN": "t"},
    )
    assert result.exit_code == 0, result.output
    assert "notifications: telegram chat 123456789; webhook example.internal" in result.output
    assert "robot-hook" not in result.output


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_variant_is_rejected_with_its_location(tmp_path, name):
    text, expected = BROKEN[name]
    found = "\n".join(problems(tmp_path, text))
    assert str(tmp_path / "accounts.yaml") in found
    for fragment in expected:
        assert fragment in found, f"{fragment!r} not in:\n{found}"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_robot_check_exits_2_without_traceback(tmp_path, name):
    path = write(tmp_path, BROKEN[name][0])
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "error:" in result.output


def test_all_problems_reported_at_once(tmp_path):
    text = (
        GOOD.replace("enabled: true", "enabeld: true")
        .replace("poll_interval_ms: 2000", "poll_interval_ms: 5")
        .replace("broker: ipot", "broker: nope")
    )
    found = problems(tmp_path, text)
    assert len(found) >= 4  # misspelt key, its now-missing 'enabled', poll interval, broker


def test_missing_file(tmp_path):
    assert "file not found" in problems_for_path(tmp_path / "nope.yaml")


def problems_for_path(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_yaml_error_has_line(tmp_path):
    found = problems(tmp_path, "settings:\n  poll_interval_ms: [1,\naccounts: x\n")
    assert re.search(r"accounts.yaml:\d+:\d+: is not valid YAML", found[0]), found


def test_new_broker_needs_every_key(tmp_path):
    found = problems(tmp_path, GOOD + "brokers:\n  lotus: {adapter: generic}\n")
    joined = "\n".join(found)
    assert "a new broker needs 'selectors'" in joined and "a new broker needs 'base_url'" in joined


def test_python_m_robot_check_exit_code(tmp_path):
    bad = write(tmp_path, GOOD.replace("enabled: true", "enabeld: true"))
    proc = subprocess.run(
        [sys.executable, "-m", "robot", "check", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "enabeld" in proc.stderr and "Traceback" not in proc.stderr


def test_good_config_roundtrips_through_yaml():
    # the shipped file is plain YAML a user can edit and re-load
    assert yaml.safe_load((PROJECT_ROOT / "accounts.yaml").read_text())["accounts"]


# ------------------------------------------------------------------------- profile folder
def test_profile_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ACC_001").write_text("not a folder")
    found = "\n".join(problems(tmp_path, GOOD))
    assert "accounts[0].profile_path:" in found and "is a file" in found
    assert f"{tmp_path / 'accounts.yaml'}:9:" in found


# ----------------------------------------------------------------- secrets: the env file
ENV_GOOD = GOOD.replace(
    "    enabled: false",
    "    enabled: true\n    pin_env: ROBOT_PIN_2\n    password_env: ROBOT_PW_2",
)


def write_env(tmp_path: Path, text: str, mode: int = 0o600, name: str = ".env") -> Path:
    p = tmp_path / name
    p.write_text(text)
    p.chmod(mode)
    return p


@pytest.fixture
def clean_env(monkeypatch):
    """The variables these tests name start unset, and whatever a test adds is undone."""
    for name in ("ROBOT_TASK_TOKEN", "ROBOT_PIN_2", "ROBOT_PW_2"):
        monkeypatch.delenv(name, raising=False)
    import os

    saved = dict(os.environ)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_env_file_beside_the_config_is_read(tmp_path, clean_env):
    import os

    write_env(
        tmp_path,
        "# secrets\nROBOT_TASK_TOKEN=tok-123\nexport ROBOT_PIN_2='246810'\n"
        'ROBOT_PW_2="pass word"\n',
    )
    cfg = load_config(write(tmp_path, ENV_GOOD))
    assert cfg.env_file == tmp_path / ".env"
    assert os.environ["ROBOT_PIN_2"] == "246810" and os.environ["ROBOT_PW_2"] == "pass word"
    from robot.config import unset_env

    assert unset_env(cfg) == ([], [])


def test_environment_wins_over_the_env_file(tmp_path, clean_env):
    import os

    clean_env.setenv("ROBOT_TASK_TOKEN", "from-shell")
    write_env(tmp_path, "ROBOT_TASK_TOKEN=from-file\n")
    load_config(write(tmp_path, GOOD))
    assert os.environ["ROBOT_TASK_TOKEN"] == "from-shell"


def test_env_file_readable_by_others_is_refused(tmp_path, clean_env):
    import os

    env = write_env(tmp_path, "ROBOT_TASK_TOKEN=tok-123\n", mode=0o644)
    text = problems_for_path(write(tmp_path, GOOD))
    assert str(env) in text and "mode 0644" in text and f"chmod 600 {env}" in text
    assert "tok-123" not in text and "ROBOT_TASK_TOKEN" not in os.environ


def test_env_file_of_another_user_is_refused(tmp_path, clean_env):
    import os

    write_env(tmp_path, "ROBOT_TASK_TOKEN=tok-123\n")
    clean_env.setattr(os, "geteuid", lambda: os.stat(tmp_path / ".env").st_uid + 1)
    assert "not by the user running the robot" in problems_for_path(write(tmp_path, GOOD))


def test_env_file_bad_line_names_its_line(tmp_path, clean_env):
    env = write_env(tmp_path, "ROBOT_TASK_TOKEN=tok-123\nthis is not a line\nROBOT_PIN_2\n")
    text = problems_for_path(write(tmp_path, GOOD))
    assert f"{env}:2: is not a NAME=value line" in text
    assert f"{env}:3: ROBOT_PIN_2: has no '=value'" in text
    assert "tok-123" not in text


def test_named_env_file_is_used(tmp_path, clean_env):
    import os

    (tmp_path / "private").mkdir()
    write_env(tmp_path / "private", "ROBOT_TASK_TOKEN=tok-9\n", name="robot.env")
    cfg = load_config(
        write(
            tmp_path,
            GOOD.replace(
                "  poll_interval_ms: 2000",
                "  poll_interval_ms: 2000\n  env_file: private/robot.env",
            ),
        )
    )
    assert (
        cfg.env_file == tmp_path / "private" / "robot.env"
        and os.environ["ROBOT_TASK_TOKEN"] == "tok-9"
    )


def test_env_values_never_reach_a_log_line(tmp_path, clean_env):
    from robot import logs

    write_env(tmp_path, "ROBOT_TASK_TOKEN=tok-abcdef\nROBOT_PIN_2=246810\nROBOT_PW_2=hunter22\n")
    load_config(write(tmp_path, ENV_GOOD))
    line = logs.redact("sent tok-abcdef then typed 246810 and hunter22")
    assert "tok-abcdef" not in line and "246810" not in line and "hunter22" not in line


def test_check_reports_every_unset_variable(tmp_path, clean_env):
    result = CliRunner().invoke(main, ["check", "--config", str(write(tmp_path, ENV_GOOD))])
    assert result.exit_code == 2, result.output
    out = result.output
    assert ":5: settings.task_server.token_env: ROBOT_TASK_TOKEN is not set" in out
    assert "accounts[1].pin_env: ROBOT_PIN_2 is not set" in out and "PIN pad" in out
    assert "accounts[1].password_env: ROBOT_PW_2 is not set" in out
    assert "Traceback" not in out


def test_unset_variable_of_a_disabled_account_is_a_warning(tmp_path, clean_env):
    clean_env.setenv("ROBOT_TASK_TOKEN", "tok-1")
    cfg = write(
        tmp_path, GOOD.replace("    enabled: false", "    enabled: false\n    pin_env: ROBOT_PIN_2")
    )
    result = CliRunner().invoke(main, ["check", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "ROBOT_PIN_2 is not set" in result.stderr


def test_supervisor_refuses_to_start_with_an_unset_variable(tmp_path, clean_env):
    cfg = write(tmp_path, ENV_GOOD)
    env = {
        k: v
        for k, v in __import__("os").environ.items()
        if k not in ("ROBOT_TASK_TOKEN", "ROBOT_PIN_2", "ROBOT_PW_2")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "robot.supervisor", "--config", str(cfg), "--date", "2026-11-25"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert "ROBOT_PIN_2 is not set" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "state.db").exists() and not (tmp_path / "logs").exists()


# ------------------------------------------------------------- the schema and what YAML reads
def test_a_date_quoted_or_not_is_a_date(tmp_path):
    from datetime import date

    cfg = load_config(
        write(
            tmp_path,
            GOOD.replace(
                "  poll_interval_ms: 2000",
                '  poll_interval_ms: 2000\n  extra_holidays: [2026-03-02, "2026-03-03"]',
            ),
        )
    )
    assert cfg.settings.extra_holidays == (date(2026, 3, 2), date(2026, 3, 3))


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "profile_path: profiles/ACC_001",
            "profile_path: 2026-03-02",
            ":9:5: accounts[0].profile_path: must be a non-empty string: YAML read 2026-03-02 as a "
            "date; write it in quotes",
        ),
        (
            "id: ACC_002",
            "id: ACC_002\n    username: no",
            ":12:5: accounts[1].username: must be a non-empty string, got False: YAML reads an "
            "unquoted yes, no, on or off as true or false",
        ),
        (
            "token_env: ROBOT_TASK_TOKEN}",
            'token_env: "ROBOT_TASK_TOKEN\\n"}',
            "settings.task_server.token_env: must be the NAME of an environment variable (the "
            "secret itself never goes in this file), got 'ROBOT_TASK_TOKEN\\n' "
            "(did you mean 'ROBOT_TASK_TOKEN'?)",
        ),
        (
            'start: "08:45"',
            'start: " 08:45"',
            "settings.operating_hours.start: must be a time \"HH:MM\" (00:00-23:59), got ' 08:45' "
            "(did you mean '08:45'?)",
        ),
    ],
)
def test_what_yaml_read_is_named(tmp_path, old, new, expected):
    """A date or a yes/no where text is wanted, and a near miss (a final newline: JSON Schema's
    '$' is the end of the text), each with what to write instead."""
    assert old in GOOD
    found = "\n".join(problems(tmp_path, GOOD.replace(old, new)))
    assert expected in found, found


# schema key -> the loaded Settings' attribute, where they differ
ATTRIBUTES = {
    "operating_hours.start": "start",
    "operating_hours.end": "end",
    "grid.hub.host": "grid.hub_host",
    "grid.hub.port": "grid.hub_port",
    "grid.hub.publish_port": "grid.publish_port",
    "grid.hub.subscribe_port": "grid.subscribe_port",
}


def test_a_minimal_file_gets_the_schemas_defaults(tmp_path):
    """Every default is written once, in the schema: what a file without settings loads to."""
    from datetime import time as time_of_day

    from robot.settings_reference import load_schema, rows

    path = write(
        tmp_path, "accounts:\n  - {id: A, broker: stockbit, profile_path: p/A, enabled: false}\n"
    )
    cfg = load_config(path)
    schema = load_schema()
    checked = 0
    for name, node, _ in rows(schema["properties"]["settings"], schema, ""):
        if "default" not in node or name.startswith(
            ("task_server", "notifications", "grid.nodes[]")
        ):
            continue  # a section the file does not have
        value = cfg.settings
        for part in ATTRIBUTES.get(name, name).split("."):
            value = getattr(value, part)
        if isinstance(value, time_of_day):
            value = f"{value:%H:%M}"
        elif isinstance(value, Path):
            value = str(value.relative_to(tmp_path))
        elif isinstance(value, tuple):
            value = list(value)
        assert value == node["default"], name
        checked += 1
    assert checked >= 30
    dry_run = schema["$defs"]["account"]["properties"]["dry_run"]["default"]
    assert cfg.account("A").dry_run is dry_run


def test_every_key_of_the_schema_has_its_field():
    """The settings are built from the validated data by keyword: a key added to the schema
    without its dataclass field would fail every file that uses it."""
    import dataclasses

    from robot import config as C, schema

    sections = {
        "settings.restart": C.RestartPolicy,
        "settings.browser": C.BrowserSettings,
        "settings.task_server": C.TaskServer,
        "settings.grid.nodes[]": C.GridNode,
        "settings.notifications.telegram": C.TelegramSettings,
        "settings.notifications.webhook": C.WebhookSettings,
        "accounts[]": C.Account,
        "accounts[].limits": C.Limits,
    }
    for key, cls in sections.items():
        keys = set(schema.node(C.SCHEMA, key)["properties"])
        assert keys <= {f.name for f in dataclasses.fields(cls)}, (key, cls)
    grid = {
        ("hub_" + k if k in ("host", "port") else k)
        for k in schema.node(C.SCHEMA, "settings.grid.hub")["properties"]
    }
    grid |= set(schema.node(C.SCHEMA, "settings.grid")["properties"]) - {"hub"}
    assert grid <= {f.name for f in dataclasses.fields(C.GridSettings)}
    settings = set(C.SCALAR_SETTINGS) | {
        "state_db",
        "log_dir",
        "report_dir",
        "eod_report_time",
        "task_server",
        "extra_holidays",
        "calendar_file",
        "restart",
        "browser",
        "grid",
        "notifications",
    }
    assert settings <= {f.name for f in dataclasses.fields(C.Settings)}
    # operating_hours is read as start and end; env_file is read at load, not kept
    assert set(schema.node(C.SCHEMA, "settings")["properties"]) == settings | {
        "operating_hours",
        "env_file",
    }
