"""The JSON endpoints of a live (single-page) skin, what its pages' own scripts call.

Real Stockbit and Ajaib are single-page apps: the order form posts with ``fetch`` and shows the
answer in place, and the order lists keep themselves current without a reload. A skin whose spec
says ``live`` gets, under ``/<skin>/api/``:

* ``POST order`` — the order form's fields, as the classic form posts them; answers
  ``{"ok", "toast": "success"|"error", "message"}`` with the same texts as the classic toasts.
* ``POST cancel/<order_id>`` — withdraw an order; the same answer.
* ``GET lists/<page>?since=<version>`` — a long poll for open_orders / history / portfolio (and
  other_orders where the skin has it): answers at once when the page's version differs from
  ``since``, else holds (up to ``SimState.long_poll_wall_s`` wall seconds or
  ``long_poll_sim_s`` on the simulator's clock) and answers unchanged. Always ``{"version",
  "changed", "updated", "updated_text"}``, plus ``rows`` (``order_id``, ``cells``,
  ``cancel_url``: simulator/rows.py, the same texts as the server-rendered table) when changed.

Each enters like a page (simulator/web.py ``enter``): the session cookie, the UI latency, a
scripted HTTP 500 of the page it belongs to (order, open_orders, or the list's page); a missing
session is a JSON 401 that sends the page to its login page.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, make_response, request
from werkzeug.wrappers import Response

from .rows import TABLE_PAGES, table_rows, updated_iso, updated_text

if TYPE_CHECKING:  # web.py registers these routes: no import cycle at run time
    from .web import BrokerViews


class LiveApi:
    def __init__(self, views: BrokerViews) -> None:
        self.views = views
        self.spec = views.spec
        self.state = views.state

    def order(self) -> Response:
        got = self.views.enter("order", api=True)
        if isinstance(got, Response):
            return got
        assert got is not None
        ok, message = self.views.submit_outcome(got)
        return _toast(ok, message)

    def cancel(self, order_id: str) -> Response:
        got = self.views.enter("open_orders", api=True)
        if isinstance(got, Response):
            return got
        assert got is not None
        outcome = self.views.cancel_outcome(got, order_id)
        return _toast(outcome.ok, outcome.message)

    def lists(self, page: str) -> Response:
        if page not in TABLE_PAGES or page not in self.spec.table_ids:
            return make_response(jsonify(error=f"no list page {page!r}"), 404)
        got = self.views.enter(page, api=True)
        if isinstance(got, Response):
            return got
        assert got is not None
        since = _int_or_none(request.args.get("since"))
        skin, account = self.spec.name, got.account
        gone = _client_gone(request.environ.get("werkzeug.socket"))
        with self.state.lock:
            self.state.wait_for_change(skin, account, page, since, gone)
            now = self.state.sync()
            version = self.state.version(skin, account, page)  # sync may have moved it
            body: dict[str, Any] = {
                "page": page,
                "version": version,
                "changed": version != since,
                "updated": updated_iso(now),
                "updated_text": updated_text(self.spec, now),
            }
            if body["changed"]:
                body["rows"] = table_rows(self.spec, self.state.market, page, account, now)
        return _no_store(jsonify(body))


def _client_gone(sock: socket.socket | None) -> Callable[[], bool]:
    """Whether the client closed the connection (an orderly close reads as b""). A browser
    sends nothing else on a connection while its request waits, so readable means closed."""

    def gone() -> bool:
        if sock is None:  # not the werkzeug server (Flask's test client): never
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # reset, or already closed
            return True

    return gone


def _toast(ok: bool, message: str) -> Response:
    return _no_store(jsonify(ok=ok, toast="success" if ok else "error", message=message))


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def add_live_routes(bp: Blueprint, views: BrokerViews) -> None:
    """The skin's JSON endpoints under ``/<skin>/api/``."""
    api = LiveApi(views)
    bp.add_url_rule("/api/order", "api_order", api.order, methods=["POST"])
    bp.add_url_rule("/api/cancel/<order_id>", "api_cancel", api.cancel, methods=["POST"])
    bp.add_url_rule("/api/lists/<page>", "api_lists", api.lists)
