"""Go duration strings (``720h``, ``30m``, ``1h30m``, ``1.5h``, ``90s``), as Velero's ttl uses.

:func:`parse` accepts what Go's ``time.ParseDuration`` accepts, except negative durations:
an optionally signed sequence of decimal numbers, each with a unit (``ns``, ``us``, ``µs``,
``ms``, ``s``, ``m``, ``h``), or a bare ``0``. :func:`to_string` writes Go's ``Duration.String()``
form (``720h0m0s``), which parses back to the same value (to the microsecond).
"""

from __future__ import annotations

import datetime
import decimal
import re

from strongroom import errors

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
#: Go's limit: an int64 of nanoseconds (about 290 years).
_MAX_NS = 2**63 - 1


class DurationError(errors.UsageError):
    """Not a Go duration, or a negative or too long one."""


def parse(text: str, what: str = "duration") -> datetime.timedelta:
    """The timedelta ``text`` denotes; :class:`DurationError` when it is not a valid one."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body == "0":
        return datetime.timedelta(0)
    if not body:
        raise DurationError(f"{what} {text!r}: not a duration (e.g. 720h, 30m, 1h30m)")
    total = decimal.Decimal(0)
    pos = 0
    while pos < len(body):
        match = _PART.match(body, pos)
        if match is None or match.group(1) in ("", "."):
            raise DurationError(f"{what} {text!r}: not a duration (e.g. 720h, 30m, 1h30m)")
        total += decimal.Decimal(match.group(1)) * _UNITS_NS[match.group(2)]
        pos = match.end()
    if total > _MAX_NS:
        raise DurationError(f"{what} {text!r}: longer than the longest duration (about 290y)")
    if text.startswith("-") and total:
        raise DurationError(f"{what} {text!r}: must not be negative")
    micros = int(total // 1000)
    return datetime.timedelta(microseconds=micros)


def to_string(value: datetime.timedelta) -> str:
    """Go's ``Duration.String()`` of ``value`` (microsecond precision)."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if micros < 0:
        return "-" + to_string(-value)
    if micros == 0:
        return "0s"
    if micros < 1_000_000:
        if micros % 1000 == 0:
            return f"{micros // 1000}ms"
        return _fraction(micros, 1000) + "ms" if micros >= 1000 else f"{micros}µs"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = _fraction(rest, 1_000_000) + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{minutes}m{seconds}"
    return seconds


def _fraction(amount: int, unit: int) -> str:
    whole, frac = divmod(amount, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{frac:0{digits}d}".rstrip("0")
