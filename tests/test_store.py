"""The SQLite state store: pragmas, migrations, transactions, worker transitions, the event outbox,
many writer processes on one file, read-only access, and the queries of docs/STATE.md."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
import traceback
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from robot.clock import WIB, RealClock, iso
from robot.store import BUSY_TIMEOUT_MS, MIGRATIONS, SCHEMA_VERSION, Store

DOC = Path(__file__).resolve().parent.parent / "docs" / "STATE.md"
AT = datetime(2026, 3, 2, 9, 0, 0, tzinfo=WIB)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _insert_run(c, note="r") -> int:
    return c.execute(
        "INSERT INTO runs (trading_date, started, pid, host, config_path, clock, note)"
        " VALUES ('2026-03-02', ?, 1, 'h', 'accounts.yaml', 'real', ?)",
        (iso(AT), note),
    ).lastrowid


def _insert_task(
    c, task_id, account="ACC_001", state="PENDING", trading_date="2026-03-02", **extra
):
    row = {
        "task_id": task_id,
        "account": account,
        "trading_date": trading_date,
        "emiten": "BBCA",
        "side": "buy",
        "price": 9000,
        "lot": 2,
        "tp": 9200,
        "cl": 8800,
        "source": "server",
        "payload": "{}",
        "payload_hash": "h",
        "state": state,
        "created": iso(AT),
        "updated": iso(AT),
    }
    row.update(extra)
    cols = ", ".join(row)
    c.execute(
        f"INSERT INTO tasks ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
    )


def _count(s: Store, table: str) -> int:
    return s.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- (a) pragmas and migrations -------------------------------------------------------------


def test_new_store_has_wal_foreign_keys_busy_timeout_and_current_version(tmp_path):
    s = Store(tmp_path / "sub" / "state.db")  # the parent directory is created
    try:
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert s.conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS > 0
        assert s.version == SCHEMA_VERSION == len(MIGRATIONS)
        names = {r["name"] for r in s.query("SELECT name FROM sqlite_master")}
        assert {
            "runs",
            "workers",
            "worker_transitions",
            "tasks",
            "orders",
            "events",
            "reports",
            "v_workers",
            "v_open_orders",
            "v_unconfirmed_intents",
            "v_tasks",
            "v_failures",
            "v_undelivered_events",
        } <= names
    finally:
        s.close()
    # WAL is a property of the file: a plain connection sees it too
    raw = sqlite3.connect(tmp_path / "sub" / "state.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), store.transaction() as c:
        c.execute(
            "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price,"
            " lot, intent_at, status) VALUES ('no-such-task', 'ACC_001', 'entry', 1,"
            " 'buy', 'BBCA', 9000, 1, ?, 'INTENT')",
            (iso(AT),),
        )
    assert not store.conn.in_transaction


def test_reopening_does_not_migrate_again(tmp_path):
    path = tmp_path / "state.db"
    s = Store(path)
    with s.transaction() as c:
        _insert_run(c, note="kept")
    schema = s.query("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    s.close()

    statements: list[str] = []  # every statement the second open runs
    real_connect = sqlite3.connect

    def traced_connect(*a, **kw):
        conn = real_connect(*a, **kw)
        conn.set_trace_callback(statements.append)
        return conn

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sqlite3, "connect", traced_connect)
        s2 = Store(path)
    try:
        assert not [st for st in statements if re.search(r"\b(CREATE|ALTER|DROP)\b", st, re.I)]
        assert not [st for st in statements if "user_version =" in st]
        assert s2.version == SCHEMA_VERSION
        assert s2.query("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
        assert s2.one("SELECT note FROM runs")["note"] == "kept"
    finally:
        s2.close()


def test_newer_schema_version_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "state.db"
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(RuntimeError, match=r"schema version .*newer than this robot.*upgrade"):
        Store(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    raw.close()


# --- (b) transactions -----------------------------------------------------------------------


def test_transaction_rolls_back_on_exception(store):
    with pytest.raises(ZeroDivisionError), store.transaction() as c:
        _insert_run(c)
        raise ZeroDivisionError
    assert not store.conn.in_transaction
    assert _count(store, "runs") == 0
    with store.transaction() as c:  # the connection is usable afterwards
        _insert_run(c)
    assert _count(store, "runs") == 1


def test_nested_transaction_joins_the_outer_one(store, tmp_path):
    other = Store(tmp_path / "state.db", readonly=True)
    try:
        with pytest.raises(RuntimeError, match="outer fails"), store.transaction() as outer:
            _insert_run(outer, note="outer")
            with store.transaction() as inner:
                assert inner is outer
                _insert_run(inner, note="inner")
            # the inner block's end committed nothing: another connection sees no rows
            assert store.conn.in_transaction
            assert _count(other, "runs") == 0
            raise RuntimeError("outer fails")
        assert _count(store, "runs") == 0  # the inner insert went with the outer rollback

        with pytest.raises(KeyError), store.transaction() as outer:
            _insert_run(outer, note="outer")
            with store.transaction() as inner:
                _insert_run(inner, note="inner")
                raise KeyError("inner fails")
        assert _count(store, "runs") == 0

        with store.transaction() as outer:
            with store.transaction() as inner:
                _insert_run(inner, note="inner")
            _insert_run(outer, note="outer")
        assert _count(other, "runs") == 2
    finally:
        other.close()


def test_a_failed_commit_rolls_back_and_releases_the_write_lock(store, tmp_path):
    # A deferred foreign key violation makes COMMIT itself fail, which leaves SQLite's
    # transaction open. transaction() must not leave it open: later transactions would join it
    # silently, never commit, and hold the write lock against every other process.
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"), store.transaction() as c:
        c.execute("PRAGMA defer_foreign_keys = ON")
        c.execute(
            "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price,"
            " lot, intent_at, status) VALUES ('no-such-task', 'ACC_001', 'entry', 1,"
            " 'buy', 'BBCA', 9000, 1, ?, 'INTENT')",
            (iso(AT),),
        )
    assert not store.conn.in_transaction
    other = Store(tmp_path / "state.db")
    try:
        other.conn.execute("PRAGMA busy_timeout = 0")  # fail at once if the lock were held
        with other.transaction() as c:
            _insert_run(c)
    finally:
        other.close()
    with store.transaction() as c:
        _insert_run(c)
    assert _count(store, "runs") == 2 and _count(store, "orders") == 0


# --- (c) workers and events -----------------------------------------------------------------


def test_set_worker_state_writes_the_worker_and_its_transition(store):
    with store.transaction() as c:
        run_id = _insert_run(c)
    assert (
        store.set_worker_state("ACC_001", "stockbit", "INIT", AT, "started", pid=111, run_id=run_id)
        is None
    )
    later = AT + timedelta(seconds=3)
    assert store.set_worker_state("ACC_001", "stockbit", "SETUP", later, "browser") == "INIT"
    assert store.set_worker_state("ACC_002", "ipot", "INIT", later, pid=222) is None

    w = store.worker("ACC_001")
    assert (w["state"], w["since"], w["reason"], w["heartbeat"]) == (
        "SETUP",
        iso(later),
        "browser",
        iso(later),
    )
    assert (w["pid"], w["run_id"], w["broker"]) == (111, run_id, "stockbit")  # kept when omitted
    assert w["since"] == "2026-03-02T09:00:03.000+07:00"

    rows = store.query(
        "SELECT account, from_state, to_state, at, reason, pid, run_id"
        " FROM worker_transitions ORDER BY id"
    )
    assert rows == [
        {
            "account": "ACC_001",
            "from_state": None,
            "to_state": "INIT",
            "at": iso(AT),
            "reason": "started",
            "pid": 111,
            "run_id": run_id,
        },
        {
            "account": "ACC_001",
            "from_state": "INIT",
            "to_state": "SETUP",
            "at": iso(later),
            "reason": "browser",
            "pid": None,
            "run_id": None,
        },
        {
            "account": "ACC_002",
            "from_state": None,
            "to_state": "INIT",
            "at": iso(later),
            "reason": None,
            "pid": 222,
            "run_id": None,
        },
    ]


def test_add_event_is_atomic_with_the_change_it_describes(store):
    store.set_worker_state("ACC_001", "stockbit", "READY", AT)
    with pytest.raises(RuntimeError), store.transaction():
        store.set_worker_state("ACC_001", "stockbit", "TRADING", AT + timedelta(seconds=1))
        store.add_event("WORKER_RESTARTED", "ACC_001", {"restarts_today": 1}, AT)
        raise RuntimeError("crash before commit")
    assert store.worker("ACC_001")["state"] == "READY"
    assert _count(store, "events") == 0
    assert _count(store, "worker_transitions") == 1

    with store.transaction():
        store.set_worker_state("ACC_001", "stockbit", "TRADING", AT + timedelta(seconds=2))
        eid = store.add_event(
            "WORKER_RESTARTED", "ACC_001", {"restarts_today": 1}, AT, task_id="T-1"
        )
    ev = store.one("SELECT * FROM events")
    assert ev["id"] == eid and ev["type"] == "WORKER_RESTARTED" and ev["task_id"] == "T-1"
    assert ev["created"] == iso(AT) and ev["payload"] == '{"restarts_today": 1}'
    assert ev["delivered_at"] is None and ev["attempts"] == 0
    assert store.worker("ACC_001")["state"] == "TRADING"

    # an event id is unique: redelivering the same id is refused, not duplicated
    with pytest.raises(sqlite3.IntegrityError):
        store.add_event("WORKER_RESTARTED", "ACC_001", {}, iso(AT), event_id=eid)
    assert _count(store, "events") == 1
    # ... unless the caller says an event with that id is already enough (the EOD report)
    assert (
        store.add_event("WORKER_RESTARTED", "ACC_001", {}, iso(AT), event_id=eid, once=True) == eid
    )
    assert (
        _count(store, "events") == 1
        and store.one("SELECT payload FROM events")["payload"] == '{"restarts_today": 1}'
    )


def test_add_event_refuses_a_type_without_a_schema(store):
    """An event type that robot/events.py does not register (so has no payload schema and no
    line in docs/PROTOCOL.md) is a programming error: refused, and the change it came with is
    rolled back with it rather than reported undocumented."""
    from robot.events import UnknownEventType

    store.set_worker_state("ACC_001", "stockbit", "READY", AT)
    with (
        pytest.raises(UnknownEventType, match="'ORDER_PLACED' is not registered"),
        store.transaction(),
    ):
        store.set_worker_state("ACC_001", "stockbit", "TRADING", AT)
        store.add_event("ORDER_PLACED", "ACC_001", {"order_id": "1"}, AT)
    with pytest.raises(UnknownEventType):
        store.add_event("filled", "ACC_001", {}, AT)  # names are exact, case included
    assert _count(store, "events") == 0
    assert store.worker("ACC_001")["state"] == "READY"
    store.add_event("FILLED", "ACC_001", {}, AT)  # a registered one goes in
    assert _count(store, "events") == 1


# --- (d) the queries of docs/STATE.md -------------------------------------------------------


def _doc_sql_blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(r"^```sql[ \t]*\n(.*?)^```", text, flags=re.M | re.S)


def _statements(block: str) -> list[str]:
    out, buf = [], ""
    for line in block.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    assert not buf.strip(), f"unterminated statement in docs/STATE.md:\n{buf}"
    return out


def _seed(s: Store) -> None:
    """A day's worth of rows, dated today (WIB), that every documented query finds."""
    now = RealClock().now()
    today = now.date().isoformat()
    ts = iso(now - timedelta(minutes=5))
    with s.transaction() as c:
        run_id = _insert_run(c)
        c.execute("UPDATE runs SET trading_date = ?", (today,))
        for acc, broker in (("ACC_001", "stockbit"), ("ACC_002", "ipot")):
            s.set_worker_state(
                acc, broker, "INIT", now - timedelta(minutes=30), "start", pid=100, run_id=run_id
            )
            s.set_worker_state(acc, broker, "SETUP", now - timedelta(minutes=29), pid=100)
            s.set_worker_state(acc, broker, "TRADING", now - timedelta(minutes=20), pid=100)
        c.execute(
            "UPDATE workers SET restarts = 1, restarts_date = ?, last_error = 'crash'"
            " WHERE account = 'ACC_002'",
            (today,),
        )
        states = [
            "PENDING",
            "SUBMITTING",
            "OPEN",
            "PARTIAL",
            "FILLED",
            "TP_HIT",
            "CL_HIT",
            "EXPIRED_UNMATCHED",
            "FAILED",
            "CANCELLED",
            "OUTCOME_UNKNOWN",
        ]
        for i, state in enumerate(states):
            acc = "ACC_002" if i % 2 else "ACC_001"
            filled = {"FILLED": 2, "TP_HIT": 2, "CL_HIT": 2, "PARTIAL": 1}.get(state, 0)
            _insert_task(
                c,
                f"T-{i:03d}",
                acc,
                state,
                today,
                lots_filled=filled,
                avg_fill_price=9000 if filled else None,
                exit_price={"TP_HIT": 9200, "CL_HIT": 8800}.get(state),
                exit_lots=2 if state in ("TP_HIT", "CL_HIT") else 0,
                reason="rejected" if state == "FAILED" else None,
                last_error="toast: insufficient limit" if state == "FAILED" else None,
            )
        orders = [
            ("T-001", "entry", 1, "buy", "MATCHED", "B-1"),
            ("T-001", "tp", 1, "sell", "OPEN", "B-2"),
            ("T-002", "entry", 1, "buy", "OPEN", "B-3"),
            ("T-010", "entry", 1, "buy", "UNKNOWN", None),
            ("T-001", "cl", 1, "sell", "CLICKED", None),
        ]
        for task_id, purpose, attempt, side, status, boid in orders:
            c.execute(
                "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price,"
                " lot, intent_at, click_at, confirmed_at, broker_order_id, status)"
                " VALUES (?, 'ACC_002', ?, ?, ?, 'BBCA', 9000, 2, ?, ?, ?, ?, ?)",
                (task_id, purpose, attempt, side, ts, ts, ts if boid else None, boid, status),
            )
        s.add_event("TP_HIT", "ACC_002", {"state": "TP_HIT"}, ts, task_id="T-001")
        s.add_event("TASK_FAILED", "ACC_001", {"state": "FAILED"}, ts, task_id="T-008")
        c.execute("UPDATE events SET undeliverable = '422 unknown task' WHERE task_id = 'T-008'")
        c.execute(
            "INSERT INTO reports (trading_date, created, path, json) VALUES (?, ?, ?, ?)",
            (today, ts, f"reports/eod-{today}.json", '{"accounts": []}'),
        )
        s.notify_channel("telegram", today, now)
        alert = s.one("SELECT * FROM events WHERE task_id = 'T-001'")
        s.notify_settle("telegram", alert, "on", "sent", 1, None, now)
        s.add_request("restart", "restart", "ACC_001", today, "ops", now)


