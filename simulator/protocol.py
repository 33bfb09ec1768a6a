"""The task-server protocol as the simulated task server uses it: schemas and validator.

There is one definition: ``robot/protocol.py``, because the robot validates the tasks it pulls
with the same dicts and the robot must not depend on the simulator. This module is the simulator's
name for it. ``docs/PROTOCOL.md`` embeds the schemas verbatim (regenerate the blocks with
``python -m simulator.protocol``); a test compares the document with these dicts.
"""
from __future__ import annotations

from robot.protocol import (EVENT_SCHEMA, SCHEMAS, TASK_LIST_SCHEMA, TASK_SCHEMA, schema_json,
                            schema_markdown, validate, validate_event, validate_task)

__all__ = ["EVENT_SCHEMA", "SCHEMAS", "TASK_LIST_SCHEMA", "TASK_SCHEMA", "schema_json",
           "schema_markdown", "validate", "validate_event", "validate_task"]

if __name__ == "__main__":  # pragma: no cover - a doc helper
    print(schema_markdown())
