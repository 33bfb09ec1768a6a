"""The worker's own Python footprint: PSS of a fresh interpreter after each step of what a worker
imports, before its browser starts.

    .venv/bin/python bench/worker_mem.py

Each line is a new interpreter (so nothing is shared with this one) importing, in order, what a
spawned worker does: robot.worker (the lifecycle, the store: sqlite-utils, filelock, psutil),
the configuration check (jsonschema, PyYAML: load_config on the shipped accounts.yaml), the
adapter (Selenium), then undetected-chromedriver either as adapters.browser.import_uc does it
(the standard library's distutils) or as a plain ``import undetected_chromedriver`` (setuptools'
distutils: setuptools and pkg_resources whole, as before). PSS of the process alone, in MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import ROOT, log

STEPS = {
    "bare": "",
    "robot.worker": "import robot.worker",
    "+ load_config": "from robot.config import load_config; load_config('accounts.yaml')",
    "+ adapter (selenium)": "import adapters.stockbit, selenium.webdriver",
    "+ uc, plain import (before)": "import undetected_chromedriver",
    "+ uc via import_uc (after)": "from adapters.browser import import_uc; import_uc()",
}
PROBE = """
import json, sys, psutil
{code}
info = psutil.Process().memory_full_info()
print(json.dumps({{"pss": info.pss / 2**20, "uss": info.uss / 2**20, "modules": len(sys.modules)}}))
"""


def measure(codes: list[str]) -> dict:
    code = "\n".join(c for c in codes if c)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    names = list(STEPS)
    common = names[:4]
    rows = []
    for i, name in enumerate(common):
        rows.append((name, measure([STEPS[n] for n in common[: i + 1]])))
    for name in names[4:]:
        rows.append((name, measure([STEPS[n] for n in common] + [STEPS[name]])))
    log("worker process footprint (each line a fresh interpreter)")
    print(f"{'step':30} {'PSS MiB':>8} {'USS MiB':>8} {'modules':>8}")
    for name, r in rows:
        print(f"{name:30} {r['pss']:8.1f} {r['uss']:8.1f} {r['modules']:8d}")


if __name__ == "__main__":
    main()
