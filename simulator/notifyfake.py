"""Local stand-ins for the Telegram Bot API and a webhook receiver (robot/notify.py's channels).

Both serve on 127.0.0.1 (port 0: a free one) from a background thread, record everything they
receive, and can be told to misbehave the way the real services do. ``stop()`` is an outage
(connection refused, open keep-alive connections cut); ``start()`` serves again on the same port
with the record kept.

FakeTelegram follows the Bot API as documented (``/bot<TOKEN>/sendMessage``, JSON or form body):
``{"ok": true, "result": {message}}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``; 404 for a malformed token path, 401 for a wrong token, 400 for
an unknown chat, an empty text or one over 4096 UTF-16 code units, 403 when the bot is blocked,
429 with ``retry_after`` when told to or when a chat gets messages faster than ``min_interval_s``
(and again for every request that comes before the wait is over, as Telegram does).

    with FakeTelegram(token="123:abc") as tg:
        ...                          # point settings.notifications.telegram.api_url at tg.url
        tg.rate_limit(retry_after=2) # the next sendMessage gets 429
        tg.texts()                   # what reached the chat
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from itertools import count
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server

from .server import HOST, _TrackingHandler

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
TEXT_MAX = 4096
HOLD_MAX_S = 60.0  # a held request answers after this anyway (a test that forgot)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


class _Served:
    """A Flask app on 127.0.0.1 in a thread, stoppable and restartable on the same port."""

    def __init__(self, app: Flask, port: int = 0) -> None:
        self.app, self.port = app, port
        self.lock = threading.Lock()
        self._httpd: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._open = threading.Event()  # cleared by hold(): requests wait
        self._open.set()
        self.arrivals = 0  # requests that reached the server, held or not
        self._outages = 0  # stop() calls: a request held across one dies

    def start(self) -> _Served:
        if self._httpd is None:
            httpd = make_server(
                HOST, self.port, self.app, threaded=True, request_handler=_TrackingHandler
            )
            httpd.sim_connections = set()  # type: ignore[attr-defined]
            self._httpd, self.port = httpd, httpd.port
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"notifyfake-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """An outage: connections refused from now on, open ones cut."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        with self.lock:
            self._outages += 1  # what is held dies with the outage
        self.release()
        httpd.shutdown()
        for conn in list(httpd.sim_connections):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def hold(self) -> None:
        """Requests from now on hang (the connection stays open, no answer) until release()."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _held_then_dropped(self) -> bool:
        """Count the request, wait while held; True if an outage (stop()) ended the wait: such
        a request was never handled, as if the connection had died."""
        with self.lock:
            self.arrivals += 1
            outages = self._outages
        self._open.wait(HOLD_MAX_S)
        with self.lock:
            return self._outages != outages

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class FakeTelegram(_Served):
    """The Bot API's sendMessage, as a client meets it."""

    def __init__(
        self,
        token: str,
        chats: tuple[str, ...] = ("123456789",),
        port: int = 0,
        min_interval_s: float = 0.0,
    ) -> None:
        app = Flask("notifyfake-telegram")
        app.add_url_rule("/<path:path>", "api", self._api, methods=["GET", "POST"])
        super().__init__(app, port)
        self.token = token
        self.chats = set(chats)
        self.min_interval_s = min_interval_s  # per chat; faster messages get 429
        self.blocked = False  # 403: the user blocked the bot
        self.messages: list[dict] = []  # what reached a chat, in order
        self.requests: list[dict] = []  # every request: {"status", "at", "token_ok"}
        self.early_retries = 0  # requests that came before a retry_after ended
        self._ids = count(1)
        self._flood_until: dict[str, float] = {}
        self._last_at: dict[str, float] = {}
        self._script: list[tuple[str, Any]] = []  # misbehaviour for the next sendMessage calls

    # -- what tests see ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The Bot API base URL (settings.notifications.telegram.api_url)."""
        return self.base_url

    def texts(self) -> list[str]:
        with self.lock:
            return [m["text"] for m in self.messages]

    def statuses(self) -> list[int]:
        with self.lock:
            return [r["status"] for r in self.requests]

    # -- misbehaviour -----------------------------------------------------------------------------
    def rate_limit(self, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` sendMessage calls get 429 Too Many Requests: retry after N."""
        with self.lock:
            self._script += [("429", retry_after)] * times

    def fail(self, status: int = 500, times: int = 1) -> None:
        """The next ``times`` calls get this status (5xx: nothing was sent)."""
        with self.lock:
            self._script += [("status", status)] * times

    def refuse(
        self, description: str = "Bad Request: can't parse entities", times: int = 1
    ) -> None:
        """The next ``times`` calls get 400 with this description."""
        with self.lock:
            self._script += [("400", description)] * times

    def answer_late(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` messages are delivered, but the answer comes ``seconds`` late
        (a client with a shorter timeout cannot know they were)."""
        with self.lock:
            self._script += [("late", seconds)] * times

    # -- the API ----------------------------------------------------------------------------------
    def _api(self, path: str) -> Response:
        if self._held_then_dropped():
            return _json({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        now = time.monotonic()
        match = re.match(r"^bot([^/]*)/([A-Za-z]+)$", path)
        if not match or not TOKEN_RE.match(match.group(1)):
            return self._error(404, "Not Found", now, token_ok=False)
        if match.group(1) != self.token:
            return self._error(401, "Unauthorized", now, token_ok=False)
        method = match.group(2)
        if method == "getMe":
            return self._ok(
                {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "robot"}, now
            )
        if method != "sendMessage":
            return self._error(404, "Not Found: method not found", now)
        return self._send_message(self._params(), now)

    @staticmethod
    def _params() -> dict:
        if request.is_json:
            body = request.get_json(silent=True)
            return body if isinstance(body, dict) else {}
        return dict(request.values.items())

    def _send_message(self, p: dict, now: float) -> Response:
        chat = str(p.get("chat_id", ""))
        text = p.get("text")
        with self.lock:
            step = self._script.pop(0) if self._script else None
            flood = self._flood_until.get(chat, 0.0)
            if now < flood:
                self.early_retries += 1
                return self._too_many(chat, flood - now, now)
            if step and step[0] == "429":
                self._flood_until[chat] = now + step[1]
                return self._too_many(chat, step[1], now)
            if step and step[0] == "status":
                return self._error(step[1], "Internal Server Error", now)
            if step and step[0] == "400":
                return self._error(400, step[1], now)
            if chat not in self.chats:
                return self._error(400, "Bad Request: chat not found", now)
            if self.blocked:
                return self._error(403, "Forbidden: bot was blocked by the user", now)
            if not isinstance(text, str) or not text.strip():
                return self._error(400, "Bad Request: message text is empty", now)
            if len(text.encode("utf-16-le")) // 2 > TEXT_MAX:
                return self._error(400, "Bad Request: message is too long", now)
            if p.get("parse_mode") not in (None, "", "HTML", "MarkdownV2", "Markdown"):
                return self._error(400, "Bad Request: unsupported parse_mode", now)
            last = self._last_at.get(chat)
            if self.min_interval_s and last is not None and now - last < self.min_interval_s:
                wait = self.min_interval_s - (now - last)
                self._flood_until[chat] = now + wait
                return self._too_many(chat, wait, now)
            self._last_at[chat] = now
            message = {
                "message_id": next(self._ids),
                "chat_id": chat,
                "text": text,
                "disable_notification": p.get("disable_notification") in (True, "true"),
                "parse_mode": p.get("parse_mode"),
                "at": now,
            }
            self.messages.append(message)
        if step and step[0] == "late":
            threading.Event().wait(step[1])  # the message is delivered; the answer is late
        return self._ok(
            {
                "message_id": message["message_id"],
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "text": text,
            },
            now,
        )

    def _too_many(self, chat: str, wait: float, now: float) -> Response:
        seconds = max(1, int(wait + 0.999))  # Telegram says whole seconds
        self._flood_until[chat] = max(self._flood_until.get(chat, 0.0), now + seconds)
        self.requests.append({"status": 429, "at": now, "token_ok": True})
        return _json(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {seconds}",
                "parameters": {"retry_after": seconds},
            },
            429,
        )

    def _error(self, status: int, description: str, now: float, token_ok: bool = True) -> Response:
        self.requests.append({"status": status, "at": now, "token_ok": token_ok})
        return _json({"ok": False, "error_code": status, "description": description}, status)

    def _ok(self, result: dict, now: float) -> Response:
        self.requests.append({"status": 200, "at": now, "token_ok": True})
        return _json({"ok": True, "result": result})


class FakeWebhook(_Served):
    """A receiver of JSON POSTs that records each one with its headers."""

    def __init__(
        self, path: str = "/hook", require_headers: dict[str, str] | None = None, port: int = 0
    ) -> None:
        app = Flask("notifyfake-webhook")
        app.add_url_rule(path, "hook", self._hook, methods=["POST"])
        super().__init__(app, port)
        self.path = path
        self.require_headers = dict(require_headers or {})
        self.received: list[dict] = []  # accepted: {"body", "headers", "key"}
        self.requests: list[int] = []  # every request's status
        self.duplicates = 0  # accepted again under a known Idempotency-Key
        self._keys: set[str] = set()
        self._script: list[tuple[int, str | None]] = []

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def bodies(self) -> list[dict]:
        with self.lock:
            return [r["body"] for r in self.received]

    def fail(self, status: int = 503, times: int = 1, retry_after: str | None = None) -> None:
        with self.lock:
            self._script += [(status, retry_after)] * times

    def _hook(self) -> Response:
        if self._held_then_dropped():
            return _json({"error": "going down"}, 502)
        with self.lock:
            if self._script:
                status, after = self._script.pop(0)
                self.requests.append(status)
                return _json(
                    {"error": "scripted"},
                    status,
                    {"Retry-After": after} if after is not None else None,
                )
            for name, value in self.require_headers.items():
                if request.headers.get(name) != value:
                    self.requests.append(401)
                    return _json({"error": f"{name} missing or wrong"}, 401)
            body = request.get_json(silent=True)
            if body is None:
                self.requests.append(400)
                return _json({"error": "body is not JSON"}, 400)
            key = request.headers.get("Idempotency-Key", "")
            self.duplicates += key in self._keys
            self._keys.add(key)
            self.received.append({"body": body, "headers": dict(request.headers), "key": key})
            self.requests.append(200)
        return _json({"ok": True})
