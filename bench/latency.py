"""Order latency: from a task the engine sees PENDING to the broker's confirmation read back.

In this process: the project's order engine (robot.engine.Engine) with the real stockbit adapter
(plain Selenium, headless Chromium), a state.db of its own, and the simulator in its own process
on a real-time clock (speed 1, 10:00 WIB, continuous session). The variants measured (the UI
latency of the simulated broker, and the order form's fill: trusted keys, the default, or the
native-setter script, ``fill: script`` in the selectors file) alternate in blocks of
``BLOCK`` orders in the same run. The first order of each block is a warm-up and is not counted:
the live open-orders page's long poll in flight when the block starts was sent at the previous
block's UI latency, and its answer would make the read-back wait for it (up to that latency).

What is timed, per order: the task is stored PENDING (robot.tasks.ingest, as the task puller
does), then ``Engine.step()`` is called until the task's entry order is CONFIRMED (normally one
step). That step is one poll of the engine: read the open orders, reconcile and track, write
the intent to SQLite, open the order form, fill emiten/price/lot/TP/CL, mark the click, click,
wait for the toast, read the open orders back and confirm the order in SQLite. Not timed: the
wait for the next poll (settings.poll_interval_ms) and for the next task pull
(task_pull_interval_s), which are configuration, not work.

"Robot overhead" is the time at UI latency 0 (the broker answers at once); at latency L it is
also estimated as wall time minus L times the broker requests the step made (counted by the
simulator), since those requests are made one after another. The CPU the order cost is reported
too (this process + chromedriver + Chromium; the simulator's own CPU separately): on a machine
shared with other work, wall time stretches with the load and CPU time much less.
"""

from __future__ import annotations

import time

import psutil

from common import (
    DAY,
    PASSWORD,
    CpuLedger,
    SimProcess,
    cleanup,
    clock_at,
    loadavg,
    log,
    make_adapter,
    scratch,
    summary,
    tree,
    write_config,
)

BLOCK = 5  # orders per block of one variant, after the block's uncounted warm-up order

# (UI latency s, adapters.generic.WAIT_POLL_S or None for the product's, fill or None for the
# selectors file's): the robot's overhead with each fill, and the time at a realistic latency
DEFAULT_VARIANTS = ((0.0, None, None), (0.0, None, "script"), (1.5, None, None))


