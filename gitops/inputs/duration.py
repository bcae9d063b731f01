"""Durations as the environment files write them (``soak: 24h``): one parser, one formatter.

Grammar: one or more of ``<n>d``, ``<n>h``, ``<n>m``, ``<n>s`` in that order (``24h``, ``1h30m``,
``2d``, ``0s``), the same the environment schema's ``soak`` pattern accepts. A day is 24 hours
(a soak is elapsed time, not calendar days).
"""
from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` -> ``timedelta(hours=1, minutes=30)``; ValueError (plain words) on anything else."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"expected a duration such as 24h, 1h30m, 2d or 0s (units d, h, m, s, largest first), found {text!r}")
    seconds = sum(int(n) * size for n, (_, size) in zip(match.groups(), _UNITS) if n)
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest text :func:`parse_duration` reads back to the same whole seconds (``"1d2h"``, ``"0s"``)."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        raise ValueError(f"expected a duration of zero or more, found {value}")
    parts = []
    for unit, size in _UNITS:
        n, seconds = divmod(seconds, size)
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"
