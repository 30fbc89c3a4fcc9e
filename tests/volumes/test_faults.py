"""Volume backups killed at every put and delete, and backups racing a collection.

After every kill: no snapshot appears that was not committed, every committed snapshot still
restores byte for byte and verifies with its data, and the next run works.
"""

from __future__ import annotations

import filecmp
import pathlib
import random
import shutil
import threading

import pytest

from strongroom import clock
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.engine.volumes import backup, restore, snapshots, verify
from strongroom.repository import repo
from strongroom.storage import base


class Killed(BaseException):
    """A process killed mid-run: nothing after it runs, no handler of Exception sees it."""


class Crashing:
    """Raises :class:`Killed` at the n-th put or delete (counted across threads)."""

    def __init__(self, inner: base.Backend, crash_at: int) -> None:
        self._inner = inner
        self._left = crash_at
        self._lock = threading.Lock()
        self.fired = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def _tick(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left == 0:
                self.fired = True
                raise Killed()

    def put(self, name: str, data: base.Data) -> None:
        self._tick()
        self._inner.put(name, data)

    def delete(self, name: str) -> None:
        self._tick()
        self._inner.delete(name)


@pytest.fixture
def recovery() -> agekeys.Identity:
    return agekeys.Identity.generate()


@pytest.fixture
def made(backend: base.Backend, recovery: agekeys.Identity) -> repo.Repository:
    return repo.Repository.create(
        backend, [AgeX25519Provider(recovery.recipient())], clock.SystemClock()
    )


def _open(backend: object, recovery: agekeys.Identity) -> repo.Repository:
    credentials = provider_base.Credentials(identities=(recovery,))
    return repo.Repository.open(backend, credentials, clock.SystemClock())  # type: ignore[arg-type]


def _fill(folder: pathlib.Path, seed: int) -> None:
    rng = random.Random(seed)
    folder.mkdir(exist_ok=True)
    for i in range(6):
        (folder / f"f{i}").write_bytes(rng.randbytes(rng.randrange(1000, 90_000)))
    (folder / "big").write_bytes(rng.randbytes(300_000))


def _same(a: pathlib.Path, b: pathlib.Path) -> bool:
    compared = filecmp.dircmp(a, b)
    names = compared.common_files
    return (
        not (compared.left_only or compared.right_only)
        and not filecmp.cmpfiles(a, b, names, shallow=False)[1]
    )


def _check_committed(
    repository: repo.Repository, expected: dict[str, pathlib.Path], tmp: pathlib.Path
) -> None:
    present = {s.id for s in repository.snapshots()}
    assert present <= set(expected), "a snapshot appeared that never committed"
    assert present == set(expected), "a committed snapshot vanished"
    for snapshot_id, source in expected.items():
        item = snapshots.find(repository, snapshot_id)
        assert verify.verify(repository, item, read_data=True) == []
        target = tmp / f"check-{snapshot_id}"
        shutil.rmtree(target, ignore_errors=True)
        restore.restore(repository, item, target)
        assert _same(source, target)


def test_a_backup_killed_at_any_put_or_delete_leaves_only_committed_snapshots(
    backend: base.Backend,
    made: repo.Repository,
    recovery: agekeys.Identity,
    tmp_path: pathlib.Path,
) -> None:
    first = tmp_path / "first"
    _fill(first, 1)
    expected = {backup.backup(made, str(first)).snapshot: first}
    second = tmp_path / "second"
    shutil.copytree(first, second)
    _fill(second, 2)  # every file changes
    for crash_at in range(1, 400):
        crashing = Crashing(backend, crash_at)
        try:
            outcome = backup.backup(_open(crashing, recovery), str(second))
        except Killed:
            _check_committed(_open(backend, recovery), expected, tmp_path)
            continue
        if not crashing.fired:
            expected[outcome.snapshot] = second
            break
    else:
        pytest.fail("the backup never finished")
    assert crash_at > 5
    healthy = _open(backend, recovery)
    _check_committed(healthy, expected, tmp_path)
    verify.collect(healthy)  # the debris of every killed run is collectable, nothing else
    _check_committed(_open(backend, recovery), expected, tmp_path)


def test_backups_racing_a_collection_lose_no_chunk(
    backend: base.Backend,
    made: repo.Repository,
    recovery: agekeys.Identity,
    tmp_path: pathlib.Path,
) -> None:
    """Backups of overlapping data run while collections delete a deleted snapshot's packs."""
    folders = [tmp_path / f"src{i}" for i in range(3)]
    for i, folder in enumerate(folders):
        _fill(folder, 10 + i % 2)  # src0 and src2 hold the same data
    doomed = backup.backup(made, str(folders[0])).snapshot
    made.delete_snapshot(doomed)  # its chunks are garbage, but src2's backup will want them
    results: dict[str, pathlib.Path] = {}
    failures: list[BaseException] = []

    def run_backups() -> None:
        try:
            for folder in folders[1:]:
                outcome = backup.backup(_open(backend, recovery), str(folder))
                results[outcome.snapshot] = folder
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    def run_collections() -> None:
        try:
            for _ in range(4):
                verify.collect(_open(backend, recovery))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run_backups), threading.Thread(target=run_collections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    _check_committed(_open(backend, recovery), results, tmp_path)
    verify.collect(_open(backend, recovery))
    _check_committed(_open(backend, recovery), results, tmp_path)
