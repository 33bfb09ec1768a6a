"""Memory of one account's browser under Chromium flag sets and the two browser flavors.

    .venv/bin/python bench/browser_mem.py                 # every variant, 3 browsers each
    .venv/bin/python bench/browser_mem.py --only previous,default,shell --browsers 2 --driver uc

The variants: ``previous`` (the flags before issue 17), ``default`` (robot/chromium.py's flags
now), ``no-site-isolation`` (settings.browser.site_isolation false), single flags on top of the
default that were measured and not kept (+...), and the headless shell (settings.browser.flavor
headless-shell) with and without site isolation.

For each variant, K browsers are started through the robot's own Browser (adapters/browser.py,
so the flags are exactly the robot's), each on its own account and profile, logged in to the
stockbit skin of the simulator (its own process, UI latency 0), with three tabs open as the
adapter's live pages will keep them: open orders, the order form, the history. Then the tree of
each browser (chromedriver + Chromium with all its renderers and helpers; with uc, the browser
and the driver are both children of this process) is sampled a few times:

- PSS: the tree's proportional set size, shared pages split over every process mapping them
  (what adds up to the machine's memory; it falls as more browsers share the binary's pages);
- USS: the pages only this tree maps (what one more account costs once many run: at N = 20
  the per-account PSS approaches USS + the shared pages / 20).

The worker's own Python process is not in these figures (bench/worker_mem.py measures it).
Variants run one after the other, their browsers quit before the next starts; each figure is the
median over the K trees of the median over the samples. Launch time is Browser.start()'s wall
time (the browsers start one at a time, on a machine that may be shared: see the load).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from common import (
    PASSWORD,
    SimProcess,
    cleanup,
    clock_at,
    loadavg,
    log,
    save,
    scratch,
    write_config,
)

# What robot/chromium.py's BASE_ARGS were before issue 17 (the "previous" variant puts them
# back for its run): only Translate and MediaRouter off, one renderer per tab.
PREVIOUS_BASE_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--disable-features=Translate,MediaRouter",
    "--password-store=basic",
]
JS_SMALL_HEAP = "--js-flags=--max-semi-space-size=1 --max-old-space-size=128"
# name: (flavor, settings.browser.site_isolation, extra flags on top of the robot's own)
VARIANTS: dict[str, tuple[str, bool, list[str]]] = {
    "previous": ("chromium", True, []),
    "default": ("chromium", True, []),
    "no-site-isolation": ("chromium", False, []),
    "+in-process-gpu": ("chromium", True, ["--in-process-gpu"]),
    "+no-zygote": ("chromium", True, ["--no-zygote"]),
    "+js-small-heap": ("chromium", True, [JS_SMALL_HEAP]),
    "+low-end-device": ("chromium", True, ["--enable-low-end-device-mode"]),
    "shell": ("headless-shell", True, []),
    "shell-no-site-isolation": ("headless-shell", False, []),
}
TABS = ("open_orders", "order", "history")


def tree_of(roots: list[psutil.Process]) -> list[psutil.Process]:
    procs: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            for p in [root, *root.children(recursive=True)]:
                procs[p.pid] = p
        except psutil.Error:
            continue
    return list(procs.values())


def memory(procs: list[psutil.Process]) -> tuple[float, float]:
    """PSS and USS of ``procs`` in MiB (processes gone meanwhile count nothing)."""
    pss = uss = 0
    for p in procs:
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        pss += info.pss
        uss += info.uss
    return pss / 2**20, uss / 2**20


def run_variant(
    name: str, flavor: str, isolation: bool, extra: list[str], k: int, driver: str, sim, root: Path
):
    from adapters import create_adapter
    from robot import chromium
    from robot.config import load_config

    accounts = [(f"MEM{i}", "stockbit") for i in range(k)]
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))  # a variant may run twice
    settings = {
        "browser": {
            "driver": driver,
            "flavor": flavor,
            "site_isolation": isolation,
            "extra_args": extra,
        }
    }
    saved = list(chromium.BASE_ARGS)
    if name == "previous":
        chromium.BASE_ARGS[:] = PREVIOUS_BASE_ARGS
    cfg = load_config(write_config(work, sim.url, accounts, settings, driver=driver))
    me = psutil.Process()
    adapters, roots, launch_s = [], [], []
    try:
        for acc_id, _ in accounts:
            account = cfg.account(acc_id)
            before = {p.pid for p in me.children()}
            adapter = create_adapter(account, cfg.broker_of(account), cfg.settings, sim.clock)
            adapters.append(adapter)
            t0 = time.monotonic()
            adapter.start()
            launch_s.append(time.monotonic() - t0)
            roots.append([p for p in me.children() if p.pid not in before])
            adapter.login(acc_id, PASSWORD)
            d = adapter.driver
            for i, key in enumerate(TABS):
                if i:
                    d.switch_to.new_window("tab")
                d.get(adapter.url(key))
        time.sleep(3.0)  # let the pages settle (this is a measurement, not a synchronisation)
        pss, uss, nprocs = [], [], []
        for _ in range(3):
            for r in roots:
                procs = tree_of(r)
                p, u = memory(procs)
                pss.append(p)
                uss.append(u)
                nprocs.append(len(procs))
            time.sleep(1.0)
        cmdline = ""
        for p in tree_of(roots[0]):
            with_dir = [a for a in p.cmdline() if a.startswith("--user-data-dir")]
            if with_dir and "--type=" not in " ".join(p.cmdline()):
                cmdline = " ".join(p.cmdline()[1:])
        return {
            "variant": name,
            "flavor": flavor,
            "site_isolation": isolation,
            "flags": extra,
            "browsers": k,
            "pss_mib": round(statistics.median(pss), 1),
            "uss_mib": round(statistics.median(uss), 1),
            "processes": statistics.median(nprocs),
            "launch_s": round(statistics.median(launch_s), 2),
            "browser_cmdline": cmdline,
        }
    finally:
        chromium.BASE_ARGS[:] = saved
        for adapter in adapters:
            adapter.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated variant names (default: all)")
    ap.add_argument("--browsers", type=int, default=3, help="browsers at once per variant")
    ap.add_argument("--driver", default="selenium", choices=("selenium", "uc"))
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(VARIANTS)
    root = scratch("browser-mem")
    clock = clock_at("10:00:00", 1.0)
    scenario = {
        "name": "bench-mem",
        "accounts": {f"MEM{i}": {"broker": "stockbit"} for i in range(args.browsers)},
    }
    sim = SimProcess(clock, scenario, latency=0.0, workdir=root / "sim")
    results = []
    load_before = loadavg()
    try:
        for name in names:
            flavor, isolation, extra = VARIANTS[name]
            res = run_variant(name, flavor, isolation, extra, args.browsers, args.driver, sim, root)
            results.append(res)
            log(
                f"{name:18} PSS {res['pss_mib']:6.1f} MiB  USS {res['uss_mib']:6.1f} MiB  "
                f"{res['processes']:4.0f} processes  launch {res['launch_s']:.2f} s"
            )
    finally:
        sim.stop()
        cleanup(root)
    print(f"\n{args.browsers} browsers at once, driver {args.driver}, 3 tabs each; MiB per tree")
    print(f"{'variant':18} {'PSS':>7} {'USS':>7} {'procs':>5} {'launch s':>8}")
    for r in results:
        print(
            f"{r['variant']:18} {r['pss_mib']:7.1f} {r['uss_mib']:7.1f} "
            f"{r['processes']:5.0f} {r['launch_s']:8.2f}"
        )
    save(
        f"browser_mem-{args.driver}",
        {"load": [load_before, loadavg()], "driver": args.driver, "results": results},
    )


if __name__ == "__main__":
    main()
