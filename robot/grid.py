"""Selenium Grid 4: the hub's and each node's configuration generated from accounts.yaml, a local
hub + nodes for `robot grid up` (and the tests), and the hub's view of its nodes.

Routing: every node declares, for every account whose profile it holds, one slot
(``max-sessions = 1``) whose stereotype carries ``robot:node`` and ``robot:account``; the robot asks
for a session with the same two capabilities. Grid compares a custom capability only when both the
stereotype and the request carry it, so every slot on every node declares both keys, and the hub
refuses a request no slot matches at once (``reject-unsupported-caps``). One slot per account
means one browser per profile, enforced by the hub. The profile path (``--user-data-dir``) and the
Chromium binary are set on the node side, where the profile lives.

Nothing is downloaded here: the jar comes from scripts/install-grid (``.grid/``), Java from Debian.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import PROJECT_ROOT, Account, Config, GridNode
from .errors import BadInput, Problem

log = logging.getLogger("robot.grid")

JAR_VERSION = "4.48.0"
JAR_SHA256 = "c3119218bcd07b221622ffd57874519891718029358c85a2dccf506e17815cd7"
GRID_DIR = PROJECT_ROOT / ".grid"  # git-ignored; ROBOT_GRID_DIR overrides (as for the script)
INSTALL_HINT = "scripts/install-grid"
LOOPBACK = "127.0.0.1"
# The hub notices a dead node within this many seconds (Grid's default is 120).
HEALTHCHECK_INTERVAL_S = 10
# A request waits this long in the hub's queue for a busy slot (Grid's default is 300); shorter
# than a worker's hang timeout, so a worker waiting for its slot is never taken for hung.
SESSION_REQUEST_TIMEOUT_S = 30


class GridError(Exception):
    """The local grid could not be started or did not come up (exit 1)."""


def grid_dir() -> Path:
    return Path(os.environ.get("ROBOT_GRID_DIR") or GRID_DIR)


def jar_path(folder: Path | None = None) -> Path:
    return (folder or grid_dir()) / f"selenium-server-{JAR_VERSION}.jar"


# ------------------------------------------------------------------------------------ TOML
def toml_str(value: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(value, ensure_ascii=True)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return toml_str(str(value))


def _table(name: str, items: dict) -> list[str]:
    return [f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in items.items()] + [""]


def node_names(cfg: Config) -> list[str]:
    """Every node the configuration knows: settings.grid.nodes first, then accounts' nodes."""
    names = [n.name for n in cfg.settings.grid.nodes]
    for acc in cfg.accounts:
        if acc.node and acc.node not in names:
            names.append(acc.node)
    return names


def accounts_on(cfg: Config, node: str) -> list[Account]:
    """The accounts whose profile this node holds (disabled ones too: `robot login` may open
    them before they are enabled)."""
    return [a for a in cfg.accounts if a.node == node]


def node_def(cfg: Config, node: str) -> GridNode:
    known = node_names(cfg)
    if node not in known:
        raise BadInput(
            Problem(
                str(cfg.path),
                "",
                f"unknown node {node!r}; known nodes: "
                f"{', '.join(known) or 'none'} (the accounts' 'node' and "
                "settings.grid.nodes)",
            )
        )
    return cfg.settings.grid.node(node) or GridNode(node)


def _secret(cfg: Config) -> str | None:
    g = cfg.settings.grid
    if not g.secret_env:
        return None
    secret = g.secret()
    if not secret:
        raise BadInput(
            Problem(
                str(cfg.path),
                "settings.grid.secret_env",
                f"${g.secret_env} is not set: set it to the registration secret "
                "(the same on the hub and every node)",
            )
        )
    return secret


def stereotype(cfg: Config, account: Account) -> dict:
    """What the node's slot for this account offers; requests match it by node and account."""
    from .chromium import DEFAULT_CHROMIUM, chromium_args, merge_feature_switches

    b = cfg.settings.browser
    headless = b.headless if account.headless is None else account.headless
    args = chromium_args(b.site_isolation)
    if headless:
        args += ["--headless=new", "--window-size=1280,900"]
    args = merge_feature_switches(args)
    args.append(f"--user-data-dir={account.profile_path}")
    return {
        "browserName": "chrome",
        "platformName": "linux",
        "robot:node": account.node,
        "robot:account": account.id,
        "goog:chromeOptions": {"binary": b.chromium_path or DEFAULT_CHROMIUM, "args": args},
    }


