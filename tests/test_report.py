"""The end-of-day report as a pure function: every task outcome lands in the right count and list,
the seed's shape is kept key for key, uptime text, reconciliation against the brokers' history,
and the terminal table."""

from __future__ import annotations

import json

import pytest

from robot.report import (
    SEED_KEYS,
    SUMMARY_KEYS,
    AccountView,
    DayFacts,
    assemble,
    reconcile,
    render_table,
    uptime_text,
)

# The seed's example, verbatim: the report must match it key for key.
SEED = json.loads("""
{"event": "EOD_REPORT", "date": "2026-03-02", "robot_uptime": "7h30m",
 "summary": {"total_tasks": 8, "tp_hit": 3, "cl_hit": 2, "expired_unmatched": 1, "failed": 1},
 "unmatched_details": [{"account": "ACC_001", "broker": "stockbit", "emiten": "ASII",
   "reason": "...", "buy_price": 4900, "lot_requested": 1, "lot_filled": 0}],
 "failed_details": [{"account": "ACC_003", "broker": "ajaib", "emiten": "UNVR", "reason": "...",
   "last_error": "..."}]}
""")
EXTRA_KEYS = {
    "holding_details",
    "other_outcomes",
    "per_account",
    "reconciliation",
    "exits_not_seen",
    "operator_actions",
}


def task(
    task_id: str,
    account: str,
    state: str,
    emiten: str = "BBCA",
    price: int = 9000,
    lot: int = 2,
    **kw,
) -> dict:
    row = {
        "task_id": task_id,
        "account": account,
        "trading_date": "2026-03-02",
        "emiten": emiten,
        "side": "buy",
        "price": price,
        "lot": lot,
        "tp": price + 200,
        "cl": price - 200,
        "state": state,
        "reason": None,
        "last_error": None,
        "lots_filled": 0,
        "avg_fill_price": None,
        "exit_price": None,
        "exit_lots": 0,
        "dry_run": 0,
    }
    row.update(kw)
    return row


def order(
    task_id: str,
    account: str,
    broker_order_id: str | None,
    status: str,
    emiten: str = "BBCA",
    side: str = "buy",
    price: int = 9000,
    lot: int = 2,
    lots_filled: int = 0,
) -> dict:
    return {
        "task_id": task_id,
        "account": account,
        "purpose": "entry",
        "attempt": 1,
        "side": side,
        "emiten": emiten,
        "price": price,
        "lot": lot,
        "broker_order_id": broker_order_id,
        "status": status,
        "lots_filled": lots_filled,
    }


def bro(
    order_id,
    status: str,
    emiten: str = "BBCA",
    side: str = "buy",
    price: int = 9000,
    lot: int = 2,
    filled: int = 0,
) -> dict:
    return {
        "order_id": order_id,
        "emiten": emiten,
        "side": side,
        "price": price,
        "lot": lot,
        "filled": filled,
        "status": status,
        "time": "2026-03-02T10:00:00+07:00",
    }


FATAL_WHY = "login failed 5 times in 10 minutes"

TASKS = [
    task("T1", "ACC_001", "TP_HIT", "BBCA", lots_filled=2, avg_fill_price=9000, exit_price=9200),
    task("T2", "ACC_001", "CL_HIT", "TLKM", 2690, lots_filled=2, exit_price=2490),
    task(
        "T3",
        "ACC_001",
        "EXPIRED_UNMATCHED",
        "ASII",
        4900,
        3,
        lots_filled=1,
        reason="day order expired at the close",
    ),
    task(
        "T4",
        "ACC_001",
        "FAILED",
        "UNVR",
        2500,
        reason="rejected by the broker",
        last_error="Saldo tidak mencukupi",
    ),
    task("T5", "ACC_001", "OUTCOME_UNKNOWN", "BBRI", 4000, last_error="no toast after submit"),
    task("T6", "ACC_002", "FILLED", "GOTO", 70, 10, lots_filled=10, avg_fill_price=69),
    task("T7", "ACC_002", "CANCELLED", "ANTM", 1500, reason="cancelled by the task server"),
    task("T8", "ACC_002", "DRY_RUN", "ADRO", 2500, dry_run=1),
    task("T9", "ACC_003", "OPEN", "BMRI", 6000, last_error="session expired"),
    task("T10", "ACC_003", "EXPIRED_UNMATCHED", "INDF", 6500, 1),
    task("T11", "ACC_004", "PARTIAL", "ICBP", 11000, 4, lots_filled=1),
]
ACCOUNTS = [
    AccountView("ACC_001", "stockbit", state="IDLE", settled=True, broker_orders=[]),
    AccountView("ACC_002", "ipot", state="IDLE", restarts=2, settled=True),
    AccountView("ACC_003", "ajaib", state="FATAL", fatal_reason=FATAL_WHY, settled=False),
    AccountView("ACC_004", "lotus", state="STOPPED", settled=False),
    AccountView("ACC_005", "stockbit", state="IDLE", settled=True),  # no tasks today
]


