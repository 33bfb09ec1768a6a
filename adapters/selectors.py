"""Selectors files (selectors/*.json): a broker's UI described as data, validated on load.

A missing key, a wrong type or an unknown step is reported naming the broker, the file and the key,
so a user who edits a file after a broker changed its pages knows exactly what to fix.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robot.errors import BadInput, Problem

REQUIRED_STR = ("login_check", "toast_success", "toast_error", "open_orders_table", "cancel_btn",
                "order_history_table")
OPTIONAL_STR = ("portfolio_table", "quote_price", "login_error")
URL_KEYS_REQUIRED = ("login", "order", "open_orders", "history")
URL_KEYS_OPTIONAL = ("portfolio", "quote")
FORM_REQUIRED = ("stock_input", "price_input", "lot_input", "submit_btn")
FORM_OPTIONAL = ("tp_input", "cl_input", "side_sell")
ORDER_COLUMNS = ("order_id", "emiten", "side", "price", "lot", "filled", "status")
ORDER_COLUMNS_OPTIONAL = ("time", "shares", "parent")
PORTFOLIO_COLUMNS = ("emiten", "lot", "avg_price")
STATUSES = ("OPEN", "PARTIAL", "MATCHED", "WITHDRAWN", "REJECTED", "EXPIRED")
TOP_KEYS = set(REQUIRED_STR + OPTIONAL_STR) | {
    "broker", "urls", "login_form", "order_form", "steps", "pin_pad", "confirm_dialog",
    "auto_order_toggle", "columns", "side_map", "status_map", "number_format", "native_tp_cl",
    "retryable_errors", "timeouts"}


class SelectorsError(BadInput):
    pass


def load_selectors(path: Path, broker: str, known_steps: set[str]) -> dict:
    """Read and validate one selectors file for an adapter that knows ``known_steps``."""
    source = f"{path} (broker {broker})"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SelectorsError(Problem(source, "", "selectors file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectorsError(Problem(source, "", f"cannot be read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise SelectorsError(Problem(source, "", f"is not valid JSON: {exc.msg}", exc.lineno,
                                     exc.colno)) from None
    problems = check_selectors(data, source, known_steps)
    if problems:
        raise SelectorsError(problems)
    return data


def check_selectors(data: Any, source: str, known_steps: set[str]) -> list[Problem]:
    out: list[Problem] = []

    def bad(key: str, msg: str) -> None:
        out.append(Problem(source, key, msg))

    if not isinstance(data, dict):
        return [Problem(source, "", "must be a JSON object")]
    for key in data:
        if key not in TOP_KEYS and not key.startswith("_"):
            bad(key, "unknown key")
    for key in REQUIRED_STR:
        _need_str(data, key, key, bad)
    for key in OPTIONAL_STR:
        if data.get(key) is not None and not _nonempty(data[key]):
            bad(key, "must be a CSS selector string or null")
    _section(data, "urls", URL_KEYS_REQUIRED, URL_KEYS_OPTIONAL, bad)
    _section(data, "login_form", ("username", "password", "submit"), (), bad)
    _section(data, "order_form", FORM_REQUIRED, FORM_OPTIONAL, bad)
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        bad("steps", "must be a list of step names")
    else:
        for i, step in enumerate(steps):
            if step not in known_steps:
                bad(f"steps[{i}]", f"unknown step {step!r}; this broker's adapter knows "
                                   f"{', '.join(sorted(known_steps))}")
        for needed in ("fill", "submit", "toast"):
            if needed not in steps:
                bad("steps", f"must include {needed!r}")
        if "pin" in steps:
            _section(data, "pin_pad", ("container", "key", "submit"), (), bad)
        if "confirm" in steps:
            _section(data, "confirm_dialog", ("dialog", "confirm_btn"), ("lot", "price"), bad)
        if "auto_order" in steps:
            _need_str(data, "auto_order_toggle", "auto_order_toggle", bad)
    cols = data.get("columns")
    if not isinstance(cols, dict):
        bad("columns", "must map open_orders/history/portfolio to {field: header text}")
    else:
        for table in ("open_orders", "history"):
            _section(cols, table, ORDER_COLUMNS, ORDER_COLUMNS_OPTIONAL, bad, prefix="columns.")
        if cols.get("portfolio") is not None:
            _section(cols, "portfolio", PORTFOLIO_COLUMNS, ("last_price", "shares"), bad,
                     prefix="columns.")
    for key, allowed in (("side_map", ("buy", "sell")), ("status_map", STATUSES)):
        mapping = data.get(key)
        if not isinstance(mapping, dict) or not mapping:
            bad(key, "must map the broker's words to " + "/".join(allowed))
            continue
        for word, value in mapping.items():
            if value not in allowed:
                bad(f"{key}.{word}", f"maps to {value!r}; allowed: {', '.join(allowed)}")
    if data.get("number_format", "plain") not in ("plain", "id"):
        bad("number_format", "must be 'plain' (2,700.5) or 'id' (2.700,5)")
    if not isinstance(data.get("native_tp_cl", False), bool):
        bad("native_tp_cl", "must be true or false")
    if data.get("native_tp_cl") and not (data.get("order_form") or {}).get("tp_input"):
        bad("order_form.tp_input", "native_tp_cl is true, so the form needs tp_input and cl_input")
    return out


def _nonempty(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _need_str(data: dict, key: str, label: str, bad) -> None:
    if key not in data:
        bad(label, "missing")
    elif not _nonempty(data[key]):
        bad(label, "must be a non-empty CSS selector")


def _section(data: dict, name: str, required: tuple, optional: tuple, bad, prefix: str = "") -> None:
    section = data.get(name)
    if not isinstance(section, dict):
        bad(prefix + name, "missing (must be an object)" if section is None else "must be an object")
        return
    for key in required:
        _need_str(section, key, f"{prefix}{name}.{key}", bad)
    for key in section:
        if key not in required and key not in optional:
            bad(f"{prefix}{name}.{key}", "unknown key")
        elif key in optional and section[key] is not None and not _nonempty(section[key]):
            bad(f"{prefix}{name}.{key}", "must be a non-empty string or null")
