"""Packs of volume data (docs/format.md §10.2): a key file, AEAD blobs, an encrypted trailer.

A pack of about 32 MiB is stored create-only in one put, streamed as it is built
(:mod:`.upload`), or built in memory and stored at once. Its key is random,
used for this pack alone, and reaches readers only through the age key file at its start,
encrypted to the epoch's repository recipient; blob nonces are blob numbers. Everything a
reader parses is hostile until its tag verifies, and even then offsets and lengths are checked
against the pack before they are used.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import threading
from collections import abc

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto import ageformat, agekeys, chunker
from strongroom.crypto import errors as crypto_errors
from strongroom.crypto.padme import padme
from strongroom.repository import documents, errors, objects

PREFIX = "v/p/"
KEY_SIZE = 32
TAG_SIZE = 16
ID_SIZE = 32
MAX_PLAIN = chunker.MAX
FLAG_ZSTD = 0x01
TRAILER_MAGIC = b"SRPT"
ENTRY = struct.Struct(">32sIIIB")
_COUNT = struct.Struct(">I")
_LENGTH = struct.Struct("<I")
_TRAILER_NONCE = b"\xff" * 12
_BLOB = b"strongroom.io/pack/v1\x00"
_TRAILER = b"strongroom.io/pack-trailer/v1\x00"
# The key file: age header (bind + one X25519 stanza) then nonce(16) + one sealed 32-byte chunk.
_KEYFILE_PAYLOAD = 16 + KEY_SIZE + TAG_SIZE
KEYFILE_MAX = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One blob of a pack, as its trailer and the indexes list it."""

    chunk_id: bytes
    offset: int
    stored: int
    plain: int
    flags: int

    def pack(self) -> bytes:
        return ENTRY.pack(self.chunk_id, self.offset, self.stored, self.plain, self.flags)


def name(pack_id: str) -> str:
    return PREFIX + pack_id


def ref(repository: str, pack_id: str, epoch: int) -> objects.Ref:
    """The identity a pack's key file is bound to."""
    return objects.Ref(repository=repository, backup=pack_id, type="pack", epoch=epoch)


def _blob_aad(ctx: bytes, number: int, chunk_id: bytes, flags: int) -> bytes:
    return _BLOB + ctx + struct.pack(">I", number) + chunk_id + bytes([flags])


def _context(repository: str, pack_id: str, epoch: int) -> bytes:
    return documents.id_bytes(repository) + documents.id_bytes(pack_id) + struct.pack(">I", epoch)


_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """One compressor per thread, reused: making one costs about as much as a small chunk."""
    made: zstandard.ZstdCompressor | None = getattr(_local, "compressor", None)
    if made is None:
        made = _local.compressor = zstandard.ZstdCompressor(level=3, write_content_size=True)
    return made


def _decompressor() -> zstandard.ZstdDecompressor:
    made: zstandard.ZstdDecompressor | None = getattr(_local, "decompressor", None)
    if made is None:
        made = _local.decompressor = zstandard.ZstdDecompressor()
    return made


def compress(chunk: bytes | memoryview) -> tuple[bytes, int]:
    """The stored form of a chunk: zstd when that saves at least 1/32 of it, else the chunk."""
    data = bytes(chunk)
    packed = _compressor().compress(data)
    if len(packed) <= len(data) - len(data) // 32 and len(packed) < len(data):
        return packed, FLAG_ZSTD
    return data, 0


class Builder:
    """Collects sealed blobs of one pack; :meth:`finish` gives the bytes to store."""

    def __init__(
        self,
        repository: str,
        epoch: int,
        recipient: agekeys.Recipient,
        *,
        rng: abc.Callable[[int], bytes] = os.urandom,
        pack_id: str | None = None,
    ) -> None:
        self.pack_id = pack_id or documents.new_id()
        self.repository = repository
        self.epoch = epoch
        key = rng(KEY_SIZE)
        keyfile = ageformat.encrypt_bytes(
            [recipient], ref(repository, self.pack_id, epoch).bind(), key, rng=rng
        )
        self._aead = AESGCM(key)
        self._ctx = _context(repository, self.pack_id, epoch)
        self._parts: list[bytes] = [keyfile]
        self._entries: list[Entry] = []
        self.size = len(keyfile)

    @property
    def count(self) -> int:
        return len(self._entries)

    def add(self, chunk_id: bytes, stored: bytes, flags: int, plain: int) -> Entry:
        """Seal one chunk (already in its stored form, see :func:`compress`) as the next blob."""
        number = len(self._entries)
        nonce = number.to_bytes(12, "big")
        sealed = self._aead.encrypt(nonce, stored, _blob_aad(self._ctx, number, chunk_id, flags))
        entry = Entry(chunk_id, self.size, len(sealed), plain, flags)
        self._entries.append(entry)
        self._parts.append(sealed)
        self.size += len(sealed)
        return entry

    def take_parts(self) -> list[bytes]:
        """The pack's bytes made since the last call (the key file, then sealed blobs), in
        order, to be stored as they come; :meth:`finish_parts` gives only what follows."""
        parts, self._parts = self._parts, []
        return parts

    def finish(self) -> tuple[bytes, list[Entry]]:
        """The whole pack, padded to a Padmé length, and its entries."""
        parts, entries = self.finish_parts()
        return b"".join(parts), entries

    def finish_parts(self) -> tuple[list[bytes], list[Entry]]:
        """:meth:`finish` as the pack's parts in order, to be stored without joining them."""
        body = TRAILER_MAGIC + _COUNT.pack(len(self._entries))
        body += b"".join(e.pack() for e in self._entries)
        fixed = self.size + len(body) + TAG_SIZE + _LENGTH.size
        body += bytes(padme(fixed) - fixed)
        trailer = self._aead.encrypt(_TRAILER_NONCE, body, _TRAILER + self._ctx)
        parts, self._parts = [*self._parts, trailer, _LENGTH.pack(len(trailer))], []
        return parts, list(self._entries)


