"""accounts.yaml: loading, validation with file/line/key in every message, and typed settings.

Validation happens before anything starts and reports every problem at once, so a user fixes the
file in one pass and a half-valid file never starts half a system. The file's shape (every key,
its type, range and default) is robot/schemas/accounts.schema.json, checked with robot/schema.py;
what a schema cannot say is checked here after it, on the valid part of the file: start before
end, the EOD report within the hours, duplicate ids and profiles, brokers with their adapters and
selectors files, Grid nodes and ports, trading PINs, the env file. The dataclasses below take
their defaults from the schema: a default is written in one place.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import Any, TypeGuard

from . import schema
from .calendar import Calendar, YearList
from .errors import ConfigError, Problem
from .events import OFF, ON, SILENT, default_level
from .located import Located, read_yaml
from .schema import dotted

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = "accounts.yaml"
SCHEMA = "accounts.schema.json"
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
RESERVED_HEADERS = ("content-type", "content-length", "host", "idempotency-key")

# Built-in brokers. Their base URL is the local simulator (`robot sim`'s default port): the shipped
# selectors describe the simulated skins, and must be checked with `robot probe` before a live site
# is configured. Pointing at a live site is an explicit edit of `brokers:` in accounts.yaml.
SIM_DEFAULT_URL = "http://127.0.0.1:8700"
BUILTIN_BROKERS = {
    name: {
        "adapter": f"adapters.{name}",
        "selectors": f"selectors/{name}.json",
        "base_url": SIM_DEFAULT_URL,
    }
    for name in ("stockbit", "ipot", "ajaib")
}
BROKER_KEYS = tuple(schema.load(SCHEMA)["$defs"]["broker"]["properties"])


def _default(key: str) -> Any:
    """The schema's default of a setting (dotted key, ``[]`` for a list's items)."""
    return schema.default(SCHEMA, key)


def _time(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


# ------------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class TaskServer:
    url: str
    token_env: str | None = None
    timeout_s: float = _default("settings.task_server.timeout_s")

    def token(self) -> str | None:
        """The bearer token, read from the environment at the moment it is needed."""
        return os.environ.get(self.token_env) if self.token_env else None


@dataclass(frozen=True)
class BrowserSettings:
    driver: str = _default("settings.browser.driver")  # "uc" (undetected-chromedriver), "selenium"
    flavor: str = _default("settings.browser.flavor")  # "chromium", "headless-shell"
    site_isolation: bool = _default("settings.browser.site_isolation")  # off: less memory
    chromium_path: str | None = None  # None: the OS default (see robot.chromium)
    chromedriver_path: str | None = None
    remote_url: str | None = None  # Selenium Grid hub, when set
    headless: bool = _default("settings.browser.headless")
    launch_stagger_s: float = _default("settings.browser.launch_stagger_s")  # Chromium's start
    # is CPU-bound: spread the launches
    max_parallel_launches: int = _default("settings.browser.max_parallel_launches")  # 0: per core
    # a launch beats (robot/launchslots.py) this long at most; then the hang timeout applies
    launch_timeout_s: float = _default("settings.browser.launch_timeout_s")
    extra_args: tuple[str, ...] = tuple(_default("settings.browser.extra_args"))


@dataclass(frozen=True)
class GridNode:
    """One Selenium Grid node: where it listens (its machine's private address and port)."""

    name: str
    port: int = 5555  # Selenium's own default, for a node asked about by
    # name only (the file requires a port)
    host: str = _default("settings.grid.nodes[].host")


@dataclass(frozen=True)
class GridSettings:
    """The hub and nodes `robot grid` generates configurations for (and `grid up` starts)."""

    hub_host: str = _default("settings.grid.hub.host")
    hub_port: int = _default("settings.grid.hub.port")
    publish_port: int = _default("settings.grid.hub.publish_port")  # the hub's event bus
    subscribe_port: int = _default("settings.grid.hub.subscribe_port")  # (nodes connect to both)
    nodes: tuple[GridNode, ...] = tuple(_default("settings.grid.nodes"))
    secret_env: str | None = None  # env var holding the node registration secret
    # The node ends a session idle for this long: comfortably above the longest gap between two
    # commands of a worker (a whole trading day, to be safe).
    session_timeout_s: int = _default("settings.grid.session_timeout_s")
    # how long a worker keeps asking for its session while its node is down, before it gives up
    relaunch_window_s: float = _default("settings.grid.relaunch_window_s")
    java_heap_mb: int = _default("settings.grid.java_heap_mb")  # -Xmx of each JVM `grid up` starts

    def node(self, name: str) -> GridNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    @property
    def hub_url(self) -> str:
        return f"http://{self.hub_host}:{self.hub_port}"

    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) if self.secret_env else None


