"""Garbage collection of one epoch's volume data on write-once storage (docs/format.md §10.6).

Two phases. :func:`mark` finds packs no snapshot needs and packs mostly garbage, copies the
live chunks of the latter into new packs, and stores ``v/g/<gc-id>/candidates`` and then
``v/g/<gc-id>/waiting`` (the sessions present after the candidates were stored).
:func:`sweep` acts on a mark only once every waiting session has ended or died; it asks for
the live chunks again (a waiting session may have committed a snapshot reusing a candidate),
keeps what is needed after all, indexes again the surviving packs of the indexes it deletes,
and deletes indexes, then packs, then the records. The engine supplies the live chunk ids: it
alone reads trees.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import abc
from typing import Any

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.repository import documents
from strongroom.repository.volumes import catalog as catalog_mod
from strongroom.repository.volumes import indexes, packs, records, sessions, store
from strongroom.repository.volumes.keys import VolumeKeys
from strongroom.storage import base as storage_base

PREFIX = "v/g/"
REPACK_BELOW = 0.5
LiveChunks = abc.Callable[[], set[bytes]]


@dataclasses.dataclass
class Report:
    """What one collection run did, for the command's output."""

    marked: list[str] = dataclasses.field(default_factory=list)
    waiting: list[str] = dataclasses.field(default_factory=list)
    deleted_packs: int = 0
    deleted_bytes: int = 0
    repacked_packs: int = 0
    new_packs: int = 0
    kept: int = 0
    cleared_uploads: int = 0
    problems: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _State:
    """Every index of the epoch, read raw, and every pack stored."""

    items: dict[str, list[indexes.PackEntries]]
    stored: dict[str, storage_base.ObjectInfo]

    def by_pack(self) -> dict[str, indexes.PackEntries]:
        return {item.pack_id: item for items in self.items.values() for item in items}


def _state(backend: storage_base.Backend, keys: VolumeKeys, report: Report) -> _State:
    items, problems = catalog_mod.read_indexes(backend, keys)
    report.problems += problems
    stored = {i.name[len(packs.PREFIX) :]: i for i in backend.list(packs.PREFIX)}
    return _State(items, stored)


def _record(gc_id: str, part: str) -> str:
    return f"{PREFIX}{gc_id}/{part}"


def mark(
    backend: storage_base.Backend,
    keys: VolumeKeys,
    live: set[bytes],
    clock: clock_mod.Clock,
    report: Report,
) -> str | None:
    """Choose and record what to delete; the mark's id, or None when nothing is garbage."""
    state = _state(backend, keys, report)
    by_pack = state.by_pack()
    elsewhere: dict[bytes, int] = {}
    doomed: set[str] = set()
    sparse: dict[str, list[tuple[int, packs.Entry]]] = {}
    for pack_id, item in by_pack.items():
        if pack_id not in state.stored:
            continue
        needed = [(n, e) for n, e in enumerate(item.entries) if e.chunk_id in live]
        data = sum(e.stored for e in item.entries)  # the pack's fixed overhead aside
        share = sum(e.stored for _, e in needed) / max(data, 1)
        if not needed:
            doomed.add(pack_id)
        elif share < REPACK_BELOW:
            sparse[pack_id] = needed
        else:
            for _, e in needed:
                elsewhere[e.chunk_id] = 1
    now = clock.now()
    for pack_id, info in state.stored.items():
        old = info.modified is not None and now.timestamp() - info.modified > (
            sessions.DEAD_AFTER.total_seconds()
        )
        if pack_id not in by_pack and old:
            doomed.add(pack_id)  # debris of a crashed backup
    _repack(backend, keys, sparse, elsewhere, by_pack, report)
    doomed |= set(sparse)
    if not doomed:
        return None
    doomed_indexes = sorted(
        i for i, items in state.items.items() if any(it.pack_id in doomed for it in items)
    )
    gc_id = documents.new_id()
    body = {"gc": gc_id, "marked": clock_mod.rfc3339(now), "packs": sorted(doomed)}
    body["indexes"] = doomed_indexes
    backend.put(_record(gc_id, "candidates"), records.seal(keys, records.CANDIDATES_FORMAT, body))
    seen, problems = sessions.listing(backend, keys)
    report.problems += problems
    waiting = {
        "gc": gc_id,
        "sessions": sorted(s for s, x in seen.items() if sessions.alive(x, now)),
    }
    backend.put(_record(gc_id, "waiting"), records.seal(keys, records.WAITING_FORMAT, waiting))
    report.marked.append(gc_id)
    return gc_id


def _repack(
    backend: storage_base.Backend,
    keys: VolumeKeys,
    sparse: dict[str, list[tuple[int, packs.Entry]]],
    elsewhere: dict[bytes, int],
    by_pack: dict[str, indexes.PackEntries],
    report: Report,
) -> None:
    """Copy the live chunks of mostly-garbage packs into new packs (with their index)."""
    if not sparse:
        return
    reading = catalog_mod.Catalog()
    for pack_id in sparse:
        reading.add(by_pack[pack_id])
    reader = store.ChunkReader(backend, keys, reading)
    writer = store.PackWriter(backend, keys, catalog_mod.Catalog())
    try:
        for needed in sparse.values():
            for _, entry in needed:
                if entry.chunk_id in elsewhere or writer.known(entry.chunk_id):
                    continue
                plain = reader.read(entry.chunk_id)
                stored, flags = packs.compress(plain)
                writer.add(entry.chunk_id, stored, flags, len(plain))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    report.repacked_packs += len(sparse)
    report.new_packs += len(writer.packs)


