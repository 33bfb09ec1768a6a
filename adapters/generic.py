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

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field as dc_field
from datetime import datetime, time as dtime
from urllib.parse import urlsplit

from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from robot.clock import WIB
from robot.faults import fault_point, fault_point_meanwhile

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
from .pagejs import AWAIT_LIVE_JS, FIND_CANCEL_JS, FORM_JS, READ_LIVE_JS, TOAST_JS
from .selectors import load_selectors
from .tabs import LiveTab, Tabs, path_of
from .waits import RaceTolerantWait, is_navigation_race

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

# How long a read of a live list waits, after an order or cancel click, for the page to show
# the list as it is after the click (its own long poll answers at once when the broker's lists
# changed), before it is reloaded instead (bounded by the action timeout too).
READBACK_WAIT_S = 5.0

# The script timeout: above the longest bound a page script is given (the action timeout).
SCRIPT_TIMEOUT_MARGIN_S = 10.0


@dataclass
class FillPlan:
    """What the order form needs for one order: the fields to find (key -> css), the ones to
    type (key, text) and the ones to click first (the sell side)."""

    fields: dict[str, str]
    typed: list[tuple[str, str]] = dc_field(default_factory=list)
    clicks: list[str] = dc_field(default_factory=list)
    # emptied and left so: a live form keeps what an earlier order typed (its TP/CL)
    cleared: list[str] = dc_field(default_factory=list)
    # checkboxes set to a state (key -> checked), before anything is typed: a toggle that
    # shows fields (Ajaib's auto order)
    toggles: dict[str, bool] = dc_field(default_factory=dict)


