"""Selectors files (selectors/*.json): a broker's UI described as data, validated on load.

The file's shape is robot/schemas/selectors.schema.json (each shipped file names it in its
``$schema`` key, so editors complete and check it), including what the order flow's steps need:
a ``pin`` step needs ``pin_pad``, ``confirm`` needs ``confirm_dialog``, ``auto_order`` needs
``auto_order_toggle``, and ``native_tp_cl`` needs the form's ``tp_input`` and ``cl_input``. Which
step names exist depends on the adapter class, so that check is made here. A missing key, a
wrong type or an unknown step is reported naming the broker, the file, the line and the key, so a
user who edits a file after a broker changed its pages knows exactly what to fix.
"""
from __future__ import annotations

import json
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
        raise SelectorsError(Problem(source, "", f"is not valid JSON: {exc.msg}", exc.lineno,
                                     exc.colno)) from None
    # JSON allows no raw tab inside a string, so a tab is indentation: YAML, which finds the
    # keys' lines, refuses tabs there, and a space in its place moves no key
    problems = check_selectors(data, source, known_steps,
                               locate_keys(source, text.replace("\t", " ")))
    if problems:
        raise SelectorsError(problems)
    return data


def check_selectors(data: Any, source: str, known_steps: set[str],
                    keys: Located | None = None) -> list[Problem]:
    """Every problem of a selectors file's content, at the lines ``keys`` knows (locate_keys)."""
    locate = keys.locate if keys else None
    out = schema.problems(data, SCHEMA, source, schema.FILE, locate)
    steps = data.get("steps") if isinstance(data, dict) else None
    if isinstance(steps, list):
        for i, step in enumerate(steps):
            if isinstance(step, str) and step not in known_steps:
                line, column = locate(("steps", i)) if locate else (None, None)
                out.append(Problem(source, f"steps[{i}]", f"unknown step {step!r}; this broker's "
                                   f"adapter knows {', '.join(sorted(known_steps))}", line, column))
    return out
