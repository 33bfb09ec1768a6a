"""`python -m robot.supervisor --demo`: a whole simulated trading day, start to finish.

The simulator and task server run in this process on free 127.0.0.1 ports with the `demo`
scenario; three accounts (one per broker skin) get their own profiles and state under ``demo/``
(never the user's accounts.yaml or state.db); the robot logs them in on the simulator by itself
and runs 08:45-16:15 WIB on an accelerated clock. A live view shows the day as it happens, and
the dashboard (robot/dashboard/) serves it on a free 127.0.0.1 port; at the end the EOD report
is printed, the simulator's ledger is saved beside it and the two are
compared.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

# the ledger comparison the demo prints is the one the end-to-end tests make
from simulator.ledger import compare_with_ledger

from . import calendar as idx, logs
from .clock import WIB, AcceleratedClock, RealClock
from .config import load_config
from .errors import EXIT_OK, EXIT_RUNTIME
from .supervisor import Supervisor, install_signal_handlers

log = logging.getLogger("robot.demo")
DEMO_ACCOUNTS = [("ACC_STOCKBIT", "stockbit"), ("ACC_IPOT", "ipot"), ("ACC_AJAIB", "ajaib")]
DEMO_PASSWORD = "demo"  # the simulator's documented demo password
DEMO_PIN = "123456"  # the demo scenario's ipot trading PIN
DEFAULT_SPEED = 150.0  # 08:30-16:15 in a little over three minutes


def demo_day(today: date) -> date:
    """Today when it trades, else the next trading day: the demo runs any day of the year."""
    d = today
    while not idx.is_trading_day(d):
        d += timedelta(days=1)
    return d


def write_config(root: Path, sim_url: str, driver: str = "uc") -> Path:
    cfg = {
        "settings": {
            "operating_hours": {"start": "08:45", "end": "16:15"},
            "eod_report_time": "16:00",
            "poll_interval_ms": 2000,
            "heartbeat_interval_s": 1,
            "task_pull_interval_s": 60,
            "reconcile_grace_s": 30,
            "task_server": {"url": sim_url, "token_env": "ROBOT_DEMO_TOKEN"},
            "browser": {"driver": driver, "headless": True, "launch_stagger_s": 0.5},
        },
        "brokers": {b: {"base_url": sim_url} for _, b in DEMO_ACCOUNTS},
        "accounts": [
            {
                "id": a,
                "broker": b,
                "profile_path": f"profiles/{a}",
                "enabled": True,
                "password_env": "ROBOT_DEMO_PASSWORD",
                "pin_env": "ROBOT_DEMO_PIN",
                "limits": {"max_order_value": 100_000_000},
            }
            for a, b in DEMO_ACCOUNTS
        ],
    }
    path = root / "accounts.yaml"
    path.write_text(
        "# written by `python -m robot.supervisor --demo`; edits are overwritten\n"
        + json.dumps(cfg, indent=2)
        + "\n",
        encoding="utf-8",
    )
    return path


def run_demo(
    root: Path, speed: float | None, driver: str | None = None, day: date | None = None
) -> int:
    from simulator.server import SimServer

    root = root.resolve()
    for sub in (
        "state.db",
        "state.db-wal",
        "state.db-shm",
        "state.db.lock",
        "logs",
        "reports",
        "profiles",
        "ledger.json",
    ):
        p = root / sub
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    day = day or demo_day(RealClock().now().date())
    clock = AcceleratedClock.starting(
        datetime.combine(day, dtime(8, 30), WIB), speed or DEFAULT_SPEED
    )
    token = os.urandom(12).hex()
    os.environ.update(
        ROBOT_DEMO_TOKEN=token,
        ROBOT_DEMO_PASSWORD=DEMO_PASSWORD,
        ROBOT_DEMO_PIN=DEMO_PIN,
        SE_OFFLINE="true",
    )
    sim = SimServer(clock=clock, scenario="demo", token=token, port=0).start()
    try:
        cfg = load_config(write_config(root, sim.url, driver or "uc"))
        logs.setup(cfg.settings.log_dir, "supervisor", clock=clock)
        for secret in (token, DEMO_PIN, DEMO_PASSWORD):
            logs.register_secret(secret)
        print(
            f"robot demo: trading day {day} on the simulator at {sim.url}, clock x{clock.speed:g}"
            f" from 08:30 WIB; state, logs and reports in {root}",
            flush=True,
        )
        sup = Supervisor(cfg, clock, day)
        install_signal_handlers(sup)
        view = LiveView(sup, clock, cfg.settings.extra_holidays)
        sup.hooks.append(view.update)
        sup.on_report = view.done
        dashboard = start_dashboard(cfg.path)
        if dashboard is not None:
            view.header = f"dashboard: {dashboard.url}"
        try:
            code = sup.run()
        finally:
            if dashboard is not None:
                dashboard.stop()
        view.done()
        if sup.stop_requested.is_set():
            print("demo interrupted", flush=True)
            return code
        return finish(sup, sim, root)
    finally:
        sim.stop()


def start_dashboard(config_path: Path):
    """`robot dashboard` for the demo's state.db on a free 127.0.0.1 port, on a thread while
    the day runs; its URL is printed. The day goes on without it if it cannot start."""
    from .dashboard import DashboardServer, create_app

    try:
        server = DashboardServer(create_app(config_path), "127.0.0.1", 0).start()
    except OSError as exc:
        print(f"(no dashboard: {exc})", flush=True)
        return None
    print(f"robot demo: dashboard at {server.url} while the day runs", flush=True)
    return server


def finish(sup, sim, root: Path) -> int:
    ledger = sim.ledger()
    ledger_path = (sup.report_path.parent if sup.report_path else root) / "ledger.json"
    ledger_path.write_text(json.dumps(ledger, indent=2), encoding="utf-8")
    if sup.report is None:
        print("no end-of-day report was produced; see the logs", flush=True)
        return EXIT_RUNTIME
    from .store import Store

    store = Store(sup.settings.state_db, readonly=True)
    try:
        problems = compare_with_ledger(
            store.tasks_on(None), store.orders_on(None), ledger, sup.report
        )
    finally:
        store.close()
    print(f"ledger: {ledger_path}", flush=True)
    s = sup.report["summary"]
    missing = [k for k in ("tp_hit", "cl_hit", "expired_unmatched", "failed") if not s[k]]
    if problems:
        print("the report DISAGREES with the simulator's ledger:", flush=True)
        for p in problems:
            print(f"  - {p}", flush=True)
        return EXIT_RUNTIME
    print(
        "the report agrees with the simulator's ledger "
        f"({len([o for o in ledger if not o['rejected']])} orders, no duplicates)",
        flush=True,
    )
    if missing:
        print(
            f"note: the demo usually shows every outcome; this run has none of: "
            f"{', '.join(missing)}",
            flush=True,
        )
    return EXIT_OK


class LiveView:
    """The day as it happens: WIB time, market phase, one line per account.

    On a terminal the view is redrawn in place; otherwise a plain line is printed whenever an
    account's line changes, so logs and CI output stay readable.
    """

    def __init__(self, sup, clock, extra_holidays=(), out=sys.stdout, interval_s: float = 0.5):
        self.sup, self.clock, self.out = sup, clock, out
        self.extra = extra_holidays
        self.tty = out.isatty()
        self.interval_s = interval_s
        self.last_draw = 0.0
        self.last_lines: dict[str, str] = {}
        self.finished = False
        self.header = ""  # a line under the title (the dashboard's URL: the screen is redrawn)

    def update(self, _sup=None) -> None:
        if self.finished or time.monotonic() - self.last_draw < self.interval_s:
            return
        self.last_draw = time.monotonic()
        now = self.clock.now()
        phase = idx.phase_at(now, self.extra).value.replace("_", " ")
        lines = self.account_lines()
        if self.tty:
            body = [
                f"robot demo  {now:%Y-%m-%d %H:%M:%S} WIB  market: {phase}",
                self.header,
                "",
                f"  {'account':<14}{'state':<15}{'open':>5}{'fills':>6}{'TP':>4}{'CL':>4}"
                f"{'restarts':>9}  last",
            ]
            body += [f"  {v}" for v in lines.values()]
            self.out.write("\x1b[H\x1b[J" + "\n".join(body) + "\n")
            self.out.flush()
            return
        for acc, line in lines.items():
            if self.last_lines.get(acc) != line:
                self.out.write(f"{now:%H:%M:%S} {phase:<24} {line}\n")
        self.out.flush()
        self.last_lines = lines

    def account_lines(self) -> dict[str, str]:
        store = self.sup.store
        out = {}
        for acc_id in self.sup.handles:
            w = store.worker(acc_id) or {}
            t = store.task_counts(acc_id, self.sup.day)
            last = store.last_event_of(acc_id)
            out[acc_id] = (
                f"{acc_id:<14}{w.get('state') or '-':<15}{t.get('open') or 0:>5}"
                f"{t.get('fills') or 0:>6}{t.get('tp') or 0:>4}{t.get('cl') or 0:>4}"
                f"{w.get('restarts') or 0:>9}  "
                f"{(last['type'] + ' ' + (last['task_id'] or '')) if last else ''}"
            )
        return out

    def done(self, *_: object) -> None:
        if not self.finished and self.tty:
            self.update()
        self.finished = True
