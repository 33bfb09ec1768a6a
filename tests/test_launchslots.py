"""Browser launch slots across real processes (spawned like the workers), with real file locks."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time

from robot.launchslots import beating, launch_slot, slot_count
from waiting import wait_for

CTX = mp.get_context("spawn")


def hold(folder: str, slots: int, entered, release) -> None:
    """Take a slot, say so, and keep it until told (or killed)."""
    from pathlib import Path

    with launch_slot(Path(folder), slots, lambda: None):
        entered.set()
        release.wait(120)


def wait_for_slot(folder: str, slots: int, waited, entered) -> None:
    from pathlib import Path

    def waiting() -> None:
        waited.set()

    with launch_slot(Path(folder), slots, waiting):
        entered.set()


def test_a_launch_waits_while_every_slot_is_taken_and_goes_when_one_frees(tmp_path):
    a_in, a_release, b_waited, b_in = CTX.Event(), CTX.Event(), CTX.Event(), CTX.Event()
    a = CTX.Process(target=hold, args=(str(tmp_path), 1, a_in, a_release))
    a.start()
    assert a_in.wait(60)
    b = CTX.Process(target=wait_for_slot, args=(str(tmp_path), 1, b_waited, b_in))
    b.start()
    assert b_waited.wait(60)  # B is waiting (and beating) ...
    assert not b_in.is_set()  # ... not launching
    a_release.set()
    assert b_in.wait(60)  # A's slot freed: B goes
    a.join(30)
    b.join(30)
    assert a.exitcode == 0 and b.exitcode == 0


def test_two_slots_let_two_launch_at_once(tmp_path):
    ins = [CTX.Event(), CTX.Event()]
    release = CTX.Event()
    procs = [CTX.Process(target=hold, args=(str(tmp_path), 2, ev, release)) for ev in ins]
    for p in procs:
        p.start()
    try:
        assert all(ev.wait(60) for ev in ins)
    finally:
        release.set()
        for p in procs:
            p.join(30)


def test_a_killed_holder_does_not_keep_its_slot(tmp_path):
    a_in, a_release, b_waited, b_in = CTX.Event(), CTX.Event(), CTX.Event(), CTX.Event()
    a = CTX.Process(target=hold, args=(str(tmp_path), 1, a_in, a_release))
    a.start()
    assert a_in.wait(60)
    os.kill(a.pid, signal.SIGKILL)  # a worker SIGKILLed in the middle of its launch
    a.join(30)
    b = CTX.Process(target=wait_for_slot, args=(str(tmp_path), 1, b_waited, b_in))
    b.start()
    assert b_in.wait(60)
    b.join(30)


def test_zero_means_one_slot_per_core():
    assert slot_count(0) == max(1, os.cpu_count() or 1)
    assert slot_count(3) == 3


def test_a_launch_beats_while_it_runs_then_stops_at_its_bound():
    """The worker's launch beats from a side thread while its main thread is blocked in the
    launch, and stops beating after the bound (the hang timeout then applies)."""
    beats: list[float] = []
    with beating(lambda: beats.append(time.monotonic()), every_s=0.05, for_at_most_s=60):
        wait_for(lambda: len(beats) >= 3, 30, "beats during the launch")
    assert not _beat_thread_alive()  # the launch returned: the thread is gone with it

    short: list[float] = []
    with beating(lambda: short.append(time.monotonic()), every_s=0.05, for_at_most_s=0.3):
        wait_for(lambda: not _beat_thread_alive(), 30, "the beats to stop at the bound")
        stopped_at = len(short)
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > 0.3, 5, "six beat intervals")
        assert len(short) == stopped_at  # a launch stuck past its bound beats no more


def _beat_thread_alive() -> bool:
    return any(t.name == "launch-beat" and t.is_alive() for t in threading.enumerate())
