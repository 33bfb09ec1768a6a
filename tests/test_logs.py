"""The log filter masks real secrets and leaves the robot's own lines alone.

The lines that must stay are the robot's log messages as they are formatted (robot/ and
adapters/: every worker state transition, the engine's task moves and intents, the login and
PIN failures, the browser's, the supervisor's); the lines that must be masked carry secrets in
the shapes they come in.
"""

from __future__ import annotations

import logging

import pytest

from robot import logs

UNCHANGED = [
    # worker state transitions (robot/worker.py `enter`), with every reason it gives
    "state - -> INIT: worker process 29860 started",
    "state INIT -> IDLE: waiting for 08:45 WIB",
    "state IDLE -> SETUP: starting the browser",
    "state INIT -> SETUP: starting the browser on Grid node node-a",
    "state SETUP -> CHECK_SESSION: checking the broker session",
    "state IDLE -> CHECK_SESSION: checking the broker session",
    "state CHECK_SESSION -> READY: logged in",
    "state CHECK_SESSION -> WAIT_LOGIN: not logged in: run `robot login ACC_001`",
    "state WAIT_LOGIN -> READY: logged in",
    "state READY -> PULL_TASKS: loading today's tasks",
    "state PULL_TASKS -> TRADING: 3 task(s) known so far; reconciling before anything new",
    "state TRADING -> CHECK_SESSION: checking the broker session",
    "state READY -> PULL_TASKS: logged in again",
    "state PULL_TASKS -> TRADING: trading again; reconciling first",
    "state TRADING -> EOD_REPORT: end of day: settling tasks",
    "state EOD_REPORT -> IDLE: end-of-day settling done",
    "state EOD_REPORT -> IDLE: end-of-day settling done (from the state store only)",
    "state IDLE -> IDLE: day done; waiting for the supervisor to stop us",
    "state TRADING -> STOPPED: stopped by the supervisor",
    "state TRADING -> STOPPED: the supervisor asked this worker to stop",
    "state TRADING -> STOPPED: the control channel closed: the supervisor is gone",
    "unexpected transition S.TRADING -> CHECK_SESSION (checking the broker session)",
    # logins and the IPOT PIN (robot/worker.py, adapters/generic.py, adapters/ipot.py)
    "automatic login refused (login refused: Invalid username or password); waiting for a "
    "manual login",
    "automatic login failed: selector 'login_form.password' (#password) not found on "
    "http://127.0.0.1:40123/login",
    "automatic login failed: login did not complete",
    "logged in automatically (attempt 1 today)",
    "broker session expired",
    "SessionExpired: stockbit: the broker shows its login page",
    "task T5: retry 1 in 5 s (PIN refused: PIN salah)",
    "AdapterError: ACC_IPOT: the trading PIN is needed; set the environment variable named by "
    "pin_env (E2E_PIN)",
    "AdapterError: ACC_IPOT: the trading PIN is needed; set the environment variable named by "
    "pin_env (pin_env is not set)",
    "AdapterError: the PIN pad has no key for one of the PIN's characters",
    "submit of task T5 uncertain: AdapterError: the order form did not appear after the PIN; "
    "re-reading the broker",
    # the engine (robot/engine.py)
    "task T1: PENDING -> SUBMITTING {}",
    'task T1: SUBMITTING -> OPEN {"order_id": "100001", "emiten": "BBCA", "price": 9750, '
    '"lot": 3, "attempt": 1, "adopted": false}',
    'task T7: SUBMITTING -> FAILED {"reason": "rejected by the broker", "error": "Harga '
    'melebihi batas ARA 2370", "attempts": 1}',
    'task T3: OPEN -> EXPIRED_UNMATCHED {"lots_filled": 0, "lot": 2, "reason": "expired '
    'unmatched at the close"}',
    "intent 4: buy BBCA 3 lot @ 9750 for task T1 (entry, attempt 1)",
    "intent 4 of task T1 was never clicked: not clicking: the supervisor (pid 4242) is gone",
    "intent 4 of task T1 was never clicked: order entry closed (pre_opening_match) before "
    "the click",
    "order 100001 of task T1 confirmed by read-back (OPEN)",
    "task T1: order outcome unknown (clicked, but not found at the broker after a second read)",
    "cut-loss sell 100007 unfilled for 130 s; re-pricing to 9600",
    "fault point after_intent: holding until /tmp/x/hold.fifo is written to",
    # the browser and the worker around it
    "browser started (uc, pids [14863, 14861])",
    "browser started on Grid node node-a (session 5f3c2a9e8b7d4c1f)",
    "browser crashed (BrowserCrashed: MaxRetryError: HTTPConnectionPool(host='localhost', "
    "port=43831): Max retries exceeded with url: /session/fd860e52556571e8d19331ac6cdd28dc/url);"
    " relaunching (1 in a row)",
    "InvalidSessionIdException: invalid session id: session deleted as the browser has closed "
    "the connection",
    "asked the hub to end 1 stale Grid session(s) of ACC_001: 5f3c2a9e8b7d4c1f",
    "ending stale Grid session 5f3c2a9e of ACC_001: HTTP Error 404: Not Found",
    "control channel closed: the supervisor is gone; stopping",
    "the supervisor (pid 4242) is gone; stopping",
    # the supervisor, tasks and the task server
    "run 3: trading day 2026-03-02, 3 account(s), clock real",
    "task T9 rejected: price 9755 is off the tick grid (25 per tick at this price)",
    "task server: HTTP 401 Unauthorized (failure 1; next try in 1.0 s)",
    "event delivery failed (HTTP 503); 3 pending, retry in 4 s",
    "tasks pulled: Intake(accepted=3, rejected=0, duplicates=0, conflicts=0, cancels=0)",
    "ACC_002: worker exited with code -9 (uptime 12.3 s); restarting in 0.5 s",
]

