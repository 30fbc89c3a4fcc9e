"""Content-defined chunking of volume data and chunk ids (docs/format.md §10.1).

A :class:`Chunker` holds one epoch's chunker secrets (the table ``T`` and the AES key ``P``)
and cuts data where the keyed rolling hash says; :func:`chunk_id` is the keyed BLAKE3 of a
chunk. The cuts come from the C extension ``strongroom.crypto._chunker`` (AES through OpenSSL's
libcrypto, scanning without the GIL) when it is built, else from ``_chunker_py``, which gives
the same cuts far more slowly; :data:`NATIVE` tells which one ``Chunker`` uses by default.

Every method may be called from several threads at once: a chunker never changes once made.
"""

from __future__ import annotations

import collections
import concurrent.futures
import mmap
from collections.abc import Callable, Iterator
from typing import NewType, Protocol, runtime_checkable

import blake3

from strongroom.crypto import _chunker_py, errors, kdf

try:
    from strongroom.crypto import _chunker
except ImportError:  # pragma: no cover - a build without the C extension
    _built = False
else:
    _built = True

MIN = _chunker_py.MIN
AVG = _chunker_py.AVG
MAX = _chunker_py.MAX
TABLE_SIZE = _chunker_py.TABLE_SIZE
PRF_KEY_SIZE = _chunker_py.PRF_KEY_SIZE
CHUNK_ID_KEY_SIZE = 32
#: How much :meth:`Chunker.chunks` reads before each scan; it holds at most BLOCK + MAX bytes.
BLOCK = 4 * 1024 * 1024
#: Whether the C extension is built, and so what ``Chunker`` uses unless told.
NATIVE: bool = _built

ChunkId = NewType("ChunkId", bytes)
Buffer = bytes | bytearray | memoryview | mmap.mmap


@runtime_checkable
class Readable(Protocol):
    """A binary file: ``read(n)`` returns up to ``n`` bytes, ``b""`` only at the end."""

    def read(self, n: int, /) -> bytes: ...


class _Cutter(Protocol):
    def cuts(self, buf: Buffer, /) -> list[int]: ...