@pytest.fixture(scope="module")
def report() -> dict:
    return assemble(DayFacts("2026-03-02", 27000, TASKS, [], ACCOUNTS))


# --- every outcome in its place ---------------------------------------------------------------


def test_summary_counts_every_category(report):
    assert report["summary"] == {
        "total_tasks": 11,
        "tp_hit": 1,
        "cl_hit": 1,
        "expired_unmatched": 2,
        "failed": 4,
    }
    assert report["other_outcomes"] == {
        "holding": 1,
        "cancelled": 1,
        "dry_run": 1,
        "outcome_unknown": 1,
        "unsettled": 2,
    }
    assert report["event"] == "EOD_REPORT" and report["date"] == "2026-03-02"
    assert report["robot_uptime"] == "7h30m"


def test_unmatched_details_with_partial_fill_and_default_reason(report):
    assert report["unmatched_details"] == [
        {
            "account": "ACC_001",
            "broker": "stockbit",
            "emiten": "ASII",
            "reason": "day order expired at the close",
            "buy_price": 4900,
            "lot_requested": 3,
            "lot_filled": 1,
        },
        {
            "account": "ACC_003",
            "broker": "ajaib",
            "emiten": "INDF",
            "reason": "unmatched at the close",
            "buy_price": 6500,
            "lot_requested": 1,
            "lot_filled": 0,
        },
    ]


def test_failed_details_name_the_reason_and_last_error(report):
    failed = {d["emiten"]: d for d in report["failed_details"]}
    assert list(failed) == ["UNVR", "BBRI", "BMRI", "ICBP"]  # by account, then task
    assert failed["UNVR"] == {
        "account": "ACC_001",
        "broker": "stockbit",
        "emiten": "UNVR",
        "reason": "rejected by the broker",
        "last_error": "Saldo tidak mencukupi",
    }
    unknown = failed["BBRI"]
    assert unknown["reason"].startswith("order outcome unknown")
    assert "check by hand" in unknown["reason"]
    assert unknown["last_error"] == "no toast after submit"
    # an OPEN task of a FATAL account: failed, and the reason says why nothing settled it
    fatal = failed["BMRI"]
    assert fatal["account"] == "ACC_003" and fatal["broker"] == "ajaib"
    assert "not settled at the close" in fatal["reason"]
    assert f"account FATAL ({FATAL_WHY})" in fatal["reason"]
    assert "last known state OPEN" in fatal["reason"]
    assert fatal["last_error"] == "session expired"
    # a PARTIAL task of an account that never ran its settling (not FATAL)
    stopped = failed["ICBP"]
    assert "did not reach its end-of-day settling" in stopped["reason"]
    assert "FATAL" not in stopped["reason"] and "last known state PARTIAL" in stopped["reason"]


def test_filled_task_is_a_holding_not_a_failure(report):
    assert report["holding_details"] == [
        {
            "account": "ACC_002",
            "broker": "ipot",
            "emiten": "GOTO",
            "task_id": "T6",
            "buy_price": 69,
            "lots": 10,
            "tp": 270,
            "cl": -130,
            "reason": "filled; neither TP nor CL reached today",
        }
    ]
    emitens = {d["emiten"] for d in report["failed_details"] + report["unmatched_details"]}
    assert not emitens & {"GOTO", "ANTM", "ADRO", "BBCA", "TLKM"}


