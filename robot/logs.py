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
_COOKIE_RE = re.compile(r"(?i)(cookie|session|token|authorization|pin|password)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",;}]+)")


def register_secret(value: str | None) -> None:
    """Never log this value (a token or PIN read from the environment)."""
    if value and len(value) >= 3:
        _SECRETS.add(value)


def register_secret_env(name: str | None) -> None:
    if name:
        register_secret(os.environ.get(name))


def redact(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return _COOKIE_RE.sub(lambda m: m.group(1) + m.group(2) + "***", text)


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


def setup(log_dir: Path, name: str, to_stderr: bool = False, level: int = logging.INFO,
          max_bytes: int = 5_000_000, backups: int = 10, clock=None) -> logging.Logger:
    """Configure this process's root logger to write ``log_dir/<name>.log`` (rotated)."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.handlers.RotatingFileHandler(log_dir / f"{name}.log", maxBytes=max_bytes,
                                                   backupCount=backups, encoding="utf-8")
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
