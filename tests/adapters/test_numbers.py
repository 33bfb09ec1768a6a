"""Numbers as Indonesian broker UIs print them (adapters/numbers.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.numbers import parse_int, parse_number


@pytest.mark.parametrize(
    "text, fmt, expected",
    [
        ("2.700", "id", Decimal(2700)),
        ("1.234,5", "id", Decimal("1234.5")),
        ("Rp 12.525", "id", Decimal(12525)),
        ("Rp12.525,00", "id", Decimal("12525.00")),
        ("1.000.000", "id", Decimal(1000000)),
        ("-1.250", "id", Decimal(-1250)),
        ("  9.050 ", "id", Decimal(9050)),
        ("2,700.50", "plain", Decimal("2700.50")),
        ("2700", "plain", Decimal(2700)),
        ("12,525", "plain", Decimal(12525)),
        ("Rp 1,234,567", "plain", Decimal(1234567)),
        ("50", "id", Decimal(50)),
    ],
)
def test_parse_number(text, fmt, expected):
    assert parse_number(text, fmt) == expected


def test_the_format_decides_what_a_dot_means():
    assert parse_number("2.700", "id") == 2700
    assert parse_number("2.700", "plain") == Decimal("2.7")
    assert parse_number("2,5", "id") == Decimal("2.5")
    assert parse_number("2,500", "plain") == 2500


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Rp",
        "-",
        ".",
        ",",
        "abc",
        None,
        "1,2,3.4.5",
        "1.2.3",
        "1.5",
        "12.34.567",
        "9.050 (+0,5%)",
        "2,7,00",
        "--5",
        "1..000",
        "5-",
    ],
)
def test_bad_input_raises_value_error_in_id_format(text):
    with pytest.raises(ValueError):
        parse_number(text, "id")


@pytest.mark.parametrize(
    "text", ["1.2.3", "1..2", "--5", "2,5", "2,70,0", "1,234,5678", "9050 (+0.5%)"]
)
def test_bad_input_raises_value_error_in_plain_format(text):
    with pytest.raises(ValueError):
        parse_number(text, "plain")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format"):
        parse_number("2.700", "us")


def test_parse_int_reads_whole_numbers():
    assert parse_int("2.700", "id") == 2700
    assert parse_int("Rp 12.525", "id") == 12525
    assert parse_int("9.050,00", "id") == 9050
    assert parse_int("2,700", "plain") == 2700
    assert isinstance(parse_int("2.700", "id"), int)


@pytest.mark.parametrize("text, fmt", [("1.234,5", "id"), ("2,700.50", "plain"), ("0,01", "id")])
def test_parse_int_refuses_fractions(text, fmt):
    with pytest.raises(ValueError, match="not a whole number"):
        parse_int(text, fmt)
