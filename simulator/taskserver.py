"""The task server under /api/ (docs/PROTOCOL.md), the ledger and the test control API.

Faults (HTTP 500, slow answers, malformed JSON) are applied before the request is handled, so a
500 on POST /api/events stores nothing and a retry is the right reaction.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, request

from robot import rules

from . import protocol
from .faults import TaskFaultInjection
from .prices import floor_minute
from .scenario import Fault, ScenarioError, parse_fault, parse_task
from .state import SimState

MAX_EVENTS_PER_REQUEST = 1000


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, default=str), status=status, mimetype="application/json", headers=headers
    )


def _error(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="robot"'} if status == 401 else None
    return _json({"error": message}, status, headers)


class TaskApi:
    def __init__(self, state: SimState) -> None:
        self.state = state

    # -- plumbing --------------------------------------------------------------------------------

    def authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(
            token.strip().encode(), self.state.token.encode()
        )

    def fault(self, endpoint: str) -> Response | None:
        """Apply an active task-server fault: a Response to return, or None to carry on."""
        with self.state.lock:
            hit = self.state.faults.task_fault(endpoint, self.state.now())
        if hit is None:
            return None
        kind, seconds = hit
        if kind == "slow":
            time.sleep(seconds)  # then answer normally
            return None
        if kind == "http_500":
            return _error(500, "internal server error (simulated)")
        # malformed: a 200 whose body is cut off mid-JSON, as a crashed proxy would send
        return Response(
            '{"date": "2026-01-02", "tasks": [{"task_id": "T',
            status=200,
            mimetype="application/json",
        )

    def body(self) -> tuple[Any, Response | None]:
        raw = request.get_data(as_text=True)
        try:
            return json.loads(raw), None
        except ValueError as exc:
            return None, _error(400, f"body is not valid JSON: {exc}")

    # -- tasks -----------------------------------------------------------------------------------

    def get_tasks(self) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        failed = self.fault("tasks")
        if failed is not None:
            return failed
        with self.state.lock:
            now = self.state.sync()
            raw = request.args.get("date")
            try:
                day = date.fromisoformat(raw) if raw else now.date()
            except ValueError:
                return _error(400, f"date: {raw!r} is not a date YYYY-MM-DD")
            tasks = self.state.tasks.available(day, now)
        return _json({"date": day.isoformat(), "tasks": tasks})

    def post_tasks(self) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        body, bad = self.body()
        if bad is not None:
            return bad
        items = body if isinstance(body, list) else [body]
        validate = request.args.get("validate", "").lower() in ("1", "true", "yes")
        try:
            with self.state.lock:
                added = add_tasks(self.state, items, validate)
        except (ScenarioError, ValueError) as exc:
            return _error(400 if not str(exc).endswith("already exists") else 409, str(exc))
        return _json({"added": [t["task_id"] for t in added]}, 201)

    def cancel_task(self, task_id: str) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        with self.state.lock:
            try:
                self.state.tasks.cancel(task_id)
            except KeyError:
                return _error(404, f"no task with task_id {task_id!r}")
        return _json({"task_id": task_id, "cancel": True})

    # -- events ----------------------------------------------------------------------------------

    def post_events(self) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        failed = self.fault("events")
        if failed is not None:
            return failed
        body, bad = self.body()
        if bad is not None:
            return bad
        single = isinstance(body, dict)
        events = [body] if single else body
        if not isinstance(events, list):
            return _error(400, "body: expected an event object or a list of events")
        if len(events) > MAX_EVENTS_PER_REQUEST:
            return _error(413, f"at most {MAX_EVENTS_PER_REQUEST} events per request")
        for i, event in enumerate(events):
            # the envelope, then the payload against its type's schema (robot/schemas/): an
            # unknown type or payload key is stored, as the protocol asks of every server
            errors = protocol.validate_event(event, "" if single else f"[{i}]")
            if errors:
                return _error(400, "; ".join(errors))  # all or nothing: store none
        with self.state.lock:
            now = self.state.now()
            results = [
                {"id": e["id"], "duplicate": not self.state.events.add(e, now)} for e in events
            ]
        if single:
            return _json(results[0])
        dup = sum(r["duplicate"] for r in results)
        return _json({"accepted": len(results) - dup, "duplicates": dup, "results": results})

    def get_events(self) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        with self.state.lock:
            events = [
                e
                for e in self.state.events.events
                if request.args.get("account") in (None, e["account"])
                and request.args.get("type") in (None, e["type"])
            ]
            dups = self.state.events.duplicate_deliveries
        return _json({"events": events, "duplicate_deliveries": dups})

    # -- ledger, health, control -----------------------------------------------------------------

    def ledger(self) -> Response:
        with self.state.lock:
            self.state.sync()
            orders = self.state.ledger.to_json(
                request.args.get("account"), request.args.get("broker")
            )
        return _json({"orders": orders})

    def health(self) -> Response:
        with self.state.lock:
            now = self.state.now()
        return _json({"ok": True, "time": now.isoformat(), "scenario": self.state.scenario.name})

    def control(self, action: str) -> Response:
        if not self.authorized():
            return _error(401, "missing or invalid bearer token")
        body, bad = self.body() if request.get_data() else ({}, None)
        if bad is not None:
            return bad
        if not isinstance(body, dict):
            return _error(400, "body: expected a JSON object")
        try:
            result = control(self.state, action, body)
        except (ScenarioError, ValueError, KeyError, TypeError) as exc:
            return _error(400, f"{action}: {exc}")
        return _json({"ok": True, **result})


def add_tasks(state: SimState, items: list[Any], validate: bool = False) -> list[dict[str, Any]]:
    """Add tasks, all or none (call with the lock held). New emitens become tradable.

    Without ``validate`` a task is served as given (tests serve broken tasks on purpose).
    """
    tasks = [parse_task(item, source="POST /api/tasks", strict=validate) for item in items]
    ids = [t["task_id"] for t in tasks]
    for tid in ids:
        if ids.count(tid) > 1 or state.tasks.find(tid) is not None:
            raise ValueError(f"task_id {tid!r} already exists")
    added = []
    for task in tasks:
        task["date"] = task.get("date") or state.now().date()
        added.append(state.tasks.add(task))
        _make_tradable(state, task)
    return added


def _make_tradable(state: SimState, task: dict[str, Any]) -> None:
    code, prev = task.get("emiten"), task.get("prev_close") or task.get("price")
    if (
        isinstance(code, str)
        and re.fullmatch(r"[A-Z]{4}", code)
        and isinstance(prev, int)
        and not isinstance(prev, bool)
        and prev >= rules.MIN_PRICE
        and not state.market.prices.known(code)
    ):
        state.market.add_emiten(code, rules.snap_down(prev))


def control(state: SimState, action: str, body: dict[str, Any]) -> dict[str, Any]:
    """The control actions shared by HTTP (/api/_control/<action>) and SimServer methods."""
    with state.lock:
        now = state.sync()
        if action == "expire_session":
            return {"expired": state.sessions.expire(body.get("skin"), body.get("account"))}
        if action == "latency":
            state.latencies[body.get("skin")] = float(body["seconds"])
            return {}
        if action == "task_fault":
            kind = body["kind"]
            if kind not in ("http_500", "slow", "malformed"):
                raise ValueError(f"kind {kind!r} is not one of http_500, slow, malformed")
            duration, count = body.get("duration"), body.get("count")
            if duration is None and count is None:
                raise ValueError("give duration (wall seconds) or count (requests)")
            state.faults.task_injections.append(
                TaskFaultInjection(
                    kind,
                    body.get("endpoint", "tasks"),
                    time.monotonic() + float(duration) if duration is not None else None,
                    int(count) if count is not None else None,
                    float(body.get("seconds", 5.0)),
                )
            )
            return {}
        if action == "fault":
            fault = parse_fault(
                body, state.scenario.tasks, state.scenario.emitens, source="control fault"
            )
            state.faults.runtime.append(fault)
            return {}
        if action == "clear_faults":
            state.faults.clear_runtime()
            return {}
        if action == "price":
            return set_price(state, body["emiten"], int(body["price"]), now)
        if action == "state":
            return {"time": now.isoformat(), "scenario": state.scenario.name}
    raise ValueError(f"unknown control action {action!r}")


def set_price(state: SimState, emiten: str, price: int, now: datetime) -> dict[str, Any]:
    """Pin an emiten's price from this minute to the end of today (lock held)."""
    if not state.market.prices.known(emiten):
        raise ValueError(f"unknown emiten {emiten}")
    arb, ara = state.market.prices.limits(emiten)
    if not rules.on_tick(price) or not arb <= price <= ara:
        raise ValueError(f"price {price} is off the tick grid or outside ARB {arb} .. ARA {ara}")
    start = floor_minute(now)
    fault = Fault(kind="price", emiten=emiten, price=price, start=start.time(), day=now.date())
    state.faults.runtime.append(fault)
    return {"emiten": emiten, "price": price, "from": start.isoformat()}


def api_blueprint(state: SimState) -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api")
    api = TaskApi(state)
    bp.add_url_rule("/tasks", "get_tasks", api.get_tasks, methods=["GET"])
    bp.add_url_rule("/tasks", "post_tasks", api.post_tasks, methods=["POST"])
    bp.add_url_rule("/tasks/<task_id>/cancel", "cancel_task", api.cancel_task, methods=["POST"])
    bp.add_url_rule("/events", "post_events", api.post_events, methods=["POST"])
    bp.add_url_rule("/events", "get_events", api.get_events, methods=["GET"])
    bp.add_url_rule("/ledger", "ledger", api.ledger)
    bp.add_url_rule("/health", "health", api.health)
    bp.add_url_rule("/_control/<action>", "control", api.control, methods=["POST", "GET"])
    return bp
