"""The task-server protocol: the JSON Schemas of a task and of events, validators, and the
generated parts of docs/PROTOCOL.md.

The task schemas are the dicts below; the event envelope and each event type's payload schema
are JSON files in robot/schemas/ (robot/events.py loads them). These are the single source of
truth: the robot validates tasks with them, the simulated task server validates every event it
receives with them, and docs/PROTOCOL.md embeds them verbatim (``python -m robot.protocol
--write docs/PROTOCOL.md`` regenerates its generated parts; a test checks they are current).

Tasks are checked by a minimal validator covering exactly the keywords the task schemas use
(type, required, properties, additionalProperties, items, enum, minimum, maximum, minLength,
maxLength, pattern, format=date/date-time). Events are checked with the ``jsonschema`` library
(draft 2020-12): first the envelope, then the payload against its type's schema, so an error
names the type and the key. ``strict=True`` also refuses keys the schemas do not declare and
unregistered types: what the tests use, so the documentation cannot drift from what is sent.
"""
from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from . import events

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

# The event envelope and each type's payload are JSON files shipped with the package (a task
# server in any language can validate with them): see robot/events.py.
EVENT_SCHEMA: dict[str, Any] = events.envelope_schema()

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


def validate_event(event: Any, path: str = "", strict: bool = False) -> list[str]:
    """Every way ``event`` breaks the envelope or its type's payload schema; [] when valid.

    A type the robot does not register is accepted with any payload object (servers store types
    they do not know), unless ``strict``, which also refuses keys no schema declares."""
    errors = _schema_errors(event, "", path, strict)
    if errors:
        return errors
    type_ = event["type"]
    if type_ not in events.EVENT_TYPES:
        return [f"{_join(path, ['type'])}: {type_!r} is not a registered event type"] \
            if strict else []
    return [f"{e} ({type_} event)"
            for e in _schema_errors(event["payload"], type_, _join(path, ["payload"]), strict)]


