"""The keyring: every epoch's repository key, and the subkeys derived from them (format §4).

A keyring of format v2 also commits to the repository header (``header``) and, for every
epoch after the first, to the seal that closed the epoch before it (``seal``, §4.5). Its
:func:`fingerprint` is what a client pins (§4.4).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from typing import Any

from strongroom import clock
from strongroom.crypto import agekeys, kdf
from strongroom.repository import documents, errors

FORMAT = "strongroom.io/keyring/v2"
FORMAT_V1 = "strongroom.io/keyring/v1"
FINGERPRINT_PREFIX = b"strongroom.io/fingerprint/v1\x00"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FINGERPRINT = re.compile(r"[a-z2-7]{32}")


@dataclasses.dataclass(frozen=True)
class Epoch:
    number: int
    key: bytes = dataclasses.field(repr=False)
    created: str
    #: SHA-256 (hex) of the seal of the epoch before this one; "" for epoch 1.
    seal: str = ""


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Plaintext key material: it never goes below the repository layer, nor into logs."""

    repository: documents.Id
    epochs: tuple[Epoch, ...]
    #: SHA-256 (hex) of the stored repository header; "" in a v1 keyring.
    header: str = ""
    version: int = 2

    @classmethod
    def new(cls, repository: documents.Id, now: clock.Clock, header: str) -> Keyring:
        return cls(repository, (Epoch(1, os.urandom(32), clock.rfc3339(now.now())),), header)

    def rotated(self, now: clock.Clock, seal: str) -> Keyring:
        """A keyring with one more epoch, which new backups will use; ``seal`` is the digest
        of the seal that closes the current epoch."""
        epoch = Epoch(self.current.number + 1, os.urandom(32), clock.rfc3339(now.now()), seal)
        return dataclasses.replace(self, epochs=(*self.epochs, epoch))

    def upgraded(self, header: str, seals: dict[int, str]) -> Keyring:
        """This (v1) keyring as v2: ``seals`` maps each closed epoch to its seal's digest."""
        epochs = tuple(
            dataclasses.replace(e, seal=seals[e.number - 1] if e.number > 1 else "")
            for e in self.epochs
        )
        return dataclasses.replace(self, epochs=epochs, header=header, version=2)

    @property
    def current(self) -> Epoch:
        return self.epochs[-1]

    def epoch(self, number: int) -> Epoch:
        if 1 <= number <= len(self.epochs):
            return self.epochs[number - 1]
        raise errors.IntegrityViolation(f"key epoch {number} is not in the keyring")

    def subkey(self, number: int, purpose: str, size: int = 32) -> bytes:
        key: bytes = kdf.subkey(
            self.epoch(number).key, documents.id_bytes(self.repository), purpose, size
        )
        return key

    def recipient_identity(self, number: int) -> agekeys.Identity:
        """The secret half of the epoch's repository recipient."""
        return kdf.recipient_identity(self.epoch(number).key, documents.id_bytes(self.repository))

    def identities(self) -> list[agekeys.Identity]:
        """Every epoch's repository identity, newest first."""
        return [self.recipient_identity(e.number) for e in reversed(self.epochs)]

    def fingerprint(self, upto: int | None = None) -> str:
        """The fingerprint of epochs 1..``upto`` (default: all), format §4.4."""
        last = self.current.number if upto is None else upto
        digest = hashlib.sha256(FINGERPRINT_PREFIX + documents.id_bytes(self.repository))
        for number in range(1, last + 1):
            digest.update(self.subkey(number, "fingerprint"))
        return base64.b32encode(digest.digest()[:20]).decode("ascii").lower()

    def to_bytes(self) -> bytes:
        epochs = []
        for e in self.epochs:
            entry: dict[str, Any] = {"epoch": e.number, "key": documents.b64(e.key)}
            entry["created"] = e.created
            if self.version >= 2 and e.number > 1:
                entry["seal"] = e.seal
            epochs.append(entry)
        doc: dict[str, Any] = {
            "format": FORMAT if self.version >= 2 else FORMAT_V1,
            "repository": self.repository,
            "epochs": epochs,
        }
        if self.version >= 2:
            doc["header"] = self.header
        return documents.canonical(doc)

    @classmethod
    def from_bytes(cls, data: bytes, repository: documents.Id, where: str) -> Keyring:
        doc = documents.parse_json(data, where)
        version = {FORMAT: 2, FORMAT_V1: 1}.get(doc.get("format"))  # type: ignore[arg-type]
        if version is None:
            raise errors.IntegrityViolation(f"{where}: the wrapped value is not a keyring")
        if doc.get("repository") != repository:
            raise errors.IntegrityViolation(f"{where}: keyring of another repository")
        header = ""
        if version == 2:
            header = documents.require(doc, "header", str, where)
            if not _HEX64.fullmatch(header):
                raise errors.IntegrityViolation(f"{where}: keyring 'header' is malformed")
        raw_epochs = documents.require(doc, "epochs", list, where)
        epochs = tuple(_epoch(raw, index, version, where) for index, raw in enumerate(raw_epochs))
        if not epochs:
            raise errors.IntegrityViolation(f"{where}: the keyring holds no epoch")
        return cls(repository, epochs, header, version)


def _epoch(raw: object, index: int, version: int, where: str) -> Epoch:
    if not isinstance(raw, dict):
        raise errors.IntegrityViolation(f"{where}: epochs[{index}] is not an object")
    number = documents.require(raw, "epoch", int, where)
    key = documents.unb64(raw.get("key"), where)
    seal = ""
    if version == 2 and number > 1:
        seal = documents.require(raw, "seal", str, where)
        if not _HEX64.fullmatch(seal):
            raise errors.IntegrityViolation(f"{where}: epochs[{index}] seal is malformed")
    if number != index + 1 or len(key) != 32:
        raise errors.IntegrityViolation(f"{where}: epochs[{index}] is malformed")
    return Epoch(number, key, str(documents.require(raw, "created", str, where)), seal)


def normalise_fingerprint(text: str) -> str | None:
    """A fingerprint as typed (any case, dashes and spaces ignored), or None if malformed."""
    bare = re.sub(r"[-\s]", "", text).lower()
    return bare if _FINGERPRINT.fullmatch(bare) else None


def show_fingerprint(bare: str) -> str:
    """``abcd-efgh-...``: groups of four for reading aloud and comparing."""
    return "-".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def describe(ring: Keyring) -> list[dict[str, Any]]:
    """What may be shown of a keyring: epoch numbers and times, no keys."""
    return [{"epoch": e.number, "created": e.created} for e in ring.epochs]
