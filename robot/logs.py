"""Logging: one rotated file per account under logs/, plus the supervisor's own.

A filter masks every secret the process knows (token, PINs, passwords) before a line is written,
so a careless message cannot leak one.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

_SECRETS: set[str] = set()

# What is masked besides the registered secrets: only the shapes real secrets come in, with the
# key a whole word (never a part of an identifier such as CHECK_SESSION, pin_env or
# login_form.password, and never prose such as "PIN refused: ...").
_KEYS = (
    "x-api-key",
    "api-key",
    "api_key",
    "apikey",
    "client_secret",
    "secret",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "api_token",
    "token",
    "password",
    "passwd",
    "pin",
    "set-cookie",
    "cookie",
    "authorization",
    "session_id",
    "sessionid",
    "sid",
)
_WORD = r"(?<![\w.-])(?:{})(?![\w-])"
# A Cookie or Set-Cookie header: everything after it on the line is cookies.
_COOKIE_HEADER_RE = re.compile(
    _WORD.format("set-cookie|cookie") + r"\s*:\s*(?![\s\"'*])[^\r\n]+", re.IGNORECASE
)
# key=value, key: value, "key": "value", 'key': 'value' (an Authorization value keeps its scheme)
_KEY_VALUE_RE = re.compile(
    r"(?P<key>" + _WORD.format("|".join(_KEYS)) + r")(?P<sep>['\"]?\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|(?:bearer|basic)\s+[^\s,;&'\"}\])]+|[^\s,;&'\"}\])]+)",
    re.IGNORECASE,
)
# A bearer token wherever it appears (8+ characters, so the prose "bearer of ..." is left alone)
_BEARER_RE = re.compile(r"(?<![\w-])(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*", re.IGNORECASE)
# A session cookie pair by its usual names: sb_session=..., JSESSIONID=..., connect.sid=...,
# ajaib_token=... (with "=" only: "CHECK_SESSION: checking" is prose)
_COOKIE_PAIR_RE = re.compile(
    r"(?<![\w.-])(?P<key>[\w.-]*?(?:sess(?:ion)?(?:[_-]?id)?|sid|token))="
    r"(?P<value>[^\s;,&'\"}\])]+)",
    re.IGNORECASE,
)


def register_secret(value: str | None) -> None:
    """Never log this value (a token or PIN read from the environment)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def register_secret_env(name: str | None) -> None:
    if name:
        register_secret(os.environ.get(name))


def redact(text: str) -> str:
    """``text`` with every registered secret and every key=value secret masked as ***."""
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    text = _COOKIE_HEADER_RE.sub(lambda m: m.group(0)[: m.group(0).index(":") + 1] + " ***", text)
    text = _KEY_VALUE_RE.sub(_mask_value, text)
    text = _BEARER_RE.sub(lambda m: m.group(1) + "***", text)
    return _COOKIE_PAIR_RE.sub(lambda m: m.group("key") + "=***", text)


def _mask_value(m: re.Match) -> str:
    value = m.group("value")
    if value[:1] in "\"'":
        masked = value[0] + "***" + value[0]  # keep the quotes: JSON stays JSON
    elif " " in value or "\t" in value:
        masked = value.split(None, 1)[0] + " ***"  # "Bearer ***": the scheme is no secret
    else:
        masked = "***"
    return m.group("key") + m.group("sep") + masked


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ClockFormatter(logging.Formatter):
    """Stamps lines with the robot's clock (WIB, possibly accelerated), not the host's zone."""

    def __init__(self, fmt: str, clock=None):
        super().__init__(fmt)
        self.clock = clock

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if self.clock is None:
            from .clock import RealClock

            self.clock = RealClock()
        return self.clock.now().isoformat(timespec="milliseconds")


def setup(
    log_dir: Path,
    name: str,
    to_stderr: bool = False,
    level: int = logging.INFO,
    max_bytes: int = 5_000_000,
    backups: int = 10,
    clock=None,
) -> logging.Logger:
    """Configure this process's root logger to write ``log_dir/<name>.log`` (rotated)."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / f"{name}.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handlers: list[logging.Handler] = [handler]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(ClockFormatter(FORMAT, clock))
        h.addFilter(RedactingFilter())
        root.addHandler(h)
    root.setLevel(level)
    for noisy in ("urllib3", "selenium", "undetected_chromedriver", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return logging.getLogger(name)
