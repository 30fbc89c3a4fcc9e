"""Bech32 (BIP 173 checksum, not bech32m) as age uses it for keys.

age lifts BIP 173's 90-character limit and writes identities in upper case; the checksum is the
original bech32 constant 1. Only what age needs is here: encode and decode of 8-bit data.
"""

from __future__ import annotations

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """Malformed bech32 text (the message never echoes the text)."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or (acc << (to_bits - bits)) & maxv:
        raise Bech32Error("bech32: non-zero padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under human-readable part ``hrp`` (lower case output)."""
    values = _convert_bits(data, 8, 5, pad=True)
    poly = _polymod(_hrp_expand(hrp) + values + [0] * 6) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Return ``(hrp, data)``; the hrp keeps the case of ``text``. Mixed case is refused."""
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("bech32: mixed case")
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise Bech32Error("bech32: invalid character")
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise Bech32Error("bech32: separator misplaced")
    hrp = text[:pos]
    lower = text.lower()
    try:
        values = [_CHARSET.index(c) for c in lower[pos + 1 :]]
    except ValueError:
        raise Bech32Error("bech32: invalid data character") from None
    if _polymod(_hrp_expand(lower[:pos]) + values) != 1:
        raise Bech32Error("bech32: bad checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
