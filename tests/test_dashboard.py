"""`robot dashboard` through Flask's test client (and its CLI as a real process): what the pages
and their JSON show of a day written by the robot's own Store, that the dashboard only reads,
the token beyond loopback, the Host check, CSRF on the buttons. The browser side is in
test_dashboard_browser.py."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dashboard_day import DAY, at, build_day, write_config
from dashboard_worker import playing_worker
from robot.dashboard import create_app
from robot.dashboard.charts import outcomes_chart
from robot.dashboard.views import results_per_account
from robot.store import Store
from waiting import wait_for


@pytest.fixture
def day(tmp_path: Path) -> Path:
    """accounts.yaml of a day in state.db, with its stored end-of-day report."""
    build_day(tmp_path, report=True)
    return write_config(tmp_path)


@pytest.fixture
def client(day: Path):
    return create_app(day).test_client()


def test_the_main_page_shows_every_account_and_the_days_tasks(client):
    page = client.get("/").get_data(as_text=True)
    for name in ("ACC_A", "ACC_B", "ACC_C", "T-TP", "T-CL", "T-OPEN", "T-FAIL", "T-UNK", "T-WAIT"):
        assert name in page
    # what needs a person stands out: a row class and the "Needs you now" list
    assert re.search(r'data-account="ACC_B" class="alert alert-LOGIN_REQUIRED"', page)
    assert re.search(r'data-account="ACC_C" class="alert alert-FATAL"', page)
    assert re.search(r'data-task="T-UNK" data-state="OUTCOME_UNKNOWN" class="[^"]*alert', page)
    assert "Needs you now" in page and "robot login ACC_B" in page
    assert "browser keeps crashing" in page  # ACC_C's last error
    assert 'data-waiting="8"' in page  # 14 events, the first 6 delivered
    assert '<script src="/static/dashboard.js"' in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


def test_the_json_twin_carries_the_data_and_each_sections_html(client):
    s = client.get("/api/state").get_json()
    assert s["day"] == DAY
    states = {a["account"]: (a["state"], a["restarts_today"], a["alert"]) for a in s["accounts"]}
    assert states == {
        "ACC_A": ("TRADING", 0, None),
        "ACC_B": ("WAIT_LOGIN", 0, "LOGIN_REQUIRED"),
        "ACC_C": ("FATAL", 3, "FATAL"),
    }
    assert [a["kind"] for a in s["attention"]] == ["LOGIN_REQUIRED", "FATAL", "OUTCOME_UNKNOWN"]
    tp = next(t for t in s["tasks"] if t["task_id"] == "T-TP")
    assert [(o["purpose"], o["status"], o["broker_order_id"]) for o in tp["orders"]] == [
        ("entry", "MATCHED", "B-100"),
        ("tp", "MATCHED", "B-101"),
    ]
    assert tp["result_rp"] == (9200 - 9000) * 2 * 100
    assert [e["seq"] for e in s["events"]] == list(range(14, 0, -1))  # newest first
    assert s["outbox"]["waiting"] == 8 and [e["seq"] for e in s["outbox"]["events"]][0] == 7
    assert "html" not in s
    page = client.get("/api/state?sections=1").get_json()  # what the page's script asks
    assert set(page) == {"now", "html", "hash"}
    html = client.get("/").get_data(as_text=True)  # a section that did not change keeps its hash
    for name in ("tasks", "events", "outbox", "attention"):
        assert f'data-section="{name}" data-hash="{page["hash"][name]}"' in html
    assert set(page["html"]) == {"status", "attention", "accounts", "tasks", "events", "outbox"}
    assert 'data-task="T-UNK"' in page["html"]["tasks"]


def test_tasks_filter_by_account_and_state(client):
    s = client.get("/api/state?account=ACC_A").get_json()
    assert sorted(t["task_id"] for t in s["tasks"]) == ["T-CL", "T-FAIL", "T-OPEN", "T-TP"]
    s = client.get("/api/state?account=ACC_A&state=TP_HIT").get_json()
    assert [t["task_id"] for t in s["tasks"]] == ["T-TP"] and s["tasks_total"] == 6
    page = client.get("/?state=OUTCOME_UNKNOWN").get_data(as_text=True)
    assert 'data-task="T-UNK"' in page and 'data-task="T-TP"' not in page
    # the alerts are not filtered away
    assert "robot login ACC_B" in page


def test_a_tasks_page_shows_its_events_in_order_and_polls_only_newer_ones(client, tmp_path):
    page = client.get("/task/T-TP").get_data(as_text=True)
    timeline = page[page.index('data-append="timeline"') :]
    types = re.findall(r"<td><strong>([A-Z_]+)</strong></td>", timeline)
    assert types == ["TASK_ACCEPTED", "ORDER_SUBMITTED", "TP_HIT"]
    p = client.get("/api/task/T-TP").get_json()
    assert [e["seq"] for e in p["timeline"]] == [2, 3, 4] and p["last_seq"] == 4
    assert client.get("/api/task/T-TP?after=4").get_json()["timeline"] == []
    store = Store(tmp_path / "state.db")
    try:
        with store.transaction():
            store.add_event("EOD_REPORT", "robot", {"date": DAY}, at(400), task_id="T-TP")
    finally:
        store.close()
    p = client.get("/api/task/T-TP?after=4").get_json()
    assert [e["type"] for e in p["timeline"]] == ["EOD_REPORT"] and p["last_seq"] == 15
    p = client.get("/api/task/T-TP?after=4&sections=1").get_json()
    assert p["after"] == 15 and p["append"]["timeline"].count("<tr") == 1
    assert 'data-seq="15"' in p["append"]["timeline"] and "task_head" in p["html"]
    assert client.get("/task/NOPE").status_code == 404


def test_an_outcome_unknown_task_offers_the_three_resolutions(client):
    page = client.get("/task/T-UNK").get_data(as_text=True)
    assert "will not send it again" in page
    for form in ("resolve-placed", "resolve-not-placed", "resolve-retry"):
        assert f'id="{form}"' in page
    assert page.count('name="csrf"') == 3
    other = client.get("/task/T-TP").get_data(as_text=True)
    assert 'id="nothing-to-resolve"' in other and 'id="resolve-placed"' not in other


def test_the_report_page_draws_outcomes_and_realised_results_per_account(client):
    page = client.get(f"/report?day={DAY}").get_data(as_text=True)
    assert "the report the robot wrote" in page
    assert page.count("<svg") == 2
    assert "ACC_A: 1 TP hit" in page and "ACC_A: 1 CL hit" in page
    assert "ACC_A: +20,000 Rp" in page  # +40,000 at TP, -20,000 at CL
    r = client.get(f"/api/report?day={DAY}").get_json()
    assert r["stored"] is True and r["report"]["summary"]["tp_hit"] == 1
    assert r["results"] == {
        "ACC_A": {"tp": 1, "cl": 1, "priced": 2, "unpriced": 0, "result_rp": 20000}
    }
    assert DAY in r["days"]


def test_a_day_without_a_stored_report_is_built_from_state_db(tmp_path):
    build_day(tmp_path, report=False)
    c = create_app(tmp_path / "state.db").test_client()
    r = c.get("/api/report").get_json()
    assert r["stored"] is False and r["report"]["summary"]["total_tasks"] == 6
    body = c.get("/api/report?sections=1").get_json()["html"]["report_body"]
    assert "built now from state.db" in body
    assert 'data-api="/api/report' in c.get("/report").get_data(as_text=True)  # it polls
    empty = c.get("/api/report?day=2026-03-03").get_json()
    assert empty["report"]["summary"]["total_tasks"] == 0 and empty["results"] == {}
    assert c.get("/report?day=tomorrow").status_code == 400


def test_results_count_exits_without_prices_apart():
    exits = [
        {
            "account": "A",
            "state": "TP_HIT",
            "avg_fill_price": 100,
            "exit_price": 110,
            "exit_lots": 3,
        },
        {
            "account": "A",
            "state": "CL_HIT",
            "avg_fill_price": None,
            "exit_price": 90,
            "exit_lots": 1,
        },
    ]
    assert results_per_account(exits) == {
        "A": {"tp": 1, "cl": 1, "priced": 1, "unpriced": 1, "result_rp": 3000}
    }


def test_charts_escape_what_the_state_holds():
    svg = str(outcomes_chart({"<b>x</b>": {"tasks": 1, "failed": 1}}))
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg


# --- read-only ----------------------------------------------------------------------------


def files_of(db: Path) -> dict[str, str]:
    """The database's bytes and its WAL's (a reader of a WAL file may create an empty -wal and
    the -shm index: no content)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (db, db.with_name(db.name + "-wal"))
        if p.exists() and p.stat().st_size
    }


