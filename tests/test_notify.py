"""Alerts to a person: the notifier against the local fake Bot API and webhook receiver over real
HTTP on 127.0.0.1, with a real state.db. Order, levels, outages, 429, a bad token, restarts, the
final flush, a hanging channel next to the supervisor's loop, and the texts a person reads."""

from __future__ import annotations

import ast
import json
import logging
import signal
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pytest

import configs
from robot import logs
from robot.alerts import TEXT_MAX, fit, short_id, text_of, utf16_len
from robot.clock import WIB
from robot.config import (
    PROJECT_ROOT,
    NotificationSettings,
    TelegramSettings,
    WebhookSettings,
    load_config,
)
from robot.eod import build_report
from robot.events import EVENT_TYPES
from robot.notify import Notifier
from robot.outbox import wire_form
from robot.store import Store
from simulator.notifyfake import FakeTelegram, FakeWebhook
from simulator.testing import ManualClock
from waiting import wait_for

TOKEN = "424242:TEST-notify_token_a1b2c3d4e5"
TOKEN_ENV = "ROBOT_TEST_TELEGRAM_TOKEN"
HOOK_AUTH = "Bearer hook-secret-9f8e7d"
HOOK_ENV = "ROBOT_TEST_WEBHOOK_AUTH"
CHAT = "123456789"
DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 10, 0, tzinfo=WIB)
FAST = {"poll_s": 0.05, "backoff_initial_s": 0.05, "backoff_max_s": 0.4}


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(HOOK_ENV, HOOK_AUTH)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


@pytest.fixture
def tg():
    with FakeTelegram(TOKEN, chats=(CHAT,)) as fake:
        yield fake


@pytest.fixture
def hook():
    with FakeWebhook(require_headers={"Authorization": HOOK_AUTH}) as fake:
        yield fake


@pytest.fixture
def clock():
    return ManualClock("2026-03-02 10:05")


def telegram(fake: FakeTelegram, **kw) -> TelegramSettings:
    return TelegramSettings(
        **{
            "token_env": TOKEN_ENV,
            "chat_id": CHAT,
            "api_url": fake.url,
            "timeout_s": 2.0,
            "min_interval_s": 0.0,
            **kw,
        }
    )


def webhook(fake: FakeWebhook, **kw) -> WebhookSettings:
    return WebhookSettings(
        **{"url": fake.url, "header_env": (("Authorization", HOOK_ENV),), "timeout_s": 2.0, **kw}
    )


@contextmanager
def notifying(
    tmp_path: Path,
    clock,
    tg_settings=None,
    hook_settings=None,
    day: date = DAY,
    budget_s: float = 5.0,
    **tuning,
):
    n = Notifier(
        NotificationSettings(tg_settings, hook_settings),
        tmp_path / "state.db",
        clock,
        day,
        **{**FAST, **tuning},
    ).start()
    try:
        yield n
    finally:
        n.close(budget_s)


def add(
    store: Store,
    type_: str,
    account: str | None = "ACC_1",
    task_id: str | None = None,
    at: datetime = AT,
    **payload,
) -> dict:
    event_id = store.add_event(type_, account, payload, at, task_id=task_id)
    return store.one("SELECT * FROM events WHERE id = ?", (event_id,))


def channel(store: Store, name: str) -> dict:
    return store.one("SELECT * FROM notify_channels WHERE channel = ?", (name,)) or {}


def outcomes(store: Store, name: str) -> list[dict]:
    return store.query("SELECT * FROM notifications WHERE channel = ? ORDER BY event_seq", (name,))


def ids_in(texts: list[str]) -> list[str]:
    """The short event id each message ends with."""
    return [t.rsplit("event ", 1)[1] for t in texts]


def sids(rows: list[dict]) -> list[str]:
    return [short_id(r["id"]) for r in rows]


def no_secret_anywhere(tmp_path: Path, records: list[logging.LogRecord], *secrets: str) -> None:
    """Neither the robot's log records (unredacted: the discipline must not rely on the filter)
    nor any byte of state.db and its WAL carry a secret."""
    for record in records:
        if record.name.startswith("robot"):
            text = record.getMessage()
            for secret in secrets:
                assert secret not in text, text
    for f in tmp_path.glob("state.db*"):
        data = f.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f.name


# --- order and levels ---------------------------------------------------------------------------