def test_docs_state_md_has_the_queries_an_operator_needs():
    blocks = _doc_sql_blocks()
    assert len(blocks) >= 8
    text = DOC.read_text(encoding="utf-8")
    for needle in (
        "-wal",
        "-shm",
        "wal_checkpoint(TRUNCATE)",
        "sqlite3 -readonly state.db",
        "+07:00",
        "user_version",
        "1 lot = 100 shares",
        "OUTCOME_UNKNOWN",
    ):
        assert needle in text, needle
    for table in (
        "runs",
        "workers",
        "worker_transitions",
        "tasks",
        "orders",
        "events",
        "reports",
        "eod_snapshots",
        "notify_channels",
        "notifications",
        "operator_requests",
    ):
        assert f"### `{table}`" in text, table
    for view in (
        "v_workers",
        "v_open_orders",
        "v_unconfirmed_intents",
        "v_tasks",
        "v_failures",
        "v_undelivered_events",
        "v_notify_channels",
    ):
        assert f"`{view}`" in text, view


def test_docs_state_md_documents_every_column(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    s = Store(tmp_path / "state.db")
    try:
        for table in (
            "runs",
            "workers",
            "worker_transitions",
            "tasks",
            "orders",
            "events",
            "reports",
            "eod_snapshots",
            "notify_channels",
            "notifications",
        ):
            section = text.split(f"### `{table}`", 1)[1].split("\n### ", 1)[0]
            for col in s.conn.execute(f"PRAGMA table_info({table})"):
                assert f"| `{col['name']}` |" in section, f"{table}.{col['name']} undocumented"
    finally:
        s.close()


@pytest.mark.parametrize("block", _doc_sql_blocks(), ids=lambda b: b.split("\n", 1)[0][:40])
def test_every_query_in_docs_state_md_runs(tmp_path, block):
    path = tmp_path / "state.db"
    writer = Store(path)
    _seed(writer)
    reader = Store(path, readonly=True)  # as an operator would: read-only, robot running
    try:
        for statement in _statements(block):
            rows = reader.conn.execute(statement).fetchall()
            # the seed covers every query: a query that finds nothing is probably wrong
            assert rows, f"no rows from:\n{statement}"
    finally:
        reader.close()
        writer.close()


# --- (e) many writer processes ----------------------------------------------------------------

PROCS, TXNS = 6, 200


def _writer_proc(path: str, n: int, txns: int, start, results) -> None:
    errors: list[str] = []
    done = 0
    try:
        s = Store(path)
        start.wait()
        for i in range(txns):
            try:
                with s.transaction() as c:
                    _insert_task(c, f"P{n}-{i}", f"ACC_{n}")
                    s.add_event("TASK_ACCEPTED", f"ACC_{n}", {"i": i}, AT, task_id=f"P{n}-{i}")
                done += 1
            except Exception:  # noqa: BLE001 - every failure is reported to the test
                errors.append(traceback.format_exc())
        s.close()
    except Exception:  # noqa: BLE001 - as above
        errors.append(traceback.format_exc())
    results.put((n, done, errors))


def _run_writers(path: Path, procs: int, txns: int) -> list[tuple[int, int, list[str]]]:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    ps = [
        ctx.Process(target=_writer_proc, args=(str(path), n, txns, start, results))
        for n in range(procs)
    ]
    for p in ps:
        p.start()
    start.set()
    out = [results.get(timeout=120) for _ in ps]
    for p in ps:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


def test_six_processes_writing_at_once_never_see_database_is_locked(tmp_path):
    path = tmp_path / "state.db"
    Store(path).close()
    results = _run_writers(path, PROCS, TXNS)
    errors = [e for _, _, errs in results for e in errs]
    assert errors == [], errors[0]
    assert sorted(done for _, done, _ in results) == [TXNS] * PROCS

    s = Store(path, readonly=True)
    try:
        assert _count(s, "tasks") == _count(s, "events") == PROCS * TXNS
        assert s.query(
            "SELECT account, COUNT(*) AS n FROM events GROUP BY account ORDER BY account"
        ) == [{"account": f"ACC_{n}", "n": TXNS} for n in range(PROCS)]
        # no transaction was lost or rolled back: the outbox sequence has no gaps
        assert s.one("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM events") == {
            "lo": 1,
            "hi": PROCS * TXNS,
        }
        assert s.one("PRAGMA integrity_check")["integrity_check"] == "ok"
    finally:
        s.close()


def test_switching_a_new_file_to_wal_waits_for_a_writer_instead_of_failing(tmp_path):
    # Switching to WAL upgrades a read lock to a write lock, and SQLite then reports "database is
    # locked" at once instead of calling the busy handler. This is what happens when several
    # processes open a brand-new file together. Store must wait for the other writer like any
    # other transaction does.
    path = tmp_path / "state.db"
    other = sqlite3.connect(path, isolation_level=None)  # a new file, still a rollback journal
    other.execute("CREATE TABLE t (a)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    outcome: dict = {}

    def open_store():  # a connection belongs to its thread
        try:
            s = Store(path)
            outcome["mode"] = s.conn.execute("PRAGMA journal_mode").fetchone()[0]
            outcome["version"] = s.version
            s.close()
        except Exception as e:  # noqa: BLE001 - the bug, reported to the test
            outcome["error"] = e

    opener = threading.Thread(target=open_store)
    opener.start()
    opener.join(timeout=1.0)
    try:
        assert "error" not in outcome, outcome.get("error")
        assert opener.is_alive()  # still waiting for the lock, well inside 30 s
    finally:
        other.execute("COMMIT")
        other.close()
        opener.join()
    assert "error" not in outcome, outcome.get("error")
    assert (outcome["mode"], outcome["version"]) == ("wal", SCHEMA_VERSION)


def test_processes_opening_a_new_file_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "state.db"  # nobody has created it yet
    results = _run_writers(path, PROCS, 5)
    errors = [e for _, _, errs in results for e in errs]
    assert errors == [], errors[0]
    s = Store(path, readonly=True)
    try:
        assert s.version == SCHEMA_VERSION
        assert _count(s, "events") == PROCS * 5
    finally:
        s.close()


# --- (f) read-only access -------------------------------------------------------------------


def test_readonly_store_reads_while_another_connection_writes(tmp_path):
    path = tmp_path / "state.db"
    writer = Store(path)
    with writer.transaction() as c:
        _insert_run(c, note="committed")
    reader = Store(path, readonly=True)
    try:
        with writer.transaction() as c:  # holds the write lock, uncommitted row
            _insert_run(c, note="in flight")
            # the reader is not blocked and sees only committed data
            assert [r["note"] for r in reader.query("SELECT note FROM runs")] == ["committed"]
            assert reader.one("SELECT * FROM v_workers") is None
        assert [r["note"] for r in reader.query("SELECT note FROM runs ORDER BY id")] == [
            "committed",
            "in flight",
        ]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.conn.execute("DELETE FROM runs")
        assert _count(writer, "runs") == 2
    finally:
        reader.close()
        writer.close()


def test_readonly_store_never_creates_a_file(tmp_path):
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path / "missing.db", readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_readonly_store_with_uri_characters_in_its_path(tmp_path):
    # '#' and '?' end the file name in a URI: unescaped, "<dir>/a#b/state.db?mode=ro" would open
    # (and create) "<dir>/a" read-write instead
    folder = tmp_path / "a#b?c%d"
    s = Store(folder / "state.db")
    with s.transaction() as c:
        _insert_run(c, note="here")
    ro = Store(folder / "state.db", readonly=True)
    try:
        assert ro.one("SELECT note FROM runs")["note"] == "here"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.conn.execute("DELETE FROM runs")
    finally:
        ro.close()
        s.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b?c%d"]
