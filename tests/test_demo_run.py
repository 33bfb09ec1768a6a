"""The demo: its ledger check (pure), its live view, and (slow) the whole `--demo` day."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date

import pytest
import requests

from robot.demo import demo_day
from simulator.ledger import compare_with_ledger, ledger_outcome
from waiting import wait_for


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
    """What a new user runs: exit 0, all four categories, the report agrees with ledger.json;
    the dashboard's URL is printed and the page is served while the day runs."""
    proc = subprocess.Popen(
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out: list[str] = []
    url_seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if "dashboard at http://" in line:
                url_seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert url_seen.wait(120), "".join(out)[-3000:]
        url = (
            next(x for x in out if "dashboard at http://" in x).split("dashboard at ")[1].split()[0]
        )
        # before the supervisor has written state.db the page says so (503) and looks again

        def main_page() -> bool:
            page = requests.get(url, timeout=10)
            return page.status_code == 200 and "ACC_STOCKBIT" in page.text

        assert wait_for(main_page, 120, "the dashboard's main page with the demo's accounts")

        def trading() -> list[str]:
            data = requests.get(f"{url}api/state", timeout=10).json()
            return [a["account"] for a in data["accounts"] if a["state"] == "TRADING"]

        assert wait_for(trading, 300, "an account shown TRADING on the dashboard during the day")
        proc.wait(900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(10)
    stdout = "".join(out)
    assert proc.returncode == 0, stdout[-6000:]
    assert "the report agrees with the simulator's ledger" in stdout
    reports = list((tmp_path / "demo" / "reports").glob("eod-*.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    s = report["summary"]
    assert s["tp_hit"] and s["cl_hit"] and s["expired_unmatched"] and s["failed"], s
    ledger = json.loads((reports[0].parent / "ledger.json").read_text())
    assert len({o["order_id"] for o in ledger}) == len(ledger)
