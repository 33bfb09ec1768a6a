"""A browserless client for the simulated brokers (Flask test client + a tiny HTML reader).

It posts the same forms a browser would, so scenario-engine tests run in milliseconds.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from simulator.server import SimServer
from simulator.skins import SKINS


class PageReader(HTMLParser):
    """Collects toasts (``data-sim-toast``), tables (th headers, td rows) and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.toasts: list[tuple[str, str]] = []
        self.tables: dict[str, dict[str, Any]] = {}
        self.ids: dict[str, str] = {}
        self._toast: list[str] | None = None
        self._toast_class = ""
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._id_stack: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-sim-toast" in a:
            self._toast, self._toast_class = [], a.get("class") or ""
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = {"headers": [], "rows": []}
        if tag == "tr" and self._table:
            self._row = []
        if tag in ("th", "td") and self._table:
            self._cell = []
        if a.get("id"):
            self._id_stack.append((tag, a["id"], []))

    def handle_endtag(self, tag: str) -> None:
        if self._toast is not None and tag in ("div", "p"):
            self.toasts.append((self._toast_class, "".join(self._toast).strip()))
            self._toast = None
        if tag in ("th", "td") and self._cell is not None and self._table and self._row is not None:
            self._row.append("".join(self._cell).strip())
            if tag == "th":
                self.tables[self._table]["headers"].append(self._row.pop())
            self._cell = None
        if tag == "tr" and self._table and self._row:
            self.tables[self._table]["rows"].append(self._row)
            self._row = None
        if tag == "table":
            self._table = None
        if self._id_stack and self._id_stack[-1][0] == tag:
            _, ident, text = self._id_stack.pop()
            self.ids[ident] = "".join(text).strip()

    def handle_data(self, data: str) -> None:
        if self._toast is not None:
            self._toast.append(data)
        if self._cell is not None:
            self._cell.append(data)
        for _, _, text in self._id_stack:
            text.append(data)


def read(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


class WebClient:
    """One logged-in (or not) user of one skin."""

    def __init__(self, sim: SimServer, skin: str, account: str = "ACC1") -> None:
        self.sim = sim
        self.spec = SKINS[skin]
        self.account = account
        self.http = sim.app.test_client()

    def get(self, page: str, **kw: Any) -> Any:
        return self.http.get(self.spec.path(page), **kw)

    def login(self, password: str = "demo", follow: bool = False) -> Any:
        user_field, pass_field = self.spec.login_fields
        return self.http.post(
            self.spec.path("login"),
            data={user_field: self.account, pass_field: password},
            follow_redirects=follow,
        )

    def unlock(self, pin: str = "123456") -> None:
        self.http.post("/ipot/pin", data={"pin": pin})

    def order(
        self, emiten: str, price: Any, lot: Any, tp: Any = None, cl: Any = None, side: str = "buy"
    ) -> tuple[str, str]:
        """Submit the order form; returns the toast ("success"|"error", text)."""
        f = self.spec.fields
        data = {f["stock"]: emiten, f["price"]: str(price), f["lot"]: str(lot)}
        if side == "sell":
            data[f["side"]] = self.spec.sell_value
        if (tp is not None or cl is not None) and "tp" in f:  # ipot has no TP/CL fields
            data[f["tp"]] = "" if tp is None else str(tp)
            data[f["cl"]] = "" if cl is None else str(cl)
            if "auto" in f:
                data[f["auto"]] = "on"
        if "confirmed" in f:
            data[f["confirmed"]] = "1"
        resp = self.http.post(self.spec.path("order"), data=data, follow_redirects=True)
        return self.toast(resp.get_data(as_text=True))

    def cancel(self, order_id: str) -> tuple[str, str]:
        resp = self.http.post(
            f"{self.spec.path('open_orders')}/{order_id}/cancel", follow_redirects=True
        )
        return self.toast(resp.get_data(as_text=True))

    def toast(self, html: str) -> tuple[str, str]:
        toasts = read(html).toasts
        assert len(toasts) == 1, f"expected one toast, got {toasts}"
        cls, text = toasts[0]
        ok = cls == self.spec.toast_classes[0]
        return ("success" if ok else "error", text)

    def table(self, page: str) -> list[dict[str, str]]:
        """Rows of a table page as {header: cell}."""
        html = self.get(page).get_data(as_text=True)
        table = read(html).tables[self.spec.table_ids[page]]
        return [dict(zip(table["headers"], row, strict=True)) for row in table["rows"]]
