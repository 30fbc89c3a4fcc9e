"""The chunker of docs/format.md §10.1 in pure Python: the C extension's cuts, much slower.

Same construction and the same batching as ``_chunker.c``: the window hash is restarted at each
chunk (the window of a tested position, ``L >= MIN >= 64``, lies inside its chunk), positions
with ``L < MIN`` are skipped, and the hashes of up to ``BATCH`` positions go through one
AES-128-ECB call. Used where the extension is not built, and by the tests as its cross-check.
"""

from __future__ import annotations

import mmap
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

MIN = 32 * 1024
AVG = 128 * 1024
MAX = 512 * 1024
WINDOW = 64
TABLE_SIZE = 2048
PRF_KEY_SIZE = 16
HARD_MASK = (1 << 19) - 1
EASY_MASK = (1 << 15) - 1
BATCH = 4096
_M64 = (1 << 64) - 1


def times_x(h: int) -> int:
    """``x·h`` modulo ``x^64 + x^4 + x^3 + x + 1``."""
    return ((h << 1) & _M64) ^ (0x1B if h >> 63 else 0)


class Chunker:
    """``Chunker(table, prf_key)``: the cuts of §10.1; immutable, so usable from any thread."""

    def __init__(self, table: bytes, prf_key: bytes) -> None:
        if len(table) != TABLE_SIZE or len(prf_key) != PRF_KEY_SIZE:
            raise ValueError("Chunker: the table is 2048 bytes, the PRF key 16")
        self._table = struct.unpack("<256Q", table)
        leave = []
        for t in self._table:
            for _ in range(WINDOW):
                t = times_x(t)
            leave.append(t)
        self._leave = tuple(leave)
        # ECB on single blocks is the PRF of §10.1, not a way to encrypt data.
        self._cipher = Cipher(algorithms.AES(bytes(prf_key)), modes.ECB())  # noqa: S305

    def cuts(self, buf: bytes | bytearray | memoryview | mmap.mmap) -> list[int]:
        """The end offsets of the complete chunks of ``buf``, scanning from offset 0."""
        data = bytes(buf)
        encryptor = self._cipher.encryptor()
        out: list[int] = []
        start = 0
        while length := self._next_cut(encryptor, data, start):
            start += length
            out.append(start)
        return out

    def _next_cut(self, encryptor: CipherContext, data: bytes, start: int) -> int:
        """The length of the chunk starting at ``start``, or 0 if it is not complete."""
        avail = len(data) - start
        if avail < MIN:
            return 0
        last = MAX - 1 if avail >= MAX else avail  # the largest L tested through AES
        table, leave = self._table, self._leave
        h = 0
        for b in data[start + MIN - WINDOW - 1 : start + MIN - 1]:
            h = ((h << 1) & _M64) ^ (0x1B if h >> 63 else 0) ^ table[b]
        length = MIN
        while length <= last:
            # A batch never crosses AVG, so that one mask holds for all of it.
            end = min(last + 1, length + BATCH, AVG if length < AVG else last + 1)
            hashes = []
            for pos in range(start + length - 1, start + end - 1):
                h = (
                    ((h << 1) & _M64)
                    ^ (0x1B if h >> 63 else 0)
                    ^ table[data[pos]]
                    ^ leave[data[pos - WINDOW]]
                )
                hashes.append(h)
            blocks = [0] * (2 * len(hashes))
            blocks[0::2] = hashes
            sealed = encryptor.update(struct.pack(f"<{len(blocks)}Q", *blocks))
            mask = HARD_MASK if length < AVG else EASY_MASK
            outputs = struct.unpack(f"<{len(blocks)}Q", sealed)[0::2]
            hit = next((j for j, r in enumerate(outputs) if not r & mask), None)
            if hit is not None:
                return length + hit
            length = end
        return MAX if avail >= MAX else 0
