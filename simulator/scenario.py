"""Scenario files: scripted prices, accounts, faults and the task server's tasks (YAML).

A scenario is loaded by name (``simulator/scenarios/<name>.yaml``) or by path, and validated
completely on load: every error names the file and the key (``demo.yaml: emitens.BBCA.prev_close:
...``) so a typo is found before the market opens, not at 10:42. The format is documented in
docs/SIMULATOR.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from robot import rules

from . import protocol

SKINS = ("stockbit", "ipot", "ajaib", "lotus", "melati")
PAGES = ("login", "order", "open_orders", "history", "portfolio", "quote")
TASK_FAULTS = ("http_500", "slow", "malformed")
TASK_ENDPOINTS = ("tasks", "events", "all")
DEFAULT_PIN = "123456"
SERVER_TASK_KEYS = ("available_at", "cancel_at")  # scheduling keys never sent to clients


class ScenarioError(ValueError):
    """A scenario file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class PricePath:
    mode: str  # "hold": keep the last point; "step": walk the grid to the next
    points: tuple[tuple[time, int], ...]


@dataclass(frozen=True)
class EmitenSpec:
    code: str
    prev_close: int
    volume: int | None = None  # lots available per simulated minute and side
    path: PricePath | None = None  # None: seeded random walk


@dataclass(frozen=True)
class Holding:
    lots: int
    avg_price: int


@dataclass(frozen=True)
class AccountSpec:
    name: str
    broker: str | None = None  # the skin the account lives on; None: any skin
    pin: str = DEFAULT_PIN  # ipot trading PIN; never logged
    trading_limit: int | None = None  # rupiah; None: unlimited
    holdings: dict[str, Holding] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """One scripted fault; which fields matter depends on ``kind`` (see docs/SIMULATOR.md)."""

    kind: str
    skin: str | None = None
    account: str | None = None
    emiten: str | None = None
    page: str | None = None
    nth: int | None = None
    message: str | None = None
    placed: bool = False
    lots: int | None = None
    start: time | None = None  # from (inclusive); None: start of day
    end: time | None = None  # until (exclusive); None: end of day
    seconds: float | None = None
    price: int | None = None
    task: str | None = None
    fault: str | None = None  # task_server: http_500 | slow | malformed
    endpoint: str = "tasks"
    day: date | None = None  # faults added at runtime apply to one day; scenario ones daily

    def active(self, dt: datetime) -> bool:
        if self.day is not None and dt.date() != self.day:
            return False
        t = dt.time()
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)

    def matches(
        self, skin: str | None = None, account: str | None = None, emiten: str | None = None
    ) -> bool:
        return (
            (self.skin is None or self.skin == skin)
            and (self.account is None or self.account == account)
            and (self.emiten is None or self.emiten == emiten)
        )


@dataclass(frozen=True)
class Scenario:
    name: str = "empty"
    source: str = "<default>"
    description: str = ""
    seed: int = 1
    date: date | None = None  # the day scenario tasks belong to; None: the clock's first day
    password: str | None = None  # None: the server's password
    ui_latency: float = 0.0
    accounts: dict[str, AccountSpec] = field(default_factory=dict)
    emitens: dict[str, EmitenSpec] = field(default_factory=dict)
    tasks: tuple[dict[str, Any], ...] = ()
    faults: tuple[Fault, ...] = ()


# ----------------------------------------------------------------------------------------------
# Loading


