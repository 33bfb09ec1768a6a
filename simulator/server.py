"""The simulator server: one Flask app (five broker skins + task server) on 127.0.0.1.

``SimServer`` runs werkzeug's threaded server in a background thread so tests and the demo can
start it in-process, stop it (dropping open keep-alive connections, a real outage) and start it
again on the same port with all state kept. ``serve()`` is the blocking entry point behind
``robot sim``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, render_template
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from robot.clock import Clock, RealClock

from .scenario import Scenario, load_scenario, parse_scenario
from .skins import SKINS
from .state import DEFAULT_TOKEN, SimState
from .taskserver import add_tasks, api_blueprint, control
from .web import broker_blueprint, sim_time_label

HOST = "127.0.0.1"
TICK_SECONDS = 0.25  # the background ticker steps the market this often (wall time)
log = logging.getLogger("simulator")


def create_app(state: SimState) -> Flask:
    app = Flask(__name__)
    for spec in SKINS.values():
        app.register_blueprint(broker_blueprint(spec, state))
    app.register_blueprint(api_blueprint(state))

    @app.route("/")
    def index() -> str:
        return render_template(
            "index.html",
            skins=list(SKINS.values()),
            sim_time=sim_time_label(state.now()),
            scenario=state.scenario.name,
        )

    return app


class _TrackingHandler(WSGIRequestHandler):
    """Remembers open connections so stop() can cut keep-alive ones, like a real outage."""

    def setup(self) -> None:
        super().setup()
        self.server.sim_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sim_connections.discard(self.connection)  # type: ignore[attr-defined]

    def log(self, type: str, message: str, *args: Any) -> None:  # `type`: werkzeug's name
        log.debug("%s %s", self.address_string(), message % args)


class SimServer:
    """The whole simulator. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        clock: Clock | None = None,
        scenario: str | dict | Scenario | None = None,
        token: str = DEFAULT_TOKEN,
        password: str | None = None,
        ui_latency: float | None = None,
        port: int = 0,
    ) -> None:
        if isinstance(scenario, dict):
            scenario = parse_scenario(scenario, source="<dict>")
        elif not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.clock = clock or RealClock()
        self.state = SimState(self.clock, scenario, token, password, ui_latency)
        self.app = create_app(self.state)
        self.port = port
        self._httpd: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SimServer:
        if self._httpd is not None:
            return self
        httpd = make_server(
            HOST, self.port, self.app, threaded=True, request_handler=_TrackingHandler
        )
        httpd.sim_connections = set()  # type: ignore[attr-defined]
        self._httpd, self.port = httpd, httpd.port
        self.state.open_polls()
        self._stop.clear()
        self._threads = [
            threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"sim-http-{self.port}",
                daemon=True,
            ),
            threading.Thread(target=self._tick_loop, name=f"sim-ticker-{self.port}", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        """Stop serving; state is kept and start() serves it again on the same port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        self.state.stop_polls()  # held long polls answer now, not after their hold
        httpd.shutdown()
        for conn in list(httpd.sim_connections):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tick_loop(self) -> None:
        """Keep the market current even when nobody asks (native TP/CL, expiry)."""
        while not self._stop.wait(TICK_SECONDS):
            try:
                with self.state.lock:
                    self.state.sync()
            except Exception:  # pragma: no cover - never let the ticker die silently
                log.exception("market tick failed")

    # -- addresses -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def broker_url(self, skin: str) -> str:
        """The skin's login page; the selectors' ``urls`` are relative to ``url``."""
        return f"{self.url}{SKINS[skin].path('login')}"

    @property
    def task_url(self) -> str:
        return f"{self.url}/api"

    @property
    def token(self) -> str:
        return self.state.token

    # -- inspection ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.state.now()

    def ledger(self, account: str | None = None, skin: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            self.state.sync()
            return self.state.ledger.to_json(account, skin)

    def events(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(e) for e in self.state.events.events]

    @property
    def duplicate_event_deliveries(self) -> int:
        with self.state.lock:
            return self.state.events.duplicate_deliveries

    def quote(self, emiten: str) -> int:
        with self.state.lock:
            now = self.state.sync()
            return self.state.market.last_price(emiten, now)

    def holdings(self, skin: str, account: str) -> dict[str, tuple[int, int]]:
        """{emiten: (lots, avg_price)} of an account on a skin."""
        with self.state.lock:
            self.state.sync()
            pf = self.state.market.portfolio(skin, account)
            return {c: (p.lots, p.avg_price) for c, p in pf.holdings.items()}

    # -- control ---------------------------------------------------------------------------------

    def expire_session(self, skin: str | None = None, account: str | None = None) -> int:
        return control(self.state, "expire_session", {"skin": skin, "account": account})["expired"]

    def set_latency(self, seconds: float, skin: str | None = None) -> None:
        control(self.state, "latency", {"seconds": seconds, "skin": skin})

    def add_task(
        self, task: dict[str, Any] | None = None, validate: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """Add a task: protocol fields plus optional available_at / cancel_at ("HH:MM").

        Served exactly as given (a test may serve a broken task on purpose) unless ``validate``.
        """
        with self.state.lock:
            return add_tasks(self.state, [{**(task or {}), **fields}], validate)[0]

    def cancel_task(self, task_id: str) -> None:
        """Serve a task with ``cancel: true`` from now on (KeyError if unknown)."""
        with self.state.lock:
            self.state.tasks.cancel(task_id)

    def inject_task_fault(
        self,
        kind: str,
        duration: float | None = None,
        count: int | None = None,
        endpoint: str = "tasks",
        seconds: float = 5.0,
    ) -> None:
        """Make the task server fail: kind http_500 | slow | malformed, for ``duration`` wall
        seconds and/or ``count`` requests, on endpoint tasks | events | all."""
        control(
            self.state,
            "task_fault",
            {
                "kind": kind,
                "duration": duration,
                "count": count,
                "endpoint": endpoint,
                "seconds": seconds,
            },
        )

    def add_fault(self, fault: dict[str, Any]) -> None:
        """Add a fault in the scenario format (docs/SIMULATOR.md), e.g. {"kind": "http_500"}."""
        control(self.state, "fault", fault)

    def clear_faults(self) -> None:
        """Drop faults added at runtime (scenario faults stay)."""
        control(self.state, "clear_faults", {})

    def set_price(self, emiten: str, price: int) -> None:
        """Pin an emiten's price from the current minute until the end of the day."""
        control(self.state, "price", {"emiten": emiten, "price": price})

    def add_emiten(self, code: str, prev_close: int, volume: int | None = None) -> None:
        with self.state.lock:
            self.state.market.add_emiten(code, prev_close, volume)

    def step(self) -> datetime:
        """Bring the market up to the clock now (tests with a manual clock call this)."""
        with self.state.lock:
            return self.state.sync()


def serve(
    port: int = 0,
    scenario: str | None = None,
    clock: Clock | None = None,
    token: str = DEFAULT_TOKEN,
    ui_latency: float | None = None,
    *,
    password: str | None = None,
    out: Callable[[str], None] = print,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the simulator on 127.0.0.1:``port`` (0: any free port) until Ctrl+C (or ``stop``).

    Prints the URLs and the task token. ``ready`` is set once serving.
    """
    server = SimServer(
        clock=clock,
        scenario=scenario,
        token=token,
        password=password,
        ui_latency=ui_latency,
        port=port,
    ).start()
    state = server.state
    out(
        f"Broker simulator on {server.url}  (scenario {state.scenario.name}, "
        f"simulated time {sim_time_label(state.now())})"
    )
    for name in SKINS:
        out(f"  {name:<9} {server.broker_url(name)}")
    out(f"  tasks     {server.task_url}/tasks   events {server.task_url}/events   token {token}")
    # The password itself is never printed: only whether it is the documented default.
    default_pw = state.password == "demo"
    out(
        f"  ledger    {server.url}/api/ledger   login: any username, password "
        f"{'demo' if default_pw else '(as configured)'}"
    )
    out("Press Ctrl+C to stop.")
    if ready is not None:
        ready.set()
    try:
        while not (stop.wait(0.5) if stop is not None else _sleep(0.5)):
            pass
    except KeyboardInterrupt:
        out("Stopping the simulator.")
    finally:
        server.stop()


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False
