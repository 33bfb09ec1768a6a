"""Who may look and who may act: the dashboard's token, Host and CSRF rules.

- Bound to a loopback address without a token, only this machine can connect; requests must
  still name a loopback host (``Host: 127.0.0.1:8765``), so a web page elsewhere cannot read
  the dashboard through a DNS name rebound to 127.0.0.1.
- Bound to anything else, a token is required (``create_app`` refuses to start without one),
  and every request must carry it: the ``robot_dashboard`` cookie, which ``?token=...`` sets once
  (then redirects to the same page without it, so the token leaves the address bar and the
  history), or an ``Authorization: Bearer`` header. Without it: 401.
- Every POST carries the process's CSRF token in its ``csrf`` field (the pages put it in a hidden
  field); without it, or with another: 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

COOKIE = "robot_dashboard"
CSRF_FIELD = "csrf"
LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name, maybe [bracketed]) is this machine only."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(bind_host: str, token: str | None) -> None:
    """Another bind address than loopback only with a token."""
    if not is_loopback(bind_host) and not token:
        raise ValueError(
            f"binding the dashboard to {bind_host} (beyond this machine) needs a token: set "
            "one with --token-env NAME (default ROBOT_DASHBOARD_TOKEN)"
        )


def install(app: Flask, token: str | None) -> None:
    """The checks above, before every request of ``app``."""
    app.config["CSRF_TOKEN"] = secrets.token_urlsafe(32)  # per process: a restart rotates it

    @app.before_request
    def _guard() -> BaseResponse | None:
        if token:
            refused = _token_refusal(token)
            if refused is not None:
                return refused
        elif not is_loopback(_host_name(request.host)):
            return Response(
                "this dashboard answers to 127.0.0.1 or localhost only\n",
                403,
                mimetype="text/plain",
            )
        if request.method == "POST" and not csrf_ok(app):
            return Response(
                "refused: the form's CSRF token is missing or wrong (reload the page and try "
                "again)\n",
                403,
                mimetype="text/plain",
            )
        return None


def csrf_ok(app: Flask) -> bool:
    sent = request.form.get(CSRF_FIELD, "")
    return bool(sent) and hmac.compare_digest(sent, app.config["CSRF_TOKEN"])


def _token_refusal(token: str) -> BaseResponse | None:
    given = request.args.get("token")
    if given is not None:
        if not hmac.compare_digest(given, token):
            return _unauthorized()
        rest = {k: v for k, v in request.args.items() if k != "token"}
        response = redirect(request.path + ("?" + urlencode(rest) if rest else ""), code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response
    sent = request.cookies.get(COOKIE) or _bearer()
    if sent and hmac.compare_digest(sent, token):
        return None
    return _unauthorized()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def _unauthorized() -> Response:
    return Response(
        "401: this dashboard needs its token: open it once as /?token=... (the value of the "
        "variable given to --token-env)\n",
        401,
        mimetype="text/plain",
    )


def _host_name(host: str) -> str:
    """The name part of a Host header (``127.0.0.1:8765``, ``[::1]:8765``, ``localhost``)."""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