def _level_of(events: tuple[tuple[str, str], ...], default: str | None, type_: str) -> str:
    """A type's level: as configured, else the configured default, else the catalog's."""
    for name, level in events:
        if name == type_:
            return level
    return default or default_level(type_)


@dataclass(frozen=True)
class TelegramSettings:
    """A Telegram bot that alerts one chat (settings.notifications.telegram)."""

    token_env: str  # env var holding the bot token (never the token)
    chat_id: str  # "123456789", "-100..." for a group, or "@channel"
    api_url: str = _default("settings.notifications.telegram.api_url")  # tests point it at a fake
    timeout_s: float = _default("settings.notifications.telegram.timeout_s")  # per HTTP request
    min_interval_s: float | None = None  # between two messages; None: pace_s decides
    events: tuple[tuple[str, str], ...] = ()  # (type, on | silent | off) over the defaults
    default: str | None = None  # level of a type not in events (None: the catalog's)

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None

    @property
    def pace_s(self) -> float:
        """Telegram allows about one message a second to a person, twenty a minute to a group
        or channel (a negative id or an @name)."""
        if self.min_interval_s is not None:
            return self.min_interval_s
        return 3.0 if self.chat_id.startswith(("-", "@")) else 1.0

    def level(self, type_: str) -> str:
        return _level_of(self.events, self.default, type_)


@dataclass(frozen=True)
class WebhookSettings:
    """A JSON POST of every chosen event (settings.notifications.webhook)."""

    url: str | None = None
    url_env: str | None = None  # env var holding the URL, for URLs that are secrets
    header_env: tuple[tuple[str, str], ...] = ()  # (header name, env var holding its value)
    timeout_s: float = _default("settings.notifications.webhook.timeout_s")
    events: tuple[tuple[str, str], ...] = ()  # (type, on | off) over the defaults
    default: str | None = None

    def target(self) -> str | None:
        return self.url or (os.environ.get(self.url_env) or None if self.url_env else None)

    def headers(self) -> dict[str, str]:
        """The configured headers whose variables are set (read when they are needed)."""
        return {name: os.environ[var] for name, var in self.header_env if os.environ.get(var)}

    def level(self, type_: str) -> str:
        level = _level_of(self.events, self.default, type_)
        return ON if level == SILENT else level  # a POST has no quiet mode


@dataclass(frozen=True)
class NotificationSettings:
    """Alerts to a person, delivered from the events outbox (robot/notify.py)."""

    telegram: TelegramSettings | None = None
    webhook: WebhookSettings | None = None


@dataclass(frozen=True)
class RestartPolicy:
    backoff_initial_s: float = _default("settings.restart.backoff_initial_s")
    backoff_max_s: float = _default("settings.restart.backoff_max_s")
    # more failed starts than flap_max within flap_window_s: FATAL
    flap_max: int = _default("settings.restart.flap_max")
    flap_window_s: float = _default("settings.restart.flap_window_s")
    # a worker that dies sooner counts as a failed start
    min_uptime_s: float = _default("settings.restart.min_uptime_s")


