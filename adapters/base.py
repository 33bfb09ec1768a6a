"""The broker adapter interface: what the order engine may ask of a broker's web UI.

Money is integer rupiah, quantities are integer lots, each broker's statuses map to one enum.
Every method returns or raises one of the typed errors below, so the engine can decide between
retrying, re-reading, waiting for a login and giving up without parsing messages.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


class OrderStatus(enum.StrEnum):
    OPEN = "OPEN"
    PARTIAL = "PARTIAL"
    MATCHED = "MATCHED"
    WITHDRAWN = "WITHDRAWN"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_live(self) -> bool:
        """Still in the book: may fill or be cancelled."""
        return self in (OrderStatus.OPEN, OrderStatus.PARTIAL)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True)
class OrderRequest:
    emiten: str
    side: Side
    price: int
    lot: int
    tp: int | None = None  # native take-profit, only where the broker supports it
    cl: int | None = None  # native cut-loss


@dataclass(frozen=True)
class BrokerOrder:
    """An order as the broker's open-orders or history table shows it."""

    order_id: str
    emiten: str
    side: Side
    price: int
    lot: int
    filled: int
    status: OrderStatus
    time: datetime | None = None  # when the broker accepted it (WIB)
    raw: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Position:
    emiten: str
    lot: int
    avg_price: int | None  # None: the broker's holdings page shows no average price
    last_price: int | None = None


@dataclass(frozen=True)
class SubmitResult:
    """What the UI said after the submit click (the success toast's text)."""

    message: str
    order_id: str | None = None  # when the toast names it; the engine still reads back
    dry_run: bool = False


# The order id in a success toast: a token of three or more characters with a digit, after
# "order", "id" or "no" ("Order 100023 placed", "No. Order: 2503021234"). "Order BBCA 2 lot sent"
# names none. A broker whose toast reads otherwise sets its own pattern (selectors file:
# toast_order_id): a wrong id makes the read-back wait for an order that never appears.
TOAST_ORDER_ID = (
    r"(?i)\b(?:order|id|no\.?)\s*[:#]?\s*"
    r"((?=[A-Za-z0-9-]{3})[A-Za-z0-9-]*\d[A-Za-z0-9-]*)"
)


def order_id_in(text: str | None, pattern: str | None = TOAST_ORDER_ID) -> str | None:
    """The order id ``pattern``'s first group finds in a toast's text, or None."""
    if not text or not pattern:
        return None
    m = re.search(pattern, text)
    return m.group(1) if m and m.group(1) else None


@dataclass
class PageView:
    """What one broker page showed `robot probe` (robot/probe.py turns these into its report).

    ``state``: in (logged in), out (the login page), unknown (neither)."""

    page: str
    url: str
    state: str
    counts: dict[str, int] = field(default_factory=dict)  # selector -> matches (-1 invalid)
    headers: dict[str, list[str] | None] = field(default_factory=dict)  # table selector -> <th>s
    rows: dict[str, int | None] = field(default_factory=dict)
    title: str = ""
    error: str | None = None


# ------------------------------------------------------------------------------------ errors
class AdapterError(Exception):
    """Base of every error an adapter raises."""

    retryable = False


class SessionExpired(AdapterError):
    """The broker shows its login page: a human must log in (WAIT_LOGIN)."""


class SelectorMissing(AdapterError):
    """An element the selectors file names is not on the page: the UI changed (`robot probe`)."""

    def __init__(self, key: str, selector: str, page: str = ""):
        self.key, self.selector, self.page = key, selector, page
        super().__init__(
            f"selector {key!r} ({selector}) not found" + (f" on {page}" if page else "")
        )


class BrokerRejected(AdapterError):
    """The broker refused the order or action; ``text`` is its own words."""

    def __init__(self, text: str, retryable: bool = False):
        self.text = text
        self.retryable = retryable
        super().__init__(text)


class ActionTimeout(AdapterError):
    """The UI did not answer in time. The action may or may not have happened: re-read first."""

    retryable = True