def test_per_account_figures(report):
    pa = report["per_account"]
    assert list(pa) == ["ACC_001", "ACC_002", "ACC_003", "ACC_004", "ACC_005"]
    assert pa["ACC_001"] == {
        "broker": "stockbit",
        "tasks": 5,
        "tp_hit": 1,
        "cl_hit": 1,
        "expired_unmatched": 1,
        "failed": 2,
        "holding": 0,
        "worker_state": "IDLE",
        "restarts": 0,
        "settled_at_close": True,
    }
    assert pa["ACC_002"]["holding"] == 1 and pa["ACC_002"]["restarts"] == 2
    assert pa["ACC_003"]["worker_state"] == "FATAL"
    assert pa["ACC_003"]["fatal_reason"] == FATAL_WHY
    assert pa["ACC_003"]["settled_at_close"] is False
    assert "fatal_reason" not in pa["ACC_001"]
    assert pa["ACC_005"]["tasks"] == 0 and pa["ACC_005"]["broker"] == "stockbit"
    assert sum(p["tasks"] for p in pa.values()) == report["summary"]["total_tasks"]


def test_report_is_plain_json(report):
    assert json.loads(json.dumps(report)) == report


def test_reports_match_the_eod_report_event_schema_key_for_key(report):
    """The report is the EOD_REPORT event's payload: every key of it is documented in
    robot/schemas/events/EOD_REPORT.json (checked strictly), also each kind of mismatch."""
    from robot.protocol import validate_event

    for rep in (
        report,
        assemble(reconcile_facts()),
        assemble(DayFacts("2026-03-03", 0, [], [], [])),
    ):
        event = {
            "id": f"eod-report-{rep['date']}",
            "type": "EOD_REPORT",
            "account": "robot",
            "time": "2026-03-02T16:00:00.000+07:00",
            "task_id": None,
            "payload": rep,
        }
        assert validate_event(event, strict=True) == []


# --- the seed's shape -------------------------------------------------------------------------


def test_seed_keys_match_the_seed_example_key_for_key(report):
    assert tuple(SEED) == SEED_KEYS
    assert list(report)[: len(SEED)] == list(SEED)
    assert set(report) - set(SEED) == EXTRA_KEYS
    assert list(report["summary"]) == list(SEED["summary"]) == list(SUMMARY_KEYS)
    seed_unmatched = list(SEED["unmatched_details"][0])
    seed_failed = list(SEED["failed_details"][0])
    assert report["unmatched_details"] and report["failed_details"]
    for d in report["unmatched_details"]:
        assert list(d) == seed_unmatched
    for d in report["failed_details"]:
        assert list(d) == seed_failed
    for key in SEED:
        assert type(report[key]) is type(SEED[key]), key
    for key in SEED["summary"]:
        assert type(report["summary"][key]) is int


def test_a_day_like_the_seeds_gives_the_seeds_summary():
    tasks = (
        [task(f"TP{i}", "ACC_001", "TP_HIT") for i in range(3)]
        + [task(f"CL{i}", "ACC_002", "CL_HIT") for i in range(2)]
        + [task("X1", "ACC_001", "EXPIRED_UNMATCHED", "ASII", 4900, 1, reason="...")]
        + [task("F1", "ACC_003", "FAILED", "UNVR", reason="...", last_error="...")]
        + [task("H1", "ACC_002", "FILLED", lots_filled=2)]
    )
    accounts = [
        AccountView("ACC_001", "stockbit"),
        AccountView("ACC_002", "ipot"),
        AccountView("ACC_003", "ajaib"),
    ]
    rep = assemble(DayFacts("2026-03-02", 27000, tasks, [], accounts))
    assert {k: rep[k] for k in SEED} == SEED


