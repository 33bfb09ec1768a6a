"""Poll cost: the project's table reader (one execute_script) versus one WebDriver call per cell.

One stockbit account on the simulator (its own process, UI latency 0) with ten open orders placed
through the adapter at prices below the market. The same browser and page, the two readers
alternating in blocks:

- ``read``: the table only, on the already loaded open-orders page.
  project: ``driver.execute_script(READ_TABLE_JS)`` + the adapter's row mapping;
  per-cell: find the table, its header cells and rows, then for each row ``find_elements(td)``
  and ``.text`` of every cell (one WebDriver call per cell, plus one per row and header);
- ``poll``: what one poll of the open orders costs: navigate to the page and read it.
  project: ``SelectorAdapter.get_open_orders()``; per-cell: ``open_page`` + the per-cell reader.

Wall time is taken per call. CPU is the user+system time of this Python process, chromedriver
and the whole Chromium tree over a block of calls (psutil), divided by the calls in the block.
WebDriver commands and page loads (the ``get`` and ``refresh`` commands: every navigation the
adapter makes) are counted per block too, by wrapping ``driver.execute`` as bench/latency.py
does: a live page that is current is read without one (issue 17's goal for a poll).
"""

from __future__ import annotations

import time
from collections import Counter

from common import (
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


def per_cell_read(driver, css: str) -> dict:
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, css)
    headers = [th.text.strip() for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = []
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        rows.append([td.text.strip() for td in tr.find_elements(By.CSS_SELECTOR, "td")])
    return {"headers": headers, "rows": rows}


# the WebDriver commands that load a page (selenium's Command.GET and Command.REFRESH)
PAGE_LOADS = ("get", "refresh")


def count_commands(driver) -> Counter:
    """Count the WebDriver commands ``driver`` sends, by kind, from now on: every Selenium call
    goes through driver.execute, wrapped here in the bench process so the product's code stays
    as it runs (as bench/latency.py counts an order's commands)."""
    count: Counter = Counter()
    orig = driver.execute

    def counting_execute(command, *a, **kw):
        count[command] += 1
        return orig(command, *a, **kw)

    driver.execute = counting_execute
    return count


def run(quick: bool = False) -> dict:
    from adapters.base import OrderRequest, Side
    from adapters.generic import ORDER_FIELDS
    from adapters.pagejs import READ_TABLE_JS

    blocks, per_block = (4, 3) if quick else (6, 6)
    root = scratch("poll")
    clock = clock_at("10:00:00", 1.0)
    account = "ACC_POLL"
    sim = SimProcess(
        clock,
        {"name": "bench-poll", "accounts": {account: {"broker": "stockbit"}}},
        latency=0.0,
        workdir=root / "sim",
    )
    adapter = None
    load_before = loadavg()
    try:
        cfg_path = write_config(root, sim.url, [(account, "stockbit")])
        _, _, adapter = make_adapter(cfg_path, account, clock)
        adapter.start()
        adapter.login(account, PASSWORD)
        for k in range(10):
            adapter.submit_order(
                OrderRequest("BBCA", Side.BUY, 9700 - 25 * k, 1 + k % 3), before_click=lambda: None
            )
        open_orders = adapter.get_open_orders()
        assert len(open_orders) == 10, open_orders
        driver, css = adapter.driver, adapter.sel["open_orders_table"]
        cols = adapter.sel["columns"]["open_orders"]

        def project_read():
            data = driver.execute_script(READ_TABLE_JS, css)
            return adapter._rows(data, cols, "open_orders", ORDER_FIELDS)

        def cell_read():
            data = per_cell_read(driver, css)
            return adapter._rows(data, cols, "open_orders", ORDER_FIELDS)

        def project_poll():
            return adapter.get_open_orders()

        def cell_poll():
            adapter.open_page("open_orders")
            return cell_read()

        # the two readers must see the same table
        adapter.open_page("open_orders")
        a, b = project_read(), cell_read()
        assert a == b and len(a) == 10, (a, b)
        n_cells = sum(len(r) for r in per_cell_read(driver, css)["rows"])

        me = __import__("psutil").Process()
        browser_pids = adapter.process_ids()

        def procs():
            out = [me]
            for pid in browser_pids:
                out += tree(pid)
            return out

        count = count_commands(driver)
        results = {}
        for variant, fns in (
            ("read", (("project", project_read), ("per_cell", cell_read))),
            ("poll", (("project", project_poll), ("per_cell", cell_poll))),
        ):
            walls = {name: [] for name, _ in fns}
            cpus = {name: [] for name, _ in fns}
            cmds = {name: [] for name, _ in fns}
            loads = {name: [] for name, _ in fns}
            if variant == "read":
                adapter.open_page("open_orders")
            for blk in range(blocks):
                order = fns if blk % 2 == 0 else tuple(reversed(fns))
                for name, fn in order:
                    fn()  # warm
                    ledger = CpuLedger()
                    count.clear()
                    c0 = ledger.look(procs())
                    for _ in range(per_block):
                        t0 = time.perf_counter()
                        rows = fn()
                        walls[name].append((time.perf_counter() - t0) * 1000)
                        assert len(rows) == 10
                    c1 = ledger.look(procs())
                    cpus[name].append((c1 - c0) / per_block * 1000)
                    cmds[name].append(sum(count.values()) / per_block)
                    loads[name].append(sum(count[k] for k in PAGE_LOADS) / per_block)
            res = {
                name: {
                    "ms_per_poll": summary(walls[name], 2),
                    "cpu_ms_per_poll": summary(cpus[name], 2),
                    "webdriver_commands_per_poll": summary(cmds[name], 2),
                    "page_loads_per_poll": summary(loads[name], 2),
                    "page_loads": round(sum(loads[name]) * per_block),
                    "calls": blocks * per_block,
                }
                for name, _ in fns
            }
            res["ratio_wall_median"] = round(
                res["per_cell"]["ms_per_poll"]["median"] / res["project"]["ms_per_poll"]["median"],
                1,
            )
            res["ratio_cpu_median"] = round(
                res["per_cell"]["cpu_ms_per_poll"]["median"]
                / res["project"]["cpu_ms_per_poll"]["median"],
                1,
            )
            results[variant] = res
            log(
                f"poll cost {variant}: project {res['project']['ms_per_poll']['median']} ms, "
                f"per-cell {res['per_cell']['ms_per_poll']['median']} ms; cpu ratio "
                f"{res['ratio_cpu_median']}x"
            )
        return {
            "name": "poll",
            "quick": quick,
            "rows": 10,
            "cells": n_cells,
            "blocks": blocks,
            "calls_per_block": per_block,
            "load_before": load_before,
            "load_after": loadavg(),
            **results,
        }
    finally:
        if adapter is not None:
            adapter.close()
        sim.stop()
        cleanup(root)


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=1))
