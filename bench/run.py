"""Run the benchmarks and write BENCHMARKS.md.

    .venv/bin/python bench/run.py --quick      # a few minutes: smaller N, fewer repetitions
    .venv/bin/python bench/run.py              # the full set (about an hour on 2 cores)
    .venv/bin/python bench/run.py --only poll,latency
    .venv/bin/python bench/run.py --only steady --quick --md /tmp/B.md   # tables into another file

Raw results go to bench/out/<name>[-quick].json (git-ignored); the tables replace the generated
part of BENCHMARKS.md (between its bench:begin/bench:end markers; the notes around it are kept).
Everything runs on the built-in simulator with real headless Chromium; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, ROOT, loadavg, log, machine, save

ORDER = ("poll", "latency", "recovery", "burst", "scale", "steady", "dashboard")
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller N and fewer repetitions")
    ap.add_argument("--only", default=",".join(ORDER), help="comma-separated: " + ",".join(ORDER))
    ap.add_argument(
        "--driver",
        choices=("uc", "selenium"),
        default="uc",
        help="the robot's browser driver (default: the product default, uc)",
    )
    ap.add_argument(
        "--md",
        default=str(ROOT / "BENCHMARKS.md"),
        help="the Markdown file to update ('' for none)",
    )
    args = ap.parse_args()
    names = [n for n in ORDER if n in args.only.split(",")]
    suffix = "-quick" if args.quick else ""
    info = machine()
    started = time.time()
    results = {}
    for name in names:
        log(f"--- {name} ({'quick' if args.quick else 'full'}) ---")
        t0 = time.time()
        try:
            mod = __import__(name)
            kw = {} if name in ("poll", "latency") else {"driver": args.driver}
            res = mod.run(quick=args.quick, **kw)
        except Exception as exc:  # noqa: BLE001 - one failed benchmark must not lose the others
            traceback.print_exc()
            res = {"name": name, "error": f"{type(exc).__name__}: {exc}"}
        res["run_s"] = round(time.time() - t0, 1)
        results[name] = res
        save(name + suffix, res)
        log(f"{name} took {res['run_s']} s")
    info["loadavg_end"] = loadavg()
    info["total_s"] = round(time.time() - started, 1)
    info["mode"] = "quick" if args.quick else "full"
    info["driver"] = args.driver
    # a partial run (--only) keeps the other benchmarks' latest results in the tables
    merged = {}
    for name in ORDER:
        if name in results:
            merged[name] = results[name]
        elif (OUT / f"{name}{suffix}.json").exists():
            merged[name] = json.loads((OUT / f"{name}{suffix}.json").read_text())
            merged[name]["from_earlier_run"] = True
    save("run" + suffix, {"machine": info, "results": results})
    from report import render

    table = render(info, merged)
    print(table)
    if args.md:
        write_md(Path(args.md), table)
        log(f"wrote {args.md}")
    failed = [n for n, r in results.items() if "error" in r]
    return 1 if failed else 0


def write_md(path: Path, generated: str) -> None:
    text = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{generated.rstrip()}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = (text.rstrip() + "\n\n" if text else "# Benchmarks\n\n") + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
