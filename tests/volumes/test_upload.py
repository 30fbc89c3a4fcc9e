"""Packs streamed to storage as they are filled: bytes, memory bound, failures and aborts."""

from __future__ import annotations

import os
import pathlib
import threading
import time

import pytest

from strongroom import errors as root_errors
from strongroom.repository.volumes import catalog, keys, packs, store, upload
from strongroom.storage import base, errors, factory


def _parts(count: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(count)]


def test_the_object_is_exactly_the_bytes_pushed(backend: base.Backend) -> None:
    parts = _parts(300, 5000) + [os.urandom(3 << 20)]
    pack = upload.Upload(backend, "v/p/streamed")
    for start in range(0, len(parts), 7):
        pack.push(parts[start : start + 7])
    pack.finish([b"trailer"])
    with backend.get("v/p/streamed") as reader:
        assert store.read_all(reader) == b"".join(parts) + b"trailer"
    assert pack.size == sum(map(len, parts)) + len(b"trailer")


class _Gated:
    """A filesystem backend whose put reads only while ``gate`` is set; records read sizes."""

    def __init__(self, root: pathlib.Path) -> None:
        self.inner = factory.open_backend("filesystem", str(root), "")
        self.gate = threading.Event()
        self.reads: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def put(self, name: str, data: base.Data) -> None:
        gated = self

        class Reader:
            def read(self, size: int, /) -> bytes:
                gated.gate.wait()
                piece = data.read(size)  # type: ignore[union-attr]
                gated.reads.append(len(piece))
                return piece

        self.inner.put(name, Reader())


def test_the_writer_waits_while_the_buffer_is_full(tmp_path: pathlib.Path) -> None:
    backend = _Gated(tmp_path / "store")
    pack = upload.Upload(backend, "v/p/slow", buffer=1 << 20)  # type: ignore[arg-type]
    pushed: list[int] = []

    def writer() -> None:
        for number in range(64):
            pack.push([bytes(64 << 10)])
            pushed.append(number)

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.3)
    assert len(pushed) < 20, "pushing went on while nothing was taken"
    backend.gate.set()
    thread.join(timeout=10)
    pack.finish([])
    assert len(pushed) == 64
    assert backend.inner.stat("v/p/slow").size == 64 * (64 << 10)
    # the put was given large pieces, not one read per pushed part
    assert max(backend.reads) >= 1 << 20 and len(backend.reads) <= 8


def test_an_aborted_pack_stores_nothing_and_leaves_no_thread(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "store"
    backend = factory.open_backend("filesystem", str(root), "")
    threads = threading.active_count()
    pack = upload.Upload(backend, "v/p/givenup")
    pack.push(_parts(10, 100_000))
    pack.abort()
    assert threading.active_count() == threads
    with pytest.raises(errors.ObjectNotFound):
        backend.stat("v/p/givenup")
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers == []


class _Failing:
    """A backend whose put fails after reading ``after`` bytes."""

    def __init__(self, inner: base.Backend, after: int) -> None:
        self.inner, self.after = inner, after

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def put(self, name: str, data: base.Data) -> None:
        read = 0
        while read < self.after:
            piece = data.read(1 << 16)  # type: ignore[union-attr]
            if not piece:
                break
            read += len(piece)
        raise errors.TransientStorageError(f"put {name}: connection reset")


@pytest.mark.parametrize("after", [0, 2 << 20])
def test_a_failing_put_is_raised_in_the_writer(tmp_path: pathlib.Path, after: int) -> None:
    inner = factory.open_backend("filesystem", str(tmp_path / "store"), "")
    pack = upload.Upload(_Failing(inner, after), "v/p/broken")  # type: ignore[arg-type]
    with pytest.raises(errors.TransientStorageError, match="connection reset"):
        for _ in range(100):
            pack.push([bytes(256 << 10)])
        pack.finish([])


def test_a_pack_writer_that_gives_up_stores_no_open_pack(
    backend: base.Backend, vk: keys.VolumeKeys
) -> None:
    threads = threading.active_count()
    writer = store.PackWriter(backend, vk, catalog.Catalog())
    for number in range(50):
        chunk = os.urandom(20_000) + number.to_bytes(4, "big")
        chunk_id = vk.chunk_id(chunk)
        assert not writer.known(chunk_id)
        writer.add(chunk_id, chunk, 0, len(chunk))
    writer.abort()
    assert threading.active_count() == threads
    assert list(backend.list(packs.PREFIX)) == []
    assert writer.packs == []


def test_a_put_error_reaches_the_caller_of_add_or_close(
    tmp_path: pathlib.Path, vk: keys.VolumeKeys
) -> None:
    inner = factory.open_backend("filesystem", str(tmp_path / "store"), "")
    writer = store.PackWriter(_Failing(inner, 0), vk, catalog.Catalog())  # type: ignore[arg-type]
    with pytest.raises(root_errors.StrongroomError, match="connection reset"):
        for number in range(2000):
            chunk = os.urandom(20_000) + number.to_bytes(4, "big")
            writer.add(vk.chunk_id(chunk), chunk, 0, len(chunk))
        writer.close()
    writer.abort()


def test_a_buffer_smaller_than_a_wake_up_still_flows(backend: base.Backend) -> None:
    pack = upload.Upload(backend, "v/p/tiny", buffer=10_000)
    for _ in range(200):
        pack.push([bytes(3000)])
    pack.finish([])
    assert backend.stat("v/p/tiny").size == 600_000