def test_an_empty_day():
    rep = assemble(DayFacts("2026-03-03", 0, [], [], []))
    assert rep["summary"] == dict.fromkeys(SUMMARY_KEYS, 0)
    assert rep["unmatched_details"] == rep["failed_details"] == rep["holding_details"] == []
    assert rep["robot_uptime"] == "0m"
    assert set(rep["other_outcomes"].values()) == {0}
    assert rep["per_account"] == {}
    assert rep["reconciliation"] == {
        "checked_accounts": [],
        "unchecked_accounts": [],
        "mismatches": [],
        "ok": True,
    }
    # accounts but no tasks: each is listed with zeros
    rep = assemble(
        DayFacts(
            "2026-03-03",
            3600,
            [],
            [],
            [AccountView("ACC_001", "stockbit", state="IDLE", broker_orders=[])],
        )
    )
    assert rep["summary"]["total_tasks"] == 0 and rep["robot_uptime"] == "1h00m"
    assert rep["per_account"]["ACC_001"]["tasks"] == 0
    assert rep["reconciliation"]["ok"] is True
    assert "ACC_001" in render_table(rep)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (27000, "7h30m"),
        (0, "0m"),
        (59.9, "0m"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h00m"),
        (3660, "1h01m"),
        (90061, "25h01m"),
        (-5, "0m"),
    ],
)
def test_uptime_text(seconds, text):
    assert uptime_text(seconds) == text


# --- reconciliation ---------------------------------------------------------------------------


def reconcile_facts(theirs: list[dict] | None = None, broker_orders_2=None) -> DayFacts:
    orders = [
        order("R1", "ACC_001", "1001", "MATCHED", lots_filled=2),
        order("R2", "ACC_001", "1002", "PARTIAL", "TLKM", price=2690, lot=3, lots_filled=1),
        order("R3", "ACC_001", None, "REJECTED", "UNVR", price=2500, lot=1),
        order("R4", "ACC_001", "1005", "OPEN", "ASII", price=4900),
        order("R5", "ACC_001", None, "DRY_RUN", "ADRO", price=2500),
        order("R6", "ACC_002", "9001", "OPEN", "GOTO", price=70),
    ]
    theirs = (
        theirs
        if theirs is not None
        else [
            bro(1001, "MATCHED", filled=2),  # agrees
            bro("1002", "MATCHED", "TLKM", price=2690, lot=3, filled=3),  # a fill we missed
            bro("1003", "OPEN", "BMRI", price=6000, lot=1),  # not ours
            bro("1004", "REJECTED", "UNVR", price=2500, lot=1),  # our toast rejection
            bro("1006", "REJECTED", "UNVR", price=2500, lot=1),  # a second one: not ours
        ]
    )
    accounts = [
        AccountView("ACC_001", "stockbit", broker_orders=theirs),
        AccountView("ACC_002", "ipot", broker_orders=broker_orders_2),
    ]
    return DayFacts("2026-03-02", 0, [], orders, accounts)


def test_reconcile_finds_each_kind_of_mismatch():
    rec = reconcile(reconcile_facts())
    assert rec["ok"] is False
    assert rec["checked_accounts"] == ["ACC_001"]
    assert rec["unchecked_accounts"] == [
        {"account": "ACC_002", "reason": "no broker history read at the close"}
    ]
    kinds = [(m["kind"], m["order_id"]) for m in rec["mismatches"]]
    assert kinds == [
        ("fill_mismatch", "1002"),
        ("unknown_to_robot", "1003"),
        ("unknown_to_robot", "1006"),
        ("missing_at_broker", "1005"),
    ]
    by_id = {m["order_id"]: m for m in rec["mismatches"]}
    assert by_id["1002"]["robot_lots_filled"] == 1 and by_id["1002"]["broker_lots_filled"] == 3
    assert by_id["1003"]["broker"] == {
        "emiten": "BMRI",
        "side": "buy",
        "price": 6000,
        "lot": 1,
        "filled": 0,
        "status": "OPEN",
    }
    assert by_id["1005"]["task_id"] == "R4"
    assert all(m["account"] == "ACC_001" for m in rec["mismatches"])
    # the broker's REJECTED 1004 is the robot's REJECTED row without a broker id: no mismatch,
    # and neither are the agreeing 1001 nor the dry run that never reached the broker
    assert not {"1001", "1004"} & set(by_id)


