"""Run in a child process (multiprocessing spawn): launch one undetected-chromedriver Browser on
its own profile, read the simulator's login page, quit. Importable by name from the child."""

from __future__ import annotations

import os
import time
from pathlib import Path


def visit(account_id: str, profile: str, drivers_dir: str, url: str, barrier, results) -> None:
    os.environ["SE_OFFLINE"] = "true"
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from adapters.browser import Browser
    from robot.config import BrowserSettings

    browser = Browser(
        account_id,
        Path(profile),
        BrowserSettings(driver="uc", launch_stagger_s=0),
        url,
        headless=True,
        drivers_dir=Path(drivers_dir),
    )
    out: dict = {"account": account_id, "error": None}
    try:
        barrier.wait(timeout=120)  # all three launch at the same moment
        out["started_at"] = time.monotonic()
        browser.start()
        driver = browser.driver
        driver.get(url + "/stockbit/login")
        WebDriverWait(driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "input[name='username']")
        )
        out["title"] = driver.title
        out["heading"] = driver.find_element(By.TAG_NAME, "h1").text
        out["webdriver_flag"] = driver.execute_script("return navigator.webdriver")
        out["user_data_dir"] = str(browser.profile)
        out["loaded_at"] = time.monotonic()
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            browser.quit()
        except Exception as exc:  # noqa: BLE001 - reported to the parent too
            out["error"] = out["error"] or f"quit: {type(exc).__name__}: {exc}"
        results.put(out)