@dataclass(frozen=True)
class Settings:
    timezone: str = _default("settings.timezone")
    start: time = _time(_default("settings.operating_hours.start"))
    end: time = _time(_default("settings.operating_hours.end"))
    eod_report_time: time = _time(_default("settings.eod_report_time"))
    poll_interval_ms: int = _default("settings.poll_interval_ms")
    state_db: Path = Path(_default("settings.state_db"))
    log_dir: Path = Path(_default("settings.log_dir"))
    report_dir: Path = Path(_default("settings.report_dir"))
    task_server: TaskServer | None = None
    task_pull_interval_s: float = _default("settings.task_pull_interval_s")
    extra_holidays: tuple[date, ...] = tuple(_default("settings.extra_holidays"))
    calendar_file: Path | None = None  # the user's copy of the exchange's closure lists
    calendar_years: tuple[YearList, ...] = ()  # ... as read from it (docs/CALENDAR.md)
    hang_timeout_s: float = _default("settings.hang_timeout_s")
    heartbeat_interval_s: float = _default("settings.heartbeat_interval_s")
    action_timeout_s: float = _default("settings.action_timeout_s")
    max_retry: int = _default("settings.max_retry")
    resubmit_unknown: bool = _default("settings.resubmit_unknown")
    reconcile_grace_s: float = _default("settings.reconcile_grace_s")
    # an emulated CL sell unfilled this long is re-priced
    cut_loss_reprice_s: float = _default("settings.cut_loss_reprice_s")
    # a native TP/CL exit not listed this long after the price got there is reported
    native_exit_grace_s: float = _default("settings.native_exit_grace_s")
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    grid: GridSettings = field(default_factory=GridSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @cached_property
    def calendar(self) -> Calendar:
        """The closure calendar of this config: built once per process (the supervisor and each
        worker load the same file), so a poll never re-reads anything."""
        return Calendar(self.calendar_years, frozenset(self.extra_holidays))


@dataclass(frozen=True)
class Limits:
    max_order_value: int | None = None  # rupiah: price * lot * 100
    max_daily_buy_value: int | None = None
    max_open_orders: int | None = None
    allowed_emiten: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BrokerDef:
    name: str
    adapter: str  # importable module, e.g. "adapters.stockbit" or "generic"
    selectors: Path
    base_url: str


@dataclass(frozen=True)
class Account:
    id: str
    broker: str
    profile_path: Path
    enabled: bool = True
    headless: bool | None = None  # None: settings.browser.headless
    dry_run: bool = _default("accounts[].dry_run")
    limits: Limits = field(default_factory=Limits)
    username: str | None = None  # broker login name (shown by `robot login`)
    pin_env: str | None = None  # env var holding the trading PIN, never the PIN
    password_env: str | None = None  # env var with the login password: the robot may
    # then log in by itself (a few tries a day at most)
    node: str | None = None  # Selenium Grid node holding the profile


@dataclass(frozen=True)
class EnvRef:
    """A variable accounts.yaml names (``token_env``, ``pin_env``, ...), and where."""

    name: str
    key: str  # dotted key, e.g. accounts[1].pin_env
    line: int | None
    required: bool  # unset: an error (else a warning)
    why: str  # what goes wrong without it


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    brokers: dict[str, BrokerDef]
    accounts: tuple[Account, ...]
    env_refs: tuple[EnvRef, ...] = ()
    env_file: Path | None = None  # the env file read at load, if any
    env_file_names: tuple[str, ...] = ()  # the variables it defines (names only)

    @property
    def enabled_accounts(self) -> tuple[Account, ...]:
        return tuple(a for a in self.accounts if a.enabled)

    def account(self, account_id: str) -> Account:
        for a in self.accounts:
            if a.id == account_id:
                return a
        raise ConfigError(Problem(str(self.path), "accounts", f"no account with id {account_id!r}"))

    def broker_of(self, account: Account) -> BrokerDef:
        return self.brokers[account.broker]


# ------------------------------------------------------------------------------------- loading
def load_config(path: str | os.PathLike = DEFAULT_CONFIG, check_files: bool = True) -> Config:
    """Read and validate accounts.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    doc, raw = read_yaml(path, "is empty: it needs 'settings' and 'accounts'")
    if not isinstance(raw, dict):
        raise ConfigError(
            Problem(
                str(path),
                "",
                f"must be a mapping with 'settings' and 'accounts', got {type(raw).__name__}",
            )
        )
    raw = {k: v for k, v in raw.items() if v is not None}  # `settings:` with nothing under it
    issues = schema.check(raw, SCHEMA, schema.FILE)
    for at, message in sorted(issues, key=lambda issue: [n or 0 for n in doc.locate(issue[0])]):
        doc.add(at, message)  # in the order of the file
    data = _valid_part(raw, doc.bad)
    cfg = _build(doc, data, path, check_files)
    if doc.problems:
        raise ConfigError(doc.problems)
    return _read_env_file(doc, cfg, data.get("settings", {}))


def _valid_part(value: Any, bad: set[tuple], path: tuple = ()) -> Any:
    """``value`` without what a problem was reported at: what is left has the schema's shape
    (bar required keys whose value was wrong). A list keeps its length, with None for a dropped
    item, so that an index still names the file's entry."""
    if isinstance(value, dict):
        return {
            k: _valid_part(v, bad, path + (k,)) for k, v in value.items() if path + (k,) not in bad
        }
    if isinstance(value, list):
        return [
            None if path + (i,) in bad else _valid_part(v, bad, path + (i,))
            for i, v in enumerate(value)
        ]
    return value


def _complete(entry: Any, key: str) -> TypeGuard[dict[str, Any]]:
    """``entry`` is a mapping with every key the schema requires at ``key``."""
    required = schema.node(SCHEMA, key).get("required", [])
    return isinstance(entry, dict) and all(k in entry for k in required)


def _build(doc: Located, data: dict, path: Path, check_files: bool) -> Config:
    base_dir = path.resolve().parent
    settings = _settings(doc, data.get("settings", {}), base_dir)
    entries = data.get("accounts", [])
    raw_brokers = data.get("brokers", {})
    used = {e["broker"] for e in entries if isinstance(e, dict) and "broker" in e}
    brokers = _brokers(doc, raw_brokers, base_dir, check_files, used | set(raw_brokers))
    accounts = _accounts(doc, entries, brokers, base_dir)
    _check_nodes(doc, settings, accounts)
    _check_flavor(doc, settings, accounts)
    if check_files:
        _check_pins(doc, brokers, accounts)
    return Config(
        path.resolve(), settings, brokers, tuple(a for _, a in accounts), _env_refs(doc, data)
    )


SCALAR_SETTINGS = (
    "timezone",
    "poll_interval_ms",
    "task_pull_interval_s",
    "hang_timeout_s",
    "heartbeat_interval_s",
    "action_timeout_s",
    "max_retry",
    "resubmit_unknown",
    "reconcile_grace_s",
    "cut_loss_reprice_s",
    "native_exit_grace_s",
)


def _settings(doc: Located, s: dict, base_dir: Path) -> Settings:
    hours = s.get("operating_hours", {})
    # keyword arguments of Settings, each of its own type
    times: dict[str, Any] = {
        name: _time(value)
        for name, value in (
            ("start", hours.get("start")),
            ("end", hours.get("end")),
            ("eod_report_time", s.get("eod_report_time")),
        )
        if value is not None
    }
    paths: dict[str, Any] = {
        k: _resolve(base_dir, s.get(k, _default(f"settings.{k}")))
        for k in ("state_db", "log_dir", "report_dir")
    }
    ts = s.get("task_server", {})
    calendar_file: Path | None = None
    calendar_years: tuple[YearList, ...] = ()
    if "calendar_file" in s:
        from .calendar_file import load_calendar_file

        calendar_file = _resolve(base_dir, s["calendar_file"])
        calendar_years = load_calendar_file(doc, calendar_file)
    settings = Settings(
        **{k: s[k] for k in SCALAR_SETTINGS if k in s},
        **times,
        **paths,
        task_server=TaskServer(**ts) if "url" in ts else None,
        extra_holidays=tuple(
            d if isinstance(d, date) else date.fromisoformat(d)
            for d in s.get("extra_holidays", ())
            if d is not None
        ),
        calendar_file=calendar_file,
        calendar_years=calendar_years,
        restart=RestartPolicy(**s.get("restart", {})),
        browser=_browser(s.get("browser", {})),
        grid=_grid(doc, s.get("grid", {})),
        notifications=_notifications(doc, s.get("notifications", {})),
    )
    if settings.start >= settings.end:
        doc.add(
            ("settings", "operating_hours"),
            f"start {settings.start:%H:%M} must be before end {settings.end:%H:%M}",
        )
    elif not settings.start <= settings.eod_report_time <= settings.end:
        doc.add(
            ("settings", "eod_report_time"),
            f"{settings.eod_report_time:%H:%M} is outside "
            f"the operating hours {settings.start:%H:%M}-{settings.end:%H:%M}",
        )
    return settings


def _browser(b: dict) -> BrowserSettings:
    if "extra_args" in b:
        b = {**b, "extra_args": tuple(a for a in b["extra_args"] if a is not None)}
    return BrowserSettings(**b)


def _grid(doc: Located, g: dict) -> GridSettings:
    """settings.grid: the hub's address and event-bus ports, the nodes, the secret's variable."""
    nodes: list[GridNode] = []
    names: dict[str, int] = {}
    for i, entry in enumerate(g.get("nodes", [])):
        if not _complete(entry, "settings.grid.nodes[]"):
            continue  # reported by the schema
        if entry["name"] in names:
            doc.add(
                ("settings", "grid", "nodes", i, "name"),
                f"duplicate node name "
                f"{entry['name']!r} (also settings.grid.nodes[{names[entry['name']]}])",
            )
            continue
        names[entry["name"]] = i
        nodes.append(GridNode(**entry))
    hub = {("hub_" + k if k in ("host", "port") else k): v for k, v in g.get("hub", {}).items()}
    grid = GridSettings(
        **hub, nodes=tuple(nodes), **{k: v for k, v in g.items() if k not in ("hub", "nodes")}
    )
    # two listeners on one host and port cannot both start
    hub_at = ("settings", "grid", "hub")
    listeners: list[tuple[tuple, str, str, int]] = [
        (hub_at, "the hub", grid.hub_host, grid.hub_port),
        (hub_at, "the hub's publish_port", grid.hub_host, grid.publish_port),
        (hub_at, "the hub's subscribe_port", grid.hub_host, grid.subscribe_port),
    ]
    listeners += [
        (("settings", "grid", "nodes", names[n.name], "port"), f"node {n.name!r}", n.host, n.port)
        for n in grid.nodes
    ]
    taken: dict[tuple[str, int], str] = {}
    for at, what, host, port in listeners:
        if (host, port) in taken:
            doc.add(at, f"{what} uses port {port} on {host}, already used by {taken[(host, port)]}")
        taken.setdefault((host, port), what)
    return grid


def _notifications(doc: Located, n: dict) -> NotificationSettings:
    """settings.notifications: a Telegram chat and/or a webhook, each with its event levels."""
    t, w = n.get("telegram"), n.get("webhook")
    telegram = webhook = None
    if _complete(t, "settings.notifications.telegram"):
        events, default = _event_levels(t.get("events", {}))
        telegram = TelegramSettings(
            **{**t, "chat_id": str(t["chat_id"]), "events": events, "default": default}
        )
    if isinstance(w, dict) and ("url" in w) != ("url_env" in w):
        events, default = _event_levels(w.get("events", {}))
        headers = _header_env(
            doc, w.get("header_env", {}), ("settings", "notifications", "webhook", "header_env")
        )
        webhook = WebhookSettings(
            **{**w, "header_env": headers, "events": events, "default": default}
        )
    return NotificationSettings(telegram, webhook)


def _event_levels(raw: dict) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """`events: {TYPE: on | silent | off, default: ...}`. YAML 1.1 reads a bare on/off (and
    yes/no) as true/false, so booleans mean on/off."""
    levels = {
        key: ({True: ON, False: OFF}[v] if isinstance(v, bool) else v) for key, v in raw.items()
    }
    default = levels.pop("default", None)
    return tuple(levels.items()), default


def _header_env(doc: Located, raw: dict, at: tuple) -> tuple[tuple[str, str], ...]:
    """`header_env: {Authorization: ROBOT_WEBHOOK_AUTH}`: header names to variable NAMES."""
    out = []
    for name, var in raw.items():
        if name.lower() in RESERVED_HEADERS:
            doc.add(at + (name,), f"{name} is set by the robot itself")
        else:
            out.append((name, var))
    return tuple(out)


def _check_nodes(doc: Located, settings: Settings, accounts: list[tuple[int, Account]]) -> None:
    """With a Grid hub (remote_url), every enabled account names the node holding its profile;
    with a node list, every account's node is on it."""
    known = [n.name for n in settings.grid.nodes]
    for i, acc in accounts:
        at = ("accounts", i)
        if at + ("node",) in doc.bad:
            continue  # already reported as malformed
        if settings.browser.remote_url and acc.enabled and not acc.node:
            doc.add(
                at,
                f"account {acc.id!r} needs 'node': settings.browser.remote_url sends its "
                "browser to Selenium Grid, and 'node' names the node holding its "
                "profile",
            )
        elif acc.node and known and acc.node not in known:
            hint = difflib.get_close_matches(acc.node, known, n=1)
            doc.add(
                at + ("node",),
                f"unknown node {acc.node!r}"
                + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else f"; settings.grid.nodes has: {', '.join(known)}"
                ),
            )


