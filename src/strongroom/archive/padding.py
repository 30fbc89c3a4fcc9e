"""Padmé padding with zstd skippable frames (docs/format.md §8, "Padding").

Every zstd payload ends with one skippable frame: magic ``0x184D2A50``, a 4-byte little-endian
content length, then that many zero bytes. Decoders, the stock ``zstd -d`` included, skip it.
The frame brings the stored length to ``padme(written + MIN_PADDING)``: a Padmé length (Nikitin
et al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs", PETS
2019), so the stored size reveals O(log log n) bits of the payload size, and the padding frame
is never shorter than :data:`MIN_PADDING` bytes, so every payload carries one whatever its size.

The smallest skippable frame zstd allows is its 8-byte header (:data:`FRAME_HEADER`);
:data:`MIN_PADDING` is 16 as the format requires. A frame holds at most 2**32 - 1 content
bytes; longer padding (payloads past about 36 GiB) is several consecutive skippable frames.
"""

from __future__ import annotations

import collections.abc
import struct

from strongroom.crypto.padme import padme

SKIPPABLE_MAGIC = 0x184D2A50
#: Magic numbers 0x184D2A50 to 0x184D2A5F all mark skippable frames; readers accept any.
SKIPPABLE_MASK = 0xFFFFFFF0
FRAME_HEADER = 8
MIN_PADDING = 16
_MAX_CONTENT = 0xFFFFFFFF
_ZERO_CHUNK = 1 << 16

__all__ = [
    "iter_padding",
    "iter_skippable",
    "pad_to_padme",
    "padded_length",
    "padding_size",
    "padme",
    "skippable_frame",
]


def padded_length(written: int) -> int:
    """The stored length of a payload of ``written`` bytes once padded."""
    if written < 0:
        raise ValueError(f"negative length {written}")
    return padme(written + MIN_PADDING)


def padding_size(written: int) -> int:
    """How many bytes of skippable frame(s) follow a payload of ``written`` bytes."""
    return padded_length(written) - written


def _frame_sizes(size: int) -> list[int]:
    if size < FRAME_HEADER:
        raise ValueError(f"a skippable frame takes at least {FRAME_HEADER} bytes, not {size}")
    sizes = []
    while size > FRAME_HEADER + _MAX_CONTENT:
        take = min(FRAME_HEADER + _MAX_CONTENT, size - FRAME_HEADER)
        sizes.append(take)
        size -= take
    sizes.append(size)
    return sizes


def iter_skippable(size: int) -> collections.abc.Iterator[bytes]:
    """Skippable frame(s) of exactly ``size`` bytes in total, in pieces of at most 64 KiB."""
    for frame in _frame_sizes(size):
        yield struct.pack("<II", SKIPPABLE_MAGIC, frame - FRAME_HEADER)
        remaining = frame - FRAME_HEADER
        while remaining:
            piece = min(remaining, _ZERO_CHUNK)
            yield bytes(piece)
            remaining -= piece


def skippable_frame(size: int) -> bytes:
    """A skippable frame of exactly ``size`` bytes (>= :data:`FRAME_HEADER`) of zero content."""
    return b"".join(iter_skippable(size))


def iter_padding(written: int) -> collections.abc.Iterator[bytes]:
    """The padding after ``written`` payload bytes, in pieces (bounded memory)."""
    return iter_skippable(padding_size(written))


def pad_to_padme(written: int) -> bytes:
    """The skippable frame that brings ``written`` bytes to :func:`padded_length`."""
    return skippable_frame(padding_size(written))