def test_the_pages_change_nothing_in_state_db(day, client, tmp_path):
    before = files_of(tmp_path / "state.db")
    for url in ("/", "/api/state", "/task/T-UNK", "/api/task/T-UNK", "/report", "/api/report"):
        assert client.get(url).status_code == 200, url
    assert files_of(tmp_path / "state.db") == before


def test_a_writer_commits_at_once_while_the_dashboard_holds_a_read_snapshot(tmp_path):
    db = build_day(tmp_path)
    reader = Store(db, readonly=True)
    writer = Store(db)
    writer.conn.execute("PRAGMA busy_timeout = 0")  # any lock held by the reader fails at once
    try:
        with reader.read_snapshot():
            assert {t["task_id"] for t in reader.day_tasks(DAY)} >= {"T-OPEN"}
            writer.set_worker_state("ACC_A", "stockbit", "EOD_REPORT", at(400), "close", 101)
            writer.beat("ACC_A", at(401))
            assert reader.worker("ACC_A")["state"] == "TRADING"  # one consistent view
        assert reader.worker("ACC_A")["state"] == "EOD_REPORT"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.beat("ACC_A", at(402))  # the dashboard's connection cannot write
    finally:
        reader.close()
        writer.close()


def test_a_writer_keeps_committing_while_the_pages_are_read(day, client, tmp_path):
    failures: list[Exception] = []
    commits = [0]
    stop = threading.Event()

    def write() -> None:
        store = Store(tmp_path / "state.db")
        store.conn.execute("PRAGMA busy_timeout = 0")
        try:
            while not stop.is_set():
                try:
                    store.beat("ACC_A", at(commits[0]))
                    commits[0] += 1
                except sqlite3.OperationalError as exc:
                    failures.append(exc)
        finally:
            store.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        wait_for(lambda: commits[0] > 0, what="the writer's first commit")
        for _ in range(15):
            assert client.get("/api/state").status_code == 200
            assert client.get("/api/task/T-OPEN").status_code == 200
    finally:
        stop.set()
        thread.join(30)
    assert failures == [] and commits[0] > 1