def _check_flavor(doc: Located, settings: Settings, accounts: list[tuple[int, Account]]) -> None:
    """The headless shell has no window to show, and a Grid node starts the binary its own
    stereotype names: refuse what it cannot do before the day starts."""
    b = settings.browser
    if b.flavor != "headless-shell":
        return
    at = ("settings", "browser", "flavor")
    if b.remote_url:
        doc.add(
            at,
            "headless-shell is for browsers on this machine; with remote_url the Grid node's "
            "configuration names the browser binary",
        )
    if not b.headless:
        doc.add(at, "headless-shell has no window: it needs settings.browser.headless true")
    for i, acc in accounts:
        if acc.headless is False and acc.enabled:
            doc.add(
                ("accounts", i, "headless"),
                f"account {acc.id!r} asks for a window, but settings.browser.flavor "
                "headless-shell has none",
            )


def _check_pins(
    doc: Located, brokers: dict[str, BrokerDef], accounts: list[tuple[int, Account]]
) -> None:
    """A broker whose order flow has a trading-PIN step (ipot) needs ``pin_env`` on each of its
    accounts: without it every order stops at the PIN pad."""
    needs_pin: dict[str, bool] = {}
    for i, acc in accounts:
        broker = brokers.get(acc.broker)
        if broker is None or acc.pin_env or not acc.enabled:
            continue  # a disabled account is checked when it is enabled
        if acc.broker not in needs_pin:
            try:
                steps = json.loads(broker.selectors.read_text(encoding="utf-8")).get("steps")
            except (OSError, ValueError, AttributeError):
                steps = None  # an unreadable selectors file is reported by _check_adapter
            needs_pin[acc.broker] = isinstance(steps, list) and "pin" in steps
        if needs_pin[acc.broker]:
            doc.add(
                ("accounts", i),
                f"account {acc.id!r} needs 'pin_env': broker '{acc.broker}' asks for a trading "
                f"PIN before orders; name the environment variable that holds it (e.g. "
                f"pin_env: ROBOT_PIN_{re.sub(r'[^A-Za-z0-9_]', '_', acc.id).upper()})",
            )


