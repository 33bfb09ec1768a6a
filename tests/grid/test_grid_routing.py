"""Selenium Grid on one machine: `robot grid up` (a hub and two nodes on loopback ports), each
account's session on the node that holds its profile, unknown routing refused at once, one
browser per profile, a stale session ended through the hub, and everything gone on SIGTERM."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from adapters.browser import Browser
from configs import write_config
from grid_helpers import browser_owner, free_ports, grid_settings, sessions_by_node
from robot import grid
from robot.config import BrowserSettings
from waiting import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NODES = {"R1": "node-a", "R2": "node-a", "R3": "node-b"}


class Up:
    def __init__(self, root: Path, ports: list[int]):
        self.root = root
        self.hub_url = f"http://127.0.0.1:{ports[0]}"
        self.config = write_config(
            root,
            [{"id": acc, "broker": "stockbit", "node": node} for acc, node in NODES.items()],
            {
                "browser": {"driver": "selenium", "remote_url": self.hub_url},
                "grid": grid_settings({"node-a": ports[3], "node-b": ports[4]}, ports),
            },
        )
        self.out = root / "grid-up.out"
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "robot",
                    "grid",
                    "up",
                    "--config",
                    str(self.config),
                    "--workdir",
                    str(root / "grid"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: "hub: " in self.text() or self.proc.poll() is not None,
            150,
            "robot grid up to report the hub URL",
        )
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.out.read_text()

    def family(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def node_pids(self) -> dict[str, int]:
        out = {}
        for p in self.family():
            try:
                cmd = " ".join(p.cmdline())
            except psutil.NoSuchProcess:
                continue
            for node in ("node-a", "node-b"):
                if f"node-{node}.toml" in cmd:
                    out[node] = p.pid
        return out

    def browser(self, account: str, node: str | None = None) -> Browser:
        settings = BrowserSettings(driver="selenium", remote_url=self.hub_url)
        return Browser(
            account,
            self.root / "profiles" / account,
            settings,
            "http://127.0.0.1:9",
            node=node or NODES.get(account, "node-a"),
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            family = self.family()
            self.proc.kill()
            for p in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    p.kill()


@pytest.fixture(scope="module")
def up(grid_installed, tmp_path_factory):
    u = Up(tmp_path_factory.mktemp("grid-routing"), free_ports(5))
    yield u
    u.stop()


def test_grid_up_starts_a_hub_and_both_nodes_on_loopback_only(up):
    text = up.text()
    assert f"hub: {up.hub_url}" in text
    assert "node node-a UP" in text and "R1, R2" in text and "node node-b UP" in text
    status = grid.hub_status(up.hub_url)
    assert grid.node_health(status) == {"node-a": "UP", "node-b": "UP"}
    by_name = {n["name"]: n["accounts"] for n in status["nodes"]}
    assert by_name == {"node-a": ["R1", "R2"], "node-b": ["R3"]}
    listening = [
        c.laddr
        for p in up.family()
        for c in p.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 5, listening  # hub, 2 event-bus ports, 2 nodes
    assert {addr.ip.removeprefix("::ffff:") for addr in listening} == {"127.0.0.1"}, listening
    generated = sorted(p.name for p in (up.root / "grid").glob("*.toml"))
    assert generated == ["hub.toml", "node-node-a.toml", "node-node-b.toml"]


def test_each_session_lands_on_the_node_that_holds_its_profile(up):
    b1, b3 = up.browser("R1"), up.browser("R3")
    try:
        b1.start()
        b3.start()
        sessions = sessions_by_node(up.hub_url)
        assert sessions == {
            "node-a": {"R1": b1.driver.session_id},
            "node-b": {"R3": b3.driver.session_id},
        }
        nodes = up.node_pids()
        assert browser_owner(up.root / "profiles" / "R1", nodes) == {"node-a"}
        assert browser_owner(up.root / "profiles" / "R3", nodes) == {"node-b"}
        caps = b3.driver.capabilities
        assert caps["robot:node"] == "node-b" and caps["robot:account"] == "R3"
        b1.driver.get("data:text/html,<title>r1</title>")
        assert b1.driver.title == "r1"
    finally:
        b1.quit()
        b3.quit()
    wait_for(
        lambda: sessions_by_node(up.hub_url) == {"node-a": {}, "node-b": {}},
        20,
        "both sessions to end",
    )


@pytest.mark.parametrize("account,node", [("R1", "nowhere"), ("R9", "node-a"), ("R3", "node-a")])
def test_unknown_routing_is_refused_at_once(up, account, node):
    from adapters.base import BrowserCrashed
    from adapters.browser import classify

    b = up.browser(account, node)
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        b.start()
    assert time.monotonic() - started < 5.0, "refused, not queued"
    assert "No nodes support the capabilities" in str(info.value)
    assert isinstance(classify(info.value), BrowserCrashed)


def test_one_browser_per_profile_and_a_stale_session_is_ended_through_the_hub(up):
    first = up.browser("R2")
    first.start()
    second = up.browser("R2")
    result = {}

    def ask():
        try:
            second.start()
            result["ok"] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - the test asserts on what it was
            result["error"] = exc

    asker = threading.Thread(target=ask)
    asker.start()

    def queued() -> bool:  # the hub holds the second request in its queue: it is waiting
        import requests

        body = {"query": "{ grid { sessionQueueSize } }"}
        answer = requests.post(f"{up.hub_url}/graphql", json=body, timeout=5).json()
        return answer["data"]["grid"]["sessionQueueSize"] >= 1

    wait_for(queued, 30, "the second R2 request queued at the hub")
    assert not result, "a second browser on R2's profile must wait for the first"
    # the first worker "dies" without quitting: its session holds the slot until it is ended
    ended = grid.end_account_sessions(up.hub_url, "R2")
    assert ended == [first.driver.session_id]
    freed = time.monotonic()
    asker.join(40)
    assert "ok" in result, result
    assert result["ok"] - freed < 25
    assert sessions_by_node(up.hub_url)["node-a"] == {"R2": second.driver.session_id}
    second.quit()
    first.driver = None


def test_robot_status_shows_the_hubs_view_of_each_node(up, tmp_path):
    from robot.clock import RealClock
    from robot.status import collect, render
    from robot.store import Store

    store = Store(tmp_path / "state.db")
    for acc, node in NODES.items():
        store.set_worker_state(acc, "stockbit", "TRADING", RealClock().now(), "x", 1, None)
        with store.transaction() as c:
            c.execute("UPDATE workers SET node = ? WHERE account = ?", (node, acc))
    data = collect(store, hub_url=up.hub_url)
    store.close()
    assert {r["account"]: r["node_health"] for r in data["accounts"]} == {
        "R1": "UP",
        "R2": "UP",
        "R3": "UP",
    }
    text = render(data)
    assert "node-a (UP)" in text and "grid hub " + up.hub_url + ": ready, 2 node(s)" in text


def test_sigterm_stops_the_hub_every_node_and_their_browsers(up):
    b = up.browser("R3")
    b.start()  # a live browser under node-b
    family = up.family()
    assert any("chromium" in (p.name() or "") for p in family)
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(60) == 0, up.text()
    assert "stopping the grid" in up.text()
    gone, alive = psutil.wait_procs(family, timeout=15)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive
    assert not grid.hub_status(up.hub_url, 1)["reachable"]
    b.driver = None
