"""The state store: one SQLite file (WAL) shared by the supervisor and every worker process.

Every read and write of state.db goes through a named method of ``Store``, in the robot's words
(``tasks_of``, ``insert_intent``, ``mark_clicked``, ...): SQL lives in this package only. The
methods join a transaction the caller holds open (``with store.transaction():``), so a change
and its event, or an intent and its task's move, are still committed together. The schema is
versioned with ``PRAGMA user_version`` and migrated forward on open; every table and column is
documented in docs/STATE.md.

- connection.py: opening the file (WAL), migrations, transactions, the raw-SQL reads
- schema.py: the schema, as SQL DDL migrations
- tasks.py: tasks and their orders (each state change checked against robot/orders.py)
- events.py: the events outbox, its delivery and the alert channels' cursors
- workers.py: each account's worker state and its history
- runs.py: supervisor runs, the brokers' histories at the close and the day's report
- requests.py: a person's requests (resolve a task, re-enable an account) and their outcome
- overview.py: the bounded, read-only reads of a person watching the day (robot dashboard)
"""

from __future__ import annotations

from .connection import BUSY_TIMEOUT_MS, _split_sql  # noqa: F401 (tests build old schemas)
from .events import EventRows
from .overview import OverviewRows
from .requests import RequestRows
from .runs import RunRows
from .schema import MIGRATIONS, SCHEMA_VERSION
from .tasks import OrderRows, TaskRows
from .workers import WorkerRows

__all__ = ["BUSY_TIMEOUT_MS", "MIGRATIONS", "SCHEMA_VERSION", "Store"]


class Store(TaskRows, OrderRows, EventRows, WorkerRows, RunRows, RequestRows, OverviewRows):
    """A connection to state.db for one process (connections are never shared across processes),
    with every table's named reads and writes."""
