"""Padmé lengths and the skippable frames that reach them."""

from __future__ import annotations

import math
import struct

import hypothesis
import pytest
import zstandard
from hypothesis import strategies as st

from strongroom.archive import compress, padding


def paper_padme(length: int) -> int:
    """Algorithm 1 of Nikitin et al. (PETS 2019), with floating-point logarithms."""
    e = math.floor(math.log2(length))
    s = math.floor(math.log2(e)) + 1
    last_bits = e - s
    bit_mask = (1 << last_bits) - 1
    return (length + bit_mask) & ~bit_mask


@pytest.mark.parametrize(
    ("length", "padded"),
    [
        (2, 2),
        (3, 3),
        (7, 7),
        (9, 10),
        (17, 18),
        (100, 104),
        (1000, 1024),
        (1025, 1088),
        (4097, 4352),
        (1_000_000, 1_015_808),
        (1 << 30, 1 << 30),
        ((1 << 30) + 1, (1 << 30) + (1 << 25)),
    ],
)
def test_padme_table(length: int, padded: int) -> None:
    assert padding.padme(length) == padded
    assert paper_padme(length) == padded


def test_padme_small_lengths() -> None:
    assert [padding.padme(n) for n in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError):
        padding.padme(-1)


@hypothesis.given(st.integers(min_value=2, max_value=1 << 40))
def test_padme_properties(length: int) -> None:
    padded = padding.padme(length)
    assert padded >= length
    assert padded - length <= 0.112 * length
    assert padding.padme(padded) == padded
    assert padded == paper_padme(length)


def test_padme_leaks_few_bits() -> None:
    """Between 1 MiB and 2 MiB there are few distinct padded lengths (O(log log n) bits)."""
    sizes = {padding.padme(n) for n in range(1 << 20, 1 << 21, 97)}
    assert len(sizes) <= 33  # 2**S steps per octave, S = floor(log2 20) + 1 = 5, plus 2 MiB


@hypothesis.given(st.integers(min_value=0, max_value=1 << 34))
def test_padding_reaches_a_padme_length(written: int) -> None:
    total = padding.padded_length(written)
    assert padding.padding_size(written) >= padding.MIN_PADDING
    assert padding.padme(total) == total
    assert total == padding.padme(written + padding.MIN_PADDING)


@pytest.mark.parametrize("written", [0, 1, 47, 1000, 123_456])
def test_pad_to_padme_is_one_zero_skippable_frame(written: int) -> None:
    frame = padding.pad_to_padme(written)
    assert written + len(frame) == padding.padded_length(written)
    magic, size = struct.unpack_from("<II", frame)
    assert magic == 0x184D2A50
    assert size == len(frame) - 8
    assert frame[8:] == bytes(size)


def test_skippable_frame_sizes() -> None:
    assert padding.skippable_frame(8) == struct.pack("<II", 0x184D2A50, 0)
    assert len(padding.skippable_frame(100_000)) == 100_000
    with pytest.raises(ValueError):
        padding.skippable_frame(7)


def test_stock_zstd_library_skips_the_frame() -> None:
    payload = zstandard.ZstdCompressor().compress(b"payload")
    data = payload + padding.pad_to_padme(len(payload))
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    assert reader.read() == b"payload"


@pytest.mark.parametrize("magic", [0x184D2A50, 0x184D2A57, 0x184D2A5F])
def test_decoder_skips_every_skippable_magic(magic: int) -> None:
    frame = struct.pack("<II", magic, 5) + b"abcde"
    doc = compress.compress_document(b"one")
    assert compress.decompress_document(frame + doc + frame + doc) == b"oneone"
