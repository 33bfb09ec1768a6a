"""The demo scenario plays out as documented, for a simple robot stand-in driving the forms."""

from __future__ import annotations

import pytest

from sim_client import WebClient
from simulator.testing import ManualClock

BROKER = {"ACC_STOCKBIT": "stockbit", "ACC_IPOT": "ipot", "ACC_AJAIB": "ajaib"}


def play_demo_day(sim, clock: ManualClock) -> dict[str, list[dict]]:
    """Poll tasks each minute, place new ones, emulate TP/CL on ipot; return ledger by task."""
    web = {acc: WebClient(sim, skin, acc) for acc, skin in BROKER.items()}
    for client in web.values():
        client.login()
    web["ACC_IPOT"].unlock("123456")
    api = sim.app.test_client()
    headers = {"Authorization": f"Bearer {sim.token}"}
    placed: dict[str, str | None] = {}  # task_id -> buy order id (None: rejected)
    by_task: dict[str, list[str]] = {}
    exited: set[str] = set()
    end = clock.now().replace(hour=16, minute=5)
    while clock.now() < end:
        clock.advance(minutes=1)
        for task in api.get("/api/tasks", headers=headers).get_json()["tasks"]:
            tid = task["task_id"]
            if tid in placed:
                continue
            before = {o["order_id"] for o in sim.ledger()}
            kind, text = web[task["account"]].order(
                task["emiten"], task["price"], task["lot"], task["tp"], task["cl"]
            )
            by_task.setdefault(tid, []).extend(
                o["order_id"] for o in sim.ledger() if o["order_id"] not in before
            )
            if kind == "success":
                placed[tid] = text.split()[1]
            elif text.startswith("Order rejected"):
                placed[tid] = None  # a broker rejection: a failed task, no retry
            # any other error toast: nothing placed, retry on the next poll
        for tid, order_id in placed.items():
            buy = next((o for o in sim.ledger() if o["order_id"] == order_id), None)
            if (
                buy is None
                or buy["broker"] != "ipot"
                or buy["status"] != "MATCHED"
                or tid in exited
            ):
                continue
            last = sim.quote(buy["emiten"])
            if last >= buy_task(sim, tid)["tp"] or last <= buy_task(sim, tid)["cl"]:
                price = buy_task(sim, tid)["tp"] if last >= buy_task(sim, tid)["tp"] else last
                before = {o["order_id"] for o in sim.ledger()}
                assert (
                    web["ACC_IPOT"].order(buy["emiten"], price, buy["lots"], side="sell")[0]
                    == "success"
                )
                by_task[tid].extend(
                    o["order_id"] for o in sim.ledger() if o["order_id"] not in before
                )
                exited.add(tid)
    ledger = {o["order_id"]: o for o in sim.ledger()}
    result = {tid: [ledger[i] for i in ids] for tid, ids in by_task.items()}
    for o in ledger.values():  # native exits belong to their parent's task
        for orders in result.values():
            if o["parent_id"] and o["parent_id"] in [x["order_id"] for x in orders]:
                orders.append(o)
    return result


def buy_task(sim, tid: str) -> dict:
    return next(t for t in sim.state.scenario.tasks if t["task_id"] == tid)


@pytest.mark.parametrize("day", ["2026-03-05", "2026-03-06"])  # Thursday and Friday
def test_demo_day_outcomes(make_sim, day):
    clock = ManualClock(f"{day} 08:55")
    sim = make_sim("demo", clock=clock)
    r = play_demo_day(sim, clock)
    summary = {
        tid: [
            (
                o["side"],
                o["status"],
                o["exit_kind"],
                o["fills"][0]["price"] if o["fills"] else None,
                o["fills"][0]["time"][11:16] if o["fills"] else None,
            )
            for o in orders
        ]
        for tid, orders in sorted(r.items())
    }
    assert summary == {
        "T1": [("buy", "MATCHED", None, 9750, "09:30"), ("sell", "MATCHED", "tp", 9900, "10:45")],
        "T2": [("buy", "MATCHED", None, 2690, "09:30"), ("sell", "MATCHED", "cl", 2650, "11:00")],
        "T3": [("buy", "EXPIRED", None, None, None)],
        "T4": [("buy", "MATCHED", None, 4180, "09:30"), ("sell", "MATCHED", None, 4250, "10:45")],
        "T5": [
            ("buy", "ERROR", None, None, None),
            ("buy", "MATCHED", None, 1495, "09:45"),
            ("sell", "MATCHED", None, 1460, "11:00"),
        ],
        "T6": [("buy", "MATCHED", None, 69, "09:30"), ("sell", "MATCHED", "tp", 74, "10:45")],
        "T7": [("buy", "REJECTED", None, None, None)],
        "T8": [("buy", "MATCHED", None, 5975, "11:00")],
    }
    assert "ARA 2370" in r["T7"][0]["reason"]
    assert r["T8"][0]["tp_cl_state"] == "lapsed"
    assert sim.holdings("ajaib", "ACC_AJAIB") == {"BMRI": (2, 5975)}
    assert sim.holdings("stockbit", "ACC_STOCKBIT") == {}
    assert sim.holdings("ipot", "ACC_IPOT") == {}
