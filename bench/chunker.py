"""Throughput of the chunker (docs/format.md §10.1) and of chunk ids.

Usage: ``.venv/bin/python bench/chunker.py [MiB]`` (default 128). Prints MB/s (10^6 bytes per
second of input), best of three runs, for: the C chunker's ``cuts`` on one thread; two threads
each cutting its own buffer at once (the sum; about twice one thread when the GIL is released
and two cores are free); ``chunks`` streaming from a file object in 4 MiB blocks; the
pure-Python chunker on 4 MiB; keyed BLAKE3 chunk ids over the chunks; and chunking plus ids.
Last, how far a pure-Python thread counts while one ``cuts`` call runs: the GIL is released.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time

import timing

from strongroom.crypto import chunker

MiB = 1024 * 1024
PYTHON_MiB = 4


def _in_threads(cutter: chunker.Chunker, buffers: list[bytes]) -> None:
    threads = [threading.Thread(target=cutter.cuts, args=(b,)) for b in buffers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _ticks_during(cutter: chunker.Chunker, data: bytes) -> tuple[int, float]:
    """How far a pure-Python thread counts while one ``cuts`` call runs, and the call's time."""
    count, running, started = [0], threading.Event(), threading.Event()

    def counter() -> None:
        started.set()
        while not running.is_set():
            pass
        while running.is_set():
            count[0] += 1

    thread = threading.Thread(target=counter)
    thread.start()
    started.wait()
    running.set()
    before = count[0]
    start = time.perf_counter()
    cutter.cuts(data)
    seconds = time.perf_counter() - start
    ticks = count[0] - before
    running.clear()
    thread.join()
    return ticks, seconds


def main() -> None:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 128
    epoch_key, repository_id = os.urandom(32), os.urandom(16)
    native = chunker.for_epoch(epoch_key, repository_id, native=True)
    python = chunker.for_epoch(epoch_key, repository_id, native=False)
    id_key = chunker.chunk_id_key(epoch_key, repository_id)
    data, other = os.urandom(mib * MiB), os.urandom(mib * MiB)
    small = data[: PYTHON_MiB * MiB]
    pieces = [bytes(c) for c in native.chunks(io.BytesIO(data))]

    def ids() -> None:
        for piece in pieces:
            chunker.chunk_id(id_key, piece)

    def chunks_and_ids() -> None:
        for piece in native.chunks(io.BytesIO(data)):
            chunker.chunk_id(id_key, piece)

    def two_threads() -> None:
        _in_threads(native, [data, other])

    def python_cuts() -> None:
        python.cuts(small)

    def streamed() -> None:
        for _ in native.chunks(io.BytesIO(data)):
            pass

    rows = [
        ("C chunker, cuts, 1 thread", len(data), timing.best(lambda: native.cuts(data))),
        ("C chunker, cuts, 2 threads (sum)", 2 * len(data), timing.best(two_threads)),
        ("C chunker, chunks() from a file", len(data), timing.best(streamed)),
        (f"Python chunker, cuts ({PYTHON_MiB} MiB)", len(small), timing.best(python_cuts, 1)),
        ("chunk ids, keyed BLAKE3", len(data), timing.best(ids)),
        ("C chunks() + chunk ids", len(data), timing.best(chunks_and_ids)),
    ]  # fmt: skip
    sizes = [len(p) for p in pieces]
    mean = sum(sizes) / len(sizes) / 1024
    print(f"{mib} MiB of random data: {len(sizes)} chunks of {mean:.0f} KiB on average")
    print(f"{'':40} {'MB/s':>8}")
    for name, size, seconds in rows:
        print(f"{name:40} {size / seconds / 1e6:8.1f}")
    ticks, seconds = _ticks_during(native, data)
    print(f"a Python thread counted to {ticks} during one cuts() call of {seconds * 1e3:.0f} ms")
    print("(it could not count at all if the call held the GIL)")


if __name__ == "__main__":
    main()
