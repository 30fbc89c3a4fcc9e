"""Writing chunks into packs and reading them back (docs/format.md §10.2, §10.3).

:class:`PackWriter` keeps two packs open and puts each new chunk into one of them at random,
so that the order of chunks in a pack says nothing about the order in the files; each open
pack streams to storage as it is filled (:mod:`.upload`: a few MiB in memory per open pack,
whatever the pack's size) and is complete when it reaches :data:`PACK_TARGET` bytes; an
index is stored for every :data:`INDEX_EVERY` packs and at :meth:`PackWriter.close`. Packs
stored without an index (a crash before close) are debris that collection removes.

:class:`ChunkReader` fetches blobs by range, opening each pack's key file once, and checks
every chunk's id after decryption.
"""

from __future__ import annotations

import collections
import os
import threading
from collections import abc

from strongroom.repository import errors
from strongroom.repository.volumes import catalog as catalog_mod
from strongroom.repository.volumes import indexes, packs, upload
from strongroom.repository.volumes.keys import VolumeKeys
from strongroom.storage import base as storage_base
from strongroom.storage import errors as storage_errors

PACK_TARGET = 32 << 20
#: Packs per index (at most indexes.MAX_PACKS): their entries wait in memory until then.
INDEX_EVERY = 8
OPEN_PACKS = 2  # _Coins picks one of two


class PackWriter:
    """Thread-safe: workers call :meth:`add` concurrently; one thread calls :meth:`close`, or
    :meth:`abort` after any failure (open packs stream from threads of their own).
    """

    def __init__(
        self,
        backend: storage_base.Backend,
        keys: VolumeKeys,
        catalog: catalog_mod.Catalog,
        *,
        pack_target: int = PACK_TARGET,
    ) -> None:
        self._backend = backend
        self._keys = keys
        self._catalog = catalog
        self._target = pack_target
        self._open: list[_OpenPack] = []
        self._done: list[indexes.PackEntries] = []
        self._lock = threading.Lock()
        self._pending: set[bytes] = set()
        self._random = _Coins()
        self.packs: list[str] = []
        self.indexes: list[str] = []
        self.bytes_stored = 0

    def known(self, chunk_id: bytes) -> bool:
        """Whether the chunk is stored already, or claimed by a writer thread; claims it if not."""
        with self._lock:
            if chunk_id in self._catalog or chunk_id in self._pending:
                return True
            self._pending.add(chunk_id)
            return False

    def add(self, chunk_id: bytes, stored: bytes, flags: int, plain: int) -> None:
        """Seal a chunk (in its stored form, :func:`packs.compress`) into an open pack."""
        full: _OpenPack | None = None
        with self._lock:
            while len(self._open) < OPEN_PACKS:
                self._open.append(self._new_pack())
            slot = self._random.pick()
            pack = self._open[slot]
            pack.builder.add(chunk_id, stored, flags, plain)
            if pack.upload is None:  # its put starts with its first blob
                pack.upload = upload.Upload(self._backend, packs.name(pack.builder.pack_id))
            # under the lock: the pack's bytes must go out in the order of its blob offsets
            pack.upload.push(pack.builder.take_parts())
            if pack.builder.size >= self._target:
                full = self._open.pop(slot)
        if full is not None:
            self._store(full)

    def _new_pack(self) -> _OpenPack:
        keys = self._keys
        return _OpenPack(packs.Builder(keys.repository, keys.epoch, keys.recipient))

    def _store(self, pack: _OpenPack) -> None:
        assert pack.upload is not None  # a pack with a blob
        parts, entries = pack.builder.finish_parts()
        pack.upload.finish(parts)
        pack_id, size = pack.builder.pack_id, pack.upload.size
        item = indexes.PackEntries(pack_id, size, tuple(entries))
        with self._lock:
            self.packs.append(pack_id)
            self.bytes_stored += size
            self._catalog.add(item)
            self._done.append(item)
            for entry in entries:
                self._pending.discard(entry.chunk_id)
            batch = self._take_batch(INDEX_EVERY)
        if batch:
            self._store_index(batch)

    def _take_batch(self, size: int) -> list[indexes.PackEntries]:
        if len(self._done) < size:
            return []
        batch, self._done = self._done[:size], self._done[size:]
        return batch

    def _store_index(self, batch: list[indexes.PackEntries]) -> None:
        keys = self._keys
        index_id, data = indexes.seal(keys.index_key, keys.repository, keys.epoch, batch)
        self._backend.put(indexes.name(index_id), data)
        with self._lock:
            self.indexes.append(index_id)

    def close(self) -> None:
        """Store the open packs and an index for every pack not yet indexed."""
        with self._lock:
            remaining, self._open = self._open, []
        try:
            while remaining:
                pack = remaining.pop()
                if pack.upload is not None:
                    self._store(pack)
        finally:
            for pack in remaining:  # after a failure: the others are given up
                pack.abort()
        with self._lock:
            batch, self._done = self._done, []
        for start in range(0, len(batch), indexes.MAX_PACKS):
            self._store_index(batch[start : start + indexes.MAX_PACKS])

    def abort(self) -> None:
        """Give up the open packs (none of them is stored); stored packs stay, as debris that
        collection removes unless an index lists them."""
        with self._lock:
            remaining, self._open = self._open, []
        for pack in remaining:
            pack.abort()


class _OpenPack:
    """A pack being filled: its builder, and the put its bytes stream to (from its first
    blob on: an open pack that never gets one costs no put)."""

    __slots__ = ("builder", "upload")

    def __init__(self, builder: packs.Builder) -> None:
        self.builder = builder
        self.upload: upload.Upload | None = None

    def abort(self) -> None:
        if self.upload is not None:
            self.upload.abort()