def _brokers(
    doc: Located, raw: dict, base_dir: Path, check_files: bool, used: set[str]
) -> dict[str, BrokerDef]:
    """Built-in brokers merged with the file's; selectors files are checked for brokers in use."""
    merged: dict[str, dict] = {k: dict(v) for k, v in BUILTIN_BROKERS.items()}
    for name, body in raw.items():
        if name not in merged:
            for key in BROKER_KEYS:
                if key not in body and ("brokers", name, key) not in doc.bad:
                    doc.add(("brokers", name), f"a new broker needs '{key}'")
        merged[name] = {**merged.get(name, {}), **body}
    out: dict[str, BrokerDef] = {}
    for name, body in merged.items():
        if not all(k in body for k in BROKER_KEYS):
            continue
        sel = _find_selectors(base_dir, body["selectors"])
        if check_files and name in used and not sel.is_file():
            doc.add(
                ("brokers", name, "selectors") if name in raw else ("brokers",),
                f"selectors file for broker '{name}' not found: {sel}",
            )
        out[name] = BrokerDef(name, body["adapter"], sel, body["base_url"].rstrip("/"))
        if check_files and name in used:
            at = ("brokers", name, "adapter") if name in raw else ("brokers",)
            _check_adapter(doc, out[name], at)
    return out


