"""Damaged input never escapes the error tree: the parsers raise ArchiveFormatError or succeed."""

from __future__ import annotations

import contextlib

import hypothesis
from hypothesis import strategies as st

from strongroom.archive import compress, errors, reader, writer
from tests.archive import helpers

ITEMS = [
    *helpers.shop_items(6, every_secret=3),
    writer.Item("configmaps", "ns", "\u00e9" * 120, b'{"pax":true}'),
]
ARCHIVE = helpers.write(ITEMS, frame_size=2048)
TAR = b"".join(c for kind, c in helpers.split_frames(ARCHIVE) if kind == "zstd")

edits = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=8)


def mutate(data: bytes, changes: list[tuple[int, int]], cut: int | None) -> bytes:
    damaged = bytearray(data)
    for position, value in changes:
        damaged[position % len(damaged)] = value
    return bytes(damaged[:cut] if cut is not None else damaged)


def read_or_refuse(data: bytes) -> None:
    with contextlib.suppress(errors.ArchiveFormatError):
        for _ in reader.iter_items(helpers.chunked(data, 777), max_item_size=1 << 20):
            pass


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(edits, st.none() | st.integers(0, len(TAR)))
def test_damaged_tar_is_read_or_refused(changes: list[tuple[int, int]], cut: int | None) -> None:
    read_or_refuse(compress.compress_document(mutate(TAR, changes, cut)))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(edits, st.none() | st.integers(0, len(ARCHIVE)))
def test_damaged_zstd_is_read_or_refused(changes: list[tuple[int, int]], cut: int | None) -> None:
    read_or_refuse(mutate(ARCHIVE, changes, cut))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    st.sampled_from([b"", b"\x28\xb5\x2f\xfd", b"\x50\x2a\x4d\x18"]), st.binary(max_size=600)
)
def test_random_bytes_are_refused_or_decoded(magic: bytes, rest: bytes) -> None:
    data = magic + rest
    with contextlib.suppress(errors.ArchiveFormatError):
        compress.decompress_document(data, max_output=1 << 20)
