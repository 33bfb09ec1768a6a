"""Chaos, bad input: task payloads and task files.

- Property-based: tasks drawn around the tick-band boundaries (prices p±3 around 50, 200, 500,
  2000, 5000, the maximum price) and at random, with TP/CL on either side of the price, lots
  around their bounds, wrong types, missing keys and extra keys. An independent oracle (the tick
  table written out again here) says which fields are wrong; problems_with() must name exactly
  those, and ingest() must store the task FAILED with every reason and a TASK_REJECTED event, or
  PENDING when it is valid. No rejected task ever gets an order row.
- Listed cases (counted by test_chaos_count.py): each malformed task stored FAILED with its
  reasons; tasks that cannot even be stored (no task_id, not an object) reported and dropped.
- `--tasks FILE`: a malformed file (not YAML/JSON, not a list, list of non-mappings, missing,
  a folder, not UTF-8, alias bombs) stops the run with exit 2 before anything starts: no state.db,
  no logs, no profile, no browser.
- A whole (short, browserless) supervisor run with a valid tasks file full of invalid tasks and one
  valid one: only the valid one reaches the (fake) broker.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from datetime import date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

import configs
import statedb
from robot.cli import main
from robot.clock import WIB
from robot.config import load_config
from robot.protocol import TASK_SCHEMA
from robot.rules import MAX_PRICE
from robot.store import Store
from robot.tasks import ingest, problems_with
from waiting import wait_for

DAY = date(2026, 3, 2)  # a Monday, an IDX trading day
NOW = datetime.combine(DAY, time(8, 50), WIB)
ACCOUNT, DISABLED = "ACC_A", "ACC_OFF"
CI_EXAMPLES, FULL_EXAMPLES = 300, 5000


def write_config(root: Path, **settings_) -> Path:
    """Two accounts on the browserless fake broker (no limits: validity is the IDX rules)."""
    return configs.write_config(
        root,
        [ACCOUNT, {"id": DISABLED, "enabled": False}],
        {
            "operating_hours": {"start": "08:45", "end": "09:20"},
            "eod_report_time": "09:15",
            "heartbeat_interval_s": 0.5,
            "hang_timeout_s": 30,
            "browser": {"launch_stagger_s": 0},
            **settings_,
        },
    )


@pytest.fixture(scope="module")
def intake(tmp_path_factory):
    root = tmp_path_factory.mktemp("intake")
    cfg = load_config(write_config(root))
    store = Store(root / "state.db")
    yield cfg, store
    store.close()


# ------------------------------------------------------------------------------------ oracle
BANDS = ((5000, 25), (2000, 10), (500, 5), (200, 2), (0, 1))  # written out again on purpose


def is_int(v) -> bool:
    return type(v) is int


def price_ok(p: int) -> bool:
    tick = next(t for low, t in BANDS if p >= low)
    return 50 <= p <= MAX_PRICE and p % tick == 0


def expected_faults(task: dict) -> set[str]:
    """The fields problems_with() must name: the schema's faults, or else the rules' faults."""
    schema: set[str] = set()
    for key in TASK_SCHEMA["required"]:
        if key not in task:
            schema.add(key)
    checks = {
        "task_id": lambda v: isinstance(v, str) and 1 <= len(v) <= 128,
        "account": lambda v: isinstance(v, str) and 1 <= len(v) <= 128,
        "emiten": lambda v: (
            isinstance(v, str) and len(v) == 4 and v.isascii() and v.isupper() and v.isalpha()
        ),
        "side": lambda v: v == "buy",
        "price": lambda v: is_int(v) and v >= 1,
        "lot": lambda v: is_int(v) and 1 <= v <= 50_000,
        "tp": lambda v: v is None or (is_int(v) and v >= 1),
        "cl": lambda v: v is None or (is_int(v) and v >= 1),
    }
    for key, ok in checks.items():
        if key in task and not ok(task[key]):
            schema.add(key)
    if schema:
        return schema
    rules: set[str] = set()
    if task["account"] != ACCOUNT:
        rules.add("account")  # unknown or disabled
    price, tp, cl = task["price"], task["tp"], task["cl"]
    if not price_ok(price):
        rules.add("price")
    if tp is not None and (tp <= price or not price_ok(tp)):
        rules.add("tp")
    if cl is not None and (cl >= price or not price_ok(cl)):
        rules.add("cl")
    return rules


def named_fields(reasons: list[str]) -> set[str]:
    """'price 9755 is off the tick grid' / 'lot: 0 is below the minimum 1' -> price / lot."""
    return {r.split()[0].rstrip(":") for r in reasons}


# ------------------------------------------------------------------------------- strategies
boundary_prices = st.sampled_from([50, 200, 500, 2000, 5000, MAX_PRICE]).flatmap(
    lambda b: st.integers(b - 3, b + 3)
)
grid_prices = st.sampled_from(BANDS).flatmap(
    lambda band: st.integers(max(band[0], 50) // band[1], 20_000 // band[1]).map(
        lambda n: n * band[1]
    )
)
prices = st.one_of(
    boundary_prices, grid_prices, st.integers(-5, 30_000), st.integers(2**63 - 2, 2**80)
)
wrong_types = st.one_of(
    st.text(max_size=6),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.none(),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
extra_keys = st.dictionaries(
    st.text(min_size=1, max_size=10).filter(lambda k: k not in TASK_SCHEMA["properties"]),
    json_values,
    max_size=3,
)


@st.composite
def tasks(draw) -> dict:
    price = draw(prices)
    near = st.integers(-40, 40).map(lambda d: price + d)
    task = {
        "task_id": f"H-{uuid.uuid4().hex}",
        "account": draw(st.sampled_from([ACCOUNT] * 6 + [DISABLED, "NOBODY"])),
        "emiten": draw(st.sampled_from(["BBCA"] * 6 + ["bbca", "BBC", "BBCA1", "B8CA", "BBCA\n"])),
        "side": draw(st.sampled_from(["buy"] * 8 + ["sell", "BUY"])),
        "price": price,
        "lot": draw(
            st.one_of(st.integers(-2, 3), st.integers(49_998, 50_002), st.integers(1, 500))
        ),
        "tp": draw(st.one_of(st.none(), near, prices)),
        "cl": draw(st.one_of(st.none(), near, prices)),
    }
    for key in draw(st.sets(st.sampled_from(sorted(set(task) - {"task_id"})), max_size=2)):
        # wrong types (a task_id that is no string cannot be stored: UNSTORABLE_CASES)
        task[key] = draw(wrong_types)
    for key in draw(st.sets(st.sampled_from(sorted(set(task) - {"task_id"})), max_size=1)):
        del task[key]  # missing keys
    task.update(draw(extra_keys))  # extra keys: allowed
    return task


def check_one(cfg, store: Store, task: dict) -> bool:
    """problems_with() names exactly the oracle's fields; ingest() stores the verdict."""
    reasons = problems_with(task, cfg, store, DAY)
    expected = expected_faults(task)
    assert named_fields(reasons) == expected, (task, reasons)
    result = ingest(store, cfg, [task], "chaos", DAY, NOW)
    row = store.one("SELECT * FROM tasks WHERE task_id = ?", (task["task_id"],))
    events = store.query("SELECT type, payload FROM events WHERE task_id = ?", (task["task_id"],))
    assert not store.query("SELECT 1 FROM orders WHERE task_id = ?", (task["task_id"],))
    if expected:
        assert result.rejected == 1 and row["state"] == "FAILED", (task, row)
        assert row["reason"] == "; ".join(reasons)  # every reason, in order
        assert [e["type"] for e in events] == ["TASK_REJECTED"]
        assert json.loads(events[0]["payload"])["reasons"] == reasons
    else:
        assert result.accepted == 1 and row["state"] == "PENDING", (task, row)
        assert [e["type"] for e in events] == ["TASK_ACCEPTED"]
    return bool(expected)


