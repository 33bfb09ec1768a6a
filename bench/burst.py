"""Opening burst: N stockbit accounts, one buy task each, all to be placed when the market opens.

Robot: the supervisor (`python -m robot.supervisor`, one worker and headless Chromium per account,
the product's default timing: poll every 2 s) on the simulator at clock speed 1 (real time),
started 30 s + 12 s per account + 30 s before 09:00 WIB (08:57:00 for 10 accounts) so that
every account is set up, logged in and TRADING before 09:00 (the run records whether it was). The
tasks are served from 08:58 (pre-opening matching: no order entry), so each is PENDING when
session 1 opens. UI latency 1.5 s on every broker page from 08:59:30 (0 while the browsers
start). Measured from 09:00:00 WIB to the last of the N success toasts (orders.toast_at: the
broker's confirmation, the bot's measure too), to the last order confirmed by the robot's own
read-back of the open orders (orders.confirmed_at, a step the bot does not take), and to the last
accepted at the broker (ledger).

Sequential baseline, written here, in the same run right after the robot (other account names,
same simulator and latency): one process, plain Selenium, the way common single-process bots
work: for each account in turn, launch Chromium on a fresh profile, log in through the form, open
the order form, fill and submit, wait for the success toast, quit. Its waits poll every 0.1 s.
Measured from its start to the last success toast, and to the last order accepted at the broker.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from common import (
    DAY,
    PASSWORD,
    cleanup,
    loadavg,
    log,
    scratch,
    sim_to_wall,
    start_plain_chrome,
    summary,
    wait_until,
)
from harness import BenchDay
from robot.clock import WIB


def baseline(url: str, accounts: list[str], root, prices: list[int]) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from webwait import settled  # both waits span the click's navigation

    t0 = time.time()
    parts = []
    for acc, price in zip(accounts, prices, strict=True):
        a = time.time()
        d = start_plain_chrome(root / "bot-profiles" / acc)
        b = time.time()
        try:
            wait = WebDriverWait(d, 60, poll_frequency=0.1)
            d.get(url + "/stockbit/login")
            d.find_element(By.CSS_SELECTOR, "input[name='username']").send_keys(acc)
            d.find_element(By.CSS_SELECTOR, "input[name='password']").send_keys(PASSWORD)
            d.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
            wait.until(settled(lambda x: x.find_elements(By.CSS_SELECTOR, "#user-profile")))
            c = time.time()
            d.get(url + "/stockbit/trade")
            for name, value in (
                ("stock", "BBCA"),
                ("price", price),
                ("lot", 1),
                ("take_profit", price + 200),
                ("cut_loss", price - 200),
            ):
                el = d.find_element(By.CSS_SELECTOR, f"input[name='{name}']")
                el.clear()
                el.send_keys(str(value))
            d.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
            wait.until(
                settled(
                    lambda x: [
                        e
                        for e in x.find_elements(By.CSS_SELECTOR, ".toast-success")
                        if e.text.strip()
                    ]
                )
            )
            e = time.time()
        finally:
            d.quit()
        parts.append(
            {"account": acc, "launch_s": b - a, "login_s": c - b, "order_s": e - c, "toast_at": e}
        )
    return {"start": t0, "end": parts[-1]["toast_at"] if parts else t0, "parts": parts}


def run_once(n: int, driver: str) -> dict:
    root = scratch("burst")
    robot_accs = [f"BURST_{i + 1:02d}" for i in range(n)]
    bot_accs = [f"BOT_{i + 1:02d}" for i in range(n)]
    prices = [9700 - 25 * i for i in range(n)]
    open_at = datetime.combine(DAY, datetime.strptime("09:00", "%H:%M").time(), WIB)
    scen = {
        "name": "bench-burst",
        "seed": 3,
        "accounts": {a: {"broker": "stockbit"} for a in robot_accs + bot_accs},
        "tasks": [
            {
                "task_id": f"O{i + 1:02d}",
                "account": a,
                "emiten": "BBCA",
                "side": "buy",
                "price": p,
                "lot": 1,
                "tp": p + 200,
                "cl": p - 200,
                "available_at": "08:58",
            }
            for i, (a, p) in enumerate(zip(robot_accs, prices, strict=True))
        ],
    }
    # long enough for N browsers to start and log in on this machine (as in scale.py), plus the
    # 30 s before the latency goes up at 08:59:30: 08:57:00 for N = 10
    lead = 30 + 12 * n + 30
    start = (open_at - timedelta(seconds=lead)).strftime("%H:%M:%S")
    day = BenchDay(
        root,
        scenario=scen,
        speed=1.0,
        start=start,
        accounts=[(a, "stockbit") for a in robot_accs],
        driver=driver,
        latency=0.0,
    )
    load_before = loadavg()
    try:
        day.start_robot()
        wait_until(
            lambda: day.clock.now() >= open_at.replace(minute=59, hour=8, second=30), 300, 0.2
        )
        day.sim.set_latency(1.5)
        trading = {
            r["account"] for r in day.rows("SELECT account FROM workers WHERE state = 'TRADING'")
        }
        pending = day.rows("SELECT COUNT(*) AS n FROM tasks WHERE state = 'PENDING'")[0]["n"]
        all_ready = len(trading) == n and pending == n

        def confirmed():
            rows = day.rows(
                "SELECT confirmed_at FROM orders WHERE purpose = 'entry' AND "
                "confirmed_at IS NOT NULL"
            )
            return rows if len(rows) >= n else None

        try:
            rows = wait_until(confirmed, 300, 0.2, "every burst order confirmed")
        except TimeoutError as exc:
            return failure(day, root, n, all_ready, exc, load_before)
        t_open = sim_to_wall(day.clock, open_at)
        conf = [sim_to_wall(day.clock, r["confirmed_at"]) - t_open for r in rows]
        # the broker's confirmation, as the sequential bot measures it: the success toast
        toasts = [
            sim_to_wall(day.clock, r["toast_at"]) - t_open
            for r in day.rows(
                "SELECT toast_at FROM orders WHERE purpose = 'entry' AND toast_at IS NOT NULL"
            )
        ]
        led = [
            sim_to_wall(day.clock, o["time"]) - t_open
            for o in day.ledger()
            if o["account"] in robot_accs and not o["rejected"]
        ]
        day.terminate(60)
        load_mid = loadavg()
        b = baseline(day.sim.url, bot_accs, root, prices)
        bled = [
            sim_to_wall(day.clock, o["time"]) - b["start"]
            for o in day.ledger()
            if o["account"] in bot_accs and not o["rejected"]
        ]
        res = {
            "accounts": n,
            "all_trading_before_open": all_ready,
            "robot_all_confirmed_s": round(max(conf), 2),
            "robot_all_at_broker_s": round(max(led), 2) if len(led) == n else None,
            "robot_confirmed_s": summary(conf, 2),
            "robot_all_toasts_s": round(max(toasts), 2) if len(toasts) >= n else None,
            "baseline_all_toasts_s": round(b["end"] - b["start"], 2),
            "baseline_all_at_broker_s": round(max(bled), 2) if len(bled) == n else None,
            "baseline_launch_s": summary([p["launch_s"] for p in b["parts"]], 2),
            "baseline_login_s": summary([p["login_s"] for p in b["parts"]], 2),
            "baseline_order_s": summary([p["order_s"] for p in b["parts"]], 2),
            "baseline_without_launch_s": round(
                sum(p["login_s"] + p["order_s"] for p in b["parts"]), 2
            ),
            "load_before": load_before,
            "load_between": load_mid,
            "load_after": loadavg(),
        }
        res["ratio"] = round(res["baseline_all_toasts_s"] / res["robot_all_confirmed_s"], 1)
        res["ratio_toasts"] = (
            round(res["baseline_all_toasts_s"] / res["robot_all_toasts_s"], 1)
            if res["robot_all_toasts_s"]
            else None
        )
        res["ratio_at_broker"] = (
            round(res["baseline_all_at_broker_s"] / res["robot_all_at_broker_s"], 1)
            if res["robot_all_at_broker_s"] and res["baseline_all_at_broker_s"]
            else None
        )
        res["ratio_without_launch"] = round(
            res["baseline_without_launch_s"] / res["robot_all_confirmed_s"], 1
        )
        log(
            f"burst N={n}: robot {res['robot_all_confirmed_s']} s to the read-back, "
            f"{res['robot_all_toasts_s']} s to the toasts; sequential "
            f"{res['baseline_all_toasts_s']} s ({res['ratio']}x, toasts {res['ratio_toasts']}x)"
        )
        return res
    finally:
        day.stop()
        cleanup(root)


def failure(day, root, n, all_ready, exc, load_before) -> dict:
    """What the robot's state looked like when the burst did not complete: kept for reading."""
    import shutil

    from common import OUT

    keep = OUT / "burst-failure"
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(root / "logs", keep / "logs", dirs_exist_ok=True)
    (keep / "supervisor.out").write_text(day.output())
    res = {
        "accounts": n,
        "error": f"{type(exc).__name__}: {exc}",
        "all_trading_before_open": all_ready,
        "workers": day.rows("SELECT account, state, restarts, last_error FROM workers"),
        "tasks": day.rows("SELECT task_id, state, attempts, last_error FROM tasks"),
        "orders": day.rows(
            "SELECT task_id, status, intent_at, click_at, confirmed_at, error FROM orders"
        ),
        "load_before": load_before,
        "load_after": loadavg(),
        "logs": str(keep),
    }
    log(f"burst N={n} did not complete: {res['error']} (logs in {keep})")
    return res


def run(quick: bool = False, driver: str = "uc", n: int | None = None, reps: int | None = None):
    n = n or (3 if quick else 10)
    reps = reps or (1 if quick else 2)
    runs = [run_once(n, driver) for _ in range(reps)]

    def med(key):
        vals = [r[key] for r in runs if r.get(key) is not None and "error" not in r]
        return summary(vals, 2).get("median")

    return {
        "name": "burst",
        "quick": quick,
        "accounts": n,
        "ui_latency_s": 1.5,
        "runs": runs,
        "robot_s": med("robot_all_confirmed_s"),
        "baseline_s": med("baseline_all_toasts_s"),
        "robot_toasts_s": med("robot_all_toasts_s"),
        "ratio_toasts": med("ratio_toasts"),
        "ratio": med("ratio"),
        "ratio_at_broker": med("ratio_at_broker"),
        "ratio_without_launch": med("ratio_without_launch"),
    }


if __name__ == "__main__":
    import json
    import sys

    print(
        json.dumps(
            run("--quick" in sys.argv, driver="selenium" if "--selenium" in sys.argv else "uc"),
            indent=1,
            default=str,
        )
    )
