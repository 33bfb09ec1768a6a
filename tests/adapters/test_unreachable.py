"""A broker whose site does not answer: the error names the URL, and `robot probe` / `robot
login` say what to do (for the shipped configuration: start `robot sim`). Real Chromium."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from adapter_helpers import ADAPTER_MODULES, SELECTORS, settings_for
from adapters import create_adapter
from adapters.base import BrokerUnreachable
from robot.cli import main
from robot.config import SIM_DEFAULT_URL, Account, BrokerDef
from simulator.testing import ManualClock

pytestmark = pytest.mark.browser


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_adapter_names_the_url_that_did_not_answer(tmp_path):
    base = f"http://127.0.0.1:{closed_port()}"
    account = Account(id="ACC_X", broker="stockbit", profile_path=tmp_path / "p", headless=True)
    adapter = create_adapter(
        account,
        BrokerDef("stockbit", ADAPTER_MODULES["stockbit"], SELECTORS["stockbit"], base),
        settings_for(tmp_path),
        ManualClock("2026-03-02 10:00"),
    )
    adapter.start()
    try:
        with pytest.raises(BrokerUnreachable) as info:
            adapter.is_session_valid()
    finally:
        adapter.close()
    assert info.value.url == f"{base}/stockbit/orders"
    assert "net::ERR_CONNECTION_REFUSED" in str(info.value)
    assert info.value.retryable


@pytest.mark.parametrize(
    "command",
    [["probe", "ACC_STOCKBIT"], ["login", "ACC_STOCKBIT", "--headless", "--timeout", "5"]],
)
def test_operator_commands_say_to_start_the_simulator(make_config, command):
    host, port = SIM_DEFAULT_URL.rsplit(":", 1)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", int(port))) == 0:
            pytest.fail(f"something listens on {SIM_DEFAULT_URL}: this test needs it free")
    config = make_config([("ACC_STOCKBIT", "stockbit")], {"browser": {"driver": "selenium"}})
    result = CliRunner().invoke(main, [*command, "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"{SIM_DEFAULT_URL}/stockbit/" in result.output and "did not answer" in result.output
    assert "robot sim" in result.output and "Traceback" not in result.output