def _check_adapter(doc: Located, broker: BrokerDef, at: tuple) -> None:
    """The broker's adapter module imports and, if it is selector-driven, its selectors file is
    valid for it: caught by `robot check` and before the day starts, not by a crash-looping
    worker."""
    from adapters import ALIASES, selectors_problems

    module_name = ALIASES.get(broker.adapter, broker.adapter)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or the module failing as it loads
        doc.add(
            at,
            f"adapter {broker.adapter!r} of broker '{broker.name}' cannot be imported "
            f"({type(exc).__name__}: {exc}); use generic or an importable module such "
            f"as adapters.ipot",
        )
        return
    cls = getattr(module, "ADAPTER", None)
    if not isinstance(cls, type):
        doc.add(
            at, f"adapter module {module_name!r} of broker '{broker.name}' has no ADAPTER class"
        )
        return
    steps = getattr(cls, "STEPS", None)
    if steps is not None and broker.selectors.is_file():
        doc.problems.extend(selectors_problems(broker, set(steps)))


def _accounts(
    doc: Located, entries: list, brokers: dict[str, BrokerDef], base_dir: Path
) -> list[tuple[int, Account]]:
    """The accounts the file describes validly, each with its index in the file."""
    seen_ids: dict[str, int] = {}
    seen_profiles: dict[Path, str] = {}
    accounts = []
    for i, entry in enumerate(entries):
        if not _complete(entry, "accounts[]"):
            continue  # reported by the schema
        at, acc_id, broker = ("accounts", i), entry["id"], entry["broker"]
        if acc_id in seen_ids:
            doc.add(
                at + ("id",), f"duplicate account id {acc_id!r} (also accounts[{seen_ids[acc_id]}])"
            )
        seen_ids.setdefault(acc_id, i)
        if broker not in brokers:
            hint = difflib.get_close_matches(broker, list(brokers), n=1)
            doc.add(
                at + ("broker",),
                f"unknown broker {broker!r}"
                + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else f"; known: {', '.join(sorted(brokers))} or define it under 'brokers'"
                ),
            )
        profile = _resolve(base_dir, entry["profile_path"]).resolve()
        if profile.exists() and not profile.is_dir():
            doc.add(
                at + ("profile_path",),
                f"{profile} is a file: a profile is a folder of its "
                "own (Chromium keeps the account's session there); name a folder",
            )
        if profile in seen_profiles:
            doc.add(
                at + ("profile_path",),
                f"{entry['profile_path']!r} is already the profile "
                f"of account {seen_profiles[profile]!r}: two browsers cannot share a profile",
            )
        seen_profiles.setdefault(profile, acc_id)
        limits = dict(entry.get("limits", {}))
        if "allowed_emiten" in limits:
            limits["allowed_emiten"] = tuple(c for c in limits["allowed_emiten"] if c is not None)
        accounts.append(
            (i, Account(**{**entry, "profile_path": profile, "limits": Limits(**limits)}))
        )
    return accounts