def scenario_path(name_or_path: str) -> Path:
    """A bundled scenario by name (``demo``) or any YAML file by path."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.is_file():  # a folder named "demo" is no scenario
        if not p.is_file():
            raise ScenarioError(f"{name_or_path}: scenario file not found")
        return p
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name_or_path):
        raise ScenarioError(f"{name_or_path!r}: not a scenario name or an existing file")
    bundled = Path(str(resources.files("simulator").joinpath("scenarios", f"{name_or_path}.yaml")))
    if not bundled.is_file():
        raise ScenarioError(
            f"{name_or_path}: no bundled scenario of that name "
            f"(available: {', '.join(bundled_names())})"
        )
    return bundled


def bundled_names() -> list[str]:
    folder = Path(str(resources.files("simulator").joinpath("scenarios")))
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_scenario(name_or_path: str | None) -> Scenario:
    if name_or_path is None:
        return Scenario()
    path = scenario_path(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_scenario(raw if raw is not None else {}, source=path.name, default_name=path.stem)


def parse_scenario(raw: Any, source: str = "<dict>", default_name: str = "scenario") -> Scenario:
    return _Parser(source).scenario(raw, default_name)


def parse_fault(
    body: Any,
    tasks: tuple[dict[str, Any], ...] = (),
    emitens: dict[str, EmitenSpec] | None = None,
    source: str = "fault",
) -> Fault:
    """One fault in the scenario format (used by the runtime control API)."""
    return _Parser(source).fault(0, body, tasks, emitens or {})


def parse_task(raw: Any, source: str = "task", strict: bool = True) -> dict[str, Any]:
    """One task in the scenario format (protocol fields plus available_at and cancel_at)."""
    return _Parser(source).task(raw, "task", strict)


# ----------------------------------------------------------------------------------------------
# Validation helpers: each takes the dotted key it is checking, for the error message.


def parse_time(value: Any, where: str = "time") -> time:
    """``"HH:MM"`` or ``"HH:MM:SS"``. Unquoted 10:30 reaches us as YAML 1.1 base-60 int 630."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value.strip()):
        hour, minute, *second = (int(x) for x in value.strip().split(":"))
        try:
            return time(hour, minute, second[0] if second else 0)
        except ValueError:
            pass
    raise ValueError(f'{where}: expected a time "HH:MM", got {value!r}')


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {key}: {message}")

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            raise self.fail(
                f"{key}.{unknown[0]}" if key else unknown[0],
                f"unknown key (allowed: {', '.join(sorted(allowed))})",
            )
        return value

    def integer(self, value: Any, key: str, low: int | None = None, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if low is not None and value < low or high is not None and value > high:
            raise self.fail(key, f"{value} is outside {low}..{high if high is not None else ''}")
        return value

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, f"expected a non-negative number, got {value!r}")
        return float(value)

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def choice(self, value: Any, key: str, options: tuple[str, ...]) -> str:
        if value not in options:
            raise self.fail(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    def when(self, value: Any, key: str) -> time:
        try:
            return parse_time(value, key)
        except ValueError as exc:
            raise self.fail(key, str(exc).split(": ", 1)[1]) from None

    def day(self, value: Any, key: str) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"expected a date YYYY-MM-DD, got {value!r}") from None

    def code(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{4}", value):
            raise self.fail(key, f"expected a 4-letter IDX code like BBCA, got {value!r}")
        return value

    def grid_price(self, value: Any, key: str, prev_close: int | None = None) -> int:
        price = self.integer(value, key, low=rules.MIN_PRICE)
        if not rules.on_tick(price):
            raise self.fail(
                key, f"price {price} is off the tick grid (tick {rules.tick_size(price)})"
            )
        if prev_close is not None:
            arb, ara = rules.price_limits(prev_close)
            if not arb <= price <= ara:
                raise self.fail(
                    key,
                    f"price {price} is outside ARB {arb} .. ARA {ara} (prev_close {prev_close})",
                )
        return price

    # -- sections ------------------------------------------------------------------------------

    def scenario(self, raw: Any, default_name: str) -> Scenario:
        top = self.mapping(
            raw,
            "",
            {
                "name",
                "description",
                "seed",
                "date",
                "password",
                "ui_latency",
                "accounts",
                "emitens",
                "tasks",
                "faults",
            },
        )
        emitens = {
            code: self.emiten(code, body)
            for code, body in self.mapping(
                top.get("emitens") or {}, "emitens", set(top.get("emitens") or {})
            ).items()
        }
        accounts = {
            name: self.account(str(name), body)
            for name, body in (top.get("accounts") or {}).items()
        }
        tasks = self.tasks(top.get("tasks") or [])
        faults = tuple(
            self.fault(i, body, tasks, emitens)
            for i, body in enumerate(self.listing(top.get("faults") or [], "faults"))
        )
        return Scenario(
            name=self.text(top.get("name", default_name), "name"),
            source=self.source,
            description=str(top.get("description", "")),
            seed=self.integer(top.get("seed", 1), "seed"),
            date=self.day(top["date"], "date") if top.get("date") is not None else None,
            password=self.text(top["password"], "password") if "password" in top else None,
            ui_latency=self.number(top.get("ui_latency", 0), "ui_latency"),
            accounts=accounts,
            emitens=emitens,
            tasks=tasks,
            faults=faults,
        )

    def listing(self, value: Any, key: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {type(value).__name__}")
        return value

    def emiten(self, code: Any, body: Any) -> EmitenSpec:
        key = f"emitens.{code}"
        self.code(code, key)
        body = self.mapping(body, key, {"prev_close", "volume", "path"})
        if "prev_close" not in body:
            raise self.fail(f"{key}.prev_close", "missing required key")
        prev = self.grid_price(body["prev_close"], f"{key}.prev_close")
        volume = body.get("volume")
        if volume is not None:
            volume = self.integer(volume, f"{key}.volume", low=0)
        path = (
            self.path(body["path"], f"{key}.path", prev) if body.get("path") is not None else None
        )
        return EmitenSpec(code, prev, volume, path)

    def path(self, value: Any, key: str, prev_close: int) -> PricePath:
        mode = "hold"
        if isinstance(value, dict):
            value = self.mapping(value, key, {"mode", "points"})
            mode = self.choice(value.get("mode", "hold"), f"{key}.mode", ("hold", "step"))
            value = value.get("points")
            key = f"{key}.points"
        points: list[tuple[time, int]] = []
        for i, point in enumerate(self.listing(value, key)):
            pkey = f"{key}[{i}]"
            if not isinstance(point, (list, tuple)) or len(point) != 2:
                raise self.fail(pkey, f'expected ["HH:MM", price], got {point!r}')
            t = self.when(point[0], pkey)
            if points and t <= points[-1][0]:
                raise self.fail(pkey, "times must increase")
            points.append((t, self.grid_price(point[1], pkey, prev_close)))
        if not points:
            raise self.fail(key, "needs at least one point")
        return PricePath(mode, tuple(points))

    def account(self, name: str, body: Any) -> AccountSpec:
        key = f"accounts.{name}"
        body = self.mapping(body or {}, key, {"broker", "pin", "trading_limit", "holdings"})
        broker = body.get("broker")
        if broker is not None:
            self.choice(broker, f"{key}.broker", SKINS)
        pin = str(body.get("pin", DEFAULT_PIN))
        if not re.fullmatch(r"\d{4,8}", pin):
            raise self.fail(f"{key}.pin", 'expected 4 to 8 digits (quote it: "123456")')
        limit = body.get("trading_limit")
        if limit is not None:
            limit = self.integer(limit, f"{key}.trading_limit", low=0)
        holdings = {}
        for code, h in (body.get("holdings") or {}).items():
            hkey = f"{key}.holdings.{code}"
            self.code(code, hkey)
            h = self.mapping(h, hkey, {"lots", "avg_price"})
            holdings[code] = Holding(
                self.integer(h.get("lots"), f"{hkey}.lots", low=1),
                self.integer(h.get("avg_price"), f"{hkey}.avg_price", low=1),
            )
        return AccountSpec(name, broker, pin, limit, holdings)

    def tasks(self, value: Any) -> tuple[dict[str, Any], ...]:
        out, seen = [], set()
        for i, raw in enumerate(self.listing(value, "tasks")):
            key = f"tasks[{i}]"
            task = self.task(raw, key)
            if task["task_id"] in seen:
                raise self.fail(f"{key}.task_id", f"duplicate task_id {task['task_id']!r}")
            seen.add(task["task_id"])
            out.append(task)
        return tuple(out)

    def task(self, raw: Any, key: str, strict: bool = True) -> dict[str, Any]:
        """A task (protocol schema) plus the server-side ``available_at`` and ``cancel_at``.

        Strict (scenario files): side/tp/cl default to buy/null and the task must match the
        protocol schema, unless it says ``unchecked: true``. Not strict (tests adding tasks at
        runtime): served exactly as given, so a test can serve a broken task on purpose; only a
        task_id is required. ``date`` is kept as a date object; the server serves it as text.
        """
        if not isinstance(raw, dict):
            raise self.fail(key, "expected a mapping")
        task = dict(raw)
        strict = strict and not task.pop("unchecked", False)
        if isinstance(task.get("date"), date):  # YAML reads 2026-03-02 as a date
            task["date"] = task["date"].isoformat()
        if strict:
            task.setdefault("side", "buy")
            task.setdefault("tp", None)
            task.setdefault("cl", None)
            errors = protocol.validate_task(
                {k: v for k, v in task.items() if k not in SERVER_TASK_KEYS}, key
            )
            if errors:
                raise ScenarioError(f"{self.source}: {errors[0]}")
        elif not isinstance(task.get("task_id"), str) or not task["task_id"]:
            raise self.fail(f"{key}.task_id", "missing (a non-empty string is required)")
        for when in SERVER_TASK_KEYS:
            task[when] = (
                self.when(task[when], f"{key}.{when}") if task.get(when) is not None else None
            )
        task["date"] = self.day(task["date"], f"{key}.date") if task.get("date") else None
        return task

    # -- faults --------------------------------------------------------------------------------

    _FAULT_KEYS = {
        "reject": {"skin", "account", "emiten", "nth", "from", "until", "message"},
        "error_toast": {"skin", "account", "emiten", "nth", "from", "until", "message", "placed"},
        "partial_fill": {"skin", "account", "emiten", "lots", "from", "until"},
        "no_fill": {"skin", "account", "emiten", "from", "until"},
        "forget_native_exit": {"skin", "account", "emiten", "from", "until"},
        "tp_hit": {"task", "emiten", "price", "at", "until"},
        "cl_hit": {"task", "emiten", "price", "at", "until"},
        "price": {"emiten", "price", "at", "until"},
        "latency": {"skin", "account", "seconds", "from", "until"},
        "session_expiry": {"skin", "account", "at"},
        "http_500": {"skin", "page", "from", "until"},
        "task_server": {"fault", "endpoint", "seconds", "from", "until"},
    }

    def fault(
        self,
        index: int,
        body: Any,
        tasks: tuple[dict[str, Any], ...],
        emitens: dict[str, EmitenSpec],
    ) -> Fault:
        key = f"faults[{index}]"
        if not isinstance(body, dict) or "kind" not in body:
            raise self.fail(f"{key}.kind", "missing required key")
        kind = self.choice(body["kind"], f"{key}.kind", tuple(self._FAULT_KEYS))
        body = self.mapping(body, key, self._FAULT_KEYS[kind] | {"kind"})
        return self.build_fault(kind, body, key, tasks, emitens)

    def build_fault(
        self,
        kind: str,
        body: dict[str, Any],
        key: str,
        tasks: tuple[dict[str, Any], ...],
        emitens: dict[str, EmitenSpec],
    ) -> Fault:
        f: dict[str, Any] = {"kind": kind}
        if body.get("skin") is not None:
            f["skin"] = self.choice(body["skin"], f"{key}.skin", SKINS)
        if body.get("account") is not None:
            f["account"] = self.text(str(body["account"]), f"{key}.account")
        if body.get("emiten") is not None:
            f["emiten"] = self.code(body["emiten"], f"{key}.emiten")
        if body.get("page") is not None:
            f["page"] = self.choice(body["page"], f"{key}.page", PAGES)
        if body.get("nth") is not None:
            f["nth"] = self.integer(body["nth"], f"{key}.nth", low=1)
        if body.get("message") is not None:
            f["message"] = self.text(body["message"], f"{key}.message")
        if "placed" in body:
            if not isinstance(body["placed"], bool):
                raise self.fail(f"{key}.placed", "expected true or false")
            f["placed"] = body["placed"]
        if body.get("from") is not None:
            f["start"] = self.when(body["from"], f"{key}.from")
        if body.get("at") is not None:
            f["start"] = self.when(body["at"], f"{key}.at")
        if body.get("until") is not None:
            f["end"] = self.when(body["until"], f"{key}.until")
        if body.get("seconds") is not None:
            f["seconds"] = self.number(body["seconds"], f"{key}.seconds")
        self.kind_specific(kind, body, key, f, tasks, emitens)
        return Fault(**f)

    def kind_specific(
        self,
        kind: str,
        body: dict[str, Any],
        key: str,
        f: dict[str, Any],
        tasks: tuple[dict[str, Any], ...],
        emitens: dict[str, EmitenSpec],
    ) -> None:
        if kind == "partial_fill":
            if "lots" not in body:
                raise self.fail(f"{key}.lots", "missing required key")
            f["lots"] = self.integer(body["lots"], f"{key}.lots", low=0)
        if kind in ("latency",) and "seconds" not in f:
            raise self.fail(f"{key}.seconds", "missing required key")
        if kind in ("tp_hit", "cl_hit", "price", "session_expiry") and body.get("at") is None:
            raise self.fail(f"{key}.at", "missing required key")
        if kind in ("tp_hit", "cl_hit", "price"):
            self.price_target(kind, body, key, f, tasks, emitens)
        if kind == "task_server":
            f["fault"] = self.choice(body.get("fault"), f"{key}.fault", TASK_FAULTS)
            f["endpoint"] = self.choice(
                body.get("endpoint", "tasks"), f"{key}.endpoint", TASK_ENDPOINTS
            )

    def price_target(
        self,
        kind: str,
        body: dict[str, Any],
        key: str,
        f: dict[str, Any],
        tasks: tuple[dict[str, Any], ...],
        emitens: dict[str, EmitenSpec],
    ) -> None:
        """tp_hit/cl_hit move the price to a task's tp/cl (or an explicit price) from ``at``."""
        if body.get("task") is not None:
            task = next((t for t in tasks if t["task_id"] == body["task"]), None)
            if task is None:
                raise self.fail(f"{key}.task", f"no task with task_id {body['task']!r}")
            f["task"] = task["task_id"]
            f["emiten"] = task["emiten"]
            target = task["tp"] if kind == "tp_hit" else task["cl"]
            if body.get("price") is None and target is None:
                raise self.fail(
                    f"{key}.task",
                    f"task {task['task_id']} has no {'tp' if kind == 'tp_hit' else 'cl'}",
                )
            f["price"] = target
        if "emiten" not in f:
            raise self.fail(f"{key}.emiten", "missing required key (or give task)")
        if body.get("price") is not None:
            f["price"] = body["price"]
        if f.get("price") is None:
            raise self.fail(f"{key}.price", "missing required key")
        spec = emitens.get(f["emiten"])
        f["price"] = self.grid_price(f["price"], f"{key}.price", spec.prev_close if spec else None)
