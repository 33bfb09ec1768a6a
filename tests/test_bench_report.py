"""bench/report.py: BENCHMARKS.md's tables, one function per section, keep their exact text.

tests/data/bench_report_expected.json was rendered from tests/data/bench_results.json by
``render`` as it was before it was split into sections (three inputs: every section with its
error rows, a quick run with failures, and nothing but a burst that never completed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def load_report():
    """bench/report.py by path: bench/ is not a package, and its module names (report, run,
    common) would shadow others on sys.path."""
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = load_report()
CASES = json.loads((DATA / "bench_results.json").read_text(encoding="utf-8"))
EXPECTED = json.loads((DATA / "bench_report_expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_is_unchanged(name):
    case = CASES[name]
    assert report.render(case["info"], case["res"]) == EXPECTED[name]


def test_every_section_is_rendered_by_the_full_case():
    text = EXPECTED["full"]
    for heading in (
        "### Goals",
        "### 1. Scale",
        "### 2. Poll cost",
        "### 3. Order latency",
        "### 4. Opening burst",
        "### 5. Recovery",
        "### 6. Cold start",
        "### Errors",
    ):
        assert heading in text


def test_a_benchmark_that_did_not_run_has_no_section():
    assert report.poll_section({}) == [] and report.recovery_section({"recovery": {}}) == []
    assert report.errors_section({"poll": {"rows": 1}}) == []


def steady_result(accounts: int, minutes: float, median: float) -> dict:
    """bench/steady.py's result, in the shape run() returns it (numbers made up)."""
    part = {"n": accounts, "median": median / 3, "max": median}
    return {
        "name": "steady",
        "accounts": accounts,
        "minutes": minutes,
        "warmup_s": 60.0,
        "ui_latency_s": 0.5,
        "in_place_s": 95.3,
        "window_s": 600.4,
        "cpu_pct_per_account": {"n": accounts, "median": median, "max": median + 1.5},
        "cpu_pct_by_part": {"worker": part, "chromedriver": part, "chromium": part},
        "supervisor_cpu_pct": 0.8,
        "bench_process_cpu_pct": 4.2,
        "machine_busy_pct_of_all_cores": 41.0,
        "pss_per_account_mib": {"n": accounts, "median": 290.5, "max": 301.0},
        "supervisor_pss_mib": 33.1,
        "requests_per_account_min": 31.5,
        "stayed_trading": True,
        "load_at_window_start": [3.1, 2.0, 1.0],
        "load_after": [3.4, 2.9, 1.5],
    }


def test_the_steady_section_shows_its_run_and_the_goal_is_judged_at_20_accounts_only():
    lines = report.steady_section({"steady": steady_result(20, 10.0, 2.5)})
    assert lines[0].startswith("### 7. Steady state (N = 20 TRADING at clock 1x")
    assert lines[-2] == (
        "| 20 | 600 | 2.5 / 4 | 0.833 / 0.833 / 0.833 | 0.8 | 4.2 | 41.0 | 290 / 301 | 33.1 "
        "| 31.5 | 95.3 | yes | 3.1 → 3.4 |"
    )
    goal = report.steady_goal
    assert goal({"steady": steady_result(20, 10.0, 2.5)})[0][2] == "met"
    assert goal({"steady": steady_result(20, 10.0, 3.5)})[0][2] == "not met"
    assert goal({"steady": steady_result(3, 2.0, 1.0)})[0][2] == "not measured at N = 20, 10 min"


def test_a_steady_run_that_failed_has_no_section_and_its_goal_says_so():
    res = {"steady": {"name": "steady", "error": "TimeoutError: every account TRADING"}}
    assert report.steady_section(res) == []
    assert report.steady_goal(res)[0][2] == "not measured"
    assert "### 7. Steady state" in report.render(
        {
            "mode": "full",
            "driver": "uc",
            "date": "d",
            "host_cores_logical": 2,
            "host_cores_physical": 2,
            "memory_gib": 1,
            "chromium": "c",
            "chromedriver": "c",
            "python": "p",
            "selenium": "s",
            "psutil": "p",
            "os": "o",
            "loadavg": [],
        },
        {"steady": steady_result(20, 10.0, 2.5)},
    )
