"""Kubernetes resource quantities ('500m', '2', '1.5', '512Mi', '1G', '1e3') as exact numbers.

Why not ``kubernetes.utils.quantity.parse_quantity``: it is the trusted reference, but it
ships inside the ``kubernetes`` client package, which would add the client and its
transitive dependencies (urllib3, requests, requests-oauthlib, google-auth,
websocket-client, durationpy, ...) to a generator that never talks to a cluster, for one
20-line function. This module implements the same grammar (the apimachinery
``resource.Quantity`` serialization: sign, decimal number, then a binary suffix
Ki..Ei, a decimal SI suffix n..E, or a decimal exponent) with exact ``Decimal``
arithmetic, and tests/test_capacity_quantity.py checks it against the values the
apimachinery documentation gives.
"""
from __future__ import annotations

import re
from decimal import Decimal, ROUND_CEILING

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exp>[eE][+-]?[0-9]+)|(?P<si>[numkMGTPE]?))$"
)


class QuantityError(ValueError):
    """Not a valid Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Decimal:
    """Exact value of a quantity in base units (cores for CPU, bytes for memory)."""
    if isinstance(value, bool):
        raise QuantityError(f"expected a quantity, found {value!r}")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError(f"expected a Kubernetes quantity like 500m, 2, 512Mi or 1Gi, found {value!r}")
    number = Decimal(match["number"])
    if match["binary"]:
        return number * _BINARY[match["binary"]]
    if match["exp"]:
        return number * (Decimal(10) ** int(match["exp"][1:]))
    return number * _DECIMAL[match["si"] or ""]


def quantity_or_none(value) -> Decimal | None:
    """``parse_quantity`` for checks that report a malformed value themselves: None instead of raising."""
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def parse_cpu(value: str | int | float) -> Decimal:
    """CPU in cores: '500m' -> 0.5, '2' -> 2."""
    return parse_quantity(value)


def parse_memory(value: str | int | float) -> Decimal:
    """Memory in bytes: '512Mi' -> 536870912, '1G' -> 1000000000."""
    return parse_quantity(value)


def millicores(value: str | int | float) -> int:
    """CPU as whole millicores, rounded up as the API server does ('0.1505' -> 151)."""
    return int((parse_cpu(value) * 1000).to_integral_value(rounding=ROUND_CEILING))


def format_cpu(cores: Decimal | int | float) -> str:
    """Canonical CPU quantity: whole cores as '2', anything else in millicores as '1500m'."""
    milli = int((Decimal(str(cores)) * 1000).to_integral_value(rounding=ROUND_CEILING))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_memory(num_bytes: Decimal | int | float) -> str:
    """Canonical memory quantity: the largest binary suffix that is exact ('1536Mi', '2Gi'),
    rounding up to whole Mi when no suffix is exact."""
    value = int(Decimal(str(num_bytes)).to_integral_value(rounding=ROUND_CEILING))
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if value and value % unit == 0:
            return f"{value // unit}{suffix}"
    if value < _BINARY["Ki"]:
        return str(value)
    mib = -(-value // _BINARY["Mi"])
    return f"{mib}Mi"


def human_cpu(cores: Decimal) -> str:
    """For reports: cores with two decimals ('27.25')."""
    return f"{Decimal(cores).quantize(Decimal('0.01'), rounding=ROUND_CEILING)}"


def human_memory(num_bytes: Decimal) -> str:
    """For reports: GiB with two decimals and the unit ('37.12Gi')."""
    gib = Decimal(num_bytes) / _BINARY["Gi"]
    return f"{gib.quantize(Decimal('0.01'), rounding=ROUND_CEILING)}Gi"


def format_quantity(value: Decimal, resource: str) -> str:
    """A quantity for a finding's message, in the unit people read for ``resource`` (``limits.memory`` -> Gi/Mi/Ki,
    ``requests.cpu`` -> millicores below one core)."""
    if "memory" in resource or "storage" in resource:
        for unit in ("Gi", "Mi", "Ki"):
            scaled = value / _BINARY[unit]
            if scaled >= 1:
                return f"{scaled.quantize(Decimal('0.01')).normalize():f}{unit}"
        return f"{value:f}"
    if "cpu" in resource:
        if value < 1:
            return f"{(value * 1000).quantize(Decimal(1)):f}m"
        return f"{value.quantize(Decimal('0.001')).normalize():f}"
    return f"{value.normalize():f}"
