"""Stockbit: the generic flow (fill, submit, toast) with native TP/CL on the order form."""

from .generic import SelectorAdapter


class StockbitAdapter(SelectorAdapter):
    pass


ADAPTER = StockbitAdapter
