"""The broker web UIs: one Flask blueprint per skin, server-rendered with Jinja templates.

Each request: look up the session, sleep the configured UI latency (outside the lock), answer a
scripted HTTP 500 if one is active, redirect to the login page when logged out, then act under
the lock. Actions answer with a 303 redirect to a page that shows the result as a toast
(post/redirect/get), so a browser refresh never submits an order twice. A live skin's pages
also post and poll through JSON endpoints (simulator/live.py) that enter the same way.
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote as urlquote

from flask import Blueprint, jsonify, make_response, redirect, render_template, request

# werkzeug's Response, which flask's redirect() is declared to return; flask's own Response (what
# make_response and, at run time, redirect give) is a subclass of it
from werkzeug.wrappers import Response

from .live import add_live_routes
from .market import OrderRequest, Outcome
from .rows import columns_of, has_cancel, table_rows, updated_iso, updated_text
from .sessions import COOKIE_MAX_AGE, Session
from .skins import SkinSpec
from .state import SimState

_shuffle = random.SystemRandom().shuffle


class BrokerViews:
    """The pages of one skin. Methods are Flask views bound to ``spec`` and ``state``."""

    def __init__(self, spec: SkinSpec, state: SimState) -> None:
        self.spec = spec
        self.state = state

    # -- plumbing --------------------------------------------------------------------------------

    def enter(self, page: str, login: bool = True, api: bool = False) -> Session | Response | None:
        """Session lookup, latency, scripted 500, login redirect. A Response means: return it.

        ``api``: a live page's JSON endpoint; the 500 and the missing session are JSON answers
        (500, 401) that the page's script acts on."""
        token = request.cookies.get(self.spec.cookie)
        with self.state.lock:
            now = self.state.sync()
            session = self.state.sessions.get(self.spec.name, token, now, self.state.faults)
            delay = self.state.latency(self.spec.name, session.account if session else None, now)
            failing = self.state.faults.page_error(self.spec.name, page, now)
        if delay > 0:
            time.sleep(delay)  # a slow broker: real wall-clock time, lock not held
        if failing:
            if api:
                return make_response(jsonify(error="Internal Server Error"), 500)
            return make_response(render_template("error_500.html", spec=self.spec), 500)
        if login and session is None and api:
            body = jsonify(error="session expired", login=self.spec.path("login"))
            return make_response(body, 401)
        if login and session is None:
            return redirect(f"{self.spec.path('login')}?next={urlquote(request.full_path)}")
        return session

    def render(self, template: str, session: Session | None, **context: Any) -> str:
        with self.state.lock:
            toasts = session.pop_toasts() if session else []
            now = self.state.now()
        return render_template(
            template,
            spec=self.spec,
            session=session,
            toasts=toasts,
            sim_time=now.strftime("%H:%M:%S"),
            base=f"{self.spec.name}_base.html",
            **context,
        )

    def back(self, page: str) -> Response:
        return redirect(self.spec.path(page), code=303)

    # -- login -----------------------------------------------------------------------------------

    def root(self) -> Response:
        return redirect(self.spec.path(self.spec.landing))

    def home(self) -> Any:
        """A dashboard a login lands on: no logged-in marker (the template leaves it out)."""
        got = self.enter("home")
        if isinstance(got, Response):
            return got
        return self.render(f"{self.spec.name}_home.html", got, landing=True)

    def login(self) -> Any:
        got = self.enter("login", login=False)
        if isinstance(got, Response):
            return got
        if got is not None and request.method == "GET":
            return redirect(self.spec.path(self.spec.landing))
        if request.method == "GET":
            return self.render(f"{self.spec.name}_login.html", None, error=None)
        user_field, pass_field = self.spec.login_fields
        username = request.form.get(user_field, "").strip()
        password = request.form.get(pass_field, "")
        if (
            not username
            or len(username) > 128
            or not secrets.compare_digest(password.encode(), self.state.password.encode())
        ):
            return self.render(
                f"{self.spec.name}_login.html", None, error="Invalid username or password"
            )
        with self.state.lock:
            session = self.state.sessions.create(self.spec.name, username, self.state.now())
        target = request.args.get("next", "")
        if not target.startswith(f"/{self.spec.name}/") or "//" in target:
            target = self.spec.path(self.spec.landing)
        response = redirect(target, code=303)
        # Persistent (Max-Age + Expires): survives a browser restart in the same profile.
        response.set_cookie(
            self.spec.cookie,
            session.token,
            max_age=COOKIE_MAX_AGE,
            path=f"/{self.spec.name}",
            httponly=True,
            samesite="Lax",
        )
        return response

    def logout(self) -> Response:
        token = request.cookies.get(self.spec.cookie)
        with self.state.lock:
            self.state.sessions.drop(token or "")
        response = redirect(self.spec.path("login"))
        response.delete_cookie(self.spec.cookie, path=f"/{self.spec.name}")
        return response

    # -- order entry -----------------------------------------------------------------------------

    def order(self) -> Any:
        got = self.enter("order")
        if isinstance(got, Response):
            return got
        assert got is not None
        if request.method == "POST":
            return self.submit(got)
        if self.spec.name == "ipot" and not got.pin_unlocked:
            keys = list("0123456789")
            _shuffle(keys)  # a new key layout every time the pad is shown
            return self.render("ipot_pin.html", got, keys=keys)
        return self.render(f"{self.spec.name}_order.html", got)

    def pin(self) -> Any:
        got = self.enter("order")
        if isinstance(got, Response):
            return got
        assert got is not None
        entered = request.form.get("pin", "")
        expected = self.state.pin_for(got.account)
        with self.state.lock:
            if secrets.compare_digest(entered.encode(), expected.encode()):
                got.pin_unlocked = True
            else:
                got.toast(False, "PIN salah. Silakan coba lagi.")
        return self.back("order")

    def submit(self, session: Session) -> Response:
        ok, message = self.submit_outcome(session)
        with self.state.lock:
            session.toast(ok, message)
        return self.back("order")

    def submit_outcome(self, session: Session) -> tuple[bool, str]:
        """Place the posted order form; the toast to show (success?, text)."""
        if self.spec.name == "ipot" and not session.pin_unlocked:
            return False, "Masukkan PIN trading terlebih dahulu"
        if self.spec.name == "ajaib" and request.form.get("confirmed") != "1":
            return False, "Silakan konfirmasi pesanan terlebih dahulu"
        req = self.parse_order()
        with self.state.lock:
            now = self.state.sync()
            outcome = self.state.market.submit(
                self.spec.name, session.account, req, now, self.spec.native_tp_cl
            )
        message = outcome.message
        if outcome.ok and self.spec.accepted_toast:  # a toast without the order id
            message = self.spec.accepted_toast.format(
                side=self.spec.side_labels[req.side].lower(), emiten=req.emiten, lots=req.lots
            )
        return outcome.ok, message

    def parse_order(self) -> OrderRequest:
        form, f = request.form, self.spec.fields
        side = "sell" if form.get(f["side"], "") == self.spec.sell_value else "buy"
        req = OrderRequest(form.get(f["stock"], "").strip().upper(), side, None, None)
        wanted = [("price", "price"), ("lots", "lot")]
        tp_cl_on = "tp" in f and (self.spec.name != "ajaib" or form.get(f["auto"]) == "on")
        if tp_cl_on:
            wanted += [("tp", "tp"), ("cl", "cl")]
        labels = {"price": "price", "lot": "lot", "tp": "take profit", "cl": "cut loss"}
        for attr, name in wanted:
            raw = form.get(f[name], "")
            try:
                setattr(req, attr, self.spec.parse_number(raw))
            except ValueError:
                req.parse_error = req.parse_error or f"Invalid {labels[name]}: {raw[:20]!r}"
        if req.parse_error is None and (req.price is None or req.lots is None):
            req.parse_error = "Price and lot are required"
        return req

    # -- order lists -----------------------------------------------------------------------------

    def cancel(self, order_id: str) -> Response:
        got = self.enter("open_orders")
        if isinstance(got, Response):
            return got
        assert got is not None
        outcome = self.cancel_outcome(got, order_id)
        with self.state.lock:
            got.toast(outcome.ok, outcome.message)
        return self.back("open_orders")

    def cancel_outcome(self, session: Session, order_id: str) -> Outcome:
        with self.state.lock:
            now = self.state.sync()
            return self.state.market.cancel(self.spec.name, session.account, order_id, now)

    def open_orders(self) -> Any:
        return self.table_page("open_orders")

    def other_orders(self) -> Any:
        """The live orders of the side the open orders page leaves out (open_side)."""
        return self.table_page("other_orders")

    def history(self) -> Any:
        return self.table_page("history")

    def portfolio(self) -> Any:
        return self.table_page("portfolio")

    def table_page(self, page: str) -> Any:
        got = self.enter(page)
        if isinstance(got, Response):
            return got
        assert got is not None
        with self.state.lock:
            now = self.state.sync()
            rows = table_rows(self.spec, self.state.market, page, got.account, now)
            # read with the rows, under the same lock: the page's long poll starts from here
            version = self.state.version(self.spec.name, got.account, page)
        return self.render(
            "table_page.html",
            got,
            page=page,
            columns=columns_of(self.spec, page),
            rows=rows,
            cancel=has_cancel(page),
            table_id=self.spec.table_ids[page],
            version=version,
            updated=updated_iso(now),
            updated_text=updated_text(self.spec, now),
        )

    def quote(self, emiten: str | None = None) -> Any:
        got = self.enter("quote")
        if isinstance(got, Response):
            return got
        code = (emiten or request.args.get(self.spec.quote_param or "", "")).strip().upper()
        with self.state.lock:
            now = self.state.sync()
            q = self.state.market.quote(code, now) if code else None
        return self.render(
            f"{self.spec.name}_quote.html", got, code=code, quote=q, fmt=self.spec.fmt, at=now
        )


