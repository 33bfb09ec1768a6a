"""The five simulated brokers' look: paths, form field names, labels and table columns.

Element ids and classes live in each skin's templates (``templates/<skin>/``); what the shared
view code needs to know is here. Stockbit and ajaib are ``live`` (single-page apps, like the real
sites); ipot, lotus and melati are classic (a page load for everything). ``selectors/<skin>.json``
describes the same pages for the robot's adapters and a test checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ledger import EXPIRED, MATCHED, OPEN, PARTIAL, REJECTED, WITHDRAWN

STANDARD_STATUS = {
    OPEN: "Open",
    PARTIAL: "Partial",
    MATCHED: "Matched",
    WITHDRAWN: "Withdrawn",
    REJECTED: "Rejected",
    EXPIRED: "Expired",
}


@dataclass(frozen=True)
class Column:
    key: str  # order_id time emiten side price lot shares filled status parent
    header: str  # the <th> text (portfolio: emiten lot shares avg_price last_price)


@dataclass(frozen=True)
class SkinSpec:
    name: str
    title: str
    paths: dict[str, str]  # page -> path under /<name>/ (quote: see quote_param)
    quote_param: str | None  # query parameter of the quote page; None: path segment
    cookie: str
    fields: dict[str, str]  # stock price lot tp cl side confirmed -> form field names
    sell_value: str  # value of the side field that means sell
    number_format: str  # "id" (12.525) or "plain" (12525)
    native_tp_cl: bool
    side_labels: dict[str, str]  # buy/sell -> label in tables
    status_labels: dict[str, str]
    open_columns: tuple[Column, ...]
    history_columns: tuple[Column, ...]
    portfolio_columns: tuple[Column, ...]
    action_header: str  # header of the cancel-button column
    cancel_label: str
    login_fields: tuple[str, str]  # username, password form field names
    table_ids: dict[str, str]  # open_orders / history / portfolio -> table element id
    cancel_class: str  # class of the cancel button in each open-order row
    toast_classes: tuple[str, str]  # classes of the success and error toast elements
    landing: str = "order"  # the page a login lands on (also / and a logged-in login)
    open_side: str | None = None  # the open orders page lists this side only; the other
    # side's live orders are on the "other_orders" page
    # an accepted order's toast, {side} {emiten} {lots} filled in; None: the market's own
    # "Order 100023 placed", which names the new order's id
    accepted_toast: str | None = None
    # A live (single-page) skin: the order form and cancel buttons post with fetch and show the
    # toast in place, the list pages keep themselves current by long polling (simulator/live.py).
    # A classic skin loads a page for everything and answers forms with post/redirect/get.
    live: bool = False
    updated_label: str = "Last updated"  # the text of a live list's #last-updated

    def path(self, page: str) -> str:
        return f"/{self.name}/{self.paths[page]}"

    def fmt(self, n: int | None) -> str:
        if n is None:
            return ""
        return f"{n:,}".replace(",", ".") if self.number_format == "id" else str(n)

    def parse_number(self, text: str) -> int | None:
        """A number typed into this broker's form; "" -> None; ValueError if unreadable."""
        cleaned = text.strip().replace(" ", "")
        if not cleaned:
            return None
        cleaned = cleaned.replace("." if self.number_format == "id" else ",", "")
        cleaned = cleaned.replace(",", "")
        if not cleaned.isdigit():
            raise ValueError(text)
        return int(cleaned)


def _cols(*pairs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(k, h) for k, h in pairs)


STOCKBIT = SkinSpec(
    name="stockbit",
    title="Stockbit (simulated)",
    paths={
        "login": "login",
        "order": "trade",
        "open_orders": "orders",
        "history": "history",
        "portfolio": "portfolio",
        "quote": "quote",
    },
    quote_param="stock",
    cookie="sb_session",
    fields={
        "stock": "stock",
        "price": "price",
        "lot": "lot",
        "tp": "take_profit",
        "cl": "cut_loss",
        "side": "side",
    },
    sell_value="sell",
    number_format="plain",
    native_tp_cl=True,
    side_labels={"buy": "Buy", "sell": "Sell"},
    status_labels=STANDARD_STATUS,
    open_columns=_cols(
        ("order_id", "Order ID"),
        ("time", "Time"),
        ("emiten", "Stock"),
        ("side", "Side"),
        ("price", "Price"),
        ("lot", "Lot"),
        ("filled", "Filled"),
        ("status", "Status"),
    ),
    history_columns=_cols(
        ("order_id", "Order ID"),
        ("time", "Time"),
        ("emiten", "Stock"),
        ("side", "Side"),
        ("price", "Price"),
        ("lot", "Lot"),
        ("filled", "Filled"),
        ("status", "Status"),
        ("parent", "Parent"),
    ),
    portfolio_columns=_cols(
        ("emiten", "Stock"),
        ("lot", "Lot"),
        ("avg_price", "Avg Price"),
        ("last_price", "Last Price"),
    ),
    action_header="Action",
    cancel_label="Cancel",
    login_fields=("username", "password"),
    table_ids={
        "open_orders": "open-orders-table",
        "history": "order-history-table",
        "portfolio": "portfolio-table",
    },
    cancel_class="cancel-order-btn",
    toast_classes=("toast toast-success", "toast toast-error"),
    live=True,
)

