"""The body store: bodies kept encrypted by row, in memory then in a nameless temporary file."""

from __future__ import annotations

import os
import pathlib
import tempfile
from concurrent import futures

import pytest

from strongroom.engine.restore import bodystore

SECRET = b'{"kind":"Secret","data":{"password":"aHVudGVyMg=="},"note":"hunter2 hunter2"}'


@pytest.mark.parametrize("in_memory", [bodystore.SPOOL_IN_MEMORY, 1000])
def test_bodies_come_back_by_row_from_any_thread(in_memory: int) -> None:
    bodies = {row: SECRET + str(row).encode() * (row % 7) for row in range(0, 3000, 3)}
    with bodystore.BodyStore(in_memory) as store:
        for row, body in bodies.items():
            store.put(row, body)
        assert 3 in store and 4 not in store and 30_000 not in store
        with futures.ThreadPoolExecutor(4) as pool:
            found = dict(zip(bodies, pool.map(store.get, bodies), strict=True))
        assert found == bodies
        assert (store._file is None) == (in_memory == bodystore.SPOOL_IN_MEMORY)
        with pytest.raises(KeyError):
            store.get(4)
        with pytest.raises(ValueError, match="already stored"):
            store.put(3, b"again")


def test_nothing_readable_reaches_the_disk_and_the_file_has_no_name(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with bodystore.BodyStore(in_memory=0) as store:
        for row in range(200):
            store.put(row, SECRET)
        store.get(0)  # written out
        assert store._file is not None
        fd = store._file.fileno()
        stored = os.pread(fd, os.fstat(fd).st_size, 0)
        assert list(tmp_path.iterdir()) == []
    assert len(stored) > 200 * 16
    assert b"hunter2" not in stored and b"aHVudGVyMg" not in stored and b"Secret" not in stored


@pytest.mark.parametrize("in_memory", [bodystore.SPOOL_IN_MEMORY, 3 * bodystore.BLOCK])
def test_records_in_several_blocks_then_in_the_file(in_memory: int) -> None:
    bodies = {row: os.urandom(50_000) for row in range(100)}  # 5 MB, not compressible
    with bodystore.BodyStore(in_memory) as store:
        for row, body in bodies.items():
            store.put(row, body)
        assert all(store.get(row) == body for row, body in bodies.items())
        assert (store._file is None) == (in_memory == bodystore.SPOOL_IN_MEMORY)
        assert store._file is not None or len(store._blocks) == 5


@pytest.mark.parametrize("change", ["flip", "swap"])
def test_a_changed_file_fails_to_open(change: str) -> None:
    with bodystore.BodyStore(in_memory=0) as store:
        store.put(0, SECRET)
        store.put(1, SECRET)
        store.get(0)
        assert store._file is not None
        fd = store._file.fileno()
        size = os.fstat(fd).st_size
        data = bytearray(os.pread(fd, size, 0))
        if change == "flip":
            data[5] ^= 1
        else:  # the two records exchanged: each sealed under another row
            half = size // 2
            data = data[half:] + data[:half]
        os.pwrite(fd, bytes(data), 0)
        with pytest.raises(bodystore.BodyStoreError, match="item 0"):
            store.get(0)