class SelectorAdapter(OperatorPages, BrokerAdapter):
    """Drives a broker purely from its selectors file."""

    STEPS = {"fill", "submit", "toast"}

    def __init__(self, account, broker, settings, clock):
        self.account, self.broker, self.settings, self.clock = account, broker, settings, clock
        self.sel = load_selectors(broker.selectors, broker.name, self.STEPS)
        self.native_tp_cl = bool(self.sel.get("native_tp_cl"))
        self.fmt = self.sel.get("number_format", "plain")
        self.timeout = settings.action_timeout_s
        self.fill_mode = self.sel.get("fill", "keys")
        self.tabs = Tabs(self.sel.get("live"))
        # The order form as FORM_JS found it during the current submission (None: look again).
        self._form: dict | None = None
        self._plan: FillPlan | None = None  # the current submission's
        self._order_page_dirty = False  # the live order form needs a reload before the next
        # Live lists that changed by our click (page -> when): their next read waits for it.
        self._changing: dict[str, datetime] = {}
        self._timeouts_set_for: WebDriver | None = None
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
        """Load a page in the first tab and wait until it is either logged in or the login
        page (SessionExpired)."""
        self.tabs.show_main(self.driver)
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

    def _prepare_driver(self) -> None:
        """Once per browser: the script timeout above every bound a page script is given."""
        if self._timeouts_set_for is not self.driver:
            self.driver.set_script_timeout(self.timeout + SCRIPT_TIMEOUT_MARGIN_S)
            self._timeouts_set_for = self.driver

    def _live_tab(self, page: str) -> tuple[LiveTab, bool]:
        """``page``'s tab, made the active one; opened and loaded when it had none (then the
        second value is True: what it shows was loaded just now)."""
        tab = self.tabs.show(self.driver, page)
        if tab is not None:
            return tab, False
        tab = self.tabs.open_new(self.driver, page, self.url(page), self.clock.now())
        self._load_live(tab)
        return tab, True

    def _load_live(self, tab: LiveTab) -> None:
        self.navigate(tab.url)
        tab.loaded_at = tab.fresh_at = self.clock.now()
        tab.rows, tab.updated = None, None

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
        """Always a fresh load: a live page may not have noticed yet that the session ended."""

        def run():
            if not self.tabs.is_live("open_orders"):
                self.open_page("open_orders")
                return
            tab, loaded = self._live_tab("open_orders")
            if not loaded:
                self._load_live(tab)
            self._wait_logged_in_page("open_orders")

        try:
            self._guard(run)
            return True
        except SessionExpired:
            return False

    def login(self, username: str, password: str) -> None:
        def run():
            self.tabs.show_main(self.driver)
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
        self._prepare_driver()
        self._form = None
        self._plan = plan = self.fill_plan(order)
        self._open_form(plan)
        self.progress()  # the form is shown (loaded, or found on its live tab)
        self._order_page_dirty = True  # until the toast: whatever happens, a new page next time
        steps = self.sel["steps"]
        final = "confirm" if "confirm" in steps else "submit"  # the click that places the order
        result = None
        for step in steps:
            self.progress()
            if step == final:
                if dry_run:
                    return SubmitResult("dry run: form filled, submit not clicked", dry_run=True)
                fault_point("after_fill")  # the form is complete, nothing is clicked
                before_click()
                self._lists_change()
                getattr(self, f"step_{step}")(order)
                if after_click:
                    after_click()
            elif step == "toast":
                fault_point_meanwhile("toast_pending")
                try:
                    result = self.wait_toast()
                except BrokerRejected:
                    self._order_page_dirty = bool(plan.clicks)  # answered: the page is usable
                    raise
                self._order_page_dirty = bool(plan.clicks)
            else:
                getattr(self, f"step_{step}")(order)
        if result is None:  # the selectors schema requires a toast step
            raise AdapterError(f"{self.broker.name}: the order steps read no toast")
        return result

    # The order form: one script finds every field (and clears them, or in fill "script" mode
    # sets them), one W3C Actions perform() types them with trusted key events.
    def fill_plan(self, order: OrderRequest) -> FillPlan:
        """The fields this order needs, what to type into each, and what to click first."""
        form = self.sel["order_form"]
        keys = ["stock_input", "price_input", "lot_input", "submit_btn"]
        plan = FillPlan({})
        if order.side == Side.SELL:
            if not form.get("side_sell"):
                raise AdapterError(f"{self.broker.name}: selectors have no order_form.side_sell")
            keys.append("side_sell")
            plan.clicks.append("side_sell")
        plan.typed += [
            ("stock_input", order.emiten),
            ("price_input", str(order.price)),
            ("lot_input", str(order.lot)),
        ]
        own_tp_cl = self.native_tp_cl and "auto_order" not in self.sel["steps"]
        for key, value in (("tp_input", order.tp), ("cl_input", order.cl)):
            if not form.get(key):
                continue
            keys.append(key)
            if order.side == Side.BUY and own_tp_cl and value is not None:
                plan.typed.append((key, str(value)))
            else:
                plan.cleared.append(key)
        plan.fields = {k: form[k] for k in keys}
        return plan

    def _form_look(self, plan: FillPlan) -> dict:
        """FORM_JS once: where the browser is, the form's elements; the fields are cleared (or,
        in fill "script" mode, set) when the page is logged in and has them all."""
        pad = self.sel.get("pin_pad") or {}
        script = self.fill_mode == "script"
        return self.driver.execute_script(
            FORM_JS,
            plan.fields,
            self.sel["login_check"],
            self.sel["login_form"]["username"],
            pad.get("container"),
            [k for k, _ in plan.typed] + plan.cleared,
            {**dict(plan.typed), **dict.fromkeys(plan.cleared, "")} if script else None,
            plan.clicks if script else [],
            [self.sel["toast_success"], self.sel["toast_error"]],
            plan.toggles if script else {},
        )

    def _open_form(self, plan: FillPlan) -> dict:
        """The order page shown (a live page's tab, or loaded in the first tab) and looked at."""
        if self.tabs.is_live("order"):
            tab, loaded = self._live_tab("order")
            if not loaded and self._order_page_dirty:
                # the last submission clicked the sell side (the page's default, buy, is back
                # only with a new page: the selectors name no buy side to click), or ended
                # before its toast (a dialog may be left open): start from a new page
                self._load_live(tab)
                loaded = True
            self._order_page_dirty = False
            form = self._form_look(plan)
            if not loaded and (
                form["state"] not in ("in", "pin")
                or form["missing"]
                or path_of(form["url"]) != path_of(tab.url)
            ):
                log.info("reloading the order page (%s, %s)", form["state"], form["url"])
                self._load_live(tab)
                form = self._form_look(plan)
        else:
            self.tabs.show_main(self.driver)
            self.navigate(self.url("order"))
            form = self._form_look(plan)
        return self._settled_form(plan, form)

    def _settled_form(self, plan: FillPlan, form: dict | None = None) -> dict:
        """Wait (if need be) until the page is the logged-in form with every field, the PIN pad
        or the login page; remember it as the form of this submission."""

        def ready(form: dict) -> bool:
            return form["state"] in ("out", "pin") or (
                form["state"] == "in" and not form["missing"]
            )

        if form is None or not ready(form):
            try:
                form = self.wait().until(
                    lambda d: (lambda f: f if ready(f) else False)(self._form_look(plan))
                )
            except TimeoutException:
                form = self._form_look(plan)
                if form["state"] == "in":
                    key = form["missing"][0]
                    raise SelectorMissing(
                        f"order_form.{key}", plan.fields[key], self.driver.current_url
                    ) from None
                if form["state"] != "out":
                    raise AdapterError(
                        f"unexpected order page ({form['url']}): neither logged in nor the "
                        "login page"
                    ) from None
        if form["state"] == "out":
            raise SessionExpired(f"{self.broker.name}: the broker shows its login page")
        self._form = form
        return form

    def step_fill(self, order: OrderRequest) -> None:
        plan = self._plan or self.fill_plan(order)
        form = self._form or self._settled_form(plan)
        if form["state"] == "pin":
            raise AdapterError(f"{self.broker.name}: the PIN pad shows, and no step types it")
        if self.fill_mode == "script":
            return  # FORM_JS set every value when it found the form
        found = form["found"]
        for key in plan.clicks:
            # WebDriver's element click: it also selects an <option> (the side of some forms),
            # which a pointer action cannot click
            found[key].click()
        chain = ActionChains(self.driver, duration=0)
        for key, want in plan.toggles.items():
            if form["checked"].get(key) != want:
                chain.click(found[key])  # its change handler shows the fields typed next
        for key, text in plan.typed:
            chain.click(found[key])
            chain.send_keys(text)
        chain.perform()

    def fill_tp_cl(self, order: OrderRequest) -> None:
        form = self.sel["order_form"]
        if order.tp is not None:
            self.type_into("order_form.tp_input", form["tp_input"], order.tp)
        if order.cl is not None:
            self.type_into("order_form.cl_input", form["cl_input"], order.cl)

    def step_submit(self, order: OrderRequest) -> None:
        button = (self._form or {}).get("found", {}).get("submit_btn")
        if button is None:
            button = self.find("order_form.submit_btn", self.sel["order_form"]["submit_btn"])
        button.click()

    def _lists_change(self) -> None:
        """Our click is about to change the broker's lists: the next read of each live list
        waits until the page shows them as they are after it."""
        now = self.clock.now()
        for page in ("open_orders", "history", "portfolio"):
            if self.tabs.is_live(page):
                self._changing[page] = now

    # The answer to a click: one execute_async_script with a MutationObserver (TOAST_JS).
    def wait_toast(self) -> SubmitResult:
        self._prepare_driver()
        found = self._toast_once(self.timeout)
        if found is None:
            raise ActionTimeout("no success or error toast after the click")
        kind, text = found
        if kind == "login":
            raise SessionExpired("the broker asked for a login after the click")
        if kind == "err":
            raise BrokerRejected(text, retryable=self._retryable(text))
        return SubmitResult(text, self.toast_order_id(text))

    def _toast_script(self, bound_s: float):
        return self.driver.execute_async_script(
            TOAST_JS,
            self.sel["toast_success"],
            self.sel["toast_error"],
            self.sel["login_form"]["username"],
            self.sel["login_check"],
            int(bound_s * 1000),
        )

    def _toast_once(self, bound_s: float):
        """The first new toast (or the login form) within ``bound_s``; None when none came. A
        click that navigates replaces the document under the script: then the race-tolerant
        wait looks again on the new page."""
        started = time.monotonic()
        try:
            return self._toast_script(bound_s)
        except TimeoutException:
            # chromedriver also ends an async script whose document was replaced with "script
            # timeout", well before its timeout: that is the navigation, not the bound
            if time.monotonic() - started >= bound_s:
                raise
        except WebDriverException as exc:
            if not (is_navigation_race(exc) or "unloaded" in (exc.msg or "").lower()):
                raise
        log.debug("the page changed under the toast observer; looking on the new page")
        try:
            return self.wait().until(lambda d: self._toast_script(0) or False)
        except TimeoutException:
            return None

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
        def look() -> dict:
            cols = self.sel["columns"]["open_orders"]
            return self.driver.execute_script(
                FIND_CANCEL_JS,
                self.sel["open_orders_table"],
                cols["order_id"],
                str(order_id),
                self.sel["cancel_btn"],
                self.sel["login_check"],
                self.sel["login_form"]["username"],
                [self.sel["toast_success"], self.sel["toast_error"]],
            )

        def run():
            self._prepare_driver()
            if self.tabs.is_live("open_orders"):
                tab, loaded = self._live_tab("open_orders")
                found = look()
                if not loaded and (found["button"] is None or found["state"] != "in"):
                    self._load_live(tab)  # an older view of the list: look at a fresh one
                    found = look()
            else:
                self.open_page("open_orders")
                found = look()
            if found["state"] == "out":
                raise SessionExpired(f"{self.broker.name}: the broker shows its login page")
            if not found["table"]:
                raise SelectorMissing(
                    "open_orders_table", self.sel["open_orders_table"], found["url"]
                )
            if found["button"] is None:
                raise BrokerRejected(f"order {order_id} is not in the open orders (already done?)")
            self._lists_change()
            found["button"].click()
            return self.wait_toast().message

        return self._guard(run)

    # ------------------------------------------------------------------------------- tables
    def _read_args(self, page: str, table_key: str) -> list:
        return [
            self.sel[table_key],
            self.sel["login_check"],
            self.sel["login_form"]["username"],
            self.tabs.last_updated.get(page),
        ]

    def _read_loaded(self, page: str, table_key: str) -> dict:
        """Read a page just loaded: one script, looked at again only while the page is neither
        logged in nor the login page (SessionExpired; SelectorMissing without the table)."""
        args = self._read_args(page, table_key)
        data = self.driver.execute_script(READ_LIVE_JS, *args)
        if data["state"] == "none":
            try:
                data = self.wait().until(
                    lambda d: (lambda r: r if r["state"] != "none" else False)(
                        d.execute_script(READ_LIVE_JS, *args)
                    )
                )
            except TimeoutException:
                raise AdapterError(
                    f"unexpected page for {page!r} ({self.driver.title!r}): neither logged in "
                    "nor the login page"
                ) from None
        if data["state"] == "out":
            raise SessionExpired(f"{self.broker.name}: the broker shows its login page")
        if data["table"] is None:
            raise SelectorMissing(table_key, self.sel[table_key], data["url"])
        return data

    def read_table(self, page: str, table_key: str) -> dict:
        """Headers and rows of a page's table: a classic page is loaded and read in one script;
        a live page is read on its tab in one script, and reloaded only when stale."""

        def run():
            if self.tabs.is_live(page):
                return self._read_live(page, table_key)["table"]
            self.tabs.show_main(self.driver)
            self.navigate(self.url(page))
            return self._read_loaded(page, table_key)["table"]

        return self._guard(run)

    def _read_live(self, page: str, table_key: str) -> dict:
        self._prepare_driver()
        tab, loaded = self._live_tab(page)
        since = self._changing.pop(page, None)
        if loaded:
            data = self._read_loaded(page, table_key)
        else:
            before_rows = tab.rows
            seen = self._await_change(page, table_key, tab, since) if since else None
            data = seen or self.driver.execute_script(
                READ_LIVE_JS, *self._read_args(page, table_key)
            )
            why = self.tabs.stale(page, tab, data, self.clock.now())
            if (
                why is None
                and since is not None
                and not self.tabs.updated_since(page, data, since, before_rows)
            ):
                why = "it did not show the lists after our click in time"
            if why:
                log.info("reloading the %s page: %s", page, why)
                self._load_live(tab)
                data = self._read_loaded(page, table_key)
        self.tabs.seen(tab, data)
        return data

    def _await_change(
        self, page: str, table_key: str, tab: LiveTab, since: datetime
    ) -> dict | None:
        """Read a live list once it shows the lists after ``since`` (our click): AWAIT_LIVE_JS
        resolves on the first change, which may still be an older answer of the page's long
        poll, so it is asked again with the new baseline, within READBACK_WAIT_S. None when
        the page navigated under the script (a live page sent to the login page)."""
        started = time.monotonic()
        deadline = started + min(self.timeout, READBACK_WAIT_S)
        rows, updated = tab.rows, tab.updated
        args = self._read_args(page, table_key)
        for looks in range(1, 1000):
            bound = max(0.0, deadline - time.monotonic())
            try:
                data = self.driver.execute_async_script(
                    AWAIT_LIVE_JS,
                    *args,
                    json.dumps(rows, separators=(",", ":"), ensure_ascii=False),
                    updated,
                    int(bound * 1000),
                )
            except TimeoutException:
                return None  # the page went away under the script (below): read it again
            except WebDriverException as exc:
                if not (is_navigation_race(exc) or "unloaded" in (exc.msg or "").lower()):
                    raise
                return None
            if (
                data["timed_out"]
                or bound == 0
                or data["state"] != "in"
                or data["table"] is None
                or self.tabs.updated_since(page, data, since, tab.rows)
            ):
                log.debug(
                    "%s page after the click: %d look(s), %.0f ms%s",
                    page,
                    looks,
                    (time.monotonic() - started) * 1000,
                    " (timed out)" if data["timed_out"] else "",
                )
                return data
            rows, updated = data["table"]["rows"], data["updated"]
        return None

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