IPOT = SkinSpec(
    name="ipot",
    title="IPOT (simulated)",
    paths={
        "login": "signin",
        "order": "order-entry",
        "open_orders": "order-list",
        "history": "trade-history",
        "portfolio": "portfolio",
        "quote": "quotes",
    },
    quote_param="code",
    cookie="ipot_sid",
    fields={"stock": "kode", "price": "harga", "lot": "jumlah_lot", "side": "bs"},
    sell_value="S",
    number_format="id",
    native_tp_cl=False,
    side_labels={"buy": "B", "sell": "S"},
    status_labels=STANDARD_STATUS,
    # Deliberately another column order than stockbit: adapters must map by header text.
    open_columns=_cols(
        ("order_id", "No. Order"),
        ("time", "Jam"),
        ("emiten", "Kode"),
        ("side", "B/S"),
        ("status", "Status"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("filled", "Done"),
    ),
    history_columns=_cols(
        ("order_id", "No. Order"),
        ("time", "Jam"),
        ("emiten", "Kode"),
        ("side", "B/S"),
        ("status", "Status"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("filled", "Done"),
        ("parent", "Induk"),
    ),
    portfolio_columns=_cols(
        ("emiten", "Kode"),
        ("lot", "Lot"),
        ("avg_price", "Harga Rata2"),
        ("last_price", "Harga Terakhir"),
    ),
    action_header="Aksi",
    cancel_label="Withdraw",
    login_fields=("userid", "passwd"),
    table_ids={
        "open_orders": "ipot-orderlist",
        "history": "ipot-tradehist",
        "portfolio": "ipot-porto",
    },
    cancel_class="ipot-withdraw",
    toast_classes=("ipot-alert ipot-alert-ok", "ipot-alert ipot-alert-err"),
)

AJAIB = SkinSpec(
    name="ajaib",
    title="Ajaib (simulated)",
    paths={
        "login": "masuk",
        "order": "order",
        "open_orders": "pesanan",
        "history": "riwayat",
        "portfolio": "portofolio",
        "quote": "saham",
    },
    quote_param=None,
    cookie="ajaib_token",
    fields={
        "stock": "symbol",
        "price": "limit_price",
        "lot": "qty_lot",
        "tp": "tp_price",
        "cl": "sl_price",
        "side": "tipe",
        "auto": "auto_order",
        "confirmed": "confirmed",
    },
    sell_value="jual",
    number_format="plain",
    native_tp_cl=True,
    side_labels={"buy": "Beli", "sell": "Jual"},
    status_labels=STANDARD_STATUS,
    open_columns=_cols(
        ("time", "Waktu"),
        ("order_id", "ID Pesanan"),
        ("emiten", "Saham"),
        ("side", "Tipe"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("shares", "Shares"),
        ("filled", "Terisi (Lot)"),
        ("status", "Status"),
    ),
    history_columns=_cols(
        ("time", "Waktu"),
        ("order_id", "ID Pesanan"),
        ("emiten", "Saham"),
        ("side", "Tipe"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("shares", "Shares"),
        ("filled", "Terisi (Lot)"),
        ("status", "Status"),
        ("parent", "Order Induk"),
    ),
    portfolio_columns=_cols(
        ("emiten", "Saham"),
        ("lot", "Lot"),
        ("shares", "Shares"),
        ("avg_price", "Harga Rata-rata"),
        ("last_price", "Harga Pasar"),
    ),
    action_header="",
    cancel_label="Batalkan",
    login_fields=("email", "kata_sandi"),
    table_ids={
        "open_orders": "pesanan-aktif",
        "history": "riwayat-pesanan",
        "portfolio": "portofolio-saham",
    },
    cancel_class="ajaib-batal-btn",
    toast_classes=("ajaib-toast ajaib-toast--success", "ajaib-toast ajaib-toast--error"),
    live=True,
    updated_label="Diperbarui",
)

LOTUS = SkinSpec(
    name="lotus",
    title="Lotus (simulated variant)",
    paths={
        "login": "signin",
        "order": "ticket",
        "open_orders": "working",
        "history": "journal",
        "portfolio": "holdings",
        "quote": "price",
    },
    quote_param=None,
    cookie="lotus_s",
    fields={
        "stock": "ticker",
        "price": "limit",
        "lot": "qty",
        "tp": "tp",
        "cl": "sl",
        "side": "direction",
    },
    sell_value="S",
    number_format="plain",
    native_tp_cl=True,
    side_labels={"buy": "B", "sell": "S"},
    status_labels={
        OPEN: "Working",
        PARTIAL: "Part Filled",
        MATCHED: "Filled",
        WITHDRAWN: "Cancelled",
        REJECTED: "Refused",
        EXPIRED: "Lapsed",
    },
    open_columns=_cols(
        ("order_id", "Ref"),
        ("time", "Entered"),
        ("emiten", "Ticker"),
        ("side", "B/S"),
        ("price", "Limit"),
        ("lot", "Qty (lots)"),
        ("filled", "Filled (lots)"),
        ("status", "State"),
    ),
    history_columns=_cols(
        ("order_id", "Ref"),
        ("time", "Entered"),
        ("emiten", "Ticker"),
        ("side", "B/S"),
        ("price", "Limit"),
        ("lot", "Qty (lots)"),
        ("filled", "Filled (lots)"),
        ("status", "State"),
        ("parent", "Parent Ref"),
    ),
    portfolio_columns=_cols(
        ("emiten", "Ticker"),
        ("lot", "Qty (lots)"),
        ("avg_price", "Average"),
        ("last_price", "Last"),
    ),
    action_header="Withdraw",
    cancel_label="Withdraw",
    login_fields=("u", "p"),
    table_ids={"open_orders": "lt-working", "history": "lt-journal", "portfolio": "lt-holdings"},
    cancel_class="lt-withdraw",
    toast_classes=("lt-notice ok", "lt-notice fail"),
)

# A broker that shows little, so the selector-driven adapter is tried on what tables may lack:
# the working orders page lists buy orders only and has no side column (the sells are on a page
# of their own), no table has a time column, the holdings have no average price, the success
# toast names no order id, and a login lands on a dashboard without the logged-in marker. No
# native TP/CL (the robot emulates it). Defined for the robot by tests/simulator/melati.json.
MELATI = SkinSpec(
    name="melati",
    title="Melati (simulated minimal broker)",
    paths={
        "login": "masuk",
        "order": "pesan",
        "open_orders": "antrian-beli",
        "other_orders": "antrian-jual",
        "history": "riwayat",
        "portfolio": "aset",
        "quote": "harga",
        "home": "beranda",
    },
    quote_param=None,
    cookie="melati_sesi",
    fields={"stock": "kode", "price": "harga", "lot": "lot", "side": "jenis"},
    sell_value="jual",
    number_format="id",
    native_tp_cl=False,
    side_labels={"buy": "Beli", "sell": "Jual"},
    status_labels=STANDARD_STATUS,
    open_columns=_cols(
        ("order_id", "No. Pesanan"),
        ("emiten", "Saham"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("filled", "Terisi"),
        ("status", "Status"),
    ),
    history_columns=_cols(
        ("order_id", "No. Pesanan"),
        ("emiten", "Saham"),
        ("side", "Jenis"),
        ("price", "Harga"),
        ("lot", "Lot"),
        ("filled", "Terisi"),
        ("status", "Status"),
    ),
    portfolio_columns=_cols(("emiten", "Saham"), ("lot", "Lot"), ("last_price", "Harga Pasar")),
    action_header="",
    cancel_label="Batal",
    login_fields=("pengguna", "sandi"),
    table_ids={
        "open_orders": "mt-antrian-beli",
        "other_orders": "mt-antrian-jual",
        "history": "mt-riwayat",
        "portfolio": "mt-aset",
    },
    cancel_class="mt-batal",
    toast_classes=("mt-pesan mt-ok", "mt-pesan mt-gagal"),
    landing="home",
    open_side="buy",
    accepted_toast="Pesanan {side} {emiten} {lots} lot diterima",
)

SKINS: dict[str, SkinSpec] = {s.name: s for s in (STOCKBIT, IPOT, AJAIB, LOTUS, MELATI)}
