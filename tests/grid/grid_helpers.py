"""Helpers for the Selenium Grid tests (a uniquely named module, imported by the test modules).

The jar and Java come from scripts/install-grid, run once per test session; the tests skip, with
the script's own words, only when it cannot install them here."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import psutil
import pytest

from robot.config import PROJECT_ROOT
from robot.grid import hub_status, jar_path


@pytest.fixture(scope="session")
def grid_installed() -> Path:
    """scripts/install-grid (idempotent: a verified jar is kept); the jar's path."""
    try:
        done = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "install-grid")],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"scripts/install-grid could not run here: {exc}")
    if done.returncode != 0:
        pytest.skip(
            "scripts/install-grid could not install Java or the Selenium server jar here:"
            f" {done.stderr.strip()[-500:]}"
        )
    jar = jar_path()
    assert jar.is_file(), done.stderr
    return jar


def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (held open together, so never the same one twice)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def grid_settings(nodes: dict[str, int], ports: list[int], **extra) -> dict:
    """settings.grid for a hub on ports[0..2] and the named nodes on their ports."""
    return {
        "hub": {
            "host": "127.0.0.1",
            "port": ports[0],
            "publish_port": ports[1],
            "subscribe_port": ports[2],
        },
        "nodes": [{"name": name, "port": port} for name, port in nodes.items()],
        **extra,
    }


def sessions_by_node(hub_url: str) -> dict[str, dict[str, str]]:
    """Node name -> {account: session id} for every session the hub shows on an UP node."""
    out: dict[str, dict[str, str]] = {}
    for n in hub_status(hub_url)["nodes"]:
        if n["availability"] == "UP":
            out.setdefault(n["name"], {}).update(n["sessions"])
    return out


def browser_owner(profile: Path, candidates: dict[str, int]) -> set[str]:
    """Which of the candidate processes (name -> pid) each Chromium on this profile descends
    from (the node that launched it)."""
    marker = f"--user-data-dir={Path(profile).resolve()}"
    owners = set()
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if marker not in (proc.info["cmdline"] or []):
                continue
            ancestors = {p.pid for p in proc.parents()}
        except psutil.NoSuchProcess:
            continue
        owners |= {name for name, pid in candidates.items() if pid in ancestors}
    return owners
