"""A repository: create or find one at a storage location, unlock it, and reach its backups.

This is the only place that holds a plaintext keyring; it never hands keys to the layers
above (they get backups, writers and plaintext object streams) nor to the storage below.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
from collections import abc
from typing import Any

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import agekeys, signing
from strongroom.crypto.providers import base as provider_base
from strongroom.repository import backups as stored
from strongroom.repository import (
    claims,
    documents,
    errors,
    integrity,
    keyadmin,
    keyslots,
    objects,
    writers,
)
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

FORMAT = "strongroom.io/repository/v1"
HEADER = "repository"
SUPPORTED_FEATURES: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class Header:
    """The clear repository header: enough to find the repository, nothing more."""

    repository: documents.Id
    created: str
    mandatory_features: tuple[str, ...]
    mac: bytes
    raw: dict[str, Any]


def read_header(backend: storage_base.Backend) -> Header | None:
    """The header at this location, or None when no repository is there."""
    try:
        data = objects.read_small(backend, HEADER, 64 << 10)
    except base_errors.NotFoundError:
        return None
    doc = documents.parse_json(data, HEADER)
    documents.expect_format(doc, FORMAT, HEADER)
    repo_id = documents.require(doc, "repository", str, HEADER)
    if not documents.is_id(repo_id):
        raise errors.IntegrityViolation(f"{HEADER}: malformed repository id")
    features = documents.require(doc, "mandatoryFeatures", list, HEADER)
    unknown = sorted(str(f) for f in features if f not in SUPPORTED_FEATURES)
    if unknown:
        raise errors.UnsupportedRepository(
            f"{HEADER}: needs features this client lacks: {', '.join(unknown)}"
        )
    mac = documents.unb64(doc.pop("mac", None), HEADER)
    return Header(
        documents.Id(repo_id),
        documents.require(doc, "created", str, HEADER),
        tuple(features),
        mac,
        doc,
    )


class Repository:
    """An unlocked repository. Create one with :meth:`create` or :meth:`open`."""

    def __init__(
        self,
        backend: storage_base.Backend,
        header: Header,
        ring: keyring_mod.Keyring,
        now: clock.Clock,
    ) -> None:
        self._backend = backend
        self.header = header
        self._ring = ring
        self._clock = now
        self._loaded: dict[tuple[str, str], stored.Backup] = {}

    @property
    def id(self) -> documents.Id:
        return self.header.repository

    @property
    def location(self) -> str:
        return self._backend.location

    # -- creating and opening ----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        backend: storage_base.Backend,
        slot_providers: abc.Sequence[provider_base.KeyProvider],
        now: clock.Clock,
    ) -> Repository:
        """Initialise a repository with one keyslot per provider; refuses an existing one."""
        if not slot_providers:
            raise errors.RepositoryError("a repository needs at least one keyslot")
        repo_id = documents.new_id()
        ring = keyring_mod.Keyring.new(repo_id, now)
        body = {
            "format": FORMAT,
            "repository": repo_id,
            "created": clock.rfc3339(now.now()),
            "mandatoryFeatures": [],
        }
        mac = hmac.digest(ring.subkey(1, "repository-mac"), documents.canonical(body), "sha256")
        for provider in slot_providers:
            slot, data = keyslots.seal(ring, provider, now)
            backend.put(slot.name, data)
        try:
            backend.put(HEADER, documents.canonical({**body, "mac": documents.b64(mac)}))
        except base_errors.AlreadyExistsError as exc:
            raise errors.RepositoryError(f"{backend.location} already holds a repository") from exc
        header = Header(repo_id, str(body["created"]), (), mac, body)
        return cls(backend, header, ring, now)

    @classmethod
    def open(
        cls, backend: storage_base.Backend, credentials: provider_base.Credentials, now: clock.Clock
    ) -> Repository:
        """Unlock the repository at ``backend`` and authenticate its header."""
        header = read_header(backend)
        if header is None:
            raise errors.NoRepository(f"no Strongroom repository at {backend.location}")
        ring = keyslots.unlock(
            keyslots.load_all(backend, header.repository), header.repository, credentials
        )
        expected = hmac.digest(
            ring.subkey(1, "repository-mac"), documents.canonical(header.raw), "sha256"
        )
        if not hmac.compare_digest(expected, header.mac):
            raise errors.IntegrityViolation(f"{HEADER}: header MAC does not verify")
        return cls(backend, header, ring, now)

    # -- keys ------------------------------------------------------------------------------

    def slots(self) -> list[keyslots.Slot]:
        return keyslots.load_all(self._backend, self.id)

    def add_slot(self, provider: provider_base.KeyProvider, label: str = "") -> keyslots.Slot:
        slot, data = keyslots.seal(self._ring, provider, self._clock, label)
        self._backend.put(slot.name, data)
        return slot

    def remove_slot(self, slot_id: str, *, force: bool = False) -> keyslots.Slot:
        return keyadmin.remove(self._backend, self.slots(), slot_id, force=force)

    def rewrap_slots(
        self, credentials: provider_base.Credentials
    ) -> list[tuple[keyslots.Slot, keyslots.Slot]]:
        """Seal every slot anew (key services: under their current key version)."""
        return keyadmin.reseal(self._backend, self._ring, self.slots(), credentials, self._clock)

    def rotate_repository_key(
        self, credentials: provider_base.Credentials
    ) -> list[tuple[keyslots.Slot, keyslots.Slot]]:
        """Start a new key epoch for new backups; every earlier epoch stays readable."""
        rotated = self._ring.rotated(self._clock)
        pairs = keyadmin.reseal(self._backend, rotated, self.slots(), credentials, self._clock)
        self._ring = rotated
        return pairs

    def epochs(self) -> list[dict[str, Any]]:
        return keyring_mod.describe(self._ring)

    def _key_recipients(self) -> list[agekeys.Recipient]:
        """Who can open a new backup's key: this epoch's repository recipient, offline keys."""
        found = [self._ring.recipient_identity(self._ring.current.number).recipient()]
        for slot in self.slots():
            if slot.type == "age-x25519" and isinstance(slot.fields.get("recipient"), str):
                found.append(agekeys.Recipient.parse(slot.fields["recipient"]))
        return found

    # -- backups and restores ----------------------------------------------------------------

    def _load(self, backup_id: str, restore_id: str = "") -> stored.Backup:
        """A committed backup or restore, authenticated once per handle: stored objects are
        write-once, so listing, auditing and chaining within one command reuse it."""
        key = (backup_id, restore_id)
        if key not in self._loaded:
            self._loaded[key] = self._authenticate(backup_id, restore_id)
        return self._loaded[key]

    def _authenticate(self, backup_id: str, restore_id: str) -> stored.Backup:
        return stored.load(
            self._backend,
            self.id,
            backup_id,
            restore_id,
            self._ring.identities(),
            [e.number for e in self._ring.epochs],
            lambda epoch: self._ring.subkey(epoch, "manifest-mac"),
            self._writer_key,
        )

    def _writer_key(self, writer: str) -> bytes:
        return writers.public_key(
            lambda name: objects.read_small(self._backend, name, 4096),
            self.id,
            writer,
            self._ring.subkey(1, "writer-mac"),
        )

    def add_writer(self) -> writers.Credential:
        """Register a writer that can create backups but open none; its credential."""
        key = signing.SigningKey.generate()
        writer = documents.new_id()
        data = writers.record(
            self.id,
            writer,
            key.public(),
            clock.rfc3339(self._clock.now()),
            self._ring.subkey(1, "writer-mac"),
        )
        self._backend.put(writers.PREFIX + writer, data)
        return writers.Credential(
            repository=self.id,
            writer=writer,
            epoch=self._ring.current.number,
            recipients=tuple(self._key_recipients()),
            signing_key=key,
            name_tag_key=self._ring.subkey(1, "name-tag"),
        )

    def writers(self) -> list[dict[str, Any]]:
        names = [info.name for info in self._backend.list(writers.PREFIX)]
        return writers.list_writers(lambda n: objects.read_small(self._backend, n, 4096), names)

    def _claim(self, kind: str, name: str) -> str:
        return claims.name(self._ring.subkey(1, "name-tag"), kind, name)

    def begin_backup(self, name: str) -> stored.Writer:
        """A writer for a new backup ``name``; raises :class:`errors.NameTaken` if it exists."""
        backup_id = documents.new_id()
        epoch = self._ring.current.number
        latest = integrity.tip(self.backups())
        previous = (
            None
            if latest is None
            else {"backup": latest.id, "sha256": latest.manifest_record.sha256}
        )
        return stored.new_writer(
            self._backend,
            kind="Backup",
            name=name,
            ref=objects.Ref(self.id, backup_id, "", epoch),
            claim=self._claim("backup", name),
            claim_ids={"backup": backup_id},
            mac_key=self._ring.subkey(epoch, "manifest-mac"),
            identity=agekeys.Identity.generate(),
            key_recipients=self._key_recipients(),
            previous=previous,
        )

    def begin_restore(self, backup: stored.Backup, name: str) -> stored.Writer:
        """A writer for the outputs of restore ``name`` of ``backup``, stored beside it."""
        restore_id = documents.new_id()
        m = backup.manifest
        return stored.new_writer(
            self._backend,
            kind="Restore",
            name=name,
            ref=objects.Ref(self.id, m.backup, "", m.epoch, restore_id),
            claim=self._claim("restore", name),
            claim_ids={"backup": m.backup, "restore": restore_id},
            mac_key=self._ring.subkey(m.epoch, "manifest-mac"),
            identity=backup.identity,
            key_recipients=None,
        )

    def backup(self, name: str) -> stored.Backup:
        ids = claims.read(self._backend, self._claim("backup", name), "backup", name)
        try:
            found = self._load(ids["backup"])
        except errors.IncompleteBackup as exc:
            raise errors.IncompleteBackup(
                f"backup {name!r} is incomplete (in progress, or left by a crash): "
                f"'strongroom backup delete {name}' removes it"
            ) from exc
        if found.name != name:
            raise errors.IntegrityViolation(
                f"backup {name!r}: its claim points to backup {found.name!r}"
            )
        return found

    def restore(self, name: str) -> stored.Backup:
        ids = claims.read(self._backend, self._claim("restore", name), "restore", name)
        found = self._load(ids.get("backup", ""), ids.get("restore", ""))
        if found.name != name:
            raise errors.IntegrityViolation(
                f"restore {name!r}: its claim points to restore {found.name!r}"
            )
        return found

    def _listing(self, restores: bool) -> abc.Iterator[stored.Backup]:
        names = (info.name for info in self._backend.list("b/"))
        for backup_id, restore_id in stored.ids_from_listing(names):
            if bool(restore_id) == restores:
                try:
                    yield self._load(backup_id, restore_id)
                except errors.BackupShredded:
                    continue  # deleted; data the store would not let go of stays unreadable

    def backups(self) -> list[stored.Backup]:
        """Every committed backup, authenticated; oldest first."""
        return sorted(
            self._listing(False),
            key=lambda b: (str(b.manifest.status.get("startTimestamp", "")), b.id),
        )

    def restores(self) -> list[stored.Backup]:
        return sorted(
            self._listing(True),
            key=lambda b: (str(b.manifest.status.get("startTimestamp", "")), b.id),
        )

    def delete_backup(self, name: str) -> list[str]:
        """Crypto-shred backup ``name`` (also when incomplete); names that could not be deleted.

        A MAC'd tombstone is written first, so the deletion is never mistaken for an attack.
        """
        claim = self._claim("backup", name)
        ids = claims.read(self._backend, claim, "backup", name)
        epoch = self._ring.current.number
        record = integrity.tombstone(
            self.id,
            ids["backup"],
            clock.rfc3339(self._clock.now()),
            self._ring.subkey(epoch, "manifest-mac"),
            epoch,
        )
        with contextlib.suppress(base_errors.AlreadyExistsError):  # a deletion run again
            self._backend.put(integrity.TOMBSTONES + ids["backup"], record)
        self._loaded = {k: v for k, v in self._loaded.items() if k[0] != ids["backup"]}
        return stored.delete(self._backend, ids["backup"], claim)

    def audit(self, remembered: integrity.Head | None) -> tuple[list[str], integrity.Head | None]:
        """Problems with the set of backups as a whole, and the newest backup now."""
        present = self.backups()
        deleted = integrity.read_tombstones(
            self._backend, self.id, lambda epoch: self._ring.subkey(epoch, "manifest-mac")
        )
        problems = integrity.chain_problems(present, deleted)
        problems += integrity.head_problems(remembered, present, deleted)
        return problems, integrity.newest(present)
