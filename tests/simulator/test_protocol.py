"""The protocol module: schemas match docs/PROTOCOL.md, the event registry matches the schema
files, the schema files are complete, and the validators are right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from robot import events, protocol as robot_protocol
from simulator import protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md"
SCHEMA_DIR = Path(robot_protocol.__file__).resolve().parent / "schemas"

TASK = {
    "task_id": "T1",
    "account": "ACC",
    "emiten": "BBCA",
    "side": "buy",
    "price": 9750,
    "lot": 2,
    "tp": 9900,
    "cl": None,
}
EVENT = {
    "id": "e1",
    "type": "order_placed",
    "account": "ACC",
    "time": "2026-03-02T10:00:00.000+07:00",
    "payload": {},
}
SUBMITTED = {
    "id": "e2",
    "type": "ORDER_SUBMITTED",
    "account": "ACC",
    "task_id": "T1",
    "time": "2026-03-02T10:00:00.000+07:00",
    "payload": {
        "state": "OPEN",
        "from": "SUBMITTING",
        "order_id": "100001",
        "emiten": "BBCA",
        "price": 9750,
        "lot": 2,
        "attempt": 1,
        "adopted": False,
    },
}


def doc_blocks() -> dict[str, object]:
    text = DOC.read_text(encoding="utf-8")
    found = re.findall(r"<!-- schema: ([\w/]+) -->\s*```json\n(.*?)\n```", text, re.S)
    return {name: json.loads(body) for name, body in found}


def test_protocol_md_embeds_exactly_the_module_schemas_and_every_schema_file():
    blocks = doc_blocks()
    assert blocks == protocol.all_schemas()
    assert {f"events/{t}" for t in events.EVENT_TYPES} | {"task", "task_list", "event"} == set(
        blocks
    )
    assert blocks["event"] == json.loads((SCHEMA_DIR / "event.json").read_text())
    for t in events.EVENT_TYPES:
        assert blocks[f"events/{t}"] == json.loads(
            (SCHEMA_DIR / "events" / f"{t}.json").read_text()
        ), t


def test_protocol_md_generated_sections_are_current():
    """`python -m robot.protocol --write docs/PROTOCOL.md` would change nothing: the table of
    event types and the schema blocks are what the schema files say."""
    text = DOC.read_text(encoding="utf-8")
    assert robot_protocol.render(text) == text, (
        "docs/PROTOCOL.md is stale: run python -m robot.protocol --write docs/PROTOCOL.md"
    )
    for t in events.EVENT_TYPES:
        assert f"| [`{t}`](#{t.lower()}) |" in text and f"### `{t}`" in text


def test_the_generator_rewrites_a_stale_document(tmp_path):
    stale = DOC.read_text(encoding="utf-8").replace("| [`FILLED`]", "| [`FILLED_OLD`]")
    path = tmp_path / "PROTOCOL.md"
    path.write_text(stale, encoding="utf-8")
    assert robot_protocol.main(["--write", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="no generated section 'event-types'"):
        robot_protocol.render("# a page without markers\n")


# --- the event registry and its schema files (robot/events.py, robot/schemas/) ----------------


def test_every_registered_type_has_a_schema_file_and_every_file_a_type():
    assert len(set(events.EVENT_TYPES)) == len(events.EVENT_TYPES)
    assert events.schema_files() == sorted(events.EVENT_TYPES)
    on_disk = sorted(p.stem for p in (SCHEMA_DIR / "events").iterdir())
    assert on_disk == sorted(events.EVENT_TYPES)
    constants = {
        v
        for k, v in vars(events).items()
        if k.isupper() and isinstance(v, str) and v not in events.LEVELS
    }  # the notification levels are not types
    assert constants == set(events.EVENT_TYPES)  # no name left out of the tuple


def _objects(schema: dict, where: str):
    """Every object schema with declared properties, anywhere in ``schema``."""
    if "properties" in schema:
        yield where, schema
        for key, sub in schema["properties"].items():
            yield from _objects(sub, f"{where}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _objects(schema[key], f"{where}[{key}]")


@pytest.mark.parametrize("name", ["event", *[f"events/{t}" for t in events.EVENT_TYPES]])
def test_each_schema_file_is_valid_complete_and_open(name):
    """Draft 2020-12, described (when it is sent, what to do), every key described, required
    keys declared, and unknown keys allowed (consumers ignore them) at every level."""
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert len(schema["description"]) > 40 and schema["title"]
    if name != "event":
        assert schema["x-emitted-by"] in ("intake", "engine", "worker", "supervisor", "eod")
        assert schema["x-human-action"] is False or len(schema["x-human-action"]) > 10
    for where, obj in _objects(schema, name):
        assert obj["additionalProperties"] is not False, where
        assert set(obj.get("required", [])) <= set(obj["properties"]), where
        for key, sub in obj["properties"].items():
            assert sub.get("description"), f"{where}.{key} has no description"


def test_strict_copy_closes_every_declared_object_and_leaves_the_published_one_open():
    published = events.payload_schema("EOD_REPORT")
    before = json.dumps(published)
    strict = robot_protocol.strict_copy(published)
    assert json.dumps(published) == before  # the cached original is untouched
    assert all(
        obj.get("additionalProperties") is False for _, obj in _objects(strict, "EOD_REPORT")
    )
    assert (
        strict["properties"]["per_account"]["additionalProperties"]["additionalProperties"] is False
    )


def test_valid_task_and_event():
    assert protocol.validate_task(TASK) == []
    assert protocol.validate_task({**TASK, "prev_close": 9800, "note": "x", "extra": 1}) == []
    assert protocol.validate_event(EVENT) == []
    assert protocol.validate_event({**EVENT, "task_id": "T1", "time": "2026-03-02T03:00:00Z"}) == []


@pytest.mark.parametrize(
    "change, error",
    [
        ({"task_id": ""}, "task_id: must not be shorter than 1"),
        ({"emiten": "bbca"}, "emiten: 'bbca' does not match"),
        ({"side": "sell"}, "side: 'sell' is not one of ['buy']"),
        ({"price": 97.5}, "price: expected integer"),
        ({"price": True}, "price: expected integer"),
        ({"lot": 50001}, "lot: 50001 is above the maximum 50000"),
        ({"lot": 0}, "lot: 0 is below the minimum 1"),
        ({"tp": "9900"}, "tp: expected integer or null"),
    ],
)
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
    assert protocol.validate_task_list(body) == ['tasks[1].lot: expected integer, got "2"']
    assert protocol.validate_task_list({"date": "2026-3-2", "tasks": []}) == [
        "date: '2026-3-2' is not a valid date"
    ]


def test_event_payloads_are_checked_by_type_naming_the_key():
    assert protocol.validate_event(SUBMITTED) == []
    assert protocol.validate_event(SUBMITTED, strict=True) == []
    broken = {**SUBMITTED, "payload": {**SUBMITTED["payload"], "price": "9750", "state": "FILLED"}}
    del broken["payload"]["order_id"]
    assert protocol.validate_event(broken, "[3]") == [
        "[3].payload.order_id: missing required key (ORDER_SUBMITTED event)",
        '[3].payload.price: expected integer, got "9750" (ORDER_SUBMITTED event)',
        '[3].payload.state: must be "OPEN", got "FILLED" (ORDER_SUBMITTED event)',
    ]


def test_strict_validation_refuses_undeclared_keys_and_unregistered_types():
    extra = {**SUBMITTED, "payload": {**SUBMITTED["payload"], "venue": "RG"}, "trace": 1}
    assert protocol.validate_event(extra) == []  # what a server must accept
    assert protocol.validate_event(extra, strict=True) == ["trace: key not declared in the schema"]
    del extra["trace"]
    assert protocol.validate_event(extra, strict=True) == [
        "payload.venue: key not declared in the schema (ORDER_SUBMITTED event)"
    ]
    assert protocol.validate_event(EVENT) == []
    assert protocol.validate_event(EVENT, strict=True) == [
        "type: 'order_placed' is not a registered event type"
    ]
