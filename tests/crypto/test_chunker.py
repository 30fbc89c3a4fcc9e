"""The chunker's interface: the C extension is built, any buffer is accepted, the streaming
helper, threads, sizes and chunk ids. Its cuts are pinned by ``tests/kat/chunker.json`` and its
properties by ``test_chunker_properties.py``."""

from __future__ import annotations

import importlib
import io
import mmap
import random
import threading

import blake3
import pytest

from strongroom.crypto import chunker, errors

EPOCH_KEY = bytes(range(32))
REPOSITORY_ID = bytes(range(100, 116))
DATA = random.Random(1).randbytes(3 * 1024 * 1024)


@pytest.fixture(scope="module")
def native() -> chunker.Chunker:
    return chunker.for_epoch(EPOCH_KEY, REPOSITORY_ID, native=True)


def test_the_c_extension_is_built_and_used_by_default() -> None:
    """Fails, never skips, when the extension is missing: the Python chunker is ~100x slower."""
    module = importlib.import_module("strongroom.crypto._chunker")
    assert (module.MIN, module.AVG, module.MAX) == (chunker.MIN, chunker.AVG, chunker.MAX)
    assert chunker.NATIVE
    assert chunker.for_epoch(EPOCH_KEY, REPOSITORY_ID).native


def test_asking_for_the_c_chunker_without_it_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunker, "NATIVE", False)
    with pytest.raises(errors.CryptoError, match="not built"):
        chunker.for_epoch(EPOCH_KEY, REPOSITORY_ID, native=True)
    assert not chunker.for_epoch(EPOCH_KEY, REPOSITORY_ID).native


@pytest.mark.parametrize(("table", "key"), [(bytes(2047), bytes(16)), (bytes(2048), bytes(32))])
def test_table_and_key_sizes_are_checked(table: bytes, key: bytes) -> None:
    for native in (True, False):
        with pytest.raises(errors.CryptoError):
            chunker.Chunker(table, key, native=native)
    with pytest.raises(ValueError):
        importlib.import_module("strongroom.crypto._chunker").Chunker(table, key)


def test_cuts_accept_every_contiguous_buffer(native: chunker.Chunker) -> None:
    expected = native.cuts(DATA)
    assert len(expected) > 5
    with mmap.mmap(-1, len(DATA)) as mapped:
        mapped.write(DATA)
        assert native.cuts(mapped) == expected
    assert native.cuts(bytearray(DATA)) == expected
    assert native.cuts(memoryview(DATA)) == expected
    assert native.cuts(memoryview(b"xx" + DATA)[2:]) == expected
    with pytest.raises(BufferError):
        native.cuts(memoryview(DATA)[::2])
    with pytest.raises(TypeError):
        native.cuts("text")  # type: ignore[arg-type]


def test_short_inputs_have_no_complete_chunk(native: chunker.Chunker) -> None:
    for size in (0, 1, 64, chunker.MIN - 1):
        assert native.cuts(DATA[:size]) == []
        assert [bytes(c) for c in native.chunks(io.BytesIO(DATA[:size]))] == (
            [DATA[:size]] if size else []
        )


def test_chunks_from_a_file_or_a_read_function_cover_the_input(native: chunker.Chunker) -> None:
    from_file = [bytes(c) for c in native.chunks(io.BytesIO(DATA), block=1 << 20)]
    source = io.BytesIO(DATA)
    from_read = [bytes(c) for c in native.chunks(source.read)]
    assert from_file == from_read and b"".join(from_file) == DATA
    assert all(isinstance(c, memoryview) and c.readonly for c in native.chunks(io.BytesIO(DATA)))
    with pytest.raises(ValueError):
        next(native.chunks(io.BytesIO(DATA), block=0))


def test_one_chunker_cuts_in_many_threads_at_once(native: chunker.Chunker) -> None:
    inputs = [random.Random(seed).randbytes(2 * 1024 * 1024) for seed in range(4)]
    expected = [native.cuts(data) for data in inputs]
    results: dict[int, list[int]] = {}

    def run(k: int) -> None:
        for _ in range(3):
            results[k] = native.cuts(inputs[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[k] for k in range(len(inputs))] == expected


def test_chunk_id_is_keyed_blake3() -> None:
    key = chunker.chunk_id_key(EPOCH_KEY, REPOSITORY_ID)
    view = memoryview(DATA)[:1000]
    assert chunker.chunk_id(key, view) == blake3.blake3(DATA[:1000], key=key).digest()
    assert len(chunker.chunk_id(key, b"")) == 32
    assert chunker.chunk_id(key, b"a") != chunker.chunk_id(bytes(32), b"a")
    with pytest.raises(errors.CryptoError):
        chunker.chunk_id(bytes(16), b"a")
