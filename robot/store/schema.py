"""The schema of state.db as forward migrations (SQL DDL; every table and column is documented in
docs/STATE.md). An existing file is migrated by ``PRAGMA user_version`` when a Store opens it."""

from __future__ import annotations

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
    # 3 -> 4: a person's requests (robot/resolve.py): resolve a task, re-enable a FATAL account
    """
    CREATE TABLE operator_requests (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        kind          TEXT NOT NULL,            -- resolve | restart
        action        TEXT NOT NULL,            -- placed | not_placed | retry | restart
        account       TEXT NOT NULL,
        task_id       TEXT REFERENCES tasks(task_id),   -- resolve only
        trading_date  TEXT NOT NULL,            -- the task's day, or the day the account was FATAL
        broker_order_id TEXT,                   -- placed only: the order the person found
        forced        INTEGER NOT NULL DEFAULT 0,   -- applied without the broker (--force)
        who           TEXT NOT NULL,            -- the OS user, or "dashboard"
        requested_at  TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'pending',  -- pending | done | refused
        message       TEXT,                     -- what happened, or why refused
        decided_at    TEXT,
        decided_by    TEXT                      -- worker <pid> | supervisor <pid> | cli <pid>
    );
    CREATE INDEX operator_requests_pending ON operator_requests(status, kind, account, id);
    CREATE INDEX operator_requests_day ON operator_requests(trading_date, id);
    -- one undecided request per task: two at once could contradict each other
    CREATE UNIQUE INDEX operator_requests_one_per_task ON operator_requests(task_id)
        WHERE status = 'pending' AND task_id IS NOT NULL;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
