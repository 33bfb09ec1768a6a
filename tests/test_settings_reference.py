"""docs/SETTINGS.md and robot/schemas/accounts.schema.json against the robot's own definitions:
the same keys as the validator knows, the same defaults as the dataclasses, the same ranges as
the checkers accept, so the reference cannot drift from what `robot check` does."""
from __future__ import annotations

import dataclasses
from datetime import time

import pytest

from robot import config as C
from robot.config import PROJECT_ROOT
from robot.settings_reference import load_schema, render

SCHEMA = load_schema()


def test_docs_settings_md_is_the_generated_reference():
    text = (PROJECT_ROOT / "docs" / "SETTINGS.md").read_text(encoding="utf-8")
    assert text == render(), "regenerate: python -m robot.settings_reference > docs/SETTINGS.md"


def resolve(node: dict) -> dict:
    ref = node.get("$ref")
    return SCHEMA["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def leaves(node: dict, checkers: dict, prefix: str = ""):
    """(dotted key, schema node, checker) over both trees; a key missing on one side fails."""
    node = resolve(node)
    props = node["properties"]
    assert set(props) == set(checkers), (prefix, set(props) ^ set(checkers))
    for key, sub in props.items():
        sub, rule = resolve(sub), checkers[key]
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(rule, dict):
            yield from leaves(sub, rule, name)
        else:
            yield name, sub, rule


SECTIONS = [
    (SCHEMA["properties"]["settings"], C.SETTINGS_SCHEMA, "settings"),
    (SCHEMA["$defs"]["account"], C.ACCOUNT_SCHEMA, "accounts[]"),
    (SCHEMA["$defs"]["broker"], C.BROKER_SCHEMA, "brokers.<name>"),
    (SCHEMA["$defs"]["grid_node"], C.GRID_NODE_SCHEMA, "settings.grid.nodes[]"),
]
ALL = [leaf for section in SECTIONS for leaf in leaves(*section)]


# keys whose rule is applied outside the checker tables
EXTRA_RULES = {"accounts[].id": lambda v: None if C.ACCOUNT_ID_RE.match(v) else "bad id"}


@pytest.mark.parametrize("name, node, rule", ALL, ids=[n for n, _, _ in ALL])
def test_schema_and_checker_agree_on_range_and_values(name, node, rule):
    rule = EXTRA_RULES.get(name, rule)
    t = node.get("type")
    if t in ("number", "integer"):
        lo, hi = node["minimum"], node.get("maximum")
        assert rule(lo) is None and (hi is None or rule(hi) is None), name
        step = 1 if t == "integer" else 0.001
        assert rule(lo - step) is not None, f"{name} accepts below its minimum"
        if hi is not None:
            assert rule(hi + step) is not None, f"{name} accepts above its maximum"
        if t == "integer":
            assert rule(lo + 0.5) is not None, f"{name} accepts a fraction"
    elif t == "boolean":
        assert rule(True) is None and rule("yes") is not None
    elif node.get("enum"):
        assert all(rule(v) is None for v in node["enum"]) and rule("nope") is not None
    elif t == "string" and "pattern" in node:
        import re
        for sample in ("08:45", "ROBOT_X", "http://x", "node-a", "a b", "9x", "25:00"):
            assert (rule(sample) is None) == bool(re.search(node["pattern"], sample)), \
                (name, sample)


def dataclass_default(cls, field: str):
    f = {f.name: f for f in dataclasses.fields(cls)}[field]
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory()


# schema key -> (dataclass, field) where the names differ or the value needs converting
DEFAULTS = {
    "settings.operating_hours.start": (C.Settings, "start"),
    "settings.operating_hours.end": (C.Settings, "end"),
    "settings.grid.hub.host": (C.GridSettings, "hub_host"),
    "settings.grid.hub.port": (C.GridSettings, "hub_port"),
    "settings.grid.hub.publish_port": (C.GridSettings, "publish_port"),
    "settings.grid.hub.subscribe_port": (C.GridSettings, "subscribe_port"),
}
OWNERS = {"settings": C.Settings, "settings.task_server": C.TaskServer,
          "settings.restart": C.RestartPolicy, "settings.browser": C.BrowserSettings,
          "settings.grid": C.GridSettings, "settings.grid.nodes[]": C.GridNode,
          "settings.notifications.telegram": C.TelegramSettings,
          "settings.notifications.webhook": C.WebhookSettings,
          "accounts[]": C.Account}


def plain(value):
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, tuple):
        return list(value)
    return str(value) if hasattr(value, "as_posix") else value


@pytest.mark.parametrize("name, node, rule", [leaf for leaf in ALL if "default" in leaf[1]],
                         ids=[n for n, node, _ in ALL if "default" in node])
def test_schema_defaults_are_the_dataclass_defaults(name, node, rule):
    owner, field = DEFAULTS.get(name) or (OWNERS[name.rsplit(".", 1)[0]], name.rsplit(".", 1)[1])
    assert plain(dataclass_default(owner, field)) == node["default"], name
    assert rule(node["default"] if not isinstance(node["default"], list) else []) is None


def test_required_keys_are_the_validators():
    assert tuple(SCHEMA["$defs"]["account"]["required"]) == C.ACCOUNT_REQUIRED
    assert set(SCHEMA["properties"]) == set(C.TOP_SCHEMA)


def test_the_shipped_accounts_yaml_points_editors_at_the_schema():
    first = (PROJECT_ROOT / "accounts.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=robot/schemas/accounts.schema.json"


def test_the_schema_is_valid_and_accepts_the_shipped_file():
    import jsonschema
    import yaml
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    shipped = yaml.safe_load((PROJECT_ROOT / "accounts.yaml").read_text())
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(shipped))
    assert not errors, [e.message for e in errors]
