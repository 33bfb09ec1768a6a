"""The task-server protocol: JSON Schemas of a task and an event, and a minimal validator.

These dicts are the single source of truth: the robot validates tasks with them, the simulated
task server validates with them, and ``docs/PROTOCOL.md`` embeds them verbatim (a test compares).

The validator covers exactly the JSON Schema keywords used here (type, required, properties,
additionalProperties, items, enum, minimum, maximum, minLength, maxLength, pattern,
format=date/date-time/time-hhmm), so no third-party dependency is needed for flat schemas.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

TASK_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "title": "Task",
    "description": "One buy order to place, with optional take-profit and cut-loss prices.",
    "type": "object",
    "required": ["task_id", "account", "emiten", "side", "price", "lot", "tp", "cl"],
    "properties": {
        "task_id": {"type": "string", "minLength": 1, "maxLength": 128,
                    "description": "Unique and stable: the robot places each task_id once."},
        "account": {"type": "string", "minLength": 1, "maxLength": 128,
                    "description": "The robot's account name (for simulated brokers: the username)."},
        "emiten": {"type": "string", "pattern": "^[A-Z]{4}$",
                   "description": "IDX stock code, four capital letters."},
        "side": {"type": "string", "enum": ["buy"]},
        "price": {"type": "integer", "minimum": 1,
                  "description": "Limit price in rupiah (IDX tick grid)."},
        "lot": {"type": "integer", "minimum": 1, "maximum": 50000,
                "description": "Quantity in lots of 100 shares."},
        "tp": {"type": ["integer", "null"], "minimum": 1,
               "description": "Take-profit price, or null for none."},
        "cl": {"type": ["integer", "null"], "minimum": 1,
               "description": "Cut-loss price, or null for none."},
        "prev_close": {"type": ["integer", "null"], "minimum": 1,
                       "description": "Optional: previous close, lets the robot check ARA/ARB."},
        "note": {"type": ["string", "null"], "maxLength": 1000,
                 "description": "Optional free text for humans."},
        "date": {"type": ["string", "null"], "format": "date",
                 "description": "Optional: the trading day the task is for (YYYY-MM-DD)."},
        "cancel": {"type": ["boolean", "null"],
                   "description": "Optional: true on a task already sent asks the robot to "
                                  "withdraw its open order (the task ends CANCELLED)."},
    },
    "additionalProperties": True,
}

TASK_LIST_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "title": "TaskList",
    "description": "Body of a 200 answer to GET /api/tasks.",
    "type": "object",
    "required": ["date", "tasks"],
    "properties": {
        "date": {"type": "string", "format": "date"},
        "tasks": {"type": "array", "items": TASK_SCHEMA},
    },
    "additionalProperties": True,
}

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": SCHEMA_DIALECT,
    "title": "Event",
    "description": "One thing the robot reports. Delivered at least once; the server dedups by id.",
    "type": "object",
    "required": ["id", "type", "account", "time", "payload"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 200,
               "description": "Globally unique and stable across retries (e.g. a UUID)."},
        "type": {"type": "string", "minLength": 1, "maxLength": 100,
                 "description": "What happened, e.g. order_placed, order_filled, tp_hit."},
        "account": {"type": "string", "minLength": 1, "maxLength": 128},
        "time": {"type": "string", "format": "date-time",
                 "description": "When it happened, ISO-8601 with offset (+07:00)."},
        "task_id": {"type": ["string", "null"], "maxLength": 128,
                    "description": "Optional: the task the event belongs to."},
        "payload": {"type": "object", "description": "Event-specific details."},
    },
    "additionalProperties": True,
}

# Names under which docs/PROTOCOL.md embeds each schema (see schema_markdown()).
SCHEMAS: dict[str, dict[str, Any]] = {
    "task": TASK_SCHEMA,
    "task_list": TASK_LIST_SCHEMA,
    "event": EVENT_SCHEMA,
}


def _type_ok(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return {
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }[name](value)


def _format_ok(value: str, fmt: str) -> bool:
    try:
        if fmt == "date":
            date.fromisoformat(value)
            return len(value) == 10
        if fmt == "date-time":
            # An offset is required: naive times are ambiguous between WIB and UTC.
            return "T" in value and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False
    return True


def validate(instance: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Every way ``instance`` breaks ``schema``, as messages naming the key; [] when valid."""
    where = path or "body"
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(_type_ok(instance, n) for n in names):
            return [f"{where}: expected {' or '.join(names)}, got {json.dumps(instance)[:60]}"]
    if instance is None:
        return []
    errors: list[str] = []
    if "enum" in schema and instance not in schema["enum"]:
        errors.append(f"{where}: {instance!r} is not one of {schema['enum']}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            errors.append(f"{where}: {instance} is below the minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            errors.append(f"{where}: {instance} is above the maximum {schema['maximum']}")
    if isinstance(instance, str):
        errors.extend(_string_errors(instance, schema, where))
    if isinstance(instance, dict):
        errors.extend(_object_errors(instance, schema, path))
    if isinstance(instance, list) and "items" in schema:
        for i, item in enumerate(instance):
            errors.extend(validate(item, schema["items"], f"{path}[{i}]" if path else f"[{i}]"))
    return errors


def _string_errors(value: str, schema: dict[str, Any], where: str) -> list[str]:
    errors = []
    if len(value) < schema.get("minLength", 0):
        errors.append(f"{where}: must not be shorter than {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{where}: must not be longer than {schema['maxLength']} characters")
    if "pattern" in schema and not _pattern_ok(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if "format" in schema and not _format_ok(value, schema["format"]):
        errors.append(f"{where}: {value!r} is not a valid {schema['format']}")
    return errors


def _pattern_ok(pattern: str, value: str) -> bool:
    """JSON Schema (ECMA-262) semantics: '$' is the end of the text. Python's '$' also matches
    before a final newline, which would let "BBCA\n" through to a broker's order form."""
    return re.search(pattern, value) is not None and not (pattern.endswith("$")
                                                          and value.endswith("\n"))


def _object_errors(obj: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    errors = []
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in obj:
            errors.append(f"{path + '.' if path else ''}{key}: missing required key")
    for key, value in obj.items():
        sub = f"{path}.{key}" if path else key
        if key in props:
            errors.extend(validate(value, props[key], sub))
        elif schema.get("additionalProperties", True) is False:
            errors.append(f"{sub}: unknown key")
    return errors


def validate_task(task: Any, path: str = "") -> list[str]:
    return validate(task, TASK_SCHEMA, path)


def validate_event(event: Any, path: str = "") -> list[str]:
    return validate(event, EVENT_SCHEMA, path)


def schema_json(name: str) -> str:
    """The canonical text of a schema as embedded in docs/PROTOCOL.md."""
    return json.dumps(SCHEMAS[name], indent=2, ensure_ascii=False)


def schema_markdown() -> str:
    """The fenced blocks to paste into docs/PROTOCOL.md (``python -m simulator.protocol``)."""
    parts = []
    for name in SCHEMAS:
        parts.append(f"<!-- schema: {name} -->\n```json\n{schema_json(name)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover - a doc helper
    print(schema_markdown())  # python -m robot.protocol
