"""Selenium Grid without Java: the node and hub TOML generated from accounts.yaml, the validation
of `node` and settings.grid, the capabilities a remote session asks for, `robot status` with the
hub down, and `robot grid up` refusing without the jar."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.browser import LOOPBACK_ONLY_ARG, Browser, classify
from configs import write_config
from robot import grid
from robot.chromium import BASE_ARGS
from robot.cli import main
from robot.config import BrowserSettings, load_config
from robot.errors import ConfigError


def write_cfg(tmp_path: Path, settings: dict | None = None, accounts: list | None = None) -> Path:
    """Three accounts on two Grid nodes of a remote hub (``settings`` override those)."""
    return write_config(
        tmp_path,
        accounts
        if accounts is not None
        else [
            {"id": "A1", "broker": "stockbit", "node": "node-a"},
            {"id": "A2", "broker": "ipot", "node": "node-b", "pin_env": "GRID_TEST_PIN"},
            {"id": "A3", "broker": "ajaib", "enabled": False, "node": "node-a"},
        ],
        {
            "browser": {"remote_url": "http://127.0.0.1:4444", "driver": "selenium"},
            "grid": {"nodes": [{"name": "node-a", "port": 5555}, {"name": "node-b", "port": 5556}]},
            **(settings or {}),
        },
    )


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------------------ node-config
def test_node_config_has_one_single_session_slot_per_account_with_the_profile_on_the_node(tmp_path):
    path = write_cfg(tmp_path)
    result = run("grid", "node-config", "node-a", "--config", str(path))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(result.output)
    node = doc["node"]
    assert node["detect-drivers"] is False and node["selenium-manager"] is False
    assert node["session-timeout"] == 28800
    assert node["max-sessions"] == 2 and node["override-max-sessions"] is True
    assert doc["server"] == {"host": "127.0.0.1", "port": 5555}
    assert doc["events"] == {"publish": "tcp://127.0.0.1:4442", "subscribe": "tcp://127.0.0.1:4443"}
    slots = node["driver-configuration"]
    assert [s["display-name"] for s in slots] == ["A1", "A3"]  # disabled A3 too (login)
    for slot in slots:
        assert slot["max-sessions"] == 1
        assert slot["webdriver-executable"] == "/usr/bin/chromedriver"
        st = json.loads(slot["stereotype"])
        assert st["browserName"] == "chrome" and st["platformName"] == "linux"
        assert st["robot:node"] == "node-a" and st["robot:account"] == slot["display-name"]
        opts = st["goog:chromeOptions"]
        assert opts["binary"] == "/usr/bin/chromium"
        profile = (tmp_path / "profiles" / slot["display-name"]).resolve()
        assert f"--user-data-dir={profile}" in opts["args"]
        assert set(BASE_ARGS) <= set(opts["args"]) and "--headless=new" in opts["args"]


def test_every_node_declares_both_routing_keys_on_every_slot(tmp_path):
    path = write_cfg(tmp_path)
    cfg = load_config(path)
    seen = {}
    for name in grid.node_names(cfg):
        doc = tomllib.loads(grid.node_toml(cfg, name))
        for slot in doc["node"]["driver-configuration"]:
            st = json.loads(slot["stereotype"])
            assert st["robot:node"] == name and st["robot:account"]
            seen[st["robot:account"]] = name
    assert seen == {"A1": "node-a", "A3": "node-a", "A2": "node-b"}


def test_node_config_uses_configured_binaries_timeout_and_headless(tmp_path):
    path = write_cfg(
        tmp_path,
        settings={
            "browser": {
                "remote_url": "http://10.0.0.1:4444",
                "chromium_path": "/opt/chromium/chrome",
                "chromedriver_path": "/opt/chromium/chromedriver",
            },
            "grid": {
                "hub": {
                    "host": "10.0.0.1",
                    "port": 4000,
                    "publish_port": 4001,
                    "subscribe_port": 4002,
                },
                "nodes": [
                    {"name": "node-a", "port": 6000, "host": "10.0.0.2"},
                    {"name": "node-b", "port": 6000, "host": "10.0.0.3"},
                ],
                "session_timeout_s": 36000,
            },
        },
        accounts=[
            {
                "id": "V1",
                "broker": "stockbit",
                "profile_path": "/srv/robot/V1",
                "enabled": True,
                "node": "node-b",
                "headless": False,
            }
        ],
    )
    out = tmp_path / "node-b.toml"
    result = run("grid", "node-config", "node-b", "--config", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = tomllib.loads(out.read_text())
    assert doc["server"] == {"host": "10.0.0.3", "port": 6000}
    assert doc["events"] == {"publish": "tcp://10.0.0.1:4001", "subscribe": "tcp://10.0.0.1:4002"}
    assert doc["node"]["grid-url"] == "http://10.0.0.1:4000"
    assert doc["node"]["session-timeout"] == 36000
    (slot,) = doc["node"]["driver-configuration"]
    assert slot["webdriver-executable"] == "/opt/chromium/chromedriver"
    st = json.loads(slot["stereotype"])
    assert st["goog:chromeOptions"]["binary"] == "/opt/chromium/chrome"
    assert "--user-data-dir=/srv/robot/V1" in st["goog:chromeOptions"]["args"]
    assert "--headless=new" not in st["goog:chromeOptions"]["args"]  # the account's choice


def test_unknown_or_empty_node_exits_2_naming_the_known_nodes(tmp_path):
    path = write_cfg(tmp_path)
    result = run("grid", "node-config", "nowhere", "--config", str(path))
    assert result.exit_code == 2
    assert "unknown node 'nowhere'" in result.output and "node-a, node-b" in result.output
    path = write_cfg(
        tmp_path,
        settings={
            "grid": {"nodes": [{"name": "node-a", "port": 5555}, {"name": "spare", "port": 5556}]}
        },
        accounts=[
            {
                "id": "A1",
                "broker": "stockbit",
                "profile_path": "p/A1",
                "enabled": True,
                "node": "node-a",
            }
        ],
    )
    result = run("grid", "node-config", "spare", "--config", str(path))
    assert result.exit_code == 2 and "holds no account" in result.output


# ------------------------------------------------------------------------------- hub-config
def test_hub_config_refuses_unknown_routing_at_once(tmp_path):
    result = run("grid", "hub-config", "--config", str(write_cfg(tmp_path)))
    assert result.exit_code == 0, result.output
    doc = tomllib.loads(result.output)
    assert doc["distributor"]["reject-unsupported-caps"] is True
    assert doc["server"] == {"host": "127.0.0.1", "port": 4444}
    assert doc["events"] == {"publish": "tcp://127.0.0.1:4442", "subscribe": "tcp://127.0.0.1:4443"}
    assert "registration-secret" not in result.output


def test_registration_secret_comes_from_the_named_variable(tmp_path):
    path = write_cfg(
        tmp_path,
        settings={
            "grid": {
                "nodes": [{"name": "node-a", "port": 5555}, {"name": "node-b", "port": 5556}],
                "secret_env": "GRID_TEST_SECRET",
            }
        },
    )
    assert "GRID_TEST_SECRET" not in os.environ
    result = run("grid", "hub-config", "--config", str(path))
    assert result.exit_code == 2 and "$GRID_TEST_SECRET is not set" in result.output
    env = {"GRID_TEST_SECRET": "s3cr3t"}
    hub = tomllib.loads(run("grid", "hub-config", "--config", str(path), env=env).output)
    node = tomllib.loads(
        run("grid", "node-config", "node-b", "--config", str(path), env=env).output
    )
    assert hub["server"]["registration-secret"] == node["server"]["registration-secret"] == "s3cr3t"
    assert "s3cr3t" not in path.read_text()


# ------------------------------------------------------------------------------ validation
def test_grid_settings_default_and_parse(tmp_path):
    cfg = load_config(write_cfg(tmp_path))
    g = cfg.settings.grid
    assert (g.hub_host, g.hub_port, g.publish_port, g.subscribe_port) == (
        "127.0.0.1",
        4444,
        4442,
        4443,
    )
    assert [(n.name, n.port, n.host) for n in g.nodes] == [
        ("node-a", 5555, "127.0.0.1"),
        ("node-b", 5556, "127.0.0.1"),
    ]
    assert g.session_timeout_s == 28800 and g.secret_env is None
    assert cfg.account("A1").node == "node-a"


def test_node_names_are_validated_with_file_line_and_key(tmp_path):
    path = write_cfg(
        tmp_path,
        accounts=[
            {
                "id": "A1",
                "broker": "stockbit",
                "profile_path": "p/A1",
                "enabled": True,
                "node": "node a",
            },
            {
                "id": "A2",
                "broker": "ipot",
                "profile_path": "p/A2",
                "enabled": True,
                "node": "node-c",
                "pin_env": "GRID_TEST_PIN",
            },
        ],
    )
    found = problems(path)
    assert len(found) == 2, found
    assert re.search(r"accounts\.yaml:\d+:\d+: accounts\[0\]\.node: must be a node name", found[0])
    assert "accounts[1].node: unknown node 'node-c'" in found[1]


def test_remote_url_needs_a_node_on_every_enabled_account(tmp_path):
    path = write_cfg(
        tmp_path,
        accounts=[
            {"id": "A1", "broker": "stockbit", "profile_path": "p/A1", "enabled": True},
            {"id": "A2", "broker": "ipot", "profile_path": "p/A2", "enabled": False},  # fine
            {
                "id": "A3",
                "broker": "ajaib",
                "profile_path": "p/A3",
                "enabled": True,
                "node": "node-b",
            },
        ],
    )
    result = run("check", "--config", str(path))
    assert result.exit_code == 2
    assert "accounts[0]: account 'A1' needs 'node'" in result.output
    assert "A2" not in result.output and "A3" not in result.output


def test_without_remote_url_node_is_optional_and_free_without_a_node_list(tmp_path):
    path = write_config(
        tmp_path,
        [
            {"id": "A1", "broker": "stockbit", "profile_path": "p/A1"},
            {
                "id": "A2",
                "broker": "ipot",
                "profile_path": "p/A2",
                "node": "anything_1",
                "pin_env": "GRID_TEST_PIN",
            },
        ],
    )
    cfg = load_config(path)
    assert [a.node for a in cfg.accounts] == [None, "anything_1"]


def test_bad_grid_settings_are_all_reported(tmp_path):
    path = write_cfg(
        tmp_path,
        settings={
            "grid": {
                "hub": {"port": 4444, "publish_port": 5555},
                "nodes": [
                    {"name": "node-a", "port": 5555},
                    {"name": "node-a", "port": 5557},
                    {"port": 5558},
                    {"name": "node-b", "port": 70000},
                ],
                "secret_env": "not a name",
                "session_timeout_s": 10,
                "colour": "red",
            }
        },
    )
    text = "\n".join(problems(path))
    assert "settings.grid.nodes[1].name: duplicate node name 'node-a'" in text
    assert "settings.grid.nodes[2]: a node needs name" in text
    assert "settings.grid.nodes[3].port: must be within 1..65535" in text
    assert (
        "node 'node-a' uses port 5555 on 127.0.0.1, already used by the hub's publish_port" in text
    )
    assert "settings.grid.secret_env: must be the NAME of an environment variable" in text
    assert "settings.grid.session_timeout_s: must be within 60" in text
    assert "settings.grid.colour: unknown key" in text


# --------------------------------------------------------------------------- the request
def test_remote_session_asks_for_its_node_and_account_and_no_profile(tmp_path, monkeypatch):
    from selenium import webdriver

    asked = {}

    class FakeRemote:
        def __init__(self, command_executor, options):
            asked["url"], asked["caps"] = command_executor, options.to_capabilities()
            self.session_id = "fake"

        def set_page_load_timeout(self, _):
            pass

    monkeypatch.setattr(webdriver, "Remote", FakeRemote)
    settings = BrowserSettings(driver="selenium", remote_url="http://127.0.0.1:4444")
    profile = tmp_path / "profiles" / "A1"
    b = Browser("A1", profile, settings, "http://127.0.0.1:8700", node="node-a")
    b.start()
    caps = asked["caps"]
    assert asked["url"] == "http://127.0.0.1:4444"
    assert caps["browserName"] == "chrome"
    assert caps["robot:node"] == "node-a" and caps["robot:account"] == "A1"
    args = caps["goog:chromeOptions"]["args"]
    assert not any(a.startswith("--user-data-dir") for a in args)
    assert LOOPBACK_ONLY_ARG in args  # the broker is on this machine
    assert not profile.exists()  # the profile is the node's
    b.driver = None
    Browser("A1", profile, settings, "https://broker.example", node="node-a").start()
    assert LOOPBACK_ONLY_ARG not in asked["caps"]["goog:chromeOptions"]["args"]


def test_grid_failures_are_browser_crashes():
    from selenium.common.exceptions import SessionNotCreatedException, WebDriverException

    from adapters.base import BrowserCrashed

    assert isinstance(
        classify(
            SessionNotCreatedException(
                "Could not start a new session. No nodes support the capabilities in the request"
            )
        ),
        BrowserCrashed,
    )
    assert isinstance(
        classify(
            WebDriverException(
                "Unable to execute request for an existing session: Connection error (GET http://"
                "127.0.0.1:5555/session/x/title)"
            )
        ),
        BrowserCrashed,
    )


# ------------------------------------------------------------------- status and grid up
def test_status_shows_nodes_and_survives_a_hub_that_is_down(tmp_path):
    import socket

    from robot.clock import RealClock
    from robot.status import collect, render
    from robot.store import Store

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here afterwards
    store = Store(tmp_path / "state.db")
    store.set_worker_state("A1", "stockbit", "TRADING", RealClock().now(), "x", 1, None)
    with store.transaction() as c:
        c.execute("UPDATE workers SET node = 'node-a' WHERE account = 'A1'")
    data = collect(store, hub_url=f"http://127.0.0.1:{port}")
    store.close()
    assert data["grid"]["reachable"] is False and "hub unreachable" in data["grid"]["error"]
    (row,) = data["accounts"]
    assert row["node"] == "node-a" and row["node_health"] == "?"
    text = render(data)
    assert "node-a (?)" in text and "hub unreachable" in text


def test_grid_up_refuses_without_the_jar_naming_the_install_script(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOT_GRID_DIR", str(tmp_path / "no-grid-here"))
    result = run("grid", "up", "--config", str(write_cfg(tmp_path)))
    assert result.exit_code == 1, result.output
    assert "scripts/install-grid" in result.output and "jar is missing" in result.output
