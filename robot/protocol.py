"""The task-server protocol: the JSON Schemas of a task, of the task list and of events, their
validators, and the generated parts of docs/PROTOCOL.md.

Every schema is a JSON file in robot/schemas/ (``task.json``, ``task_list.json``, the event
envelope ``event.json`` and each type's payload ``events/<TYPE>.json``), validated with
robot/schema.py (the ``jsonschema`` library, draft 2020-12). These files are the single source of
truth: the robot validates tasks with them, the simulated task server validates every event it
receives with them, and docs/PROTOCOL.md embeds them verbatim (``python -m robot.protocol
--write docs/PROTOCOL.md`` regenerates its generated parts; a test checks they are current).

Errors read ``key: what is wrong`` (``lot: 0 is below the minimum 1``): task servers receive
them in TASK_REJECTED. Events are checked envelope first, then the payload against its type's
schema, so an error names the type and the key. ``strict=True`` also refuses keys the schemas do
not declare and unregistered types: what the tests use, so the documentation cannot drift from
what is sent.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

from . import events, schema
from .schema import strict_copy  # noqa: F401 - the tests' name for it

TASK_FILE, TASK_LIST_FILE, EVENT_FILE = "task.json", "task_list.json", "event.json"
TASK_SCHEMA: dict[str, Any] = schema.load(TASK_FILE)
TASK_LIST_SCHEMA: dict[str, Any] = schema.load(TASK_LIST_FILE)
EVENT_SCHEMA: dict[str, Any] = schema.load(EVENT_FILE)

# Names under which docs/PROTOCOL.md embeds each schema (see schema_markdown()).
SCHEMAS: dict[str, dict[str, Any]] = {
    "task": TASK_SCHEMA,
    "task_list": TASK_LIST_SCHEMA,
    "event": EVENT_SCHEMA,
}


def validate_task(task: Any, path: str = "") -> list[str]:
    """Every way ``task`` breaks the task schema, as messages naming the key; [] when valid."""
    return _errors(task, TASK_FILE, path)


def validate_task_list(body: Any, path: str = "") -> list[str]:
    """Every way a GET /api/tasks answer breaks the task list schema; [] when valid."""
    return _errors(body, TASK_LIST_FILE, path)


def validate_event(event: Any, path: str = "", strict: bool = False) -> list[str]:
    """Every way ``event`` breaks the envelope or its type's payload schema; [] when valid.

    A type the robot does not register is accepted with any payload object (servers store types
    they do not know), unless ``strict``, which also refuses keys no schema declares."""
    errors = _errors(event, EVENT_FILE, path, strict)
    if errors:
        return errors
    type_ = event["type"]
    if type_ not in events.EVENT_TYPES:
        return (
            [f"{_join(path, 'type')}: {type_!r} is not a registered event type"] if strict else []
        )
    return [
        f"{e} ({type_} event)"
        for e in _errors(event["payload"], f"events/{type_}.json", _join(path, "payload"), strict)
    ]


def _errors(instance: Any, name: str, path: str, strict: bool = False) -> list[str]:
    return [
        f"{_join(path, schema.dotted(at)) or 'body'}: {message}"
        for at, message in schema.check(instance, name, schema.PROTOCOL, strict)
    ]


def _join(path: str, key: str) -> str:
    """``[3]`` + ``payload.price`` -> ``[3].payload.price``."""
    if not path or not key:
        return path or key
    return path + key if key.startswith("[") else f"{path}.{key}"


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
        rows.append(
            f"| [`{t}`](#{t.lower()}) | {s['x-emitted-by']} | {s['title']} | {_action(s)} |"
        )
    return "\n".join(rows) + "\n"


def schema_markdown() -> str:
    """The schema blocks: tasks, the envelope, then each type with its description."""
    parts = [_block(name) for name in SCHEMAS]
    for t in events.EVENT_TYPES:
        s = events.payload_schema(t)
        parts.append(
            f"### `{t}`\n\n{s['title']}. {s['description']}\n\nSent by: "
            f"{s['x-emitted-by']}. A human must act: {_action(s)}.\n\n" + _block(f"events/{t}")
        )
    return "\n".join(parts)


def generated_sections() -> dict[str, str]:
    """What docs/PROTOCOL.md holds between ``<!-- generated: NAME ... -->`` and
    ``<!-- end: NAME -->``."""
    return {"event-types": event_table(), "schemas": schema_markdown()}


def _fill(body: str, m: re.Match[str]) -> str:
    """A generated section's markers around its new ``body``."""
    return m.group(1) + "\n" + body + "\n" + m.group(3)


def render(doc: str) -> str:
    """``doc`` with every generated section replaced by its current text."""
    for name, body in generated_sections().items():
        pattern = re.compile(
            rf"(<!-- generated: {name}\b[^>]*-->\n)(.*?)(<!-- end: {name} -->)", re.S
        )
        if not pattern.search(doc):
            raise ValueError(f"no generated section {name!r} in the document")
        doc = pattern.sub(functools.partial(_fill, body), doc)
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