class Chunker:
    """The chunker of one epoch: ``Chunker(table, prf_key)``, or :func:`for_epoch`.

    ``native`` picks the implementation: ``True`` the C extension (CryptoError if it is not
    built), ``False`` the pure-Python one, ``None`` (default) the C one when it is built.
    """

    def __init__(self, table: bytes, prf_key: bytes, *, native: bool | None = None) -> None:
        if len(table) != TABLE_SIZE or len(prf_key) != PRF_KEY_SIZE:
            raise errors.CryptoError("chunker: the table must be 2048 bytes, the PRF key 16")
        if native is None:
            native = NATIVE
        if native and not NATIVE:
            raise errors.CryptoError(
                "chunker: the C extension strongroom.crypto._chunker is not built "
                "(make install, with OpenSSL's headers: apt-get install libssl-dev)"
            )
        self.native = native
        self._cutter: _Cutter = (
            _chunker.Chunker(table, prf_key) if native else _chunker_py.Chunker(table, prf_key)
        )

    def cuts(self, buf: Buffer) -> list[int]:
        """The end offsets (exclusive) of every complete chunk of ``buf``, from offset 0.

        A chunk is complete when its cut condition holds or it reached MAX. What follows the
        last offset is left to the caller: scanned again with more data after it, it gives the
        cuts a scan of the whole at once gives, and at the end of the file it is the last chunk.
        """
        return self._cutter.cuts(buf)

    def chunks(
        self, source: Readable | Callable[[int], bytes], block: int = BLOCK
    ) -> Iterator[memoryview]:
        """The chunks of everything ``source`` gives until ``b""``, read ``block`` bytes at a time.

        Each chunk is a read-only view into the block it was cut from: copy it (``bytes(c)``)
        to keep it without keeping the block.
        """
        if block < 1:
            raise ValueError("chunker: the block size must be positive")
        read = _reader(source)
        rest, eof = b"", False
        while not eof:
            fresh = _fill(read, block)
            eof = len(fresh) < block
            data = rest + fresh if rest else fresh
            view, start = memoryview(data), 0
            for end in self.cuts(data):
                yield view[start:end]
                start = end
            rest = data[start:]
        if rest:
            yield memoryview(rest)

    def chunks_ahead(
        self,
        source: Readable | Callable[[int], bytes],
        pool: concurrent.futures.Executor,
        block: int = BLOCK,
        depth: int = 2,
    ) -> Iterator[memoryview]:
        """The chunks :meth:`chunks` gives, the same ones, with each block scanned in a thread
        of ``pool`` up to ``depth`` blocks ahead of the caller (on two cores, up to twice as
        fast; it holds at most ``depth + 1`` blocks).

        Each block is scanned on its own, from its first byte. A cut depends only on the
        bytes since the previous cut (§10.1), so once a scan carried over from the previous
        block's last cut meets a cut the block's own scan found, every later cut of the
        block's scan is a cut of the whole; the carried-over scan goes only that far (a chunk
        or two, usually), or over the whole block if the two never meet.
        """
        if block < 1 or depth < 1:
            raise ValueError("chunker: the block size and the depth must be positive")
        read = _reader(source)
        scans: collections.deque[tuple[bytes, concurrent.futures.Future[list[int]]]]
        scans = collections.deque()
        eof = False
        rest = b""
        while True:
            while not eof and len(scans) < depth:
                data = _fill(read, block)
                eof = len(data) < block
                if data:
                    scans.append((data, pool.submit(self.cuts, data)))
            if not scans:
                break
            data, scan = scans.popleft()
            shift, view, start = len(rest), memoryview(data), 0
            # offsets count from the start of the rest: rest and block are never joined whole,
            # only a chunk across the two (and the carried scan's window) is copied
            for end in self._carried(rest, data, scan.result()):
                if start < shift:
                    yield memoryview(rest[start:] + data[: end - shift])
                else:
                    yield view[start - shift : end - shift]
                start = end
            rest = rest[start:] + data if start < shift else data[start - shift :]
        if rest:
            yield memoryview(rest)

    def _carried(self, rest: bytes, data: bytes, own: list[int]) -> list[int]:
        """The cuts of ``rest + data`` (the previous block's rest, then a block whose own scan
        found ``own``) as one scan from its start gives them."""
        shift = len(rest)
        if not shift:
            return own  # the block starts where a chunk does: its own scan is the scan
        meets = {end + shift for end in own}
        limit = 0
        window = MAX
        while True:
            limit = min(len(data), limit + window)
            carried = self.cuts(rest + data[:limit])
            for number, end in enumerate(carried):
                if end in meets:
                    return carried[: number + 1] + [c + shift for c in own if c + shift > end]
            if limit == len(data):
                return carried
            window *= 2


def _reader(source: Readable | Callable[[int], bytes]) -> Callable[[int], bytes]:
    """A file's ``read``, or the read function itself (no Protocol ``isinstance``: that costs
    more than a small file)."""
    return getattr(source, "read", None) or source  # type: ignore[return-value]


def _fill(read: Callable[[int], bytes], size: int) -> bytes:
    """``size`` bytes from ``read``, fewer only at the end."""
    pieces, filled = [], 0
    while filled < size:
        piece = read(size - filled)
        if not piece:
            break
        pieces.append(piece)
        filled += len(piece)
    return b"".join(pieces)


def for_epoch(epoch_key: bytes, repository_id: bytes, *, native: bool | None = None) -> Chunker:
    """The chunker of epoch key ``epoch_key``: ``T`` and ``P`` are its subkeys (§4.3)."""
    table = kdf.subkey(epoch_key, repository_id, "chunker-table", TABLE_SIZE)
    prf_key = kdf.subkey(epoch_key, repository_id, "chunker-prf", PRF_KEY_SIZE)
    return Chunker(table, prf_key, native=native)


def chunk_id_key(epoch_key: bytes, repository_id: bytes) -> bytes:
    """The epoch's key of chunk ids, ``K(e, "chunk-id")``."""
    return kdf.subkey(epoch_key, repository_id, "chunk-id")


def chunk_id(key: bytes, data: Buffer) -> ChunkId:
    """``BLAKE3(key, data)``, 32 bytes: the id of the chunk ``data`` in the epoch of ``key``."""
    if len(key) != CHUNK_ID_KEY_SIZE:
        raise errors.CryptoError("chunk id: the key must be 32 bytes")
    return ChunkId(blake3.blake3(data, key=key).digest())
