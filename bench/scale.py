"""Scale and cold start: N accounts through a shortened trading day on the accelerated clock.

The supervisor runs as in production (`python -m robot.supervisor`, one worker process and one
headless Chromium per account, the product's default timing: poll every 2 s, task pull every
30 s, heartbeat 5 s, launch stagger 1 s), on the simulator (this process) with UI latency 0.5 s
on every broker page. The accounts rotate over the stockbit, ipot and ajaib skins.

The day is shortened so that a run stays bounded: the workers start early enough for N browsers
to be up before the pre-opening (operating_hours.start = 08:45 minus 30 s + 12 s per account of
wall time on the accelerated clock; the robot's normal 08:45 would leave the 25x clock 36 s of
wall time for 20 browsers), the pre-opening 08:45-08:58 and session 1 from 09:00, the
end-of-day report at 09:45 and the end at 09:50. Each account gets two tasks (one in quick mode),
each on an emiten of its own with a scripted price path:

- A: available 08:46-08:53 (pre-opening); the price is at the buy limit from 09:00 (fills at the
  open); then at 09:10-09:19 it moves to the TP (even accounts) or the CL (odd) for 10 minutes;
- B: available 09:05-09:14; the price reaches the limit 5 minutes later; 15 minutes after
  availability it moves to the CL (even) or TP (odd) for 10 minutes.

Checked from the simulator's ledger (the ground truth):
- deadlines: no order the robot submitted is rejected for a closed market, and every one was
  accepted at a time robot.calendar.can_submit allows; placement delay (accepted - available);
- no missed TP/CL: every task whose buy was fully filled before its price move started ended
  TP_HIT/CL_HIT; and the robot's record agrees with the ledger
  (simulator.ledger.compare_with_ledger).

Measured: supervisor CPU (psutil cpu_times of the supervisor process), each worker's whole process
tree (worker + chromedriver + Chromium) PSS and CPU sampled every few seconds, the system's used
memory before the run versus during it, and cold start: supervisor start to each account's READY
(worker_transitions), converted to wall seconds.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import datetime, timedelta

import psutil

from common import WorkerTrees, cleanup, cpu_s, loadavg, log, pss, scratch, summary
from harness import BenchDay

SKINS = ("stockbit", "ipot", "ajaib")
HOLD_MIN = 10


def setup_time(n: int, speed: float) -> str:
    """When the workers start (operating_hours.start): early enough that N browsers can start,
    log in and be TRADING before the pre-opening (08:45) on this machine: 30 s + 12 s per account
    of wall time, whatever the clock speed."""
    lead_sim_min = int((30 + 12 * n) * speed / 60) + 1
    m = 8 * 60 + 45 - lead_sim_min
    return f"{m // 60:02d}:{m % 60:02d}"


def _hhmm(h: int, m: int) -> str:
    return f"{h + m // 60:02d}:{m % 60:02d}"


def code(i: int, k: str) -> str:
    return f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}{k}"


def scenario(n: int, tasks_per_account: int) -> tuple[dict, list[tuple[str, str]], dict]:
    accounts = [(f"ACC_{i + 1:02d}", SKINS[i % 3]) for i in range(n)]
    emitens, tasks, plan = {}, [], {}
    for i, (acc, _) in enumerate(accounts):
        # A: pre-opening task, fills at the open, moves at 09:10 + i % 10
        p = 1000 + 20 * i
        move = 10 + i % 10
        exit_kind = "tp" if i % 2 == 0 else "cl"
        tp, cl = p + 25, p - 25
        emitens[code(i, "A")] = {
            "prev_close": p,
            "path": [
                ["08:45", p + 10],
                ["09:00", p],
                [_hhmm(9, move), tp if exit_kind == "tp" else cl],
                [_hhmm(9, move + HOLD_MIN), p],
            ],
        }
        tid = f"{acc}_A"
        tasks.append(
            {
                "task_id": tid,
                "account": acc,
                "emiten": code(i, "A"),
                "side": "buy",
                "price": p,
                "lot": 1 + i % 3,
                "tp": tp,
                "cl": cl,
                "available_at": _hhmm(8, 46 + i % 8),
            }
        )
        plan[tid] = {
            "available": _hhmm(8, 46 + i % 8),
            "move_at": _hhmm(9, move),
            "exit": exit_kind,
        }
        if tasks_per_account < 2:
            continue
        # B: session task, available 09:05 + i % 10, at the limit 5 min later, moves 15 min later
        q = 2000 + 20 * i
        avail = 5 + i % 10
        exit_kind = "cl" if i % 2 == 0 else "tp"
        tp, cl = q + 50, q - 50
        emitens[code(i, "B")] = {
            "prev_close": q,
            "path": [
                ["08:45", q + 20],
                [_hhmm(9, avail + 5), q],
                [_hhmm(9, avail + 15), tp if exit_kind == "tp" else cl],
                [_hhmm(9, avail + 15 + HOLD_MIN), q],
            ],
        }
        tid = f"{acc}_B"
        tasks.append(
            {
                "task_id": tid,
                "account": acc,
                "emiten": code(i, "B"),
                "side": "buy",
                "price": q,
                "lot": 1 + i % 2,
                "tp": tp,
                "cl": cl,
                "available_at": _hhmm(9, avail),
            }
        )
        plan[tid] = {
            "available": _hhmm(9, avail),
            "move_at": _hhmm(9, avail + 15),
            "exit": exit_kind,
        }
    scen = {
        "name": f"bench-scale-{n}",
        "description": "generated by bench/scale.py",
        "seed": 7,
        "accounts": {a: {"broker": b, "pin": "123456"} for a, b in accounts},
        "emitens": emitens,
        "tasks": tasks,
    }
    return scen, accounts, plan


def check_day(day: BenchDay, plan: dict) -> dict:
    from robot import calendar as idx
    from simulator.ledger import compare_with_ledger

    ledger = day.ledger()
    accounts = {a for a, _ in day.accounts}
    ours = [o for o in ledger if o["account"] in accounts]
    robot_orders = [
        o
        for o in ours
        if not o.get("exit_kind") or o["side"] == "buy" or o.get("parent_id") is None
    ]
    rejected_closed = [
        o for o in robot_orders if o["rejected"] and "closed" in (o.get("reason") or "").lower()
    ]
    bad_phase = [
        o
        for o in robot_orders
        if not o["rejected"]
        and o.get("parent_id") is None
        and not idx.can_submit(idx.phase_at(datetime.fromisoformat(o["time"])))
    ]
    rejected_other = [o for o in robot_orders if o["rejected"] and o not in rejected_closed]
    tasks = day.tasks()
    orders = day.rows("SELECT * FROM orders")
    report_row = day.rows("SELECT json FROM reports ORDER BY created DESC LIMIT 1")
    report = json.loads(report_row[0]["json"]) if report_row else None
    problems = (
        compare_with_ledger(list(tasks.values()), orders, ledger, report)
        if report
        else ["no end-of-day report"]
    )
    by_id = {o["order_id"]: o for o in ledger}
    delays, missed, late, outcomes = [], [], [], {}
    for tid, p in plan.items():
        t = tasks.get(tid)
        state = t["state"] if t else "MISSING"
        outcomes[state] = outcomes.get(state, 0) + 1
        entry = next(
            (
                o
                for o in orders
                if o["task_id"] == tid and o["purpose"] == "entry" and o["broker_order_id"]
            ),
            None,
        )
        buy = by_id.get(entry["broker_order_id"]) if entry else None
        if buy is None:
            missed.append({"task": tid, "why": f"no order at the broker (state {state})"})
            continue
        avail = datetime.fromisoformat(buy["time"]).replace(
            hour=int(p["available"][:2]), minute=int(p["available"][3:]), second=0, microsecond=0
        )
        delays.append((datetime.fromisoformat(buy["time"]) - avail).total_seconds() / 60)
        move = avail.replace(hour=int(p["move_at"][:2]), minute=int(p["move_at"][3:]))
        filled_at = max((datetime.fromisoformat(f["time"]) for f in buy["fills"]), default=None)
        if buy["filled_lots"] == buy["lots"] and filled_at is not None and filled_at <= move:
            want = "TP_HIT" if p["exit"] == "tp" else "CL_HIT"
            if state != want:
                missed.append(
                    {
                        "task": tid,
                        "why": f"price reached {p['exit'].upper()} after the "
                        f"fill but the task is {state}",
                    }
                )
        else:
            late.append(
                {"task": tid, "filled_at": str(filled_at), "move_at": str(move), "state": state}
            )
    unfinished = [
        {
            "task": tid,
            "state": t["state"],
            "reason": t["reason"],
            "last_error": (t["last_error"] or "")[:200],
        }
        for tid, t in tasks.items()
        if t["state"] not in ("TP_HIT", "CL_HIT")
    ]
    crashes = [
        json.loads(r["payload"]).get("reason")
        for r in day.rows("SELECT payload FROM events WHERE type = 'WORKER_CRASHED'")
    ]
    return {
        "unfinished_tasks": unfinished,
        "crash_reasons": crashes,
        "ledger_orders": len(ours),
        "rejected_market_closed": len(rejected_closed),
        "accepted_outside_submit_phase": len(bad_phase),
        "rejected_other": [(o["account"], o["emiten"], o.get("reason")) for o in rejected_other],
        "missed_tp_cl": missed,
        "filled_after_move": late,
        "ledger_disagreements": problems,
        "outcomes": outcomes,
        "placement_delay_sim_min": summary(delays, 2),
        "deadlines_met": not rejected_closed and not bad_phase and not missed,
    }


def run_one(
    n: int, speed: float, tasks_per_account: int, driver: str, sample_every: float = 3.0
) -> dict:
    scen, accounts, plan = scenario(n, tasks_per_account)
    root = scratch(f"scale{n}")
    setup = setup_time(n, speed)
    start = (datetime.strptime(setup, "%H:%M") - timedelta(seconds=1)).strftime("%H:%M:%S")
    day = BenchDay(
        root,
        scenario=scen,
        speed=speed,
        start=start,
        accounts=accounts,
        driver=driver,
        latency=0.5,
        settings={"operating_hours": {"start": setup, "end": "09:50"}, "eod_report_time": "09:45"},
    )
    load_before = loadavg()
    used_before = []
    for _ in range(3):
        used_before.append(psutil.virtual_memory().used)
        time.sleep(0.5)
    used0 = sorted(used_before)[1]
    try:
        proc = day.start_robot()
        sup = psutil.Process(proc.pid)
        sup_cpu = 0.0
        trees = WorkerTrees(a for a, _ in accounts)
        samples = []
        while proc.poll() is None:
            t = time.time()
            with contextlib.suppress(psutil.Error):
                sup_cpu = cpu_s(sup)
            per = trees.look(day.worker_pids())
            samples.append(
                {
                    "t": round(t - day.started_wall, 2),
                    "sim": day.clock.now().strftime("%H:%M:%S"),
                    "pss": per,
                    "used": psutil.virtual_memory().used,
                    "sup_cpu": sup_cpu,
                    "sup_pss": pss(sup),
                }
            )
            time.sleep(max(0.1, sample_every - (time.time() - t)))
        wall = time.time() - day.started_wall
        code_ = proc.returncode
        # only samples where every account had its browser (trading hours), for per-account
        full = [s for s in samples if len(s["pss"]) == n and "09:00:00" <= s["sim"] <= "09:40:00"]
        totals = [sum(s["pss"].values()) for s in full]
        per_acc_peak = [max(s["pss"].get(a, 0) for s in full) for a, _ in accounts] if full else []
        per_acc_mean = (
            [sum(s["pss"].get(a, 0) for s in full) / len(full) for a, _ in accounts] if full else []
        )
        ready = {
            r["account"]: r["at"]
            for r in day.rows(
                "SELECT account, MIN(at) AS at FROM worker_transitions WHERE to_state = 'READY' "
                "GROUP BY account"
            )
        }
        trading = {
            r["account"]: r["at"]
            for r in day.rows(
                "SELECT account, MIN(at) AS at FROM worker_transitions WHERE to_state = 'TRADING' "
                "GROUP BY account"
            )
        }
        cold = [day.wall(at) - day.started_wall for at in ready.values()]
        checks = check_day(day, plan)
        restarts = day.rows("SELECT COUNT(*) AS n FROM events WHERE type = 'WORKER_CRASHED'")
        mib = 2**20
        res = {
            "accounts": n,
            "tasks": len(plan),
            "speed": speed,
            "driver": driver,
            "setup_at": setup,
            "exit_code": code_,
            "wall_s": round(wall, 1),
            "load_before": load_before,
            "load_after": loadavg(),
            "supervisor_cpu_s": round(sup_cpu, 2),
            "supervisor_cpu_pct_of_core": round(100 * sup_cpu / wall, 2),
            "supervisor_pss_mib": round(max((s["sup_pss"] for s in samples), default=0) / mib, 1),
            "worker_tree_cpu_pct_of_core_per_account": summary(
                [100 * c / wall for c in trees.cpu_s().values()], 1
            ),
            "pss_total_mib": {
                "peak": round(max(totals, default=0) / mib, 1),
                "mean": round(sum(totals) / len(totals) / mib, 1) if totals else None,
            },
            "pss_per_account_mib": {
                "peak": summary([x / mib for x in per_acc_peak], 1),
                "mean": summary([x / mib for x in per_acc_mean], 1),
            },
            "system_used_increase_mib": {
                "peak": round((max(s["used"] for s in full) - used0) / mib, 1) if full else None,
                "mean": round((sum(s["used"] for s in full) / len(full) - used0) / mib, 1)
                if full
                else None,
            },
            "samples": len(samples),
            "samples_all_accounts": len(full),
            "cold_start_to_ready_s": summary(cold, 2),
            "all_ready_s": round(max(cold), 2) if len(cold) == n else None,
            "ready_count": len(ready),
            "trading_by_sim": max(trading.values())[11:19] if len(trading) == n else None,
            "worker_crashes": restarts[0]["n"] if restarts else None,
            **checks,
        }
        if code_ != 0:
            res["supervisor_tail"] = day.output()[-3000:]
        log(
            f"scale N={n}: deadlines met {res['deadlines_met']}, PSS/account peak median "
            f"{res['pss_per_account_mib']['peak'].get('median')} MiB, supervisor CPU "
            f"{res['supervisor_cpu_pct_of_core']} %, all READY {res['all_ready_s']} s"
        )
        return res
    finally:
        day.stop()
        cleanup(root)


def run(quick: bool = False, driver: str = "uc", ns=None, speed: float | None = None) -> dict:
    ns = ns or ((2,) if quick else (1, 5, 10, 20))
    speed = speed or (30.0 if quick else 25.0)
    runs = []
    for n in ns:
        log(f"scale: {n} account(s) at {speed:g}x")
        runs.append(run_one(n, speed, 1 if quick else 2, driver))
    return {
        "name": "scale",
        "quick": quick,
        "speed": speed,
        "ui_latency_s": 0.5,
        "window": "setup before 08:45 (30 s + 12 s per account of wall time), pre-opening "
        "08:45, session 1 09:00, EOD 09:45, end 09:50",
        "runs": runs,
    }


if __name__ == "__main__":
    import sys

    ns = tuple(int(x) for x in sys.argv[1:] if x.isdigit()) or None
    r = run("--quick" in sys.argv, driver="selenium" if "--selenium" in sys.argv else "uc", ns=ns)
    print(json.dumps(r, indent=1, default=str))
