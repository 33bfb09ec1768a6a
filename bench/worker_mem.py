"""The worker's own Python footprint: PSS of a fresh interpreter after each step of what a worker
imports, before its browser starts.

    .venv/bin/python bench/worker_mem.py

Each line is a new interpreter (so nothing is shared with this one) importing, in order, what a
spawned worker does: robot.worker (the lifecycle, the store: sqlite-utils, filelock, psutil),
the configuration check (jsonschema, PyYAML: load_config on the shipped accounts.yaml), the
adapter (Selenium), then undetected-chromedriver either as adapters.browser.import_uc does it
(the standard library's distutils) or as a plain ``import undetected_chromedriver`` (setuptools'
distutils: setuptools and pkg_resources whole, as before); last, a uc browser started on a
fresh profile (uc reads its 25 MB chromedriver copy again: glibc keeps that heap) and the same
after adapters.browser.release_free_heap (malloc_trim), which Browser.start now calls. PSS of the
process alone, in MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from common import ROOT, log

STEPS = {
    "bare": "",
    "robot.worker": "import robot.worker",
    "+ load_config": "from robot.config import load_config; load_config('accounts.yaml')",
    "+ adapter (selenium)": "import adapters.stockbit, selenium.webdriver",
    "+ uc, plain import (before)": "import undetected_chromedriver",
    "+ uc via import_uc (after)": "from adapters.browser import import_uc; import_uc()",
}
LAUNCH = """
import tempfile
from pathlib import Path
from adapters.browser import driver_copy, release_free_heap
uc = import_uc()
copy = driver_copy("/usr/bin/chromedriver", Path(tempfile.mkdtemp()))
opts = uc.ChromeOptions()
opts.add_argument("--no-sandbox")
drv = uc.Chrome(options=opts, user_data_dir=tempfile.mkdtemp(), driver_executable_path=str(copy),
                browser_executable_path="/usr/bin/chromium", headless=True, version_main=156,
                use_subprocess=True)
info = psutil.Process().memory_full_info()
print(json.dumps({"pss": info.pss / 2**20, "uss": info.uss / 2**20, "modules": len(sys.modules)}))
release_free_heap()
TRIMMED
drv.quit()
"""
REPORT = """
info = psutil.Process().memory_full_info()
print(json.dumps({"pss": info.pss / 2**20, "uss": info.uss / 2**20, "modules": len(sys.modules)}))
"""
PROBE = """
import json, sys, psutil
{code}
""" + REPORT.replace("{", "{{").replace("}", "}}")


def measure(codes: list[str], lines: int = 1) -> Any:
    """PSS after running ``codes`` in a fresh interpreter; with ``lines`` > 1, after each of
    the last ``lines`` points where the code reports (``TRIMMED`` marks one)."""
    code = "\n".join(c for c in codes if c).replace("TRIMMED", REPORT)
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    found = [json.loads(line) for line in out.strip().splitlines() if line.startswith("{")]
    return found[-1] if lines == 1 else found[-lines - 1 : -1]  # (the last is the probe's own)


def main() -> None:
    names = list(STEPS)
    common = names[:4]
    rows = []
    for i, name in enumerate(common):
        rows.append((name, measure([STEPS[n] for n in common[: i + 1]])))
    for name in names[4:]:
        rows.append((name, measure([STEPS[n] for n in common] + [STEPS[name]])))
    launched = measure([STEPS[n] for n in common] + [STEPS[names[-1]], LAUNCH], lines=2)
    rows.append(("+ uc browser started", launched[0]))
    rows.append(("+ release_free_heap (after)", launched[1]))
    log("worker process footprint (each line a fresh interpreter)")
    print(f"{'step':30} {'PSS MiB':>8} {'USS MiB':>8} {'modules':>8}")
    for name, r in rows:
        print(f"{name:30} {r['pss']:8.1f} {r['uss']:8.1f} {r['modules']:8d}")


if __name__ == "__main__":
    main()
