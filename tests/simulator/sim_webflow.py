"""A selectors-driven Selenium flow: what an adapter does, generic over the selectors file.

The same code drives all four skins; only the selectors JSON differs. That is the proof that a
broker (lotus) can be defined by a selectors file alone.

Every wait goes through tests/webwait.py: a click that loads a page is followed by a wait for
the new document, never by a question about the old one (``staleness_of`` raced chromedriver
while the old page was torn down), and a navigation racing a look means "look again".

On a live skin (stockbit, ajaib: the form carries ``data-sim-api``) the order and cancel posts
are fetches answered in place: the flow then waits for the toast on the same document and checks
that the document was not replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from webwait import click_to_new_page, mark_page, settled, wait_new_page

# A live page posts this form with fetch (simulator/templates/live_js.html).
LIVE_FORM_JS = "return !!(arguments[0].closest('form') || {dataset: {}}).dataset.simApi;"
STILL_MARKED_JS = "return window.__webwaitOldPage === true;"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def load_selectors(broker: str) -> dict[str, Any]:
    """A skin's selectors file: the shipped one, or lotus's (a test-only skin) from this folder."""
    path = HERE / "lotus.json" if broker == "lotus" else ROOT / "selectors" / f"{broker}.json"
    return json.loads(path.read_text(encoding="utf-8"))


class Flow:
    def __init__(self, driver: WebDriver, root: str, sel: dict[str, Any], timeout: float = 15):
        self.d = driver
        self.root = root.rstrip("/")
        self.sel = sel
        self.wait = WebDriverWait(driver, timeout, poll_frequency=0.05)

    # -- small helpers ---------------------------------------------------------------------------

    def url(self, page: str, **kw: str) -> str:
        return self.root + self.sel["urls"][page].format(**kw)

    def until(self, condition: Any, what: str = "") -> Any:
        return self.wait.until(settled(condition), what)

    def find(self, css: str) -> WebElement:
        return self.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)), css)

    def visible(self, css: str) -> WebElement:
        return self.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), css)

    def present(self, css: str) -> bool:
        return bool(self.d.find_elements(By.CSS_SELECTOR, css))

    def type(self, css: str, value: Any) -> None:
        """Type into an empty field (forms are always freshly loaded here)."""
        self.visible(css).send_keys(str(value))

    def number(self, text: str) -> int:
        text = text.strip()
        return int(
            text.replace(".", "") if self.sel["number_format"] == "id" else text.replace(",", "")
        )

    def logged_in(self) -> bool:
        return self.present(self.sel["login_check"])

    def click_to_new_page(self, element: WebElement) -> None:
        """A click that loads a page: wait for the new document."""
        click_to_new_page(self.d, element, self.wait)

    def is_live_form(self, element: WebElement) -> bool:
        """The element's form posts with fetch and answers in place (a live skin)."""
        return bool(self.d.execute_script(LIVE_FORM_JS, element))

    def toast_in_place(self) -> tuple[str, str]:
        """The toast of a fetch answered in place: the marked document must still be there."""
        result = self.toast()
        assert self.d.execute_script(STILL_MARKED_JS), "a live page navigated"
        return result

    # -- login -----------------------------------------------------------------------------------

    def open(self, page: str, **kw: str) -> None:
        self.d.get(self.url(page, **kw))

    def on_login_page(self) -> bool:
        return self.present(self.sel["login_form"]["username"]) and not self.logged_in()

    def login(self, username: str, password: str) -> None:
        self.open("order")
        if self.logged_in():
            return
        form = self.sel["login_form"]
        self.type(form["username"], username)
        self.type(form["password"], password)
        self.click_to_new_page(self.find(form["submit"]))
        self.find(self.sel["login_check"])

    # -- orders ----------------------------------------------------------------------------------

    def place(
        self,
        emiten: str,
        price: int,
        lot: int,
        tp: int | None = None,
        cl: int | None = None,
        side: str = "buy",
        pin: str | None = None,
    ) -> tuple[str, str]:
        """Run the skin's steps; returns ("success"|"error", toast text)."""
        self.open("order")
        form = self.sel["order_form"]
        live = False
        for step in self.sel["steps"]:
            if step == "pin":
                self.enter_pin(pin)
            elif step == "fill":
                self.find(form["stock_input"])
                if side == "sell":
                    self.find(form["side_sell"]).click()
                self.type(form["stock_input"], emiten)
                self.type(form["price_input"], price)
                self.type(form["lot_input"], lot)
                if "auto_order" not in self.sel["steps"] and side == "buy":
                    self.fill_tp_cl(tp, cl)
            elif step == "auto_order":
                if side == "buy" and (tp is not None or cl is not None):
                    self.find(self.sel["auto_order_toggle"]).click()
                    self.fill_tp_cl(tp, cl)
            elif step == "submit":
                submit = self.find(form["submit_btn"])
                live = self.is_live_form(submit)
                mark_page(self.d)  # this click or the confirm dialog's loads the result
                submit.click()
            elif step == "confirm":
                dialog = self.sel["confirm_dialog"]
                self.visible(dialog["dialog"])
                assert self.number(self.find(dialog["lot"]).text) == lot
                assert self.number(self.find(dialog["price"]).text) == price
                confirm = self.find(dialog["confirm_btn"])
                confirm.click()
            elif step == "toast":
                if live:
                    return self.toast_in_place()
                wait_new_page(self.d, self.wait)
                return self.toast()
        raise AssertionError("steps without a toast step")

    def fill_tp_cl(self, tp: int | None, cl: int | None) -> None:
        form = self.sel["order_form"]
        if tp is not None and form["tp_input"]:
            self.type(form["tp_input"], tp)
        if cl is not None and form["cl_input"]:
            self.type(form["cl_input"], cl)

    def enter_pin(self, pin: str | None) -> None:
        pad = self.sel["pin_pad"]
        if not self.present(pad["container"]):
            return  # already unlocked in this session
        assert pin is not None, "this broker wants a trading PIN"
        for digit in pin:
            keys = self.d.find_elements(By.CSS_SELECTOR, pad["key"])
            next(k for k in keys if k.text.strip() == digit).click()
        self.click_to_new_page(self.find(pad["submit"]))
        self.find(self.sel["order_form"]["stock_input"])

    def toast(self) -> tuple[str, str]:
        ok, err = self.sel["toast_success"], self.sel["toast_error"]
        self.until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ok) or d.find_elements(By.CSS_SELECTOR, err),
            "a toast",
        )
        found = self.d.find_elements(By.CSS_SELECTOR, ok)
        if found:
            return "success", found[0].text.strip()
        return "error", self.d.find_element(By.CSS_SELECTOR, err).text.strip()

    # -- tables ----------------------------------------------------------------------------------

    def table(self, page: str) -> list[dict[str, str]]:
        """Rows of open_orders / history / portfolio as {canonical column: text}."""
        table_css = {
            "open_orders": self.sel["open_orders_table"],
            "history": self.sel["order_history_table"],
            "portfolio": self.sel["portfolio_table"],
        }[page]
        self.open(page)
        table = self.find(table_css)
        headers = [th.text.strip() for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
        names = {header: key for key, header in self.sel["columns"][page].items()}
        rows = []
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
            cells = [td.text.strip() for td in tr.find_elements(By.CSS_SELECTOR, "td")]
            rows.append({names[h]: c for h, c in zip(headers, cells, strict=True) if h in names})
        return rows

    def orders(self, page: str) -> list[dict[str, Any]]:
        """Table rows with side/status mapped and numbers parsed, as an adapter would."""
        out = []
        for row in self.table(page):
            out.append(
                {
                    **row,
                    "side": self.sel["side_map"][row["side"]],
                    "status": self.sel["status_map"][row["status"]],
                    "price": self.number(row["price"]),
                    "lot": self.number(row["lot"]),
                    "filled": self.number(row["filled"]),
                }
            )
        return out

    def cancel(self, order_id: str) -> tuple[str, str]:
        self.open("open_orders")
        table = self.find(self.sel["open_orders_table"])
        headers = [th.text.strip() for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
        id_col = headers.index(self.sel["columns"]["open_orders"]["order_id"])
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
            if tr.find_elements(By.CSS_SELECTOR, "td")[id_col].text.strip() == order_id:
                button = tr.find_element(By.CSS_SELECTOR, self.sel["cancel_btn"])
                if self.is_live_form(button):
                    mark_page(self.d)
                    button.click()
                    return self.toast_in_place()
                self.click_to_new_page(button)
                return self.toast()
        raise AssertionError(f"order {order_id} is not in the open orders")

    def quote(self, emiten: str) -> int:
        self.open("quote", emiten=emiten)
        return self.number(self.find(self.sel["quote_price"]).text)
