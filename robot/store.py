"""The state store: one SQLite file (WAL) shared by the supervisor and every worker process.

Writes are short ``BEGIN IMMEDIATE`` transactions: the write lock is taken up front, so two
processes never deadlock upgrading a read lock, and ``busy_timeout`` makes a writer wait its turn
instead of failing with "database is locked". The schema is versioned with ``PRAGMA user_version``
and migrated forward on open. Every table and column is documented in docs/STATE.md.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from .clock import iso
from .events import check_type as check_event_type

BUSY_TIMEOUT_MS = 30_000

# Forward migrations: MIGRATIONS[n] takes the schema from version n to n + 1.
MIGRATIONS: list[str] = [
    # 0 -> 1: the initial schema
    """
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        trading_date  TEXT NOT NULL,
        started       TEXT NOT NULL,
        ended         TEXT,
        pid           INTEGER NOT NULL,
        host          TEXT NOT NULL,
        config_path   TEXT NOT NULL,
        clock         TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'running',   -- running | done | interrupted | failed
        note          TEXT
    );
    CREATE TABLE workers (
        account       TEXT PRIMARY KEY,
        broker        TEXT NOT NULL,
        state         TEXT NOT NULL,
        since         TEXT NOT NULL,
        reason        TEXT,
        pid           INTEGER,
        pid_created   REAL,                     -- the worker's process start time (pid reuse guard)
        child_pids    TEXT,                     -- JSON list: driver and browser pids it started
        heartbeat     TEXT,
        restarts      INTEGER NOT NULL DEFAULT 0,
        restarts_date TEXT,
        last_error    TEXT,
        fatal_reason  TEXT,
        run_id        INTEGER REFERENCES runs(id),
        node          TEXT
    );
    CREATE TABLE worker_transitions (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        account       TEXT NOT NULL,
        from_state    TEXT,
        to_state      TEXT NOT NULL,
        at            TEXT NOT NULL,
        reason        TEXT,
        pid           INTEGER,
        run_id        INTEGER REFERENCES runs(id)
    );
    CREATE INDEX worker_transitions_account ON worker_transitions(account, id);
    CREATE TABLE tasks (
        task_id       TEXT PRIMARY KEY,
        account       TEXT NOT NULL,
        trading_date  TEXT NOT NULL,
        emiten        TEXT NOT NULL,
        side          TEXT NOT NULL DEFAULT 'buy',
        price         INTEGER,
        lot           INTEGER,
        tp            INTEGER,
        cl            INTEGER,
        source        TEXT NOT NULL,            -- server | file:<path>
        payload       TEXT NOT NULL,            -- the task as received (JSON)
        payload_hash  TEXT NOT NULL,            -- detects a changed task under the same id
        state         TEXT NOT NULL,
        reason        TEXT,
        last_error    TEXT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        lots_filled   INTEGER NOT NULL DEFAULT 0,
        avg_fill_price INTEGER,
        exit_price    INTEGER,
        exit_lots     INTEGER NOT NULL DEFAULT 0,
        dry_run       INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0,  -- the task server asked to withdraw it
        exit_order_id TEXT,                     -- broker id of the TP/CL sell, once known
        created       TEXT NOT NULL,
        updated       TEXT NOT NULL
    );
    CREATE INDEX tasks_account_date ON tasks(account, trading_date);
    CREATE TABLE orders (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id       TEXT NOT NULL REFERENCES tasks(task_id),
        account       TEXT NOT NULL,
        purpose       TEXT NOT NULL,            -- entry | tp | cl
        attempt       INTEGER NOT NULL,
        side          TEXT NOT NULL,
        emiten        TEXT NOT NULL,
        price         INTEGER NOT NULL,
        lot           INTEGER NOT NULL,
        tp            INTEGER,
        cl            INTEGER,
        intent_at     TEXT NOT NULL,            -- committed before the submit click
        click_at      TEXT,                     -- the submit click was made
        toast_at      TEXT,
        toast         TEXT,
        confirmed_at  TEXT,                     -- read back from the broker's lists
        broker_order_id TEXT,
        status        TEXT NOT NULL,            -- INTENT | CLICKED | CONFIRMED | OPEN | PARTIAL |
                                                -- MATCHED | WITHDRAWN | REJECTED | EXPIRED |
                                                -- UNKNOWN | NOT_SENT | DRY_RUN
        lots_filled   INTEGER NOT NULL DEFAULT 0,
        last_seen     TEXT,
        error         TEXT,
        dry_run       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, broker_order_id),
        UNIQUE (task_id, purpose, attempt)
    );
    CREATE INDEX orders_task ON orders(task_id);
    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order
        id            TEXT NOT NULL UNIQUE,               -- makes redelivery harmless
        type          TEXT NOT NULL,
        account       TEXT,
        task_id       TEXT,
        created       TEXT NOT NULL,
        payload       TEXT NOT NULL,
        delivered_at  TEXT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        undeliverable TEXT                                -- the server's answer to a 4xx
    );
    CREATE INDEX events_pending ON events(delivered_at, undeliverable, seq);
    CREATE TABLE reports (
        trading_date  TEXT PRIMARY KEY,
        created       TEXT NOT NULL,
        path          TEXT,
        json          TEXT NOT NULL
    );
    CREATE VIEW v_workers AS
        SELECT account, broker, state, since, reason, pid, heartbeat, restarts, last_error,
               fatal_reason, node
        FROM workers ORDER BY account;
    CREATE VIEW v_open_orders AS
        SELECT o.account, o.task_id, o.purpose, o.emiten, o.side, o.price, o.lot, o.lots_filled,
               o.status, o.broker_order_id, o.intent_at, o.confirmed_at
        FROM orders o
        WHERE o.status IN ('INTENT', 'CLICKED', 'CONFIRMED', 'OPEN', 'PARTIAL', 'UNKNOWN')
        ORDER BY o.account, o.id;
    CREATE VIEW v_unconfirmed_intents AS
        SELECT o.account, o.task_id, o.purpose, o.attempt, o.emiten, o.price, o.lot, o.status,
               o.intent_at, o.click_at, o.error
        FROM orders o
        WHERE o.status IN ('INTENT', 'CLICKED', 'UNKNOWN') ORDER BY o.intent_at;
    CREATE VIEW v_tasks AS
        SELECT trading_date, account, task_id, emiten, price, lot, tp, cl, state, lots_filled,
               exit_price, attempts, reason, last_error, updated
        FROM tasks ORDER BY trading_date DESC, account, task_id;
    CREATE VIEW v_failures AS
        SELECT trading_date, account, task_id, emiten, reason, last_error, attempts, updated
        FROM tasks WHERE state IN ('FAILED', 'OUTCOME_UNKNOWN')
        ORDER BY trading_date DESC, account, task_id;
    CREATE VIEW v_undelivered_events AS
        SELECT seq, id, type, account, task_id, created, attempts, last_error, undeliverable
        FROM events WHERE delivered_at IS NULL ORDER BY seq;
    """,
    # 1 -> 2: what each broker's history showed at the close, for the report's reconciliation
    """
    CREATE TABLE eod_snapshots (
        account       TEXT NOT NULL,
        trading_date  TEXT NOT NULL,
        taken_at      TEXT NOT NULL,
        orders        TEXT NOT NULL,            -- JSON list of the broker's rows
        PRIMARY KEY (account, trading_date)
    );
    """,
    # 2 -> 3: alerts to a person (robot/notify.py): each channel's place in the events table
    """
    CREATE TABLE notify_channels (
        channel       TEXT PRIMARY KEY,         -- telegram | webhook
        cursor        INTEGER NOT NULL,         -- every event with seq <= cursor is settled
        created       TEXT NOT NULL,            -- when the channel was first seen configured
        updated       TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'ok',   -- ok | retrying | stopped
        attempts      INTEGER NOT NULL DEFAULT 0,   -- failed attempts at the next event
        last_error    TEXT,                     -- never a token, never the Bot API URL
        sent          INTEGER NOT NULL DEFAULT 0    -- messages delivered, all runs
    );
    CREATE TABLE notifications (
        channel       TEXT NOT NULL,
        event_seq     INTEGER NOT NULL,         -- events.seq
        event_id      TEXT NOT NULL,            -- events.id
        type          TEXT NOT NULL,
        level         TEXT NOT NULL,            -- on | silent
        outcome       TEXT NOT NULL,            -- sent | refused | stale
        at            TEXT NOT NULL,
        attempts      INTEGER NOT NULL,
        detail        TEXT,                     -- why it was refused or skipped
        PRIMARY KEY (channel, event_seq)
    );
    CREATE VIEW v_notify_channels AS
        SELECT c.channel, c.status, c.cursor, c.attempts, c.last_error, c.sent, c.updated,
               (SELECT COUNT(*) FROM events e WHERE e.seq > c.cursor) AS events_behind
        FROM notify_channels c ORDER BY c.channel;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def now_iso(clock=None) -> str:
    from .clock import RealClock
    return iso((clock or RealClock()).now())


