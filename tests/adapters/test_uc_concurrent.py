"""Three undetected-chromedriver launches at once, each in its own process and profile."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import queue

import pytest

import uc_worker
from adapter_helpers import profile_processes
from robot.chromium import DEFAULT_CHROMEDRIVER

pytestmark = pytest.mark.browser


def sha256(path: str) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_three_concurrent_uc_launches(env, tmp_path):
    system_driver = sha256(DEFAULT_CHROMEDRIVER)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(3)
    results = ctx.Queue()
    drivers = tmp_path / ".drivers"
    profiles = [tmp_path / f"profile-UC{i}" for i in range(3)]
    procs = [
        ctx.Process(
            target=uc_worker.visit,
            args=(f"UC{i}", str(profiles[i]), str(drivers), env.url, barrier, results),
            name=f"uc-{i}",
        )
        for i in range(3)
    ]
    for p in procs:
        p.start()
    try:
        got = []
        for _ in procs:
            try:
                got.append(results.get(timeout=240))
            except queue.Empty:
                pytest.fail(f"a uc launch did not report within 240 s (got {got})")
        for p in procs:
            p.join(timeout=60)
        assert [p.exitcode for p in procs] == [0, 0, 0]
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
    got.sort(key=lambda r: r["account"])
    assert [r["error"] for r in got] == [None, None, None], got
    assert all(r["heading"] == "Log in to Stockbit" for r in got)
    assert all(not r["webdriver_flag"] for r in got)  # uc hides navigator.webdriver
    assert sorted(r["user_data_dir"] for r in got) == sorted(str(p.resolve()) for p in profiles)
    # the three browsers were up at the same time
    assert max(r["started_at"] for r in got) < min(r["loaded_at"] for r in got)
    # each account got its own patched copy; the system binary is untouched
    for i in range(3):
        assert (drivers / f"UC{i}" / "chromedriver").stat().st_size > 0
    assert sha256(DEFAULT_CHROMEDRIVER) == system_driver
    for profile in profiles:
        assert profile_processes(profile.resolve()) == []  # quit left nothing behind


def test_a_fresh_uc_login_survives_close(env):
    """Closing right after a login keeps the session in the profile (uc's own quit SIGTERMs
    Chromium while Browser.close is still saving it; Browser.quit waits for the exit)."""
    adapter = env.adapter("stockbit", "UC_PERSIST")
    adapter.browser.settings = dataclasses.replace(adapter.browser.settings, driver="uc")
    for attempt in range(2):
        adapter.start()
        try:
            if attempt == 0:
                assert adapter.is_session_valid() is False
                adapter.login("UC_PERSIST", "demo")  # and close at once
            else:
                assert adapter.is_session_valid() is True, "the login was lost on close"
        finally:
            adapter.close()
        assert profile_processes(adapter.account.profile_path) == []
