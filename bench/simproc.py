"""The simulator in a process of its own, for benchmarks that measure the robot's CPU.

    python bench/simproc.py --clock-spec SPEC --scenario scenario.json [--latency S] [--token T]

Prints "URL http://127.0.0.1:PORT" once serving; stops on SIGTERM. Adds /_bench/requests: every
broker response sent so far (epoch time, method, path).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import install_request_log
from robot.clock import clock_from_spec
from simulator.server import SimServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clock-spec", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--token", default="bench-token")
    args = ap.parse_args()
    scenario = json.loads(Path(args.scenario).read_text())
    sim = SimServer(
        clock=clock_from_spec(args.clock_spec),
        scenario=scenario,
        token=args.token,
        ui_latency=args.latency,
    )
    seen: list[dict] = []
    lock = threading.Lock()
    install_request_log(sim.app, seen, lock)

    @sim.app.route("/_bench/requests")
    def _requests() -> dict:
        with lock:
            return {"requests": [r for r in seen if not r["path"].startswith("/_bench")]}

    sim.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"URL {sim.url}", flush=True)
    stop.wait()
    sim.stop()


if __name__ == "__main__":
    main()
