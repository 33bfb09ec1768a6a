"""Chaos, bad input: broken accounts.yaml files and broken selectors files.

Every variant must give a clear error naming the problem (file, line where there is one, key),
exit 2 from `robot check`, no traceback, and start nothing. The variants here add to those of
tests/test_config.py (none is repeated): wrong types everywhere, nested mistakes, huge and
non-finite numbers, bytes that are not UTF-8, tabs, aliases (undefined, self-expanding, merge
keys), paths that are no file, duplicate brokers, adapters that cannot be imported, and every kind
of broken selectors file reached through `robot check`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
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
HEAD, ACCOUNTS = GOOD.split("accounts:\n")
LOTUS = PROJECT_ROOT / "tests" / "simulator" / "lotus.json"


def with_setting(line: str) -> str:
    return GOOD.replace("settings:\n", f"settings:\n  {line}\n", 1)


def with_account_key(line: str) -> str:
    return GOOD.replace("    enabled: true\n", f"    enabled: true\n    {line}\n", 1)


def billion_laughs(levels: int = 8) -> str:
    text = "settings:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for i in range(1, levels):
        text += f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n"
    return text + "accounts: []\n"


def lotus_broker(adapter: str = "generic", selectors: str = str(LOTUS)) -> str:
    return (
        GOOD.replace("broker: stockbit", "broker: lotus")
        + f"brokers:\n  lotus: {{adapter: {adapter}, selectors: '{selectors}', "
        "base_url: 'http://127.0.0.1:8700'}\n"
    )


# name -> (file content: str, or bytes written as they are; fragments the message must contain)
CONFIG_CASES: dict[str, tuple[str | bytes, list[str]]] = {
    # wrong types, top level and nested
    "settings is a list": (
        "settings: [1, 2]\naccounts:\n" + ACCOUNTS,
        [":1:1: settings: must be a mapping of keys, got list"],
    ),
    "accounts is a mapping": (
        HEAD + "accounts: {id: ACC_001}\n",
        ["accounts: must be a list of accounts, got dict"],
    ),
    "account is a string": (
        HEAD + "accounts:\n  - ACC_001\n",
        [":7:5: accounts[0]: must be a mapping of keys, got str"],
    ),
    "brokers is a list of mappings": (
        GOOD + "brokers: [{lotus: generic}]\n",
        ["brokers: must be a mapping of broker name"],
    ),
    "broker body is a string": (
        GOOD + "brokers:\n  stockbit: fast\n",
        ["brokers.stockbit: must be a mapping of keys, got str"],
    ),
    "operating_hours is a string": (
        GOOD.replace('{start: "08:45", end: "16:15"}', '"08:45-16:15"'),
        ["settings.operating_hours: must be a mapping of keys"],
    ),
    "task_server is a string": (
        GOOD.replace(
            '{url: "http://127.0.0.1:8700", token_env: ROBOT_TASK_TOKEN}', '"http://127.0.0.1:8700"'
        ),
        ["settings.task_server: must be a mapping of keys, got str"],
    ),
    "task_server timeout is text": (
        GOOD.replace(
            "token_env: ROBOT_TASK_TOKEN}", "token_env: ROBOT_TASK_TOKEN, timeout_s: fast}"
        ),
        ["settings.task_server.timeout_s: must be a number, got 'fast'"],
    ),
    "extra_holidays is one date": (
        with_setting("extra_holidays: 2026-03-02"),
        ["settings.extra_holidays: must be a list of dates"],
    ),
    "restart flap_max is text": (
        with_setting("restart: {flap_max: many}"),
        ["settings.restart.flap_max: must be a whole number, got 'many'"],
    ),
    "browser extra_args are numbers": (
        with_setting("browser: {extra_args: [1, 2]}"),
        [
            ":2:26: settings.browser.extra_args[0]: must be a non-empty string, got 1",
            "extra_args[1]",
        ],
    ),
    "max_retry is a fraction": (
        with_setting("max_retry: 2.5"),
        ["settings.max_retry: must be a whole number, got 2.5"],
    ),
    "account id is a list": (
        GOOD.replace("id: ACC_001", "id: [ACC_001]"),
        ["accounts[0].id: must be a non-empty string, got ['ACC_001']"],
    ),
    "profile_path is a mapping": (
        GOOD.replace("profile_path: profiles/ACC_001", "profile_path: {a: 1}"),
        ["accounts[0].profile_path: must be a non-empty string"],
    ),
    "limits value with a unit": (
        with_account_key("limits: {max_order_value: 50jt}"),
        [":11:14: accounts[0].limits.max_order_value: must be a whole number"],
    ),
    "allowed_emiten is one string": (
        with_account_key("limits: {allowed_emiten: BBCA}"),
        ["accounts[0].limits.allowed_emiten: must be a list of strings"],
    ),
    "pin_env holds a PIN": (
        with_account_key("pin_env: '246810'"),
        ["accounts[0].pin_env: must be the NAME of an environment variable"],
    ),
    # numbers
    "huge number": (
        GOOD.replace("poll_interval_ms: 2000", "poll_interval_ms: " + "9" * 400),
        ["settings.poll_interval_ms: must be within 200..60000"],
    ),
    "hang timeout NaN": (
        with_setting("hang_timeout_s: .nan"),
        ["settings.hang_timeout_s: must be a number, got nan"],
    ),
    "heartbeat infinite": (
        with_setting("heartbeat_interval_s: .inf"),
        ["settings.heartbeat_interval_s: must be a number, got inf"],
    ),
    "EOD as a bare number": (
        GOOD.replace('eod_report_time: "16:00"', "eod_report_time: 1600"),
        ['settings.eod_report_time: must be a time "HH:MM"', "got 1600"],
    ),
    # text and YAML
    "latin-1 bytes": (
        GOOD.replace("ACC_002", "AKUN_\u00e9").encode("latin-1"),
        [":11: is not UTF-8 text (byte 0xe9)"],
    ),
    "binary garbage": (bytes(range(256)), ["is not UTF-8 text"]),
    "NUL character": (
        GOOD.replace("ACC_001", "ACC\x00001", 1),
        ["is not valid YAML", "special characters"],
    ),
    "tab indentation": (
        GOOD.replace("    enabled: true", "\tenabled: true"),
        [":10:1: is not valid YAML", "'\\t'"],
    ),
    "undefined alias": (
        GOOD.replace("enabled: false", "enabled: *yes"),
        ["is not valid YAML: found undefined alias 'yes'"],
    ),
    "alias bomb": (billion_laughs(), ["has more than 100000 values once its aliases are expanded"]),
    "merge key": (
        GOOD.replace("  - id: ACC_002\n", "  - <<: *first\n    id: ACC_002\n").replace(
            "  - id: ACC_001\n", "  - &first\n    id: ACC_001\n"
        ),
        [":12:5: accounts[1]: YAML merge keys (<<: *name) are not supported"],
    ),
    "list as a key": (
        with_account_key("[a, b]: true"),
        [":11:5: accounts[0].?: a key must be a plain word"],
    ),
    "nested too deeply": (
        "settings: " + "[" * 1000 + "]" * 1000 + "\naccounts: []\n",
        ["is nested too deeply"],
    ),
    "two documents": (
        GOOD + "---\nsettings: {}\n",
        [":15:1: is not valid YAML", "another document"],
    ),
    # brokers and adapters
    "duplicate broker": (
        lotus_broker() + "  lotus: {adapter: generic, selectors: x.json, "
        "base_url: 'http://127.0.0.1:1'}\n",
        [":17:3: brokers.lotus: duplicate key"],
    ),
    "adapter module missing": (
        lotus_broker(adapter="adapters.lotus"),
        [
            ":16:11: brokers.lotus.adapter: adapter 'adapters.lotus' of broker "
            "'lotus' cannot be imported",
            "No module named 'adapters.lotus'",
        ],
    ),
    "adapter module without ADAPTER": (
        lotus_broker(adapter="adapters.numbers"),
        [
            "brokers.lotus.adapter: adapter module 'adapters.numbers' "
            "of broker 'lotus' has no ADAPTER class"
        ],
    ),
    "adapter is a path": (
        lotus_broker(adapter="../adapters/generic.py"),
        [
            "brokers.lotus.adapter: adapter '../adapters/generic.py' of broker "
            "'lotus' cannot be imported"
        ],
    ),
}


def write(root: Path, content: str | bytes, name: str = "accounts.yaml") -> Path:
    path = root / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def check(path: Path | str):
    # the variable GOOD names is set, so only what is wrong with the file itself is reported
    return CliRunner().invoke(
        main, ["check", "--config", str(path)], env={"ROBOT_TASK_TOKEN": "chaos-token"}
    )


@pytest.mark.parametrize("name", list(CONFIG_CASES))
def test_broken_accounts_yaml_is_named_and_exits_2(tmp_path, name):
    content, fragments = CONFIG_CASES[name]
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    result = check(path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert fragments[0] in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.yaml"]  # nothing started


# Paths that are no readable file. As root, chmod 000 does not stop a read, so the unreadable
# case is a path through a regular file and a symlink loop instead.
def _directory(root: Path) -> Path:
    (root / "accounts.yaml").mkdir()
    return root / "accounts.yaml"


def _through_a_file(root: Path) -> Path:
    (root / "conf").write_text("not a folder")
    return root / "conf" / "accounts.yaml"


def _symlink_loop(root: Path) -> Path:
    (root / "accounts.yaml").symlink_to(root / "accounts.yaml")
    return root / "accounts.yaml"


def _dangling_symlink(root: Path) -> Path:
    (root / "accounts.yaml").symlink_to(root / "gone.yaml")
    return root / "accounts.yaml"


PATH_CASES = {
    "a directory": (_directory, "Is a directory"),
    "a path through a file": (_through_a_file, "Not a directory"),
    "a symlink loop": (_symlink_loop, "Too many levels of symbolic links"),
    "a dangling symlink": (_dangling_symlink, "file not found"),
}


@pytest.mark.parametrize("name", list(PATH_CASES))
def test_config_path_that_is_no_readable_file(tmp_path, name):
    make, fragment = PATH_CASES[name]
    path = make(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and fragment in str(info.value), str(info.value)
    result = check(path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and str(path) in result.stderr


# ---------------------------------------------------------------------- accepted variations
def test_bom_and_windows_line_endings_are_accepted(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8"))
    cfg = load_config(path)
    assert [a.id for a in cfg.accounts] == ["ACC_001", "ACC_002"]
    assert cfg.settings.eod_report_time.hour == 16
    result = check(path)
    assert result.exit_code == 0 and "stockbit: 1 enabled (ACC_001)" in result.output


def test_plain_anchors_and_aliases_are_accepted(tmp_path):
    text = GOOD.replace(
        "    enabled: true\n",
        "    enabled: true\n    limits: &common "
        "{max_open_orders: 3, allowed_emiten: [BBCA, TLKM]}\n",
        1,
    ).replace("    enabled: false\n", "    enabled: false\n    limits: *common\n")
    cfg = load_config(write(tmp_path, text))
    assert cfg.account("ACC_001").limits == cfg.account("ACC_002").limits
    assert cfg.account("ACC_002").limits.allowed_emiten == ("BBCA", "TLKM")


def test_the_shipped_brokers_pass_the_adapter_and_selectors_check(tmp_path):
    text = GOOD.replace(
        "    enabled: false\n",
        "    enabled: false\n  - {id: ACC_003, broker: "
        "ajaib, profile_path: profiles/ACC_003, enabled: true}\n",
    )
    assert len(load_config(write(tmp_path, text)).accounts) == 3
    assert check(write(tmp_path, lotus_broker())).exit_code == 0


# --------------------------------------------------------------------------- selectors files
def lotus() -> dict:
    return json.loads(LOTUS.read_text(encoding="utf-8"))


def _drop(key: str):
    def change(d: dict) -> dict:
        del d[key]
        return d

    return change


def _set(key: str, value):
    def change(d: dict) -> dict:
        d[key] = value
        return d

    return change


def _status(word: str, value: str):
    def change(d: dict) -> dict:
        d["status_map"][word] = value
        return d

    return change


# name -> (broken content: a change to lotus.json, or the raw text; the key the message names)
SELECTORS_CASES: dict[str, tuple] = {
    "missing key": (_drop("toast_success"), "toast_success: missing"),
    "missing nested key": (
        lambda d: (d["order_form"].pop("submit_btn"), d)[1],
        "order_form.submit_btn: missing",
    ),
    "unknown step": (
        _set("steps", ["fill", "pin", "submit", "toast"]),
        "steps[1]: unknown step 'pin'",
    ),
    "wrong status_map value": (
        _status("Part Filled", "HALF"),
        "status_map.Part Filled: maps to 'HALF'",
    ),
    "broken JSON": ('{"broker": "lotus",\n  "urls": {,\n}', "not valid JSON"),
    "not an object": ("[1, 2, 3]", "must be a JSON object"),
    "extra unknown key": (_set("colour", "#fff"), "colour: unknown key"),
    "empty selectors": ("{}", "login_check: missing"),
    "empty file": ("", "not valid JSON"),
    "selector is a number": (
        _set("login_check", 7),
        "login_check: must be a non-empty CSS selector",
    ),
    "not UTF-8": (b'{"broker": "lotus\xff"}', "cannot be read"),
}


@pytest.mark.parametrize("name", list(SELECTORS_CASES))
def test_broken_selectors_file_through_robot_check(tmp_path, name):
    broken, fragment = SELECTORS_CASES[name]
    sel = tmp_path / "lotus.json"
    if callable(broken):
        sel.write_text(json.dumps(broken(lotus()), indent=2), encoding="utf-8")
    elif isinstance(broken, bytes):
        sel.write_bytes(broken)
    else:
        sel.write_text(broken, encoding="utf-8")
    path = write(tmp_path, lotus_broker(selectors=str(sel)))
    result = check(path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if fragment in line]
    assert lines, f"{fragment!r} not in:\n{result.stderr}"
    assert str(sel) in lines[0] and "broker lotus" in lines[0], lines[0]


def test_broken_shipped_broker_override_is_caught(tmp_path):
    """A built-in broker pointed at a copy of its file: ipot's PIN step needs its pad."""
    data = json.loads((PROJECT_ROOT / "selectors" / "ipot.json").read_text(encoding="utf-8"))
    data["pin_pad"] = None
    sel = tmp_path / "ipot.json"
    sel.write_text(json.dumps(data), encoding="utf-8")
    text = (
        GOOD.replace("enabled: false", "enabled: true")
        + f"brokers:\n  ipot: {{selectors: '{sel}'}}\n"
    )
    result = check(write(tmp_path, text))
    assert result.exit_code == 2
    assert f"{sel} (broker ipot):1:" in result.stderr  # one line of JSON: its column
    assert "pin_pad: missing (must be an object: the steps include 'pin')" in result.stderr


def test_robot_check_subprocess_real_exit_codes(tmp_path):
    """The real program, not click's test runner: exit code 2, the problem on stderr, no trace."""
    bad_sel = tmp_path / "lotus.json"
    bad_sel.write_text(json.dumps(_status("Open", "LIVE")(lotus())), encoding="utf-8")
    column = bad_sel.read_text(encoding="utf-8").index('"Open": "LIVE"') + 1  # one line of JSON
    cases = [
        (
            write(tmp_path, lotus_broker(adapter="adapters.nowhere"), "a.yaml"),
            "brokers.lotus.adapter: adapter 'adapters.nowhere'",
        ),
        (
            write(tmp_path, lotus_broker(selectors=str(bad_sel)), "b.yaml"),
            f"{bad_sel} (broker lotus):1:{column}: status_map.Open: maps to 'LIVE'",
        ),
        (write(tmp_path, billion_laughs(), "c.yaml"), "aliases are expanded"),
    ]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    for path, fragment in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "robot", "check", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
        assert proc.returncode == 2, (path.name, proc.stdout, proc.stderr)
        assert fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "state.db").exists()
