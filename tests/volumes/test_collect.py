"""Garbage collection on write-once storage (format §10.6), against real backends.

Each test plays the protocol's interleavings by hand: a backup's session object stored before
or after a mark, a snapshot committed between mark and sweep, crashes at every put and delete.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import threading

import pytest

from strongroom import clock as clock_mod
from strongroom import errors as base_errors
from strongroom.repository.volumes import catalog, collect, keys, packs, sessions, store
from strongroom.storage import base
from tests.storage.conftest import begin_s3_upload, s3_uploads


class FixedClock:
    def __init__(self, moment: datetime.datetime) -> None:
        self.moment = moment

    def now(self) -> datetime.datetime:
        return self.moment


NOW = clock_mod.SystemClock()


def _store_chunks(
    backend: base.Backend, vk: keys.VolumeKeys, chunks: list[bytes], target: int = 48 << 10
) -> list[str]:
    writer = store.PackWriter(backend, vk, catalog.load(backend, vk), pack_target=target)
    for chunk in chunks:
        cid = vk.chunk_id(chunk)
        if not writer.known(cid):
            writer.add(cid, chunk, 0, len(chunk))
    writer.close()
    return writer.packs


def _readable(backend: base.Backend, vk: keys.VolumeKeys, chunks: list[bytes]) -> bool:
    reader = store.ChunkReader(backend, vk, catalog.load(backend, vk))
    return all(reader.read(vk.chunk_id(c)) == c for c in chunks)


def _random(n: int, size: int = 20_000) -> list[bytes]:
    return [os.urandom(size) for _ in range(n)]


def _pack_names(backend: base.Backend) -> set[str]:
    return {i.name for i in backend.list(packs.PREFIX)}


def test_unreferenced_packs_are_deleted_and_live_data_stays(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    kept, dropped = _random(6), _random(6)
    _store_chunks(backend, vk, kept)
    garbage_packs = _store_chunks(backend, vk, dropped)
    live = {vk.chunk_id(c) for c in kept}
    report = collect.collect(backend, vk, lambda: live, NOW)
    assert report.deleted_packs == len(garbage_packs)
    assert not _pack_names(backend) & {packs.name(p) for p in garbage_packs}
    assert _readable(backend, vk, kept)
    assert not list(backend.list(collect.PREFIX)), "the marks are gone once carried out"
    assert collect.collect(backend, vk, lambda: live, NOW).deleted_packs == 0


def test_mostly_garbage_packs_are_rewritten(backend: base.Backend, vk: keys.VolumeKeys) -> None:
    chunks = _random(40, 5_000)
    old = _store_chunks(backend, vk, chunks, target=1 << 30)
    live = {vk.chunk_id(c) for c in chunks[:2]}  # 5 % of the data, each pack far below half
    before = catalog.load(backend, vk)
    holding = {w.pack_id for cid in live if (w := before.get(cid)) is not None}
    report = collect.collect(backend, vk, lambda: live, NOW)
    assert report.repacked_packs == len(holding) and report.new_packs >= 1
    assert report.deleted_packs == len(old)
    assert not _pack_names(backend) & {packs.name(p) for p in old}
    assert _readable(backend, vk, chunks[:2])
    assert len(catalog.load(backend, vk)) == 2


def test_a_session_present_at_the_mark_holds_the_sweep_back(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    """A backup that began before the mark may reuse a candidate: the sweep waits for it,
    then keeps what its snapshot reuses."""
    reused, dropped = _random(3), _random(3)
    _store_chunks(backend, vk, reused)
    dropped_packs = _store_chunks(backend, vk, dropped)
    session = sessions.Session(backend, vk, NOW)
    session.start()  # before the mark: this backup may not see the candidates
    report = collect.collect(backend, vk, lambda: set(), NOW)
    assert report.marked and report.waiting == report.marked and report.deleted_packs == 0
    assert _readable(backend, vk, reused + dropped)
    # the backup commits a snapshot reusing `reused`, then ends; the next run sweeps
    session.end()
    live = {vk.chunk_id(c) for c in reused}
    report = collect.collect(backend, vk, lambda: live, NOW)
    assert report.kept >= 1 and report.deleted_packs == len(dropped_packs)
    assert _readable(backend, vk, reused)


def test_a_session_started_after_the_mark_sees_the_candidates(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    chunks = _random(3)
    stored = _store_chunks(backend, vk, chunks)
    blocker = sessions.Session(backend, vk, NOW)
    blocker.start()
    collect.collect(backend, vk, lambda: set(), NOW)  # marks, waits for `blocker`
    doomed = collect.candidate_packs(backend, vk)
    assert doomed == set(stored)
    fresh = catalog.load(backend, vk, exclude=doomed)
    assert all(vk.chunk_id(c) not in fresh for c in chunks), "a new backup stores them again"


def test_a_dead_session_does_not_hold_the_sweep_back(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    stored = _store_chunks(backend, vk, _random(2))
    long_ago = FixedClock(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2))
    sessions.Session(backend, vk, long_ago).start()  # a backup that crashed two hours ago
    report = collect.collect(backend, vk, lambda: set(), NOW)
    assert report.deleted_packs == len(stored) and not report.waiting


def test_a_refreshed_session_stays_alive(backend: base.Backend, vk: keys.VolumeKeys) -> None:
    session = sessions.Session(backend, vk, NOW)
    session.start()
    first = session.name
    session.refresh(force=True)
    assert session.name != first
    with pytest.raises(base_errors.NotFoundError):
        backend.stat(first)
    seen, problems = sessions.listing(backend, vk)
    assert not problems and list(seen) == [session.id]
    backend.delete(session.name)
    with pytest.raises(sessions.SessionLost):
        session.check()


def test_debris_packs_are_deleted_only_when_old(backend: base.Backend, vk: keys.VolumeKeys) -> None:
    builder = packs.Builder(vk.repository, vk.epoch, vk.recipient)
    builder.add(b"\x01" * 32, b"x" * 100, 0, 100)
    data, _ = builder.finish()
    backend.put(packs.name(builder.pack_id), data)  # stored, never indexed: a crashed backup
    assert collect.collect(backend, vk, set, NOW).deleted_packs == 0
    later = FixedClock(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2))
    assert collect.collect(backend, vk, set, later).deleted_packs == 1


def test_a_mark_without_its_waiting_record_is_marked_again(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    stored = _store_chunks(backend, vk, _random(2))
    report = collect.Report()
    gc_id = collect.mark(backend, vk, set(), NOW, report)
    assert gc_id is not None
    backend.delete(f"{collect.PREFIX}{gc_id}/waiting")  # the marking run died in between
    report = collect.collect(backend, vk, lambda: set(), NOW)
    assert report.deleted_packs == len(stored) and report.marked and gc_id not in report.marked


class Crashing:
    """A backend that raises at the n-th put or delete, to stop a run at every step."""

    def __init__(self, inner: base.Backend, crash_at: int) -> None:
        self._inner = inner
        self._left = crash_at
        self._lock = threading.Lock()  # packs are put from threads of their own

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def _tick(self) -> None:
        with self._lock:
            self._left -= 1
            fire = self._left == 0
        if fire:
            raise KeyboardInterrupt("killed")

    def put(self, name: str, data: base.Data) -> None:
        self._tick()
        self._inner.put(name, data)

    def delete(self, name: str) -> None:
        self._tick()
        self._inner.delete(name)


def test_a_collection_killed_at_any_step_loses_no_live_chunk(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    live_chunks = _random(8, 6_000)
    _store_chunks(backend, vk, live_chunks[:4] + _random(4, 6_000), target=30_000)
    _store_chunks(backend, vk, live_chunks[4:] + _random(6, 6_000), target=30_000)
    live = {vk.chunk_id(c) for c in live_chunks}
    for crash_at in range(1, 200):
        crashing = Crashing(backend, crash_at)
        try:
            collect.collect(crashing, vk, lambda: live, NOW)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            assert _readable(backend, vk, live_chunks), f"lost data when killed at {crash_at}"
            continue
        break
    else:
        pytest.fail("the collection never finished")
    assert crash_at > 5
    collect.collect(backend, vk, lambda: live, NOW)
    assert _readable(backend, vk, live_chunks)
    remaining = catalog.load(backend, vk)
    assert all(vk.chunk_id(c) in remaining for c in live_chunks)
    assert not list(backend.list(collect.PREFIX))


def test_a_small_pack_that_is_all_live_is_left_alone(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    """A pack's fixed overhead (key file, trailer, padding) is not garbage: collections settle."""
    tiny = [b"x" * 40]
    stored = _store_chunks(backend, vk, tiny)
    live = {vk.chunk_id(tiny[0])}
    for _ in range(2):
        report = collect.collect(backend, vk, lambda: live, NOW)
        assert report.deleted_packs == report.repacked_packs == report.new_packs == 0
    assert _pack_names(backend) == {packs.name(p) for p in stored}


