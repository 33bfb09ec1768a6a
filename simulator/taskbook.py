"""The task server's data: tasks that appear at ``available_at`` and idempotent events."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from robot.clock import iso

from .scenario import SERVER_TASK_KEYS


class TaskBook:
    """Tasks by day. Guarded by the server's lock."""

    def __init__(self, default_day: date) -> None:
        self.default_day = default_day
        self._tasks: list[dict[str, Any]] = []

    def add(self, task: dict[str, Any]) -> dict[str, Any]:
        """Add a parsed task (see scenario.parse_task); ValueError on a duplicate task_id."""
        if self.find(task["task_id"]) is not None:
            raise ValueError(f"task_id {task['task_id']!r} already exists")
        task = dict(task)
        task["date"] = task.get("date") or self.default_day
        self._tasks.append(task)
        return task

    def find(self, task_id: str) -> dict[str, Any] | None:
        return next((t for t in self._tasks if t["task_id"] == task_id), None)

    def cancel(self, task_id: str) -> None:
        """Serve the task with ``cancel: true`` from now on; KeyError if unknown."""
        task = self.find(task_id)
        if task is None:
            raise KeyError(task_id)
        task["cancel"] = True

    def available(self, day: date, now: datetime) -> list[dict[str, Any]]:
        """Tasks of ``day`` as served: past days all, today those whose time came, future none."""
        today = now.date()
        out = []
        for task in sorted(self._tasks, key=lambda t: t.get("available_at") or time.min):
            if task["date"] != day or day > today:
                continue
            if day == today and task.get("available_at") and task["available_at"] > now.time():
                continue
            out.append(served(task, now))
        return out


def _passed(day: date, at: time | None, now: datetime) -> bool:
    return at is not None and (now.date() > day or (now.date() == day and now.time() >= at))


def served(task: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The protocol view of a task: scheduling keys removed, date as text, cancel when due."""
    out = {k: v for k, v in task.items() if k not in SERVER_TASK_KEYS}
    out["date"] = task["date"].isoformat()
    if _passed(task["date"], task.get("cancel_at"), now):
        out["cancel"] = True
    return out


class EventLog:
    """Events by id, stored once however often they are delivered. Guarded by the server's lock."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self.duplicate_deliveries = 0

    def add(self, event: dict[str, Any], received: datetime) -> bool:
        """Store a valid event; False (and counted) when its id was seen before."""
        if event["id"] in self._ids:
            self.duplicate_deliveries += 1
            return False
        self._ids.add(event["id"])
        self.events.append({**event, "received_at": iso(received)})
        return True
