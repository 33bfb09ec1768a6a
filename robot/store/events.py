"""The events outbox: events written with the change they describe, their delivery to the task
server (robot/outbox.py), and each alert channel's place in them (robot/notify.py)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from ..clock import iso
from ..events import check_type as check_event_type
from .connection import StoreBase


class EventRows(StoreBase):
    # ----------------------------------------------------------------------------- writing
    def add_event(
        self,
        type_: str,
        account: str | None,
        payload: dict,
        at: datetime | str,
        task_id: str | None = None,
        event_id: str | None = None,
        once: bool = False,
    ) -> str:
        """Write one event to the outbox. Call inside the transaction of the change it describes.

        ``type_`` must be registered in robot/events.py (it then has a documented schema), or
        UnknownEventType is raised before anything is written. ``once``: an event with this
        ``event_id`` already stored is kept as it is (no error, nothing added)."""
        check_event_type(type_)
        event_id = event_id or str(uuid.uuid4())
        with self.transaction():
            self.db.table("events").insert(
                {
                    "id": event_id,
                    "type": type_,
                    "account": account,
                    "task_id": task_id,
                    "created": at if isinstance(at, str) else iso(at),
                    "payload": json.dumps(payload, sort_keys=True, default=str),
                },
                ignore=once,
            )
        return event_id

    def add_event_once_a_day(
        self, type_: str, account: str, payload: dict, at: datetime, day: date | str
    ) -> bool:
        """An event of this type for the account unless one was written on ``day`` already (a
        worker waiting for a login asks again and again; the person is told once)."""
        with self.transaction():
            if (
                self._value(
                    "SELECT 1 FROM events WHERE type = ? AND account = ? AND "
                    "substr(created, 1, 10) = ?",
                    (type_, account, str(day)),
                )
                is not None
            ):
                return False
            self.add_event(type_, account, payload, at)
        return True

    # ----------------------------------------------------------------------------- reading
    def conflict_reported(self, task_id: str, received_hash: str) -> bool:
        """Whether a TASK_CONFLICT was already written for this changed version of a task."""
        return (
            self._value(
                "SELECT 1 FROM events WHERE type = 'TASK_CONFLICT' AND task_id = ? "
                "AND payload LIKE ?",
                (task_id, f'%"{received_hash}"%'),
            )
            is not None
        )

    def last_event_of(self, account: str) -> dict | None:
        return self._row(
            "SELECT type, task_id FROM events WHERE account = ? ORDER BY seq DESC LIMIT 1",
            (account,),
        )

    def events_of_type_on(self, type_: str, day: date | str) -> list[dict]:
        """The events of one type written on ``day`` (WIB), in order, payloads decoded."""
        rows = self._rows(
            "SELECT account, task_id, created, payload FROM events WHERE type = ? "
            "AND substr(created, 1, 10) = ? ORDER BY seq",
            (type_, str(day)),
        )
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    def events_after(self, seq: int, limit: int) -> list[dict]:
        return self._rows("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))

    # ----------------------------------------------------------- delivery to the task server
    def undelivered_events(self, limit: int) -> list[dict]:
        """The oldest events neither delivered nor refused, in delivery order."""
        return self._rows(
            "SELECT * FROM events WHERE delivered_at IS NULL AND "
            "undeliverable IS NULL ORDER BY seq LIMIT ?",
            (limit,),
        )

    def mark_delivered(self, event_ids: list[str], at: datetime) -> None:
        with self.transaction() as c:
            c.executemany(
                "UPDATE events SET delivered_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [(iso(at), i) for i in event_ids],
            )

    def mark_undeliverable(self, event_id: str, answer: str) -> None:
        """The server refused this event (a 4xx): kept with its answer, not retried."""
        with self.transaction() as c:
            c.execute(
                "UPDATE events SET undeliverable = ?, attempts = attempts + 1 WHERE id = ?",
                (answer, event_id),
            )

    def note_delivery_failure(self, event_ids: list[str], why: str) -> None:
        with self.transaction() as c:
            c.executemany(
                "UPDATE events SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                [(why, i) for i in event_ids],
            )

    # ------------------------------------------------------------------ alert channels
    def notify_channel(self, channel: str, day: str, at: datetime) -> dict:
        """A notification channel's row as a run starts it: created on first use with its
        cursor just before the first event of ``day`` (a new channel gets today's alerts, never
        older history); else its cursor kept and its status fresh (last_error kept)."""
        with self.transaction():
            if self._row("SELECT 1 FROM notify_channels WHERE channel = ?", (channel,)):
                self.db.table("notify_channels").update(
                    channel, {"status": "ok", "attempts": 0, "updated": iso(at)}
                )
            else:
                first = self._value(
                    "SELECT MIN(seq) FROM events WHERE substr(created, 1, 10) >= ?", (day,)
                )
                last = self._value("SELECT COALESCE(MAX(seq), 0) FROM events")
                self.db.table("notify_channels").insert(
                    {
                        "channel": channel,
                        "cursor": first - 1 if first is not None else last,
                        "created": iso(at),
                        "updated": iso(at),
                    }
                )
            return self._must_row("SELECT * FROM notify_channels WHERE channel = ?", (channel,))

    def notify_advance(self, channel: str, seq: int, at: datetime) -> None:
        """Move past events this channel does not send (their level is off)."""
        with self.transaction() as c:
            c.execute(
                "UPDATE notify_channels SET cursor = MAX(cursor, ?), updated = ? WHERE channel = ?",
                (seq, iso(at), channel),
            )

    def notify_settle(
        self,
        channel: str,
        event: dict,
        level: str,
        outcome: str,
        attempts: int,
        detail: str | None,
        at: datetime,
    ) -> None:
        """Record what became of one event on a channel and move the cursor past it, atomically."""
        with self.transaction() as c:
            self.db.table("notifications").insert(
                {
                    "channel": channel,
                    "event_seq": event["seq"],
                    "event_id": event["id"],
                    "type": event["type"],
                    "level": level,
                    "outcome": outcome,
                    "at": iso(at),
                    "attempts": attempts,
                    "detail": detail,
                },
                replace=True,
            )
            c.execute(
                "UPDATE notify_channels SET cursor = MAX(cursor, ?), updated = ?, "
                "status = 'ok', attempts = 0, sent = sent + ? WHERE channel = ?",
                (event["seq"], iso(at), int(outcome == "sent"), channel),
            )

    def notify_failed(self, channel: str, status: str, error: str, at: datetime) -> None:
        """A failed attempt (status 'retrying') or a channel that cannot work ('stopped')."""
        with self.transaction() as c:
            c.execute(
                "UPDATE notify_channels SET status = ?, attempts = attempts + 1, "
                "last_error = ?, updated = ? WHERE channel = ?",
                (status, error, iso(at), channel),
            )
