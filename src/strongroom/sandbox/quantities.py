"""Resource quantities (``1Gi``, ``500M``, ``1.5G``, ``2e3``) as whole numbers of bytes.

The grammar is Kubernetes' ``resource.Quantity``: a signed decimal number, then a binary suffix
(Ki Mi Gi Ti Pi Ei), a decimal one (k M G T P E, or m for thousandths) or a decimal exponent
(e3, E-2). Storage sizes are compared in whole bytes, rounded up as the API server rounds a
fractional byte count.
"""

from __future__ import annotations

import decimal
import re

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18, "m": -3, "": 0}
_PATTERN = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPEm]|[eE][+-]?[0-9]+)?"
)


def parse(text: str) -> int | None:
    """The quantity in bytes, rounded up; None if ``text`` is not a quantity."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        return None
    number = decimal.Decimal(match["number"])
    suffix = match["suffix"] or ""
    with decimal.localcontext() as context:
        context.prec = 80
        if suffix in _BINARY:
            value = number * (1024 ** _BINARY[suffix])
        elif suffix in _DECIMAL:
            value = number.scaleb(_DECIMAL[suffix])
        else:
            exponent = int(suffix[1:])
            if abs(exponent) > 30:
                return None
            value = number.scaleb(exponent)
        return int(value.to_integral_value(rounding=decimal.ROUND_CEILING))