def run(quick: bool = False, variants=None, n: int | None = None) -> dict:
    """``variants``: (UI latency, adapters.generic.WAIT_POLL_S or None, fill or None) triples,
    alternated in blocks of ``BLOCK`` counted orders (each after one warm-up order)."""
    import adapters.generic as generic
    from robot.engine import Engine
    from robot.store import Store
    from robot.tasks import ingest

    n = n or (4 if quick else 20)
    variants = list(variants or DEFAULT_VARIANTS)
    product_poll = generic.WAIT_POLL_S
    root = scratch("latency")
    clock = clock_at("10:00:00", 1.0)
    account = "ACC_LAT"
    sim = SimProcess(
        clock,
        {"name": "bench-latency", "accounts": {account: {"broker": "stockbit"}}},
        latency=0.0,
        workdir=root / "sim",
    )
    adapter, store = None, None
    load_before = loadavg()
    try:
        cfg_path = write_config(root, sim.url, [(account, "stockbit")])
        cfg, acc, adapter = make_adapter(cfg_path, account, clock)
        adapter.start()
        adapter.login(account, PASSWORD)
        store = Store(cfg.settings.state_db)
        engine = Engine(store, adapter, acc, cfg.settings, clock, DAY)
        engine.step()  # the first poll reconciles (reads the history too)

        # time the adapter's calls inside each step, for the breakdown
        spans: list[tuple[str, float]] = []
        for name in ("get_open_orders", "get_order_history", "submit_order"):
            orig = getattr(adapter, name)

            def timed(*a, __orig=orig, __name=name, **kw):
                t0 = time.perf_counter()
                try:
                    return __orig(*a, **kw)
                finally:
                    spans.append((__name, time.perf_counter() - t0))

            setattr(adapter, name, timed)

        me, browser_pids = psutil.Process(), adapter.process_ids()
        sim_proc = psutil.Process(sim.proc.pid)

        def robot_procs():
            return [me] + [p for pid in browser_pids for p in tree(pid)]

        # count WebDriver commands, by kind (every Selenium call goes through driver.execute:
        # wrapped here, in the bench process, so the product's code stays as it runs)
        commands = [0]
        kinds: dict[str, int] = {}
        kind_s: dict[str, float] = {}  # wall time spent in each kind of command
        orig_execute = adapter.driver.execute

        def counting_execute(command, *a, **kw):
            commands[0] += 1
            kinds[command] = kinds.get(command, 0) + 1
            t0 = time.perf_counter()
            try:
                return orig_execute(command, *a, **kw)
            finally:
                kind_s[command] = kind_s.get(command, 0.0) + time.perf_counter() - t0

        adapter.driver.execute = counting_execute

        product_fill = adapter.fill_mode

        def label(v):
            lat, poll, fill = v
            return (
                f"{lat:g}"
                + ("" if poll is None else f" (wait poll {poll:g} s)")
                + ("" if fill is None else f" (fill: {fill})")
            )

        rows: dict[str, list] = {label(v): [] for v in variants}
        k = 0
        blocks = -(-n // BLOCK)
        schedule = []  # (variant, counted)
        for b in range(blocks):
            for v in variants if b % 2 == 0 else list(reversed(variants)):
                size = min(BLOCK, n - b * BLOCK)
                schedule += [(v, False)] + [(v, True)] * size
        for (lat, poll, fill), counted in schedule:
            generic.WAIT_POLL_S = product_poll if poll is None else poll
            adapter.fill_mode = product_fill if fill is None else fill
            sim.set_latency(lat)
            # every order distinct (price, lot) and its cut-loss above the auto-rejection limit
            price, lots = 9700 - 25 * (k % 30), 1 + k // 30
            task_id = f"L{k:03d}"
            k += 1
            ingest(
                store,
                cfg,
                [
                    {
                        "task_id": task_id,
                        "account": account,
                        "emiten": "BBCA",
                        "side": "buy",
                        "price": price,
                        "lot": lots,
                        "tp": price + 200,
                        "cl": price - 200,
                    }
                ],
                "bench",
                DAY,
                clock.now(),
            )
            spans.clear()
            commands[0] = 0
            kinds.clear()
            kind_s.clear()
            cpu, sim_cpu = CpuLedger(), CpuLedger()
            c0, s0 = cpu.look(robot_procs()), sim_cpu.look([sim_proc])
            t_epoch = time.time()
            t0 = time.perf_counter()
            steps = 0
            while True:
                engine.step()
                steps += 1
                row = store.one(
                    "SELECT status, confirmed_at FROM orders WHERE task_id = ? "
                    "AND purpose = 'entry' ORDER BY id DESC LIMIT 1",
                    (task_id,),
                )
                if row and row["confirmed_at"]:
                    break
                if steps > 5:
                    raise RuntimeError(f"{task_id} not confirmed after 5 steps: {row}")
            wall = time.perf_counter() - t0
            robot_cpu = cpu.look(robot_procs()) - c0
            broker_cpu = sim_cpu.look([sim_proc]) - s0
            reqs = len(sim.requests(since=t_epoch))
            by = {}
            for name, d in spans:
                by[name] = by.get(name, 0.0) + d
            if not counted:
                continue
            rows[label((lat, poll, fill))].append(
                {
                    "task": task_id,
                    "wall_s": wall,
                    "steps": steps,
                    "requests": reqs,
                    "overhead_s": wall - lat * reqs,
                    "robot_cpu_s": robot_cpu,
                    "sim_cpu_s": broker_cpu,
                    "webdriver_commands": commands[0],
                    "commands_by_kind": dict(kinds),
                    "command_ms_by_kind": {c: s * 1000 for c, s in kind_s.items()},
                    "adapter_s": by,
                    "engine_s": wall - sum(by.values()),
                }
            )
        out = {}
        for key, rs in rows.items():
            out[key] = {
                "orders": len(rs),
                "wall_ms": summary([r["wall_s"] * 1000 for r in rs], 1),
                "overhead_ms": summary([r["overhead_s"] * 1000 for r in rs], 1),
                "requests": summary([r["requests"] for r in rs], 1),
                "webdriver_commands": summary([r["webdriver_commands"] for r in rs], 1),
                "commands_by_kind_last": rs[-1]["commands_by_kind"] if rs else {},
                # where an order's time goes: median ms per order in each kind of command
                "command_ms_by_kind": {
                    c: summary([r["command_ms_by_kind"].get(c, 0.0) for r in rs], 1)["median"]
                    for c in sorted({c for r in rs for c in r["command_ms_by_kind"]})
                },
                "robot_cpu_ms": summary([r["robot_cpu_s"] * 1000 for r in rs], 1),
                "simulator_cpu_ms": summary([r["sim_cpu_s"] * 1000 for r in rs], 1),
                "steps": summary([r["steps"] for r in rs], 1),
                "submit_order_ms": summary(
                    [r["adapter_s"].get("submit_order", 0) * 1000 for r in rs], 1
                ),
                "read_open_orders_ms": summary(
                    [r["adapter_s"].get("get_open_orders", 0) * 1000 for r in rs], 1
                ),
                "engine_sqlite_ms": summary([r["engine_s"] * 1000 for r in rs], 1),
                "raw": rs,
            }
            log(
                f"order latency at UI latency {key} s: p50 {out[key]['wall_ms']['median']}"
                f" ms, p95 {out[key]['wall_ms']['p95']} ms"
            )
        return {
            "name": "latency",
            "quick": quick,
            "load_before": load_before,
            "load_after": loadavg(),
            "by_latency": out,
        }
    finally:
        generic.WAIT_POLL_S = product_poll
        if store is not None:
            store.close()
        if adapter is not None:
            adapter.close()
        sim.stop()
        cleanup(root)


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(
        description="Order latency (task PENDING -> confirmed by read-back) on the stockbit "
        "skin: wall time, robot overhead, WebDriver commands and broker requests per order."
    )
    ap.add_argument("--quick", action="store_true", help="4 orders per latency instead of 20")
    ap.add_argument(
        "--wait-poll",
        action="store_true",
        help="compare adapters.generic.WAIT_POLL_S 0.5 s and 0.1 s at UI latency 0 instead",
    )
    args = ap.parse_args()
    if args.wait_poll:  # before/after of adapters.generic.WAIT_POLL_S
        r = run(variants=[(0.0, 0.5, None), (0.0, 0.1, None)], n=10 if args.quick else 20)
        from common import save

        save("latency-wait-poll", r)
    else:
        r = run(args.quick)
    for v in r["by_latency"].values():
        v.pop("raw")
    print(json.dumps(r, indent=1))
