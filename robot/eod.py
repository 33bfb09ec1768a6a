"""End of day: the broker snapshot each worker takes, and the report the supervisor publishes."""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime
from pathlib import Path

from adapters.base import BrokerOrder

from . import events
from .calendar import Calendar
from .config import Config
from .report import AccountView, DayFacts, assemble
from .store import Store

log = logging.getLogger("robot.eod")


def save_snapshot(
    store: Store, account: str, day: date, orders: list[BrokerOrder], at: datetime
) -> None:
    rows = [
        {
            "order_id": o.order_id,
            "emiten": o.emiten,
            "side": o.side.value,
            "price": o.price,
            "lot": o.lot,
            "filled": o.filled,
            "status": o.status.value,
            "time": o.time.isoformat() if o.time else None,
        }
        for o in orders
    ]
    store.save_eod_snapshot(account, day, at, rows)


def gather(store: Store, cfg: Config | None, day: date, now: datetime) -> DayFacts:
    d = day.isoformat()
    tasks = store.tasks_on(d)
    orders = store.orders_on(d)
    first = min((r["started"] for r in store.runs_on(d)), default=None)
    uptime = (now - datetime.fromisoformat(first)).total_seconds() if first else 0.0
    snaps = store.eod_snapshots(d)
    settled = store.accounts_settled_on(d)
    workers = {w["account"]: w for w in store.workers()}
    names = (
        [a.id for a in cfg.enabled_accounts]
        if cfg
        else sorted(set(workers) | {t["account"] for t in tasks})
    )
    brokers = {a.id: a.broker for a in cfg.accounts} if cfg else {}
    views = []
    for acc in names:
        w = workers.get(acc, {})
        views.append(
            AccountView(
                account=acc,
                broker=brokers.get(acc) or w.get("broker") or "?",
                state=w.get("state"),
                fatal_reason=w.get("fatal_reason") if w.get("state") == "FATAL" else None,
                restarts=w.get("restarts", 0) if w.get("restarts_date") == d else 0,
                settled=acc in settled,
                broker_orders=snaps.get(acc),
            )
        )
    known = {acc: w["broker"] for acc, w in workers.items()}
    calendar = (cfg.settings.calendar if cfg else Calendar()).year(day.year).as_report()
    not_seen = store.events_of_type_on(events.NATIVE_EXIT_NOT_SEEN, d)
    return DayFacts(
        d,
        uptime,
        tasks,
        orders,
        views,
        {**known, **brokers},
        calendar,
        not_seen,
        store.requests_on(d),
    )


def build_report(store: Store, cfg: Config | None, day: date, now: datetime) -> dict:
    return assemble(gather(store, cfg, day, now))


def publish(store: Store, report: dict, report_dir: Path, now: datetime) -> Path:
    """Write reports/eod-<date>.json, store it, and post it as an event (once per day)."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"eod-{report['date']}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    with store.transaction():
        store.save_report(report["date"], now, str(path), report)
        # one EOD_REPORT event per day: its id is the date, so a re-run cannot post a second one
        store.add_event(
            events.EOD_REPORT,
            "robot",
            report,
            now,
            event_id=f"eod-report-{report['date']}",
            once=True,
        )
    log.info("end-of-day report written to %s", path)
    return path