def _resolve(base_dir: Path, value: Any) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else base_dir / p


def _find_selectors(base_dir: Path, value: str) -> Path:
    """Relative selectors paths are looked up beside the config, then in the project."""
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    for root in (base_dir, PROJECT_ROOT):
        if (root / p).exists():
            return root / p
    return base_dir / p


# ------------------------------------------------------------------------------ secrets
def _env_why(at: tuple) -> tuple[str, bool]:
    """What goes wrong without the variable named at ``at``, and whether a day needs it."""
    if at[:2] == ("settings", "task_server"):
        return "the task server answers 401 without its token: no tasks, no events delivered", True
    if at[:2] == ("settings", "grid"):
        # robot grid commands need it to register nodes; a trading day does not
        return "Selenium Grid nodes cannot register with the hub (robot grid commands)", False
    if at[:2] == ("settings", "notifications") and len(at) > 2:
        return f"notifications to {at[2]} cannot be sent", True
    if at[-1] == "pin_env":
        return "the trading PIN pad blocks every order of this account", True
    if at[-1] == "password_env":
        return "the robot cannot log this account in by itself when its session expires", True
    return f"{dotted(at)} names it", True


def _env_refs(doc: Located, data: dict) -> tuple[EnvRef, ...]:
    """Every variable the file names: keys ending in ``_env`` (a name, or a mapping of names)."""
    refs: list[EnvRef] = []

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, path + (i,))
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            at = path + (key,)
            if not (isinstance(key, str) and key.endswith("_env")):
                walk(value, at)
                continue
            named = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, name in named:
                refs.append(_env_ref(doc, data, at if sub is None else at + (sub,), name))

    walk(data, ())
    return tuple(refs)


def _env_ref(doc: Located, data: dict, at: tuple, name: str) -> EnvRef:
    why, required = _env_why(at)
    if at[0] == "accounts":
        entry = data["accounts"][at[1]]
        required = required and entry.get("enabled") is True
        why = f"account {entry.get('id')!r}: {why}"
    return EnvRef(name, dotted(at), doc.marks.get(at, (None, None))[0], required, why)


