"""Indexes of volume data (docs/format.md §10.3): which pack holds which chunk.

An index object covers up to :data:`MAX_PACKS` packs of one writer. It is encrypted with a key
derived from the epoch's ``volume-index`` subkey and the index's own random id, so its one
nonce (zero) never meets that key twice. Readers merge every index of an epoch into a
:class:`Catalog`.
"""

from __future__ import annotations

import dataclasses
import struct
from collections import abc

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from strongroom.repository import documents, errors
from strongroom.repository.volumes import packs

PREFIX = "v/i/"
MAX_PACKS = 64
MAGIC = b"SRIX\x01\x00\x00\x00"
BODY_MAGIC = b"SRIB"
_HEAD = struct.Struct(">8sI")
_PACK = struct.Struct(">16sQI")
_AAD = b"strongroom.io/index/v1\x00"
_NONCE = bytes(12)
MAX_BODY = 64 << 20


@dataclasses.dataclass(frozen=True)
class PackEntries:
    """One pack as an index lists it."""

    pack_id: str
    size: int
    entries: tuple[packs.Entry, ...]


def name(index_id: str) -> str:
    return PREFIX + index_id


def index_key(volume_index_key: bytes, index_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=documents.id_bytes(index_id),
        info=b"strongroom.io/v1/index-key",
    ).derive(volume_index_key)


def _aad(repository: str, index_id: str, epoch: int) -> bytes:
    ids = documents.id_bytes(repository) + documents.id_bytes(index_id)
    return _AAD + ids + struct.pack(">I", epoch)


def seal(
    volume_index_key: bytes,
    repository: str,
    epoch: int,
    items: abc.Sequence[PackEntries],
    index_id: str | None = None,
) -> tuple[str, bytes]:
    """A new index object for ``items``: its id (random unless given) and its bytes."""
    if not items or len(items) > MAX_PACKS:
        raise ValueError(f"an index covers 1 to {MAX_PACKS} packs")
    index_id = index_id or documents.new_id()
    body = [BODY_MAGIC, struct.pack(">I", len(items))]
    for item in items:
        body.append(_PACK.pack(documents.id_bytes(item.pack_id), item.size, len(item.entries)))
        body.extend(e.pack() for e in item.entries)
    plain = zstandard.ZstdCompressor(level=3, write_content_size=True).compress(b"".join(body))
    aead = AESGCM(index_key(volume_index_key, index_id))
    sealed = aead.encrypt(_NONCE, plain, _aad(repository, index_id, epoch))
    return index_id, _HEAD.pack(MAGIC, epoch) + sealed


def epoch_of(data: bytes, where: str) -> int:
    """The epoch an index says it belongs to: a hint, authenticated by :func:`open_`."""
    if len(data) < _HEAD.size or data[:8] != MAGIC:
        raise errors.IntegrityViolation(f"{where}: not an index of a known format")
    epoch: int = _HEAD.unpack_from(data)[1]
    return epoch


def open_(
    volume_index_key: bytes, repository: str, index_id: str, epoch: int, data: bytes
) -> list[PackEntries]:
    """The packs an index lists; every failure is an integrity violation naming it."""
    where = name(index_id)
    if epoch_of(data, where) != epoch:
        raise errors.IntegrityViolation(f"{where}: index of another epoch")
    aead = AESGCM(index_key(volume_index_key, index_id))
    try:
        plain = aead.decrypt(_NONCE, data[_HEAD.size :], _aad(repository, index_id, epoch))
    except InvalidTag:
        raise errors.IntegrityViolation(f"{where}: the index fails its tag") from None
    try:
        body = zstandard.ZstdDecompressor().decompress(plain, max_output_size=MAX_BODY)
    except zstandard.ZstdError as exc:
        raise errors.IntegrityViolation(f"{where}: {exc}") from None
    return _parse(body, where)


def _parse(body: bytes, where: str) -> list[PackEntries]:
    if body[:4] != BODY_MAGIC or len(body) < 8:
        raise errors.IntegrityViolation(f"{where}: the index body is malformed")
    (count,) = struct.unpack_from(">I", body, 4)
    position, items = 8, []
    for _ in range(count):
        if position + _PACK.size > len(body):
            raise errors.IntegrityViolation(f"{where}: the index body is truncated")
        raw_id, size, n = _PACK.unpack_from(body, position)
        position += _PACK.size
        if position + n * packs.ENTRY.size > len(body):
            raise errors.IntegrityViolation(f"{where}: the index body is truncated")
        entries = tuple(
            packs.Entry(*packs.ENTRY.unpack_from(body, position + i * packs.ENTRY.size))
            for i in range(n)
        )
        position += n * packs.ENTRY.size
        pack_id = documents.id_from_bytes(raw_id)
        first = entries[0].offset if entries else 0
        packs.check_layout(entries, first, size, f"{where} (pack {pack_id})")
        items.append(PackEntries(pack_id, size, entries))
    if position != len(body):
        raise errors.IntegrityViolation(f"{where}: bytes after the last pack")
    return items
