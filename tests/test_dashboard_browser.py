"""`robot dashboard` in real headless Chromium (the system Chromium, as the simulator's browser
tests start it): a day written by the robot's own Store, served on 127.0.0.1.

The page shows the day and keeps itself current without a reload (a mark on the window
survives), a task's timeline grows in place, the buttons reach the account's worker and show what
it decided, a POST without its CSRF token is refused, and bound beyond loopback (the app
configured for 0.0.0.0, served on 127.0.0.1 as every test server is) nothing answers without
the token. Screenshots of the main page and the report page are written under the test's
tmp_path, and their paths printed, for a person to look at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from adapters.waits import settled
from dashboard_day import DAY, at, build_day, write_config
from dashboard_worker import playing_worker
from robot.dashboard import DashboardServer, create_app
from robot.orders import TaskState as T
from robot.store import Store
from simulator.testing import start_chrome
from webwait import click_to_new_page

pytestmark = pytest.mark.browser

MARK = "window.__dashboardMark = 'still the same page';"
MARKED = "return window.__dashboardMark || null;"


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> Iterator[Any]:
    d = start_chrome(tmp_path_factory.mktemp("chromium-profile"))
    yield d
    with contextlib.suppress(Exception):
        d.quit()


@pytest.fixture
def browser(driver) -> Any:
    driver.delete_all_cookies()  # no token cookie from another test
    return driver


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    server = DashboardServer(app, "127.0.0.1", 0).start()
    try:
        yield server.url
    finally:
        server.stop()


def wait(driver, timeout: float = 60) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def cells(driver, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def screenshot(driver, path: Path) -> Path:
    """The whole page (the window stretched to its height), saved and its path printed."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 4000)))
    try:
        assert driver.save_screenshot(str(path)), path
    finally:
        driver.set_window_size(1280, 900)
    print(f"screenshot: {path}")
    return path


def write(db: Path, change) -> None:
    """A change as a worker writes it, on a connection of its own."""
    store = Store(db)
    try:
        change(store)
    finally:
        store.close()


def test_the_main_page_shows_the_day_and_keeps_itself_current(browser, tmp_path):
    db = build_day(tmp_path, report=True)
    with serving(create_app(write_config(tmp_path), poll_s=1)) as url:
        browser.get(url)
        # read in a wait: the accounts' heartbeat ages change, so a poll may swap that section in
        rows = wait(browser).until(
            settled(
                lambda d: {
                    r.get_attribute("data-account"): r.get_attribute("class")
                    for r in d.find_elements(By.CSS_SELECTOR, "tr[data-account]")
                }
            )
        )
        assert rows == {
            "ACC_A": "",
            "ACC_B": "alert alert-LOGIN_REQUIRED",
            "ACC_C": "alert alert-FATAL",
        }
        tasks = cells(browser, "tr[data-task] td:first-child")
        assert sorted(tasks) == ["T-CL", "T-FAIL", "T-OPEN", "T-TP", "T-UNK", "T-WAIT"]
        assert "OUTCOME_UNKNOWN" in browser.find_element(By.ID, "attention").text
        screenshot(browser, tmp_path / "dashboard-main.png")

        browser.execute_script(MARK)

        def trade_on(store: Store) -> None:
            store.set_worker_state("ACC_A", "stockbit", "EOD_REPORT", at(420), "close", 101)
            with store.transaction():
                store.move_task("T-OPEN", T.EXPIRED_UNMATCHED, at(420), reason="day order")
                store.add_event("EXPIRED", "ACC_A", {"lots_filled": 0}, at(420), task_id="T-OPEN")

        write(db, trade_on)
        wait(browser).until(
            settled(
                lambda d: (
                    cells(d, 'tr[data-account="ACC_A"] td.state') == ["EOD_REPORT"]
                    and d.find_element(By.CSS_SELECTOR, 'tr[data-task="T-OPEN"]').get_attribute(
                        "data-state"
                    )
                    == "EXPIRED_UNMATCHED"
                    and d.find_element(By.CSS_SELECTOR, "#events tbody tr").get_attribute(
                        "data-seq"
                    )
                    == "15"
                )
            ),
            "the page to show the new state",
        )
        assert browser.execute_script(MARKED) == "still the same page"  # no reload

        Select(browser.find_element(By.ID, "filter-account")).select_by_visible_text("ACC_A")
        Select(browser.find_element(By.ID, "filter-state")).select_by_visible_text("TP_HIT")
        click_to_new_page(
            browser, browser.find_element(By.CSS_SELECTOR, "form.filter button"), wait(browser)
        )
        assert cells(browser, "tr[data-task] td:first-child") == ["T-TP"]


def test_the_report_page_draws_its_charts(browser, tmp_path):
    build_day(tmp_path, report=True)
    with serving(create_app(write_config(tmp_path))) as url:
        browser.get(f"{url}report?day={DAY}")
        charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) == 2
        assert charts[1].size["width"] > 300  # drawn, not an empty box
        assert "+20,000 Rp" in browser.find_element(By.ID, "chart-results").text
        assert "ACC_A" in browser.find_element(By.ID, "chart-outcomes").text
        screenshot(browser, tmp_path / "dashboard-report.png")


