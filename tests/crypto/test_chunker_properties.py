"""Properties of the chunker (docs/format.md §10.1), mostly on the C extension: sizes, cuts that
depend only on content and key, local edits, streaming; and the Python chunker agreeing with it.

Inputs are drawn as a seed and a size (random bytes, runs of one byte, text), so that examples
of a few MiB cost nothing to draw.
"""

from __future__ import annotations

import concurrent.futures
import io
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.crypto import chunker

MiB = 1024 * 1024
KEY = (bytes(range(32)), bytes(range(100, 116)))
NATIVE = chunker.for_epoch(*KEY, native=True)
PYTHON = chunker.for_epoch(*KEY, native=False)
FEW = settings(max_examples=12, deadline=None)


def _data(seed: int, size: int) -> bytes:
    """Random bytes with, now and then, a run of one byte or a stretch of text inside."""
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    for _ in range(rng.randrange(3)):
        start, length = rng.randrange(size + 1), rng.randrange(chunker.MAX * 2)
        fill = bytes([rng.randrange(256)]) if rng.random() < 0.5 else b"lorem ipsum dolor %d\n"
        data[start : start + length] = (fill * (length // len(fill) + 1))[: size - start][:length]
    return bytes(data)


def _one_shot(cutter: chunker.Chunker, data: bytes) -> list[int]:
    """Every chunk's end: the complete chunks' cuts, then the remainder's end."""
    cuts = cutter.cuts(data)
    return cuts + [len(data)] if data and (not cuts or cuts[-1] < len(data)) else cuts


seeds = st.integers(0, 2**32)
sizes = st.one_of(st.integers(0, 2 * MiB), st.sampled_from([chunker.MIN - 1, chunker.MIN]))


@FEW
@given(seeds, sizes)
def test_chunk_lengths_are_within_bounds(seed: int, size: int) -> None:
    data = _data(seed, size)
    lengths = [len(c) for c in NATIVE.chunks(io.BytesIO(data))]
    assert sum(lengths) == size
    assert all(1 <= n <= chunker.MAX for n in lengths)
    assert all(n >= chunker.MIN for n in lengths[:-1])


@FEW
@given(seeds, st.integers(0, 2 * MiB), st.integers(1, MiB), st.integers(chunker.MIN // 2, MiB))
def test_streaming_in_any_blocks_gives_the_one_shot_chunks(
    seed: int, size: int, most: int, block: int
) -> None:
    data = _data(seed, size)
    source, rng = io.BytesIO(data), random.Random(seed)

    def read(n: int) -> bytes:  # short reads of any size, as a pipe gives
        return source.read(rng.randint(1, min(n, most)))

    ends = [len(c) for c in NATIVE.chunks(read, block=block)]
    assert [sum(ends[: k + 1]) for k in range(len(ends))] == _one_shot(NATIVE, data)


_POOL = concurrent.futures.ThreadPoolExecutor(2)


@settings(max_examples=40, deadline=None)
@given(
    seeds,
    st.one_of(st.integers(0, 3 * MiB), st.integers(2 * MiB, 3 * MiB)),
    st.integers(1, MiB),
    st.integers(chunker.MIN // 2, MiB),
    st.integers(1, 3),
    st.sampled_from(["mixed", "zeros", "text", "pattern"]),
)
def test_blocks_scanned_ahead_give_the_one_shot_chunks(
    seed: int, size: int, most: int, block: int, depth: int, shape: str
) -> None:
    """Blocks scanned apart and joined at the first cut both scans find: the same chunks,
    for blocks from half the smallest chunk up, any depth, and data with and without
    cuts of its own (a run of zeros is cut only at the largest chunk size)."""
    data = _shaped(shape, seed, size)
    source, rng = io.BytesIO(data), random.Random(seed)

    def read(n: int) -> bytes:
        return source.read(rng.randint(1, min(n, most)))

    ends = [len(c) for c in NATIVE.chunks_ahead(read, _POOL, block=block, depth=depth)]
    assert [sum(ends[: k + 1]) for k in range(len(ends))] == _one_shot(NATIVE, data)


def _shaped(shape: str, seed: int, size: int) -> bytes:
    if shape == "mixed":
        return _data(seed, size)
    if shape == "zeros":
        return bytes(size)
    if shape == "text":
        return (b"lorem ipsum dolor %d sit amet\n" * (size // 29 + 1))[:size]
    return (random.Random(seed).randbytes(4096) * (size // 4096 + 1))[:size]


@pytest.mark.parametrize("shape", ["mixed", "zeros", "text", "pattern"])
@pytest.mark.parametrize("block", [chunker.MIN // 2, 100_000, 256 << 10, 700_000, MiB])
def test_blocks_scanned_ahead_give_the_one_shot_chunks_of_a_few_mib(shape: str, block: int) -> None:
    for seed, depth in ((7, 1), (8, 2), (9, 3)):
        data = _shaped(shape, seed, 6 * MiB + 12345)
        ends = [len(c) for c in NATIVE.chunks_ahead(io.BytesIO(data), _POOL, block, depth)]
        assert [sum(ends[: k + 1]) for k in range(len(ends))] == _one_shot(NATIVE, data)


@FEW
@given(seeds, st.integers(chunker.MAX, 2 * MiB), st.integers(0, MiB))
def test_cuts_after_a_cut_depend_only_on_the_bytes_since(seed: int, head: int, size: int) -> None:
    prefix, data = _data(seed, head), _data(seed + 1, size)
    complete = prefix[: NATIVE.cuts(prefix)[-1]]  # ends at a cut (MAX at the latest)
    joined = NATIVE.cuts(complete + data)
    assert joined == NATIVE.cuts(complete) + [len(complete) + c for c in NATIVE.cuts(data)]


@FEW
@given(seeds, st.binary(min_size=32, max_size=32))
def test_another_key_cuts_random_data_elsewhere(seed: int, other_key: bytes) -> None:
    data = random.Random(seed).randbytes(MiB)
    other = chunker.for_epoch(other_key, KEY[1])
    if other_key != KEY[0]:
        assert NATIVE.cuts(data) != other.cuts(data)


def _first_common(old: list[int], new: list[int], after: int) -> int | None:
    return min(set(c for c in old if c > after) & set(new), default=None)


@FEW
@given(seeds, st.integers(0, 63), st.integers(1, 16))
def test_an_overwrite_changes_cuts_only_from_it_to_the_resynchronisation(
    seed: int, before_cut: int, width: int
) -> None:
    data = _data(seed, 2 * MiB)
    old = NATIVE.cuts(data)
    rng = random.Random(seed)
    # An edit inside the window of a cut in the middle, where it can move that cut.
    edit = max(1, rng.choice(old[1:-1] or [MiB]) - 1 - before_cut)
    edited = data[:edit] + rng.randbytes(width) + data[edit + width :]
    new = NATIVE.cuts(edited)
    assert [c for c in new if c <= edit] == [c for c in old if c <= edit]
    # Up to the next old cut the chunk starts where it did, so only a window holding edited
    # bytes (a cut at edit + 1 .. edit + width + 63) can decide otherwise.
    moved = edit + width + 63
    following = min((c for c in old if c > edit), default=len(data) + 1)
    assert all(c <= moved for c in new if edit < c < following)
    if following > moved and not any(edit < c < following for c in new):
        assert following in new or following > len(data)
    common = _first_common(old, new, edit)
    if common is not None:  # from there on the chunks are the same
        assert [c for c in new if c >= common] == [c for c in old if c >= common]


def test_edits_resynchronise_within_a_chunk_or_two() -> None:
    """Fixed inputs: how far past an edit near a cut the cuts agree again."""
    distances = []
    for seed in range(40):
        rng = random.Random(seed)
        data = rng.randbytes(4 * MiB)
        old = NATIVE.cuts(data)
        edit = rng.choice(old[2:6]) - rng.randrange(1, 64)
        new = NATIVE.cuts(data[:edit] + rng.randbytes(8) + data[edit + 8 :])
        common = _first_common(old, new, edit)
        assert common is not None
        distances.append(common - edit)
    assert statistics.median(distances) < chunker.MAX // 2
    assert max(distances) < 4 * chunker.MAX


@settings(max_examples=3, deadline=None)
@given(seeds, st.integers(chunker.MIN, 600 * 1024))
def test_the_python_chunker_cuts_where_the_c_one_does(seed: int, size: int) -> None:
    data = _data(seed, size)
    assert PYTHON.cuts(data) == NATIVE.cuts(data)