def test_telegram_gets_each_type_at_its_level_in_seq_order(tmp_path, env, store, tg, clock):
    rows = [
        add(store, "OUTCOME_UNKNOWN", task_id="T1", emiten="BBCA", price=9000, lot=10),
        add(store, "TASK_ACCEPTED", task_id="T2", emiten="TLKM"),  # default off
        add(store, "FILLED", task_id="T3", lots=5, price=3500),  # default silent
        add(store, "TP_HIT", task_id="T3", lots=5, exit_price=3800),  # configured off
        add(store, "WORKER_FATAL", "ACC_2", reason="6 failures within 600 s"),
        add(store, "ORDER_SUBMITTED", task_id="T4", emiten="BBRI"),  # configured silent
        add(store, "LOGIN_REQUIRED", "ACC_3", broker="ipot", action="robot login ACC_3"),
        add(store, "WORKER_CRASHED", "ACC_2", reason="exit -9"),
    ]  # default off, last
    sent = [rows[i] for i in (0, 2, 4, 5, 6)]
    settings = telegram(tg, events=(("TP_HIT", "off"), ("ORDER_SUBMITTED", "silent")))
    with notifying(tmp_path, clock, settings):
        wait_for(
            lambda: channel(store, "telegram").get("cursor") == rows[-1]["seq"],
            20,
            "the cursor past the last (off) event",
        )
    assert ids_in(tg.texts()) == sids(sent)
    assert [m["disable_notification"] for m in tg.messages] == [False, True, False, True, False]
    assert all(m["parse_mode"] is None and m["chat_id"] == CHAT for m in tg.messages)
    got = outcomes(store, "telegram")
    assert [(o["event_id"], o["outcome"], o["level"]) for o in got] == [
        (r["id"], "sent", lvl)
        for r, lvl in zip(sent, ["on", "silent", "on", "silent", "on"], strict=True)
    ]
    assert channel(store, "telegram")["sent"] == 5 and channel(store, "telegram")["status"] == "ok"


def test_webhook_posts_the_wire_form_with_idempotency_key_and_its_header(
    tmp_path, env, store, hook, clock
):
    rows = [
        add(store, "TP_HIT", task_id="T1", lots=2, exit_price=950),  # silent: posted
        add(store, "FILLED", task_id="T2", lots=1, price=100),  # configured off
        add(store, "TASK_ACCEPTED", task_id="T3"),  # configured on
        add(store, "WORKER_RESTARTED", restarts_today=1),
    ]  # default off
    settings = webhook(hook, events=(("FILLED", "off"), ("TASK_ACCEPTED", "on")))
    with notifying(tmp_path, clock, hook_settings=settings):
        wait_for(
            lambda: channel(store, "webhook").get("cursor") == rows[-1]["seq"],
            20,
            "the webhook cursor at the end",
        )
    posted = [rows[0], rows[2]]
    assert hook.bodies() == [wire_form(r) for r in posted]
    assert [r["key"] for r in hook.received] == [r["id"] for r in posted]
    assert all(r["headers"]["Authorization"] == HOOK_AUTH for r in hook.received)
    assert all(r["headers"]["Content-Type"] == "application/json" for r in hook.received)
    assert hook.duplicates == 0


# --- outages ------------------------------------------------------------------------------------


