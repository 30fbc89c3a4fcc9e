"""The bodies a restore is to create, kept encrypted between the planning pass and the item
they belong to: in memory while they are few, then in a temporary file.

The planning pass reads the archive once and hands each selected body to a
:class:`BodyStore`; the restorer takes each back when its item comes, in restore order. The
memory a restore needs for bodies is then that of the items in flight, whatever the size of
the backup, and the archive is read once, not once per batch.

Nothing readable reaches the disk: each body is compressed (zstd) and sealed with AES-GCM
under a key made for this store, held only in memory and gone with the process; the nonce
is the item's row, so a record moved to another row, altered or truncated fails to open
(:class:`BodyStoreError`). The sealed records stay in memory up to ``in_memory`` bytes (8
MiB, as the ciphertext a read of the repository spools: a small restore writes no file),
then all go to a file that has no name (``tempfile.TemporaryFile``) and vanishes when the
store is closed or the process ends. Writes come from one thread; reads (``os.pread``) are
safe from any thread.
"""

from __future__ import annotations

import array
import os
import tempfile
import threading
import types
from typing import IO

import zstandard
from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives.ciphers import aead

from strongroom import errors

#: Sealed bytes kept in memory before the store moves to a file.
SPOOL_IN_MEMORY = 8 << 20
#: Bytes written to the file at once, and the most one block in memory holds (one large
#: buffer, grown and let go, left the heap fragmented: up to 6 MiB more at the peak).
BLOCK = 1 << 20
_ABSENT = -1


class BodyStoreError(errors.IntegrityError):
    """A stored body did not open: the store's file changed under the restore."""


class BodyStore:
    """Bodies by row, sealed, in memory then in a nameless file (module docstring)."""

    def __init__(self, in_memory: int = SPOOL_IN_MEMORY) -> None:
        self._in_memory = in_memory
        self._file: IO[bytes] | None = None
        self._cipher = aead.AESGCM(aead.AESGCM.generate_key(bit_length=256))
        self._compressor = zstandard.ZstdCompressor(level=1, write_content_size=True)
        self._decompressor = zstandard.ZstdDecompressor()
        self._start = array.array("q")
        self._length = array.array("I")
        #: Sealed records not yet in the file (all of them while the store is in memory), in
        #: blocks of at most BLOCK bytes unless one record is larger; a record is in one block.
        self._blocks = [bytearray()]
        self._held = 0
        self._written = 0
        self._lock = threading.Lock()

    def __enter__(self) -> BodyStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and 0 <= row < len(self._start) and self._start[row] >= 0

    def put(self, row: int, body: bytes) -> None:
        """Keep the body of ``row`` (once per row)."""
        if row in self:
            raise ValueError(f"row {row} is already stored")
        sealed = self._cipher.encrypt(_nonce(row), self._compressor.compress(body), None)
        missing = row + 1 - len(self._start)
        if missing > 0:
            self._start.extend([_ABSENT] * missing)
            self._length.extend([0] * missing)
        with self._lock:
            if self._blocks[-1] and len(self._blocks[-1]) + len(sealed) > BLOCK:
                self._blocks.append(bytearray())
            self._start[row] = self._written + self._held
            self._length[row] = len(sealed)
            self._blocks[-1] += sealed
            self._held += len(sealed)
            if self._file is None and self._held > self._in_memory:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            if self._file is not None and self._held >= BLOCK:
                self._flush()

    def get(self, row: int) -> bytes:
        """The body of ``row``; KeyError when it was not stored."""
        if row not in self:
            raise KeyError(row)
        start, length = self._start[row], self._length[row]
        with self._lock:
            if self._file is None:
                sealed = self._held_record(start, length)
            else:
                self._flush()
                sealed = os.pread(self._file.fileno(), length, start)
        try:
            frame = self._cipher.decrypt(_nonce(row), sealed, None)
        except crypto_exceptions.InvalidTag as exc:
            raise BodyStoreError(f"the stored body of item {row} does not open") from exc
        with self._lock:  # a decompression context serves one call at a time
            return self._decompressor.decompress(frame)

    def _held_record(self, start: int, length: int) -> bytes:
        for block in self._blocks:
            if start < len(block):
                return bytes(block[start : start + length])
            start -= len(block)
        raise AssertionError("a stored record outside the blocks")

    def _flush(self) -> None:
        if self._held and self._file is not None:
            for block in self._blocks:
                os.pwrite(self._file.fileno(), block, self._written)
                self._written += len(block)
            self._blocks, self._held = [bytearray()], 0


def _nonce(row: int) -> bytes:
    return row.to_bytes(12, "big")
