"""The Store's named reads and writes (robot/store/): the ones that carry logic, sqlite-utils'
writes inside the store's own transactions, and that no SQL lives outside the store package."""

from __future__ import annotations

import io
import re
import sqlite3
import tokenize
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.base import BrokerOrder, OrderStatus, Side
from robot.clock import WIB, iso
from robot.errors import IllegalMove
from robot.orders import OrderState as O, TaskState as T
from robot.store import Store

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 3, 2, 9, 0, 0, tzinfo=WIB)
DAY = AT.date()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def other(store: Store) -> sqlite3.Connection:
    """Another process's view of the file (a second connection)."""
    conn = sqlite3.connect(store.path, timeout=5)
    conn.row_factory = sqlite3.Row
    return conn


def task(
    store: Store, task_id="T1", account="A1", state=T.PENDING, day=DAY, price=1000, lot=2, **extra
) -> None:
    store.insert_task(
        {
            "task_id": task_id,
            "account": account,
            "trading_date": str(day),
            "emiten": "BBCA",
            "side": "buy",
            "price": price,
            "lot": lot,
            "tp": 1100,
            "cl": 950,
            "source": "test",
            "payload": "{}",
            "payload_hash": "h",
            "state": state.value,
            "created": AT.isoformat(),
            "updated": AT.isoformat(),
            **extra,
        }
    )


def intent(store: Store, task_id="T1", purpose="entry") -> int:
    order_id, _ = store.insert_intent(
        task_id, "A1", purpose, "buy", "BBCA", 1000, 2, None, None, AT, dry_run=False
    )
    return order_id


def seen(status: OrderStatus, filled=0, order_id="B-1") -> BrokerOrder:
    return BrokerOrder(order_id, "BBCA", Side.BUY, 1000, 2, filled, status, AT)


# --- sqlite-utils writes join the store's transactions ------------------------------------------


def test_a_sqlite_utils_write_inside_a_transaction_that_raises_leaves_nothing(store):
    task(store)
    with pytest.raises(RuntimeError, match="after the writes"), store.transaction():
        store.db["runs"].insert(
            {
                "trading_date": "2026-03-02",
                "started": "s",
                "pid": 1,
                "host": "h",
                "config_path": "c",
                "clock": "real",
            }
        )
        store.db["tasks"].update("T1", {"last_error": "written"})
        store.db["eod_snapshots"].upsert(
            {"account": "A1", "trading_date": "2026-03-02", "taken_at": "t", "orders": "[]"},
            pk=("account", "trading_date"),
        )
        assert store.conn.in_transaction
        raise RuntimeError("after the writes")
    assert not store.conn.in_transaction
    conn = other(store)
    try:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM eod_snapshots").fetchone()[0] == 0
        assert conn.execute("SELECT last_error FROM tasks").fetchone()[0] is None
    finally:
        conn.close()


def test_a_sqlite_utils_write_is_not_committed_before_the_transaction_ends(store):
    with store.transaction():
        run_id = store.start_run(DAY, AT, 1, "h", "accounts.yaml", "real")
        conn = other(store)
        try:  # WAL: the other connection reads the last commit, which has no run yet
            assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
        finally:
            conn.close()
        assert store.conn.in_transaction
    assert store.latest_run()["id"] == run_id


# --- tasks ----------------------------------------------------------------------------------


def test_move_task_checks_the_lifecycle_and_writes_nothing_when_refused(store):
    task(store, state=T.FILLED)
    with pytest.raises(IllegalMove, match="task T1: FILLED -> PENDING"), store.transaction():
        store.add_event("TASK_ACCEPTED", "A1", {}, AT, task_id="T1")
        store.move_task("T1", T.PENDING, AT + timedelta(seconds=1), reason="x")
    row = store.task("T1")
    assert (row["state"], row["reason"], row["updated"]) == ("FILLED", None, AT.isoformat())
    assert store.events_after(0, 10) == []  # the event of the change went with it
    before = store.move_task("T1", T.TP_HIT, AT + timedelta(seconds=2), exit_price=1100)
    assert before == {"state": "FILLED", "emiten": "BBCA"}
    assert (store.task("T1")["state"], store.task("T1")["exit_price"]) == ("TP_HIT", 1100)
    with pytest.raises(LookupError):
        store.move_task("nope", T.PENDING, AT)