def test_down_for_a_while_then_back_nothing_lost_nothing_duplicated(
    tmp_path, env, store, tg, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    tg.stop()  # connection refused from now on
    first = [
        add(store, "OUTCOME_UNKNOWN", task_id=f"T{i}", emiten="BBCA", price=9000, lot=1)
        for i in range(4)
    ]
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(
            lambda: channel(store, "telegram").get("attempts", 0) >= 3,
            20,
            "several failed attempts while it is down",
        )
        row = channel(store, "telegram")
        assert row["status"] == "retrying" and "unreachable" in row["last_error"]
        assert row["cursor"] == first[0]["seq"] - 1  # nothing skipped
        later = [add(store, "LOGIN_REQUIRED", "ACC_2", broker="ipot") for _ in range(2)]
        tg.start()  # the same port, serving again
        wait_for(lambda: len(tg.messages) == 6, 20, "everything delivered after the outage")
    assert ids_in(tg.texts()) == sids(first + later)
    assert [o["attempts"] > 1 for o in outcomes(store, "telegram")] == [True] + [False] * 5
    assert channel(store, "telegram")["status"] == "ok"
    no_secret_anywhere(tmp_path, caplog.records, TOKEN)  # "unreachable" never quotes the URL


def test_an_answer_that_never_comes_is_resent_and_the_duplicate_carries_the_same_id(
    tmp_path, env, store, tg, clock
):
    tg.answer_late(seconds=3)  # delivered, answered after our timeout
    rows = [add(store, "WORKER_FATAL", f"ACC_{i}", reason="flapping") for i in range(3)]
    with notifying(tmp_path, clock, telegram(tg, timeout_s=1.0)):
        wait_for(
            lambda: channel(store, "telegram").get("cursor") == rows[-1]["seq"], 30, "all settled"
        )
    got = ids_in(tg.texts())
    assert got == [sids(rows)[0]] + sids(rows)  # the first twice, recognisably
    assert [o["attempts"] for o in outcomes(store, "telegram")] == [2, 1, 1]


def test_a_hanging_channel_does_not_hold_back_the_other(tmp_path, env, store, tg, hook, clock):
    hook.hold()  # the webhook accepts and never answers
    rows = [add(store, "OUTCOME_UNKNOWN", task_id=f"T{i}", emiten="BBRI") for i in range(3)]
    with notifying(tmp_path, clock, telegram(tg), webhook(hook, timeout_s=30.0), budget_s=0.2):
        wait_for(lambda: hook.arrivals >= 1, 20, "the webhook hanging on the first event")
        wait_for(lambda: len(tg.messages) == 3, 20, "telegram delivering regardless")
        assert not hook.received
        assert channel(store, "webhook")["cursor"] == rows[0]["seq"] - 1


def test_429_retry_after_is_honoured(tmp_path, env, store, tg, clock):
    tg.rate_limit(retry_after=1)
    rows = [add(store, "LOGIN_REQUIRED", f"ACC_{i}", broker="ajaib") for i in range(3)]
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(lambda: len(tg.messages) == 3, 20, "delivered after the flood wait")
    assert tg.statuses() == [429, 200, 200, 200]
    assert tg.early_retries == 0  # nothing came before retry_after ended
    assert ids_in(tg.texts()) == sids(rows)
    assert outcomes(store, "telegram")[0]["attempts"] == 2


@pytest.mark.parametrize("paced", [True, False])
def test_pacing_stays_under_the_chats_rate_limit(tmp_path, env, store, clock, paced):
    with FakeTelegram(TOKEN, chats=(CHAT,), min_interval_s=0.2) as tg:
        rows = [add(store, "OUTCOME_UNKNOWN", task_id=f"T{i}") for i in range(5)]
        interval = 0.3 if paced else 0.0
        with notifying(tmp_path, clock, telegram(tg, min_interval_s=interval)):
            wait_for(lambda: len(tg.messages) == 5, 30, "all five delivered")
        assert ids_in(tg.texts()) == sids(rows) and tg.early_retries == 0
        if paced:
            assert set(tg.statuses()) == {200}  # never 429-stormed
        else:
            assert 429 in tg.statuses()  # the fake's limit does bite unpaced


# --- a channel that cannot work -----------------------------------------------------------------

BROKEN = {
    "wrong token": ("424242:WRONG-token_zzz", lambda tg: None, "HTTP 401", TOKEN_ENV),
    "malformed token": ("not-a-token", lambda tg: None, "HTTP 404", TOKEN_ENV),
    "bot blocked": (TOKEN, lambda tg: setattr(tg, "blocked", True), "HTTP 403", "unblock"),
    "unknown chat": (TOKEN, lambda tg: tg.chats.clear(), "chat not found", "check chat_id"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_channel_that_cannot_work_stops_once_and_never_carries_the_token(
    tmp_path, store, tg, clock, caplog, monkeypatch, case
):
    token, breakage, said, hint = BROKEN[case]
    monkeypatch.setenv(TOKEN_ENV, token)
    breakage(tg)
    caplog.set_level(logging.DEBUG)
    first = add(store, "OUTCOME_UNKNOWN", task_id="T1", emiten="BBCA")
    with notifying(tmp_path, clock, telegram(tg)) as n:
        wait_for(lambda: channel(store, "telegram").get("status") == "stopped", 20, "stopped")
        wait_for(lambda: not n.runners[0].thread.is_alive(), 20, "its thread ended")
        add(store, "WORKER_FATAL", reason="later")
        n.wake()
    row = channel(store, "telegram")
    assert said in row["last_error"] and hint in row["last_error"]
    assert row["cursor"] == first["seq"] - 1  # kept for the next run, not skipped
    assert tg.arrivals == 1  # not retried
    stops = [r for r in caplog.records if "STOPPED" in r.getMessage()]
    assert len(stops) == 1 and stops[0].levelno == logging.ERROR
    no_secret_anywhere(tmp_path, caplog.records, token)
    assert logs.redact(f"x {token} y") == "x *** y"  # and the log filter knows it


def test_an_unset_token_variable_stops_the_channel_with_its_name(
    tmp_path, store, tg, clock, monkeypatch
):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    add(store, "OUTCOME_UNKNOWN", task_id="T1")
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(lambda: channel(store, "telegram").get("status") == "stopped", 20, "stopped")
    assert f"${TOKEN_ENV} is not set" in channel(store, "telegram")["last_error"]
    assert tg.arrivals == 0


def test_a_refused_message_is_recorded_and_delivery_goes_on(
    tmp_path, env, store, tg, hook, clock, caplog
):
    tg.refuse("Bad Request: can't parse entities")
    hook.fail(422)
    rows = [add(store, "OUTCOME_UNKNOWN", task_id=f"T{i}") for i in range(3)]
    with notifying(tmp_path, clock, telegram(tg), webhook(hook)):
        for name in ("telegram", "webhook"):
            wait_for(lambda n=name: channel(store, n).get("cursor") == rows[-1]["seq"], 20, name)
    for name in ("telegram", "webhook"):
        got = outcomes(store, name)
        assert [o["outcome"] for o in got] == ["refused", "sent", "sent"], name
    assert "can't parse entities" in outcomes(store, "telegram")[0]["detail"]
    assert outcomes(store, "webhook")[0]["detail"].startswith("HTTP 422")
    assert ids_in(tg.texts()) == sids(rows[1:])
    assert [b["id"] for b in hook.bodies()] == [r["id"] for r in rows[1:]]
    refusals = [r for r in caplog.records if "refused by" in r.getMessage()]
    assert len(refusals) == 2  # once per refused event and channel


def test_webhook_retries_on_5xx_and_429_with_retry_after(tmp_path, env, store, hook, clock):
    hook.fail(503, times=2)
    hook.fail(429, retry_after="1")
    rows = [add(store, "LOGIN_REQUIRED", f"ACC_{i}") for i in range(2)]
    with notifying(tmp_path, clock, hook_settings=webhook(hook)):
        wait_for(lambda: len(hook.received) == 2, 20, "delivered after the failures")
    assert hook.requests == [503, 503, 429, 200, 200]
    assert [b["id"] for b in hook.bodies()] == [r["id"] for r in rows]
    assert outcomes(store, "webhook")[0]["attempts"] == 4


# --- restarts, history, the final flush ---------------------------------------------------------


def test_a_restart_resumes_from_the_persisted_cursor(tmp_path, env, store, tg, clock):
    done = [add(store, "OUTCOME_UNKNOWN", task_id=f"A{i}") for i in range(3)]
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(lambda: len(tg.messages) == 3, 20, "the first three")
    tg.stop()
    queued = [add(store, "WORKER_FATAL", f"ACC_{i}", reason="x") for i in range(2)]
    with notifying(tmp_path, clock, telegram(tg), budget_s=0.3):  # a run while it is down
        wait_for(lambda: channel(store, "telegram").get("attempts", 0) >= 1, 20, "a failure")
    assert channel(store, "telegram")["cursor"] == done[-1]["seq"]
    tg.start()
    more = [add(store, "LOGIN_REQUIRED", "ACC_9")]
    with notifying(tmp_path, clock, telegram(tg)):  # the next run
        wait_for(lambda: len(tg.messages) == 6, 20, "the rest, once")
    assert ids_in(tg.texts()) == sids(done + queued + more)


def test_a_new_channel_starts_at_todays_events_and_stale_ones_are_not_sent(
    tmp_path, env, store, tg
):
    friday = datetime(2026, 2, 27, 9, 0, tzinfo=WIB)
    old = [add(store, "OUTCOME_UNKNOWN", task_id=f"F{i}", at=friday) for i in range(3)]
    today = [add(store, "LOGIN_REQUIRED", "ACC_1", at=AT)]
    with notifying(tmp_path, ManualClock("2026-03-02 10:05"), telegram(tg)):
        wait_for(lambda: len(tg.messages) == 1, 20, "today's alert")
    assert ids_in(tg.texts()) == sids(today)  # not Friday's history
    # a channel created on Friday and down ever since: Friday's events are stale on Monday
    tg.messages.clear()
    store.conn.execute("DELETE FROM notify_channels")
    tg.stop()
    with notifying(
        tmp_path, ManualClock("2026-02-27 09:30"), telegram(tg), day=date(2026, 2, 27), budget_s=0.2
    ):
        wait_for(lambda: channel(store, "telegram").get("attempts", 0) >= 1, 20, "a failure")
    assert channel(store, "telegram")["cursor"] == old[0]["seq"] - 1
    tg.start()
    with notifying(tmp_path, ManualClock("2026-03-02 10:05"), telegram(tg)):
        wait_for(lambda: channel(store, "telegram").get("cursor") == today[0]["seq"], 20, "done")
    assert ids_in(tg.texts()) == sids(today)
    assert [o["outcome"] for o in outcomes(store, "telegram")] == ["stale"] * 3 + ["sent"]


def test_the_final_flush_is_bounded_and_leaves_the_rest_queued(tmp_path, env, store, tg, clock):
    tg.hold()  # Telegram accepts and never answers
    row = add(store, "EOD_REPORT", "robot", date="2026-03-02", summary={"total_tasks": 1})
    n = Notifier(
        NotificationSettings(telegram(tg, timeout_s=60.0)),
        tmp_path / "state.db",
        clock,
        DAY,
        **FAST,
    ).start()
    wait_for(lambda: tg.arrivals >= 1, 20, "the request under way")
    n.close(budget_s=0.2)  # returns although the call hangs
    assert not tg.messages
    assert channel(store, "telegram")["cursor"] == row["seq"] - 1
    tg.stop()  # the held call dies undelivered
    tg.start()
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(lambda: tg.messages, 20, "delivered by the next run")
    assert ids_in(tg.texts()) == sids([row])


# --- the supervisor ----------------------------------------------------------------------------


def write_config(root: Path, tg: FakeTelegram, accounts: list[str], **settings) -> Path:
    """Accounts on the fake broker, alerts to the fake Telegram."""
    return configs.write_config(
        root,
        accounts,
        {
            "operating_hours": {"start": "08:45", "end": "16:15"},
            "eod_report_time": "16:00",
            "poll_interval_ms": 60000,
            "heartbeat_interval_s": 0.3,
            "hang_timeout_s": 20,
            "restart": {
                "backoff_initial_s": 0.1,
                "backoff_max_s": 1,
                "min_uptime_s": 5,
                "flap_max": 1,
                "flap_window_s": 600,
            },
            "browser": {"launch_stagger_s": 0},
            "notifications": {
                "telegram": {
                    "token_env": TOKEN_ENV,
                    "chat_id": int(CHAT),
                    "api_url": tg.url,
                    "timeout_s": 2,
                    "min_interval_s": 0,
                }
            },
            **settings,
        },
    )


def test_the_supervisors_loop_and_outbox_run_on_while_telegram_hangs(
    tmp_path, env, tg, monkeypatch
):
    from robot.supervisor import Supervisor
    from simulator.testing import running_simulator

    monkeypatch.setenv("ROBOT_TEST_TASK_TOKEN", "sim-token")
    with running_simulator(clock=ManualClock("2026-03-02 10:00"), token="sim-token") as sim:
        cfg = load_config(
            write_config(
                tmp_path,
                tg,
                ["S1"],
                task_server={"url": sim.url, "token_env": "ROBOT_TEST_TASK_TOKEN", "timeout_s": 5},
            )
        )
        tg.hold()
        sup = Supervisor(cfg, ManualClock("2026-03-02 10:00"), DAY)
        sup.open()
        try:
            ids = [sup.store.add_event("WORKER_FATAL", "S1", {"reason": "r0"}, AT)]
            wait_for(lambda: tg.arrivals >= 1, 20, "telegram hanging on the first alert")
            ids += [
                sup.store.add_event("WORKER_FATAL", "S1", {"reason": f"r{i}"}, AT) for i in (1, 2)
            ]

            def delivered_to_task_server() -> bool:
                sup.tick(0.01)
                return set(ids) <= {e["id"] for e in sim.events()}

            wait_for(delivered_to_task_server, 30, "the task server outbox delivering")
            assert not tg.messages  # telegram still hanging meanwhile
            tg.release()
            wait_for(lambda: len(tg.messages) == 3, 20, "telegram once it answers")
        finally:
            tg.release()
            sup.close_notifier(1.0)
            sup.finish("done")
    assert ids_in(tg.texts()) == [short_id(i) for i in ids]


def test_worker_events_reach_telegram_across_a_supervisor_kill(tmp_path, env, tg):
    from test_supervisor import Run, behave

    tg.stop()  # down during the first run
    write_config(tmp_path, tg, ["L1"])
    behave(tmp_path, "L1", session_valid=False)  # the worker writes LOGIN_REQUIRED
    first = Run(tmp_path, speed=60, start="08:44")
    try:
        wait_for(lambda: first.events("LOGIN_REQUIRED"), 60, "LOGIN_REQUIRED in state.db")
        wait_for(
            lambda: (
                (first.rows("SELECT attempts FROM notify_channels") or [{}])[0].get("attempts", 0)
                >= 1
            ),
            60,
            "a failed attempt at telegram",
        )
    finally:
        first.kill()  # SIGKILL: no final flush, no clean-up
    tg.start()
    write_config(tmp_path, tg, ["L1", "F1"])
    behave(tmp_path, "F1", crash_on_start=True)  # the supervisor writes WORKER_FATAL
    second = Run(tmp_path, speed=60, start="09:00")
    try:
        wait_for(
            lambda: any("STOPPED FOR TODAY: F1" in t for t in tg.texts()),
            90,
            "WORKER_FATAL of F1 on telegram",
        )
        wait_for(
            lambda: any("LOGIN REQUIRED: L1" in t for t in tg.texts()),
            30,
            "the first run's LOGIN_REQUIRED, resumed from the cursor",
        )
        second.proc.send_signal(signal.SIGTERM)
        code, out = second.finish(60)
    finally:
        second.kill()
    assert code == 0, out
    texts = tg.texts()
    login = [t for t in texts if "LOGIN REQUIRED: L1" in t]
    assert len(login) == 1 and "robot login L1" in login[0]
    assert len([t for t in texts if "STOPPED FOR TODAY: F1" in t]) == 1
    for f in list((tmp_path / "logs").glob("*.log")) + list(tmp_path.glob("state.db*")):
        assert TOKEN.encode() not in f.read_bytes(), f.name


# --- the texts ---------------------------------------------------------------------------------


def row_of(
    type_: str,
    payload: dict,
    account: str | None = "ACC_1",
    task_id: str | None = None,
    event_id: str = "3f2a9c1e-0000-4000-8000-000000000001",
) -> dict:
    return {
        "seq": 1,
        "id": event_id,
        "type": type_,
        "account": account,
        "task_id": task_id,
        "created": "2026-03-02T10:05:03.250+07:00",
        "payload": json.dumps(payload),
    }


def test_texts_say_what_happened_where_and_what_to_do():
    unknown = text_of(
        row_of(
            "OUTCOME_UNKNOWN",
            {
                "state": "OUTCOME_UNKNOWN",
                "emiten": "BBCA",
                "price": 9000,
                "lot": 10,
                "action": "check the broker by hand; the robot will not resend",
            },
            task_id="T-001",
        )
    )
    for part in (
        "ACC_1",
        "T-001",
        "BBCA",
        "10 lot @ 9000",
        "by hand",
        "NOT send it again",
        "2026-03-02 10:05:03 WIB",
        "event 3f2a9c1e",
    ):
        assert part in unknown, part
    exit_unknown = text_of(
        row_of("OUTCOME_UNKNOWN", {"purpose": "tp", "price": 9500, "lot": 10}, task_id="T-002")
    )
    assert "take-profit sell, 10 lot @ 9500" in exit_unknown and "by hand" in exit_unknown
    login = text_of(
        row_of("LOGIN_REQUIRED", {"broker": "ipot", "action": "robot login ACC_2"}, account="ACC_2")
    )
    assert "ACC_2 (ipot)" in login and "run: robot login ACC_2" in login
    fatal = text_of(row_of("WORKER_FATAL", {"reason": "6 failures within 600 s; last: hung"}))
    assert "6 failures within 600 s; last: hung" in fatal and "logs/ACC_1.log" in fatal
    other = text_of(row_of("SOMETHING_NEW", {"x": 1, "state": "A"}, task_id="T9"))
    assert "SOMETHING NEW" in other and "x: 1" in other and "state" not in other
    eod = text_of(
        row_of(
            "EOD_REPORT", {"date": "2026-03-02"}, account="robot", event_id="eod-report-2026-03-02"
        )
    )
    assert eod.endswith("event eod-report-2026-03-02")


def _eod_store(tmp_path: Path, broker_history: list[dict], failed: int = 1) -> dict:
    s = Store(tmp_path / "eod.db")
    ts = "2026-03-02T10:00:00.000+07:00"
    with s.transaction() as c:

        def task(tid, state, **cols):
            c.execute(
                "INSERT INTO tasks (task_id, account, trading_date, emiten, price, lot, "
                "source, payload, payload_hash, state, reason, lots_filled, "
                "avg_fill_price, created, updated) VALUES (?, 'ACC_1', '2026-03-02', ?, "
                "9000, 10, 'server', '{}', 'h', ?, ?, ?, ?, ?, ?)",
                (
                    tid,
                    cols.get("emiten", "BBCA"),
                    state,
                    cols.get("reason"),
                    cols.get("filled", 0),
                    cols.get("avg"),
                    ts,
                    ts,
                ),
            )

        task("T1", "TP_HIT")
        task("T2", "FILLED", emiten="TLKM", filled=10, avg=3500)
        for i in range(failed):
            task(f"F{i}", "FAILED", emiten="BBRI", reason=f"rejected by the broker #{i}")
        c.execute(
            "INSERT INTO eod_snapshots VALUES ('ACC_1', '2026-03-02', ?, ?)",
            (ts, json.dumps(broker_history)),
        )
    report = build_report(s, None, DAY, datetime(2026, 3, 2, 16, 0, tzinfo=WIB))
    s.close()
    return report


def test_the_eod_text_is_a_compact_summary(tmp_path):
    ok = text_of(row_of("EOD_REPORT", _eod_store(tmp_path, []), "robot"))
    assert "END OF DAY 2026-03-02" in ok
    assert "Tasks 3: TP 1 · CL 0 · unmatched 0 · failed 1 · holding 1" in ok
    assert "Reconciliation with the brokers: OK" in ok
    assert "• ACC_1 BBRI: rejected by the broker #0" in ok and "• ACC_1 TLKM 10 lot @ 3500" in ok
    stray = [
        {
            "order_id": "X1",
            "emiten": "BBCA",
            "side": "buy",
            "price": 1,
            "lot": 1,
            "filled": 0,
            "status": "OPEN",
        },
        {
            "order_id": "X2",
            "emiten": "BBCA",
            "side": "buy",
            "price": 1,
            "lot": 1,
            "filled": 0,
            "status": "OPEN",
        },
    ]
    bad = text_of(row_of("EOD_REPORT", _eod_store(tmp_path / "b", stray), "robot"))
    assert "Reconciliation with the brokers: 2 mismatch(es)" in bad
    assert "ACC_1 unknown_to_robot order X1" in bad


def test_a_long_report_is_cut_to_telegrams_limit_and_still_accepted(
    tmp_path, env, store, tg, clock
):
    report = _eod_store(tmp_path / "r", [], failed=400)
    text = text_of(row_of("EOD_REPORT", report, "robot", event_id="eod-report-2026-03-02"))
    assert utf16_len(text) <= TEXT_MAX
    assert text.startswith("📊 END OF DAY") and text.endswith("event eod-report-2026-03-02")
    assert "more line(s) cut" in text and "Tasks 402" in text
    assert "Full report: robot report --date 2026-03-02" in text
    one_line = fit(["🙂" * 5000], "tail")  # 2 UTF-16 units each
    assert utf16_len(one_line) <= TEXT_MAX and one_line.endswith("…\ntail")
    row = add(store, "EOD_REPORT", "robot", **report)
    with notifying(tmp_path, clock, telegram(tg)):
        wait_for(lambda: channel(store, "telegram").get("cursor") == row["seq"], 20, "settled")
    assert [o["outcome"] for o in outcomes(store, "telegram")] == ["sent"]


# --- the catalog --------------------------------------------------------------------------------


def test_every_event_type_the_code_writes_is_in_the_catalog():
    """A new event type without a level would be sent silently by default: make it a choice."""
    written: set[str] = set()
    for path in (PROJECT_ROOT / "robot").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            at = {"add_event": 0, "_emit_once": 0, "move": 2}.get(node.func.attr)
            if (
                at is not None
                and len(node.args) > at
                and isinstance(node.args[at], ast.Constant)
                and isinstance(node.args[at].value, str)
            ):
                written.add(node.args[at].value)
    written |= {"TP_HIT", "CL_HIT"}  # written as to.value
    assert "events.EOD_REPORT" in (PROJECT_ROOT / "robot" / "eod.py").read_text()
    assert len(written) >= 15, written
    assert written - set(EVENT_TYPES) == set()


def test_a_version_2_state_db_migrates_to_3_keeping_its_events(tmp_path, env, tg, clock):
    import sqlite3

    from robot.store import MIGRATIONS, SCHEMA_VERSION, _split_sql

    raw = sqlite3.connect(tmp_path / "state.db")
    for script in MIGRATIONS[:2]:
        for statement in _split_sql(script):
            raw.execute(statement)
    raw.execute("PRAGMA user_version = 2")
    raw.execute(
        "INSERT INTO events (id, type, account, created, payload) VALUES "
        "('e-1', 'LOGIN_REQUIRED', 'ACC_1', '2026-03-02T09:00:00.000+07:00', '{}')"
    )
    raw.commit()
    raw.close()
    store = Store(tmp_path / "state.db")
    try:
        assert store.version == SCHEMA_VERSION  # 3, and any migration after it
        with notifying(tmp_path, clock, telegram(tg)):
            wait_for(lambda: tg.messages, 20, "the old file's event delivered")
        assert tg.texts()[0].startswith("🔑 LOGIN REQUIRED: ACC_1")
        assert store.one("SELECT * FROM v_notify_channels")["events_behind"] == 0
    finally:
        store.close()


def test_a_payload_of_an_unexpected_shape_still_makes_a_message():
    odd = text_of(
        row_of("EOD_REPORT", {"date": "2026-03-02", "summary": [1, 2], "per_account": "x"}, "robot")
    )
    assert odd.startswith("ℹ️ EOD REPORT: robot") and "summary: [1, 2]" in odd


def test_the_fake_bot_api_answers_as_telegram_does(tg):
    import requests

    send = f"{tg.url}/bot{TOKEN}/sendMessage"
    as_form = requests.post(
        send, data={"chat_id": CHAT, "text": "hi", "disable_notification": "true"}, timeout=5
    )
    assert as_form.json()["ok"] is True and as_form.json()["result"]["text"] == "hi"
    assert tg.messages[-1]["disable_notification"] is True
    cases = [
        (f"{tg.url}/bot424242:other/sendMessage", {"chat_id": CHAT, "text": "x"}, 401),
        (f"{tg.url}/botnonsense/sendMessage", {"chat_id": CHAT, "text": "x"}, 404),
        (f"{tg.url}/bot{TOKEN}/sendPhoto", {"chat_id": CHAT}, 404),
        (send, {"chat_id": "999", "text": "x"}, 400),
        (send, {"chat_id": CHAT, "text": ""}, 400),
        (send, {"chat_id": CHAT, "text": "🙂" * 2049}, 400),  # 4098 UTF-16 units
    ]
    for url, body, status in cases:
        answer = requests.post(url, json=body, timeout=5)
        assert answer.status_code == status and answer.json()["ok"] is False, (url, body)
        assert answer.json()["error_code"] == status and answer.json()["description"]
    assert requests.post(send, json={"chat_id": int(CHAT), "text": "🙂" * 2048}, timeout=5).json()[
        "ok"
    ]  # exactly 4096: accepted
    tg.rate_limit(retry_after=7)
    flood = requests.post(send, json={"chat_id": CHAT, "text": "x"}, timeout=5).json()
    assert flood["error_code"] == 429 and flood["parameters"]["retry_after"] == 7
    assert flood["description"] == "Too Many Requests: retry after 7"
    again = requests.post(send, json={"chat_id": CHAT, "text": "x"}, timeout=5).json()
    assert again["error_code"] == 429 and tg.early_retries == 1


def test_a_native_exit_not_seen_says_what_to_check():
    text = text_of(
        row_of(
            "NATIVE_EXIT_NOT_SEEN",
            {
                "emiten": "BBCA",
                "purpose": "tp",
                "level": 9200,
                "last_price": 9225,
                "seen_at": "2026-03-02T10:01:00+07:00",
                "waited_s": 180,
                "lots": 2,
                "action": "check at the broker that the take-profit order exists or sell by "
                "hand; ...",
            },
            task_id="T-003",
        )
    )
    for part in (
        "EXIT ORDER NOT SEEN: ACC_1",
        "T-003",
        "BBCA 2 lot held",
        "take-profit 9200",
        "last 9225 at 2026-03-02 10:01:00 WIB",
        "180 s",
        "does NOT sell by itself",
        "sell by hand",
    ):
        assert part in text, part
