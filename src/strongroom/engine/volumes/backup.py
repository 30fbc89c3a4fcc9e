"""Backing up a folder into a snapshot (docs/format.md §10): walk, chunk, store, commit.

The walk runs in the calling thread, and so do the reading and chunking of files of at least
:data:`SMALL` bytes (the chunker scans without the GIL); a smaller file is one chunk, read by
a worker. Each chunk's id, compression and encryption run in a pool of worker threads, with
at most :data:`IN_FLIGHT` bytes queued, so memory is bounded whatever the data: the queued
chunks, two open packs streaming to storage (a few MiB each), and a window of entries waiting
for their chunk ids. The tree is produced as the walk goes and streamed, encrypted, to
storage. A file unchanged since the parent snapshot (same size, mtime, ctime, inode) keeps
its chunks without being read, and its entry keeps the parent's line.

The snapshot commits only after every pack it needs is stored and indexed, its session
object is still there (no collection ran past it), and every reused pack still exists.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import socket
import threading
from collections import abc
from typing import Any, Protocol

from strongroom import clock as clock_mod
from strongroom.archive import compress
from strongroom.crypto import chunker
from strongroom.engine.volumes import errors, parent, reading, snapshots, tree, walk
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog, collect, packs, sessions, store
from strongroom.repository.volumes import keys as volkeys
from strongroom.storage import base as storage_base

IN_FLIGHT = 16 << 20
#: A file smaller than the smallest chunk is one chunk: a worker reads it (the walk goes on).
SMALL = chunker.MIN
#: A file with at least this much data is scanned two blocks ahead, in SCANNERS threads.
AHEAD = 2 * chunker.BLOCK
AHEAD_BLOCK = chunker.BLOCK
SCANNERS = 2
BATCH = 1 << 20
BATCH_CHUNKS = 256
WINDOW = 4096
MAX_WARNINGS_KEPT = 1000


@dataclasses.dataclass
class Stats:
    files: int = 0
    dirs: int = 0
    bytes: int = 0
    bytes_read: int = 0
    chunks_new: int = 0
    bytes_new: int = 0
    reused_files: int = 0


@dataclasses.dataclass
class Outcome:
    snapshot: str
    phase: str
    stats: Stats
    warnings: list[str]
    parent: str | None


class _Budget:
    """At most ``limit`` bytes of chunks queued for the workers."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._used = 0
        self._cond = threading.Condition()

    def take(self, size: int) -> None:
        with self._cond:
            while self._used and self._used + size > self._limit:
                self._cond.wait()
            self._used += size

    def give(self, size: int) -> None:
        with self._cond:
            self._used -= size
            self._cond.notify_all()


class SnapshotWriter(Protocol):
    """Stores a snapshot's tree and log, then commits it (a manifest, or a part of a backup)."""

    @property
    def snapshot_id(self) -> str: ...

    def put(self, kind: str, plaintext: abc.Iterable[bytes]) -> Any: ...

    def commit(self, spec: dict[str, Any], status: dict[str, Any]) -> Any: ...

    def abort(self) -> None: ...


class Target(Protocol):
    """Where a snapshot goes: a repository opened with its keyring, or by a writer credential
    (which stores what it cannot read back, and so has no parent to compare with), or a
    backup the snapshot belongs to (:mod:`.inbackup`)."""

    @property
    def backend(self) -> storage_base.Backend: ...

    def volume_keys(self) -> volkeys.VolumeKeys: ...

    def volume_chunker(self) -> chunker.Chunker: ...

    def begin_snapshot(self) -> SnapshotWriter: ...


