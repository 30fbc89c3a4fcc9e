"""Seals: what existed in a key epoch when a rotation closed it (format §4.5).

Whoever once held an epoch's keys can MAC and sign in that epoch forever. A seal lists the
manifests, tombstones and writers of the epoch at the moment it closed; the keyring holds the
seal's digest (in the next epoch's ``seal``), and the seal is stored under that digest. Anything
of a closed epoch that its seal does not list was made after the rotation, and is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import abc
from typing import Any

from strongroom import errors as base_errors
from strongroom.repository import documents, errors, objects
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/epoch-seal/v1"
PREFIX = "e/"
MAX_SIZE = 64 << 20


@dataclasses.dataclass(frozen=True)
class Seal:
    epoch: int
    backups: dict[str, str]
    restores: dict[str, str]
    tombstones: frozenset[str]
    writers: frozenset[str]


def build(
    repository: str,
    epoch: int,
    sealed: str,
    backups: dict[str, str],
    restores: dict[str, str],
    tombstones: abc.Iterable[str],
    writers: abc.Iterable[str],
) -> tuple[str, bytes]:
    """The name and bytes of a seal of ``epoch``; its digest is the name's tail."""
    data = documents.canonical(
        {
            "format": FORMAT,
            "repository": repository,
            "epoch": epoch,
            "sealed": sealed,
            "backups": backups,
            "restores": restores,
            "tombstones": sorted(tombstones),
            "writers": sorted(writers),
        }
    )
    return PREFIX + hashlib.sha256(data).hexdigest(), data


class Seals:
    """The seals of a keyring's closed epochs, read on first need and checked by digest."""

    def __init__(self, backend: storage_base.Backend, ring: keyring_mod.Keyring) -> None:
        self._backend = backend
        self._ring = ring
        self._read: dict[int, Seal] = {}

    def closed(self, epoch: int) -> bool:
        """Whether ``epoch`` was closed by a rotation (seals apply to v2 keyrings)."""
        return self._ring.version >= 2 and epoch < self._ring.current.number

    def get(self, epoch: int) -> Seal:
        if epoch not in self._read:
            self._read[epoch] = self._load(epoch)
        return self._read[epoch]

    def _load(self, epoch: int) -> Seal:
        digest = self._ring.epoch(epoch + 1).seal
        name = PREFIX + digest
        try:
            data = objects.read_small(self._backend, name, MAX_SIZE)
        except base_errors.NotFoundError as exc:
            raise errors.IntegrityViolation(
                f"{name}: the seal of key epoch {epoch} is missing"
            ) from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise errors.IntegrityViolation(f"{name}: the seal of key epoch {epoch} was altered")
        doc = documents.parse_json(data, name)
        if doc.get("format") != FORMAT or doc.get("epoch") != epoch:
            raise errors.IntegrityViolation(f"{name}: not the seal of key epoch {epoch}")
        return Seal(
            epoch,
            _ids(doc, "backups", dict, name),
            _ids(doc, "restores", dict, name),
            frozenset(_ids(doc, "tombstones", list, name)),
            frozenset(_ids(doc, "writers", list, name)),
        )

    def require(self, epoch: int, kind: str, ident: str, digest: str, where: str) -> None:
        """Refuse ``where`` (a manifest, tombstone or writer of ``epoch``) unless the epoch
        is current or its seal lists it (manifests: with this digest)."""
        if not self.closed(epoch):
            return
        seal = self.get(epoch)
        listed = {
            "backup": lambda: seal.backups.get(ident) == digest,
            "restore": lambda: seal.restores.get(ident) == digest,
            "tombstone": lambda: ident in seal.tombstones,
            "writer": lambda: ident in seal.writers,
        }[kind]()
        if not listed:
            raise errors.IntegrityViolation(
                f"{where}: made under key epoch {epoch} after a rotation closed it (forged with "
                "an old key, or by a writer credential issued before the rotation)"
            )


def _ids(doc: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = documents.require(doc, key, kind, where)
    items = value.items() if isinstance(value, dict) else ((v, "") for v in value)
    for ident, digest in items:
        if not isinstance(ident, str) or not isinstance(digest, str):
            raise errors.IntegrityViolation(f"{where}: malformed {key}")
    return value