def strict_copy(schema: Any) -> Any:
    """A copy of ``schema`` with ``additionalProperties: false`` wherever it declares properties.

    The published schemas allow unknown keys (consumers ignore them); validating with this copy
    makes an undeclared key an error, so a key the robot sends must be documented."""
    if isinstance(schema, list):
        return [strict_copy(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_copy(v) if k != "properties" else {n: strict_copy(p) for n, p in v.items()}
           for k, v in schema.items()}
    if "properties" in out and out.get("additionalProperties", True) is True:
        out["additionalProperties"] = False
    return out


@cache
def _validator(name: str, strict: bool):
    """A draft 2020-12 validator for the envelope ("") or a type's payload (imported lazily:
    only the task server and the tests validate events, never a worker)."""
    from jsonschema import Draft202012Validator
    schema = events.envelope_schema() if name == "" else events.payload_schema(name)
    return Draft202012Validator(strict_copy(schema) if strict else schema,
                                format_checker=_format_checker())


@cache
def _format_checker():
    """date and date-time as the task validator checks them: a date-time needs an offset (the
    library's own date-time check needs an extra package and would silently skip without it)."""
    from jsonschema import FormatChecker
    checker = FormatChecker(formats=())
    for fmt in ("date", "date-time"):
        checker.checks(fmt)(lambda v, fmt=fmt: not isinstance(v, str) or _format_ok(v, fmt))
    return checker


def _schema_errors(instance: Any, name: str, path: str, strict: bool) -> list[str]:
    found: list[str] = []
    errors = sorted(_validator(name, strict).iter_errors(instance),
                    key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        for message in _messages(error, path):
            if message not in found:
                found.append(message)
    return found


def _messages(error, path: str) -> list[str]:
    """jsonschema's error as this module words them: the key first, then what is wrong."""
    where = _join(path, list(error.absolute_path))
    value, kw = error.instance, error.validator
    if kw == "required":
        return [f"{_join(where, [k])}: missing required key"
                for k in error.validator_value if k not in value]
    if kw == "additionalProperties" and error.validator_value is False:
        return [f"{_join(where, [k])}: key not declared in the schema"
                for k in value if k not in error.schema.get("properties", {})]
    where = where or "body"
    if kw == "type":
        names = error.validator_value if isinstance(error.validator_value, list) \
            else [error.validator_value]
        return [f"{where}: expected {' or '.join(names)}, got {json.dumps(value, default=str)[:60]}"]
    if kw == "const":
        return [f"{where}: must be {json.dumps(error.validator_value)}, got "
                f"{json.dumps(value, default=str)[:60]}"]
    if kw == "enum":
        return [f"{where}: {value!r} is not one of {error.validator_value}"]
    if kw == "format":
        return [f"{where}: {value!r} is not a valid {error.validator_value}"]
    return [f"{where}: {error.message}"]


def _join(path: str, parts: list) -> str:
    for p in parts:
        path = f"{path}[{p}]" if isinstance(p, int) else (f"{path}.{p}" if path else str(p))
    return path


# ---------------------------------------------------------------------------- docs/PROTOCOL.md
def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema docs/PROTOCOL.md embeds, by the name of its block: the task schemas, the
    event envelope and ``events/<TYPE>`` for each type's payload (its file under robot/schemas)."""
    return {**SCHEMAS, **{f"events/{t}": events.payload_schema(t) for t in events.EVENT_TYPES}}


def schema_json(name: str) -> str:
    """The canonical text of a schema as embedded in docs/PROTOCOL.md."""
    return json.dumps(all_schemas()[name], indent=2, ensure_ascii=False)


def _block(name: str) -> str:
    return f"<!-- schema: {name} -->\n```json\n{schema_json(name)}\n```\n"


def _action(schema: dict[str, Any]) -> str:
    action = schema.get("x-human-action")
    return f"**yes**: {action}" if action else "no"


def event_table() -> str:
    """The table of every event type: who sends it, when, and whether a human must act."""
    rows = ["| Type | Sent by | When | A human must act |", "|---|---|---|---|"]
    for t in events.EVENT_TYPES:
        s = events.payload_schema(t)
        rows.append(f"| [`{t}`](#{t.lower()}) | {s['x-emitted-by']} | {s['title']} | "
                    f"{_action(s)} |")
    return "\n".join(rows) + "\n"


def schema_markdown() -> str:
    """The schema blocks: tasks, the envelope, then each type with its description."""
    parts = [_block(name) for name in SCHEMAS]
    for t in events.EVENT_TYPES:
        s = events.payload_schema(t)
        parts.append(f"### `{t}`\n\n{s['title']}. {s['description']}\n\nSent by: "
                     f"{s['x-emitted-by']}. A human must act: {_action(s)}.\n\n"
                     + _block(f"events/{t}"))
    return "\n".join(parts)


def generated_sections() -> dict[str, str]:
    """What docs/PROTOCOL.md holds between ``<!-- generated: NAME ... -->`` and
    ``<!-- end: NAME -->``."""
    return {"event-types": event_table(), "schemas": schema_markdown()}


def render(doc: str) -> str:
    """``doc`` with every generated section replaced by its current text."""
    for name, body in generated_sections().items():
        pattern = re.compile(rf"(<!-- generated: {name}\b[^>]*-->\n)(.*?)(<!-- end: {name} -->)",
                             re.S)
        if not pattern.search(doc):
            raise ValueError(f"no generated section {name!r} in the document")
        doc = pattern.sub(lambda m: m.group(1) + "\n" + body + "\n" + m.group(3), doc)
    return doc


def main(argv: list[str]) -> int:
    """``python -m robot.protocol``: print the generated sections; ``--write PATH``: update them
    in that file (docs/PROTOCOL.md)."""
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    if argv:
        print("usage: python -m robot.protocol [--write docs/PROTOCOL.md]", file=sys.stderr)
        return 2
    for name, body in generated_sections().items():
        print(f"<!-- generated: {name} -->\n\n{body}\n<!-- end: {name} -->\n")
    return 0


if __name__ == "__main__":  # pragma: no cover - a doc helper
    sys.exit(main(sys.argv[1:]))
