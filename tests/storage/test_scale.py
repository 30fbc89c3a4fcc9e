"""Listings that span pages and objects that span parts, with memory kept bounded."""

from __future__ import annotations

import concurrent.futures
import hashlib
import random
import tracemalloc

from strongroom.storage import base

MiB = 1024 * 1024


class GeneratedStream:
    """``size`` pseudo-random bytes produced on demand, hashed as they go out."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.remaining = size
        self.reads = 0
        self.digest = hashlib.sha256()
        self._random = random.Random(seed)

    def read(self, size: int, /) -> bytes:
        size = min(size, self.remaining, 256 * 1024)
        data = self._random.randbytes(size)
        self.remaining -= size
        self.reads += 1
        self.digest.update(data)
        return data


def test_listing_more_than_a_page_is_complete_and_sorted(backend: base.Backend) -> None:
    stored = [f"idx/{i:05x}" for i in range(1100)] + [f"other/{i}" for i in range(5)]
    random.Random(3).shuffle(stored)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: backend.put(name, b""), stored))
    listed = [info.name for info in backend.list()]
    assert listed == sorted(stored)
    assert [info.name for info in backend.list("idx/")] == sorted(n for n in stored if "idx" in n)
    tail = [info.name for info in backend.list("idx/", after="idx/003e7")]
    assert tail == [f"idx/{i:05x}" for i in range(0x3E8, 1100)]


def test_large_stream_goes_up_and_down_in_bounded_memory(backend: base.Backend) -> None:
    size = 40 * MiB
    source = GeneratedStream(size)
    tracemalloc.start()
    try:
        backend.put("large", source)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with backend.get("large") as reader:
            while piece := reader.read(MiB):
                digest.update(piece)
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert source.remaining == 0 and source.reads > 100
    assert backend.stat("large").size == size
    assert digest.hexdigest() == source.digest.hexdigest()
    # At most one 8 MiB part in memory for S3 (about 9 MiB seen), 1 MiB pieces on disk.
    assert put_peak < 12 * MiB, f"put peaked at {put_peak / MiB:.1f} MiB"
    assert get_peak < 6 * MiB, f"get peaked at {get_peak / MiB:.1f} MiB"


def test_large_range_read_from_the_middle(backend: base.Backend) -> None:
    payload = random.Random(5).randbytes(20 * MiB)
    backend.put("middle", payload)
    with backend.get("middle", 9 * MiB + 17, 3 * MiB) as reader:
        assert reader.read() == payload[9 * MiB + 17 : 12 * MiB + 17]
