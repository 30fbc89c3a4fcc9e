"""Padmé lengths (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
Communication with PURBs", PETS 2019): a stored size that reveals O(log log n) bits of n.

Used by the archive's zstd padding (docs/format.md §8) and by volume packs (§10.2).
"""

from __future__ import annotations


def padme(length: int) -> int:
    """The Padmé length of ``length``: round up, keeping the top ``floor(log2 E) + 1`` bits.

    With ``E = floor(log2 length)``, the low ``E - floor(log2 E) - 1`` bits are rounded up.
    ``padme(n) >= n``; the overhead is at most about 11.1 % and shrinks as ``n`` grows.
    """
    if length < 0:
        raise ValueError(f"negative length {length}")
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    low_bits = exponent - exponent.bit_length()
    mask = (1 << low_bits) - 1
    return (length + mask) & ~mask
