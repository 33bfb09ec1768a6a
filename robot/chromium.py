"""How Chromium is run: the default binaries and the command line every account's browser gets.

Plain data, no Selenium: the adapters' Browser (adapters/browser.py) launches Chromium with it,
and the Selenium Grid node configuration (robot/grid.py) writes the same flags and binary into
the node's stereotype, so a browser on a node is started exactly as a local one.

Two flavors of browser (``settings.browser.flavor``):

- ``chromium`` (the default): Debian's full browser, run with ``--headless=new`` when headless.
  The same browser a person uses, with the same fingerprint: the safe choice on live brokers.
- ``headless-shell``: Debian's ``chromium-headless-shell`` package, the old headless mode as its
  own smaller binary (no browser UI, no window at all). Lighter (bench/browser_mem.py), but it is
  headless by construction and says so in ways a bot check can see (its user agent says
  HeadlessChrome, and its navigator, plugins and WebGL look like no desktop browser's): use it for
  the simulator, tests and brokers known not to check. chromedriver cannot drive it as it is:
  started without a URL it opens no page, and chromedriver then fails with "unable to discover
  open pages". ``headless_shell_launcher`` writes a two-line launcher that gives it one.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

if sys.platform == "win32":
    DEFAULT_CHROMIUM = r"C:\Program Files\Google\Chrome\Application\chrome.exe"
    DEFAULT_CHROMEDRIVER = r"C:\Program Files\robot\chromedriver.exe"
else:
    DEFAULT_CHROMIUM = "/usr/bin/chromium"
    DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"
# Debian's chromium-headless-shell: the real binary (/usr/bin/chromium-headless-shell is a shell
# wrapper around it), run through the launcher below.
DEFAULT_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
FLAVORS = ("chromium", "headless-shell")

# Browser features a headless robot never uses: each is a background service, a prefetch, a
# model download or a spare renderer kept warm. None of them changes what a page can see.
FEATURES_OFF = (
    "Translate",
    "MediaRouter",
    "DialMediaRouteProvider",
    "GlobalMediaControls",
    "OptimizationHints",
    "OptimizationHintsFetching",
    "OptimizationTargetPrediction",
    "OptimizationGuideModelDownloading",
    "AutofillServerCommunication",
    "CertificateTransparencyComponentUpdater",
    "InterestFeedContentSuggestions",
    "LensOverlay",
    "PrivacySandboxSettings4",
    "SpareRendererForSitePerProcess",
    # --headless=new runs the whole browser, whose omnibox popup is a WebUI page preloaded in a
    # renderer of its own: browser UI a headless robot never opens (about 35 MiB of USS)
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
    "PreloadTopChromeWebUI",
)
BASE_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--disable-features=" + ",".join(FEATURES_OFF),
    "--password-store=basic",
    # The account's tabs (one per live page of one broker) share one renderer process rather
    # than one each: fewer processes, nothing a page can see (bench/browser_mem.py).
    "--renderer-process-limit=1",
]
# settings.browser.site_isolation false: one renderer for every site, cross-site frames
# included. Less memory (bench/browser_mem.py); but a third-party frame on the broker's page
# (ads, chat widgets) then shares the broker page's process, which site isolation exists to
# prevent (a renderer exploit or a side channel could read the session): off only where that
# is acceptable. Pages cannot tell either way.
NO_SITE_ISOLATION_ARGS = [
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
]
# Only against servers on this machine (the simulator): no DNS look-ups at all.
LOOPBACK_ONLY_ARG = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

_FEATURE_SWITCHES = ("--disable-features=", "--enable-features=")


def merge_feature_switches(args: list[str]) -> list[str]:
    """One ``--disable-features`` (and one ``--enable-features``) holding every list given.

    Chromium keeps only the last value of a repeated switch, so a ``--disable-features`` in
    ``extra_args`` would silently re-enable what BASE_ARGS turned off. The merged switch takes
    the place of the first occurrence; names keep their first-seen order, without duplicates."""
    merged: dict[str, list[str]] = {}
    out: list[str] = []
    for arg in args:
        prefix = next((p for p in _FEATURE_SWITCHES if arg.startswith(p)), None)
        if prefix is None:
            out.append(arg)
            continue
        if prefix not in merged:
            merged[prefix] = []
            out.append(prefix)  # placeholder, filled below
        for name in arg[len(prefix) :].split(","):
            if name and name not in merged[prefix]:
                merged[prefix].append(name)
    return [a + ",".join(merged[a]) if a in merged else a for a in out]


def chromium_args(site_isolation: bool = True) -> list[str]:
    """The command line every account's browser gets (before the window, the profile and
    extra_args)."""
    return list(BASE_ARGS) + ([] if site_isolation else list(NO_SITE_ISOLATION_ARGS))


def is_loopback(url: str) -> bool:
    """The URL names this machine (the simulator), so the browser needs no DNS at all."""
    return bool(re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?(/|$)", url))


def browser_binary(flavor: str, configured: str | None) -> str:
    """The binary of a flavor: the configured path, or the flavor's default."""
    if configured:
        return configured
    return DEFAULT_HEADLESS_SHELL if flavor == "headless-shell" else DEFAULT_CHROMIUM


def headless_shell_launcher(binary: str, folder: Path) -> Path:
    """An executable that starts ``binary`` with ``about:blank`` as its first page.

    chromium-headless-shell opens no page unless given a URL, and chromedriver, which passes
    none, waits for one and fails after 60 s ("unable to discover open pages"); a URL in the
    options' arguments is no help (chromedriver turns every argument into a ``--`` switch). The
    launcher ``exec``s the shell, so the process chromedriver started is the browser itself.
    Rewritten only when its content changes (many workers may start at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "chromium-headless-shell"
    quoted = "'" + binary.replace("'", "'\\''") + "'"
    text = f'#!/bin/sh\nexec {quoted} "$@" about:blank\n'
    if not target.exists() or target.read_text() != text:
        tmp = folder / f".chromium-headless-shell.{os.getpid()}.tmp"
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.replace(target)  # atomic: a concurrent launch sees the old or the new, never half
    return target
