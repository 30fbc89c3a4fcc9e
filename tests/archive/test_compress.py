"""zstd documents and streams: round trips, the stock CLI, bombs and malformed input."""

from __future__ import annotations

import os
import struct
import subprocess
import tracemalloc

import hypothesis
import pytest
import zstandard
from hypothesis import strategies as st

from strongroom.archive import compress, errors, padding
from tests.archive import helpers

RLE_BLOCK = 1 << 17


def rle_bomb(blocks: int) -> bytes:
    """A valid zstd frame of ``blocks`` RLE blocks: 4 input bytes per 128 KiB of zeros."""
    header = struct.pack("<IBB", 0xFD2FB528, 0x00, (17 - 10) << 3)  # window 128 KiB
    block = ((RLE_BLOCK << 3) | (1 << 1)).to_bytes(3, "little") + b"\0"
    last = ((RLE_BLOCK << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"\0"
    return header + block * (blocks - 1) + last


@hypothesis.given(st.binary(max_size=5000), st.integers(1, 19))
def test_document_round_trip_and_padding(data: bytes, level: int) -> None:
    doc = compress.compress_document(data, level=level)
    assert compress.decompress_document(doc) == data
    assert padding.padme(len(doc)) == len(doc)
    kinds = [kind for kind, _ in helpers.split_frames(doc)]
    assert kinds == ["zstd", "skippable"]


@hypothesis.given(st.lists(st.binary(max_size=3000), max_size=20), st.integers(1, 50))
def test_stream_round_trip_in_any_chunking(chunks: list[bytes], cut: int) -> None:
    data = b"".join(compress.compress_stream(chunks))
    assert padding.padme(len(data)) == len(data)
    pieces = helpers.chunked(data, cut)
    assert b"".join(compress.decompress_stream(pieces)) == b"".join(chunks)


def test_stream_is_bounded_and_incremental() -> None:
    stream = compress.compress_stream(os.urandom(1 << 16) for _ in range(256))  # 16 MiB
    tracemalloc.start()
    try:
        total = sum(len(piece) for piece in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 16 << 20
    assert peak < 8 << 20


def test_stock_zstd_reads_documents_and_streams(tmp_path: os.PathLike[str]) -> None:
    data = helpers.configmap("ns", "cm") * 50
    for name, blob in [
        ("doc.zst", compress.compress_document(data)),
        ("stream.zst", b"".join(compress.compress_stream([data[:999], data[999:]]))),
    ]:
        path = os.path.join(tmp_path, name)
        with open(path, "wb") as f:
            f.write(blob)
        out = subprocess.run(["zstd", "-q", "-d", "-c", path], capture_output=True, check=True)
        assert out.stdout == data


def test_reads_what_the_stock_zstd_writes() -> None:
    data = helpers.configmap("ns", "cm", size=200_000)
    out = subprocess.run(["zstd", "-q", "-c", "-19"], input=data, capture_output=True, check=True)
    assert compress.decompress_document(out.stdout * 2) == data * 2


def test_handmade_rle_frame_is_valid_zstd() -> None:
    frame = rle_bomb(3)
    assert zstandard.ZstdDecompressor().decompress(frame, max_output_size=1 << 20) == bytes(
        3 * RLE_BLOCK
    )
    assert compress.decompress_document(frame) == bytes(3 * RLE_BLOCK)


def test_decompression_bomb_is_refused_in_bounded_memory() -> None:
    bomb = rle_bomb(8192)  # 32 KiB that would expand to 1 GiB
    tracemalloc.start()
    try:
        with pytest.raises(errors.ArchiveLimitError):
            for _ in compress.decompress_stream([bomb], max_output=64 << 20):
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
    with pytest.raises(errors.ArchiveLimitError):
        compress.decompress_document(bomb)


def test_limit_is_exact() -> None:
    doc = compress.compress_document(b"x" * 1000)
    assert compress.decompress_document(doc, max_output=1000) == b"x" * 1000
    with pytest.raises(errors.ArchiveLimitError):
        compress.decompress_document(doc, max_output=999)


def test_huge_window_is_refused() -> None:
    data = zstandard.ZstdCompressor(
        compression_params=zstandard.ZstdCompressionParameters(window_log=27)
    ).compress(os.urandom(1 << 10) * (1 << 14))  # a 16 MiB frame with a 128 MiB window
    with pytest.raises(errors.ArchiveFormatError):
        compress.decompress_document(data, max_output=1 << 30)


DOC = compress.compress_document(helpers.configmap("ns", "cm", size=3000))
FRAME = helpers.split_frames(DOC)[0]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"garbage!", id="garbage"),
        pytest.param(DOC + b"\0", id="one-trailing-byte"),
        pytest.param(DOC + b"\0" * 8, id="trailing-zeros"),
        pytest.param(DOC + b"junk-after-padding", id="trailing-junk"),
        pytest.param(struct.pack("<II", 0x184D2A50, 100) + b"short", id="truncated-skippable"),
        pytest.param(DOC[:3], id="truncated-magic"),
        pytest.param(struct.pack("<IB", 0xFD2FB528, 0x08), id="reserved-header-bit"),
        pytest.param(struct.pack("<IBB", 0xFD2FB528, 0, 0x38) + b"\x07\0\0", id="reserved-block"),
    ],
)
def test_malformed_input_is_refused(data: bytes) -> None:
    with pytest.raises(errors.ArchiveFormatError):
        compress.decompress_document(data)


FRAME_LEN = len(
    zstandard.ZstdCompressor(level=3, write_checksum=True, write_content_size=True).compress(
        FRAME[1]
    )
)


def test_every_truncation_is_refused() -> None:
    for cut in range(1, len(DOC)):
        if cut == FRAME_LEN:
            # A clean frame boundary: the padding is gone but the content is whole.
            assert compress.decompress_document(DOC[:cut]) == FRAME[1]
            continue
        with pytest.raises(errors.ArchiveFormatError):
            compress.decompress_document(DOC[:cut])


def test_every_flipped_byte_in_the_frame_is_caught_or_harmless() -> None:
    for i in range(FRAME_LEN):
        damaged = bytearray(DOC)
        damaged[i] ^= 0x01
        try:
            out = compress.decompress_document(bytes(damaged))
        except errors.ArchiveFormatError:
            continue
        assert out == FRAME[1], f"byte {i} changed the output silently"
