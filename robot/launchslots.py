"""At most K local browser launches at once, across the workers' processes.

Starting Chromium (and undetected-chromedriver's patched driver) is CPU-bound. With more accounts
than cores, launches that all run at once each take many times longer, past the supervisor's hang
timeout, and a killed launch is retried: a restart storm that never converges (BENCHMARKS.md,
20 accounts). A launch takes one of K slots, each a file lock beside ``state.db``, and the others
wait their turn, beating meanwhile. The kernel releases a lock when its holder dies, so a
SIGKILLed worker never keeps a slot.

Inside its slot, a launch is one blocking call (chromedriver, or uc, starting Chromium) that can
take many seconds on a loaded machine while the worker's main loop cannot beat: ``beating``
beats from a side thread for at most ``settings.browser.launch_timeout_s``, so a slow launch is
not taken for a hang, and a launch stuck past that bound stops beating and is killed by the
supervisor's hang timeout as any hang is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

log = logging.getLogger("robot.launchslots")
POLL_S = 0.2


def slot_count(configured: int) -> int:
    """``configured`` launches at once; 0 means one per CPU core."""
    return configured if configured > 0 else max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def launch_slot(folder: Path, slots: int, waiting: Callable[[], None]) -> Iterator[int]:
    """Hold one of ``slots`` launch slots in ``folder`` for the body of the ``with``.

    ``waiting`` is called between tries (the worker beats and honours stop requests there; it
    may raise to give up). Yields the slot's number.
    """
    folder.mkdir(parents=True, exist_ok=True)
    locks = [filelock.FileLock(str(folder / f"launch-{i}.lock")) for i in range(slots)]
    while True:
        for i, lock in enumerate(locks):
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                continue
            try:
                yield i
            finally:
                lock.release()
            return
        waiting()
        time.sleep(POLL_S)


@contextlib.contextmanager
def beating(beat: Callable[[], None], every_s: float, for_at_most_s: float) -> Iterator[None]:
    """Call ``beat`` every ``every_s`` from a side thread while the body of the ``with`` runs,
    for at most ``for_at_most_s`` (then the beats stop, and the supervisor's hang timeout
    sees a launch stuck past its bound). ``beat`` must be safe to call from another thread."""
    done = threading.Event()
    started = time.monotonic()

    def run() -> None:
        while not done.wait(every_s):
            if time.monotonic() - started >= for_at_most_s:
                log.warning(
                    "the browser launch is still running after %.0f s; no more heartbeats",
                    for_at_most_s,
                )
                return
            beat()

    thread = threading.Thread(target=run, name="launch-beat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
