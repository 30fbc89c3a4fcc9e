"""Checking snapshots without restoring them, and collecting what no snapshot needs.

:func:`verify` authenticates a snapshot's manifest and whole tree, and checks that every
chunk the tree names is indexed in a pack that exists with the size its index gives;
with ``read_data`` it also fetches, decrypts and checks every chunk (in worker threads).
:func:`collect` runs a collection (format §10.6) for every epoch holding volume data; it
refuses to run while any snapshot's tree cannot be read, since the chunks of an unreadable
snapshot would look like garbage.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
from collections import abc

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.engine.volumes import snapshots
from strongroom.repository import backups as stored
from strongroom.repository import repo as repo_mod
from strongroom.repository.volumes import catalog, packs, sessions, store
from strongroom.repository.volumes import collect as collect_mod
from strongroom.repository.volumes import keys as volkeys


class Unreadable(base_errors.IntegrityError):
    """A snapshot whose tree does not authenticate: collection would lose its data."""


def verify(
    repository: repo_mod.Repository,
    snapshot: stored.Backup | snapshots.Held,
    *,
    read_data: bool = False,
    objects_checked: bool = False,
) -> list[str]:
    """Problems with ``snapshot``, each naming the object concerned; empty when it is whole.

    ``objects_checked``: the record holding it was verified already (``backup verify`` checks
    a backup's objects once for all of its snapshots)."""
    held = snapshots.of(snapshot)
    if not objects_checked:
        held.item.verify()  # every object present, of its digest; raises naming the object
    problems: list[str] = []
    keys = repository.volume_keys(held.data_epoch)
    with sessions.reading(repository.backend, keys, clock_mod.SystemClock()):
        problems += _check(repository, held, keys, read_data)
    return problems


def _check(
    repository: repo_mod.Repository,
    snapshot: snapshots.Held,
    keys: volkeys.VolumeKeys,
    read_data: bool,
) -> list[str]:
    backend = repository.backend
    doomed = collect_mod.candidate_packs(backend, keys)  # a sweep may delete them
    known = catalog.load(backend, keys, exclude=doomed)
    problems = list(known.problems)
    stored_sizes = {i.name[len(packs.PREFIX) :]: i.size for i in backend.list(packs.PREFIX)}
    wanted: list[bytes] = []
    for entry in snapshots.held_entries(snapshot):
        for chunk_id in entry.chunk_ids():
            where = known.get(chunk_id)
            if where is None:
                problems.append(f"{entry.path!r}: a chunk is in no index")
            elif where.pack_id not in stored_sizes:
                problems.append(f"{packs.name(where.pack_id)}: missing (the snapshot needs it)")
            elif known.pack_sizes[where.pack_id] != stored_sizes[where.pack_id]:
                problems.append(f"{packs.name(where.pack_id)}: not the size its index gives")
            elif read_data:
                wanted.append(chunk_id)
    if read_data and wanted:
        problems += _read_all(store.ChunkReader(backend, keys, known), dict.fromkeys(wanted))
    return problems


def _read_all(reader: store.ChunkReader, chunk_ids: abc.Iterable[bytes]) -> list[str]:
    problems: list[str] = []
    with concurrent.futures.ThreadPoolExecutor(max(4, 2 * (os.cpu_count() or 2))) as pool:
        for future in [pool.submit(reader.read, c) for c in chunk_ids]:
            try:
                future.result()
            except base_errors.IntegrityError as exc:
                problems.append(str(exc))
    return problems


def live_chunks(repository: repo_mod.Repository, epoch: int) -> set[bytes]:
    """Every chunk id a committed snapshot of ``epoch`` names (standalone or in a backup)."""
    live: set[bytes] = set()
    try:
        held = snapshots.every(repository)
    except base_errors.IntegrityError as exc:
        raise Unreadable(f"{exc}; collection refused, since its chunks would look unused") from exc
    for snapshot in held:
        if snapshot.data_epoch != epoch:
            continue
        try:
            for entry in snapshots.held_entries(snapshot):
                live.update(entry.chunk_ids())
        except base_errors.IntegrityError as exc:
            raise Unreadable(
                f"snapshot {snapshot.id} cannot be read ({exc}); collection refused, since its "
                "chunks would look unused"
            ) from exc
    if repository.listing_problems:
        raise Unreadable(
            f"{repository.listing_problems[0]}; collection refused while a snapshot or backup "
            "does not authenticate"
        )
    return live


def collect(
    repository: repo_mod.Repository, clock: clock_mod.Clock | None = None
) -> dict[int, collect_mod.Report]:
    """Collect every epoch's volume data; reports by epoch."""
    clock = clock or clock_mod.SystemClock()
    reports = {}
    for epoch in range(1, repository.current_epoch + 1):
        keys = repository.volume_keys(epoch)
        live = functools.partial(live_chunks, repository, epoch)
        reports[epoch] = collect_mod.collect(repository.backend, keys, live, clock)
    if reports:  # unfinished uploads belong to no epoch: counted with the newest
        newest = reports[repository.current_epoch]
        newest.cleared_uploads = collect_mod.clear_abandoned(repository.backend, clock)
    return reports
