"""Shared helpers of the benchmarks: machine facts, load, statistics, process trees, the simulator.

Every benchmark measures on the built-in simulator with real headless Chromium. Numbers are
medians of several runs or samples; each result records the load average before and after, since
the machine may be shared with other work.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Any

# the project root first, then tests/ (configs, waiting): as pytest's pythonpath has them
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import pytest

import configs
from robot.clock import WIB, AcceleratedClock
from waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"

DAY = date(2026, 3, 2)  # a Monday and an IDX trading day (the demo day)
TOKEN = "bench-token"
PASSWORD = "demo"


# ------------------------------------------------------------------------------- machine, load
def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    m = re.search(r"\d+\.\d+\.\d+(\.\d+)?", out)
    return m.group(0) if m else out.strip()[:60]


def machine() -> dict:
    import selenium

    vm = psutil.virtual_memory()
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "host_cores_logical": psutil.cpu_count(),
        "host_cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(vm.total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "chromium": _version(["/usr/bin/chromium", "--version"]),
        "chromedriver": _version(["/usr/bin/chromedriver", "--version"]),
        "selenium": selenium.__version__,
        "psutil": psutil.__version__,
        "loadavg": loadavg(),
    }


# ----------------------------------------------------------------------------------- statistics
def pct(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(q / 100 * len(v) + 0.5)) - 1))
    return v[k]


def summary(values: Iterable[float], digits: int = 3) -> dict:
    v = [float(x) for x in values if x is not None]
    if not v:
        return {"n": 0}

    def r(x: float) -> float:
        return round(x, digits)

    return {
        "n": len(v),
        "median": r(statistics.median(v)),
        "p95": r(pct(v, 95)),
        "min": r(min(v)),
        "max": r(max(v)),
        "mean": r(statistics.fmean(v)),
    }


# ----------------------------------------------------------------------------------- processes
def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def pss(proc: psutil.Process) -> int:
    """Proportional set size (shared pages split between sharers); RSS where PSS is missing."""
    try:
        info = proc.memory_full_info()
        return int(getattr(info, "pss", 0) or info.rss)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0


def cpu_s(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
        return t.user + t.system
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return 0.0


class CpuLedger:
    """Cumulative CPU of processes that come and go: the last value seen per process is kept, so
    a process that exited still counts with what it had used at the last look."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, float], float] = {}

    def look(self, procs: Iterable[psutil.Process]) -> float:
        for p in procs:
            try:
                key = (p.pid, p.create_time())
            except psutil.Error:
                continue
            self.seen[key] = max(self.seen.get(key, 0.0), cpu_s(p))
        return self.total

    @property
    def total(self) -> float:
        return sum(self.seen.values())


class WorkerTrees:
    """Each account's worker process tree (worker + chromedriver + Chromium), looked at now and
    then: cumulative CPU per account and per part of the tree (a CpuLedger each, so processes
    that came and went, a restarted worker's included, still count), and PSS when asked."""

    PARTS = ("worker", "chromedriver", "chromium")

    def __init__(self, accounts: Iterable[str]) -> None:
        self.parts = {a: {k: CpuLedger() for k in self.PARTS} for a in accounts}

    def look(self, pids: dict[str, int], memory: bool = True) -> dict[str, int]:
        """Add what each tree used so far; return each account's PSS (bytes) when ``memory``
        (reading smaps costs far more than reading CPU times, so a caller may sample it less)."""
        per = {}
        for acc, pid in pids.items():
            procs = tree(pid)
            for p in procs:
                self.parts[acc][_part(p, pid)].look([p])
            if memory:
                per[acc] = sum(pss(p) for p in procs)
        return per

    def cpu_s(self) -> dict[str, float]:
        """Cumulative CPU seconds per account (the whole tree)."""
        return {a: sum(c.total for c in parts.values()) for a, parts in self.parts.items()}

    def cpu_s_by_part(self) -> dict[str, dict[str, float]]:
        return {a: {k: c.total for k, c in parts.items()} for a, parts in self.parts.items()}


def _part(proc: psutil.Process, root_pid: int) -> str:
    if proc.pid == root_pid:
        return "worker"
    try:
        name = proc.name()
    except psutil.Error:
        return "chromium"
    # undetected-chromedriver runs a patched copy under its own name
    return "chromedriver" if "chromedriver" in name else "chromium"


def chromium_args() -> list[str]:
    """The flags the robot's Browser uses (plain Selenium), for the baselines written here."""
    from robot.chromium import BASE_ARGS, LOOPBACK_ONLY_ARG

    return list(BASE_ARGS) + [LOOPBACK_ONLY_ARG, "--window-size=1280,900", "--headless=new"]