def broker_blueprint(spec: SkinSpec, state: SimState) -> Blueprint:
    bp = Blueprint(spec.name, __name__, url_prefix=f"/{spec.name}")
    v = BrokerViews(spec, state)
    p = spec.paths
    bp.add_url_rule("/", "root", v.root)
    bp.add_url_rule(f"/{p['login']}", "login", v.login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", v.logout)
    bp.add_url_rule(f"/{p['order']}", "order", v.order, methods=["GET", "POST"])
    if spec.name == "ipot":
        bp.add_url_rule("/pin", "pin", v.pin, methods=["POST"])
    bp.add_url_rule(f"/{p['open_orders']}", "open_orders", v.open_orders)
    bp.add_url_rule(f"/{p['open_orders']}/<order_id>/cancel", "cancel", v.cancel, methods=["POST"])
    if "other_orders" in p:
        bp.add_url_rule(f"/{p['other_orders']}", "other_orders", v.other_orders)
    if "home" in p:
        bp.add_url_rule(f"/{p['home']}", "home", v.home)
    bp.add_url_rule(f"/{p['history']}", "history", v.history)
    bp.add_url_rule(f"/{p['portfolio']}", "portfolio", v.portfolio)
    if spec.quote_param:
        bp.add_url_rule(f"/{p['quote']}", "quote", v.quote)
    else:
        bp.add_url_rule(f"/{p['quote']}/<emiten>", "quote", v.quote)
    if spec.live:
        add_live_routes(bp, v)
    return bp


def sim_time_label(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M:%S WIB")
