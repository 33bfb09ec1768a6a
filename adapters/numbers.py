"""Numbers as Indonesian broker UIs print them: "2.700", "1.234,5", "Rp 12.525", "2,700.50"."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_KEEP = re.compile(r"[^0-9,.\-]")


def parse_number(text: str, fmt: str = "id") -> Decimal:
    """Parse a displayed number; ``fmt`` is "id" (dot thousands, comma decimals) or "plain"."""
    raw = _KEEP.sub("", str(text or ""))
    if not raw or raw in "-.,":
        raise ValueError(f"no number in {text!r}")
    if fmt == "id":
        raw = raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", "")
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
