"""Restoring a snapshot into a folder (docs/format.md §10): tree in order, chunks fetched ahead.

The tree streams from storage; the chunks of upcoming entries (at most :data:`WINDOW`
entries and :data:`AHEAD` bytes, within a file as across files) are fetched, decrypted,
decompressed and checked against their ids by worker threads while the calling thread
writes files in order. No chunk is written before it authenticates, and a file whose data
fails is removed (:mod:`.place`), so a tampered chunk never leaves a file with
unauthenticated content. A tree that fails late (a truncated tree is only known at its end)
fails the whole restore.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import pathlib
from collections import abc

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.archive import compress
from strongroom.engine.volumes import errors, include, place, snapshots, tree
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog, collect, grants, sessions, store
from strongroom.repository.volumes import keys as volkeys
from strongroom.storage import base as storage_base

WINDOW = 1024
AHEAD = 16 << 20
STAGE = 256
RUN_BYTES = 2 << 20


class TargetNotEmpty(errors.VolumeError, base_errors.AlreadyExistsError):
    """The target folder holds files and ``--overwrite`` was not given."""


@dataclasses.dataclass
class Outcome:
    snapshot: str
    files: int = 0
    dirs: int = 0
    bytes: int = 0
    skipped: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)


def _check_target(target: pathlib.Path, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        raise errors.RootError(f"{target}: not a folder")
    if not overwrite and target.is_dir() and any(target.iterdir()):
        raise TargetNotEmpty(f"{target} is not empty: give --overwrite to restore into it")


def restore(
    repository: repo_mod.Repository,
    snapshot: stored.Backup | snapshots.Held,
    target: pathlib.Path,
    *,
    includes: abc.Sequence[bytes] = (),
    overwrite: bool = False,
    workers: int | None = None,
    progress: abc.Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Write ``snapshot`` (standalone, or one of a backup's; or the parts under
    ``includes``) into ``target``."""
    _check_target(target, overwrite)
    held = snapshots.of(snapshot)
    keys = repository.volume_keys(held.data_epoch)
    entries: abc.Iterable[tree.Entry] = snapshots.held_entries(held)
    if includes:
        entries = include.Include(includes).filter(entries)
    return _restore(repository.backend, keys, None, held.id, entries, target, overwrite,
                    workers, progress)  # fmt: skip


