"""Dashboard beside trading: do the robot's timings stay within noise with the page open?

N accounts (20; quick: 3) TRADING at real time exactly as in bench/steady.py (its scenario: a
held position and an open order per account, the product's default timing, UI latency 0.5 s),
then four phases of P minutes each (3; quick: 1) in the order off, on, on, off, so that a drift
that grows steadily over the run (one more open order per account and phase to read back) weighs
the same on both sides.

- **on**: `robot dashboard --config accounts.yaml` runs as its own process, as a person starts it,
  and its main page is open in a headless Chromium (Debian's, plain Selenium, the robot's flags),
  updating itself at the page's default rate (every 3 s: each update reads every account, today's
  tasks, the event stream and the outbox from state.db);
- **off**: neither runs.

In each phase:
- **orders**: when the phase starts every account gets a new task (a buy below the price that
  never fills, its TP and CL inside the day's price band); the supervisor's next task pull stores
  them together, so the phase's orders are a burst of N at once, the busiest moment a day has.
  From the robot's store: `created` (pulled and stored) -> `intent_at` (the engine committed its
  intent) -> `confirmed_at` (read back at the broker), median and p95 over the phase's orders.
  Every order must be confirmed inside its phase.
- **heartbeats**: every worker's heartbeat age in the workers table (what the supervisor's hang
  detection reads), sampled every second: median, p95, max.
- **CPU**: each account's worker tree (worker + chromedriver + Chromium) and the supervisor, as %
  of a core (as bench/steady.py), and, in the on phases, the dashboard's server and its Chromium.
- broker requests per account per minute, and the page's own update counter (it was live).

Verdict: for each figure, on (mean of the two on phases) minus off (mean of the two off phases),
next to the noise: the larger of |off1 - off2| and |on1 - on2|. "Within noise" when the
difference is no larger than the noise; the numbers are written down either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psutil

from common import (
    CpuLedger,
    WorkerTrees,
    cleanup,
    cpu_s,
    log,
    pct,
    scratch,
    start_plain_chrome,
    summary,
    tree,
    wait_until,
)
from harness import BenchDay
from scale import code
from steady import UI_LATENCY, scenario, start_in_place, steady_day

PHASES = ("off", "on", "on", "off")
PHASE_LETTERS = "WXYZ"  # one emiten per account and phase for the phase's new task
SAMPLE_EVERY_S = 1.0
CPU_EVERY_S = 5.0


def with_phase_emitens(scen: dict, n: int) -> dict:
    for i in range(n):
        p = 1000 + 20 * i
        for k in PHASE_LETTERS:
            scen["emitens"][code(i, k)] = {"prev_close": p, "path": [["08:45", p], ["16:00", p]]}
    return scen


def phase_tasks(n: int, accounts: list[tuple[str, str]], k: int) -> list[dict]:
    out = []
    for i, (acc, _) in enumerate(accounts[:n]):
        p = 1000 + 20 * i
        price = p - 55 - 5 * k  # below the price and the open order's: never fills
        out.append(
            {
                "task_id": f"{acc}_P{k}",
                "account": acc,
                "emiten": code(i, PHASE_LETTERS[k]),
                "side": "buy",
                "price": price,
                "lot": 1,
                "tp": p + 100,
                "cl": price - 50,  # inside the day's price band (stockbit and ajaib check it)
            }
        )
    return out


class Dashboard:
    """`robot dashboard` as a person runs it, and its main page open in headless Chromium."""

    def __init__(self, day: BenchDay, profile: Path):
        # its output to a file: a pipe nobody reads could fill and stop it
        out_path = day.root / f"dashboard-{profile.name}.out"
        cmd = [sys.executable, "-m", "robot", "dashboard", "--config", str(day.config)]
        with open(out_path, "w") as out:
            self.proc = subprocess.Popen(
                cmd + ["--port", "0"],
                cwd=day.root,
                env=day.robot_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

        def url_line() -> str:
            return next((x for x in out_path.read_text().splitlines() if "http://" in x), "")

        try:
            wait_until(
                lambda: url_line() or self.proc.poll() is not None, 30, 0.2, "robot dashboard"
            )
        except TimeoutError:
            self.proc.kill()
            raise
        line = url_line()
        if not line:
            raise RuntimeError(f"robot dashboard did not start: {out_path.read_text()[-1000:]}")
        self.url = line.split()[-1]
        self.driver = start_plain_chrome(profile)
        self.driver.get(self.url)
        self.cpu = CpuLedger()
        wait_until(lambda: self.polls() >= 1, 30, 0.5, "the dashboard page's first update")
        self.polls0 = self.polls()
        self.look()

    def polls(self) -> int:
        v = self.driver.execute_script(
            "var e = document.getElementById('last-updated'); return e && e.dataset.polls;"
        )
        return int(v or 0)

    def procs(self) -> list[psutil.Process]:
        return tree(self.proc.pid) + tree(self.driver.service.process.pid)

    def look(self) -> float:
        return self.cpu.look(self.procs())

    def stop(self) -> dict:
        self.look()
        res = {"page_updates": self.polls() - self.polls0, "url": self.url}
        self.driver.quit()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return res


def stamp(s: str | None) -> float | None:
    return datetime.fromisoformat(s).timestamp() if s else None


def order_timings(day: BenchDay, task_ids: list[str]) -> dict:
    marks = ",".join("?" * len(task_ids))
    rows = day.rows(
        "SELECT t.task_id, t.created, o.intent_at, o.confirmed_at FROM tasks t "
        f"LEFT JOIN orders o ON o.task_id = t.task_id WHERE t.task_id IN ({marks})",
        task_ids,
    )
    done = [r for r in rows if r["confirmed_at"]]
    pick = [(stamp(r["created"]), stamp(r["intent_at"]), stamp(r["confirmed_at"])) for r in done]
    return {
        "orders": len(task_ids),
        "confirmed": len(done),
        "created_to_intent_s": summary([b - a for a, b, _ in pick if a and b], 3),
        "intent_to_confirmed_s": summary([c - b for _, b, c in pick if b and c], 3),
        "created_to_confirmed_s": summary([c - a for a, _, c in pick if a and c], 3),
    }


def heartbeat_ages(day: BenchDay) -> list[float]:
    now = day.clock.now().timestamp()
    return [
        now - stamp(r["heartbeat"])  # type: ignore[operator]
        for r in day.rows("SELECT heartbeat FROM workers WHERE state = 'TRADING'")
        if r["heartbeat"]
    ]


def run_phase(
    day: BenchDay,
    accounts: list[tuple[str, str]],
    k: int,
    kind: str,
    minutes: float,
    sup: psutil.Process,
    root: Path,
) -> dict:
    names = [a for a, _ in accounts]
    dash = Dashboard(day, root / f"dash-profile-{k}") if kind == "on" else None
    tasks = phase_tasks(len(accounts), accounts, k)
    trees = WorkerTrees(names)
    pids = day.worker_pids()
    trees.look(pids, memory=False)
    cpu0, sup0 = trees.cpu_s(), cpu_s(sup)
    dash0 = dash.look() if dash else 0.0
    t0 = time.time()
    for t in tasks:
        day.sim.add_task(t)
    ages: list[float] = []
    end, next_cpu = t0 + 60 * minutes, t0 + CPU_EVERY_S
    while time.time() < end:
        ages.extend(heartbeat_ages(day))
        if time.time() >= next_cpu:
            next_cpu += CPU_EVERY_S
            trees.look(day.worker_pids(), memory=False)
            if dash:
                dash.look()
        time.sleep(max(0.05, min(SAMPLE_EVERY_S, end - time.time())))
    trees.look(day.worker_pids(), memory=False)
    window = time.time() - t0
    cpu1, sup1 = trees.cpu_s(), cpu_s(sup)
    res = {
        "phase": k + 1,
        "dashboard": kind,
        "window_s": round(window, 1),
        **order_timings(day, [t["task_id"] for t in tasks]),
        "heartbeat_age_s": {
            "median": round(pct(ages, 50) or 0, 2),
            "p95": round(pct(ages, 95) or 0, 2),
            "max": round(max(ages, default=0), 2),
            "samples": len(ages),
        },
        "cpu_pct_per_account": summary([100 * (cpu1[a] - cpu0[a]) / window for a in names], 2),
        "supervisor_cpu_pct": round(100 * (sup1 - sup0) / window, 2),
        "requests_per_account_min": round(
            len(day.requests_since(t0)) / len(names) / (window / 60), 1
        ),
        "same_workers": day.worker_pids() == pids,
    }
    if dash:
        res["dashboard_cpu_pct"] = round(100 * (dash.look() - dash0) / window, 2)
        res.update(dash.stop())
    log(
        f"dashboard phase {k + 1} ({kind}): confirmed {res['confirmed']}/{res['orders']}, "
        f"intent->confirmed p50 {res['intent_to_confirmed_s'].get('median')} s, heartbeat age "
        f"p95 {res['heartbeat_age_s']['p95']} s, CPU per account median "
        f"{res['cpu_pct_per_account'].get('median')} %"
        + (f", dashboard {res['dashboard_cpu_pct']} %" if dash else "")
    )
    return res


# (label, how to read the figure from a phase's result)
FIGURES = (
    ("created -> intent, median (s)", lambda p: p["created_to_intent_s"].get("median")),
    ("intent -> confirmed, median (s)", lambda p: p["intent_to_confirmed_s"].get("median")),
    ("intent -> confirmed, p95 (s)", lambda p: p["intent_to_confirmed_s"].get("p95")),
    ("created -> confirmed, p95 (s)", lambda p: p["created_to_confirmed_s"].get("p95")),
    ("heartbeat age, p95 (s)", lambda p: p["heartbeat_age_s"]["p95"]),
    ("heartbeat age, max (s)", lambda p: p["heartbeat_age_s"]["max"]),
    ("CPU per account, median (% of a core)", lambda p: p["cpu_pct_per_account"].get("median")),
    ("supervisor CPU (% of a core)", lambda p: p["supervisor_cpu_pct"]),
    ("broker requests per account-minute", lambda p: p["requests_per_account_min"]),
)


def verdict(phases: list[dict]) -> list[dict]:
    off = [p for p in phases if p["dashboard"] == "off"]
    on = [p for p in phases if p["dashboard"] == "on"]
    rows = []
    for label, get in FIGURES:
        a, b = [get(p) for p in off], [get(p) for p in on]
        by_phase = [get(p) for p in phases]
        if None in a or None in b:
            rows.append({"figure": label, "by_phase": by_phase, "within_noise": None})
            continue
        diff = sum(b) / len(b) - sum(a) / len(a)
        noise = max(abs(a[0] - a[1]), abs(b[0] - b[1]))
        rows.append(
            {
                "figure": label,
                "by_phase": by_phase,
                "off": a,
                "on": b,
                "on_minus_off": round(diff, 3),
                "noise": round(noise, 3),
                "within_noise": abs(diff) <= noise,
            }
        )
    return rows


def run(
    quick: bool = False, driver: str = "uc", n: int | None = None, minutes: float | None = None
) -> dict:
    n = n or (3 if quick else 20)
    minutes = minutes or (1.0 if quick else 3.0)
    warmup_s = 30.0 if quick else 60.0
    log(f"dashboard: {n} account(s) TRADING at clock 1x, phases {PHASES} of {minutes:g} min")
    scen, accounts = scenario(n)
    day = steady_day(scratch(f"dashboard{n}"), with_phase_emitens(scen, n), accounts, driver)
    root = day.root
    try:
        sup = psutil.Process(start_in_place(day, accounts).pid)
        time.sleep(warmup_s)
        phases = [
            run_phase(day, accounts, k, kind, minutes, sup, root) for k, kind in enumerate(PHASES)
        ]
    finally:
        day.stop()
        cleanup(root)
    rows = verdict(phases)
    return {
        "name": "dashboard",
        "quick": quick,
        "accounts": n,
        "driver": driver,
        "ui_latency_s": UI_LATENCY,
        "phase_minutes": minutes,
        "phases": phases,
        "verdict": rows,
        "all_within_noise": all(r["within_noise"] is not False for r in rows),
        "every_order_confirmed": all(p["confirmed"] == p["orders"] for p in phases),
    }


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, help="accounts (default 20; quick 3)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--minutes", type=float, help="each phase (default 3; quick 1)")
    a = ap.parse_args()
    print(json.dumps(run(a.quick, "uc", a.n, a.minutes), indent=1, default=str))
