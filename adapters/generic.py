"""The selector-driven adapter: a broker's whole flow from its selectors file alone.

Open the order page, fill emiten/price/lot (and TP/CL when the broker has them), click submit,
wait for the success or error toast; read tables in one ``execute_script`` round trip each and map
their columns by the header texts the selectors file names. A table may lack some columns: an
order table its side (the selectors file's ``fixed_side`` then says which side it lists) or its
time, the holdings table its average price (docs/BROKERS.md). A broker whose UI follows this flow
needs only a selectors file and an accounts.yaml entry. Broker modules subclass this only for a
step of their own (a PIN pad, a confirmation dialog, an auto-order toggle).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, time as dtime
from urllib.parse import urlsplit

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from robot.clock import WIB

from .base import (
    TOAST_ORDER_ID,
    ActionTimeout,
    AdapterError,
    BrokerAdapter,
    BrokerOrder,
    BrokerRejected,
    OrderRequest,
    OrderStatus,
    Position,
    SelectorMissing,
    SessionExpired,
    Side,
    SubmitResult,
    order_id_in,
)
from .browser import Browser, classify, driver_errors
from .numbers import parse_int
from .operator import OperatorPages
from .selectors import load_selectors
from .waits import RaceTolerantWait

log = logging.getLogger("adapters")
_DRIVER_ERRORS = driver_errors()

# How often a wait re-checks the page. Selenium's default (0.5 s) made every wait that missed
# on its first look cost half a second: a toast rendered just after the click, a dialog or a
# field shown by the page's script (bench/: order latency).
WAIT_POLL_S = 0.1

# The columns a table cannot do without; the side of an order table only when the selectors file
# gives no fixed_side for it.
ORDER_FIELDS = ("order_id", "emiten", "price", "lot", "filled", "status")
PORTFOLIO_FIELDS = ("emiten", "lot")

# One round trip: headers and cell texts of a table, plus each row's data-key if it has one.
READ_TABLE_JS = """
const table = document.querySelector(arguments[0]);
if (!table) { return null; }
const headers = Array.from(table.querySelectorAll('thead th, tr:first-child th'))
    .map(th => th.textContent.trim());
const rows = Array.from(table.querySelectorAll('tbody tr')).map(tr =>
    Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()));
