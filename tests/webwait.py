"""Browser waits that survive a navigation (a uniquely named module, importable from every test
folder and from bench/).

While a click's navigation tears the old document down, chromedriver can fail a command that
touches it: an element of the old page is stale, or the DevTools call behind the command finds
its node or its JavaScript context gone and chromedriver reports ``unknown error: unhandled
inspector error: {"code":-32000,"message":"Node with given id does not belong to the
document"}``. ``EC.staleness_of`` after a navigating click raised exactly that on a loaded
machine. So a wait here never asks about the old page: it waits for the *new* document, and
takes those failures as "not yet, look again".

    click_to_new_page(driver, button, wait)       # instead of click() + staleness_of(button)
    wait.until(settled(lambda d: d.find_elements(By.CSS_SELECTOR, ".toast")))
"""

from __future__ import annotations

from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

# the one copy of "a navigation raced this look": the adapters wait with the same rule
from adapters.waits import settled

# A mark on the current document's window: a new document (whatever URL) starts without it.
MARK_JS = "window.__webwaitOldPage = true;"
NEW_PAGE_JS = "return !window.__webwaitOldPage && document.readyState === 'complete';"


def mark_page(driver: WebDriver) -> None:
    """Mark the current document, so that ``wait_new_page`` knows when it has been replaced."""
    driver.execute_script(MARK_JS)


def wait_new_page(driver: WebDriver, wait: WebDriverWait) -> None:
    """Wait until the document marked by ``mark_page`` is replaced by a fully loaded one."""
    wait.until(
        settled(lambda d: d.execute_script(NEW_PAGE_JS)), "the click's navigation to a new page"
    )


def click_to_new_page(driver: WebDriver, element: WebElement, wait: WebDriverWait) -> None:
    """Click ``element`` (a link or a form's button) and wait for the page it loads."""
    mark_page(driver)
    element.click()
    wait_new_page(driver, wait)
