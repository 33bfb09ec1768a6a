"""docs/SETTINGS.md is generated from robot/schemas/accounts.schema.json, the schema `robot check`
validates accounts.yaml with and the dataclasses of robot/config.py take their defaults from; the
schema is valid, accepts the shipped file, and editors find it from the file's first line."""

from __future__ import annotations

from robot import events
from robot.config import PROJECT_ROOT
from robot.settings_reference import load_schema, render

SCHEMA = load_schema()


def test_docs_settings_md_is_the_generated_reference():
    text = (PROJECT_ROOT / "docs" / "SETTINGS.md").read_text(encoding="utf-8")
    assert text == render(), "regenerate: python -m robot.settings_reference > docs/SETTINGS.md"


def test_the_shipped_accounts_yaml_points_editors_at_the_schema():
    first = (PROJECT_ROOT / "accounts.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=robot/schemas/accounts.schema.json"
    assert (PROJECT_ROOT / "robot" / "schemas" / "accounts.schema.json").is_file()


def test_the_schema_is_valid_and_accepts_the_shipped_file():
    """With the plain library, as an editor or another tool would use the file."""
    import jsonschema
    import yaml

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    shipped = yaml.safe_load((PROJECT_ROOT / "accounts.yaml").read_text())
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(shipped))
    assert not errors, [e.message for e in errors]


def test_the_notification_event_names_are_the_registered_types():
    """The schema lists the event types (editors complete them): the same as robot/events.py."""
    channels = SCHEMA["properties"]["settings"]["properties"]["notifications"]["properties"]
    for channel in ("telegram", "webhook"):
        names = channels[channel]["properties"]["events"]["propertyNames"]["enum"]
        assert names == ["default", *events.EVENT_TYPES], channel