def test_reconcile_all_agreeing_is_ok():
    theirs = [
        bro(1001, "MATCHED", filled=2),
        bro("1002", "PARTIAL", "TLKM", price=2690, lot=3, filled=1),
        bro("1004", "REJECTED", "UNVR", price=2500, lot=1),
        bro("1005", "OPEN", "ASII", price=4900),
    ]
    rec = reconcile(reconcile_facts(theirs, [bro("9001", "OPEN", "GOTO", price=70)]))
    assert rec == {
        "checked_accounts": ["ACC_001", "ACC_002"],
        "unchecked_accounts": [],
        "mismatches": [],
        "ok": True,
    }


def test_a_broker_rejection_without_our_row_is_unknown_to_robot():
    facts = DayFacts(
        "2026-03-02",
        0,
        [],
        [],
        [AccountView("ACC_001", "stockbit", broker_orders=[bro("1", "REJECTED", "UNVR")])],
    )
    rec = reconcile(facts)
    assert [(m["kind"], m["order_id"]) for m in rec["mismatches"]] == [("unknown_to_robot", "1")]


# --- the terminal table -----------------------------------------------------------------------


def test_render_table_shows_the_key_figures(report):
    text = render_table(report)
    assert text.splitlines()[0] == "End-of-day report 2026-03-02 (uptime 7h30m)"
    assert ("tasks 11: TP hit 1, CL hit 1, expired/unmatched 2, failed 4, holding 1") in text
    for acc in ("ACC_001", "ACC_002", "ACC_003", "ACC_004", "ACC_005"):
        assert acc in text
    assert "FATAL" in text and "(restarts 2)" in text
    assert "ACC_001 ASII @4900 1/3 lot: day order expired at the close" in text
    assert "ACC_001 UNVR: rejected by the broker (Saldo tidak mencukupi)" in text
    assert FATAL_WHY in text
    assert "ACC_002 GOTO 10 lot @69" in text
    assert "not checked: ACC_002, ACC_003, ACC_004, ACC_005" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("ACC_001"))
    assert row.split()[:8] == ["ACC_001", "stockbit", "5", "1", "1", "1", "2", "0"]


def test_render_table_lists_mismatches():
    rep = assemble(reconcile_facts())
    text = render_table(rep)
    assert "Reconciliation with the brokers: 4 mismatch(es), not checked: ACC_002" in text
    assert "ACC_001 fill_mismatch order 1002" in text
    assert "ACC_001 unknown_to_robot order 1003" in text
    assert "ACC_001 missing_at_broker order 1005" in text
    clean = assemble(
        DayFacts("2026-03-02", 0, [], [], [AccountView("A", "ipot", broker_orders=[])])
    )
    assert "Reconciliation with the brokers: OK" in render_table(clean)


def test_broker_of_an_account_without_a_view_comes_from_brokers():
    facts = DayFacts(
        "2026-03-02",
        0,
        [
            task("T1", "ACC_009", "FAILED", reason="account disabled"),
            task("T2", "NOBODY", "FAILED", reason="unknown account"),
        ],
        [],
        [],
        brokers={"ACC_009": "ajaib"},
    )
    rep = assemble(facts)
    assert [(d["account"], d["broker"]) for d in rep["failed_details"]] == [
        ("ACC_009", "ajaib"),
        ("NOBODY", "?"),
    ]
    assert rep["per_account"]["ACC_009"]["broker"] == "ajaib"
    assert rep["reconciliation"]["unchecked_accounts"] == []  # no view: nothing to reconcile


# --- status: expired at the robot, open at the broker (and the other way) ---------------------


def status_facts() -> DayFacts:
    tasks = [
        task(
            "S1",
            "ACC_001",
            "EXPIRED_UNMATCHED",
            "ASII",
            4900,
            1,
            reason="unmatched at the close (day order)",
        ),
        task("S2", "ACC_001", "EXPIRED_UNMATCHED", "TLKM", 2690, 3, lots_filled=1),
        task("S3", "ACC_001", "OPEN", "BBRI", 4000),
        task("S4", "ACC_001", "EXPIRED_UNMATCHED", "INDF", 6500, 1),
    ]
    orders = [
        order("S1", "ACC_001", "2001", "OPEN", "ASII", price=4900, lot=1),
        order("S2", "ACC_001", "2002", "EXPIRED", "TLKM", price=2690, lot=3, lots_filled=1),
        order("S3", "ACC_001", "2003", "OPEN", "BBRI", price=4000),
        order("S4", "ACC_001", "2004", "EXPIRED", "INDF", price=6500, lot=1),
    ]
    theirs = [
        bro("2001", "OPEN", "ASII", price=4900, lot=1),  # still in the book
        bro("2002", "PARTIAL", "TLKM", price=2690, lot=3, filled=2),  # and filling
        bro("2003", "WITHDRAWN", "BBRI", price=4000),  # done at the broker
        bro("2004", "EXPIRED", "INDF", price=6500, lot=1),
    ]  # agrees
    return DayFacts(
        "2026-03-02", 0, tasks, orders, [AccountView("ACC_001", "stockbit", broker_orders=theirs)]
    )