def start_plain_chrome(profile: Path):
    """Plain Selenium Chromium on a fresh profile, the robot's flags (for the baselines)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in chromium_args() + [f"--user-data-dir={profile}"]:
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)


# ----------------------------------------------------------------------------------- clock, time
def clock_at(hhmmss: str, speed: float, day: date = DAY) -> AcceleratedClock:
    return AcceleratedClock.starting(datetime.combine(day, dtime.fromisoformat(hhmmss), WIB), speed)


def sim_to_wall(clock: AcceleratedClock, at: str | datetime) -> float:
    """Epoch wall time at which the clock read ``at``."""
    dt = datetime.fromisoformat(at) if isinstance(at, str) else at
    return clock.anchor + (dt - clock.start).total_seconds() / clock.speed


def wall_to_sim(clock: AcceleratedClock, wall: float) -> datetime:
    return clock.start + timedelta(seconds=(wall - clock.anchor) * clock.speed)


def wait_until(pred, timeout: float, interval: float = 0.1, what: str = "condition"):
    """tests/waiting.py's wait_for, timing out with TimeoutError: a benchmark is no pytest test,
    and bench/run.py records an ordinary exception as that benchmark's error."""
    try:
        return wait_for(pred, timeout, what, interval)
    except pytest.fail.Exception as exc:
        raise TimeoutError(exc.msg) from None


# ---------------------------------------------------------------------- simulator, out of process
class SimProcess:
    """The simulator in its own process (so its CPU is not counted as the robot's), on a clock
    given by spec. Controlled over HTTP; also records every broker request it answers (epoch
    time, path, method), readable at /_bench/requests."""

    def __init__(
        self,
        clock: AcceleratedClock,
        scenario: dict,
        latency: float = 0.0,
        workdir: Path | None = None,
    ):
        self.clock = clock
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="bench-sim-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        scen = self.workdir / "scenario.json"
        scen.write_text(json.dumps(scenario))
        # the child writes its stderr there; this process needs no handle of its own
        with open(self.workdir / "sim.out", "w") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(BENCH / "simproc.py"),
                    "--clock-spec",
                    clock.spec(),
                    "--scenario",
                    str(scen),
                    "--latency",
                    str(latency),
                    "--token",
                    TOKEN,
                ],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=ROOT,
            )
        line = self.proc.stdout.readline()
        if not line.startswith("URL "):
            raise RuntimeError(
                f"simulator did not start: {line!r} "
                f"{(self.workdir / 'sim.out').read_text()[-2000:]}"
            )
        self.url = line.split()[1]

    def _req(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def set_latency(self, seconds: float) -> None:
        self._req("POST", "/api/_control/latency", {"seconds": seconds})

    def add_tasks(self, tasks: list[dict]) -> None:
        self._req("POST", "/api/tasks", tasks)

    def ledger(self) -> list[dict]:
        return self._req("GET", "/api/ledger")["orders"]

    def requests(self, since: float = 0.0) -> list[dict]:
        return [r for r in self._req("GET", "/_bench/requests")["requests"] if r["t"] >= since]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def install_request_log(app, sink: list, lock: threading.Lock | None = None) -> None:
    """Record (epoch time, method, path, broker account cookie) of every response the simulator
    sends: the benchmarks' view of what the robot asked the broker, and when."""
    from flask import request

    lock = lock or threading.Lock()

    @app.after_request
    def _record(resp: Any) -> Any:
        with lock:
            sink.append(
                {
                    "t": time.time(),
                    "method": request.method,
                    "path": request.path,
                    "status": resp.status_code,
                    "cookies": sorted(request.cookies.values())[:1],
                }
            )
        return resp


# ------------------------------------------------------------------------ config and adapters
def write_config(
    root: Path,
    sim_url: str,
    accounts: list[tuple[str, str]],
    settings: dict | None = None,
    driver: str = "selenium",
) -> Path:
    s = {
        "operating_hours": {"start": "08:45", "end": "16:15"},
        "eod_report_time": "16:00",
        "state_db": str(root / "state.db"),
        "log_dir": str(root / "logs"),
        "report_dir": str(root / "reports"),
        "browser": {"driver": driver, "launch_stagger_s": 0.5},
    }
    s.update(settings or {})
    return configs.write_config(
        root,
        [{"id": a, "broker": b, "profile_path": str(root / "profiles" / a)} for a, b in accounts],
        s,
        base_url=sim_url,
    )


def make_adapter(cfg_path: Path, account_id: str, clock):
    from adapters import create_adapter
    from robot.config import load_config

    cfg = load_config(cfg_path)
    account = cfg.account(account_id)
    adapter = create_adapter(account, cfg.broker_of(account), cfg.settings, clock)
    return cfg, account, adapter


def scratch(name: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    return d


def cleanup(path: Path) -> None:
    if os.environ.get("BENCH_KEEP"):
        print(f"kept {path}", flush=True)
        return
    shutil.rmtree(path, ignore_errors=True)


def save(name: str, result: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    return path


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S} load {loadavg()[:1]}] {msg}", flush=True)
