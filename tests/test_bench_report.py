"""bench/report.py: BENCHMARKS.md's tables, one function per section, keep their exact text.

tests/data/bench_report_expected.json was rendered from tests/data/bench_results.json by
``render`` as it was before it was split into sections (three inputs: every section with its
error rows, a quick run with failures, and nothing but a burst that never completed); its goals
table was rewritten since as issue 17's (figure, previous, now, goal, verdict), checked row by row
against those inputs. The verdicts are tested below from inputs just inside and just outside each
goal."""

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
    assert goal({"steady": steady_result(20, 10.0, 2.5)})[1] == "met"
    assert goal({"steady": steady_result(20, 10.0, 3.5)})[1] == "not met"
    assert goal({"steady": steady_result(3, 2.0, 1.0)})[1] == "not measured at N = 20, 10 min"


def test_a_steady_run_that_failed_has_no_section_and_its_goal_says_so():
    res = {"steady": {"name": "steady", "error": "TimeoutError: every account TRADING"}}
    assert report.steady_section(res) == []
    assert report.steady_goal(res) == ("no run completed (see Errors)", "not measured")
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


def scale_run(n: int, *, ok: bool = True, speed: float = 25.0, ready_s=40.0, crashes=0, pss=180.0):
    """One run of bench/scale.py's result (made-up numbers; only what the goals read)."""
    return {
        "accounts": n,
        "tasks": 2 * n,
        "speed": speed,
        "exit_code": 0,
        "deadlines_met": ok,
        "rejected_market_closed": 0 if ok else 1,
        "accepted_outside_submit_phase": 0,
        "missed_tp_cl": [] if ok else [{"why": "never placed"}],
        "filled_after_move": [],
        "pss_per_account_mib": {"peak": {"median": pss}, "mean": {"median": pss - 5}},
        "cold_start_to_ready_s": {"median": ready_s / 2, "p95": ready_s},
        "all_ready_s": ready_s,
        "worker_crashes": crashes,
    }


def results(met: bool) -> dict:
    """Every benchmark's result with each goal's figures at its limit (met) or just past it."""
    d = 0 if met else 1  # how far past each limit
    return {
        "latency": {
            "by_latency": {
                "0": {
                    "orders": 20,
                    "wall_ms": {"median": 180.0, "p95": 250.0 + d},
                    "webdriver_commands": {"median": 8 + d, "p95": 9},
                    "requests": {"median": 3 + d, "p95": 3},
                    "robot_cpu_ms": {"median": 90.0},
                }
            }
        },
        "poll": {
            "blocks": 6,
            "calls_per_block": 6,
            "poll": {
                "project": {
                    "ms_per_poll": {"median": 6.0},
                    "cpu_ms_per_poll": {"median": 25.0 + d},
                    "page_loads_per_poll": {"median": 0.0 if met else 1.0},
                    "webdriver_commands_per_poll": {"median": 2.0},
                    "page_loads": 0 if met else 36,
                    "calls": 36,
                }
            },
        },
        "scale": {"runs": [scale_run(10), scale_run(20, ok=met, ready_s=60.0 + d, pss=200.0 + d)]},
        "burst": {
            "accounts": 10,
            "ui_latency_s": 1.5,
            "robot_s": 9.0,
            "robot_toasts_s": 7.0,
            "baseline_s": 117.0,
            "ratio": 12.0 if met else 11.9,
            "ratio_toasts": 15.0,
            "runs": [{"robot_all_confirmed_s": 9.0}],
        },
        "steady": steady_result(20, 10.0, 3.0 + d),
        "recovery": {"kills": 10, "recovered_s": {"median": 5.0 + d, "p95": 6.0}},
    }


def verdicts(res: dict) -> dict[str, str]:
    return {key: row[4] for key, row in zip(report.GOALS, report.goals(res), strict=True)}


def test_each_goal_is_met_at_its_limit_and_not_met_past_it():
    assert set(verdicts(results(met=True)).values()) == {"met"}
    assert set(verdicts(results(met=False)).values()) == {"not met"}


def test_the_goals_table_shows_the_previous_figures_beside_this_runs():
    lines = report.goals_section(results(met=True))
    assert lines[0] == "### Goals\n"
    assert lines[1].startswith("| figure | previous (full run of 2026-11-25, commits b5a7de7")
    assert len(lines) == 3 + len(report.GOALS) + 1
    latency = lines[3].split(" | ")
    assert latency[1] == "1248 ms (27 WebDriver commands, 5 broker requests)"
    assert latency[2].startswith("p95 250 ms") and "8 WebDriver commands (p95 9)" in latency[2]
    assert latency[-1] == "**met** |"
    poll = lines[4].split(" | ")
    assert poll[1] == "168 ms (a page load each time)"
    assert "page loads per poll 0 (median of blocks; 0 in 36 polls)" in poll[2]
    assert lines[-2].startswith("| recovery after SIGKILL")


def test_a_benchmark_that_did_not_run_leaves_its_goals_not_measured_with_the_previous_figures():
    rows = report.goals({})
    assert [r[4] for r in rows] == ["not measured"] * len(report.GOALS)
    assert [r[1] for r in rows] == list(report.PREVIOUS.values())
    assert {r[2] for r in rows} == {"not run"}


