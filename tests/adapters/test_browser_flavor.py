"""The browser's command line and flavors: feature switches merged, Debian's
chromium-headless-shell driven through chromedriver (real binaries, the simulator)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from adapter_helpers import ADAPTER_MODULES, SELECTORS, settings_for
from adapters import create_adapter
from robot.chromium import (
    DEFAULT_HEADLESS_SHELL,
    headless_shell_launcher,
    merge_feature_switches,
)
from robot.config import Account, BrokerDef

needs_headless_shell = pytest.mark.skipif(
    not Path(DEFAULT_HEADLESS_SHELL).exists(),
    reason=f"Debian's chromium-headless-shell is not installed ({DEFAULT_HEADLESS_SHELL} missing;"
    " apt-get install chromium-headless-shell)",
)


def test_repeated_feature_switches_become_one():
    """Chromium keeps only the last --disable-features: extra_args must add to BASE_ARGS' list,
    not silently replace it."""
    args = [
        "--no-sandbox",
        "--disable-features=Translate,MediaRouter",
        "--enable-features=A",
        "--disable-features=site-per-process,Translate",
        "--enable-features=B",
    ]
    assert merge_feature_switches(args) == [
        "--no-sandbox",
        "--disable-features=Translate,MediaRouter,site-per-process",
        "--enable-features=A,B",
    ]


@needs_headless_shell
def test_the_headless_shell_launcher_runs_the_binary_with_a_first_page(tmp_path):
    launcher = headless_shell_launcher(DEFAULT_HEADLESS_SHELL, tmp_path)
    out = subprocess.run(
        [str(launcher), "--version"], capture_output=True, text=True, timeout=60
    ).stdout
    assert out.startswith("Chromium "), out
    assert "about:blank" in launcher.read_text()
    again = headless_shell_launcher(DEFAULT_HEADLESS_SHELL, tmp_path)
    assert again == launcher and sorted(p.name for p in tmp_path.iterdir()) == [launcher.name]


@needs_headless_shell
@pytest.mark.parametrize("driver", ["selenium", "uc"])
def test_headless_shell_through_chromedriver_logs_in_and_keeps_the_profile(env, driver):
    """`settings.browser.flavor: headless-shell` starts (without chromedriver's "unable to
    discover open pages"), drives the simulator, and its profile keeps the session."""
    folder = env.folder / f"shell-{driver}"
    settings = settings_for(folder)
    settings = replace(
        settings, browser=replace(settings.browser, flavor="headless-shell", driver=driver)
    )
    account = Account(
        id=f"SHELL_{driver.upper()}",
        broker="stockbit",
        profile_path=folder / "profile",
        headless=True,
    )
    broker = BrokerDef("stockbit", ADAPTER_MODULES["stockbit"], SELECTORS["stockbit"], env.url)

    def adapter():
        return create_adapter(account, broker, settings, env.clock)

    first = adapter()
    first.start()
    try:
        cmdlines = [" ".join(p.cmdline()) for p in _tree(first.process_ids())]
        assert any("chromium-headless-shell" in c for c in cmdlines), cmdlines
        assert not first.is_session_valid()
        first.login(account.id, "demo")
        assert first.is_session_valid()
        agent = first.driver.execute_script("return navigator.userAgent")
        # what a bot check sees first: plain Selenium says so, uc rewrites the user agent (the
        # shell's other tells stay: docs, settings.browser.flavor)
        assert ("HeadlessChrome" in agent) == (driver == "selenium"), agent
    finally:
        first.close()
    second = adapter()
    second.start()
    try:
        assert second.is_session_valid()  # the cookie survived the quit
    finally:
        second.close()


def _tree(pids: list[int]) -> list:
    import psutil

    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            out += [p, *p.children(recursive=True)]
        except psutil.Error:
            continue
    return out
