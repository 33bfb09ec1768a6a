"""Read-only looks into a state.db that a robot process writes: the one way tests and benchmarks
read it (a uniquely named module, importable from every test folder and from bench/).

The connection is read-only (``mode=ro``, with the path escaped: '#' or '?' in a folder name
would otherwise end the file name and open another file read-write) and waits up to 10 s for a
writer's lock, as an operator's ``robot status`` would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_S = 10.0


def rows(db: str | Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts; [] while there is no file or no schema yet (a supervisor
    that has not made it, or was killed before it did). Any other SQLite error is raised."""
    path = Path(db)
    if not path.exists():
        return []
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()