def node_toml(
    cfg: Config,
    node: str,
    *,
    host: str | None = None,
    port: int | None = None,
    hub_host: str | None = None,
    log_file: Path | None = None,
) -> str:
    """The node's TOML: its account slots, Debian's chromedriver, no driver detection."""
    from .chromium import DEFAULT_CHROMEDRIVER

    spec = node_def(cfg, node)
    accounts = accounts_on(cfg, node)
    if not accounts:
        raise BadInput(
            Problem(
                str(cfg.path),
                "",
                f"node {node!r} holds no account: set "
                f"`node: {node}` on the accounts whose profiles it keeps",
            )
        )
    g = cfg.settings.grid
    hub = hub_host or g.hub_host
    server = {"host": host or spec.host, "port": port or spec.port}
    secret = _secret(cfg)
    if secret:
        server["registration-secret"] = secret
    lines = [
        f"# Selenium Grid node {node!r}, generated by `robot grid node-config {node}` from "
        f"{cfg.path}.",
        f"# Accounts: {', '.join(a.id for a in accounts)}. Regenerate after changing them.",
        "",
    ]
    lines += _table("server", server)
    lines += _table(
        "events",
        {
            "publish": f"tcp://{hub}:{g.publish_port}",
            "subscribe": f"tcp://{hub}:{g.subscribe_port}",
        },
    )
    if log_file is not None:
        lines += _table("logging", {"log-file": str(log_file)})
    lines += _table(
        "node",
        {
            "detect-drivers": False,
            "selenium-manager": False,
            "session-timeout": g.session_timeout_s,
            "grid-url": f"http://{hub}:{g.hub_port}",
            # one slot per account; the node-wide cap defaults to the CPU count otherwise
            "max-sessions": len(accounts),
            "override-max-sessions": True,
            "heartbeat-period": 10,
            "register-period": 3600,
        },
    )
    driver = cfg.settings.browser.chromedriver_path or DEFAULT_CHROMEDRIVER
    for acc in accounts:
        lines += [
            "[[node.driver-configuration]]",
            f"display-name = {toml_str(acc.id)}",
            f"webdriver-executable = {toml_str(driver)}",
            "max-sessions = 1",
            f"stereotype = {toml_str(json.dumps(stereotype(cfg, acc), separators=(',', ':')))}",
            "",
        ]
    return "\n".join(lines)


def hub_toml(
    cfg: Config, *, host: str | None = None, port: int | None = None, log_file: Path | None = None
) -> str:
    """The hub's TOML: unknown routing refused at once, dead nodes noticed within seconds."""
    g = cfg.settings.grid
    host = host or g.hub_host
    server = {"host": host, "port": port or g.hub_port}
    secret = _secret(cfg)
    if secret:
        server["registration-secret"] = secret
    lines = [f"# Selenium Grid hub, generated by `robot grid hub-config` from {cfg.path}.", ""]
    lines += _table("server", server)
    lines += _table(
        "events",
        {
            "publish": f"tcp://{host}:{g.publish_port}",
            "subscribe": f"tcp://{host}:{g.subscribe_port}",
        },
    )
    if log_file is not None:
        lines += _table("logging", {"log-file": str(log_file)})
    lines += _table(
        "distributor",
        {"reject-unsupported-caps": True, "healthcheck-interval": HEALTHCHECK_INTERVAL_S},
    )
    lines += _table("sessionqueue", {"session-request-timeout": SESSION_REQUEST_TIMEOUT_S})
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Write a config that may hold the registration secret: readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------- hub queries
def _get_json(url: str, timeout: float) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # the hub's URL: http(s) only
        return json.loads(resp.read().decode("utf-8"))


def hub_status(hub_url: str, timeout: float = 3.0) -> dict:
    """The hub's view of its nodes, never raising: {"hub", "reachable", "ready", "error",
    "nodes": [{"name", "uri", "availability", "accounts", "sessions": {account: session id}}]}."""
    hub_url = hub_url.rstrip("/")
    out: dict[str, Any] = {
        "hub": hub_url,
        "reachable": False,
        "ready": False,
        "error": None,
        "nodes": [],
    }
    try:
        value = _get_json(hub_url + "/status", timeout)["value"]
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", None) or exc
        out["error"] = f"hub unreachable: {reason}"
        return out
    out["reachable"] = True
    out["ready"] = bool(value.get("ready"))
    for n in value.get("nodes") or []:
        slots = n.get("slots") or []
        tags = ((s.get("stereotype") or {}).get("robot:node") for s in slots)
        names = {t for t in tags if t is not None}
        out["nodes"].append(
            {
                "name": ",".join(sorted(names)) if names else None,
                "id": n.get("id"),
                "uri": n.get("uri"),
                "availability": n.get("availability"),
                "accounts": sorted(
                    (s.get("stereotype") or {}).get("robot:account") or "?" for s in slots
                ),
                "sessions": {
                    (s.get("stereotype") or {}).get("robot:account"): (s.get("session") or {}).get(
                        "sessionId"
                    )
                    for s in slots
                    if s.get("session")
                },
            }
        )
    return out