def keyfile_length(prefix: bytes, where: str) -> int:
    """The length of the age key file at the start of a pack, from its first bytes."""
    mac_line = prefix.find(b"\n--- ")
    end = prefix.find(b"\n", mac_line + 1) if mac_line >= 0 else -1
    if end < 0:
        raise errors.IntegrityViolation(f"{where}: no key file at the start of the pack")
    return end + 1 + _KEYFILE_PAYLOAD


class Opened:
    """A pack whose key file opened: decrypts its trailer and its blobs."""

    def __init__(self, repository: str, pack_id: str, epoch: int, key: bytes) -> None:
        self.pack_id = pack_id
        self._where = name(pack_id)
        self._aead = AESGCM(key)
        self._ctx = _context(repository, pack_id, epoch)

    def trailer(self, sealed: bytes, pack_size: int, first_blob: int) -> list[Entry]:
        """The entries of the trailer, checked against the pack's layout."""
        try:
            body = self._aead.decrypt(_TRAILER_NONCE, sealed, _TRAILER + self._ctx)
        except InvalidTag:
            raise errors.IntegrityViolation(f"{self._where}: the trailer fails its tag") from None
        return parse_entries(body, first_blob, pack_size - len(sealed) - _LENGTH.size, self._where)

    def blob(self, number: int, entry: Entry, sealed: bytes | memoryview) -> bytes:
        """The chunk of blob ``number``, decompressed; the caller checks its chunk id."""
        aad = _blob_aad(self._ctx, number, entry.chunk_id, entry.flags)
        try:
            stored = self._aead.decrypt(number.to_bytes(12, "big"), sealed, aad)
        except InvalidTag:
            raise errors.IntegrityViolation(f"{self._where}: blob {number} fails its tag") from None
        if not entry.flags & FLAG_ZSTD:
            plain = stored
        else:
            try:
                plain = _decompressor().decompress(stored, max_output_size=MAX_PLAIN)
            except zstandard.ZstdError as exc:
                raise errors.IntegrityViolation(f"{self._where}: blob {number}: {exc}") from None
        if len(plain) != entry.plain:
            raise errors.IntegrityViolation(f"{self._where}: blob {number} has the wrong length")
        return plain


def unwrap_key(
    repository: str, pack_id: str, epoch: int, keyfile: bytes, identity: agekeys.Identity
) -> bytes:
    """The pack key in the pack's key file, opened with the epoch's repository identity."""
    try:
        key = ageformat.decrypt_bytes([identity], ref(repository, pack_id, epoch).bind(), keyfile)
    except crypto_errors.CryptoError as exc:
        raise errors.IntegrityViolation(f"{name(pack_id)}: key file: {exc}") from None
    if len(key) != KEY_SIZE:
        raise errors.IntegrityViolation(f"{name(pack_id)}: key file holds no pack key")
    return key


def open_keyfile(
    repository: str, pack_id: str, epoch: int, keyfile: bytes, identity: agekeys.Identity
) -> Opened:
    """Open the pack's key file with the epoch's repository identity."""
    return Opened(repository, pack_id, epoch, unwrap_key(repository, pack_id, epoch, keyfile,
                                                         identity))  # fmt: skip


def parse_entries(body: bytes, first: int, end: int, where: str) -> list[Entry]:
    """Entries of an authenticated trailer or index: in order, inside ``[first, end)``."""
    if body[:4] != TRAILER_MAGIC or len(body) < 8:
        raise errors.IntegrityViolation(f"{where}: the trailer is malformed")
    (count,) = _COUNT.unpack_from(body, 4)
    if 8 + count * ENTRY.size > len(body):
        raise errors.IntegrityViolation(f"{where}: the trailer lists more blobs than it holds")
    entries = [Entry(*ENTRY.unpack_from(body, 8 + i * ENTRY.size)) for i in range(count)]
    check_layout(entries, first, end, where)
    return entries


def check_layout(entries: abc.Sequence[Entry], first: int, end: int, where: str) -> None:
    """Blobs follow each other from ``first``, without gaps or overlap, and end by ``end``."""
    position = first
    for number, e in enumerate(entries):
        if e.offset != position or e.stored < TAG_SIZE or e.offset + e.stored > end:
            raise errors.IntegrityViolation(f"{where}: blob {number} lies outside its place")
        if e.plain > MAX_PLAIN or e.flags & ~FLAG_ZSTD:
            raise errors.IntegrityViolation(f"{where}: blob {number} has impossible sizes")
        if not e.flags and e.stored != e.plain + TAG_SIZE:
            raise errors.IntegrityViolation(f"{where}: blob {number} has impossible sizes")
        position = e.offset + e.stored


def trailer_length(tail: bytes, pack_size: int, where: str) -> int:
    """The trailer's length from the pack's last four bytes."""
    if len(tail) != _LENGTH.size:
        raise errors.IntegrityViolation(f"{where}: the pack is too short")
    length: int = _LENGTH.unpack(tail)[0]
    if length < 8 + TAG_SIZE or length + _LENGTH.size > pack_size:
        raise errors.IntegrityViolation(f"{where}: the trailer length is impossible")
    return length
