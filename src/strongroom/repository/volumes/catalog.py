"""Every index of one epoch merged: where each chunk is (docs/format.md §10.3).

Held in memory as one dict from chunk id to a small tuple, about 200 bytes per chunk (a
million chunks, some 130 GiB of unique data, is about 200 MB). Loading reports an index that
fails authentication and goes on without it: its packs can be indexed again from their
trailers.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import abc

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
    """Chunk id -> :class:`Location`, plus each pack's size; thread-safe for adds."""

    def __init__(self) -> None:
        self._chunks: dict[bytes, Location] = {}
        self.pack_sizes: dict[str, int] = {}
        self.index_packs: dict[str, list[str]] = {}
        self.problems: list[str] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._chunks)

    def __contains__(self, chunk_id: bytes) -> bool:
        return chunk_id in self._chunks

    def get(self, chunk_id: bytes) -> Location | None:
        return self._chunks.get(chunk_id)

    def add(self, item: indexes.PackEntries) -> None:
        with self._lock:
            self.pack_sizes[item.pack_id] = item.size
            for number, entry in enumerate(item.entries):
                self._chunks.setdefault(entry.chunk_id, Location(item.pack_id, number, entry))


def load(
    backend: storage_base.Backend, keys: VolumeKeys, exclude: abc.Set[str] = frozenset()
) -> Catalog:
    """Read and merge every index of ``keys.epoch``; failures go to ``problems``.

    Packs in ``exclude`` (those a collection has marked, for a backup) are left out, so their
    chunks count as absent and get stored again.
    """
    catalog = Catalog()
    for info in backend.list(indexes.PREFIX):
        index_id = info.name[len(indexes.PREFIX) :]
        try:
            data = objects.read_small(backend, info.name, indexes.MAX_BODY)
            if indexes.epoch_of(data, info.name) != keys.epoch:
                continue
            items = indexes.open_(keys.index_key, keys.repository, index_id, keys.epoch, data)
        except errors.IntegrityViolation as exc:
            catalog.problems.append(str(exc))
            continue
        catalog.index_packs[index_id] = [item.pack_id for item in items]
        for item in items:
            if item.pack_id not in exclude:
                catalog.add(item)
    return catalog