# --- access --------------------------------------------------------------------------------


def test_beyond_loopback_the_app_needs_a_token(day):
    with pytest.raises(ValueError, match="needs a token"):
        create_app(day, bind_host="0.0.0.0")
    create_app(day, bind_host="::1")  # loopback: no token needed


def test_with_a_token_every_request_needs_it(day):
    c = create_app(day, token="s3cret-token", bind_host="0.0.0.0").test_client()
    for url in ("/", "/api/state", "/task/T-UNK", "/report", "/static/dashboard.js"):
        assert c.get(url).status_code == 401, url
    assert c.post("/task/T-UNK/resolve", data={"choice": "not-placed"}).status_code == 401
    assert c.get("/?token=wrong").status_code == 401
    assert c.get("/api/state", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    first = c.get("/report?day=2026-03-02&token=s3cret-token")
    assert first.status_code == 303 and first.headers["Location"] == "/report?day=2026-03-02"
    assert (
        "HttpOnly" in first.headers["Set-Cookie"]
        and "SameSite=Strict" in first.headers["Set-Cookie"]
    )
    assert c.get("/").status_code == 200  # the cookie now goes along
    assert c.get("/api/state").status_code == 200


def test_on_loopback_without_a_token_only_loopback_host_names_are_answered(client):
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "rebound.example:8765"}).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(day):
    app = create_app(day, action_wait_s=0.1)
    c = app.test_client()
    for data in ({"choice": "not-placed"}, {"choice": "not-placed", "csrf": "guess"}):
        r = c.post("/task/T-UNK/resolve", data=data)
        assert r.status_code == 403 and b"CSRF" in r.data
        assert c.post("/account/ACC_C/restart", data=data).status_code == 403
    ok = c.post(
        "/task/T-UNK/resolve", data={"choice": "not-placed", "csrf": app.config["CSRF_TOKEN"]}
    )
    assert ok.status_code != 403
    assert app.config["CSRF_TOKEN"] != create_app(day).config["CSRF_TOKEN"]  # per process


def post(app, url: str, **data: str):
    return app.test_client().post(url, data={**data, "csrf": app.config["CSRF_TOKEN"]})


def test_the_placed_resolution_needs_a_broker_order_id(day):
    r = post(create_app(day), "/task/T-UNK/resolve", choice="placed", broker_order_id=" ")
    assert r.status_code == 400 and b"the broker&#39;s order id" in r.data


def test_a_request_robot_resolve_refuses_is_shown_refused(day):
    app = create_app(day, action_wait_s=0.1)
    r = post(app, "/task/T-TP/resolve", choice="not-placed")
    assert r.status_code == 409
    assert b"not OUTCOME_UNKNOWN: nothing to resolve" in r.data
    r = post(app, "/account/ACC_A/restart")
    assert r.status_code == 409 and b"not FATAL" in r.data