def node_health(status: dict) -> dict[str, str]:
    """Node name -> UP / DOWN / DRAINING / MISSING as the hub sees it (UP wins over an old entry
    of a restarted node that the hub has not purged yet)."""
    health: dict[str, str] = {}
    for n in status.get("nodes", []):
        if n["name"] and health.get(n["name"]) != "UP":
            health[n["name"]] = n["availability"] or "?"
    return health


def end_account_sessions(hub_url: str, account_id: str, timeout: float = 5.0) -> list[str]:
    """End every session the hub holds for this account (a killed worker's session keeps its
    slot busy until the node's session-timeout otherwise). Best effort; returns the ids."""
    status = hub_status(hub_url, timeout)
    ended = []
    for n in status["nodes"]:
        sid = n["sessions"].get(account_id)
        if not sid:
            continue
        req = urllib.request.Request(f"{hub_url.rstrip('/')}/session/{sid}", method="DELETE")
        try:
            urllib.request.urlopen(req, timeout=timeout).close()
        except (OSError, urllib.error.URLError) as exc:
            log.info("ending stale Grid session %s of %s: %s", sid, account_id, exc)
        ended.append(sid)
    return ended


# ------------------------------------------------------------------------------ local grid
@dataclass
class _Proc:
    name: str
    config: Path
    log: Path
    popen: subprocess.Popen | None = None


