"""`robot probe`'s walk: visit a started selector adapter's pages and read them, touching nothing.

It only *navigates* (``driver.get``) and *reads* (one ``execute_script`` per page that counts
every selector of the file and reads the tables' header texts). It never types, clicks or submits
anything: no order can be placed or cancelled, the IPOT PIN pad is not typed, the Ajaib dialog is
not opened or confirmed. Which pages and selectors to read, and the verdict on what was seen, are
robot/probe.py's (pure, tested without a browser).
"""

from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from robot.probe import TABLES, is_logged_in, pages_to_visit, selector_keys

from .base import AdapterError, PageView
from .browser import classify, driver_errors
from .waits import RaceTolerantWait

# One round trip per page: how many elements each selector matches, and every table's headers.
READ_PAGE_JS = """
const selectors = arguments[0], tables = arguments[1];
const counts = {}, headers = {}, rows = {};
for (const s of selectors) {
  try { counts[s] = document.querySelectorAll(s).length; } catch (e) { counts[s] = -1; }
}
for (const s of tables) {
  let t = null;
  try { t = document.querySelector(s); } catch (e) { t = null; }
  if (t) {
    headers[s] = Array.from(t.querySelectorAll('thead th, tr:first-child th'))
      .map(th => th.textContent.trim());
    rows[s] = t.querySelectorAll('tbody tr').length;
  } else { headers[s] = null; rows[s] = null; }
}
return {counts: counts, headers: headers, rows: rows, title: document.title,
        url: location.href};
"""


def read_page(adapter, page: str, url: str, selectors: list[str], tables: list[str]) -> PageView:
    """Navigate to ``url`` and read it (counts and headers); nothing on the page is touched."""
    driver = adapter.driver
    sel = adapter.sel
    check, login = sel["login_check"], sel["login_form"]["username"]
    adapter.navigate(url)

    def settled(d):
        if d.execute_script("return document.readyState") != "complete":
            return False
        if d.find_elements(By.CSS_SELECTOR, check):
            return "in"
        if d.find_elements(By.CSS_SELECTOR, login):
            return "out"
        return False

    try:
        state = RaceTolerantWait(driver, adapter.timeout, poll_frequency=0.2).until(settled)
    except TimeoutException:
        state = "unknown"
    data = driver.execute_script(READ_PAGE_JS, selectors, tables) or {}
    return PageView(
        page,
        data.get("url", url),
        state,
        dict(data.get("counts") or {}),
        dict(data.get("headers") or {}),
        dict(data.get("rows") or {}),
        data.get("title", ""),
    )


def walk(adapter, emiten: str = "BBCA") -> dict[str, PageView]:
    """Visit the broker's pages with a started adapter and read them. Never clicks or types."""
    sel = adapter.sel
    selectors = sorted(set(selector_keys(sel).values()))
    tables = [sel[k] for k, _ in TABLES.values() if sel.get(k)]
    views: dict[str, PageView] = {}
    try:
        for page in pages_to_visit(sel):
            url = adapter.url(page, emiten=emiten)
            views[page] = read_page(adapter, page, url, selectors, tables)
            if views[page].state == "out":
                break  # logged out: every page redirects to the login page
        if not is_logged_in(views):
            views["login"] = read_page(adapter, "login", adapter.url("login"), selectors, tables)
    except AdapterError:
        raise
    except driver_errors() as exc:
        raise classify(exc) from None
    return views