def test_an_order_expired_at_the_robot_but_open_at_the_broker_is_a_status_mismatch():
    rec = reconcile(status_facts())
    by_id = {m["order_id"]: m for m in rec["mismatches"]}
    assert set(by_id) == {"2001", "2002", "2003"} and rec["ok"] is False
    assert by_id["2001"] == {
        "account": "ACC_001",
        "kind": "status_mismatch",
        "order_id": "2001",
        "task_id": "S1",
        "robot_status": "EXPIRED_UNMATCHED",
        "broker_status": "OPEN",
        "robot_lots_filled": 0,
        "broker_lots_filled": 0,
        "note": "the robot reports it expired, the broker still lists it "
        "in its book: it may still fill; check it and withdraw "
        "it by hand",
    }
    # one line per order: the expired/open disagreement also carries the fills that differ
    assert (
        by_id["2002"]["kind"],
        by_id["2002"]["robot_status"],
        by_id["2002"]["broker_status"],
        by_id["2002"]["robot_lots_filled"],
        by_id["2002"]["broker_lots_filled"],
    ) == ("status_mismatch", "EXPIRED", "PARTIAL", 1, 2)
    # the other way: the robot holds it as live, the broker's history says it is done
    assert (
        by_id["2003"]["kind"],
        by_id["2003"]["robot_status"],
        by_id["2003"]["broker_status"],
    ) == ("status_mismatch", "OPEN", "WITHDRAWN")
    text = render_table(assemble(status_facts()))
    assert "ACC_001 status_mismatch order 2001 (robot EXPIRED_UNMATCHED, broker OPEN)" in text


def test_exits_not_seen_are_listed_and_the_holding_says_why():
    facts = DayFacts(
        "2026-03-02",
        0,
        [task("N1", "ACC_001", "FILLED", "BBCA", lots_filled=2, avg_fill_price=9000)],
        [],
        [AccountView("ACC_001", "stockbit")],
        exits_not_seen=[
            {
                "account": "ACC_001",
                "task_id": "N1",
                "payload": {
                    "emiten": "BBCA",
                    "purpose": "tp",
                    "level": 9200,
                    "last_price": 9225,
                    "seen_at": "2026-03-02T10:31:00+07:00",
                    "waited_s": 180,
                    "lots": 2,
                    "action": "...",
                },
            }
        ],
    )
    rep = assemble(facts)
    assert rep["exits_not_seen"] == [
        {
            "account": "ACC_001",
            "broker": "stockbit",
            "task_id": "N1",
            "emiten": "BBCA",
            "purpose": "tp",
            "level": 9200,
            "last_price": 9225,
            "seen_at": "2026-03-02T10:31:00+07:00",
            "state": "FILLED",
            "note": "the robot did not sell by itself; still held at the close",
        }
    ]
    (holding,) = rep["holding_details"]
    assert holding["reason"] == (
        "filled; the price reached its take-profit 9200 (last 9225) but "
        "no exit order of the broker's was seen: check the position at "
        "the broker"
    )
    assert "ACC_001 BBCA TP 9200 (last 9225)" in render_table(rep)
    from robot.protocol import validate_event

    for payload in (rep, assemble(status_facts())):
        event = {
            "id": f"eod-report-{payload['date']}",
            "type": "EOD_REPORT",
            "account": "robot",
            "time": "2026-03-02T16:00:00.000+07:00",
            "task_id": None,
            "payload": payload,
        }
        assert validate_event(event, strict=True) == []
