"""Recovery: SIGKILL a worker mid-session (TRADING, with an open order) and time its return.

One stockbit account with one buy task below the market (it stays open all session), the
supervisor on the simulator at clock speed 1 (10:00 WIB, session 1), UI latency 0.5 s. The
product's restart policy (first backoff 1 s, min uptime 10 s) except flap_max, raised from 5 to
20 so that ten kills within ten minutes do not make the account FATAL; each kill waits until the
worker has been up 11 s, so every restart gets the first backoff.

Recovered means: the new worker process has entered TRADING (worker_transitions, after the kill)
and its first engine step has read the broker's open orders and order history, which is the read
its reconciliation of every order against the broker is made from (the engine re-reads history on
the first step of every new process). That moment is observed at the simulator as the response to
that first history-page request after the TRADING transition. Reported from the SIGKILL: the
supervisor noticing (WORKER_CRASHED event), the new process starting (INIT), READY, TRADING, and
recovered. After every kill the ledger must still hold exactly one order and the task stay OPEN.
"""

from __future__ import annotations

import os
import signal
import time

from common import cleanup, loadavg, log, scratch, summary, wait_until
from harness import BenchDay

ACC = "REC_01"


def run(quick: bool = False, driver: str = "uc", kills: int | None = None) -> dict:
    kills = kills or (3 if quick else 10)
    root = scratch("recovery")
    scen = {
        "name": "bench-recovery",
        "seed": 5,
        "accounts": {ACC: {"broker": "stockbit"}},
        "tasks": [
            {
                "task_id": "R1",
                "account": ACC,
                "emiten": "BBCA",
                "side": "buy",
                "price": 9500,
                "lot": 1,
                "tp": 9700,
                "cl": 9300,
            }
        ],
    }
    day = BenchDay(
        root,
        scenario=scen,
        speed=1.0,
        start="10:00:00",
        accounts=[(ACC, "stockbit")],
        driver=driver,
        latency=0.5,
        settings={
            "restart": {
                "backoff_initial_s": 1.0,
                "backoff_max_s": 60,
                "min_uptime_s": 10,
                "flap_max": 20,
                "flap_window_s": 600,
            }
        },
    )
    load_before = loadavg()
    samples = []
    try:
        day.start_robot()
        wait_until(
            lambda: day.rows("SELECT 1 FROM tasks WHERE state = 'OPEN'"),
            180,
            0.2,
            "the task's order open at the broker",
        )
        for k in range(kills):
            last = day.rows(
                "SELECT MAX(id) AS id, MAX(at) AS at FROM worker_transitions "
                "WHERE to_state = 'TRADING'"
            )[0]
            up_since = day.wall(last["at"])
            # the first time, let Chromium write the fresh login cookie to the profile (it
            # commits its cookie store about every 30 s; a killed browser loses what it held)
            time.sleep(max(0.0, up_since + (40 if k == 0 else 11) - time.time()))
            pid = day.rows("SELECT pid FROM workers WHERE account = ?", (ACC,))[0]["pid"]
            events_before = day.rows("SELECT MAX(seq) AS s FROM events")[0]["s"] or 0
            t_kill = time.time()
            os.kill(pid, signal.SIGKILL)

            def trading_again(last=last):
                r = day.rows(
                    "SELECT at FROM worker_transitions WHERE to_state = 'TRADING' AND "
                    "id > ? ORDER BY id LIMIT 1",
                    (last["id"],),
                )
                return r[0]["at"] if r else None

            at = wait_until(trading_again, 120, 0.05, "TRADING after the kill")
            t_trading = day.wall(at)

            def reconciled(t_trading=t_trading):
                hits = [
                    r for r in day.requests_since(t_trading) if r["path"] == "/stockbit/history"
                ]
                return hits[0]["t"] if hits else None

            t_rec = wait_until(reconciled, 60, 0.05, "the first history read after TRADING")

            def first(state, last=last, t_kill=t_kill):
                r = day.rows(
                    "SELECT at FROM worker_transitions WHERE to_state = ? AND id > ? "
                    "ORDER BY id LIMIT 1",
                    (state, last["id"]),
                )
                return round(day.wall(r[0]["at"]) - t_kill, 2) if r else None

            crash = day.rows(
                "SELECT created FROM events WHERE type = 'WORKER_CRASHED' AND "
                "seq > ? ORDER BY seq LIMIT 1",
                (events_before,),
            )
            buys = [o for o in day.ledger() if o["account"] == ACC and not o["rejected"]]
            state = day.rows("SELECT state FROM tasks WHERE task_id = 'R1'")[0]["state"]
            samples.append(
                {
                    "kill": k + 1,
                    "noticed_s": round(day.wall(crash[0]["created"]) - t_kill, 2)
                    if crash
                    else None,
                    "init_s": first("INIT"),
                    "ready_s": first("READY"),
                    "trading_s": round(t_trading - t_kill, 2),
                    "recovered_s": round(t_rec - t_kill, 2),
                    "ledger_orders": len(buys),
                    "task_state": state,
                }
            )
            log(f"recovery {k + 1}/{kills}: {samples[-1]}")
        rec = [s["recovered_s"] for s in samples]
        log_text = (
            (root / "logs" / f"{ACC}.log").read_text()
            if (root / "logs" / f"{ACC}.log").exists()
            else ""
        )
        relogins = log_text.count("logged in automatically") - 1
        return {
            "name": "recovery",
            "quick": quick,
            "kills": kills,
            "ui_latency_s": 0.5,
            "driver": driver,
            "recovered_s": summary(rec, 2),
            "trading_s": summary([s["trading_s"] for s in samples], 2),
            "noticed_s": summary([s["noticed_s"] for s in samples if s["noticed_s"]], 2),
            "init_s": summary([s["init_s"] for s in samples if s["init_s"]], 2),
            "ready_s": summary([s["ready_s"] for s in samples if s["ready_s"]], 2),
            "exactly_one_order": all(s["ledger_orders"] == 1 for s in samples),
            "task_open_throughout": all(s["task_state"] == "OPEN" for s in samples),
            "logins_after_kills": relogins,
            "samples": samples,
            "load_before": load_before,
            "load_after": loadavg(),
        }
    finally:
        day.stop()
        cleanup(root)


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
