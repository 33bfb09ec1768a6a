"""Delivering the events outbox to the task server: in order, at least once, never lost.

Events are written to the ``events`` table in the same transaction as the change they describe;
this reporter (in the supervisor) posts them oldest first to ``POST /api/events``, marks each
delivered only after a 2xx whose body is a JSON object, and on a network error, a 5xx, a 401, a
429 or a malformed 2xx (nothing is known to be stored) stops and retries the same events later
with capped backoff, so an account's events are never reordered or skipped.
A 4xx other than 401/429 is the server saying "this event is wrong": it is recorded as
undeliverable with the server's answer, and delivery goes on. Event ids make redelivery harmless.
"""

from __future__ import annotations

import json
import logging
import time

import requests

from .config import TaskServer
from .store import Store

log = logging.getLogger("robot.outbox")
BATCH = 50
CONNECT_TIMEOUT_S = 3.05
BACKOFF_MAX_S = 60.0


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def wire_form(row: dict) -> dict:
    """An events row as docs/PROTOCOL.md specifies it."""
    return {
        "id": row["id"],
        "type": row["type"],
        "account": row["account"] or "robot",
        "time": row["created"],
        "task_id": row["task_id"],
        "payload": json.loads(row["payload"]),
    }


class Outbox:
    def __init__(self, store: Store, server: TaskServer | None, clock, monotonic=time.monotonic):
        self.store, self.server, self.clock = store, server, clock
        self.monotonic = monotonic
        self.session = requests.Session()
        self.failures = 0
        self.next_at = 0.0
        self.delivered = 0

    def pending(self, limit: int = BATCH) -> list[dict]:
        return self.store.undelivered_events(limit)

    def due(self) -> bool:
        return self.server is not None and self.monotonic() >= self.next_at

    def deliver(self, max_batches: int = 20) -> int:
        """Post what is pending; returns how many events were delivered this call."""
        if self.server is None:
            return 0
        sent = 0
        for _ in range(max_batches):
            rows = self.pending()
            if not rows:
                break
            ok = self._post_batch(rows)
            if ok is None:  # the server is unavailable: keep order, try later
                return sent
            sent += ok
        self.failures = 0
        self.next_at = self.monotonic() + 0.5
        self.delivered += sent
        return sent

    def _post_batch(self, rows: list[dict]) -> int | None:
        status, text = self._post([wire_form(r) for r in rows])
        if status is not None and 200 <= status < 300:
            self._mark_delivered([r["id"] for r in rows])
            return len(rows)
        if status is not None and 400 <= status < 500 and status not in (401, 429):
            return self._one_by_one(rows)
        self._backoff(rows, f"HTTP {status}: {text[:200]}" if status else text)
        return None

    def _one_by_one(self, rows: list[dict]) -> int | None:
        """A batch was refused: find the event(s) the server objects to, deliver the rest."""
        sent = 0
        for row in rows:
            status, text = self._post(wire_form(row))
            if status is not None and 200 <= status < 300:
                self._mark_delivered([row["id"]])
                sent += 1
            elif status is not None and 400 <= status < 500 and status not in (401, 429):
                self.store.mark_undeliverable(row["id"], f"HTTP {status}: {text[:500]}")
                log.error(
                    "event %s (%s) refused by the task server: HTTP %s %s",
                    row["id"],
                    row["type"],
                    status,
                    text[:200],
                )
            else:
                self._backoff([row], f"HTTP {status}: {text[:200]}" if status else text)
                return None
        return sent

    def _post(self, body) -> tuple[int | None, str]:
        server = self.server
        if server is None:  # deliver() posts nothing without one
            raise RuntimeError("no task server to post events to")
        url = server.url.rstrip("/") + "/api/events"
        headers = {"Content-Type": "application/json"}
        token = server.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            resp = self.session.post(
                url,
                data=json.dumps(body, default=str),
                headers=headers,
                timeout=(CONNECT_TIMEOUT_S, server.timeout_s),
            )
        except requests.RequestException as exc:
            return None, f"unreachable ({type(exc).__name__})"
        if 200 <= resp.status_code < 300 and not _json_object(resp.text):
            # a 200 cut off mid-body (a crashed proxy) proves nothing was stored: retry it
            return None, f"malformed {resp.status_code} answer: {resp.text[:100]!r}"
        return resp.status_code, resp.text

    def _mark_delivered(self, ids: list[str]) -> None:
        self.store.mark_delivered(ids, self.clock.now())

    def _backoff(self, rows: list[dict], why: str) -> None:
        self.failures += 1
        delay = min(BACKOFF_MAX_S, 2 ** min(self.failures - 1, 6))
        self.next_at = self.monotonic() + delay
        self.store.note_delivery_failure([r["id"] for r in rows], why)
        if self.failures in (1, 5) or self.failures % 20 == 0:
            log.warning(
                "event delivery failed (%s); %d pending, retry in %.0f s", why, len(rows), delay
            )