def test_tasks_of_an_account_day_and_states_oldest_first(store):
    task(store, "T2", created=(AT + timedelta(seconds=1)).isoformat())
    task(store, "T1")
    task(store, "T3", state=T.FILLED)
    task(store, "T4", account="A2")
    task(store, "T5", day="2026-03-03")
    assert [t["task_id"] for t in store.tasks_of("A1", DAY, T.PENDING)] == ["T1", "T2"]
    assert [t["task_id"] for t in store.tasks_of("A1", "2026-03-02", T.PENDING, T.FILLED)] == [
        "T1",
        "T3",
        "T2",
    ]
    assert store.count_tasks(DAY) == 4
    assert store.count_tasks(DAY, "A1") == 3
    assert store.count_tasks(DAY, "A1", [T.FILLED, T.OPEN]) == 1
    assert {t["task_id"] for t in store.tasks_on(DAY)} == {"T1", "T2", "T3", "T4"}
    assert len(store.tasks_on(None)) == 5 and store.latest_task_day() == "2026-03-03"


def test_committed_buy_value_leaves_out_failed_and_cancelled_tasks(store):
    assert store.committed_buy_value("A1", DAY) == 0
    task(store, "T1", price=1000, lot=2)  # Rp200,000
    task(store, "T2", price=500, lot=1, state=T.FILLED)  # Rp50,000
    task(store, "T3", state=T.FAILED)
    task(store, "T4", state=T.CANCELLED)
    task(store, "T5", account="A2")
    assert store.committed_buy_value("A1", DAY) == 250_000


# --- orders ---------------------------------------------------------------------------------


def test_intents_number_their_attempts_per_task_and_purpose(store):
    task(store)
    assert (
        store.insert_intent("T1", "A1", "entry", "buy", "BBCA", 1000, 2, None, None, AT, False)[1]
        == 1
    )
    assert (
        store.insert_intent("T1", "A1", "entry", "buy", "BBCA", 1000, 2, None, None, AT, True)[1]
        == 2
    )
    order_id, attempt = store.insert_intent(
        "T1", "A1", "tp", "sell", "BBCA", 1100, 2, None, None, AT, False
    )
    assert attempt == 1
    row = store.order(order_id)
    assert (row["status"], row["intent_at"], row["dry_run"]) == ("INTENT", iso(AT), 0)
    store.record_native_exit("T1", "A1", "tp", seen(OrderStatus.OPEN, order_id="B-9"), AT)
    native = store.orders_of("T1")[-1]
    assert (native["attempt"], native["side"], native["status"], native["broker_order_id"]) == (
        2,
        "sell",
        "OPEN",
        "B-9",
    )
    assert store.claimed_broker_ids("A1") == {"B-9"}


def test_an_order_row_moves_only_as_the_order_table_allows(store):
    task(store)
    order_id = intent(store)
    store.mark_clicked(order_id, AT)
    with pytest.raises(IllegalMove, match=f"order {order_id}: CLICKED -> NOT_SENT"):
        store.mark_never_sent(order_id, "too late: it was clicked")
    store.adopt_order(order_id, seen(OrderStatus.PARTIAL, 1), AT)
    store.record_seen(order_id, seen(OrderStatus.MATCHED, 2))
    with pytest.raises(IllegalMove, match="MATCHED -> OPEN"):
        store.record_seen(order_id, seen(OrderStatus.OPEN, 2), AT)
    with pytest.raises(IllegalMove, match="MATCHED -> CLICKED"):
        store.mark_clicked(order_id, AT)
    row = store.order(order_id)
    assert (row["status"], row["lots_filled"], row["broker_order_id"], row["error"]) == (
        "MATCHED",
        2,
        "B-1",
        None,
    )
    assert row["last_seen"] == row["confirmed_at"] == iso(AT)  # record_seen without at
    store.note_order_error(order_id, "noted")  # no status change
    assert store.order(order_id)["error"] == "noted"
    with pytest.raises(LookupError):
        store.mark_clicked(999, AT)


