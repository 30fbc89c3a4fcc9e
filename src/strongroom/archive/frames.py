"""The structure of zstd frames (RFC 8878 §3.1), read without decompressing.

:func:`frame_batches` walks one zstd frame's header and block headers and returns its bytes in
batches whose decompressed size is bounded *before* decompression: a raw or RLE block declares
its output size and a compressed block produces at most :data:`MAX_BLOCK` bytes. That bounds the
memory of a decompression bomb (an RLE block of 4 bytes expands to 128 KiB) and finds the exact
end of every frame, so truncation and trailing garbage are detected rather than ignored.
"""

from __future__ import annotations

import collections.abc

from strongroom.archive import _source, errors

ZSTD_MAGIC = 0xFD2FB528
#: The largest block content zstd allows (Block_Maximum_Size).
MAX_BLOCK = 1 << 17
#: Batches are cut once their decompressed size may reach this.
BATCH_OUTPUT = 1 << 20

_RAW, _RLE, _COMPRESSED, _RESERVED = 0, 1, 2, 3
_DICT_ID_SIZES = (0, 1, 2, 4)
_CONTENT_SIZE_SIZES = (0, 2, 4, 8)


def header_rest_size(descriptor: int, offset: int) -> int:
    """Bytes of frame header after the magic and the descriptor byte ``descriptor``."""
    if descriptor & 0x08:
        raise errors.ArchiveFormatError(f"zstd frame at offset {offset}: reserved header bit set")
    single_segment = bool(descriptor & 0x20)
    content_size_flag = descriptor >> 6
    content_size = _CONTENT_SIZE_SIZES[content_size_flag]
    if content_size_flag == 0 and single_segment:
        content_size = 1
    window = 0 if single_segment else 1
    return window + _DICT_ID_SIZES[descriptor & 0x03] + content_size


def frame_batches(
    src: _source.Source, magic: bytes, offset: int
) -> collections.abc.Iterator[bytes]:
    """The bytes of the zstd frame at ``offset`` whose magic ``src`` has just yielded."""
    descriptor = src.read(1)
    has_checksum = bool(descriptor[0] & 0x04)
    parts = [magic, descriptor, src.read(header_rest_size(descriptor[0], offset))]
    output = 0
    last = False
    while not last:
        block_header = src.read(3)
        value = int.from_bytes(block_header, "little")
        last = bool(value & 1)
        block_type = (value >> 1) & 3
        size = value >> 3
        if block_type == _RESERVED or size > MAX_BLOCK:
            raise errors.ArchiveFormatError(f"zstd frame at offset {offset}: invalid block")
        if output + (size if block_type != _COMPRESSED else MAX_BLOCK) > BATCH_OUTPUT:
            yield b"".join(parts)
            parts, output = [], 0
        parts.append(block_header)
        parts.append(src.read(1 if block_type == _RLE else size))
        output += size if block_type != _COMPRESSED else MAX_BLOCK
    if has_checksum:
        parts.append(src.read(4))
    yield b"".join(parts)
