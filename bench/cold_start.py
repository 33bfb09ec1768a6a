"""Cold start on its own: N accounts from the supervisor's start to every one READY, and the
memory of each account once they trade.

    .venv/bin/python bench/cold_start.py --n 20
    .venv/bin/python bench/cold_start.py --n 5 --flavor headless-shell --driver selenium

The supervisor runs as in production (`python -m robot.supervisor`, bench/harness.py's BenchDay:
the product's timing, launch stagger 1 s, hang timeout 60 s) on a real-time clock that starts one
second before the operating hours, so every worker starts its browser at once, as at 08:45 on a
normal day; the simulator (this process) answers every broker page after 0.5 s as in
bench/scale.py, and the accounts rotate over the stockbit, ipot and ajaib skins. No tasks: what
is measured is the start itself (bench/scale.py measures it inside an accelerated day, where
the accounts already trading compete with the ones still starting).

Measured: supervisor start to each account's READY and TRADING (worker_transitions, wall
seconds), worker crashes (WORKER_CRASHED events), and once every account has traded for a few
seconds, PSS of each worker's own Python process and of its whole tree (worker + chromedriver +
Chromium: the browser is its descendant with both drivers).
"""

from __future__ import annotations

import argparse
import statistics
import time

import psutil

from common import cleanup, loadavg, log, pss, save, scratch, summary, tree, wait_until
from harness import BenchDay

SKINS = ("stockbit", "ipot", "ajaib")
START = "09:30"


def first_at(day: BenchDay, state: str) -> dict[str, float]:
    rows = day.rows(
        "SELECT account, MIN(at) AS at FROM worker_transitions WHERE to_state = ? GROUP BY account",
        (state,),
    )
    return {r["account"]: day.wall(r["at"]) - day.started_wall for r in rows}


def run(n: int, driver: str, flavor: str, stagger: float, timeout: float) -> dict:
    accounts = [(f"C{i + 1:02d}", SKINS[i % 3]) for i in range(n)]
    scenario = {"name": "bench-cold", "accounts": {a: {"broker": b} for a, b in accounts}}
    root = scratch(f"cold{n}")
    day = BenchDay(
        root,
        scenario=scenario,
        speed=1.0,
        start="09:29:59",
        accounts=accounts,
        driver=driver,
        latency=0.5,
        settings={
            "operating_hours": {"start": START, "end": "16:15"},
            "browser": {"driver": driver, "flavor": flavor, "launch_stagger_s": stagger},
        },
    )
    load_before = loadavg()
    try:
        day.start_robot()
        try:
            wait_until(
                lambda: len(first_at(day, "TRADING")) == n, timeout, 0.5, "every account TRADING"
            )
            complete = True
        except TimeoutError:
            complete = False
        ready, trading = first_at(day, "READY"), first_at(day, "TRADING")
        time.sleep(5.0)  # a few polls of every account (a measurement, not a synchronisation)
        pids = {
            r["account"]: r["pid"]
            for r in day.rows("SELECT account, pid FROM workers WHERE pid IS NOT NULL")
        }
        worker_pss, tree_pss = [], []
        for pid in pids.values():
            with_children = tree(pid)
            if not with_children:
                continue
            worker_pss.append(pss(with_children[0]) / 2**20)
            tree_pss.append(sum(pss(p) for p in with_children) / 2**20)
        crashes = day.rows("SELECT payload FROM events WHERE type = 'WORKER_CRASHED'")
        res = {
            "accounts": n,
            "driver": driver,
            "flavor": flavor,
            "launch_stagger_s": stagger,
            "complete": complete,
            "ready_s": summary(ready.values(), 2),
            "all_ready_s": round(max(ready.values()), 2) if len(ready) == n else None,
            "all_trading_s": round(max(trading.values()), 2) if len(trading) == n else None,
            "worker_crashes": len(crashes),
            "crash_reasons": [c["payload"] for c in crashes][:10],
            "worker_pss_mib_median": round(statistics.median(worker_pss), 1)
            if worker_pss
            else None,
            "tree_pss_mib_median": round(statistics.median(tree_pss), 1) if tree_pss else None,
            "tree_pss_mib_total": round(sum(tree_pss), 1),
            "load": [load_before, loadavg()],
            "cpu_count": psutil.cpu_count(),
        }
    finally:
        day.stop()
        cleanup(root)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--driver", default="uc", choices=("uc", "selenium"))
    ap.add_argument("--flavor", default="chromium", choices=("chromium", "headless-shell"))
    ap.add_argument("--stagger", type=float, default=1.0, help="settings.browser.launch_stagger_s")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    res = run(args.n, args.driver, args.flavor, args.stagger, args.timeout)
    log(
        f"N={res['accounts']} {res['driver']}/{res['flavor']} stagger {res['launch_stagger_s']} s: "
        f"all READY {res['all_ready_s']} s (median {res['ready_s'].get('median')}), all TRADING "
        f"{res['all_trading_s']} s, {res['worker_crashes']} worker crashes; PSS per account: "
        f"worker {res['worker_pss_mib_median']} MiB, tree {res['tree_pss_mib_median']} MiB "
        f"(total {res['tree_pss_mib_total']} MiB); load {res['load']}"
    )
    save(f"cold_start-n{args.n}-{args.driver}-{args.flavor}", res)


if __name__ == "__main__":
    main()
