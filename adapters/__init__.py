"""Broker adapters: one module per broker flow over a shared selector-driven base."""

from __future__ import annotations

import importlib

from robot.errors import Problem

from .base import BrokerAdapter

ALIASES = {"generic": "adapters.generic", "fake": "adapters.fake"}


def create_adapter(account, broker, settings, clock) -> BrokerAdapter:
    """Instantiate the adapter named by ``broker.adapter`` (a module exposing ``ADAPTER``)."""
    module_name = ALIASES.get(broker.adapter, broker.adapter)
    module = importlib.import_module(module_name)
    cls = module.ADAPTER
    return cls(account=account, broker=broker, settings=settings, clock=clock)


def selectors_problems(broker, steps: set[str]) -> list[Problem]:
    """Every problem of ``broker``'s selectors file for an adapter that knows ``steps``: the
    configuration's check reports them before the day starts, not a crash-looping worker."""
    from .selectors import SelectorsError, load_selectors

    try:
        load_selectors(broker.selectors, broker.name, steps)
    except SelectorsError as exc:
        return list(exc.problems)
    return []