def test_order_reads_by_status(store):
    task(store)
    a, b, c = intent(store), intent(store), intent(store)
    store.mark_clicked(b, AT)
    store.mark_clicked(c, AT)
    store.adopt_order(c, seen(OrderStatus.OPEN, order_id="B-3"), AT)
    assert [r["id"] for r in store.unconfirmed_orders("A1")] == [a, b]
    assert store.has_orders("A1", O.CLICKED, O.UNKNOWN) and not store.has_orders("A2", O.CLICKED)
    assert store.count_orders("A1", O.INTENT, O.OPEN) == 2
    assert [r["id"] for r in store.orders_at_broker("A1")] == [c]
    assert store.ids_at_broker("A1") == {"B-3"} == store.claimed_broker_ids("A1")
    assert store.has_unsettled_entry("T1")
    store.mark_never_sent(a, "withheld")
    store.mark_rejected(b, "rejected", AT)
    assert store.has_unsettled_entry("T1")  # c is at the broker
    store.record_seen(c, seen(OrderStatus.REJECTED, order_id="B-3"), AT)
    assert not store.has_unsettled_entry("T1")  # NOT_SENT and REJECTED only
    assert (
        [r["id"] for r in store.orders_on(DAY)]
        == [a, b, c]
        == [r["id"] for r in store.orders_on(None)]
    )
    assert store.orders_on("2026-03-03") == []


# --- events, workers, runs --------------------------------------------------------------------


def test_an_event_once_a_day(store):
    assert store.add_event_once_a_day("LOGIN_REQUIRED", "A1", {"broker": "b"}, AT, DAY)
    assert not store.add_event_once_a_day("LOGIN_REQUIRED", "A1", {"broker": "b"}, AT, DAY)
    assert store.add_event_once_a_day("LOGIN_REQUIRED", "A2", {"broker": "b"}, AT, DAY)
    tomorrow = AT + timedelta(days=1)
    assert store.add_event_once_a_day("LOGIN_REQUIRED", "A1", {}, tomorrow, tomorrow.date())
    assert [e["account"] for e in store.events_after(0, 10)] == ["A1", "A2", "A1"]
    assert store.last_event_of("A1")["type"] == "LOGIN_REQUIRED"


def test_outbox_marks(store):
    ids = [store.add_event("TASK_ACCEPTED", "A1", {"n": i}, AT) for i in range(3)]
    store.note_delivery_failure(ids[:2], "HTTP 503")
    store.mark_undeliverable(ids[1], "HTTP 422: no")
    store.mark_delivered([ids[0]], AT)
    assert [e["id"] for e in store.undelivered_events(10)] == [ids[2]]
    rows = {e["id"]: e for e in store.events_after(0, 10)}
    assert (rows[ids[0]]["attempts"], rows[ids[0]]["last_error"]) == (2, None)
    assert (rows[ids[1]]["attempts"], rows[ids[1]]["undeliverable"]) == (2, "HTTP 422: no")


def test_worker_notes_for_a_worker_without_a_row_are_harmless(store):
    store.note_worker_error("A1", "died before INIT")  # the supervisor's _on_exit
    assert store.worker("A1") is None and store.workers() == []
    store.set_worker_state("A1", "fake", "INIT", AT, "started", 42, None)
    store.note_worker_process("A1", 123.5, None)
    store.note_worker_children("A1", [7, 8])
    store.set_restarts("A1", 2, DAY)
    store.beat("A1", AT + timedelta(seconds=5))
    w = store.worker("A1")
    assert (w["pid_created"], w["child_pids"], w["restarts"], w["restarts_date"]) == (
        123.5,
        "[7, 8]",
        2,
        "2026-03-02",
    )
    assert w["heartbeat"] == iso(AT + timedelta(seconds=5))


def test_eod_settled_is_the_move_out_of_eod_report_on_that_day(store):
    for state in ("INIT", "EOD_REPORT"):
        store.set_worker_state("A1", "fake", state, AT)
    assert not store.eod_settled("A1", DAY)
    store.set_worker_state("A1", "fake", "IDLE", AT)
    store.set_worker_state("A2", "fake", "IDLE", AT)  # never in EOD_REPORT
    assert store.eod_settled("A1", DAY) and not store.eod_settled("A1", "2026-03-03")
    assert store.accounts_settled_on(DAY) == {"A1"}