@settings(
    max_examples=CI_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(task=tasks())
def test_task_payloads_property(intake, task):
    check_one(*intake, task)


@pytest.mark.chaos
@pytest.mark.timeout(1800)
@settings(
    max_examples=FULL_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(task=tasks())
def test_task_payloads_property_full(intake, task):
    check_one(*intake, task)


@settings(max_examples=CI_EXAMPLES, deadline=None, database=None)
@given(
    base=st.sampled_from([200, 500, 2000, 5000]),
    offset=st.integers(-1, 1),
    tp_ticks=st.integers(-2, 3),
    cl_ticks=st.integers(-3, 2),
)
def test_prices_one_either_side_of_each_band_boundary(intake, base, offset, tp_ticks, cl_ticks):
    """p-1, p, p+1 at every boundary: valid iff on the tick of the band the price itself is in."""
    price = base + offset
    task = {
        "task_id": f"B-{uuid.uuid4().hex}",
        "account": ACCOUNT,
        "emiten": "TLKM",
        "side": "buy",
        "price": price,
        "lot": 1,
        "tp": price + 25 * tp_ticks,
        "cl": price + 25 * cl_ticks,
    }
    rejected = check_one(*intake, task)
    on_grid = {
        199: True,
        200: True,
        201: False,
        499: False,
        500: True,
        501: False,
        1999: False,
        2000: True,
        2001: False,
        4999: False,
        5000: True,
        5001: False,
    }[price]
    if on_grid and tp_ticks > 0 and cl_ticks < 0 and price_ok(task["tp"]) and price_ok(task["cl"]):
        assert not rejected


# ------------------------------------------------------------------------------ listed cases
def task(**changes) -> dict:
    base = {
        "task_id": "T",
        "account": ACCOUNT,
        "emiten": "BBCA",
        "side": "buy",
        "price": 9750,
        "lot": 2,
        "tp": 9900,
        "cl": 9600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


# name -> (task, fragments every one of which the stored reason must contain)
TASK_CASES: dict[str, tuple[dict, list[str]]] = {
    "off tick in the 2-rupiah band": (
        task(price=201, tp=210, cl=190),
        ["price 201 is off the tick grid"],
    ),
    "off tick just below 500": (
        task(price=499, tp=550, cl=450),
        ["price 499 is off the tick grid (tick 2"],
    ),
    "off tick just above 2000": (
        task(price=2005, tp=2100, cl=1900),
        ["price 2005 is off the tick grid (tick 10"],
    ),
    "off tick just above 5000": (task(price=5010, tp=5100, cl=4900), ["nearest 5000 or 5025"]),
    "below the minimum price": (
        task(price=49, tp=60, cl=None),
        ["price 49 is below the minimum price 50"],
    ),
    "price zero": (task(price=0), ["price: 0 is below the minimum 1"]),
    "lot zero": (task(lot=0), ["lot: 0 is below the minimum 1"]),
    "lot above 50000": (task(lot=50_001), ["lot: 50001 is above the maximum 50000"]),
    "tp below price": (task(tp=9700), ["tp 9700 must be above price 9750"]),
    "tp equal to price": (task(tp=9750), ["tp 9750 must be above price 9750"]),
    "cl above price": (task(cl=9800), ["cl 9800 must be below price 9750"]),
    "tp off tick": (task(tp=9910), ["tp 9910 is off the tick grid (tick 25)"]),
    "cl below the minimum": (
        task(price=100, tp=110, cl=40),
        ["cl 40 is below the minimum price 50"],
    ),
    "price as text": (task(price="9750"), ['price: expected integer, got "9750"']),
    "price as a float": (task(price=9750.0), ["price: expected integer, got 9750.0"]),
    "lot as a boolean": (task(lot=True), ["lot: expected integer, got true"]),
    "tp as a list": (task(tp=[9900]), ["tp: expected integer or null"]),
    "emiten missing": (task(emiten=...), ["emiten: missing required key"]),
    "tp missing (null must be explicit)": (task(tp=...), ["tp: missing required key"]),
    "side sell": (task(side="sell"), ["side: 'sell' is not one of ['buy']"]),
    "emiten lower case": (task(emiten="bbca"), ["emiten: 'bbca' does not match"]),
    "emiten with a newline": (task(emiten="BBCA\n"), ["emiten: 'BBCA\\n' does not match"]),
    "unknown account": (task(account="NOBODY"), ["account 'NOBODY' is not in accounts.yaml"]),
    "disabled account": (task(account=DISABLED), [f"account '{DISABLED}' is disabled"]),
    "above ARA": (
        task(emiten="UNVR", price=2400, tp=2500, cl=2300, prev_close=1900),
        ["price 2400 is outside today's limits ARB 1615 .. ARA 2370"],
    ),
    "cut-loss below ARB": (
        task(emiten="UNVR", price=1900, tp=2000, cl=1600, prev_close=1900),
        ["cl 1600 is below ARB 1615"],
    ),
    "another day": (
        task(date="2026-03-03"),
        ["date '2026-03-03' is not the trading day 2026-03-02"],
    ),
    "impossible date": (task(date="2026-02-30"), ["date: '2026-02-30' is not a valid date"]),
    "above the maximum price": (
        task(price=MAX_PRICE + 25, tp=None, cl=None),
        ["price 1000000025 is above the maximum price 1,000,000,000"],
    ),
    "beyond 64-bit integers": (
        task(price=25 * 10**30, tp=None, cl=None, lot=10**40),
        ["lot: 10000000000000000000000000000000000000000 is above the maximum"],
    ),
    "every fault at once": (
        task(account="NOBODY", price=9755, cl=9800),
        ["account 'NOBODY'", "price 9755 is off the tick grid", "cl 9800 must be below price 9755"],
    ),
    "note too long": (task(note="x" * 1001), ["note: must not be longer than 1000 characters"]),
    "task_id too long": (task(task_id="T" * 129), ["task_id: must not be longer than 128"]),
    "cancel as text": (task(cancel="yes"), ['cancel: expected boolean or null, got "yes"']),
    "unstorable text in the account": (
        task(account="ACC_\ud800"),
        ["account 'ACC_\\\\ud800' is not in"],
    ),
}


@pytest.mark.parametrize("name", list(TASK_CASES))
def test_listed_malformed_task_is_stored_failed_with_its_reasons(intake, name):
    cfg, store = intake
    t, fragments = TASK_CASES[name]
    t = dict(t, task_id=f"{t['task_id']}-{uuid.uuid4().hex[:8]}")
    result = ingest(store, cfg, [t], "chaos", DAY, NOW)
    assert result.rejected == 1, result
    row = store.one("SELECT * FROM tasks WHERE task_id = ?", (t["task_id"],))
    assert row["state"] == "FAILED"
    for fragment in fragments:
        assert fragment in row["reason"], (fragment, row["reason"])
    (event,) = store.query("SELECT * FROM events WHERE task_id = ?", (t["task_id"],))
    assert event["type"] == "TASK_REJECTED"
    assert "; ".join(json.loads(event["payload"])["reasons"]) == row["reason"]
    assert not store.query("SELECT 1 FROM orders WHERE task_id = ?", (t["task_id"],))


UNSTORABLE_CASES = {
    "no task_id": task(task_id=...),
    "task_id a number": task(task_id=17),
    "task_id empty": task(task_id=""),
    "a list, not an object": ["T", ACCOUNT, "BBCA"],
    "nested two hundred deep": task(note=json.loads("[" * 200 + "]" * 200)),
}


@pytest.mark.parametrize("name", list(UNSTORABLE_CASES))
def test_task_that_cannot_be_stored_is_reported_and_dropped(intake, name):
    cfg, store = intake
    before = store.one("SELECT COUNT(*) AS n FROM tasks")["n"]
    seq = store.one("SELECT COALESCE(MAX(seq), 0) AS s FROM events")["s"]
    result = ingest(store, cfg, [UNSTORABLE_CASES[name]], f"chaos:{name}", DAY, NOW)
    assert result.rejected == 1
    assert store.one("SELECT COUNT(*) AS n FROM tasks")["n"] == before
    (event,) = store.query("SELECT * FROM events WHERE seq > ?", (seq,))
    assert event["type"] == "TASK_REJECTED" and json.loads(event["payload"])["reasons"]


# ----------------------------------------------------------------------------- --tasks FILE
def _bomb() -> str:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return text + "tasks: [*a7]\n"


# name -> (file content, or None for no file / "DIR" for a folder; fragment of the message)
TASK_FILE_CASES: dict[str, tuple] = {
    "not YAML or JSON": ("[{task_id: T1,\n  - nope", "is neither valid YAML nor JSON"),
    "a number": ("42\n", "must be a list of tasks"),
    "one task, not a list": ("{task_id: T1, account: ACC_A}\n", "must be a list of tasks"),
    "tasks is not a list": ("tasks: 5\n", "must be a list of tasks"),
    "list of numbers": ("[1, 2]\n", "tasks[0]: each task must be a mapping"),
    "list of strings": ("- T1\n- T2\n", "tasks[0]: each task must be a mapping"),
    "a mapping then a string": (
        '[{"task_id": "T1"}, "T2"]',
        "tasks[1]: each task must be a mapping",
    ),
    "empty file": ("", "must be a list of tasks"),
    "missing file": (None, "tasks file not found"),
    "a folder": ("DIR", "is a directory"),
    "not UTF-8": (b"- {task_id: T\xff1}\n", "cannot be read"),
    "alias bomb": (_bomb(), "is too large or nested too deeply"),
    "alias inside itself": ("tasks: &t [*t]\n", "is too large or nested too deeply"),
}


def make_task_file(root: Path, content) -> Path:
    path = root / "tasks.yaml"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    return path


def nothing_started(root: Path) -> bool:
    made = {p.name for p in root.iterdir()} - {"accounts.yaml", "fake.json", "tasks.yaml"}
    return not made  # no state.db, state.db.lock, logs, reports or profiles


@pytest.mark.parametrize("name", list(TASK_FILE_CASES))
def test_malformed_tasks_file_exits_2_before_anything_starts(tmp_path, name, monkeypatch):
    content, fragment = TASK_FILE_CASES[name]
    config = write_config(tmp_path)
    path = make_task_file(tmp_path, content)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "run",
            "--config",
            str(config),
            "--tasks",
            str(path),
            "--date",
            DAY.isoformat(),
            "--clock-speed",
            "100",
            "--clock-start",
            "08:50",
        ],
    )
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr and "Traceback" not in result.output, result.stderr
    assert "tasks" in result.stderr
    assert nothing_started(tmp_path), sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("name", ["not YAML or JSON", "list of strings", "missing file"])
def test_malformed_tasks_file_subprocess(tmp_path, name):
    """`python -m robot.supervisor --tasks` as cron runs it: real exit code 2, stderr, no trace."""
    content, fragment = TASK_FILE_CASES[name]
    config = write_config(tmp_path)
    path = make_task_file(tmp_path, content)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(config),
            "--tasks",
            str(path),
            "--date",
            DAY.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert fragment in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert nothing_started(tmp_path)


def test_a_day_with_invalid_file_tasks_places_only_the_valid_one(tmp_path):
    """The whole path, browserless: supervisor, worker, engine and the fake broker's book. The
    run is stopped (SIGTERM, a clean stop) once the valid task's order is in: by then the engine
    has gone through every task it would ever place."""
    config = write_config(
        tmp_path,
        operating_hours={"start": "08:45", "end": "16:15"},
        eod_report_time="16:00",
        poll_interval_ms=2000,
    )
    invalid = {
        f"X{i}" if t["task_id"] == "T" else t["task_id"]: t  # keep a too-long id
        for i, (t, _) in enumerate(TASK_CASES.values())
    }
    file_tasks = [dict(t, task_id=task_id) for task_id, t in invalid.items()]
    file_tasks.append(task(task_id="OK1", emiten="TLKM", price=2690, lot=3, tp=2760, cl=2650))
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(file_tasks, ensure_ascii=True))
    db = tmp_path / "state.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "robot.supervisor",
            "--config",
            str(config),
            "--tasks",
            str(tasks_file),
            "--date",
            DAY.isoformat(),
            "--clock-speed",
            "60",
            "--clock-start",
            "08:55",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    try:
        wait_for(
            lambda: statedb.rows(
                db, "SELECT 1 FROM orders WHERE task_id = 'OK1' AND broker_order_id IS NOT NULL"
            ),
            240,
            "the valid task's order",
        )
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, out[-3000:]
    states = {r["task_id"]: r for r in statedb.rows(db, "SELECT * FROM tasks")}
    orders = statedb.rows(db, "SELECT * FROM orders")
    rejected = {
        r["task_id"]
        for r in statedb.rows(db, "SELECT task_id FROM events WHERE type = 'TASK_REJECTED'")
    }
    assert set(states) == set(invalid) | {"OK1"}
    for task_id in invalid:
        assert states[task_id]["state"] == "FAILED" and states[task_id]["reason"], task_id
    assert rejected == set(invalid)
    assert {o["task_id"] for o in orders} == {"OK1"}, orders
    book = json.loads((tmp_path / "profiles" / ACCOUNT / "fake_broker.json").read_text())
    assert [(o["emiten"], o["price"], o["lot"]) for o in book if o["side"] == "buy"] == [
        ("TLKM", 2690, 3)
    ]
    assert "Traceback" not in out
