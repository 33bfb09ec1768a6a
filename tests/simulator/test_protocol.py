"""The protocol module: schemas match docs/PROTOCOL.md, and the minimal validator is right."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from simulator import protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"

TASK = {"task_id": "T1", "account": "ACC", "emiten": "BBCA", "side": "buy", "price": 9750,
        "lot": 2, "tp": 9900, "cl": None}
EVENT = {"id": "e1", "type": "order_placed", "account": "ACC",
         "time": "2026-03-02T10:00:00.000+07:00", "payload": {}}


def doc_blocks() -> dict[str, object]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- schema: (\w+) -->\s*```json\n(.*?)\n```", text, re.S)
    return {name: json.loads(body) for name, body in found}


def test_protocol_md_embeds_exactly_the_module_schemas():
    assert doc_blocks() == protocol.SCHEMAS


def test_protocol_md_blocks_are_the_generated_text():
    text = DOC.read_text(encoding="utf-8")
    assert protocol.schema_markdown().strip() in text


def test_valid_task_and_event():
    assert protocol.validate_task(TASK) == []
    assert protocol.validate_task({**TASK, "prev_close": 9800, "note": "x", "extra": 1}) == []
    assert protocol.validate_event(EVENT) == []
    assert protocol.validate_event({**EVENT, "task_id": "T1", "time": "2026-03-02T03:00:00Z"}) == []


@pytest.mark.parametrize("change, error", [
    ({"task_id": ""}, "task_id: must not be shorter than 1"),
    ({"emiten": "bbca"}, "emiten: 'bbca' does not match"),
    ({"side": "sell"}, "side: 'sell' is not one of ['buy']"),
    ({"price": 97.5}, "price: expected integer"),
    ({"price": True}, "price: expected integer"),
    ({"lot": 50001}, "lot: 50001 is above the maximum 50000"),
    ({"lot": 0}, "lot: 0 is below the minimum 1"),
    ({"tp": "9900"}, "tp: expected integer or null"),
])
def test_task_errors_name_the_key(change, error):
    errors = protocol.validate_task({**TASK, **change})
    assert len(errors) == 1 and errors[0].startswith(error)


def test_missing_keys_are_named():
    task = dict(TASK)
    del task["cl"]
    assert protocol.validate_task(task) == ["cl: missing required key"]
    assert protocol.validate_event([], "x") == ["x: expected object, got []"]


def test_task_list_refers_to_the_task_schema():
    body = {"date": "2026-03-02", "tasks": [TASK, {**TASK, "lot": "2"}]}
    assert protocol.validate(body, protocol.TASK_LIST_SCHEMA) == ["tasks[1].lot: expected integer, got \"2\""]
    assert protocol.validate({"date": "2026-3-2", "tasks": []}, protocol.TASK_LIST_SCHEMA) == [
        "date: '2026-3-2' is not a valid date"]