def _abandoned_upload(backend: base.Backend, request: pytest.FixtureRequest) -> None:
    """What a backup killed while filling a pack leaves: an unfinished put under ``v/p/``."""
    if request.node.callspec.params["backend"] == "filesystem":
        folder = pathlib.Path(backend.location) / "v" / "p"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".tmp-killed").write_bytes(os.urandom(1000))
        return
    begin_s3_upload(request, "v/p/killed")


def _unfinished(backend: base.Backend, request: pytest.FixtureRequest) -> int:
    if request.node.callspec.params["backend"] == "filesystem":
        folder = pathlib.Path(backend.location) / "v" / "p"
        return len([p for p in folder.iterdir() if p.name.startswith(".tmp-")])
    return s3_uploads(request, "v/p/")


def test_unfinished_uploads_of_killed_backups_are_cleared_once_no_session_lives(
    backend: base.Backend, vk: keys.VolumeKeys, request: pytest.FixtureRequest
) -> None:
    kept = _store_chunks(backend, vk, _random(3))
    _abandoned_upload(backend, request)
    later = FixedClock(datetime.datetime.now(datetime.UTC) + 2 * sessions.DEAD_AFTER)
    if request.node.callspec.params["backend"] == "filesystem":
        # an upload two hours old, beside a session alive now (a backup running: its own open
        # packs are unfinished uploads too): nothing is cleared while it lives
        old = (later.now() - 3 * sessions.DEAD_AFTER).timestamp()
        for path in (pathlib.Path(backend.location) / "v" / "p").glob(".tmp-*"):
            os.utime(path, (old, old))
        session = sessions.Session(backend, vk, NOW)
        session.start()
        assert collect.clear_abandoned(backend, NOW) == 0
        assert _unfinished(backend, request) == 1
        session.end()
        assert collect.clear_abandoned(backend, NOW) == 1
    else:
        assert collect.clear_abandoned(backend, NOW) == 0, "too recent to be a killed backup's"
        assert collect.clear_abandoned(backend, later) == 1
    assert _unfinished(backend, request) == 0
    assert collect.clear_abandoned(backend, later) == 0
    assert _pack_names(backend) == {packs.name(p) for p in kept}
