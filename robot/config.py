"""accounts.yaml: loading, validation with file/line/key in every message, and typed settings.

Validation happens before anything starts and reports every problem at once, so a user fixes the
file in one pass and a half-valid file never starts half a system.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .calendar import Calendar, YearList
from .errors import ConfigError, Problem
from .events import EVENT_TYPES, LEVELS, OFF, ON, SILENT, default_level

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = "accounts.yaml"
ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
EMITEN_RE = re.compile(r"^[A-Z]{4}$")     # an IDX stock code, as the task schema has it
CHAT_ID_RE = re.compile(r"^-?\d{1,20}$")
CHANNEL_RE = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
HEADER_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")   # an HTTP header name (RFC 9110)
RESERVED_HEADERS = ("content-type", "content-length", "host", "idempotency-key")
NODE_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")   # a Selenium Grid node's name (routing key)
MAX_NODES = 100_000        # YAML values after alias expansion: a "billion laughs" file stops here
MERGE_TAG = "tag:yaml.org,2002:merge"

# Built-in brokers. Their base URL is the local simulator (`robot sim`'s default port): the shipped
# selectors describe the simulated skins, and must be checked with `robot probe` before a live site
# is configured. Pointing at a live site is an explicit edit of `brokers:` in accounts.yaml.
SIM_DEFAULT_URL = "http://127.0.0.1:8700"
BUILTIN_BROKERS = {
    name: {"adapter": f"adapters.{name}", "selectors": f"selectors/{name}.json",
           "base_url": SIM_DEFAULT_URL}
    for name in ("stockbit", "ipot", "ajaib")
}


# --------------------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class TaskServer:
    url: str
    token_env: str | None = None
    timeout_s: float = 10.0

    def token(self) -> str | None:
        """The bearer token, read from the environment at the moment it is needed."""
        return os.environ.get(self.token_env) if self.token_env else None


@dataclass(frozen=True)
class BrowserSettings:
    driver: str = "uc"                      # "uc" (undetected-chromedriver) or "selenium"
    chromium_path: str | None = None        # None: the OS default (see robot.browser)
    chromedriver_path: str | None = None
    remote_url: str | None = None           # Selenium Grid hub, when set
    headless: bool = True
    launch_stagger_s: float = 1.0           # spread launches: Chromium start is CPU-bound
    max_parallel_launches: int = 0          # local launches at once, across workers; 0: one per core
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class GridNode:
    """One Selenium Grid node: where it listens (its machine's private address and port)."""

    name: str
    port: int = 5555
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class GridSettings:
    """The hub and nodes `robot grid` generates configurations for (and `grid up` starts)."""

    hub_host: str = "127.0.0.1"
    hub_port: int = 4444
    publish_port: int = 4442                # the hub's event bus (nodes connect to both)
    subscribe_port: int = 4443
    nodes: tuple[GridNode, ...] = ()
    secret_env: str | None = None           # env var holding the node registration secret
    # The node ends a session idle for this long: comfortably above the longest gap between two
    # commands of a worker (a whole trading day, to be safe).
    session_timeout_s: int = 28800
    relaunch_window_s: float = 600.0        # how long a worker keeps asking for its session
                                            # while its node is down, before it gives up
    java_heap_mb: int = 256                 # -Xmx of each hub/node JVM started by `grid up`

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

    token_env: str                          # env var holding the bot token (never the token)
    chat_id: str                            # "123456789", "-100..." for a group, or "@channel"
    api_url: str = "https://api.telegram.org"   # the Bot API base (tests point it at a fake)
    timeout_s: float = 10.0                 # per HTTP request (connect and read)
    min_interval_s: float | None = None     # between two messages; None: pace_s decides
    events: tuple[tuple[str, str], ...] = ()    # (type, on | silent | off) over the defaults
    default: str | None = None              # level of a type not in events (None: the catalog's)

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
    url_env: str | None = None              # env var holding the URL, for URLs that are secrets
    header_env: tuple[tuple[str, str], ...] = ()    # (header name, env var holding its value)
    timeout_s: float = 10.0
    events: tuple[tuple[str, str], ...] = ()    # (type, on | off) over the defaults
    default: str | None = None

    def target(self) -> str | None:
        return self.url or (os.environ.get(self.url_env) or None if self.url_env else None)

    def headers(self) -> dict[str, str]:
        """The configured headers whose variables are set (read when they are needed)."""
        return {name: os.environ[var] for name, var in self.header_env if os.environ.get(var)}

    def level(self, type_: str) -> str:
        level = _level_of(self.events, self.default, type_)
        return ON if level == SILENT else level     # a POST has no quiet mode


@dataclass(frozen=True)
class NotificationSettings:
    """Alerts to a person, delivered from the events outbox (robot/notify.py)."""

    telegram: TelegramSettings | None = None
    webhook: WebhookSettings | None = None


@dataclass(frozen=True)
class RestartPolicy:
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    flap_max: int = 5                       # more failed starts than this within the window: FATAL
    flap_window_s: float = 600.0
    min_uptime_s: float = 10.0              # a worker that dies sooner counts as a failed start


@dataclass(frozen=True)
class Settings:
    timezone: str = "Asia/Jakarta"
    start: time = time(8, 45)
    end: time = time(16, 15)
    eod_report_time: time = time(16, 0)
    poll_interval_ms: int = 2000
    state_db: Path = Path("state.db")
    log_dir: Path = Path("logs")
    report_dir: Path = Path("reports")
    task_server: TaskServer | None = None
    task_pull_interval_s: float = 30.0
    extra_holidays: tuple[date, ...] = ()
    calendar_file: Path | None = None       # the user's copy of the exchange's closure lists
    calendar_years: tuple[YearList, ...] = ()   # ... as read from it (docs/CALENDAR.md)
    hang_timeout_s: float = 60.0
    heartbeat_interval_s: float = 5.0
    action_timeout_s: float = 20.0
    max_retry: int = 3
    resubmit_unknown: bool = False
    reconcile_grace_s: float = 5.0
    cut_loss_reprice_s: float = 120.0       # an emulated CL sell unfilled this long is re-priced
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
    max_order_value: int | None = None      # rupiah: price * lot * 100
    max_daily_buy_value: int | None = None
    max_open_orders: int | None = None
    allowed_emiten: tuple[str, ...] | None = None


@dataclass(frozen=True)
class BrokerDef:
    name: str
    adapter: str                            # importable module, e.g. "adapters.stockbit" or "generic"
    selectors: Path
    base_url: str


@dataclass(frozen=True)
class Account:
    id: str
    broker: str
    profile_path: Path
    enabled: bool = True
    headless: bool | None = None            # None: settings.browser.headless
    dry_run: bool = False
    limits: Limits = field(default_factory=Limits)
    username: str | None = None             # broker login name (shown by `robot login`)
    pin_env: str | None = None              # env var holding the trading PIN, never the PIN
    password_env: str | None = None         # env var with the login password: the robot may
                                            # then log in by itself (a few tries a day at most)
    node: str | None = None                 # Selenium Grid node holding the profile


@dataclass(frozen=True)
class EnvRef:
    """A variable accounts.yaml names (``token_env``, ``pin_env``, ...), and where."""

    name: str
    key: str                                # dotted key, e.g. accounts[1].pin_env
    line: int | None
    required: bool                          # unset: an error (else a warning)
    why: str                                # what goes wrong without it


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    brokers: dict[str, BrokerDef]
    accounts: tuple[Account, ...]
    env_refs: tuple[EnvRef, ...] = ()
    env_file: Path | None = None            # the env file read at load, if any
    env_file_names: tuple[str, ...] = ()    # the variables it defines (names only)

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


# ------------------------------------------------------------------------------- YAML with marks
class _Located:
    """Plain Python data from YAML, plus the line/column of every key path."""

    def __init__(self, source: str):
        self.source = source
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()
        self._nodes = 0

    def add(self, path: tuple, message: str, at: tuple | None = None) -> None:
        line, col = self.marks.get(at if at is not None else path, (None, None))
        if line is None:  # fall back to the nearest located parent
            for i in range(len(path), -1, -1):
                if path[:i] in self.marks:
                    line, col = self.marks[path[:i]]
                    break
        self.problems.append(Problem(self.source, dotted(path), message, line, col))

    def plain(self, node: Node, path: tuple = ()) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ConfigError(Problem(self.source, "", f"has more than {MAX_NODES} values once its "
                                      "aliases are expanded: is an alias (*name) nested in itself "
                                      "many times?", node.start_mark.line + 1,
                                      node.start_mark.column + 1))
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key_node.tag == MERGE_TAG:
                    raise ConfigError(Problem(self.source, dotted(path) or "", "YAML merge keys "
                                              "(<<: *name) are not supported: write the keys out, "
                                              "or alias a whole value (limits: *name)", *where))
                if not isinstance(key_node, ScalarNode):
                    self.marks[path + ("?",)] = where
                    self.add(path + ("?",), "a key must be a plain word, not a list or mapping")
                    continue
                try:
                    key = self._constructor.construct_object(key_node, deep=True)
                except (ValueError, yaml.YAMLError):
                    key = key_node.value  # e.g. a date key 2027-02-30: the checker names it
                if isinstance(key_node, ScalarNode) and key in out:
                    self.marks[path + (key,)] = (key_node.start_mark.line + 1,
                                                 key_node.start_mark.column + 1)
                    self.add(path + (key,), "duplicate key")
                    continue
                out[key] = self.plain(value_node, path + (key,))
                # point at the key itself, which is where a reader looks for a misspelling
                self.marks[path + (key,)] = (key_node.start_mark.line + 1,
                                             key_node.start_mark.column + 1)
            return out
        if isinstance(node, SequenceNode):
            return [self.plain(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            # e.g. 2026-13-01 looks like a date but is none: keep the text for the checker to name
            return node.value


def dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ------------------------------------------------------------------------------------- checkers
Checker = Callable[[Any], str | None]  # returns an error message or None


def _is_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"must be true or false, got {v!r}"


def _is_str(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else f"must be a non-empty string, got {v!r}"


def _is_hhmm(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 24 * 60:
        # YAML 1.1 reads an unquoted 08:45 as a sexagesimal number (525)
        return f"must be a quoted \"HH:MM\" time (YAML read {v!r}; write \"{v // 60:02d}:{v % 60:02d}\")"
    if not isinstance(v, str) or not HHMM_RE.match(v):
        return f"must be a time \"HH:MM\" (00:00-23:59), got {v!r}"
    return None


def _int_range(lo: int | None, hi: int | None) -> Checker:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"must be a whole number, got {v!r}"
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            if hi is None:
                return f"must be at least {lo}, got {v}"
            return f"must be within {lo}..{hi}, got {v}"
        return None
    return check


def _num_range(lo: float, hi: float | None = None) -> Checker:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"must be a number, got {v!r}"
        if v < lo or (hi is not None and v > hi):
            return f"must be within {lo}..{hi if hi is not None else 'inf'}, got {v}"
        return None
    return check


def _one_of(*choices: str) -> Checker:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}, got {v!r}"
    return check


def _is_url(v: Any) -> str | None:
    if not isinstance(v, str) or not re.match(r"^https?://[^\s/]+", v):
        return f"must be an http(s) URL, got {v!r}"
    return None


def _is_env_name(v: Any) -> str | None:
    if not isinstance(v, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", v):
        return (f"must be the NAME of an environment variable (the secret itself never goes in "
                f"this file), got {v!r}")
    return None


def _is_date(v: Any) -> str | None:
    if isinstance(v, date):
        return None
    return f"must be a date YYYY-MM-DD, got {v!r}"


def _is_node_name(v: Any) -> str | None:
    if not isinstance(v, str) or not NODE_NAME_RE.match(v):
        return (f"must be a node name of letters, digits, '-' or '_' (it is the routing key of "
                f"the account's browser sessions), got {v!r}")
    return None


def _is_host(v: Any) -> str | None:
    if not isinstance(v, str) or not re.match(r"^[A-Za-z0-9_.:-]{1,253}$", v):
        return f"must be a host name or IP address, got {v!r}"
    return None


def _is_mapping(v: Any) -> str | None:
    return None if isinstance(v, dict) else f"must be a mapping of keys, got {type(v).__name__}"


def _is_chat_id(v: Any) -> str | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return None
    if isinstance(v, str) and (CHAT_ID_RE.match(v) or CHANNEL_RE.match(v)):
        return None
    return (f"must be a Telegram chat id (a number such as 123456789, -100... for a group) or "
            f"@channelname, got {v!r}")


def _is_list(v: Any) -> str | None:
    return None if isinstance(v, list) else f"must be a list, got {type(v).__name__}"


def _is_str_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        return f"must be a list of strings, got {v!r}"
    return None


def _is_list_of_dates(v: Any) -> str | None:
    if not isinstance(v, list):
        return f"must be a list of dates, got {v!r}"
    bad = [x for x in v if not isinstance(x, date)]
    return f"must be a list of dates YYYY-MM-DD; not dates: {bad!r}" if bad else None


# A schema is {key: checker | nested schema dict}; keys not listed are errors.
SETTINGS_SCHEMA: dict[str, Any] = {
    "timezone": _one_of("Asia/Jakarta"),
    "operating_hours": {"start": _is_hhmm, "end": _is_hhmm},
    "eod_report_time": _is_hhmm,
    "poll_interval_ms": _int_range(200, 60000),
    "state_db": _is_str,
    "log_dir": _is_str,
    "report_dir": _is_str,
    "task_server": {"url": _is_url, "token_env": _is_env_name, "timeout_s": _num_range(0.5, 300)},
    "task_pull_interval_s": _num_range(1, 3600),
    "extra_holidays": _is_list_of_dates,
    "env_file": _is_str,
    "calendar_file": _is_str,
    "hang_timeout_s": _num_range(5, 3600),
    "heartbeat_interval_s": _num_range(0.2, 600),
    "action_timeout_s": _num_range(1, 600),
    "max_retry": _int_range(0, 20),
    "resubmit_unknown": _is_bool,
    "reconcile_grace_s": _num_range(0, 600),
    "cut_loss_reprice_s": _num_range(10, 3600),
    "restart": {"backoff_initial_s": _num_range(0.1, 600), "backoff_max_s": _num_range(1, 3600),
                "flap_max": _int_range(1, 100), "flap_window_s": _num_range(10, 86400),
                "min_uptime_s": _num_range(0, 3600)},
    "browser": {"driver": _one_of("uc", "selenium"), "chromium_path": _is_str,
                "chromedriver_path": _is_str, "remote_url": _is_url, "headless": _is_bool,
                "launch_stagger_s": _num_range(0, 60), "max_parallel_launches": _int_range(0, 64),
                "extra_args": _is_str_list},
    "grid": {"hub": {"host": _is_host, "port": _int_range(1, 65535),
                     "publish_port": _int_range(1, 65535), "subscribe_port": _int_range(1, 65535)},
             "nodes": _is_list,   # each entry is checked against GRID_NODE_SCHEMA
             "secret_env": _is_env_name, "session_timeout_s": _int_range(60, 7 * 86400),
             "relaunch_window_s": _num_range(1, 86400), "java_heap_mb": _int_range(64, 16384)},
    # the entries of `events` and `header_env` are checked in _notifications
    "notifications": {
        "telegram": {"token_env": _is_env_name, "chat_id": _is_chat_id, "api_url": _is_url,
                     "timeout_s": _num_range(1, 120), "min_interval_s": _num_range(0, 60),
                     "events": _is_mapping},
        "webhook": {"url": _is_url, "url_env": _is_env_name, "header_env": _is_mapping,
                    "timeout_s": _num_range(1, 120), "events": _is_mapping},
    },
}
GRID_NODE_SCHEMA: dict[str, Any] = {"name": _is_node_name, "port": _int_range(1, 65535),
                                    "host": _is_host}
BROKER_SCHEMA: dict[str, Any] = {"adapter": _is_str, "selectors": _is_str, "base_url": _is_url}
LIMITS_SCHEMA: dict[str, Any] = {
    "max_order_value": _int_range(1, None), "max_daily_buy_value": _int_range(1, None),
    "max_open_orders": _int_range(1, None), "allowed_emiten": _is_str_list,
}
ACCOUNT_SCHEMA: dict[str, Any] = {
    "id": _is_str, "broker": _is_str, "profile_path": _is_str, "enabled": _is_bool,
    "headless": _is_bool, "dry_run": _is_bool, "limits": LIMITS_SCHEMA, "username": _is_str,
    "pin_env": _is_env_name, "password_env": _is_env_name, "node": _is_node_name,
}
ACCOUNT_REQUIRED = ("id", "broker", "profile_path", "enabled")
TOP_SCHEMA = ("settings", "brokers", "accounts")


def _check_mapping(doc: _Located, value: Any, schema: dict[str, Any], path: tuple) -> None:
    if not isinstance(value, dict):
        doc.add(path, f"must be a mapping of keys, got {type(value).__name__}")
        return
    for key, sub in value.items():
        if key not in schema:
            hint = difflib.get_close_matches(str(key), list(schema), n=1)
            doc.add(path + (key,), "unknown key" + (f" (did you mean '{hint[0]}'?)" if hint else
                                                     f"; known keys: {', '.join(schema)}"))
            continue
        rule = schema[key]
        if isinstance(rule, dict):
            _check_mapping(doc, sub, rule, path + (key,))
        else:
            err = rule(sub)
            if err:
                doc.add(path + (key,), err)


def _parse_hhmm(v: Any, default: time) -> time:
    if isinstance(v, str) and HHMM_RE.match(v):
        h, m = v.split(":")
        return time(int(h), int(m))
    return default


# ------------------------------------------------------------------------------------- loading
def read_yaml(path: Path, empty: str) -> tuple[_Located, Any]:
    """A YAML file as plain data with the line of every key; unreadable, not UTF-8, not YAML or
    ``empty`` (the message for a file without content) raise ConfigError."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(source, "", "file not found")) from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(Problem(source, "", f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}"
                                  "): save it as UTF-8", line)) from None
    except OSError as exc:
        raise ConfigError(Problem(source, "", f"cannot be read: {exc.strerror or exc}")) from None
    doc = _Located(source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(Problem(source, "", "is nested too deeply")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(Problem(source, "", f"is not valid YAML: {getattr(exc, 'problem', exc)}",
                                  mark.line + 1 if mark else None,
                                  mark.column + 1 if mark else None)) from None
    if node is None:
        raise ConfigError(Problem(source, "", empty))
    try:
        raw = doc.plain(node)
    except RecursionError:
        raise ConfigError(Problem(source, "", "is nested too deeply")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(source, "", f"is not valid YAML: {exc}")) from None
    return doc, raw


def load_config(path: str | os.PathLike = DEFAULT_CONFIG, check_files: bool = True) -> Config:
    """Read and validate accounts.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    source = str(path)
    doc, raw = read_yaml(path, "is empty: it needs 'settings' and 'accounts'")
    if not isinstance(raw, dict):
        raise ConfigError(Problem(source, "", "must be a mapping with 'settings' and 'accounts', "
                                              f"got {type(raw).__name__}"))
    cfg = _build(doc, raw, path, check_files)
    if doc.problems:
        raise ConfigError(doc.problems)
    return _read_env_file(doc, cfg, raw.get("settings"))


def _build(doc: _Located, raw: dict, path: Path, check_files: bool) -> Config:
    base_dir = path.resolve().parent
    for key in raw:
        if key not in TOP_SCHEMA:
            hint = difflib.get_close_matches(str(key), TOP_SCHEMA, n=1)
            doc.add((key,), "unknown top-level key" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
    raw_settings = raw.get("settings") or {}
    _check_mapping(doc, raw_settings, SETTINGS_SCHEMA, ("settings",))
    settings = _settings(doc, raw_settings if isinstance(raw_settings, dict) else {}, base_dir)
    raw_accounts = raw.get("accounts")
    used = {a.get("broker") for a in raw_accounts
            if isinstance(a, dict) and isinstance(a.get("broker"), str)} \
        if isinstance(raw_accounts, list) else set()
    raw_brokers = raw.get("brokers") or {}
    brokers = _brokers(doc, raw_brokers, base_dir, check_files,
                       used | (set(raw_brokers) if isinstance(raw_brokers, dict) else set()))
    accounts = _accounts(doc, raw.get("accounts"), brokers, base_dir)
    _check_nodes(doc, settings, accounts, raw.get("accounts"))
    if check_files:
        _check_pins(doc, brokers, accounts, raw.get("accounts"))
    return Config(path.resolve(), settings, brokers, accounts, _env_refs(doc, raw))


def _settings(doc: _Located, s: dict, base_dir: Path) -> Settings:
    hours = s.get("operating_hours") if isinstance(s.get("operating_hours"), dict) else {}
    start = _parse_hhmm(hours.get("start"), time(8, 45))
    end = _parse_hhmm(hours.get("end"), time(16, 15))
    eod = _parse_hhmm(s.get("eod_report_time"), time(16, 0))
    if start >= end:
        doc.add(("settings", "operating_hours"),
                f"start {start:%H:%M} must be before end {end:%H:%M}")
    elif not start <= eod <= end:
        doc.add(("settings", "eod_report_time"),
                f"{eod:%H:%M} is outside the operating hours {start:%H:%M}-{end:%H:%M}")
    ts = s.get("task_server")
    task_server = None
    if isinstance(ts, dict):
        if "url" not in ts:
            doc.add(("settings", "task_server"), "needs 'url'")
        elif not _is_url(ts["url"]):
            timeout = ts.get("timeout_s", 10)
            task_server = TaskServer(ts["url"], ts.get("token_env"),
                                     float(timeout) if not _num_range(0.5, 300)(timeout) else 10.0)
    b = s.get("browser") if isinstance(s.get("browser"), dict) else {}
    r = s.get("restart") if isinstance(s.get("restart"), dict) else {}
    browser = BrowserSettings(**{k: (tuple(v) if k == "extra_args" else v) for k, v in b.items()
                                 if k in BrowserSettings.__dataclass_fields__})
    restart = RestartPolicy(**{k: v for k, v in r.items() if k in RestartPolicy.__dataclass_fields__})
    simple = {k: s[k] for k in ("poll_interval_ms", "task_pull_interval_s", "hang_timeout_s",
                                "heartbeat_interval_s", "action_timeout_s", "max_retry",
                                "resubmit_unknown", "reconcile_grace_s", "cut_loss_reprice_s")
              if k in s}
    listed = s.get("extra_holidays")
    holidays = tuple(x for x in listed if isinstance(x, date)) if isinstance(listed, list) else ()
    grid = _grid(doc, s.get("grid") if isinstance(s.get("grid"), dict) else {})
    calendar_file, calendar_years = None, ()
    if isinstance(s.get("calendar_file"), str) and s["calendar_file"].strip():
        from .calendar_file import load_calendar_file
        calendar_file = _resolve(base_dir, s["calendar_file"])
        calendar_years = load_calendar_file(doc, calendar_file)
    notifications = _notifications(doc, s.get("notifications")
                                   if isinstance(s.get("notifications"), dict) else {})
    return Settings(
        start=start, end=end, eod_report_time=eod,
        state_db=_resolve(base_dir, s.get("state_db", "state.db")),
        log_dir=_resolve(base_dir, s.get("log_dir", "logs")),
        report_dir=_resolve(base_dir, s.get("report_dir", "reports")),
        task_server=task_server, extra_holidays=holidays, restart=restart, browser=browser,
        grid=grid, calendar_file=calendar_file, calendar_years=calendar_years,
        notifications=notifications, **simple,
    )


def _grid(doc: _Located, g: dict) -> GridSettings:
    """settings.grid: the hub's address and event-bus ports, the nodes, the secret's variable."""
    hub = g.get("hub") if isinstance(g.get("hub"), dict) else {}
    nodes: list[GridNode] = []
    raw_nodes = g.get("nodes") if isinstance(g.get("nodes"), list) else []
    names: dict[str, int] = {}
    for i, entry in enumerate(raw_nodes):
        path = ("settings", "grid", "nodes", i)
        _check_mapping(doc, entry, GRID_NODE_SCHEMA, path)
        if not isinstance(entry, dict):
            continue
        missing = [k for k in ("name", "port") if k not in entry]
        if missing:
            doc.add(path, f"a node needs {' and '.join(missing)}")
            continue
        if _is_node_name(entry["name"]) or _int_range(1, 65535)(entry["port"]) or \
                ("host" in entry and _is_host(entry["host"])):
            continue  # already reported
        if entry["name"] in names:
            doc.add(path + ("name",), f"duplicate node name {entry['name']!r} (also "
                                      f"settings.grid.nodes[{names[entry['name']]}])")
            continue
        names[entry["name"]] = i
        nodes.append(GridNode(entry["name"], entry["port"], entry.get("host", "127.0.0.1")))
    fields = {k: v for k, v in hub.items() if k in ("host", "port", "publish_port",
                                                    "subscribe_port") and not
              (_is_host(v) if k == "host" else _int_range(1, 65535)(v))}
    grid = GridSettings(
        hub_host=fields.get("host", "127.0.0.1"), hub_port=fields.get("port", 4444),
        publish_port=fields.get("publish_port", 4442),
        subscribe_port=fields.get("subscribe_port", 4443), nodes=tuple(nodes),
        secret_env=g.get("secret_env") if not _is_env_name(g.get("secret_env")) else None,
        **{k: g[k] for k in ("session_timeout_s", "relaunch_window_s", "java_heap_mb")
           if k in g and not SETTINGS_SCHEMA["grid"][k](g[k])})
    # two listeners on one host and port cannot both start
    hub_at = ("settings", "grid", "hub")
    listeners = [(hub_at, "the hub", grid.hub_host, grid.hub_port),
                 (hub_at, "the hub's publish_port", grid.hub_host, grid.publish_port),
                 (hub_at, "the hub's subscribe_port", grid.hub_host, grid.subscribe_port)]
    listeners += [(("settings", "grid", "nodes", names[n.name], "port"), f"node {n.name!r}",
                   n.host, n.port) for n in grid.nodes]
    taken: dict[tuple[str, int], str] = {}
    for at, what, host, port in listeners:
        if (host, port) in taken:
            doc.add(at, f"{what} uses port {port} on {host}, already used by "
                        f"{taken[(host, port)]}")
        taken.setdefault((host, port), what)
    return grid


def _notifications(doc: _Located, n: dict) -> NotificationSettings:
    """settings.notifications: a Telegram chat and/or a webhook, each with its event levels."""
    at = ("settings", "notifications")
    t, w = n.get("telegram"), n.get("webhook")
    telegram = webhook = None
    if isinstance(t, dict):
        missing = [k for k in ("token_env", "chat_id") if k not in t]
        if missing:
            doc.add(at + ("telegram",), f"needs {' and '.join(missing)}")
        events, default = _event_levels(doc, t.get("events"), at + ("telegram", "events"), LEVELS)
        if not missing and not _is_env_name(t["token_env"]) and not _is_chat_id(t["chat_id"]):
            telegram = TelegramSettings(
                t["token_env"], str(t["chat_id"]), events=events, default=default,
                **{k: t[k] for k in ("api_url", "timeout_s", "min_interval_s")
                   if k in t and not SETTINGS_SCHEMA["notifications"]["telegram"][k](t[k])})
    if isinstance(w, dict):
        if ("url" in w) == ("url_env" in w):
            doc.add(at + ("webhook",), "needs exactly one of url (the address) or url_env (the "
                                       "NAME of a variable holding it, for a URL that is a secret)")
        events, default = _event_levels(doc, w.get("events"), at + ("webhook", "events"), (ON, OFF))
        headers = _header_env(doc, w.get("header_env"), at + ("webhook", "header_env"))
        one = ("url" in w) != ("url_env" in w)
        if one and not (_is_url(w["url"]) if "url" in w else _is_env_name(w["url_env"])):
            webhook = WebhookSettings(
                w.get("url"), w.get("url_env"), headers, events=events, default=default,
                **{k: w[k] for k in ("timeout_s",)
                   if k in w and not SETTINGS_SCHEMA["notifications"]["webhook"][k](w[k])})
    return NotificationSettings(telegram, webhook)


def _event_levels(doc: _Located, raw: Any, at: tuple, allowed: tuple[str, ...]
                  ) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """`events: {TYPE: on | silent | off, default: ...}`. YAML 1.1 reads a bare on/off (and
    yes/no) as true/false, so booleans mean on/off."""
    if not isinstance(raw, dict):
        return (), None
    levels: list[tuple[str, str]] = []
    default = None
    for key, value in raw.items():
        if key != "default" and key not in EVENT_TYPES:
            names = ["default", *EVENT_TYPES]
            hint = difflib.get_close_matches(str(key).upper(), names, n=1)
            doc.add(at + (key,), f"unknown event type {key!r}" + (
                f" (did you mean '{hint[0]}'?)" if hint else
                f"; known: {', '.join(names)}"))
            continue
        level = {True: ON, False: OFF}.get(value, value) if isinstance(value, bool) else value
        if level not in allowed:
            why = "; a webhook has no silent delivery" if level == SILENT else ""
            doc.add(at + (key,), f"must be {', '.join(allowed[:-1])} or {allowed[-1]}, "
                                 f"got {value!r}{why}")
            continue
        if key == "default":
            default = level
        else:
            levels.append((key, level))
    return tuple(levels), default


def _header_env(doc: _Located, raw: Any, at: tuple) -> tuple[tuple[str, str], ...]:
    """`header_env: {Authorization: ROBOT_WEBHOOK_AUTH}`: header names to variable NAMES."""
    if not isinstance(raw, dict):
        return ()
    out = []
    for name, var in raw.items():
        if not isinstance(name, str) or not HEADER_RE.match(name):
            doc.add(at + (name,), f"{name!r} is not an HTTP header name")
        elif name.lower() in RESERVED_HEADERS:
            doc.add(at + (name,), f"{name} is set by the robot itself")
        elif _is_env_name(var):
            doc.add(at + (name,), _is_env_name(var))
        else:
            out.append((name, var))
    return tuple(out)


def _check_nodes(doc: _Located, settings: Settings, accounts: tuple[Account, ...],
                 raw_accounts: Any) -> None:
    """With a Grid hub (remote_url), every enabled account names the node holding its profile;
    with a node list, every account's node is on it."""
    index = {a["id"]: i for i, a in enumerate(raw_accounts)
             if isinstance(a, dict) and isinstance(a.get("id"), str)} \
        if isinstance(raw_accounts, list) else {}
    known = [n.name for n in settings.grid.nodes]
    for acc in accounts:
        path = ("accounts", index.get(acc.id, 0))
        if acc.node is not None and _is_node_name(acc.node):
            continue  # already reported as malformed
        if settings.browser.remote_url and acc.enabled and not acc.node:
            doc.add(path, f"account {acc.id!r} needs 'node': settings.browser.remote_url sends its "
                          "browser to Selenium Grid, and 'node' names the node holding its "
                          "profile")
        elif acc.node and known and acc.node not in known:
            hint = difflib.get_close_matches(acc.node, known, n=1)
            doc.add(path + ("node",), f"unknown node {acc.node!r}" +
                    (f" (did you mean '{hint[0]}'?)" if hint else
                     f"; settings.grid.nodes has: {', '.join(known)}"))


def _check_emiten_list(doc: _Located, codes: Any, path: tuple) -> None:
    """Each entry an IDX stock code as tasks carry it (four capital letters): a lowercase or
    mistyped code would silently refuse every task for that stock."""
    if not isinstance(codes, list):
        return
    for i, code in enumerate(codes):
        if not isinstance(code, str) or EMITEN_RE.match(code):
            continue
        hint = (f"; write it in capitals: {code.strip().upper()!r}"
                if EMITEN_RE.match(code.strip().upper()) else "")
        doc.add(path + (i,), f"{code!r} is not an IDX stock code (four capital letters, e.g. "
                             f"BBCA){hint}")


def _check_pins(doc: _Located, brokers: dict[str, BrokerDef], accounts: tuple[Account, ...],
                raw_accounts: Any) -> None:
    """A broker whose order flow has a trading-PIN step (ipot) needs ``pin_env`` on each of its
    accounts: without it every order stops at the PIN pad."""
    index = {a["id"]: i for i, a in enumerate(raw_accounts)
             if isinstance(a, dict) and isinstance(a.get("id"), str)} \
        if isinstance(raw_accounts, list) else {}
    needs_pin: dict[str, bool] = {}
    for acc in accounts:
        broker = brokers.get(acc.broker)
        if broker is None or acc.pin_env or not acc.enabled:
            continue        # a disabled account is checked when it is enabled
        if acc.broker not in needs_pin:
            try:
                steps = json.loads(broker.selectors.read_text(encoding="utf-8")).get("steps")
            except (OSError, ValueError, AttributeError):
                steps = None   # an unreadable selectors file is reported by _check_adapter
            needs_pin[acc.broker] = isinstance(steps, list) and "pin" in steps
        if needs_pin[acc.broker]:
            doc.add(("accounts", index.get(acc.id, 0)),
                    f"account {acc.id!r} needs 'pin_env': broker '{acc.broker}' asks for a trading "
                    f"PIN before orders; name the environment variable that holds it (e.g. "
                    f"pin_env: ROBOT_PIN_{re.sub(r'[^A-Za-z0-9_]', '_', acc.id).upper()})")


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


def _brokers(doc: _Located, raw: Any, base_dir: Path, check_files: bool,
             used: set[str]) -> dict[str, BrokerDef]:
    """Built-in brokers merged with the file's; selectors files are checked for brokers in use."""
    if not isinstance(raw, dict):
        doc.add(("brokers",), "must be a mapping of broker name to {adapter, selectors, base_url}")
        raw = {}
    merged: dict[str, dict] = {k: dict(v) for k, v in BUILTIN_BROKERS.items()}
    for name, body in raw.items():
        path = ("brokers", name)
        if not isinstance(name, str) or not ACCOUNT_ID_RE.match(name):
            doc.add(path, "broker names are letters, digits, '_', '-' or '.'")
            continue
        _check_mapping(doc, body, BROKER_SCHEMA, path)
        if isinstance(body, dict):
            if name not in merged:
                for key in BROKER_SCHEMA:
                    if key not in body:
                        doc.add(path, f"a new broker needs '{key}'")
            merged[name] = {**merged.get(name, {}), **body}
    out: dict[str, BrokerDef] = {}
    for name, body in merged.items():
        if not all(isinstance(body.get(k), str) for k in BROKER_SCHEMA):
            continue
        sel = _find_selectors(base_dir, body["selectors"])
        if check_files and name in used and not sel.is_file():
            doc.add(("brokers", name, "selectors") if name in raw else ("brokers",),
                    f"selectors file for broker '{name}' not found: {sel}")
        out[name] = BrokerDef(name, body["adapter"], sel, body["base_url"].rstrip("/"))
        if check_files and name in used:
            at = ("brokers", name, "adapter") if name in raw else ("brokers",)
            _check_adapter(doc, out[name], at)
    return out


def _check_adapter(doc: _Located, broker: BrokerDef, at: tuple) -> None:
    """The broker's adapter module imports and, if it is selector-driven, its selectors file is
    valid for it: caught by `robot check` and before the day starts, not by a crash-looping worker."""
    from adapters import ALIASES
    from adapters.selectors import SelectorsError, load_selectors
    module_name = ALIASES.get(broker.adapter, broker.adapter)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or the module failing as it loads
        doc.add(at, f"adapter {broker.adapter!r} of broker '{broker.name}' cannot be imported "
                    f"({type(exc).__name__}: {exc}); use generic or an importable module such "
                    f"as adapters.ipot")
        return
    cls = getattr(module, "ADAPTER", None)
    if not isinstance(cls, type):
        doc.add(at, f"adapter module {module_name!r} of broker '{broker.name}' has no ADAPTER class")
        return
    steps = getattr(cls, "STEPS", None)
    if steps is not None and broker.selectors.is_file():
        try:
            load_selectors(broker.selectors, broker.name, set(steps))
        except SelectorsError as exc:
            doc.problems.extend(exc.problems)


def _accounts(doc: _Located, raw: Any, brokers: dict[str, BrokerDef],
              base_dir: Path) -> tuple[Account, ...]:
    if raw is None:
        doc.add(("accounts",), "is missing: list at least one account")
        return ()
    if not isinstance(raw, list):
        doc.add(("accounts",), f"must be a list of accounts, got {type(raw).__name__}")
        return ()
    seen_ids: dict[str, int] = {}
    seen_profiles: dict[Path, str] = {}
    accounts = []
    for i, entry in enumerate(raw):
        path = ("accounts", i)
        _check_mapping(doc, entry, ACCOUNT_SCHEMA, path)
        if not isinstance(entry, dict):
            continue
        missing = [k for k in ACCOUNT_REQUIRED if k not in entry]
        if missing:
            doc.add(path, f"account {entry.get('id', '#' + str(i + 1))!r} is missing "
                          f"{', '.join(missing)}")
            continue
        acc_id, broker = entry["id"], entry["broker"]
        if isinstance(acc_id, str) and not ACCOUNT_ID_RE.match(acc_id):
            doc.add(path + ("id",), f"{acc_id!r}: use letters, digits, '_', '-' or '.' (it names "
                                    "files and log lines)")
        if isinstance(acc_id, str):
            if acc_id in seen_ids:
                doc.add(path + ("id",), f"duplicate account id {acc_id!r} (also accounts"
                                        f"[{seen_ids[acc_id]}])")
            seen_ids.setdefault(acc_id, i)
        if isinstance(broker, str) and broker not in brokers:
            hint = difflib.get_close_matches(broker, list(brokers), n=1)
            doc.add(path + ("broker",), f"unknown broker {broker!r}" +
                    (f" (did you mean '{hint[0]}'?)" if hint else
                     f"; known: {', '.join(sorted(brokers))} or define it under 'brokers'"))
        if not isinstance(entry.get("profile_path"), str):
            continue
        profile = _resolve(base_dir, entry["profile_path"]).resolve()
        if profile.exists() and not profile.is_dir():
            doc.add(path + ("profile_path",), f"{profile} is a file: a profile is a folder of its "
                    "own (Chromium keeps the account's session there); name a folder")
        if profile in seen_profiles:
            doc.add(path + ("profile_path",), f"{entry['profile_path']!r} is already the profile "
                    f"of account {seen_profiles[profile]!r}: two browsers cannot share a profile")
        seen_profiles.setdefault(profile, str(acc_id))
        lim = entry.get("limits") if isinstance(entry.get("limits"), dict) else {}
        _check_emiten_list(doc, lim.get("allowed_emiten"), path + ("limits", "allowed_emiten"))
        limits = Limits(**{k: (tuple(v) if k == "allowed_emiten" and isinstance(v, list) else v)
                           for k, v in lim.items() if k in Limits.__dataclass_fields__})
        accounts.append(Account(
            id=str(acc_id), broker=str(broker), profile_path=profile,
            enabled=entry["enabled"] is True, headless=entry.get("headless"),
            dry_run=entry.get("dry_run", False) is True, limits=limits,
            username=entry.get("username"), pin_env=entry.get("pin_env"),
            password_env=entry.get("password_env"), node=entry.get("node"),
        ))
    if not accounts and not doc.problems:
        doc.add(("accounts",), "is empty: list at least one account")
    return tuple(accounts)


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


def _env_refs(doc: _Located, raw: dict) -> tuple[EnvRef, ...]:
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
                where = at if sub is None else at + (sub,)
                if isinstance(name, str) and not _is_env_name(name):
                    refs.append(_env_ref(doc, raw, where, name))
    walk(raw, ())
    return tuple(refs)


def _env_ref(doc: _Located, raw: dict, at: tuple, name: str) -> EnvRef:
    why, required = _env_why(at)
    if at[0] == "accounts" and isinstance(at[1], int):
        entry = raw["accounts"][at[1]]
        required = required and isinstance(entry, dict) and entry.get("enabled") is True
        if isinstance(entry, dict):
            why = f"account {entry.get('id')!r}: {why}"
    return EnvRef(name, dotted(at), doc.marks.get(at, (None, None))[0], required, why)


def _read_env_file(doc: _Located, cfg: Config, raw_settings: Any) -> Config:
    """Read settings.env_file (or a .env beside the config), add it to the environment and
    register every named variable's value as a secret the logs must mask."""
    from . import envfile, logs
    named = raw_settings.get("env_file") if isinstance(raw_settings, dict) else None
    path = _resolve(cfg.path.parent, named) if named else cfg.path.parent / envfile.DEFAULT_NAME
    if named and not path.exists():
        doc.add(("settings", "env_file"), f"{path} not found (it holds the secrets the "
                                          "variables named by *_env keys need)")
        raise ConfigError(doc.problems)
    if path.exists():
        env, problems = envfile.read(path)
        if problems:
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
    looked = f"not in the environment nor in {cfg.env_file}" if cfg.env_file else \
        f"not in the environment, and no env file at {cfg.path.parent / '.env'}"
    for ref in cfg.env_refs:
        if os.environ.get(ref.name):
            continue
        problem = Problem(str(cfg.path), ref.key, f"{ref.name} is not set ({looked}): "
                                                  f"{ref.why}", ref.line)
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
    lines.append(f"hours {s.start:%H:%M}-{s.end:%H:%M} WIB, EOD report {s.eod_report_time:%H:%M}, "
                 f"poll every {s.poll_interval_ms} ms")
    lines.append(f"secrets: {cfg.env_file}" if cfg.env_file else
                 f"secrets: from the environment only (no env file at {cfg.path.parent / '.env'})")
    lines.append(f"state {s.state_db}; task server "
                 f"{s.task_server.url if s.task_server else 'none (local task files only)'}")
    n = s.notifications
    if n.telegram or n.webhook:
        from urllib.parse import urlsplit
        to = [f"telegram chat {n.telegram.chat_id}"] if n.telegram else []
        if n.webhook:   # the host only: a webhook's path or query can be its secret
            to.append("webhook " + (urlsplit(n.webhook.url).hostname or "?" if n.webhook.url
                                    else f"from ${n.webhook.url_env}"))
        lines.append(f"notifications: {'; '.join(to)}")
    if s.browser.remote_url:
        nodes: dict[str, list[str]] = {}
        for a in enabled:
            nodes.setdefault(a.node or "?", []).append(a.id)
        lines.append(f"browsers on Selenium Grid {s.browser.remote_url}: " + "; ".join(
            f"{node} ({', '.join(ids)})" for node, ids in nodes.items()))
    return "\n".join(lines)
