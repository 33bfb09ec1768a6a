"""docs/SETTINGS.md: every key of accounts.yaml with its type, default, range and meaning,
rendered from the schema the robot ships (robot/schemas/accounts.schema.json), so the reference
cannot drift from what the robot accepts.

    python -m robot.settings_reference > docs/SETTINGS.md
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

SCHEMA_FILE = "schemas/accounts.schema.json"
HEADER = """# accounts.yaml: every setting

Generated from `robot/schemas/accounts.schema.json` by `python -m robot.settings_reference`;
a test keeps the two equal. The robot validates accounts.yaml with that schema (`robot check`
names the line of every problem) and takes every default below from it. Editors that read JSON
Schema (VS Code with the YAML extension, for instance) complete and check the file when its
first line is `# yaml-language-server: $schema=robot/schemas/accounts.schema.json`.

Paths are relative to the folder of accounts.yaml. Times are WIB, written in quotes (`"08:45"`).
Secrets never go in the file: keys ending in `_env` name an environment variable (or an entry of
the env file) that holds them.
"""


def load_schema() -> dict[str, Any]:
    return json.loads(resources.files("robot").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _resolve(node: dict, schema: dict) -> dict:
    """A ``$ref`` node as the definition it names, with its own keys (description, default)."""
    ref = node.get("$ref")
    if ref:
        return {
            **schema["$defs"][ref.rsplit("/", 1)[1]],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    return node


def rows(node: dict, schema: dict, prefix: str) -> Iterator[tuple[str, dict, bool]]:
    """(dotted key, its schema, required) for every leaf under ``node``; lists of objects as
    ``key[]``."""
    node = _resolve(node, schema)
    required = set(node.get("required", []))
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(sub, schema)
        name = f"{prefix}.{key}" if prefix else key
        if sub.get("type") == "object" and "properties" in sub:
            yield from rows(sub, schema, name)
        elif sub.get("type") == "array" and "$ref" in sub.get("items", {}):
            yield name, sub, key in required
            yield from rows(sub["items"], schema, f"{name}[]")
        else:
            yield name, sub, key in required


def kind(node: dict) -> str:
    t = node.get("type")
    if t == "array":
        item = node.get("items", {})
        inner = "date" if item.get("format") == "date" else item.get("type", "object")
        if "$ref" in item:
            inner = "mapping"
        return f"list of {inner}s"
    if node.get("enum"):
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    pattern = node.get("pattern", "")
    if t == "string" and pattern.startswith("^([01]"):
        return '"HH:MM"'
    if t == "string" and pattern == "^[A-Za-z_][A-Za-z0-9_]*$":
        return "variable name"
    if t == "string" and pattern.startswith("^https?"):
        return "URL"
    names = {
        "number": "number",
        "integer": "integer",
        "boolean": "true/false",
        "string": "text",
        "object": "mapping",
    }
    if isinstance(t, list):
        return " or ".join(names.get(str(x), str(x)) for x in t)
    return names.get(str(t), str(t))


def bounds(node: dict) -> str:
    lo, hi = node.get("minimum"), node.get("maximum")
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f"≥ {lo:g}"
    return f"{lo:g} – {hi:g}"


def default(node: dict) -> str:
    if "default" not in node:
        return ""
    value = node["default"]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def section(title: str, node: dict, schema: dict, prefix: str) -> list[str]:
    node = _resolve(node, schema)
    out = [f"## {title}", "", node.get("description", ""), ""]
    out += ["| key | type | default | range | meaning |", "|---|---|---|---|---|"]
    for name, sub, required in rows(node, schema, prefix):
        need = " **(required)**" if required else ""
        text = sub.get("description", "").replace("|", "\\|")
        out.append(f"| `{name}` | {kind(sub)} | {default(sub)} | {bounds(sub)} | {text}{need} |")
    return out + [""]


def render(schema: dict[str, Any] | None = None) -> str:
    schema = schema or load_schema()
    props = schema["properties"]
    parts = [HEADER]
    parts += section("settings", props["settings"], schema, "settings")
    parts += section("accounts[]", props["accounts"]["items"], schema, "accounts[]")
    parts += section(
        "brokers.<name>", props["brokers"]["additionalProperties"], schema, "brokers.<name>"
    )
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover - a doc helper
    print(render(), end="")
