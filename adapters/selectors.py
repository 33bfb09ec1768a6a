"""Selectors files (selectors/*.json): a broker's UI described as data, validated on load.

The file's shape is robot/schemas/selectors.schema.json (each shipped file names it in its
``$schema`` key, so editors complete and check it), including what the order flow's steps need:
a ``pin`` step needs ``pin_pad``, ``confirm`` needs ``confirm_dialog``, ``auto_order`` needs
``auto_order_toggle``, ``native_tp_cl`` needs the form's ``tp_input`` and ``cl_input``, and an order
table without a side column needs ``fixed_side`` to say which side it lists (never both). Which
step names exist depends on the adapter class, and ``toast_order_id`` must be a Python regular
expression with a group, so those checks are made here. A missing key, a
wrong type or an unknown step is reported naming the broker, the file, the line and the key, so a
user who edits a file after a broker changed its pages knows exactly what to fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from robot import schema
from robot.errors import BadInput, Problem
from robot.located import Located, locate_keys

SCHEMA = "selectors.schema.json"


class SelectorsError(BadInput):
    pass


def load_selectors(path: Path, broker: str, known_steps: set[str]) -> dict:
    """Read and validate one selectors file for an adapter that knows ``known_steps``."""
    source = f"{path} (broker {broker})"
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        raise SelectorsError(Problem(source, "", "selectors file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectorsError(Problem(source, "", f"cannot be read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise SelectorsError(
            Problem(source, "", f"is not valid JSON: {exc.msg}", exc.lineno, exc.colno)
        ) from None
    # JSON allows no raw tab inside a string, so a tab is indentation: YAML, which finds the
    # keys' lines, refuses tabs there, and a space in its place moves no key
    problems = check_selectors(
        data, source, known_steps, locate_keys(source, text.replace("\t", " "))
    )
    if problems:
        raise SelectorsError(problems)
    return data


def check_selectors(
    data: Any, source: str, known_steps: set[str], keys: Located | None = None
) -> list[Problem]:
    """Every problem of a selectors file's content, at the lines ``keys`` knows (locate_keys)."""
    locate = keys.locate if keys else None
    out = schema.problems(data, SCHEMA, source, schema.FILE, locate)
    steps = data.get("steps") if isinstance(data, dict) else None
    if isinstance(steps, list):
        for i, step in enumerate(steps):
            if isinstance(step, str) and step not in known_steps:
                line, column = locate(("steps", i)) if locate else (None, None)
                out.append(
                    Problem(
                        source,
                        f"steps[{i}]",
                        f"unknown step {step!r}; this broker's "
                        f"adapter knows {', '.join(sorted(known_steps))}",
                        line,
                        column,
                    )
                )
    pattern = data.get("toast_order_id") if isinstance(data, dict) else None
    if isinstance(pattern, str) and pattern:
        why = _regex_problem(pattern)
        if why:
            line, column = locate(("toast_order_id",)) if locate else (None, None)
            out.append(Problem(source, "toast_order_id", why, line, column))
    return out


def _regex_problem(pattern: str) -> str | None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    if compiled.groups < 1:
        return "needs a group: (...) around the order id"
    return None
