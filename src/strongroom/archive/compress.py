"""zstd compression of archives and small documents, padded with Padmé (docs/format.md §8).

Every function here produces, or reads, a sequence of zstd frames followed by a Padmé
skippable frame (:mod:`strongroom.archive.padding`); the stock ``zstd -d`` decodes the output.
Decoding is strict: any byte that is not part of a well-formed zstd or skippable frame, a
truncated frame, or a corrupt block raises
:class:`~strongroom.archive.errors.ArchiveFormatError`, and output beyond ``max_output`` raises
:class:`~strongroom.archive.errors.ArchiveLimitError` before it is held in memory.
"""

from __future__ import annotations

import collections.abc

import zstandard

from strongroom.archive import _source, errors, frames, padding

#: The largest window a reader accepts: what levels up to 19 use (libzstd's default is 128 MiB).
MAX_WINDOW = 1 << 23
#: Default decompressed-size limit for :func:`decompress_document`.
DEFAULT_MAX_DOCUMENT = 256 << 20
MIN_LEVEL, MAX_LEVEL = 1, 19


def compressor(level: int) -> zstandard.ZstdCompressor:
    """A compressor writing content sizes and checksums; ``level`` in 1..19."""
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"zstd level {level} is outside {MIN_LEVEL}..{MAX_LEVEL}")
    return zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True)


def compress_document(data: bytes, *, level: int = 3) -> bytes:
    """One zstd frame of ``data`` followed by the Padmé skippable frame."""
    frame = compressor(level).compress(data)
    return frame + padding.pad_to_padme(len(frame))


def compress_stream(
    chunks: collections.abc.Iterable[bytes], *, level: int = 3
) -> collections.abc.Iterator[bytes]:
    """One zstd frame of the concatenated ``chunks``, streamed, then the padding frame.

    Memory is bounded by the compression window whatever the total size.
    """
    cobj = compressor(level).compressobj()
    written = 0
    for chunk in chunks:
        out = cobj.compress(chunk)
        if out:
            written += len(out)
            yield out
    out = cobj.flush()
    written += len(out)
    yield out
    yield from padding.iter_padding(written)


def _check_limit(produced: int, max_output: int | None) -> None:
    if max_output is not None and produced > max_output:
        raise errors.ArchiveLimitError(f"zstd stream decompresses to more than {max_output} bytes")


def _decompress_frame(
    dctx: zstandard.ZstdDecompressor, batches: collections.abc.Iterable[bytes], offset: int
) -> collections.abc.Iterator[bytes]:
    dobj = dctx.decompressobj()
    try:
        for batch in batches:
            out = dobj.decompress(batch)
            if out:
                yield out
        complete = dobj.eof and not dobj.unused_data
    except zstandard.ZstdError as exc:
        raise errors.ArchiveFormatError(f"corrupt zstd frame at offset {offset}") from exc
    if not complete:
        raise errors.ArchiveFormatError(f"zstd frame at offset {offset} does not end where it says")


def decompress_stream(
    chunks: collections.abc.Iterable[bytes], *, max_output: int | None = None
) -> collections.abc.Iterator[bytes]:
    """The decompressed content of concatenated zstd and skippable frames, streamed.

    Each yielded piece is at most about 1 MiB; memory stays bounded whatever the input.
    """
    src = _source.Source(chunks, "zstd stream")
    dctx = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
    produced = 0
    while not src.at_end():
        offset = src.offset
        magic = src.read(4)
        number = int.from_bytes(magic, "little")
        if number & padding.SKIPPABLE_MASK == padding.SKIPPABLE_MAGIC:
            src.skip(int.from_bytes(src.read(4), "little"))
            continue
        if number != frames.ZSTD_MAGIC:
            raise errors.ArchiveFormatError(f"no zstd frame at offset {offset}")
        batches = frames.frame_batches(src, magic, offset)
        for out in _decompress_frame(dctx, batches, offset):
            produced += len(out)
            _check_limit(produced, max_output)
            yield out


def decompress_document(data: bytes, *, max_output: int = DEFAULT_MAX_DOCUMENT) -> bytes:
    """The decompressed content of a document written by :func:`compress_document`."""
    return b"".join(decompress_stream((data,), max_output=max_output))
