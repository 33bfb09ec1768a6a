"""End of day on a real state.db: gathering the day's facts, the report file, the reports table,
one EOD_REPORT event per day, and `robot report` rebuilding the same report from state.db."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from click.testing import CliRunner

from adapters.base import BrokerOrder, OrderStatus, Side
from robot.cli import main
from robot.clock import WIB, iso
from robot.config import load_config
from robot.eod import build_report, gather, publish, save_snapshot
from robot.outbox import wire_form
from robot.protocol import validate_event
from robot.store import Store

DAY = date(2026, 3, 2)
D = DAY.isoformat()
START = datetime(2026, 3, 2, 8, 45, tzinfo=WIB)
END = datetime(2026, 3, 2, 16, 15, tzinfo=WIB)
FATAL_WHY = "flapping: 6 failed starts in 10 minutes"

ACCOUNTS = [
    ("ACC_001", "stockbit"),
    {"id": "ACC_002", "broker": "ipot", "enabled": False},
    {"id": "ACC_003", "broker": "ipot", "pin_env": "ROBOT_PIN_ACC_003"},
]
SETTINGS = {
    "operating_hours": {"start": "08:45", "end": "16:15"},
    "eod_report_time": "16:00",
    "poll_interval_ms": 2000,
    "state_db": "data/state.db",
    "report_dir": "out/reports",
    "task_server": {"url": "http://127.0.0.1:8700", "token_env": "ROBOT_TASK_TOKEN"},
}


def at(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 3, 2, h, m, tzinfo=WIB)


def add_task(c, task_id, account, state, emiten, price, lot, trading_date=D, **extra):
    row = {
        "task_id": task_id,
        "account": account,
        "trading_date": trading_date,
        "emiten": emiten,
        "side": "buy",
        "price": price,
        "lot": lot,
        "tp": price + 100,
        "cl": price - 100,
        "source": "server",
        "payload": "{}",
        "payload_hash": "h",
        "state": state,
        "created": iso(START),
        "updated": iso(END),
    }
    row.update(extra)
    c.execute(
        f"INSERT INTO tasks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )


def add_order(
    c, task_id, account, purpose, side, emiten, price, lot, broker_id, status, lots_filled
):
    c.execute(
        "INSERT INTO orders (task_id, account, purpose, attempt, side, emiten, price, lot,"
        " intent_at, broker_order_id, status, lots_filled) VALUES (?, ?, ?, 1, ?, ?, ?, ?,"
        " ?, ?, ?, ?)",
        (
            task_id,
            account,
            purpose,
            side,
            emiten,
            price,
            lot,
            iso(START),
            broker_id,
            status,
            lots_filled,
        ),
    )


def seed_day(store: Store) -> None:
    with store.transaction() as c:
        for started, ended in ((START, at("12:00")), (at("12:01"), END)):  # a restart at noon
            c.execute(
                "INSERT INTO runs (trading_date, started, ended, pid, host, config_path,"
                " clock, status) VALUES (?, ?, ?, 1, 'h', 'accounts.yaml', 'real', 'done')",
                (D, iso(started), iso(ended)),
            )
        add_task(
            c,
            "T1",
            "ACC_001",
            "TP_HIT",
            "BBCA",
            9000,
            2,
            lots_filled=2,
            avg_fill_price=9000,
            exit_price=9100,
            exit_lots=2,
        )
        add_task(
            c,
            "T2",
            "ACC_001",
            "EXPIRED_UNMATCHED",
            "ASII",
            4900,
            3,
            lots_filled=1,
            reason="day order expired at the close",
        )
        add_task(c, "T3", "ACC_001", "FILLED", "TLKM", 2690, 1, lots_filled=1, avg_fill_price=2680)
        add_task(c, "T4", "ACC_003", "OPEN", "BMRI", 6000, 1, last_error="session expired")
        add_task(
            c, "T5", "ACC_002", "FAILED", "UNVR", 2500, 1, reason="account 'ACC_002' is disabled"
        )
        add_task(c, "OLD", "ACC_001", "TP_HIT", "GOTO", 70, 1, trading_date="2026-02-27")
        add_order(c, "T1", "ACC_001", "entry", "buy", "BBCA", 9000, 2, "1001", "MATCHED", 2)
        add_order(c, "T1", "ACC_001", "tp", "sell", "BBCA", 9100, 2, "1002", "MATCHED", 2)
        add_order(c, "T2", "ACC_001", "entry", "buy", "ASII", 4900, 3, "1003", "EXPIRED", 1)
        add_order(c, "T3", "ACC_001", "entry", "buy", "TLKM", 2690, 1, "1004", "MATCHED", 1)
        add_order(c, "T4", "ACC_003", "entry", "buy", "BMRI", 6000, 1, "2001", "OPEN", 0)
        add_order(c, "OLD", "ACC_001", "entry", "buy", "GOTO", 70, 1, "0999", "MATCHED", 1)
    for state, hhmm in (
        ("SETUP", "08:45"),
        ("TRADING", "09:00"),
        ("EOD_REPORT", "16:00"),
        ("IDLE", "16:05"),
    ):
        store.set_worker_state("ACC_001", "stockbit", state, at(hhmm))
    for state, hhmm in (("SETUP", "08:45"), ("FATAL", "09:30")):
        store.set_worker_state("ACC_003", "ipot", state, at(hhmm), reason=FATAL_WHY)
    with store.transaction() as c:
        c.execute(
            "UPDATE workers SET restarts = 1, restarts_date = ? WHERE account = 'ACC_001'", (D,)
        )
        # ACC_003's restarts counter is from an earlier day: not today's restarts
        c.execute(
            "UPDATE workers SET fatal_reason = ?, restarts = 4, restarts_date = "
            "'2026-02-27' WHERE account = 'ACC_003'",
            (FATAL_WHY,),
        )
    # ACC_001's broker history at the close; ACC_003 (FATAL) never took one
    orders = [
        BrokerOrder("1001", "BBCA", Side.BUY, 9000, 2, 2, OrderStatus.MATCHED, at("09:01")),
        BrokerOrder("1002", "BBCA", Side.SELL, 9100, 2, 2, OrderStatus.MATCHED),
        BrokerOrder("1003", "ASII", Side.BUY, 4900, 3, 2, OrderStatus.EXPIRED),
        BrokerOrder("1004", "TLKM", Side.BUY, 2690, 1, 1, OrderStatus.MATCHED),
    ]
    save_snapshot(store, "ACC_001", DAY, orders, at("16:01"))


@pytest.fixture
def cfg_path(make_config):
    return make_config(ACCOUNTS, SETTINGS)


@pytest.fixture
def cfg(cfg_path):
    return load_config(cfg_path)


@pytest.fixture
def store(cfg):
    s = Store(cfg.settings.state_db)
    seed_day(s)
    yield s
    s.close()


def test_gather_reads_the_day_from_state_db(store, cfg):
    facts = gather(store, cfg, DAY, END)
    assert facts.date == D
    assert facts.uptime_s == 7.5 * 3600  # from the first run's start
    assert sorted(t["task_id"] for t in facts.tasks) == ["T1", "T2", "T3", "T4", "T5"]
    assert sorted(o["broker_order_id"] for o in facts.orders) == [
        "1001",
        "1002",
        "1003",
        "1004",
        "2001",
    ]
    views = {v.account: v for v in facts.accounts}
    assert list(views) == ["ACC_001", "ACC_003"]  # the enabled accounts
    assert views["ACC_001"].settled and views["ACC_001"].restarts == 1
    assert views["ACC_001"].state == "IDLE" and views["ACC_001"].fatal_reason is None
    assert [o["order_id"] for o in views["ACC_001"].broker_orders] == [
        "1001",
        "1002",
        "1003",
        "1004",
    ]
    assert views["ACC_001"].broker_orders[0]["side"] == "buy"
    assert views["ACC_001"].broker_orders[0]["time"] == "2026-03-02T09:01:00+07:00"
    assert views["ACC_003"].state == "FATAL" and views["ACC_003"].fatal_reason == FATAL_WHY
    assert views["ACC_003"].restarts == 0
    assert not views["ACC_003"].settled and views["ACC_003"].broker_orders is None


def test_build_report_from_state_db(store, cfg):
    rep = build_report(store, cfg, DAY, END)
    assert rep["robot_uptime"] == "7h30m"
    assert rep["summary"] == {
        "total_tasks": 5,
        "tp_hit": 1,
        "cl_hit": 0,
        "expired_unmatched": 1,
        "failed": 2,
    }
    assert rep["unmatched_details"] == [
        {
            "account": "ACC_001",
            "broker": "stockbit",
            "emiten": "ASII",
            "reason": "day order expired at the close",
            "buy_price": 4900,
            "lot_requested": 3,
            "lot_filled": 1,
        }
    ]
    failed = {d["account"]: d for d in rep["failed_details"]}
    assert f"account FATAL ({FATAL_WHY})" in failed["ACC_003"]["reason"]
    assert failed["ACC_003"]["broker"] == "ipot"
    assert failed["ACC_003"]["last_error"] == "session expired"
    # a task refused because its account is disabled still names the account's broker
    assert failed["ACC_002"] == {
        "account": "ACC_002",
        "broker": "ipot",
        "emiten": "UNVR",
        "reason": "account 'ACC_002' is disabled",
        "last_error": None,
    }
    assert rep["per_account"]["ACC_002"]["broker"] == "ipot"
    assert [h["emiten"] for h in rep["holding_details"]] == ["TLKM"]
    rec = rep["reconciliation"]
    assert rec["checked_accounts"] == ["ACC_001"]
    assert [u["account"] for u in rec["unchecked_accounts"]] == ["ACC_003"]
    assert [(m["kind"], m["order_id"]) for m in rec["mismatches"]] == [("fill_mismatch", "1003")]


def test_publish_writes_file_table_and_one_event_even_when_published_twice(store, cfg):
    rep = build_report(store, cfg, DAY, END)
    path = publish(store, rep, cfg.settings.report_dir, END)
    assert path == cfg.settings.report_dir / f"eod-{D}.json"
    assert json.loads(path.read_text(encoding="utf-8")) == rep
    assert sorted(p.name for p in path.parent.iterdir()) == [f"eod-{D}.json"]  # no temp file
    row = store.one("SELECT * FROM reports WHERE trading_date = ?", (D,))
    assert row["path"] == str(path) and json.loads(row["json"]) == rep
    assert row["created"] == iso(END)

    later = datetime(2026, 3, 2, 16, 45, tzinfo=WIB)
    rep2 = build_report(store, cfg, DAY, later)
    assert rep2["robot_uptime"] == "8h00m"
    publish(store, rep2, cfg.settings.report_dir, later)
    assert json.loads(path.read_text(encoding="utf-8")) == rep2  # the file is the latest
    assert store.one("SELECT COUNT(*) AS n FROM reports")["n"] == 1
    assert json.loads(store.one("SELECT json FROM reports")["json"]) == rep2

    events = store.query("SELECT * FROM events WHERE type = 'EOD_REPORT'")
    assert len(events) == 1
    ev = events[0]
    assert ev["id"] == f"eod-report-{D}" and ev["account"] == "robot"
    assert json.loads(ev["payload"]) == rep  # the first one, once
    assert ev["delivered_at"] is None  # waiting for the outbox
    assert validate_event(wire_form(ev), strict=True) == []  # every key documented


def invoke(*args):
    return CliRunner().invoke(main, ["report", *map(str, args)])


def test_robot_report_rebuilds_the_same_report_from_state_db(store, cfg, cfg_path):
    expected = build_report(store, cfg, DAY, END)  # `robot report` uses the last run's end
    store.close()
    result = invoke("--config", cfg_path, "--date", D, "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert got["summary"] == expected["summary"]
    assert got == expected
    # without --date: the latest day in state.db (2026-03-02, not 2026-02-27)
    result = invoke("--config", cfg_path, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected
    # the table
    result = invoke("--config", cfg_path, "--date", D)
    assert result.exit_code == 0, result.output
    assert f"End-of-day report {D} (uptime 7h30m)" in result.stdout
    assert "tasks 5: TP hit 1, CL hit 0, expired/unmatched 1, failed 2, holding 1" in result.stdout
    # an earlier day is rebuilt on its own
    result = invoke("--config", cfg_path, "--date", "2026-02-27", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"] == {
        "total_tasks": 1,
        "tp_hit": 1,
        "cl_hit": 0,
        "expired_unmatched": 0,
        "failed": 0,
    }


def test_robot_report_with_no_tasks_and_no_date_exits_2(cfg, cfg_path):
    Store(cfg.settings.state_db).close()  # a state.db, but no task in it
    result = invoke("--config", cfg_path)
    assert result.exit_code == 2
    assert "state.db holds no tasks yet; give --date" in result.stderr
    assert result.stdout == ""
    # a date the robot never ran on: said so, exit 1, no empty report that looks like a day
    result = invoke("--config", cfg_path, "--date", "2026-03-03", "--json")
    assert result.exit_code == 1, result.output
    assert "no run of the robot recorded for 2026-03-03" in result.stderr
    assert result.stdout == ""
    # a day it ran without a task is an empty report, not an error
    s = Store(cfg.settings.state_db)
    with s.transaction() as c:
        c.execute(
            "INSERT INTO runs (trading_date, started, ended, pid, host, config_path, clock, "
            "status) VALUES ('2026-03-03', '2026-03-03T08:40:00.000+07:00', "
            "'2026-03-03T16:15:00.000+07:00', 1, 'h', 'c', 'real', 'done')"
        )
    s.close()
    result = invoke("--config", cfg_path, "--date", "2026-03-03", "--json")
    assert result.exit_code == 0, result.output
    rep = json.loads(result.stdout)
    assert rep["summary"]["total_tasks"] == 0 and rep["failed_details"] == []


def test_robot_report_without_state_db_exits_2(cfg_path):
    result = invoke("--config", cfg_path, "--date", D)
    assert result.exit_code == 2
    assert "no state database" in result.stderr
