"""The dashboard's Flask app: its pages, their JSON twins and the two buttons' POSTs.

Each request opens state.db read-only (``Store(path, readonly=True)``, ``mode=ro``, a fresh
connection per request thread) and closes it at the end; the pages render server-side and the
script polls the JSON twin every ``poll_s`` seconds for the sections that changed. The only
writes are the buttons' requests (robot/dashboard/actions.py).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    get_template_attribute,
    jsonify,
    render_template,
    request,
)

from ..config import Config, load_config
from ..store import Store
from . import access, actions, views
from .charts import outcomes_chart, results_chart

MAIN_SECTIONS = ("status", "attention", "accounts", "tasks", "events", "outbox")
TASK_SECTIONS = ("task_head", "task_orders")


@dataclass
class Settings:
    """What the app serves: state.db, and the config's accounts when started from one."""

    state_db: Path
    config: Config | None = None
    accounts: list[views.ConfigAccount] = field(default_factory=list)

    @classmethod
    def of(cls, source: str | Path) -> Settings:
        """From accounts.yaml (.yaml/.yml: its settings.state_db and accounts) or a state.db."""
        path = Path(source)
        if path.suffix.lower() not in (".yaml", ".yml"):
            return cls(path)
        cfg = load_config(path, check_files=False)
        return cls(
            cfg.settings.state_db,
            cfg,
            [views.ConfigAccount(a.id, a.broker, a.enabled) for a in cfg.accounts],
        )


class NoDatabase(Exception):
    """state.db does not exist (yet): the robot has not run."""


def create_app(
    source: str | Path,
    token: str | None = None,
    bind_host: str = "127.0.0.1",
    poll_s: float = 3.0,
    action_wait_s: float = 5.0,
) -> Flask:
    """The dashboard of ``source`` (accounts.yaml or a state.db). Bound beyond loopback it
    needs ``token`` (ValueError otherwise), and every request then needs the token too."""
    access.check_bind(bind_host, token)
    settings = Settings.of(source)
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        POLL_MS=int(poll_s * 1000),
        ACTION_WAIT_S=action_wait_s,
        JSON_SORT_KEYS=False,
    )
    access.install(app, token)
    app.jinja_env.filters["hms"] = _hms
    app.jinja_env.filters["rp"] = _rupiah
    app.jinja_env.filters["section_hash"] = section_hash
    app.jinja_env.globals.update(outcomes_chart=outcomes_chart, results_chart=results_chart)

    @app.context_processor
    def _common() -> dict[str, Any]:
        return {
            "csrf": app.config["CSRF_TOKEN"],
            "poll_ms": app.config["POLL_MS"],
            "actions_available": actions.available(),
        }

    @app.after_request
    def _headers(response: Response) -> Response:
        # everything is served from here: no frame may hold the buttons, no script from elsewhere
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        store = g.pop("store", None)
        if store is not None:
            store.close()

    @app.errorhandler(NoDatabase)
    @app.errorhandler(sqlite3.OperationalError)
    def _no_db(exc: Exception) -> tuple[Any, int]:
        # a robot starting up: no file yet, or a file whose schema is not written yet
        message = str(exc) if isinstance(exc, NoDatabase) else f"state.db not readable yet: {exc}"
        if request.path.startswith("/api/"):
            return jsonify(error=message), 503
        return render_template("nodb.html", message=message), 503

    _routes(app)
    return app


def _routes(app: Flask) -> None:
    @app.get("/")
    def index() -> str:
        return render_template("index.html", s=_overview())

    # The JSON twins: the page's data for scripts; with ?sections=1 (what the page's script
    # asks) only each section's HTML, half the size and nothing the page would not use.
    @app.get("/api/state")
    def api_state() -> Response:
        s = _overview()
        if not request.args.get("sections"):
            return jsonify(s)
        return jsonify(
            now=s["now"], **_sections({name: _section(name, s) for name in MAIN_SECTIONS})
        )

    @app.get("/task/<task_id>")
    def task(task_id: str) -> str:
        return render_template("task.html", p=_task(task_id, 0))

    @app.get("/api/task/<task_id>")
    def api_task(task_id: str) -> Response:
        after = request.args.get("after", "0")
        p = _task(task_id, int(after) if after.isdigit() else 0)
        if not request.args.get("sections"):
            return jsonify(p)
        return jsonify(
            **_sections({name: _section(name, p) for name in TASK_SECTIONS}),
            append={"timeline": "".join(_section("timeline_row", e) for e in p["timeline"])},
            after=p["last_seq"],
        )

    @app.get("/report")
    def report() -> str:
        return render_template("report.html", p=_report())

    @app.get("/api/report")
    def api_report() -> Response:
        p = _report()
        if not request.args.get("sections"):
            return jsonify(p)
        return jsonify(**_sections({"report_body": _section("report_body", p)}))

    @app.post("/task/<task_id>/resolve")
    def resolve(task_id: str) -> tuple[str, int]:
        result = actions.resolve_task(
            _settings().state_db,
            task_id,
            request.form.get("choice", ""),
            request.form.get("broker_order_id", ""),
            app.config["ACTION_WAIT_S"],
        )
        return _action_page(result, f"resolve task {task_id}", back=f"/task/{task_id}")

    @app.post("/account/<account>/restart")
    def restart(account: str) -> tuple[str, int]:
        result = actions.restart_account(_settings().state_db, account, app.config["ACTION_WAIT_S"])
        return _action_page(result, f"restart {account}", back="/")


# --------------------------------------------------------------------------- request helpers
def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def _store() -> Store:
    """This request's read-only connection to state.db."""
    if "store" not in g:
        db = _settings().state_db
        if not db.exists():
            raise NoDatabase(f"no state database at {db}: the robot has not run yet")
        g.store = Store(db, readonly=True)
    return g.store


def _day() -> str:
    try:
        return views.pick_day(_store(), request.args.get("day") or None)
    except ValueError:
        abort(400, "day: not a date YYYY-MM-DD")


def _overview() -> dict:
    return views.overview(
        _store(),
        _settings().accounts,
        _day(),
        request.args.get("account", ""),
        request.args.get("state", ""),
    )


def _task(task_id: str, after: int) -> dict:
    p = views.task_page(_store(), task_id, after)
    if p is None:
        abort(404, f"no task {task_id} in state.db")
    return p


def _report() -> dict:
    return views.report_page(_store(), _settings().config, _day())


def _section(name: str, data: Any) -> str:
    """One macro of _sections.html rendered alone (what the script swaps in)."""
    macro = get_template_attribute("_sections.html", name)
    return str(macro(data, current_app.config["CSRF_TOKEN"]))


def _sections(html: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each section's HTML and its hash: the script swaps in only a section whose hash differs
    from the one the page holds (an element a person is pointing at stays put)."""
    return {"html": html, "hash": {name: section_hash(h) for name, h in html.items()}}


def section_hash(html: str) -> str:
    return hashlib.sha1(str(html).encode(), usedforsecurity=False).hexdigest()[:16]


def _action_page(result: actions.ActionResult, what: str, back: str) -> tuple[str, int]:
    code = {"refused": 409, "invalid": 400, "unavailable": 501}.get(result.status, 200)
    return render_template("action.html", result=result, what=what, back=back), code


def _hms(value: str | None) -> str:
    """An ISO time as HH:MM:SS (WIB, as stored); '-' for none."""
    return value[11:19] if value else "-"


def _rupiah(value: int | None) -> str:
    return "-" if value is None else f"{value:+,}"  # as the chart writes it