def restore_granted(
    backend: storage_base.Backend,
    keys: volkeys.VolumeKeys,
    grant: grants.Grant,
    target: pathlib.Path,
    *,
    overwrite: bool = False,
    progress: abc.Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Write the snapshot of ``grant`` into ``target`` with no keyring: the tree opens with
    the grant's backup identity, chunks come only from the packs it grants (a node agent
    restoring a pod volume; ``keys``: its writer's volume keys, for ids and indexes)."""
    _check_target(target, overwrite)
    if keys.epoch != grant.data_epoch:
        raise errors.VolumeError(
            f"the snapshot's data is of key epoch {grant.data_epoch}, the writer's keys of "
            f"{keys.epoch}"
        )
    plain = compress.decompress_stream(grant.open_tree(backend))
    entries = tree.decode(plain, epoch=grant.data_epoch)
    return _restore(backend, keys, grant.pack_keys, grant.snapshot, entries, target, overwrite,
                    None, progress)  # fmt: skip


def _restore(
    backend: storage_base.Backend,
    keys: volkeys.VolumeKeys,
    pack_keys: dict[str, bytes] | None,
    snapshot_id: str,
    entries: abc.Iterable[tree.Entry],
    target: pathlib.Path,
    overwrite: bool,
    workers: int | None,
    progress: abc.Callable[[Outcome], None] | None,
) -> Outcome:
    outcome = Outcome(snapshot_id)

    def warn(path: bytes, message: str) -> None:
        outcome.warnings.append(f"{os.fsdecode(path) or '.'}: {message}")

    threads = workers or max(4, 2 * (os.cpu_count() or 2))
    with (
        sessions.reading(backend, keys, clock_mod.SystemClock()),
        concurrent.futures.ThreadPoolExecutor(threads) as pool,
        place.Placer(target, overwrite=overwrite, warn=warn) as placer,
    ):
        # after the session (a sweep waits for it), and without packs a collection will delete
        doomed = collect.candidate_packs(backend, keys)
        known = catalog.load(backend, keys, exclude=doomed)
        reader = store.ChunkReader(backend, keys, known, pack_keys=pack_keys)
        for entry, chunks in _Ahead(entries, reader, pool):
            done = placer.place(entry, place.spread(entry, chunks) if chunks is not None else ())
            _count(outcome, entry, done)
            if progress is not None:
                progress(outcome)
    return outcome


def _count(outcome: Outcome, entry: tree.Entry, done: bool) -> None:
    if not done:
        outcome.skipped += 1
    elif entry.type == tree.EntryType.DIR:
        outcome.dirs += 1
    else:
        outcome.files += 1
        outcome.bytes += entry.size if entry.type == tree.EntryType.FILE else 0


class _Run:
    """Chunks stored next to each other in one pack, fetched by one ranged read."""

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[list[bytes]] | None = None


class _Slot:
    """One chunk of a run: its plaintext once the run is fetched and checked."""

    __slots__ = ("index", "run", "size")

    def __init__(self, run: _Run, index: int, size: int) -> None:
        self.run, self.index, self.size = run, index, size


class _Ahead:
    """Chunks fetched ahead of the writer, in tree order, across files and within them.

    At most :data:`AHEAD` bytes of chunks (their plaintext sizes, from the index) and
    :data:`WINDOW` entries are in flight, whatever the size of one file: a file's chunks are
    handed out as they arrive, and fetching goes on into the next files meanwhile. Upcoming
    chunks are staged up to :data:`STAGE` at a time, then grouped by pack into runs of blobs
    that lie next to each other (:data:`RUN_BYTES` at most), each fetched by one ranged read
    in a worker: many small files cost a few reads, not one per file.
    """

    def __init__(
        self,
        entries: abc.Iterable[tree.Entry],
        reader: store.ChunkReader,
        pool: concurrent.futures.Executor,
    ) -> None:
        self._source = iter(entries)
        self._reader = reader
        self._pool = pool
        self._entries: collections.deque[tree.Entry] = collections.deque()
        self._fetching: collections.deque[_Slot] = collections.deque()
        self._staged: list[tuple[_Slot, catalog.Location]] = []
        self._runs: list[_Run] = []
        self._ids: abc.Iterator[bytes] = iter(())
        self._bytes = 0
        self._unread = 0

    def _fill(self) -> None:
        while self._bytes < AHEAD and len(self._entries) < WINDOW:
            chunk_id = next(self._ids, None)
            if chunk_id is None:
                entry = next(self._source, None)
                if entry is None:
                    break
                self._entries.append(entry)
                self._ids = iter(entry.chunk_ids() if entry.linkto is None else ())
                continue
            where = self._reader.locate(chunk_id)
            slot = _Slot(_Run(), 0, where.entry.plain)
            self._staged.append((slot, where))
            self._fetching.append(slot)
            self._bytes += slot.size
            if len(self._staged) >= STAGE:
                self._dispatch()

    def _dispatch(self) -> None:
        """Group the staged chunks into runs by pack and offset; one task per run."""
        staged, self._staged = self._staged, []
        staged.sort(key=lambda item: (item[1].pack_id, item[1].entry.offset))
        group: list[tuple[_Slot, catalog.Location]] = []
        for item in staged:
            if group and not _follows(group[0][1], group[-1][1], item[1]):
                self._submit(group)
                group = []
            group.append(item)
        if group:
            self._submit(group)

    def _submit(self, group: list[tuple[_Slot, catalog.Location]]) -> None:
        run = _Run()
        for index, (slot, _) in enumerate(group):
            slot.run, slot.index = run, index
        run.future = self._pool.submit(self._reader.read_run, [where for _, where in group])
        # kept only to cancel what is still running: a finished run's chunks belong to the
        # slots waiting for them, and go with the last of those
        self._runs = [r for r in self._runs if r.future is not None and not r.future.done()]
        self._runs.append(run)

    def _take(self) -> _Slot:
        slot = self._fetching.popleft()
        self._bytes -= slot.size
        self._unread -= 1
        self._fill()
        return slot

    def _chunks(self) -> abc.Iterator[bytes]:
        while self._unread:
            slot = self._take()
            if slot.run.future is None:
                self._dispatch()
            assert slot.run.future is not None
            yield slot.run.future.result()[slot.index]

    def __iter__(self) -> abc.Iterator[tuple[tree.Entry, abc.Iterator[bytes] | None]]:
        try:
            while True:
                self._fill()
                if not self._entries:
                    return
                entry = self._entries.popleft()
                count = len(entry.chunks) // tree.CHUNK_ID_SIZE if entry.linkto is None else 0
                self._unread = count
                yield entry, (self._chunks() if count else None)
                while self._unread:  # the file was skipped: its chunks are not needed
                    self._take()
        finally:  # stopped early (an error, or the consumer gave up): fetch nothing more
            for run in self._runs:
                if run.future is not None:
                    run.future.cancel()


def _follows(first: catalog.Location, last: catalog.Location, after: catalog.Location) -> bool:
    """Whether ``after`` is the blob right after ``last`` in its pack, and the run from
    ``first`` stays within :data:`RUN_BYTES`."""
    return (
        last.pack_id == after.pack_id
        and after.entry.offset == last.entry.offset + last.entry.stored
        and after.entry.offset + after.entry.stored - first.entry.offset <= RUN_BYTES
    )
