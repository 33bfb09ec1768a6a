"""The browser's tabs: one per live page, loaded once; the first tab for every classic page.

A live page (the selectors file's ``live.pages``) is a single-page app that keeps itself current:
reading it is one script, never a reload, while it is the expected page and its data is fresh.
Switching between tabs is a W3C command (``switch_to.window``; a tab is opened with
``switch_to.new_window("tab")``), so it works over Selenium Grid as well. Which tab is active is
remembered, so a read on the tab already shown costs no switch. A new driver (after a browser
crash and relaunch) starts with no tabs: they are opened again on first use.

When a live page counts as stale (and is reloaded) is decided here too (``stale``): another URL,
the login form, no data, a ``last_updated`` element older than ``max_age_s`` on the robot's clock
(or without a time), or, for a page without such an element, content that has not changed for
``max_age_s`` since it was last loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from selenium.common.exceptions import NoSuchWindowException
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webdriver import WebDriver

from robot.clock import WIB

log = logging.getLogger("adapters")


@dataclass
class LiveTab:
    """One live page's tab and what the robot last saw on it."""

    handle: str
    url: str
    loaded_at: datetime
    fresh_at: datetime  # loaded, or last seen changing (pages without a last_updated element)
    rows: list | None = None
    updated: str | None = None  # the last data-updated read


class Tabs:
    """The tabs of one browser: ``main`` for classic pages, one per live page."""

    def __init__(self, live: dict | None) -> None:
        live = live or {}
        self.pages: set[str] = set(live.get("pages") or [])
        self.last_updated: dict[str, str] = dict(live.get("last_updated") or {})
        self.max_age = timedelta(seconds=float(live.get("max_age_s", 30)))
        self.live: dict[str, LiveTab] = {}
        self.main: str | None = None
        self.current: str | None = None
        self._driver: WebDriver | None = None

    def is_live(self, page: str) -> bool:
        return page in self.pages

    def _same_driver(self, driver: WebDriver) -> None:
        """Forget every tab of an earlier driver (the browser was relaunched)."""
        if driver is not self._driver:
            self._driver, self.live, self.main, self.current = driver, {}, None, None

    def show_main(self, driver: WebDriver) -> None:
        """Make the first tab the active one (classic pages, the login, `robot probe`)."""
        self._same_driver(driver)
        if self.main is None:
            self.main = self.current = driver.current_window_handle
        elif self.current != self.main:
            driver.switch_to.window(self.main)
            self.current = self.main

    def show(self, driver: WebDriver, page: str) -> LiveTab | None:
        """Make ``page``'s tab the active one; None when it has none yet (open_new then)."""
        self._same_driver(driver)
        tab = self.live.get(page)
        if tab is None:
            return None
        if self.current != tab.handle:
            try:
                driver.switch_to.window(tab.handle)
            except NoSuchWindowException:
                log.info("the tab of the %s page is gone; opening it again", page)
                del self.live[page]
                self.current = None
                return None
            self.current = tab.handle
        return tab

    def open_new(self, driver: WebDriver, page: str, url: str, now: datetime) -> LiveTab:
        """Open a tab for ``page`` and make it the active one (the caller loads ``url``)."""
        if self.main is None:
            self.show_main(driver)
        # NEW_WINDOW answers the new handle; switch_to.new_window would ask for it again
        handle = driver.execute(Command.NEW_WINDOW, {"type": "tab"})["value"]["handle"]
        driver.switch_to.window(handle)
        tab = LiveTab(handle, url, now, now)
        self.live[page] = tab
        self.current = handle
        return tab

    def forget(self, page: str) -> None:
        self.live.pop(page, None)

    # ---------------------------------------------------------------------------- freshness
    def stale(self, page: str, tab: LiveTab, data: dict, now: datetime) -> str | None:
        """Why the read ``data`` of ``page`` cannot be trusted (then the tab is reloaded)."""
        if path_of(data.get("url") or "") != path_of(tab.url):
            return f"the tab shows {data.get('url')!r}"
        if data.get("state") != "in":
            return "the page is not logged in" if data.get("state") == "out" else "no page"
        if data.get("table") is None:
            return "the table is not on the page"
        if page in self.last_updated:
            when = parse_updated(data.get("updated"))
            if when is None:
                return "the page says no time it was last updated"
            if now - when > self.max_age:
                return f"last updated {when.isoformat()}, more than {self.max_age} ago"
            return None
        if tab.rows is not None and data["table"]["rows"] != tab.rows:
            tab.fresh_at = now
        if now - tab.fresh_at > self.max_age:
            return f"unchanged since {tab.fresh_at.isoformat()} (no last_updated element)"
        return None

    def seen(self, tab: LiveTab, data: dict) -> None:
        """Remember what a trusted read showed (the baseline of the next change)."""
        tab.rows = data["table"]["rows"] if data.get("table") else None
        tab.updated = data.get("updated")

    def updated_since(self, page: str, data: dict, since: datetime, before_rows) -> bool:
        """Whether ``data`` shows the page as it is after ``since`` (a click): rows that changed
        since the last read before the click (a new row), or a last_updated time at or past the
        click (the broker's clock may lag the robot's a little: the rows then tell first)."""
        table = data.get("table")
        if table is not None and before_rows is not None and table["rows"] != before_rows:
            return True
        if page in self.last_updated:
            when = parse_updated(data.get("updated"))
            return when is not None and when >= since
        return False


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path.rstrip("/") + ("?" + parts.query if parts.query else "")


def parse_updated(text: str | None) -> datetime | None:
    """A ``data-updated`` ISO time; one without an offset is WIB (the brokers' own time)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=WIB)