def pending(backend: storage_base.Backend) -> dict[str, set[str]]:
    """Marks stored now: gc id -> the parts present (``candidates``, ``waiting``)."""
    marks: dict[str, set[str]] = {}
    for info in backend.list(PREFIX):
        gc_id, _, part = info.name[len(PREFIX) :].partition("/")
        marks.setdefault(gc_id, set()).add(part)
    return marks


def candidate_packs(backend: storage_base.Backend, keys: VolumeKeys) -> set[str]:
    """Packs some mark of this epoch will delete: a backup must not reuse their chunks."""
    doomed: set[str] = set()
    for gc_id, parts in pending(backend).items():
        if "candidates" not in parts:
            continue
        with contextlib.suppress(base_errors.NotFoundError, records.OtherEpoch):
            doc = records.read(
                backend, _record(gc_id, "candidates"), keys, records.CANDIDATES_FORMAT
            )
            doomed.update(str(p) for p in doc.get("packs", []))
    return doomed


def sweep(
    backend: storage_base.Backend,
    keys: VolumeKeys,
    live_chunks: LiveChunks,
    clock: clock_mod.Clock,
    report: Report,
) -> None:
    """Carry out every mark of this epoch whose waiting sessions are gone."""
    for gc_id, parts in sorted(pending(backend).items()):
        if "candidates" not in parts:
            _drop(backend, gc_id)  # a run stopped while removing its records: it was done
            continue
        try:
            candidates = records.read(
                backend, _record(gc_id, "candidates"), keys, records.CANDIDATES_FORMAT
            )
            if "waiting" not in parts:
                _drop(backend, gc_id)  # the marking run stopped between its two records
                continue
            waiting = records.read(backend, _record(gc_id, "waiting"), keys, records.WAITING_FORMAT)
        except records.OtherEpoch:
            continue
        except base_errors.NotFoundError:
            continue
        except base_errors.IntegrityError as exc:
            report.problems.append(str(exc))
            continue
        seen, _ = sessions.listing(backend, keys)
        now = clock.now()
        still = [
            s for s in waiting.get("sessions", []) if s in seen and sessions.alive(seen[s], now)
        ]
        if still:
            report.waiting.append(gc_id)
            continue
        _carry_out(backend, keys, gc_id, candidates, live_chunks(), report)


def _carry_out(
    backend: storage_base.Backend,
    keys: VolumeKeys,
    gc_id: str,
    candidates: dict[str, Any],
    live: set[bytes],
    report: Report,
) -> None:
    state = _state(backend, keys, report)
    by_pack = state.by_pack()
    doomed = {str(p) for p in candidates.get("packs", [])}
    outside = {
        e.chunk_id
        for pack_id, item in by_pack.items()
        if pack_id not in doomed and pack_id in state.stored
        for e in item.entries
    }
    for pack_id in sorted(doomed):
        item = by_pack.get(pack_id)
        if item and any(e.chunk_id in live and e.chunk_id not in outside for e in item.entries):
            doomed.discard(pack_id)  # reused by a snapshot that committed after the mark
            report.kept += 1
    doomed_indexes = [
        i for i, items in state.items.items() if any(it.pack_id in doomed for it in items)
    ]
    survivors = [it for i in doomed_indexes for it in state.items[i] if it.pack_id not in doomed]
    for start in range(0, len(survivors), indexes.MAX_PACKS):
        batch = survivors[start : start + indexes.MAX_PACKS]
        index_id, data = indexes.seal(keys.index_key, keys.repository, keys.epoch, batch)
        backend.put(indexes.name(index_id), data)
    for index_id in doomed_indexes:
        with contextlib.suppress(base_errors.NotFoundError):
            backend.delete(indexes.name(index_id))
    for pack_id in sorted(doomed):
        with contextlib.suppress(base_errors.NotFoundError):
            backend.delete(packs.name(pack_id))
            report.deleted_packs += 1
            report.deleted_bytes += state.stored[pack_id].size if pack_id in state.stored else 0
    _drop(backend, gc_id)


def _drop(backend: storage_base.Backend, gc_id: str) -> None:
    for part in ("candidates", "waiting"):
        with contextlib.suppress(base_errors.NotFoundError):
            backend.delete(_record(gc_id, part))


def collect(
    backend: storage_base.Backend,
    keys: VolumeKeys,
    live_chunks: LiveChunks,
    clock: clock_mod.Clock,
) -> Report:
    """One collection run: finish ready marks, mark anew, and sweep at once if nobody waits."""
    report = Report()
    sweep(backend, keys, live_chunks, clock, report)
    if not pending(backend):
        mark(backend, keys, live_chunks(), clock, report)
        sweep(backend, keys, live_chunks, clock, report)
    return report


def clear_abandoned(backend: storage_base.Backend, clock: clock_mod.Clock) -> int:
    """Clear the unfinished pack uploads that killed backups left (docs/format.md §10.6).

    A running backup's open packs are unfinished uploads too, so nothing is cleared while any
    session, of any epoch, showed a sign of life within :data:`sessions.DEAD_AFTER` (the
    storage's time of its newest object, readable without its epoch's keys), and then only
    uploads older than that. Returns how many were cleared.
    """
    cutoff = clock.now().timestamp() - sessions.DEAD_AFTER.total_seconds()
    for info in backend.list(sessions.PREFIX):
        if info.modified is None or info.modified >= cutoff:
            return 0
    return backend.clear_unfinished(packs.PREFIX, cutoff)
