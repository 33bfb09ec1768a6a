"""The JSON Schemas the robot ships (robot/schemas/) and the one way it validates with them.

Every input from outside has a JSON Schema file (draft 2020-12): accounts.yaml
(``accounts.schema.json``), a broker's selectors file (``selectors.schema.json``), a task and the
task server's list (``task.json``, ``task_list.json``) and every event (``event.json``,
``events/<TYPE>.json``). The files are the single source of truth: editors complete and check
accounts.yaml and the selectors files with them, docs/SETTINGS.md and docs/PROTOCOL.md are
generated from them, and the robot validates with them here, with the ``jsonschema`` library.

``check()`` lists every error as (key path, message), ``problems()`` as located Problems. The
message comes in one of two wordings: ``PROTOCOL``, the terse one task servers receive in
TASK_REJECTED (``lot: 0 is below the minimum 1``), and ``FILE``, for files a person edits
(``must be within 200..60000, got 100``, with a did-you-mean for a misspelt key or value). A
schema gives its own words with an ``x-message`` annotation: a text for every failure of that
(sub)schema, or texts by keyword (``{"pattern": "...", "required": "..."}``); ``{value}``,
``{value!r}``, ``{got}`` (the value's type), ``{missing}`` and ``{id}`` are filled in.

What the library does not do by itself and the robot relies on:
- ``pattern`` is ECMA-262: ``$`` is the end of the text. Python's ``$`` also matches before a
  final newline, which would let "BBCA\\n" through to a broker's order form.
- ``integer`` is an int (never a float such as 9750.0 nor a bool), ``number`` is finite (NaN and
  infinity are no numbers a setting can use).
- ``format`` is checked for ``date`` and ``date-time`` (a date-time needs its UTC offset: a naive
  time is ambiguous between WIB and UTC). A YAML date (a ``date`` object: YAML reads 2026-03-02
  as one) is the text of a date wherever the schema asks for a string of ``format: date``.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from .errors import Problem

KeyPath = tuple  # ("accounts", 1, "limits", "max_open_orders")
Issue = tuple[KeyPath, str]
Locate = Callable[[KeyPath], tuple[int | None, int | None]]


# ------------------------------------------------------------------------------------ the files
@cache
def load(name: str) -> dict[str, Any]:
    """A schema file by its name under robot/schemas (``task.json``, ``events/FILLED.json``).
    Cached and shared: never modify what it returns."""
    text = resources.files("robot").joinpath(f"schemas/{name}").read_text(encoding="utf-8")
    return json.loads(text)


def node(name: str, key: str) -> dict[str, Any]:
    """The schema of one key, by dotted key with ``[]`` for a list's items
    (``settings.restart.flap_max``, ``accounts[].dry_run``), ``$ref``s followed."""
    root = load(name)
    here = _deref(root, root)
    for part in key.replace("[]", ".[]").split("."):
        here = _deref(root, here["items"] if part == "[]" else here["properties"][part])
    return here


def default(name: str, key: str) -> Any:
    """The ``default`` a schema gives a key: the one place a setting's default is written."""
    return copy.deepcopy(node(name, key)["default"])