def test_a_button_records_the_request_as_the_dashboards_and_shows_it_pending(day, tmp_path):
    app = create_app(day, action_wait_s=0.2)
    r = post(app, "/task/T-UNK/resolve", choice="not-placed-retry")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-status="pending"' in page
    assert "pending (request #1): ACC_C&#39;s worker is FATAL" in page  # wait_outcome's words
    r = post(app, "/account/ACC_C/restart")
    assert 'data-status="pending"' in r.get_data(as_text=True)
    store = Store(tmp_path / "state.db", readonly=True)
    try:
        resolve_row, restart_row = store.operator_request(1), store.operator_request(2)
    finally:
        store.close()
    assert (resolve_row["action"], resolve_row["who"], resolve_row["task_id"]) == (
        "retry",
        "dashboard",
        "T-UNK",
    )
    assert (restart_row["kind"], restart_row["who"], restart_row["account"]) == (
        "restart",
        "dashboard",
        "ACC_C",
    )
    task_page = app.test_client().get("/task/T-UNK").get_data(as_text=True)
    assert 'id="pending-request"' in task_page and "retry by dashboard" in task_page


def test_the_resolve_button_shows_what_the_worker_decided(day, tmp_path):
    """The account's worker (a real Engine over the browserless fake broker, whose book holds
    no order) applies the dashboard's --not-placed while the POST waits for the outcome."""
    app = create_app(day, action_wait_s=30)
    with playing_worker(tmp_path, "ACC_C"):
        r = post(app, "/task/T-UNK/resolve", choice="not-placed")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-status="done"' in page, page
    assert "no order like task T-UNK&#39;s at the broker: the task fails for the day" in page
    s = app.test_client().get("/api/task/T-UNK").get_json()
    assert s["task"]["state"] == "FAILED"
    resolved = [e for e in s["timeline"] if e["type"] == "TASK_RESOLVED"]
    assert [e["payload"]["who"] for e in resolved] == ["dashboard"]
    assert [e["type"] for e in s["timeline"]][-2:] == ["TASK_RESOLVED", "TASK_FAILED"]


def test_without_state_db_the_page_says_so(tmp_path):
    c = create_app(tmp_path / "state.db").test_client()
    r = c.get("/")
    assert r.status_code == 503 and b"no state database" in r.data
    assert c.get("/api/state").get_json()["error"].startswith("no state database")
    assert not (tmp_path / "state.db").exists()  # the dashboard does not create it


# --- the command -----------------------------------------------------------------------------


def robot(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "robot", *args], capture_output=True, text=True, timeout=60, **kw
    )


def test_the_command_refuses_a_public_address_without_a_token(day):
    out = robot(
        "dashboard",
        "--config",
        str(day),
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        env={"PATH": "/usr/bin:/bin", "ROBOT_DASHBOARD_TOKEN": ""},
    )
    assert out.returncode == 2, out.stderr
    assert "--host 0.0.0.0" in out.stderr and "ROBOT_DASHBOARD_TOKEN" in out.stderr
    assert "Traceback" not in out.stderr


@contextlib.contextmanager
def command(*args: str, env: dict | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`robot dashboard ARGS` as a process; its URL from the first line it prints."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "robot", "dashboard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"robot dashboard: (http://127\.0\.0\.1:\d+/)$", line.strip())
        assert match, line + (proc.stderr.read() if proc.poll() is not None else "")
        yield match.group(1), proc
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_command_serves_the_dashboard_on_loopback(day):
    with command("--config", str(day), "--port", "0", env={"ROBOT_DASHBOARD_TOKEN": ""}) as (
        url,
        _,
    ):
        r = requests.get(url + "api/state", timeout=30)
        assert r.status_code == 200
        assert {a["account"] for a in r.json()["accounts"]} == {"ACC_A", "ACC_B", "ACC_C"}


def test_the_command_with_a_token_requires_it_and_never_prints_it(day):
    token = "cli-token-0123456789"
    with command(
        "--config",
        str(day),
        "--port",
        "0",
        "--token-env",
        "MY_DASH_TOKEN",
        env={"MY_DASH_TOKEN": token},
    ) as (url, proc):
        assert requests.get(url, timeout=30).status_code == 401
        session = requests.Session()
        r = session.get(f"{url}?token={token}", timeout=30)  # the cookie, then the page
        assert r.status_code == 200 and r.url == url and "ACC_A" in r.text
        assert session.get(url + "api/state", timeout=30).status_code == 200
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()  # after the URL's line (the reader's buffer included)
    err = proc.stderr.read()
    assert "$MY_DASH_TOKEN" in out and token not in out + err


def test_the_demo_serves_the_dashboard_while_its_day_runs_and_stops_it(day, capsys):
    from robot.demo import start_dashboard

    server = start_dashboard(day)
    assert server is not None
    assert f"dashboard at {server.url}" in capsys.readouterr().out
    try:
        assert requests.get(server.url + "api/state", timeout=30).json()["day"] == DAY
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url, timeout=5)
