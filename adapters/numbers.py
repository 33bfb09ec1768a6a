"""Numbers as Indonesian broker UIs print them: "2.700", "1.234,5", "Rp 12.525", "2,700.50"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_TOKEN = re.compile(r"[-\d.,]*\d[-\d.,]*")  # a run of digits, separators and signs
# Thousands groups of exactly three digits (or none at all), then an optional decimal part.
_SHAPE = {
    "id": re.compile(r"-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"),
    "plain": re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"),
}


def parse_number(text: str, fmt: str = "id") -> Decimal:
    """Parse a displayed number; ``fmt`` is "id" (dot thousands, comma decimals) or "plain"."""
    tokens = _TOKEN.findall(str(text or ""))
    if not tokens:
        raise ValueError(f"no number in {text!r}")
    if len(tokens) > 1:
        # "9.050 (+0,5%)": gluing the pieces together would read 90.500.005
        raise ValueError(f"more than one number in {text!r}")
    raw = tokens[0]
    if fmt not in _SHAPE:
        raise ValueError(f"unknown number format {fmt!r}")
    if not _SHAPE[fmt].fullmatch(raw):
        # "1.2.3", "1.5" in the id format: a misread would be a price off tenfold or more
        raise ValueError(f"cannot read {text!r} as a number ({fmt} format)")
    raw = raw.replace(".", "").replace(",", ".") if fmt == "id" else raw.replace(",", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"cannot read {text!r} as a number") from None


def parse_int(text: str, fmt: str = "id") -> int:
    """A whole number (rupiah, lots); refuses fractions rather than rounding money silently."""
    value = parse_number(text, fmt)
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)