class BrokerUnreachable(AdapterError):
    """The broker's site did not answer (DNS, refused, reset, no network): the browser is fine
    and nothing was done; try again later."""

    retryable = True

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"{url} did not answer ({reason})")


class BrowserCrashed(AdapterError):
    """The browser or its driver is gone; the worker relaunches it and reconciles."""

    retryable = True


class ProfileBusy(AdapterError):
    """Another process holds this account's profile (start() refuses to share it)."""


# --------------------------------------------------------------------------------- interface
class BrokerAdapter(abc.ABC):
    """One broker account driven through its own browser profile."""

    #: the broker's order form takes take-profit and cut-loss itself
    native_tp_cl: bool = False

    #: Called between the browser commands of a long action. The worker sets it to its
    #: heartbeat: an action of many page loads on a loaded machine is progress, not a hang,
    #: while one stuck command (each is bounded by a timeout) still shows as a hang.
    progress: Callable[[], None] = staticmethod(lambda: None)

    @abc.abstractmethod
    def start(self) -> None:
        """Launch (or connect to) the browser. Idempotent. ProfileBusy when another process
        holds the account's profile."""

    @abc.abstractmethod
    def close(self) -> None:
        """Quit the browser and everything it started."""

    def process_ids(self) -> list[int]:
        """Processes this adapter started (driver, browser), for cleanup after a crash."""
        return []

    def toast_order_id(self, text: str | None) -> str | None:
        """The broker's order id in a success toast's text, None when it names none. The engine
        asks again for a toast stored before a crash, so this depends on the text alone."""
        return order_id_in(text)

    @abc.abstractmethod
    def is_session_valid(self) -> bool:
        """True when the broker shows a logged-in page (the login check element is present)."""

    def login(self, username: str, password: str) -> None:
        """Log in through the form. Used on the simulator and by the demo."""
        raise AdapterError(f"{type(self).__name__} has no scripted login; use `robot login`")

    # The operator's commands (`robot login`, `robot probe`); a broker without pages has neither.
    def wait_for_login(self, timeout: float, poll: float) -> bool:
        """Open the broker's login page and wait up to ``timeout`` s, looking every ``poll`` s,
        for a person to log in: True once the logged-in page shows, False when the time is up.

        Raises BrokerUnreachable when the page does not answer and BrowserCrashed when the window
        is closed (or the browser dies) first."""
        raise AdapterError(f"{type(self).__name__} has no login page to wait on")

    def probe(self, emiten: str) -> dict[str, PageView]:
        """Visit the broker's pages (``emiten``'s quote page among them) and read what each shows,
        by page name. Only navigates and reads: never types, clicks, submits or cancels."""
        raise AdapterError(f"{type(self).__name__} has no pages to probe")

    @abc.abstractmethod
    def submit_order(
        self,
        order: OrderRequest,
        before_click: Callable[[], None],
        dry_run: bool = False,
        after_click: Callable[[], None] | None = None,
    ) -> SubmitResult:
        """Fill the form and click submit.

        ``before_click`` is called after the form is complete and right before the final click, so
        the engine records the click before it can happen; ``after_click`` right after it. With
        ``dry_run`` everything happens but the final click. Raises BrokerRejected with the
        broker's text on an error toast.
        """

    @abc.abstractmethod
    def cancel_order(self, order_id: str) -> str:
        """Withdraw an open order; returns the broker's confirmation text."""

    @abc.abstractmethod
    def get_open_orders(self) -> list[BrokerOrder]:
        """The open-orders table, read in one round trip."""

    @abc.abstractmethod
    def get_order_history(self) -> list[BrokerOrder]:
        """Today's order history, every status."""

    @abc.abstractmethod
    def get_portfolio(self) -> list[Position]:
        """Holdings."""

    @abc.abstractmethod
    def last_price(self, emiten: str) -> int:
        """The last traded price (for emulated TP/CL)."""


AdapterFactory = Callable[..., BrokerAdapter]
