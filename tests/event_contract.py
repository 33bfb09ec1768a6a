"""The event contract as the tests check it (a uniquely named helper module, like waiting.py).

Every event the robot wrote (rows of the events table) or sent (what the simulated task server
received) must match its type's schema *strictly*: the published schemas allow unknown keys, the
check here does not, so a payload key the robot sends but robot/schemas/ does not declare fails
the test that produced it and the documentation cannot drift from what is sent.
"""

from __future__ import annotations

from pathlib import Path

import statedb
from robot.outbox import wire_form
from robot.protocol import validate_event


def check_events(events: list[dict]) -> set[str]:
    """Assert that every event (wire form) matches its schemas strictly; returns their types."""
    problems = [
        f"{e.get('type')} {e.get('id')}: {err}"
        for e in events
        for err in validate_event(e, strict=True)
    ]
    assert not problems, "events the schemas in robot/schemas/ do not describe:\n" + "\n".join(
        problems
    )
    return {e["type"] for e in events}


def check_rows(rows: list[dict]) -> set[str]:
    """Rows of the events table, checked as the outbox would send them."""
    return check_events([wire_form(r) for r in rows])


def check_db(path: Path) -> set[str]:
    """Every event stored in a state.db (read-only; nothing when there is no file yet)."""
    return check_rows(statedb.rows(path, "SELECT * FROM events ORDER BY seq"))
