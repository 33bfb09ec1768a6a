"""What one WebDriver command costs, by kind: the profile behind the order-latency figures.

    .venv/bin/python bench/commands.py        # writes bench/out/commands.json

On the stockbit order form of the simulator (its own process, UI latency 0), a logged-in plain
Selenium Chromium repeats each kind of command the adapter's order path uses, and reports wall
ms and CPU ms (this process + chromedriver + Chromium) per command, median of blocks.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil

from common import (
    PASSWORD,
    CpuLedger,
    SimProcess,
    cleanup,
    clock_at,
    loadavg,
    save,
    scratch,
    start_plain_chrome,
    summary,
    tree,
)


def main(blocks: int = 5, per_block: int = 10) -> dict:
    from selenium.webdriver.common.by import By

    root = scratch("commands")
    sim = SimProcess(
        clock_at("10:00:00", 1.0),
        {"name": "cmd", "accounts": {"ACC": {"broker": "stockbit"}}},
        workdir=root / "sim",
    )
    d = start_plain_chrome(root / "profile")
    load_before = loadavg()
    try:
        d.get(sim.url + "/stockbit/login")
        d.find_element(By.CSS_SELECTOR, "input[name='username']").send_keys("ACC")
        d.find_element(By.CSS_SELECTOR, "input[name='password']").send_keys(PASSWORD)
        d.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
        d.get(sim.url + "/stockbit/trade")
        field = "input[name='price']"
        d.find_element(By.CSS_SELECTOR, field)  # the form is there before anything is timed
        kinds = {
            "get (page load of the order form)": lambda: d.get(sim.url + "/stockbit/trade"),
            "find_element": lambda: d.find_element(By.CSS_SELECTOR, field),
            "find_elements (toast/login check)": lambda: d.find_elements(
                By.CSS_SELECTOR, ".toast-success"
            ),
            "clear": lambda: d.find_element(By.CSS_SELECTOR, field).clear(),
            "send_keys of 4 characters": lambda: d.find_element(By.CSS_SELECTOR, field).send_keys(
                "9700"
            ),
            "execute_script (trivial)": lambda: d.execute_script("return 1"),
        }
        me = psutil.Process()

        def procs():
            return [me] + tree(d.service.process.pid)

        out = {}
        for name, fn in kinds.items():
            walls, cpus = [], []
            extra = (
                0
                if name.startswith("get") or name.startswith("execute") or name.startswith("find")
                else 1
            )  # the find inside clear/send_keys
            for _ in range(blocks):
                fn()
                led = CpuLedger()
                c0 = led.look(procs())
                t0 = time.perf_counter()
                for _ in range(per_block):
                    fn()
                walls.append((time.perf_counter() - t0) / per_block * 1000)
                cpus.append((led.look(procs()) - c0) / per_block * 1000)
            out[name] = {
                "wall_ms": summary(walls, 1),
                "cpu_ms": summary(cpus, 1),
                "includes_a_find_element": bool(extra),
            }
            d.get(sim.url + "/stockbit/trade")
        res = {
            "name": "commands",
            "load_before": load_before,
            "load_after": loadavg(),
            "kinds": out,
        }
        save("commands", res)
        return res
    finally:
        d.quit()
        sim.stop()
        cleanup(root)


if __name__ == "__main__":
    r = main()
    for k, v in r["kinds"].items():
        print(
            f"{k:40s} wall {v['wall_ms']['median']:8.1f} ms   cpu {v['cpu_ms']['median']:8.1f} ms"
        )
    print("load", r["load_before"], "->", r["load_after"])