def _read_env_file(doc: Located, cfg: Config, settings: dict) -> Config:
    """Read settings.env_file (or a .env beside the config), add it to the environment and
    register every named variable's value as a secret the logs must mask."""
    from . import envfile, logs

    named = settings.get("env_file")
    path = _resolve(cfg.path.parent, named) if named else cfg.path.parent / envfile.DEFAULT_NAME
    if named and not path.exists():
        doc.add(
            ("settings", "env_file"),
            f"{path} not found (it holds the secrets the variables named by *_env keys need)",
        )
        raise ConfigError(doc.problems)
    if path.exists():
        env, problems = envfile.read(path)
        if env is None:  # there were problems
            raise ConfigError(problems)
        envfile.apply(env)
        cfg = dataclasses.replace(cfg, env_file=path, env_file_names=env.names)
    for ref in cfg.env_refs:
        logs.register_secret_env(ref.name)
    return cfg


def unset_env(cfg: Config) -> tuple[list[Problem], list[Problem]]:
    """The named variables that are unset: (errors, warnings). An error is a variable the day
    needs (an enabled account's PIN or password, the task server's token, a notifier's)."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    looked = (
        f"not in the environment nor in {cfg.env_file}"
        if cfg.env_file
        else f"not in the environment, and no env file at {cfg.path.parent / '.env'}"
    )
    for ref in cfg.env_refs:
        if os.environ.get(ref.name):
            continue
        problem = Problem(
            str(cfg.path), ref.key, f"{ref.name} is not set ({looked}): {ref.why}", ref.line
        )
        (errors if ref.required else warnings).append(problem)
    return errors, warnings


def outside_env_file(cfg: Config) -> list[EnvRef]:
    """Needed variables set only in this shell, not in the env file: a scheduled run (cron, Task
    Scheduler), which has no shell environment, would start without them."""
    return [ref for ref in cfg.env_refs if ref.required and ref.name not in cfg.env_file_names]


def summary(cfg: Config) -> str:
    """The short text `robot check` prints."""
    lines = [f"{cfg.path}: OK"]
    enabled = cfg.enabled_accounts
    lines.append(f"{len(enabled)} of {len(cfg.accounts)} accounts enabled")
    for broker in sorted({a.broker for a in cfg.accounts}):
        ids = [a.id for a in enabled if a.broker == broker]
        off = [a.id for a in cfg.accounts if a.broker == broker and not a.enabled]
        line = f"  {broker}: {len(ids)} enabled" + (f" ({', '.join(ids)})" if ids else "")
        if off:
            line += f"; disabled: {', '.join(off)}"
        lines.append(line)
    s = cfg.settings
    lines.append(
        f"hours {s.start:%H:%M}-{s.end:%H:%M} WIB, EOD report {s.eod_report_time:%H:%M}, "
        f"poll every {s.poll_interval_ms} ms"
    )
    lines.append(
        f"secrets: {cfg.env_file}"
        if cfg.env_file
        else f"secrets: from the environment only (no env file at {cfg.path.parent / '.env'})"
    )
    lines.append(
        f"state {s.state_db}; task server "
        f"{s.task_server.url if s.task_server else 'none (local task files only)'}"
    )
    n = s.notifications
    if n.telegram or n.webhook:
        from urllib.parse import urlsplit

        to = [f"telegram chat {n.telegram.chat_id}"] if n.telegram else []
        if n.webhook:  # the host only: a webhook's path or query can be its secret
            to.append(
                "webhook "
                + (
                    urlsplit(n.webhook.url).hostname or "?"
                    if n.webhook.url
                    else f"from ${n.webhook.url_env}"
                )
            )
        lines.append(f"notifications: {'; '.join(to)}")
    if s.browser.remote_url:
        nodes: dict[str, list[str]] = {}
        for a in enabled:
            nodes.setdefault(a.node or "?", []).append(a.id)
        lines.append(
            f"browsers on Selenium Grid {s.browser.remote_url}: "
            + "; ".join(f"{node} ({', '.join(ids)})" for node, ids in nodes.items())
        )
    return "\n".join(lines)
