"""Restoring a snapshot into a folder (docs/format.md §10): tree in order, chunks fetched ahead.

The tree streams from storage; a window of upcoming entries (at most :data:`WINDOW` entries
and :data:`AHEAD` bytes of chunks) has its chunks fetched, decrypted, decompressed and checked
against their ids by worker threads while the calling thread writes files in order. A file is
written under a temporary name and renamed only once all its data authenticated, so a
tampered chunk never leaves a file with unauthenticated content. A tree that fails late (a
truncated tree is only known at its end) fails the whole restore.
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
from strongroom.engine.volumes import errors, include, place, snapshots, tree
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog, collect, sessions, store

WINDOW = 1024
AHEAD = 128 << 20


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
    snapshot: stored.Backup,
    target: pathlib.Path,
    *,
    includes: abc.Sequence[bytes] = (),
    overwrite: bool = False,
    workers: int | None = None,
    progress: abc.Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Write ``snapshot`` (or the parts under ``includes``) into ``target``."""
    _check_target(target, overwrite)
    epoch = snapshots.data_epoch(snapshot)
    keys = repository.volume_keys(epoch)
    outcome = Outcome(snapshot.id)

    def warn(path: bytes, message: str) -> None:
        outcome.warnings.append(f"{os.fsdecode(path) or '.'}: {message}")

    entries: abc.Iterable[tree.Entry] = snapshots.entries(snapshot)
    if includes:
        entries = include.Include(includes).filter(entries)
    threads = workers or max(4, 2 * (os.cpu_count() or 2))
    with (
        sessions.reading(repository.backend, keys, clock_mod.SystemClock()),
        concurrent.futures.ThreadPoolExecutor(threads) as pool,
        place.Placer(target, overwrite=overwrite, warn=warn) as placer,
    ):
        # after the session (a sweep waits for it), and without packs a collection will delete
        doomed = collect.candidate_packs(repository.backend, keys)
        known = catalog.load(repository.backend, keys, exclude=doomed)
        reader = store.ChunkReader(repository.backend, keys, known)
        for entry, futures in _ahead(entries, reader, pool):
            chunks = (f.result() for f in futures)
            done = placer.place(entry, place.spread(entry, chunks) if futures else ())
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


def _ahead(
    entries: abc.Iterable[tree.Entry],
    reader: store.ChunkReader,
    pool: concurrent.futures.Executor,
) -> abc.Iterator[tuple[tree.Entry, list[concurrent.futures.Future[bytes]]]]:
    """Entries with their chunks' futures, fetching up to a window ahead of the writer."""
    window: collections.deque[tuple[tree.Entry, list[concurrent.futures.Future[bytes]], int]]
    window = collections.deque()
    queued = 0
    source = iter(entries)
    exhausted = False
    try:
        while True:
            while not exhausted and len(window) < WINDOW and queued < AHEAD:
                entry = next(source, None)
                if entry is None:
                    exhausted = True
                    break
                ids = entry.chunk_ids() if entry.linkto is None else []
                futures = [pool.submit(reader.read, chunk_id) for chunk_id in ids]
                size = sum(r[1] for r in entry.regions()) if ids else 0
                window.append((entry, futures, size))
                queued += size
            if not window:
                return
            entry, futures, size = window.popleft()
            queued -= size
            yield entry, futures
    finally:  # stopped early (an error, or the consumer gave up): fetch nothing more
        for _, pending, _ in window:
            for future in pending:
                future.cancel()
