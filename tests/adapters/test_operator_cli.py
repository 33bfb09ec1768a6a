"""`robot login` and `robot probe` against the simulator, through the real CLI."""

from __future__ import annotations

import json
import threading
import time

import pytest
from click.testing import CliRunner

from adapter_helpers import SELECTORS
from configs import write_config
from robot.cli import main
from robot.interactive import OperatorError, open_adapter, start, wait_for_login

pytestmark = pytest.mark.browser

IN = "SB_PROBE"  # logged in once by the fixture; the session lives in its profile
OUT = "SB_FRESH"  # never logged in


def write_cfg(env, folder, selectors=None, name: str = "accounts.yaml"):
    """IN and OUT on the simulated stockbit (``selectors``: a changed copy of its file)."""
    return write_config(
        folder,
        [{"id": IN, "broker": "stockbit", "username": "budi"}, (OUT, "stockbit")],
        {
            "state_db": str(folder / "state.db"),
            "action_timeout_s": 10,
            "browser": {"driver": "selenium", "launch_stagger_s": 0, "headless": True},
        },
        brokers={"stockbit": {"selectors": str(selectors)}} if selectors else None,
        base_url=env.url,
        name=name,
    )


@pytest.fixture(scope="module")
def cfg(env):
    """accounts.yaml for two stockbit accounts on the simulator; IN is logged in."""
    folder = env.folder / "cli"
    folder.mkdir()
    path = write_cfg(env, folder)
    account, adapter = open_adapter(str(path), IN, headless=True, clock=env.clock)
    adapter.start()
    try:
        adapter.login(IN, "demo")
        assert adapter.is_session_valid()
    finally:
        adapter.close()  # a clean close saves the session cookie in the profile
    return path


@pytest.fixture(scope="module")
def broken_cfg(env, cfg):
    """The same accounts with a stockbit selectors copy whose quote price and one column header
    are not on the simulated pages."""
    data = json.loads(SELECTORS["stockbit"].read_text(encoding="utf-8"))
    data["quote_price"] = "#quote-last-price-v2"
    data["columns"]["history"]["parent"] = "Parent Order"
    sel = cfg.parent / "stockbit-changed.json"
    sel.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return write_cfg(env, cfg.parent, sel, name="broken.yaml")


