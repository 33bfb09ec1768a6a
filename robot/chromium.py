"""How Chromium is run: the default binaries and the command line every account's browser gets.

Plain data, no Selenium: the adapters' Browser (adapters/browser.py) launches Chromium with it,
and the Selenium Grid node configuration (robot/grid.py) writes the same flags and binary into
the node's stereotype, so a browser on a node is started exactly as a local one.
"""

from __future__ import annotations

import re
import sys

if sys.platform == "win32":
    DEFAULT_CHROMIUM = r"C:\Program Files\Google\Chrome\Application\chrome.exe"
    DEFAULT_CHROMEDRIVER = r"C:\Program Files\robot\chromedriver.exe"
else:
    DEFAULT_CHROMIUM = "/usr/bin/chromium"
    DEFAULT_CHROMEDRIVER = "/usr/bin/chromedriver"

BASE_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--disable-features=Translate,MediaRouter",
    "--password-store=basic",
]
# Only against servers on this machine (the simulator): no DNS look-ups at all.
LOOPBACK_ONLY_ARG = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


def is_loopback(url: str) -> bool:
    """The URL names this machine (the simulator), so the browser needs no DNS at all."""
    return bool(re.match(r"^https?://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?(/|$)", url))
