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
