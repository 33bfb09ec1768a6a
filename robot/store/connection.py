"""The connection to state.db: opening it (WAL), migrating it, and its write transactions.

Writes are short ``BEGIN IMMEDIATE`` transactions: the write lock is taken up front, so two
processes never deadlock upgrading a read lock, and ``busy_timeout`` makes a writer wait its turn
instead of failing with "database is locked". sqlite-utils (``self.db``) writes through the same
connection: from 4.0 its inserts, updates and upserts run in ``Database.atomic()``, a SAVEPOINT
inside a transaction that is already open, so they join ours instead of committing it early. The
row modules call it inside ``transaction()`` only (on its own it would BEGIN a deferred one).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 30_000


class StoreBase:
    """A connection to state.db for one process (connections are never shared across processes)."""

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            # as_uri() percent-encodes the path: a raw '#', '?' or '%' in it would otherwise end
            # the file name early, drop "?mode=ro" and open (or create) another file read-write
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
            )
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves (see transaction())
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        self.conn = conn
        # no plugins (nothing installed may change this connection) and no pragma of its own
        self.db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
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
                raise RuntimeError(
                    f"{self.path} has schema version {current}, newer than this "
                    f"robot ({SCHEMA_VERSION}): upgrade the robot"
                )
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

    # ------------------------------------------------------------------------------ writes
    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row`` (inside ``transaction()``); its rowid."""
        rowid = self.db.table(table).insert(row).last_rowid
        if rowid is None:  # sqlite-utils types it optional; an insert always sets it
            raise RuntimeError(f"no rowid after an insert into {table}")
        return rowid

    # ------------------------------------------------------------------------------- reads
    # Plain sqlite3 for the reads a worker makes on every poll: sqlite-utils' db.query wraps
    # each SELECT in a SAVEPOINT and RELEASE (1.5x to 4x the time of these small reads), and
    # rows_where adds a table lookup on top (3x); the table helpers serve the occasional reads.
    def _rows(self, sql: str, params: Any = ()) -> list[dict]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def _row(self, sql: str, params: Any = ()) -> dict | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def _must_row(self, sql: str, params: Any = ()) -> dict:
        """A row that exists (just written, or referenced by another): its absence is a bug."""
        row = self._row(sql, params)
        if row is None:
            raise LookupError(f"no row for {sql!r} {params!r} in {self.path}")
        return row

    def _value(self, sql: str, params: Any = ()) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    # Raw SQL for tests, benchmarks and an operator's Python shell (read-only use). The robot's
    # own modules call the named methods; tests/test_store_rows.py checks that no SQL lives outside
    # this package.
    def query(self, sql: str, params: Any = ()) -> list[dict]:
        return self._rows(sql, params)

    def one(self, sql: str, params: Any = ()) -> dict | None:
        return self._row(sql, params)


def marks(values) -> str:
    """``?, ?, ?``: one placeholder per value of an ``IN (...)``."""
    return ", ".join("?" * len(values))


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
