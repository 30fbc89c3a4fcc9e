"""The keyring: every epoch's repository key, and the subkeys derived from them (format §4)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from strongroom import clock
from strongroom.crypto import agekeys, kdf
from strongroom.repository import documents, errors

FORMAT = "strongroom.io/keyring/v1"


@dataclasses.dataclass(frozen=True)
class Epoch:
    number: int
    key: bytes = dataclasses.field(repr=False)
    created: str


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Plaintext key material: it never goes below the repository layer, nor into logs."""

    repository: documents.Id
    epochs: tuple[Epoch, ...]

    @classmethod
    def new(cls, repository: documents.Id, now: clock.Clock) -> Keyring:
        return cls(repository, (Epoch(1, os.urandom(32), clock.rfc3339(now.now())),))

    def rotated(self, now: clock.Clock) -> Keyring:
        """A keyring with one more epoch, which new backups will use."""
        epoch = Epoch(self.current.number + 1, os.urandom(32), clock.rfc3339(now.now()))
        return dataclasses.replace(self, epochs=(*self.epochs, epoch))

    @property
    def current(self) -> Epoch:
        return self.epochs[-1]

    def epoch(self, number: int) -> Epoch:
        for epoch in self.epochs:
            if epoch.number == number:
                return epoch
        raise errors.IntegrityViolation(f"key epoch {number} is not in the keyring")

    def subkey(self, number: int, purpose: str) -> bytes:
        key: bytes = kdf.subkey(
            self.epoch(number).key, documents.id_bytes(self.repository), purpose
        )
        return key

    def recipient_identity(self, number: int) -> agekeys.Identity:
        """The secret half of the epoch's repository recipient."""
        return kdf.recipient_identity(self.epoch(number).key, documents.id_bytes(self.repository))

    def identities(self) -> list[agekeys.Identity]:
        """Every epoch's repository identity, newest first."""
        return [self.recipient_identity(e.number) for e in reversed(self.epochs)]

    def to_bytes(self) -> bytes:
        return documents.canonical(
            {
                "format": FORMAT,
                "repository": self.repository,
                "epochs": [
                    {"epoch": e.number, "key": documents.b64(e.key), "created": e.created}
                    for e in self.epochs
                ],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes, repository: documents.Id, where: str) -> Keyring:
        doc = documents.parse_json(data, where)
        documents.expect_format(doc, FORMAT, where)
        if doc.get("repository") != repository:
            raise errors.IntegrityViolation(f"{where}: keyring of another repository")
        raw_epochs = documents.require(doc, "epochs", list, where)
        epochs: list[Epoch] = []
        for index, raw in enumerate(raw_epochs):
            if not isinstance(raw, dict):
                raise errors.IntegrityViolation(f"{where}: epochs[{index}] is not an object")
            number = documents.require(raw, "epoch", int, where)
            key = documents.unb64(raw.get("key"), where)
            if number != index + 1 or len(key) != 32:
                raise errors.IntegrityViolation(f"{where}: epochs[{index}] is malformed")
            epochs.append(Epoch(number, key, str(documents.require(raw, "created", str, where))))
        if not epochs:
            raise errors.IntegrityViolation(f"{where}: the keyring holds no epoch")
        return cls(repository, tuple(epochs))


def describe(ring: Keyring) -> list[dict[str, Any]]:
    """What may be shown of a keyring: epoch numbers and times, no keys."""
    return [{"epoch": e.number, "created": e.created} for e in ring.epochs]
