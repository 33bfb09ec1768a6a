"""YAML (and JSON, which YAML reads too) as plain Python data, with the line and column of every
key, so that every problem found in a file can name its line.

Only plain data comes out: YAML's merge keys, keys that are lists or mappings and duplicate keys
are problems, and an alias expanding past MAX_NODES values (a "billion laughs" file) stops the
read. A value YAML cannot construct (2026-13-01 looks like a date and is none) is kept as its
text, for the validator to name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigError, Problem
from .schema import dotted

MAX_NODES = 100_000  # YAML values after alias expansion: a "billion laughs" file stops here
MERGE_TAG = "tag:yaml.org,2002:merge"


class Located:
    """Plain Python data from YAML, plus the line/column of every key path."""

    def __init__(self, source: str):
        self.source = source
        self.marks: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.bad: set[tuple] = set()  # the key paths a problem was reported at
        self._constructor = SafeConstructor()
        self._nodes = 0

    def add(self, path: tuple, message: str, at: tuple | None = None) -> None:
        """A problem at the key ``path`` (located at ``at`` when the shown path differs)."""
        line, col = self.locate(at if at is not None else path)
        self.problems.append(Problem(self.source, dotted(path), message, line, col))
        self.bad.add(path)

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        """The line and column of a key, or of its nearest parent in the file (a missing key)."""
        for i in range(len(path), -1, -1):
            if path[:i] in self.marks:
                return self.marks[path[:i]]
        return None, None

    def plain(self, node: Node, path: tuple = ()) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ConfigError(
                Problem(
                    self.source,
                    "",
                    f"has more than {MAX_NODES} values once its "
                    "aliases are expanded: is an alias (*name) nested in itself "
                    "many times?",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                )
            )
        self.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            out: dict = {}
            for key_node, value_node in node.value:
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key_node.tag == MERGE_TAG:
                    raise ConfigError(
                        Problem(
                            self.source,
                            dotted(path) or "",
                            "YAML merge keys "
                            "(<<: *name) are not supported: write the keys out, "
                            "or alias a whole value (limits: *name)",
                            *where,
                        )
                    )
                if not isinstance(key_node, ScalarNode):
                    self.marks[path + ("?",)] = where
                    self.add(path + ("?",), "a key must be a plain word, not a list or mapping")
                    continue
                try:
                    key = self._constructor.construct_object(key_node, deep=True)
                except (ValueError, yaml.YAMLError):
                    key = key_node.value  # e.g. a date key 2027-02-30: the checker names it
                if isinstance(key_node, ScalarNode) and key in out:
                    self.marks[path + (key,)] = (
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                    )
                    self.add(path + (key,), "duplicate key")
                    continue
                out[key] = self.plain(value_node, path + (key,))
                # point at the key itself, which is where a reader looks for a misspelling
                self.marks[path + (key,)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            return out
        if isinstance(node, SequenceNode):
            return [self.plain(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            # e.g. 2026-13-01 looks like a date but is none: keep the text for the checker to name
            return node.value


def read_yaml(path: Path, empty: str) -> tuple[Located, Any]:
    """A YAML file as plain data with the line of every key; unreadable, not UTF-8, not YAML or
    ``empty`` (the message for a file without content) raise ConfigError."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(source, "", "file not found")) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            Problem(
                source,
                "",
                f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}): save it as UTF-8",
                line,
            )
        ) from None
    except OSError as exc:
        raise ConfigError(Problem(source, "", f"cannot be read: {exc.strerror or exc}")) from None
    doc = Located(source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise ConfigError(Problem(source, "", "is nested too deeply")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            Problem(
                source,
                "",
                f"is not valid YAML: {getattr(exc, 'problem', exc)}",
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
            )
        ) from None
    if node is None:
        raise ConfigError(Problem(source, "", empty))
    try:
        raw = doc.plain(node)
    except RecursionError:
        raise ConfigError(Problem(source, "", "is nested too deeply")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(source, "", f"is not valid YAML: {exc}")) from None
    return doc, raw


def locate_keys(source: str, text: str) -> Located:
    """The line and column of every key path of a JSON (or YAML) text already known to parse,
    e.g. by ``json``: a Located whose ``locate`` answers. It knows no line when YAML 1.1 cannot
    read the text (JSON it does not take), and is then still usable."""
    doc = Located(source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            doc.plain(node)
    except (yaml.YAMLError, ConfigError, RecursionError, ValueError):
        doc.marks.clear()
    return doc