def robot(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


# --------------------------------------------------------------------------------------- probe
def test_probe_finds_every_selector(env, cfg):
    result = robot("probe", IN, "--config", cfg)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "session: logged in" in out
    assert "result: OK" in out
    assert "MISSING" not in out and "AMBIGUOUS" not in out
    for key in (
        "login_check",
        "order_form.stock_input",
        "order_form.side_sell",
        "quote_price",
        "open_orders_table",
        "order_history_table",
        "portfolio_table",
    ):
        line = next(line for line in out.splitlines() if line.startswith(key + " "))
        assert " found " in line, line
    assert env.ledger(IN) == []  # nothing was submitted


def test_probe_json(env, cfg):
    result = robot("probe", IN, "--config", cfg, "--json", "--emiten", "tlkm")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["logged_in"] is True
    status = {c["key"]: c["status"] for c in report["checks"]}
    assert status["login_form.username"] == "not checked"  # logged in: not visited
    assert status["toast_success"] == status["toast_error"] == "needs action"
    assert status["cancel_btn"] == "needs action"
    assert status["quote_price"] == "found"
    problems = {k: s for k, s in status.items() if s in ("missing", "ambiguous", "invalid")}
    assert problems == {}
    tables = {t["table"]: t for t in report["tables"]}
    assert set(tables) == {"open_orders", "history", "portfolio"}
    assert all(t["missing"] == {} for t in tables.values())
    assert tables["history"]["headers"][:3] == ["Order ID", "Time", "Stock"]


def test_probe_reports_what_is_missing(env, broken_cfg):
    result = robot("probe", IN, "--config", broken_cfg)
    assert result.exit_code == 1, result.output
    out = result.output
    line = next(line for line in out.splitlines() if line.startswith("quote_price "))
    assert "MISSING" in line and "#quote-last-price-v2" in line
    assert "MISSING column headers: parent ('Parent Order')" in out
    assert "result: PROBLEMS - 1 missing, 1 missing column header(s)" in out
    result = robot("probe", IN, "--config", broken_cfg, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    bad = {
        c["key"]: c["status"]
        for c in report["checks"]
        if c["status"] in ("missing", "ambiguous", "invalid", "unreachable")
    }
    assert bad == {"quote_price": "missing"}
    assert {t["table"]: t["missing"] for t in report["tables"] if t["missing"]} == {
        "history": {"parent": "Parent Order"}
    }


def test_probe_when_logged_out_checks_the_login_form(env, cfg):
    result = robot("probe", OUT, "--config", cfg, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["logged_in"] is False and report["ok"] is False
    status = {c["key"]: c["status"] for c in report["checks"]}
    assert status["login_form.username"] == status["login_form.password"] == "found"
    assert status["login_form.submit"] == "found"
    assert status["order_form.stock_input"] == "not checked"
    text = robot("probe", OUT, "--config", cfg).output
    assert f"NOT logged in: run `robot login {OUT}` first" in text


def test_probe_bad_input_exits_2(env, cfg):
    result = robot("probe", "NOPE", "--config", cfg)
    assert result.exit_code == 2 and "'NOPE'" in result.output
    result = robot("probe", IN, "--config", cfg, "--emiten", "BB-CA")
    assert result.exit_code == 2 and "--emiten" in result.output


# --------------------------------------------------------------------------------------- login
def test_login_with_a_saved_session_succeeds_at_once(env, cfg):
    t0 = time.monotonic()
    result = robot("login", IN, "--config", cfg, "--headless", "--timeout", 120)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - t0 < 60  # did not wait for the timeout
    assert "as budi" in result.output
    assert f"{IN}: logged in to stockbit" in result.output


def test_login_times_out(env, cfg):
    result = robot("login", OUT, "--config", cfg, "--headless", "--timeout", 1)
    assert result.exit_code == 1
    assert f"{OUT}: not logged in after 1 s" in result.output


def test_login_without_a_display_says_so_at_once(env, cfg, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    t0 = time.monotonic()
    result = robot("login", OUT, "--config", cfg, "--timeout", 60)
    assert result.exit_code == 1
    assert "no display to open the browser window on" in result.output
    assert time.monotonic() - t0 < 10  # no minute-long launch attempt


def test_login_unknown_account_exits_2(env, cfg):
    result = robot("login", "NOPE", "--config", cfg, "--headless")
    assert result.exit_code == 2 and "no account with id 'NOPE'" in result.output


def test_login_and_probe_refuse_a_profile_in_use(env, cfg):
    account, worker = open_adapter(str(cfg), IN, headless=True, clock=env.clock)
    worker.start()  # as a robot worker would
    try:
        for args in (("login", IN, "--headless", "--timeout", 5), ("probe", IN)):
            t0 = time.monotonic()
            result = robot(*args, "--config", cfg)
            assert result.exit_code == 1, result.output
            assert "is in use by another process" in result.output
            assert time.monotonic() - t0 < 10
        assert worker.is_session_valid()  # the worker's browser is untouched
    finally:
        worker.close()


def test_closing_the_window_ends_the_wait(env, cfg):
    account, adapter = open_adapter(str(cfg), OUT, headless=True, clock=env.clock)
    start(adapter, account)
    closer = threading.Timer(1.0, adapter.driver.close)  # the user closes the only window
    try:
        closer.start()
        t0 = time.monotonic()
        with pytest.raises(OperatorError, match="window closed before login"):
            wait_for_login(adapter, timeout=60)
        assert time.monotonic() - t0 < 30
    finally:
        closer.cancel()
        adapter.close()
