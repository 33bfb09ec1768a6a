"""The task-server protocol as the simulated task server uses it: schemas and validators.

There is one definition: ``robot/protocol.py`` with the schema files in robot/schemas/,
because the robot validates the tasks it pulls with the same schemas and the robot must not
depend on the simulator. This module is the simulator's name for it. ``docs/PROTOCOL.md`` embeds
the schemas verbatim (regenerate with ``python -m robot.protocol --write docs/PROTOCOL.md``); a
test compares the document with them.
"""

from __future__ import annotations

from robot.protocol import (
    EVENT_SCHEMA,
    SCHEMAS,
    TASK_LIST_SCHEMA,
    TASK_SCHEMA,
    all_schemas,
    schema_json,
    schema_markdown,
    validate_event,
    validate_task,
    validate_task_list,
)

__all__ = [
    "EVENT_SCHEMA",
    "SCHEMAS",
    "TASK_LIST_SCHEMA",
    "TASK_SCHEMA",
    "all_schemas",
    "schema_json",
    "schema_markdown",
    "validate_event",
    "validate_task",
    "validate_task_list",
]