@dataclass
class LocalGrid:
    """A hub and the configured nodes on this machine, 127.0.0.1 only. A context manager:

    with LocalGrid(cfg).start() as grid:   # waits until every node is UP
        ... grid.hub_url ...
    """

    cfg: Config
    workdir: Path = field(default_factory=lambda: grid_dir() / "run")
    jar: Path = field(default_factory=jar_path)
    java: str | None = None  # default: the one on PATH (check_installed)
    # default (empty): every node that holds an account; a grid of no node is never started
    nodes: list[str] = field(default_factory=list)
    heap_mb: int | None = None
    procs: dict[str, _Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.jar = Path(self.jar)
        self.heap_mb = self.heap_mb or self.cfg.settings.grid.java_heap_mb
        if not self.nodes:
            self.nodes = [n for n in node_names(self.cfg) if accounts_on(self.cfg, n)]
        for name in self.nodes:
            node_def(self.cfg, name)  # unknown names: BadInput now

    @property
    def hub_url(self) -> str:
        return f"http://{LOOPBACK}:{self.cfg.settings.grid.hub_port}"

    # ---------------------------------------------------------------------------- start
    def check_installed(self) -> None:
        if not self.jar.is_file():
            raise GridError(
                f"the Selenium server jar is missing ({self.jar}): run "
                f"{INSTALL_HINT} first (nothing is downloaded at run time)"
            )
        self.java = self.java or shutil.which("java")
        if not self.java:
            raise GridError(
                f"java is not installed: run {INSTALL_HINT} (as root it installs "
                "Debian's default-jre-headless)"
            )

    def write_configs(self) -> None:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        hub_cfg = self.workdir / "hub.toml"
        write_private(hub_cfg, hub_toml(self.cfg, host=LOOPBACK))
        self.procs["hub"] = _Proc("hub", hub_cfg, logs / "hub.log")
        for name in self.nodes:
            path = self.workdir / f"node-{name}.toml"
            write_private(path, node_toml(self.cfg, name, host=LOOPBACK, hub_host=LOOPBACK))
            self.procs[name] = _Proc(name, path, logs / f"node-{name}.log")

    def _spawn(self, name: str) -> None:
        if not self.java:
            raise GridError("java was not looked for: prepare() the grid first")
        proc = self.procs[name]
        role = "hub" if name == "hub" else "node"
        cmd = [
            self.java,
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseSerialGC",
            "-jar",
            str(self.jar),
            role,
            "--config",
            str(proc.config),
        ]
        kwargs: dict[str, Any]
        if sys.platform == "win32":  # (sys.platform, not os.name: what type checkers follow)
            kwargs = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        else:
            kwargs = {"start_new_session": True}
        with open(proc.log, "ab") as out:  # the child keeps its own handle
            proc.popen = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                **kwargs,
            )
        log.info("started %s %s (pid %s)", role, name, proc.popen.pid)

    def prepare(self) -> None:
        """Everything that can fail before a process starts: the jar, Java, free ports, the
        configs (a missing registration secret)."""
        self.check_installed()
        self._check_ports()
        self.write_configs()

    def start(self, timeout: float = 120.0) -> LocalGrid:
        if "hub" not in self.procs:
            self.prepare()
        try:
            self._spawn("hub")
            self.wait_hub(timeout)
            for name in self.nodes:
                self._spawn(name)
            self.wait_nodes(self.nodes, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _check_ports(self) -> None:
        g = self.cfg.settings.grid
        wanted = [
            ("hub", g.hub_port),
            ("hub event bus", g.publish_port),
            ("hub event bus", g.subscribe_port),
        ]
        wanted += [(f"node {n}", node_def(self.cfg, n).port) for n in self.nodes]
        for what, port in wanted:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((LOOPBACK, port))
                except OSError:
                    raise GridError(
                        f"port {port} on {LOOPBACK} (for the {what}) is in use: stop "
                        "whatever holds it or change settings.grid"
                    ) from None

    def start_node(self, name: str, timeout: float = 120.0) -> None:
        """(Re)start one node and wait until the hub shows it UP."""
        if name not in self.procs:
            raise BadInput(f"unknown node {name!r}; this grid runs {', '.join(self.nodes)}")
        self._spawn(name)
        self.wait_nodes([name], timeout)

    def _died(self, names) -> None:
        for name in names:
            p = self.procs[name].popen
            if p is not None and p.poll() is not None:
                raise GridError(
                    f"{name} exited with code {p.returncode} while starting; "
                    f"last lines of {self.procs[name].log}:\n{self.log_tail(name)}"
                )

    def log_tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self.procs[name].log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_hub(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._died(["hub"])
            if hub_status(self.hub_url, 2)["reachable"]:
                return
            if time.monotonic() > deadline:
                raise GridError(
                    f"the hub did not answer on {self.hub_url} within {timeout:.0f} s;"
                    f" see {self.procs['hub'].log}"
                )
            time.sleep(0.25)

    def wait_nodes(self, names, timeout: float) -> dict:
        """Until the hub's /status shows every named node UP; the status then."""
        deadline = time.monotonic() + timeout
        while True:
            self._died(["hub", *names])
            status = hub_status(self.hub_url, 2)
            health = node_health(status)
            if all(health.get(n) == "UP" for n in names):
                return status
            if time.monotonic() > deadline:
                raise GridError(
                    f"not every node came UP within {timeout:.0f} s: "
                    f"{ {n: health.get(n, 'missing') for n in names} }"
                )
            time.sleep(0.25)

    # ----------------------------------------------------------------------------- stop
    def pids(self, name: str) -> list[int]:
        p = self.procs.get(name)
        return [p.popen.pid] if p and p.popen and p.popen.poll() is None else []

    def stop_node(self, name: str, kill: bool = False) -> None:
        """End one node's whole process tree (JVM, chromedrivers, Chromiums). ``kill``: SIGKILL
        at once, as when its machine dies."""
        from . import proctree

        proc = self.procs[name]
        if proc.popen is None:
            return
        root = proctree.alive(proc.popen.pid)
        if root is not None:
            family = proctree.tree(root)
            if kill:
                for p in family:
                    with contextlib.suppress(Exception):  # gone already
                        p.kill()
            proctree.kill_all(family, grace_s=0 if kill else 10.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(10)
        proc.popen = None

    def stop(self) -> None:
        """Nodes first (their browsers close with them), then the hub."""
        for name in [n for n in self.procs if n != "hub"] + ["hub"]:
            if name in self.procs:
                self.stop_node(name)

    def __enter__(self) -> LocalGrid:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def run_grid_up(cfg: Config, timeout: float, echo=print, workdir: Path | None = None) -> int:
    """`robot grid up`: start, report, wait for Ctrl+C/SIGTERM, stop everything."""
    import signal
    import threading

    stop = threading.Event()
    grid = LocalGrid(cfg, workdir=workdir) if workdir else LocalGrid(cfg)
    skipped = [n for n in node_names(cfg) if not accounts_on(cfg, n)]
    for name in skipped:
        echo(f"node {name}: no account on it; not started")
    if not grid.nodes:
        raise BadInput("no account names a node: set `node:` on the accounts first")
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        grid.prepare()
        echo(
            f"starting the hub and {len(grid.nodes)} node(s) on {LOOPBACK} "
            f"(configs and logs in {grid.workdir})"
        )
        grid.start(timeout)
        for name in grid.nodes:
            accounts = ", ".join(a.id for a in accounts_on(cfg, name))
            echo(f"node {name} UP on {LOOPBACK}:{node_def(cfg, name).port}: {accounts}")
        echo(f"hub: {grid.hub_url}  (settings.browser.remote_url: {grid.hub_url})")
        echo("Ctrl+C stops the hub and every node")
        sys.stdout.flush()
        reported: set[str] = set()
        while not stop.wait(1.0):
            for name, proc in grid.procs.items():
                if (
                    proc.popen is not None
                    and proc.popen.poll() is not None
                    and name not in reported
                ):
                    reported.add(name)
                    echo(
                        f"warning: {name} exited with code {proc.popen.returncode}; see {proc.log}"
                    )
            if "hub" in reported:
                echo("the hub is gone; stopping the nodes")
                return 1
        echo("stopping the grid")
        return 0
    finally:
        grid.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