class Store:
    """A connection to state.db for one process (connections are never shared across processes)."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            # as_uri() percent-encodes the path: a raw '#', '?' or '%' in it would otherwise end
            # the file name early, drop "?mode=ro" and open (or create) another file read-write
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves (see transaction())
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        if not readonly:
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; WAL-safe
            self.migrate()

    def close(self) -> None:
        self.conn.close()

    # ----------------------------------------------------------------------------- schema
    @property
    def version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        with self.transaction():
            current = self.version
            if current > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} has schema version {current}, newer than this "
                                   f"robot ({SCHEMA_VERSION}): upgrade the robot")
            for n in range(current, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[n]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {n + 1}")

    # ------------------------------------------------------------------------ transactions
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction; nested use joins the outer one."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            # A failed COMMIT leaves the transaction open (and the write lock held): roll back so
            # later transaction() calls don't silently join it. SQLite may already have rolled
            # back on its own (SQLITE_FULL, IOERR, ...), in which case ROLLBACK would itself fail
            # and hide the original error.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: Any = ()) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: Any = ()) -> dict | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row else None

    # ------------------------------------------------------------------------------ events
    def add_event(self, type_: str, account: str | None, payload: dict, at: datetime | str,
                  task_id: str | None = None, event_id: str | None = None,
                  once: bool = False) -> str:
        """Write one event to the outbox. Call inside the transaction of the change it describes.

        ``type_`` must be registered in robot/events.py (it then has a documented schema), or
        UnknownEventType is raised before anything is written. ``once``: an event with this
        ``event_id`` already stored is kept as it is (no error, nothing added)."""
        check_event_type(type_)
        event_id = event_id or str(uuid.uuid4())
        created = at if isinstance(at, str) else iso(at)
        with self.transaction() as c:
            c.execute(f"INSERT {'OR IGNORE ' if once else ''}INTO events "
                      "(id, type, account, task_id, created, payload) VALUES (?, ?, ?, ?, ?, ?)",
                      (event_id, type_, account, task_id, created,
                       json.dumps(payload, sort_keys=True, default=str)))
        return event_id

    # ----------------------------------------------------------------------- notifications
    def notify_channel(self, channel: str, day: str, at: datetime) -> dict:
        """A notification channel's row as a run starts it: created on first use with its
        cursor just before the first event of ``day`` (a new channel gets today's alerts, never
        older history); else its cursor kept and its status fresh (last_error kept)."""
        with self.transaction() as c:
            row = c.execute("SELECT * FROM notify_channels WHERE channel = ?",
                            (channel,)).fetchone()
            if row is not None:
                c.execute("UPDATE notify_channels SET status = 'ok', attempts = 0, updated = ? "
                          "WHERE channel = ?", (iso(at), channel))
            else:
                first = c.execute("SELECT MIN(seq) FROM events WHERE substr(created, 1, 10) >= ?",
                                  (day,)).fetchone()[0]
                last = c.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                cursor = first - 1 if first is not None else last
                c.execute("INSERT INTO notify_channels (channel, cursor, created, updated) "
                          "VALUES (?, ?, ?, ?)", (channel, cursor, iso(at), iso(at)))
            return dict(c.execute("SELECT * FROM notify_channels WHERE channel = ?",
                                  (channel,)).fetchone())

    def events_after(self, seq: int, limit: int) -> list[dict]:
        return self.query("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))

    def notify_advance(self, channel: str, seq: int, at: datetime) -> None:
        """Move past events this channel does not send (their level is off)."""
        with self.transaction() as c:
            c.execute("UPDATE notify_channels SET cursor = MAX(cursor, ?), updated = ? "
                      "WHERE channel = ?", (seq, iso(at), channel))

    def notify_settle(self, channel: str, event: dict, level: str, outcome: str, attempts: int,
                      detail: str | None, at: datetime) -> None:
        """Record what became of one event on a channel and move the cursor past it, atomically."""
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO notifications (channel, event_seq, event_id, type, "
                      "level, outcome, at, attempts, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (channel, event["seq"], event["id"], event["type"], level, outcome, iso(at),
                       attempts, detail))
            c.execute("UPDATE notify_channels SET cursor = MAX(cursor, ?), updated = ?, "
                      "status = 'ok', attempts = 0, sent = sent + ? WHERE channel = ?",
                      (event["seq"], iso(at), int(outcome == "sent"), channel))

    def notify_failed(self, channel: str, status: str, error: str, at: datetime) -> None:
        """A failed attempt (status 'retrying') or a channel that cannot work ('stopped')."""
        with self.transaction() as c:
            c.execute("UPDATE notify_channels SET status = ?, attempts = attempts + 1, "
                      "last_error = ?, updated = ? WHERE channel = ?",
                      (status, error, iso(at), channel))

    # ----------------------------------------------------------------------------- workers
    def set_worker_state(self, account: str, broker: str, state: str, at: datetime,
                         reason: str | None = None, pid: int | None = None,
                         run_id: int | None = None) -> str | None:
        """Record a lifecycle transition; returns the previous state."""
        ts = iso(at)
        with self.transaction() as c:
            row = c.execute("SELECT state FROM workers WHERE account = ?", (account,)).fetchone()
            previous = row["state"] if row else None
            if row:
                c.execute("UPDATE workers SET state = ?, since = ?, reason = ?, pid = COALESCE(?, pid),"
                          " heartbeat = ?, run_id = COALESCE(?, run_id), broker = ? WHERE account = ?",
                          (state, ts, reason, pid, ts, run_id, broker, account))
            else:
                c.execute("INSERT INTO workers (account, broker, state, since, reason, pid, heartbeat,"
                          " run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          (account, broker, state, ts, reason, pid, ts, run_id))
            c.execute("INSERT INTO worker_transitions (account, from_state, to_state, at, reason, pid,"
                      " run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (account, previous, state, ts, reason, pid, run_id))
        return previous

    def worker(self, account: str) -> dict | None:
        return self.one("SELECT * FROM workers WHERE account = ?", (account,))


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting for other processes doing the same.

    Changing the journal mode needs an exclusive lock, and when several processes open a new file
    at once SQLite returns "database is locked" at once instead of calling the busy handler (it
    would deadlock otherwise), so retry here until BUSY_TIMEOUT_MS.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _split_sql(script: str) -> list[str]:
    """Statements of a migration (our DDL has no semicolons inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip() and not _only_comments(s)]


def _only_comments(s: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in s.splitlines())
