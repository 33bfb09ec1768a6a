"""The demo: its ledger check (pure), its live view, and (slow) the whole `--demo` day."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from robot.demo import demo_day
from simulator.ledger import compare_with_ledger, ledger_outcome


def order(
    oid,
    account="A",
    emiten="BBCA",
    side="buy",
    price=1000,
    lots=1,
    status="MATCHED",
    filled=1,
    parent=None,
    rejected=False,
):
    return {
        "order_id": oid,
        "account": account,
        "emiten": emiten,
        "side": side,
        "price": price,
        "lots": lots,
        "status": status,
        "filled_lots": filled,
        "parent_id": parent,
        "rejected": rejected,
    }


def task(tid, state, filled=1, account="A", emiten="BBCA"):
    return {
        "task_id": tid,
        "state": state,
        "lots_filled": filled,
        "account": account,
        "emiten": emiten,
    }


def entry(tid, oid):
    return {"task_id": tid, "purpose": "entry", "broker_order_id": oid}


REPORT = {"summary": {"tp_hit": 1, "cl_hit": 0, "expired_unmatched": 0, "failed": 0}}


def test_agreeing_day_has_no_problems():
    ledger = [order("1"), order("2", side="sell", price=1100, parent="1")]
    assert ledger_outcome(ledger[0], ledger) == "TP_HIT"
    assert compare_with_ledger([task("T1", "TP_HIT")], [entry("T1", "1")], ledger, REPORT) == []


def test_duplicate_order_is_reported():
    ledger = [order("1"), order("2"), order("3", side="sell", price=1100, parent="1")]
    problems = compare_with_ledger([task("T1", "TP_HIT")], [entry("T1", "1")], ledger, REPORT)
    assert any("duplicate" in p for p in problems)
    assert any("belongs to no task" in p for p in problems)


def test_state_and_fill_disagreements_are_reported():
    ledger = [order("1", status="EXPIRED", filled=0)]
    problems = compare_with_ledger(
        [task("T1", "FILLED", filled=1)],
        [entry("T1", "1")],
        ledger,
        {"summary": {"tp_hit": 0, "cl_hit": 0, "expired_unmatched": 1}},
    )
    assert any("robot says FILLED, ledger says EXPIRED_UNMATCHED" in p for p in problems)
    assert any("lots filled" in p for p in problems)


def test_task_without_order_must_have_failed():
    problems = compare_with_ledger(
        [task("T1", "OPEN")],
        [],
        [],
        {"summary": {"tp_hit": 0, "cl_hit": 0, "expired_unmatched": 0}},
    )
    assert problems == ["task T1 is OPEN but the broker has no order"]


def test_demo_day_is_a_trading_day():
    assert demo_day(date(2026, 11, 28)) == date(2026, 11, 30)  # Saturday -> Monday
    assert demo_day(date(2026, 12, 24)) == date(2026, 12, 28)  # closures and a weekend
    assert demo_day(date(2026, 11, 25)) == date(2026, 11, 25)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.timeout(1200)
def test_whole_demo_day(tmp_path):
    """What a new user runs: exit 0, all four categories, the report agrees with ledger.json."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--demo",
            "--demo-dir",
            str(tmp_path / "demo"),
            "--clock-speed",
            "100",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "the report agrees with the simulator's ledger" in proc.stdout
    reports = list((tmp_path / "demo" / "reports").glob("eod-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    s = report["summary"]
    assert s["tp_hit"] and s["cl_hit"] and s["expired_unmatched"] and s["failed"], s
    ledger = json.loads((reports[0].parent / "ledger.json").read_text())
    assert len({o["order_id"] for o in ledger}) == len(ledger)
