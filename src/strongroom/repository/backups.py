"""Writing a backup (or a restore's outputs) object by object, and reading it back verified.

A :class:`Writer` claims the name, stores the key object (backups only), then each object the
engine hands it, and :meth:`Writer.commit` stores the manifest last. Until then nothing is
visible; :meth:`Writer.abort` removes what was written, so a failed run leaves nothing a later
run trips on. A :class:`Backup` is a committed backup whose manifest has been authenticated;
its objects are verified against the manifest before any plaintext comes out.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import abc
from typing import Any

from strongroom import errors as base_errors
from strongroom.crypto import agekeys
from strongroom.crypto import errors as crypto_errors
from strongroom.repository import claims, documents, errors, manifests, objects
from strongroom.storage import base as storage_base

BACKUP_TYPES = ("archive", "log", "results", "resources")
#: Where deletion records live (format §6.1); see :mod:`.integrity`.
TOMBSTONES = "d/"


#: Manifest kinds stored at ``b/<id>/manifest``: a backup of resources, or a standalone
#: snapshot of volume data (format §10.5); and at ``b/<id>/r/<rid>/manifest``.
BACKUP_KINDS = ("Backup", "VolumeSnapshot")
RESTORE_KINDS = ("Restore",)


def backup_prefix(backup: str) -> str:
    return f"b/{backup}/"


def key_name(backup: str) -> str:
    """Key objects live apart from the data, under ``k/``, so that a bucket can lock ``b/``
    (object lock) while keys stay deletable: shredding must always be possible."""
    return f"k/{backup}"


def restore_prefix(backup: str, restore: str) -> str:
    return f"b/{backup}/r/{restore}/"


@dataclasses.dataclass
class Writer:
    """Stores the objects of one backup or restore; see the module docstring."""

    backend: storage_base.Backend
    ref: objects.Ref
    kind: str
    name: str
    identity: agekeys.Identity
    claim: str
    mac_key: bytes | None
    previous: dict[str, str] | None = None
    signer: manifests.Signer | None = None
    records: list[objects.Record] = dataclasses.field(default_factory=list)
    #: Names being stored right now: recorded before the put, so that an object linked just
    #: before a failure (an fsync, a lost answer) is still removed by :meth:`abort`.
    pending: list[str] = dataclasses.field(default_factory=list)
    committed: bool = False

    @property
    def snapshot_id(self) -> str:
        """The id of what this writes (a standalone snapshot's id, for volume snapshots)."""
        return self.ref.backup

    @property
    def prefix(self) -> str:
        if self.kind == "Restore":
            return restore_prefix(self.ref.backup, self.ref.restore)
        return backup_prefix(self.ref.backup)

    def put(self, type_: str, plaintext: abc.Iterable[bytes]) -> objects.Record:
        """Encrypt and store one object of ``type_`` (once per type); returns its record."""
        if any(r.type == type_ for r in self.records):
            raise ValueError(f"object type {type_!r} already written")
        ref = dataclasses.replace(self.ref, type=type_)
        self.pending.append(self.prefix + type_)
        record = objects.put(
            self.backend, self.prefix + type_, ref, [self.identity.recipient()], plaintext
        )
        self.pending.remove(record.name)
        self.records.append(record)
        return record

    def add_records(self, records: abc.Sequence[objects.Record]) -> None:
        """List objects another party stored under this backup (a volume snapshot's, format
        §10.5): each must be named under it and of a type not listed yet. The caller checks
        them (:meth:`open`) before committing; :meth:`abort` deletes them too."""
        for record in records:
            if not record.name.startswith(self.prefix + "s/") or any(
                r.type == record.type for r in self.records
            ):
                raise errors.IntegrityViolation(f"{record.name}: not an object of this backup")
        self.records.extend(records)

    def drop_records(self, records: abc.Sequence[objects.Record]) -> None:
        """Unlist records :meth:`add_records` listed (the objects stay)."""
        for record in records:
            if record in self.records:
                self.records.remove(record)

    def open(self, type_: str) -> abc.Iterator[bytes]:
        """The plaintext of a listed object, verified (digest, binding) and decrypted with the
        backup's identity."""
        record = next((r for r in self.records if r.type == type_), None)
        if record is None:
            raise errors.IntegrityViolation(f"no object of type {type_!r} in this backup")
        ref = dataclasses.replace(self.ref, type=type_)
        try:
            yield from objects.read(self.backend, record, ref, [self.identity])
        except crypto_errors.CryptoError as exc:  # stored by someone else: not for this backup
            raise errors.IntegrityViolation(
                f"{record.name}: does not open as an object of this backup ({exc})"
            ) from exc

    def commit(self, spec: dict[str, Any], status: dict[str, Any]) -> manifests.Manifest:
        """Store the manifest: from now on the backup (or restore) exists."""
        manifest = manifests.Manifest(
            repository=self.ref.repository,
            backup=self.ref.backup,
            restore=self.ref.restore,
            epoch=self.ref.epoch,
            kind=self.kind,
            name=self.name,
            spec=spec,
            status=status,
            objects=tuple(self.records),
            previous=self.previous,
        )
        ref = dataclasses.replace(self.ref, type="manifest")
        self._refuse_if_deleted()
        objects.put(
            self.backend,
            self.prefix + "manifest",
            ref,
            [self.identity.recipient()],
            [manifest.seal(self.mac_key, self.signer)],
        )
        self.records.append(objects.Record("manifest", self.prefix + "manifest", 0, ""))
        self._refuse_if_deleted()  # a deletion that began while the manifest was stored
        self.records.pop()
        self.committed = True
        return manifest

    def _refuse_if_deleted(self) -> None:
        """Fail (and remove what this run wrote) when ``backup delete`` has begun on this
        backup: its tombstone is written before anything is deleted, so a writer that checks
        after storing its manifest never reports a backup that the deletion then removes."""
        try:
            self.backend.stat(TOMBSTONES + self.ref.backup)
        except base_errors.NotFoundError:
            return
        self.abort()
        raise errors.DeletedWhileWriting(
            f"{self.kind.lower()} {self.name!r} was deleted ('backup delete') while being "
            "written: nothing of it is kept"
        )

    def abort(self) -> None:
        """Remove everything written so far, the name claim last; safe to call twice."""
        if self.committed:
            return
        names = [*self.pending, *(r.name for r in reversed(self.records))]
        if self.kind == "Backup":  # volume snapshots stored for it, listed or not (§10.5)
            with contextlib.suppress(base_errors.StrongroomError):
                names += [i.name for i in self.backend.list(self.prefix + "s/")]
        for name in dict.fromkeys(names):
            with contextlib.suppress(base_errors.StrongroomError):
                self.backend.delete(name)
        with contextlib.suppress(base_errors.StrongroomError):
            self.backend.purge(self.prefix)  # debris of an interrupted put
        if self.claim:
            with contextlib.suppress(base_errors.StrongroomError):
                self.backend.delete(self.claim)
        self.records.clear()
        self.pending.clear()


@dataclasses.dataclass(frozen=True)
class Backup:
    """A committed backup (or restore) whose manifest authenticated."""

    backend: storage_base.Backend
    manifest: manifests.Manifest
    identity: agekeys.Identity
    manifest_record: objects.Record

    @property
    def id(self) -> str:
        return self.manifest.restore or self.manifest.backup

    @property
    def name(self) -> str:
        return self.manifest.name

    def ref(self, type_: str) -> objects.Ref:
        m = self.manifest
        return objects.Ref(m.repository, m.backup, type_, m.epoch, m.restore)

    def has(self, type_: str) -> bool:
        return any(r.type == type_ for r in self.manifest.objects)

    def open(self, type_: str) -> abc.Iterator[bytes]:
        """Plaintext of the object of ``type_``, verified against the manifest first."""
        return objects.read(
            self.backend, self.manifest.record(type_), self.ref(type_), [self.identity]
        )

    def verify(self) -> list[str]:
        """Check every listed object (presence, size, digest, binding, AEAD); the names checked."""
        checked = []
        for record in self.manifest.objects:
            if record.type == "key":
                continue  # authenticated when the backup was opened
            for _ in objects.read(self.backend, record, self.ref(record.type), [self.identity]):
                pass
            checked.append(record.name)
        return checked


def load(
    backend: storage_base.Backend,
    repository: str,
    backup_id: str,
    restore_id: str,
    repository_identities: abc.Sequence[agekeys.Identity],
    epochs: abc.Sequence[int],
    mac_keys: abc.Callable[[int], bytes],
    writer_keys: abc.Callable[[str, int], bytes] | None = None,
    sealed: abc.Callable[[int, str, str, str, str], None] | None = None,
    deleted: abc.Callable[[str], bool] | None = None,
) -> Backup:
    """Open a committed backup (``restore_id`` "") or restore by its ids and authenticate it.

    A restore's manifest may be of a later epoch than its backup (restores run after a
    rotation use the new one). ``sealed(epoch, kind, id, digest, name)`` refuses manifests of
    closed epochs that their seal does not list. ``deleted(backup id)`` says whether an
    authentic tombstone records the backup's deletion: only then is a missing key object a
    shredded backup rather than tampering.
    """
    key = key_name(backup_id)
    prefix = restore_prefix(backup_id, restore_id) if restore_id else backup_prefix(backup_id)
    try:
        identity, key_epoch, key_record = _open_key(
            backend, key, repository, backup_id, repository_identities, epochs
        )
    except base_errors.NotFoundError as exc:
        raise _missing_key(backend, key, prefix + "manifest", deleted, backup_id) from exc
    candidates = sorted((e for e in epochs if e >= key_epoch), reverse=True)
    data, record, epoch = _read_manifest(
        backend, prefix + "manifest", repository, backup_id, restore_id, identity,
        candidates if restore_id else [key_epoch],
    )  # fmt: skip
    writers = None if writer_keys is None else (lambda w: writer_keys(w, epoch))
    manifest = manifests.open_(data, prefix + "manifest", mac_keys, writers)
    if sealed is not None:
        kind = "restore" if restore_id else "backup"
        sealed(epoch, kind, restore_id or backup_id, record.sha256, prefix + "manifest")
    if (manifest.repository, manifest.backup, manifest.restore, manifest.epoch) != (
        repository,
        backup_id,
        restore_id,
        epoch,
    ):
        raise errors.IntegrityViolation(f"{prefix}manifest: belongs to another backup or epoch")
    if manifest.kind not in (RESTORE_KINDS if restore_id else BACKUP_KINDS):
        raise errors.IntegrityViolation(f"{prefix}manifest: of unknown kind {manifest.kind!r}")
    if not restore_id:
        listed = manifest.record("key")
        if (listed.size, listed.sha256) != (key_record.size, key_record.sha256):
            raise errors.IntegrityViolation(
                f"{key}: differs from the key object the manifest lists"
            )
    return Backup(backend, manifest, identity, record)


def _missing_key(
    backend: storage_base.Backend,
    key: str,
    manifest: str,
    deleted: abc.Callable[[str], bool] | None,
    backup_id: str,
) -> errors.RepositoryError:
    """What a missing key object means: shredded (an authentic tombstone says so), incomplete
    (no manifest either: a run that crashed before storing its key), or tampering."""
    if deleted is not None and deleted(backup_id):
        return errors.BackupShredded(f"{key}: the backup key is gone: the backup was deleted")
    try:
        backend.stat(manifest)
    except base_errors.NotFoundError:
        return errors.IncompleteBackup(f"{key}: missing, and so is {manifest}: incomplete")
    return errors.IntegrityViolation(
        f"{key}: the backup key is gone without a deletion record (deleted behind "
        "Strongroom's back)"
    )


def _read_manifest(
    backend: storage_base.Backend,
    name: str,
    repository: str,
    backup_id: str,
    restore_id: str,
    identity: agekeys.Identity,
    epochs: abc.Sequence[int],
) -> tuple[bytes, objects.Record, int]:
    """The manifest's plaintext and record, and the epoch its binding names."""
    last: Exception | None = None
    for epoch in epochs:
        ref = objects.Ref(repository, backup_id, "manifest", epoch, restore_id)
        try:
            data, record = objects.read_unlisted(backend, name, ref, [identity], limit=64 << 20)
        except base_errors.NotFoundError as exc:
            raise errors.IncompleteBackup(
                f"{name}: missing; the run is in progress or crashed"
            ) from exc
        except (errors.IntegrityViolation, base_errors.PermissionDeniedError) as exc:
            last = exc  # the backup identity opens its own manifest, or it was altered
            continue
        return data, record, epoch
    reason = str(last) if last else "no key epoch to read it"
    raise errors.IntegrityViolation(reason if name in reason else f"{name}: {reason}")


def _open_key(
    backend: storage_base.Backend,
    name: str,
    repository: str,
    backup_id: str,
    identities: abc.Sequence[agekeys.Identity],
    epochs: abc.Sequence[int],
) -> tuple[agekeys.Identity, int, objects.Record]:
    """The backup identity from its key object, and the epoch whose binding it carries."""
    last: Exception | None = None
    for epoch in sorted(epochs, reverse=True):
        ref = objects.Ref(repository, backup_id, "key", epoch)
        try:
            data, record = objects.read_unlisted(backend, name, ref, identities, limit=64 << 10)
        except (errors.IntegrityViolation, base_errors.PermissionDeniedError) as exc:
            last = exc  # a key object no epoch of the keyring opens: planted or altered
            continue
        try:
            return agekeys.Identity.parse(data.decode("ascii").strip()), epoch, record
        except (UnicodeDecodeError, base_errors.StrongroomError) as exc:
            raise errors.IntegrityViolation(f"{name}: does not hold an identity") from exc
    raise errors.IntegrityViolation(
        f"{name}: does not open or verify under any key epoch of the keyring (altered or "
        f"planted: {last})"
    )


def new_writer(
    backend: storage_base.Backend,
    *,
    kind: str,
    name: str,
    ref: objects.Ref,
    claim: str,
    claim_ids: dict[str, str],
    mac_key: bytes | None,
    identity: agekeys.Identity,
    key_recipients: abc.Sequence[agekeys.Recipient] | None,
    previous: dict[str, str] | None = None,
    signer: manifests.Signer | None = None,
) -> Writer:
    """Claim the name (``claim`` "" for a snapshot, which has an id only) and, for a backup
    or snapshot, store its key object; the writer for the rest."""
    if claim:
        claims.take(backend, claim, kind.lower(), name, claim_ids)
    writer = Writer(backend, ref, kind, name, identity, claim, mac_key, previous, signer=signer)
    if key_recipients is not None:
        key_ref = dataclasses.replace(ref, type="key")
        writer.pending.append(key_name(ref.backup))
        try:
            record = objects.put(
                backend,
                key_name(ref.backup),
                key_ref,
                key_recipients,
                [identity.encode().encode("ascii") + b"\n"],
            )
        except BaseException:
            writer.abort()
            raise
        writer.pending.remove(record.name)
        writer.records.append(record)
    return writer


def delete(backend: storage_base.Backend, backup_id: str, claim: str | None) -> list[str]:
    """Shred a backup: its key object first, then every other object, the claim last.

    Returns the names that could not be deleted (object lock, permissions); the backup is
    unreadable as soon as the key object is gone.
    """
    rest = sorted(
        (i.name for i in backend.list(backup_prefix(backup_id))),
        key=lambda n: n.endswith("/manifest"),
    )
    failed: list[str] = []
    for name in [key_name(backup_id), *rest]:
        try:
            backend.delete(name)
        except base_errors.StrongroomError:
            failed.append(name)
    if not failed:  # what list does not show: temporary files, unfinished uploads
        with contextlib.suppress(base_errors.StrongroomError):
            backend.purge(backup_prefix(backup_id))
    for name in [claim] if claim else []:
        try:
            backend.delete(name)
        except base_errors.StrongroomError:
            failed.append(name)
    return failed


def ids_from_listing(names: abc.Iterable[str]) -> list[tuple[str, str]]:
    """(backup id, restore id or "") of every manifest among stored names."""
    found = []
    for name in names:
        parts = name.split("/")
        if (
            len(parts) == 3
            and parts[0] == "b"
            and parts[2] == "manifest"
            and documents.is_id(parts[1])
        ):
            found.append((parts[1], ""))
        elif (
            len(parts) == 5 and parts[0] == "b" and parts[2] == "r" and parts[4] == "manifest"
            and documents.is_id(parts[1]) and documents.is_id(parts[3])
        ):  # fmt: skip
            found.append((parts[1], parts[3]))
    return found
