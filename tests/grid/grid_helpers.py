"""Helpers for the Selenium Grid tests (a uniquely named module, imported by the test modules);
the grid_installed fixture is in tests/grid/conftest.py."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil

from robot.grid import hub_status


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
