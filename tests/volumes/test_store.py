"""Packs and indexes on real storage: round trips, padding, and every tamper case of §10.2-10.3."""

from __future__ import annotations

import os
import random

import pytest

from strongroom.crypto.padme import padme
from strongroom.repository import errors, repo
from strongroom.repository.volumes import catalog, indexes, keys, packs, store
from strongroom.storage import base


def _chunks(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.randrange(1, 64 << 10)
        if i % 2:
            out.append(rng.randbytes(size))
        else:
            line = f"{i} INFO request served path=/api/v1/items/{i}\n".encode()
            out.append((line * (size // len(line) + 1))[:size])
    return out


def _write(
    backend: base.Backend, vk: keys.VolumeKeys, chunks: list[bytes], target: int = 96 << 10
) -> store.PackWriter:
    writer = store.PackWriter(backend, vk, catalog.Catalog(), pack_target=target)
    for chunk in chunks:
        chunk_id = vk.chunk_id(chunk)
        if not writer.known(chunk_id):
            stored, flags = packs.compress(chunk)
            writer.add(chunk_id, stored, flags, len(chunk))
    writer.close()
    return writer


def test_chunks_round_trip_through_packs_and_indexes(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    chunks = _chunks(40, seed=1)
    writer = _write(backend, vk, chunks + chunks[:5])  # the repeats are deduplicated
    assert len(writer.packs) > 2 and writer.indexes
    loaded = catalog.load(backend, vk)
    assert not loaded.problems and len(loaded) == 40
    reader = store.ChunkReader(backend, vk, loaded)
    for chunk in chunks:
        assert reader.read(vk.chunk_id(chunk)) == chunk
    for pack_id in writer.packs:
        size = backend.stat(packs.name(pack_id)).size
        assert size == padme(size), "every pack is stored at a Padmé length"
    compressed = [loaded.get(vk.chunk_id(c)) for c in chunks[::2]]
    assert all(w is not None and w.entry.flags & packs.FLAG_ZSTD for w in compressed)
    raw = [loaded.get(vk.chunk_id(c)) for c in chunks[1::2]]
    assert all(w is not None and not w.entry.flags for w in raw)


def test_chunks_are_spread_over_packs_at_random(backend: base.Backend, vk: keys.VolumeKeys) -> None:
    chunks = [os.urandom(1000) for _ in range(200)]
    writer = _write(backend, vk, chunks, target=40 << 10)
    loaded = catalog.load(backend, vk)
    order = [loaded.get(vk.chunk_id(c)) for c in chunks]
    packs_in_order = [w.pack_id for w in order if w is not None]
    switches = sum(a != b for a, b in zip(packs_in_order, packs_in_order[1:], strict=False))
    assert len(writer.packs) >= 4
    assert switches > 40, "consecutive chunks land in either open pack"


def test_no_plaintext_and_no_chunk_id_in_storage(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    secret = b"correct horse battery staple " * 50
    writer = _write(backend, vk, [secret])
    chunk_id = vk.chunk_id(secret)
    for name in [packs.name(p) for p in writer.packs] + [indexes.name(i) for i in writer.indexes]:
        with backend.get(name) as reader:
            data = store.read_all(reader)
        assert b"correct horse" not in data and chunk_id not in data


def _flip(backend: base.Backend, name: str, offset: int) -> None:
    with backend.get(name) as reader:
        data = bytearray(store.read_all(reader))
    data[offset] ^= 0x01
    backend.delete(name)
    backend.put(name, bytes(data))


def _replace(backend: base.Backend, name: str, data: bytes) -> None:
    backend.delete(name)
    backend.put(name, data)


def test_a_flipped_blob_byte_fails_only_that_chunk(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    chunks = _chunks(6, seed=2)
    _write(backend, vk, chunks, target=1 << 30)
    loaded = catalog.load(backend, vk)
    victim = loaded.get(vk.chunk_id(chunks[3]))
    assert victim is not None
    _flip(backend, packs.name(victim.pack_id), victim.entry.offset + 5)
    reader = store.ChunkReader(backend, vk, loaded)
    with pytest.raises(errors.IntegrityViolation, match="fails its tag"):
        reader.read(vk.chunk_id(chunks[3]))
    assert reader.read(vk.chunk_id(chunks[2])) == chunks[2]


def test_a_pack_moved_to_another_name_does_not_open(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    first = _write(backend, vk, _chunks(3, seed=3), target=1 << 30)
    second = _write(backend, vk, _chunks(3, seed=4)[1:2], target=1 << 30)
    with backend.get(packs.name(first.packs[0])) as reader:
        data = store.read_all(reader)
    _replace(backend, packs.name(second.packs[0]), data)
    loaded = catalog.load(backend, vk)
    reader_ = store.ChunkReader(backend, vk, loaded)
    with pytest.raises(errors.IntegrityViolation, match="key file"):
        reader_.read(vk.chunk_id(_chunks(3, seed=4)[1]))


def test_a_blob_under_a_false_chunk_id_is_refused(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    """Someone who can seal packs (the recipient is public) cannot substitute a chunk."""
    real = b"the real chunk" * 100
    forged = b"the attacker's chunk" * 100
    writer = store.PackWriter(backend, vk, catalog.Catalog())
    stored, flags = packs.compress(forged)
    writer.add(vk.chunk_id(real), stored, flags, len(forged))
    writer.close()
    reader = store.ChunkReader(backend, vk, catalog.load(backend, vk))
    with pytest.raises(errors.IntegrityViolation, match="not the chunk it claims"):
        reader.read(vk.chunk_id(real))


def test_a_tampered_or_foreign_index_is_reported_and_skipped(
    backend: base.Backend, vk: keys.VolumeKeys, repository: repo.Repository
) -> None:
    writer = _write(backend, vk, _chunks(8, seed=5), target=40 << 10)
    index_name = indexes.name(writer.indexes[0])
    _flip(backend, index_name, 40)
    loaded = catalog.load(backend, vk)
    assert len(loaded) == 0
    assert loaded.problems == [f"{index_name}: the index fails its tag"]
    # an index sealed under another index id's key (renamed) fails the same way
    other = _write(backend, vk, _chunks(2, seed=6))
    with backend.get(indexes.name(other.indexes[0])) as reader:
        data = store.read_all(reader)
    backend.put(indexes.name("a" * 26), data)
    problems = catalog.load(backend, vk).problems
    assert f"{indexes.name('a' * 26)}: the index fails its tag" in problems


def test_a_trailer_with_overlapping_entries_is_refused(vk: keys.VolumeKeys) -> None:
    builder = packs.Builder(vk.repository, vk.epoch, vk.recipient)
    builder.add(b"\x01" * 32, b"x" * 100, 0, 100)
    builder.add(b"\x02" * 32, b"y" * 100, 0, 100)
    data, entries = builder.finish()
    bad = [entries[0], packs.Entry(b"\x02" * 32, entries[0].offset + 10, 116, 100, 0)]
    with pytest.raises(errors.IntegrityViolation, match="outside its place"):
        packs.check_layout(bad, entries[0].offset, len(data), "p")
    keyfile = data[: packs.keyfile_length(data[:4096], "p")]
    assert vk.identity is not None
    opened = packs.open_keyfile(vk.repository, builder.pack_id, vk.epoch, keyfile, vk.identity)
    length = packs.trailer_length(data[-4:], len(data), "p")
    trailer = data[-4 - length : -4]
    assert opened.trailer(trailer, len(data), len(keyfile)) == entries
    with pytest.raises(errors.IntegrityViolation, match="trailer fails its tag"):
        opened.trailer(trailer[:-1] + bytes([trailer[-1] ^ 1]), len(data), len(keyfile))


def test_a_missing_pack_is_named(backend: base.Backend, vk: keys.VolumeKeys) -> None:
    chunks = _chunks(2, seed=7)
    writer = _write(backend, vk, chunks, target=1 << 30)
    loaded = catalog.load(backend, vk)
    where = loaded.get(vk.chunk_id(chunks[0]))
    assert where is not None
    backend.delete(packs.name(where.pack_id))
    reader = store.ChunkReader(backend, vk, loaded)
    with pytest.raises(errors.IntegrityViolation, match="the pack is missing"):
        reader.read(vk.chunk_id(chunks[0]))
    assert store.missing_packs(backend, writer.packs) == [where.pack_id]