class _Run:
    def __init__(
        self,
        repository: Target,
        writer: store.PackWriter,
        known: catalog.Catalog,
        session: sessions.Session,
        pool: concurrent.futures.Executor,
        scanners: concurrent.futures.Executor,
        progress: abc.Callable[[Stats], None] | None,
    ) -> None:
        self.keys = repository.volume_keys()
        self.chunker = repository.volume_chunker()
        self.writer = writer
        self.known = known
        self.session = session
        self.pool = pool
        #: Threads that scan the blocks of a large file ahead of the walk.
        self.scanners = scanners
        self.budget = _Budget(IN_FLIGHT)
        self.stats = Stats()
        self.warnings: list[str] = []
        self.warning_count = 0
        self.progress = progress
        #: Numbers (in ``known``) of the packs holding chunks stored before this run began
        #: that the tree references: each must still exist when the snapshot commits.
        self.referenced: set[int] = set()
        self._lock = threading.Lock()
        self._batch = _Batch()

    def reuse(self, before: tree.Known) -> bool:
        """Whether every chunk of the parent's entry is still stored (noting their packs)."""
        numbers = []
        for chunk_id in before.entry.chunk_ids():
            number = self.known.pack_number(chunk_id)
            if number is None:
                return False
            numbers.append(number)
        self.referenced.update(numbers)
        return True

    def warn(self, path: bytes, message: str) -> None:
        with self._lock:
            self.warning_count += 1
            if len(self.warnings) < MAX_WARNINGS_KEPT:
                where = os.fsdecode(path) or "."
                self.warnings.append(f"{where}: {message}")

    def process(self, items: list[bytes | walk.Found], size: int) -> list[bytes | None]:
        """For each item, in a worker thread: a chunk's id, or a small file's (its one chunk
        read here; ``b""`` for an empty file, None for one that could not be read, warned
        about). Each chunk is stored unless known."""
        try:
            ids: list[bytes | None] = []
            for item in items:
                if isinstance(item, walk.Found):
                    data = reading.read_whole(item.entry, item.source, self.warn)
                    if not data:
                        ids.append(data)
                        continue
                    self.count_read(len(data))
                    ids.append(self._store(data))
                else:
                    ids.append(self._store(item))
            return ids
        finally:
            self.budget.give(size)
            items.clear()  # the batch outlives this call (its slots wait for their ids)

    def count_read(self, size: int) -> None:
        with self._lock:
            self.stats.bytes_read += size

    def _store(self, chunk: bytes) -> bytes:
        chunk_id = self.keys.chunk_id(chunk)
        if not self.writer.known(chunk_id):
            stored, flags = packs.compress(chunk)
            self.writer.add(chunk_id, stored, flags, len(chunk))
            with self._lock:
                self.stats.chunks_new += 1
        else:
            number = self.known.pack_number(chunk_id)
            if number is not None:  # else stored by this run (or about to be)
                with self._lock:
                    self.referenced.add(number)
        return chunk_id

    def submit(self, item: bytes | walk.Found, size: int) -> _Slot:
        """Queue a chunk, or a small file to be read by a worker (``size`` bytes); items go to
        the workers in batches of about :data:`BATCH` bytes, so that a small file costs a list
        append, not a task of its own."""
        batch = self._batch
        slot = _Slot(self, batch, len(batch.items))
        batch.items.append(item)
        batch.size += size
        if batch.size >= BATCH or len(batch.items) >= BATCH_CHUNKS:
            self.flush()
        return slot

    def flush(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if batch.items:
            self.budget.take(batch.size)
            batch.future = self.pool.submit(self.process, batch.items, batch.size)


class _Batch:
    def __init__(self) -> None:
        self.items: list[bytes | walk.Found] = []
        self.size = 0
        self.future: concurrent.futures.Future[list[bytes | None]] | None = None


class _Slot:
    """One item's place in a batch: its chunk id once the batch is processed (for a small
    file read by the worker, ``b""`` if empty, None if it could not be read)."""

    __slots__ = ("_batch", "_index", "_run")

    def __init__(self, run: _Run, batch: _Batch, index: int) -> None:
        self._run = run
        self._batch = batch
        self._index = index

    def done(self) -> bool:
        return self._batch.future is not None and self._batch.future.done()

    def __bool__(self) -> bool:
        return True

    def result(self) -> bytes | None:
        if self._batch.future is None:
            self._run.flush()
        assert self._batch.future is not None
        return self._batch.future.result()[self._index]


_Pending = tuple[tree.Entry | tree.Known, "_Ids | _Slot | None"]


def _entries(
    run: _Run, walker: walk.Walk, cursor: parent.Cursor | None
) -> abc.Iterator[tree.Entry | tree.Known]:
    """The tree's entries, in order, each once its chunk ids are known (an entry the parent
    tree holds unchanged comes with the parent's line)."""
    window: collections.deque[_Pending] = collections.deque()
    stats = run.stats
    for found in walker:
        before = cursor.find(found.entry.path) if cursor is not None else None
        pending = _examine(run, walker, found, before)
        if pending is None:
            continue  # unreadable: warned, and left out of the snapshot
        entry = found.entry
        if entry.type == tree.EntryType.FILE:
            stats.files += 1
            stats.bytes += entry.size
        elif entry.type == tree.EntryType.DIR:
            stats.dirs += 1
        window.append(pending)
        while window and (len(window) > WINDOW or _ready(window[0][1])):
            done = _complete(run, *window.popleft())
            if done is not None:
                yield done
        if run.progress is not None:
            run.progress(stats)
        run.session.refresh()
    while window:
        done = _complete(run, *window.popleft())
        if done is not None:
            yield done


def _examine(
    run: _Run, walker: walk.Walk, found: walk.Found, before: tree.Known | None
) -> _Pending | None:
    """A walked entry as it waits for its chunk ids: kept from the parent, read by a worker
    (a small file), or read here and chunked; None if it could not be read."""
    entry = found.entry
    ids: _Ids | _Slot | None = None
    if found.needs_data:
        if before is not None and parent.unchanged(entry, before.entry) and run.reuse(before):
            entry = entry._replace(chunks=before.entry.chunks)
            run.stats.reused_files += 1
        elif entry.size < SMALL and entry.linkgroup is None and not entry.holes:
            ids = run.submit(found, entry.size)  # one chunk, read by a worker
        else:
            ids = _read(run, walker, found)
            if ids is None:
                return None
    if before is not None and entry == before.entry:
        return before, ids
    return entry, ids


def _read(run: _Run, walker: walk.Walk, found: walk.Found) -> _Ids | None:
    ids = _Ids()
    datafile = walker.open(found)
    if datafile is None:
        return None
    with datafile:
        large = sum(length for _, length in datafile.regions) >= AHEAD
        chunks = (
            run.chunker.chunks_ahead(datafile, run.scanners, block=AHEAD_BLOCK)
            if large
            else run.chunker.chunks(datafile)
        )
        for chunk in chunks:
            run.count_read(len(chunk))
            ids.add(run.submit(bytes(chunk), len(chunk)))
    return ids


class _Ids:
    """A file's chunk ids as they come from the workers: finished ones are kept as 32 bytes
    each, not as futures, so a file of any size costs 32 bytes per chunk."""

    def __init__(self) -> None:
        self._done = bytearray()
        self._pending: collections.deque[_Slot] = collections.deque()

    def add(self, future: _Slot) -> None:
        self._pending.append(future)
        if len(self._pending) >= 1024:
            self._settle()

    def _settle(self) -> None:
        while self._pending and self._pending[0].done():
            self._take()

    def _take(self) -> None:
        chunk_id = self._pending.popleft().result()
        assert chunk_id  # a chunk, not a small file
        self._done += chunk_id

    def done(self) -> bool:
        self._settle()
        return not self._pending

    def __bool__(self) -> bool:
        return bool(self._done or self._pending)

    def result(self) -> bytes:
        while self._pending:
            self._take()
        return bytes(self._done)


def _ready(ids: _Ids | _Slot | None) -> bool:
    return ids is None or ids.done()


def _complete(
    run: _Run, item: tree.Entry | tree.Known, ids: _Ids | _Slot | None
) -> tree.Entry | tree.Known | None:
    """The entry with its chunk ids; None for a small file its worker could not read."""
    if not ids:
        return item
    chunks = ids.result()
    entry = item.entry if isinstance(item, tree.Known) else item
    if chunks is None:  # warned about by the worker, and left out of the snapshot
        run.stats.files -= 1
        run.stats.bytes -= entry.size
        return None
    return entry._replace(chunks=chunks) if chunks else item


def backup(
    repository: Target,
    path: str,
    *,
    tags: dict[str, str] | None = None,
    clock: clock_mod.Clock | None = None,
    progress: abc.Callable[[Stats], None] | None = None,
    workers: int | None = None,
) -> Outcome:
    """Snapshot the folder ``path``; raises on failure, leaving no visible snapshot."""
    clock = clock or clock_mod.SystemClock()
    started = clock_mod.rfc3339(clock.now())
    root = os.path.abspath(path)
    keys = repository.volume_keys()
    backend = repository.backend
    host = socket.gethostname()
    previous = None
    if isinstance(repository, repo_mod.Repository):
        previous = snapshots.parent_of(repository, root, host, keys.epoch)
    session = sessions.Session(backend, keys, clock)
    session.start()
    snapshot_writer = pack_writer = None
    try:
        doomed = collect.candidate_packs(backend, keys)
        known = catalog.load(backend, keys, exclude=doomed)
        pack_writer = store.PackWriter(backend, keys, known)
        snapshot_writer = repository.begin_snapshot()
        cursor = None if previous is None else parent.Cursor(snapshots.known_entries(previous))
        with (
            concurrent.futures.ThreadPoolExecutor(workers or os.cpu_count() or 2) as pool,
            concurrent.futures.ThreadPoolExecutor(SCANNERS, "scan") as scanners,
        ):
            run = _Run(repository, pack_writer, known, session, pool, scanners, progress)
            walker = walk.walk(os.fsencode(root), warn=run.warn)
            lines = tree.encode(_entries(run, walker, cursor), keys.epoch)
            snapshot_writer.put("tree", compress.compress_stream(lines))
        pack_writer.close()
        run.stats.bytes_new = pack_writer.bytes_stored
        referenced = {known.pack_id(number) for number in run.referenced}
        referenced |= set(pack_writer.packs)
        session.check()
        missing = store.missing_packs(backend, referenced)
        if missing:
            raise errors.VolumeError(
                f"packs this snapshot reuses were deleted while it ran ({', '.join(missing[:3])}"
                "...): nothing was committed; run the backup again"
            )
        phase = "PartiallyFailed" if run.warning_count else "Completed"
        snapshot_writer.put("log", [compress.compress_document("\n".join(run.warnings).encode())])
        spec: dict[str, Any] = {
            "path": root,
            "host": host,
            "tags": dict(tags or {}),
            "parent": None if previous is None else previous.id,
            "dataEpoch": keys.epoch,
        }
        status = {
            "phase": phase,
            "startTimestamp": started,
            "completionTimestamp": clock_mod.rfc3339(clock.now()),
            "files": run.stats.files,
            "dirs": run.stats.dirs,
            "bytes": run.stats.bytes,
            "bytesNew": run.stats.bytes_new,
            "chunksNew": run.stats.chunks_new,
            "warnings": run.warning_count,
        }
        snapshot_writer.commit(spec, status)
    except BaseException:
        if pack_writer is not None:
            pack_writer.abort()
        if snapshot_writer is not None:
            snapshot_writer.abort()
        session.end()
        raise
    session.end()
    return Outcome(
        snapshot_writer.snapshot_id,
        phase,
        run.stats,
        run.warnings,
        None if previous is None else previous.id,
    )