def test_a_goal_with_a_figure_missing_is_not_measured_unless_another_figure_fails():
    res = results(met=True)
    del res["latency"]["by_latency"]["0"]["webdriver_commands"]
    del res["poll"]["poll"]["project"]["page_loads_per_poll"]
    assert verdicts(res)["latency"] == "not measured"
    assert verdicts(res)["poll"] == "not measured"
    res["latency"]["by_latency"]["0"]["wall_ms"]["p95"] = 251.0
    assert verdicts(res)["latency"] == "not met"
    res = results(met=True)
    res["poll"]["poll"]["project"]["page_loads_per_poll"]["median"] = 0.5
    assert verdicts(res)["poll"] == "not met"


def test_scale_goals_are_judged_on_every_run_at_20_accounts_and_25x():
    res = {"scale": {"runs": [scale_run(5), scale_run(20), scale_run(20, ok=False)]}}
    now, verdict = report.scale_goal(res)
    assert verdict == "not met"
    assert now.startswith("5 (every deadline met at N = 5: yes, 20: in 1 of 2 runs)")
    res = {"scale": {"runs": [scale_run(5), scale_run(20, speed=20.0)]}}
    assert report.scale_goal(res) == (
        "20 (every deadline met at N = 5: yes, 20: yes); N = 20 at 20.0x: 0 rejected for a "
        "closed market, 0 accepted outside a submit phase, 0 of 40 tasks never placed, 0 missed "
        "TP/CL, 0 filled only after their price move (placed late)",
        "not measured at 25x",
    )
    res = {"scale": {"runs": [scale_run(10, crashes=1), scale_run(20, crashes=1)]}}
    assert report.cold_start_goal(res) == (
        "N = 20: all READY after 40.0 s (median 20.0 s), 1 worker crashes",
        "not met",
    )
    res = {"scale": {"runs": [scale_run(10)]}}
    assert report.memory_goal(res)[1] == "not measured at N = 20"
    assert report.cold_start_goal(res)[1] == "not measured at N = 20"
    assert report.scale_goal(res)[1] == "not measured"


def test_a_burst_at_another_size_or_latency_is_not_judged():
    res = results(met=True)
    res["burst"]["ui_latency_s"] = 0.5
    assert report.burst_goal(res)[1] == "not measured at N = 10, UI latency 1.5 s"
    res["burst"].pop("ratio_toasts")
    res["burst"]["ui_latency_s"] = 1.5
    assert report.burst_goal(res)[1] == "not measured"


def load_dashboard_bench():
    """bench/dashboard.py by path, with bench/ on sys.path for the modules it imports."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_dashboard", ROOT / "bench" / "dashboard.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "bench"))


def dashboard_phase(k: int, kind: str, confirm_p50: float, cpu: float) -> dict:
    timing = {"median": confirm_p50, "p95": confirm_p50 + 0.2}
    p = {
        "phase": k,
        "dashboard": kind,
        "orders": 20,
        "confirmed": 20,
        "created_to_intent_s": {"median": 0.5},
        "intent_to_confirmed_s": timing,
        "created_to_confirmed_s": timing,
        "heartbeat_age_s": {"p95": 5.5, "max": 6.0},
        "cpu_pct_per_account": {"median": cpu},
        "supervisor_cpu_pct": 1.0,
        "requests_per_account_min": 18.0,
    }
    if kind == "on":
        p.update(dashboard_cpu_pct=4.0, page_updates=60)
    return p


def test_the_dashboard_verdict_compares_on_minus_off_with_the_spread_of_each_pair():
    bench = load_dashboard_bench()
    quiet = [
        dashboard_phase(1, "off", 2.0, 3.0),
        dashboard_phase(2, "on", 2.1, 3.1),
        dashboard_phase(3, "on", 2.2, 3.2),
        dashboard_phase(4, "off", 2.2, 3.0),
    ]
    rows = {r["figure"]: r for r in bench.verdict(quiet)}
    confirm = rows["intent -> confirmed, median (s)"]
    assert confirm["by_phase"] == [2.0, 2.1, 2.2, 2.2]
    assert confirm["on_minus_off"] == pytest.approx(0.05)
    assert confirm["noise"] == pytest.approx(0.2)
    assert confirm["within_noise"] is True
    cpu = rows["CPU per account, median (% of a core)"]
    assert cpu["on_minus_off"] == pytest.approx(0.15) and cpu["noise"] == pytest.approx(0.1)
    assert cpu["within_noise"] is False  # more than both pairs' spread: said so, not hidden

    lines = report.dashboard_section(
        {
            "dashboard": {
                "accounts": 20,
                "phase_minutes": 3.0,
                "phases": quiet,
                "verdict": list(rows.values()),
            }
        }
    )
    assert lines[0].startswith("### 8. Dashboard beside trading (issue 18: N = 20")
    assert "| intent -> confirmed, median (s) | 2 | 2.1 | 2.2 | 2.2 | 0.05 | 0.2 | yes |" in lines
    assert any(x.startswith("| CPU per account") and x.endswith("| NO |") for x in lines)
    assert "| orders confirmed in the phase | 20/20 | 20/20 | 20/20 | 20/20 | | | |" in lines
    assert "| page updates seen | — | 60 | 60 | — | | | |" in lines
    assert report.dashboard_section({}) == []
