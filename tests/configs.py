"""accounts.yaml for tests: the one builder of "a valid config with these accounts and settings"
(a uniquely named module, importable from every test folder and from bench/).

    write_config(folder, ["A1", "A2"])                          # two accounts on the fake broker
    write_config(folder, [("ACC_STOCKBIT", "stockbit")], {"poll_interval_ms": 2000},
                 base_url=sim.url)                              # a built-in broker on a simulator

The file is JSON (which is YAML), so paths and URLs need no quoting. Tests whose subject is the
text of a file (a broken variant, a line number in a message) write their own text instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The browserless fake broker (adapters/fake.py): a selectors file it never reads, and a URL
# nothing listens on.
FAKE = "fake"
FAKE_BROKER = {"adapter": "fake", "selectors": "fake.json", "base_url": "http://127.0.0.1:9"}

AccountSpec = str | tuple[str, str] | Mapping[str, Any]


def account_entry(spec: AccountSpec) -> dict[str, Any]:
    """An ``accounts`` entry from an id (on the fake broker), an (id, broker) pair, or a dict
    whose keys override the defaults (broker fake, profile_path profiles/<id>, enabled)."""
    if isinstance(spec, str):
        spec = {"id": spec}
    elif isinstance(spec, tuple):
        spec = {"id": spec[0], "broker": spec[1]}
    return {
        "id": spec["id"],
        "broker": FAKE,
        "profile_path": f"profiles/{spec['id']}",
        "enabled": True,
        **spec,
    }


def config(
    accounts: Iterable[AccountSpec] = ("A1",),
    settings: Mapping[str, Any] | None = None,
    brokers: Mapping[str, Mapping[str, Any]] | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The config as a dict. Every broker the accounts use gets an entry: the fake broker its
    definition, the others ``base_url`` when given; ``brokers`` adds to or overrides those."""
    entries = [account_entry(a) for a in accounts]
    defs: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(e["broker"] for e in entries):
        if name == FAKE:
            defs[name] = dict(FAKE_BROKER)
        elif base_url is not None:
            defs[name] = {"base_url": base_url}
    for name, spec in (brokers or {}).items():
        defs[name] = {**defs.get(name, {}), **spec}
    cfg: dict[str, Any] = {}
    if settings:
        cfg["settings"] = dict(settings)
    if defs:
        cfg["brokers"] = defs
    cfg["accounts"] = entries
    return cfg


def write_config(
    folder: str | Path,
    accounts: Iterable[AccountSpec] = ("A1",),
    settings: Mapping[str, Any] | None = None,
    brokers: Mapping[str, Mapping[str, Any]] | None = None,
    base_url: str | None = None,
    name: str = "accounts.yaml",
) -> Path:
    """Write ``config(...)`` to ``folder/name`` (and the fake broker's selectors file beside it
    when an account uses it); returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = config(accounts, settings, brokers, base_url)
    if cfg.get("brokers", {}).get(FAKE, {}).get("selectors") == FAKE_BROKER["selectors"]:
        (folder / FAKE_BROKER["selectors"]).write_text("{}")
    path = folder / name
    path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    return path
