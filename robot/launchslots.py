"""At most K local browser launches at once, across the workers' processes.

Starting Chromium (and undetected-chromedriver's patched driver) is CPU-bound. With more accounts
than cores, launches that all run at once each take many times longer, past the supervisor's hang
timeout, and a killed launch is retried: a restart storm that never converges (BENCHMARKS.md,
20 accounts). A launch takes one of K slots, each a file lock beside ``state.db``, and the others
wait their turn, beating meanwhile. The kernel releases a lock when its holder dies, so a
SIGKILLed worker never keeps a slot.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import filelock

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
