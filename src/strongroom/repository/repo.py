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
from strongroom.crypto import chunker as chunker_mod
from strongroom.crypto.providers import base as provider_base
from strongroom.repository import backups as stored
from strongroom.repository import (
    debris,
    documents,
    errors,
    integrity,
    keyadmin,
    keyslots,
    names,
    objects,
    trust,
    writers,
)
from strongroom.repository import header as header_mod
from strongroom.repository import keyring as keyring_mod
from strongroom.repository import seals as seals_mod
from strongroom.repository.volumes import keys as volkeys
from strongroom.storage import base as storage_base

FORMAT = header_mod.FORMAT
HEADER = header_mod.HEADER
Header = header_mod.Header
read_header = header_mod.read_header


class Repository:
    """An unlocked repository. Create one with :meth:`create` or :meth:`open`.

    ``problems`` lists every keyslot object that was reported and skipped while opening;
    ``pin`` is the fingerprint and epoch the client should keep (format §4.4).
    """

    def __init__(
        self,
        backend: storage_base.Backend,
        header: Header,
        unlocked: trust.Unlocked,
        now: clock.Clock,
    ) -> None:
        self._backend = backend
        self.header = header
        self._ring = unlocked.ring
        self._trusted = list(unlocked.trusted)
        self.problems = list(unlocked.problems)
        self.pin = unlocked.pin
        self.opened_by = unlocked.opened_by
        self._clock = now
        self._loaded: dict[tuple[str, str], stored.Backup] = {}
        self._seals = seals_mod.Seals(backend, self._ring)
        self._names = names.Names(backend, lambda: self._ring)
        self.listing_problems: list[str] = []

    @property
    def id(self) -> documents.Id:
        return self.header.repository

    @property
    def location(self) -> str:
        return self._backend.location

    @property
    def backend(self) -> storage_base.Backend:
        return self._backend

    @property
    def time_source(self) -> clock.Clock:
        return self._clock

    @property
    def ring(self) -> keyring_mod.Keyring:
        """The open keyring: for :mod:`.keyadmin` only, never above this layer."""
        return self._ring

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
        ring = keyring_mod.Keyring.new(repo_id, now, header="")
        body = {
            "format": FORMAT,
            "repository": repo_id,
            "created": clock.rfc3339(now.now()),
            "mandatoryFeatures": [],
        }
        mac = hmac.digest(ring.subkey(1, "repository-mac"), documents.canonical(body), "sha256")
        data = documents.canonical({**body, "mac": documents.b64(mac)})
        ring = dataclasses.replace(ring, header=documents.sha256_hex(data))
        sealed = []
        for provider in slot_providers:
            slot, slot_data = keyslots.seal(ring, provider, now)
            backend.put(slot.name, slot_data)
            sealed.append(slot)
        try:
            backend.put(HEADER, data)
        except base_errors.AlreadyExistsError as exc:
            raise errors.RepositoryError(f"{backend.location} already holds a repository") from exc
        header = Header(repo_id, str(body["created"]), (), mac, body, documents.sha256_hex(data))
        pin = trust.Pin(ring.fingerprint(), 1)
        return cls(backend, header, trust.Unlocked(ring, sealed[0], sealed, [], pin), now)

    @classmethod
    def open(
        cls,
        backend: storage_base.Backend,
        credentials: provider_base.Credentials,
        now: clock.Clock,
        trusted: trust.Trust | None = None,
        *,
        v1: bool = False,
    ) -> Repository:
        """Unlock the repository at ``backend`` and authenticate its header (format §4.4)."""
        header = read_header(backend)
        if header is None:
            raise errors.NoRepository(f"no Strongroom repository at {backend.location}")
        slots, problems = keyslots.load_all(backend, header.repository)
        unlocked = trust.unlock(
            slots, header.repository, credentials, trusted or trust.Trust(), problems, v1=v1
        )
        header_mod.check(header, unlocked.ring)
        return cls(backend, header, unlocked, now)

    # -- keys ------------------------------------------------------------------------------

    def slots(self) -> list[keyslots.Slot]:
        """Every well-formed keyslot, trusted or not (``trusted_slots`` for the former)."""
        return keyslots.load_all(self._backend, self.id)[0]

    def trusted_slots(self) -> list[keyslots.Slot]:
        return list(self._trusted)

    def add_slot(self, provider: provider_base.KeyProvider, label: str = "") -> keyslots.Slot:
        slot, data = keyslots.seal(self._ring, provider, self._clock, label)
        self._backend.put(slot.name, data)
        self._trusted.append(slot)
        return slot

    def remove_slot(self, slot_id: str, *, force: bool = False) -> str:
        """Delete keyslot ``slot_id`` (a reported one too); returns what it was."""
        removed = keyadmin.remove(self._backend, self._trusted, slot_id, force=force)
        self._trusted = [s for s in self._trusted if s.slot != slot_id]
        return removed

    def rewrap_slots(
        self, credentials: provider_base.Credentials
    ) -> list[tuple[keyslots.Slot, keyslots.Slot]]:
        """Seal every trusted slot anew (key services: under their current key version)."""
        pairs = keyadmin.reseal(self._backend, self._ring, self._trusted, credentials, self._clock)
        self._resealed(pairs)
        return pairs

    def _resealed(self, pairs: list[tuple[keyslots.Slot, keyslots.Slot]]) -> None:
        """The trusted slots are the new ones now; the one that opened, its successor."""
        self._trusted = [new for _, new in pairs]
        self.opened_by = next(
            (new for old, new in pairs if old.slot == self.opened_by.slot), self.opened_by
        )

    def rotate_repository_key(
        self, credentials: provider_base.Credentials
    ) -> list[tuple[keyslots.Slot, keyslots.Slot]]:
        """Seal the current epoch, then start a new one for new backups (format §4.5)."""
        sealers = keyadmin.sealers(self._trusted, self.id, credentials)
        items = [*self.committed(), *self.restores()]
        if self.listing_problems:
            raise errors.IntegrityViolation(
                f"not sealing key epoch {self._ring.current.number} over a tampered "
                f"repository: {self.listing_problems[0]}"
            )
        digest = self.write_seal(self._ring.current.number, items)
        rotated = self._ring.rotated(self._clock, digest)
        pairs = keyadmin.reseal(
            self._backend, rotated, self._trusted, credentials, self._clock, sealers
        )
        self._ring = rotated
        self._resealed(pairs)
        self._seals = seals_mod.Seals(self._backend, rotated)
        self.pin = trust.Pin(rotated.fingerprint(), rotated.current.number)
        return pairs

    def write_seal(self, epoch: int, items: abc.Sequence[stored.Backup]) -> str:
        """Store the seal of ``epoch`` listing what of ``items`` (authenticated backups and
        restores), tombstones and writers belong to it; the seal's digest."""
        of_epoch = [b for b in items if b.manifest.epoch == epoch]
        name, data = seals_mod.build(
            self.id,
            epoch,
            clock.rfc3339(self._clock.now()),
            {b.id: b.manifest_record.sha256 for b in of_epoch if not b.manifest.restore},
            {b.id: b.manifest_record.sha256 for b in of_epoch if b.manifest.restore},
            self._tombstones_of(epoch),
            self._writers_of(epoch),
        )
        with contextlib.suppress(base_errors.AlreadyExistsError):  # the same seal, run again
            self._backend.put(name, data)
        return name.removeprefix(seals_mod.PREFIX)

    def _tombstones_of(self, epoch: int) -> list[str]:
        """The backups whose authentic tombstone is of ``epoch``."""
        records = integrity.tombstone_records(
            self._backend, self.id, lambda e: self._ring.subkey(e, "manifest-mac")
        )
        return [backup_id for backup_id, _, of in records if of == epoch]

    def _writers_of(self, epoch: int) -> list[str]:
        found = []
        for info in self._backend.list(writers.PREFIX):
            writer = info.name.removeprefix(writers.PREFIX)
            with contextlib.suppress(errors.IntegrityViolation):
                self._writer_key(writer, epoch)
                found.append(writer)
        return found

    def epochs(self) -> list[dict[str, Any]]:
        return keyring_mod.describe(self._ring)

    def _key_recipients(self) -> list[agekeys.Recipient]:
        """Who can open a new backup's key: this epoch's repository recipient, and the
        recipients of trusted age slots (the offline keys). Untrusted slots count for nothing."""
        found = [self._ring.recipient_identity(self._ring.current.number).recipient()]
        for slot in self._trusted:
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
            self._seals.require,
            self._deleted,
        )

    def _deleted(self, backup_id: str) -> bool:
        """Whether an authentic tombstone records the deletion of ``backup_id``."""
        try:
            integrity.read_tombstone(
                self._backend,
                integrity.TOMBSTONES + backup_id,
                self.id,
                lambda epoch: self._ring.subkey(epoch, "manifest-mac"),
                self._seals.require,
            )
        except base_errors.NotFoundError:
            return False
        return True

    def _writer_key(self, writer: str, epoch: int) -> bytes:
        key = writers.public_key(
            lambda name: objects.read_small(self._backend, name, 4096),
            self.id,
            writer,
            epoch,
            lambda number: self._ring.subkey(number, "writer-mac"),
        )
        self._seals.require(epoch, "writer", writer, "", writers.PREFIX + writer)
        return key

    def add_writer(self) -> writers.Credential:
        """Register a writer that can create backups but open none; its credential."""
        key = signing.SigningKey.generate()
        writer = documents.new_id()
        epoch = self._ring.current.number
        data = writers.record(
            self.id,
            writer,
            key.public(),
            clock.rfc3339(self._clock.now()),
            epoch,
            self._ring.subkey(epoch, "writer-mac"),
        )
        self._backend.put(writers.PREFIX + writer, data)
        return writers.Credential(
            repository=self.id,
            writer=writer,
            epoch=epoch,
            recipients=tuple(self._key_recipients()),
            signing_key=key,
            name_tag_key=self._ring.subkey(epoch, "name-tag"),
            volume=writers.VolumeSecrets(
                recipient=self._ring.recipient_identity(epoch).recipient(),
                chunker_table=self._ring.subkey(epoch, "chunker-table", chunker_mod.TABLE_SIZE),
                chunker_prf=self._ring.subkey(epoch, "chunker-prf", chunker_mod.PRF_KEY_SIZE),
                chunk_id_key=self._ring.subkey(epoch, "chunk-id"),
                index_key=self._ring.subkey(epoch, "volume-index"),
                mac_key=self._ring.subkey(epoch, "volume-mac"),
            ),
        )

    def writers(self) -> list[dict[str, Any]]:
        names = [info.name for info in self._backend.list(writers.PREFIX)]
        return writers.list_writers(lambda n: objects.read_small(self._backend, n, 4096), names)

    def begin_backup(self, name: str) -> stored.Writer:
        """A writer for a new backup ``name``; raises :class:`errors.NameTaken` if it exists."""
        backup_id = documents.new_id()
        return self._begin("Backup", name, backup_id, self._names.new("backup", name))

    def _previous(self) -> dict[str, str] | None:
        """What a new manifest chains to: the tip of the committed backups and snapshots."""
        latest = integrity.tip(self.committed())
        if latest is None:
            return None
        return {"backup": latest.id, "sha256": latest.manifest_record.sha256}

    def begin_snapshot(self) -> stored.Writer:
        """A writer for a new standalone volume snapshot (format §10.5): named by its id."""
        snapshot_id = documents.new_id()
        return self._begin("VolumeSnapshot", snapshot_id, snapshot_id, "")

    def _begin(self, kind: str, name: str, record_id: str, claim: str) -> stored.Writer:
        """A writer for a new record of the chain (its own key object, chained to the tip)."""
        epoch = self._ring.current.number
        return stored.new_writer(
            self._backend,
            kind=kind,
            name=name,
            ref=objects.Ref(self.id, record_id, "", epoch),
            claim=claim,
            claim_ids={"backup": record_id} if claim else {},
            mac_key=self._ring.subkey(epoch, "manifest-mac"),
            identity=agekeys.Identity.generate(),
            key_recipients=self._key_recipients(),
            previous=self._previous(),
        )

    @property
    def current_epoch(self) -> int:
        """The number of the current key epoch (epochs run from 1)."""
        return self._ring.current.number

    def volume_keys(self, epoch: int | None = None) -> volkeys.VolumeKeys:
        """The volume-data keys of ``epoch`` (default: the current one), format §10."""
        return volkeys.for_epoch(self._ring, epoch or self._ring.current.number)

    def volume_chunker(self, epoch: int | None = None) -> chunker_mod.Chunker:
        """The content-defined chunker of ``epoch`` (default: the current one), format §10.1."""
        number = epoch or self._ring.current.number
        return chunker_mod.for_epoch(self._ring.epoch(number).key, documents.id_bytes(self.id))

    def begin_restore(self, backup: stored.Backup, name: str) -> stored.Writer:
        """A writer for the outputs of restore ``name`` of ``backup``, stored beside it, bound
        to the current epoch (which may be later than the backup's)."""
        restore_id = documents.new_id()
        m = backup.manifest
        epoch = self._ring.current.number
        return stored.new_writer(
            self._backend,
            kind="Restore",
            name=name,
            ref=objects.Ref(self.id, m.backup, "", epoch, restore_id),
            claim=self._names.new("restore", name),
            claim_ids={"backup": m.backup, "restore": restore_id},
            mac_key=self._ring.subkey(epoch, "manifest-mac"),
            identity=backup.identity,
            key_recipients=None,
        )

    def backup(self, name: str) -> stored.Backup:
        try:
            _, ids = self._names.find("backup", name)
        except errors.BackupNotFound:
            self._claim_gone("backup", name)
            raise
        try:
            found = self._load(ids["backup"])
        except errors.IncompleteBackup as exc:
            successor = self._successor_of(ids["backup"])
            if successor is not None:
                raise errors.IntegrityViolation(
                    f"backup {name!r}: its manifest is gone, but backup {successor!r} names it "
                    "as its predecessor (deleted behind Strongroom's back)"
                ) from exc
            raise errors.IncompleteBackup(
                f"backup {name!r} is incomplete (in progress, or left by a crash): "
                f"'strongroom backup delete {name}' removes it"
            ) from exc
        if found.name != name:
            raise errors.IntegrityViolation(
                f"backup {name!r}: its claim points to backup {found.name!r}"
            )
        return found

    def claim_problems(self) -> list[str]:
        """Committed backups and restores whose name claim is gone or points elsewhere: one
        request per item and epoch, so ``location verify`` asks, not every command."""
        problems = []
        for item in [*self.backups(), *self.restores()]:
            kind = item.manifest.kind.lower()
            ids = self._names.owner(kind, item.name)
            if ids is None:
                problems.append(
                    f"{kind} {item.name!r}: its name claim is gone (deleted behind "
                    "Strongroom's back)"
                )
            elif ids.get(kind) != item.id:
                problems.append(f"{kind} {item.name!r}: its name claim points to another {kind}")
        return problems

    def claimed(self, kind: str, name: str) -> bool:
        """Whether a name claim for ``name`` exists (committed, in progress or crashed)."""
        return self._names.exists(kind, name)

    def _successor_of(self, backup_id: str) -> str | None:
        """The name of a committed backup whose manifest names ``backup_id`` as previous."""
        for item in self.committed():
            if (item.manifest.previous or {}).get("backup") == backup_id:
                return item.name
        return None

    def _claim_gone(self, kind: str, name: str) -> None:
        """Raise IntegrityViolation if a committed ``kind`` called ``name`` exists although
        no name claim points to it (the claim was deleted behind Strongroom's back)."""
        items = self.backups() if kind == "backup" else self.restores()
        if any(item.name == name for item in items):
            raise errors.IntegrityViolation(
                f"{kind} {name!r} exists but its name claim is gone (deleted behind "
                "Strongroom's back)"
            )

    def restore(self, name: str) -> stored.Backup:
        try:
            _, ids = self._names.find("restore", name)
        except errors.RestoreNotFound:
            self._claim_gone("restore", name)
            raise
        found = self._load(ids.get("backup", ""), ids.get("restore", ""))
        if found.name != name:
            raise errors.IntegrityViolation(
                f"restore {name!r}: its claim points to restore {found.name!r}"
            )
        return found

    def _listing(self, restores: bool, prefix: str = "b/") -> abc.Iterator[stored.Backup]:
        """Committed backups (or restores); one that fails to authenticate is added to
        ``listing_problems`` and skipped, so one planted object cannot hide the others."""
        names = (info.name for info in self._backend.list(prefix))
        for backup_id, restore_id in stored.ids_from_listing(names):
            if bool(restore_id) != restores:
                continue
            try:
                yield self._load(backup_id, restore_id)
            except errors.BackupShredded:
                continue  # deleted; data the store would not let go of stays unreadable
            except (base_errors.IntegrityError, base_errors.PermissionDeniedError) as exc:
                problem = f"{'restore' if restore_id else 'backup'} {backup_id}: {exc}"
                if problem not in self.listing_problems:
                    self.listing_problems.append(problem)

    def committed(self) -> list[stored.Backup]:
        """Every committed backup and standalone volume snapshot that authenticates (the
        chain holds both); oldest first."""
        items = list(self._listing(False))
        depth = integrity.chain_depths(items)
        return sorted(
            items,
            key=lambda b: (str(b.manifest.status.get("startTimestamp", "")), depth[b.id], b.id),
        )

    def backups(self) -> list[stored.Backup]:
        """Every committed backup of resources that authenticates; oldest first."""
        return [b for b in self.committed() if b.manifest.kind == "Backup"]

    def snapshots(self) -> list[stored.Backup]:
        """Every committed standalone volume snapshot that authenticates; oldest first."""
        return [b for b in self.committed() if b.manifest.kind == "VolumeSnapshot"]

    def restores(self) -> list[stored.Backup]:
        return sorted(
            self._listing(True),
            key=lambda b: (str(b.manifest.status.get("startTimestamp", "")), b.id),
        )

    def delete_backup(self, name: str) -> list[str]:
        """Crypto-shred backup ``name`` (also when incomplete); names that could not be deleted.

        A MAC'd tombstone is written first, so the deletion is never mistaken for an attack.
        The name claims of its restores go with it.
        """
        claim, ids = self._names.find("backup", name)
        backup_id = ids["backup"]
        restore_claims = [
            c
            for r in self._listing(True, stored.backup_prefix(backup_id))
            for c in self._names.candidates("restore", r.name)
        ]
        self._tombstone(backup_id)
        failed = stored.delete(self._backend, backup_id, claim)
        for restore_claim in restore_claims:
            with contextlib.suppress(base_errors.NotFoundError):
                self._backend.delete(restore_claim)
        return failed

    def delete_snapshot(self, snapshot_id: str) -> list[str]:
        """Crypto-shred a standalone volume snapshot (format §10.7): a tombstone, then its key
        object, then its tree and manifest. Its chunks go with the next collection."""
        self._tombstone(snapshot_id)
        return stored.delete(self._backend, snapshot_id, None)

    def _tombstone(self, backup_id: str) -> None:
        """Store the MAC'd tombstone that makes a deletion legitimate (before deleting)."""
        epoch = self._ring.current.number
        record = integrity.tombstone(
            self.id,
            backup_id,
            clock.rfc3339(self._clock.now()),
            self._ring.subkey(epoch, "manifest-mac"),
            epoch,
        )
        with contextlib.suppress(base_errors.AlreadyExistsError):  # a deletion run again
            self._backend.put(integrity.TOMBSTONES + backup_id, record)
        self._loaded = {k: v for k, v in self._loaded.items() if k[0] != backup_id}

    def delete_restore(self, name: str) -> list[str]:
        """Delete the stored outputs of restore ``name`` (also an incomplete one, left by a
        killed run) and free its name; the names that could not be deleted. The manifest
        goes first, so the restore disappears whole; the claims go last."""
        _, ids = self._names.find("restore", name)
        prefix = stored.restore_prefix(ids["backup"], ids["restore"])
        names = sorted(
            (info.name for info in self._backend.list(prefix)),
            key=lambda n: not n.endswith("/manifest"),
        )
        failed = []
        for object_name in [*names, *self._names.candidates("restore", name)]:
            try:
                self._backend.delete(object_name)
            except base_errors.StrongroomError:
                failed.append(object_name)
        self._loaded.pop((ids["backup"], ids["restore"]), None)
        return failed

    def incomplete(self) -> list[debris.Incomplete]:
        """Backups and restores that never got a manifest: in progress, or left by a crash."""
        return debris.find(self._backend)

    def remove_incomplete(self, items: abc.Sequence[debris.Incomplete]) -> None:
        """Delete these incomplete backups and restores (from :meth:`incomplete`) with the
        name claims pointing to them."""
        owners = debris.claims_of(self._backend) if items else {}
        for item in items:
            debris.remove(self._backend, item, owners.get((item.backup, item.restore), []))

    def _tombstones(self) -> dict[str, str]:
        return integrity.read_tombstones(
            self._backend,
            self.id,
            lambda epoch: self._ring.subkey(epoch, "manifest-mac"),
            self._seals.require,
        )

    def audit(self, remembered: integrity.Head | None) -> tuple[list[str], integrity.Head | None]:
        """Problems with the set of backups as a whole, and the newest backup now."""
        present = self.committed()
        deleted = self._tombstones()
        problems = [*self.problems, *self.listing_problems]
        problems += integrity.chain_problems(present, deleted)
        problems += integrity.head_problems(remembered, present, deleted)
        return problems, integrity.newest(present)