def test_a_tasks_timeline_grows_in_place(browser, tmp_path):
    db = build_day(tmp_path)
    with serving(create_app(tmp_path / "state.db", poll_s=1)) as url:
        browser.get(f"{url}task/T-OPEN")
        assert cells(browser, "tbody[data-append=timeline] tr td:nth-child(3)") == [
            "TASK_ACCEPTED",
            "ORDER_SUBMITTED",
        ]
        browser.execute_script(MARK)

        def fill(store: Store) -> None:
            with store.transaction():
                store.move_task("T-OPEN", T.FILLED, at(30), lots_filled=2, avg_fill_price=9000)
                store.add_event("FILLED", "ACC_A", {"lots": 2}, at(30), task_id="T-OPEN")

        write(db, fill)
        wait(browser).until(
            settled(
                lambda d: (
                    d.find_element(By.ID, "task-head").get_attribute("data-state") == "FILLED"
                    and cells(d, "tbody[data-append=timeline] tr td:nth-child(3)")
                    == ["TASK_ACCEPTED", "ORDER_SUBMITTED", "FILLED"]
                )
            ),
            "the task page to show the fill",
        )
        assert browser.execute_script(MARKED) == "still the same page"


def test_the_buttons_reach_the_worker_and_show_what_it_decided(browser, tmp_path):
    build_day(tmp_path)
    app = create_app(write_config(tmp_path), action_wait_s=30)
    with serving(app) as url, playing_worker(tmp_path, "ACC_C"):
        browser.get(f"{url}task/T-UNK")
        browser.find_element(By.ID, "broker-order-id").send_keys("B-999")
        click_to_new_page(
            browser, browser.find_element(By.CSS_SELECTOR, "#resolve-placed button"), wait(browser)
        )
        result = browser.find_element(By.ID, "action-result")
        assert result.get_attribute("data-status") == "refused"
        assert "the broker does not show order B-999 for ACC_C" in result.text

        browser.get(f"{url}task/T-UNK")
        click_to_new_page(
            browser,
            browser.find_element(By.CSS_SELECTOR, "#resolve-not-placed button"),
            wait(browser),
        )
        result = browser.find_element(By.ID, "action-result")
        assert result.get_attribute("data-status") == "done", result.text
        assert "the task fails for the day" in result.text
        click_to_new_page(browser, browser.find_element(By.ID, "back"), wait(browser))
        assert browser.find_element(By.ID, "task-head").get_attribute("data-state") == "FAILED"
        assert "TASK_RESOLVED" in cells(browser, "tbody[data-append=timeline] tr td:nth-child(3)")

    # ACC_C is FATAL: its restart button asks the supervisor, which this test does not run (the
    # page waits a moment, not the 30 s a resolve may take, and says so)
    with serving(create_app(write_config(tmp_path), action_wait_s=0.5)) as url:
        browser.get(url)
        click_to_new_page(
            browser,
            browser.find_element(By.CSS_SELECTOR, 'tr[data-account="ACC_C"] form.restart button'),
            wait(browser),
        )
        result = browser.find_element(By.ID, "action-result")
        assert result.get_attribute("data-status") == "pending"
        assert "the supervisor has not picked it up yet" in result.text


def test_a_post_without_its_csrf_token_is_refused(browser, tmp_path):
    build_day(tmp_path)
    with serving(create_app(write_config(tmp_path), action_wait_s=0.1)) as url:
        browser.get(f"{url}task/T-UNK")
        browser.execute_script(
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove());"
        )
        click_to_new_page(
            browser,
            browser.find_element(By.CSS_SELECTOR, "#resolve-not-placed button"),
            wait(browser),
        )
        assert "CSRF token is missing" in browser.find_element(By.TAG_NAME, "body").text
    store = Store(tmp_path / "state.db", readonly=True)
    try:
        assert store.operator_request(1) is None  # nothing was asked
    finally:
        store.close()


def test_beyond_loopback_nothing_answers_without_the_token(browser, tmp_path):
    build_day(tmp_path)
    app = create_app(write_config(tmp_path), token="tok-0123456789", bind_host="0.0.0.0", poll_s=1)
    with serving(app) as url:
        browser.get(url)
        assert "401" in browser.find_element(By.TAG_NAME, "body").text
        assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-account]")
        browser.get(f"{url}api/state")
        assert "401" in browser.find_element(By.TAG_NAME, "body").text

        browser.get(f"{url}?token=tok-0123456789")
        assert "token" not in browser.current_url  # it became a cookie
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr[data-account]")) == 3
        wait(browser).until(  # the polls carry the cookie too
            settled(
                lambda d: (
                    int(d.find_element(By.ID, "last-updated").get_attribute("data-polls") or 0) >= 2
                )
            ),
            "two polls answered",
        )
        browser.delete_all_cookies()
        browser.get(url)
        assert "401" in browser.find_element(By.TAG_NAME, "body").text
