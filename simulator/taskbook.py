"""The task server's data: tasks that appear at ``available_at`` and idempotent events."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from robot.clock import iso

SERVER_SIDE_KEYS = ("available_at", "date")


class TaskBook:
    """Tasks by day. Guarded by the server's lock."""

    def __init__(self, default_day: date) -> None:
        self.default_day = default_day
        self._tasks: list[dict[str, Any]] = []

    def add(self, task: dict[str, Any]) -> dict[str, Any]:
        """Add a parsed task (see scenario.parse_task); ValueError on a duplicate task_id."""
        if any(t["task_id"] == task["task_id"] for t in self._tasks):
            raise ValueError(f"task_id {task['task_id']!r} already exists")
        task = dict(task)
        task["date"] = task.get("date") or self.default_day
        self._tasks.append(task)
        return task

    def available(self, day: date, now: datetime) -> list[dict[str, Any]]:
        """Tasks of ``day`` as served: past days all, today those whose time came, future none."""
        today = now.date()
        out = []
        for task in self._tasks:
            if task["date"] != day or day > today:
                continue
            if day == today and task.get("available_at") and task["available_at"] > now.time():
                continue
            out.append(served(task))
        return sorted(out, key=lambda t: self._order(t["task_id"]))

    def _order(self, task_id: str) -> tuple[Any, int]:
        for i, t in enumerate(self._tasks):
            if t["task_id"] == task_id:
                return (t.get("available_at") or datetime.min.time(), i)
        return (datetime.min.time(), 0)

    def all(self) -> list[dict[str, Any]]:
        return [dict(t) for t in self._tasks]


def served(task: dict[str, Any]) -> dict[str, Any]:
    """The protocol view of a task: server-side scheduling keys removed."""
    return {k: v for k, v in task.items() if k not in SERVER_SIDE_KEYS}


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