return {headers: headers, rows: rows};
"""

# The cancel button in the row whose order-id cell equals arguments[2].
FIND_CANCEL_JS = """
const table = document.querySelector(arguments[0]);
if (!table) { return null; }
const headers = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
const col = headers.indexOf(arguments[1]);
for (const tr of table.querySelectorAll('tbody tr')) {
  const cells = tr.querySelectorAll('td');
  if (col >= 0 && cells[col] && cells[col].textContent.trim() === arguments[2]) {
    return tr.querySelector(arguments[3]);
  }
}
return null;
"""


class SelectorAdapter(OperatorPages, BrokerAdapter):
    """Drives a broker purely from its selectors file."""

    STEPS = {"fill", "submit", "toast"}

    def __init__(self, account, broker, settings, clock):
        self.account, self.broker, self.settings, self.clock = account, broker, settings, clock
        self.sel = load_selectors(broker.selectors, broker.name, self.STEPS)
        self.native_tp_cl = bool(self.sel.get("native_tp_cl"))
        self.fmt = self.sel.get("number_format", "plain")
        self.timeout = settings.action_timeout_s
        drivers_dir = settings.state_db.parent / ".drivers"
        self.browser = Browser(
            account.id,
            account.profile_path,
            settings.browser,
            broker.base_url,
            headless=account.headless,
            drivers_dir=drivers_dir,
            page_load_timeout_s=max(30.0, self.timeout),
            node=getattr(account, "node", None),
        )

    # ------------------------------------------------------------------------------ browser
    @property
    def driver(self) -> WebDriver:
        if self.browser.driver is None:
            raise AdapterError("the browser is not started")
        return self.browser.driver

    def start(self) -> None:
        try:
            self.browser.start()
        except AdapterError:
            raise
        except Exception as exc:  # noqa: BLE001 - classify whatever the launch raised
            raise classify(exc) from None

    def close(self) -> None:
        self.browser.quit()

    def process_ids(self) -> list[int]:
        return self.browser.process_ids()

    def _guard(self, fn: Callable, *args):
        """Run a browser action, turning Selenium's exceptions into the typed ones (a killed
        chromedriver fails in the client's transport: BrowserCrashed too)."""
        try:
            return fn(*args)
        except AdapterError:
            raise
        except StaleElementReferenceException as exc:
            raise ActionTimeout(f"page changed under us: {exc.msg}") from None
        except _DRIVER_ERRORS as exc:
            raise classify(exc) from None

    # -------------------------------------------------------------------------------- pages
    def url(self, key: str, **params) -> str:
        path = self.sel["urls"][key]
        for k, v in params.items():
            path = path.replace("{" + k + "}", str(v))
        return self.broker.base_url + path

    def navigate(self, url: str) -> None:
        """Load ``url``; a site that does not answer is BrokerUnreachable naming the URL."""
        self.progress()
        try:
            self.driver.get(url)
        except _DRIVER_ERRORS as exc:
            raise classify(exc, url) from None
        self.progress()

    def open_page(self, key: str, **params) -> None:
        """Navigate and wait until the page is either logged in or the login page."""
        self.navigate(self.url(key, **params))
        self._wait_logged_in_page(key)

    def _wait_logged_in_page(self, key: str) -> None:
        check, login = self.sel["login_check"], self.sel["login_form"]["username"]

        def settled(d):
            if d.find_elements(By.CSS_SELECTOR, check):
                return "in"
            if d.find_elements(By.CSS_SELECTOR, login):
                return "out"
            return False

        try:
            state = self.wait().until(settled)
        except TimeoutException:
            title = self.driver.title
            raise AdapterError(
                f"unexpected page for {key!r} ({title!r}): neither logged in nor the login page"
            ) from None
        if state == "out":
            raise SessionExpired(f"{self.broker.name}: the broker shows its login page")

    def wait(self, timeout: float | None = None) -> WebDriverWait:
        """Every wait of the adapters: a navigation racing a look is "not yet" (adapters/waits.py),
        so a login, a submit or a PIN whose page is being replaced is never a false failure."""
        return RaceTolerantWait(self.driver, timeout or self.timeout, poll_frequency=WAIT_POLL_S)

    def find(self, key: str, selector: str, timeout: float | None = None):
        try:
            return self.wait(timeout).until(lambda d: d.find_element(By.CSS_SELECTOR, selector))
        except TimeoutException:
            raise SelectorMissing(key, selector, self.driver.current_url) from None

    def type_into(self, key: str, selector: str, value) -> None:
        el = self.find(key, selector)
        el.clear()
        el.send_keys(str(value))

    # ------------------------------------------------------------------------------ session
    def on_login_page(self) -> bool:
        """The login form shows, or the browser is at the login URL."""
        if self.driver.find_elements(By.CSS_SELECTOR, self.sel["login_form"]["username"]):
            return True
        return urlsplit(self.driver.current_url).path.rstrip("/") == urlsplit(
            self.url("login")
        ).path.rstrip("/")

    def is_session_valid(self) -> bool:
        try:
            self._guard(self.open_page, "open_orders")
            return True
        except SessionExpired:
            return False

    def login(self, username: str, password: str) -> None:
        def run():
            self.navigate(self.url("login"))
            form = self.sel["login_form"]
            self.type_into("login_form.username", form["username"], username)
            self.type_into("login_form.password", form["password"], password)
            self.find("login_form.submit", form["submit"]).click()
            self.progress()
            err = self.sel.get("login_error")

            def done(d):
                if d.find_elements(By.CSS_SELECTOR, self.sel["login_check"]):
                    return "ok"
                if err and [e for e in d.find_elements(By.CSS_SELECTOR, err) if e.text.strip()]:
                    return "error"
                if not self.on_login_page():
                    return "left"  # a landing page without the marker: looked at below
                return False

            try:
                result = self.wait().until(done)
            except TimeoutException:
                raise ActionTimeout("login did not complete") from None
            if result == "error":
                text = self.driver.find_element(By.CSS_SELECTOR, err).text.strip()
                raise BrokerRejected(f"login refused: {text}")
            if result == "left" and not self.is_session_valid():
                raise AdapterError(
                    "login did not complete: the broker left its login page, but "
                    "its open orders page asks for a login (a second step, such "
                    "as a one-time code, needs a person: robot login)"
                )

        self._guard(run)

    # ------------------------------------------------------------------------------- orders
    def submit_order(
        self,
        order: OrderRequest,
        before_click: Callable[[], None],
        dry_run: bool = False,
        after_click: Callable[[], None] | None = None,
    ) -> SubmitResult:
        return self._guard(self._submit, order, before_click, dry_run, after_click)

    def _submit(self, order, before_click, dry_run, after_click) -> SubmitResult:
        self.open_page("order")
        steps = self.sel["steps"]
        final = "confirm" if "confirm" in steps else "submit"  # the click that places the order
        result = None
        for step in steps:
            self.progress()
            if step == final:
                if dry_run:
                    return SubmitResult("dry run: form filled, submit not clicked", dry_run=True)
                before_click()
                getattr(self, f"step_{step}")(order)
                if after_click:
                    after_click()
            elif step == "toast":
                result = self.wait_toast()
            else:
                getattr(self, f"step_{step}")(order)
        if result is None:  # the selectors schema requires a toast step
            raise AdapterError(f"{self.broker.name}: the order steps read no toast")
        return result

    def step_fill(self, order: OrderRequest) -> None:
        form = self.sel["order_form"]
        if order.side == Side.SELL:
            if not form.get("side_sell"):
                raise AdapterError(f"{self.broker.name}: selectors have no order_form.side_sell")
            self.find("order_form.side_sell", form["side_sell"]).click()
        self.type_into("order_form.stock_input", form["stock_input"], order.emiten)
        self.type_into("order_form.price_input", form["price_input"], order.price)
        self.type_into("order_form.lot_input", form["lot_input"], order.lot)
        if order.side == Side.BUY and self.native_tp_cl and "auto_order" not in self.sel["steps"]:
            self.fill_tp_cl(order)

    def fill_tp_cl(self, order: OrderRequest) -> None:
        form = self.sel["order_form"]
        if order.tp is not None:
            self.type_into("order_form.tp_input", form["tp_input"], order.tp)
        if order.cl is not None:
            self.type_into("order_form.cl_input", form["cl_input"], order.cl)

    def step_submit(self, order: OrderRequest) -> None:
        self.find("order_form.submit_btn", self.sel["order_form"]["submit_btn"]).click()

    def wait_toast(self) -> SubmitResult:
        ok, err = self.sel["toast_success"], self.sel["toast_error"]

        def toast(d):
            for css, kind in ((ok, "ok"), (err, "err")):
                for el in d.find_elements(By.CSS_SELECTOR, css):
                    text = el.text.strip()
                    if text:
                        return kind, text
            if d.find_elements(
                By.CSS_SELECTOR, self.sel["login_form"]["username"]
            ) and not d.find_elements(By.CSS_SELECTOR, self.sel["login_check"]):
                return "login", ""
            return False

        try:
            kind, text = self.wait().until(toast)
        except TimeoutException:
            raise ActionTimeout("no success or error toast after the click") from None
        if kind == "login":
            raise SessionExpired("the broker asked for a login after the click")
        if kind == "err":
            raise BrokerRejected(text, retryable=self._retryable(text))
        return SubmitResult(text, self.toast_order_id(text))

    def toast_order_id(self, text: str | None) -> str | None:
        """The selectors file's toast_order_id pattern (null: the toast names none)."""
        return order_id_in(text, self.sel.get("toast_order_id", TOAST_ORDER_ID))

    def _retryable(self, text: str) -> bool:
        patterns = self.sel.get("retryable_errors") or [
            r"(?i)try again",
            r"(?i)coba lagi",
            r"(?i)busy",
            r"(?i)sibuk",
            r"(?i)timeout",
            r"(?i)gangguan",
        ]
        return any(re.search(p, text) for p in patterns)

    def cancel_order(self, order_id: str) -> str:
        def run():
            self.open_page("open_orders")
            cols = self.sel["columns"]["open_orders"]
            button = self.driver.execute_script(
                FIND_CANCEL_JS,
                self.sel["open_orders_table"],
                cols["order_id"],
                str(order_id),
                self.sel["cancel_btn"],
            )
            if button is None:
                raise BrokerRejected(f"order {order_id} is not in the open orders (already done?)")
            button.click()
            return self.wait_toast().message

        return self._guard(run)

    # ------------------------------------------------------------------------------- tables
    def read_table(self, page: str, table_key: str) -> dict:
        """Headers and rows of a page's table in one round trip."""

        def run():
            self.open_page(page)
            data = self.driver.execute_script(READ_TABLE_JS, self.sel[table_key])
            if data is None:
                raise SelectorMissing(table_key, self.sel[table_key], self.driver.current_url)
            return data

        return self._guard(run)

    def _rows(
        self, data: dict, columns: dict, table_key: str, required: tuple[str, ...]
    ) -> list[dict]:
        """Each row as {field: cell text}. A column the file names must be on the page when the
        robot needs it (``required``); an optional one the page lacks is left out of the rows."""
        headers = data["headers"]
        index = {}
        for field, header in columns.items():
            if header is not None and header in headers:
                index[field] = headers.index(header)
            elif field in required:
                raise SelectorMissing(
                    f"columns.{table_key}.{field}",
                    str(header),
                    f"{table_key} table (headers seen: {headers})",
                )
        return [
            {f: (row[i] if i < len(row) else "") for f, i in index.items()}
            for row in data["rows"]
            if row
        ]

    def _orders(self, page: str, table_key: str, columns_key: str) -> list[BrokerOrder]:
        data = self.read_table(page, table_key)
        fixed = (self.sel.get("fixed_side") or {}).get(columns_key)
        required = ORDER_FIELDS if fixed else ORDER_FIELDS + ("side",)
        out = []
        for r in self._rows(data, self.sel["columns"][columns_key], columns_key, required):
            try:
                out.append(self._order_from(r, fixed))
            except (KeyError, ValueError) as exc:
                raise AdapterError(
                    f"{self.broker.name}: cannot read a {columns_key} row {r}: {exc}"
                ) from None
        return out

    def _order_from(self, r: dict, fixed_side: str | None = None) -> BrokerOrder:
        """One order row; ``fixed_side``: the side of every row of a table without a side
        column (the selectors file's fixed_side; the schema makes sure one of them exists)."""
        side = (
            fixed_side
            or self.sel["side_map"].get(r["side"])
            or self.sel["side_map"].get(r["side"].title())
        )
        status = self.sel["status_map"].get(r["status"])
        if side is None or status is None:
            raise ValueError(f"unknown side {r.get('side')!r} or status {r['status']!r}")
        return BrokerOrder(
            order_id=r["order_id"],
            emiten=r["emiten"].upper(),
            side=Side(side),
            price=parse_int(r["price"], self.fmt),
            lot=parse_int(r["lot"], self.fmt),
            filled=parse_int(r["filled"], self.fmt) if r["filled"] else 0,
            status=OrderStatus(status),
            time=self._time(r.get("time")),
            raw=r,
        )

    def _time(self, text: str | None) -> datetime | None:
        if not text:
            return None
        m = re.search(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?", text)
        if not m:
            return None
        t = dtime(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        return datetime.combine(self.clock.now().date(), t, WIB)

    def get_open_orders(self) -> list[BrokerOrder]:
        return self._orders("open_orders", "open_orders_table", "open_orders")

    def get_order_history(self) -> list[BrokerOrder]:
        return self._orders("history", "order_history_table", "history")

    def get_portfolio(self) -> list[Position]:
        if not self.sel.get("portfolio_table") or "portfolio" not in self.sel["urls"]:
            raise AdapterError(f"{self.broker.name}: no portfolio page in the selectors")
        data = self.read_table("portfolio", "portfolio_table")
        out = []
        for r in self._rows(
            data,
            self.sel["columns"]["portfolio"],
            "portfolio",
            PORTFOLIO_FIELDS + (("avg_price",) if self._has("avg_price") else ()),
        ):
            out.append(
                Position(
                    r["emiten"].upper(),
                    parse_int(r["lot"], self.fmt),
                    self._number(r.get("avg_price")),
                    self._number(r.get("last_price")),
                )
            )
        return out

    def _has(self, portfolio_field: str) -> bool:
        """Whether the selectors file names this holdings column (then the page must show it)."""
        return bool((self.sel["columns"].get("portfolio") or {}).get(portfolio_field))

    def _number(self, text: str | None) -> int | None:
        return parse_int(text, self.fmt) if text else None

    def last_price(self, emiten: str) -> int:
        if not self.sel.get("quote_price") or "quote" not in self.sel["urls"]:
            raise AdapterError(f"{self.broker.name}: no quote page in the selectors")

        def run():
            self.open_page("quote", emiten=emiten)
            el = self.find("quote_price", self.sel["quote_price"])
            return parse_int(el.text, self.fmt)

        return self._guard(run)


ADAPTER = SelectorAdapter
