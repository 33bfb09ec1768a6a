"""Serving the dashboard: a threaded WSGI server (werkzeug's), in the foreground for
`robot dashboard` or on a thread beside a running day (the demo).

The request log names the method, path and status only, never the query string: the first
visit's ``?token=...`` must not reach a log.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("robot.dashboard")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s", format % args)


class DashboardServer:
    """The app on ``host:port`` (port 0: a free one), one thread per request."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 8765):
        self.httpd: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietHandler
        )
        self.host = host
        self.port = self.httpd.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> DashboardServer:
        """Serve on a daemon thread (it must never keep a finished day's process alive)."""
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="dashboard", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(10)
        self.httpd.server_close()
