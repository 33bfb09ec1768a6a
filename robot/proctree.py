"""Finding and killing whole process trees: a worker, its chromedriver and every Chromium child.

A SIGKILLed worker leaves its browser orphaned (re-parented away from us), so besides walking a
live tree we find browsers by the profile folder on their command line and by recorded pids.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

import psutil

BROWSER_NAMES = ("chromium", "chrome", "chromedriver", "undetected_chromedriver")


def alive(pid: int | None, created: float | None = None) -> psutil.Process | None:
    """The process with that pid, if it still runs (and started at ``created`` when given)."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if created is not None and abs(proc.create_time() - created) > 1.0:
            return None  # the pid was reused by another process
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def kill_all(procs: Iterable[psutil.Process], grace_s: float = 3.0) -> int:
    """Terminate, wait ``grace_s``, then kill what is left. Returns how many were running."""
    procs = [p for p in procs if p.pid != os.getpid()]
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, left = psutil.wait_procs(procs, timeout=grace_s)
    for p in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(left, timeout=grace_s)
    return len(procs)


def kill_tree(pid: int | None, created: float | None = None, grace_s: float = 3.0) -> int:
    proc = alive(pid, created)
    return kill_all(tree(proc), grace_s) if proc else 0


def kill_group(pgid: int | None) -> bool:
    """SIGKILL what is left of a dead worker's process group (POSIX).

    Each worker makes itself a process-group leader at start, so a chromedriver or Chromium it
    started stays in its group even after the worker was SIGKILLed and they were re-parented.
    Only called for a group whose leader is gone: while a group exists its id cannot be reused,
    so the group is the worker's. Never our own group.
    """
    if not pgid or not hasattr(os, "killpg") or alive(pgid) is not None:
        return False
    if pgid == os.getpgrp():
        return False
    import signal

    try:
        os.killpg(pgid, signal.SIGKILL)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def profile_processes(profile: Path) -> list[psutil.Process]:
    """Processes whose command line names this profile folder (Chromium and its helpers)."""
    marker = f"--user-data-dir={Path(profile).resolve()}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = proc.info["cmdline"] or []
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if any(arg.rstrip("/") == marker.rstrip("/") for arg in cmd):
            found.append(proc)
    return found


def kill_profile_processes(profile: Path, grace_s: float = 3.0) -> int:
    procs = profile_processes(profile)
    everything = {p.pid: p for proc in procs for p in tree(proc)}
    return kill_all(everything.values(), grace_s) if everything else 0


def kill_pids(pids: Iterable[int], grace_s: float = 3.0) -> int:
    procs = []
    for pid in pids:
        proc = alive(pid)
        if proc is not None:
            procs.extend(tree(proc))
    return kill_all(procs, grace_s) if procs else 0


def remove_stale_singleton_lock(profile: Path) -> bool:
    """Remove Chromium's SingletonLock when it names this host and a dead pid.

    The link's target is "<hostname>-<pid>". A lock from another host (a copied profile) or a live
    pid is left alone: removing it could let two browsers share the profile.
    """
    lock = Path(profile) / "SingletonLock"
    try:
        target = os.readlink(lock)
    except (FileNotFoundError, OSError):
        return False
    host, _, pid = target.rpartition("-")
    import socket

    if host != socket.gethostname() or not pid.isdigit() or alive(int(pid)):
        return False
    for name in ("SingletonLock", "SingletonCookie", "SingletonSocket"):
        with contextlib.suppress(FileNotFoundError):
            (Path(profile) / name).unlink()
    return True