class _Coins:
    """Which open pack a chunk goes to: one bit each from a buffer of OS random bytes (the
    caller holds the writer's lock)."""

    def __init__(self) -> None:
        self._bits = 0
        self._left = 0

    def pick(self) -> int:
        if not self._left:
            self._bits, self._left = int.from_bytes(os.urandom(64), "big"), 512
        bit = self._bits & 1
        self._bits >>= 1
        self._left -= 1
        return bit


class ChunkReader:
    """Reads chunks by id through a catalog; pack key files are opened once and kept."""

    def __init__(
        self,
        backend: storage_base.Backend,
        keys: VolumeKeys,
        catalog: catalog_mod.Catalog,
        *,
        cache: int = 256,
        pack_keys: abc.Mapping[str, bytes] | None = None,
    ) -> None:
        """``pack_keys``: the keys of the packs this reader may open (a restore grant), for a
        reader without the repository identity."""
        if keys.identity is None and pack_keys is None:
            raise errors.RepositoryError("reading volume data needs the repository's keyring")
        self._pack_keys = pack_keys
        self._backend = backend
        self._keys = keys
        self._catalog = catalog
        self._opened: collections.OrderedDict[str, packs.Opened] = collections.OrderedDict()
        self._cache = cache
        self._lock = threading.Lock()

    def locate(self, chunk_id: bytes) -> catalog_mod.Location:
        where = self._catalog.get(chunk_id)
        if where is None:
            raise errors.IntegrityViolation(f"chunk {chunk_id.hex()[:16]} is in no index")
        return where

    def pack(self, pack_id: str) -> packs.Opened:
        with self._lock:
            opened = self._opened.get(pack_id)
            if opened is not None:
                self._opened.move_to_end(pack_id)
                return opened
        name = packs.name(pack_id)
        if self._pack_keys is not None:
            key = self._pack_keys.get(pack_id)
            if key is None:
                raise errors.IntegrityViolation(f"{name}: not among the packs granted")
            granted = packs.Opened(self._keys.repository, pack_id, self._keys.epoch, key)
            with self._lock:
                self._opened[pack_id] = granted
            return granted
        try:
            with self._backend.get(name, 0, None) as reader:
                prefix = reader.read(packs.KEYFILE_MAX)
        except storage_errors.ObjectNotFound:
            raise errors.IntegrityViolation(f"{name}: the pack is missing") from None
        keyfile = prefix[: packs.keyfile_length(prefix, name)]
        assert self._keys.identity is not None
        opened = packs.open_keyfile(
            self._keys.repository, pack_id, self._keys.epoch, keyfile, self._keys.identity
        )
        with self._lock:
            self._opened[pack_id] = opened
            while len(self._opened) > self._cache:
                self._opened.popitem(last=False)
        return opened

    def read(self, chunk_id: bytes) -> bytes:
        """The chunk's plaintext, authenticated and checked against its id."""
        where = self.locate(chunk_id)
        self.pack(where.pack_id)  # the key file first: it says whether this is the pack at all
        return self.read_at(where, self.fetch(where))

    def read_run(self, run: abc.Sequence[catalog_mod.Location]) -> list[bytes]:
        """The plaintexts of blobs stored one after the other in one pack, fetched by one
        ranged read; each authenticated and checked against its id."""
        first, last = run[0], run[-1]
        self.pack(first.pack_id)
        start = first.entry.offset
        span = catalog_mod.Location(
            first.pack_id,
            first.number,
            packs.Entry(
                first.entry.chunk_id, start, last.entry.offset + last.entry.stored - start, 0, 0
            ),
        )
        data = memoryview(self.fetch(span))
        return [
            self.read_at(w, data[w.entry.offset - start : w.entry.offset - start + w.entry.stored])
            for w in run
        ]

    def fetch(self, where: catalog_mod.Location) -> bytes:
        name = packs.name(where.pack_id)
        try:
            with self._backend.get(name, where.entry.offset, where.entry.stored) as reader:
                return read_all(reader)
        except storage_errors.ObjectNotFound:
            raise errors.IntegrityViolation(f"{name}: the pack is missing") from None
        except storage_errors.ShortReadError:
            raise errors.IntegrityViolation(f"{name}: the pack is shorter than indexed") from None

    def read_at(self, where: catalog_mod.Location, sealed: bytes | memoryview) -> bytes:
        plain = self.pack(where.pack_id).blob(where.number, where.entry, sealed)
        if self._keys.chunk_id(plain) != where.entry.chunk_id:
            raise errors.IntegrityViolation(
                f"{packs.name(where.pack_id)}: blob {where.number} is not the chunk it claims"
            )
        return plain


def read_all(reader: storage_base.Readable) -> bytes:
    """Everything ``reader`` gives; a ranged read of a few MiB usually comes in one piece,
    which is then returned as it is (``join`` of one piece copies nothing)."""
    parts = []
    while chunk := reader.read(READ_PIECE):
        parts.append(chunk)
    return b"".join(parts)


#: The largest piece :func:`read_all` asks for at once (a run of blobs is at most 2 MiB).
READ_PIECE = 8 << 20


def missing_packs(backend: storage_base.Backend, pack_ids: abc.Iterable[str]) -> list[str]:
    """Which of ``pack_ids`` the storage does not hold (one listing, not one stat each)."""
    wanted = set(pack_ids)
    for info in backend.list(packs.PREFIX):
        wanted.discard(info.name[len(packs.PREFIX) :])
    return sorted(wanted)
