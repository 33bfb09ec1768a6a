"""Test instrumentation: SIGKILL (or hold) this process at a named point of an order's submission.

The engine's points (before_intent, after_intent, after_click, after_toast, after_readback) and
the adapter's (after_fill: the form is complete and nothing is clicked; toast_pending: the click
is done and the toast observer is waiting) let the end-to-end tests kill a worker at each step
and check that exactly one order reaches the broker. Inert unless ROBOT_FAULT_POINT names one.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

log = logging.getLogger("robot.engine")


def armed(name: str) -> bool:
    """Whether the fault point ``name`` is the one this process was asked to stop at."""
    return os.environ.get("ROBOT_FAULT_POINT") == name


def fault_point(name: str) -> None:
    """Test instrumentation: SIGKILL this process at a named point of the submission.

    Armed by ROBOT_FAULT_POINT=<name> and ROBOT_FAULT_ONCE=<marker file>; it fires once (the
    marker is created first), so the restarted worker proceeds. With ROBOT_FAULT_HOLD=<FIFO>
    the process is held at the point instead, until a test opens that FIFO for writing and
    closes it (a deterministic "meanwhile", no sleeps). Inert in normal runs.
    """
    if os.environ.get("ROBOT_FAULT_POINT") != name:
        return
    marker = os.environ.get("ROBOT_FAULT_ONCE")
    if marker:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
        except FileExistsError:
            return
    hold = os.environ.get("ROBOT_FAULT_HOLD")
    if hold:
        log.warning("fault point %s: holding until %s is written to", name, hold)
        with open(hold, "rb") as fifo:  # a FIFO: blocks until the test opens it to write
            fifo.read()  # ... and returns when the test closes it
        log.warning("fault point %s: released", name)
        return
    log.warning("fault point %s: killing this worker", name)
    os.kill(os.getpid(), signal.SIGKILL)


def fault_point_meanwhile(name: str) -> None:
    """Fire fault point ``name`` from another thread, while this one goes on into a blocking
    call (a WebDriver command that waits in the browser): the process dies, or is held, with
    that call pending. Inert unless the point is armed."""
    if armed(name):
        threading.Thread(target=fault_point, args=(name,), daemon=True).start()