def _deref(root: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    if not ref or not ref.startswith("#/$defs/"):
        return schema
    return {
        **_deref(root, root["$defs"][ref[len("#/$defs/") :]]),
        **{k: v for k, v in schema.items() if k != "$ref"},
    }


def strict_copy(schema: Any) -> Any:
    """A copy of ``schema`` with ``additionalProperties: false`` wherever it declares properties.

    The published protocol schemas allow unknown keys (consumers ignore them); validating with
    this copy makes an undeclared key an error, so a key the robot sends must be documented."""
    if isinstance(schema, list):
        return [strict_copy(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: strict_copy(v) if k != "properties" else {n: strict_copy(p) for n, p in v.items()}
        for k, v in schema.items()
    }
    if "properties" in out and out.get("additionalProperties", True) is True:
        out["additionalProperties"] = False
    return out


# ------------------------------------------------------------------------------- the validator
@cache
def validator(name: str, strict: bool = False):
    """The draft 2020-12 validator of one schema file (``strict``: see strict_copy). The library
    is imported on first use: a process that never validates never loads it."""
    schema = strict_copy(load(name)) if strict else load(name)
    return _validator_class()(schema, registry=_registry(), format_checker=_format_checker())


@cache
def _validator_class():
    from jsonschema import Draft202012Validator, ValidationError, validators

    base = Draft202012Validator
    types = base.TYPE_CHECKER.redefine_many(
        {
            "integer": lambda _, v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda _, v: _is_number(v),
        }
    )
    type_keyword = base.VALIDATORS["type"]

    def type_(validator, types_, instance, schema):
        if _is_date(instance) and schema.get("format") == "date" and "string" in _listed(types_):
            return  # a YAML date is the text of a date
        yield from type_keyword(validator, types_, instance, schema)

    def pattern(validator, pattern_, instance, schema):
        if isinstance(instance, str) and not matches(pattern_, instance):
            yield ValidationError(f"{instance!r} does not match {pattern_!r}")

    return validators.extend(base, {"type": type_, "pattern": pattern}, type_checker=types)


# _REFERENCING_TYPES: referencing's classes are attrs classes whose stubs declare them with the
# pre-PEP 681 ``__dataclass_transform__``, which mypy does not read, so it sees no constructor
# arguments at all; the two calls below are its documented API (hence their type: ignore)
@cache
def _registry():
    """Schemas refer to each other by file name (task_list.json's items are task.json)."""
    from referencing import Registry, Resource
    from referencing.exceptions import NoSuchResource

    def retrieve(uri: str) -> Resource:
        if "://" in uri or uri.startswith("/"):
            # the robot's schemas never refer outside
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # see _REFERENCING_TYPES
        return Resource.from_contents(load(uri))

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]  # see _REFERENCING_TYPES


@cache
def _format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    checker.checks("date")(lambda v: _is_date(v) or not isinstance(v, str) or _date_ok(v))
    checker.checks("date-time")(lambda v: not isinstance(v, str) or _date_time_ok(v))
    return checker


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or math.isfinite(v)


def _is_date(v: Any) -> bool:
    return isinstance(v, date) and not isinstance(v, datetime)


def _date_ok(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _date_time_ok(text: str) -> bool:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in text and parsed.tzinfo is not None


def matches(pattern: str, text: str) -> bool:
    """``text`` matches ``pattern`` as JSON Schema (ECMA-262) reads it."""
    return _ecma(pattern).search(text) is not None


@cache
def _ecma(pattern: str) -> re.Pattern:
    """The pattern with each ``$`` outside a character class made ``\\Z`` (the end of the text)."""
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            ch = r"\Z"
        out.append(ch)
    return re.compile("".join(out))


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------- the errors
def check(instance: Any, name: str, wording: Wording, strict: bool = False) -> list[Issue]:
    """Every way ``instance`` breaks the schema ``name``, as (key path, message), in key order."""
    errors = sorted(validator(name, strict).iter_errors(instance), key=lambda e: _order(_path(e)))
    found: list[Issue] = []
    for error in errors:
        for issue in wording.explain(error):
            if issue not in found:
                found.append(issue)
    return found


def problems(
    instance: Any, name: str, source: str, wording: Wording, locate: Locate | None = None
) -> list[Problem]:
    """check() as Problems of ``source``, each at the line ``locate`` gives its key path, in the
    order of the file."""
    out = []
    for path, message in check(instance, name, wording):
        line, column = locate(path) if locate else (None, None)
        out.append(Problem(source, dotted(path), message, line, column))
    return sorted(out, key=lambda p: (p.line or 0, p.column or 0))


def dotted(path: KeyPath) -> str:
    """``("accounts", 1, "limits")`` -> ``accounts[1].limits``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _order(path: KeyPath) -> list:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path]


def _path(error) -> KeyPath:
    """Where the error is; a property name refused by ``propertyNames`` is the key itself."""
    path = tuple(error.absolute_path)
    return path + (error.instance,) if _about_a_name(error) else path


def _about_a_name(error) -> bool:
    """The error is about a key's name (``propertyNames``), not about a value."""
    return list(error.absolute_schema_path)[-2:-1] == ["propertyNames"]


def _custom(schema: Any, keyword: str) -> str | None:
    """The schema's own words for a failure of ``keyword`` (its ``x-message``)."""
    words = schema.get("x-message") if isinstance(schema, dict) else None
    return words.get(keyword) if isinstance(words, dict) else words


_FIELD = re.compile(r"\{(value|got|missing|id)(!r)?\}")


def _fill(text: str, error, path: KeyPath, missing: Sequence[str] = ()) -> str:
    """An x-message with its fields filled in (other braces are left as written)."""
    v = error.instance
    ident = (
        v.get("id")
        if isinstance(v, dict) and "id" in v
        else f"#{path[-1] + 1}"
        if path and isinstance(path[-1], int)
        else "?"
    )
    fields = {"value": v, "got": type(v).__name__, "missing": " and ".join(missing), "id": ident}
    return _FIELD.sub(
        lambda m: repr(fields[m[1]]) if m[2] or m[1] == "id" else str(fields[m[1]]), text
    )


class Wording:
    """How errors read. The default: the terse wording of the protocol (TASK_REJECTED reasons,
    the simulated task server's 400 answers): ``key: what is wrong``."""

    missing = "missing required key"
    unknown = "key not declared in the schema"

    def explain(self, error) -> Iterator[Issue]:
        path, kw, schema = _path(error), error.validator, error.schema
        if kw == "required":
            yield from self._required(error, path)
        elif kw == "additionalProperties" and error.validator_value is False:
            props, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
            for key in error.instance:
                if key not in props and not any(matches(p, key) for p in patterns):
                    yield (
                        path + (key,),
                        (_custom(schema, kw) or self.unknown) + self.hint(str(key), list(props)),
                    )
        else:
            custom = _custom(schema, kw)
            yield path, _fill(custom, error, path) if custom else self.message(error)

    def _required(self, error, path: KeyPath) -> Iterator[Issue]:
        missing = [k for k in error.validator_value if k not in error.instance]
        custom = _custom(error.schema, "required")
        if custom:  # the object's own words: one problem, at the object
            yield path, _fill(custom, error, path, missing)
            return
        for key in missing:
            child = error.schema.get("properties", {}).get(key)
            yield path + (key,), _custom(child, "required") or self.missing

    def hint(self, word: str, known: list[str]) -> str:
        return ""

    def message(self, error) -> str:
        value, kw, limit = error.instance, error.validator, error.validator_value
        shown = json.dumps(value, default=str)[:60]
        if kw == "type":
            return f"expected {' or '.join(_listed(limit))}, got {shown}"
        if kw == "const":
            return f"must be {json.dumps(limit)}, got {shown}"
        if kw == "enum":
            return f"{value!r} is not one of {limit}"
        if kw == "format":
            return f"{value!r} is not a valid {limit}"
        if kw in ("minimum", "exclusiveMinimum"):
            return f"{value} is below the minimum {limit}"
        if kw in ("maximum", "exclusiveMaximum"):
            return f"{value} is above the maximum {limit}"
        if kw == "minLength":
            return f"must not be shorter than {limit} characters"
        if kw == "maxLength":
            return f"must not be longer than {limit} characters"
        if kw == "pattern":
            return f"{value!r} does not match {limit}"
        return error.message


class FileWording(Wording):
    """For files a person edits (accounts.yaml, selectors files): what the value must be, what
    was found, and a did-you-mean where a near miss is likely."""

    missing = "missing"
    unknown = "unknown key"

    def explain(self, error) -> Iterator[Issue]:
        quoted = _sexagesimal(error)
        if quoted:
            yield _path(error), quoted
            return
        for path, message in super().explain(error):
            if error.validator == "enum" and _about_a_name(error):
                # a name outside a list (an event type): the likely one, or all of them
                choices = [str(c) for c in error.validator_value]
                message += self.hint(str(error.instance), choices, "known")
            elif error.validator == "pattern" and isinstance(error.instance, str):
                message += _near_miss(error.validator_value, error.instance)
            yield path, message

    def hint(self, word: str, known: list[str], listed: str = "known keys") -> str:
        close = difflib.get_close_matches(word.lower(), [k.lower() for k in known], n=1)
        if close:
            return f" (did you mean '{next(k for k in known if k.lower() == close[0])}'?)"
        return f"; {listed}: {', '.join(known)}" if known else ""

    def message(self, error) -> str:
        value, kw, limit, schema = (
            error.instance,
            error.validator,
            error.validator_value,
            error.schema,
        )
        if kw == "type":
            return _type_message(_listed(limit), value, schema)
        if kw == "enum":
            return f"must be one of {', '.join(str(c) for c in limit)}, got {value!r}"
        if kw == "const":
            return f"must be {limit!r}, got {value!r}"
        if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            lo, hi = schema.get("minimum"), schema.get("maximum")
            if lo is not None and hi is not None:
                return f"must be within {lo}..{hi}, got {value}"
            return (
                f"must be at least {lo}, got {value}"
                if lo is not None
                else f"must be at most {hi}, got {value}"
            )
        if kw == "minLength" or (kw == "pattern" and limit == r"\S"):
            return f"must be a non-empty string, got {value!r}"
        if kw == "maxLength":
            return f"must not be longer than {limit} characters"
        if kw == "pattern":
            return f"must match {limit}, got {value!r}"
        if kw == "format":
            return (
                f"must be a date YYYY-MM-DD, got {value!r}"
                if limit == "date"
                else f"must be a valid {limit}, got {value!r}"
            )
        if kw in ("minItems", "minProperties") and limit == 1:
            return "must not be empty"
        return error.message


_NOUNS = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping of keys",
    "array": "a list",
    "null": "null",
}


def _type_message(types: list[str], value: Any, schema: dict) -> str:
    if len(types) == 1 and types[0] in ("object", "array"):
        return f"must be {_NOUNS[types[0]]}, got {type(value).__name__}"
    nouns = [_NOUNS.get(t, t) for t in types]
    if types == ["string"] and (schema.get("minLength", 0) >= 1 or schema.get("pattern") == r"\S"):
        nouns = ["a non-empty string"]
    wanted = f"must be {' or '.join(nouns)}"
    if "string" in types and isinstance(value, date):
        return f"{wanted}: YAML read {value.isoformat()} as a date; write it in quotes"
    if "string" in types and isinstance(value, bool):
        return (
            f"{wanted}, got {value!r}: YAML reads an unquoted yes, no, on or off as true or "
            "false; write the word in quotes"
        )
    return f"{wanted}, got {value!r}"


def _sexagesimal(error) -> str | None:
    """YAML 1.1 reads an unquoted 08:45 as a base-60 number (525): where a string of the form
    HH:MM is wanted and such a number came, say how to write it."""
    value, schema = error.instance, error.schema
    if (
        error.validator != "type"
        or _listed(error.validator_value) != ["string"]
        or isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value < 24 * 60
    ):
        return None
    hhmm = f"{value // 60:02d}:{value % 60:02d}"
    pattern = schema.get("pattern")
    if not pattern or not matches(pattern, hhmm) or matches(pattern, "x"):
        return None  # no pattern of a time: it takes "08:45" and refuses plain text
    return f'must be a quoted "HH:MM" time (YAML read {value!r}; write "{hhmm}")'


def _near_miss(pattern: str, text: str) -> str:
    """A value that would match once trimmed or in capitals (' bbri' -> 'BBRI')."""
    for fixed in (text.strip(), text.strip().upper()):
        if fixed != text and fixed and matches(pattern, fixed):
            return f" (did you mean {fixed!r}?)"
    return ""


PROTOCOL = Wording()
FILE = FileWording()
