"""Pulling the day's tasks from the user's task server (docs/PROTOCOL.md), resiliently.

Timeouts on connect and read, capped exponential backoff while the server is down or answers
badly, and catching up when it returns: every pull asks for the whole day, and intake
deduplicates by task_id, so a missed pull loses nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import date

import requests

from .config import Config, TaskServer
from .store import Store
from .tasks import Intake, ingest

log = logging.getLogger("robot.taskpull")
CONNECT_TIMEOUT_S = 3.05
MAX_BACKOFF_S = 300.0


class TaskPuller:
    def __init__(self, cfg: Config, store: Store, day: date, clock, monotonic=time.monotonic):
        self.cfg, self.store, self.day, self.clock = cfg, store, day, clock
        if cfg.settings.task_server is None:
            raise ValueError("a TaskPuller needs settings.task_server")
        self.server: TaskServer = cfg.settings.task_server
        self.monotonic = monotonic
        self.session = requests.Session()
        self.failures = 0
        self.next_at = 0.0
        self.last_ok: float | None = None
        self.last_error: str | None = None

    @property
    def interval_s(self) -> float:
        """Wall seconds between pulls: the configured interval on the run's clock, at least 0.5."""
        return max(0.5, self.cfg.settings.task_pull_interval_s / self.clock.speed)

    def due(self) -> bool:
        return self.monotonic() >= self.next_at

    def pull(self) -> Intake | None:
        """One pull; on failure schedules the next with backoff and returns None."""
        now = self.monotonic()
        try:
            tasks = self._fetch()
        except TaskServerError as exc:
            self.failures += 1
            delay = min(MAX_BACKOFF_S, self.interval_s * 2 ** min(self.failures, 10))
            self.next_at = now + delay
            if self.last_error != str(exc) or self.failures in (1, 5, 20):
                log.warning(
                    "task server: %s (failure %d; next try in %.1f s)", exc, self.failures, delay
                )
            self.last_error = str(exc)
            return None
        if self.failures:
            log.info("task server reachable again after %d failure(s)", self.failures)
        self.failures, self.last_error, self.last_ok = 0, None, now
        self.next_at = now + self.interval_s
        result = ingest(
            self.store, self.cfg, tasks, f"server:{self.server.url}", self.day, self.clock.now()
        )
        if result.accepted or result.rejected or result.conflicts or result.cancels:
            log.info("tasks pulled: %s", result)
        return result

    def _fetch(self) -> list:
        url = self.server.url.rstrip("/") + "/api/tasks"
        headers = {"Accept": "application/json"}
        token = self.server.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = self.session.get(
                url,
                params={"date": self.day.isoformat()},
                headers=headers,
                timeout=(CONNECT_TIMEOUT_S, self.server.timeout_s),
            )
        except requests.RequestException as exc:
            raise TaskServerError(f"unreachable ({type(exc).__name__})") from None
        if resp.status_code == 401:
            raise TaskServerError(f"401 unauthorised: check the token in ${self.server.token_env}")
        if resp.status_code != 200:
            raise TaskServerError(f"HTTP {resp.status_code}: {resp.text[:200]!r}")
        try:
            body = resp.json()
        except (ValueError, RecursionError):
            raise TaskServerError(f"malformed JSON: {resp.text[:120]!r}") from None
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise TaskServerError('answer is not {"date": ..., "tasks": [...]}')
        if body.get("date") not in (None, self.day.isoformat()):
            raise TaskServerError(
                f"answered for date {body.get('date')!r}, asked {self.day.isoformat()}"
            )
        return body["tasks"]


class TaskServerError(Exception):
    pass
