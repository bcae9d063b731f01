"""gitops.inputs.quantity: the Kubernetes quantity grammar, exact values, canonical formatting."""
from __future__ import annotations

from decimal import Decimal

import pytest

from gitops.inputs.quantity import (
    QuantityError, format_cpu, format_memory, millicores, parse_cpu, parse_memory, parse_quantity,
)

Mi, Gi = 2**20, 2**30


@pytest.mark.parametrize("text, expected", [
    ("500m", Decimal("0.5")), ("2", Decimal(2)), ("1.5", Decimal("1.5")), ("0.1", Decimal("0.1")),
    ("250m", Decimal("0.25")), ("1200m", Decimal("1.2")), (".5", Decimal("0.5")), ("+1", Decimal(1)),
    ("100n", Decimal("1e-7")), ("10u", Decimal("1e-5")), ("1k", Decimal(1000)),
    ("1e3", Decimal(1000)), ("1E-3", Decimal("0.001")), ("2", Decimal(2)),
])
def test_cpu_quantities(text, expected):
    assert parse_cpu(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("512Mi", 512 * Mi), ("1Gi", Gi), ("1.5Gi", 1536 * Mi), ("1228Mi", 1228 * Mi), ("64Ki", 65536),
    ("1G", 10**9), ("128M", 128 * 10**6), ("1Ti", 2**40), ("1000", 1000), ("8Gi", 8 * Gi),
])
def test_memory_quantities(text, expected):
    assert parse_memory(text) == expected


def test_numbers_are_accepted_as_plain_values():
    assert parse_quantity(2) == 2
    assert parse_quantity(0.5) == Decimal("0.5")


@pytest.mark.parametrize("bad", ["", "m", "Mi", "1.2.3", "1mi", "1KB", "abc", "-", "1 Gi", "1e", "0x10", True])
def test_invalid_quantities_are_rejected(bad):
    with pytest.raises(QuantityError):
        parse_quantity(bad)


def test_millicores_round_up_like_the_api_server():
    assert millicores("0.1505") == 151
    assert millicores("1") == 1000
    assert millicores("250m") == 250


@pytest.mark.parametrize("cores, text", [
    (Decimal("0.25"), "250m"), (Decimal(2), "2"), (Decimal("1.5"), "1500m"), (Decimal("0.0001"), "1m"),
])
def test_format_cpu(cores, text):
    assert format_cpu(cores) == text


@pytest.mark.parametrize("num_bytes, text", [
    (512 * Mi, "512Mi"), (2 * Gi, "2Gi"), (1536 * Mi, "1536Mi"), (1024, "1Ki"), (1000, "1000"),
    (10**9, "954Mi"),  # not a whole Mi: rounded up
])
def test_format_memory(num_bytes, text):
    assert format_memory(num_bytes) == text


@pytest.mark.parametrize("text", ["100m", "250m", "1", "2", "1500m", "3"])
def test_cpu_round_trip(text):
    assert format_cpu(parse_cpu(text)) == text


@pytest.mark.parametrize("text", ["64Mi", "256Mi", "1228Mi", "1Gi", "8Gi", "32Gi"])
def test_memory_round_trip(text):
    assert format_memory(parse_memory(text)) == text