def test_runs_snapshots_and_reports(store):
    first = store.start_run(DAY, AT, 1, "h", "accounts.yaml", "real")
    store.interrupt_running_runs(AT)
    second = store.start_run(DAY, AT + timedelta(hours=1), 2, "h", "accounts.yaml", "real")
    assert store.running_run()["id"] == second == store.latest_run()["id"]
    store.end_run(second, AT + timedelta(hours=2), "done")
    assert store.running_run() is None
    assert [(r["id"], r["status"]) for r in store.runs_on(DAY)] == [
        (first, "interrupted"),
        (second, "done"),
    ]
    store.save_eod_snapshot("A1", DAY, AT, [{"order_id": "1"}])
    store.save_eod_snapshot("A1", DAY, AT, [{"order_id": "2"}])  # the latest read is kept
    assert store.eod_snapshots(DAY) == {"A1": [{"order_id": "2"}]}
    store.save_report("2026-03-02", AT, "r.json", {"v": 1})
    store.save_report("2026-03-02", AT, "r.json", {"v": 2})
    assert store.one("SELECT COUNT(*) AS n, json FROM reports") == {"n": 1, "json": '{"v": 2}'}


# --- where SQL lives -----------------------------------------------------------------------

SQL = re.compile(
    r"^[rbfuRBFU]*['\"]*\s*((SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|CREATE)\s|"
    r"(BEGIN|COMMIT|ROLLBACK)\b)|"
    r"\bSELECT\b.*\bFROM\b|\bINSERT (OR \w+ )?INTO\b|\bUPDATE \w+ SET\b|"
    r"\bDELETE FROM\b"
)
STRINGS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}  # 3.12+
# ``.execute(`` of anything but a WebDriver (``driver.execute(Command.NEW_WINDOW, ...)``, a W3C
# command, not SQL)
STORE_INTERNALS = re.compile(r"\bstore\.(conn|db|query|one|_\w+)\b|(?<!driver)\.execute(many)?\(")


def sql_outside_the_store(root: Path = ROOT) -> list[str]:
    """SQL text, and uses of a store's connection or raw-SQL reads, in the robot's modules."""
    found = []
    for path in sorted([*(root / "robot").rglob("*.py"), *(root / "adapters").rglob("*.py")]):
        if (root / "robot" / "store") in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in STRINGS and SQL.search(tok.string):
                found.append(f"{path.relative_to(root)}:{tok.start[0]}: {tok.string[:60]}")
        for n, line in enumerate(text.splitlines(), 1):
            if STORE_INTERNALS.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()[:60]}")
    return found


def test_no_sql_outside_the_store_package():
    """Every read and write of state.db is a named Store method (robot/store/)."""
    assert sql_outside_the_store() == []


def test_the_sql_check_finds_sql(tmp_path):
    (tmp_path / "robot" / "store").mkdir(parents=True)
    (tmp_path / "robot" / "store" / "rows.py").write_text('c.execute("DELETE FROM tasks")\n')
    (tmp_path / "robot" / "x.py").write_text(
        'rows = store.query(\n    "SELECT * FROM tasks WHERE state = ?", ("X",))\n'
        'v = c("PRAGMA user_version")\nr = request(method="DELETE")\n'
    )
    (tmp_path / "adapters").mkdir()
    (tmp_path / "adapters" / "y.py").write_text(
        "with store.transaction() as c:\n    c.execute(f'UPDATE orders SET {sets}')\n"
        "h = driver.execute(Command.NEW_WINDOW, {'type': 'tab'})\n"
    )
    assert [f.split(":", 2)[:2] for f in sql_outside_the_store(tmp_path)] == [
        ["adapters/y.py", "2"],
        ["adapters/y.py", "2"],
        ["robot/x.py", "2"],
        ["robot/x.py", "3"],
        ["robot/x.py", "1"],
    ]