MASKED = [
    ("token=abc123def", "token=***"),
    ("token: abc123def", "token: ***"),
    (
        "GET /api/tasks?date=2026-03-02&token=s3cr3t&x=1",
        "GET /api/tasks?date=2026-03-02&token=***&x=1",
    ),
    ("password=hunter2 user=bob", "password=*** user=bob"),
    ("Password: hunter2", "Password: ***"),
    ("passwd=hunter2", "passwd=***"),
    ('{"password": "hunter 2", "user": "bob"}', '{"password": "***", "user": "bob"}'),
    ("{'pin': '80417263', 'lot': 3}", "{'pin': '***', 'lot': 3}"),
    ("pin=80417263", "pin=***"),
    ("PIN: 80417263", "PIN: ***"),
    (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
        "Authorization: Bearer ***",
    ),
    ('{"Authorization": "Bearer e2e-token-123"}', '{"Authorization": "***"}'),
    ("requests sent with bearer e2e-token-123456 failed", "requests sent with bearer *** failed"),
    ("Cookie: sb_session=0123456789abcdef; theme=dark", "Cookie: ***"),
    ("Set-Cookie: ipot_sid=xyz789; Path=/; HttpOnly", "Set-Cookie: ***"),
    ("cookie=abc123", "cookie=***"),
    ("session_id=abc123", "session_id=***"),
    ("sessionid: abc123", "sessionid: ***"),
    ("sid=abc123", "sid=***"),
    ("api_key=abc123", "api_key=***"),
    ("apikey: abc123", "apikey: ***"),
    ("X-Api-Key: abc123", "X-Api-Key: ***"),
    ("secret=abc123", "secret=***"),
    ("client_secret=abc123", "client_secret=***"),
    ("access_token=abc123&expires=3600", "access_token=***&expires=3600"),
    (
        "cookies sent: sb_session=0123abcd; ajaib_token=9f8e7d",
        "cookies sent: sb_session=***; ajaib_token=***",
    ),
    ("JSESSIONID=ABC123DEF", "JSESSIONID=***"),
    ("connect.sid=s%3Aabc.def", "connect.sid=***"),
]


@pytest.fixture(autouse=True)
def no_registered_secrets(monkeypatch):
    """Secrets other tests of this process registered (a PIN like 123456, a token) must not
    change what these tests see masked."""
    monkeypatch.setattr(logs, "_SECRETS", set())


@pytest.mark.parametrize("line", UNCHANGED)
def test_the_robots_own_lines_are_left_alone(line):
    assert logs.redact(line) == line


@pytest.mark.parametrize("line, expected", MASKED)
def test_secrets_are_masked(line, expected):
    assert logs.redact(line) == expected


def test_registered_secrets_are_masked_wherever_they_appear(monkeypatch):
    monkeypatch.setattr(logs, "_SECRETS", set())
    logs.register_secret("Pw7xQchaosZ3kL9v")
    logs.register_secret("80417263")
    assert (
        logs.redact("login with Pw7xQchaosZ3kL9v failed; PIN 80417263 typed")
        == "login with *** failed; PIN *** typed"
    )


def test_the_filter_rewrites_the_record_a_handler_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "_SECRETS", set())
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        logs.setup(tmp_path, "T")
        log = logging.getLogger("robot.test")
        log.info("state %s -> %s: %s", "SETUP", "CHECK_SESSION", "checking the broker session")
        log.info("posting with %s", "Authorization: Bearer e2e-token-123456")
        for h in root.handlers:
            h.flush()
        text = (tmp_path / "T.log").read_text()
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    assert "state SETUP -> CHECK_SESSION: checking the broker session" in text
    assert "Authorization: Bearer ***" in text and "e2e-token-123456" not in text
