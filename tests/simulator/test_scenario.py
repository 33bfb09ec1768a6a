"""Scenario files: bundled ones load, mistakes are reported with the file and the key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from simulator.scenario import ScenarioError, bundled_names, load_scenario, parse_scenario


def test_bundled_scenarios_load():
    assert "demo" in bundled_names()
    for name in bundled_names():
        assert load_scenario(name).name


def test_demo_scenario_shape():
    demo = load_scenario("demo")
    assert {a: s.broker for a, s in demo.accounts.items()} == {
        "ACC_STOCKBIT": "stockbit",
        "ACC_IPOT": "ipot",
        "ACC_AJAIB": "ajaib",
    }
    assert 6 <= len(demo.tasks) <= 10
    assert {t["account"] for t in demo.tasks} == set(demo.accounts)


def test_load_by_path_and_unquoted_times(tmp_path: Path):
    # YAML 1.1 reads an unquoted 10:30 as the base-60 number 630; that must still mean 10:30.
    path = tmp_path / "mine.yaml"
    path.write_text(
        "emitens:\n  BBCA:\n    prev_close: 9800\n    path: [[09:00, 9800], [10:30, 9825]]\n"
        "faults:\n  - {kind: http_500, from: 10:30, until: 11:00}\n"
    )
    scenario = load_scenario(str(path))
    assert scenario.name == "mine"
    assert scenario.emitens["BBCA"].path.points[1] == (time(10, 30), 9825)
    assert scenario.faults[0].start == time(10, 30)


def test_unknown_scenario_name():
    with pytest.raises(ScenarioError, match="no bundled scenario of that name"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("/tmp/does-not-exist.yaml")


def test_invalid_yaml_names_the_file(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"^broken\.yaml: not valid YAML"):
        load_scenario(str(path))


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"bogus": 1}, "s.yaml: bogus: unknown key"),
        ({"emitens": {"BBCA": {}}}, "s.yaml: emitens.BBCA.prev_close: missing required key"),
        (
            {"emitens": {"bbca": {"prev_close": 100}}},
            "s.yaml: emitens.bbca: expected a 4-letter IDX code",
        ),
        (
            {"emitens": {"BBCA": {"prev_close": 9810}}},
            "emitens.BBCA.prev_close: price 9810 is off the tick grid",
        ),
        (
            {"emitens": {"BBCA": {"prev_close": 9800, "path": [["09:00", 12000]]}}},
            "emitens.BBCA.path[0]: price 12000 is outside ARB 8350 .. ARA 11750",
        ),
        (
            {"emitens": {"BBCA": {"prev_close": 9800, "path": [["10:00", 9800], ["09:00", 9800]]}}},
            "emitens.BBCA.path[1]: times must increase",
        ),
        (
            {"emitens": {"BBCA": {"prev_close": 9800, "path": [["25:00", 9800]]}}},
            "emitens.BBCA.path[0]: expected a time",
        ),
        (
            {"emitens": {"BBCA": {"prev_close": 9800, "path": {"mode": "jump", "points": []}}}},
            "emitens.BBCA.path.mode: 'jump' is not one of hold, step",
        ),
        ({"accounts": {"A": {"broker": "mandiri"}}}, "accounts.A.broker: 'mandiri' is not one of"),
        ({"accounts": {"A": {"pin": "12"}}}, "accounts.A.pin: expected 4 to 8 digits"),
        (
            {"tasks": [{"task_id": "T", "account": "A", "emiten": "BBCA", "price": 9800}]},
            "s.yaml: tasks[0].lot: missing required key",
        ),
        (
            {
                "tasks": [
                    {
                        "task_id": "T",
                        "account": "A",
                        "emiten": "BBCA",
                        "price": 9800,
                        "lot": 1,
                        "available_at": "9am",
                    }
                ]
            },
            "tasks[0].available_at: expected a time",
        ),
        (
            {
                "tasks": [
                    {"task_id": "T", "account": "A", "emiten": "BBCA", "price": 9800, "lot": 1}
                ]
                * 2
            },
            "tasks[1].task_id: duplicate task_id 'T'",
        ),
        ({"faults": [{"kind": "meteor"}]}, "faults[0].kind: 'meteor' is not one of"),
        (
            {"faults": [{"kind": "latency", "from": "10:00"}]},
            "faults[0].seconds: missing required key",
        ),
        (
            {"faults": [{"kind": "http_500", "page": "home"}]},
            "faults[0].page: 'home' is not one of",
        ),
        ({"faults": [{"kind": "error_toast", "nth": 0}]}, "faults[0].nth: 0 is outside 1.."),
        (
            {"faults": [{"kind": "tp_hit", "task": "X", "at": "10:00"}]},
            "faults[0].task: no task with task_id 'X'",
        ),
        (
            {"faults": [{"kind": "cl_hit", "emiten": "BBCA", "at": "10:00"}]},
            "faults[0].price: missing required key",
        ),
        (
            {"faults": [{"kind": "session_expiry", "skin": "ipot"}]},
            "faults[0].at: missing required key",
        ),
        (
            {"faults": [{"kind": "task_server", "fault": "boom"}]},
            "faults[0].fault: 'boom' is not one of",
        ),
        (
            {"faults": [{"kind": "partial_fill", "emiten": "BBCA", "lots": 1, "colour": "red"}]},
            "faults[0].colour: unknown key",
        ),
    ],
)
def test_errors_name_file_and_key(raw, message):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(raw, source="s.yaml")
    assert message in str(err.value)
    assert str(err.value).startswith("s.yaml: ")
