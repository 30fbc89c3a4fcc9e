"""Age objects bound to their identity, stored with their digest, read back only once verified.

Writing streams: plaintext chunks in, age ciphertext out to storage, SHA-256 and size counted
on the way. Reading never releases plaintext of an object whose stored bytes differ from what
its manifest recorded: the ciphertext is fetched and hashed first (held in memory when small,
else spooled to an anonymous temporary file, which only ever holds ciphertext), and decrypted
only after the digest matched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import tempfile
from collections import abc
from typing import IO, Any

from strongroom import errors as base_errors
from strongroom.crypto import ageformat, agekeys
from strongroom.repository import documents, errors
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/object/v1"
SPOOL_IN_MEMORY = 8 << 20
_READ = 1 << 20


@dataclasses.dataclass(frozen=True)
class Ref:
    """Where an object belongs: the identity its bind stanza hashes."""

    repository: str
    backup: str
    type: str
    epoch: int
    restore: str = ""

    def bind(self) -> bytes:
        doc = {
            "format": FORMAT,
            "repository": self.repository,
            "backup": self.backup,
            "restore": self.restore,
            "type": self.type,
            "epoch": self.epoch,
        }
        return hashlib.sha256(documents.canonical(doc)).digest()


@dataclasses.dataclass(frozen=True)
class Record:
    """A stored object as the manifest lists it."""

    type: str
    name: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: object, where: str) -> Record:
        if not isinstance(raw, dict):
            raise errors.IntegrityViolation(f"{where}: an object entry is not a JSON object")
        return cls(
            type=documents.require(raw, "type", str, where),
            name=documents.require(raw, "name", str, where),
            size=documents.require(raw, "size", int, where),
            sha256=documents.require(raw, "sha256", str, where),
        )


class _Counting:
    """A Readable over an iterator of chunks that hashes and counts what passes through."""

    def __init__(self, chunks: abc.Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int, /) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self.hash.update(data)
        self.size += len(data)
        return data


def put(
    backend: storage_base.Backend,
    name: str,
    ref: Ref,
    recipients: abc.Sequence[agekeys.Recipient],
    plaintext: abc.Iterable[bytes],
) -> Record:
    """Encrypt ``plaintext`` to ``recipients`` bound to ``ref`` and store it create-only."""
    counting = _Counting(iter(ageformat.encrypt(recipients, ref.bind(), plaintext)))
    backend.put(name, counting)
    return Record(ref.type, name, counting.size, counting.hash.hexdigest())


@contextlib.contextmanager
def _fetch_verified(backend: storage_base.Backend, record: Record) -> abc.Iterator[IO[bytes]]:
    """The stored bytes of ``record`` in a seekable file, once size and digest matched."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:  # ciphertext only
        digest = hashlib.sha256()
        try:
            with backend.get(record.name) as reader:
                while (chunk := reader.read(_READ)) and spool.tell() <= record.size:
                    digest.update(chunk)
                    spool.write(chunk)
        except base_errors.NotFoundError as exc:
            raise errors.IntegrityViolation(
                f"{record.name}: missing (the manifest lists it)"
            ) from exc
        if spool.tell() != record.size or not hmac.compare_digest(
            digest.hexdigest(), record.sha256
        ):
            raise errors.IntegrityViolation(
                f"{record.name}: content differs from the manifest's digest"
            )
        spool.seek(0)
        yield spool


def read(
    backend: storage_base.Backend,
    record: Record,
    ref: Ref,
    identities: abc.Sequence[agekeys.Identity],
) -> abc.Iterator[bytes]:
    """Plaintext chunks of a verified object; the digest is checked before the first chunk."""
    with _fetch_verified(backend, record) as spool:
        try:
            yield from ageformat.decrypt(identities, ref.bind(), spool)
        except base_errors.IntegrityError as exc:
            raise errors.IntegrityViolation(f"{record.name}: {exc}") from exc


def read_small(backend: storage_base.Backend, name: str, limit: int = 1 << 20) -> bytes:
    """The whole of a small stored object; larger than ``limit`` is an integrity violation."""
    parts: list[bytes] = []
    total = 0
    with backend.get(name) as reader:
        while total <= limit and (chunk := reader.read(_READ)):
            parts.append(chunk)
            total += len(chunk)
    if total > limit:
        raise errors.IntegrityViolation(f"{name}: larger than {limit} bytes")
    return b"".join(parts)


def read_unlisted(
    backend: storage_base.Backend,
    name: str,
    ref: Ref,
    identities: abc.Sequence[agekeys.Identity],
    limit: int = 1 << 20,
) -> tuple[bytes, Record]:
    """A small object no manifest vouches for yet (the key object, a manifest itself).

    Authenticity then rests on the age header MAC, the bind stanza and, for manifests, the
    MAC inside; the returned record lets a manifest's listing be checked afterwards.
    """
    data = read_small(backend, name, limit)
    record = Record(ref.type, name, len(data), documents.sha256_hex(data))
    try:
        return ageformat.decrypt_bytes(identities, ref.bind(), data), record
    except base_errors.IntegrityError as exc:
        raise errors.IntegrityViolation(f"{name}: {exc}") from exc
