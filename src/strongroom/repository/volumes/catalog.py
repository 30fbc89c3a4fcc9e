"""Every index of one epoch merged: where each chunk is (docs/format.md §10.3).

Held in memory compactly, about 130 bytes per chunk (a million chunks, some 130 GiB of
unique data or a million small files, is about 130 MB). Loading reports an index that
fails authentication and goes on without it: its packs can be indexed again from their
trailers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import abc

from strongroom import errors as base_errors
from strongroom.repository import errors, objects
from strongroom.repository.volumes import indexes, packs
from strongroom.repository.volumes.keys import VolumeKeys
from strongroom.storage import base as storage_base


@dataclasses.dataclass(frozen=True, slots=True)
class Location:
    """Where one chunk is: its pack, its blob number and entry."""

    pack_id: str
    number: int
    entry: packs.Entry


class Catalog:
    """Chunk id -> :class:`Location`, plus each pack's size; thread-safe for adds.

    Compact by design, since it grows with the repository's unique data: each chunk is one
    dict item from the first 16 bytes of its id (a keyed MAC: prefixes do not collide in
    practice, and a reader checks the whole id of what it decrypts) to one integer packing
    its pack, blob number, offset, sizes and flags; about 130 bytes per chunk.
    """

    def __init__(self) -> None:
        self._chunks: dict[int, int] = {}
        self._pack_ids: list[str] = []
        self._pack_number: dict[str, int] = {}
        self.pack_sizes: dict[str, int] = {}
        self.index_packs: dict[str, list[str]] = {}
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, chunk_id: bytes) -> bool:
        return _key(chunk_id) in self._chunks

    def get(self, chunk_id: bytes) -> Location | None:
        packed = self._chunks.get(_key(chunk_id))
        if packed is None:
            return None
        flags, plain, stored, offset, number, pack = _unpack(packed)
        entry = packs.Entry(chunk_id, offset, stored, plain, flags)
        return Location(self._pack_ids[pack], number, entry)

    def pack_number(self, chunk_id: bytes) -> int | None:
        """The number of the pack holding the chunk (see :meth:`pack_id`), None if absent:
        cheaper than :meth:`get` when only the pack matters."""
        packed = self._chunks.get(_key(chunk_id))
        return None if packed is None else packed >> _PACK_SHIFT

    def pack_id(self, number: int) -> str:
        return self._pack_ids[number]

    def add(self, item: indexes.PackEntries) -> None:
        with self._lock:
            self.pack_sizes[item.pack_id] = item.size
            pack = self._pack_number.get(item.pack_id)
            if pack is None:
                pack = self._pack_number[item.pack_id] = len(self._pack_ids)
                self._pack_ids.append(item.pack_id)
            for number, e in enumerate(item.entries):
                packed = _pack(e.flags, e.plain, e.stored, e.offset, number, pack)
                self._chunks.setdefault(_key(e.chunk_id), packed)


_FIELDS = (8, 24, 24, 40, 24)  # flags, plain, stored, offset, blob number; then the pack
_PACK_SHIFT = sum(_FIELDS)


def _key(chunk_id: bytes) -> int:
    return int.from_bytes(chunk_id[:16], "big")


def _pack(*values: int) -> int:
    packed, shift = 0, 0
    for value, width in zip(values, (*_FIELDS, 32), strict=True):
        if not 0 <= value < 1 << width:
            raise errors.IntegrityViolation("an index entry has a field out of range")
        packed |= value << shift
        shift += width
    return packed


def _unpack(packed: int) -> tuple[int, ...]:
    values = []
    for width in (*_FIELDS, 32):
        values.append(packed & ((1 << width) - 1))
        packed >>= width
    return tuple(values)


def read_indexes(
    backend: storage_base.Backend, keys: VolumeKeys
) -> tuple[dict[str, list[indexes.PackEntries]], list[str]]:
    """Every index of ``keys.epoch`` (id -> its packs) and the problems of those that fail.

    A collection running meanwhile stores the replacement of an index before it deletes it,
    so an index that vanishes between the listing and the read means a new one is there:
    the listing is read again (a few times at most) for what it did not hold before.
    """
    found: dict[str, list[indexes.PackEntries]] = {}
    problems: list[str] = []
    seen: set[str] = set()
    for _ in range(5):
        vanished = False
        for info in backend.list(indexes.PREFIX):
            index_id = info.name[len(indexes.PREFIX) :]
            if index_id in seen:
                continue
            seen.add(index_id)
            try:
                data = objects.read_small(backend, info.name, indexes.MAX_BODY)
                if indexes.epoch_of(data, info.name) == keys.epoch:
                    found[index_id] = indexes.open_(
                        keys.index_key, keys.repository, index_id, keys.epoch, data
                    )
            except base_errors.NotFoundError:
                vanished = True
            except errors.IntegrityViolation as exc:
                problems.append(str(exc))
        if not vanished:
            break
    return found, problems


def load(
    backend: storage_base.Backend, keys: VolumeKeys, exclude: abc.Set[str] = frozenset()
) -> Catalog:
    """Read and merge every index of ``keys.epoch``; failures go to ``problems``.

    Packs in ``exclude`` (those a collection has marked, for a backup) are left out, so their
    chunks count as absent and get stored again.
    """
    catalog = Catalog()
    found, catalog.problems = read_indexes(backend, keys)
    for index_id, items in found.items():
        catalog.index_packs[index_id] = [item.pack_id for item in items]
        for item in items:
            if item.pack_id not in exclude:
                catalog.add(item)
    return catalog
